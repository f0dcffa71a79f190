/* vitlens-get-models-dialog.c — Get Models…: ImageNet models from the Hugging Face Hub
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * The catalogue is timm's DeiT models, the ones already in the hub cache marked "Downloaded"
 * (vitlens_hub_lookup(), no network) and loaded at once; any other ORG/NAME can be typed. A
 * download runs vitlens_hub_fetch_model() in a GTask thread; its progress comes back to the
 * main loop through idles. Cancel (or closing the dialog) cancels it, and the hub leaves no
 * snapshot of a cut download. Done, ::model-chosen gives the model (the model menu loads it) and the dialog
 * closes; an error stays in the dialog, in one line.
 */
#define G_LOG_DOMAIN "vitlens-get-models-dialog"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-get-models-dialog.h"
#include "vitlens-hub.h"

typedef struct
{
  const char *repo;
  const char *params;  /* shown as is: "5.7 M" */
  const char *top1;    /* ImageNet-1k top-1, "72.2" */
  guint64     bytes;   /* fp32 safetensors */
} CatalogueModel;

static const CatalogueModel catalogue[] = {
  { "timm/deit_tiny_patch16_224.fb_in1k", "5.7 M", "72.2", 22900000 },
  { "timm/deit_small_patch16_224.fb_in1k", "22 M", "79.9", 88200000 },
  { "timm/deit_base_patch16_224.fb_in1k", "86 M", "81.8", 346300000 },
  { "timm/deit_base_distilled_patch16_224.fb_in1k", "87 M", "83.4", 349200000 },
  { "timm/deit_base_patch16_384.fb_in1k", "86 M", "83.1", 347500000 },
};

struct _VitlensGetModelsDialog
{
  GtkWindow         parent_instance;

  GtkListBox       *catalogue_list;
  GtkEntry         *repo_entry;
  GtkButton        *download_button;
  GtkWidget        *progress_box;
  GtkProgressBar   *progress_bar;
  GtkLabel         *progress_label;
  GtkButton        *cancel_button;
  GtkLabel         *error_label;

  GtkLabel         *states[G_N_ELEMENTS (catalogue)];
  gboolean          disposed;
  VitlensHub       *hub;         /* used by the worker while busy, else by the main thread */
  GCancellable     *cancellable; /* the download under way, NULL when none */
  char             *repo;        /* its repository */
  gint64            file_start;  /* when the current file began, and its bytes then */
  guint64           file_start_bytes;
};

G_DEFINE_FINAL_TYPE (VitlensGetModelsDialog, vitlens_get_models_dialog, GTK_TYPE_WINDOW)

enum {
  MODEL_CHOSEN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_busy (VitlensGetModelsDialog *self,
          gboolean                busy)
{
  gtk_widget_set_visible (self->progress_box, busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->catalogue_list), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->repo_entry), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->download_button), !busy);
}

static void
show_error (VitlensGetModelsDialog *self,
            const char             *text,
            const char             *detail)
{
  gtk_label_set_label (self->error_label, text ? text : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->error_label), detail);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), text != NULL && *text != '\0');
}

/* One line for a hub error: what happened, in the person's language; the hub's own English
 * message (naming the repository and file) goes in the tooltip. */
static char *
error_line (const GError *error,
            const char   *repo)
{
  if (error->domain != VITLENS_HUB_ERROR)
    return g_strdup (error->message);
  switch ((VitlensHubError) error->code)
    {
    case VITLENS_HUB_ERROR_INVALID:
      /* Translators: %s is what was typed as a repository id */
      return g_strdup_printf (_("“%s” is not a repository id (ORGANIZATION/NAME)"), repo);
    case VITLENS_HUB_ERROR_REPO_NOT_FOUND:
      /* Translators: %s is a Hugging Face repository id */
      return g_strdup_printf (_("No repository %s on the Hub (or it is private)"), repo);
    case VITLENS_HUB_ERROR_REVISION_NOT_FOUND:
    case VITLENS_HUB_ERROR_ENTRY_NOT_FOUND:
      /* Translators: %s is a Hugging Face repository id */
      return g_strdup_printf (_("%s has no model.safetensors"), repo);
    case VITLENS_HUB_ERROR_UNAUTHORIZED:
      /* Translators: %s is a Hugging Face repository id; HF_TOKEN is an environment variable */
      return g_strdup_printf (_("%s is gated or private: set HF_TOKEN to a token with access"), repo);
    case VITLENS_HUB_ERROR_NETWORK:
      return g_strdup (_("No connection to the Hugging Face Hub"));
    case VITLENS_HUB_ERROR_NOT_CACHED:
      /* Translators: %s is a Hugging Face repository id; HF_HUB_OFFLINE is an environment variable */
      return g_strdup_printf (_("Offline (HF_HUB_OFFLINE), and %s is not downloaded"), repo);
    case VITLENS_HUB_ERROR_CHECKSUM:
    case VITLENS_HUB_ERROR_PROTOCOL:
    case VITLENS_HUB_ERROR_CACHE:
    default:
      return g_strdup (error->message);
    }
}

