/* vitlens-chart.c — the comparison chart in plain cairo (see vitlens-chart.h). */
#include "vitlens-chart.h"

#include "vit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifdef VITLENS_CHART_PANGO
#include <pango/pangocairo.h>
#endif

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

/* ---- text: Pango in the app (fallback fonts for any script), cairo's toy API in the CLI ----
 * text_size() measures (width, and cap height for vertical centring); text_at() draws with the
 * baseline at y, as the toy API's move_to + show_text does, so both place text alike. */

#ifdef VITLENS_CHART_PANGO
PangoLayout *
vitlens_text_layout (cairo_t *cr, const char *text, double size, int bold)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans");

  pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
  pango_font_description_set_weight (font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  pango_font_description_free (font);
  return layout;
}
#endif

static void
text_size (cairo_t *cr, const char *text, double size, int bold, double *w, double *h)
{
#ifdef VITLENS_CHART_PANGO
  PangoLayout *layout = vitlens_text_layout (cr, text, size, bold);
  int pw, ph;

  pango_layout_get_pixel_size (layout, &pw, &ph);
  *w = pw;
  *h = size * 0.72; /* cap height, as the toy API's extents give for digits */
  g_object_unref (layout);
#else
  cairo_text_extents_t te;

  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
  cairo_text_extents (cr, text, &te);
  *w = te.width;
  *h = te.height;
#endif
}

/* Draw @text with its baseline at (x, y). */
static void
text_at (cairo_t *cr, const char *text, double size, int bold, double x, double y)
{
#ifdef VITLENS_CHART_PANGO
  PangoLayout *layout = vitlens_text_layout (cr, text, size, bold);

  cairo_move_to (cr, x, y - pango_layout_get_baseline (layout) / (double) PANGO_SCALE);
  pango_cairo_show_layout (cr, layout);
  g_object_unref (layout);
#else
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, text);
#endif
}

/* Paint the background in the chart's colours (dark or light), after cairo_save; returns the
 * grey of the text. */
static double
paint_background (const VitlensChart *chart, cairo_t *cr)
{
  double bg = chart->dark ? 0.14 : 1.0;
  cairo_save (cr);
  cairo_set_source_rgb (cr, bg, bg, bg);
  cairo_paint (cr);
  return chart->dark ? 0.92 : 0.13;
}

static const char *
chart_unit (const VitlensChart *chart)
{
  return chart->unit ? chart->unit : "ms";
}

/* Digits after the point of a time: sub-millisecond ones (tiny models) keep three. */
static int
time_digits (double ms)
{
  return ms < 1 ? 3 : ms < 10 ? 2 : 1;
}

static int
has_trace (const VitlensChart *chart)
{
  for (int i = 0; i < chart->n_rows; i++)
    if (chart->rows[i].trace != NULL && chart->rows[i].n_trace > 1)
      return 1;
  return 0;
}

typedef struct {
  double y;
  int row;
  char text[16];
} TraceLabel;

/* The latency traces over (left, top)–(right, bottom): one line per row in its bar's colour,
 * the newest sample at the right edge, a 0..max axis on the left. */
