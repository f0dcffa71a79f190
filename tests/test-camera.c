/* test-camera.c — VitlensCamera, VitlensCameraMonitor and VitlensInference's frames without a display
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Sources are videotestsrc (injected, or through a fake device provider that also drives the
 * monitor's hot-plug) and small videos the test writes itself. VitlensInference runs the
 * fixture model tests/fixtures/models/tiny-p16 (VITLENS_FIXTURES); its requests (load,
 * classify, compare) are tested in test-inference.c.
 *
 * Also a helper for tests/test-stream.sh (gst-launch-1.0 is not always installed):
 *   test-camera --make-video OUT.avi FRAMES WIDTH HEIGHT    videotestsrc → jpegenc → avimux
 *   test-camera --make-audio OUT.wav                        one second of audiotestsrc → wavenc
 */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vitlens-camera-monitor.h"
#include "vitlens-camera.h"
#include "vitlens-error.h"
#include "vitlens-inference.h"
#include "test-fake-camera.h"

static char *tmp_dir;

/* ---------------------------------------------------------------------------------------------
 * Helpers */

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Run the default main context until @done(@data) or @seconds pass; returns @done's value. */
static gboolean
wait_for (gboolean (*done) (gpointer), gpointer data, double seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add ((guint)(seconds * 1000), timeout_cb, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);

  return done (data);
}

static void
spin (double seconds)
{
  gboolean timed_out = FALSE;

  g_timeout_add ((guint)(seconds * 1000), timeout_cb, &timed_out);
  while (!timed_out)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
run_pipeline (const char *description)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch_full (description, NULL,
                                                          GST_PARSE_FLAG_FATAL_ERRORS, &error);
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) message = NULL;
  gboolean ok;

  if (pipeline == NULL)
    {
      g_printerr ("%s: %s\n", description, error->message);
      return FALSE;
    }
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  message = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  ok = message != NULL && GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS;
  if (message != NULL && !ok)
    {
      g_autoptr(GError) err = NULL;

      gst_message_parse_error (message, &err, NULL);
      g_printerr ("%s: %s\n", description, err->message);
    }
  gst_element_set_state (pipeline, GST_STATE_NULL);

  return ok;
}

static gboolean
make_video (const char *path, int frames, int width, int height)
{
  g_autofree char *desc =
    g_strdup_printf ("videotestsrc num-buffers=%d pattern=ball ! video/x-raw,width=%d,height=%d,framerate=30/1 "
                     "! jpegenc ! avimux ! filesink location=\"%s\"", frames, width, height, path);

  return run_pipeline (desc);
}

static gboolean
make_audio (const char *path)
{
  g_autofree char *desc =
    g_strdup_printf ("audiotestsrc num-buffers=20 ! wavenc ! filesink location=\"%s\"", path);

  return run_pipeline (desc);
}

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static guint
count_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;

  return n;
}

static char *
fixture_model_path (void)
{
  const char *fixtures = g_getenv ("VITLENS_FIXTURES");

  g_assert_nonnull (fixtures);
  return g_build_filename (fixtures, "models", "tiny-p16", "model.safetensors", NULL);
}

static vit_model *
load_fixture_model (void)
{
  g_autofree char *path = fixture_model_path ();
  vit_error err = { 0 };
  vit_model *model = NULL;

  if (vit_model_load (path, &model, &err) != VIT_OK)
    g_error ("%s", err.msg);

  return model;
}

typedef struct
{
  gboolean done;
  GError  *error;
} Load;

static void
on_loaded (GObject *object, GAsyncResult *result, gpointer data)
{
  Load *load = data;

  vitlens_inference_load_model_finish (VITLENS_INFERENCE (object), result, &load->error);
  load->done = TRUE;
}

/* Load @path (the fixture model when NULL) as the app does; returns the error, if any. */
static GError *
inference_load (VitlensInference *inference, const char *path)
{
  g_autofree char *fixture = path ? NULL : fixture_model_path ();
  g_autoptr(GFile) file = g_file_new_for_path (path ? path : fixture);
  Load load = { 0 };

  vitlens_inference_load_model_async (inference, file, NULL, on_loaded, &load);
  while (!load.done)
    g_main_context_iteration (NULL, TRUE);

  return load.error;
}

static VitlensInference *
fixture_inference (void)
{
  VitlensInference *inference = vitlens_inference_new ();

  g_assert_no_error (inference_load (inference, NULL));

  return inference;
}

static GstElement *
test_source (int width, int height, const char *extra)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *desc =
    g_strdup_printf ("videotestsrc is-live=true %s ! capsfilter caps=\"video/x-raw,width=%d,height=%d,framerate=30/1\"",
                     extra ? extra : "", width, height);
  GstElement *bin = gst_parse_bin_from_description_full (desc, TRUE, NULL,
                                                         GST_PARSE_FLAG_FATAL_ERRORS, &error);

  g_assert_no_error (error);
  gst_object_set_name (GST_OBJECT (bin), "test-source");

  return bin;
}

