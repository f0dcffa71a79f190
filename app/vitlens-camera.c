/* vitlens-camera.c — live video from a camera, a file or any GStreamer source; no widgets
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Threads: everything here runs on the main thread (the context the camera was made in)
 * except three callbacks on GStreamer streaming threads: the probe that numbers and timestamps
 * frames as they enter the pipeline, and the two appsinks' new-sample callbacks. They share
 * the fields under @lock with the main thread and nothing else. The pipeline goes to NULL
 * only from the main thread (that joins the streaming threads), so after teardown() no
 * callback can run, and the raw @self they carry stays valid until then.
 *
 *   SOURCE ! videoconvert ! video/x-raw,format=RGBx ! tee name=t
 *     t. ! queue max-size-buffers=3 ! appsink sync=true                    display → "frame"
 *     t. ! queue leaky=downstream max-size-buffers=1 ! appsink sync=false drop=true max-buffers=1
 *                                                                           inference → func
 */
#define G_LOG_DOMAIN "vitlens-camera"

#include <glib/gi18n-lib.h>
#include <gst/app/app.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>

#include "vitlens-camera.h"

typedef enum
{
  SOURCE_NONE,
  SOURCE_DEVICE,
  SOURCE_URI,
  SOURCE_TEST_PATTERN,
  SOURCE_PIPELINE,
  SOURCE_ELEMENT,
} SourceKind;

struct _VitlensCamera
{
  GObject             parent_instance;

  GMainContext       *context;       /* where "frame" and state changes are delivered */

  /* the source (main thread) */
  SourceKind          kind;
  GstDevice          *device;        /* NULL with SOURCE_DEVICE: no camera */
  char               *uri;
  int                 tp_width, tp_height, tp_fps;
  char               *description;
  GstElement         *source_element;
  char               *source_name;
  gboolean            loop;

  /* the stream (main thread) */
  GstElement         *pipeline;
  GstElement         *convert;
  GstElement         *display_sink;
  GSource            *bus_source;
  GSource            *watchdog;      /* no first frame in time: a stalled start */
  int                 watchdog_seconds;
  VitlensCameraState  state;
  GError             *error;
  GPtrArray          *missing;       /* descriptions of missing plugins seen on the bus */

  /* shared with the streaming threads, under @lock */
  GMutex              lock;
  guint64             max_frames;
  guint64             frames_in;     /* numbered by the probe */
  gboolean            eos_sent;
  gboolean            video_linked;  /* uridecodebin exposed a video pad */
  guint64             frames_shown;  /* reached the display appsink */
  gint64              first_arrival, last_arrival;
  VitlensFrame       *pending_frame; /* for the main thread; newest wins */
  gboolean            frame_idle_queued;
  VitlensFrameFunc    infer_func;
  gpointer            infer_data;
  GDestroyNotify      infer_destroy;
};

G_DEFINE_FINAL_TYPE (VitlensCamera, vitlens_camera, G_TYPE_OBJECT)

G_DEFINE_QUARK (vitlens-camera-error-quark, vitlens_camera_error)

G_DEFINE_ENUM_TYPE (VitlensCameraState, vitlens_camera_state,
  G_DEFINE_ENUM_VALUE (VITLENS_CAMERA_STATE_IDLE, "idle"),
  G_DEFINE_ENUM_VALUE (VITLENS_CAMERA_STATE_STARTING, "starting"),
  G_DEFINE_ENUM_VALUE (VITLENS_CAMERA_STATE_PLAYING, "playing"),
  G_DEFINE_ENUM_VALUE (VITLENS_CAMERA_STATE_PAUSED, "paused"),
  G_DEFINE_ENUM_VALUE (VITLENS_CAMERA_STATE_EOS, "eos"),
  G_DEFINE_ENUM_VALUE (VITLENS_CAMERA_STATE_ERROR, "error"),
  G_DEFINE_ENUM_VALUE (VITLENS_CAMERA_STATE_NO_CAMERA, "no-camera"))