static void
draw_traces (const VitlensChart *chart, cairo_t *cr, double fg, double left, double top,
             double right, double bottom)
{
  int n_max = 0;
  double vmax = 0;
  char lab[64];
  double tw, th;

  for (int i = 0; i < chart->n_rows; i++)
    {
      const VitlensChartRow *r = &chart->rows[i];
      for (int j = 0; r->trace && j < r->n_trace; j++)
        vmax = fmax (vmax, r->trace[j]);
      if (r->trace && r->n_trace > n_max)
        n_max = r->n_trace;
    }
  vmax = nice_max (vmax * 1.05);

  if (chart->trace_title)
    {
      cairo_set_source_rgba (cr, fg, fg, fg, 0.8);
      text_at (cr, chart->trace_title, 12, 0, 14, top + 10);
      top += 20;
    }

  /* frame and the 0 / half / max lines */
  for (int k = 0; k <= 2; k++)
    {
      double y = bottom - (bottom - top) * k / 2.0;
      cairo_set_source_rgba (cr, fg, fg, fg, k ? 0.12 : 0.4);
      cairo_set_line_width (cr, 1);
      cairo_move_to (cr, left, floor (y) + 0.5);
      cairo_line_to (cr, right, floor (y) + 0.5);
      cairo_stroke (cr);
      snprintf (lab, sizeof lab, "%g %s", vmax * k / 2.0, chart_unit (chart));
      text_size (cr, lab, 11, 0, &tw, &th);
      cairo_set_source_rgba (cr, fg, fg, fg, 0.7);
      text_at (cr, lab, 11, 0, left - 8 - tw, y + th / 2);
    }
  if (n_max < 2)
    return;

  double dx = (right - left) / (n_max - 1);
  /* the last values' labels: placed after the lines, apart from each other */
  TraceLabel labels[VITLENS_CHART_MAX_ROWS];
  int n_labels = 0;
  for (int i = 0; i < chart->n_rows; i++)
    {
      const VitlensChartRow *r = &chart->rows[i];
      const double *c = palette[i % (int) (sizeof palette / sizeof palette[0])];

      if (r->trace == NULL || r->n_trace < 1)
        continue;
      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      cairo_set_line_width (cr, 1.8);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      for (int j = 0; j < r->n_trace; j++)
        {
          /* right-aligned: a row with fewer samples starts later */
          double x = right - dx * (r->n_trace - 1 - j);
          double y = bottom - (bottom - top) * fmin (fmax (r->trace[j], 0), vmax) / vmax;
          if (j == 0)
            cairo_move_to (cr, x, y);
          else
            cairo_line_to (cr, x, y);
        }
      cairo_stroke (cr);
      /* the last value at the right end of its line */
      {
        double y = bottom - (bottom - top) * fmin (fmax (r->trace[r->n_trace - 1], 0), vmax) / vmax;
        cairo_arc (cr, right, y, 2.5, 0, 2 * M_PI);
        cairo_fill (cr);
        labels[n_labels].y = y;
        labels[n_labels].row = i;
        snprintf (labels[n_labels].text, sizeof labels[n_labels].text, "%.0f", r->trace[r->n_trace - 1]);
        n_labels++;
      }
    }

  /* top to bottom, at least a line apart, and inside the panel */
  const double gap = 12;
  for (int a = 1; a < n_labels; a++)
    for (int b = a; b > 0 && labels[b].y < labels[b - 1].y; b--)
      {
        TraceLabel t = labels[b];
        labels[b] = labels[b - 1];
        labels[b - 1] = t;
      }
  for (int a = 1; a < n_labels; a++)
    labels[a].y = fmax (labels[a].y, labels[a - 1].y + gap);
  if (n_labels > 0 && labels[n_labels - 1].y > bottom - 4)
    {
      double shift = labels[n_labels - 1].y - (bottom - 4);
      for (int a = 0; a < n_labels; a++)
        labels[a].y -= shift;
    }
  for (int a = 0; a < n_labels; a++)
    {
      const double *c = palette[labels[a].row % (int) (sizeof palette / sizeof palette[0])];
      text_size (cr, labels[a].text, 11, 0, &tw, &th);
      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      text_at (cr, labels[a].text, 11, 0, right + 6, labels[a].y + th / 2);
    }
}