/* What a camera does, recorded. */
typedef struct
{
  VitlensCamera *camera;
  GArray        *states;  /* VitlensCameraState, in order */
  GPtrArray     *frames;  /* VitlensFrame */
  guint          n_frames;
  gboolean       keep_frames;
} Watch;

static void
on_state (VitlensCamera *camera, GParamSpec *pspec, Watch *w)
{
  VitlensCameraState state = vitlens_camera_get_state (camera);

  g_array_append_val (w->states, state);
}

static void
on_frame (VitlensCamera *camera, VitlensFrame *frame, Watch *w)
{
  w->n_frames++;
  if (w->keep_frames)
    g_ptr_array_add (w->frames, vitlens_frame_ref (frame));
}

static void
watch_init (Watch *w, VitlensCamera *camera)
{
  memset (w, 0, sizeof *w);
  w->camera = camera;
  w->states = g_array_new (FALSE, FALSE, sizeof (VitlensCameraState));
  w->frames = g_ptr_array_new_with_free_func ((GDestroyNotify)vitlens_frame_unref);
  g_signal_connect (camera, "notify::state", G_CALLBACK (on_state), w);
  g_signal_connect (camera, "frame", G_CALLBACK (on_frame), w);
}

static void
watch_clear (Watch *w)
{
  g_signal_handlers_disconnect_by_data (w->camera, w);
  g_array_unref (w->states);
  g_ptr_array_unref (w->frames);
}

static gboolean
frames_at_least_3 (gpointer data)
{
  return ((Watch *)data)->n_frames >= 3;
}

static gboolean
frames_at_least_10 (gpointer data)
{
  return ((Watch *)data)->n_frames >= 10;
}

static gboolean
camera_settled (gpointer data)
{
  VitlensCameraState s = vitlens_camera_get_state (data);

  return s == VITLENS_CAMERA_STATE_EOS || s == VITLENS_CAMERA_STATE_ERROR
         || s == VITLENS_CAMERA_STATE_NO_CAMERA || s == VITLENS_CAMERA_STATE_IDLE;
}

static gboolean
camera_playing (gpointer data)
{
  return vitlens_camera_get_state (data) == VITLENS_CAMERA_STATE_PLAYING;
}

/* ---------------------------------------------------------------------------------------------
 * Camera */

static void
test_states (void)
{
  g_autoptr(VitlensCamera) camera = vitlens_camera_new ();
  VitlensCameraState expected[] = {
    VITLENS_CAMERA_STATE_STARTING, VITLENS_CAMERA_STATE_PLAYING, VITLENS_CAMERA_STATE_PAUSED,
    VITLENS_CAMERA_STATE_PLAYING, VITLENS_CAMERA_STATE_IDLE,
  };
  guint paused_frames;
  Watch w;

  vitlens_camera_set_source_element (camera, test_source (160, 120, NULL));
  watch_init (&w, camera);
  g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_IDLE);

  vitlens_camera_play (camera);
  g_assert_true (wait_for (frames_at_least_3, &w, 10));
  g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_PLAYING);
  g_assert_nonnull (vitlens_camera_get_pipeline (camera));

  vitlens_camera_pause (camera);
  g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_PAUSED);
  spin (0.1);
  paused_frames = w.n_frames;
  spin (0.3);
  g_assert_cmpuint (w.n_frames, <=, paused_frames + 2); /* a live source stops in PAUSED (a frame
                                                          * already in flight may still land) */

  vitlens_camera_play (camera);
  w.n_frames = 0;
  g_assert_true (wait_for (frames_at_least_3, &w, 10));

  vitlens_camera_stop (camera);
  g_assert_null (vitlens_camera_get_pipeline (camera));
  g_assert_null (vitlens_camera_get_error (camera));

  g_assert_cmpuint (w.states->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (vitlens_camera_state_to_string (g_array_index (w.states, VitlensCameraState, i)),
                     ==, vitlens_camera_state_to_string (expected[i]));

  /* No frame after stop. */
  paused_frames = w.n_frames;
  spin (0.2);
  g_assert_cmpuint (w.n_frames, ==, paused_frames);
  watch_clear (&w);
}

