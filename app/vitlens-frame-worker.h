/* vitlens-frame-worker.h — classify video frames on one thread, newest frame wins; no GTK
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * One dedicated thread owns the model and its sessions. Frames arrive in a one-frame slot
 * (vitlens_frame_worker_push(), any thread): a frame still waiting when a newer one comes is
 * dropped and counted. Each frame is classified in place (the engine reads the frame's own
 * RGBx pixels with its stride, no copy) and the result goes to the main context with an idle,
 * newest result wins, as the "result" signal. Changing the model, variant, threads or top-k
 * never stops anything: the change is applied between two frames.
 *
 *     VitlensFrameWorker *worker = vitlens_frame_worker_new ();
 *     vitlens_frame_worker_load_model (worker, path);   // NULL: the embedded model
 *     vitlens_frame_worker_set_variant (worker, VIT_VARIANT_INT8);
 *     g_signal_connect (worker, "result", G_CALLBACK (show_result), self);
 *     vitlens_camera_set_inference_func (camera, vitlens_frame_worker_push_func,
 *                                        g_object_ref (worker), g_object_unref);
 */
#pragma once

#include <glib-object.h>

#include "vit.h"
#include "vitlens-frame.h"

G_BEGIN_DECLS

#define VITLENS_FRAME_WORKER_ERROR (vitlens_frame_worker_error_quark ())

typedef enum
{
  VITLENS_FRAME_WORKER_ERROR_NO_MODEL,    /* no model yet, or loading it failed */
  VITLENS_FRAME_WORKER_ERROR_UNSUPPORTED, /* the variant cannot be made from this model */
  VITLENS_FRAME_WORKER_ERROR_ENGINE,      /* the engine refused (message from vit_error) */
} VitlensFrameWorkerError;

GQuark vitlens_frame_worker_error_quark (void);

/* One classified frame. Reference counted, immutable, any thread. */
typedef struct
{
  VitlensFrame *frame;               /* the frame classified (a ref) */
  guint64       number;              /* vitlens_frame_get_number() */
  gint64        pts;                 /* ns, -1 unknown */
  int           k;
  int           index[VIT_TOPK_MAX];
  float         prob[VIT_TOPK_MAX];
  char         *label[VIT_TOPK_MAX]; /* NULL when the model has no label for the class */
  double        preprocess_ms;       /* resize + crop + normalize (engine) */
  double        forward_ms;          /* the transformer (engine) */
  double        latency_ms;          /* capture → result ready on the worker */
  double        inference_fps;       /* results per second over the last 16 results */
  guint64       dropped;             /* frames dropped by the worker so far */
  vit_variant   variant;
  int           threads;
  const char   *kernel;              /* static string from the engine */
  guint         model_serial;        /* grows with each model set or loaded */
} VitlensFrameResult;

#define VITLENS_TYPE_FRAME_RESULT (vitlens_frame_result_get_type ())
GType               vitlens_frame_result_get_type   (void) G_GNUC_CONST;
VitlensFrameResult *vitlens_frame_result_ref        (VitlensFrameResult *result);
void                vitlens_frame_result_unref      (VitlensFrameResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VitlensFrameResult, vitlens_frame_result_unref)

/* Counters since the worker was made or last reset. */
typedef struct
{
  guint64 pushed;            /* frames given to push() */
  guint64 inferred;          /* frames classified */
  guint64 dropped;           /* frames replaced in the slot before the worker took them */
  guint64 failed;            /* frames not classified because of an error */
  double  inference_fps;     /* inferred frames per second, first frame pushed to last result */
  double  latency_ms_median; /* over the last 1024 results */
  double  forward_ms_median; /* over the last 1024 results */
} VitlensFrameWorkerStats;

#define VITLENS_TYPE_FRAME_WORKER (vitlens_frame_worker_get_type ())

G_DECLARE_FINAL_TYPE (VitlensFrameWorker, vitlens_frame_worker, VITLENS, FRAME_WORKER, GObject)

VitlensFrameWorker *vitlens_frame_worker_new        (void);

/* Use @model from the next frame on; the worker owns it and frees it with @free_model (on the
 * worker thread, after its sessions) when it is replaced or the worker goes. */
void                vitlens_frame_worker_set_model  (VitlensFrameWorker *self,
                                                     vit_model          *model,
                                                     GDestroyNotify      free_model);
/* Load a model file (NULL: the embedded model) on the worker thread, between two frames; a
 * failure is reported by the "error" signal and the previous model stays. */
void                vitlens_frame_worker_load_model (VitlensFrameWorker *self,
                                                     const char         *path);
void                vitlens_frame_worker_set_variant (VitlensFrameWorker *self,
                                                      vit_variant         variant);
/* Threads of the engine session; 0 (default) = every core. */
void                vitlens_frame_worker_set_threads (VitlensFrameWorker *self,
                                                      int                 threads);
/* Classes per result, 1 to VIT_TOPK_MAX (default 5). */
void                vitlens_frame_worker_set_top_k   (VitlensFrameWorker *self,
                                                      int                 top_k);

/* Deliver every result in order instead of only the newest (a CLI printing one line per frame;
 * a window wants the default, FALSE). */
void                vitlens_frame_worker_set_keep_all_results (VitlensFrameWorker *self,
                                                               gboolean            keep_all);
/* Any thread: put @frame in the slot (a reference is taken), replacing a frame still there. */
void                vitlens_frame_worker_push        (VitlensFrameWorker *self,
                                                      VitlensFrame       *frame);
/* The same as a VitlensFrameFunc, with the worker as user data. */
void                vitlens_frame_worker_push_func   (VitlensFrame       *frame,
                                                      gpointer            worker);
/* Forget a frame still waiting (e.g. when the stream stops). */
void                vitlens_frame_worker_clear       (VitlensFrameWorker *self);
/* Block until the slot is empty and the worker is not classifying; results already posted
 * are then waiting on the main context. */
void                vitlens_frame_worker_drain       (VitlensFrameWorker *self);

void                vitlens_frame_worker_get_stats   (VitlensFrameWorker      *self,
                                                      VitlensFrameWorkerStats *stats);
void                vitlens_frame_worker_reset_stats (VitlensFrameWorker      *self);

G_END_DECLS