enum {
  PROP_0,
  PROP_STATE,
  PROP_LOOP,
  PROP_SOURCE_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_FRAME,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define NO_VIDEO_MESSAGE "vitlens-no-video"

/* Which Debian package decodes which media type (the "detail" caps of a missing decoder). */
static const struct
{
  const char *media_type;
  int         mpegversion; /* 0: any */
  const char *package;
} decoder_packages[] = {
  { "video/x-h264", 0, "gstreamer1.0-libav" },
  { "video/x-h265", 0, "gstreamer1.0-libav" },
  { "audio/mpeg", 2, "gstreamer1.0-libav" },          /* AAC */
  { "audio/mpeg", 4, "gstreamer1.0-libav" },          /* AAC */
  { "audio/mpeg", 1, "gstreamer1.0-plugins-good" },   /* MP3: mpg123audiodec */
  { "video/mpeg", 4, "gstreamer1.0-libav" },          /* MPEG-4 part 2 */
  { "video/mpeg", 2, "gstreamer1.0-plugins-ugly" },   /* mpeg2dec */
  { "video/mpeg", 1, "gstreamer1.0-plugins-ugly" },
  { "video/x-divx", 0, "gstreamer1.0-libav" },
  { "video/x-xvid", 0, "gstreamer1.0-libav" },
  { "video/x-msmpeg", 0, "gstreamer1.0-libav" },
  { "video/x-wmv", 0, "gstreamer1.0-libav" },
  { "audio/x-wma", 0, "gstreamer1.0-libav" },
  { "audio/x-ac3", 0, "gstreamer1.0-libav" },
  { "video/x-vp8", 0, "gstreamer1.0-plugins-good" },
  { "video/x-vp9", 0, "gstreamer1.0-plugins-good" },
  { "video/x-av1", 0, "gstreamer1.0-plugins-bad" },
  { "image/webp", 0, "gstreamer1.0-plugins-bad" },
  { "audio/x-opus", 0, "gstreamer1.0-plugins-base" },
  { "audio/x-vorbis", 0, "gstreamer1.0-plugins-base" },
  { "video/x-theora", 0, "gstreamer1.0-plugins-base" },
};

/* Elements by name (a "missing element" message): their plugin's package. */
static const struct
{
  const char *prefix;
  const char *package;
} element_packages[] = {
  { "avdec_", "gstreamer1.0-libav" },
  { "avenc_", "gstreamer1.0-libav" },
  { "x264", "gstreamer1.0-plugins-ugly" },
  { "mpeg2dec", "gstreamer1.0-plugins-ugly" },
  { "webp", "gstreamer1.0-plugins-bad" },
  { "dav1d", "gstreamer1.0-plugins-bad" },
  { "vpx", "gstreamer1.0-plugins-good" },
  { "v4l2", "gstreamer1.0-plugins-good" },
};

const char *
vitlens_camera_missing_plugin_package (GstMessage *message)
{
  const GstStructure *s;
  const char *type;

  g_return_val_if_fail (GST_IS_MESSAGE (message), NULL);
  if (!gst_is_missing_plugin_message (message))
    return NULL;

  s = gst_message_get_structure (message);
  type = gst_structure_get_string (s, "type");
  if (g_strcmp0 (type, "decoder") == 0)
    {
      const GstCaps *caps = NULL;
      const GstStructure *media;
      int mpegversion = 0;

      if (!gst_structure_get (s, "detail", GST_TYPE_CAPS, &caps, NULL) || caps == NULL)
        return NULL;
      media = gst_caps_get_size (caps) > 0 ? gst_caps_get_structure (caps, 0) : NULL;
      if (media != NULL)
        gst_structure_get_int (media, "mpegversion", &mpegversion);
      for (guint i = 0; media != NULL && i < G_N_ELEMENTS (decoder_packages); i++)
        if (gst_structure_has_name (media, decoder_packages[i].media_type)
            && (decoder_packages[i].mpegversion == 0 || decoder_packages[i].mpegversion == mpegversion))
          {
            gst_caps_unref ((GstCaps *)caps);
            return decoder_packages[i].package;
          }
      gst_caps_unref ((GstCaps *)caps);
    }
  else if (g_strcmp0 (type, "element") == 0)
    {
      const char *name = gst_structure_get_string (s, "detail");

      for (guint i = 0; name != NULL && i < G_N_ELEMENTS (element_packages); i++)
        if (g_str_has_prefix (name, element_packages[i].prefix))
          return element_packages[i].package;
    }
  return NULL;
}

const char *
vitlens_camera_state_to_string (VitlensCameraState state)
{
  GEnumClass *klass = g_type_class_ref (VITLENS_TYPE_CAMERA_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  g_type_class_unref (klass);

  return value ? value->value_nick : "unknown";
}

/* ---------------------------------------------------------------------------------------------
 * Frames from samples (streaming threads) */

static void
video_frame_free (gpointer data)
{
  GstVideoFrame *vframe = data;

  gst_video_frame_unmap (vframe); /* drops the buffer reference the map took */
  g_free (vframe);
}

static VitlensFrame *
frame_from_sample (GstSample *sample)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstCaps *caps = gst_sample_get_caps (sample);
  GstVideoInfo info;
  GstVideoFrame *vframe;
  vit_pixel_format format;
  VitlensFrame *frame;
  gint64 capture;

  if (buffer == NULL || caps == NULL || !gst_video_info_from_caps (&info, caps))
    return NULL;

  switch (GST_VIDEO_INFO_FORMAT (&info))
    {
    case GST_VIDEO_FORMAT_RGBx: format = VIT_PIXEL_RGBX8; break;
    case GST_VIDEO_FORMAT_BGRx: format = VIT_PIXEL_BGRX8; break;
    case GST_VIDEO_FORMAT_RGBA: format = VIT_PIXEL_RGBA8; break;
    case GST_VIDEO_FORMAT_BGRA: format = VIT_PIXEL_BGRA8; break;
    default: return NULL;
    }

  vframe = g_new0 (GstVideoFrame, 1);
  if (!gst_video_frame_map (vframe, &info, buffer, GST_MAP_READ))
    {
      g_free (vframe);
      return NULL;
    }

  frame = vitlens_frame_new_for_data (GST_VIDEO_FRAME_PLANE_DATA (vframe, 0),
                                      GST_VIDEO_FRAME_WIDTH (vframe),
                                      GST_VIDEO_FRAME_HEIGHT (vframe),
                                      GST_VIDEO_FRAME_PLANE_STRIDE (vframe, 0),
                                      format, vframe, video_frame_free);

  /* The probe put the number in OFFSET and the capture time in OFFSET_END (videoconvert
   * copies both with the timestamps). */
  capture = GST_BUFFER_OFFSET_END_IS_VALID (buffer) ? (gint64)GST_BUFFER_OFFSET_END (buffer)
                                                    : g_get_monotonic_time ();
  vitlens_frame_set_timing (frame,
                            GST_BUFFER_OFFSET_IS_VALID (buffer) ? GST_BUFFER_OFFSET (buffer) : 0,
                            GST_BUFFER_PTS_IS_VALID (buffer) ? (gint64)GST_BUFFER_PTS (buffer) : -1,
                            capture);

  return frame;
}

/* ---------------------------------------------------------------------------------------------
 * Streaming-thread callbacks */

/* When the frame's timestamp was on the pipeline clock, in g_get_monotonic_time() µs, or -1.
 * Only for a playing pipeline on the (monotonic) system clock: a prerolled frame of a file
 * has no meaningful clock time yet. */
static gint64
clock_time_of (VitlensCamera *self,
               GstPad        *pad,
               GstBuffer     *buffer)
{
  GstElement *pipeline = self->pipeline;
  g_autoptr(GstClock) clock = NULL;
  g_autoptr(GstEvent) segment_event = NULL;
  const GstSegment *segment;
  GstClockType clock_type = GST_CLOCK_TYPE_REALTIME;
  guint64 running_time;
  GstState state;

  GST_OBJECT_LOCK (pipeline);
  state = GST_STATE (pipeline);
  GST_OBJECT_UNLOCK (pipeline);
  if (!GST_BUFFER_PTS_IS_VALID (buffer) || state != GST_STATE_PLAYING)
    return -1;
  clock = gst_element_get_clock (pipeline);
  if (clock == NULL || !GST_IS_SYSTEM_CLOCK (clock))
    return -1;
  g_object_get (clock, "clock-type", &clock_type, NULL);
  if (clock_type != GST_CLOCK_TYPE_MONOTONIC)
    return -1;

  segment_event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  if (segment_event == NULL)
    return -1;
  gst_event_parse_segment (segment_event, &segment);
  if (segment->format != GST_FORMAT_TIME)
    return -1;
  running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
  if (!GST_CLOCK_TIME_IS_VALID (running_time))
    return -1;

  return (gint64)((gst_element_get_base_time (pipeline) + running_time) / GST_USECOND);
}

/* On videoconvert's sink pad: number each frame, note when it was captured, and end the
 * stream after max_frames. */
static GstPadProbeReturn
source_probe (GstPad          *pad,
              GstPadProbeInfo *info,
              gpointer         user_data)
{
  VitlensCamera *self = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  gboolean send_eos = FALSE, drop = FALSE;
  gint64 now = g_get_monotonic_time (), clock_time;
  guint64 number = 0;

  g_mutex_lock (&self->lock);
  if (self->max_frames > 0 && self->frames_in >= self->max_frames)
    {
      send_eos = !self->eos_sent;
      self->eos_sent = TRUE;
      drop = TRUE;
    }
  else
    {
      number = self->frames_in++;
    }
  g_mutex_unlock (&self->lock);

  if (drop)
    {
      if (send_eos)
        gst_pad_send_event (pad, gst_event_new_eos ());
      return GST_PAD_PROBE_DROP;
    }

  clock_time = clock_time_of (self, pad, buffer);
  /* A clock time in the future is a file's presentation time, not a capture time. */
  if (clock_time < 0 || clock_time > now || now - clock_time > 10 * G_USEC_PER_SEC)
    clock_time = now;

  /* Only the buffer's metadata is copied when it is shared, never its pixels. */
  buffer = gst_buffer_make_writable (buffer);
  GST_BUFFER_OFFSET (buffer) = number;
  GST_BUFFER_OFFSET_END (buffer) = (guint64)clock_time;
  GST_PAD_PROBE_INFO_DATA (info) = buffer;

  return GST_PAD_PROBE_OK;
}

static gboolean
deliver_frame (gpointer user_data)
{
  VitlensCamera *self = user_data;
  VitlensFrame *frame;

  g_mutex_lock (&self->lock);
  frame = g_steal_pointer (&self->pending_frame);
  self->frame_idle_queued = FALSE;
  g_mutex_unlock (&self->lock);

  /* teardown() empties the slot, so a frame here belongs to the running stream. */
  if (frame != NULL)
    {
      g_signal_emit (self, signals[SIGNAL_FRAME], 0, frame);
      vitlens_frame_unref (frame);
    }

  return G_SOURCE_REMOVE;
}

static GstFlowReturn
display_new_sample (GstAppSink *sink,
                    gpointer    user_data)
{
  VitlensCamera *self = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (sink);
  VitlensFrame *frame = NULL, *superseded = NULL;
  gboolean queue_idle = FALSE;
  gint64 now = g_get_monotonic_time ();

  if (sample == NULL)
    return GST_FLOW_OK;

  if (g_signal_has_handler_pending (self, signals[SIGNAL_FRAME], 0, FALSE))
    frame = frame_from_sample (sample);

  g_mutex_lock (&self->lock);
  if (self->frames_shown++ == 0)
    self->first_arrival = now;
  self->last_arrival = now;
  if (frame != NULL)
    {
      superseded = self->pending_frame;
      self->pending_frame = frame;
      queue_idle = !self->frame_idle_queued;
      self->frame_idle_queued = TRUE;
    }
  g_mutex_unlock (&self->lock);

  if (superseded != NULL)
    vitlens_frame_unref (superseded);
  if (queue_idle)
    {
      GSource *idle = g_idle_source_new ();

      g_source_set_priority (idle, G_PRIORITY_DEFAULT);
      g_source_set_callback (idle, deliver_frame, g_object_ref (self), g_object_unref);
      g_source_attach (idle, self->context);
      g_source_unref (idle);
    }

  return GST_FLOW_OK;
}

static GstFlowReturn
inference_new_sample (GstAppSink *sink,
                      gpointer    user_data)
{
  VitlensCamera *self = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (sink);
  VitlensFrame *frame;

  if (sample == NULL)
    return GST_FLOW_OK;

  g_mutex_lock (&self->lock);
  if (self->infer_func != NULL && (frame = frame_from_sample (sample)) != NULL)
    {
      self->infer_func (frame, self->infer_data);
      vitlens_frame_unref (frame);
    }
  g_mutex_unlock (&self->lock);

  return GST_FLOW_OK;
}

/* uridecodebin: the first raw video pad goes to videoconvert, every other pad to a fakesink
 * (an unlinked stream would stop the others with not-linked). */
static void
on_pad_added (GstElement *decodebin,
              GstPad     *pad,
              gpointer    user_data)
{
  VitlensCamera *self = user_data;
  g_autoptr(GstCaps) caps = gst_pad_query_caps (pad, NULL);
  const char *media = "";
  gboolean linked = FALSE;
  GstElement *sink;
  g_autoptr(GstPad) sinkpad = NULL;

  if (caps != NULL && gst_caps_get_size (caps) > 0)
    media = gst_structure_get_name (gst_caps_get_structure (caps, 0));

  if (g_str_has_prefix (media, "video/"))
    {
      g_autoptr(GstPad) convert_sink = gst_element_get_static_pad (self->convert, "sink");

      g_mutex_lock (&self->lock);
      if (!self->video_linked && gst_pad_link (pad, convert_sink) == GST_PAD_LINK_OK)
        self->video_linked = linked = TRUE;
      g_mutex_unlock (&self->lock);
    }
  if (linked)
    return;

  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (self->pipeline), sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_element_sync_state_with_parent (sink);
}

static void
on_no_more_pads (GstElement *decodebin,
                 gpointer    user_data)
{
  VitlensCamera *self = user_data;
  gboolean linked;

  g_mutex_lock (&self->lock);
  linked = self->video_linked;
  g_mutex_unlock (&self->lock);

  if (!linked)
    gst_element_post_message (decodebin,
                              gst_message_new_application (GST_OBJECT (decodebin),
                                                           gst_structure_new_empty (NO_VIDEO_MESSAGE)));
}

/* ---------------------------------------------------------------------------------------------
 * State and errors (main thread) */

static void
set_state (VitlensCamera     *self,
           VitlensCameraState state)
{
  if (self->state == state)
    return;
  g_debug ("%s → %s", vitlens_camera_state_to_string (self->state),
           vitlens_camera_state_to_string (state));
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
teardown (VitlensCamera *self)
{
  if (self->watchdog != NULL)
    {
      g_source_destroy (self->watchdog);
      g_clear_pointer (&self->watchdog, g_source_unref);
    }
  if (self->bus_source != NULL)
    {
      g_source_destroy (self->bus_source);
      g_clear_pointer (&self->bus_source, g_source_unref);
    }
  if (self->pipeline != NULL)
    {
      /* Joins every streaming thread: no callback runs after this. */
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      if (self->source_element != NULL
          && GST_OBJECT_PARENT (self->source_element) == GST_OBJECT (self->pipeline))
        gst_bin_remove (GST_BIN (self->pipeline), self->source_element); /* ours, reusable */
      g_clear_pointer (&self->pipeline, gst_object_unref);
      self->convert = NULL;
      self->display_sink = NULL;
    }

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->pending_frame, vitlens_frame_unref);
  g_mutex_unlock (&self->lock);
}

static void
fail (VitlensCamera *self,
      GError        *error)
{
  teardown (self);
  g_clear_error (&self->error);
  self->error = error;
  g_debug ("error: %s", error->message);
  set_state (self, g_error_matches (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NO_DEVICE)
                     ? VITLENS_CAMERA_STATE_NO_CAMERA : VITLENS_CAMERA_STATE_ERROR);
}

static gboolean
debug_says (const char *debug,
            const char *what)
{
  return debug != NULL && strstr (debug, what) != NULL;
}

/* The device path of the element that failed (v4l2src and friends have "device"), or NULL. */
static char *
element_device (GstObject *src)
{
  char *device = NULL;

  if (GST_IS_ELEMENT (src)
      && g_object_class_find_property (G_OBJECT_GET_CLASS (src), "device") != NULL
      && G_PARAM_SPEC_VALUE_TYPE (g_object_class_find_property (G_OBJECT_GET_CLASS (src), "device"))
           == G_TYPE_STRING)
    g_object_get (src, "device", &device, NULL);

  return device;
}

static GError *
error_from_message (VitlensCamera *self,
                    GstMessage    *message)
{
  g_autoptr(GError) err = NULL;
  g_autofree char *debug = NULL;
  g_autofree char *device = NULL;
  g_autofree char *what = NULL;
  g_autofree char *missing = NULL;
  gboolean is_camera;

  gst_message_parse_error (message, &err, &debug);
  g_debug ("bus error from %s: %s (%s)", GST_OBJECT_NAME (GST_MESSAGE_SRC (message)),
           err->message, debug ? debug : "");

  device = element_device (GST_MESSAGE_SRC (message));
  is_camera = self->kind == SOURCE_DEVICE || device != NULL;
  what = device ? g_strdup (device) : g_strdup_printf ("“%s”", self->source_name);
  if (self->missing->len > 0)
    {
      g_ptr_array_add (self->missing, NULL);
      missing = g_strjoinv (", ", (char **)self->missing->pdata);
      g_ptr_array_remove_index (self->missing, self->missing->len - 1);
    }

  if (err->domain == GST_RESOURCE_ERROR)
    {
      if (debug_says (debug, "Permission denied") || err->code == GST_RESOURCE_ERROR_NOT_AUTHORIZED)
        return g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_PERMISSION,
                            is_camera
                              /* Translators: %s is a device such as /dev/video0 */
                              ? _("Not allowed to open the camera %s (permission denied); the user may need to be in the “video” group")
                              /* Translators: %s is a file name */
                              : _("Not allowed to open %s (permission denied)"),
                            what);
      if (err->code == GST_RESOURCE_ERROR_BUSY || debug_says (debug, "busy"))
        return g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_BUSY,
                            /* Translators: %s is a device such as /dev/video0 */
                            _("The camera %s is busy: another application is using it"), what);
      if (is_camera && (err->code == GST_RESOURCE_ERROR_NOT_FOUND
                        || debug_says (debug, "No such file")
                        || debug_says (debug, "No such device")))
        return g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NO_DEVICE,
                            /* Translators: %s is a device such as /dev/video0 */
                            _("No camera at %s: the device was not found"), what);
      if (is_camera && (err->code == GST_RESOURCE_ERROR_SETTINGS || debug_says (debug, "capture device")))
        return g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NO_DEVICE,
                            /* Translators: %s is a device such as /dev/video0; %s the reason */
                            _("%s is not a camera that can be used (%s)"), what, err->message);
      if (err->code == GST_RESOURCE_ERROR_NOT_FOUND)
        return g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_FAILED,
                            /* Translators: %s is a file name */
                            _("%s was not found"), what);
    }

  if (g_error_matches (err, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN)
      || g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND)
      || missing != NULL)
    return g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_MISSING_PLUGIN,
                        /* Translators: the first %s is a file or camera, the second names
                         * what is missing, e.g. "ITU H.264 decoder" */
                        _("Cannot play %s: a GStreamer plugin is missing (%s)"),
                        what, missing ? missing : err->message);

  if (err->domain == GST_STREAM_ERROR)
    switch (err->code)
      {
      case GST_STREAM_ERROR_TYPE_NOT_FOUND:
      case GST_STREAM_ERROR_WRONG_TYPE:
        return g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NOT_VIDEO,
                            /* Translators: %s is a file name */
                            _("%s is not a video: its type was not recognised"), what);
      case GST_STREAM_ERROR_DEMUX:
      case GST_STREAM_ERROR_FORMAT:
        return g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NOT_VIDEO,
                            /* Translators: %s is a file name */
                            _("%s is not a video that can be read: it is damaged or truncated (%s)"),
                            what, err->message);
      case GST_STREAM_ERROR_DECODE:
        return g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NOT_VIDEO,
                            /* Translators: %s is a file name */
                            _("%s is not a video that can be decoded: it is damaged (%s)"),
                            what, err->message);
      default:
        if (debug_says (debug, "not-negotiated"))
          return g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NOT_VIDEO,
                              /* Translators: %s is a file, camera or pipeline */
                              _("%s is not a video source: it gives no raw video frames that can be converted (end a pipeline with a decoder)"),
                              what);
        break;
      }

  return g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_FAILED,
                      /* Translators: %s is a file, camera or pipeline, then GStreamer's error */
                      _("Cannot play %s: %s"), what, err->message);
}

