/* vitlens-prediction-rows.h — the ranked rows of one result (VitlensPredictionRow widgets in a
 * box), made as needed and reused, for the results panel, the stream overlay and each Compare
 * column alike. Not a widget: a helper a widget embeds, over a box of its template.
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-result.h"

G_BEGIN_DECLS

typedef struct
{
  GtkBox     *box;                  /* where the rows go (the template's) */
  const char *css_class;            /* "prediction-row", "overlay-row", "compare-row" */
  int         max_name_chars;       /* -1: as wide as the row allows */
  gboolean    marker_shown;         /* Compare: the "≠" column */
  GtkWidget  *rows[VIT_TOPK_MAX];   /* VitlensPredictionRow, made on first use */
  guint       n_made;
  guint       n_visible;
} VitlensPredictionRows;

void        vitlens_prediction_rows_init        (VitlensPredictionRows *rows,
                                                 GtkBox                *box,
                                                 const char            *css_class);
/* The first @k classes of @result (NULL or k 0: none shown); @differs (may be NULL) marks the
 * rows whose class is not the reference's at that rank. */
void        vitlens_prediction_rows_show        (VitlensPredictionRows *rows,
                                                 const VitlensResult   *result,
                                                 int                    k,
                                                 const gboolean        *differs);
/* What is on screen (tests): how many rows are shown, their names and percentages. */
guint       vitlens_prediction_rows_get_n       (const VitlensPredictionRows *rows);
const char *vitlens_prediction_rows_get_label   (const VitlensPredictionRows *rows,
                                                 guint                        row);
const char *vitlens_prediction_rows_get_percent (const VitlensPredictionRows *rows,
                                                 guint                        row);

G_END_DECLS