/* The catalogue rows' states: "Downloaded" for what the cache holds, else the size. */
static void
update_states (VitlensGetModelsDialog *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (catalogue); i++)
    {
      g_autofree char *path = vitlens_hub_lookup (self->hub, catalogue[i].repo, NULL, "model.safetensors", NULL);
      g_autofree char *size = g_format_size (catalogue[i].bytes);

      gtk_label_set_label (self->states[i], path ? _("Downloaded") : size);
      gtk_widget_set_css_classes (GTK_WIDGET (self->states[i]),
                                  path ? (const char *[]) { "success", NULL } : (const char *[]) { "dim-label", NULL });
    }
}

/* The snapshot's model.safetensors is there: say so (the model menu loads it), and close. */
static void
load_and_close (VitlensGetModelsDialog *self,
                const char             *model_path)
{
  g_autoptr(GFile) file = g_file_new_for_path (model_path);

  g_signal_emit (self, signals[MODEL_CHOSEN], 0, file);
  gtk_window_close (GTK_WINDOW (self));
}

/* ---------------------------------------------------------------------------------------------
 * The download */

typedef struct
{
  VitlensGetModelsDialog *self;
  char                   *file;
  VitlensHubFileState     state;
  guint64                 received;
  guint64                 total;
} Progress;

static void
progress_free (Progress *p)
{
  g_object_unref (p->self);
  g_free (p->file);
  g_free (p);
}

static gboolean
show_progress (gpointer data)
{
  Progress *p = data;
  VitlensGetModelsDialog *self = p->self;
  gint64 now = g_get_monotonic_time ();
  g_autofree char *got = g_format_size (p->received);
  g_autofree char *total = g_format_size (p->total);
  g_autofree char *rate = NULL;
  g_autofree char *text = NULL;
  double seconds;

  if (self->cancellable == NULL || self->disposed) /* over, or disposed */
    return G_SOURCE_REMOVE;
  if (p->state == VITLENS_HUB_FILE_STARTED)
    {
      self->file_start = now;
      self->file_start_bytes = p->received;
    }
  if (p->state != VITLENS_HUB_FILE_STARTED && p->state != VITLENS_HUB_FILE_RECEIVING &&
      p->state != VITLENS_HUB_FILE_DONE)
    return G_SOURCE_REMOVE;

  gtk_progress_bar_set_fraction (self->progress_bar,
                                 p->state == VITLENS_HUB_FILE_DONE ? 1.0
                                 : p->total > 0 ? (double) p->received / (double) p->total : 0.0);
  seconds = (double) (now - self->file_start) / G_USEC_PER_SEC;
  if (seconds > 0.2 && p->received > self->file_start_bytes)
    rate = g_format_size ((guint64) ((double) (p->received - self->file_start_bytes) / seconds));
  if (rate != NULL)
    /* Translators: a download's progress: file name, bytes so far, its size, bytes per second */
    text = g_strdup_printf (_("%s: %s of %s (%s/s)"), p->file, got, total, rate);
  else
    /* Translators: a download's progress: file name, bytes so far, its size */
    text = g_strdup_printf (_("%s: %s of %s"), p->file, got, total);
  gtk_label_set_label (self->progress_label, text);
  return G_SOURCE_REMOVE;
}

/* On the worker: hand a copy to the main loop. */
static void
on_progress (const VitlensHubProgress *progress,
             gpointer                  user_data)
{
  Progress *p = g_new0 (Progress, 1);

  p->self = g_object_ref (user_data);
  p->file = g_strdup (progress->file);
  p->state = progress->state;
  p->received = progress->received;
  p->total = progress->total;
  g_idle_add_full (G_PRIORITY_DEFAULT, show_progress, p, (GDestroyNotify) progress_free);
}

