/* vitlens-window-stream.c — the Camera and Video sources: cameras, the test pattern, videos
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * A VitlensCamera plays the source chosen: a camera from the VitlensCameraMonitor (the list
 * follows hot-plug), the test pattern (for machines without a camera), or a video file. Its
 * display frames come out of the "frame" signal on the main context, newest wins, and become
 * GdkMemoryTextures without a copy; its inference frames go, on the streaming thread, straight
 * into the window's VitlensInference (the model the image mode uses), which classifies the
 * newest one with the variant, threads and top-k of the window and posts each result back
 * ("frame-result"). In compare mode nothing is pushed and the window sends the frames it shows
 * through every variant (vitlens-window-compare.c).
 *
 * States map to the stream page's status (starting, paused, ended, no camera, failed) and to
 * the banner; whatever fails, the source buttons and the camera list stay usable. While a
 * stream plays, the sidebar's results panel is in stream mode and follows the same results as
 * the overlay (times, rates, latency, and the threads and kernel of the session).
 */
#define G_LOG_DOMAIN "vitlens-window"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-snapshot.h"
#include "vitlens-window-private.h"

#define TEST_PATTERN_ID     "test-pattern"
#define NO_CAMERA_ID        "none"          /* the list's entry when there is no camera */
#define TEST_PATTERN_WIDTH  640
#define TEST_PATTERN_HEIGHT 480
#define TEST_PATTERN_FPS    30

static void start_stream (VitlensWindow *self);

/* ---------------------------------------------------------------------------------------------
 * Helpers */

gboolean
_vitlens_file_is_video (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *type = NULL;
  g_autofree char *mime = NULL;

  if (name == NULL)
    return FALSE;
  type = g_content_type_guess (name, NULL, 0, NULL);
  mime = type ? g_content_type_get_mime_type (type) : NULL;
  return mime != NULL && g_str_has_prefix (mime, "video/");
}

static gboolean
has_model (VitlensWindow *self)
{
  return vitlens_inference_get_model (self->inference) != NULL;
}

static VitlensCameraState
camera_state (VitlensWindow *self)
{
  return self->camera ? vitlens_camera_get_state (self->camera) : VITLENS_CAMERA_STATE_IDLE;
}

const char *
_vitlens_window_stream_name (VitlensWindow *self)
{
  if (self->camera != NULL && camera_state (self) != VITLENS_CAMERA_STATE_IDLE)
    return vitlens_camera_get_source_name (self->camera);
  if (self->source == SOURCE_VIDEO && self->video_file != NULL)
    return g_object_get_data (G_OBJECT (self->video_file), "vitlens-name");
  return NULL;
}

static const char *
camera_entry_name (VitlensWindow *self,
                   const char    *id)
{
  for (guint i = 0; id != NULL && i < self->camera_ids->len; i++)
    if (g_str_equal (g_ptr_array_index (self->camera_ids, i), id))
      return gtk_string_list_get_string (self->camera_names, i);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * What the window shows of the stream */

static void
set_status (VitlensWindow *self,
            gboolean       spinner,
            const char    *title,
            const char    *text,
            const char    *button_label,
            const char    *button_action,
            GVariant      *button_target)
{
  gtk_widget_set_visible (self->stream_status, title != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->stream_spinner), spinner);
  gtk_spinner_set_spinning (self->stream_spinner, spinner);
  gtk_label_set_label (self->stream_status_title, title ? title : "");
  gtk_label_set_label (self->stream_status_label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->stream_status_label), text != NULL && *text);
  gtk_widget_set_visible (GTK_WIDGET (self->stream_status_button), button_label != NULL);
  if (button_label != NULL)
    {
      gtk_button_set_label (self->stream_status_button, button_label);
      /* No action while the target changes: the old action with the new target (or the other
       * way round) would not match. */
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->stream_status_button), NULL);
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->stream_status_button), button_target);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->stream_status_button), button_action);
    }
  else if (button_target != NULL)
    g_variant_unref (g_variant_ref_sink (button_target));
}

static void
update_actions (VitlensWindow *self)
{
  GAction *snapshot = g_action_map_lookup_action (G_ACTION_MAP (self), "snapshot");
  GAction *play = g_action_map_lookup_action (G_ACTION_MAP (self), "play-pause");

  g_simple_action_set_enabled (G_SIMPLE_ACTION (snapshot), self->frame != NULL && self->source != SOURCE_IMAGE);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (play), self->source != SOURCE_IMAGE);
}

