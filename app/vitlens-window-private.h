/* vitlens-window-private.h — what vitlens-window*.c share
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "vitlens-camera.h"
#include "vitlens-camera-monitor.h"
#include "vitlens-classifier.h"
#include "vitlens-compare-view.h"
#include "vitlens-frame-worker.h"
#include "vitlens-image-strip.h"
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

/* Compare mode's newest-frame slot, filled on the streaming thread (vitlens-window-compare.c). */
typedef struct _CompareSlot CompareSlot;

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
  GMenu               *recent_models_section;

  GtkToggleButton     *variant_buttons[VIT_VARIANT_COUNT];
  GtkDropTarget       *drop_target;

  GSettings           *settings;
  VitlensClassifier   *classifier;
  GCancellable        *cancellable;        /* all this window started; cancelled in dispose */
  GCancellable        *decode_cancellable; /* the image being decoded: a newer one cancels it */

  VitlensImage        *image;              /* the image shown */
  VitlensPrediction   *prediction;         /* its results, if any yet */
  vit_variant          variant;
  GPtrArray           *files;              /* GFile: the images opened together */
  guint                shown_index;        /* of the image shown, in @files */

  guint                n_pending;          /* decodes, loads and classifications under way */
  guint                n_model_loads;
  ErrorSource          error_source;
  guint                notice_timeout;     /* hides the notice; 0: none pending */

  /* compare mode (vitlens-window-compare.c) */
  gboolean             compare;            /* on: every variant side by side */
  gboolean             compare_frame_busy; /* a stream frame's comparison is on its way */
  guint                compare_model_serial; /* the model the compare view shows */
  VitlensImage        *compared_image;     /* the image last compared (agreement counts it once) */
  guint                n_compared_frames;
  CompareSlot         *compare_slot;

  /* cameras and videos (vitlens-window-stream.c) */
  Source               source;
  VitlensCamera       *camera;             /* made when a stream first starts */
  VitlensCameraMonitor *monitor;
  GtkStringList       *camera_names;       /* what the drop-down lists */
  GPtrArray           *camera_ids;         /* char *, parallel: a device's name, or "test-pattern" */
  char                *camera_id;          /* the entry chosen */
  VitlensFrameWorker  *frame_worker;
  guint                frame_worker_model;  /* facts->serial of the model it was given; 0: none */
  GFile               *video_file;
  VitlensFrame        *frame;              /* the frame shown */
  VitlensFrameResult  *result;             /* the latest result shown */
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
/* A VitlensFrameFunc (streaming thread): the frame into the slot, newest wins; the main
 * thread compares it as soon as the comparison before it is back. @slot: a CompareSlot. */
void _vitlens_window_compare_push_func (VitlensFrame  *frame,
                                        gpointer       slot);
CompareSlot *_vitlens_compare_slot_ref (CompareSlot   *slot);
void _vitlens_compare_slot_unref       (CompareSlot   *slot);
void _vitlens_window_dispose_compare   (VitlensWindow *self);
/* Forget a frame still waiting in the slot (the stream stopped or changed). */
void _vitlens_window_compare_clear_slot (VitlensWindow *self);
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
/* Frames to the frame worker, or (compare mode) to nobody: the window compares them. */
void _vitlens_window_update_inference_route (VitlensWindow *self);
const char *_vitlens_window_stream_name (VitlensWindow *self);

G_END_DECLS
