/* vitlens-results-panel.h — top-K predictions, timings and model facts
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-inference.h"
#include "vitlens-prediction-rows.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_RESULTS_PANEL (vitlens_results_panel_get_type ())

G_DECLARE_FINAL_TYPE (VitlensResultsPanel, vitlens_results_panel, VITLENS, RESULTS_PANEL, GtkBox)

/* Stream mode takes its median forward pass over this many results, the latest ones. */
#define VITLENS_RESULTS_PANEL_STREAM_WINDOW 64

GtkWidget  *vitlens_results_panel_new            (void);
/* NULL: no model. */
void        vitlens_results_panel_set_model      (VitlensResultsPanel     *self,
                                                  const VitlensModelFacts *facts);
/* The variant selected, shown before its first result comes. */
void        vitlens_results_panel_set_variant    (VitlensResultsPanel     *self,
                                                  vit_variant              variant);
/* What is shown instead of results while there are none. */
void        vitlens_results_panel_set_placeholder (VitlensResultsPanel    *self,
                                                  const char              *text);
/* An image's result, and how long the image took to decode; NULL: back to the placeholder.
 * The rows are kept and updated in place. */
void        vitlens_results_panel_set_prediction (VitlensResultsPanel     *self,
                                                  const VitlensResult     *prediction,
                                                  double                   decode_ms);

/* Stream mode (a camera, the test pattern, a video): the predictions are drawn over the video,
 * so the panel shows its placeholder; the Timing card has no decode row but the inference and
 * display rates and the latency, and is fed by vitlens_results_panel_add_stream_result(). Either
 * way the numbers start again from "—". */
void        vitlens_results_panel_set_stream     (VitlensResultsPanel     *self,
                                                  gboolean                 stream);
/* A frame's result (VitlensInference::frame-result): the last preprocess and forward times, the median forward pass over
 * the last VITLENS_RESULTS_PANEL_STREAM_WINDOW results (it starts again when the model, variant
 * or threads change), the inference rate, the latency, and the session's variant, threads and
 * kernel. NULL: no result yet (the stream restarted). */
void        vitlens_results_panel_add_stream_result (VitlensResultsPanel      *self,
                                                  const VitlensResult      *result);
/* Frames shown per second; < 0: not known. */
void        vitlens_results_panel_set_display_fps (VitlensResultsPanel    *self,
                                                  double                   fps);

/* What is on screen, for tests and accessibility checks. */
const VitlensPredictionRows *
            vitlens_results_panel_get_rows       (VitlensResultsPanel     *self);
/* "decode", "preprocess", "forward", "median", "inference-fps", "display-fps", "latency" (the
 * Timing card), or a fact of the Model card: "name", "architecture", "parameters", "file-size",
 * "input", "classes", "variant", "threads", "kernel". */
const char *vitlens_results_panel_get_fact       (VitlensResultsPanel     *self,
                                                  const char              *key);
gboolean    vitlens_results_panel_get_stream     (VitlensResultsPanel     *self);
/* The built-in model's hint (what it can recognize) when it is shown, else NULL. */
const char *vitlens_results_panel_get_hint       (VitlensResultsPanel     *self);

G_END_DECLS