static void
update_stream_bar (VitlensWindow *self)
{
  VitlensCameraState state = camera_state (self);
  gboolean running = state == VITLENS_CAMERA_STATE_PLAYING || state == VITLENS_CAMERA_STATE_STARTING;
  const char *state_text = NULL;
  const char *name = _vitlens_window_stream_name (self);

  gtk_revealer_set_reveal_child (self->stream_bar_revealer, self->source != SOURCE_IMAGE);
  gtk_widget_set_visible (GTK_WIDGET (self->camera_dropdown), self->source == SOURCE_CAMERA);
  gtk_widget_set_visible (self->open_video_button, self->source == SOURCE_VIDEO);
  gtk_widget_set_visible (self->loop_button, self->source == SOURCE_VIDEO);

  gtk_button_set_icon_name (self->play_button, running ? "media-playback-pause-symbolic"
                                                       : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->play_button),
                               running ? _("Pause (Ctrl+P)") : _("Play (Ctrl+P)"));

  switch (state)
    {
    case VITLENS_CAMERA_STATE_STARTING:
      state_text = _("Starting…");
      break;
    case VITLENS_CAMERA_STATE_PLAYING:
      state_text = _("Playing");
      break;
    case VITLENS_CAMERA_STATE_PAUSED:
      state_text = _("Paused");
      break;
    case VITLENS_CAMERA_STATE_EOS:
      state_text = _("Ended");
      break;
    case VITLENS_CAMERA_STATE_ERROR:
    case VITLENS_CAMERA_STATE_NO_CAMERA:
      state_text = _("Stopped");
      break;
    case VITLENS_CAMERA_STATE_IDLE:
    default:
      break;
    }
  if (name != NULL && state_text != NULL)
    {
      /* Translators: the stream bar: what plays, then its state ("Playing", "Paused"…) */
      g_autofree char *text = g_strdup_printf (_("%s — %s"), name, state_text);

      gtk_label_set_label (self->stream_label, text);
    }
  else
    gtk_label_set_label (self->stream_label, state_text ? state_text : "");

  update_actions (self);
}

static void
update_caption (VitlensWindow *self)
{
  const char *name = _vitlens_window_stream_name (self);
  g_autofree char *caption = NULL;

  if (name != NULL && self->frame_width > 0)
    /* Translators: below a camera's or video's picture: its name, width × height in pixels */
    caption = g_strdup_printf (_("%s · %d×%d"), name, self->frame_width, self->frame_height);
  gtk_label_set_label (self->stream_caption, caption ? caption : (name ? name : ""));
}

/* The stream page's status over the picture, and the banner, from the camera's state. */
static void
on_camera_state (VitlensWindow *self)
{
  VitlensCameraState state = camera_state (self);
  const GError *error = self->camera ? vitlens_camera_get_error (self->camera) : NULL;
  const char *name = _vitlens_window_stream_name (self);

  g_debug ("Stream %s: %s", name ? name : "-", vitlens_camera_state_to_string (state));

  switch (state)
    {
    case VITLENS_CAMERA_STATE_STARTING:
      set_status (self, TRUE, _("Starting…"), name, NULL, NULL, NULL);
      break;

    case VITLENS_CAMERA_STATE_PLAYING:
      set_status (self, FALSE, NULL, NULL, NULL, NULL, NULL);
      _vitlens_window_hide_error_from (self, ERROR_FROM_STREAM);
      break;

    case VITLENS_CAMERA_STATE_PAUSED:
      set_status (self, FALSE, _("Paused"), NULL, _("_Resume"), "win.play-pause", NULL);
      break;

    case VITLENS_CAMERA_STATE_EOS:
      {
        /* Translators: %s is a video file's name */
        g_autofree char *message = g_strdup_printf (_("“%s” has ended. Play it again, turn on Loop, or choose another source."),
                                                    name ? name : "");

        set_status (self, FALSE, _("The Video Has Ended"), NULL, _("_Play Again"), "win.play-pause", NULL);
        _vitlens_window_show_error_from (self, ERROR_FROM_STREAM, message);
      }
      break;

    case VITLENS_CAMERA_STATE_NO_CAMERA:
      set_status (self, FALSE, _("No Camera Found"),
                  _("Plug in a camera, or try the live view with the test pattern."),
                  _("Use the _Test Pattern"), "win.camera", g_variant_new_string (TEST_PATTERN_ID));
      _vitlens_window_show_error_from (self, ERROR_FROM_STREAM,
                                       error ? error->message : _("No camera was found"));
      break;

    case VITLENS_CAMERA_STATE_ERROR:
      if (self->source == SOURCE_VIDEO)
        set_status (self, FALSE, _("The Video Cannot Be Played"), error ? error->message : NULL,
                    _("Open Another _Video…"), "win.open-video", NULL);
      else
        set_status (self, FALSE, _("The Camera Cannot Be Used"), error ? error->message : NULL,
                    _("Use the _Test Pattern"), "win.camera", g_variant_new_string (TEST_PATTERN_ID));
      _vitlens_window_show_error_from (self, ERROR_FROM_STREAM,
                                       error ? error->message : _("The stream stopped"));
      break;

    case VITLENS_CAMERA_STATE_IDLE:
    default:
      if (self->source == SOURCE_VIDEO && self->video_file == NULL)
        set_status (self, FALSE, _("No Video Open"),
                    _("Open a video file, or drop one here, to classify it frame by frame."),
                    _("Open _Video…"), "win.open-video", NULL);
      else
        set_status (self, FALSE, NULL, NULL, NULL, NULL, NULL);
      break;
    }

  update_stream_bar (self);
  update_caption (self);
  gtk_widget_set_visible (GTK_WIDGET (self->stream_overlay),
                          state == VITLENS_CAMERA_STATE_PLAYING || state == VITLENS_CAMERA_STATE_PAUSED
                          || (state == VITLENS_CAMERA_STATE_STARTING && self->frame != NULL));
}

