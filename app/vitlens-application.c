/* vitlens-application.c — the application: actions, accelerators, settings, open handling
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens-application"

#include "vitlens-config.h"

#include <glib/gi18n.h>
#include <stdlib.h>

#include "vit.h"
#include "vitlens-application.h"
#include "vitlens-preferences-dialog.h"
#include "vitlens-window.h"

#define MAX_RECENT_MODELS 5

struct _VitlensApplication
{
  GtkApplication  parent_instance;

  GSettings      *settings;
  char           *model_path;    /* --model */
  GMenu          *recent_models; /* the settings' recent-models, as menu items */
};

G_DEFINE_FINAL_TYPE (VitlensApplication, vitlens_application, GTK_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "model", 'm', G_OPTION_FLAG_NONE, G_OPTION_ARG_FILENAME, NULL,
    N_("Classify with this model (.safetensors, .vitq or .vitl)"), N_("FILE") },
  { "version", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Show the version and exit"), NULL },
  G_OPTION_ENTRY_NULL
};

/* The schema is found where GSettings looks (installed, or $GSETTINGS_SCHEMA_DIR); failing
 * that, in this build's tree, so that build/app/vitlens runs without installing. */
static GSettings *
new_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);

  if (schema == NULL && g_file_test (VITLENS_BUILD_SCHEMA_DIR "/gschemas.compiled", G_FILE_TEST_EXISTS))
    {
      g_autoptr(GSettingsSchemaSource) build_source = NULL;

      build_source = g_settings_schema_source_new_from_directory (VITLENS_BUILD_SCHEMA_DIR, source,
                                                                  FALSE, NULL);
      if (build_source != NULL)
        schema = g_settings_schema_source_lookup (build_source, APP_ID, FALSE);
    }

  if (schema == NULL)
    return NULL;
  return g_settings_new_full (schema, NULL, NULL);
}

/* "tiny-p16/model.safetensors": the folder tells timm-layout models apart. Underscores are
 * doubled, or the menu would take them for mnemonics. */
static void
rebuild_recent_models (VitlensApplication *self)
{
  g_auto(GStrv) recent = g_settings_get_strv (self->settings, "recent-models");

  g_menu_remove_all (self->recent_models);
  for (guint i = 0; recent[i] != NULL; i++)
    {
      g_autoptr(GMenuItem) item = NULL;
      g_autofree char *base = g_path_get_basename (recent[i]);
      g_autofree char *dir = g_path_get_dirname (recent[i]);
      g_autofree char *dir_base = g_path_get_basename (dir);
      g_autofree char *label = g_strdup_printf ("%s/%s", dir_base, base);
      g_auto(GStrv) parts = g_strsplit (label, "_", -1);
      g_autofree char *escaped = g_strjoinv ("__", parts);

      item = g_menu_item_new (escaped, NULL);
      g_menu_item_set_action_and_target_value (item, "win.open-recent-model",
                                               g_variant_new_string (recent[i]));
      g_menu_append_item (self->recent_models, item);
    }
}

static int
vitlens_application_handle_local_options (GApplication *application,
                                          GVariantDict *options)
{
  VitlensApplication *self = VITLENS_APPLICATION (application);

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("vitlens %s (engine %s)\n", PACKAGE_VERSION, VIT_VERSION_STRING);
      return 0;
    }
  g_clear_pointer (&self->model_path, g_free);
  g_variant_dict_lookup (options, "model", "^ay", &self->model_path);

  return G_APPLICATION_CLASS (vitlens_application_parent_class)->handle_local_options (application, options);
}

static GtkWindow *
get_window (VitlensApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (vitlens_window_new (self));
  return window;
}

static void
vitlens_application_activate (GApplication *application)
{
  gtk_window_present (get_window (VITLENS_APPLICATION (application)));
}

static void
vitlens_application_open (GApplication  *application,
                          GFile        **files,
                          int            n_files,
                          const char    *hint)
{
  GtkWindow *window = get_window (VITLENS_APPLICATION (application));

  vitlens_window_open_files (VITLENS_WINDOW (window), files, n_files);
  gtk_window_present (window);
}

static void
action_quit (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  GList *windows = gtk_application_get_windows (app);

  /* Close (not just destroy) so windows save their size. */
  while (windows != NULL)
    {
      GtkWindow *window = windows->data;

      windows = windows->next;
      gtk_window_close (window);
    }
}

