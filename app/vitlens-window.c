/* vitlens-window.c — the main window
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * The window owns a VitlensInference (the model and its sessions, on their own thread, for
 * images, Compare and streams alike) and shows one image at a time with its results.
 * Everything slow runs elsewhere: images decode in a GTask thread, models load and classify on
 * the inference worker. Each callback holds a
 * ref on the window and first checks for G_IO_ERROR_CANCELLED (what dispose and newer requests
 * cause), so a late answer never touches a window that is going away, and a stale one (for an
 * image or variant no longer shown) is dropped.
 *
 * Drag and drop, paste and the file choosers are in vitlens-window-dnd.c; compare mode (every
 * variant side by side) in vitlens-window-compare.c; cameras, the test pattern and videos in
 * vitlens-window-stream.c.
 */
#define G_LOG_DOMAIN "vitlens-window"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-data.h"
#include "vitlens-error.h"
#include "vitlens-window-private.h"

G_DEFINE_FINAL_TYPE (VitlensWindow, vitlens_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void on_files_changed (VitlensWindow *self);

/* ---------------------------------------------------------------------------------------------
 * Busy state and the banner */

void
_vitlens_window_begin_busy (VitlensWindow *self)
{
  if (self->n_pending++ == 0)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->busy_spinner), TRUE);
      gtk_spinner_start (self->busy_spinner);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
    }
}

void
_vitlens_window_end_busy (VitlensWindow *self)
{
  g_return_if_fail (self->n_pending > 0);

  /* Disposed (a late callback, cancelled): count, but no widget is left to touch. */
  if (self->busy_spinner == NULL)
    {
      self->n_pending--;
      return;
    }

  if (--self->n_pending == 0)
    {
      gtk_spinner_stop (self->busy_spinner);
      gtk_widget_set_visible (GTK_WIDGET (self->busy_spinner), FALSE);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
    }
}

void
_vitlens_window_show_error_from (VitlensWindow *self,
                                 ErrorSource    source,
                                 const char    *message)
{
  g_debug ("Error shown: %s", message);
  self->error_source = source;
  gtk_label_set_label (self->banner_label, message);
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
}

void
vitlens_window_show_error (VitlensWindow *self,
                           const char    *message)
{
  g_return_if_fail (VITLENS_IS_WINDOW (self));

  _vitlens_window_show_error_from (self, ERROR_FROM_OTHER, message);
}

void
_vitlens_window_show_image_error (VitlensWindow *self,
                                  const char    *message)
{
  _vitlens_window_show_error_from (self, ERROR_FROM_IMAGE, message);
}

static void
hide_error (VitlensWindow *self)
{
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
}

static void
hide_notice (VitlensWindow *self)
{
  g_clear_handle_id (&self->notice_timeout, g_source_remove);
  gtk_revealer_set_reveal_child (self->notice_revealer, FALSE);
}

static gboolean
notice_timeout_cb (gpointer data)
{
  VitlensWindow *self = data;

  self->notice_timeout = 0;
  gtk_revealer_set_reveal_child (self->notice_revealer, FALSE);
  return G_SOURCE_REMOVE;
}

