/* vitlens-heatmap.h — an attention rollout grid (vit_session_rollout) mapped back onto the
 * picture it was computed from: one definition for `vitlens-cli classify --explain-png` and the
 * app's attention overlay. Plain C.
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * The grid covers the model's input square (image_size a side), which is the resized picture's
 * centre crop (vit_preprocess_geometry): a point (u, v) of that square is, in the picture,
 * ((u + crop_x) * width / resized_w, (v + crop_y) * height / resized_h), and back. The heat at a
 * point is the grid, bilinear between cell centres, edges clamped; outside the square the model
 * saw nothing.
 */
#pragma once

#include "vit.h"

typedef struct {
  const float *grid;     /* grid_h × grid_w, row-major, max 1 */
  int32_t grid_h, grid_w;
  float size;            /* the model input's side */
  float sx, sy;          /* resized_w / width, resized_h / height */
  float crop_x, crop_y;
} VitlensHeatmap;

/* @grid over a picture of @width × @height that the model saw through @geometry (the input
 * square @size a side). The grid is not copied. */
void  vitlens_heatmap_init   (VitlensHeatmap               *heatmap,
                              const float                  *grid,
                              int32_t                       grid_h,
                              int32_t                       grid_w,
                              int32_t                       size,
                              const vit_preprocess_geometry *geometry,
                              int32_t                       width,
                              int32_t                       height);
/* The heat (0..1) at the picture's point (x, y) (pixel centres at +0.5), or -1 outside the
 * input square. */
float vitlens_heatmap_value  (const VitlensHeatmap         *heatmap,
                              float                         x,
                              float                         y);
/* The colour map (inferno's five stops, linear between them): @v in [0, 1] -> RGB 0..255. */
void  vitlens_heatmap_colour (float                         v,
                              float                         rgb[3]);
