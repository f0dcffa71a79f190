/* vitlens-stream-page.c — the Camera and Video sources: cameras, the test pattern, videos
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * A VitlensCamera plays the source chosen: a camera from the VitlensCameraMonitor (the list
 * follows hot-plug), the test pattern (for machines without a camera), or a video file. Its
 * display frames come out of the "frame" signal on the main context, newest wins, and become
 * GdkMemoryTextures without a copy; its inference frames go, on the streaming thread, straight
 * into the page's VitlensInference (the window's, which the image page uses too), which
 * classifies the newest one with the page's variant, threads and top-k and posts each result
 * back ("frame-result"). In compare mode nothing is pushed: the page says which frames it shows
 * (::frame) and Compare sends them through every variant.
 *
 * States map to the status over the picture (starting, paused, ended, no camera, failed) and to
 * ::error; whatever fails, the source buttons and the camera list stay usable. The sidebar's
 * results panel, in stream mode, follows the same results as the overlay (times, rates,
 * latency, and the threads and kernel of the session).
 */
#define G_LOG_DOMAIN "vitlens-stream-page"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-attention-overlay.h"
#include "vitlens-camera-monitor.h"
#include "vitlens-image-page.h"
#include "vitlens-snapshot.h"
#include "vitlens-stream-page.h"

#define TEST_PATTERN_ID     "test-pattern"
#define NO_CAMERA_ID        "none"          /* the list's entry when there is no camera */
#define TEST_PATTERN_WIDTH  640
#define TEST_PATTERN_HEIGHT 480
#define TEST_PATTERN_FPS    30
#define DISPLAY_FPS_WINDOW  30

struct _VitlensStreamPage
{
  VitlensPage           parent_instance;

  /* template widgets */
  GtkWidget            *view;
  GtkWidget            *stream_area;
  GtkPicture           *picture;
  VitlensAttentionOverlay *attention_overlay;
  GtkLabel             *caption;
  VitlensStreamOverlay *overlay;
  GtkWidget            *status;
  GtkImage             *status_icon;
  GtkSpinner           *status_spinner;
  GtkLabel             *status_title;
  GtkLabel             *status_label;
  GtkButton            *status_button;
  GtkRevealer          *drop_revealer;
  VitlensResultsPanel  *results_panel;
  GtkRevealer          *bar_revealer;
  GtkButton            *play_button;
  GtkDropDown          *camera_dropdown;
  GtkWidget            *open_video_button;
  GtkWidget            *loop_button;
  GtkLabel             *stream_label;
  GtkWidget            *snapshot_button;
  GtkPopover           *snapshot_popover;   /* Open, Show in Files: after a snapshot */

  VitlensInference     *inference;          /* the page's, whose frame results it follows */
  VitlensSource         source;
  gboolean              compare;
  gboolean              loop;
  VitlensCamera        *camera;             /* made when a stream first starts */
  VitlensCameraMonitor *monitor;
  GtkStringList        *camera_names;       /* what the drop-down lists */
  GPtrArray            *camera_ids;         /* char *, parallel: a device's path or name, or "test-pattern" */
  char                 *camera_id;          /* the entry chosen */
  GFile                *video_file;
  VitlensFrame         *frame;              /* the frame shown */
  VitlensResult        *result;             /* the latest frame result shown */
  gint64                display_times[DISPLAY_FPS_WINDOW];
  guint64               n_frames_shown;
  guint64               n_results_shown;
  int                   frame_width, frame_height;
  char                 *snapshot_path;      /* the last snapshot saved */
  VitlensImagePage     *image_page;         /* what the image source shows (its snapshot) */
};

G_DEFINE_FINAL_TYPE (VitlensStreamPage, vitlens_stream_page, VITLENS_TYPE_PAGE)

G_DEFINE_ENUM_TYPE (VitlensSource, vitlens_source,
                    G_DEFINE_ENUM_VALUE (VITLENS_SOURCE_IMAGE, "image"),
                    G_DEFINE_ENUM_VALUE (VITLENS_SOURCE_CAMERA, "camera"),
                    G_DEFINE_ENUM_VALUE (VITLENS_SOURCE_VIDEO, "video"))

enum {
  PROP_0,
  PROP_SOURCE,
  PROP_COMPARE,
  PROP_LOOP,
  PROP_CAMERA,
  PROP_STATE,
  PROP_CAMERAS,
  PROP_STREAM_NAME,
  PROP_N_FRAMES,
  PROP_N_RESULTS,
  PROP_IMAGE_PAGE,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

enum {
  FRAME,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void start_stream (VitlensStreamPage *self);
static void set_source   (VitlensStreamPage *self,
                          VitlensSource      source);
static void choose_video (VitlensStreamPage *self);

/* ---------------------------------------------------------------------------------------------
 * Helpers */

static gboolean
has_model (VitlensStreamPage *self)
{
  return vitlens_page_get_model (VITLENS_PAGE (self)) != NULL;
}

static VitlensCameraState
camera_state (VitlensStreamPage *self)
{
  return self->camera ? vitlens_camera_get_state (self->camera) : VITLENS_CAMERA_STATE_IDLE;
}

static const char *
stream_name (VitlensStreamPage *self)
{
  if (self->camera != NULL && camera_state (self) != VITLENS_CAMERA_STATE_IDLE)
    return vitlens_camera_get_source_name (self->camera);
  if (self->source == VITLENS_SOURCE_VIDEO && self->video_file != NULL)
    return g_object_get_data (G_OBJECT (self->video_file), "vitlens-name");
  return NULL;
}

static const char *
camera_entry_name (VitlensStreamPage *self,
                   const char        *id)
{
  for (guint i = 0; id != NULL && i < self->camera_ids->len; i++)
    if (g_str_equal (g_ptr_array_index (self->camera_ids, i), id))
      return gtk_string_list_get_string (self->camera_names, i);
  return NULL;
}

/* The camera source with no camera plugged in: nothing to play, the page says so. */
static gboolean
no_camera (VitlensStreamPage *self)
{
  return self->source == VITLENS_SOURCE_CAMERA && g_strcmp0 (self->camera_id, NO_CAMERA_ID) == 0;
}

static void
notify_counts (VitlensStreamPage *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FRAMES]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RESULTS]);
}

/* ---------------------------------------------------------------------------------------------
 * What the page shows of the stream */

/* What a snapshot saves: the frame shown and its latest result, or, with the image source,
 * the image page's picture and results (references, or FALSE: nothing to save). */
