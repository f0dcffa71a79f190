/* vitlens-classifier.c — the engine's model and sessions on one worker thread
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Threading: the model, the sessions and the run statistics belong to ONE worker thread,
 * started in init and joined in dispose. Requests reach it through two slots under a mutex,
 * one for a model load and one for a classification; a newer request replaces the one still
 * waiting in its slot (newest wins: a person flicking through images or variants only cares
 * about the last), and loads go before classifications. Answers go back to the main thread
 * with g_idle_add(): the reply carries the GTask, whose strong ref on this object keeps it
 * alive until the idle has run, and every GTask call (return, unref) happens on the main
 * thread, so the last unref can never land on the worker.
 *
 * Compare mode has a third slot, after the other two: one input through every variant, the
 * variants in rotating order (as `vitlens-cli bench` does), so that machine noise falls on all
 * of them alike. Its extra files (the .vitq whose size the int8 column shows, the .vitl the
 * lite column runs from) are written once per model, on this thread too.
 */
#define G_LOG_DOMAIN "vitlens-classifier"

#include "vitlens-config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "vitlens-classifier.h"
#include "vitlens-stats.h"
#include "vitlens-data.h"
#include "vitlens-error.h"

#define MEDIAN_WINDOW 64

struct _VitlensClassifier
{
  GObject            parent_instance;

  /* main thread */
  VitlensModelFacts *facts;

  /* shared with the worker, under @lock */
  GMutex             lock;
  GCond              cond;
  gboolean           quit;
  GTask             *pending_load;
  GTask             *pending_classify;
  GTask             *pending_compare;
  GThread           *thread;

  /* worker thread only */
  vit_model         *model;
  guint              model_serial;
  vit_session       *sessions[VIT_VARIANT_COUNT];
  int                session_threads[VIT_VARIANT_COUNT]; /* the threads asked for */
  double             forward_ms[VIT_VARIANT_COUNT][MEDIAN_WINDOW];
  int                n_runs[VIT_VARIANT_COUNT];

  /* worker thread only: compare mode */
  guint              compare_serial;   /* the model_serial its files were made for; 0: none yet */
  gint64             vitq_bytes;       /* the int8 file's size; -1 unknown */
  gint64             vitl_bytes;       /* the lite file's size; -1 unknown */
  char              *lite_path;        /* the temporary .vitl, removed with the model */
  vit_model         *lite_model;       /* loaded from it (mmap) */
  vit_session       *lite_session;
  int                lite_threads;
  gboolean           warm[VIT_VARIANT_COUNT + 1]; /* the session has run once (index COUNT: lite) */
  guint              rotation;         /* where the next round's order starts */
};

G_DEFINE_FINAL_TYPE (VitlensClassifier, vitlens_classifier, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_HAS_MODEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  char *path; /* NULL: the embedded model */
} LoadRequest;

typedef struct
{
  VitlensImage *image;
  vit_variant   variant;
  int           top_k;
  int           threads;
} ClassifyRequest;

typedef struct
{
  const vit_image *pixels;
  gpointer         owner;
  GDestroyNotify   owner_free;
  int              runs;
  int              top_k;
  int              threads;
} CompareRequest;

typedef struct
{
  GTask             *task;       /* the worker's ref, handed over */
  VitlensModelFacts *facts;      /* a load that worked */
  VitlensPrediction *prediction; /* a classification that worked */
  VitlensComparison *comparison; /* a comparison that worked */
  GError            *error;
} Reply;

/* ---------------------------------------------------------------------------------------------
 * Plain data */

static void
model_facts_free (VitlensModelFacts *facts)
{
  if (facts == NULL)
    return;
  g_free (facts->display_name);
  g_free (facts->architecture);
  g_free (facts->path);
  g_free (facts);
}

void
vitlens_prediction_free (VitlensPrediction *prediction)
{
  if (prediction == NULL)
    return;
  for (int i = 0; i < VIT_TOPK_MAX; i++)
    g_free (prediction->label[i]);
  g_free (prediction->kernel);
  g_clear_object (&prediction->image);
  g_free (prediction);
}

