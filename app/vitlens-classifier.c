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
 */
#define G_LOG_DOMAIN "vitlens-classifier"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-classifier.h"
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
  GThread           *thread;

  /* worker thread only */
  vit_model         *model;
  guint              model_serial;
  vit_session       *sessions[VIT_VARIANT_COUNT];
  int                session_threads[VIT_VARIANT_COUNT]; /* the threads asked for */
  double             forward_ms[VIT_VARIANT_COUNT][MEDIAN_WINDOW];
  int                n_runs[VIT_VARIANT_COUNT];
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
  GTask             *task;       /* the worker's ref, handed over */
  VitlensModelFacts *facts;      /* a load that worked */
  VitlensPrediction *prediction; /* a classification that worked */
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
}

static void
worker_free_model (VitlensClassifier *self)
{
  worker_free_sessions (self);
  g_clear_pointer (&self->model, vit_model_free);
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

  if (req->path != NULL)
    {
      if (vit_model_load (req->path, &model, &err) != VIT_OK)
        {
          vitlens_set_error_from_vit (&reply->error, &err);
          return;
        }
    }
  else
    {
      size_t size = 0;
      const unsigned char *data = vitlens_data_model (&size);

      if (data == NULL)
        {
          g_set_error_literal (&reply->error, VITLENS_ERROR, VITLENS_ERROR_NO_MODEL,
                               _("This build has no built-in model"));
          return;
        }
      if (vit_model_load_memory (data, size, vitlens_data_model_config (),
                                 vitlens_data_model_name (), &model, &err) != VIT_OK)
        {
          vitlens_set_error_from_vit (&reply->error, &err);
          return;
        }
    }

  /* 1000 classes and no labels of its own: an ImageNet model. Done before any session
   * shares the model. */
  if (vit_model_num_labels (model) == 0 && vit_model_get_info (model)->num_classes == 1000)
    vit_model_set_labels (model, vitlens_data_imagenet_labels (), NULL);

  worker_free_model (self);
  self->model = model;
  self->model_serial++;
  reply->facts = model_facts_new (model, req->path, self->model_serial);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
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
  memcpy (sorted, self->forward_ms[variant], n * sizeof (double));
  qsort (sorted, n, sizeof (double), compare_doubles);
  *n_out = n;

  return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
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

  /* One session per variant, made on first use (that is when its buffers are allocated) and
   * made again when the number of threads asked for changes. */
  if (self->sessions[req->variant] != NULL && self->session_threads[req->variant] != req->threads)
    {
      g_clear_pointer (&self->sessions[req->variant], vit_session_free);
      self->n_runs[req->variant] = 0;
    }
  if (self->sessions[req->variant] == NULL)
    {
      vit_session_opts opts = vit_session_opts_default ();

      opts.variant = req->variant;
      opts.threads = req->threads;
      if (vit_session_new (self->model, &opts, &self->sessions[req->variant], &err) != VIT_OK)
        {
          vitlens_set_error_from_vit (&reply->error, &err);
          return;
        }
      self->session_threads[req->variant] = req->threads;
    }
  session = self->sessions[req->variant];

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

static gpointer
worker_main (gpointer data)
{
  VitlensClassifier *self = data;

  for (;;)
    {
      GTask *task;
      Reply *reply;

      g_mutex_lock (&self->lock);
      while (!self->quit && self->pending_load == NULL && self->pending_classify == NULL)
        g_cond_wait (&self->cond, &self->lock);
      if (self->quit)
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      if (self->pending_load != NULL)
        task = g_steal_pointer (&self->pending_load);
      else
        task = g_steal_pointer (&self->pending_classify);
      g_mutex_unlock (&self->lock);

      reply = g_new0 (Reply, 1);
      reply->task = task;
      if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &reply->error))
        ;
      else if (g_task_get_source_tag (task) == vitlens_classifier_load_model_async)
        worker_load (self, g_task_get_task_data (task), reply);
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
      GTask *load, *classify;

      /* Pending tasks hold a ref on us, so they are normally gone by now; but
       * g_object_run_dispose() can get here early. The worker finishes the request it is
       * running (the engine has no way to stop a forward pass half way), then quits. */
      g_mutex_lock (&self->lock);
      self->quit = TRUE;
      load = g_steal_pointer (&self->pending_load);
      classify = g_steal_pointer (&self->pending_classify);
      g_cond_signal (&self->cond);
      g_mutex_unlock (&self->lock);

      g_thread_join (g_steal_pointer (&self->thread));

      if (load != NULL)
        post_cancelled (load, "The classifier was disposed");
      if (classify != NULL)
        post_cancelled (classify, "The classifier was disposed");

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
