/* vitlens-image.c — a decoded image: the engine's RGB8 pixels and the texture that shows them
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * A VitlensImage is immutable once made, so the worker thread may read its pixels while the
 * main thread paints its texture. Both share one buffer: the GBytes below owns the engine's
 * allocation and frees it with vit_image_free() when the last of them lets go.
 */
#define G_LOG_DOMAIN "vitlens-image"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-error.h"
#include "vitlens-image.h"

struct _VitlensImage
{
  GObject     parent_instance;

  char       *name;
  GFile      *file;     /* NULL for pasted images */
  vit_image   pixels;   /* RGB8; .data points into @bytes */
  GBytes     *bytes;
  GdkTexture *texture;
  GdkTexture *scaled;        /* vitlens_image_get_texture_scaled()'s, at scaled_by */
  int         scaled_by;
  VitlensFrame *frame;  /* the same pixels, as VitlensInference takes them */
  double      decode_ms;
};

G_DEFINE_FINAL_TYPE (VitlensImage, vitlens_image, G_TYPE_OBJECT)

static void
vitlens_image_finalize (GObject *object)
{
  VitlensImage *self = (VitlensImage *)object;

  g_clear_object (&self->texture);
  g_clear_object (&self->scaled);
  g_clear_pointer (&self->frame, vitlens_frame_unref);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  g_clear_object (&self->file);
  g_clear_pointer (&self->name, g_free);

  G_OBJECT_CLASS (vitlens_image_parent_class)->finalize (object);
}

static void
vitlens_image_class_init (VitlensImageClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vitlens_image_finalize;
}

static void
vitlens_image_init (VitlensImage *self)
{
}

static void
free_vit_image (gpointer data)
{
  vit_image *img = data;

  vit_image_free (img);
  g_free (img);
}

/* vit_image_load() promises RGB8, and the texture is made for that; should another layout
 * ever come back, convert it here rather than show garbage. Takes @img, returns RGB8. */
static gboolean
ensure_rgb8 (vit_image  *img,
             const char *name,
             GError    **error)
{
  vit_error err = { 0 };
  vit_image rgb = { 0 };
  int bpp = vit_pixel_format_bytes (img->format);

  if (img->format == VIT_PIXEL_RGB8)
    return TRUE;

  if (bpp <= 0 || vit_image_new (img->width, img->height, VIT_PIXEL_RGB8, &rgb, &err) != VIT_OK)
    {
      vit_image_free (img);
      if (bpp <= 0)
        g_set_error (error, VITLENS_ERROR, VITLENS_ERROR_UNSUPPORTED, "%s: unknown pixel layout", name);
      else
        vitlens_set_error_from_vit (error, &err);
      return FALSE;
    }

  for (int y = 0; y < img->height; y++)
    {
      const guint8 *in = img->data + (gsize)y * img->stride;
      guint8 *out = rgb.data + (gsize)y * rgb.stride;

      for (int x = 0; x < img->width; x++, in += bpp, out += 3)
        {
          switch (img->format)
            {
            case VIT_PIXEL_GRAY8:
              out[0] = out[1] = out[2] = in[0];
              break;
            case VIT_PIXEL_BGRA8:
            case VIT_PIXEL_BGRX8:
              out[0] = in[2], out[1] = in[1], out[2] = in[0];
              break;
            default: /* RGBA8, RGBX8 */
              out[0] = in[0], out[1] = in[1], out[2] = in[2];
              break;
            }
        }
    }

  vit_image_free (img);
  *img = rgb;
  return TRUE;
}

/* Takes ownership of @img (an RGB8 image from the engine). */
static VitlensImage *
vitlens_image_new_take (vit_image  *img,
                        const char *name,
                        GFile      *file,
                        double      decode_ms)
{
  VitlensImage *self;
  vit_image *owned;
  gsize size = (gsize)img->stride * (gsize)img->height;

  g_assert (img->format == VIT_PIXEL_RGB8);

  self = g_object_new (VITLENS_TYPE_IMAGE, NULL);
  owned = g_memdup2 (img, sizeof *img);
  self->name = g_strdup (name);
  self->file = file ? g_object_ref (file) : NULL;
  self->pixels = *img;
  self->decode_ms = decode_ms;
  self->bytes = g_bytes_new_with_free_func (img->data, size, free_vit_image, owned);
  /* GdkMemoryTexture is a plain data object: fine to make off the main thread. */
  self->texture = gdk_memory_texture_new (img->width, img->height, GDK_MEMORY_R8G8B8,
                                          self->bytes, img->stride);
  /* The frame owns the pixels' bytes, not the image: it may outlive the image on the
   * inference worker without taking the texture (a GTK object) along. */
  self->frame = vitlens_frame_new_for_data (img->data, img->width, img->height, img->stride,
                                            img->format, g_bytes_ref (self->bytes),
                                            (GDestroyNotify)g_bytes_unref);
  memset (img, 0, sizeof *img);

  return self;
}

VitlensImage *
vitlens_image_new_from_bytes (GBytes     *bytes,
                              const char *name,
                              GError    **error)
{
  vit_error err = { 0 };
  vit_image img = { 0 };
  gsize size = 0;
  const void *data;
  double t0;

  g_return_val_if_fail (bytes != NULL, NULL);

  data = g_bytes_get_data (bytes, &size);
  t0 = vit_now_ms ();
  if (vit_image_load_memory (data ? data : "", size, name, &img, &err) != VIT_OK)
    {
      vitlens_set_error_from_vit (error, &err);
      return NULL;
    }

  if (!ensure_rgb8 (&img, name, error))
    return NULL;
  return vitlens_image_new_take (&img, name, NULL, vit_now_ms () - t0);
}

