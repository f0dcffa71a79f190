/* vitlens-attention-overlay.h — where the model looked: a result's attention rollout as a heat
 * map, semi-transparent, with a legend, over the picture it was computed from
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Put it over a GtkPicture (in a GtkOverlay; vitlens_attention_overlay_set_picture()): it finds where the picture
 * draws its paintable (the picture's content fit, as GtkPicture places it) and paints the heat
 * map there, mapped back through the model's resize and crop (vitlens-heatmap.h); outside the
 * square the model saw, the picture is dimmed. Or give it a paintable of its own (a Compare
 * column's thumbnail), which it draws under the heat map, fitted (contain). A result without a
 * rollout, or none, draws nothing.
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-result.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_ATTENTION_OVERLAY (vitlens_attention_overlay_get_type ())

G_DECLARE_FINAL_TYPE (VitlensAttentionOverlay, vitlens_attention_overlay, VITLENS, ATTENTION_OVERLAY, GtkWidget)

GtkWidget     *vitlens_attention_overlay_new           (void);
/* The picture the heat map lies over (NULL: its own paintable). */
void           vitlens_attention_overlay_set_picture   (VitlensAttentionOverlay *self,
                                                        GtkPicture              *picture);
/* What it draws under the heat map when it has no picture (NULL: nothing). */
void           vitlens_attention_overlay_set_paintable (VitlensAttentionOverlay *self,
                                                        GdkPaintable            *paintable);
/* The result whose rollout is shown (a reference is kept; NULL: none). */
void           vitlens_attention_overlay_set_result    (VitlensAttentionOverlay *self,
                                                        VitlensResult           *result);
VitlensResult *vitlens_attention_overlay_get_result    (VitlensAttentionOverlay *self);
/* The grid shown (NULL and 0 × 0: none), for tests. */
const float   *vitlens_attention_overlay_get_grid      (VitlensAttentionOverlay *self,
                                                        int                     *grid_h,
                                                        int                     *grid_w);
/* Where the picture is drawn in the overlay's coordinates, which the heat map covers; FALSE
 * when nothing is drawn. */
gboolean       vitlens_attention_overlay_get_image_rect (VitlensAttentionOverlay *self,
                                                        graphene_rect_t         *rect);

G_END_DECLS