static void
clear_frames (VitlensWindow *self)
{
  g_clear_pointer (&self->frame, vitlens_frame_unref);
  g_clear_pointer (&self->result, vitlens_result_unref);
  memset (self->display_times, 0, sizeof self->display_times);
  self->n_frames_shown = 0;
  self->n_results_shown = 0;
  self->n_compared_frames = 0;
  self->frame_width = self->frame_height = 0;
  gtk_picture_set_paintable (self->stream_picture, NULL);
  vitlens_stream_overlay_set_result (self->stream_overlay, NULL);
  vitlens_stream_overlay_set_display_fps (self->stream_overlay, -1);
  if (self->source != SOURCE_IMAGE)
    {
      vitlens_results_panel_add_stream_result (self->results_panel, NULL);
      vitlens_results_panel_set_display_fps (self->results_panel, -1);
    }
  if (self->compare)
    vitlens_compare_view_set_preview (self->compare_view, NULL);
}

static void
update_overlay_placeholder (VitlensWindow *self)
{
  vitlens_stream_overlay_set_placeholder (self->stream_overlay,
                                          has_model (self) ? _("Waiting for the first result…")
                                                           : _("No model is loaded: open one from the model menu."));
}

/* ---------------------------------------------------------------------------------------------
 * Frames and results (main thread) */

static void
on_frame (VitlensCamera *camera,
          VitlensFrame  *frame,
          VitlensWindow *self)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  gint64 now = g_get_monotonic_time ();
  guint64 n;
  int w = vitlens_frame_get_width (frame), h = vitlens_frame_get_height (frame);

  if (self->source == SOURCE_IMAGE || self->stream_picture == NULL)
    return;

  /* The frame's own pixels (RGBx, alpha byte 255), no copy. */
  bytes = vitlens_frame_get_bytes (frame);
  texture = gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8A8_PREMULTIPLIED, bytes,
                                    vitlens_frame_get_stride (frame));
  gtk_picture_set_paintable (self->stream_picture, GDK_PAINTABLE (texture));
  if (self->compare)
    vitlens_compare_view_set_preview (self->compare_view, GDK_PAINTABLE (texture));

  g_clear_pointer (&self->frame, vitlens_frame_unref);
  self->frame = vitlens_frame_ref (frame);
  if (w != self->frame_width || h != self->frame_height)
    {
      self->frame_width = w;
      self->frame_height = h;
      update_caption (self);
    }

  /* Frames shown per second, over the last DISPLAY_FPS_WINDOW. */
  n = self->n_frames_shown++;
  self->display_times[n % DISPLAY_FPS_WINDOW] = now;
  if (n >= 1)
    {
      guint64 m = MIN (n + 1, DISPLAY_FPS_WINDOW);
      gint64 oldest = self->display_times[(n + 1 - m) % DISPLAY_FPS_WINDOW];

      if (now > oldest)
        {
          double fps = (m - 1) * (double)G_USEC_PER_SEC / (now - oldest);

          vitlens_stream_overlay_set_display_fps (self->stream_overlay, fps);
          vitlens_results_panel_set_display_fps (self->results_panel, fps);
        }
    }
  if (n == 0)
    update_actions (self);

  /* Compare mode: the frame shown, through every variant (newest wins). */
  if (self->compare)
    _vitlens_window_compare_frame (self, frame);
}

