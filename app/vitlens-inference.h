/* vitlens-inference.h — the one loaded model and the one worker thread that runs it; no GTK
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * VitlensInference is to ViT Lens what EditorSession is to gnome-text-editor: the object below
 * every page, owning what they share. It holds ONE vit_model and ONE worker thread; the engine
 * sessions (one per variant, made on first use) live on that thread, so only one forward pass
 * runs at a time and no two thread pools compete for the cores. Every way in is newest-wins:
 * a classification, a comparison or a frame still waiting when a newer one comes is dropped,
 * because a person flicking through images, variants or video frames only cares about the last.
 *
 *     VitlensInference *inference = vitlens_inference_new ();
 *     vitlens_inference_load_model_async (inference, NULL, NULL, loaded, self);  // NULL: embedded
 *     ...
 *     vitlens_inference_classify_async (inference, frame, VIT_VARIANT_INT8, 5, 0, NULL, done, self);
 *
 *     // video: frames from any thread, results on the main context
 *     vitlens_inference_set_frame_options (inference, VIT_VARIANT_FP32, 5, 0);
 *     g_signal_connect (inference, "frame-result", G_CALLBACK (show_result), self);
 *     vitlens_camera_set_inference_func (camera, vitlens_inference_push_func,
 *                                        g_object_ref (inference), g_object_unref);
 *
 * Inputs are VitlensFrames: a camera's frame, or a view of an image's pixels (the app's
 * vitlens_image_get_frame(), or vitlens_frame_new_for_data()); results (vitlens-result.h) keep
 * a reference on theirs. Answers, signals and property notifications all come on the main
 * context that was the thread-default one when the object was made.
 */
#pragma once

#include <gio/gio.h>

#include "vit.h"
#include "vitlens-frame.h"
#include "vitlens-result.h"

G_BEGIN_DECLS

/* ---------------------------------------------------------------------------------------------
 * Facts about a loaded model, for display. Reference counted and immutable. */

typedef struct
{
  char           *display_name; /* file name ("model.safetensors" → its folder's name) or the embedded model's */
  char           *architecture; /* config.json architecture, or a name made from the shapes */
  char           *path;         /* NULL for the embedded model */
  vit_file_format format;
  gint64          num_params;
  gint64          file_bytes;
  int             img_size;
  int             patch_size;
  int             in_chans;
  int             embed_dim;
  int             depth;
  int             num_heads;
  int             num_classes;
  int             num_labels;
  gboolean        distilled;
  gboolean        supports[VIT_VARIANT_COUNT];
  guint           serial;       /* grows with every model loaded */
} VitlensModelFacts;

#define VITLENS_TYPE_MODEL_FACTS (vitlens_model_facts_get_type ())
GType              vitlens_model_facts_get_type (void) G_GNUC_CONST;
VitlensModelFacts *vitlens_model_facts_ref      (VitlensModelFacts *facts);
void               vitlens_model_facts_unref    (VitlensModelFacts *facts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VitlensModelFacts, vitlens_model_facts_unref)

/* Frame counters since the object was made or vitlens_inference_reset_stats(). */
typedef struct
{
  guint64 pushed;            /* frames given to push_frame() */
  guint64 inferred;          /* frames classified */
  guint64 dropped;           /* frames replaced in the slot before the worker took them */
  guint64 failed;            /* frames not classified because of an error */
  double  inference_fps;     /* inferred frames per second, first frame pushed to last result */
  double  latency_ms_median; /* over the last 1024 results */
  double  forward_ms_median; /* over the last 1024 results */
} VitlensInferenceStats;

/* ---------------------------------------------------------------------------------------------
 * The object */

#define VITLENS_TYPE_INFERENCE (vitlens_inference_get_type ())

G_DECLARE_FINAL_TYPE (VitlensInference, vitlens_inference, VITLENS, INFERENCE, GObject)

VitlensInference        *vitlens_inference_new                (void);

/* Load a model file (.safetensors, .vitq or .vitl; NULL: the embedded model) on the worker,
 * through vitlens_data_load_model(). On failure the previous model stays. A newer load
 * supersedes one still queued (it then finishes with G_IO_ERROR_CANCELLED); a load goes
 * before any other request. On success :model changes before the callback runs. */