static void
test_frames (void)
{
  g_autoptr(VitlensCamera) camera = vitlens_camera_new ();
  Watch w;

  /* Solid red (ARGB) at 322×241: an odd width makes GStreamer pad the rows. */
  vitlens_camera_set_source_element (camera,
                                     test_source (322, 241, "pattern=solid-color foreground-color=0xffff0000"));
  watch_init (&w, camera);
  w.keep_frames = TRUE;
  vitlens_camera_play (camera);
  g_assert_true (wait_for (frames_at_least_10, &w, 10));
  vitlens_camera_stop (camera);

  for (guint i = 0; i < w.frames->len; i++)
    {
      VitlensFrame *frame = g_ptr_array_index (w.frames, i);
      const vit_image *img = vitlens_frame_get_image (frame);
      g_autoptr(GBytes) bytes = vitlens_frame_get_bytes (frame);
      const guint8 *px;

      g_assert_cmpint (vitlens_frame_get_width (frame), ==, 322);
      g_assert_cmpint (vitlens_frame_get_height (frame), ==, 241);
      g_assert_cmpint (vitlens_frame_get_format (frame), ==, VIT_PIXEL_RGBX8);
      g_assert_cmpint (vitlens_frame_get_stride (frame), >=, 322 * 4);
      g_assert_cmpint (vitlens_frame_get_stride (frame) % 4, ==, 0);
      g_assert_cmpuint (g_bytes_get_size (bytes), ==, (gsize)img->stride * img->height);
      g_assert_true (img->width == 322 && img->height == 241 && img->format == VIT_PIXEL_RGBX8);

      /* Red everywhere, the fourth byte 255 (so GTK can show it as premultiplied RGBA). */
      px = img->data + (gsize)(img->height - 1) * img->stride + (img->width - 1) * 4;
      g_assert_cmpuint (img->data[0], ==, 255);
      g_assert_cmpuint (img->data[1], ==, 0);
      g_assert_cmpuint (img->data[2], ==, 0);
      g_assert_cmpuint (img->data[3], ==, 255);
      g_assert_cmpuint (px[0], ==, 255);
      g_assert_cmpuint (px[3], ==, 255);

      g_assert_cmpint (vitlens_frame_get_pts (frame), >=, 0);
      g_assert_cmpint (vitlens_frame_get_capture_time (frame), <=, g_get_monotonic_time ());
      if (i > 0)
        {
          VitlensFrame *prev = g_ptr_array_index (w.frames, i - 1);

          g_assert_cmpuint (vitlens_frame_get_number (frame), >, vitlens_frame_get_number (prev));
          g_assert_cmpint (vitlens_frame_get_pts (frame), >, vitlens_frame_get_pts (prev));
        }
    }
  /* The frames outlive the pipeline (they hold their buffers). */
  g_assert_cmpuint (w.frames->len, >=, 10);
  watch_clear (&w);
}

static void
test_max_frames (void)
{
  g_autoptr(VitlensCamera) camera = vitlens_camera_new ();
  Watch w;

  vitlens_camera_set_test_pattern (camera, 160, 120, 60);
  vitlens_camera_set_max_frames (camera, 12);
  watch_init (&w, camera);
  vitlens_camera_play (camera);
  g_assert_true (wait_for (camera_settled, camera, 10));
  g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_EOS);
  g_assert_cmpuint (vitlens_camera_get_frame_count (camera), ==, 12);
  g_assert_null (vitlens_camera_get_pipeline (camera));
  g_assert_cmpfloat (vitlens_camera_get_source_fps (camera), >, 30);
  watch_clear (&w);
}

static void
test_file_and_loop (void)
{
  g_autofree char *path = tmp_path ("ball.avi");
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(VitlensCamera) camera = vitlens_camera_new ();
  Watch w;

  g_assert_true (make_video (path, 20, 96, 64));
  vitlens_camera_set_file (camera, file);
  g_assert_cmpstr (vitlens_camera_get_source_name (camera), ==, "ball.avi");
  watch_init (&w, camera);
  w.keep_frames = TRUE;

  vitlens_camera_play (camera);
  g_assert_true (wait_for (camera_settled, camera, 10));
  g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_EOS);
  g_assert_cmpuint (vitlens_camera_get_frame_count (camera), ==, 20);
  g_assert_cmpint (vitlens_frame_get_width (g_ptr_array_index (w.frames, 0)), ==, 96);

  /* Looping: 20 frames, three times over, stopped at 45 by max-frames. */
  vitlens_camera_set_loop (camera, TRUE);
  vitlens_camera_set_max_frames (camera, 45);
  g_ptr_array_set_size (w.frames, 0);
  vitlens_camera_play (camera);
  g_assert_true (wait_for (camera_settled, camera, 15));
  g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_EOS);
  g_assert_cmpuint (vitlens_camera_get_frame_count (camera), ==, 45);
  watch_clear (&w);
}

/* Start and stop many times: no thread, no file descriptor left behind. */
static void
test_start_stop (void)
{
  g_autoptr(VitlensCamera) camera = vitlens_camera_new ();
  guint threads0 = 0, fds0 = 0;
  Watch w;

  vitlens_camera_set_source_element (camera, test_source (160, 120, NULL));
  watch_init (&w, camera);
  for (int i = 0; i < 21; i++)
    {
      w.n_frames = 0;
      vitlens_camera_play (camera);
      g_assert_true (wait_for (frames_at_least_3, &w, 10));
      vitlens_camera_stop (camera);
      g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_IDLE);
      if (i == 0)
        {
          /* After one run, GStreamer's lazily made helpers (the system clock's thread, the
           * task pool) exist; every later run must leave the counts where they are. */
          spin (0.05);
          threads0 = count_dir ("/proc/self/task");
          fds0 = count_dir ("/proc/self/fd");
        }
    }
  /* Threads that were told to stop may take a moment to exit on a loaded machine: wait for the
   * counts to come back (up to 5 s) before judging, instead of sampling once. */
  for (int k = 0; k < 100 && (count_dir ("/proc/self/task") > threads0 ||
                              count_dir ("/proc/self/fd") > fds0); k++)
    spin (0.05);
  g_test_message ("threads %u → %u, fds %u → %u", threads0, count_dir ("/proc/self/task"), fds0,
                  count_dir ("/proc/self/fd"));
  g_assert_cmpuint (count_dir ("/proc/self/task"), <=, threads0);
  g_assert_cmpuint (count_dir ("/proc/self/fd"), <=, fds0);
  watch_clear (&w);
}