void
vitlens_comparison_free (VitlensComparison *comparison)
{
  if (comparison == NULL)
    return;
  for (int c = 0; c < comparison->n_columns; c++)
    {
      VitlensCompareColumn *column = &comparison->columns[c];

      g_free (column->name);
      g_free (column->kernel);
      for (int i = 0; i < VIT_TOPK_MAX; i++)
        g_free (column->label[i]);
    }
  g_free (comparison);
}

static void
compare_request_free (gpointer data)
{
  CompareRequest *req = data;

  if (req->owner_free != NULL)
    req->owner_free (req->owner);
  g_free (req);
}

static void
load_request_free (gpointer data)
{
  LoadRequest *req = data;

  g_free (req->path);
  g_free (req);
}

static void
classify_request_free (gpointer data)
{
  ClassifyRequest *req = data;

  g_clear_object (&req->image);
  g_free (req);
}

/* ---------------------------------------------------------------------------------------------
 * Replies: worker → main thread */

static gboolean
deliver_reply (gpointer data)
{
  Reply *reply = data;
  VitlensClassifier *self = g_task_get_source_object (reply->task);

  if (reply->error != NULL)
    {
      g_task_return_error (reply->task, reply->error);
    }
  else if (reply->facts != NULL)
    {
      gboolean had_model = self->facts != NULL;

      model_facts_free (self->facts);
      self->facts = reply->facts;
      if (!had_model)
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_MODEL]);
      g_task_return_boolean (reply->task, TRUE);
    }
  else if (reply->comparison != NULL)
    {
      g_task_return_pointer (reply->task, reply->comparison,
                             (GDestroyNotify)vitlens_comparison_free);
    }
  else
    {
      g_task_return_pointer (reply->task, reply->prediction,
                             (GDestroyNotify)vitlens_prediction_free);
    }

  g_object_unref (reply->task);
  g_free (reply);

  return G_SOURCE_REMOVE;
}

static void
post_reply (Reply *reply)
{
  g_idle_add_full (G_PRIORITY_DEFAULT, deliver_reply, reply, NULL);
}

static void
post_cancelled (GTask      *task,
                const char *why)
{
  Reply *reply = g_new0 (Reply, 1);

  reply->task = task;
  reply->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, why);
  post_reply (reply);
}

/* ---------------------------------------------------------------------------------------------
 * The worker */

static void
worker_free_sessions (VitlensClassifier *self)
{
  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    {
      g_clear_pointer (&self->sessions[v], vit_session_free);
      self->n_runs[v] = 0;
    }
  g_clear_pointer (&self->lite_session, vit_session_free);
  for (int v = 0; v <= VIT_VARIANT_COUNT; v++)
    self->warm[v] = FALSE;
}

static void
worker_free_model (VitlensClassifier *self)
{
  worker_free_sessions (self);
  g_clear_pointer (&self->model, vit_model_free);
  g_clear_pointer (&self->lite_model, vit_model_free);
  if (self->lite_path != NULL)
    g_unlink (self->lite_path);
  g_clear_pointer (&self->lite_path, g_free);
  self->compare_serial = 0;
}

static char *
model_display_name (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);

  /* timm's layout names every model "model.safetensors": its folder says which one it is. */
  if (g_str_equal (base, "model.safetensors"))
    {
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *dir_base = g_path_get_basename (dir);

      if (!g_str_equal (dir_base, ".") && !g_str_equal (dir_base, G_DIR_SEPARATOR_S))
        return g_steal_pointer (&dir_base);
    }

  return g_steal_pointer (&base);
}

static VitlensModelFacts *
model_facts_new (const vit_model *model,
                 const char      *path,
                 guint            serial)
{
  const vit_model_info *info = vit_model_get_info (model);
  VitlensModelFacts *facts = g_new0 (VitlensModelFacts, 1);

  facts->path = g_strdup (path);
  facts->display_name = path ? model_display_name (path) : g_strdup (vitlens_data_model_name ());
  facts->architecture = g_strdup (info->name);
  facts->format = info->format;
  facts->num_params = info->num_params;
  facts->file_bytes = info->file_bytes;
  facts->img_size = info->img_size;
  facts->patch_size = info->patch_size;
  facts->in_chans = info->in_chans;
  facts->embed_dim = info->embed_dim;
  facts->depth = info->depth;
  facts->num_heads = info->num_heads;
  facts->num_classes = info->num_classes;
  facts->num_labels = vit_model_num_labels (model);
  facts->distilled = info->distilled != 0;
  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    facts->supports[v] = vit_model_supports (model, (vit_variant)v) != 0;
  facts->serial = serial;

  return facts;
}

