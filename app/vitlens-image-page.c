/* vitlens-image-page.c — images: the one shown, the ones opened with it, and its results
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * The page shows one image at a time with its results. Images decode in a GTask thread and are
 * classified on the VitlensInference's worker; each callback holds a ref on the page and first
 * checks for G_IO_ERROR_CANCELLED (what dispose and newer requests cause), so a late answer
 * never touches a page that is going away, and a stale one (for an image or variant no longer
 * shown) is dropped. Whatever changes what the image would be classified with (the model, the
 * variant, the preferences) asks for one classification, in an idle, so that several changes
 * at once run the image once. Paste and Open… hand their files to the window (::open-files),
 * which tells images from models and videos.
 */
#define G_LOG_DOMAIN "vitlens-image-page"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-attention-overlay.h"
#include "vitlens-image-page.h"
#include "vitlens-image-strip.h"
#include "vitlens-inference.h"

/* Photos shrink to fit and never grow blurry; small images (a 28×28 digit, a 32×32 icon)
 * grow by a whole factor to about SMALL_IMAGE_SIDE, so they can be seen at all, nearest-
 * neighbour (see vitlens_image_get_texture_scaled()). */
#define SMALL_IMAGE_SIDE 320

struct _VitlensImagePage
{
  VitlensPage          parent_instance;

  /* template widgets */
  GtkWidget           *image_area;
  GtkStack            *image_stack;
  GtkSpinner          *loading_spinner;
  GtkPicture          *picture;
  VitlensAttentionOverlay *attention_overlay;
  GtkLabel            *image_caption;
  GtkRevealer         *drop_revealer;
  GtkWidget           *decoding_box;
  GtkSpinner          *decoding_spinner;
  GtkLabel            *decoding_label;
  GtkRevealer         *strip_revealer;
  VitlensImageStrip   *strip;
  VitlensResultsPanel *results_panel;

  GCancellable        *cancellable;        /* all this page started; cancelled in dispose */
  GCancellable        *decode_cancellable; /* the image being decoded: a newer one cancels it */
  VitlensImage        *image;              /* the image shown */
  VitlensResult       *prediction;         /* its results, if any yet */
  char                *title;
  GPtrArray           *files;              /* GFile: the images opened together */
  guint                shown_index;        /* of the image shown, in @files */
  int                  step;               /* the decode under way steps through @files this
                                            * way (+1, -1): a broken file is passed by; 0: it was
                                            * asked for (a click), its error is shown */
  gboolean             pasted;             /* the decode under way is a pasted image's */
  guint                n_pending;          /* decodes, pastes and classifications under way */
  guint                classify_idle;      /* a classification, asked for */
  guint                decoding_timeout;   /* shows "Decoding photo.png…" if it takes a while */
};

G_DEFINE_FINAL_TYPE (VitlensImagePage, vitlens_image_page, VITLENS_TYPE_PAGE)