/* ---------------------------------------------------------------------------------------------
 * Errors */

static const GError *
play_until_settled (VitlensCamera *camera)
{
  vitlens_camera_play (camera);
  g_assert_true (wait_for (camera_settled, camera, 15));

  return vitlens_camera_get_error (camera);
}

static void
test_error_no_device (void)
{
  g_autoptr(VitlensCamera) camera = vitlens_camera_new ();
  GstElement *v4l2 = gst_element_factory_make ("v4l2src", NULL);
  const GError *error;

  if (v4l2 == NULL)
    {
      g_test_skip ("no v4l2src");
      return;
    }
  g_object_set (v4l2, "device", "/dev/video99", NULL);
  vitlens_camera_set_source_element (camera, v4l2);
  error = play_until_settled (camera);
  g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_NO_CAMERA);
  g_assert_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NO_DEVICE);
  g_assert_nonnull (strstr (error->message, "/dev/video99"));
  g_assert_nonnull (strstr (error->message, "No camera"));
  g_assert_null (vitlens_camera_get_pipeline (camera));

  /* The same through a pipeline description. */
  vitlens_camera_set_pipeline (camera, "v4l2src device=/dev/video99");
  error = play_until_settled (camera);
  g_assert_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NO_DEVICE);

  /* "The camera" with none present. */
  vitlens_camera_set_device (camera, NULL);
  vitlens_camera_play (camera);
  g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_NO_CAMERA);
  g_assert_error (vitlens_camera_get_error (camera), VITLENS_CAMERA_ERROR,
                  VITLENS_CAMERA_ERROR_NO_DEVICE);

  /* stop() forgets the error. */
  vitlens_camera_stop (camera);
  g_assert_null (vitlens_camera_get_error (camera));
  g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_IDLE);
}

static void
test_error_files (void)
{
  g_autoptr(VitlensCamera) camera = vitlens_camera_new ();
  g_autofree char *good = tmp_path ("good.avi");
  g_autofree char *text = tmp_path ("notes.avi");
  g_autofree char *cut = tmp_path ("cut.avi");
  g_autofree char *empty = tmp_path ("headers-only.avi");
  g_autofree char *audio = tmp_path ("tone.wav");
  g_autofree char *h264 = tmp_path ("h264.avi");
  g_autofree char *missing = tmp_path ("missing.avi");
  g_autofree char *data = NULL;
  gsize size;
  const GError *error;
  struct { const char *path; int code; const char *words; } cases[] = {
    { text, VITLENS_CAMERA_ERROR_NOT_VIDEO, "is not a video" },
    { cut, VITLENS_CAMERA_ERROR_NOT_VIDEO, "is not a video" },
    { empty, VITLENS_CAMERA_ERROR_NOT_VIDEO, "is not a video" },
    { audio, VITLENS_CAMERA_ERROR_NOT_VIDEO, "no video stream" },
    { missing, VITLENS_CAMERA_ERROR_FAILED, "was not found" },
  };

  g_assert_true (make_video (good, 10, 64, 48));
  g_assert_true (make_audio (audio));
  g_assert_true (g_file_get_contents (good, &data, &size, NULL));
  g_assert_true (g_file_set_contents (text, "hello, this is not a video\n", -1, NULL));
  g_assert_true (g_file_set_contents (cut, data, 100, NULL));
  {
    /* The headers, up to the start of the frames ("movi" list), and nothing after. */
    const char *movi = memmem (data, size, "movi", 4);

    g_assert_nonnull (movi);
    g_assert_true (g_file_set_contents (empty, data, movi - data + 4, NULL));
  }

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GFile) file = g_file_new_for_path (cases[i].path);

      vitlens_camera_set_file (camera, file);
      error = play_until_settled (camera);
      g_test_message ("%s: %s", cases[i].path, error ? error->message : "(no error)");
      g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_ERROR);
      g_assert_error (error, VITLENS_CAMERA_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].words));
      g_assert_null (vitlens_camera_get_pipeline (camera));
    }

  /* An AVI whose video says H.264 (its fourcc rewritten): no decoder here. */
  for (gsize i = 0; i + 4 <= size; i++)
    if (memcmp (data + i, "MJPG", 4) == 0)
      memcpy (data + i, "H264", 4);
  g_assert_true (g_file_set_contents (h264, data, size, NULL));
  {
    g_autoptr(GFile) file = g_file_new_for_path (h264);
    g_autoptr(GstCaps) caps = gst_caps_from_string ("video/x-h264");
    GList *decoders = gst_element_factory_list_get_elements (GST_ELEMENT_FACTORY_TYPE_DECODER,
                                                             GST_RANK_MARGINAL);
    GList *h264_decoders = gst_element_factory_list_filter (decoders, caps, GST_PAD_SINK, FALSE);

    vitlens_camera_set_file (camera, file);
    error = play_until_settled (camera);
    if (h264_decoders == NULL)
      {
        g_test_message ("%s: %s", h264, error ? error->message : "(no error)");
        g_assert_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_MISSING_PLUGIN);
        g_assert_nonnull (strstr (error->message, "H.264"));
        g_assert_nonnull (strstr (error->message, "gstreamer1.0-libav"));
      }
    gst_plugin_feature_list_free (h264_decoders);
    gst_plugin_feature_list_free (decoders);
  }

  /* Pipelines: an element that does not exist, and a source of something else than video. */
  vitlens_camera_set_pipeline (camera, "nosuchvitlenssrc");
  error = play_until_settled (camera);
  g_assert_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_MISSING_PLUGIN);
  g_assert_nonnull (strstr (error->message, "nosuchvitlenssrc"));

  vitlens_camera_set_pipeline (camera, "audiotestsrc");
  error = play_until_settled (camera);
  g_assert_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_NOT_VIDEO);

  vitlens_camera_set_pipeline (camera, "videotestsrc ! ! fakesink");
  error = play_until_settled (camera);
  g_assert_error (error, VITLENS_CAMERA_ERROR, VITLENS_CAMERA_ERROR_FAILED);
}

