/* vitlens-classifier.h — the engine's model and sessions on one worker thread
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "vit.h"
#include "vitlens-image.h"

G_BEGIN_DECLS

/* Facts about the loaded model, for display; owned by the classifier, main thread only. */
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

/* One classification, for display. */
typedef struct
{
  VitlensImage *image;                      /* the image classified (a ref) */
  vit_variant   variant;
  int           k;
  int           index[VIT_TOPK_MAX];
  float         prob[VIT_TOPK_MAX];
  char         *label[VIT_TOPK_MAX];        /* NULL when the model has no label for the class */
  vit_timing    timing;                     /* decode_ms is the image's */
  double        median_forward_ms;          /* over the last runs of this variant and model */
  int           median_runs;
  int           threads;
  char         *kernel;                     /* vit_session_kernel() */
  guint         model_serial;
} VitlensPrediction;

void vitlens_prediction_free (VitlensPrediction *prediction);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VitlensPrediction, vitlens_prediction_free)

/* Compare mode: every variant the model has, on the same input. */
#define VITLENS_COMPARE_MAX_COLUMNS 4  /* fp32, int8, optimized, lite */
#define VITLENS_COMPARE_MAX_RUNS    16 /* passes over every variant in one request */

/* One variant's part of a comparison. */
typedef struct
{
  char        *name;                              /* "fp32", "int8", "optimized" or "lite" */
  vit_variant  variant;
  gboolean     lite;                              /* the optimized variant on the .vitl file (mmap'ed) */
  int          k;
  int          index[VIT_TOPK_MAX];
  float        prob[VIT_TOPK_MAX];
  char        *label[VIT_TOPK_MAX];               /* NULL when the model has no label for the class */
  int          n_runs;
  double       forward_ms[VITLENS_COMPARE_MAX_RUNS]; /* this request's runs, in the order run */
  gint64       done_time;                         /* g_get_monotonic_time() of its first result */
  gint64       file_bytes;                        /* the file it runs from: the model, .vitq, .vitl; -1 unknown */
  int          threads;
  char        *kernel;                            /* vit_session_kernel() */
} VitlensCompareColumn;

/* All variants on one input. The reference (speed-up, size and agreement are measured
 * against it) is fp32 when the model has it, else the first column. */
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

#define VITLENS_TYPE_CLASSIFIER (vitlens_classifier_get_type ())

G_DECLARE_FINAL_TYPE (VitlensClassifier, vitlens_classifier, VITLENS, CLASSIFIER, GObject)

VitlensClassifier       *vitlens_classifier_new               (void);

/* Load a model file (.safetensors, .vitq or .vitl; NULL: the embedded model) on the worker.
 * On failure the previous model stays. A newer load supersedes one still queued (it then
 * finishes with G_IO_ERROR_CANCELLED). */
void                     vitlens_classifier_load_model_async  (VitlensClassifier   *self,
                                                               GFile               *file,
                                                               GCancellable        *cancellable,
                                                               GAsyncReadyCallback  callback,
                                                               gpointer             user_data);
gboolean                 vitlens_classifier_load_model_finish (VitlensClassifier   *self,
                                                               GAsyncResult        *result,
                                                               GError             **error);

/* Classify @image with the current model. Latest wins: a newer request supersedes one still
 * queued (it then finishes with G_IO_ERROR_CANCELLED). @threads 0 = every core. */
void                     vitlens_classifier_classify_async    (VitlensClassifier   *self,
                                                               VitlensImage        *image,
                                                               vit_variant          variant,
                                                               int                  top_k,
                                                               int                  threads,
                                                               GCancellable        *cancellable,
                                                               GAsyncReadyCallback  callback,
                                                               gpointer             user_data);
VitlensPrediction       *vitlens_classifier_classify_finish   (VitlensClassifier   *self,
                                                               GAsyncResult        *result,
                                                               GError             **error);

/* Run every variant the model supports (and the optimized one on its lite .vitl file, written
 * to a temporary file once per model) on @pixels, @runs times each in rotating order, so that
 * machine noise falls on every variant alike. @pixels stays valid until @owner_free (@owner)
 * is called (on the main thread): a VitlensImage's pixels with the image as owner, or a video
 * frame's. Sessions made for it run once untimed first. Latest wins, like classify; a newer
 * model load cancels it. */
void                     vitlens_classifier_compare_async     (VitlensClassifier   *self,
                                                               const vit_image     *pixels,
                                                               gpointer             owner,
                                                               GDestroyNotify       owner_free,
                                                               int                  runs,
                                                               int                  top_k,
                                                               int                  threads,
                                                               GCancellable        *cancellable,
                                                               GAsyncReadyCallback  callback,
                                                               gpointer             user_data);
VitlensComparison       *vitlens_classifier_compare_finish    (VitlensClassifier   *self,
                                                               GAsyncResult        *result,
                                                               GError             **error);

/* NULL until a model has loaded. */
const VitlensModelFacts *vitlens_classifier_get_model         (VitlensClassifier   *self);
gboolean                 vitlens_classifier_supports          (VitlensClassifier   *self,
                                                               vit_variant          variant);

G_END_DECLS