static void
worker_load (VitlensClassifier *self,
             LoadRequest       *req,
             Reply             *reply)
{
  vit_error err = { 0 };
  vit_model *model = NULL;
  size_t size = 0;

  if (req->path == NULL && vitlens_data_model (&size) == NULL)
    {
      g_set_error_literal (&reply->error, VITLENS_ERROR, VITLENS_ERROR_NO_MODEL,
                           _("This build has no built-in model"));
      return;
    }
  if (vitlens_data_load_model (req->path, &model, &err) != VIT_OK)
    {
      vitlens_set_error_from_vit (&reply->error, &err);
      return;
    }

  worker_free_model (self);
  self->model = model;
  self->model_serial++;
  reply->facts = model_facts_new (model, req->path, self->model_serial);
}

static double
worker_record_forward (VitlensClassifier *self,
                       vit_variant        variant,
                       double             forward_ms,
                       int               *n_out)
{
  double sorted[MEDIAN_WINDOW];
  int n;

  self->forward_ms[variant][self->n_runs[variant] % MEDIAN_WINDOW] = forward_ms;
  self->n_runs[variant]++;

  n = MIN (self->n_runs[variant], MEDIAN_WINDOW);
  *n_out = n;

  return vitlens_stats_median (self->forward_ms[variant], n, sorted);
}

/* One session per variant (and one on the lite model), made on first use (that is when its
 * buffers are allocated) and made again when the number of threads asked for changes. */
static vit_session *
worker_session (VitlensClassifier *self,
                vit_variant        variant,
                gboolean           lite,
                int                threads,
                vit_error         *err)
{
  vit_session **slot = lite ? &self->lite_session : &self->sessions[variant];
  int *slot_threads = lite ? &self->lite_threads : &self->session_threads[variant];
  int warm = lite ? VIT_VARIANT_COUNT : (int)variant;

  if (*slot != NULL && *slot_threads != threads)
    {
      g_clear_pointer (slot, vit_session_free);
      if (!lite)
        self->n_runs[variant] = 0;
    }
  if (*slot == NULL)
    {
      vit_session_opts opts = vit_session_opts_default ();

      opts.variant = variant;
      opts.threads = threads;
      if (vit_session_new (lite ? self->lite_model : self->model, &opts, slot, err) != VIT_OK)
        return NULL;
      *slot_threads = threads;
      self->warm[warm] = FALSE;
    }

  return *slot;
}

static void
worker_classify (VitlensClassifier *self,
                 ClassifyRequest   *req,
                 Reply             *reply)
{
  vit_error err = { 0 };
  vit_prediction pred = { 0 };
  vit_session *session;
  VitlensPrediction *out;
  int k;

  if (self->model == NULL)
    {
      g_set_error_literal (&reply->error, VITLENS_ERROR, VITLENS_ERROR_NO_MODEL,
                           _("No model is loaded"));
      return;
    }
  if (!vit_model_supports (self->model, req->variant))
    {
      g_set_error (&reply->error, VITLENS_ERROR, VITLENS_ERROR_UNSUPPORTED,
                   /* Translators: %s is a model variant: fp32, int8 or optimized */
                   _("The %s variant is not available for this model"),
                   vit_variant_name (req->variant));
      return;
    }

  session = worker_session (self, req->variant, FALSE, req->threads, &err);
  if (session == NULL)
    {
      vitlens_set_error_from_vit (&reply->error, &err);
      return;
    }

  k = CLAMP (req->top_k, 1, VIT_TOPK_MAX);
  k = MIN (k, vit_model_get_info (self->model)->num_classes);
  if (vit_session_classify (session, vitlens_image_get_pixels (req->image), k, &pred, &err) != VIT_OK)
    {
      vitlens_set_error_from_vit (&reply->error, &err);
      return;
    }

  out = g_new0 (VitlensPrediction, 1);
  out->image = g_object_ref (req->image);
  out->variant = req->variant;
  out->k = pred.k;
  for (int i = 0; i < pred.k; i++)
    {
      out->index[i] = pred.index[i];
      out->prob[i] = pred.prob[i];
      out->label[i] = g_strdup (vit_model_label (self->model, pred.index[i]));
    }
  out->timing = pred.timing;
  out->timing.decode_ms = vitlens_image_get_decode_ms (req->image);
  out->median_forward_ms = worker_record_forward (self, req->variant, pred.timing.forward_ms,
                                                  &out->median_runs);
  out->threads = vit_session_threads (session);
  out->kernel = g_strdup (vit_session_kernel (session));
  out->model_serial = self->model_serial;

  reply->prediction = out;
}

