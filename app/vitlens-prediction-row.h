/* vitlens-prediction-row.h — one ranked class: its name and probability over a bar
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define VITLENS_TYPE_PREDICTION_ROW (vitlens_prediction_row_get_type ())

G_DECLARE_FINAL_TYPE (VitlensPredictionRow, vitlens_prediction_row, VITLENS, PREDICTION_ROW, GtkBox)

/* The row for rank @rank (0 = best, drawn as the top prediction), with @css_class added for its
 * container's style ("prediction-row", "overlay-row", "compare-row"). */
GtkWidget  *vitlens_prediction_row_new              (guint                 rank,
                                                     const char           *css_class);
/* Compare mode: a "≠" column in front of the name, shown on rows set as differing. */
void        vitlens_prediction_row_set_marker_shown (VitlensPredictionRow *self,
                                                     gboolean              shown);
/* Ellipsize the name past @n_chars (-1: as wide as the row allows). */
void        vitlens_prediction_row_set_max_name_chars (VitlensPredictionRow *self,
                                                       int                   n_chars);
/* Class @index named @label (NULL: "Class N") with probability @prob; @differs: not the
 * reference's class at this rank (Compare mode). */
void        vitlens_prediction_row_update           (VitlensPredictionRow *self,
                                                     int                   index,
                                                     const char           *label,
                                                     double                prob,
                                                     gboolean              differs);
const char *vitlens_prediction_row_get_name         (VitlensPredictionRow *self);
const char *vitlens_prediction_row_get_percent      (VitlensPredictionRow *self);

G_END_DECLS
