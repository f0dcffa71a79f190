/* vitlens-page.c — what the window's pages have in common
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens-page"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-page.h"

typedef struct
{
  VitlensInference   *inference;
  GSimpleActionGroup *actions;
  int                 top_k;
  int                 threads;
  gboolean            loading;
  gboolean            busy;
  vit_variant         variant;
  gboolean            active;
  GtkRevealer        *drop_revealer;  /* vitlens_page_set_drop_target(); not refs: template children */
  GtkWidget          *drop_area;
  gboolean            show_attention;
} VitlensPagePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (VitlensPage, vitlens_page, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_INFERENCE,
  PROP_TOP_K,
  PROP_THREADS,
  PROP_LOADING,
  PROP_BUSY,
  PROP_VARIANT,
  PROP_ACTIVE,
  PROP_DROP_ACTIVE,
  PROP_SHOW_ATTENTION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  ERROR,
  CLEAR_ERROR,
  NOTICE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
model_changed (VitlensPage *self)
{
  VITLENS_PAGE_GET_CLASS (self)->model_changed (self);
}

static void
show_drop (GtkRevealer *revealer,
           GtkWidget   *area,
           gboolean     active)
{
  gtk_revealer_set_reveal_child (revealer, active);
  if (active)
    gtk_widget_add_css_class (area, "drop-active");
  else
    gtk_widget_remove_css_class (area, "drop-active");
}

static void
set_inference (VitlensPage      *self,
               VitlensInference *inference)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  if (priv->inference != NULL)
    g_signal_handlers_disconnect_by_data (priv->inference, self);
  g_set_object (&priv->inference, inference);
  if (inference != NULL)
    g_signal_connect_object (inference, "notify::model", G_CALLBACK (model_changed), self, G_CONNECT_SWAPPED);
}

static void
vitlens_page_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  VitlensPage *self = VITLENS_PAGE (object);
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_INFERENCE:
      if (priv->inference == g_value_get_object (value))
        return;
      set_inference (self, g_value_get_object (value));
      g_object_notify_by_pspec (object, pspec);
      model_changed (self);
      return;

    case PROP_TOP_K:
      priv->top_k = g_value_get_int (value);
      break;

    case PROP_THREADS:
      priv->threads = g_value_get_int (value);
      break;

    case PROP_LOADING:
      priv->loading = g_value_get_boolean (value);
      break;

    case PROP_VARIANT:
      if (priv->variant == (vit_variant)g_value_get_int (value))
        return;
      priv->variant = g_value_get_int (value);
      break;

    case PROP_ACTIVE:
      if (priv->active == g_value_get_boolean (value))
        return;
      priv->active = g_value_get_boolean (value);
      break;

    case PROP_DROP_ACTIVE:
      if (priv->drop_revealer != NULL)
        show_drop (priv->drop_revealer, priv->drop_area, g_value_get_boolean (value));
      g_object_notify_by_pspec (object, pspec);
      return;

    case PROP_SHOW_ATTENTION:
      /* the sessions compute the attention only while some page shows it */
      priv->show_attention = g_value_get_boolean (value);
      if (priv->inference != NULL)
        vitlens_inference_set_rollout (priv->inference, priv->show_attention);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  g_object_notify_by_pspec (object, pspec);
  VITLENS_PAGE_GET_CLASS (self)->options_changed (self, pspec);
}

static void
vitlens_page_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (VITLENS_PAGE (object));

  switch (prop_id)
    {
    case PROP_INFERENCE: g_value_set_object (value, priv->inference); break;
    case PROP_TOP_K: g_value_set_int (value, priv->top_k); break;
    case PROP_THREADS: g_value_set_int (value, priv->threads); break;
    case PROP_LOADING: g_value_set_boolean (value, priv->loading); break;
    case PROP_BUSY: g_value_set_boolean (value, priv->busy); break;
    case PROP_VARIANT: g_value_set_int (value, priv->variant); break;
    case PROP_ACTIVE: g_value_set_boolean (value, priv->active); break;
    case PROP_DROP_ACTIVE:
      g_value_set_boolean (value, priv->drop_revealer != NULL && gtk_revealer_get_reveal_child (priv->drop_revealer));
      break;
    case PROP_SHOW_ATTENTION: g_value_set_boolean (value, priv->show_attention); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_page_dispose (GObject *object)
{
  VitlensPage *self = VITLENS_PAGE (object);
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  set_inference (self, NULL);
  g_clear_object (&priv->actions);

  G_OBJECT_CLASS (vitlens_page_parent_class)->dispose (object);
}

static void
vitlens_page_class_init (VitlensPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->set_property = vitlens_page_set_property;
  object_class->get_property = vitlens_page_get_property;
  object_class->dispose = vitlens_page_dispose;

  properties[PROP_INFERENCE] = g_param_spec_object ("inference", NULL, NULL, VITLENS_TYPE_INFERENCE, rw);
  properties[PROP_TOP_K] = g_param_spec_int ("top-k", NULL, NULL, 1, 10, 5, rw);
  properties[PROP_THREADS] = g_param_spec_int ("threads", NULL, NULL, 0, 256, 0, rw);
  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE, rw);
  properties[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                                                G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VARIANT] = g_param_spec_int ("variant", NULL, NULL, 0, VIT_VARIANT_COUNT - 1, VIT_VARIANT_FP32, rw);
  properties[PROP_ACTIVE] = g_param_spec_boolean ("active", NULL, NULL, FALSE, rw);
  properties[PROP_DROP_ACTIVE] = g_param_spec_boolean ("drop-active", NULL, NULL, FALSE, rw);
  properties[PROP_SHOW_ATTENTION] = g_param_spec_boolean ("show-attention", NULL, NULL, FALSE, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                 NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);
  signals[CLEAR_ERROR] = g_signal_new ("clear-error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  signals[NOTICE] = g_signal_new ("notice", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
vitlens_page_init (VitlensPage *self)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  priv->top_k = 5;
  priv->variant = VIT_VARIANT_FP32;
  priv->actions = g_simple_action_group_new ();
}

/* ---------------------------------------------------------------------------------------------
 * For the window */

void
vitlens_action_map_add_group (GActionMap   *map,
                              GActionGroup *group)
{
  g_auto(GStrv) names = NULL;

  g_return_if_fail (G_IS_ACTION_MAP (map));
  g_return_if_fail (G_IS_ACTION_MAP (group));

  /* The same GAction objects: their state and enabled flag stay the group's owner's to set. */
  names = g_action_group_list_actions (group);
  for (guint i = 0; names[i] != NULL; i++)
    g_action_map_add_action (map, g_action_map_lookup_action (G_ACTION_MAP (group), names[i]));
}

void
vitlens_page_add_actions (VitlensPage *self,
                          GActionMap  *map)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  g_return_if_fail (VITLENS_IS_PAGE (self));

  vitlens_action_map_add_group (map, G_ACTION_GROUP (priv->actions));
}

