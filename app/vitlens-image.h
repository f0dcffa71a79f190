/* vitlens-image.h — a decoded image: the engine's RGB8 pixels and the texture that shows them
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vit.h"
#include "vitlens-frame.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_IMAGE (vitlens_image_get_type ())

G_DECLARE_FINAL_TYPE (VitlensImage, vitlens_image, VITLENS, IMAGE, GObject)

/* Blocking; safe to call from any thread. Decoding is the engine's (vit_image_load: PNG or
 * JPEG, EXIF orientation applied), and the texture shares the same pixels, so what is shown
 * is exactly what is classified. */
VitlensImage    *vitlens_image_new_from_file    (GFile                *file,
                                                 GCancellable         *cancellable,
                                                 GError              **error);
VitlensImage    *vitlens_image_new_from_bytes   (GBytes               *bytes,
                                                 const char           *name,
                                                 GError              **error);

/* The same in a GTask thread. */
void             vitlens_image_load_async       (GFile                *file,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
void             vitlens_image_load_bytes_async (GBytes               *bytes,
                                                 const char           *name,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
VitlensImage    *vitlens_image_load_finish      (GAsyncResult         *result,
                                                 GError              **error);

const char      *vitlens_image_get_name         (VitlensImage         *self);
GFile           *vitlens_image_get_file         (VitlensImage         *self);
GdkTexture      *vitlens_image_get_texture      (VitlensImage         *self);
/* The texture grown @scale times with nearest-neighbour (every pixel a @scale×@scale block):
 * GTK 4.8 draws textures with linear filtering only (the filter of
 * gtk_snapshot_append_scaled_texture() comes in 4.10), which blurs a small image grown big.
 * Made once per scale; transfer none. */
GdkTexture      *vitlens_image_get_texture_scaled (VitlensImage       *self,
                                                   int                 scale);
const vit_image *vitlens_image_get_pixels       (VitlensImage         *self);
/* The same pixels as a VitlensFrame (no copy; transfer none), the input VitlensInference
 * takes; a result's frame is this one when it is this image's. */
VitlensFrame    *vitlens_image_get_frame        (VitlensImage         *self);
int              vitlens_image_get_width        (VitlensImage         *self);
int              vitlens_image_get_height       (VitlensImage         *self);
double           vitlens_image_get_decode_ms    (VitlensImage         *self);

G_END_DECLS