static void
handle_eos (VitlensCamera *self)
{
  gboolean limit_reached;
  guint64 frames;

  g_mutex_lock (&self->lock);
  limit_reached = self->eos_sent;
  frames = self->frames_in;
  g_mutex_unlock (&self->lock);

  if (frames == 0)
    {
      fail (self, g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NOT_VIDEO,
                               /* Translators: %s is a file or pipeline */
                               _("“%s” is not a video: it ended before its first frame (it may be truncated)"),
                               self->source_name));
      return;
    }

  /* The seek goes up from one sink only: sent to the pipeline it would go to every sink, and
   * the second flush would drop frames the first one let through. */
  if (self->loop && self->kind == SOURCE_URI && !limit_reached
      && gst_element_seek_simple (self->display_sink, GST_FORMAT_TIME,
                                  GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0))
    {
      g_debug ("looping");
      return;
    }

  teardown (self);
  set_state (self, VITLENS_CAMERA_STATE_EOS);
}

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  VitlensCamera *self = user_data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      fail (self, error_from_message (self, message));
      return G_SOURCE_REMOVE;

    case GST_MESSAGE_EOS:
      handle_eos (self);
      return self->pipeline != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;

    case GST_MESSAGE_ELEMENT:
      if (gst_is_missing_plugin_message (message))
        {
          g_autofree char *description = gst_missing_plugin_message_get_description (message);
          const char *package = vitlens_camera_missing_plugin_package (message);

          g_debug ("missing plugin: %s (%s)", description, package ? package : "package unknown");
          g_ptr_array_add (self->missing,
                           package
                             /* Translators: what a missing GStreamer plugin would do (e.g. "H.264
                              * (Main Profile) decoder"), then the Debian package that has it */
                             ? g_strdup_printf (_("%s, from the package %s"), description, package)
                             : g_steal_pointer (&description));
        }
      break;

    case GST_MESSAGE_APPLICATION:
      if (gst_message_has_name (message, NO_VIDEO_MESSAGE))
        {
          if (self->missing->len > 0)
            {
              /* The video stream is there but nothing decodes it. */
              g_autofree char *missing = NULL;
              g_autofree char *what = g_strdup_printf ("“%s”", self->source_name);

              g_ptr_array_add (self->missing, NULL);
              missing = g_strjoinv (", ", (char **)self->missing->pdata);
              fail (self, g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_MISSING_PLUGIN,
                                       _("Cannot play %s: a GStreamer plugin is missing (%s)"),
                                       what, missing));
            }
          else
            {
              fail (self, g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NOT_VIDEO,
                                       /* Translators: %s is a file name */
                                       _("“%s” is not a video: it has no video stream"),
                                       self->source_name));
            }
          return G_SOURCE_REMOVE;
        }
      break;

    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC (message) == GST_OBJECT (self->pipeline))
        {
          GstState new_state;

          gst_message_parse_state_changed (message, NULL, &new_state, NULL);
          if (new_state == GST_STATE_PLAYING && self->state == VITLENS_CAMERA_STATE_STARTING)
            set_state (self, VITLENS_CAMERA_STATE_PLAYING);
        }
      break;

    case GST_MESSAGE_WARNING:
      {
        g_autoptr(GError) err = NULL;
        g_autofree char *debug = NULL;

        gst_message_parse_warning (message, &err, &debug);
        g_debug ("bus warning from %s: %s (%s)", GST_OBJECT_NAME (GST_MESSAGE_SRC (message)),
                 err->message, debug ? debug : "");
      }
      break;

    default:
      break;
    }

  return G_SOURCE_CONTINUE;
}