void
vitlens_chart_draw (const VitlensChart *chart, cairo_t *cr, double width, double height)
{
  double fg = paint_background (chart, cr);
  double tw, th;

  double top = 12;
  if (chart->title)
    {
      cairo_set_source_rgb (cr, fg, fg, fg);
      text_at (cr, chart->title, 15, 1, 14, top + 14);
      top += 22;
    }
  if (chart->subtitle)
    {
      cairo_set_source_rgba (cr, fg, fg, fg, 0.7);
      text_at (cr, chart->subtitle, 12, 0, 14, top + 12);
      top += 20;
    }

  int n = chart->n_rows;
  if (n <= 0)
    {
      cairo_restore (cr);
      return;
    }

  /* With traces, the bars take the upper part and the traces the rest. */
  double bars_bottom = height;
  if (has_trace (chart))
    {
      double trace_h = fmax (110, (height - top) * 0.45);
      bars_bottom = height - trace_h;
      draw_traces (chart, cr, fg, 96, bars_bottom + 4, width - 150, height - 14);
    }

  double vmax = 0;
  for (int i = 0; i < n; i++)
    vmax = fmax (vmax, fmax (chart->rows[i].median_ms, chart->rows[i].p90_ms));
  vmax = nice_max (vmax * 1.05);

  double left = 96, right = width - 150, bottom = bars_bottom - 34;
  if (right < left + 40)
    right = left + 40;
  double row_h = (bottom - top - 8) / n;
  double bar_h = fmin (28.0, row_h * 0.6);

  /* grid and axis labels */
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
      text_size (cr, lab, 11, 0, &tw, &th);
      cairo_set_source_rgba (cr, fg, fg, fg, 0.7);
      text_at (cr, lab, 11, 0, x - tw / 2, bottom + 16);
    }
  text_at (cr, chart_unit (chart), 11, 0, right + 28, bottom + 16);

  int ref_row = chart->reference >= 0 && chart->reference < n ? chart->reference : 0;
  double ref = chart->rows[ref_row].median_ms;
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
      text_size (cr, r->name, 13, 0, &tw, &th);
      cairo_set_source_rgb (cr, fg, fg, fg);
      text_at (cr, r->name, 13, 0, left - 10 - tw, cy + th / 2 - 1);

      /* sub-millisecond times (tiny models) keep three digits */
      char val[64];
      int len = snprintf (val, sizeof val, "%.*f %s", time_digits (r->median_ms), r->median_ms,
                          chart_unit (chart));
      if (i != ref_row && ref > 0 && len > 0 && len < (int) sizeof val)
        {
          char speed[48];

          if (r->speed == NULL)
            vitlens_chart_format_speed (r, &chart->rows[ref_row], speed, sizeof speed);
          snprintf (val + len, sizeof val - len, "  %+.0f%% (%s)", -100.0 * (1.0 - r->median_ms / ref),
                    r->speed ? r->speed : speed);
        }
      text_size (cr, val, 12, 0, &tw, &th);
      double vx = fmax (left + w, left + (right - left) * fmax (r->p90_ms, 0) / vmax) + 8;
      text_at (cr, val, 12, 0, vx, cy + th / 2 - 1);
    }
  cairo_restore (cr);
}

/* ---- where the time goes ---- */

static const struct {
  const char *label;
  double rgb[3];
} op_classes[VIT_OP_COUNT] = {
  [VIT_OP_PATCH] = { "patch embedding", { 0.569, 0.255, 0.675 } },
  [VIT_OP_LAYERNORM] = { "LayerNorm (+ quantize)", { 0.604, 0.600, 0.588 } },
  [VIT_OP_QKV] = { "qkv", { 0.208, 0.518, 0.894 } },
  [VIT_OP_ATTENTION] = { "attention", { 0.878, 0.247, 0.188 } },
  [VIT_OP_PROJ] = { "proj", { 0.384, 0.706, 0.933 } },
  [VIT_OP_FC1] = { "fc1 + GELU", { 0.149, 0.635, 0.412 } },
  [VIT_OP_FC2] = { "fc2", { 0.561, 0.831, 0.451 } },
  [VIT_OP_HEAD] = { "head", { 0.965, 0.757, 0.071 } },
  [VIT_OP_OTHER] = { "other", { 0.804, 0.671, 0.561 } },
};

#define PROFILE_LEGEND_ITEM 180 /* px a legend entry gets: "LayerNorm (+ quantize)" and its swatch */
#define PROFILE_ROW 30
#define PROFILE_LEGEND_ROW 20

const char *
vitlens_chart_op_label (vit_op op)
{
  return op >= 0 && op < VIT_OP_COUNT ? op_classes[op].label : "";
}

void
vitlens_chart_op_colour (vit_op op, double rgb[3])
{
  for (int c = 0; c < 3; c++)
    rgb[c] = op >= 0 && op < VIT_OP_COUNT ? op_classes[op].rgb[c] : 0.5;
}

