/* vitlens-camera-monitor.c — the cameras present, as a list model, kept up to date on hot-plug
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens-camera-monitor"

#include <glib/gi18n-lib.h>

#include "vitlens-camera.h"
#include "vitlens-camera-monitor.h"

struct _VitlensCameraMonitor
{
  GObject           parent_instance;

  GMainContext     *context;
  GstDeviceMonitor *monitor;
  GSource          *bus_source;
  GPtrArray        *devices; /* GstDevice */
  gboolean          filter_added;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (VitlensCameraMonitor, vitlens_camera_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

/* ---------------------------------------------------------------------------------------------
 * GListModel */

static GType
get_item_type (GListModel *model)
{
  return GST_TYPE_DEVICE;
}

static guint
get_n_items (GListModel *model)
{
  return VITLENS_CAMERA_MONITOR (model)->devices->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  VitlensCameraMonitor *self = VITLENS_CAMERA_MONITOR (model);

  if (position >= self->devices->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->devices, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

/* ---------------------------------------------------------------------------------------------
 * Devices */

char *
vitlens_camera_device_get_path (GstDevice *device)
{
  static const char *const keys[] = { "api.v4l2.path", "device.path", "object.path" };
  g_autoptr(GstStructure) props = NULL;

  g_return_val_if_fail (GST_IS_DEVICE (device), NULL);

  props = gst_device_get_properties (device);
  if (props == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      const char *path = gst_structure_get_string (props, keys[i]);

      if (path != NULL)
        return g_strdup (path);
    }

  return NULL;
}

static void
add_device (VitlensCameraMonitor *self,
            GstDevice            *device)
{
  g_autofree char *name = NULL;
  guint position;

  if (g_ptr_array_find (self->devices, device, NULL))
    return;
  position = self->devices->len;
  g_ptr_array_add (self->devices, g_object_ref (device));
  name = gst_device_get_display_name (device);
  g_debug ("camera added: %s", name);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

static void
remove_device (VitlensCameraMonitor *self,
               GstDevice            *device)
{
  guint position;

  if (!g_ptr_array_find (self->devices, device, &position))
    return;
  g_ptr_array_remove_index (self->devices, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  VitlensCameraMonitor *self = user_data;
  g_autoptr(GstDevice) device = NULL;
  g_autoptr(GstDevice) changed = NULL;
  guint position;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_DEVICE_ADDED:
      gst_message_parse_device_added (message, &device);
      add_device (self, device);
      break;

    case GST_MESSAGE_DEVICE_REMOVED:
      gst_message_parse_device_removed (message, &device);
      remove_device (self, device);
      break;

    case GST_MESSAGE_DEVICE_CHANGED:
      /* @device is the new version of @changed */
      gst_message_parse_device_changed (message, &device, &changed);
      if (g_ptr_array_find (self->devices, changed, &position))
        {
          g_object_unref (g_ptr_array_index (self->devices, position));
          g_ptr_array_index (self->devices, position) = g_object_ref (device);
          g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 1);
        }
      break;

    default:
      break;
    }

  return G_SOURCE_CONTINUE;
}

gboolean
vitlens_camera_monitor_start (VitlensCameraMonitor *self,
                              GError              **error)
{
  g_autoptr(GstBus) bus = NULL;
  GList *devices;

  g_return_val_if_fail (VITLENS_IS_CAMERA_MONITOR (self), FALSE);

  if (self->bus_source != NULL)
    return TRUE;

  /* The providers are picked when the filter is added: here, so that start() sees every
   * provider registered by then. */
  if (!self->filter_added)
    {
      gst_device_monitor_add_filter (self->monitor, "Video/Source", NULL);
      self->filter_added = TRUE;
    }
  if (!gst_device_monitor_start (self->monitor))
    {
      g_set_error_literal (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_MISSING_PLUGIN,
                           _("Cameras cannot be listed: GStreamer has no device provider for them (install gstreamer1.0-plugins-good)"));
      return FALSE;
    }

  bus = gst_device_monitor_get_bus (self->monitor);
  self->bus_source = gst_bus_create_watch (bus);
  g_source_set_callback (self->bus_source, (GSourceFunc)(void (*) (void))on_bus_message, self, NULL);
  g_source_attach (self->bus_source, self->context);

  devices = gst_device_monitor_get_devices (self->monitor);
  for (GList *l = devices; l != NULL; l = l->next)
    add_device (self, l->data);
  g_list_free_full (devices, gst_object_unref);

  return TRUE;
}

void
vitlens_camera_monitor_stop (VitlensCameraMonitor *self)
{
  guint n;

  g_return_if_fail (VITLENS_IS_CAMERA_MONITOR (self));

  if (self->bus_source == NULL)
    return;
  g_source_destroy (self->bus_source);
  g_clear_pointer (&self->bus_source, g_source_unref);
  gst_device_monitor_stop (self->monitor);

  n = self->devices->len;
  g_ptr_array_set_size (self->devices, 0);
  if (n > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, n, 0);
}

GstDevice *
vitlens_camera_monitor_find (VitlensCameraMonitor *self,
                             const char           *name)
{
  g_return_val_if_fail (VITLENS_IS_CAMERA_MONITOR (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < self->devices->len; i++)
    {
      GstDevice *device = g_ptr_array_index (self->devices, i);
      g_autofree char *display_name = gst_device_get_display_name (device);
      g_autofree char *path = vitlens_camera_device_get_path (device);

      if (g_strcmp0 (display_name, name) == 0 || g_strcmp0 (path, name) == 0)
        return device;
    }

  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_camera_monitor_dispose (GObject *object)
{
  VitlensCameraMonitor *self = (VitlensCameraMonitor *)object;

  if (self->monitor != NULL)
    vitlens_camera_monitor_stop (self);
  g_clear_object (&self->monitor);

  G_OBJECT_CLASS (vitlens_camera_monitor_parent_class)->dispose (object);
}

static void
vitlens_camera_monitor_finalize (GObject *object)
{
  VitlensCameraMonitor *self = (VitlensCameraMonitor *)object;

  g_ptr_array_unref (self->devices);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (vitlens_camera_monitor_parent_class)->finalize (object);
}

static void
vitlens_camera_monitor_class_init (VitlensCameraMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vitlens_camera_monitor_dispose;
  object_class->finalize = vitlens_camera_monitor_finalize;

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
}

static void
vitlens_camera_monitor_init (VitlensCameraMonitor *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->devices = g_ptr_array_new_with_free_func (g_object_unref);
  self->monitor = gst_device_monitor_new ();
}

VitlensCameraMonitor *
vitlens_camera_monitor_new (void)
{
  return g_object_new (VITLENS_TYPE_CAMERA_MONITOR, NULL);
}