/* No frame yet, long after play(): some failures never reach the bus (decodebin drops the
 * error of a demuxer that fails while it is being plugged, and the pipeline then waits for
 * ever), and a camera can open and send nothing. Either way, say so instead of waiting. */
static gboolean
on_watchdog (gpointer user_data)
{
  VitlensCamera *self = user_data;
  guint64 frames;

  g_clear_pointer (&self->watchdog, g_source_unref);

  g_mutex_lock (&self->lock);
  frames = self->frames_in;
  g_mutex_unlock (&self->lock);
  if (frames > 0 || self->pipeline == NULL || self->state == VITLENS_CAMERA_STATE_PAUSED)
    return G_SOURCE_REMOVE;

  if (self->kind == SOURCE_URI)
    fail (self, g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NOT_VIDEO,
                             /* Translators: %s is a file name */
                             _("“%s” is not a video that can be read: no frame could be decoded from it"),
                             self->source_name));
  else
    fail (self, g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_FAILED,
                             /* Translators: %s is a camera or pipeline, %d a number of seconds */
                             _("%s gave no picture in %d seconds"),
                             self->source_name, self->watchdog_seconds));

  return G_SOURCE_REMOVE;
}

/* ---------------------------------------------------------------------------------------------
 * Building the pipeline (main thread) */

