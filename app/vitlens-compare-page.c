/* vitlens-compare-page.c — Compare mode: every variant on the same input
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * "Compare" beside fp32 · int8 · optimized (Alt+4) shows this page instead of the image and its
 * results. An image runs COMPARE_ROUNDS rounds over every variant (Run Again adds as many), one
 * request a round, so that the view can say which round runs, and a large model can stop at
 * the time limit (see below);
 * a stream sends each frame it shows through every variant once. All engine work is the
 * VitlensInference's, on its worker thread, newest wins: a frame shown while the comparison
 * before it runs replaces the one still waiting, so the engine never queues frames. This page
 * only asks, and shows the answers in a VitlensCompareView.
 */
#define G_LOG_DOMAIN "vitlens-compare-page"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-compare-page.h"
#include "vitlens-stream-page.h"

/* How many runs an image's comparison makes: a fixed number, with a time cap.
 *
 * COMPARE_ROUNDS rounds over every variant, interleaved (each round runs every variant once,
 * starting one variant further on each time: the engine's rotation), so that the machine's
 * noise falls on every variant alike. Twelve runs give a median and a p10–p90 band that no
 * longer move by more than a few percent between rounds on a quiet machine, where five did not.
 * A large model (deit_base: about 5 s a round of four variants) would take a minute: after
 * COMPARE_TIME_CAP_S seconds the comparison stops at the end of the round under way, once at
 * least COMPARE_MIN_ROUNDS have run. The summary says which happened ("12 runs per variant,
 * interleaved, 12 rounds" or "…, stopped at the 40 s limit"). Streams run each frame once. */
#define COMPARE_ROUNDS      12
#define COMPARE_MIN_ROUNDS  5
#define COMPARE_TIME_CAP_S  40

struct _VitlensComparePage
{
  VitlensPage         parent_instance;

  VitlensCompareView *view;

  GCancellable       *cancellable;    /* all this page asked; cancelled in dispose */
  int                 threads;        /* the :threads the view's times were taken with */
  VitlensStreamPage  *stream_page;
  gboolean            stream;          /* the stream page plays: its frames are compared */
  gboolean            paused;
  char               *stream_name;
  GdkPaintable       *frame_paintable; /* the stream's latest frame */
  VitlensImage       *image;
  VitlensImage       *compared_image;  /* the image last compared (agreement counts it once) */
  guint               model_serial;    /* the model the view shows */
  guint               n_pending;       /* image comparisons under way */
  guint               compare_idle;    /* a comparison of the image, asked for */

  /* the image's comparison under way: one request per round */
  guint               run_serial;      /* grows with every comparison of the image started */
  int                 round;           /* rounds done */
  int                 rounds;          /* rounds wanted; 0: none under way */
  gint64              run_start;       /* g_get_monotonic_time() of its start */
};

G_DEFINE_FINAL_TYPE (VitlensComparePage, vitlens_compare_page, VITLENS_TYPE_PAGE)

enum {
  PROP_0,
  PROP_IMAGE,
  PROP_STREAM_PAGE,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  VitlensComparePage *self;
  VitlensImage       *image;        /* NULL: a stream's frame */
  guint               run_serial;   /* images: the comparison it is a round of */
  gboolean            new_input;
  gint64              capture_time; /* frames: g_get_monotonic_time() of the capture; else -1 */
} CompareData;

static void
compare_data_free (CompareData *data)
{
  g_object_unref (data->self);
  g_clear_object (&data->image);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CompareData, compare_data_free)

static void reset_statistics (VitlensComparePage *self);
static void update_source    (VitlensComparePage *self);
static void update_placeholder (VitlensComparePage *self);
static void compare_round    (VitlensComparePage *self);

static void compare_done (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data);

static const VitlensModelFacts *
get_model (VitlensComparePage *self)
{
  return vitlens_page_get_model (VITLENS_PAGE (self));
}

