/* test-fake-camera.h — a fake camera for test-app and test-camera: a device provider ("ViT Lens
 * test cameras") whose devices make a live videotestsrc (the bouncing ball), so that the camera
 * monitor and the window see cameras come and go with no hardware. Definitions, not only
 * declarations: a test program includes it once.
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gst/gst.h>

typedef struct { GstDevice parent; } TestDevice;
typedef struct { GstDeviceClass parent_class; } TestDeviceClass;
GType test_device_get_type (void);
G_DEFINE_TYPE (TestDevice, test_device, GST_TYPE_DEVICE)

static GstElement *
test_device_create_element (GstDevice  *device,
                            const char *name)
{
  GstElement *src = gst_element_factory_make ("videotestsrc", name);

  g_object_set (src, "is-live", TRUE, "pattern", 18 /* ball */, NULL);
  return src;
}

static void test_device_class_init (TestDeviceClass *klass) { GST_DEVICE_CLASS (klass)->create_element = test_device_create_element; }
static void test_device_init (TestDevice *self) { }

/* A camera called @name at the V4L2 path @path, offering @width×@height at 30 fps. */
static GstDevice *
test_device_new (const char *name,
                 const char *path,
                 int         width,
                 int         height)
{
  g_autoptr(GstCaps) caps = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, width,
                                                 "height", G_TYPE_INT, height,
                                                 "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
  GstStructure *props = gst_structure_new ("props", "api.v4l2.path", G_TYPE_STRING, path, NULL);
  GstDevice *device = g_object_new (test_device_get_type (), "display-name", name,
                                    "device-class", "Video/Source", "caps", caps,
                                    "properties", props, NULL);

  gst_structure_free (props);
  return device;
}

/* The provider: it probes nothing; a test adds and removes devices with
 * gst_device_provider_device_add() / _remove(). */
typedef struct { GstDeviceProvider parent; } TestProvider;
typedef struct { GstDeviceProviderClass parent_class; } TestProviderClass;
GType test_provider_get_type (void);
G_DEFINE_TYPE (TestProvider, test_provider, GST_TYPE_DEVICE_PROVIDER)

static gboolean test_provider_start (GstDeviceProvider *provider) { return TRUE; }
static void test_provider_stop (GstDeviceProvider *provider) { }
static void test_provider_init (TestProvider *self) { }

static void
test_provider_class_init (TestProviderClass *klass)
{
  GstDeviceProviderClass *dp = GST_DEVICE_PROVIDER_CLASS (klass);

  dp->start = test_provider_start;
  dp->stop = test_provider_stop;
  gst_device_provider_class_set_static_metadata (dp, "ViT Lens test cameras", "Source/Video",
                                                 "Fake cameras for tests", "ViT Lens");
}