void
_vitlens_window_show_notice (VitlensWindow *self,
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

/* A good image clears an error about an image, not one about the model. */
void
_vitlens_window_hide_error_from (VitlensWindow *self,
                                 ErrorSource    source)
{
  if (self->error_source == source)
    hide_error (self);
}


/* ---------------------------------------------------------------------------------------------
 * What is shown */

static gboolean
has_model (VitlensWindow *self)
{
  return vitlens_inference_get_model (self->inference) != NULL;
}

/* What the results panel says while it has no results. */
static void
update_placeholder (VitlensWindow *self)
{
  const char *text;

  if (self->n_model_loads > 0)
    text = _("Loading the model…");
  else if (!has_model (self))
    text = _("No model is loaded. Open one from the model menu to classify images.");
  else if (self->source != SOURCE_IMAGE)
    text = _("The results of each frame are shown over the video.");
  else if (self->image == NULL)
    text = _("Open an image to see what the model recognizes in it.");
  else
    text = _("Classifying…");

  vitlens_results_panel_set_placeholder (self->results_panel, text);

  if (self->n_model_loads > 0)
    text = _("Loading the model…");
  else if (!has_model (self))
    text = _("No model is loaded. Open one from the model menu to compare its variants.");
  else
    text = _("Open an image, or start the camera or a video, to run every variant on it.");
  vitlens_compare_view_set_placeholder (self->compare_view, text);
}

void
_vitlens_window_update_page (VitlensWindow *self)
{
  const char *page;

  if (self->source != SOURCE_IMAGE)
    page = "stream";
  else if (self->image != NULL)
    page = "image";
  else if (self->n_model_loads > 0 && !has_model (self))
    page = "loading";
  else if (!has_model (self))
    page = "no-model";
  else
    page = "empty";

  if (g_str_equal (page, "loading"))
    gtk_spinner_start (self->loading_spinner);
  else
    gtk_spinner_stop (self->loading_spinner);

  gtk_stack_set_visible_child_name (self->image_stack, page);
  update_placeholder (self);
}


static void
update_variant_buttons (VitlensWindow *self)
{
  static const char *accels[VIT_VARIANT_COUNT] = { "Alt+1", "Alt+2", "Alt+3" };

  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    {
      GtkToggleButton *button = self->variant_buttons[v];
      const char *name = vit_variant_name (v);
      gboolean supported = vitlens_inference_supports (self->inference, v);
      g_autofree char *tooltip = NULL;

      if (!has_model (self))
        /* Translators: tooltip of a variant button (fp32, int8, optimized) without a model */
        tooltip = g_strdup_printf (_("%s: open a model first"), name);
      else if (supported)
        /* Translators: tooltip of a variant button; %s is fp32, int8 or optimized, then a shortcut */
        tooltip = g_strdup_printf (_("Run the %s variant (%s)"), name, accels[v]);
      else
        /* Translators: tooltip of a disabled variant button; %s is fp32, int8 or optimized */
        tooltip = g_strdup_printf (_("The %s variant is not available for this model"), name);

      gtk_widget_set_sensitive (GTK_WIDGET (button), supported);
      gtk_widget_set_tooltip_text (GTK_WIDGET (button), tooltip);
      g_signal_handlers_block_matched (button, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
      gtk_toggle_button_set_active (button, !self->compare && v == (int)self->variant);
      g_signal_handlers_unblock_matched (button, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
    }

  /* Compare: every variant the model has, side by side. */
  {
    GtkToggleButton *button = self->variant_compare_button;

    gtk_widget_set_sensitive (GTK_WIDGET (button), has_model (self));
    gtk_widget_set_tooltip_text (GTK_WIDGET (button),
                                 has_model (self) ? _("Run every variant side by side (Alt+4)")
                                                  : _("Compare: open a model first"));
    g_signal_handlers_block_matched (button, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
    gtk_toggle_button_set_active (button, self->compare);
    g_signal_handlers_unblock_matched (button, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  }
}

/* The single variant; @leave_compare: a person chose it, so compare mode ends (a model load
 * keeps compare mode and only remembers the variant for later). */
static void
set_variant (VitlensWindow *self,
             vit_variant    variant,
             gboolean       leave_compare)
{
  gboolean changed = variant != self->variant || (self->compare && leave_compare);
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "variant");

  self->variant = variant;
  if (self->compare && leave_compare)
    _vitlens_window_set_compare (self, FALSE);
  g_simple_action_set_state (G_SIMPLE_ACTION (action),
                             g_variant_new_string (self->compare ? "compare" : vit_variant_name (variant)));
  update_variant_buttons (self);
  vitlens_results_panel_set_variant (self->results_panel, variant);
  _vitlens_window_stream_variant_changed (self);
  if (changed)
    _vitlens_window_classify_current (self);
}

static void
update_model_label (VitlensWindow *self)
{
  const VitlensModelFacts *facts = vitlens_inference_get_model (self->inference);
  g_autofree char *tooltip = NULL;

  if (self->n_model_loads > 0)
    {
      gtk_label_set_label (self->model_label, _("Loading…"));
      return;
    }
  if (facts == NULL)
    {
      gtk_label_set_label (self->model_label, _("No Model"));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->model_menu_button), _("Model"));
      return;
    }

  gtk_label_set_label (self->model_label, facts->display_name);
  /* Translators: tooltip of the model menu; %s is the model's name */
  tooltip = g_strdup_printf (_("Model: %s"), facts->path ? facts->path : facts->display_name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->model_menu_button), tooltip);
}

/* Photos shrink to fit and never grow blurry; small images (a 28×28 digit, a 32×32 icon)
 * grow by a whole factor to about SMALL_IMAGE_SIDE, so they can be seen at all. */
#define SMALL_IMAGE_SIDE 320

static void
size_picture (VitlensWindow *self,
              int            width,
              int            height)
{
  int side = MAX (width, height);
  GtkWidget *picture = GTK_WIDGET (self->picture);

  if (side > 0 && side < SMALL_IMAGE_SIDE / 2)
    {
      int scale = SMALL_IMAGE_SIDE / side;

      gtk_picture_set_content_fit (self->picture, GTK_CONTENT_FIT_CONTAIN);
      gtk_widget_set_size_request (picture, width * scale, height * scale);
      gtk_widget_set_halign (picture, GTK_ALIGN_CENTER);
      gtk_widget_set_valign (picture, GTK_ALIGN_CENTER);
    }
  else
    {
      gtk_picture_set_content_fit (self->picture, GTK_CONTENT_FIT_SCALE_DOWN);
      gtk_widget_set_size_request (picture, -1, -1);
      gtk_widget_set_halign (picture, GTK_ALIGN_FILL);
      gtk_widget_set_valign (picture, GTK_ALIGN_FILL);
    }
}

static void
set_image (VitlensWindow *self,
           VitlensImage  *image)
{
  g_autofree char *caption = NULL;
  g_autofree char *title = NULL;

  g_set_object (&self->image, image);
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (vitlens_image_get_texture (image)));
  size_picture (self, vitlens_image_get_width (image), vitlens_image_get_height (image));
  gtk_picture_set_alternative_text (self->picture, vitlens_image_get_name (image));

  /* Translators: below the image: file name, width × height in pixels */
  caption = g_strdup_printf (_("%s · %d×%d"), vitlens_image_get_name (image),
                             vitlens_image_get_width (image), vitlens_image_get_height (image));
  gtk_label_set_label (self->image_caption, caption);
  /* Translators: the window title: the image's name, then the application's */
  title = g_strdup_printf (_("%s — ViT Lens"), vitlens_image_get_name (image));
  gtk_window_set_title (GTK_WINDOW (self), title);

  /* Opening an image is choosing images as the source. */
  if (self->source != SOURCE_IMAGE)
    _vitlens_window_set_source (self, SOURCE_IMAGE);
  _vitlens_window_compare_update_source (self);
  _vitlens_window_update_page (self);
}