/* The size of @model written by @export to a temporary file; the file is kept (its path in
 * @keep_path) when @keep_path is given, else removed. -1 when it cannot be written. */
static gint64
worker_export_size (const vit_model *model,
                    vit_status     (*export) (const vit_model *, int, const char *, vit_error *),
                    const char      *suffix,
                    char           **keep_path)
{
  g_autofree char *template = g_strdup_printf ("vitlens-compare-XXXXXX%s", suffix);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  vit_error err = { 0 };
  GStatBuf st;
  gint64 size = -1;
  int fd;

  fd = g_file_open_tmp (template, &path, &error);
  if (fd < 0)
    {
      g_debug ("Compare: no temporary file: %s", error->message);
      return -1;
    }
  g_close (fd, NULL);

  if (export (model, 0, path, &err) == VIT_OK && g_stat (path, &st) == 0)
    size = st.st_size;
  else
    g_debug ("Compare: cannot write %s: %s", suffix, err.msg);

  if (size >= 0 && keep_path != NULL)
    *keep_path = g_steal_pointer (&path);
  else
    g_unlink (path);

  return size;
}

/* Once per model: the int8 file's size, and the lite file to run the lite column from. */
static void
worker_prepare_compare (VitlensClassifier *self)
{
  const vit_model_info *info = vit_model_get_info (self->model);

  if (self->compare_serial == self->model_serial)
    return;
  self->compare_serial = self->model_serial;
  self->vitq_bytes = self->vitl_bytes = -1;

  if (info->format == VIT_FORMAT_VITQ)
    self->vitq_bytes = info->file_bytes;
  else if (vit_model_supports (self->model, VIT_VARIANT_INT8))
    self->vitq_bytes = worker_export_size (self->model, vit_model_export_vitq, ".vitq", NULL);

  if (info->format == VIT_FORMAT_VITL)
    self->vitl_bytes = info->file_bytes;
  else if (vit_model_supports (self->model, VIT_VARIANT_OPTIMIZED))
    {
      self->vitl_bytes = worker_export_size (self->model, vit_model_export_vitl, ".vitl",
                                             &self->lite_path);
      if (self->lite_path != NULL)
        {
          vit_error err = { 0 };

          if (vit_model_load (self->lite_path, &self->lite_model, &err) != VIT_OK)
            g_debug ("Compare: cannot load the lite file: %s", err.msg);
        }
    }
}

static gboolean
worker_superseded (VitlensClassifier *self)
{
  gboolean newer;

  g_mutex_lock (&self->lock);
  newer = self->pending_load != NULL || self->pending_compare != NULL || self->quit;
  g_mutex_unlock (&self->lock);

  return newer;
}