static void
on_result (VitlensInference *inference,
           VitlensResult    *result,
           VitlensWindow    *self)
{
  /* A pause freezes the results with the frame; compare mode shows its own. */
  if (self->source == SOURCE_IMAGE || self->compare || camera_state (self) == VITLENS_CAMERA_STATE_PAUSED)
    return;

  g_clear_pointer (&self->result, vitlens_result_unref);
  self->result = vitlens_result_ref (result);
  self->n_results_shown++;
  vitlens_stream_overlay_set_result (self->stream_overlay, result);
  vitlens_results_panel_add_stream_result (self->results_panel, result);
}

static void
on_frame_error (VitlensInference *inference,
                const GError     *error,
                VitlensWindow    *self)
{
  if (self->source == SOURCE_IMAGE || self->compare)
    return;
  _vitlens_window_show_error_from (self, ERROR_FROM_STREAM, error->message);
}

/* ---------------------------------------------------------------------------------------------
 * The camera and the inference */

/* What frames are classified with: the window's variant and the preferences. */
static void
sync_frame_options (VitlensWindow *self)
{
  vitlens_inference_set_frame_options (self->inference, self->variant,
                                       g_settings_get_int (self->settings, "top-k"),
                                       g_settings_get_int (self->settings, "threads"));
}

void
_vitlens_window_update_inference_route (VitlensWindow *self)
{
  if (self->camera == NULL)
    return;
  if (!has_model (self) || self->source == SOURCE_IMAGE || self->compare)
    vitlens_camera_set_inference_func (self->camera, NULL, NULL, NULL);
  else
    vitlens_camera_set_inference_func (self->camera, vitlens_inference_push_func,
                                       g_object_ref (self->inference), g_object_unref);
  /* A frame still waiting for the single variant is dropped: compare mode shows its own. */
  if (self->compare)
    vitlens_inference_clear_frames (self->inference);
}

static void
ensure_camera (VitlensWindow *self)
{
  if (self->camera != NULL)
    return;

  self->camera = vitlens_camera_new ();
  g_signal_connect (self->camera, "frame", G_CALLBACK (on_frame), self);
  g_signal_connect_swapped (self->camera, "notify::state", G_CALLBACK (on_camera_state), self);
  vitlens_camera_set_loop (self->camera,
                           g_variant_get_boolean (g_action_group_get_action_state (G_ACTION_GROUP (self), "loop")));
}

static void
stop_stream (VitlensWindow *self)
{
  if (self->camera == NULL)
    return;
  /* Returns when every streaming thread has stopped: no frame comes after this. */
  vitlens_camera_stop (self->camera);
  vitlens_inference_clear_frames (self->inference);
  clear_frames (self);
}

/* Play what the source says: the camera entry chosen, or the video file. */
static void
start_stream (VitlensWindow *self)
{
  ensure_camera (self);
  vitlens_camera_stop (self->camera);
  vitlens_inference_clear_frames (self->inference);
  clear_frames (self);

  if (self->source == SOURCE_CAMERA)
    {
      if (g_strcmp0 (self->camera_id, TEST_PATTERN_ID) == 0)
        vitlens_camera_set_test_pattern (self->camera, TEST_PATTERN_WIDTH, TEST_PATTERN_HEIGHT, TEST_PATTERN_FPS);
      else
        /* NULL when there is no camera: play() then says so (NO_CAMERA). */
        vitlens_camera_set_device (self->camera,
                                   self->camera_id && self->monitor && g_strcmp0 (self->camera_id, NO_CAMERA_ID) != 0
                                   ? vitlens_camera_monitor_find (self->monitor, self->camera_id) : NULL);
    }
  else if (self->source == SOURCE_VIDEO && self->video_file != NULL)
    vitlens_camera_set_file (self->camera, self->video_file);
  else
    {
      on_camera_state (self);
      return;
    }

  sync_frame_options (self);
  vitlens_inference_reset_stats (self->inference);
  _vitlens_window_update_inference_route (self);
  update_overlay_placeholder (self);
  vitlens_compare_view_reset (self->compare_view);
  vitlens_camera_play (self->camera);
  _vitlens_window_compare_update_source (self);
  on_camera_state (self);
}

/* ---------------------------------------------------------------------------------------------
 * The camera list: the monitor's cameras, then the test pattern */

