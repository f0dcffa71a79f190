/* vitlens-frame.h — one video frame from VitlensCamera, without GTK
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * A reference-counted view of a decoded video frame: the pixels stay in the GStreamer buffer
 * they arrived in (mapped read-only until the last reference goes), so handing a frame to the
 * display and to the inference worker copies nothing. Frames are immutable and may be passed
 * between threads; ref and unref are atomic.
 *
 * In the app, a frame becomes a texture without a copy either:
 *
 *     GBytes *bytes = vitlens_frame_get_bytes (frame);   // keeps the frame alive
 *     GdkTexture *texture = gdk_memory_texture_new (vitlens_frame_get_width (frame),
 *                                                   vitlens_frame_get_height (frame),
 *                                                   GDK_MEMORY_R8G8B8A8_PREMULTIPLIED,
 *                                                   bytes, vitlens_frame_get_stride (frame));
 *
 * (the camera delivers RGBx whose fourth byte is 255, so the premultiplied RGBA format is exact
 * and GTK uploads it without a conversion).
 */
#pragma once

#include <glib-object.h>

#include "vit.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_FRAME (vitlens_frame_get_type ())

typedef struct _VitlensFrame VitlensFrame;

GType            vitlens_frame_get_type         (void) G_GNUC_CONST;

VitlensFrame    *vitlens_frame_ref              (VitlensFrame       *frame);
void             vitlens_frame_unref            (VitlensFrame       *frame);

/* Build a frame over memory that @owner keeps alive (freed with @owner_free when the frame
 * goes). For tests and for sources that are not GStreamer buffers. */
VitlensFrame    *vitlens_frame_new_for_data     (const guint8       *data,
                                                 int                 width,
                                                 int                 height,
                                                 int                 stride,
                                                 vit_pixel_format    format,
                                                 gpointer            owner,
                                                 GDestroyNotify      owner_free);

int              vitlens_frame_get_width        (const VitlensFrame *frame);
int              vitlens_frame_get_height       (const VitlensFrame *frame);
/* Bytes per row (>= width * 4; GStreamer pads rows). */
int              vitlens_frame_get_stride       (const VitlensFrame *frame);
/* VIT_PIXEL_RGBX8 from the camera. */
vit_pixel_format vitlens_frame_get_format       (const VitlensFrame *frame);
/* The pixels, stride * height bytes; the GBytes holds a reference on the frame. */
GBytes          *vitlens_frame_get_bytes        (VitlensFrame       *frame);
/* An engine image over the frame's own pixels (no copy); valid while the frame is. */
const vit_image *vitlens_frame_get_image        (const VitlensFrame *frame);

/* The position of the frame in its stream, in nanoseconds; -1 when unknown. */
gint64           vitlens_frame_get_pts          (const VitlensFrame *frame);
/* The frame's number from the source, counted from 0 when the stream started (it keeps
 * counting across the loops of a looping video). */
guint64          vitlens_frame_get_number       (const VitlensFrame *frame);
/* When the frame was captured, on g_get_monotonic_time()'s clock (µs): the earlier of the
 * moment it entered the camera's pipeline (after the source, and the decoder for a file) and
 * the clock time its timestamp stands for. Latency is measured from here. */
gint64           vitlens_frame_get_capture_time (const VitlensFrame *frame);

void             vitlens_frame_set_timing       (VitlensFrame       *frame,
                                                 guint64             number,
                                                 gint64              pts,
                                                 gint64              capture_time);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VitlensFrame, vitlens_frame_unref)

G_END_DECLS
