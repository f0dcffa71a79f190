/* vitlens-prediction-row.c — one ranked class: its name and probability over a bar
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * The row the results panel, the stream overlay and each Compare column show for every class of
 * a top-k: made once per rank and updated in place, so a new result costs a few label updates.
 * Screen readers get one sentence per row ("1. timber wolf, 71.3%").
 */
#define G_LOG_DOMAIN "vitlens-prediction-row"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-prediction-row.h"

struct _VitlensPredictionRow
{
  GtkBox          parent_instance;

  /* template widgets */
  GtkLabel       *marker;
  GtkLabel       *name_label;
  GtkLabel       *percent_label;
  GtkProgressBar *bar;

  guint           rank;
};

G_DEFINE_FINAL_TYPE (VitlensPredictionRow, vitlens_prediction_row, GTK_TYPE_BOX)

static void
vitlens_prediction_row_class_init (VitlensPredictionRowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               APP_RESOURCE_PATH "/ui/vitlens-prediction-row.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensPredictionRow, marker);
  gtk_widget_class_bind_template_child (widget_class, VitlensPredictionRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensPredictionRow, percent_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensPredictionRow, bar);
}

static void
vitlens_prediction_row_init (VitlensPredictionRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
vitlens_prediction_row_new (guint       rank,
                            const char *css_class)
{
  VitlensPredictionRow *self = g_object_new (VITLENS_TYPE_PREDICTION_ROW, NULL);

  self->rank = rank;
  if (rank == 0)
    gtk_widget_add_css_class (GTK_WIDGET (self), "top-prediction");
  if (css_class != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self), css_class);
  return GTK_WIDGET (self);
}

void
vitlens_prediction_row_set_marker_shown (VitlensPredictionRow *self,
                                         gboolean              shown)
{
  g_return_if_fail (VITLENS_IS_PREDICTION_ROW (self));

  gtk_widget_set_visible (GTK_WIDGET (self->marker), shown);
}

void
vitlens_prediction_row_set_max_name_chars (VitlensPredictionRow *self,
                                           int                   n_chars)
{
  g_return_if_fail (VITLENS_IS_PREDICTION_ROW (self));

  gtk_label_set_max_width_chars (self->name_label, n_chars);
}

void
vitlens_prediction_row_update (VitlensPredictionRow *self,
                               int                   index,
                               const char           *label,
                               double                prob,
                               gboolean              differs)
{
  g_autofree char *fallback = NULL;
  g_autofree char *percent = NULL;
  g_autofree char *description = NULL;
  const char *name = label;

  g_return_if_fail (VITLENS_IS_PREDICTION_ROW (self));

  if (name == NULL)
    /* Translators: shown for a class when the model has no names for its classes */
    name = fallback = g_strdup_printf (_("Class %d"), index);
  percent = g_strdup_printf ("%.1f%%", 100.0 * prob);
  gtk_label_set_label (self->name_label, name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_label), name);
  gtk_label_set_label (self->percent_label, percent);
  gtk_progress_bar_set_fraction (self->bar, CLAMP (prob, 0.0, 1.0));

  /* the marker keeps its width when hidden, so names line up down a Compare column */
  gtk_widget_set_opacity (GTK_WIDGET (self->marker), differs ? 1.0 : 0.0);
  if (differs)
    gtk_widget_add_css_class (GTK_WIDGET (self), "differs");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "differs");

  if (differs)
    /* Translators: read by screen readers for a compare row that differs from fp32: rank, class, probability */
    description = g_strdup_printf (_("%d. %s, %s, not fp32's class at this rank"), self->rank + 1, name, percent);
  else
    /* Translators: read by screen readers for a result row: rank, class name, probability */
    description = g_strdup_printf (_("%d. %s, %s"), self->rank + 1, name, percent);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description,
                                  -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->bar),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description,
                                  -1);
}

const char *
vitlens_prediction_row_get_name (VitlensPredictionRow *self)
{
  g_return_val_if_fail (VITLENS_IS_PREDICTION_ROW (self), NULL);

  return gtk_label_get_label (self->name_label);
}

const char *
vitlens_prediction_row_get_percent (VitlensPredictionRow *self)
{
  g_return_val_if_fail (VITLENS_IS_PREDICTION_ROW (self), NULL);

  return gtk_label_get_label (self->percent_label);
}