/* Image comparisons under way or asked for. */
static void
set_busy (VitlensComparePage *self,
          int                 delta)
{
  self->n_pending += delta;
  vitlens_page_set_busy (VITLENS_PAGE (self), self->n_pending > 0 || self->compare_idle != 0);
}

/* Compare @input (@runs rounds over every variant) with the preferences. */
static void
compare_async (VitlensComparePage *self,
               VitlensFrame       *input,
               int                 runs,
               CompareData        *data)
{
  vitlens_inference_compare_async (vitlens_page_get_inference (VITLENS_PAGE (self)), input, runs,
                                   vitlens_page_get_top_k (VITLENS_PAGE (self)),
                                   vitlens_page_get_threads (VITLENS_PAGE (self)),
                                   self->cancellable, compare_done, data);
}

/* The image's comparison under way stops (an error, or answers no longer wanted). */
static void
end_run (VitlensComparePage *self)
{
  self->rounds = 0;
  vitlens_compare_view_set_progress (self->view, 0, 0);
}

static void
compare_done (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(CompareData) data = user_data;
  VitlensComparePage *self = data->self;
  g_autoptr(VitlensComparison) comparison = NULL;
  g_autoptr(GError) error = NULL;
  const VitlensModelFacts *facts;
  /* a round of the image's comparison under way (not one a newer comparison replaced) */
  gboolean current = data->image != NULL && data->run_serial == self->run_serial && self->rounds > 0;

  comparison = vitlens_inference_compare_finish (VITLENS_INFERENCE (object), result, &error);
  if (data->image != NULL)
    set_busy (self, -1);

  /* Cancelled: the page is disposed, or a newer request took this one's place. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    {
      if (current)
        end_run (self);
      vitlens_page_error (VITLENS_PAGE (self), data->image ? VITLENS_ORIGIN_IMAGE : VITLENS_ORIGIN_STREAM,
                          error->message);
      return;
    }

  /* Answers no longer wanted: compare mode left, another image, another model, a pause. */
  facts = get_model (self);
  if (!vitlens_page_get_active (VITLENS_PAGE (self)) || facts == NULL || comparison->model_serial != facts->serial
      || (data->image != NULL && (data->image != self->image || self->stream))
      || (data->image == NULL && (!self->stream || self->paused)))
    {
      if (current)
        end_run (self);
      return;
    }

  vitlens_compare_view_add (self->view, comparison, data->new_input, data->capture_time);
  if (current)
    {
      self->round++;
      compare_round (self);
    }
}

/* The next round of the image's comparison, or its end: COMPARE_ROUNDS done, or the time
 * limit passed with COMPARE_MIN_ROUNDS done (the policy above). */
static void
compare_round (VitlensComparePage *self)
{
  gint64 elapsed = g_get_monotonic_time () - self->run_start;
  gboolean capped = self->round >= COMPARE_MIN_ROUNDS && elapsed >= COMPARE_TIME_CAP_S * G_USEC_PER_SEC;
  CompareData *data;

  if (self->round >= self->rounds || capped)
    {
      g_autofree char *note = NULL;

      if (capped && self->round < self->rounds)
        /* Translators: after "7 runs per variant, ": why a comparison stopped early */
        note = g_strdup_printf (_("interleaved, stopped at the %d s limit"), COMPARE_TIME_CAP_S);
      else
        /* Translators: after "12 runs per variant, ": the variants ran in turn, N rounds at a time */
        note = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "interleaved, %d round at a time",
                                             "interleaved, %d rounds at a time", self->rounds),
                                self->rounds);
      self->rounds = 0;
      vitlens_compare_view_set_progress (self->view, 0, 0);
      vitlens_compare_view_set_note (self->view, note);
      return;
    }

  data = g_new0 (CompareData, 1);
  data->self = g_object_ref (self);
  data->image = g_object_ref (self->image);
  data->run_serial = self->run_serial;
  data->new_input = self->round == 0 && self->compared_image != self->image;
  data->capture_time = -1;
  g_set_object (&self->compared_image, self->image);

  vitlens_compare_view_set_progress (self->view, self->round + 1, self->rounds);
  set_busy (self, +1);
  compare_async (self, vitlens_image_get_frame (self->image), 1, data);
}