enum {
  PROP_0,
  PROP_IMAGE,
  PROP_PREDICTION,
  PROP_TITLE,
  PROP_N_FILES,
  PROP_VIEW,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

enum {
  OPEN_FILES,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---------------------------------------------------------------------------------------------
 * Busy state */

/* Decodes, pastes and classifications under way or asked for. */
static void
set_busy (VitlensImagePage *self,
          int               delta)
{
  self->n_pending += delta;
  vitlens_page_set_busy (VITLENS_PAGE (self), self->n_pending > 0 || self->classify_idle != 0);
}

static const VitlensModelFacts *
get_model (VitlensImagePage *self)
{
  return vitlens_page_get_model (VITLENS_PAGE (self));
}

/* Files that came in through the page, for the window to open (::open-files). */
static void
emit_open_files (VitlensImagePage *self,
                 GFile           **files,
                 guint             n_files)
{
  g_autoptr(GListStore) store = g_list_store_new (G_TYPE_FILE);

  for (guint i = 0; i < n_files; i++)
    g_list_store_append (store, files[i]);
  if (n_files > 0)
    g_signal_emit (self, signals[OPEN_FILES], 0, store);
}

/* ---------------------------------------------------------------------------------------------
 * What is shown */

/* What the results panel says while it has no results. */
static void
update_placeholder (VitlensImagePage *self)
{
  const char *text;

  if (vitlens_page_get_loading (VITLENS_PAGE (self)))
    text = _("Loading the model…");
  else if (get_model (self) == NULL)
    text = _("No model is loaded. Open one from the model menu to classify images.");
  else if (self->image == NULL)
    text = _("Open an image to see what the model recognizes in it.");
  else
    text = _("Classifying…");
  vitlens_results_panel_set_placeholder (self->results_panel, text);
}

static void
update_view (VitlensImagePage *self)
{
  const char *view;

  if (self->image != NULL)
    view = "image";
  else if (vitlens_page_get_loading (VITLENS_PAGE (self)) && get_model (self) == NULL)
    view = "loading";
  else if (get_model (self) == NULL)
    view = "no-model";
  else
    view = "empty";

  if (g_str_equal (view, "loading"))
    gtk_spinner_start (self->loading_spinner);
  else
    gtk_spinner_stop (self->loading_spinner);

  gtk_stack_set_visible_child_name (self->image_stack, view);
  update_placeholder (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VIEW]);
}

static void
update_actions (VitlensImagePage *self)
{
  GActionMap *actions = vitlens_page_get_action_map (VITLENS_PAGE (self));
  GAction *previous = g_action_map_lookup_action (actions, "previous-image");
  GAction *next = g_action_map_lookup_action (actions, "next-image");

  g_simple_action_set_enabled (G_SIMPLE_ACTION (previous), self->files->len > 1);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (next), self->files->len > 1);
}

/* A small image is shown grown by a whole factor, drawn with nearest-neighbour (its pixels stay
 * sharp squares); a larger one shrinks to fit. */
static void
size_picture (VitlensImagePage *self,
              VitlensImage     *image)
{
  int width = vitlens_image_get_width (image), height = vitlens_image_get_height (image);
  int side = MAX (width, height);
  GtkWidget *picture = GTK_WIDGET (self->picture);

  if (side > 0 && side < SMALL_IMAGE_SIDE / 2)
    {
      int scale = SMALL_IMAGE_SIDE / side;

      gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (vitlens_image_get_texture_scaled (image, scale)));
      gtk_picture_set_content_fit (self->picture, GTK_CONTENT_FIT_CONTAIN);
      gtk_widget_set_size_request (picture, width * scale, height * scale);
      gtk_widget_set_halign (picture, GTK_ALIGN_CENTER);
      gtk_widget_set_valign (picture, GTK_ALIGN_CENTER);
    }
  else
    {
      gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (vitlens_image_get_texture (image)));
      gtk_picture_set_content_fit (self->picture, GTK_CONTENT_FIT_SCALE_DOWN);
      gtk_widget_set_size_request (picture, -1, -1);
      gtk_widget_set_halign (picture, GTK_ALIGN_FILL);
      gtk_widget_set_valign (picture, GTK_ALIGN_FILL);
    }
}

static void
set_prediction (VitlensImagePage *self,
                VitlensResult    *prediction)
{
  g_clear_pointer (&self->prediction, vitlens_result_unref);
  self->prediction = prediction;
  vitlens_results_panel_set_prediction (self->results_panel, prediction,
                                        prediction ? vitlens_image_get_decode_ms (self->image) : 0);
  vitlens_attention_overlay_set_result (self->attention_overlay,
                                        vitlens_page_get_show_attention (VITLENS_PAGE (self)) ? prediction : NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PREDICTION]);
}

static void schedule_classify (VitlensImagePage *self);