static void
worker_compare (VitlensClassifier *self,
                CompareRequest    *req,
                GCancellable      *cancellable,
                Reply             *reply)
{
  const vit_model_info *info;
  vit_error err = { 0 };
  vit_session *sessions[VITLENS_COMPARE_MAX_COLUMNS] = { NULL };
  g_autofree float *input = NULL;
  g_autofree float *logits = NULL;
  g_autofree float *probs = NULL;
  g_autoptr(VitlensComparison) out = NULL;
  int n = 0, k, runs;
  double t0;

  if (self->model == NULL)
    {
      g_set_error_literal (&reply->error, VITLENS_ERROR, VITLENS_ERROR_NO_MODEL,
                           _("No model is loaded"));
      return;
    }
  info = vit_model_get_info (self->model);
  worker_prepare_compare (self);

  /* The columns: every variant the model has, fp32 first, then lite. */
  out = g_new0 (VitlensComparison, 1);
  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    if (vit_model_supports (self->model, v))
      {
        VitlensCompareColumn *column = &out->columns[n++];

        column->variant = v;
        column->name = g_strdup (vit_variant_name (v));
        column->file_bytes = v == VIT_VARIANT_INT8 ? self->vitq_bytes
                           : v == VIT_VARIANT_OPTIMIZED ? self->vitl_bytes
                           : info->file_bytes;
      }
  if (self->lite_model != NULL && n < VITLENS_COMPARE_MAX_COLUMNS)
    {
      VitlensCompareColumn *column = &out->columns[n++];

      column->variant = VIT_VARIANT_OPTIMIZED;
      column->lite = TRUE;
      column->name = g_strdup ("lite");
      column->file_bytes = self->vitl_bytes;
    }
  out->n_columns = n;
  out->reference = 0; /* fp32 when the model has it: it comes first */
  out->model_serial = self->model_serial;

  for (int c = 0; c < n; c++)
    {
      VitlensCompareColumn *column = &out->columns[c];

      sessions[c] = worker_session (self, column->variant, column->lite, req->threads, &err);
      if (sessions[c] == NULL)
        {
          vitlens_set_error_from_vit (&reply->error, &err);
          return;
        }
      column->threads = vit_session_threads (sessions[c]);
      column->kernel = g_strdup (vit_session_kernel (sessions[c]));
    }

  /* The input, once: every variant sees the same floats. */
  input = g_new (float, (gsize)info->in_chans * info->img_size * info->img_size);
  t0 = vit_now_ms ();
  if (vit_preprocess (req->pixels, &info->pre, input, &err) != VIT_OK)
    {
      vitlens_set_error_from_vit (&reply->error, &err);
      return;
    }
  out->preprocess_ms = vit_now_ms () - t0;

  /* A session's first run allocates and touches its buffers: not a fair time. */
  logits = g_new (float, (gsize)info->num_classes * n);
  for (int c = 0; c < n; c++)
    {
      int warm = out->columns[c].lite ? VIT_VARIANT_COUNT : (int)out->columns[c].variant;

      if (!self->warm[warm])
        {
          if (vit_session_run (sessions[c], input, logits, &err) != VIT_OK)
            {
              vitlens_set_error_from_vit (&reply->error, &err);
              return;
            }
          self->warm[warm] = TRUE;
        }
    }

  /* Rounds over every variant, each round starting one variant further on. */
  runs = CLAMP (req->runs, 1, VITLENS_COMPARE_MAX_RUNS);
  for (int r = 0; r < runs; r++)
    {
      if (r > 0 && (g_cancellable_is_cancelled (cancellable) || worker_superseded (self)))
        {
          g_set_error_literal (&reply->error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "Superseded by a newer request");
          return;
        }
      for (int j = 0; j < n; j++)
        {
          int c = (int)((j + self->rotation) % n);
          VitlensCompareColumn *column = &out->columns[c];
          double start = vit_now_ms ();

          if (vit_session_run (sessions[c], input, logits + (gsize)c * info->num_classes, &err) != VIT_OK)
            {
              vitlens_set_error_from_vit (&reply->error, &err);
              return;
            }
          column->forward_ms[column->n_runs++] = vit_now_ms () - start;
          if (r == 0)
            column->done_time = g_get_monotonic_time ();
        }
      self->rotation++;
    }

  /* What each variant says. */
  probs = g_new (float, info->num_classes);
  k = MIN (CLAMP (req->top_k, 1, VIT_TOPK_MAX), info->num_classes);
  for (int c = 0; c < n; c++)
    {
      VitlensCompareColumn *column = &out->columns[c];

      vit_softmax (logits + (gsize)c * info->num_classes, probs, info->num_classes);
      vit_topk (probs, info->num_classes, k, column->index);
      column->k = k;
      for (int i = 0; i < k; i++)
        {
          column->prob[i] = probs[column->index[i]];
          column->label[i] = g_strdup (vit_model_label (self->model, column->index[i]));
        }
    }

  reply->comparison = g_steal_pointer (&out);
}