static void
action_preferences (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  VitlensApplication *self = VITLENS_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *dialog = vitlens_preferences_dialog_new (self->settings, parent);

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
action_about (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  VitlensApplication *self = VITLENS_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  static const char *developers[] = { "The ViT Lens authors", NULL };
  g_autofree char *comments = NULL;

  /* Translators: %s is the engine's version */
  comments = g_strdup_printf (_("See what a Vision Transformer recognizes in your photos.\n"
                                "Inference engine libvit %s, on this computer only."),
                              VIT_VERSION_STRING);

  gtk_show_about_dialog (parent,
                         "program-name", _("ViT Lens"),
                         "logo-icon-name", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", comments,
                         "license-type", GTK_LICENSE_MIT_X11,
                         "authors", developers,
                         /* Translators: put your names here, one per line */
                         "translator-credits", _("translator-credits"),
                         "website", "https://github.com/vitlens/vitlens",
                         "modal", TRUE,
                         NULL);
}

static const GActionEntry app_entries[] = {
  { .name = "quit", .activate = action_quit },
  { .name = "preferences", .activate = action_preferences },
  { .name = "about", .activate = action_about },
};

/* ---------------------------------------------------------------------------------------------
 * Tooltips. GTK 4.8 lays a text tooltip out at its label's minimum width; Chinese may break after
 * any character, so that minimum is one character and "主菜单" came out one character a line.
 * Every tooltip text is shown in a label of our own instead: on one line up to about
 * TOOLTIP_WIDTH_CHARS columns, wrapped at that width past it. */

#define TOOLTIP_WIDTH_CHARS 48

static gboolean
on_query_tooltip (GtkWidget  *widget,
                  int         x,
                  int         y,
                  gboolean    keyboard,
                  GtkTooltip *tooltip,
                  gpointer    user_data)
{
  const char *text = gtk_widget_get_tooltip_text (widget);
  GtkWidget *label;
  int columns = 0;

  if (text == NULL || *text == '\0')
    return FALSE;

  /* Chinese characters are two columns wide. */
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    columns += g_unichar_iswide (g_utf8_get_char (p)) ? 2 : 1;

  label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (columns > TOOLTIP_WIDTH_CHARS)
    {
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_width_chars (GTK_LABEL (label), TOOLTIP_WIDTH_CHARS);
      gtk_label_set_max_width_chars (GTK_LABEL (label), TOOLTIP_WIDTH_CHARS);
    }
  gtk_tooltip_set_custom (tooltip, label);
  return TRUE;
}

/* The first query of a widget with a tooltip text connects on_query_tooltip, which runs in that
 * same emission (before GTK's own handler, which it stops). */
static gboolean
tooltip_emission_hook (GSignalInvocationHint *hint,
                       guint                  n_params,
                       const GValue          *params,
                       gpointer               user_data)
{
  GObject *widget = g_value_get_object (&params[0]);

  if (gtk_widget_get_tooltip_text (GTK_WIDGET (widget)) != NULL
      && g_object_get_data (widget, "vitlens-tooltip") == NULL)
    {
      g_object_set_data (widget, "vitlens-tooltip", GINT_TO_POINTER (TRUE));
      g_signal_connect (widget, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);
    }
  return TRUE;
}

static void
vitlens_application_startup (GApplication *application)
{
  VitlensApplication *self = VITLENS_APPLICATION (application);
  g_autoptr(GtkCssProvider) css = NULL;
  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "win.open", { "<Control>o", NULL } },
    { "win.open-model", { "<Control><Shift>o", NULL } },
    { "win.reload-model", { "<Control>r", NULL } },
    { "win.paste", { "<Control>v", NULL } },
    { "win.close", { "<Control>w", NULL } },
    { "win.fullscreen", { "F11", NULL } },
    { "win.variant::fp32", { "<Alt>1", NULL } },
    { "win.variant::int8", { "<Alt>2", NULL } },
    { "win.variant::optimized", { "<Alt>3", NULL } },
    { "win.variant::compare", { "<Alt>4", NULL } },
    { "win.show-attention", { "<Control>t", NULL } },
    { "win.source::image", { "<Control>1", NULL } },
    { "win.source::camera", { "<Control>2", NULL } },
    { "win.source::video", { "<Control>3", NULL } },
    { "win.play-pause", { "<Control>p", NULL } },
    { "win.snapshot", { "<Control>s", NULL } },
    { "win.previous-image", { "<Alt>Left", NULL } },
    { "win.next-image", { "<Alt>Right", NULL } },
    { "win.show-help-overlay", { "<Control>question", NULL } },
  };

  G_APPLICATION_CLASS (vitlens_application_parent_class)->startup (application);

  self->settings = new_settings ();
  if (self->settings == NULL)
    {
      /* A packaging problem, not the user's: say what is missing and stop cleanly. */
      g_printerr ("vitlens: the settings schema %s is not installed; run `meson install`, or set "
                  "GSETTINGS_SCHEMA_DIR to a directory where it is compiled\n", APP_ID);
      exit (EXIT_FAILURE);
    }

  g_signal_connect_object (self->settings, "changed::recent-models",
                           G_CALLBACK (rebuild_recent_models), self, G_CONNECT_SWAPPED);
  rebuild_recent_models (self);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_entries, G_N_ELEMENTS (app_entries), self);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action, accels[i].accels);

  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, APP_RESOURCE_PATH "/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  gtk_window_set_default_icon_name (APP_ID);

  {
    static gsize hooked = 0;

    if (g_once_init_enter (&hooked))
      {
        /* The signal exists once GtkWidget's class does. */
        gpointer widget_class = g_type_class_ref (GTK_TYPE_WIDGET);

        g_signal_add_emission_hook (g_signal_lookup ("query-tooltip", GTK_TYPE_WIDGET), 0,
                                    tooltip_emission_hook, NULL, NULL);
        g_type_class_unref (widget_class);
        g_once_init_leave (&hooked, 1);
      }
  }
}

