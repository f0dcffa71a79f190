/* vitlens-window.h — the main window
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-application.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_WINDOW (vitlens_window_get_type ())

G_DECLARE_FINAL_TYPE (VitlensWindow, vitlens_window, VITLENS, WINDOW, GtkApplicationWindow)

/* Loads the application's start-up model (see vitlens_application_get_startup_model()). */
VitlensWindow *vitlens_window_new        (VitlensApplication *application);

/* Every way in ends here: drops, Open…, the command line and pasted files. Model files
 * (.safetensors, .vitq, .vitl) are loaded as the model, videos play (the Video source), and
 * images go to the image page (several make a strip of thumbnails). */
void           vitlens_window_open_files (VitlensWindow      *self,
                                          GFile             **files,
                                          guint               n_files);

G_END_DECLS