/* The image, through every variant, COMPARE_ROUNDS rounds; @again: a re-run, which adds
 * times, not another input to agree on. A comparison still under way stops (newest wins). */
static void
compare_image (VitlensComparePage *self,
               gboolean            again)
{
  if (self->image == NULL || self->stream || !vitlens_page_get_active (VITLENS_PAGE (self)) || get_model (self) == NULL)
    return;

  if (again)
    g_set_object (&self->compared_image, self->image);
  self->run_serial++;
  self->round = 0;
  self->rounds = COMPARE_ROUNDS;
  self->run_start = g_get_monotonic_time ();
  vitlens_compare_view_set_note (self->view, NULL);
  compare_round (self);
}

static gboolean
compare_idle_cb (gpointer user_data)
{
  VitlensComparePage *self = user_data;

  self->compare_idle = 0;
  compare_image (self, FALSE);
  set_busy (self, 0);
  return G_SOURCE_REMOVE;
}

/* The image again, once whatever changed with it (model, variant, preferences) has changed. */
static void
schedule_compare (VitlensComparePage *self)
{
  if (self->compare_idle != 0 || self->image == NULL || self->stream || !vitlens_page_get_active (VITLENS_PAGE (self)))
    return;
  self->compare_idle = g_idle_add (compare_idle_cb, self);
  set_busy (self, 0);
}

/* A frame the stream page shows (main thread): the preview, and (when active, with a model)
 * through every variant once; a newer frame supersedes it while it waits (newest wins). No
 * frame: the stream stops or starts again, and so do the statistics. */
static void
on_stream_frame (VitlensStreamPage  *page,
                 VitlensFrame       *frame,
                 GdkPaintable       *paintable,
                 VitlensComparePage *self)
{
  CompareData *data;

  if (frame == NULL)
    reset_statistics (self);
  g_set_object (&self->frame_paintable, paintable);
  if (self->stream)
    vitlens_compare_view_set_preview (self->view, paintable);
  if (frame == NULL || !vitlens_page_get_active (VITLENS_PAGE (self)) || !self->stream || get_model (self) == NULL)
    return;

  data = g_new0 (CompareData, 1);
  data->self = g_object_ref (self);
  data->new_input = TRUE;
  data->capture_time = vitlens_frame_get_capture_time (frame);

  compare_async (self, frame, 1, data);
}

/* ---------------------------------------------------------------------------------------------
 * What is shown */

static void
update_actions (VitlensComparePage *self)
{
  GAction *again = g_action_map_lookup_action (vitlens_page_get_action_map (VITLENS_PAGE (self)), "compare-again");

  g_simple_action_set_enabled (G_SIMPLE_ACTION (again), vitlens_page_get_active (VITLENS_PAGE (self)) && !self->stream && self->image != NULL);
}

/* What the view says it compares on, and shows beside the chart. */
static void
update_source (VitlensComparePage *self)
{
  if (!self->stream)
    {
      vitlens_compare_view_set_source (self->view, self->image ? vitlens_image_get_name (self->image) : NULL,
                                       FALSE);
      vitlens_compare_view_set_preview (self->view,
                                        self->image ? GDK_PAINTABLE (vitlens_image_get_texture (self->image)) : NULL);
    }
  else
    {
      vitlens_compare_view_set_source (self->view, self->stream_name, TRUE);
      vitlens_compare_view_set_preview (self->view, self->frame_paintable);
    }
  update_actions (self);
  update_placeholder (self);
}