static void
set_image (VitlensImagePage *self,
           VitlensImage     *image)
{
  g_autofree char *caption = NULL;

  g_set_object (&self->image, image);
  size_picture (self, image);
  gtk_picture_set_alternative_text (self->picture, vitlens_image_get_name (image));

  /* Translators: below the image: file name, width × height in pixels */
  caption = g_strdup_printf (_("%s · %d×%d"), vitlens_image_get_name (image),
                             vitlens_image_get_width (image), vitlens_image_get_height (image));
  gtk_label_set_label (self->image_caption, caption);
  g_free (self->title);
  /* Translators: the window title: the image's name, then the application's */
  self->title = g_strdup_printf (_("%s — ViT Lens"), vitlens_image_get_name (image));

  update_view (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
  schedule_classify (self);
}

/* ---------------------------------------------------------------------------------------------
 * Classification */

static void
classify_done (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(VitlensImagePage) self = user_data;
  g_autoptr(VitlensResult) prediction = NULL;
  g_autoptr(GError) error = NULL;

  prediction = vitlens_inference_classify_finish (VITLENS_INFERENCE (object), result, &error);
  set_busy (self, -1);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    {
      vitlens_page_error (VITLENS_PAGE (self), VITLENS_ORIGIN_IMAGE, error->message);
      return;
    }

  /* Answers for an image or a variant no longer shown: a newer request is on its way. */
  if (self->image == NULL || prediction->frame != vitlens_image_get_frame (self->image)
      || prediction->variant != vitlens_page_get_variant (VITLENS_PAGE (self)))
    return;

  set_prediction (self, g_steal_pointer (&prediction));
}

static void
classify (VitlensImagePage *self)
{
  VitlensPage *page = VITLENS_PAGE (self);

  if (self->image == NULL || get_model (self) == NULL || !vitlens_page_get_active (page)
      || !vitlens_inference_supports (vitlens_page_get_inference (page), vitlens_page_get_variant (page)))
    return;

  set_busy (self, +1);
  vitlens_inference_classify_async (vitlens_page_get_inference (page), vitlens_image_get_frame (self->image),
                                    vitlens_page_get_variant (page), vitlens_page_get_top_k (page),
                                    vitlens_page_get_threads (page),
                                    self->cancellable, classify_done, g_object_ref (self));
}

static gboolean
classify_idle_cb (gpointer user_data)
{
  VitlensImagePage *self = user_data;

  self->classify_idle = 0;
  classify (self);
  set_busy (self, 0);
  return G_SOURCE_REMOVE;
}

/* The image again, once whatever changed with it (model, variant, preferences) has changed. */
static void
schedule_classify (VitlensImagePage *self)
{
  if (self->classify_idle != 0 || self->image == NULL || !vitlens_page_get_active (VITLENS_PAGE (self)))
    return;
  self->classify_idle = g_idle_add (classify_idle_cb, self);
  set_busy (self, 0);
}

static void
vitlens_image_page_model_changed (VitlensPage *page)
{
  VitlensImagePage *self = VITLENS_IMAGE_PAGE (page);

  /* The old results were another model's. */
  vitlens_results_panel_set_model (self->results_panel, get_model (self));
  set_prediction (self, NULL);
  update_view (self);
  schedule_classify (self);
}

/* ---------------------------------------------------------------------------------------------
 * Images */

static void set_files (VitlensImagePage *self,
                       GFile           **files,
                       guint             n_files);
static void open_file_at (VitlensImagePage *self,
                          guint             index,
                          int               step);
static void hide_decoding (VitlensImagePage *self);

/* The next file from @from, @step (+1, -1) at a time round the strip, that is not known to be
 * broken; @from when there is none. */
static guint
next_index (VitlensImagePage *self,
            guint             from,
            int               step)
{
  guint n = self->files->len;

  for (guint i = 1; i < n; i++)
    {
      guint index = (from + (step > 0 ? i : n - i)) % n;

      if (!vitlens_image_strip_get_broken (self->strip, index))
        return index;
    }
  return from;
}

/* A file of the strip, or a pasted image (which stands alone), decoded. */
static void
decode_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(VitlensImagePage) self = user_data;
  g_autoptr(VitlensImage) image = NULL;
  g_autoptr(GError) error = NULL;

  image = vitlens_image_load_finish (result, &error);
  set_busy (self, -1);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  hide_decoding (self);
  if (error != NULL && !self->pasted)
    {
      guint failed = vitlens_image_strip_get_selected (self->strip);
      guint next;

      vitlens_image_strip_set_broken (self->strip, failed, error->message);
      /* Stepping through: on to the next file that may be shown (not back to the one shown). */
      next = self->step != 0 ? next_index (self, failed, self->step) : failed;
      if (next != failed && (self->image == NULL || next != self->shown_index))
        {
          open_file_at (self, next, self->step);
          return;
        }
    }
  if (error != NULL)
    {
      /* The previous image, model and results stay. */
      vitlens_page_error (VITLENS_PAGE (self), VITLENS_ORIGIN_IMAGE, error->message);
      if (!self->pasted)
        vitlens_image_strip_set_selected (self->strip, self->shown_index);
      return;
    }

  vitlens_page_clear_error (VITLENS_PAGE (self), VITLENS_ORIGIN_IMAGE);
  if (self->pasted)
    set_files (self, NULL, 0);
  else
    self->shown_index = vitlens_image_strip_get_selected (self->strip);
  set_image (self, image);
}

