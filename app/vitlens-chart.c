/* vitlens-chart.c — the comparison chart in plain cairo (see vitlens-chart.h). */
#include "vitlens-chart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Bar colours per row, in the GNOME palette (blue, green, orange, purple, red, ...). */
static const double palette[][3] = {
  { 0.208, 0.518, 0.894 }, { 0.200, 0.820, 0.478 }, { 1.000, 0.471, 0.000 },
  { 0.569, 0.255, 0.675 }, { 0.878, 0.106, 0.141 }, { 0.596, 0.416, 0.267 },
  { 0.965, 0.827, 0.176 }, { 0.467, 0.463, 0.482 },
};

/* A "nice" axis maximum: 1, 2 or 5 × 10^k at or above v. */
static double
nice_max (double v)
{
  if (!(v > 0))
    return 1.0;
  double e = pow (10.0, floor (log10 (v)));
  double m = v / e;
  double n = m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0;
  return n * e;
}

void
vitlens_chart_draw (const VitlensChart *chart, cairo_t *cr, double width, double height)
{
  double fg = chart->dark ? 0.92 : 0.13;
  double bg = chart->dark ? 0.14 : 1.0;
  cairo_save (cr);
  cairo_set_source_rgb (cr, bg, bg, bg);
  cairo_paint (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  double top = 12;
  if (chart->title)
    {
      cairo_set_font_size (cr, 15);
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_source_rgb (cr, fg, fg, fg);
      cairo_move_to (cr, 14, top + 14);
      cairo_show_text (cr, chart->title);
      top += 22;
    }
  if (chart->subtitle)
    {
      cairo_set_font_size (cr, 12);
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
      cairo_set_source_rgba (cr, fg, fg, fg, 0.7);
      cairo_move_to (cr, 14, top + 12);
      cairo_show_text (cr, chart->subtitle);
      top += 20;
    }
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  int n = chart->n_rows;
  if (n <= 0)
    {
      cairo_restore (cr);
      return;
    }
  double vmax = 0;
  for (int i = 0; i < n; i++)
    vmax = fmax (vmax, fmax (chart->rows[i].median_ms, chart->rows[i].p90_ms));
  vmax = nice_max (vmax * 1.05);

  double left = 96, right = width - 150, bottom = height - 34;
  if (right < left + 40)
    right = left + 40;
  double row_h = (bottom - top - 8) / n;
  double bar_h = fmin (28.0, row_h * 0.6);

  /* grid and axis labels */
  cairo_set_font_size (cr, 11);
  for (int k = 0; k <= 4; k++)
    {
      double x = left + (right - left) * k / 4.0;
      cairo_set_source_rgba (cr, fg, fg, fg, k ? 0.12 : 0.4);
      cairo_set_line_width (cr, 1);
      cairo_move_to (cr, floor (x) + 0.5, top);
      cairo_line_to (cr, floor (x) + 0.5, bottom);
      cairo_stroke (cr);
      char lab[32];
      snprintf (lab, sizeof lab, "%g", vmax * k / 4.0);
      cairo_text_extents_t te;
      cairo_text_extents (cr, lab, &te);
      cairo_set_source_rgba (cr, fg, fg, fg, 0.7);
      cairo_move_to (cr, x - te.width / 2, bottom + 16);
      cairo_show_text (cr, lab);
    }
  cairo_move_to (cr, right + 28, bottom + 16);
  cairo_show_text (cr, "ms");

  double ref = chart->rows[0].median_ms;
  for (int i = 0; i < n; i++)
    {
      const VitlensChartRow *r = &chart->rows[i];
      double cy = top + 4 + row_h * (i + 0.5);
      const double *c = palette[i % (int) (sizeof palette / sizeof palette[0])];
      double w = (right - left) * fmax (0, r->median_ms) / vmax;

      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      cairo_rectangle (cr, left, cy - bar_h / 2, w, bar_h);
      cairo_fill (cr);

      /* p10–p90 whisker */
      if (r->p90_ms > r->p10_ms)
        {
          double x0 = left + (right - left) * r->p10_ms / vmax;
          double x1 = left + (right - left) * r->p90_ms / vmax;
          cairo_set_source_rgb (cr, fg, fg, fg);
          cairo_set_line_width (cr, 1.5);
          cairo_move_to (cr, x0, cy);
          cairo_line_to (cr, x1, cy);
          cairo_move_to (cr, x0, cy - bar_h / 4);
          cairo_line_to (cr, x0, cy + bar_h / 4);
          cairo_move_to (cr, x1, cy - bar_h / 4);
          cairo_line_to (cr, x1, cy + bar_h / 4);
          cairo_stroke (cr);
        }

      /* name on the left, value and reduction on the right */
      cairo_set_font_size (cr, 13);
      cairo_text_extents_t te;
      cairo_text_extents (cr, r->name, &te);
      cairo_set_source_rgb (cr, fg, fg, fg);
      cairo_move_to (cr, left - 10 - te.width, cy + te.height / 2 - 1);
      cairo_show_text (cr, r->name);

      char val[64];
      if (i == 0 || !(ref > 0))
        snprintf (val, sizeof val, "%.1f ms", r->median_ms);
      else
        snprintf (val, sizeof val, "%.1f ms  %+.0f%%", r->median_ms,
                  -100.0 * (1.0 - r->median_ms / ref));
      cairo_set_font_size (cr, 12);
      cairo_text_extents (cr, val, &te);
      double vx = fmax (left + w, left + (right - left) * fmax (r->p90_ms, 0) / vmax) + 8;
      cairo_move_to (cr, vx, cy + te.height / 2 - 1);
      cairo_show_text (cr, val);
    }
  cairo_restore (cr);
}

int
vitlens_chart_write_png (const VitlensChart *chart, int width, int height, const char *path,
                         char *errbuf, size_t errlen)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  if (cairo_surface_status (s) != CAIRO_STATUS_SUCCESS)
    {
      snprintf (errbuf, errlen, "%s: cannot make a %d×%d image", path, width, height);
      cairo_surface_destroy (s);
      return -1;
    }
  cairo_t *cr = cairo_create (s);
  vitlens_chart_draw (chart, cr, width, height);
  cairo_destroy (cr);
  cairo_status_t st = cairo_surface_write_to_png (s, path);
  cairo_surface_destroy (s);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      snprintf (errbuf, errlen, "%s: cannot write: %s", path, cairo_status_to_string (st));
      return -1;
    }
  return 0;
}
