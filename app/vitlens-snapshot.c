/* vitlens-snapshot.c — a video frame saved as PNG with what the model said drawn on it
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens-snapshot"

#include <gio/gio.h>
#include <pango/pangocairo.h>

#include "vitlens-snapshot.h"
#include "vitlens-chart.h"

#define SNAPSHOT_MIN_TEXT_PX 10.0 /* the card's smallest text, in pixels of the saved frame */

/* The frame into a cairo RGB24 surface (0xXXRRGGBB in native words). */
static cairo_surface_t *
surface_from_pixels (const vit_image *img)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, img->width, img->height);
  int bpp = vit_pixel_format_bytes (img->format);
  gboolean bgr = img->format == VIT_PIXEL_BGRA8 || img->format == VIT_PIXEL_BGRX8;
  guint8 *data;
  int stride;

  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    return surface;
  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (int y = 0; y < img->height; y++)
    {
      const guint8 *src = img->data + (gsize)y * img->stride;
      guint32 *dst = (guint32 *)(data + (gsize)y * stride);

      for (int x = 0; x < img->width; x++, src += bpp)
        {
          guint32 r, g, b;

          if (bpp == 1)
            r = g = b = src[0];
          else if (bgr)
            b = src[0], g = src[1], r = src[2];
          else
            r = src[0], g = src[1], b = src[2];
          dst[x] = 0xff000000u | (r << 16) | (g << 8) | b;
        }
    }
  cairo_surface_mark_dirty (surface);
  return surface;
}

static PangoLayout *
make_layout (cairo_t    *cr,
             const char *text,
             double      size,
             gboolean    bold,
             double      width)
{
  PangoLayout *layout = vitlens_text_layout (cr, text, size, bold);

  pango_layout_set_width (layout, (int)(width * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  return layout;
}

static void
rounded_rectangle (cairo_t *cr,
                   double   x,
                   double   y,
                   double   w,
                   double   h,
                   double   r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

gboolean
vitlens_snapshot_save_png (const vit_image           *pixels,
                           const VitlensSnapshotCard *card,
                           const char                *path,
                           GError                   **error)
{
  const char *title = card->title, *footer = card->footer;
  const char * const *labels = card->labels;
  const float *probs = card->probs;
  int n_rows = card->n_rows;
  cairo_surface_t *surface;
  cairo_t *cr;
  double scale, pad, card_w, card_h, row_h, line_h, x, y;

  g_return_val_if_fail (pixels != NULL && pixels->data != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  surface = surface_from_pixels (pixels);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot make a %d×%d image",
                   path, pixels->width, pixels->height);
      cairo_surface_destroy (surface);
      return FALSE;
    }

  /* The card keeps its proportion to the frame (up to 3× at 1920×1080), but never goes below
   * a legible size: on a 320×240 frame half of 640×480's card would write 6 px text, so the
   * smallest text (the footer, 11 px at scale 1) stays at SNAPSHOT_MIN_TEXT_PX or more. */
  scale = CLAMP (MIN (pixels->width / 640.0, pixels->height / 480.0), SNAPSHOT_MIN_TEXT_PX / 11.0, 3.0);
  pad = 12 * scale;
  line_h = 18 * scale;
  row_h = 26 * scale;
  card_w = MIN (300 * scale, pixels->width - 2 * pad);
  card_h = pad * 2 + line_h * 1.3 + row_h * n_rows + (footer ? line_h * 1.2 : 0);
  x = pad;
  y = pixels->height - pad - card_h;

  cr = cairo_create (surface);
  rounded_rectangle (cr, x, y, card_w, card_h, 10 * scale);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.62);
  cairo_fill (cr);

  x += pad;
  y += pad;
  if (title != NULL)
    {
      PangoLayout *layout = make_layout (cr, title, 14 * scale, TRUE, card_w - 2 * pad);

      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_move_to (cr, x, y);
      pango_cairo_show_layout (cr, layout);
      g_object_unref (layout);
    }
  y += line_h * 1.3;

  for (int i = 0; i < n_rows; i++)
    {
      g_autofree char *percent = g_strdup_printf ("%.1f%%", 100.0 * probs[i]);
      PangoLayout *name = make_layout (cr, labels[i] ? labels[i] : "", 12.5 * scale, i == 0,
                                       card_w - 2 * pad - 60 * scale);
      PangoLayout *pct = make_layout (cr, percent, 12.5 * scale, i == 0, 60 * scale);
      double bar_w = card_w - 2 * pad;

      pango_layout_set_alignment (pct, PANGO_ALIGN_RIGHT);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_move_to (cr, x, y);
      pango_cairo_show_layout (cr, name);
      cairo_move_to (cr, x + bar_w - 60 * scale, y);
      pango_cairo_show_layout (cr, pct);
      g_object_unref (name);
      g_object_unref (pct);

      cairo_set_source_rgba (cr, 1, 1, 1, 0.18);
      cairo_rectangle (cr, x, y + row_h * 0.68, bar_w, 4 * scale);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.208, 0.518, 0.894);
      cairo_rectangle (cr, x, y + row_h * 0.68, bar_w * CLAMP (probs[i], 0.f, 1.f), 4 * scale);
      cairo_fill (cr);
      y += row_h;
    }

  if (footer != NULL)
    {
      PangoLayout *layout = make_layout (cr, footer, 11 * scale, FALSE, card_w - 2 * pad);

      cairo_set_source_rgba (cr, 1, 1, 1, 0.8);
      cairo_move_to (cr, x, y + 2 * scale);
      pango_cairo_show_layout (cr, layout);
      g_object_unref (layout);
    }
  cairo_destroy (cr);

  char msg[VIT_ERROR_MSG_MAX];
  int written = vitlens_surface_write_png (surface, path, msg, sizeof msg);
  cairo_surface_destroy (surface);
  if (written != 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, msg);
      return FALSE;
    }
  return TRUE;
}