/* Descriptions that end in caps, as typed after gst-launch-1.0: the caps filter the source
 * (they used to fail with 'no element "video"'); caps with spaces and caps in the middle too. */
/* A missing decoder's message names the Debian package that has one: H.264, H.265 and AAC
 * in gstreamer1.0-libav, the others in plugins-good/-bad/-ugly by name. */
static void
test_missing_plugin_package (void)
{
  static const struct { const char *caps; const char *package; } cases[] = {
    { "video/x-h264, stream-format=avc", "gstreamer1.0-libav" },
    { "video/x-h265", "gstreamer1.0-libav" },
    { "audio/mpeg, mpegversion=(int)4", "gstreamer1.0-libav" },
    { "video/x-vp9", "gstreamer1.0-plugins-good" },
    { "video/x-av1", "gstreamer1.0-plugins-bad" },
    { "video/mpeg, mpegversion=(int)2", "gstreamer1.0-plugins-ugly" },
    { "video/x-made-up-codec", NULL },
  };
  g_autoptr(GstElement) element = gst_element_factory_make ("fakesrc", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GstCaps) caps = gst_caps_from_string (cases[i].caps);
      g_autoptr(GstMessage) message = gst_missing_decoder_message_new (element, caps);

      g_assert_cmpstr (vitlens_camera_missing_plugin_package (message), ==, cases[i].package);
    }
  {
    g_autoptr(GstMessage) message = gst_missing_element_message_new (element, "avdec_h264");

    g_assert_cmpstr (vitlens_camera_missing_plugin_package (message), ==, "gstreamer1.0-libav");
  }
}

static void
test_pipeline_caps (void)
{
  static const struct { const char *desc; int width, height; } cases[] = {
    { "videotestsrc is-live=true ! video/x-raw,width=176,height=144", 176, 144 },
    { "videotestsrc is-live=true ! video/x-raw,framerate=30/1", 0, 0 },
    { "videotestsrc is-live=true ! video/x-raw, width=(int)96, height=(int)80 ", 96, 80 },
    { "videotestsrc is-live=true ! video/x-raw,width=64,height=48 ! videoconvert", 64, 48 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(VitlensCamera) camera = vitlens_camera_new ();
      Watch w;

      g_test_message ("%s", cases[i].desc);
      vitlens_camera_set_pipeline (camera, cases[i].desc);
      watch_init (&w, camera);
      w.keep_frames = TRUE;
      vitlens_camera_play (camera);
      g_assert_true (wait_for (frames_at_least_3, &w, 10));
      g_assert_no_error (vitlens_camera_get_error (camera));
      if (cases[i].width > 0)
        {
          VitlensFrame *frame = g_ptr_array_index (w.frames, 0);

          g_assert_cmpint (vitlens_frame_get_width (frame), ==, cases[i].width);
          g_assert_cmpint (vitlens_frame_get_height (frame), ==, cases[i].height);
        }
      vitlens_camera_stop (camera);
      watch_clear (&w);
    }
}

/* ---------------------------------------------------------------------------------------------
 * A fake camera (test-fake-camera.h), to drive the monitor */

static guint items_changed;

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, gpointer data)
{
  items_changed++;
}

static gboolean
has_n_items_1 (gpointer data)
{
  return g_list_model_get_n_items (data) == 1;
}

static gboolean
has_n_items_0 (gpointer data)
{
  return g_list_model_get_n_items (data) == 0;
}

