/* vitlens-model-menu.c — the header bar's model menu, and loading the model it shows
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * The button says which model is loaded ("Loading…" meanwhile, "No Model" without one); its
 * menu offers the built-in model, Open Model… and the models opened last. Models load on the
 * VitlensInference's worker; a model that fails leaves the one before, and a start-up model
 * that fails (gone, broken) gives way to the built-in one. What to do with a model loaded
 * (the variant, remembering it) is the window's: ::loaded.
 */
#define G_LOG_DOMAIN "vitlens-model-menu"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-data.h"
#include "vitlens-error.h"
#include "vitlens-inference.h"
#include "vitlens-model-menu.h"
#ifdef VITLENS_HAVE_HUB
#include "vitlens-get-models-dialog.h"
#endif

struct _VitlensModelMenu
{
  GtkBox              parent_instance;

  GtkMenuButton      *button;
  GtkLabel           *model_label;
  GMenu              *menu;

  VitlensInference   *inference;
  GMenuModel         *recent_models;
  GSimpleActionGroup *actions;
  GCancellable       *cancellable;   /* the loads; cancelled in dispose */
  guint               n_loads;
  GFile              *file;          /* the model loaded from a file, NULL for the built-in one */
  GFileMonitor       *monitor;       /* on @file: the model changes on disk while in use */
  gboolean            changed_told;  /* the notice about a change was given for this load */
};

G_DEFINE_FINAL_TYPE (VitlensModelMenu, vitlens_model_menu, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_INFERENCE,
  PROP_RECENT_MODELS,
  PROP_LOADING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  LOADED,
  ERROR,
  NOTICE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
update_label (VitlensModelMenu *self)
{
  const VitlensModelFacts *facts = self->inference ? vitlens_inference_get_model (self->inference) : NULL;
  g_autofree char *tooltip = NULL;

  if (self->n_loads > 0)
    {
      gtk_label_set_label (self->model_label, _("Loading…"));
      return;
    }
  if (facts == NULL)
    {
      gtk_label_set_label (self->model_label, _("No Model"));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->button), _("Model"));
      return;
    }

  gtk_label_set_label (self->model_label, facts->display_name);
  /* Translators: tooltip of the model menu; %s is the model's name */
  tooltip = g_strdup_printf (_("Model: %s"), facts->path ? facts->path : facts->display_name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->button), tooltip);
}

/* ---------------------------------------------------------------------------------------------
 * Loading */

typedef struct
{
  VitlensModelMenu *self;
  GFile            *file;
  gboolean          startup;  /* the window's first model */
  gboolean          fallback; /* the built-in model, after the startup model failed */
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_object_unref (data->self);
  g_clear_object (&data->file);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LoadData, load_data_free)

static void load (VitlensModelMenu *self,
                  GFile            *file,
                  gboolean          startup,
                  gboolean          fallback);

/* The file of the model in use changed on disk (rewritten, replaced, deleted). The engine holds
 * its own copy of the weights, so nothing breaks; the person learns it and can reload. */
static void
on_model_file_changed (GFileMonitor      *monitor,
                       GFile             *file,
                       GFile             *other,
                       GFileMonitorEvent  event,
                       VitlensModelMenu  *self)
{
  g_autofree char *name = NULL, *message = NULL, *path = NULL;

  if (event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT && event != G_FILE_MONITOR_EVENT_CREATED &&
      event != G_FILE_MONITOR_EVENT_DELETED && event != G_FILE_MONITOR_EVENT_RENAMED &&
      event != G_FILE_MONITOR_EVENT_MOVED_IN && event != G_FILE_MONITOR_EVENT_MOVED_OUT)
    return;
  if (self->changed_told)
    return;
  self->changed_told = TRUE;
  name = g_file_get_basename (self->file);
  /* Translators: %s is a model file's name; Ctrl+R is the Reload Model shortcut */
  message = g_strdup_printf (_("%s changed on disk: Reload Model (Ctrl+R) to use the new file"), name);
  path = g_file_get_path (self->file);
  g_signal_emit (self, signals[NOTICE], 0, message, path);
}

/* Watch the file a model came from (none for the built-in model). */
static void
watch_model_file (VitlensModelMenu *self,
                  GFile            *file)
{
  GAction *reload = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "reload-model");

  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  g_set_object (&self->file, file);
  self->changed_told = FALSE;
  g_simple_action_set_enabled (G_SIMPLE_ACTION (reload), file != NULL);
  if (file == NULL)
    return;
  self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (on_model_file_changed), self);
}

