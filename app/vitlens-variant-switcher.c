/* vitlens-variant-switcher.c — the header bar's variant buttons: fp32 · int8 · optimized · Compare
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens-variant-switcher"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-inference.h"
#include "vitlens-variant-switcher.h"

struct _VitlensVariantSwitcher
{
  GtkBox            parent_instance;

  GtkToggleButton  *variant_fp32_button;
  GtkToggleButton  *variant_int8_button;
  GtkToggleButton  *variant_optimized_button;
  GtkToggleButton  *variant_compare_button;
  GtkToggleButton  *buttons[VIT_VARIANT_COUNT];

  VitlensInference *inference;
  vit_variant       variant;
  gboolean          compare;
};

G_DEFINE_FINAL_TYPE (VitlensVariantSwitcher, vitlens_variant_switcher, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_INFERENCE,
  PROP_VARIANT,
  PROP_COMPARE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_active (VitlensVariantSwitcher *self,
            GtkToggleButton        *button,
            gboolean                active)
{
  g_signal_handlers_block_matched (button, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  gtk_toggle_button_set_active (button, active);
  g_signal_handlers_unblock_matched (button, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
}

static void
update (VitlensVariantSwitcher *self)
{
  static const char *accels[VIT_VARIANT_COUNT] = { "Alt+1", "Alt+2", "Alt+3" };
  gboolean has_model = self->inference != NULL && vitlens_inference_get_model (self->inference) != NULL;

  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    {
      GtkToggleButton *button = self->buttons[v];
      const char *name = vitlens_variant_label (vit_variant_name (v));
      gboolean supported = self->inference != NULL && vitlens_inference_supports (self->inference, v);
      g_autofree char *tooltip = NULL;

      if (!has_model)
        /* Translators: tooltip of a variant button (fp32, int8, optimized) without a model */
        tooltip = g_strdup_printf (_("%s: open a model first"), name);
      else if (supported)
        /* Translators: tooltip of a variant button; %s is fp32, int8 or optimized, then a shortcut */
        tooltip = g_strdup_printf (_("Run the %s variant (%s)"), name, accels[v]);
      else
        /* Translators: tooltip of a disabled variant button; %s is fp32, int8 or optimized */
        tooltip = g_strdup_printf (_("The %s variant is not available for this model"), name);

      gtk_button_set_label (GTK_BUTTON (button), name);
      gtk_widget_set_sensitive (GTK_WIDGET (button), supported);
      gtk_widget_set_tooltip_text (GTK_WIDGET (button), tooltip);
      set_active (self, button, !self->compare && v == (int)self->variant);
    }

  /* Compare: every variant the model has, side by side. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->variant_compare_button), has_model);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->variant_compare_button),
                               has_model ? _("Run every variant side by side (Alt+4)")
                                         : _("Compare: open a model first"));
  set_active (self, self->variant_compare_button, self->compare);
}

static void
on_toggled (GtkToggleButton        *button,
            VitlensVariantSwitcher *self)
{
  const char *name = button == self->variant_compare_button ? "compare" : NULL;

  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    if (button == self->buttons[v])
      name = vit_variant_name (v);
  if (gtk_toggle_button_get_active (button))
    gtk_widget_activate_action (GTK_WIDGET (self), "win.variant", "s", name);
}

GtkWidget *
vitlens_variant_switcher_get_button (VitlensVariantSwitcher *self,
                                     vit_variant             variant)
{
  g_return_val_if_fail (VITLENS_IS_VARIANT_SWITCHER (self), NULL);
  g_return_val_if_fail (variant >= 0 && variant < VIT_VARIANT_COUNT, NULL);

  return GTK_WIDGET (self->buttons[variant]);
}

static void
vitlens_variant_switcher_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  VitlensVariantSwitcher *self = VITLENS_VARIANT_SWITCHER (object);

  switch (prop_id)
    {
    case PROP_INFERENCE:
      if (self->inference != NULL)
        g_signal_handlers_disconnect_by_data (self->inference, self);
      g_set_object (&self->inference, g_value_get_object (value));
      if (self->inference != NULL)
        g_signal_connect_object (self->inference, "notify::model", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
      break;

    case PROP_VARIANT:
      self->variant = g_value_get_int (value);
      break;

    case PROP_COMPARE:
      self->compare = g_value_get_boolean (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  update (self);
  g_object_notify_by_pspec (object, pspec);
}

static void
vitlens_variant_switcher_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  VitlensVariantSwitcher *self = VITLENS_VARIANT_SWITCHER (object);

  switch (prop_id)
    {
    case PROP_INFERENCE: g_value_set_object (value, self->inference); break;
    case PROP_VARIANT: g_value_set_int (value, self->variant); break;
    case PROP_COMPARE: g_value_set_boolean (value, self->compare); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_variant_switcher_dispose (GObject *object)
{
  VitlensVariantSwitcher *self = VITLENS_VARIANT_SWITCHER (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), VITLENS_TYPE_VARIANT_SWITCHER);
  g_clear_object (&self->inference);

  G_OBJECT_CLASS (vitlens_variant_switcher_parent_class)->dispose (object);
}

static void
vitlens_variant_switcher_class_init (VitlensVariantSwitcherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->set_property = vitlens_variant_switcher_set_property;
  object_class->get_property = vitlens_variant_switcher_get_property;
  object_class->dispose = vitlens_variant_switcher_dispose;

  properties[PROP_INFERENCE] = g_param_spec_object ("inference", NULL, NULL, VITLENS_TYPE_INFERENCE, flags);
  properties[PROP_VARIANT] = g_param_spec_int ("variant", NULL, NULL, 0, VIT_VARIANT_COUNT - 1, VIT_VARIANT_FP32, flags);
  properties[PROP_COMPARE] = g_param_spec_boolean ("compare", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, APP_RESOURCE_PATH "/ui/vitlens-variant-switcher.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensVariantSwitcher, variant_fp32_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensVariantSwitcher, variant_int8_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensVariantSwitcher, variant_optimized_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensVariantSwitcher, variant_compare_button);
}

static void
vitlens_variant_switcher_init (VitlensVariantSwitcher *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->buttons[VIT_VARIANT_FP32] = self->variant_fp32_button;
  self->buttons[VIT_VARIANT_INT8] = self->variant_int8_button;
  self->buttons[VIT_VARIANT_OPTIMIZED] = self->variant_optimized_button;
  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    g_signal_connect (self->buttons[v], "toggled", G_CALLBACK (on_toggled), self);
  g_signal_connect (self->variant_compare_button, "toggled", G_CALLBACK (on_toggled), self);
  update (self);
}

GtkWidget *
vitlens_variant_switcher_new (void)
{
  return g_object_new (VITLENS_TYPE_VARIANT_SWITCHER, NULL);
}
