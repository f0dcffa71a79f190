/* vitlens-window.h — the main window
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-application.h"
#include "vitlens-camera.h"
#include "vitlens-compare-view.h"
#include "vitlens-image.h"
#include "vitlens-results-panel.h"
#include "vitlens-stream-overlay.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_WINDOW (vitlens_window_get_type ())

G_DECLARE_FINAL_TYPE (VitlensWindow, vitlens_window, VITLENS, WINDOW, GtkApplicationWindow)

/* Loads the application's start-up model (see vitlens_application_get_startup_model()). */
VitlensWindow       *vitlens_window_new                (VitlensApplication *application);

/* Every way in ends here: drops, Open…, the command line and pasted files. Images are
 * decoded off the main thread; model files (.safetensors, .vitq, .vitl) are loaded as the
 * model. Several images make a strip of thumbnails. */
void                 vitlens_window_open_files         (VitlensWindow      *self,
                                                        GFile             **files,
                                                        guint               n_files);
/* A pasted image. */
void                 vitlens_window_open_texture       (VitlensWindow      *self,
                                                        GdkTexture         *texture);
/* NULL: the built-in model. */
void                 vitlens_window_load_model         (VitlensWindow      *self,
                                                        GFile              *file);
/* Play a video file (the Video source). Dropped and opened video files come here too. */
void                 vitlens_window_open_video         (VitlensWindow      *self,
                                                        GFile              *file);
/* The frame shown, with its results drawn on it, as PNG; the window says it was saved. */
gboolean             vitlens_window_save_snapshot      (VitlensWindow      *self,
                                                        const char         *path,
                                                        GError            **error);
/* What Export… does with the file chosen (a base name; a .csv, .md or .png typed is dropped):
 * asks before replacing BASE.csv, BASE.md or BASE.png if any exists (other than @file itself,
 * which the file chooser asked about), writes them and says so, or shows the error. */
void                 vitlens_window_export_comparison  (VitlensWindow      *self,
                                                        GFile              *file);
/* Show an error in the window's banner. */
void                 vitlens_window_show_error         (VitlensWindow      *self,
                                                        const char         *message);

/* State, for tests. */
gboolean             vitlens_window_get_busy           (VitlensWindow      *self);
vit_variant          vitlens_window_get_variant        (VitlensWindow      *self);
VitlensImage        *vitlens_window_get_image          (VitlensWindow      *self);
const char          *vitlens_window_get_error_message  (VitlensWindow      *self);
/* The confirmation shown ("Saved …"); NULL when none is. */
const char          *vitlens_window_get_notice         (VitlensWindow      *self);
VitlensResultsPanel *vitlens_window_get_results_panel  (VitlensWindow      *self);
GtkWidget           *vitlens_window_get_variant_button (VitlensWindow      *self,
                                                        vit_variant         variant);
GtkDropTarget       *vitlens_window_get_drop_target    (VitlensWindow      *self);
const char          *vitlens_window_get_page           (VitlensWindow      *self);
guint                vitlens_window_get_n_files        (VitlensWindow      *self);
gboolean             vitlens_window_get_compare        (VitlensWindow      *self);
VitlensCompareView  *vitlens_window_get_compare_view   (VitlensWindow      *self);
/* "image", "camera" or "video". */
const char          *vitlens_window_get_source         (VitlensWindow      *self);
/* NULL until a camera, the test pattern or a video was first started. */
VitlensCamera       *vitlens_window_get_camera         (VitlensWindow      *self);
VitlensStreamOverlay *vitlens_window_get_stream_overlay (VitlensWindow     *self);
guint64              vitlens_window_get_n_frames_shown (VitlensWindow      *self);
guint64              vitlens_window_get_n_stream_results (VitlensWindow    *self);
/* The camera list's entries (GtkStringObject): the cameras found, then "Test Pattern". */
GListModel          *vitlens_window_get_camera_list    (VitlensWindow      *self);

G_END_DECLS