static void
test_monitor_hotplug (void)
{
  g_autoptr(VitlensCameraMonitor) monitor = vitlens_camera_monitor_new ();
  g_autoptr(GstDeviceProvider) provider = NULL;
  g_autoptr(GstDevice) device = test_device_new ("ViT Lens Test Camera", "/dev/vitlens-test0", 160, 120);
  g_autoptr(GError) error = NULL;
  g_autoptr(VitlensCamera) camera = vitlens_camera_new ();
  g_autoptr(GstDevice) item = NULL;
  guint n0;
  Watch w;

  g_assert_true (gst_device_provider_register (NULL, "vitlenstestcameras", GST_RANK_PRIMARY,
                                               test_provider_get_type ()));
  g_assert_true (vitlens_camera_monitor_start (monitor, &error));
  g_assert_no_error (error);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (monitor)) == GST_TYPE_DEVICE);
  n0 = g_list_model_get_n_items (G_LIST_MODEL (monitor));
  g_assert_cmpuint (n0, ==, 0); /* no camera on a CI machine, and the fake one is not in yet */
  g_assert_null (vitlens_camera_monitor_find (monitor, "ViT Lens Test Camera"));
  g_signal_connect (monitor, "items-changed", G_CALLBACK (on_items_changed), NULL);

  /* Plug it in. */
  provider = gst_device_provider_factory_get_by_name ("vitlenstestcameras");
  g_assert_nonnull (provider);
  gst_device_provider_device_add (provider, gst_object_ref (device));
  g_assert_true (wait_for (has_n_items_1, monitor, 5));
  g_assert_cmpuint (items_changed, ==, 1);
  item = g_list_model_get_item (G_LIST_MODEL (monitor), 0);
  g_assert_true (item == device);
  g_assert_true (vitlens_camera_monitor_find (monitor, "ViT Lens Test Camera") == device);
  g_assert_true (vitlens_camera_monitor_find (monitor, "/dev/vitlens-test0") == device);
  g_assert_null (vitlens_camera_monitor_find (monitor, "/dev/video99"));

  /* It plays through gst_device_create_element(). */
  vitlens_camera_set_device (camera, device);
  g_assert_cmpstr (vitlens_camera_get_source_name (camera), ==, "ViT Lens Test Camera");
  watch_init (&w, camera);
  vitlens_camera_play (camera);
  g_assert_true (wait_for (frames_at_least_3, &w, 10));
  g_assert_true (camera_playing (camera));
  vitlens_camera_stop (camera);
  watch_clear (&w);

  /* Unplug it. */
  gst_device_provider_device_remove (provider, device);
  g_assert_true (wait_for (has_n_items_0, monitor, 5));
  g_assert_cmpuint (items_changed, ==, 2);

  vitlens_camera_monitor_stop (monitor);
}

/* ---------------------------------------------------------------------------------------------
 * VitlensInference's frames */

typedef struct
{
  GPtrArray *results; /* VitlensResult */
  GPtrArray *errors;  /* GError */
} Collect;

static void
on_result (VitlensInference *inference, VitlensResult *result, Collect *c)
{
  g_ptr_array_add (c->results, vitlens_result_ref (result));
}

static void
on_error (VitlensInference *inference, GError *error, Collect *c)
{
  g_ptr_array_add (c->errors, g_error_copy (error));
}

static void
collect_init (Collect *c, VitlensInference *worker)
{
  c->results = g_ptr_array_new_with_free_func ((GDestroyNotify)vitlens_result_unref);
  c->errors = g_ptr_array_new_with_free_func ((GDestroyNotify)g_error_free);
  g_signal_connect (worker, "frame-result", G_CALLBACK (on_result), c);
  g_signal_connect (worker, "frame-error", G_CALLBACK (on_error), c);
}

static void
collect_clear (Collect *c, VitlensInference *worker)
{
  g_signal_handlers_disconnect_by_data (worker, c);
  g_ptr_array_unref (c->results);
  g_ptr_array_unref (c->errors);
}

static void
flush_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* A synthetic RGBx frame (gradient), with padded rows. */
static VitlensFrame *
synthetic_frame (guint64 number, int width, int height)
{
  int stride = width * 4 + 12;
  guint8 *data = g_malloc (stride * height);
  VitlensFrame *frame;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = data + y * stride + x * 4;

        p[0] = (guint8)(x * 255 / width);
        p[1] = (guint8)(y * 255 / height);
        p[2] = (guint8)(number * 37);
        p[3] = 255;
      }
  frame = vitlens_frame_new_for_data (data, width, height, stride, VIT_PIXEL_RGBX8, data, g_free);
  vitlens_frame_set_timing (frame, number, (gint64)number * 33333333, g_get_monotonic_time ());

  return frame;
}