/* ---------------------------------------------------------------------------------------------
 * Classification */

static void
classify_done (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(VitlensWindow) self = user_data;
  g_autoptr(VitlensResult) prediction = NULL;
  g_autoptr(GError) error = NULL;

  prediction = vitlens_inference_classify_finish (VITLENS_INFERENCE (object), result, &error);
  _vitlens_window_end_busy (self);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    {
      _vitlens_window_show_error_from (self, ERROR_FROM_IMAGE, error->message);
      return;
    }

  /* Answers for an image or a variant no longer shown: a newer request is on its way. */
  if (self->image == NULL || prediction->frame != vitlens_image_get_frame (self->image)
      || prediction->variant != self->variant)
    return;

  /* A stream started meanwhile: the panel shows the stream's numbers; these come back with
   * the image. */
  if (self->source == SOURCE_IMAGE)
    vitlens_results_panel_set_prediction (self->results_panel, prediction,
                                          vitlens_image_get_decode_ms (self->image));
  g_clear_pointer (&self->prediction, vitlens_result_unref);
  self->prediction = g_steal_pointer (&prediction);
}

void
_vitlens_window_classify_current (VitlensWindow *self)
{
  if (self->image == NULL || !has_model (self) || self->source != SOURCE_IMAGE)
    return;
  if (self->compare)
    {
      _vitlens_window_compare_image (self, FALSE);
      return;
    }
  if (!vitlens_inference_supports (self->inference, self->variant))
    return;

  _vitlens_window_begin_busy (self);
  vitlens_inference_classify_async (self->inference, vitlens_image_get_frame (self->image),
                                    self->variant,
                                    g_settings_get_int (self->settings, "top-k"),
                                    g_settings_get_int (self->settings, "threads"),
                                    self->cancellable, classify_done, g_object_ref (self));
}