void                     vitlens_inference_load_model_async   (VitlensInference    *self,
                                                               GFile               *file,
                                                               GCancellable        *cancellable,
                                                               GAsyncReadyCallback  callback,
                                                               gpointer             user_data);
gboolean                 vitlens_inference_load_model_finish  (VitlensInference    *self,
                                                               GAsyncResult        *result,
                                                               GError             **error);

/* The loaded model (the :model property); NULL until one has loaded. Main thread. */
const VitlensModelFacts *vitlens_inference_get_model          (VitlensInference    *self);
gboolean                 vitlens_inference_supports           (VitlensInference    *self,
                                                               vit_variant          variant);

/* Classify @input with the current model. Newest wins: a newer request supersedes one still
 * queued (it then finishes with G_IO_ERROR_CANCELLED). @threads 0 = every core. The result's
 * median_forward_ms is over this variant's latest classifications (not frames). */
void                     vitlens_inference_classify_async     (VitlensInference    *self,
                                                               VitlensFrame        *input,
                                                               vit_variant          variant,
                                                               int                  top_k,
                                                               int                  threads,
                                                               GCancellable        *cancellable,
                                                               GAsyncReadyCallback  callback,
                                                               gpointer             user_data);
VitlensResult           *vitlens_inference_classify_finish    (VitlensInference    *self,
                                                               GAsyncResult        *result,
                                                               GError             **error);

/* Run every variant the model supports (and the optimized one on its lite .vitl file, written
 * to a temporary file once per model) on @input, @runs times each in rotating order, so that
 * machine noise falls on every variant alike. Sessions made for it run once untimed first.
 * Newest wins, like classify (a newer comparison or load also stops one between two rounds). */
void                     vitlens_inference_compare_async      (VitlensInference    *self,
                                                               VitlensFrame        *input,
                                                               int                  runs,
                                                               int                  top_k,
                                                               int                  threads,
                                                               GCancellable        *cancellable,
                                                               GAsyncReadyCallback  callback,
                                                               gpointer             user_data);
VitlensComparison       *vitlens_inference_compare_finish     (VitlensInference    *self,
                                                               GAsyncResult        *result,
                                                               GError             **error);

/* Video. Frames are classified with these options (default fp32, top 5, every core); a change
 * applies from the next frame. */
void                     vitlens_inference_set_frame_options  (VitlensInference    *self,
                                                               vit_variant          variant,
                                                               int                  top_k,
                                                               int                  threads);
/* Attention rollout (default off): from the next classification,
 * comparison or frame on, every result carries the model's attention rollout
 * (VitlensResult.rollout). The sessions are made again for it; off, they compute none. */
void                     vitlens_inference_set_rollout        (VitlensInference    *self,
                                                               gboolean             rollout);
gboolean                 vitlens_inference_get_rollout        (VitlensInference    *self);
/* Deliver every frame's result in order instead of only the newest (a CLI printing one line per
 * frame; a window wants the default, FALSE). */
void                     vitlens_inference_set_keep_all_results (VitlensInference  *self,
                                                               gboolean             keep_all);
/* Any thread: put @frame in the one-frame slot (a reference is taken), replacing (and counting
 * as dropped) a frame still waiting. Its result comes as ::frame-result, a failure as
 * ::frame-error. Requests (loads, classifications, comparisons) go before frames. */
void                     vitlens_inference_push_frame         (VitlensInference    *self,
                                                               VitlensFrame        *frame);
/* The same as a VitlensFrameFunc, with the object as user data. */
void                     vitlens_inference_push_func          (VitlensFrame        *frame,
                                                               gpointer             inference);
/* Forget a frame still waiting (e.g. when the stream stops); it counts as dropped. */
void                     vitlens_inference_clear_frames       (VitlensInference    *self);
/* Block until nothing is waiting and the worker is idle; the answers are then waiting on the
 * main context. */
void                     vitlens_inference_drain              (VitlensInference    *self);
void                     vitlens_inference_get_stats          (VitlensInference      *self,
                                                               VitlensInferenceStats *stats);
void                     vitlens_inference_reset_stats        (VitlensInference    *self);

G_END_DECLS