static void
test_worker_latest_frame (void)
{
  g_autoptr(VitlensInference) worker = fixture_inference ();
  VitlensInferenceStats stats;
  VitlensResult *last;
  Collect c;

  vitlens_inference_set_frame_options (worker, VIT_VARIANT_FP32, 5, 1);
  collect_init (&c, worker);

  /* 100 frames pushed far faster than they can be classified: the worker takes the newest
   * each time it is free, the others are dropped and counted. */
  for (guint64 i = 0; i < 100; i++)
    {
      g_autoptr(VitlensFrame) frame = synthetic_frame (i, 320, 240);

      vitlens_inference_push_frame (worker, frame);
    }
  vitlens_inference_drain (worker);
  vitlens_inference_get_stats (worker, &stats);
  g_test_message ("pushed %" G_GUINT64_FORMAT ", inferred %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT,
                  stats.pushed, stats.inferred, stats.dropped);
  g_assert_cmpuint (stats.pushed, ==, 100);
  g_assert_cmpuint (stats.failed, ==, 0);
  g_assert_cmpuint (stats.inferred + stats.dropped, ==, 100);
  g_assert_cmpuint (stats.dropped, >, 0);
  g_assert_cmpuint (stats.inferred, >=, 1);

  /* Newest result wins on the main context: one delivery, the last frame. */
  flush_main_context ();
  g_assert_cmpuint (c.errors->len, ==, 0);
  g_assert_cmpuint (c.results->len, ==, 1);
  last = g_ptr_array_index (c.results, 0);
  g_assert_cmpuint (last->number, ==, 99);
  g_assert_cmpint (last->pts, ==, (gint64)99 * 33333333);
  g_assert_cmpint (last->k, ==, 5);
  g_assert_cmpfloat (last->prob[0], >=, last->prob[1]);
  g_assert_cmpfloat (last->forward_ms, >, 0);
  g_assert_cmpfloat (last->latency_ms, >=, last->forward_ms);
  g_assert_cmpuint (last->dropped, ==, stats.dropped);
  g_assert_cmpint (vitlens_frame_get_number (last->frame), ==, 99);

  /* The same frame classified by the engine directly gives the same answer (in place, with
   * the stride, matches an owned copy). */
  {
    vit_model *model = load_fixture_model ();
    vit_session *session = NULL;
    vit_prediction pred;
    vit_session_opts opts = vit_session_opts_default ();

    opts.threads = 1;
    g_assert_cmpint (vit_session_new (model, &opts, &session, NULL), ==, VIT_OK);
    g_assert_cmpint (vit_session_classify (session, vitlens_frame_get_image (last->frame), 5, &pred,
                                           NULL), ==, VIT_OK);
    for (int i = 0; i < 5; i++)
      {
        g_assert_cmpint (pred.index[i], ==, last->index[i]);
        g_assert_cmpfloat_with_epsilon (pred.prob[i], last->prob[i], 1e-6);
      }
    vit_session_free (session);
    vit_model_free (model);
  }

  /* Keep-all mode: every result in order. */
  vitlens_inference_set_keep_all_results (worker, TRUE);
  vitlens_inference_reset_stats (worker);
  g_ptr_array_set_size (c.results, 0);
  for (guint64 i = 0; i < 5; i++)
    {
      g_autoptr(VitlensFrame) frame = synthetic_frame (200 + i, 64, 48);

      vitlens_inference_push_frame (worker, frame);
      vitlens_inference_drain (worker);
    }
  flush_main_context ();
  g_assert_cmpuint (c.results->len, ==, 5);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (((VitlensResult *)g_ptr_array_index (c.results, i))->number, ==, 200 + i);
  vitlens_inference_get_stats (worker, &stats);
  g_assert_cmpuint (stats.inferred, ==, 5);
  g_assert_cmpuint (stats.dropped, ==, 0);

  collect_clear (&c, worker);
}

static void
test_worker_switch (void)
{
  g_autoptr(VitlensInference) worker = vitlens_inference_new ();
  g_autoptr(GError) error = NULL;
  VitlensResult *r;
  Collect c;

  vitlens_inference_set_frame_options (worker, VIT_VARIANT_FP32, 5, 1);
  vitlens_inference_set_keep_all_results (worker, TRUE);
  collect_init (&c, worker);

  /* No model: an error, once, however many frames. */
  for (int i = 0; i < 3; i++)
    {
      g_autoptr(VitlensFrame) frame = synthetic_frame (i, 64, 48);

      vitlens_inference_push_frame (worker, frame);
      vitlens_inference_drain (worker);
    }
  flush_main_context ();
  g_assert_cmpuint (c.results->len, ==, 0);
  g_assert_cmpuint (c.errors->len, ==, 1);
  g_assert_error ((GError *)g_ptr_array_index (c.errors, 0), VITLENS_ERROR, VITLENS_ERROR_NO_MODEL);

  /* A model, then the variants one after the other while frames keep coming. */
  g_assert_no_error (inference_load (worker, NULL));
  for (int v = 0; v < 2; v++)
    {
      g_autoptr(VitlensFrame) frame = synthetic_frame (10 + v, 64, 48);

      vitlens_inference_set_frame_options (worker, v == 0 ? VIT_VARIANT_FP32 : VIT_VARIANT_INT8, 5, 1);
      vitlens_inference_push_frame (worker, frame);
      vitlens_inference_drain (worker);
    }
  flush_main_context ();
  g_assert_cmpuint (c.results->len, ==, 2);
  r = g_ptr_array_index (c.results, 0);
  g_assert_cmpint (r->variant, ==, VIT_VARIANT_FP32);
  g_assert_cmpuint (r->model_serial, ==, 1);
  r = g_ptr_array_index (c.results, 1);
  g_assert_cmpint (r->variant, ==, VIT_VARIANT_INT8);

  /* A model file that does not exist: an error, and the old model stays. */
  error = inference_load (worker, "/nonexistent/model.safetensors");
  g_assert_error (error, VITLENS_ERROR, VITLENS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "model.safetensors"));
  {
    g_autoptr(VitlensFrame) frame = synthetic_frame (20, 64, 48);

    vitlens_inference_push_frame (worker, frame);
    vitlens_inference_drain (worker);
  }
  flush_main_context ();
  g_assert_cmpuint (c.errors->len, ==, 1);
  g_assert_cmpuint (c.results->len, ==, 3);
  g_assert_cmpuint (((VitlensResult *)g_ptr_array_index (c.results, 2))->model_serial, ==, 1);

  collect_clear (&c, worker);
}