/* What the view says before the first answer: about the input there is, if any. */
static void
update_placeholder (VitlensComparePage *self)
{
  g_autofree char *text = NULL;

  if (vitlens_page_get_loading (VITLENS_PAGE (self)))
    text = g_strdup (_("Loading the model…"));
  else if (get_model (self) == NULL)
    text = g_strdup (_("No model is loaded. Open one from the model menu to compare its variants."));
  else if (self->stream && self->paused)
    text = g_strdup (_("The stream is paused. Play it to run every variant on its frames."));
  else if (self->stream)
    text = g_strdup (_("Every variant runs on the stream's next frame…"));
  else if (self->image != NULL)
    /* Translators: %s is the image's name */
    text = g_strdup_printf (_("Running every variant on “%s”…"), vitlens_image_get_name (self->image));
  else
    text = g_strdup (_("Open an image, or start the camera or a video, to run every variant on it."));
  vitlens_compare_view_set_placeholder (self->view, text);
}

static void
vitlens_compare_page_model_changed (VitlensPage *page)
{
  VitlensComparePage *self = VITLENS_COMPARE_PAGE (page);
  const VitlensModelFacts *facts = get_model (self);

  update_placeholder (self);
  if (facts != NULL && facts->serial == self->model_serial)
    return;
  self->model_serial = facts ? facts->serial : 0;
  g_clear_object (&self->compared_image);
  vitlens_compare_view_set_model (self->view, facts);
  schedule_compare (self);
}

/* Forget the statistics (another source, another stream, Reset). */
static void
reset_statistics (VitlensComparePage *self)
{
  g_clear_object (&self->compared_image);
  vitlens_compare_view_reset (self->view);
}

/* What the stream page plays, whether it plays, and whether it is paused. */
static void
on_stream_changed (VitlensComparePage *self,
                   GParamSpec         *pspec)
{
  VitlensSource source;
  VitlensCameraState state;
  gboolean stream;

  g_object_get (self->stream_page, "source", &source, "state", &state, NULL);
  stream = source != VITLENS_SOURCE_IMAGE;
  /* Another source: the statistics start again. */
  if (pspec != NULL && g_str_equal (pspec->name, "source"))
    reset_statistics (self);
  self->paused = state == VITLENS_CAMERA_STATE_PAUSED;
  g_free (self->stream_name);
  g_object_get (self->stream_page, "stream-name", &self->stream_name, NULL);
  self->stream = stream;
  update_source (self);
}

