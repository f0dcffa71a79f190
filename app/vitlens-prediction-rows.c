/* vitlens-prediction-rows.c — the ranked rows of one result, made as needed and reused
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens"

#include "vitlens-prediction-rows.h"

#include "vitlens-prediction-row.h"

void
vitlens_prediction_rows_init (VitlensPredictionRows *rows,
                              GtkBox                *box,
                              const char            *css_class)
{
  memset (rows, 0, sizeof *rows);
  rows->box = box;
  rows->css_class = css_class;
  rows->max_name_chars = -1;
}

void
vitlens_prediction_rows_show (VitlensPredictionRows *rows,
                              const VitlensResult   *result,
                              int                    k,
                              const gboolean        *differs)
{
  guint n = result != NULL && k > 0 ? (guint)MIN (k, VIT_TOPK_MAX) : 0;

  /* Same widgets, new numbers: a new result changes the values in place. */
  for (; rows->n_made < n; rows->n_made++)
    {
      GtkWidget *row = vitlens_prediction_row_new (rows->n_made, rows->css_class);

      vitlens_prediction_row_set_marker_shown (VITLENS_PREDICTION_ROW (row), rows->marker_shown);
      if (rows->max_name_chars >= 0)
        vitlens_prediction_row_set_max_name_chars (VITLENS_PREDICTION_ROW (row), rows->max_name_chars);
      gtk_box_append (rows->box, row);
      rows->rows[rows->n_made] = row;
    }
  for (guint i = 0; i < rows->n_made; i++)
    {
      if (i < n)
        vitlens_prediction_row_update (VITLENS_PREDICTION_ROW (rows->rows[i]), result->index[i],
                                       result->label[i], result->prob[i],
                                       differs != NULL && differs[i]);
      gtk_widget_set_visible (rows->rows[i], i < n);
    }
  rows->n_visible = n;
}

guint
vitlens_prediction_rows_get_n (const VitlensPredictionRows *rows)
{
  return rows->n_visible;
}

const char *
vitlens_prediction_rows_get_label (const VitlensPredictionRows *rows,
                                   guint                        row)
{
  g_return_val_if_fail (row < rows->n_visible, NULL);
  return vitlens_prediction_row_get_name (VITLENS_PREDICTION_ROW (rows->rows[row]));
}

const char *
vitlens_prediction_rows_get_percent (const VitlensPredictionRows *rows,
                                     guint                        row)
{
  g_return_val_if_fail (row < rows->n_visible, NULL);
  return vitlens_prediction_row_get_percent (VITLENS_PREDICTION_ROW (rows->rows[row]));
}