VitlensImage *
vitlens_image_new_from_file (GFile        *file,
                             GCancellable *cancellable,
                             GError      **error)
{
  g_autofree char *path = NULL;
  g_autofree char *basename = NULL;
  vit_error err = { 0 };
  vit_image img = { 0 };
  double t0;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  basename = g_file_get_basename (file);
  if (basename == NULL) /* some URIs have none: never "(null)" in a message */
    basename = g_file_get_parse_name (file);
  path = g_file_get_path (file);
  t0 = vit_now_ms ();

  if (path != NULL)
    {
      if (vit_image_load (path, &img, &err) != VIT_OK)
        {
          vitlens_set_error_from_vit (error, &err);
          return NULL;
        }
    }
  else
    {
      /* Not a local file (a URI from a portal or another machine): read it through GIO. */
      g_autoptr(GError) local_error = NULL;
      g_autofree char *contents = NULL;
      gsize length = 0;

      if (!g_file_load_contents (file, cancellable, &contents, &length, NULL, &local_error))
        {
          g_set_error (error, VITLENS_ERROR, VITLENS_ERROR_IO,
                       /* Translators: %s is a file name, then the reason */
                       _("%s: cannot read: %s"), basename, local_error->message);
          return NULL;
        }
      if (vit_image_load_memory (contents, length, basename, &img, &err) != VIT_OK)
        {
          vitlens_set_error_from_vit (error, &err);
          return NULL;
        }
    }

  if (!ensure_rgb8 (&img, basename, error))
    return NULL;
  return vitlens_image_new_take (&img, basename, file, vit_now_ms () - t0);
}

typedef struct
{
  GFile  *file;
  GBytes *bytes;
  char   *name;
} LoadData;

static void
load_data_free (gpointer data)
{
  LoadData *ld = data;

  g_clear_object (&ld->file);
  g_clear_pointer (&ld->bytes, g_bytes_unref);
  g_free (ld->name);
  g_free (ld);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *ld = task_data;
  GError *error = NULL;
  VitlensImage *image;

  if (ld->file != NULL)
    image = vitlens_image_new_from_file (ld->file, cancellable, &error);
  else
    image = vitlens_image_new_from_bytes (ld->bytes, ld->name, &error);

  if (image != NULL)
    g_task_return_pointer (task, image, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
start_load (LoadData           *ld,
            GCancellable       *cancellable,
            GAsyncReadyCallback callback,
            gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, vitlens_image_load_async);
  g_task_set_task_data (task, ld, load_data_free);
  g_task_run_in_thread (task, load_thread);
}

void
vitlens_image_load_async (GFile              *file,
                          GCancellable       *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer            user_data)
{
  LoadData *ld = g_new0 (LoadData, 1);

  g_return_if_fail (G_IS_FILE (file));

  ld->file = g_object_ref (file);
  start_load (ld, cancellable, callback, user_data);
}

void
vitlens_image_load_bytes_async (GBytes             *bytes,
                                const char         *name,
                                GCancellable       *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer            user_data)
{
  LoadData *ld = g_new0 (LoadData, 1);

  g_return_if_fail (bytes != NULL);

  ld->bytes = g_bytes_ref (bytes);
  ld->name = g_strdup (name);
  start_load (ld, cancellable, callback, user_data);
}

VitlensImage *
vitlens_image_load_finish (GAsyncResult *result,
                           GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
vitlens_image_get_name (VitlensImage *self)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE (self), NULL);
  return self->name;
}

GFile *
vitlens_image_get_file (VitlensImage *self)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE (self), NULL);
  return self->file;
}

GdkTexture *
vitlens_image_get_texture (VitlensImage *self)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE (self), NULL);
  return self->texture;
}

const vit_image *
vitlens_image_get_pixels (VitlensImage *self)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE (self), NULL);
  return &self->pixels;
}

VitlensFrame *
vitlens_image_get_frame (VitlensImage *self)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE (self), NULL);
  return self->frame;
}

int
vitlens_image_get_width (VitlensImage *self)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE (self), 0);
  return self->pixels.width;
}

int
vitlens_image_get_height (VitlensImage *self)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE (self), 0);
  return self->pixels.height;
}

double
vitlens_image_get_decode_ms (VitlensImage *self)
{
  g_return_val_if_fail (VITLENS_IS_IMAGE (self), 0);
  return self->decode_ms;
}

GdkTexture *
vitlens_image_get_texture_scaled (VitlensImage *self,
                                  int           scale)
{
  const vit_image *img;
  gsize stride;
  guint8 *data;

  g_return_val_if_fail (VITLENS_IS_IMAGE (self), NULL);

  if (scale <= 1)
    return self->texture;
  if (self->scaled != NULL && self->scaled_by == scale)
    return self->scaled;

  img = &self->pixels;
  stride = (gsize)img->width * scale * 3;
  data = g_malloc (stride * (gsize)img->height * scale);
  for (int y = 0; y < img->height; y++)
    {
      const guint8 *src = (const guint8 *)img->data + (gsize)y * img->stride;
      guint8 *row = data + (gsize)y * scale * stride;

      /* one row grown sideways, then copied down scale - 1 times */
      for (int x = 0; x < img->width; x++)
        for (int i = 0; i < scale; i++)
          memcpy (row + ((gsize)x * scale + i) * 3, src + (gsize)x * 3, 3);
      for (int i = 1; i < scale; i++)
        memcpy (row + i * stride, row, stride);
    }

  {
    g_autoptr(GBytes) bytes = g_bytes_new_take (data, stride * (gsize)img->height * scale);

    g_set_object (&self->scaled, NULL);
    self->scaled = gdk_memory_texture_new (img->width * scale, img->height * scale, GDK_MEMORY_R8G8B8,
                                           bytes, stride);
    self->scaled_by = scale;
  }
  return self->scaled;
}