static void
set_stream_page (VitlensComparePage *self,
                 VitlensStreamPage  *page)
{
  if (self->stream_page != NULL)
    g_signal_handlers_disconnect_by_data (self->stream_page, self);
  g_set_object (&self->stream_page, page);
  if (page == NULL)
    return;
  g_signal_connect_object (page, "frame", G_CALLBACK (on_stream_frame), self, 0);
  g_signal_connect_object (page, "notify::source", G_CALLBACK (on_stream_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (page, "notify::state", G_CALLBACK (on_stream_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (page, "notify::stream-name", G_CALLBACK (on_stream_changed), self, G_CONNECT_SWAPPED);
  on_stream_changed (self, NULL);
}

VitlensCompareView *
vitlens_compare_page_get_view (VitlensComparePage *self)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_PAGE (self), NULL);

  return self->view;
}

/* ---------------------------------------------------------------------------------------------
 * Export */

/* Write the three files and say which, or say why not. */
static void
export_comparison (VitlensComparePage *self,
                   const char         *path)
{
  g_auto(GStrv) paths = vitlens_compare_view_export_paths (path);
  g_autoptr(GError) error = NULL;

  if (!vitlens_compare_view_export (self->view, path, &error))
    {
      /* Translators: %s says why, e.g. "Permission denied" */
      g_autofree char *message = g_strdup_printf (_("The comparison was not saved: %s"), error->message);

      vitlens_page_error (VITLENS_PAGE (self), VITLENS_ORIGIN_OTHER, message);
    }
  else
    {
      g_autofree char *csv = g_path_get_basename (paths[0]);
      g_autofree char *md = g_path_get_basename (paths[1]);
      g_autofree char *png = g_path_get_basename (paths[2]);
      g_autofree char *tooltip = g_strjoinv ("\n", paths);
      /* Translators: the confirmation after Export…; the CSV, Markdown and PNG files' names */
      g_autofree char *message = g_strdup_printf (_("Saved %s, %s and %s"), csv, md, png);

      vitlens_page_notice (VITLENS_PAGE (self), message, tooltip);
    }
}

static void
on_replace_response (GtkDialog          *dialog,
                     int                 response,
                     VitlensComparePage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    export_comparison (self, g_object_get_data (G_OBJECT (dialog), "vitlens-export-path"));
  gtk_window_destroy (GTK_WINDOW (dialog));
}

void
vitlens_compare_page_export (VitlensComparePage *self,
                             GFile              *file)
{
  g_autofree char *path = NULL;
  g_auto(GStrv) paths = NULL;
  g_autoptr(GPtrArray) existing = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *folder_name = NULL;
  g_autofree char *names = NULL;
  GtkRoot *root;
  GtkWidget *dialog;
  GtkWidget *replace;

  g_return_if_fail (VITLENS_IS_COMPARE_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));

  path = g_file_get_path (file);
  if (path == NULL)
    {
      vitlens_page_error (VITLENS_PAGE (self), VITLENS_ORIGIN_OTHER,
                          _("The comparison can only be saved in a local folder"));
      return;
    }

  /* The chooser asked about the name typed; BASE.csv, .md and .png are the page's to ask. */
  paths = vitlens_compare_view_export_paths (path);
  existing = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; paths[i] != NULL; i++)
    if (!g_str_equal (paths[i], path) && g_file_test (paths[i], G_FILE_TEST_EXISTS))
      g_ptr_array_add (existing, g_path_get_basename (paths[i]));
  if (existing->len == 0)
    {
      export_comparison (self, path);
      return;
    }

  g_ptr_array_add (existing, NULL);
  names = g_strjoinv ("\n", (char **)existing->pdata);
  folder = g_path_get_dirname (paths[0]);
  folder_name = g_filename_display_basename (folder);
  root = gtk_widget_get_root (GTK_WIDGET (self));
  dialog = gtk_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s",
                                   g_dngettext (GETTEXT_PACKAGE, "Replace the existing file?",
                                                "Replace the existing files?", existing->len - 1));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            /* Translators: %s is a folder's name; the files' names follow, one a line */
                                            g_dngettext (GETTEXT_PACKAGE, "This file in “%s” will be overwritten:\n%s",
                                                         "These files in “%s” will be overwritten:\n%s",
                                                         existing->len - 1),
                                            folder_name, names);
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
  replace = gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Replace"), GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (replace, "destructive-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  g_object_set_data_full (G_OBJECT (dialog), "vitlens-export-path", g_steal_pointer (&path), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_replace_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---------------------------------------------------------------------------------------------
 * Actions */

static void
action_compare_again (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  compare_image (VITLENS_COMPARE_PAGE (user_data), TRUE);
}

static void
action_compare_reset (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  reset_statistics (VITLENS_COMPARE_PAGE (user_data));
}

static void
action_compare_export (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  VitlensComparePage *self = VITLENS_COMPARE_PAGE (user_data);
  GtkFileChooserNative *native;
  const char *documents = g_get_user_special_dir (G_USER_DIRECTORY_DOCUMENTS);

  if (vitlens_compare_view_get_n_columns (self->view) == 0)
    {
      vitlens_page_error (VITLENS_PAGE (self), VITLENS_ORIGIN_OTHER,
                          _("There is nothing to export yet: no comparison has run"));
      return;
    }

  native = vitlens_page_file_chooser_new (VITLENS_PAGE (self), _("Export Comparison"),
                                          GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"));
  /* Translators: the file name proposed for an exported comparison; .csv, .md and .png are added */
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), _("vitlens-comparison"));
  if (documents != NULL)
    {
      g_autoptr(GFile) folder = g_file_new_for_path (documents);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (native), folder, NULL);
    }
  vitlens_page_run_file_chooser (VITLENS_PAGE (self), native, (VitlensPageFileFunc)vitlens_compare_page_export);
}