static gboolean
snapshot_input (VitlensStreamPage  *self,
                VitlensFrame      **frame,
                VitlensResult     **result,
                char              **name)
{
  g_autoptr(VitlensImage) image = NULL;

  *frame = NULL;
  *result = NULL;
  *name = NULL;
  if (self->source != VITLENS_SOURCE_IMAGE)
    {
      if (self->frame == NULL)
        return FALSE;
      *frame = vitlens_frame_ref (self->frame);
      *result = self->result ? vitlens_result_ref (self->result) : NULL;
      *name = g_strdup (stream_name (self));
      return TRUE;
    }
  if (self->image_page == NULL || self->compare)
    return FALSE;
  g_object_get (self->image_page, "image", &image, "prediction", result, NULL);
  if (image == NULL)
    {
      g_clear_pointer (result, vitlens_result_unref);
      return FALSE;
    }
  *frame = vitlens_frame_ref (vitlens_image_get_frame (image));
  *name = g_strdup (vitlens_image_get_name (image));
  /* The last image's results while this one's are on their way: not this image's. */
  if (*result != NULL && (*result)->frame != *frame)
    g_clear_pointer (result, vitlens_result_unref);
  return TRUE;
}

static void
update_actions (VitlensStreamPage *self)
{
  GActionMap *actions = vitlens_page_get_action_map (VITLENS_PAGE (self));
  GAction *snapshot = g_action_map_lookup_action (actions, "snapshot");
  GAction *play = g_action_map_lookup_action (actions, "play-pause");
  g_autoptr(VitlensFrame) frame = NULL;
  g_autoptr(VitlensResult) result = NULL;
  g_autofree char *name = NULL;

  g_simple_action_set_enabled (G_SIMPLE_ACTION (snapshot), snapshot_input (self, &frame, &result, &name));
  for (const char **name = (const char *[]) { "open-snapshot", "show-snapshot", NULL }; *name; name++)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (actions, *name)),
                                 self->snapshot_path != NULL);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (play), self->source != VITLENS_SOURCE_IMAGE && !no_camera (self));
}

/* The picture and the sidebar, unless nothing plays or Compare shows the frames. */
static void
update_view (VitlensStreamPage *self)
{
  gboolean shown = self->source != VITLENS_SOURCE_IMAGE && !self->compare;

  gtk_widget_set_visible (self->view, shown);
  gtk_widget_set_vexpand (GTK_WIDGET (self), shown);
}

/* What the sidebar says while it has no results. */
static void
update_placeholder (VitlensStreamPage *self)
{
  const char *text;

  if (vitlens_page_get_loading (VITLENS_PAGE (self)))
    text = _("Loading the model…");
  else if (!has_model (self))
    text = _("No model is loaded. Open one from the model menu to classify images.");
  else
    text = _("The results of each frame are shown over the video.");
  vitlens_results_panel_set_placeholder (self->results_panel, text);
}

/* What the page says. With no frame behind it, it is the page's placeholder, placed and styled
 * as the image page's (status-page: an icon, a title-1, the text, a pill button); over a frame
 * (paused, ended, starting again) a card keeps it readable. */
static void
set_status (VitlensStreamPage *self,
            gboolean       spinner,
            const char    *title,
            const char    *text,
            const char    *button_label,
            const char    *button_action,
            GVariant      *button_target)
{
  gboolean placeholder = self->frame == NULL;
  VitlensCameraState state = camera_state (self);
  const char *icon = NULL;

  if (placeholder && !spinner)
    icon = state == VITLENS_CAMERA_STATE_NO_CAMERA ? "camera-web-symbolic"
           : state == VITLENS_CAMERA_STATE_ERROR ? "dialog-warning-symbolic"
           : "video-x-generic-symbolic";
  gtk_image_set_from_icon_name (self->status_icon, icon);
  gtk_widget_set_visible (GTK_WIDGET (self->status_icon), icon != NULL);
  if (placeholder)
    {
      gtk_widget_remove_css_class (self->status, "stream-status");
      gtk_widget_add_css_class (self->status, "status-page");
    }
  else
    {
      gtk_widget_remove_css_class (self->status, "status-page");
      gtk_widget_add_css_class (self->status, "stream-status");
    }
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_title), placeholder ? "title-2" : "title-1");
  gtk_widget_add_css_class (GTK_WIDGET (self->status_title), placeholder ? "title-1" : "title-2");
  gtk_widget_set_visible (self->status, title != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->status_spinner), spinner);
  gtk_spinner_set_spinning (self->status_spinner, spinner);
  gtk_label_set_label (self->status_title, title ? title : "");
  gtk_label_set_label (self->status_label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), text != NULL && *text);
  gtk_widget_set_visible (GTK_WIDGET (self->status_button), button_label != NULL);
  if (button_label != NULL)
    {
      gtk_button_set_label (self->status_button, button_label);
      /* No action while the target changes: the old action with the new target (or the other
       * way round) would not match. */
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->status_button), NULL);
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->status_button), button_target);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->status_button), button_action);
    }
  else if (button_target != NULL)
    g_variant_unref (g_variant_ref_sink (button_target));
}

static void
update_stream_bar (VitlensStreamPage *self)
{
  VitlensCameraState state = camera_state (self);
  gboolean running = state == VITLENS_CAMERA_STATE_PLAYING || state == VITLENS_CAMERA_STATE_STARTING;
  const char *state_text = NULL;
  const char *name = stream_name (self);

  gtk_revealer_set_reveal_child (self->bar_revealer, self->source != VITLENS_SOURCE_IMAGE);
  gtk_widget_set_visible (GTK_WIDGET (self->camera_dropdown), self->source == VITLENS_SOURCE_CAMERA);
  gtk_widget_set_visible (self->open_video_button, self->source == VITLENS_SOURCE_VIDEO);
  gtk_widget_set_visible (self->loop_button, self->source == VITLENS_SOURCE_VIDEO);

  gtk_button_set_icon_name (self->play_button, running ? "media-playback-pause-symbolic"
                                                       : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->play_button),
                               no_camera (self) ? _("No camera is connected")
                               : running ? _("Pause (Ctrl+P)") : _("Play (Ctrl+P)"));

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
update_caption (VitlensStreamPage *self)
{
  const char *name = stream_name (self);
  g_autofree char *caption = NULL;

  if (name != NULL && self->frame_width > 0)
    /* Translators: below a camera's or video's picture: its name, width × height in pixels */
    caption = g_strdup_printf (_("%s · %d×%d"), name, self->frame_width, self->frame_height);
  gtk_label_set_label (self->caption, caption ? caption : (name ? name : ""));
}