/* "Decoding photo.png…" in the image area (not in the header bar, which keeps its layout),
 * for a decode that takes longer than DECODING_NOTICE_MS. */
#define DECODING_NOTICE_MS 250

static gboolean
decoding_timeout_cb (gpointer user_data)
{
  VitlensImagePage *self = user_data;

  self->decoding_timeout = 0;
  gtk_widget_set_visible (self->decoding_box, TRUE);
  gtk_spinner_start (self->decoding_spinner);
  return G_SOURCE_REMOVE;
}

static void
show_decoding (VitlensImagePage *self,
               const char       *name)
{
  /* Translators: shown while an image is decoded; %s is its file name */
  g_autofree char *text = g_strdup_printf (_("Decoding %s…"), name);

  gtk_label_set_label (self->decoding_label, text);
  if (self->decoding_timeout == 0 && !gtk_widget_get_visible (self->decoding_box))
    self->decoding_timeout = g_timeout_add (DECODING_NOTICE_MS, decoding_timeout_cb, self);
}

static void
hide_decoding (VitlensImagePage *self)
{
  g_clear_handle_id (&self->decoding_timeout, g_source_remove);
  gtk_spinner_stop (self->decoding_spinner);
  gtk_widget_set_visible (self->decoding_box, FALSE);
}

static void
new_decode (VitlensImagePage *self,
            gboolean          pasted)
{
  self->pasted = pasted;
  if (self->decode_cancellable != NULL)
    g_cancellable_cancel (self->decode_cancellable);
  g_clear_object (&self->decode_cancellable);
  self->decode_cancellable = g_cancellable_new ();
  set_busy (self, +1);
}

static void
open_file_at (VitlensImagePage *self,
              guint             index,
              int               step)
{
  if (index >= self->files->len)
    return;

  new_decode (self, FALSE);
  self->step = step;
  {
    g_autofree char *name = g_file_get_basename (g_ptr_array_index (self->files, index));

    show_decoding (self, name ? name : "");
  }
  vitlens_image_strip_set_selected (self->strip, index);
  vitlens_image_load_async (g_ptr_array_index (self->files, index), self->decode_cancellable,
                            decode_done, g_object_ref (self));
}

static void
set_files (VitlensImagePage *self,
           GFile           **files,
           guint             n_files)
{
  g_ptr_array_set_size (self->files, 0);
  for (guint i = 0; i < n_files; i++)
    g_ptr_array_add (self->files, g_object_ref (files[i]));
  vitlens_image_strip_set_files (self->strip, files, n_files);
  gtk_revealer_set_reveal_child (self->strip_revealer, n_files > 1);
  self->shown_index = 0;
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FILES]);
}

void
vitlens_image_page_open_files (VitlensImagePage *self,
                               GFile           **files,
                               guint             n_files)
{
  g_return_if_fail (VITLENS_IS_IMAGE_PAGE (self));

  if (n_files == 0)
    return;
  set_files (self, files, n_files);
  /* A first file that is broken gives way to the next that is not. */
  open_file_at (self, 0, +1);
}

void
vitlens_image_page_open_texture (VitlensImagePage *self,
                                 GdkTexture       *texture)
{
  g_autoptr(GBytes) png = NULL;

  g_return_if_fail (VITLENS_IS_IMAGE_PAGE (self));
  g_return_if_fail (GDK_IS_TEXTURE (texture));

  /* Through PNG bytes, so a pasted image takes the same decoder as a file. */
  png = gdk_texture_save_to_png_bytes (texture);
  new_decode (self, TRUE);
  show_decoding (self, _("Pasted image"));
  vitlens_image_load_bytes_async (png, _("Pasted image"), self->decode_cancellable,
                                  decode_done, g_object_ref (self));
}

