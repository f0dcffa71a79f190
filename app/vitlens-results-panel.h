/* vitlens-results-panel.h — top-K predictions, timings and model facts
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-classifier.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_RESULTS_PANEL (vitlens_results_panel_get_type ())

G_DECLARE_FINAL_TYPE (VitlensResultsPanel, vitlens_results_panel, VITLENS, RESULTS_PANEL, GtkBox)

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
/* NULL: back to the placeholder. The rows are kept and updated in place. */
void        vitlens_results_panel_set_prediction (VitlensResultsPanel     *self,
                                                  const VitlensPrediction *prediction);

/* What is on screen, for tests and accessibility checks. */
guint       vitlens_results_panel_get_n_rows     (VitlensResultsPanel     *self);
const char *vitlens_results_panel_get_row_label  (VitlensResultsPanel     *self,
                                                  guint                    row);
const char *vitlens_results_panel_get_row_percent (VitlensResultsPanel    *self,
                                                  guint                    row);
const char *vitlens_results_panel_get_fact       (VitlensResultsPanel     *self,
                                                  const char              *key);

G_END_DECLS
