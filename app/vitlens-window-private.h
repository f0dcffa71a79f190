/* vitlens-window-private.h — what vitlens-window*.c share
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "vitlens-camera.h"
#include "vitlens-camera-monitor.h"
#include "vitlens-compare-view.h"
#include "vitlens-image-strip.h"
#include "vitlens-inference.h"
#include "vitlens-stream-overlay.h"
#include "vitlens-window.h"

G_BEGIN_DECLS

/* What the error in the banner is about, so that success at one thing clears only its own. */
typedef enum
{
  ERROR_FROM_OTHER,
  ERROR_FROM_IMAGE,
  ERROR_FROM_MODEL,
  ERROR_FROM_STREAM,
} ErrorSource;

/* Where the input comes from (the win.source action's state). */
typedef enum
{
  SOURCE_IMAGE,
  SOURCE_CAMERA,
  SOURCE_VIDEO,
} Source;

#define DISPLAY_FPS_WINDOW 30
#define NOTICE_SECONDS     5

struct _VitlensWindow
{
  GtkApplicationWindow parent_instance;

  /* template widgets */
  GtkToggleButton     *source_image_button;
  GtkToggleButton     *variant_fp32_button;
  GtkToggleButton     *variant_int8_button;
  GtkToggleButton     *variant_optimized_button;
  GtkToggleButton     *variant_compare_button;
  GtkStack            *mode_stack;
  VitlensCompareView  *compare_view;
  GtkPicture          *stream_picture;
  GtkLabel            *stream_caption;
  VitlensStreamOverlay *stream_overlay;
  GtkWidget           *stream_status;
  GtkSpinner          *stream_spinner;
  GtkLabel            *stream_status_title;
  GtkLabel            *stream_status_label;
  GtkButton           *stream_status_button;
  GtkRevealer         *stream_bar_revealer;
  GtkButton           *play_button;
  GtkDropDown         *camera_dropdown;
  GtkWidget           *open_video_button;
  GtkWidget           *loop_button;
  GtkLabel            *stream_label;
  GtkMenuButton       *model_menu_button;
  GtkLabel            *model_label;
  GtkSpinner          *busy_spinner;
  GtkRevealer         *banner_revealer;
  GtkLabel            *banner_label;
  GtkRevealer         *notice_revealer;
  GtkLabel            *notice_label;
  GtkWidget           *image_area;
  GtkStack            *image_stack;
  GtkSpinner          *loading_spinner;
  GtkPicture          *picture;
  GtkLabel            *image_caption;
  GtkRevealer         *drop_revealer;
  GtkRevealer         *strip_revealer;
  VitlensImageStrip   *strip;
  VitlensResultsPanel *results_panel;
  GMenu               *model_menu;

  GtkToggleButton     *variant_buttons[VIT_VARIANT_COUNT];
  GtkDropTarget       *drop_target;

  GSettings           *settings;
  VitlensInference    *inference;          /* the model, and every classification of every page */
  GCancellable        *cancellable;        /* all this window started; cancelled in dispose */
  GCancellable        *decode_cancellable; /* the image being decoded: a newer one cancels it */

  VitlensImage        *image;              /* the image shown */
  VitlensResult       *prediction;         /* its results, if any yet */
  vit_variant          variant;
  GPtrArray           *files;              /* GFile: the images opened together */
  guint                shown_index;        /* of the image shown, in @files */

  guint                n_pending;          /* decodes, loads and classifications under way */
  guint                n_model_loads;
  ErrorSource          error_source;
  guint                notice_timeout;     /* hides the notice; 0: none pending */

  /* compare mode (vitlens-window-compare.c) */
  gboolean             compare;            /* on: every variant side by side */
  guint                compare_model_serial; /* the model the compare view shows */
  VitlensImage        *compared_image;     /* the image last compared (agreement counts it once) */
  guint                n_compared_frames;

  /* cameras and videos (vitlens-window-stream.c) */
  Source               source;
  VitlensCamera       *camera;             /* made when a stream first starts */
  VitlensCameraMonitor *monitor;
  GtkStringList       *camera_names;       /* what the drop-down lists */
  GPtrArray           *camera_ids;         /* char *, parallel: a device's name, or "test-pattern" */
  char                *camera_id;          /* the entry chosen */
  GFile               *video_file;
  VitlensFrame        *frame;              /* the frame shown */
  VitlensResult       *result;             /* the latest frame result shown */
  gint64               display_times[DISPLAY_FPS_WINDOW];
  guint64              n_frames_shown;
  guint64              n_results_shown;
  int                  frame_width, frame_height;
};

/* vitlens-window.c */
void _vitlens_window_show_image_error (VitlensWindow *self,
                                       const char    *message);
void _vitlens_window_show_error_from  (VitlensWindow *self,
                                       ErrorSource    source,
                                       const char    *message);
void _vitlens_window_hide_error_from  (VitlensWindow *self,
                                       ErrorSource    source);
/* A short confirmation under the header bar ("Saved …"), gone after NOTICE_SECONDS;
 * @tooltip (may be NULL) tells more, e.g. the full paths. */
void _vitlens_window_show_notice      (VitlensWindow *self,
                                       const char    *message,
                                       const char    *tooltip);
void _vitlens_window_update_page      (VitlensWindow *self);
void _vitlens_window_classify_current (VitlensWindow *self);
void _vitlens_window_begin_busy (VitlensWindow *self);
void _vitlens_window_end_busy   (VitlensWindow *self);

/* vitlens-window-dnd.c: drag and drop, paste, the file choosers */
void _vitlens_window_init_dnd       (VitlensWindow *self);
void _vitlens_window_paste          (VitlensWindow *self);
void _vitlens_window_choose_images  (VitlensWindow *self);
void _vitlens_window_choose_model   (VitlensWindow *self);
gboolean _vitlens_file_is_model     (GFile         *file);
gboolean _vitlens_file_is_video     (GFile         *file);

/* vitlens-window-compare.c: compare mode */
void _vitlens_window_init_compare      (VitlensWindow *self);
void _vitlens_window_set_compare       (VitlensWindow *self,
                                        gboolean       compare);
/* The image shown, through every variant; @new_input: it counts for agreement. */
void _vitlens_window_compare_image     (VitlensWindow *self,
                                        gboolean       new_input);
/* A frame shown (main thread), through every variant once; a newer frame supersedes it while
 * it waits (VitlensInference's newest-wins), so the engine never queues frames. */
void _vitlens_window_compare_frame     (VitlensWindow *self,
                                        VitlensFrame  *frame);
void _vitlens_window_compare_model_changed (VitlensWindow *self);
void _vitlens_window_compare_update_source (VitlensWindow *self);

/* vitlens-window-stream.c: cameras, the test pattern and videos */
void _vitlens_window_init_stream       (VitlensWindow *self);
void _vitlens_window_dispose_stream    (VitlensWindow *self);
void _vitlens_window_set_source        (VitlensWindow *self,
                                        Source         source);
void _vitlens_window_choose_video      (VitlensWindow *self);
void _vitlens_window_stream_model_changed (VitlensWindow *self);
void _vitlens_window_stream_variant_changed (VitlensWindow *self);
void _vitlens_window_stream_settings_changed (VitlensWindow *self);
/* Frames to VitlensInference for the variant shown, or (compare mode) to nobody: the window
 * compares the frames it shows. */
void _vitlens_window_update_inference_route (VitlensWindow *self);
const char *_vitlens_window_stream_name (VitlensWindow *self);

G_END_DECLS
