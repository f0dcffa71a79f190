/* vitlens-window-dnd.c — the ways in: drag and drop, paste, and the file choosers
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Every path ends in vitlens_window_open_files() or vitlens_window_open_texture(), so a drop,
 * Open…, Ctrl+V and `vitlens photo.jpg` decode and classify the same way.
 */
#define G_LOG_DOMAIN "vitlens-window"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-window-private.h"

gboolean
_vitlens_file_is_model (GFile *file)
{
  static const char *suffixes[] = { ".safetensors", ".vitq", ".vitl" };
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = name ? g_ascii_strdown (name, -1) : NULL;

  if (lower == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_has_suffix (lower, suffixes[i]))
      return TRUE;
  return FALSE;
}

static void
open_file_slist (VitlensWindow *self,
                 GSList        *list)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new ();

  for (GSList *l = list; l != NULL; l = l->next)
    g_ptr_array_add (files, l->data);
  if (files->len > 0)
    vitlens_window_open_files (self, (GFile **)files->pdata, files->len);
}

/* ---------------------------------------------------------------------------------------------
 * Drag and drop */

static void
set_drop_highlight (VitlensWindow *self,
                    gboolean       active)
{
  gtk_revealer_set_reveal_child (self->drop_revealer, active);
  if (active)
    gtk_widget_add_css_class (self->image_area, "drop-active");
  else
    gtk_widget_remove_css_class (self->image_area, "drop-active");
}

static GdkDragAction
on_drop_enter (GtkDropTarget *target,
               double         x,
               double         y,
               VitlensWindow *self)
{
  set_drop_highlight (self, TRUE);
  return GDK_ACTION_COPY;
}

static void
on_drop_leave (GtkDropTarget *target,
               VitlensWindow *self)
{
  set_drop_highlight (self, FALSE);
}

/* Uses only @value: a synthetic emission (tests) has no GdkDrop behind it. */
static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         VitlensWindow *self)
{
  set_drop_highlight (self, FALSE);

  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *list = gdk_file_list_get_files (g_value_get_boxed (value));
      gboolean any = list != NULL;

      open_file_slist (self, list);
      g_slist_free (list);
      return any;
    }
  if (G_VALUE_HOLDS (value, G_TYPE_FILE))
    {
      GFile *file = g_value_get_object (value);

      if (file == NULL)
        return FALSE;
      vitlens_window_open_files (self, &file, 1);
      return TRUE;
    }
  if (G_VALUE_HOLDS (value, GDK_TYPE_TEXTURE))
    {
      GdkTexture *texture = g_value_get_object (value);

      if (texture == NULL)
        return FALSE;
      vitlens_window_open_texture (self, texture);
      return TRUE;
    }

  return FALSE;
}

void
_vitlens_window_init_dnd (VitlensWindow *self)
{
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE, GDK_TYPE_TEXTURE };

  self->drop_target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (self->drop_target, types, G_N_ELEMENTS (types));
  g_signal_connect (self->drop_target, "enter", G_CALLBACK (on_drop_enter), self);
  g_signal_connect (self->drop_target, "leave", G_CALLBACK (on_drop_leave), self);
  g_signal_connect (self->drop_target, "drop", G_CALLBACK (on_drop), self);
  /* The whole window takes drops; the image area lights up. */
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (self->drop_target));
}

/* ---------------------------------------------------------------------------------------------
 * Paste: files first (a file manager's Copy), then an image (a browser's Copy Image) */

static void
paste_texture_done (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(VitlensWindow) self = user_data;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (object), result, &error);
  _vitlens_window_end_busy (self);

  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  if (texture == NULL)
    {
      g_debug ("Paste: %s", error ? error->message : "no texture");
      _vitlens_window_show_image_error (self, _("The clipboard holds no image and no image file"));
      return;
    }
  vitlens_window_open_texture (self, texture);
}

static void
paste_value_done (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(VitlensWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  GdkClipboard *clipboard = GDK_CLIPBOARD (object);
  const GValue *value;

  value = gdk_clipboard_read_value_finish (clipboard, result, &error);
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      _vitlens_window_end_busy (self);
      return;
    }

  if (value != NULL && G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *list = gdk_file_list_get_files (g_value_get_boxed (value));

      if (list != NULL)
        {
          _vitlens_window_end_busy (self);
          open_file_slist (self, list);
          g_slist_free (list);
          return;
        }
    }
  else if (value != NULL && G_VALUE_HOLDS (value, G_TYPE_FILE) && g_value_get_object (value))
    {
      GFile *file = g_value_get_object (value);

      _vitlens_window_end_busy (self);
      vitlens_window_open_files (self, &file, 1);
      return;
    }

  /* No files: an image, maybe. Still busy; the ref goes on to the next callback. */
  {
    GCancellable *cancellable = self->cancellable;

    gdk_clipboard_read_texture_async (clipboard, cancellable, paste_texture_done,
                                      g_steal_pointer (&self));
  }
}

void
_vitlens_window_paste (VitlensWindow *self)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  GdkContentFormats *formats = gdk_clipboard_get_formats (clipboard);
  GType type = GDK_TYPE_FILE_LIST;

  if (gdk_content_formats_contain_gtype (formats, G_TYPE_FILE) &&
      !gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    type = G_TYPE_FILE;

  _vitlens_window_begin_busy (self);
  gdk_clipboard_read_value_async (clipboard, type, G_PRIORITY_DEFAULT, self->cancellable,
                                  paste_value_done, g_object_ref (self));
}

/* ---------------------------------------------------------------------------------------------
 * File choosers (GtkFileChooserNative: GTK 4.8 has no GtkFileDialog) */

static void
on_images_chosen (GtkNativeDialog *native,
                  int              response,
                  VitlensWindow   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (native));
      g_autoptr(GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));
      if (array->len > 0)
        vitlens_window_open_files (self, (GFile **)array->pdata, array->len);
    }

  /* A hidden chooser left alive would keep a toplevel around. */
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

void
_vitlens_window_choose_images (VitlensWindow *self)
{
  GtkFileChooserNative *native;
  g_autoptr(GtkFileFilter) images = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  native = gtk_file_chooser_native_new (_("Open Images"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (native), TRUE);

  gtk_file_filter_set_name (images, _("PNG and JPEG Images"));
  gtk_file_filter_add_mime_type (images, "image/png");
  gtk_file_filter_add_mime_type (images, "image/jpeg");
  gtk_file_filter_add_suffix (images, "png");
  gtk_file_filter_add_suffix (images, "jpg");
  gtk_file_filter_add_suffix (images, "jpeg");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), images);
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), all);

  g_signal_connect_object (native, "response", G_CALLBACK (on_images_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
on_model_chosen (GtkNativeDialog *native,
                 int              response,
                 VitlensWindow   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

      if (file != NULL)
        vitlens_window_load_model (self, file);
    }

  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

void
_vitlens_window_choose_model (VitlensWindow *self)
{
  GtkFileChooserNative *native;
  g_autoptr(GtkFileFilter) models = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  native = gtk_file_chooser_native_new (_("Open Model"), GTK_WINDOW (self),
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