/* Camera → inference, live: results arrive while the stream runs, at most one frame behind. */
static void
test_camera_to_worker (void)
{
  g_autoptr(VitlensCamera) camera = vitlens_camera_new ();
  g_autoptr(VitlensInference) worker = fixture_inference ();
  VitlensInferenceStats stats;
  Collect c;

  vitlens_inference_set_frame_options (worker, VIT_VARIANT_FP32, 5, 1);
  vitlens_inference_set_keep_all_results (worker, TRUE);
  collect_init (&c, worker);
  vitlens_camera_set_test_pattern (camera, 320, 240, 30);
  vitlens_camera_set_max_frames (camera, 20);
  vitlens_camera_set_inference_func (camera, vitlens_inference_push_func,
                                     g_object_ref (worker), g_object_unref);
  vitlens_camera_play (camera);
  g_assert_true (wait_for (camera_settled, camera, 10));
  g_assert_cmpint (vitlens_camera_get_state (camera), ==, VITLENS_CAMERA_STATE_EOS);
  vitlens_inference_drain (worker);
  flush_main_context ();

  vitlens_inference_get_stats (worker, &stats);
  g_assert_cmpuint (vitlens_camera_get_frame_count (camera), ==, 20);
  /* Nearly every frame reaches the worker (the leaky queue only drops when the appsink's
   * thread is held up, e.g. under a sanitizer), and each is classified or counted dropped. */
  g_assert_cmpuint (stats.pushed, <=, 20);
  g_assert_cmpuint (stats.pushed, >=, 10);
  g_assert_cmpuint (stats.inferred + stats.dropped, ==, stats.pushed);
  g_assert_cmpuint (c.results->len, ==, stats.inferred);
  g_assert_cmpuint (stats.inferred, >=, 5);
  for (guint i = 0; i < c.results->len; i++)
    {
      VitlensResult *r = g_ptr_array_index (c.results, i);

      g_assert_cmpint (vitlens_frame_get_width (r->frame), ==, 320); /* full size, no scaling */
      g_assert_cmpfloat (r->latency_ms, >, 0);
      g_assert_cmpfloat (r->latency_ms, <, 5000);
    }
  g_assert_cmpuint (((VitlensResult *)g_ptr_array_index (c.results, c.results->len - 1))->number, <=, 19);

  /* Setting another function releases the reference on the inference the camera held. */
  vitlens_camera_set_inference_func (camera, NULL, NULL, NULL);
  collect_clear (&c, worker);
}

/* ---------------------------------------------------------------------------------------------
 * main */

int
main (int argc, char **argv)
{
  int status;

  gst_init (&argc, &argv);

  if (argc >= 3 && g_str_equal (argv[1], "--make-video"))
    return make_video (argv[2], argc > 3 ? atoi (argv[3]) : 60, argc > 4 ? atoi (argv[4]) : 320,
                       argc > 5 ? atoi (argv[5]) : 240) ? 0 : 1;
  if (argc >= 3 && g_str_equal (argv[1], "--make-audio"))
    return make_audio (argv[2]) ? 0 : 1;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("vitlens-test-camera-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);

  g_test_add_func ("/camera/states", test_states);
  g_test_add_func ("/camera/frames", test_frames);
  g_test_add_func ("/camera/max-frames", test_max_frames);
  g_test_add_func ("/camera/file-and-loop", test_file_and_loop);
  g_test_add_func ("/camera/start-stop-20", test_start_stop);
  g_test_add_func ("/camera/error/no-device", test_error_no_device);
  g_test_add_func ("/camera/error/files", test_error_files);
  g_test_add_func ("/camera/error/missing-plugin-package", test_missing_plugin_package);
  g_test_add_func ("/camera/pipeline-ending-in-caps", test_pipeline_caps);
  g_test_add_func ("/camera/monitor/hotplug", test_monitor_hotplug);
  g_test_add_func ("/inference/frames/latest-frame", test_worker_latest_frame);
  g_test_add_func ("/inference/frames/switch", test_worker_switch);
  g_test_add_func ("/inference/frames/from-camera", test_camera_to_worker);

  status = g_test_run ();

  {
    g_autoptr(GDir) dir = g_dir_open (tmp_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = tmp_path (name);

        g_unlink (path);
      }
    g_rmdir (tmp_dir);
    g_free (tmp_dir);
  }

  return status;
}