static void
on_camera_state (VitlensStreamPage *self)
{
  VitlensCameraState state = camera_state (self);
  const GError *error = self->camera ? vitlens_camera_get_error (self->camera) : NULL;
  const char *name = stream_name (self);

  g_debug ("Stream %s: %s", name ? name : "-", vitlens_camera_state_to_string (state));
  g_object_notify (G_OBJECT (self), "state");
  g_object_notify (G_OBJECT (self), "stream-name");

  switch (state)
    {
    case VITLENS_CAMERA_STATE_STARTING:
      set_status (self, TRUE, _("Starting…"), name, NULL, NULL, NULL);
      break;

    case VITLENS_CAMERA_STATE_PLAYING:
      set_status (self, FALSE, NULL, NULL, NULL, NULL, NULL);
      vitlens_page_clear_error (VITLENS_PAGE (self), VITLENS_ORIGIN_STREAM);
      break;

    case VITLENS_CAMERA_STATE_PAUSED:
      set_status (self, FALSE, _("Paused"), NULL, _("_Resume"), "win.play-pause", NULL);
      break;

    /* The end of a video and a machine without a camera are states, not errors: the page
     * says so once, calmly, with what to do next; no banner. */
    case VITLENS_CAMERA_STATE_EOS:
      {
        /* Translators: %s is a video file's name */
        g_autofree char *message = g_strdup_printf (_("“%s” has ended. Play it again, turn on Loop, or choose another source."),
                                                    name ? name : "");

        set_status (self, FALSE, _("The Video Has Ended"), message, _("_Play Again"), "win.play-pause", NULL);
        vitlens_page_clear_error (VITLENS_PAGE (self), VITLENS_ORIGIN_STREAM);
      }
      break;

    case VITLENS_CAMERA_STATE_NO_CAMERA:
      set_status (self, FALSE, _("No Camera Found"),
                  _("Plug in a camera, or try the live view with the test pattern."),
                  _("Use the _Test Pattern"), "win.camera", g_variant_new_string (TEST_PATTERN_ID));
      vitlens_page_clear_error (VITLENS_PAGE (self), VITLENS_ORIGIN_STREAM);
      break;

    case VITLENS_CAMERA_STATE_ERROR:
      if (self->source == VITLENS_SOURCE_VIDEO)
        set_status (self, FALSE, _("The Video Cannot Be Played"), error ? error->message : NULL,
                    _("Open Another _Video…"), "win.open-video", NULL);
      else
        set_status (self, FALSE, _("The Camera Cannot Be Used"), error ? error->message : NULL,
                    _("Use the _Test Pattern"), "win.camera", g_variant_new_string (TEST_PATTERN_ID));
      vitlens_page_error (VITLENS_PAGE (self), VITLENS_ORIGIN_STREAM,
                                       error ? error->message : _("The stream stopped"));
      break;

    case VITLENS_CAMERA_STATE_IDLE:
    default:
      if (self->source == VITLENS_SOURCE_VIDEO && self->video_file == NULL)
        set_status (self, FALSE, _("No Video Open"),
                    _("Open a video file, or drop one here, to classify it frame by frame."),
                    _("Open _Video…"), "win.open-video", NULL);
      else
        set_status (self, FALSE, NULL, NULL, NULL, NULL, NULL);
      break;
    }

  update_stream_bar (self);
  update_caption (self);
  gtk_widget_set_visible (GTK_WIDGET (self->overlay),
                          state == VITLENS_CAMERA_STATE_PLAYING || state == VITLENS_CAMERA_STATE_PAUSED
                          || (state == VITLENS_CAMERA_STATE_STARTING && self->frame != NULL));
}

static void
clear_frames (VitlensStreamPage *self)
{
  g_clear_pointer (&self->frame, vitlens_frame_unref);
  g_clear_pointer (&self->result, vitlens_result_unref);
  memset (self->display_times, 0, sizeof self->display_times);
  self->n_frames_shown = 0;
  self->n_results_shown = 0;
  self->frame_width = self->frame_height = 0;
  gtk_picture_set_paintable (self->picture, NULL);
  vitlens_stream_overlay_set_result (self->overlay, NULL);
  vitlens_attention_overlay_set_result (self->attention_overlay, NULL);
  vitlens_stream_overlay_set_display_fps (self->overlay, -1);
  vitlens_results_panel_add_stream_result (self->results_panel, NULL);
  vitlens_results_panel_set_display_fps (self->results_panel, -1);
  notify_counts (self);
  g_signal_emit (self, signals[FRAME], 0, NULL, NULL);
}

static void
update_overlay_placeholder (VitlensStreamPage *self)
{
  vitlens_stream_overlay_set_placeholder (self->overlay,
                                          has_model (self) ? _("Waiting for the first result…")
                                                           : _("No model is loaded: open one from the model menu."));
}

static void
on_frame (VitlensCamera *camera,
          VitlensFrame  *frame,
          VitlensStreamPage *self)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  gint64 now = g_get_monotonic_time ();
  guint64 n;
  int w = vitlens_frame_get_width (frame), h = vitlens_frame_get_height (frame);

  if (self->source == VITLENS_SOURCE_IMAGE || self->picture == NULL)
    return;

  /* The frame's own pixels (RGBx, alpha byte 255), no copy. */
  bytes = vitlens_frame_get_bytes (frame);
  texture = gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8A8_PREMULTIPLIED, bytes,
                                    vitlens_frame_get_stride (frame));
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));

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

          vitlens_stream_overlay_set_display_fps (self->overlay, fps);
          vitlens_results_panel_set_display_fps (self->results_panel, fps);
        }
    }
  if (n == 0)
    update_actions (self);

  notify_counts (self);
  /* Compare mode compares the frames shown. */
  g_signal_emit (self, signals[FRAME], 0, frame, texture);
}

static void
on_result (VitlensInference *inference,
           VitlensResult    *result,
           VitlensStreamPage *self)
{
  /* A pause freezes the results with the frame; compare mode shows its own. */
  if (self->source == VITLENS_SOURCE_IMAGE || self->compare || camera_state (self) == VITLENS_CAMERA_STATE_PAUSED)
    return;

  g_clear_pointer (&self->result, vitlens_result_unref);
  self->result = vitlens_result_ref (result);
  self->n_results_shown++;
  vitlens_stream_overlay_set_result (self->overlay, result);
  vitlens_attention_overlay_set_result (self->attention_overlay,
                                        vitlens_page_get_show_attention (VITLENS_PAGE (self)) ? result : NULL);
  vitlens_results_panel_add_stream_result (self->results_panel, result);
  notify_counts (self);
}