static GstElement *
make_element (const char *factory,
              const char *name,
              GError    **error)
{
  GstElement *element = gst_element_factory_make (factory, name);

  if (element == NULL)
    g_set_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_MISSING_PLUGIN,
                 /* Translators: %s is a GStreamer element such as videoconvert */
                 _("The GStreamer element “%s” is not installed (a GStreamer plugin is missing)"),
                 factory);

  return element;
}


/* A description that ends in caps, as a person types it after gst-launch-1.0
 * ("v4l2src ! video/x-raw,width=640,height=480"), is a capsfilter there only because an element
 * follows; as a bin description the caps would be read as an element named "video". End such a
 * description with an identity element so that the caps stay a link filter, and leave any other
 * description as it is. */
static char *
pipeline_description_for_bin (const char *description)
{
  const char *last = description;
  gboolean quoted = FALSE;

  for (const char *p = description; *p != '\0'; p++)
    {
      if (*p == '\\' && p[1] != '\0')
        p++;
      else if (*p == '"')
        quoted = !quoted;
      else if (*p == '!' && !quoted)
        last = p + 1;
    }
  if (last != description)
    {
      g_autofree char *tail = g_strstrip (g_strdup (last));
      g_autoptr(GstCaps) caps = NULL;
      size_t name_len;

      /* caps start with a media type, "video/x-raw" or "image/jpeg": a letter, then letters,
       * digits and -_.+ with one slash (checked first: GStreamer asserts on other names) */
      name_len = strcspn (tail, ", \t");
      if (g_ascii_isalpha (tail[0]) && memchr (tail, '/', name_len) != NULL
          && strspn (tail, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+/") == name_len)
        caps = gst_caps_from_string (tail);
      if (caps != NULL)
        return g_strconcat (description, " ! identity", NULL);
    }
  return g_strdup (description);
}

static GstElement *
make_source (VitlensCamera *self,
             GError       **error)
{
  g_autoptr(GError) parse_error = NULL;
  GstElement *source = NULL;

  switch (self->kind)
    {
    case SOURCE_NONE:
      g_set_error_literal (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_FAILED,
                           _("No video source was chosen"));
      return NULL;

    case SOURCE_DEVICE:
      if (self->device == NULL)
        {
          g_set_error_literal (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NO_DEVICE,
                               _("No camera was found"));
          return NULL;
        }
      source = gst_device_create_element (self->device, "source");
      if (source == NULL)
        g_set_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NO_DEVICE,
                     /* Translators: %s is a camera's name */
                     _("The camera “%s” cannot be opened"), self->source_name);
      return source;

    case SOURCE_URI:
      source = make_element ("uridecodebin", "source", error);
      if (source != NULL)
        {
          g_object_set (source, "uri", self->uri, NULL);
          g_signal_connect (source, "pad-added", G_CALLBACK (on_pad_added), self);
          g_signal_connect (source, "no-more-pads", G_CALLBACK (on_no_more_pads), self);
        }
      return source;

    case SOURCE_TEST_PATTERN:
      {
        g_autofree char *desc =
          g_strdup_printf ("videotestsrc is-live=true ! capsfilter caps=\"video/x-raw,width=%d,height=%d,framerate=%d/1\"",
                           self->tp_width, self->tp_height, self->tp_fps);

        source = gst_parse_bin_from_description_full (desc, TRUE, NULL,
                                                      GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
      }
      break;

    case SOURCE_PIPELINE:
      {
        g_autofree char *desc = pipeline_description_for_bin (self->description);

        source = gst_parse_bin_from_description_full (desc, TRUE, NULL,
                                                      GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
      }
      if (source != NULL)
        {
          g_autoptr(GstPad) pad = gst_element_get_static_pad (source, "src");

          if (pad == NULL)
            {
              gst_object_unref (gst_object_ref_sink (source));
              g_set_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_FAILED,
                           /* Translators: %s is a GStreamer pipeline description */
                           _("The pipeline “%s” has no free source pad to take video from"),
                           self->description);
              return NULL;
            }
        }
      break;

    case SOURCE_ELEMENT:
      return gst_object_ref (self->source_element);
    }

  if (parse_error != NULL)
    {
      if (g_error_matches (parse_error, GST_PARSE_ERROR, GST_PARSE_ERROR_NO_SUCH_ELEMENT))
        g_set_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_MISSING_PLUGIN,
                     /* Translators: %s is GStreamer's message, e.g. no element "foo" */
                     _("The pipeline names an element that is not installed: %s"),
                     parse_error->message);
      else
        g_set_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_FAILED,
                     /* Translators: %s is GStreamer's message */
                     _("The pipeline description is not valid: %s"), parse_error->message);
      if (source != NULL)
        gst_object_unref (gst_object_ref_sink (source));
      return NULL;
    }

  return source;
}

