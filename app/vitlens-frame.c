/* vitlens-frame.c — one video frame from VitlensCamera, without GTK
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens-frame"

#include "vitlens-frame.h"

struct _VitlensFrame
{
  gatomicrefcount ref_count;
  vit_image       image;        /* a view: data points into the owner's memory */
  gpointer        owner;        /* e.g. a mapped GstVideoFrame */
  GDestroyNotify  owner_free;
  guint64         number;
  gint64          pts;          /* ns, -1 unknown */
  gint64          capture_time; /* g_get_monotonic_time() µs */
};

G_DEFINE_BOXED_TYPE (VitlensFrame, vitlens_frame, vitlens_frame_ref, vitlens_frame_unref)

VitlensFrame *
vitlens_frame_new_for_data (const guint8    *data,
                            int              width,
                            int              height,
                            int              stride,
                            vit_pixel_format format,
                            gpointer         owner,
                            GDestroyNotify   owner_free)
{
  VitlensFrame *frame;

  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);
  g_return_val_if_fail (stride >= width * vit_pixel_format_bytes (format), NULL);

  frame = g_new0 (VitlensFrame, 1);
  g_atomic_ref_count_init (&frame->ref_count);
  frame->image.width = width;
  frame->image.height = height;
  frame->image.stride = stride;
  frame->image.format = format;
  frame->image.data = (uint8_t *)data;
  frame->owner = owner;
  frame->owner_free = owner_free;
  frame->pts = -1;
  frame->capture_time = g_get_monotonic_time ();

  return frame;
}

VitlensFrame *
vitlens_frame_ref (VitlensFrame *frame)
{
  g_return_val_if_fail (frame != NULL, NULL);

  g_atomic_ref_count_inc (&frame->ref_count);

  return frame;
}

void
vitlens_frame_unref (VitlensFrame *frame)
{
  g_return_if_fail (frame != NULL);

  if (g_atomic_ref_count_dec (&frame->ref_count))
    {
      if (frame->owner_free != NULL)
        frame->owner_free (frame->owner);
      g_free (frame);
    }
}

int
vitlens_frame_get_width (const VitlensFrame *frame)
{
  return frame->image.width;
}

int
vitlens_frame_get_height (const VitlensFrame *frame)
{
  return frame->image.height;
}

int
vitlens_frame_get_stride (const VitlensFrame *frame)
{
  return frame->image.stride;
}

vit_pixel_format
vitlens_frame_get_format (const VitlensFrame *frame)
{
  return frame->image.format;
}

GBytes *
vitlens_frame_get_bytes (VitlensFrame *frame)
{
  g_return_val_if_fail (frame != NULL, NULL);

  return g_bytes_new_with_free_func (frame->image.data,
                                     (gsize)frame->image.stride * frame->image.height,
                                     (GDestroyNotify)vitlens_frame_unref,
                                     vitlens_frame_ref (frame));
}

const vit_image *
vitlens_frame_get_image (const VitlensFrame *frame)
{
  return &frame->image;
}

gint64
vitlens_frame_get_pts (const VitlensFrame *frame)
{
  return frame->pts;
}

guint64
vitlens_frame_get_number (const VitlensFrame *frame)
{
  return frame->number;
}

gint64
vitlens_frame_get_capture_time (const VitlensFrame *frame)
{
  return frame->capture_time;
}

/* Only before the frame is shared with another thread. */
void
vitlens_frame_set_timing (VitlensFrame *frame,
                          guint64       number,
                          gint64        pts,
                          gint64        capture_time)
{
  frame->number = number;
  frame->pts = pts;
  frame->capture_time = capture_time;
}
