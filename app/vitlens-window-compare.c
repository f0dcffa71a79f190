/* vitlens-window-compare.c — compare mode: every variant on the same input
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * "Compare" beside fp32 · int8 · optimized (Alt+4) swaps the image and results for a
 * VitlensCompareView. An image runs COMPARE_IMAGE_RUNS rounds over every variant (Run Again adds
 * as many); a stream sends each frame it shows through every variant once. All engine work is
 * the window's VitlensInference's, on its worker thread, newest wins: a frame shown while the
 * comparison before it runs replaces the one still waiting, so the engine never queues frames.
 * This file only asks and shows.
 */
#define G_LOG_DOMAIN "vitlens-window"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-window-private.h"

/* Rounds over every variant per request for an image (variants in rotating order). */
#define COMPARE_IMAGE_RUNS 5

typedef struct
{
  VitlensWindow *self;
  VitlensImage  *image;        /* NULL: a stream's frame */
  gboolean       new_input;
  gint64         capture_time; /* frames: g_get_monotonic_time() of the capture; else -1 */
} CompareData;

static void
compare_data_free (CompareData *data)
{
  g_object_unref (data->self);
  g_clear_object (&data->image);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CompareData, compare_data_free)

static gboolean
stream_paused (VitlensWindow *self)
{
  return self->camera != NULL && vitlens_camera_get_state (self->camera) == VITLENS_CAMERA_STATE_PAUSED;
}

static void
compare_done (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(CompareData) data = user_data;
  VitlensWindow *self = data->self;
  g_autoptr(VitlensComparison) comparison = NULL;
  g_autoptr(GError) error = NULL;
  const VitlensModelFacts *facts;

  comparison = vitlens_inference_compare_finish (VITLENS_INFERENCE (object), result, &error);
  if (data->image != NULL)
    _vitlens_window_end_busy (self);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    {
      _vitlens_window_show_error_from (self, data->image ? ERROR_FROM_IMAGE : ERROR_FROM_STREAM,
                                       error->message);
      return;
    }

  /* Answers no longer wanted: compare mode left, another image, another model, a pause. */
  facts = vitlens_inference_get_model (self->inference);
  if (!self->compare || facts == NULL || comparison->model_serial != facts->serial)
    return;
  if (data->image != NULL && (data->image != self->image || self->source != SOURCE_IMAGE))
    return;
  if (data->image == NULL && (self->source == SOURCE_IMAGE || stream_paused (self)))
    return;

  if (data->image == NULL)
    self->n_compared_frames++;
  vitlens_compare_view_add (self->compare_view, comparison, data->new_input, data->capture_time);
}

void
_vitlens_window_compare_image (VitlensWindow *self,
                               gboolean       again)
{
  CompareData *data;

  if (self->image == NULL || vitlens_inference_get_model (self->inference) == NULL)
    return;

  data = g_new0 (CompareData, 1);
  data->self = g_object_ref (self);
  data->image = g_object_ref (self->image);
  /* A re-run adds times, not another input to agree on. */
  data->new_input = !again && self->compared_image != self->image;
  data->capture_time = -1;
  g_set_object (&self->compared_image, self->image);

  _vitlens_window_begin_busy (self);
  vitlens_inference_compare_async (self->inference, vitlens_image_get_frame (self->image),
                                   COMPARE_IMAGE_RUNS,
                                   g_settings_get_int (self->settings, "top-k"),
                                   g_settings_get_int (self->settings, "threads"),
                                   self->cancellable, compare_done, data);
}

void
_vitlens_window_compare_frame (VitlensWindow *self,
                               VitlensFrame  *frame)
{
  CompareData *data;

  if (!self->compare || self->inference == NULL || vitlens_inference_get_model (self->inference) == NULL)
    return;

  data = g_new0 (CompareData, 1);
  data->self = g_object_ref (self);
  data->new_input = TRUE;
  data->capture_time = vitlens_frame_get_capture_time (frame);

  vitlens_inference_compare_async (self->inference, frame, 1,
                                   g_settings_get_int (self->settings, "top-k"),
                                   g_settings_get_int (self->settings, "threads"),
                                   self->cancellable, compare_done, data);
}

/* ---------------------------------------------------------------------------------------------
 * Mode */

static void
update_actions (VitlensWindow *self)
{
  GAction *again = g_action_map_lookup_action (G_ACTION_MAP (self), "compare-again");

  g_simple_action_set_enabled (G_SIMPLE_ACTION (again),
                               self->compare && self->source == SOURCE_IMAGE && self->image != NULL);
}

/* What the view says it compares on, and shows beside the chart. */
void
_vitlens_window_compare_update_source (VitlensWindow *self)
{
  if (self->source == SOURCE_IMAGE)
    {
      vitlens_compare_view_set_source (self->compare_view,
                                       self->image ? vitlens_image_get_name (self->image) : NULL,
                                       FALSE);
      vitlens_compare_view_set_preview (self->compare_view,
                                        self->image ? GDK_PAINTABLE (vitlens_image_get_texture (self->image)) : NULL);
    }
  else
    {
      vitlens_compare_view_set_source (self->compare_view, _vitlens_window_stream_name (self), TRUE);
      vitlens_compare_view_set_preview (self->compare_view, gtk_picture_get_paintable (self->stream_picture));
    }
  update_actions (self);
}

void
_vitlens_window_compare_model_changed (VitlensWindow *self)
{
  const VitlensModelFacts *facts = vitlens_inference_get_model (self->inference);

  if (facts != NULL && facts->serial == self->compare_model_serial)
    return;
  self->compare_model_serial = facts ? facts->serial : 0;
  g_clear_object (&self->compared_image);
  vitlens_compare_view_set_model (self->compare_view, facts);
}