static GstElement *
make_appsink (const char *name,
              gboolean    display,
              GError    **error)
{
  GstElement *sink = make_element ("appsink", name, error);

  if (sink == NULL)
    return NULL;
  g_object_set (sink,
                "sync", display,
                "enable-last-sample", FALSE, /* would hold a buffer back */
                "max-buffers", display ? 3 : 1,
                "drop", !display,
                NULL);

  return sink;
}

static gboolean
build_pipeline (VitlensCamera *self,
                GError       **error)
{
  g_autoptr(GstCaps) caps = NULL;
  g_autoptr(GstPad) convert_sink = NULL;
  g_autoptr(GstBus) bus = NULL;
  GstElement *source, *convert, *filter, *tee, *display_queue, *display_sink, *infer_queue,
             *infer_sink;
  GstAppSinkCallbacks display_callbacks = { .new_sample = display_new_sample };
  GstAppSinkCallbacks infer_callbacks = { .new_sample = inference_new_sample };
  GstElement *pipeline;

  if (!(source = make_source (self, error)))
    return FALSE;

  pipeline = gst_pipeline_new ("vitlens-camera");
  gst_bin_add (GST_BIN (pipeline), source); /* sinks the floating ref of a new source */
  if (self->kind == SOURCE_ELEMENT)
    gst_object_unref (source);                /* the bin has its own ref now */

#define ADD(var, factory, name) \
  if (!((var) = make_element ((factory), (name), error))) goto fail; \
  gst_bin_add (GST_BIN (pipeline), (var));

  ADD (convert, "videoconvert", "convert");
  ADD (filter, "capsfilter", "format");
  ADD (tee, "tee", "tee");
  ADD (display_queue, "queue", "display-queue");
  ADD (infer_queue, "queue", "inference-queue");
#undef ADD
  if (!(display_sink = make_appsink ("display", TRUE, error)))
    goto fail;
  gst_bin_add (GST_BIN (pipeline), display_sink);
  if (!(infer_sink = make_appsink ("inference", FALSE, error)))
    goto fail;
  gst_bin_add (GST_BIN (pipeline), infer_sink);

  caps = gst_caps_from_string ("video/x-raw,format=RGBx");
  g_object_set (filter, "caps", caps, NULL);
  g_object_set (display_queue, "max-size-buffers", 3, "max-size-bytes", 0,
                "max-size-time", (guint64)0, NULL);
  g_object_set (infer_queue, "leaky", 2 /* downstream: drop the older */, "max-size-buffers", 1,
                "max-size-bytes", 0, "max-size-time", (guint64)0, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (display_sink), &display_callbacks, self, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (infer_sink), &infer_callbacks, self, NULL);

  /* The tee pushes to its pads in the order they were made: the inference branch first, so
   * that a full display queue (a file runs ahead of its display by those three frames) never
   * delays a frame on its way to the classifier. */
  if (!gst_element_link_many (convert, filter, tee, NULL)
      || !gst_element_link_many (tee, infer_queue, infer_sink, NULL)
      || !gst_element_link_many (tee, display_queue, display_sink, NULL)
      || (self->kind != SOURCE_URI && !gst_element_link (source, convert)))
    {
      g_set_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NOT_VIDEO,
                   /* Translators: %s is a camera, file or pipeline */
                   _("%s gives no video that can be converted to RGB"), self->source_name);
      goto fail;
    }

  convert_sink = gst_element_get_static_pad (convert, "sink");
  gst_pad_add_probe (convert_sink, GST_PAD_PROBE_TYPE_BUFFER, source_probe, self, NULL);

  self->pipeline = pipeline;
  self->convert = convert;
  self->display_sink = display_sink;

  bus = gst_element_get_bus (pipeline);
  self->bus_source = gst_bus_create_watch (bus);
  g_source_set_callback (self->bus_source, (GSourceFunc)(void (*) (void))on_bus_message, self, NULL);
  g_source_attach (self->bus_source, self->context);

  return TRUE;