/* ---------------------------------------------------------------------------------------------
 * Images */

static void
decode_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(VitlensWindow) self = user_data;
  g_autoptr(VitlensImage) image = NULL;
  g_autoptr(GError) error = NULL;

  image = vitlens_image_load_finish (result, &error);
  _vitlens_window_end_busy (self);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    {
      /* The previous image, model and results stay. */
      _vitlens_window_show_error_from (self, ERROR_FROM_IMAGE, error->message);
      vitlens_image_strip_set_selected (self->strip, self->shown_index);
      return;
    }

  _vitlens_window_hide_error_from (self, ERROR_FROM_IMAGE);
  self->shown_index = vitlens_image_strip_get_selected (self->strip);
  set_image (self, image);
  _vitlens_window_classify_current (self);
}

static void
open_file_at (VitlensWindow *self,
              guint          index)
{
  if (index >= self->files->len)
    return;

  if (self->decode_cancellable != NULL)
    g_cancellable_cancel (self->decode_cancellable);
  g_clear_object (&self->decode_cancellable);
  self->decode_cancellable = g_cancellable_new ();

  vitlens_image_strip_set_selected (self->strip, index);
  _vitlens_window_begin_busy (self);
  vitlens_image_load_async (g_ptr_array_index (self->files, index), self->decode_cancellable,
                            decode_done, g_object_ref (self));
}

void
vitlens_window_open_files (VitlensWindow *self,
                           GFile        **files,
                           guint          n_files)
{
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_if_fail (VITLENS_IS_WINDOW (self));

  for (guint i = 0; i < n_files; i++)
    {
      if (_vitlens_file_is_model (files[i]))
        vitlens_window_load_model (self, files[i]);
      else if (_vitlens_file_is_video (files[i]))
        vitlens_window_open_video (self, files[i]);
      else
        g_ptr_array_add (images, g_object_ref (files[i]));
    }
  if (images->len == 0)
    return;

  g_ptr_array_set_size (self->files, 0);
  for (guint i = 0; i < images->len; i++)
    g_ptr_array_add (self->files, g_object_ref (g_ptr_array_index (images, i)));

  vitlens_image_strip_set_files (self->strip, (GFile **)images->pdata, images->len);
  gtk_revealer_set_reveal_child (self->strip_revealer, images->len > 1);
  on_files_changed (self);
  self->shown_index = 0;
  open_file_at (self, 0);
}

static void
decode_bytes_done (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(VitlensWindow) self = user_data;
  g_autoptr(VitlensImage) image = NULL;
  g_autoptr(GError) error = NULL;

  image = vitlens_image_load_finish (result, &error);
  _vitlens_window_end_busy (self);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    {
      _vitlens_window_show_error_from (self, ERROR_FROM_IMAGE, error->message);
      return;
    }

  /* A pasted image stands alone. */
  _vitlens_window_hide_error_from (self, ERROR_FROM_IMAGE);
  g_ptr_array_set_size (self->files, 0);
  vitlens_image_strip_set_files (self->strip, NULL, 0);
  gtk_revealer_set_reveal_child (self->strip_revealer, FALSE);
  on_files_changed (self);
  set_image (self, image);
  _vitlens_window_classify_current (self);
}

void
vitlens_window_open_texture (VitlensWindow *self,
                             GdkTexture    *texture)
{
  g_autoptr(GBytes) png = NULL;

  g_return_if_fail (VITLENS_IS_WINDOW (self));
  g_return_if_fail (GDK_IS_TEXTURE (texture));

  /* Through PNG bytes, so a pasted image takes the same decoder as a file. */
  png = gdk_texture_save_to_png_bytes (texture);

  if (self->decode_cancellable != NULL)
    g_cancellable_cancel (self->decode_cancellable);
  g_clear_object (&self->decode_cancellable);
  self->decode_cancellable = g_cancellable_new ();

  _vitlens_window_begin_busy (self);
  vitlens_image_load_bytes_async (png, _("Pasted image"), self->decode_cancellable,
                                  decode_bytes_done, g_object_ref (self));
}

