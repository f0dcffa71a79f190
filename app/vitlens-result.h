/* vitlens-result.h — what VitlensInference answers: one classification, and a comparison
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * One result type for the image page, the stream's overlay and panel, Compare and
 * `vitlens-cli stream`: the top-k, the labels, the timings and what ran, with the input it was
 * made from. No GTK.
 */
#pragma once

#include <glib-object.h>

#include "vit.h"
#include "vitlens-frame.h"

G_BEGIN_DECLS

/* One classification: of an image, of a video frame, or one variant of a comparison.
 * Reference counted, immutable, any thread. */

typedef struct
{
  VitlensFrame *frame;                /* the input (a ref): a video frame, or an image's pixels */
  guint64       number;               /* vitlens_frame_get_number() */
  gint64        pts;                  /* ns, -1 unknown */
  int           k;
  int           index[VIT_TOPK_MAX];
  float         prob[VIT_TOPK_MAX];
  char         *label[VIT_TOPK_MAX];  /* NULL when the model has no label for the class */
  double        preprocess_ms;        /* resize + crop + normalize (engine) */
  double        forward_ms;           /* the transformer (engine) */
  double        latency_ms;           /* frames: capture → result ready on the worker; else 0 */
  double        inference_fps;        /* frames: results per second over the last 16; else 0 */
  guint64       dropped;              /* frames: dropped so far; else 0 */
  double        median_forward_ms;    /* classify: over the last 64 runs of this variant and model */
  gboolean      first_run;            /* classify: the session's first run, which sets up its
                                       * buffers: slower, and left out of the median */
  int           median_runs;
  vit_variant   variant;
  int           threads;
  char         *kernel;               /* vit_session_kernel() */
  guint         model_serial;         /* VitlensModelFacts.serial of the model that ran */
  /* The attention rollout (vit_session_rollout) when the inference was asked for it
   * (vitlens_inference_set_rollout): rollout_h × rollout_w floats, row-major, the largest 1,
   * over the model's input square (rollout_size a side), which lies in the frame's image as
   * rollout_geometry says (vitlens-heatmap.h maps it back); NULL and 0 × 0 without. */
  float                  *rollout;
  int                     rollout_h, rollout_w;
  int                     rollout_size;
  vit_preprocess_geometry rollout_geometry;
} VitlensResult;

#define VITLENS_TYPE_RESULT (vitlens_result_get_type ())
GType          vitlens_result_get_type (void) G_GNUC_CONST;
/* A zeroed result, for its producer (VitlensInference's worker) to fill before it hands it on;
 * from then on nobody changes it. */
VitlensResult *vitlens_result_new      (void);
VitlensResult *vitlens_result_ref      (VitlensResult *result);
void           vitlens_result_unref    (VitlensResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VitlensResult, vitlens_result_unref)

/* A variant's name as the UI shows it: @name is the engine's ("fp32", "int8", "optimized",
 * "lite"), which machine output keeps; "optimized" and "lite" are translated. */
const char    *vitlens_variant_label   (const char *name);

/* Compare mode: every variant the model has, on the same input. */

#define VITLENS_COMPARE_MAX_COLUMNS 4  /* fp32, int8, optimized, lite */
#define VITLENS_COMPARE_MAX_RUNS    16 /* passes over every variant in one request */

typedef struct
{
  const char    *name;                              /* "fp32", "int8", "optimized" or "lite" */
  gboolean       lite;                              /* the optimized variant on the .vitl file (mmap'ed) */
  VitlensResult *result;                            /* what it says; forward_ms is its last run */
  int            n_runs;
  double         forward_ms[VITLENS_COMPARE_MAX_RUNS]; /* this request's runs, in the order run */
  gint64         done_time;                         /* g_get_monotonic_time() of its first result */
  gint64         file_bytes;                        /* the file it runs from: the model, .vitq, .vitl; -1 unknown */
  gboolean       profiled;                          /* op_ms holds where the time went */
  double         op_ms[VIT_OP_COUNT];               /* per vit_op class, the median of this request's runs */
} VitlensCompareColumn;

/* The reference (speed-up, size and agreement are measured against it) is fp32 when the model
 * has it, else the first column. */
typedef struct
{
  int                  n_columns;
  VitlensCompareColumn columns[VITLENS_COMPARE_MAX_COLUMNS];
  int                  reference;
  double               preprocess_ms;
  guint                model_serial;
} VitlensComparison;

void vitlens_comparison_free (VitlensComparison *comparison);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VitlensComparison, vitlens_comparison_free)

G_END_DECLS