static gpointer
worker_main (gpointer data)
{
  VitlensClassifier *self = data;

  for (;;)
    {
      GTask *task;
      Reply *reply;

      g_mutex_lock (&self->lock);
      while (!self->quit && self->pending_load == NULL && self->pending_classify == NULL
             && self->pending_compare == NULL)
        g_cond_wait (&self->cond, &self->lock);
      if (self->quit)
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      if (self->pending_load != NULL)
        task = g_steal_pointer (&self->pending_load);
      else if (self->pending_classify != NULL)
        task = g_steal_pointer (&self->pending_classify);
      else
        task = g_steal_pointer (&self->pending_compare);
      g_mutex_unlock (&self->lock);

      reply = g_new0 (Reply, 1);
      reply->task = task;
      if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &reply->error))
        ;
      else if (g_task_get_source_tag (task) == vitlens_classifier_load_model_async)
        worker_load (self, g_task_get_task_data (task), reply);
      else if (g_task_get_source_tag (task) == vitlens_classifier_compare_async)
        worker_compare (self, g_task_get_task_data (task), g_task_get_cancellable (task), reply);
      else
        worker_classify (self, g_task_get_task_data (task), reply);
      post_reply (reply);
    }

  return NULL;
}

/* Put @task in @slot (newest wins) and wake the worker. */
static void
queue_task (VitlensClassifier *self,
            GTask            **slot,
            GTask             *task)
{
  GTask *superseded;

  g_mutex_lock (&self->lock);
  superseded = *slot;
  *slot = task;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);

  if (superseded != NULL)
    post_cancelled (superseded, "Superseded by a newer request");
}

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_classifier_dispose (GObject *object)
{
  VitlensClassifier *self = (VitlensClassifier *)object;

  if (self->thread != NULL)
    {
      GTask *load, *classify, *compare;

      /* Pending tasks hold a ref on us, so they are normally gone by now; but
       * g_object_run_dispose() can get here early. The worker finishes the request it is
       * running (the engine has no way to stop a forward pass half way), then quits. */
      g_mutex_lock (&self->lock);
      self->quit = TRUE;
      load = g_steal_pointer (&self->pending_load);
      classify = g_steal_pointer (&self->pending_classify);
      compare = g_steal_pointer (&self->pending_compare);
      g_cond_signal (&self->cond);
      g_mutex_unlock (&self->lock);

      g_thread_join (g_steal_pointer (&self->thread));

      if (load != NULL)
        post_cancelled (load, "The classifier was disposed");
      if (classify != NULL)
        post_cancelled (classify, "The classifier was disposed");
      if (compare != NULL)
        post_cancelled (compare, "The classifier was disposed");

      worker_free_model (self);
    }

  G_OBJECT_CLASS (vitlens_classifier_parent_class)->dispose (object);
}

static void
vitlens_classifier_finalize (GObject *object)
{
  VitlensClassifier *self = (VitlensClassifier *)object;

  model_facts_free (self->facts);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (vitlens_classifier_parent_class)->finalize (object);
}