static void
on_frame_error (VitlensInference *inference,
                const GError     *error,
                VitlensStreamPage *self)
{
  if (self->source == VITLENS_SOURCE_IMAGE || self->compare)
    return;
  vitlens_page_error (VITLENS_PAGE (self), VITLENS_ORIGIN_STREAM, error->message);
}


/* ---------------------------------------------------------------------------------------------
 * The camera and the inference */

/* What frames are classified with: the page's variant, top-k and threads. */
static void
sync_frame_options (VitlensStreamPage *self)
{
  VitlensPage *page = VITLENS_PAGE (self);

  if (self->inference != NULL)
    vitlens_inference_set_frame_options (self->inference, vitlens_page_get_variant (page),
                                         vitlens_page_get_top_k (page), vitlens_page_get_threads (page));
}

/* Frames to the inference for the variant shown, or (compare mode) to nobody: Compare
 * compares the frames shown. */
static void
update_inference_route (VitlensStreamPage *self)
{
  if (self->camera == NULL)
    return;
  if (!has_model (self) || self->source == VITLENS_SOURCE_IMAGE || self->compare)
    vitlens_camera_set_inference_func (self->camera, NULL, NULL, NULL);
  else
    vitlens_camera_set_inference_func (self->camera, vitlens_inference_push_func,
                                       g_object_ref (self->inference), g_object_unref);
  /* A frame still waiting for the single variant is dropped: compare mode shows its own. */
  if (self->compare && self->inference != NULL)
    vitlens_inference_clear_frames (self->inference);
}

static void
ensure_camera (VitlensStreamPage *self)
{
  if (self->camera != NULL)
    return;

  self->camera = vitlens_camera_new ();
  g_signal_connect (self->camera, "frame", G_CALLBACK (on_frame), self);
  g_signal_connect_swapped (self->camera, "notify::state", G_CALLBACK (on_camera_state), self);
  vitlens_camera_set_loop (self->camera, self->loop);
}

static void
stop_stream (VitlensStreamPage *self)
{
  if (self->camera == NULL)
    return;
  /* Returns when every streaming thread has stopped: no frame comes after this. */
  vitlens_camera_stop (self->camera);
  vitlens_inference_clear_frames (self->inference);
  clear_frames (self);
}

static void
start_stream (VitlensStreamPage *self)
{
  ensure_camera (self);
  vitlens_camera_stop (self->camera);
  vitlens_inference_clear_frames (self->inference);
  clear_frames (self);

  if (self->source == VITLENS_SOURCE_CAMERA)
    {
      if (g_strcmp0 (self->camera_id, TEST_PATTERN_ID) == 0)
        vitlens_camera_set_test_pattern (self->camera, TEST_PATTERN_WIDTH, TEST_PATTERN_HEIGHT, TEST_PATTERN_FPS);
      else
        /* NULL when there is no camera: play() then says so (NO_CAMERA). */
        vitlens_camera_set_device (self->camera,
                                   self->camera_id && self->monitor && g_strcmp0 (self->camera_id, NO_CAMERA_ID) != 0
                                   ? vitlens_camera_monitor_find (self->monitor, self->camera_id) : NULL);
    }
  else if (self->source == VITLENS_SOURCE_VIDEO && self->video_file != NULL)
    vitlens_camera_set_file (self->camera, self->video_file);
  else
    {
      on_camera_state (self);
      return;
    }

  sync_frame_options (self);
  vitlens_inference_reset_stats (self->inference);
  update_inference_route (self);
  update_overlay_placeholder (self);
  vitlens_camera_play (self->camera);
  on_camera_state (self);
}

static void
select_camera_entry (VitlensStreamPage *self)
{
  guint position = GTK_INVALID_LIST_POSITION;

  for (guint i = 0; self->camera_id != NULL && i < self->camera_ids->len; i++)
    if (g_str_equal (g_ptr_array_index (self->camera_ids, i), self->camera_id))
      position = i;

  g_signal_handlers_block_matched (self->camera_dropdown, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  gtk_drop_down_set_selected (self->camera_dropdown, position);
  g_signal_handlers_unblock_matched (self->camera_dropdown, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
}

/* The camera list's popup rows: a name and, for the camera chosen, a check mark; "No Camera
 * Found" is a dimmed placeholder that cannot be chosen (nor checked). */
static void
camera_row_setup (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  VitlensStreamPage        *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (NULL);
  GtkWidget *check = gtk_image_new_from_icon_name ("object-select-symbolic");

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), check);
  gtk_list_item_set_child (item, box);
}

static void
camera_row_update_check (GtkListItem *item)
{
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkDropDown *dropdown = g_object_get_data (G_OBJECT (item), "vitlens-dropdown");

  if (box != NULL && dropdown != NULL)
    gtk_widget_set_visible (gtk_widget_get_last_child (box),
                            gtk_list_item_get_selectable (item)
                            && gtk_drop_down_get_selected (dropdown) == gtk_list_item_get_position (item));
}

static void
camera_row_bind (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 VitlensStreamPage        *self)
{
  GtkWidget *box = gtk_list_item_get_child (item);
  guint position = gtk_list_item_get_position (item);
  gboolean placeholder = position < self->camera_ids->len
                         && g_str_equal (g_ptr_array_index (self->camera_ids, position), NO_CAMERA_ID);

  gtk_label_set_label (GTK_LABEL (gtk_widget_get_first_child (box)),
                       gtk_string_object_get_string (gtk_list_item_get_item (item)));
  gtk_list_item_set_selectable (item, !placeholder);
  gtk_list_item_set_activatable (item, !placeholder);
  gtk_widget_set_sensitive (box, !placeholder);
  g_object_set_data (G_OBJECT (item), "vitlens-dropdown", self->camera_dropdown);
  g_signal_connect_object (self->camera_dropdown, "notify::selected", G_CALLBACK (camera_row_update_check),
                           item, G_CONNECT_SWAPPED);
  camera_row_update_check (item);
}