fail:
  if (self->source_element != NULL
      && GST_OBJECT_PARENT (self->source_element) == GST_OBJECT (pipeline))
    gst_bin_remove (GST_BIN (pipeline), self->source_element);
  gst_object_unref (pipeline);
  return FALSE;
}

/* ---------------------------------------------------------------------------------------------
 * Public API */

static void
clear_source (VitlensCamera *self)
{
  vitlens_camera_stop (self);
  self->kind = SOURCE_NONE;
  g_clear_object (&self->device);
  g_clear_pointer (&self->uri, g_free);
  g_clear_pointer (&self->description, g_free);
  g_clear_pointer (&self->source_element, gst_object_unref);
}

static void
set_source_name (VitlensCamera *self,
                 char          *name)
{
  g_free (self->source_name);
  self->source_name = name;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOURCE_NAME]);
}

void
vitlens_camera_set_device (VitlensCamera *self,
                           GstDevice     *device)
{
  g_return_if_fail (VITLENS_IS_CAMERA (self));
  g_return_if_fail (device == NULL || GST_IS_DEVICE (device));

  clear_source (self);
  self->kind = SOURCE_DEVICE;
  self->device = device ? g_object_ref (device) : NULL;
  set_source_name (self, device ? gst_device_get_display_name (device) : g_strdup (_("Camera")));
}

void
vitlens_camera_set_uri (VitlensCamera *self,
                        const char    *uri)
{
  g_autofree char *path = NULL;

  g_return_if_fail (VITLENS_IS_CAMERA (self));
  g_return_if_fail (uri != NULL);

  clear_source (self);
  self->kind = SOURCE_URI;
  self->uri = g_strdup (uri);
  path = g_filename_from_uri (uri, NULL, NULL);
  set_source_name (self, path ? g_filename_display_basename (path) : g_strdup (uri));
}

void
vitlens_camera_set_file (VitlensCamera *self,
                         GFile         *file)
{
  g_autofree char *uri = NULL;

  g_return_if_fail (VITLENS_IS_CAMERA (self));
  g_return_if_fail (G_IS_FILE (file));

  uri = g_file_get_uri (file);
  vitlens_camera_set_uri (self, uri);
}

void
vitlens_camera_set_test_pattern (VitlensCamera *self,
                                 int            width,
                                 int            height,
                                 int            fps)
{
  g_return_if_fail (VITLENS_IS_CAMERA (self));
  g_return_if_fail (width > 0 && height > 0 && fps > 0);

  clear_source (self);
  self->kind = SOURCE_TEST_PATTERN;
  self->tp_width = width;
  self->tp_height = height;
  self->tp_fps = fps;
  set_source_name (self, g_strdup (_("Test pattern")));
}

void
vitlens_camera_set_pipeline (VitlensCamera *self,
                             const char    *description)
{
  g_return_if_fail (VITLENS_IS_CAMERA (self));
  g_return_if_fail (description != NULL);

  clear_source (self);
  self->kind = SOURCE_PIPELINE;
  self->description = g_strdup (description);
  set_source_name (self, g_strdup (description));
}

void
vitlens_camera_set_source_element (VitlensCamera *self,
                                   GstElement    *element)
{
  g_return_if_fail (VITLENS_IS_CAMERA (self));
  g_return_if_fail (GST_IS_ELEMENT (element));

  clear_source (self);
  self->kind = SOURCE_ELEMENT;
  self->source_element = gst_object_ref_sink (element);
  set_source_name (self, gst_object_get_name (GST_OBJECT (element)));
}

const char *
vitlens_camera_get_source_name (VitlensCamera *self)
{
  g_return_val_if_fail (VITLENS_IS_CAMERA (self), NULL);

  return self->source_name;
}

void
vitlens_camera_set_loop (VitlensCamera *self,
                         gboolean       loop)
{
  g_return_if_fail (VITLENS_IS_CAMERA (self));

  loop = !!loop;
  if (self->loop == loop)
    return;
  self->loop = loop;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOOP]);
}

gboolean
vitlens_camera_get_loop (VitlensCamera *self)
{
  g_return_val_if_fail (VITLENS_IS_CAMERA (self), FALSE);

  return self->loop;
}

void
vitlens_camera_set_max_frames (VitlensCamera *self,
                               guint64        max_frames)
{
  g_return_if_fail (VITLENS_IS_CAMERA (self));

  g_mutex_lock (&self->lock);
  self->max_frames = max_frames;
  g_mutex_unlock (&self->lock);
}

void
vitlens_camera_set_inference_func (VitlensCamera   *self,
                                   VitlensFrameFunc func,
                                   gpointer         user_data,
                                   GDestroyNotify   destroy)
{
  gpointer old_data;
  GDestroyNotify old_destroy;

  g_return_if_fail (VITLENS_IS_CAMERA (self));

  g_mutex_lock (&self->lock);
  old_data = self->infer_data;
  old_destroy = self->infer_destroy;
  self->infer_func = func;
  self->infer_data = user_data;
  self->infer_destroy = destroy;
  g_mutex_unlock (&self->lock);

  if (old_destroy != NULL)
    old_destroy (old_data);
}