static void
fetch_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  VitlensGetModelsDialog *self = source;
  GError *error = NULL;
  char *dir = vitlens_hub_fetch_model (self->hub, task_data, NULL, on_progress, self, cancellable, &error);

  if (dir == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, dir, g_free);
}

static void
fetch_done (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  VitlensGetModelsDialog *self = VITLENS_GET_MODELS_DIALOG (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_task_propagate_pointer (G_TASK (result), &error);
  g_autofree char *repo = g_steal_pointer (&self->repo);

  g_clear_object (&self->cancellable);
  if (self->disposed) /* disposed meanwhile */
    return;
  set_busy (self, FALSE);
  update_states (self);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      show_error (self, _("Download cancelled"), NULL);
      return;
    }
  if (error != NULL)
    {
      g_autofree char *line = error_line (error, repo);
      show_error (self, line, error->message);
      return;
    }
  {
    g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
    gtk_progress_bar_set_fraction (self->progress_bar, 1.0);
    load_and_close (self, path);
  }
}

static void
start (VitlensGetModelsDialog *self,
       const char             *text)
{
  g_autofree char *repo = g_strstrip (g_strdup (text));
  g_autofree char *cached = NULL;
  g_autoptr(GTask) task = NULL;

  if (self->cancellable != NULL)
    return;
  show_error (self, NULL, NULL);
  if (!vitlens_hub_is_repo_id (repo))
    {
      g_autoptr(GError) error = g_error_new_literal (VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_INVALID, "");
      g_autofree char *line = error_line (error, repo);
      show_error (self, line, NULL);
      return;
    }
  /* in the cache already: loadable at once, without the network */
  cached = vitlens_hub_lookup (self->hub, repo, NULL, "model.safetensors", NULL);
  if (cached != NULL)
    {
      load_and_close (self, cached);
      return;
    }

  self->cancellable = g_cancellable_new ();
  self->repo = g_strdup (repo);
  self->file_start = g_get_monotonic_time ();
  self->file_start_bytes = 0;
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
  {
    /* Translators: %s is a Hugging Face repository id */
    g_autofree char *asking = g_strdup_printf (_("Asking the Hub for %s…"), repo);
    gtk_label_set_label (self->progress_label, asking);
  }
  set_busy (self, TRUE);

  task = g_task_new (self, self->cancellable, fetch_done, NULL);
  g_task_set_source_tag (task, start);
  g_task_set_task_data (task, g_steal_pointer (&repo), g_free);
  g_task_run_in_thread (task, fetch_thread);
}

/* ---------------------------------------------------------------------------------------------
 * Signals */

static void
on_row_activated (GtkListBox             *list,
                  GtkListBoxRow          *row,
                  VitlensGetModelsDialog *self)
{
  int i = gtk_list_box_row_get_index (row);

  if (i >= 0 && i < (int) G_N_ELEMENTS (catalogue))
    start (self, catalogue[i].repo);
}

static void
on_download (VitlensGetModelsDialog *self)
{
  start (self, gtk_editable_get_text (GTK_EDITABLE (self->repo_entry)));
}

static void
on_cancel (VitlensGetModelsDialog *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static void
add_catalogue_rows (VitlensGetModelsDialog *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (catalogue); i++)
    {
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
      GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      GtkWidget *name = gtk_label_new (catalogue[i].repo);
      g_autofree char *facts_text = NULL;
      GtkWidget *facts;

      /* Translators: a model's facts: parameters ("5.7 M") and ImageNet top-1 accuracy ("72.2") */
      facts_text = g_strdup_printf (_("%s parameters · %s%% ImageNet top-1"), catalogue[i].params, catalogue[i].top1);
      facts = gtk_label_new (facts_text);
      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
      gtk_label_set_xalign (GTK_LABEL (facts), 0);
      gtk_widget_add_css_class (facts, "dim-label");
      gtk_widget_add_css_class (facts, "caption");
      gtk_widget_set_hexpand (text, TRUE);
      gtk_box_append (GTK_BOX (text), name);
      gtk_box_append (GTK_BOX (text), facts);
      self->states[i] = GTK_LABEL (gtk_label_new (NULL));
      gtk_widget_set_valign (GTK_WIDGET (self->states[i]), GTK_ALIGN_CENTER);
      gtk_box_append (GTK_BOX (box), text);
      gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->states[i]));
      gtk_widget_add_css_class (box, "get-models-row");
      gtk_list_box_append (self->catalogue_list, box);
    }
}

/* ---------------------------------------------------------------------------------------------
 * For tests */