static int
profile_rows (const VitlensChart *chart)
{
  int n = 0;
  for (int i = 0; i < chart->n_rows; i++)
    n += chart->rows[i].op_ms != NULL;
  return n;
}

int
vitlens_chart_has_profile (const VitlensChart *chart)
{
  return profile_rows (chart) > 0;
}

static int
legend_per_row (double width)
{
  int per = (int) ((width - 28) / PROFILE_LEGEND_ITEM);
  return per < 1 ? 1 : per > VIT_OP_COUNT ? VIT_OP_COUNT : per;
}

double
vitlens_chart_profile_height (const VitlensChart *chart, double width)
{
  int n = profile_rows (chart);
  int per = legend_per_row (width);
  int legend_rows = (VIT_OP_COUNT + per - 1) / per;

  if (n == 0)
    return 0;
  return 12 + 22 + n * PROFILE_ROW + 10 + legend_rows * PROFILE_LEGEND_ROW + 10;
}

void
vitlens_chart_draw_profile (const VitlensChart *chart, cairo_t *cr, double width, double height)
{
  double fg = paint_background (chart, cr);
  double tw, th;

  double top = 12;
  cairo_set_source_rgb (cr, fg, fg, fg);
  text_at (cr, chart->profile_title ? chart->profile_title : "Where the time goes", 13, 1, 14, top + 12);
  top += 22;

  double fmax_ms = 0;
  for (int i = 0; i < chart->n_rows; i++)
    {
      const double *ms = chart->rows[i].op_ms;
      double sum = 0;
      for (int k = 0; ms && k < VIT_OP_COUNT; k++)
        sum += fmax (ms[k], 0);
      fmax_ms = fmax (fmax_ms, sum);
    }
  double left = 96, right = width - 150;
  if (right < left + 40)
    right = left + 40;

  /* one bar per profiled row, its classes in vit_op order, all on the longest forward's scale */
  for (int i = 0; i < chart->n_rows; i++)
    {
      const VitlensChartRow *r = &chart->rows[i];
      if (r->op_ms == NULL)
        continue;
      double cy = top + PROFILE_ROW / 2.0, bar_h = PROFILE_ROW - 8, x = left, sum = 0;
      for (int k = 0; k < VIT_OP_COUNT; k++)
        sum += fmax (r->op_ms[k], 0);

      text_size (cr, r->name, 13, 0, &tw, &th);
      cairo_set_source_rgb (cr, fg, fg, fg);
      text_at (cr, r->name, 13, 0, left - 10 - tw, cy + th / 2 - 1);

      for (int k = 0; k < VIT_OP_COUNT && fmax_ms > 0; k++)
        {
          const double *c = op_classes[k].rgb;
          double w = (right - left) * fmax (r->op_ms[k], 0) / fmax_ms;
          cairo_set_source_rgb (cr, c[0], c[1], c[2]);
          cairo_rectangle (cr, x, cy - bar_h / 2, w, bar_h);
          cairo_fill (cr);
          /* the share, where it fits: dark text on light colours, light on dark */
          char pct[16];
          snprintf (pct, sizeof pct, "%.0f%%", sum > 0 ? 100.0 * r->op_ms[k] / sum : 0.0);
          text_size (cr, pct, 10, 0, &tw, &th);
          if (tw + 6 <= w)
            {
              double lum = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
              double t = lum > 0.55 ? 0.1 : 1.0;
              cairo_set_source_rgb (cr, t, t, t);
              text_at (cr, pct, 10, 0, x + (w - tw) / 2, cy + th / 2);
            }
          x += w;
        }
      char val[32];
      snprintf (val, sizeof val, "%.*f %s", time_digits (sum), sum, chart_unit (chart));
      text_size (cr, val, 12, 0, &tw, &th);
      cairo_set_source_rgb (cr, fg, fg, fg);
      text_at (cr, val, 12, 0, x + 8, cy + th / 2 - 1);
      top += PROFILE_ROW;
    }

  /* the legend: a swatch and a name per class, as many to a line as fit */
  top += 10;
  int per = legend_per_row (width);
  for (int k = 0; k < VIT_OP_COUNT; k++)
    {
      double lx = 14 + (k % per) * PROFILE_LEGEND_ITEM;
      double ly = top + (k / per) * PROFILE_LEGEND_ROW;
      const double *c = op_classes[k].rgb;
      const char *label = chart->op_labels[k] ? chart->op_labels[k] : op_classes[k].label;
      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      cairo_rectangle (cr, lx, ly + 3, 12, 12);
      cairo_fill (cr);
      text_size (cr, label, 11, 0, &tw, &th);
      cairo_set_source_rgba (cr, fg, fg, fg, 0.85);
      text_at (cr, label, 11, 0, lx + 18, ly + 9 + th / 2);
    }
  (void) height;
  cairo_restore (cr);
}