static void
on_strip_item_activated (VitlensImageStrip *strip,
                         guint              index,
                         VitlensWindow     *self)
{
  open_file_at (self, index);
}

/* ---------------------------------------------------------------------------------------------
 * Models */

typedef struct
{
  VitlensWindow *self;
  GFile         *file;
  gboolean       startup;  /* the window's first model */
  gboolean       fallback; /* the built-in model, after the startup model failed */
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_object_unref (data->self);
  g_clear_object (&data->file);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LoadData, load_data_free)

static void load_model_full (VitlensWindow *self,
                             GFile         *file,
                             gboolean       startup,
                             gboolean       fallback);

static void
model_done (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  VitlensWindow *self = data->self;
  g_autoptr(GError) error = NULL;
  const VitlensModelFacts *facts;
  vit_variant preferred;

  vitlens_inference_load_model_finish (VITLENS_INFERENCE (object), result, &error);
  _vitlens_window_end_busy (self);
  self->n_model_loads--;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  update_model_label (self);
  _vitlens_window_update_page (self);

  if (error != NULL)
    {
      if (g_error_matches (error, VITLENS_ERROR, VITLENS_ERROR_NO_MODEL))
        {
          /* No built-in model in this build: the "No Model Loaded" page says what to do. */
          if (!data->startup && !data->fallback)
            _vitlens_window_show_error_from (self, ERROR_FROM_MODEL, error->message);
          return;
        }
      _vitlens_window_show_error_from (self, ERROR_FROM_MODEL, error->message);
      /* The model of the last session is gone or broken: start with the built-in one. */
      if (data->startup && data->file != NULL && !has_model (self))
        load_model_full (self, NULL, TRUE, TRUE);
      return;
    }

  facts = vitlens_inference_get_model (self->inference);
  g_debug ("Model %s loaded: %s, %" G_GINT64_FORMAT " parameters",
           facts->display_name, facts->architecture, facts->num_params);

  /* After a fallback, the error about the model that failed stays up. */
  if (!data->fallback)
    _vitlens_window_hide_error_from (self, ERROR_FROM_MODEL);
  if (!data->fallback)
    vitlens_application_remember_model (VITLENS_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))),
                                        data->file);
  vitlens_results_panel_set_model (self->results_panel, facts);
  _vitlens_window_compare_model_changed (self);
  _vitlens_window_stream_model_changed (self);

  /* The variant: the preferred one at start; later the one selected if the new model has it,
   * else the preferred one, else the first the model has (a .vitq file has only int8). */
  preferred = g_settings_get_enum (self->settings, "default-variant");
  if (data->startup && facts->supports[preferred])
    self->variant = preferred;
  else if (!facts->supports[self->variant])
    {
      self->variant = preferred;
      for (int v = 0; v < VIT_VARIANT_COUNT && !facts->supports[self->variant]; v++)
        self->variant = v;
    }
  set_variant (self, self->variant, FALSE);

  /* The old results were another model's. */
  g_clear_pointer (&self->prediction, vitlens_result_unref);
  vitlens_results_panel_set_prediction (self->results_panel, NULL, 0);
  update_placeholder (self);
  _vitlens_window_classify_current (self);
}

static void
load_model_full (VitlensWindow *self,
                 GFile         *file,
                 gboolean       startup,
                 gboolean       fallback)
{
  LoadData *data = g_new0 (LoadData, 1);

  data->self = g_object_ref (self);
  data->file = file ? g_object_ref (file) : NULL;
  data->startup = startup;
  data->fallback = fallback;

  _vitlens_window_begin_busy (self);
  self->n_model_loads++;
  update_model_label (self);
  _vitlens_window_update_page (self);
  vitlens_inference_load_model_async (self->inference, file, self->cancellable,
                                      model_done, data);
}

