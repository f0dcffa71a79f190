/* vitlens-window.c — the main window
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * The window owns the VitlensInference (the model and its worker) and lends it to its three
 * pages: VitlensImagePage (images and their results), VitlensStreamPage (cameras, the test
 * pattern, videos) and VitlensComparePage (every variant side by side, on the image or on the
 * stream page's frames). It keeps the header bar (source, VitlensVariantSwitcher,
 * VitlensModelMenu, busy spinner; narrow: VitlensCompactHeader), the banner and the notice,
 * the mode stack and the actions; the pages and the model menu add theirs. The window sets what
 * the pages work with (properties: inference, variant, preferences, which one is shown) and
 * hears from them through signals (errors, notices, busy, the image shown, a model loaded).
 *
 * Drops, Open…, pasted files and the command line all end in vitlens_window_open_files(),
 * which tells models, videos and images apart.
 */
#define G_LOG_DOMAIN "vitlens-window"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-compact-header.h"
#include "vitlens-compare-page.h"
#include "vitlens-image-page.h"
#include "vitlens-model-menu.h"
#include "vitlens-stream-page.h"
#include "vitlens-variant-switcher.h"
#include "vitlens-window.h"

#define NOTICE_SECONDS 5

struct _VitlensWindow
{
  GtkApplicationWindow parent_instance;

  /* template widgets */
  VitlensVariantSwitcher *variant_switcher;
  VitlensModelMenu    *model_menu;
  GtkSpinner          *busy_spinner;
  GtkButton           *open_button;
  GtkBox              *switcher_bar;
  GtkRevealer         *banner_revealer;
  GtkLabel            *banner_label;
  GtkRevealer         *notice_revealer;
  GtkLabel            *notice_label;
  GtkStack            *mode_stack;
  VitlensImagePage    *image_page;
  VitlensStreamPage   *stream_page;
  VitlensComparePage  *compare_page;

  GSettings           *settings;
  VitlensInference    *inference;     /* the model, and every classification of every page */
  vit_variant          variant;
  gboolean             compare;       /* on: every variant side by side */
  VitlensOrigin        error_origin;  /* what the banner's error is about */
  guint                notice_timeout; /* hides the notice; 0: none pending */
  VitlensCompactHeader compact_header; /* a narrow window's header bar */
};

G_DEFINE_FINAL_TYPE (VitlensWindow, vitlens_window, GTK_TYPE_APPLICATION_WINDOW)

/* ---------------------------------------------------------------------------------------------
 * Busy state, the banner and the notice */

/* The header bar's spinner turns while a model loads, or a page waits for a decode or a
 * classification. */
static void
update_busy (VitlensWindow *self)
{
  gboolean image_busy, compare_busy, loading;

  if (self->image_page == NULL)
    return;
  g_object_get (self->image_page, "busy", &image_busy, NULL);
  g_object_get (self->compare_page, "busy", &compare_busy, NULL);
  g_object_get (self->model_menu, "loading", &loading, NULL);
  /* Always there, turning or not: the header bar keeps its layout (the model's name with it). */
  gtk_spinner_set_spinning (self->busy_spinner, loading || image_busy || compare_busy);
}

static void
show_error (VitlensWindow *self,
            VitlensOrigin  origin,
            const char    *message)
{
  g_debug ("Error shown: %s", message);
  self->error_origin = origin;
  gtk_label_set_label (self->banner_label, message);
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
}

/* A good image clears an error about an image, not one about the model. */
static void
clear_error (VitlensWindow *self,
             VitlensOrigin  origin)
{
  if (self->error_origin == origin)
    gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
}

static gboolean
notice_timeout_cb (gpointer data)
{
  VitlensWindow *self = data;

  self->notice_timeout = 0;
  gtk_revealer_set_reveal_child (self->notice_revealer, FALSE);
  return G_SOURCE_REMOVE;
}

/* A short confirmation under the header bar ("Saved …"), gone after NOTICE_SECONDS;
 * @tooltip (may be NULL) tells more, e.g. the full paths. */