/* Uses only @value: a synthetic emission (tests) has no GdkDrop behind it. */
gboolean
vitlens_image_page_take_drop (VitlensImagePage *self,
                              const GValue     *value)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE_PAGE (self), FALSE);

  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      g_autoptr(GPtrArray) files = g_ptr_array_new ();
      GSList *list = gdk_file_list_get_files (g_value_get_boxed (value));

      for (GSList *l = list; l != NULL; l = l->next)
        g_ptr_array_add (files, l->data);
      g_slist_free (list);
      emit_open_files (self, (GFile **)files->pdata, files->len);
      return files->len > 0;
    }
  if (G_VALUE_HOLDS (value, G_TYPE_FILE) && g_value_get_object (value) != NULL)
    {
      GFile *file = g_value_get_object (value);

      emit_open_files (self, &file, 1);
      return TRUE;
    }
  if (G_VALUE_HOLDS (value, GDK_TYPE_TEXTURE) && g_value_get_object (value) != NULL)
    {
      vitlens_image_page_open_texture (self, g_value_get_object (value));
      return TRUE;
    }
  return FALSE;
}

static void
on_strip_item_activated (VitlensImageStrip *strip,
                         guint              index,
                         VitlensImagePage  *self)
{
  open_file_at (self, index, 0);
}

VitlensResultsPanel *
vitlens_image_page_get_results_panel (VitlensImagePage *self)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE_PAGE (self), NULL);

  return self->results_panel;
}

/* ---------------------------------------------------------------------------------------------
 * Paste: what the clipboard offers decides. Files first (a file manager's Copy), local ones
 * only; then an image (a browser's Copy Image, which may offer its web address as a URI list
 * too: that address is no file to read). */

/* The clipboard offers an image: a texture, or PNG or JPEG bytes. */
static gboolean
clipboard_has_image (GdkClipboard *clipboard)
{
  GdkContentFormats *formats = gdk_clipboard_get_formats (clipboard);

  return gdk_content_formats_contain_gtype (formats, GDK_TYPE_TEXTURE)
         || gdk_content_formats_contain_mime_type (formats, "image/png")
         || gdk_content_formats_contain_mime_type (formats, "image/jpeg");
}

/* The clipboard offers files: a file list, a file, or a URI list that reads as either. */
static gboolean
clipboard_has_files (GdkClipboard *clipboard)
{
  g_autoptr(GdkContentFormats) formats = NULL;

  formats = gdk_content_formats_union_deserialize_gtypes (gdk_content_formats_ref (gdk_clipboard_get_formats (clipboard)));
  return gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST)
         || gdk_content_formats_contain_gtype (formats, G_TYPE_FILE);
}

/* A file pasted is read where it is: on this computer (or a mount of it), not from the web. */
static gboolean
is_pastable_file (GFile *file)
{
  g_autofree char *basename = g_file_get_basename (file);

  return basename != NULL && !g_str_equal (basename, G_DIR_SEPARATOR_S)
         && !g_file_has_uri_scheme (file, "http") && !g_file_has_uri_scheme (file, "https");
}

static void paste_texture_done (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data);

/* Reads the clipboard's image; holds a ref on the page and one busy count until it is done. */
static void
paste_image (VitlensImagePage *self,
             GdkClipboard     *clipboard)
{
  gdk_clipboard_read_texture_async (clipboard, self->cancellable, paste_texture_done, g_object_ref (self));
}

static void
paste_nothing (VitlensImagePage *self)
{
  vitlens_page_error (VITLENS_PAGE (self), VITLENS_ORIGIN_IMAGE,
                      _("The clipboard holds no image and no image file"));
}

static void
paste_texture_done (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(VitlensImagePage) self = user_data;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (object), result, &error);
  set_busy (self, -1);

  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  if (texture == NULL)
    {
      g_debug ("Paste: %s", error ? error->message : "no texture");
      paste_nothing (self);
      return;
    }
  vitlens_image_page_open_texture (self, texture);
}