void
vitlens_window_load_model (VitlensWindow *self,
                           GFile         *file)
{
  g_return_if_fail (VITLENS_IS_WINDOW (self));
  g_return_if_fail (file == NULL || G_IS_FILE (file));

  load_model_full (self, file, FALSE, FALSE);
}

/* ---------------------------------------------------------------------------------------------
 * Actions */

static void
action_open (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  _vitlens_window_choose_images (VITLENS_WINDOW (user_data));
}

static void
action_open_model (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  _vitlens_window_choose_model (VITLENS_WINDOW (user_data));
}

static void
action_load_embedded_model (GSimpleAction *action,
                            GVariant      *param,
                            gpointer       user_data)
{
  vitlens_window_load_model (VITLENS_WINDOW (user_data), NULL);
}

static void
action_open_recent_model (GSimpleAction *action,
                          GVariant      *param,
                          gpointer       user_data)
{
  g_autoptr(GFile) file = g_file_new_for_path (g_variant_get_string (param, NULL));

  vitlens_window_load_model (VITLENS_WINDOW (user_data), file);
}

static void
action_paste (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  _vitlens_window_paste (VITLENS_WINDOW (user_data));
}

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
  vit_variant variant;

  if (g_str_equal (g_variant_get_string (value, NULL), "compare"))
    {
      if (!has_model (self))
        {
          vitlens_window_show_error (self, _("Open a model first"));
          update_variant_buttons (self);
          return;
        }
      g_simple_action_set_state (action, value);
      if (!self->compare)
        _vitlens_window_set_compare (self, TRUE);
      update_variant_buttons (self);
      return;
    }
  if (vit_variant_parse (g_variant_get_string (value, NULL), &variant) != VIT_OK)
    return;

  if (variant != self->variant && !vitlens_inference_supports (self->inference, variant))
    {
      g_autofree char *message = NULL;

      if (has_model (self))
        message = g_strdup_printf (_("The %s variant is not available for this model"),
                                   vit_variant_name (variant));
      else
        message = g_strdup (_("Open a model first"));
      vitlens_window_show_error (self, message);
      update_variant_buttons (self);
      return;
    }

  g_simple_action_set_state (action, value);
  if (variant != self->variant || self->compare)
    set_variant (self, variant, TRUE);
}

static void
step_image (VitlensWindow *self,
            int            delta)
{
  guint n = self->files->len;
  guint current = vitlens_image_strip_get_selected (self->strip);

  if (n < 2)
    return;
  open_file_at (self, (current + n + delta) % n);
}

static void
action_previous_image (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  step_image (VITLENS_WINDOW (user_data), -1);
}

static void
action_next_image (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  step_image (VITLENS_WINDOW (user_data), +1);
}

static void
action_dismiss_error (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  hide_error (VITLENS_WINDOW (user_data));
}

static void
action_dismiss_notice (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  hide_notice (VITLENS_WINDOW (user_data));
}

static const GActionEntry win_entries[] = {
  { .name = "open", .activate = action_open },
  { .name = "open-model", .activate = action_open_model },
  { .name = "load-embedded-model", .activate = action_load_embedded_model },
  { .name = "open-recent-model", .activate = action_open_recent_model, .parameter_type = "s" },
  { .name = "paste", .activate = action_paste },
  { .name = "close", .activate = action_close },
  { .name = "fullscreen", .activate = action_fullscreen, .state = "false" },
  { .name = "variant", .parameter_type = "s", .state = "'fp32'", .change_state = change_variant_state },
  { .name = "previous-image", .activate = action_previous_image },
  { .name = "next-image", .activate = action_next_image },
  { .name = "dismiss-error", .activate = action_dismiss_error },
  { .name = "dismiss-notice", .activate = action_dismiss_notice },
};

static void
on_variant_toggled (GtkToggleButton *button,
                    VitlensWindow   *self)
{
  if (button == self->variant_compare_button && gtk_toggle_button_get_active (button))
    g_action_group_change_action_state (G_ACTION_GROUP (self), "variant",
                                        g_variant_new_string ("compare"));
  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    if (button == self->variant_buttons[v] && gtk_toggle_button_get_active (button))
      g_action_group_change_action_state (G_ACTION_GROUP (self), "variant",
                                          g_variant_new_string (vit_variant_name (v)));
}