static void
select_camera_entry (VitlensWindow *self)
{
  guint position = GTK_INVALID_LIST_POSITION;

  for (guint i = 0; self->camera_id != NULL && i < self->camera_ids->len; i++)
    if (g_str_equal (g_ptr_array_index (self->camera_ids, i), self->camera_id))
      position = i;

  g_signal_handlers_block_matched (self->camera_dropdown, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  gtk_drop_down_set_selected (self->camera_dropdown, position);
  g_signal_handlers_unblock_matched (self->camera_dropdown, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
}

static void
rebuild_camera_list (VitlensWindow *self)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GListModel *devices = self->monitor ? G_LIST_MODEL (self->monitor) : NULL;
  guint n = devices ? g_list_model_get_n_items (devices) : 0;

  g_ptr_array_set_size (self->camera_ids, 0);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GstDevice) device = g_list_model_get_item (devices, i);
      char *path = vitlens_camera_device_get_path (device);

      g_ptr_array_add (names, gst_device_get_display_name (device));
      g_ptr_array_add (self->camera_ids, path ? path : gst_device_get_display_name (device));
    }
  if (n == 0)
    {
      /* Translators: the camera list's first entry when no camera is plugged in */
      g_ptr_array_add (names, g_strdup (_("No Camera Found")));
      g_ptr_array_add (self->camera_ids, g_strdup (NO_CAMERA_ID));
    }
  /* Translators: an entry of the camera list, for machines without a camera */
  g_ptr_array_add (names, g_strdup (_("Test Pattern")));
  g_ptr_array_add (self->camera_ids, g_strdup (TEST_PATTERN_ID));
  g_ptr_array_add (names, NULL);

  g_signal_handlers_block_matched (self->camera_dropdown, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  gtk_string_list_splice (self->camera_names, 0, g_list_model_get_n_items (G_LIST_MODEL (self->camera_names)),
                          (const char * const *)names->pdata);
  g_signal_handlers_unblock_matched (self->camera_dropdown, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  select_camera_entry (self);
}

/* A camera plugged in or out. */
static void
on_cameras_changed (GListModel    *devices,
                    guint          position,
                    guint          removed,
                    guint          added,
                    VitlensWindow *self)
{
  rebuild_camera_list (self);

  /* Waiting for a camera, and there is one now: use it. */
  if (self->source == SOURCE_CAMERA && added > 0
      && g_strcmp0 (g_ptr_array_index (self->camera_ids, 0), NO_CAMERA_ID) != 0
      && (g_strcmp0 (self->camera_id, NO_CAMERA_ID) == 0 || camera_state (self) == VITLENS_CAMERA_STATE_NO_CAMERA))
    {
      g_free (self->camera_id);
      self->camera_id = g_strdup (g_ptr_array_index (self->camera_ids, MIN (position, self->camera_ids->len - 1)));
      select_camera_entry (self);
      start_stream (self);
    }
}

static void
ensure_monitor (VitlensWindow *self)
{
  g_autoptr(GError) error = NULL;

  if (self->monitor != NULL)
    return;
  self->monitor = vitlens_camera_monitor_new ();
  if (!vitlens_camera_monitor_start (self->monitor, &error))
    g_debug ("No camera list: %s", error->message);
  g_signal_connect (self->monitor, "items-changed", G_CALLBACK (on_cameras_changed), self);
  rebuild_camera_list (self);
}

static void
on_camera_selected (GtkDropDown   *dropdown,
                    GParamSpec    *pspec,
                    VitlensWindow *self)
{
  guint i = gtk_drop_down_get_selected (dropdown);

  if (i >= self->camera_ids->len)
    return;
  g_action_group_activate_action (G_ACTION_GROUP (self), "camera",
                                  g_variant_new_string (g_ptr_array_index (self->camera_ids, i)));
}

/* ---------------------------------------------------------------------------------------------
 * Sources */

void
_vitlens_window_set_source (VitlensWindow *self,
                            Source         source)
{
  static const char *names[] = { [SOURCE_IMAGE] = "image", [SOURCE_CAMERA] = "camera", [SOURCE_VIDEO] = "video" };
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "source");
  gboolean changed = source != self->source;

  self->source = source;
  g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_string (names[source]));

  if (changed)
    {
      _vitlens_window_hide_error_from (self, ERROR_FROM_STREAM);
      vitlens_compare_view_reset (self->compare_view);
      /* The sidebar: the stream's numbers, or the image's results again. */
      vitlens_results_panel_set_stream (self->results_panel, source != SOURCE_IMAGE);
      if (source == SOURCE_IMAGE && self->prediction != NULL && self->image != NULL
          && self->prediction->frame == vitlens_image_get_frame (self->image)
          && self->prediction->variant == self->variant)
        vitlens_results_panel_set_prediction (self->results_panel, self->prediction,
                                              vitlens_image_get_decode_ms (self->image));
    }

  switch (source)
    {
    case SOURCE_IMAGE:
      stop_stream (self);
      break;

    case SOURCE_CAMERA:
      ensure_monitor (self);
      /* The camera chosen before if it is still there, else the first one ("No Camera
       * Found" when there is none: playing it says so). */
      if (self->camera_id == NULL || camera_entry_name (self, self->camera_id) == NULL)
        {
          g_free (self->camera_id);
          self->camera_id = g_strdup (g_ptr_array_index (self->camera_ids, 0));
        }
      select_camera_entry (self);
      if (changed || camera_state (self) != VITLENS_CAMERA_STATE_PLAYING)
        start_stream (self);
      break;

    case SOURCE_VIDEO:
      if (changed)
        {
          if (self->video_file != NULL)
            start_stream (self);
          else
            {
              stop_stream (self);
              on_camera_state (self);
              _vitlens_window_choose_video (self);
            }
        }
      break;

    default:
      g_assert_not_reached ();
    }

  _vitlens_window_update_inference_route (self);
  _vitlens_window_compare_update_source (self);
  update_stream_bar (self);
  _vitlens_window_update_page (self);
}

