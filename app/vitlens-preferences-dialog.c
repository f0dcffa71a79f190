/* vitlens-preferences-dialog.c — threads, default variant, results shown, last model
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Every control is bound to its GSettings key, so changes apply (and persist) at once; open
 * windows listen to the keys and re-run the current image.
 */
#define G_LOG_DOMAIN "vitlens-preferences"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-preferences-dialog.h"

struct _VitlensPreferencesDialog
{
  GtkWindow       parent_instance;

  GtkSpinButton  *threads_spin;
  GtkDropDown    *variant_dropdown;
  GtkSpinButton  *top_k_spin;
  GtkSwitch      *reopen_switch;
  GtkLabel       *last_model_label;

  GSettings      *settings;
};

G_DEFINE_FINAL_TYPE (VitlensPreferencesDialog, vitlens_preferences_dialog, GTK_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* "default-variant" is an enum key (a string nick); the drop-down has an index. */
static gboolean
variant_get_mapping (GValue   *value,
                     GVariant *variant,
                     gpointer  user_data)
{
  const char *nick = g_variant_get_string (variant, NULL);
  guint index = g_str_equal (nick, "int8") ? 1 : g_str_equal (nick, "optimized") ? 2 : 0;

  g_value_set_uint (value, index);
  return TRUE;
}

static GVariant *
variant_set_mapping (const GValue       *value,
                     const GVariantType *expected_type,
                     gpointer            user_data)
{
  static const char *nicks[] = { "fp32", "int8", "optimized" };
  guint index = g_value_get_uint (value);

  return g_variant_new_string (nicks[index < G_N_ELEMENTS (nicks) ? index : 0]);
}

/* Show "Automatic" rather than 0 threads. */
static gboolean
on_threads_output (GtkSpinButton *spin,
                   gpointer       user_data)
{
  int value = gtk_spin_button_get_value_as_int (spin);
  g_autofree char *text = NULL;

  text = value == 0 ? g_strdup (_("Automatic")) : g_strdup_printf ("%d", value);
  if (g_strcmp0 (text, gtk_editable_get_text (GTK_EDITABLE (spin))) != 0)
    gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

static int
on_threads_input (GtkSpinButton *spin,
                  double        *new_value,
                  gpointer       user_data)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (spin));
  char *end = NULL;
  gint64 value;

  if (g_str_equal (text, _("Automatic")))
    {
      *new_value = 0;
      return TRUE;
    }
  value = g_ascii_strtoll (text, &end, 10);
  if (end == text || *end != '\0')
    return GTK_INPUT_ERROR;
  *new_value = (double)value;
  return TRUE;
}

static void
update_last_model (VitlensPreferencesDialog *self)
{
  g_autofree char *path = g_settings_get_string (self->settings, "last-model");
  g_autofree char *text = NULL;

  if (path[0] == '\0')
    text = g_strdup (_("The last model was the built-in one"));
  else
    /* Translators: %s is the path of a model file */
    text = g_strdup_printf (_("Instead of the built-in model: %s"), path);
  gtk_label_set_label (self->last_model_label, text);
}

static void
vitlens_preferences_dialog_constructed (GObject *object)
{
  VitlensPreferencesDialog *self = (VitlensPreferencesDialog *)object;

  G_OBJECT_CLASS (vitlens_preferences_dialog_parent_class)->constructed (object);

  g_settings_bind (self->settings, "threads", self->threads_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "top-k", self->top_k_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "reopen-last-model", self->reopen_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "default-variant", self->variant_dropdown,
                                "selected", G_SETTINGS_BIND_DEFAULT,
                                variant_get_mapping, variant_set_mapping, NULL, NULL);

  g_signal_connect_object (self->settings, "changed::last-model",
                           G_CALLBACK (update_last_model), self, G_CONNECT_SWAPPED);
  update_last_model (self);
}

static void
vitlens_preferences_dialog_dispose (GObject *object)
{
  VitlensPreferencesDialog *self = (VitlensPreferencesDialog *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), VITLENS_TYPE_PREFERENCES_DIALOG);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (vitlens_preferences_dialog_parent_class)->dispose (object);
}

static void
vitlens_preferences_dialog_set_property (GObject      *object,
                                         guint         prop_id,
                                         const GValue *value,
                                         GParamSpec   *pspec)
{
  VitlensPreferencesDialog *self = VITLENS_PREFERENCES_DIALOG (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_preferences_dialog_class_init (VitlensPreferencesDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = vitlens_preferences_dialog_constructed;
  object_class->dispose = vitlens_preferences_dialog_dispose;
  object_class->set_property = vitlens_preferences_dialog_set_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               APP_RESOURCE_PATH "/ui/vitlens-preferences-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensPreferencesDialog, threads_spin);
  gtk_widget_class_bind_template_child (widget_class, VitlensPreferencesDialog, variant_dropdown);
  gtk_widget_class_bind_template_child (widget_class, VitlensPreferencesDialog, top_k_spin);
  gtk_widget_class_bind_template_child (widget_class, VitlensPreferencesDialog, reopen_switch);
  gtk_widget_class_bind_template_child (widget_class, VitlensPreferencesDialog, last_model_label);
}

static void
vitlens_preferences_dialog_init (VitlensPreferencesDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect (self->threads_spin, "output", G_CALLBACK (on_threads_output), NULL);
  g_signal_connect (self->threads_spin, "input", G_CALLBACK (on_threads_input), NULL);
}

GtkWidget *
vitlens_preferences_dialog_new (GSettings *settings,
                                GtkWindow *parent)
{
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (VITLENS_TYPE_PREFERENCES_DIALOG,
                       "settings", settings,
                       "transient-for", parent,
                       NULL);
}
