/* vitlens-image-strip.c — thumbnails of the images opened together, to step through
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Emits ::item-activated (index) when a thumbnail is clicked. Thumbnails come from
 * gdk-pixbuf at a small size, one file at a time in a GTask thread; they are only a preview,
 * the image shown and classified is always decoded by the engine. An item that cannot be shown
 * (gone, a folder, not an image: found by its thumbnail or by the engine's decoder) is marked
 * broken: a warning icon, dimmed, the problem in its tooltip; stepping through skips it.
 */
#define G_LOG_DOMAIN "vitlens-image-strip"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-image-strip.h"

#define THUMBNAIL_SIZE 56

struct _VitlensImageStrip
{
  GtkBox        parent_instance;

  GtkBox       *items_box;

  GPtrArray    *files;    /* GFile */
  GPtrArray    *buttons;  /* GtkToggleButton, borrowed from items_box */
  GArray       *broken;   /* gboolean per item */
  guint         selected;
  gboolean      updating;
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (VitlensImageStrip, vitlens_image_strip, GTK_TYPE_BOX)

enum {
  ITEM_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void load_thumbnail (VitlensImageStrip *self,
                            guint              index);

static void
thumbnail_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  GFile *file = task_data;
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkPixbuf) oriented = NULL;
  GError *error = NULL;

  /* Only regular files: reading a FIFO dropped by mistake would block this thread forever. */
  switch (g_file_query_file_type (file, G_FILE_QUERY_INFO_NONE, cancellable))
    {
    case G_FILE_TYPE_REGULAR:
      break;
    case G_FILE_TYPE_UNKNOWN:
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s", _("No such file"));
      return;
    case G_FILE_TYPE_DIRECTORY:
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, "%s", _("A folder, not an image"));
      return;
    default:
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "%s", _("Not a regular file"));
      return;
    }
  stream = g_file_read (file, cancellable, &error);
  if (stream != NULL)
    pixbuf = gdk_pixbuf_new_from_stream_at_scale (G_INPUT_STREAM (stream),
                                                  4 * THUMBNAIL_SIZE, 4 * THUMBNAIL_SIZE,
                                                  TRUE, cancellable, &error);
  if (pixbuf == NULL)
    {
      g_debug ("No thumbnail: %s", error->message);
      g_clear_error (&error);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", _("Not an image that can be read"));
      return;
    }

  /* Same orientation as the engine's decoder; then the centre square, for a tidy strip. */
  oriented = gdk_pixbuf_apply_embedded_orientation (pixbuf);
  {
    int w = gdk_pixbuf_get_width (oriented), h = gdk_pixbuf_get_height (oriented);
    int side = MIN (w, h);
    g_autoptr(GdkPixbuf) square = gdk_pixbuf_new_subpixbuf (oriented, (w - side) / 2, (h - side) / 2,
                                                            side, side);
    g_autoptr(GdkPixbuf) scaled = gdk_pixbuf_scale_simple (square, 2 * THUMBNAIL_SIZE,
                                                           2 * THUMBNAIL_SIZE, GDK_INTERP_BILINEAR);

    g_task_return_pointer (task, gdk_texture_new_for_pixbuf (scaled), g_object_unref);
  }
}

static void
thumbnail_done (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  VitlensImageStrip *self = VITLENS_IMAGE_STRIP (object);
  guint index = GPOINTER_TO_UINT (user_data);
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *thumbnail;

  texture = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (index >= self->buttons->len)
    return;

  thumbnail = gtk_button_get_child (GTK_BUTTON (g_ptr_array_index (self->buttons, index)));
  gtk_widget_remove_css_class (thumbnail, "loading");
  if (vitlens_image_strip_get_broken (self, index))
    ; /* the engine's decoder said so first: its words stay */
  else if (texture != NULL)
    gtk_image_set_from_paintable (GTK_IMAGE (thumbnail), GDK_PAINTABLE (texture));
  else
    vitlens_image_strip_set_broken (self, index, error->message);

  load_thumbnail (self, index + 1);
}

static void
load_thumbnail (VitlensImageStrip *self,
                guint              index)
{
  g_autoptr(GTask) task = NULL;

  if (index >= self->files->len)
    return;

  task = g_task_new (self, self->cancellable, thumbnail_done, GUINT_TO_POINTER (index));
  g_task_set_source_tag (task, load_thumbnail);
  g_task_set_task_data (task, g_object_ref (g_ptr_array_index (self->files, index)), g_object_unref);
  g_task_run_in_thread (task, thumbnail_thread);
}

static void
on_item_toggled (GtkToggleButton   *button,
                 VitlensImageStrip *self)
{
  guint index;

  if (self->updating || !gtk_toggle_button_get_active (button))
    return;
  if (!g_ptr_array_find (self->buttons, button, &index))
    return;

  self->selected = index;
  g_signal_emit (self, signals[ITEM_ACTIVATED], 0, index);
}

static void
clear_items (VitlensImageStrip *self)
{
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->items_box))))
    gtk_box_remove (self->items_box, child);
  g_ptr_array_set_size (self->buttons, 0);
  g_ptr_array_set_size (self->files, 0);
  g_array_set_size (self->broken, 0);
  self->selected = 0;
}

static void
vitlens_image_strip_dispose (GObject *object)
{
  VitlensImageStrip *self = (VitlensImageStrip *)object;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (vitlens_image_strip_parent_class)->dispose (object);
}