void
vitlens_camera_play (VitlensCamera *self)
{
  GError *error = NULL;

  g_return_if_fail (VITLENS_IS_CAMERA (self));

  if (self->pipeline != NULL)
    {
      if (self->state == VITLENS_CAMERA_STATE_PAUSED)
        {
          gst_element_set_state (self->pipeline, GST_STATE_PLAYING);
          set_state (self, VITLENS_CAMERA_STATE_PLAYING);
        }
      return;
    }

  g_clear_error (&self->error);
  g_ptr_array_set_size (self->missing, 0);
  g_mutex_lock (&self->lock);
  self->frames_in = 0;
  self->eos_sent = FALSE;
  self->video_linked = FALSE;
  self->frames_shown = 0;
  self->first_arrival = self->last_arrival = 0;
  g_mutex_unlock (&self->lock);

  if (!build_pipeline (self, &error))
    {
      fail (self, error);
      return;
    }

  set_state (self, VITLENS_CAMERA_STATE_STARTING);
  self->watchdog_seconds = self->kind == SOURCE_URI ? 5 : 10;
  self->watchdog = g_timeout_source_new_seconds (self->watchdog_seconds);
  g_source_set_callback (self->watchdog, on_watchdog, self, NULL);
  g_source_attach (self->watchdog, self->context);
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      /* The reason is on the bus; read it now rather than leave a dead pipeline around. */
      g_autoptr(GstBus) bus = gst_element_get_bus (self->pipeline);
      g_autoptr(GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

      if (message != NULL)
        error = error_from_message (self, message);
      else
        error = g_error_new (VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_FAILED,
                             /* Translators: %s is a camera, file or pipeline */
                             _("Cannot start %s"), self->source_name);
      fail (self, error);
    }
}

void
vitlens_camera_pause (VitlensCamera *self)
{
  g_return_if_fail (VITLENS_IS_CAMERA (self));

  if (self->pipeline == NULL
      || (self->state != VITLENS_CAMERA_STATE_PLAYING && self->state != VITLENS_CAMERA_STATE_STARTING))
    return;
  gst_element_set_state (self->pipeline, GST_STATE_PAUSED);
  set_state (self, VITLENS_CAMERA_STATE_PAUSED);
}

void
vitlens_camera_stop (VitlensCamera *self)
{
  g_return_if_fail (VITLENS_IS_CAMERA (self));

  teardown (self);
  g_clear_error (&self->error);
  set_state (self, VITLENS_CAMERA_STATE_IDLE);
}

VitlensCameraState
vitlens_camera_get_state (VitlensCamera *self)
{
  g_return_val_if_fail (VITLENS_IS_CAMERA (self), VITLENS_CAMERA_STATE_IDLE);

  return self->state;
}

const GError *
vitlens_camera_get_error (VitlensCamera *self)
{
  g_return_val_if_fail (VITLENS_IS_CAMERA (self), NULL);

  return self->error;
}

guint64
vitlens_camera_get_frame_count (VitlensCamera *self)
{
  guint64 n;

  g_return_val_if_fail (VITLENS_IS_CAMERA (self), 0);

  g_mutex_lock (&self->lock);
  n = self->frames_shown;
  g_mutex_unlock (&self->lock);

  return n;
}

double
vitlens_camera_get_source_fps (VitlensCamera *self)
{
  double fps = 0;

  g_return_val_if_fail (VITLENS_IS_CAMERA (self), 0);

  g_mutex_lock (&self->lock);
  if (self->frames_shown > 1 && self->last_arrival > self->first_arrival)
    fps = (self->frames_shown - 1) * (double)G_USEC_PER_SEC
          / (double)(self->last_arrival - self->first_arrival);
  g_mutex_unlock (&self->lock);

  return fps;
}

GstElement *
vitlens_camera_get_pipeline (VitlensCamera *self)
{
  g_return_val_if_fail (VITLENS_IS_CAMERA (self), NULL);

  return self->pipeline;
}

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_camera_dispose (GObject *object)
{
  VitlensCamera *self = (VitlensCamera *)object;

  teardown (self);
  vitlens_camera_set_inference_func (self, NULL, NULL, NULL);
  g_clear_object (&self->device);
  g_clear_pointer (&self->source_element, gst_object_unref);

  G_OBJECT_CLASS (vitlens_camera_parent_class)->dispose (object);
}

static void
vitlens_camera_finalize (GObject *object)
{
  VitlensCamera *self = (VitlensCamera *)object;

  g_free (self->uri);
  g_free (self->description);
  g_free (self->source_name);
  g_clear_error (&self->error);
  g_ptr_array_unref (self->missing);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (vitlens_camera_parent_class)->finalize (object);
}

static void
vitlens_camera_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  VitlensCamera *self = VITLENS_CAMERA (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_LOOP:
      g_value_set_boolean (value, self->loop);
      break;

    case PROP_SOURCE_NAME:
      g_value_set_string (value, self->source_name);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_camera_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  VitlensCamera *self = VITLENS_CAMERA (object);

  switch (prop_id)
    {
    case PROP_LOOP:
      vitlens_camera_set_loop (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_camera_class_init (VitlensCameraClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vitlens_camera_dispose;
  object_class->finalize = vitlens_camera_finalize;
  object_class->get_property = vitlens_camera_get_property;
  object_class->set_property = vitlens_camera_set_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, VITLENS_TYPE_CAMERA_STATE, VITLENS_CAMERA_STATE_IDLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOOP] =
    g_param_spec_boolean ("loop", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SOURCE_NAME] =
    g_param_spec_string ("source-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * VitlensCamera::frame:
   * @frame: the newest frame of the display branch (RGBx, full size)
   *
   * On the main context, at the source's rate; when the main loop falls behind, older
   * frames are skipped.
   */
  signals[SIGNAL_FRAME] =
    g_signal_new ("frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, VITLENS_TYPE_FRAME | G_SIGNAL_TYPE_STATIC_SCOPE);

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
}

static void
vitlens_camera_init (VitlensCamera *self)
{
  g_mutex_init (&self->lock);
  self->context = g_main_context_ref_thread_default ();
  self->missing = g_ptr_array_new_with_free_func (g_free);
  self->state = VITLENS_CAMERA_STATE_IDLE;
  self->tp_width = 640;
  self->tp_height = 480;
  self->tp_fps = 30;
}

VitlensCamera *
vitlens_camera_new (void)
{
  return g_object_new (VITLENS_TYPE_CAMERA, NULL);
}
