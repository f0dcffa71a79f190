/* vitlens-stream-overlay.h — what the model sees in a live stream, drawn over the video
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-prediction-rows.h"
#include "vitlens-result.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_STREAM_OVERLAY (vitlens_stream_overlay_get_type ())

G_DECLARE_FINAL_TYPE (VitlensStreamOverlay, vitlens_stream_overlay, VITLENS, STREAM_OVERLAY, GtkBox)

GtkWidget  *vitlens_stream_overlay_new             (void);
/* The latest result of the stream; NULL: none yet. */
void        vitlens_stream_overlay_set_result      (VitlensStreamOverlay     *self,
                                                    const VitlensResult      *result);
/* Frames shown per second; < 0: not known. */
void        vitlens_stream_overlay_set_display_fps (VitlensStreamOverlay     *self,
                                                    double                    fps);
/* What is said while there is no result (waiting for one, no model...). */
void        vitlens_stream_overlay_set_placeholder (VitlensStreamOverlay     *self,
                                                    const char               *text);
/* The variant asked for, shown until its first result comes. */
void        vitlens_stream_overlay_set_variant     (VitlensStreamOverlay     *self,
                                                    vit_variant               variant);

/* What is on screen, for tests and the snapshot. */
const VitlensPredictionRows *
            vitlens_stream_overlay_get_rows        (VitlensStreamOverlay     *self);
/* "forward", "inference-fps", "display-fps", "latency", "variant". */
const char *vitlens_stream_overlay_get_value       (VitlensStreamOverlay     *self,
                                                    const char               *key);
const char *vitlens_stream_overlay_get_value_title (VitlensStreamOverlay     *self,
                                                    const char               *key);

G_END_DECLS