static void
camera_row_unbind (GtkSignalListItemFactory *factory,
                   GtkListItem              *item,
                   VitlensStreamPage        *self)
{
  g_signal_handlers_disconnect_by_func (self->camera_dropdown, camera_row_update_check, item);
  g_object_set_data (G_OBJECT (item), "vitlens-dropdown", NULL);
}

static void
rebuild_camera_list (VitlensStreamPage *self)
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

static void
on_cameras_changed (GListModel    *devices,
                    guint          position,
                    guint          removed,
                    guint          added,
                    VitlensStreamPage *self)
{
  rebuild_camera_list (self);

  /* Waiting for a camera, and there is one now: use it. */
  if (self->source == VITLENS_SOURCE_CAMERA && added > 0
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
ensure_monitor (VitlensStreamPage *self)
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
                    VitlensStreamPage *self)
{
  guint i = gtk_drop_down_get_selected (dropdown);

  if (i >= self->camera_ids->len || g_str_equal (g_ptr_array_index (self->camera_ids, i), NO_CAMERA_ID))
    return;
  g_action_group_activate_action (G_ACTION_GROUP (vitlens_page_get_action_map (VITLENS_PAGE (self))), "camera",
                                  g_variant_new_string (g_ptr_array_index (self->camera_ids, i)));
}

static gboolean
save_snapshot (VitlensStreamPage  *self,
               VitlensFrame       *frame,
               VitlensResult      *result,
               const char         *name,
               const char         *path,
               GError            **error)
{
  const char *labels[VIT_TOPK_MAX] = { NULL };
  char *fallbacks[VIT_TOPK_MAX] = { NULL };
  float probs[VIT_TOPK_MAX] = { 0 };
  int n = result ? result->k : 0;
  g_autofree char *title = NULL;
  g_autoptr(GString) footer = g_string_new (NULL);
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
      title = g_strdup_printf (_("%s · %s"), name ? name : "",
                               vitlens_variant_label (vit_variant_name (result->variant)));
      if (result->latency_ms > 0)
        /* Translators: a snapshot's timings: forward pass, latency and inference rate */
        g_string_printf (footer, _("Forward pass %.1f ms · latency %.1f ms · %.1f fps"),
                         result->forward_ms, result->latency_ms, result->inference_fps);
      else
        /* Translators: an image snapshot's timing */
        g_string_printf (footer, _("Forward pass %.1f ms"), result->forward_ms);
    }
  else
    title = g_strdup (name ? name : "");

  ok = vitlens_snapshot_save_png (vitlens_frame_get_image (frame),
                                  &(VitlensSnapshotCard) { title, labels, probs, n, result ? footer->str : NULL },
                                  path, error);
  for (int i = 0; i < n; i++)
    g_free (fallbacks[i]);

  if (ok)
    {
      g_autofree char *file_name = g_path_get_basename (path);
      /* Translators: the confirmation after a snapshot; %s is the PNG file's name */
      g_autofree char *message = g_strdup_printf (_("Saved %s"), file_name);

      vitlens_page_notice (VITLENS_PAGE (self), message, path);
      /* What one does next with a snapshot: open it, or see it in its folder. */
      g_free (self->snapshot_path);
      self->snapshot_path = g_strdup (path);
      update_actions (self);
      if (gtk_widget_get_mapped (self->snapshot_button))
        gtk_popover_popup (self->snapshot_popover);
    }
  return ok;
}

typedef struct
{
  VitlensFrame  *frame;
  VitlensResult *result;
  char          *name;
} Snapshot;

static void
snapshot_free (Snapshot *snapshot)
{
  vitlens_frame_unref (snapshot->frame);
  if (snapshot->result != NULL)
    vitlens_result_unref (snapshot->result);
  g_free (snapshot->name);
  g_free (snapshot);
}

static void
on_snapshot_chosen (GtkNativeDialog *native,
                    int              response,
                    VitlensStreamPage *self)
{
  Snapshot *snapshot = g_object_get_data (G_OBJECT (native), "vitlens-snapshot");

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      g_autoptr(GError) error = NULL;

      if (path == NULL)
        vitlens_page_error (VITLENS_PAGE (self), VITLENS_ORIGIN_OTHER, _("The snapshot can only be saved in a local folder"));
      else if (!save_snapshot (self, snapshot->frame, snapshot->result, snapshot->name, path, &error))
        {
          /* Translators: %s says why */
          g_autofree char *message = g_strdup_printf (_("The snapshot was not saved: %s"), error->message);

          vitlens_page_error (VITLENS_PAGE (self), VITLENS_ORIGIN_OTHER, message);
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
  VitlensStreamPage *self = VITLENS_STREAM_PAGE (user_data);
  GtkFileChooserNative *native;
  Snapshot *snapshot;
  g_autofree char *folder_path = vitlens_stream_page_get_snapshot_folder (self);
  g_autoptr(GFile) folder = g_file_new_for_path (folder_path);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%d %H-%M-%S");
  g_autofree char *name = NULL;

  /* This frame and these results, whatever plays while the chooser is open. */
  snapshot = g_new0 (Snapshot, 1);
  if (!snapshot_input (self, &snapshot->frame, &snapshot->result, &snapshot->name))
    {
      g_free (snapshot);
      return;
    }

  native = vitlens_page_file_chooser_new (VITLENS_PAGE (self), _("Save Snapshot"),
                                          GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"));
  g_object_set_data_full (G_OBJECT (native), "vitlens-snapshot", snapshot, (GDestroyNotify)snapshot_free);
  /* Translators: the file name proposed for a snapshot; %s is the date and time */
  name = g_strdup_printf (_("ViT Lens snapshot %s.png"), stamp);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), name);
  gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (native), folder, NULL);
  /* No question of ours before replacing a file: in SAVE mode GTK 4's chooser (and the portal's)
   * asks by itself. */
  g_signal_connect_object (native, "response", G_CALLBACK (on_snapshot_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

/* The last snapshot's URI (NULL: none yet), for Open and Show in Files; the popover that
 * offered them closes. */
static char *
snapshot_uri (VitlensStreamPage *self)
{
  g_autoptr(GFile) file = NULL;

  if (self->snapshot_path == NULL)
    return NULL;
  gtk_popover_popdown (self->snapshot_popover);
  file = g_file_new_for_path (self->snapshot_path);
  return g_file_get_uri (file);
}

static void
action_open_snapshot (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  VitlensStreamPage *self = VITLENS_STREAM_PAGE (user_data);
  g_autofree char *uri = snapshot_uri (self);

  if (uri != NULL)
    gtk_show_uri (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), uri, GDK_CURRENT_TIME);
}

/* Show in Files: the file manager's org.freedesktop.FileManager1.ShowItems (the file selected
 * in its folder), or, without one on the session bus, the folder itself. */
typedef struct
{
  GtkWindow *window;
  char      *uri;
} ShowItems;

static void
show_items_free (ShowItems *show)
{
  g_clear_object (&show->window);
  g_free (show->uri);
  g_free (show);
}

static void
show_folder_instead (ShowItems *show)
{
  g_autoptr(GFile) file = g_file_new_for_uri (show->uri);
  g_autoptr(GFile) parent = g_file_get_parent (file);
  g_autofree char *folder = parent ? g_file_get_uri (parent) : g_strdup (show->uri);

  gtk_show_uri (show->window, folder, GDK_CURRENT_TIME);
  show_items_free (show);
}

static void
on_show_items (GObject      *object,
               GAsyncResult *result,
               gpointer      data)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      g_debug ("ShowItems: %s", error->message);
      show_folder_instead (data);
    }
  else
    show_items_free (data);
}

