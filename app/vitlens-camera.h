/* vitlens-camera.h — live video from a camera, a file or any GStreamer source; no widgets
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Usage (main thread):
 *
 *     VitlensCamera *camera = vitlens_camera_new ();
 *     vitlens_camera_set_device (camera, device);           // or _set_file, _set_test_pattern,
 *                                                           // _set_pipeline, _set_source_element
 *     g_signal_connect (camera, "frame", G_CALLBACK (show_frame), self);     // main thread
 *     g_signal_connect (camera, "notify::state", G_CALLBACK (state_changed), self);
 *     vitlens_camera_set_inference_func (camera, push_to_worker, worker, NULL); // streaming thread
 *     vitlens_camera_play (camera);
 *     ...
 *     vitlens_camera_stop (camera);                         // joins every streaming thread
 *
 * The pipeline is  SOURCE ! videoconvert ! video/x-raw,format=RGBx ! tee  with two branches:
 * a display branch (queue ! appsink sync=true) whose frames come out of the "frame" signal at
 * the source's rate, on the main context, newest frame wins; and an inference branch
 * (queue leaky=downstream max-size-buffers=1 ! appsink sync=false drop=true max-buffers=1)
 * whose frames go, as they arrive and at full resolution, to the inference function on the
 * streaming thread. Frames keep the source's size and aspect ratio (the engine resizes and
 * center-crops).
 *
 * Errors come from the pipeline's bus: the state becomes ERROR (NO_CAMERA when a camera was
 * asked for and is not there) and vitlens_camera_get_error() says why in plain words.
 */
#pragma once

#include <gst/gst.h>
#include <gio/gio.h>

#include "vitlens-frame.h"

G_BEGIN_DECLS

#define VITLENS_CAMERA_ERROR (vitlens_camera_error_quark ())

typedef enum
{
  VITLENS_CAMERA_ERROR_NO_DEVICE,      /* no camera, or not the one asked for */
  VITLENS_CAMERA_ERROR_BUSY,           /* another application holds the camera */
  VITLENS_CAMERA_ERROR_PERMISSION,     /* not allowed to open the camera or the file */
  VITLENS_CAMERA_ERROR_MISSING_PLUGIN, /* no element or decoder installed for it */
  VITLENS_CAMERA_ERROR_NOT_VIDEO,      /* not a video, damaged, or no video stream */
  VITLENS_CAMERA_ERROR_FAILED,         /* anything else */
} VitlensCameraError;

GQuark vitlens_camera_error_quark (void);

typedef enum
{
  VITLENS_CAMERA_STATE_IDLE,      /* no pipeline */
  VITLENS_CAMERA_STATE_STARTING,  /* pipeline built, waiting for it to run */
  VITLENS_CAMERA_STATE_PLAYING,
  VITLENS_CAMERA_STATE_PAUSED,
  VITLENS_CAMERA_STATE_EOS,       /* the video ended (the pipeline is gone) */
  VITLENS_CAMERA_STATE_ERROR,     /* see vitlens_camera_get_error() (the pipeline is gone) */
  VITLENS_CAMERA_STATE_NO_CAMERA, /* a camera was asked for and there is none */
} VitlensCameraState;

/* The Debian package that has what a GStreamer missing-plugin @message asks for (H.264, H.265,
 * AAC, MPEG-4 and other decoders: "gstreamer1.0-libav"; VP8/VP9: "…-plugins-good"; AV1:
 * "…-plugins-bad"; MPEG-2: "…-plugins-ugly"…), or NULL when we cannot tell. */
const char *vitlens_camera_missing_plugin_package (GstMessage *message);

#define VITLENS_TYPE_CAMERA_STATE (vitlens_camera_state_get_type ())
GType vitlens_camera_state_get_type (void) G_GNUC_CONST;
const char *vitlens_camera_state_to_string (VitlensCameraState state); /* "idle", "playing", … */

/* Called on a GStreamer streaming thread with each frame of the inference branch; keep it
 * short (take a reference and hand the frame over). */
typedef void (*VitlensFrameFunc) (VitlensFrame *frame,
                                  gpointer      user_data);

#define VITLENS_TYPE_CAMERA (vitlens_camera_get_type ())

G_DECLARE_FINAL_TYPE (VitlensCamera, vitlens_camera, VITLENS, CAMERA, GObject)

VitlensCamera     *vitlens_camera_new                (void);

/* Sources. Setting one stops the stream; play() starts the new one. */
/* A device from VitlensCameraMonitor; NULL means "the camera, but there is none": play() then
 * goes to NO_CAMERA. */
void               vitlens_camera_set_device         (VitlensCamera      *self,
                                                      GstDevice          *device);
void               vitlens_camera_set_file           (VitlensCamera      *self,
                                                      GFile              *file);
void               vitlens_camera_set_uri            (VitlensCamera      *self,
                                                      const char         *uri);
/* videotestsrc is-live=true at this size and rate. */
void               vitlens_camera_set_test_pattern   (VitlensCamera      *self,
                                                      int                 width,
                                                      int                 height,
                                                      int                 fps);
/* A gst-launch description of a source ending in one unlinked source pad of raw video, e.g.
 * "v4l2src device=/dev/video2" or "filesrc location=a.avi ! avidemux ! jpegdec". Parsed in
 * play(); a bad one ends in ERROR. */
void               vitlens_camera_set_pipeline       (VitlensCamera      *self,
                                                      const char         *description);
/* Any source element or bin with one source pad (tests inject videotestsrc this way). */
void               vitlens_camera_set_source_element (VitlensCamera      *self,
                                                      GstElement         *element);
/* What is playing, for display: the camera's name, the file's name, "Test pattern"… */
const char        *vitlens_camera_get_source_name    (VitlensCamera      *self);

/* Videos start again at the end instead of ending (default FALSE). */
void               vitlens_camera_set_loop           (VitlensCamera      *self,
                                                      gboolean            loop);
gboolean           vitlens_camera_get_loop           (VitlensCamera      *self);
/* End the stream (EOS) after this many source frames; 0 (default): no limit. */
void               vitlens_camera_set_max_frames     (VitlensCamera      *self,
                                                      guint64             max_frames);

void               vitlens_camera_set_inference_func (VitlensCamera      *self,
                                                      VitlensFrameFunc    func,
                                                      gpointer            user_data,
                                                      GDestroyNotify      destroy);

/* Controls. play() starts (IDLE, EOS, ERROR, NO_CAMERA → STARTING → PLAYING) or resumes
 * (PAUSED → PLAYING); stop() tears the pipeline down (→ IDLE) and returns when every streaming
 * thread has stopped. */
void               vitlens_camera_play               (VitlensCamera      *self);
void               vitlens_camera_pause              (VitlensCamera      *self);
void               vitlens_camera_stop               (VitlensCamera      *self);

VitlensCameraState vitlens_camera_get_state          (VitlensCamera      *self);
/* The reason for ERROR or NO_CAMERA; NULL otherwise. */
const GError      *vitlens_camera_get_error          (VitlensCamera      *self);

/* Counters of the current (or last) stream: source frames that reached the display branch,
 * and their rate (frames per second of arrival, over the whole stream). */
guint64            vitlens_camera_get_frame_count    (VitlensCamera      *self);
double             vitlens_camera_get_source_fps     (VitlensCamera      *self);
/* The running pipeline, for tests and debugging; NULL when idle. */
GstElement        *vitlens_camera_get_pipeline       (VitlensCamera      *self);

G_END_DECLS