static void
show_notice (VitlensWindow *self,
             const char    *message,
             const char    *tooltip)
{
  g_debug ("Notice shown: %s", message);
  gtk_label_set_label (self->notice_label, message);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->notice_label), tooltip);
  gtk_revealer_set_reveal_child (self->notice_revealer, TRUE);
  /* A newer notice gets its own NOTICE_SECONDS. */
  g_clear_handle_id (&self->notice_timeout, g_source_remove);
  self->notice_timeout = g_timeout_add_seconds (NOTICE_SECONDS, notice_timeout_cb, self);
}

/* ---------------------------------------------------------------------------------------------
 * The header bar and the mode */

static gboolean
has_model (VitlensWindow *self)
{
  return vitlens_inference_get_model (self->inference) != NULL;
}

/* Which page is shown: the image or Compare, or the stream's; under Compare a stream's page
 * keeps only its bar, and its frames go to Compare. */
static void
update_mode (VitlensWindow *self)
{
  VitlensSource source;

  g_object_get (self->stream_page, "source", &source, NULL);
  gtk_stack_set_visible_child_name (self->mode_stack, self->compare ? "compare" : "image");
  gtk_widget_set_visible (GTK_WIDGET (self->mode_stack), source == VITLENS_SOURCE_IMAGE || self->compare);
  g_object_set (self->stream_page, "compare", self->compare, NULL);
  g_object_set (self->compare_page, "active", self->compare, NULL);
  g_object_set (self->image_page, "active", source == VITLENS_SOURCE_IMAGE && !self->compare, NULL);
}

/* The single variant; @leave_compare: a person chose it, so compare mode ends (a model load
 * keeps compare mode and only remembers the variant for later). */
static void
set_variant (VitlensWindow *self,
             vit_variant    variant,
             gboolean       leave_compare)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "variant");

  self->variant = variant;
  if (leave_compare)
    self->compare = FALSE;
  g_simple_action_set_state (G_SIMPLE_ACTION (action),
                             g_variant_new_string (self->compare ? "compare" : vit_variant_name (variant)));
  g_object_set (self->variant_switcher, "variant", variant, "compare", self->compare, NULL);
  g_object_set (self->image_page, "variant", variant, NULL);
  g_object_set (self->stream_page, "variant", variant, NULL);
  update_mode (self);
}

/* ---------------------------------------------------------------------------------------------
 * Models (VitlensModelMenu loads them) */

static void
on_model_loading (VitlensWindow *self)
{
  gboolean loading;

  g_object_get (self->model_menu, "loading", &loading, NULL);
  g_object_set (self->image_page, "loading", loading, NULL);
  g_object_set (self->stream_page, "loading", loading, NULL);
  g_object_set (self->compare_page, "loading", loading, NULL);
  update_busy (self);
}

static void
on_model_error (VitlensModelMenu *menu,
                const char       *message,
                VitlensWindow    *self)
{
  show_error (self, VITLENS_ORIGIN_MODEL, message);
}

static void
on_model_loaded (VitlensModelMenu *menu,
                 GFile            *file,
                 gboolean          startup,
                 gboolean          fallback,
                 VitlensWindow    *self)
{
  const VitlensModelFacts *facts = vitlens_inference_get_model (self->inference);
  vit_variant preferred;

  g_debug ("Model %s loaded: %s, %" G_GINT64_FORMAT " parameters",
           facts->display_name, facts->architecture, facts->num_params);

  /* After a fallback, the error about the model that failed stays up. */
  if (!fallback)
    {
      clear_error (self, VITLENS_ORIGIN_MODEL);
      vitlens_application_remember_model (VITLENS_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))),
                                          file);
    }

  /* The variant: the preferred one at start; later the one selected if the new model has it,
   * else the preferred one, else the first the model has (a .vitq file has only int8). */
  preferred = g_settings_get_enum (self->settings, "default-variant");
  if (startup && facts->supports[preferred])
    self->variant = preferred;
  else if (!facts->supports[self->variant])
    {
      self->variant = preferred;
      for (int v = 0; v < VIT_VARIANT_COUNT && !facts->supports[self->variant]; v++)
        self->variant = v;
    }
  set_variant (self, self->variant, FALSE);
}

/* ---------------------------------------------------------------------------------------------
 * The ways in: files (drops, Open…, paste, the command line) and dropped images */