static void
vitlens_image_strip_finalize (GObject *object)
{
  VitlensImageStrip *self = (VitlensImageStrip *)object;

  g_clear_pointer (&self->files, g_ptr_array_unref);
  g_clear_pointer (&self->buttons, g_ptr_array_unref);
  g_clear_pointer (&self->broken, g_array_unref);

  G_OBJECT_CLASS (vitlens_image_strip_parent_class)->finalize (object);
}

static void
vitlens_image_strip_class_init (VitlensImageStripClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = vitlens_image_strip_dispose;
  object_class->finalize = vitlens_image_strip_finalize;

  /**
   * VitlensImageStrip::item-activated:
   * @index: the thumbnail clicked
   */
  signals[ITEM_ACTIVATED] =
    g_signal_new ("item-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               APP_RESOURCE_PATH "/ui/vitlens-image-strip.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensImageStrip, items_box);
  gtk_widget_class_set_css_name (widget_class, "imagestrip");
}

static void
vitlens_image_strip_init (VitlensImageStrip *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->files = g_ptr_array_new_with_free_func (g_object_unref);
  self->buttons = g_ptr_array_new ();
  self->broken = g_array_new (FALSE, TRUE, sizeof (gboolean));
}

GtkWidget *
vitlens_image_strip_new (void)
{
  return g_object_new (VITLENS_TYPE_IMAGE_STRIP, NULL);
}

void
vitlens_image_strip_set_files (VitlensImageStrip *self,
                               GFile            **files,
                               guint              n_files)
{
  GtkToggleButton *group = NULL;

  g_return_if_fail (VITLENS_IS_IMAGE_STRIP (self));

  clear_items (self);
  self->cancellable = g_cancellable_new ();

  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *name = g_file_get_basename (files[i]);
      GtkWidget *button = gtk_toggle_button_new ();
      GtkWidget *thumbnail = gtk_image_new_from_icon_name ("image-x-generic-symbolic");

      /* A GtkImage draws its paintable at pixel-size, whatever the texture's size. */
      gtk_image_set_pixel_size (GTK_IMAGE (thumbnail), THUMBNAIL_SIZE);
      gtk_widget_set_overflow (thumbnail, GTK_OVERFLOW_HIDDEN);
      gtk_widget_add_css_class (thumbnail, "loading");
      gtk_button_set_child (GTK_BUTTON (button), thumbnail);
      gtk_widget_add_css_class (button, "thumbnail");
      gtk_widget_set_tooltip_text (button, name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                      -1);
      if (group != NULL)
        gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (button), group);
      else
        group = GTK_TOGGLE_BUTTON (button);
      g_signal_connect (button, "toggled", G_CALLBACK (on_item_toggled), self);

      gtk_box_append (self->items_box, button);
      g_ptr_array_add (self->buttons, button);
      g_ptr_array_add (self->files, g_object_ref (files[i]));
    }
  g_array_set_size (self->broken, n_files);

  if (n_files > 0)
    vitlens_image_strip_set_selected (self, 0);
  load_thumbnail (self, 0);
}

guint
vitlens_image_strip_get_n_items (VitlensImageStrip *self)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE_STRIP (self), 0);

  return self->buttons->len;
}

void
vitlens_image_strip_set_selected (VitlensImageStrip *self,
                                  guint              index)
{
  GtkWidget *button;

  g_return_if_fail (VITLENS_IS_IMAGE_STRIP (self));

  if (index >= self->buttons->len)
    return;

  button = g_ptr_array_index (self->buttons, index);
  self->selected = index;
  self->updating = TRUE;
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (button), TRUE);
  self->updating = FALSE;
}

guint
vitlens_image_strip_get_selected (VitlensImageStrip *self)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE_STRIP (self), 0);

  return self->selected;
}

void
vitlens_image_strip_set_broken (VitlensImageStrip *self,
                                guint              index,
                                const char        *problem)
{
  g_autofree char *name = NULL;
  g_autofree char *tooltip = NULL;
  GtkWidget *button;
  GtkWidget *thumbnail;

  g_return_if_fail (VITLENS_IS_IMAGE_STRIP (self));

  if (index >= self->buttons->len)
    return;

  button = g_ptr_array_index (self->buttons, index);
  thumbnail = gtk_button_get_child (GTK_BUTTON (button));
  name = g_file_get_basename (g_ptr_array_index (self->files, index));
  /* The engine's messages start with the file name already. */
  if (g_str_has_prefix (problem, name))
    tooltip = g_strdup (problem);
  else
    /* Translators: the tooltip of an image that cannot be shown: its file name, the problem */
    tooltip = g_strdup_printf (_("%s: %s"), name, problem);

  g_array_index (self->broken, gboolean, index) = TRUE;
  gtk_image_set_from_icon_name (GTK_IMAGE (thumbnail), "dialog-warning-symbolic");
  gtk_widget_remove_css_class (thumbnail, "loading");
  gtk_widget_add_css_class (thumbnail, "missing");
  gtk_widget_add_css_class (button, "broken");
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, tooltip,
                                  -1);
}

gboolean
vitlens_image_strip_get_broken (VitlensImageStrip *self,
                                guint              index)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE_STRIP (self), FALSE);

  return index < self->broken->len && g_array_index (self->broken, gboolean, index);
}