static const GActionEntry compare_entries[] = {
  { .name = "compare-again", .activate = action_compare_again },
  { .name = "compare-reset", .activate = action_compare_reset },
  { .name = "compare-export", .activate = action_compare_export },
};

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_compare_page_options_changed (VitlensPage *page,
                                      GParamSpec  *pspec)
{
  VitlensComparePage *self = VITLENS_COMPARE_PAGE (page);

  if (g_str_equal (pspec->name, "loading"))
    {
      update_placeholder (self);
      return;
    }
  if (g_str_equal (pspec->name, "active"))
    update_source (self);
  /* The attention in every column: run again for it (the inference computes it from now on). */
  if (g_str_equal (pspec->name, "show-attention"))
    {
      vitlens_compare_view_set_show_attention (self->view, vitlens_page_get_show_attention (page));
      if (vitlens_page_get_show_attention (page))
        schedule_compare (self);
      return;
    }
  /* Times taken with another number of threads are not comparable: start again. */
  if (self->threads != vitlens_page_get_threads (page))
    vitlens_compare_view_reset (self->view);
  self->threads = vitlens_page_get_threads (page);
  schedule_compare (self);
}

static void
vitlens_compare_page_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  VitlensComparePage *self = VITLENS_COMPARE_PAGE (object);

  switch (prop_id)
    {
    case PROP_IMAGE:
      g_set_object (&self->image, g_value_get_object (value));
      update_source (self);
      schedule_compare (self);
      break;

    case PROP_STREAM_PAGE:
      set_stream_page (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_compare_page_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  VitlensComparePage *self = VITLENS_COMPARE_PAGE (object);

  switch (prop_id)
    {
    case PROP_IMAGE: g_value_set_object (value, self->image); break;
    case PROP_STREAM_PAGE: g_value_set_object (value, self->stream_page); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_compare_page_dispose (GObject *object)
{
  VitlensComparePage *self = VITLENS_COMPARE_PAGE (object);

  /* Every answer still to come sees G_IO_ERROR_CANCELLED and leaves the view alone. */
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->compare_idle, g_source_remove);
  set_stream_page (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), VITLENS_TYPE_COMPARE_PAGE);
  g_clear_object (&self->image);
  g_clear_object (&self->compared_image);
  g_clear_object (&self->frame_paintable);

  G_OBJECT_CLASS (vitlens_compare_page_parent_class)->dispose (object);
}

static void
vitlens_compare_page_finalize (GObject *object)
{
  VitlensComparePage *self = VITLENS_COMPARE_PAGE (object);

  g_clear_object (&self->cancellable);
  g_free (self->stream_name);

  G_OBJECT_CLASS (vitlens_compare_page_parent_class)->finalize (object);
}

static void
vitlens_compare_page_class_init (VitlensComparePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  VitlensPageClass *page_class = VITLENS_PAGE_CLASS (klass);
  /* Notified on every set. */
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->set_property = vitlens_compare_page_set_property;
  object_class->get_property = vitlens_compare_page_get_property;
  object_class->dispose = vitlens_compare_page_dispose;
  object_class->finalize = vitlens_compare_page_finalize;
  page_class->model_changed = vitlens_compare_page_model_changed;
  page_class->options_changed = vitlens_compare_page_options_changed;

  properties[PROP_IMAGE] = g_param_spec_object ("image", NULL, NULL, VITLENS_TYPE_IMAGE, flags);
  properties[PROP_STREAM_PAGE] = g_param_spec_object ("stream-page", NULL, NULL, VITLENS_TYPE_STREAM_PAGE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (VITLENS_TYPE_COMPARE_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, APP_RESOURCE_PATH "/ui/vitlens-compare-page.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensComparePage, view);
}

static void
vitlens_compare_page_init (VitlensComparePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  g_action_map_add_action_entries (vitlens_page_get_action_map (VITLENS_PAGE (self)), compare_entries,
                                   G_N_ELEMENTS (compare_entries), self);
  update_source (self);
  update_placeholder (self);
}

GtkWidget *
vitlens_compare_page_new (void)
{
  return g_object_new (VITLENS_TYPE_COMPARE_PAGE, NULL);
}