static void
on_fullscreened (VitlensWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "fullscreen");

  g_simple_action_set_state (G_SIMPLE_ACTION (action),
                             g_variant_new_boolean (gtk_window_is_fullscreen (GTK_WINDOW (self))));
}

static void
on_files_changed (VitlensWindow *self)
{
  GAction *previous = g_action_map_lookup_action (G_ACTION_MAP (self), "previous-image");
  GAction *next = g_action_map_lookup_action (G_ACTION_MAP (self), "next-image");

  g_simple_action_set_enabled (G_SIMPLE_ACTION (previous), self->files->len > 1);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (next), self->files->len > 1);
}

static void
on_setting_changed (GSettings     *settings,
                    const char    *key,
                    VitlensWindow *self)
{
  /* Another number of threads or of results: run again, in place. Times taken with another
   * number of threads are not comparable: compare mode starts its statistics again. */
  if (g_str_equal (key, "threads"))
    vitlens_compare_view_reset (self->compare_view);
  _vitlens_window_stream_settings_changed (self);
  _vitlens_window_classify_current (self);
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
  g_autoptr(GFile) startup_model = NULL;

  self->settings = g_object_ref (vitlens_application_get_settings (app));
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  g_signal_connect_object (self->settings, "changed::threads",
                           G_CALLBACK (on_setting_changed), self, 0);
  g_signal_connect_object (self->settings, "changed::top-k",
                           G_CALLBACK (on_setting_changed), self, 0);
  /* Translators: the model menu's section of the models opened last */
  g_menu_append_section (self->model_menu, _("Recent Models"), vitlens_application_get_recent_models (app));

  startup_model = vitlens_application_get_startup_model (app);
  load_model_full (self, startup_model, TRUE, FALSE);
}

static void
vitlens_window_dispose (GObject *object)
{
  VitlensWindow *self = (VitlensWindow *)object;

  /* Every callback still to come sees G_IO_ERROR_CANCELLED and leaves the widgets alone. */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->decode_cancellable != NULL)
    g_cancellable_cancel (self->decode_cancellable);

  /* The camera first: stopping it joins its streaming threads, so no frame comes after. */
  _vitlens_window_dispose_stream (self);
  g_clear_handle_id (&self->notice_timeout, g_source_remove);

  gtk_widget_dispose_template (GTK_WIDGET (self), VITLENS_TYPE_WINDOW);

  g_clear_object (&self->inference);
  g_clear_object (&self->image);
  g_clear_object (&self->compared_image);
  g_clear_pointer (&self->prediction, vitlens_result_unref);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (vitlens_window_parent_class)->dispose (object);
}

static void
vitlens_window_finalize (GObject *object)
{
  VitlensWindow *self = (VitlensWindow *)object;

  g_clear_object (&self->cancellable);
  g_clear_object (&self->decode_cancellable);
  g_clear_pointer (&self->files, g_ptr_array_unref);

  G_OBJECT_CLASS (vitlens_window_parent_class)->finalize (object);
}