void
vitlens_window_open_files (VitlensWindow *self,
                           GFile        **files,
                           guint          n_files)
{
  g_autoptr(GPtrArray) images = g_ptr_array_new ();

  g_return_if_fail (VITLENS_IS_WINDOW (self));

  for (guint i = 0; i < n_files; i++)
    {
      if (vitlens_model_menu_is_model_file (files[i]))
        vitlens_model_menu_load (self->model_menu, files[i], FALSE);
      else if (vitlens_stream_page_can_play (files[i]))
        vitlens_stream_page_open_video (self->stream_page, files[i]);
      else
        g_ptr_array_add (images, files[i]);
    }
  vitlens_image_page_open_files (self->image_page, (GFile **)images->pdata, images->len);
}

static void
on_open_files (VitlensImagePage *page,
               GListModel       *files,
               VitlensWindow    *self)
{
  g_autoptr(GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (files); i++)
    g_ptr_array_add (array, g_list_model_get_item (files, i));
  vitlens_window_open_files (self, (GFile **)array->pdata, array->len);
}

static void
set_drop_active (VitlensWindow *self,
                 gboolean       active)
{
  g_object_set (self->image_page, "drop-active", active, NULL);
  g_object_set (self->stream_page, "drop-active", active, NULL);
}

static GdkDragAction
on_drop_enter (GtkDropTarget *target,
               double         x,
               double         y,
               VitlensWindow *self)
{
  set_drop_active (self, TRUE);
  return GDK_ACTION_COPY;
}

static void
on_drop_leave (GtkDropTarget *target,
               VitlensWindow *self)
{
  set_drop_active (self, FALSE);
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         VitlensWindow *self)
{
  set_drop_active (self, FALSE);
  return vitlens_image_page_take_drop (self->image_page, value);
}

/* ---------------------------------------------------------------------------------------------
 * What the pages say */

static void
on_image_shown (VitlensWindow *self)
{
  VitlensSource source;

  /* Opening an image is choosing images as the source. */
  g_object_get (self->stream_page, "source", &source, NULL);
  if (source != VITLENS_SOURCE_IMAGE)
    g_object_set (self->stream_page, "source", VITLENS_SOURCE_IMAGE, NULL);
}

/* The title names what is shown: the image, or in the Camera and Video modes what plays. */
static void
on_title (VitlensWindow *self)
{
  g_autofree char *title = NULL;
  g_autofree char *name = NULL;
  VitlensSource source;

  g_object_get (self->stream_page, "source", &source, "stream-name", &name, NULL);
  if (source == VITLENS_SOURCE_IMAGE)
    g_object_get (self->image_page, "title", &title, NULL);
  else if (name != NULL && name[0] != '\0')
    /* Translators: the window title: what plays (a video's or a camera's name), then the application's */
    title = g_strdup_printf (_("%s — ViT Lens"), name);
  gtk_window_set_title (GTK_WINDOW (self), title ? title : _("ViT Lens"));
}

/* ---------------------------------------------------------------------------------------------
 * Actions */

static void
action_close (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  gtk_window_close (GTK_WINDOW (user_data));
}

static void
action_fullscreen (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  GtkWindow *window = GTK_WINDOW (user_data);

  if (gtk_window_is_fullscreen (window))
    gtk_window_unfullscreen (window);
  else
    gtk_window_fullscreen (window);
}

static void
change_variant_state (GSimpleAction *action,
                      GVariant      *value,
                      gpointer       user_data)
{
  VitlensWindow *self = VITLENS_WINDOW (user_data);
  const char *name = g_variant_get_string (value, NULL);
  vit_variant variant;

  if (g_str_equal (name, "compare") && has_model (self))
    {
      self->compare = TRUE;
      set_variant (self, self->variant, FALSE);
      return;
    }
  if (!g_str_equal (name, "compare") && vit_variant_parse (name, &variant) != VIT_OK)
    return;
  if (!has_model (self))
    show_error (self, VITLENS_ORIGIN_OTHER, _("Open a model first"));
  else if (!g_str_equal (name, "compare") && variant != self->variant
           && !vitlens_inference_supports (self->inference, variant))
    {
      g_autofree char *message = g_strdup_printf (_("The %s variant is not available for this model"),
                                                  vitlens_variant_label (vit_variant_name (variant)));

      show_error (self, VITLENS_ORIGIN_OTHER, message);
    }
  else
    {
      set_variant (self, variant, TRUE);
      return;
    }
  /* Refused: the buttons as they were. */
  g_object_set (self->variant_switcher, "variant", self->variant, "compare", self->compare, NULL);
}