static void
paste_value_done (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(VitlensImagePage) self = user_data;
  g_autoptr(GError) error = NULL;
  GdkClipboard *clipboard = GDK_CLIPBOARD (object);
  const GValue *value;
  g_autoptr(GPtrArray) files = g_ptr_array_new ();

  value = gdk_clipboard_read_value_finish (clipboard, result, &error);
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      set_busy (self, -1);
      return;
    }

  if (value != NULL && G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *list = gdk_file_list_get_files (g_value_get_boxed (value));

      for (GSList *l = list; l != NULL; l = l->next)
        if (is_pastable_file (l->data))
          g_ptr_array_add (files, l->data);
      g_slist_free (list);
    }
  else if (value != NULL && G_VALUE_HOLDS (value, G_TYPE_FILE) && g_value_get_object (value)
           && is_pastable_file (g_value_get_object (value)))
    g_ptr_array_add (files, g_value_get_object (value));
  if (error != NULL)
    g_debug ("Paste, files: %s", error->message);

  if (files->len > 0)
    {
      set_busy (self, -1);
      emit_open_files (self, (GFile **)files->pdata, files->len);
      return;
    }

  /* No files to read here: the image beside them, if there is one; still busy. */
  if (clipboard_has_image (clipboard))
    paste_image (self, clipboard);
  else
    {
      set_busy (self, -1);
      paste_nothing (self);
    }
}

static void
action_paste (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  VitlensImagePage *self = VITLENS_IMAGE_PAGE (user_data);
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  g_autoptr(GdkContentFormats) formats = NULL;
  GType type = GDK_TYPE_FILE_LIST;

  if (!clipboard_has_files (clipboard))
    {
      if (!clipboard_has_image (clipboard))
        {
          paste_nothing (self);
          return;
        }
      set_busy (self, +1);
      paste_image (self, clipboard);
      return;
    }

  formats = gdk_content_formats_union_deserialize_gtypes (gdk_content_formats_ref (gdk_clipboard_get_formats (clipboard)));
  if (gdk_content_formats_contain_gtype (formats, G_TYPE_FILE) &&
      !gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    type = G_TYPE_FILE;

  set_busy (self, +1);
  gdk_clipboard_read_value_async (clipboard, type, G_PRIORITY_DEFAULT, self->cancellable,
                                  paste_value_done, g_object_ref (self));
}

/* ---------------------------------------------------------------------------------------------
 * Open… (GtkFileChooserNative: GTK 4.8 has no GtkFileDialog) */

static void
on_images_chosen (GtkNativeDialog  *native,
                  int               response,
                  VitlensImagePage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (native));

      if (g_list_model_get_n_items (files) > 0)
        g_signal_emit (self, signals[OPEN_FILES], 0, files);
    }

  /* A hidden chooser left alive would keep a toplevel around. */
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

