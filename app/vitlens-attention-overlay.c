/* vitlens-attention-overlay.c — a result's attention rollout over its picture
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * The heat map is a small texture (its long side at most TEXTURE_SIDE), made once per result
 * from the grid through vitlens-heatmap.c (the mapping `vitlens-cli classify --explain-png`
 * uses) and scaled onto the picture by the renderer: the grid is smooth, so a new frame's
 * result costs a few thousand samples, not one per screen pixel.
 */
#define G_LOG_DOMAIN "vitlens-attention-overlay"

#include "vitlens-config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "vitlens-attention-overlay.h"
#include "vitlens-heatmap.h"

#define TEXTURE_SIDE 384
#define HEAT_ALPHA   0.55 /* the heat map over the picture, as --explain-png blends it */
#define DIM_ALPHA    0.65 /* outside the square the model saw: the picture, dimmed */
#define LEGEND_BAR   96   /* the colour bar's width, px */
#define LEGEND_PAD   6
#define LEGEND_INSET 8
#define LEGEND_SMALL 240  /* a picture narrower than this gets the legend without its title */

struct _VitlensAttentionOverlay
{
  GtkWidget      parent_instance;

  GtkPicture    *picture;   /* a weak pointer: the picture lives beside it */
  GdkPaintable  *paintable; /* drawn under the heat map when there is no picture */
  VitlensResult *result;
  GdkTexture    *heat;      /* the result's heat map; NULL: none */
};

G_DEFINE_FINAL_TYPE (VitlensAttentionOverlay, vitlens_attention_overlay, GTK_TYPE_WIDGET)

/* ---------------------------------------------------------------------------------------------
 * The heat map */

static GdkTexture *
heat_texture_new (const VitlensResult *result)
{
  const vit_image *image = vitlens_frame_get_image (result->frame);
  int width = image->width, height = image->height;
  double scale = MIN (1.0, (double)TEXTURE_SIDE / MAX (width, height));
  int tw = MAX (1, (int)lround (width * scale)), th = MAX (1, (int)lround (height * scale));
  g_autoptr(GBytes) bytes = NULL;
  VitlensHeatmap map;
  guint8 *pixels;

  vitlens_heatmap_init (&map, result->rollout, result->rollout_h, result->rollout_w,
                        result->rollout_size, &result->rollout_geometry, width, height);
  pixels = g_malloc ((gsize)tw * th * 4);
  for (int y = 0; y < th; y++)
    for (int x = 0; x < tw; x++)
      {
        /* the texel's centre in the picture's pixels */
        float v = vitlens_heatmap_value (&map, (x + 0.5f) * width / tw, (y + 0.5f) * height / th);
        guint8 *p = pixels + ((gsize)y * tw + x) * 4;
        float rgb[3] = { 0, 0, 0 };

        if (v >= 0)
          vitlens_heatmap_colour (v, rgb);
        for (int c = 0; c < 3; c++)
          p[c] = (guint8)(rgb[c] + 0.5f);
        p[3] = (guint8)lround (255 * (v >= 0 ? HEAT_ALPHA : DIM_ALPHA));
      }
  bytes = g_bytes_new_take (pixels, (gsize)tw * th * 4);
  return gdk_memory_texture_new (tw, th, GDK_MEMORY_R8G8B8A8, bytes, (gsize)tw * 4);
}

/* ---------------------------------------------------------------------------------------------
 * Where the picture is */

/* Where a GtkPicture of @width × @height draws @paintable with @fit (as gtk_picture_snapshot
 * places it in GTK 4.8). */
static void
fit_rect (GdkPaintable    *paintable,
          GtkContentFit    fit,
          int              width,
          int              height,
          graphene_rect_t *rect)
{
  double ratio = gdk_paintable_get_intrinsic_aspect_ratio (paintable);
  int pw = gdk_paintable_get_intrinsic_width (paintable);
  int ph = gdk_paintable_get_intrinsic_height (paintable);
  double w, h;

  if (fit == GTK_CONTENT_FIT_FILL || ratio == 0 || height == 0)
    {
      graphene_rect_init (rect, 0, 0, width, height);
      return;
    }
  if (fit == GTK_CONTENT_FIT_SCALE_DOWN && width >= pw && height >= ph)
    w = pw, h = ph;
  else if ((ratio > (double)width / height) == (fit != GTK_CONTENT_FIT_COVER))
    w = width, h = width / ratio;
  else
    w = height * ratio, h = height;
  graphene_rect_init (rect, (width - ceil (w)) / 2, floor (height - ceil (h)) / 2, w, h);
}

