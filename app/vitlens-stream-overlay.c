/* vitlens-stream-overlay.c — what the model sees in a live stream, drawn over the video
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * A translucent card in a corner of the video: the top classes of the latest frame with bars,
 * then the variant, the last forward pass, the inference rate, the display rate and the
 * latency from capture to result. Rows are made once and updated in place, so thirty results a
 * second cost a few label updates.
 */
#define G_LOG_DOMAIN "vitlens-stream-overlay"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-key-values.h"
#include "vitlens-prediction-rows.h"
#include "vitlens-stream-overlay.h"

typedef enum
{
  VALUE_VARIANT,
  VALUE_FORWARD,
  VALUE_INFERENCE_FPS,
  VALUE_DISPLAY_FPS,
  VALUE_LATENCY,
  N_VALUES
} Value;

static const VitlensKeyTitle value_titles[N_VALUES] = {
  [VALUE_VARIANT] = { "variant", N_("Variant"), NULL },
  [VALUE_FORWARD] = { "forward", N_("Forward pass"), NULL },
  [VALUE_INFERENCE_FPS] = { "inference-fps", N_("Inference"), NULL },
  [VALUE_DISPLAY_FPS] = { "display-fps", N_("Display"), NULL },
  [VALUE_LATENCY] = { "latency", N_("Latency"), NULL },
};

struct _VitlensStreamOverlay
{
  GtkBox     parent_instance;

  /* template widgets */
  GtkBox    *rows_box;
  GtkLabel  *waiting_label;
  GtkGrid   *values_grid;

  VitlensPredictionRows rows;
  GtkWidget *keys[N_VALUES];
  GtkWidget *values[N_VALUES];
};

G_DEFINE_FINAL_TYPE (VitlensStreamOverlay, vitlens_stream_overlay, GTK_TYPE_BOX)

static const char *dash = "—";

static void
set_value_take (VitlensStreamOverlay *self,
                Value                 value,
                char                 *text)
{
  gtk_label_set_label (GTK_LABEL (self->values[value]), text ? text : dash);
  g_free (text);
}

static void
vitlens_stream_overlay_class_init (VitlensStreamOverlayClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               APP_RESOURCE_PATH "/ui/vitlens-stream-overlay.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamOverlay, rows_box);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamOverlay, waiting_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamOverlay, values_grid);
  gtk_widget_class_set_css_name (widget_class, "streamoverlay");
}

static void
vitlens_stream_overlay_init (VitlensStreamOverlay *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  vitlens_prediction_rows_init (&self->rows, self->rows_box, "overlay-row");
  self->rows.max_name_chars = 22;

  for (int v = 0; v < N_VALUES; v++)
    self->values[v] = vitlens_key_value_add (self->values_grid, v, &value_titles[v],
                                             VITLENS_KEY_VALUE_NUMERIC, &self->keys[v]);
}

GtkWidget *
vitlens_stream_overlay_new (void)
{
  return g_object_new (VITLENS_TYPE_STREAM_OVERLAY, NULL);
}

void
vitlens_stream_overlay_set_result (VitlensStreamOverlay *self,
                                   const VitlensResult  *result)
{
  g_return_if_fail (VITLENS_IS_STREAM_OVERLAY (self));

  if (result == NULL)
    {
      vitlens_prediction_rows_show (&self->rows, NULL, 0, NULL);
      gtk_widget_set_visible (GTK_WIDGET (self->waiting_label), TRUE);
      set_value_take (self, VALUE_FORWARD, NULL);
      set_value_take (self, VALUE_INFERENCE_FPS, NULL);
      set_value_take (self, VALUE_LATENCY, NULL);
      return;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->waiting_label), FALSE);
  vitlens_prediction_rows_show (&self->rows, result, result->k, NULL);

  set_value_take (self, VALUE_VARIANT, g_strdup (vitlens_variant_label (vit_variant_name (result->variant))));
  set_value_take (self, VALUE_FORWARD, vitlens_format_ms (result->forward_ms));
  set_value_take (self, VALUE_INFERENCE_FPS, vitlens_format_fps (result->inference_fps));
  set_value_take (self, VALUE_LATENCY, vitlens_format_ms (result->latency_ms));
}

void
vitlens_stream_overlay_set_display_fps (VitlensStreamOverlay *self,
                                        double                fps)
{
  g_return_if_fail (VITLENS_IS_STREAM_OVERLAY (self));

  set_value_take (self, VALUE_DISPLAY_FPS, vitlens_format_fps (fps));
}

void
vitlens_stream_overlay_set_placeholder (VitlensStreamOverlay *self,
                                        const char           *text)
{
  g_return_if_fail (VITLENS_IS_STREAM_OVERLAY (self));

  gtk_label_set_label (self->waiting_label, text);
}

void
vitlens_stream_overlay_set_variant (VitlensStreamOverlay *self,
                                    vit_variant           variant)
{
  g_return_if_fail (VITLENS_IS_STREAM_OVERLAY (self));

  set_value_take (self, VALUE_VARIANT, g_strdup (vitlens_variant_label (vit_variant_name (variant))));
}

const VitlensPredictionRows *
vitlens_stream_overlay_get_rows (VitlensStreamOverlay *self)
{
  g_return_val_if_fail (VITLENS_IS_STREAM_OVERLAY (self), NULL);

  return &self->rows;
}

const char *
vitlens_stream_overlay_get_value (VitlensStreamOverlay *self,
                                  const char           *key)
{
  int v = vitlens_key_title_find (value_titles, N_VALUES, key);

  g_return_val_if_fail (VITLENS_IS_STREAM_OVERLAY (self), NULL);
  g_return_val_if_fail (v >= 0, NULL);
  return gtk_label_get_label (GTK_LABEL (self->values[v]));
}

const char *
vitlens_stream_overlay_get_value_title (VitlensStreamOverlay *self,
                                        const char           *key)
{
  int v = vitlens_key_title_find (value_titles, N_VALUES, key);

  g_return_val_if_fail (VITLENS_IS_STREAM_OVERLAY (self), NULL);
  g_return_val_if_fail (v >= 0, NULL);
  return gtk_label_get_label (GTK_LABEL (self->keys[v]));
}