/* ---------------------------------------------------------------------------------------------
 * For the pages */

VitlensInference *
vitlens_page_get_inference (VitlensPage *self)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  return priv->inference;
}

const VitlensModelFacts *
vitlens_page_get_model (VitlensPage *self)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  return priv->inference ? vitlens_inference_get_model (priv->inference) : NULL;
}

int
vitlens_page_get_top_k (VitlensPage *self)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  return priv->top_k;
}

int
vitlens_page_get_threads (VitlensPage *self)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  return priv->threads;
}

gboolean
vitlens_page_get_show_attention (VitlensPage *self)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  return priv->show_attention;
}

/* A stateful action named @key that toggles (or sets) the key, added to @map. */
void
vitlens_action_map_add_setting (GActionMap *map,
                                GSettings  *settings,
                                const char *key)
{
  g_autoptr(GAction) action = g_settings_create_action (settings, key);

  g_action_map_add_action (map, action);
}

/* The preferences a page follows: another number of threads or of results, or the attention
 * shown or not, and it runs again in place. */
void
vitlens_page_bind_settings (VitlensPage *self,
                            GSettings   *settings)
{
  static const char *const keys[] = { "top-k", "threads", "show-attention" };

  g_return_if_fail (VITLENS_IS_PAGE (self));

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_settings_bind (settings, keys[i], self, keys[i], G_SETTINGS_BIND_GET);
}

gboolean
vitlens_page_get_loading (VitlensPage *self)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  return priv->loading;
}

void
vitlens_page_set_busy (VitlensPage *self,
                       gboolean     busy)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  if (priv->busy == !!busy)
    return;
  priv->busy = !!busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

GActionMap *
vitlens_page_get_action_map (VitlensPage *self)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  return G_ACTION_MAP (priv->actions);
}

vit_variant
vitlens_page_get_variant (VitlensPage *self)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  return priv->variant;
}

gboolean
vitlens_page_get_active (VitlensPage *self)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  return priv->active;
}

void
vitlens_page_set_drop_target (VitlensPage *self,
                              GtkRevealer *revealer,
                              GtkWidget   *area)
{
  VitlensPagePrivate *priv = vitlens_page_get_instance_private (self);

  priv->drop_revealer = revealer;
  priv->drop_area = area;
}

void
vitlens_page_error (VitlensPage   *self,
                    VitlensOrigin  origin,
                    const char    *message)
{
  g_signal_emit (self, signals[ERROR], 0, (int)origin, message);
}

void
vitlens_page_clear_error (VitlensPage   *self,
                          VitlensOrigin  origin)
{
  g_signal_emit (self, signals[CLEAR_ERROR], 0, (int)origin);
}

void
vitlens_page_notice (VitlensPage *self,
                     const char  *message,
                     const char  *tooltip)
{
  g_signal_emit (self, signals[NOTICE], 0, message, tooltip);
}

GtkFileChooserNative *
vitlens_page_file_chooser_new (VitlensPage          *self,
                               const char           *title,
                               GtkFileChooserAction  action,
                               const char           *accept_label)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *native;

  native = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        action, accept_label, _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  return native;
}

static void
on_file_chosen (GtkNativeDialog *native,
                int              response,
                VitlensPage     *self)
{
  VitlensPageFileFunc chosen = g_object_get_data (G_OBJECT (native), "vitlens-chosen");
  g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

  if (response == GTK_RESPONSE_ACCEPT && file != NULL)
    chosen (self, file);
  /* A hidden chooser left alive would keep a toplevel around. */
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

void
vitlens_page_run_file_chooser (VitlensPage          *self,
                               GtkFileChooserNative *native,
                               VitlensPageFileFunc   chosen)
{
  g_object_set_data (G_OBJECT (native), "vitlens-chosen", chosen);
  g_signal_connect_object (native, "response", G_CALLBACK (on_file_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}