static void
action_dismiss_error (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  gtk_revealer_set_reveal_child (VITLENS_WINDOW (user_data)->banner_revealer, FALSE);
}

static void
action_dismiss_notice (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  VitlensWindow *self = VITLENS_WINDOW (user_data);

  g_clear_handle_id (&self->notice_timeout, g_source_remove);
  gtk_revealer_set_reveal_child (self->notice_revealer, FALSE);
}

static const GActionEntry win_entries[] = {
  { .name = "close", .activate = action_close },
  { .name = "fullscreen", .activate = action_fullscreen, .state = "false" },
  { .name = "variant", .parameter_type = "s", .state = "'fp32'", .change_state = change_variant_state },
  { .name = "dismiss-error", .activate = action_dismiss_error },
  { .name = "dismiss-notice", .activate = action_dismiss_notice },
};

static void
on_fullscreened (VitlensWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "fullscreen");

  g_simple_action_set_state (G_SIMPLE_ACTION (action),
                             g_variant_new_boolean (gtk_window_is_fullscreen (GTK_WINDOW (self))));
}

/* ---------------------------------------------------------------------------------------------
 * GObject */

static gboolean
vitlens_window_close_request (GtkWindow *window)
{
  VitlensWindow *self = VITLENS_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  if (!gtk_window_is_maximized (window) && !gtk_window_is_fullscreen (window))
    {
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }

  return GTK_WINDOW_CLASS (vitlens_window_parent_class)->close_request (window);
}

/* Settings, size and the first model: needs the application, which GtkWindow sets after
 * construction, so vitlens_window_new() calls it. */
static void
vitlens_window_setup (VitlensWindow      *self,
                      VitlensApplication *app)
{
  GtkWidget *pages[] = { GTK_WIDGET (self->image_page), GTK_WIDGET (self->stream_page),
                         GTK_WIDGET (self->compare_page) };
  g_autoptr(GFile) startup_model = NULL;

  self->settings = g_object_ref (vitlens_application_get_settings (app));
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  /* Threads, results, attention (win.show-attention): the pages run again, in place. */
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    vitlens_page_bind_settings (VITLENS_PAGE (pages[i]), self->settings);
  vitlens_action_map_add_setting (G_ACTION_MAP (self), self->settings, "show-attention");
  g_object_set (self->model_menu, "recent-models", vitlens_application_get_recent_models (app), NULL);

  startup_model = vitlens_application_get_startup_model (app);
  vitlens_model_menu_load (self->model_menu, startup_model, TRUE);
}

static void
vitlens_window_dispose (GObject *object)
{
  VitlensWindow *self = (VitlensWindow *)object;

  g_clear_handle_id (&self->notice_timeout, g_source_remove);
  g_action_map_remove_action (G_ACTION_MAP (self), "show-attention"); /* it follows the settings */
  vitlens_compact_header_clear (&self->compact_header);
  if (self->image_page != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->image_page, self);
      g_signal_handlers_disconnect_by_data (self->stream_page, self);
      g_signal_handlers_disconnect_by_data (self->compare_page, self);
      g_signal_handlers_disconnect_by_data (self->model_menu, self);
    }

  /* The pages first (the stream page stops its camera): no frame comes after. */
  gtk_widget_dispose_template (GTK_WIDGET (self), VITLENS_TYPE_WINDOW);

  g_clear_object (&self->inference);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (vitlens_window_parent_class)->dispose (object);
}