static void
on_session_bus (GObject      *object,
                GAsyncResult *result,
                gpointer      data)
{
  ShowItems *show = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_finish (result, &error);
  const char *uris[] = { show->uri, NULL };

  if (bus == NULL)
    {
      g_debug ("No session bus: %s", error->message);
      show_folder_instead (show);
      return;
    }
  g_dbus_connection_call (bus, "org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                          "org.freedesktop.FileManager1", "ShowItems",
                          g_variant_new ("(^ass)", uris, ""), NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL,
                          on_show_items, show);
}

static void
action_show_snapshot (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  VitlensStreamPage *self = VITLENS_STREAM_PAGE (user_data);
  char *uri = snapshot_uri (self);
  ShowItems *show;

  if (uri == NULL)
    return;
  show = g_new0 (ShowItems, 1);
  show->window = g_object_ref (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))));
  show->uri = uri;
  g_bus_get (G_BUS_TYPE_SESSION, NULL, on_session_bus, show);
}

static void
action_camera (GSimpleAction *action,
               GVariant      *param,
               gpointer       user_data)
{
  VitlensStreamPage *self = VITLENS_STREAM_PAGE (user_data);
  const char *id = g_variant_get_string (param, NULL);

  ensure_monitor (self);
  /* "No Camera Found" is a placeholder in the list, not a choice. */
  if (g_str_equal (id, NO_CAMERA_ID))
    return;
  if (camera_entry_name (self, id) == NULL)
    {
      /* Translators: %s is a camera's name or device */
      g_autofree char *message = g_strdup_printf (_("There is no camera “%s”"), id);

      vitlens_page_error (VITLENS_PAGE (self), VITLENS_ORIGIN_STREAM, message);
      return;
    }

  g_free (self->camera_id);
  self->camera_id = g_strdup (id);
  select_camera_entry (self);
  vitlens_page_clear_error (VITLENS_PAGE (self), VITLENS_ORIGIN_STREAM);
  if (self->source != VITLENS_SOURCE_CAMERA)
    set_source (self, VITLENS_SOURCE_CAMERA);
  else
    start_stream (self);
}

static void
action_play_pause (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  VitlensStreamPage *self = VITLENS_STREAM_PAGE (user_data);

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
      if (self->source == VITLENS_SOURCE_VIDEO && self->video_file == NULL)
        choose_video (self);
      else if (self->source != VITLENS_SOURCE_IMAGE)
        start_stream (self);
      break;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Sources */

static void
set_source (VitlensStreamPage *self,
            VitlensSource      source)
{
  gboolean changed = source != self->source;

  self->source = source;
  if (changed)
    vitlens_page_clear_error (VITLENS_PAGE (self), VITLENS_ORIGIN_STREAM);

  switch (source)
    {
    case VITLENS_SOURCE_IMAGE:
      stop_stream (self);
      break;

    case VITLENS_SOURCE_CAMERA:
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

    case VITLENS_SOURCE_VIDEO:
      if (changed)
        {
          if (self->video_file != NULL)
            start_stream (self);
          else
            {
              stop_stream (self);
              on_camera_state (self);
              choose_video (self);
            }
        }
      break;

    default:
      g_assert_not_reached ();
    }

  update_inference_route (self);
  update_stream_bar (self);
  update_view (self);
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOURCE]);
}

gboolean
vitlens_stream_page_can_play (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *type = name ? g_content_type_guess (name, NULL, 0, NULL) : NULL;
  g_autofree char *mime = type ? g_content_type_get_mime_type (type) : NULL;

  return mime != NULL && g_str_has_prefix (mime, "video/");
}

void
vitlens_stream_page_open_video (VitlensStreamPage *self,
                                GFile             *file)
{
  g_return_if_fail (VITLENS_IS_STREAM_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));

  g_set_object (&self->video_file, file);
  g_object_set_data_full (G_OBJECT (file), "vitlens-name", g_file_get_basename (file), g_free);
  if (self->source != VITLENS_SOURCE_VIDEO)
    set_source (self, VITLENS_SOURCE_VIDEO);
  else
    {
      vitlens_page_clear_error (VITLENS_PAGE (self), VITLENS_ORIGIN_STREAM);
      start_stream (self);
    }
}

gboolean
vitlens_stream_page_save_snapshot (VitlensStreamPage *self,
                                   const char        *path,
                                   GError           **error)
{
  g_autoptr(VitlensFrame) frame = NULL;
  g_autoptr(VitlensResult) result = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail (VITLENS_IS_STREAM_PAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!snapshot_input (self, &frame, &result, &name))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("There is no frame to save yet"));
      return FALSE;
    }
  return save_snapshot (self, frame, result, name, path, error);
}

char *
vitlens_stream_page_get_snapshot_folder (VitlensStreamPage *self)
{
  const char *pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);

  g_return_val_if_fail (VITLENS_IS_STREAM_PAGE (self), NULL);

  if (pictures != NULL && g_file_test (pictures, G_FILE_TEST_IS_DIR))
    return g_strdup (pictures);
  return g_strdup (g_get_home_dir ());
}

VitlensStreamOverlay *
vitlens_stream_page_get_overlay (VitlensStreamPage *self)
{
  g_return_val_if_fail (VITLENS_IS_STREAM_PAGE (self), NULL);

  return self->overlay;
}

