/* vitlens-stream-page.h — the Camera and Video sources: a camera, the test pattern or a video,
 * classified frame by frame
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-camera.h"
#include "vitlens-page.h"
#include "vitlens-results-panel.h"
#include "vitlens-stream-overlay.h"

G_BEGIN_DECLS

/* Where the input comes from (the window's win.source action: "image", "camera", "video"). */
typedef enum
{
  VITLENS_SOURCE_IMAGE,
  VITLENS_SOURCE_CAMERA,
  VITLENS_SOURCE_VIDEO,
} VitlensSource;

#define VITLENS_TYPE_SOURCE (vitlens_source_get_type ())
GType vitlens_source_get_type (void) G_GNUC_CONST;

#define VITLENS_TYPE_STREAM_PAGE (vitlens_stream_page_get_type ())

G_DECLARE_FINAL_TYPE (VitlensStreamPage, vitlens_stream_page, VITLENS, STREAM_PAGE, VitlensPage)

/* Properties, besides VitlensPage's:
 *   source       VitlensSource   image (nothing plays; the page shows nothing), camera or video
 *   variant      int             the vit_variant frames are classified with
 *   compare      gboolean        Compare shows the frames: none go to the inference, and the page
 *                                shows only its transport bar
 *   loop         gboolean        a video starts again when it ends
 *   drop-active  gboolean        something is dragged over the window: "Drop to Classify"
 *   camera       VitlensCamera   read-only; NULL until a stream first starts
 *   state        VitlensCameraState  read-only: the camera's
 *   cameras      GListModel      read-only: the camera list's entries (GtkStringObject): the
 *                                cameras found (or "No Camera Found"), then "Test Pattern"
 *   stream-name  char *          read-only: what plays (a camera's or video file's name)
 *   n-frames     guint64         read-only: frames shown since the stream started
 *   n-results    guint64         read-only: frame results shown since then
 * Signals:
 *   frame (VitlensFrame *frame, GdkPaintable *paintable): a frame shown; NULL, NULL when the
 *     frames shown are gone (the stream stopped or starts again)
 * Actions: source, camera(s), play-pause, loop, open-video, snapshot, and after a snapshot
 * open-snapshot and show-snapshot (its folder, the file selected). */
GtkWidget           *vitlens_stream_page_new               (void);

/* Whether @file is a video (by its name), to play rather than classify as an image. */
gboolean             vitlens_stream_page_can_play          (GFile             *file);
/* Play a video file (the Video source). */
void                 vitlens_stream_page_open_video        (VitlensStreamPage *self,
                                                            GFile             *file);
/* The frame shown, with its results drawn on it, as PNG; the page says so (::notice). */
gboolean             vitlens_stream_page_save_snapshot     (VitlensStreamPage *self,
                                                            const char        *path,
                                                            GError           **error);
/* The folder the snapshot chooser opens in: the user's Pictures folder, else the home folder;
 * never the process's working directory. */
char                *vitlens_stream_page_get_snapshot_folder (VitlensStreamPage *self);
/* What is shown: the results over the video, and the sidebar's numbers. */
VitlensStreamOverlay *vitlens_stream_page_get_overlay      (VitlensStreamPage *self);
VitlensResultsPanel  *vitlens_stream_page_get_results_panel (VitlensStreamPage *self);

G_END_DECLS