static void
vitlens_application_finalize (GObject *object)
{
  VitlensApplication *self = (VitlensApplication *)object;

  g_clear_object (&self->settings);
  g_clear_object (&self->recent_models);
  g_clear_pointer (&self->model_path, g_free);

  G_OBJECT_CLASS (vitlens_application_parent_class)->finalize (object);
}

static void
vitlens_application_class_init (VitlensApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = vitlens_application_finalize;
  app_class->handle_local_options = vitlens_application_handle_local_options;
  app_class->startup = vitlens_application_startup;
  app_class->activate = vitlens_application_activate;
  app_class->open = vitlens_application_open;
}

static void
vitlens_application_init (VitlensApplication *self)
{
  self->recent_models = g_menu_new ();
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  /* Translators: the command line's summary, after "Usage: vitlens [OPTION…] [FILE…]" */
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[IMAGE…]"));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Classify images with a Vision Transformer."));
}

VitlensApplication *
vitlens_application_new (void)
{
  return g_object_new (VITLENS_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", APP_RESOURCE_PATH,
                       NULL);
}

GSettings *
vitlens_application_get_settings (VitlensApplication *self)
{
  g_return_val_if_fail (VITLENS_IS_APPLICATION (self), NULL);

  return self->settings;
}

GFile *
vitlens_application_get_startup_model (VitlensApplication *self)
{
  const char *env = g_getenv ("VITLENS_MODEL");
  g_autofree char *last = NULL;

  g_return_val_if_fail (VITLENS_IS_APPLICATION (self), NULL);

  if (self->model_path != NULL && self->model_path[0] != '\0')
    return g_file_new_for_commandline_arg (self->model_path);
  if (env != NULL && env[0] != '\0')
    return g_file_new_for_commandline_arg (env);
  if (self->settings != NULL && g_settings_get_boolean (self->settings, "reopen-last-model"))
    {
      last = g_settings_get_string (self->settings, "last-model");
      if (last[0] != '\0')
        return g_file_new_for_path (last);
    }
  return NULL;
}

void
vitlens_application_set_startup_model (VitlensApplication *self,
                                       const char         *path)
{
  g_return_if_fail (VITLENS_IS_APPLICATION (self));

  g_free (self->model_path);
  self->model_path = g_strdup (path);
}

GMenuModel *
vitlens_application_get_recent_models (VitlensApplication *self)
{
  g_return_val_if_fail (VITLENS_IS_APPLICATION (self), NULL);

  return G_MENU_MODEL (self->recent_models);
}

void
vitlens_application_remember_model (VitlensApplication *self,
                                    GFile              *file)
{
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  g_auto(GStrv) recent = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) updated = NULL;
  guint n = 1;

  g_return_if_fail (VITLENS_IS_APPLICATION (self));
  g_return_if_fail (file == NULL || G_IS_FILE (file));

  g_settings_set_string (self->settings, "last-model", path ? path : "");
  if (path == NULL)
    return;

  recent = g_settings_get_strv (self->settings, "recent-models");
  builder = g_strv_builder_new ();
  g_strv_builder_add (builder, path);
  for (guint i = 0; recent[i] != NULL && n < MAX_RECENT_MODELS; i++)
    {
      if (g_str_equal (recent[i], path))
        continue;
      g_strv_builder_add (builder, recent[i]);
      n++;
    }
  updated = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "recent-models", (const char * const *)updated);
}