static void
action_open (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  VitlensImagePage *self = VITLENS_IMAGE_PAGE (user_data);
  GtkFileChooserNative *native;
  g_autoptr(GtkFileFilter) images = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  native = vitlens_page_file_chooser_new (VITLENS_PAGE (self), _("Open Images"),
                                          GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"));
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

/* ---------------------------------------------------------------------------------------------
 * Actions */

static void
step_image (VitlensImagePage *self,
            int               delta)
{
  guint current = vitlens_image_strip_get_selected (self->strip);
  guint next = next_index (self, current, delta);

  /* Broken files are passed by; when every other one is, nothing happens. */
  if (next != current)
    open_file_at (self, next, delta);
}

static void
action_previous_image (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  step_image (VITLENS_IMAGE_PAGE (user_data), -1);
}

static void
action_next_image (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  step_image (VITLENS_IMAGE_PAGE (user_data), +1);
}

static const GActionEntry image_entries[] = {
  { .name = "open", .activate = action_open },
  { .name = "paste", .activate = action_paste },
  { .name = "previous-image", .activate = action_previous_image },
  { .name = "next-image", .activate = action_next_image },
};

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_image_page_options_changed (VitlensPage *page,
                                    GParamSpec  *pspec)
{
  VitlensImagePage *self = VITLENS_IMAGE_PAGE (page);

  /* Another variant, number of threads or of results: run again, in place. Shown again: the
   * variant may have changed meanwhile. The attention shown: again only if the result has none
   * (the inference computes it from now on). */
  if (g_str_equal (pspec->name, "loading"))
    {
      update_view (self);
      return;
    }
  if (g_str_equal (pspec->name, "variant"))
    vitlens_results_panel_set_variant (self->results_panel, vitlens_page_get_variant (page));
  if (!g_str_equal (pspec->name, "show-attention"))
    schedule_classify (self);
  else if (!vitlens_page_get_show_attention (page))
    vitlens_attention_overlay_set_result (self->attention_overlay, NULL);
  else if (self->prediction != NULL && self->prediction->rollout != NULL)
    vitlens_attention_overlay_set_result (self->attention_overlay, self->prediction);
  else
    schedule_classify (self);
}

static void
vitlens_image_page_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  VitlensImagePage *self = VITLENS_IMAGE_PAGE (object);

  switch (prop_id)
    {
    case PROP_IMAGE: g_value_set_object (value, self->image); break;
    case PROP_PREDICTION: g_value_set_boxed (value, self->prediction); break;
    case PROP_TITLE: g_value_set_string (value, self->title); break;
    case PROP_N_FILES: g_value_set_uint (value, self->files->len); break;
    case PROP_VIEW: g_value_set_string (value, gtk_stack_get_visible_child_name (self->image_stack)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_image_page_dispose (GObject *object)
{
  VitlensImagePage *self = VITLENS_IMAGE_PAGE (object);

  /* Every callback still to come sees G_IO_ERROR_CANCELLED and leaves the widgets alone. */
  g_cancellable_cancel (self->cancellable);
  if (self->decode_cancellable != NULL)
    g_cancellable_cancel (self->decode_cancellable);
  g_clear_handle_id (&self->classify_idle, g_source_remove);
  g_clear_handle_id (&self->decoding_timeout, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), VITLENS_TYPE_IMAGE_PAGE);
  g_clear_object (&self->image);
  g_clear_pointer (&self->prediction, vitlens_result_unref);

  G_OBJECT_CLASS (vitlens_image_page_parent_class)->dispose (object);
}

static void
vitlens_image_page_finalize (GObject *object)
{
  VitlensImagePage *self = VITLENS_IMAGE_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->decode_cancellable);
  g_clear_pointer (&self->files, g_ptr_array_unref);
  g_free (self->title);

  G_OBJECT_CLASS (vitlens_image_page_parent_class)->finalize (object);
}

static void
vitlens_image_page_class_init (VitlensImagePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  VitlensPageClass *page_class = VITLENS_PAGE_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = vitlens_image_page_get_property;
  object_class->dispose = vitlens_image_page_dispose;
  object_class->finalize = vitlens_image_page_finalize;
  page_class->model_changed = vitlens_image_page_model_changed;
  page_class->options_changed = vitlens_image_page_options_changed;

  properties[PROP_IMAGE] = g_param_spec_object ("image", NULL, NULL, VITLENS_TYPE_IMAGE, ro);
  properties[PROP_PREDICTION] = g_param_spec_boxed ("prediction", NULL, NULL, VITLENS_TYPE_RESULT, ro);
  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL, ro);
  properties[PROP_N_FILES] = g_param_spec_uint ("n-files", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_VIEW] = g_param_spec_string ("view", NULL, NULL, NULL, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[OPEN_FILES] = g_signal_new ("open-files", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_LIST_MODEL);

  g_type_ensure (VITLENS_TYPE_IMAGE_STRIP);
  g_type_ensure (VITLENS_TYPE_ATTENTION_OVERLAY);
  g_type_ensure (VITLENS_TYPE_RESULTS_PANEL);
  gtk_widget_class_set_template_from_resource (widget_class, APP_RESOURCE_PATH "/ui/vitlens-image-page.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, image_area);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, image_stack);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, picture);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, attention_overlay);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, image_caption);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, drop_revealer);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, decoding_box);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, decoding_spinner);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, decoding_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, strip_revealer);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, strip);
  gtk_widget_class_bind_template_child (widget_class, VitlensImagePage, results_panel);
  gtk_widget_class_bind_template_callback (widget_class, on_strip_item_activated);
}

static void
vitlens_image_page_init (VitlensImagePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  vitlens_attention_overlay_set_picture (self->attention_overlay, self->picture);

  self->cancellable = g_cancellable_new ();
  self->files = g_ptr_array_new_with_free_func (g_object_unref);
  vitlens_page_set_drop_target (VITLENS_PAGE (self), self->drop_revealer, self->image_area);
  g_action_map_add_action_entries (vitlens_page_get_action_map (VITLENS_PAGE (self)), image_entries,
                                   G_N_ELEMENTS (image_entries), self);
  update_actions (self);
  update_view (self);
}

GtkWidget *
vitlens_image_page_new (void)
{
  return g_object_new (VITLENS_TYPE_IMAGE_PAGE, NULL);
}