void
_vitlens_window_set_compare (VitlensWindow *self,
                             gboolean       compare)
{
  self->compare = compare;
  gtk_stack_set_visible_child_name (self->mode_stack, compare ? "compare" : "single");
  _vitlens_window_compare_model_changed (self);
  _vitlens_window_compare_update_source (self);
  /* Streams: frames go to the inference for one variant, or are compared here. */
  _vitlens_window_update_inference_route (self);
  if (compare && self->source == SOURCE_IMAGE)
    _vitlens_window_compare_image (self, FALSE);
}

/* ---------------------------------------------------------------------------------------------
 * Actions */

static void
action_compare_again (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  _vitlens_window_compare_image (VITLENS_WINDOW (user_data), TRUE);
}

static void
action_compare_reset (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  VitlensWindow *self = VITLENS_WINDOW (user_data);

  g_clear_object (&self->compared_image);
  vitlens_compare_view_reset (self->compare_view);
}

/* Write the three files and say which, or show why not. */
static void
export_comparison (VitlensWindow *self,
                   const char    *path)
{
  g_auto(GStrv) paths = vitlens_compare_view_export_paths (path);
  g_autoptr(GError) error = NULL;

  if (!vitlens_compare_view_export (self->compare_view, path, &error))
    {
      /* Translators: %s says why, e.g. "Permission denied" */
      g_autofree char *message = g_strdup_printf (_("The comparison was not saved: %s"), error->message);

      vitlens_window_show_error (self, message);
    }
  else
    {
      g_autofree char *csv = g_path_get_basename (paths[0]);
      g_autofree char *md = g_path_get_basename (paths[1]);
      g_autofree char *png = g_path_get_basename (paths[2]);
      g_autofree char *tooltip = g_strjoinv ("\n", paths);
      /* Translators: the confirmation after Export…; the CSV, Markdown and PNG files' names */
      g_autofree char *message = g_strdup_printf (_("Saved %s, %s and %s"), csv, md, png);

      _vitlens_window_show_notice (self, message, tooltip);
    }
}

static void
on_replace_response (GtkDialog     *dialog,
                     int            response,
                     VitlensWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    export_comparison (self, g_object_get_data (G_OBJECT (dialog), "vitlens-export-path"));
  gtk_window_destroy (GTK_WINDOW (dialog));
}

void
vitlens_window_export_comparison (VitlensWindow *self,
                                  GFile         *file)
{
  g_autofree char *path = NULL;
  g_auto(GStrv) paths = NULL;
  g_autoptr(GPtrArray) existing = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *folder_name = NULL;
  g_autofree char *names = NULL;
  GtkWidget *dialog;
  GtkWidget *replace;

  g_return_if_fail (VITLENS_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  path = g_file_get_path (file);
  if (path == NULL)
    {
      vitlens_window_show_error (self, _("The comparison can only be saved in a local folder"));
      return;
    }

  /* The chooser asked about the name typed; BASE.csv, .md and .png are the window's to ask. */
  paths = vitlens_compare_view_export_paths (path);
  existing = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; paths[i] != NULL; i++)
    if (!g_str_equal (paths[i], path) && g_file_test (paths[i], G_FILE_TEST_EXISTS))
      g_ptr_array_add (existing, g_path_get_basename (paths[i]));
  if (existing->len == 0)
    {
      export_comparison (self, path);
      return;
    }

  g_ptr_array_add (existing, NULL);
  names = g_strjoinv ("\n", (char **)existing->pdata);
  folder = g_path_get_dirname (paths[0]);
  folder_name = g_filename_display_basename (folder);
  dialog = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s",
                                   g_dngettext (GETTEXT_PACKAGE, "Replace the existing file?",
                                                "Replace the existing files?", existing->len - 1));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            /* Translators: %s is a folder's name; the files' names follow, one a line */
                                            g_dngettext (GETTEXT_PACKAGE, "This file in “%s” will be overwritten:\n%s",
                                                         "These files in “%s” will be overwritten:\n%s",
                                                         existing->len - 1),
                                            folder_name, names);
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
  replace = gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Replace"), GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (replace, "destructive-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  g_object_set_data_full (G_OBJECT (dialog), "vitlens-export-path", g_steal_pointer (&path), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_replace_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_export_chosen (GtkNativeDialog *native,
                  int              response,
                  VitlensWindow   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

      if (file != NULL)
        vitlens_window_export_comparison (self, file);
    }

  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

static void
action_compare_export (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  VitlensWindow *self = VITLENS_WINDOW (user_data);
  GtkFileChooserNative *native;
  const char *documents = g_get_user_special_dir (G_USER_DIRECTORY_DOCUMENTS);

  if (vitlens_compare_view_get_n_columns (self->compare_view) == 0)
    {
      vitlens_window_show_error (self, _("There is nothing to export yet: no comparison has run"));
      return;
    }

  native = gtk_file_chooser_native_new (_("Export Comparison"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  /* Translators: the file name proposed for an exported comparison; .csv, .md and .png are added */
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), _("vitlens-comparison"));
  if (documents != NULL)
    {
      g_autoptr(GFile) folder = g_file_new_for_path (documents);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (native), folder, NULL);
    }
  g_signal_connect_object (native, "response", G_CALLBACK (on_export_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static const GActionEntry compare_entries[] = {
  { .name = "compare-again", .activate = action_compare_again },
  { .name = "compare-reset", .activate = action_compare_reset },
  { .name = "compare-export", .activate = action_compare_export },
};

void
_vitlens_window_init_compare (VitlensWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), compare_entries,
                                   G_N_ELEMENTS (compare_entries), self);
  update_actions (self);
}