static void
vitlens_window_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  VitlensWindow *self = VITLENS_WINDOW (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, vitlens_window_get_busy (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_window_class_init (VitlensWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = vitlens_window_dispose;
  object_class->finalize = vitlens_window_finalize;
  object_class->get_property = vitlens_window_get_property;
  window_class->close_request = vitlens_window_close_request;

  /**
   * VitlensWindow:busy:
   *
   * Whether an image is being decoded, a model loaded or an image classified.
   */
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (VITLENS_TYPE_COMPARE_VIEW);
  g_type_ensure (VITLENS_TYPE_IMAGE_STRIP);
  g_type_ensure (VITLENS_TYPE_RESULTS_PANEL);
  g_type_ensure (VITLENS_TYPE_STREAM_OVERLAY);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               APP_RESOURCE_PATH "/ui/vitlens-window.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, source_image_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, variant_fp32_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, variant_int8_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, variant_optimized_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, variant_compare_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, mode_stack);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, compare_view);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, stream_picture);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, stream_caption);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, stream_overlay);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, stream_status);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, stream_spinner);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, stream_status_title);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, stream_status_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, stream_status_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, stream_bar_revealer);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, play_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, camera_dropdown);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, open_video_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, loop_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, stream_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, model_menu_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, model_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, busy_spinner);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, notice_revealer);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, notice_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, image_area);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, image_stack);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, picture);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, image_caption);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, drop_revealer);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, strip_revealer);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, strip);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, results_panel);
  gtk_widget_class_bind_template_child (widget_class, VitlensWindow, model_menu);
  gtk_widget_class_bind_template_callback (widget_class, on_strip_item_activated);
}

static void
vitlens_window_init (VitlensWindow *self)
{
  GAction *embedded;
  size_t embedded_size = 0;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->inference = vitlens_inference_new ();
  self->files = g_ptr_array_new_with_free_func (g_object_unref);
  self->variant = VIT_VARIANT_FP32;

  self->variant_buttons[VIT_VARIANT_FP32] = self->variant_fp32_button;
  self->variant_buttons[VIT_VARIANT_INT8] = self->variant_int8_button;
  self->variant_buttons[VIT_VARIANT_OPTIMIZED] = self->variant_optimized_button;
  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    g_signal_connect (self->variant_buttons[v], "toggled", G_CALLBACK (on_variant_toggled), self);
  g_signal_connect (self->variant_compare_button, "toggled", G_CALLBACK (on_variant_toggled), self);

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_entries, G_N_ELEMENTS (win_entries), self);
  _vitlens_window_init_compare (self);
  _vitlens_window_init_stream (self);
  embedded = g_action_map_lookup_action (G_ACTION_MAP (self), "load-embedded-model");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (embedded), vitlens_data_model (&embedded_size) != NULL);
  on_files_changed (self);

  g_signal_connect (self, "notify::fullscreened", G_CALLBACK (on_fullscreened), NULL);

  _vitlens_window_init_dnd (self);

  update_variant_buttons (self);
  _vitlens_window_update_page (self);
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

/* ---------------------------------------------------------------------------------------------
 * State, for tests */

gboolean
vitlens_window_get_busy (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), FALSE);
  return self->n_pending > 0;
}

vit_variant
vitlens_window_get_variant (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), VIT_VARIANT_FP32);
  return self->variant;
}

VitlensImage *
vitlens_window_get_image (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);
  return self->image;
}

const char *
vitlens_window_get_error_message (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->banner_revealer))
    return NULL;
  return gtk_label_get_label (self->banner_label);
}

const char *
vitlens_window_get_notice (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->notice_revealer))
    return NULL;
  return gtk_label_get_label (self->notice_label);
}

VitlensResultsPanel *
vitlens_window_get_results_panel (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);
  return self->results_panel;
}

GtkWidget *
vitlens_window_get_variant_button (VitlensWindow *self,
                                   vit_variant    variant)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);
  g_return_val_if_fail (variant >= 0 && variant < VIT_VARIANT_COUNT, NULL);
  return GTK_WIDGET (self->variant_buttons[variant]);
}

GtkDropTarget *
vitlens_window_get_drop_target (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);
  return self->drop_target;
}

const char *
vitlens_window_get_page (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->image_stack);
}

guint
vitlens_window_get_n_files (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), 0);
  return self->files->len;
}

VitlensCompareView *
vitlens_window_get_compare_view (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);
  return self->compare_view;
}

gboolean
vitlens_window_get_compare (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), FALSE);
  return self->compare;
}

const char *
vitlens_window_get_source (VitlensWindow *self)
{
  static const char *names[] = { [SOURCE_IMAGE] = "image", [SOURCE_CAMERA] = "camera", [SOURCE_VIDEO] = "video" };

  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);
  return names[self->source];
}

VitlensCamera *
vitlens_window_get_camera (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);
  return self->camera;
}

VitlensStreamOverlay *
vitlens_window_get_stream_overlay (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);
  return self->stream_overlay;
}

guint64
vitlens_window_get_n_frames_shown (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), 0);
  return self->n_frames_shown;
}

guint64
vitlens_window_get_n_stream_results (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), 0);
  return self->n_results_shown;
}

GListModel *
vitlens_window_get_camera_list (VitlensWindow *self)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), NULL);
  return G_LIST_MODEL (self->camera_names);
}