void
vitlens_window_open_video (VitlensWindow *self,
                           GFile         *file)
{
  g_return_if_fail (VITLENS_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  g_set_object (&self->video_file, file);
  g_object_set_data_full (G_OBJECT (file), "vitlens-name", g_file_get_basename (file), g_free);
  if (self->source != SOURCE_VIDEO)
    _vitlens_window_set_source (self, SOURCE_VIDEO);
  else
    {
      _vitlens_window_hide_error_from (self, ERROR_FROM_STREAM);
      start_stream (self);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Changes made elsewhere */

void
_vitlens_window_stream_model_changed (VitlensWindow *self)
{
  /* Frames run on the model just loaded from the next one on: it is the same object's. */
  update_overlay_placeholder (self);
  _vitlens_window_update_inference_route (self);
}

void
_vitlens_window_stream_variant_changed (VitlensWindow *self)
{
  /* From the next frame on. */
  sync_frame_options (self);
  vitlens_stream_overlay_set_variant (self->stream_overlay, self->variant);
}

void
_vitlens_window_stream_settings_changed (VitlensWindow *self)
{
  sync_frame_options (self);
}

/* ---------------------------------------------------------------------------------------------
 * Snapshot: the frame shown, with its labels and timings drawn on it */

static gboolean
save_snapshot (VitlensWindow      *self,
               VitlensFrame       *frame,
               VitlensResult      *result,
               const char         *path,
               GError            **error)
{
  const char *labels[VIT_TOPK_MAX] = { NULL };
  char *fallbacks[VIT_TOPK_MAX] = { NULL };
  float probs[VIT_TOPK_MAX] = { 0 };
  int n = result ? result->k : 0;
  g_autofree char *title = NULL;
  g_autoptr(GString) footer = g_string_new (NULL);
  const char *name = _vitlens_window_stream_name (self);
  gboolean ok;

  for (int i = 0; i < n; i++)
    {
      labels[i] = result->label[i];
      if (labels[i] == NULL)
        labels[i] = fallbacks[i] = g_strdup_printf (_("Class %d"), result->index[i]);
      probs[i] = result->prob[i];
    }

  if (result != NULL)
    {
      /* Translators: a snapshot's title: what played, then the variant */
      title = g_strdup_printf (_("%s · %s"), name ? name : "", vit_variant_name (result->variant));
      /* Translators: a snapshot's timings: forward pass, latency and inference rate */
      g_string_printf (footer, _("Forward pass %.1f ms · latency %.1f ms · %.1f fps"),
                       result->forward_ms, result->latency_ms, result->inference_fps);
    }
  else
    title = g_strdup (name ? name : "");

  ok = vitlens_snapshot_save_png (vitlens_frame_get_image (frame), title, labels, probs, n,
                                  result ? footer->str : NULL, path, error);
  for (int i = 0; i < n; i++)
    g_free (fallbacks[i]);

  if (ok)
    {
      g_autofree char *file_name = g_path_get_basename (path);
      /* Translators: the confirmation after a snapshot; %s is the PNG file's name */
      g_autofree char *message = g_strdup_printf (_("Saved %s"), file_name);

      _vitlens_window_show_notice (self, message, path);
    }
  return ok;
}

gboolean
vitlens_window_save_snapshot (VitlensWindow *self,
                              const char    *path,
                              GError       **error)
{
  g_return_val_if_fail (VITLENS_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (self->frame == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("There is no frame to save yet"));
      return FALSE;
    }
  return save_snapshot (self, self->frame, self->result, path, error);
}

typedef struct
{
  VitlensFrame  *frame;
  VitlensResult *result;
} Snapshot;

static void
snapshot_free (Snapshot *snapshot)
{
  vitlens_frame_unref (snapshot->frame);
  if (snapshot->result != NULL)
    vitlens_result_unref (snapshot->result);
  g_free (snapshot);
}

static void
on_snapshot_chosen (GtkNativeDialog *native,
                    int              response,
                    VitlensWindow   *self)
{
  Snapshot *snapshot = g_object_get_data (G_OBJECT (native), "vitlens-snapshot");

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      g_autoptr(GError) error = NULL;

      if (path == NULL)
        vitlens_window_show_error (self, _("The snapshot can only be saved in a local folder"));
      else if (!save_snapshot (self, snapshot->frame, snapshot->result, path, &error))
        {
          /* Translators: %s says why */
          g_autofree char *message = g_strdup_printf (_("The snapshot was not saved: %s"), error->message);

          vitlens_window_show_error (self, message);
        }
    }

  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

static void
action_snapshot (GSimpleAction *action,
                 GVariant      *param,
                 gpointer       user_data)
{
  VitlensWindow *self = VITLENS_WINDOW (user_data);
  GtkFileChooserNative *native;
  Snapshot *snapshot;
  const char *pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%d %H-%M-%S");
  g_autofree char *name = NULL;

  if (self->frame == NULL)
    return;

  /* This frame and these results, whatever plays while the chooser is open. */
  snapshot = g_new0 (Snapshot, 1);
  snapshot->frame = vitlens_frame_ref (self->frame);
  snapshot->result = self->result ? vitlens_result_ref (self->result) : NULL;

  native = gtk_file_chooser_native_new (_("Save Snapshot"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  g_object_set_data_full (G_OBJECT (native), "vitlens-snapshot", snapshot, (GDestroyNotify)snapshot_free);
  /* Translators: the file name proposed for a snapshot; %s is the date and time */
  name = g_strdup_printf (_("ViT Lens snapshot %s.png"), stamp);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), name);
  if (pictures != NULL)
    {
      g_autoptr(GFile) folder = g_file_new_for_path (pictures);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (native), folder, NULL);
    }
  /* No question of ours before replacing a file: in SAVE mode GTK 4's chooser (and the portal's)
   * asks by itself. */
  g_signal_connect_object (native, "response", G_CALLBACK (on_snapshot_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

/* ---------------------------------------------------------------------------------------------
 * The video chooser */

static void
on_video_chosen (GtkNativeDialog *native,
                 int              response,
                 VitlensWindow   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

      if (file != NULL)
        vitlens_window_open_video (self, file);
    }

  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

void
_vitlens_window_choose_video (VitlensWindow *self)
{
  static const char *suffixes[] = { "mp4", "m4v", "mkv", "webm", "avi", "mov", "ogv", "mpg", "mpeg" };
  GtkFileChooserNative *native;
  g_autoptr(GtkFileFilter) videos = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  native = gtk_file_chooser_native_new (_("Open Video"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);

  gtk_file_filter_set_name (videos, _("Videos"));
  gtk_file_filter_add_mime_type (videos, "video/*");
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    gtk_file_filter_add_suffix (videos, suffixes[i]);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), videos);
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), all);

  g_signal_connect_object (native, "response", G_CALLBACK (on_video_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

/* ---------------------------------------------------------------------------------------------
 * Actions */

static void
change_source_state (GSimpleAction *action,
                     GVariant      *value,
                     gpointer       user_data)
{
  VitlensWindow *self = VITLENS_WINDOW (user_data);
  const char *name = g_variant_get_string (value, NULL);

  if (g_str_equal (name, "image"))
    {
      gboolean changed = self->source != SOURCE_IMAGE;

      _vitlens_window_set_source (self, SOURCE_IMAGE);
      /* The variant may have changed while the stream played. */
      if (changed)
        _vitlens_window_classify_current (self);
    }
  else if (g_str_equal (name, "camera"))
    _vitlens_window_set_source (self, SOURCE_CAMERA);
  else if (g_str_equal (name, "video"))
    _vitlens_window_set_source (self, SOURCE_VIDEO);
}

static void
action_camera (GSimpleAction *action,
               GVariant      *param,
               gpointer       user_data)
{
  VitlensWindow *self = VITLENS_WINDOW (user_data);
  const char *id = g_variant_get_string (param, NULL);

  ensure_monitor (self);
  if (camera_entry_name (self, id) == NULL)
    {
      /* Translators: %s is a camera's name or device */
      g_autofree char *message = g_strdup_printf (_("There is no camera “%s”"), id);

      _vitlens_window_show_error_from (self, ERROR_FROM_STREAM, message);
      return;
    }

  g_free (self->camera_id);
  self->camera_id = g_strdup (id);
  select_camera_entry (self);
  _vitlens_window_hide_error_from (self, ERROR_FROM_STREAM);
  if (self->source != SOURCE_CAMERA)
    _vitlens_window_set_source (self, SOURCE_CAMERA);
  else
    start_stream (self);
}

static void
action_play_pause (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  VitlensWindow *self = VITLENS_WINDOW (user_data);

  switch (camera_state (self))
    {
    case VITLENS_CAMERA_STATE_PLAYING:
    case VITLENS_CAMERA_STATE_STARTING:
      vitlens_camera_pause (self->camera);
      break;

    case VITLENS_CAMERA_STATE_PAUSED:
      vitlens_camera_play (self->camera);
      break;

    default:
      if (self->source == SOURCE_VIDEO && self->video_file == NULL)
        _vitlens_window_choose_video (self);
      else if (self->source != SOURCE_IMAGE)
        start_stream (self);
      break;
    }
}

static void
change_loop_state (GSimpleAction *action,
                   GVariant      *value,
                   gpointer       user_data)
{
  VitlensWindow *self = VITLENS_WINDOW (user_data);

  g_simple_action_set_state (action, value);
  if (self->camera != NULL)
    vitlens_camera_set_loop (self->camera, g_variant_get_boolean (value));
}

static void
action_open_video (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  _vitlens_window_choose_video (VITLENS_WINDOW (user_data));
}

static const GActionEntry stream_entries[] = {
  { .name = "source", .parameter_type = "s", .state = "'image'", .change_state = change_source_state },
  { .name = "camera", .activate = action_camera, .parameter_type = "s" },
  { .name = "play-pause", .activate = action_play_pause },
  { .name = "loop", .state = "false", .change_state = change_loop_state },
  { .name = "open-video", .activate = action_open_video },
  { .name = "snapshot", .activate = action_snapshot },
};

/* ---------------------------------------------------------------------------------------------
 * Set-up and tear-down */

void
_vitlens_window_init_stream (VitlensWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), stream_entries, G_N_ELEMENTS (stream_entries), self);

  self->camera_ids = g_ptr_array_new_with_free_func (g_free);
  self->camera_names = gtk_string_list_new (NULL);
  gtk_drop_down_set_model (self->camera_dropdown, G_LIST_MODEL (self->camera_names));
  g_signal_connect (self->camera_dropdown, "notify::selected", G_CALLBACK (on_camera_selected), self);

  g_signal_connect (self->inference, "frame-result", G_CALLBACK (on_result), self);
  g_signal_connect (self->inference, "frame-error", G_CALLBACK (on_frame_error), self);

  set_status (self, FALSE, NULL, NULL, NULL, NULL, NULL);
  update_overlay_placeholder (self);
  update_stream_bar (self);
}

void
_vitlens_window_dispose_stream (VitlensWindow *self)
{
  if (self->camera != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->camera, self);
      vitlens_camera_stop (self->camera);
      vitlens_camera_set_inference_func (self->camera, NULL, NULL, NULL);
    }
  if (self->inference != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->inference, self);
      vitlens_inference_clear_frames (self->inference);
    }
  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      vitlens_camera_monitor_stop (self->monitor);
    }
  g_clear_object (&self->camera);
  g_clear_object (&self->monitor);
  g_clear_object (&self->camera_names);
  g_clear_pointer (&self->camera_ids, g_ptr_array_unref);
  g_clear_pointer (&self->camera_id, g_free);
  g_clear_object (&self->video_file);
  g_clear_pointer (&self->frame, vitlens_frame_unref);
  g_clear_pointer (&self->result, vitlens_result_unref);
}