static void
vitlens_classifier_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  VitlensClassifier *self = VITLENS_CLASSIFIER (object);

  switch (prop_id)
    {
    case PROP_HAS_MODEL:
      g_value_set_boolean (value, self->facts != NULL);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vitlens_classifier_class_init (VitlensClassifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vitlens_classifier_dispose;
  object_class->finalize = vitlens_classifier_finalize;
  object_class->get_property = vitlens_classifier_get_property;

  properties[PROP_HAS_MODEL] =
    g_param_spec_boolean ("has-model", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
vitlens_classifier_init (VitlensClassifier *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->thread = g_thread_new ("vitlens-worker", worker_main, self);
}

VitlensClassifier *
vitlens_classifier_new (void)
{
  return g_object_new (VITLENS_TYPE_CLASSIFIER, NULL);
}

void
vitlens_classifier_load_model_async (VitlensClassifier  *self,
                                     GFile              *file,
                                     GCancellable       *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer            user_data)
{
  GTask *task;
  LoadRequest *req;

  g_return_if_fail (VITLENS_IS_CLASSIFIER (self));
  g_return_if_fail (file == NULL || G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, vitlens_classifier_load_model_async);

  if (file != NULL && !g_file_is_native (file))
    {
      g_autofree char *name = g_file_get_basename (file);

      g_task_return_new_error (task, VITLENS_ERROR, VITLENS_ERROR_IO,
                               /* Translators: %s is a file name */
                               _("%s: models can only be opened from local folders"), name);
      g_object_unref (task);
      return;
    }

  req = g_new0 (LoadRequest, 1);
  req->path = file ? g_file_get_path (file) : NULL;
  g_task_set_task_data (task, req, load_request_free);

  queue_task (self, &self->pending_load, task);
}

gboolean
vitlens_classifier_load_model_finish (VitlensClassifier *self,
                                      GAsyncResult      *result,
                                      GError           **error)
{
  g_return_val_if_fail (VITLENS_IS_CLASSIFIER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
vitlens_classifier_classify_async (VitlensClassifier  *self,
                                   VitlensImage       *image,
                                   vit_variant         variant,
                                   int                 top_k,
                                   int                 threads,
                                   GCancellable       *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer            user_data)
{
  GTask *task;
  ClassifyRequest *req;

  g_return_if_fail (VITLENS_IS_CLASSIFIER (self));
  g_return_if_fail (VITLENS_IS_IMAGE (image));
  g_return_if_fail (variant >= 0 && variant < VIT_VARIANT_COUNT);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, vitlens_classifier_classify_async);

  req = g_new0 (ClassifyRequest, 1);
  req->image = g_object_ref (image);
  req->variant = variant;
  req->top_k = top_k;
  req->threads = MAX (threads, 0);
  g_task_set_task_data (task, req, classify_request_free);

  queue_task (self, &self->pending_classify, task);
}

VitlensPrediction *
vitlens_classifier_classify_finish (VitlensClassifier *self,
                                    GAsyncResult      *result,
                                    GError           **error)
{
  g_return_val_if_fail (VITLENS_IS_CLASSIFIER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
vitlens_classifier_compare_async (VitlensClassifier  *self,
                                  const vit_image    *pixels,
                                  gpointer            owner,
                                  GDestroyNotify      owner_free,
                                  int                 runs,
                                  int                 top_k,
                                  int                 threads,
                                  GCancellable       *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer            user_data)
{
  GTask *task;
  CompareRequest *req;

  g_return_if_fail (VITLENS_IS_CLASSIFIER (self));
  g_return_if_fail (pixels != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, vitlens_classifier_compare_async);

  req = g_new0 (CompareRequest, 1);
  req->pixels = pixels;
  req->owner = owner;
  req->owner_free = owner_free;
  req->runs = runs;
  req->top_k = top_k;
  req->threads = MAX (threads, 0);
  g_task_set_task_data (task, req, compare_request_free);

  queue_task (self, &self->pending_compare, task);
}

VitlensComparison *
vitlens_classifier_compare_finish (VitlensClassifier *self,
                                   GAsyncResult      *result,
                                   GError           **error)
{
  g_return_val_if_fail (VITLENS_IS_CLASSIFIER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

const VitlensModelFacts *
vitlens_classifier_get_model (VitlensClassifier *self)
{
  g_return_val_if_fail (VITLENS_IS_CLASSIFIER (self), NULL);

  return self->facts;
}

gboolean
vitlens_classifier_supports (VitlensClassifier *self,
                             vit_variant        variant)
{
  g_return_val_if_fail (VITLENS_IS_CLASSIFIER (self), FALSE);

  if (self->facts == NULL || variant < 0 || variant >= VIT_VARIANT_COUNT)
    return FALSE;
  return self->facts->supports[variant];
}