gboolean
vitlens_attention_overlay_get_image_rect (VitlensAttentionOverlay *self,
                                          graphene_rect_t         *rect)
{
  GtkWidget *area = self->picture ? GTK_WIDGET (self->picture) : GTK_WIDGET (self);
  GdkPaintable *paintable = self->picture ? gtk_picture_get_paintable (self->picture) : self->paintable;
  GtkContentFit fit = self->picture ? gtk_picture_get_content_fit (self->picture) : GTK_CONTENT_FIT_CONTAIN;
  graphene_point_t origin;

  g_return_val_if_fail (VITLENS_IS_ATTENTION_OVERLAY (self), FALSE);

  if (paintable == NULL || gtk_widget_get_width (area) <= 0 || gtk_widget_get_height (area) <= 0)
    return FALSE;
  fit_rect (paintable, fit, gtk_widget_get_width (area), gtk_widget_get_height (area), rect);
  if (area != GTK_WIDGET (self))
    {
      if (!gtk_widget_compute_point (area, GTK_WIDGET (self), &GRAPHENE_POINT_INIT (0, 0), &origin))
        return FALSE;
      rect->origin.x += origin.x;
      rect->origin.y += origin.y;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * Drawing */

/* "Attention", a colour bar from low to high, in a dark translucent box at the bottom left of
 * the picture; on a small picture (a Compare column's) without the title, and left out when the
 * picture is too small even for that. */
static void
snapshot_legend (VitlensAttentionOverlay *self,
                 GtkSnapshot             *snapshot,
                 const graphene_rect_t   *image)
{
  GtkWidget *widget = GTK_WIDGET (self);
  /* Translators: the title of the heat map's legend over the picture */
  g_autoptr(PangoLayout) title = gtk_widget_create_pango_layout (widget, _("Attention"));
  /* Translators: the ends of the attention heat map's colour bar */
  g_autoptr(PangoLayout) low = gtk_widget_create_pango_layout (widget, C_("attention", "low"));
  g_autoptr(PangoLayout) high = gtk_widget_create_pango_layout (widget, C_("attention", "high"));
  const GdkRGBA white = { 1, 1, 1, 1 }, back = { 0, 0, 0, 0.62 };
  GskColorStop stops[5];
  GskRoundedRect clip;
  int tw, th, lw, lh, hw, hh;
  float box_w, box_h, x, y, bar_y;

  pango_layout_get_pixel_size (title, &tw, &th);
  if (image->size.width < LEGEND_SMALL)
    tw = th = 0;
  pango_layout_get_pixel_size (low, &lw, &lh);
  pango_layout_get_pixel_size (high, &hw, &hh);
  box_w = MAX (MAX (tw, LEGEND_BAR), lw + hw + 8) + 2 * LEGEND_PAD;
  box_h = th + 2 + 8 + 2 + MAX (lh, hh) + 2 * LEGEND_PAD;
  if (image->size.width < box_w + 2 * LEGEND_INSET || image->size.height < box_h + 2 * LEGEND_INSET)
    return;
  x = image->origin.x + LEGEND_INSET;
  y = image->origin.y + image->size.height - LEGEND_INSET - box_h;

  gsk_rounded_rect_init_from_rect (&clip, &GRAPHENE_RECT_INIT (x, y, box_w, box_h), 6);
  gtk_snapshot_push_rounded_clip (snapshot, &clip);
  gtk_snapshot_append_color (snapshot, &back, &GRAPHENE_RECT_INIT (x, y, box_w, box_h));
  gtk_snapshot_pop (snapshot);

  if (th > 0)
    {
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x + LEGEND_PAD, y + LEGEND_PAD));
      gtk_snapshot_append_layout (snapshot, title, &white);
      gtk_snapshot_restore (snapshot);
    }

  bar_y = y + LEGEND_PAD + th + 2;
  for (int i = 0; i < 5; i++)
    {
      float rgb[3];

      vitlens_heatmap_colour (i / 4.0f, rgb);
      stops[i].offset = i / 4.0f;
      stops[i].color = (GdkRGBA) { rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, 1 };
    }
  gtk_snapshot_append_linear_gradient (snapshot,
                                       &GRAPHENE_RECT_INIT (x + LEGEND_PAD, bar_y, box_w - 2 * LEGEND_PAD, 8),
                                       &GRAPHENE_POINT_INIT (x + LEGEND_PAD, 0),
                                       &GRAPHENE_POINT_INIT (x + box_w - LEGEND_PAD, 0),
                                       stops, G_N_ELEMENTS (stops));

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x + LEGEND_PAD, bar_y + 10));
  gtk_snapshot_append_layout (snapshot, low, &white);
  gtk_snapshot_restore (snapshot);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x + box_w - LEGEND_PAD - hw, bar_y + 10));
  gtk_snapshot_append_layout (snapshot, high, &white);
  gtk_snapshot_restore (snapshot);
}