static void
vitlens_window_class_init (VitlensWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = vitlens_window_dispose;
  window_class->close_request = vitlens_window_close_request;

  g_type_ensure (VITLENS_TYPE_VARIANT_SWITCHER);
  g_type_ensure (VITLENS_TYPE_MODEL_MENU);
  g_type_ensure (VITLENS_TYPE_IMAGE_PAGE);
  g_type_ensure (VITLENS_TYPE_STREAM_PAGE);
  g_type_ensure (VITLENS_TYPE_COMPARE_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class, APP_RESOURCE_PATH "/ui/vitlens-window.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, variant_switcher);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, model_menu);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, busy_spinner);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, open_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, notice_revealer);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, notice_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, mode_stack);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, image_page);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, stream_page);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, compare_page);
}

static void
vitlens_window_init (VitlensWindow *self)
{
  VitlensPage *pages[3];
  GtkDropTarget *drop_target;
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE, GDK_TYPE_TEXTURE };

  gtk_widget_init_template (GTK_WIDGET (self));
  pages[0] = VITLENS_PAGE (self->image_page);
  pages[1] = VITLENS_PAGE (self->stream_page);
  pages[2] = VITLENS_PAGE (self->compare_page);

  self->inference = vitlens_inference_new ();
  self->variant = VIT_VARIANT_FP32;
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_entries, G_N_ELEMENTS (win_entries), self);
  g_object_set (self->variant_switcher, "inference", self->inference, NULL);
  g_object_set (self->model_menu, "inference", self->inference, NULL);
  vitlens_action_map_add_group (G_ACTION_MAP (self), vitlens_model_menu_get_actions (self->model_menu));
  g_signal_connect_swapped (self->model_menu, "notify::loading", G_CALLBACK (on_model_loading), self);
  g_signal_connect (self->model_menu, "error", G_CALLBACK (on_model_error), self);
  g_signal_connect (self->model_menu, "loaded", G_CALLBACK (on_model_loaded), self);
  g_signal_connect_swapped (self->model_menu, "notice", G_CALLBACK (show_notice), self);

  /* The pages: one inference, their actions among the window's, their messages in its banner. */
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_object_set (pages[i], "inference", self->inference, NULL);
      vitlens_page_add_actions (pages[i], G_ACTION_MAP (self));
      g_signal_connect_swapped (pages[i], "error", G_CALLBACK (show_error), self);
      g_signal_connect_swapped (pages[i], "clear-error", G_CALLBACK (clear_error), self);
      g_signal_connect_swapped (pages[i], "notice", G_CALLBACK (show_notice), self);
      g_signal_connect_swapped (pages[i], "notify::busy", G_CALLBACK (update_busy), self);
    }
  g_signal_connect_swapped (self->image_page, "notify::image", G_CALLBACK (on_image_shown), self);
  g_signal_connect_swapped (self->image_page, "notify::title", G_CALLBACK (on_title), self);
  g_signal_connect (self->image_page, "open-files", G_CALLBACK (on_open_files), self);
  g_signal_connect_swapped (self->stream_page, "notify::source", G_CALLBACK (update_mode), self);
  g_signal_connect_swapped (self->stream_page, "notify::source", G_CALLBACK (on_title), self);
  g_signal_connect_swapped (self->stream_page, "notify::stream-name", G_CALLBACK (on_title), self);
  g_signal_connect (self, "notify::fullscreened", G_CALLBACK (on_fullscreened), NULL);
  vitlens_compact_header_init (&self->compact_header, GTK_WINDOW (self),
                               GTK_WIDGET (self->variant_switcher), GTK_WIDGET (self->model_menu),
                               GTK_WIDGET (self->busy_spinner), self->open_button, self->switcher_bar);

  /* The whole window takes drops; the page shown lights up. */
  drop_target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (drop_target, types, G_N_ELEMENTS (types));
  g_signal_connect (drop_target, "enter", G_CALLBACK (on_drop_enter), self);
  g_signal_connect (drop_target, "leave", G_CALLBACK (on_drop_leave), self);
  g_signal_connect (drop_target, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop_target));

  update_mode (self);
}

VitlensWindow *
vitlens_window_new (VitlensApplication *application)
{
  VitlensWindow *self;

  g_return_val_if_fail (VITLENS_IS_APPLICATION (application), NULL);

  self = g_object_new (VITLENS_TYPE_WINDOW, "application", application, NULL);
  vitlens_window_setup (self, application);
  return self;
}
