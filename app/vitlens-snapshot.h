/* vitlens-snapshot.h — a video frame saved as PNG with what the model said drawn on it
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

#include "vit.h"

G_BEGIN_DECLS

/* What the card in the lower left corner says: @title, then @n_rows rows of @labels with their
 * @probs as bars, then @footer (may be NULL). */
typedef struct
{
  const char         *title;
  const char * const *labels;
  const float        *probs;
  int                 n_rows;
  const char         *footer;
} VitlensSnapshotCard;

/* Draw @pixels (RGB8, RGBX8, RGBA8, BGRX8 or BGRA8) at full size with @card over it, and write
 * it to @path as PNG. Any thread (cairo and Pango only). */
gboolean vitlens_snapshot_save_png (const vit_image           *pixels,
                                    const VitlensSnapshotCard *card,
                                    const char                *path,
                                    GError                   **error);

G_END_DECLS
