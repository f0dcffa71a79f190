/* vitlens-camera-monitor.h — the cameras present, as a list model, kept up to date on hot-plug
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * A GListModel of GstDevice ("Video/Source" devices from GstDeviceMonitor). Items are added and
 * removed on the main context as cameras are plugged in and out. Give an item to
 * vitlens_camera_set_device(); gst_device_get_display_name() is its name.
 *
 *     VitlensCameraMonitor *monitor = vitlens_camera_monitor_new ();
 *     if (!vitlens_camera_monitor_start (monitor, &error)) … // no device providers at all
 *     if (g_list_model_get_n_items (G_LIST_MODEL (monitor)) == 0) … // "no camera" page
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define VITLENS_TYPE_CAMERA_MONITOR (vitlens_camera_monitor_get_type ())

G_DECLARE_FINAL_TYPE (VitlensCameraMonitor, vitlens_camera_monitor, VITLENS, CAMERA_MONITOR, GObject)

VitlensCameraMonitor *vitlens_camera_monitor_new         (void);

/* Start watching; the cameras present now are in the model when this returns. FALSE (and
 * an empty model) when GStreamer has no device provider for cameras. */
gboolean              vitlens_camera_monitor_start       (VitlensCameraMonitor *self,
                                                          GError              **error);
void                  vitlens_camera_monitor_stop        (VitlensCameraMonitor *self);

/* The camera whose display name or device path (/dev/video0) is @name, or NULL (transfer none). */
GstDevice            *vitlens_camera_monitor_find        (VitlensCameraMonitor *self,
                                                          const char           *name);

/* The device node of a camera (e.g. "/dev/video0"), or NULL when GStreamer does not say. */
char                 *vitlens_camera_device_get_path     (GstDevice            *device);

G_END_DECLS
