/* vitlens-image-strip.h — thumbnails of the images opened together, to step through
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define VITLENS_TYPE_IMAGE_STRIP (vitlens_image_strip_get_type ())

G_DECLARE_FINAL_TYPE (VitlensImageStrip, vitlens_image_strip, VITLENS, IMAGE_STRIP, GtkBox)

GtkWidget *vitlens_image_strip_new          (void);
/* Replace the items; thumbnails load one after another in a thread. */
void       vitlens_image_strip_set_files    (VitlensImageStrip *self,
                                             GFile            **files,
                                             guint              n_files);
guint      vitlens_image_strip_get_n_items  (VitlensImageStrip *self);
/* Mark @index as the one shown (no signal). */
void       vitlens_image_strip_set_selected (VitlensImageStrip *self,
                                             guint              index);
guint      vitlens_image_strip_get_selected (VitlensImageStrip *self);
/* Mark @index as an item that cannot be shown, @problem in its tooltip: stepping skips it. */
void       vitlens_image_strip_set_broken   (VitlensImageStrip *self,
                                             guint              index,
                                             const char        *problem);
gboolean   vitlens_image_strip_get_broken   (VitlensImageStrip *self,
                                             guint              index);

G_END_DECLS