int
vitlens_chart_speed (const VitlensChartRow *row, const VitlensChartRow *ref, double *factor)
{
  double f = 1;
  int way;

  if (!(row->median_ms > 0) || !(ref->median_ms > 0))
    way = 0;
  else if (row->p10_ms <= ref->p90_ms && ref->p10_ms <= row->p90_ms)
    way = 0; /* the bands overlap: within the noise */
  else
    way = row->median_ms < ref->median_ms ? 1 : -1;
  if (row->median_ms > 0 && ref->median_ms > 0)
    f = row->median_ms < ref->median_ms ? ref->median_ms / row->median_ms : row->median_ms / ref->median_ms;
  if (factor != NULL)
    *factor = f;
  return way;
}

int
vitlens_chart_factor_digits (double factor)
{
  return factor < 1.095 ? 2 : factor < 9.95 ? 1 : 0;
}

void
vitlens_chart_format_speed (const VitlensChartRow *row, const VitlensChartRow *ref, char *buf,
                            size_t len)
{
  double f;
  int way = vitlens_chart_speed (row, ref, &f);

  if (way == 0)
    snprintf (buf, len, "≈ same");
  else
    snprintf (buf, len, "%.*f× %s", vitlens_chart_factor_digits (f), f, way > 0 ? "faster" : "slower");
}

int
vitlens_chart_write_png (const VitlensChart *chart, int width, int height, const char *path,
                         char *errbuf, size_t errlen)
{
  int profile_h = (int) ceil (vitlens_chart_profile_height (chart, width));
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height + profile_h);
  if (cairo_surface_status (s) != CAIRO_STATUS_SUCCESS)
    {
      snprintf (errbuf, errlen, "%s: cannot make a %d×%d image", path, width, height + profile_h);
      cairo_surface_destroy (s);
      return -1;
    }
  cairo_t *cr = cairo_create (s);
  vitlens_chart_draw (chart, cr, width, height);
  if (profile_h > 0)
    {
      cairo_translate (cr, 0, height);
      vitlens_chart_draw_profile (chart, cr, width, profile_h);
    }
  cairo_destroy (cr);
  int st = vitlens_surface_write_png (s, path, errbuf, errlen);
  cairo_surface_destroy (s);
  return st;
}

static cairo_status_t
write_to_stream (void *closure, const unsigned char *data, unsigned int length)
{
  return fwrite (data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

int
vitlens_surface_write_png (cairo_surface_t *surface, const char *path, char *errbuf, size_t errlen)
{
  vit_output *out = NULL;
  vit_error err = {0};
  if (vit_output_open (path, &out, &err) != VIT_OK)
    {
      snprintf (errbuf, errlen, "%s", err.msg);
      return -1;
    }
  cairo_status_t st = cairo_surface_write_to_png_stream (surface, write_to_stream, vit_output_stream (out));
  if (st != CAIRO_STATUS_SUCCESS)
    {
      const char *slash = strrchr (path, '/');
      snprintf (errbuf, errlen, "%s: cannot write: %s", slash ? slash + 1 : path, cairo_status_to_string (st));
      vit_output_abort (out);
      return -1;
    }
  if (vit_output_commit (out, &err) != VIT_OK)
    {
      snprintf (errbuf, errlen, "%s", err.msg);
      return -1;
    }
  return 0;
}