static void
load_done (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  VitlensModelMenu *self = data->self;
  g_autoptr(GError) error = NULL;
  gboolean no_model;

  vitlens_inference_load_model_finish (VITLENS_INFERENCE (object), result, &error);
  self->n_loads--;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  update_label (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
  if (error == NULL)
    {
      watch_model_file (self, data->file);
      g_signal_emit (self, signals[LOADED], 0, data->file, data->startup, data->fallback);
      return;
    }

  /* No built-in model in this build: the "No Model Loaded" page says what to do. */
  no_model = g_error_matches (error, VITLENS_ERROR, VITLENS_ERROR_NO_MODEL);
  if (!no_model || (!data->startup && !data->fallback))
    g_signal_emit (self, signals[ERROR], 0, error->message);
  /* The model of the last session is gone or broken: start with the built-in one. */
  if (!no_model && data->startup && data->file != NULL && vitlens_inference_get_model (self->inference) == NULL)
    load (self, NULL, TRUE, TRUE);
}

static void
load (VitlensModelMenu *self,
      GFile            *file,
      gboolean          startup,
      gboolean          fallback)
{
  LoadData *data = g_new0 (LoadData, 1);

  data->self = g_object_ref (self);
  data->file = file ? g_object_ref (file) : NULL;
  data->startup = startup;
  data->fallback = fallback;

  self->n_loads++;
  update_label (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
  vitlens_inference_load_model_async (self->inference, file, self->cancellable, load_done, data);
}

void
vitlens_model_menu_load (VitlensModelMenu *self,
                         GFile            *file,
                         gboolean          startup)
{
  g_return_if_fail (VITLENS_IS_MODEL_MENU (self));
  g_return_if_fail (file == NULL || G_IS_FILE (file));
  g_return_if_fail (self->inference != NULL);

  load (self, file, startup, FALSE);
}

gboolean
vitlens_model_menu_is_model_file (GFile *file)
{
  static const char *suffixes[] = { ".safetensors", ".vitq", ".vitl" };
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = name ? g_ascii_strdown (name, -1) : NULL;

  for (guint i = 0; lower != NULL && i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_has_suffix (lower, suffixes[i]))
      return TRUE;
  return FALSE;
}

/* ---------------------------------------------------------------------------------------------
 * Actions */

static void
on_model_chosen (GtkNativeDialog  *native,
                 int               response,
                 VitlensModelMenu *self)
{
  g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

  if (response == GTK_RESPONSE_ACCEPT && file != NULL)
    load (self, file, FALSE, FALSE);
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

static void
action_open_model (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  VitlensModelMenu *self = VITLENS_MODEL_MENU (user_data);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *native;
  g_autoptr(GtkFileFilter) models = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  native = gtk_file_chooser_native_new (_("Open Model"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  /* Translators: a file filter; the formats are safetensors, int8 (.vitq) and lite (.vitl) */
  gtk_file_filter_set_name (models, _("Models (.safetensors, .vitq, .vitl)"));
  gtk_file_filter_add_suffix (models, "safetensors");
  gtk_file_filter_add_suffix (models, "vitq");
  gtk_file_filter_add_suffix (models, "vitl");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), models);
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), all);

  g_signal_connect_object (native, "response", G_CALLBACK (on_model_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
action_load_embedded_model (GSimpleAction *action,
                            GVariant      *param,
                            gpointer       user_data)
{
  load (VITLENS_MODEL_MENU (user_data), NULL, FALSE, FALSE);
}

static void
action_open_recent_model (GSimpleAction *action,
                          GVariant      *param,
                          gpointer       user_data)
{
  g_autoptr(GFile) file = g_file_new_for_path (g_variant_get_string (param, NULL));

  load (VITLENS_MODEL_MENU (user_data), file, FALSE, FALSE);
}

static void
action_reload_model (GSimpleAction *action,
                     GVariant      *param,
                     gpointer       user_data)
{
  VitlensModelMenu *self = VITLENS_MODEL_MENU (user_data);

  if (self->file != NULL)
    load (self, self->file, FALSE, FALSE);
}

/* Get Models…: one dialog at a time, over the window; the model it gives is loaded here. */
static void
on_dialog_model_chosen (GtkWidget        *dialog,
                        GFile            *file,
                        VitlensModelMenu *self)
{
  load (self, file, FALSE, FALSE);
}

static void
action_get_models (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
#ifdef VITLENS_HAVE_HUB
  VitlensModelMenu *self = VITLENS_MODEL_MENU (user_data);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWindow *parent = GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
  GListModel *windows = gtk_window_get_toplevels ();
  GtkWidget *dialog;

  for (guint i = 0; i < g_list_model_get_n_items (windows); i++)
    {
      g_autoptr(GtkWindow) w = g_list_model_get_item (windows, i);
      if (VITLENS_IS_GET_MODELS_DIALOG (w) && gtk_window_get_transient_for (w) == parent)
        {
          gtk_window_present (w);
          return;
        }
    }
  dialog = vitlens_get_models_dialog_new (parent);
  g_signal_connect_object (dialog, "model-chosen", G_CALLBACK (on_dialog_model_chosen), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
#endif
}

static const GActionEntry model_entries[] = {
  { .name = "open-model", .activate = action_open_model },
  { .name = "load-embedded-model", .activate = action_load_embedded_model },
  { .name = "open-recent-model", .activate = action_open_recent_model, .parameter_type = "s" },
  { .name = "reload-model", .activate = action_reload_model },
  { .name = "get-models", .activate = action_get_models },
};

GActionGroup *
vitlens_model_menu_get_actions (VitlensModelMenu *self)
{
  g_return_val_if_fail (VITLENS_IS_MODEL_MENU (self), NULL);

  return G_ACTION_GROUP (self->actions);
}

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_model_menu_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  VitlensModelMenu *self = VITLENS_MODEL_MENU (object);

  switch (prop_id)
    {
    case PROP_INFERENCE:
      g_set_object (&self->inference, g_value_get_object (value));
      update_label (self);
      break;

    case PROP_RECENT_MODELS:
      if (self->recent_models != NULL)
        g_menu_remove (self->menu, 1);
      g_set_object (&self->recent_models, g_value_get_object (value));
      if (self->recent_models != NULL)
        /* Translators: the model menu's section of the models opened last */
        g_menu_append_section (self->menu, _("Recent Models"), self->recent_models);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_model_menu_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  VitlensModelMenu *self = VITLENS_MODEL_MENU (object);

  switch (prop_id)
    {
    case PROP_INFERENCE: g_value_set_object (value, self->inference); break;
    case PROP_RECENT_MODELS: g_value_set_object (value, self->recent_models); break;
    case PROP_LOADING: g_value_set_boolean (value, self->n_loads > 0); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_model_menu_dispose (GObject *object)
{
  VitlensModelMenu *self = VITLENS_MODEL_MENU (object);

  /* Every load still to come sees G_IO_ERROR_CANCELLED and leaves the widgets alone. */
  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), VITLENS_TYPE_MODEL_MENU);
  g_clear_object (&self->inference);
  g_clear_object (&self->recent_models);
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  g_clear_object (&self->file);
  g_clear_object (&self->actions);

  G_OBJECT_CLASS (vitlens_model_menu_parent_class)->dispose (object);
}

static void
vitlens_model_menu_finalize (GObject *object)
{
  g_clear_object (&VITLENS_MODEL_MENU (object)->cancellable);

  G_OBJECT_CLASS (vitlens_model_menu_parent_class)->finalize (object);
}

static void
vitlens_model_menu_class_init (VitlensModelMenuClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->set_property = vitlens_model_menu_set_property;
  object_class->get_property = vitlens_model_menu_get_property;
  object_class->dispose = vitlens_model_menu_dispose;
  object_class->finalize = vitlens_model_menu_finalize;

  /* :inference and :recent-models are notified on every set. */
  properties[PROP_INFERENCE] =
    g_param_spec_object ("inference", NULL, NULL, VITLENS_TYPE_INFERENCE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_RECENT_MODELS] =
    g_param_spec_object ("recent-models", NULL, NULL, G_TYPE_MENU_MODEL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[LOADED] = g_signal_new ("loaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 3, G_TYPE_FILE, G_TYPE_BOOLEAN, G_TYPE_BOOLEAN);
  signals[ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                 G_TYPE_NONE, 1, G_TYPE_STRING);
  /* Information for the window's notice (the model's file changed on disk): message, tooltip. */
  signals[NOTICE] = g_signal_new ("notice", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class, APP_RESOURCE_PATH "/ui/vitlens-model-menu.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensModelMenu, button);
  gtk_widget_class_bind_template_child (widget_class, VitlensModelMenu, model_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensModelMenu, menu);
}

static void
vitlens_model_menu_init (VitlensModelMenu *self)
{
  size_t embedded_size = 0;
  GAction *embedded;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), model_entries,
                                   G_N_ELEMENTS (model_entries), self);
  embedded = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "load-embedded-model");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (embedded), vitlens_data_model (&embedded_size) != NULL);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions),
                                                                            "reload-model")),
                               FALSE);
#ifndef VITLENS_HAVE_HUB
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions),
                                                                            "get-models")),
                               FALSE);
#endif
  update_label (self);
}

GtkWidget *
vitlens_model_menu_new (void)
{
  return g_object_new (VITLENS_TYPE_MODEL_MENU, NULL);
}