static void
vitlens_attention_overlay_snapshot (GtkWidget   *widget,
                                    GtkSnapshot *snapshot)
{
  VitlensAttentionOverlay *self = VITLENS_ATTENTION_OVERLAY (widget);
  graphene_rect_t rect;

  if (!vitlens_attention_overlay_get_image_rect (self, &rect))
    return;
  if (self->picture == NULL)
    {
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &rect.origin);
      gdk_paintable_snapshot (self->paintable, snapshot, rect.size.width, rect.size.height);
      gtk_snapshot_restore (snapshot);
    }
  if (self->heat == NULL)
    return;
  gtk_snapshot_append_texture (snapshot, self->heat, &rect);
  snapshot_legend (self, snapshot, &rect);
}

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_attention_overlay_dispose (GObject *object)
{
  VitlensAttentionOverlay *self = VITLENS_ATTENTION_OVERLAY (object);

  /* no picture, no result (nor its heat map), no paintable */
  vitlens_attention_overlay_set_picture (self, NULL);
  vitlens_attention_overlay_set_result (self, NULL);
  g_clear_object (&self->paintable);
  G_OBJECT_CLASS (vitlens_attention_overlay_parent_class)->dispose (object);
}

static void
vitlens_attention_overlay_class_init (VitlensAttentionOverlayClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = vitlens_attention_overlay_dispose;
  GTK_WIDGET_CLASS (klass)->snapshot = vitlens_attention_overlay_snapshot;
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "attention-overlay");
}

static void
vitlens_attention_overlay_init (VitlensAttentionOverlay *self)
{
  gtk_widget_set_can_target (GTK_WIDGET (self), FALSE);
}

GtkWidget *
vitlens_attention_overlay_new (void)
{
  return g_object_new (VITLENS_TYPE_ATTENTION_OVERLAY, NULL);
}

void
vitlens_attention_overlay_set_picture (VitlensAttentionOverlay *self,
                                       GtkPicture              *picture)
{
  g_return_if_fail (VITLENS_IS_ATTENTION_OVERLAY (self));
  g_return_if_fail (picture == NULL || GTK_IS_PICTURE (picture));

  if (self->picture == picture)
    return;
  if (self->picture != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->picture, self);
      g_object_remove_weak_pointer (G_OBJECT (self->picture), (gpointer *)&self->picture);
    }
  self->picture = picture;
  if (picture != NULL)
    {
      g_object_add_weak_pointer (G_OBJECT (picture), (gpointer *)&self->picture);
      /* another image, or another fit (a small image is shown grown): drawn again */
      g_signal_connect_swapped (picture, "notify::paintable", G_CALLBACK (gtk_widget_queue_draw), self);
      g_signal_connect_swapped (picture, "notify::content-fit", G_CALLBACK (gtk_widget_queue_draw), self);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
vitlens_attention_overlay_set_paintable (VitlensAttentionOverlay *self,
                                         GdkPaintable            *paintable)
{
  g_return_if_fail (VITLENS_IS_ATTENTION_OVERLAY (self));

  if (g_set_object (&self->paintable, paintable))
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
vitlens_attention_overlay_set_result (VitlensAttentionOverlay *self,
                                      VitlensResult           *result)
{
  g_return_if_fail (VITLENS_IS_ATTENTION_OVERLAY (self));

  if (self->result == result)
    return;
  if (result != NULL)
    vitlens_result_ref (result);
  g_clear_pointer (&self->result, vitlens_result_unref);
  self->result = result;
  g_clear_object (&self->heat);
  if (result != NULL && result->rollout != NULL)
    self->heat = heat_texture_new (result);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

VitlensResult *
vitlens_attention_overlay_get_result (VitlensAttentionOverlay *self)
{
  g_return_val_if_fail (VITLENS_IS_ATTENTION_OVERLAY (self), NULL);

  return self->result;
}

const float *
vitlens_attention_overlay_get_grid (VitlensAttentionOverlay *self,
                                    int                     *grid_h,
                                    int                     *grid_w)
{
  gboolean shown;

  g_return_val_if_fail (VITLENS_IS_ATTENTION_OVERLAY (self), NULL);

  shown = self->heat != NULL;
  *grid_h = shown ? self->result->rollout_h : 0;
  *grid_w = shown ? self->result->rollout_w : 0;
  return shown ? self->result->rollout : NULL;
}