VitlensResultsPanel *
vitlens_stream_page_get_results_panel (VitlensStreamPage *self)
{
  g_return_val_if_fail (VITLENS_IS_STREAM_PAGE (self), NULL);

  return self->results_panel;
}

/* ---------------------------------------------------------------------------------------------
 * The video chooser */

static void
choose_video (VitlensStreamPage *self)
{
  static const char *suffixes[] = { "mp4", "m4v", "mkv", "webm", "avi", "mov", "ogv", "mpg", "mpeg" };
  GtkFileChooserNative *native;
  g_autoptr(GtkFileFilter) videos = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  native = vitlens_page_file_chooser_new (VITLENS_PAGE (self), _("Open Video"),
                                          GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"));
  gtk_file_filter_set_name (videos, _("Videos"));
  gtk_file_filter_add_mime_type (videos, "video/*");
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    gtk_file_filter_add_suffix (videos, suffixes[i]);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), videos);
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), all);

  vitlens_page_run_file_chooser (VITLENS_PAGE (self), native, (VitlensPageFileFunc)vitlens_stream_page_open_video);
}

/* ---------------------------------------------------------------------------------------------
 * Actions */

static void
action_open_video (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  choose_video (VITLENS_STREAM_PAGE (user_data));
}

static const GActionEntry stream_entries[] = {
  { .name = "camera", .activate = action_camera, .parameter_type = "s" },
  { .name = "play-pause", .activate = action_play_pause },
  { .name = "open-video", .activate = action_open_video },
  { .name = "snapshot", .activate = action_snapshot },
  { .name = "open-snapshot", .activate = action_open_snapshot },
  { .name = "show-snapshot", .activate = action_show_snapshot },
};

/* ---------------------------------------------------------------------------------------------
 * Changes made elsewhere */

/* The page's inference (set once), or its model, changed. */
static void
vitlens_stream_page_model_changed (VitlensPage *page)
{
  VitlensStreamPage *self = VITLENS_STREAM_PAGE (page);
  VitlensInference *inference = vitlens_page_get_inference (page);

  if (inference != self->inference)
    {
      if (self->inference != NULL)
        {
          g_signal_handlers_disconnect_by_data (self->inference, self);
          vitlens_inference_clear_frames (self->inference);
        }
      g_set_object (&self->inference, inference);
      if (inference != NULL)
        {
          g_signal_connect_object (inference, "frame-result", G_CALLBACK (on_result), self, 0);
          g_signal_connect_object (inference, "frame-error", G_CALLBACK (on_frame_error), self, 0);
        }
      sync_frame_options (self);
    }

  /* Frames run on the model just loaded from the next one on: it is the same object's. */
  vitlens_results_panel_set_model (self->results_panel, vitlens_page_get_model (page));
  update_overlay_placeholder (self);
  update_placeholder (self);
  update_inference_route (self);
}

static void
vitlens_stream_page_options_changed (VitlensPage *page,
                                     GParamSpec  *pspec)
{
  VitlensStreamPage *self = VITLENS_STREAM_PAGE (page);

  if (g_str_equal (pspec->name, "loading"))
    {
      update_placeholder (self);
      return;
    }
  /* on: the next frame's result has it (the inference computes it from now on) */
  if (g_str_equal (pspec->name, "show-attention"))
    {
      vitlens_attention_overlay_set_result (self->attention_overlay,
                                            vitlens_page_get_show_attention (page) ? self->result : NULL);
      return;
    }
  /* Another variant: from the next frame on. */
  if (g_str_equal (pspec->name, "variant"))
    {
      vitlens_stream_overlay_set_variant (self->overlay, vitlens_page_get_variant (page));
      vitlens_results_panel_set_variant (self->results_panel, vitlens_page_get_variant (page));
    }
  sync_frame_options (self);
}

static void
on_image_page_changed (VitlensStreamPage *self)
{
  /* An answer that comes after the window closed: its action map is gone. */
  if (gtk_widget_get_root (GTK_WIDGET (self)) != NULL)
    update_actions (self);
}