void
vitlens_get_models_dialog_download (VitlensGetModelsDialog *self,
                                    const char             *repo)
{
  g_return_if_fail (VITLENS_IS_GET_MODELS_DIALOG (self));

  gtk_editable_set_text (GTK_EDITABLE (self->repo_entry), repo);
  g_signal_emit_by_name (self->download_button, "clicked");
}

void
vitlens_get_models_dialog_cancel (VitlensGetModelsDialog *self)
{
  g_return_if_fail (VITLENS_IS_GET_MODELS_DIALOG (self));

  g_signal_emit_by_name (self->cancel_button, "clicked");
}

gboolean
vitlens_get_models_dialog_get_busy (VitlensGetModelsDialog *self)
{
  g_return_val_if_fail (VITLENS_IS_GET_MODELS_DIALOG (self), FALSE);

  return self->cancellable != NULL;
}

double
vitlens_get_models_dialog_get_fraction (VitlensGetModelsDialog *self)
{
  g_return_val_if_fail (VITLENS_IS_GET_MODELS_DIALOG (self), 0.0);

  return gtk_progress_bar_get_fraction (self->progress_bar);
}

const char *
vitlens_get_models_dialog_get_progress_text (VitlensGetModelsDialog *self)
{
  g_return_val_if_fail (VITLENS_IS_GET_MODELS_DIALOG (self), NULL);

  return gtk_label_get_label (self->progress_label);
}

const char *
vitlens_get_models_dialog_get_error (VitlensGetModelsDialog *self)
{
  g_return_val_if_fail (VITLENS_IS_GET_MODELS_DIALOG (self), NULL);

  return gtk_label_get_label (self->error_label);
}

guint
vitlens_get_models_dialog_get_n_models (VitlensGetModelsDialog *self)
{
  return G_N_ELEMENTS (catalogue);
}

const char *
vitlens_get_models_dialog_get_model_state (VitlensGetModelsDialog *self,
                                           guint                   i)
{
  g_return_val_if_fail (VITLENS_IS_GET_MODELS_DIALOG (self), NULL);
  g_return_val_if_fail (i < G_N_ELEMENTS (catalogue), NULL);

  return gtk_label_get_label (self->states[i]);
}

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_get_models_dialog_dispose (GObject *object)
{
  VitlensGetModelsDialog *self = VITLENS_GET_MODELS_DIALOG (object);

  /* a download under way is cancelled; its GTask holds the dialog (and the hub) until it ends */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  self->disposed = TRUE;
  gtk_widget_dispose_template (GTK_WIDGET (self), VITLENS_TYPE_GET_MODELS_DIALOG);

  G_OBJECT_CLASS (vitlens_get_models_dialog_parent_class)->dispose (object);
}

static void
vitlens_get_models_dialog_finalize (GObject *object)
{
  VitlensGetModelsDialog *self = VITLENS_GET_MODELS_DIALOG (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->hub, vitlens_hub_free);
  g_free (self->repo);

  G_OBJECT_CLASS (vitlens_get_models_dialog_parent_class)->finalize (object);
}

static void
vitlens_get_models_dialog_class_init (VitlensGetModelsDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = vitlens_get_models_dialog_dispose;
  object_class->finalize = vitlens_get_models_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, APP_RESOURCE_PATH "/ui/vitlens-get-models-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensGetModelsDialog, catalogue_list);
  gtk_widget_class_bind_template_child (widget_class, VitlensGetModelsDialog, repo_entry);
  gtk_widget_class_bind_template_child (widget_class, VitlensGetModelsDialog, download_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensGetModelsDialog, progress_box);
  gtk_widget_class_bind_template_child (widget_class, VitlensGetModelsDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, VitlensGetModelsDialog, progress_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensGetModelsDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, VitlensGetModelsDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_row_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_download);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);

  /* A model is in the cache, downloaded or found there: its model.safetensors (a GFile). */
  signals[MODEL_CHOSEN] = g_signal_new ("model-chosen", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_FILE);
}

static void
vitlens_get_models_dialog_init (VitlensGetModelsDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->hub = vitlens_hub_new_from_env ();
  add_catalogue_rows (self);
  update_states (self);
  set_busy (self, FALSE);
  show_error (self, NULL, NULL);
}

GtkWidget *
vitlens_get_models_dialog_new (GtkWindow *parent)
{
  return g_object_new (VITLENS_TYPE_GET_MODELS_DIALOG, "transient-for", parent, "modal", TRUE, NULL);
}