/* The image source's snapshot is of what @image_page shows: win.snapshot follows it. */
static void
set_image_page (VitlensStreamPage *self,
                VitlensImagePage  *image_page)
{
  if (self->image_page != NULL)
    g_signal_handlers_disconnect_by_data (self->image_page, self);
  g_set_object (&self->image_page, image_page);
  if (image_page != NULL)
    {
      g_signal_connect_swapped (image_page, "notify::image", G_CALLBACK (on_image_page_changed), self);
      g_signal_connect_swapped (image_page, "notify::prediction", G_CALLBACK (on_image_page_changed), self);
    }
  update_actions (self);
}

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_stream_page_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  VitlensStreamPage *self = VITLENS_STREAM_PAGE (object);

  switch (prop_id)
    {
    case PROP_SOURCE:
      /* The same source again (re)starts what it plays if it is not playing. */
      set_source (self, g_value_get_enum (value));
      break;

    case PROP_COMPARE:
      self->compare = g_value_get_boolean (value);
      update_inference_route (self);
      update_view (self);
      update_actions (self);
      break;

    case PROP_IMAGE_PAGE:
      set_image_page (self, g_value_get_object (value));
      break;

    case PROP_LOOP:
      self->loop = g_value_get_boolean (value);
      if (self->camera != NULL)
        vitlens_camera_set_loop (self->camera, self->loop);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_stream_page_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  VitlensStreamPage *self = VITLENS_STREAM_PAGE (object);

  switch (prop_id)
    {
    case PROP_SOURCE: g_value_set_enum (value, self->source); break;
    case PROP_COMPARE: g_value_set_boolean (value, self->compare); break;
    case PROP_LOOP: g_value_set_boolean (value, self->loop); break;
    case PROP_CAMERA: g_value_set_object (value, self->camera); break;
    case PROP_STATE: g_value_set_enum (value, camera_state (self)); break;
    case PROP_CAMERAS: g_value_set_object (value, self->camera_names); break;
    case PROP_STREAM_NAME: g_value_set_string (value, stream_name (self)); break;
    case PROP_N_FRAMES: g_value_set_uint64 (value, self->n_frames_shown); break;
    case PROP_N_RESULTS: g_value_set_uint64 (value, self->n_results_shown); break;
    case PROP_IMAGE_PAGE: g_value_set_object (value, self->image_page); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_stream_page_dispose (GObject *object)
{
  VitlensStreamPage *self = VITLENS_STREAM_PAGE (object);

  /* The camera first: stopping it joins its streaming threads, so no frame comes after. */
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
  if (self->snapshot_popover != NULL)
    gtk_widget_unparent (GTK_WIDGET (self->snapshot_popover));
  gtk_widget_dispose_template (GTK_WIDGET (self), VITLENS_TYPE_STREAM_PAGE);
  self->snapshot_popover = NULL;
  if (self->image_page != NULL)
    g_signal_handlers_disconnect_by_data (self->image_page, self);
  g_clear_object (&self->image_page);
  g_clear_object (&self->camera);
  g_clear_object (&self->monitor);
  g_clear_object (&self->inference);
  g_clear_object (&self->camera_names);
  g_clear_object (&self->video_file);
  g_clear_pointer (&self->frame, vitlens_frame_unref);
  g_clear_pointer (&self->result, vitlens_result_unref);

  G_OBJECT_CLASS (vitlens_stream_page_parent_class)->dispose (object);
}

static void
vitlens_stream_page_finalize (GObject *object)
{
  VitlensStreamPage *self = VITLENS_STREAM_PAGE (object);

  g_clear_pointer (&self->camera_ids, g_ptr_array_unref);
  g_clear_pointer (&self->camera_id, g_free);
  g_clear_pointer (&self->snapshot_path, g_free);

  G_OBJECT_CLASS (vitlens_stream_page_parent_class)->finalize (object);
}

static void
vitlens_stream_page_class_init (VitlensStreamPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  VitlensPageClass *page_class = VITLENS_PAGE_CLASS (klass);
  /* :source notifies when it changes (set_source); :compare and :loop on every set. */
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->set_property = vitlens_stream_page_set_property;
  object_class->get_property = vitlens_stream_page_get_property;
  object_class->dispose = vitlens_stream_page_dispose;
  object_class->finalize = vitlens_stream_page_finalize;
  page_class->model_changed = vitlens_stream_page_model_changed;
  page_class->options_changed = vitlens_stream_page_options_changed;

  properties[PROP_SOURCE] = g_param_spec_enum ("source", NULL, NULL, VITLENS_TYPE_SOURCE, VITLENS_SOURCE_IMAGE,
                                                  rw | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_COMPARE] = g_param_spec_boolean ("compare", NULL, NULL, FALSE, rw);
  properties[PROP_LOOP] = g_param_spec_boolean ("loop", NULL, NULL, FALSE, rw);
  properties[PROP_CAMERA] = g_param_spec_object ("camera", NULL, NULL, VITLENS_TYPE_CAMERA, ro);
  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, VITLENS_TYPE_CAMERA_STATE,
                                              VITLENS_CAMERA_STATE_IDLE, ro);
  properties[PROP_CAMERAS] = g_param_spec_object ("cameras", NULL, NULL, G_TYPE_LIST_MODEL, ro);
  properties[PROP_STREAM_NAME] = g_param_spec_string ("stream-name", NULL, NULL, NULL, ro);
  properties[PROP_N_FRAMES] = g_param_spec_uint64 ("n-frames", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_N_RESULTS] = g_param_spec_uint64 ("n-results", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_IMAGE_PAGE] = g_param_spec_object ("image-page", NULL, NULL, VITLENS_TYPE_IMAGE_PAGE, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[FRAME] = g_signal_new ("frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                 G_TYPE_NONE, 2, VITLENS_TYPE_FRAME, GDK_TYPE_PAINTABLE);

  g_type_ensure (VITLENS_TYPE_RESULTS_PANEL);
  g_type_ensure (VITLENS_TYPE_STREAM_OVERLAY);
  g_type_ensure (VITLENS_TYPE_ATTENTION_OVERLAY);
  gtk_widget_class_set_template_from_resource (widget_class, APP_RESOURCE_PATH "/ui/vitlens-stream-page.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, view);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, stream_area);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, picture);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, caption);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, overlay);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, attention_overlay);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, status);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, status_icon);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, status_spinner);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, status_title);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, status_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, drop_revealer);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, results_panel);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, bar_revealer);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, play_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, camera_dropdown);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, open_video_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, loop_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, stream_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, snapshot_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensStreamPage, snapshot_popover);
}

static void
vitlens_stream_page_init (VitlensStreamPage *self)
{
  g_autoptr(GPropertyAction) source = NULL;
  g_autoptr(GPropertyAction) loop = NULL;
  GActionMap *actions = vitlens_page_get_action_map (VITLENS_PAGE (self));

  gtk_widget_init_template (GTK_WIDGET (self));
  vitlens_attention_overlay_set_picture (self->attention_overlay, self->picture);

  vitlens_page_set_drop_target (VITLENS_PAGE (self), self->drop_revealer, self->stream_area);
  g_action_map_add_action_entries (actions, stream_entries, G_N_ELEMENTS (stream_entries), self);
  /* win.source ("image", "camera", "video") and win.loop are these properties. */
  source = g_property_action_new ("source", self, "source");
  loop = g_property_action_new ("loop", self, "loop");
  g_action_map_add_action (actions, G_ACTION (source));
  g_action_map_add_action (actions, G_ACTION (loop));

  gtk_widget_set_parent (GTK_WIDGET (self->snapshot_popover), self->snapshot_button);
  self->camera_ids = g_ptr_array_new_with_free_func (g_free);
  self->camera_names = gtk_string_list_new (NULL);
  gtk_drop_down_set_model (self->camera_dropdown, G_LIST_MODEL (self->camera_names));
  {
    g_autoptr(GtkListItemFactory) rows = gtk_signal_list_item_factory_new ();

    g_signal_connect (rows, "setup", G_CALLBACK (camera_row_setup), self);
    g_signal_connect (rows, "bind", G_CALLBACK (camera_row_bind), self);
    g_signal_connect (rows, "unbind", G_CALLBACK (camera_row_unbind), self);
    gtk_drop_down_set_list_factory (self->camera_dropdown, rows);
  }
  g_signal_connect (self->camera_dropdown, "notify::selected", G_CALLBACK (on_camera_selected), self);
  vitlens_results_panel_set_stream (self->results_panel, TRUE);

  set_status (self, FALSE, NULL, NULL, NULL, NULL, NULL);
  update_overlay_placeholder (self);
  update_placeholder (self);
  update_stream_bar (self);
  update_view (self);
}

GtkWidget *
vitlens_stream_page_new (void)
{
  return g_object_new (VITLENS_TYPE_STREAM_PAGE, NULL);
}
