/* vitlens-frame-worker.c — classify video frames on one thread, newest frame wins; no GTK
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Threading: the model and the sessions belong to the worker thread, started in init and
 * joined in dispose. Everything the other threads touch is under @lock: the frame slot, the
 * requested settings, the counters and the outgoing result slot. Results travel to the main
 * context in an idle that holds a strong reference on the worker, so the object outlives every
 * pending delivery; the worker thread itself holds no reference, so the last unref never lands
 * there. One worker, one forward pass at a time: frames never queue up behind each other (the
 * GTask pool would run many at once, see notes/gtk-gstreamer-on-debian12.md §7).
 */
#define G_LOG_DOMAIN "vitlens-frame-worker"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "vitlens-data.h"
#include "vitlens-frame-worker.h"
#include "vitlens-stats.h"

#define RING 1024   /* results the medians are taken over */
#define FPS_WINDOW 16 /* results the running rate is taken over */

struct _VitlensFrameWorker
{
  GObject             parent_instance;

  GMainContext       *context;
  GThread            *thread;

  /* shared, under @lock */
  GMutex              lock;
  GCond               cond;          /* work arrived, or the worker went idle */
  gboolean            quit;
  VitlensFrame       *slot;
  gboolean            busy;
  vit_model          *new_model;     /* set_model() not yet applied */
  GDestroyNotify      new_model_free;
  gboolean            has_new_model;
  char               *load_path;     /* load_model() not yet applied */
  gboolean            has_load;
  vit_variant         variant;
  int                 threads;
  int                 top_k;
  guint64             pushed, inferred, dropped, failed;
  gint64              first_push, last_result;
  double              latency_ring[RING], forward_ring[RING];
  guint64             ring_n;
  GQueue              pending_results; /* VitlensFrameResult; one unless @keep_all */
  gboolean            keep_all;
  gboolean            result_idle_queued;
  GQueue              pending_errors; /* GError */
  gboolean            error_idle_queued;

  /* worker thread only */
  vit_model          *model;
  GDestroyNotify      model_free;
  guint               model_serial;
  vit_session        *sessions[VIT_VARIANT_COUNT];
  int                 session_threads[VIT_VARIANT_COUNT];
  char               *last_error;    /* not repeated for every frame */
  gint64              recent[FPS_WINDOW];
  guint64             n_recent;
};

G_DEFINE_FINAL_TYPE (VitlensFrameWorker, vitlens_frame_worker, G_TYPE_OBJECT)

G_DEFINE_QUARK (vitlens-frame-worker-error-quark, vitlens_frame_worker_error)

enum {
  SIGNAL_RESULT,
  SIGNAL_ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---------------------------------------------------------------------------------------------
 * Results */

static VitlensFrameResult *
frame_result_new (void)
{
  return g_atomic_rc_box_new0 (VitlensFrameResult);
}

VitlensFrameResult *
vitlens_frame_result_ref (VitlensFrameResult *result)
{
  return g_atomic_rc_box_acquire (result);
}

static void
frame_result_clear (gpointer data)
{
  VitlensFrameResult *result = data;

  for (int i = 0; i < VIT_TOPK_MAX; i++)
    g_free (result->label[i]);
  g_clear_pointer (&result->frame, vitlens_frame_unref);
}

void
vitlens_frame_result_unref (VitlensFrameResult *result)
{
  g_atomic_rc_box_release_full (result, frame_result_clear);
}

G_DEFINE_BOXED_TYPE (VitlensFrameResult, vitlens_frame_result,
                     vitlens_frame_result_ref, vitlens_frame_result_unref)

/* ---------------------------------------------------------------------------------------------
 * Worker → main context */

static gboolean
deliver_results (gpointer user_data)
{
  VitlensFrameWorker *self = user_data;
  VitlensFrameResult *result;

  for (;;)
    {
      g_mutex_lock (&self->lock);
      result = g_queue_pop_head (&self->pending_results);
      if (result == NULL)
        self->result_idle_queued = FALSE;
      g_mutex_unlock (&self->lock);
      if (result == NULL)
        break;
      g_signal_emit (self, signals[SIGNAL_RESULT], 0, result);
      vitlens_frame_result_unref (result);
    }

  return G_SOURCE_REMOVE;
}

static gboolean
deliver_errors (gpointer user_data)
{
  VitlensFrameWorker *self = user_data;
  GError *error;

  for (;;)
    {
      g_mutex_lock (&self->lock);
      error = g_queue_pop_head (&self->pending_errors);
      if (error == NULL)
        self->error_idle_queued = FALSE;
      g_mutex_unlock (&self->lock);
      if (error == NULL)
        break;
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
      g_error_free (error);
    }

  return G_SOURCE_REMOVE;
}

static void
queue_idle (VitlensFrameWorker *self,
            GSourceFunc         func)
{
  GSource *idle = g_idle_source_new ();

  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, func, g_object_ref (self), g_object_unref);
  g_source_attach (idle, self->context);
  g_source_unref (idle);
}

/* Worker thread. Newest result wins, unless every result is wanted. */
static void
post_result (VitlensFrameWorker *self,
             VitlensFrameResult *result)
{
  GQueue superseded = G_QUEUE_INIT;
  gboolean queue;

  g_mutex_lock (&self->lock);
  if (!self->keep_all)
    superseded = self->pending_results;
  if (!self->keep_all)
    g_queue_init (&self->pending_results);
  g_queue_push_tail (&self->pending_results, result);
  queue = !self->result_idle_queued;
  self->result_idle_queued = TRUE;
  g_mutex_unlock (&self->lock);

  g_queue_clear_full (&superseded, (GDestroyNotify)vitlens_frame_result_unref);
  if (queue)
    queue_idle (self, deliver_results);
}

/* Worker thread. Every error is delivered, but the same one only once in a row. */
static void
post_error (VitlensFrameWorker *self,
            GError             *error)
{
  gboolean queue;

  if (g_strcmp0 (self->last_error, error->message) == 0)
    {
      g_error_free (error);
      return;
    }
  g_free (self->last_error);
  self->last_error = g_strdup (error->message);

  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->pending_errors, error);
  queue = !self->error_idle_queued;
  self->error_idle_queued = TRUE;
  g_mutex_unlock (&self->lock);

  if (queue)
    queue_idle (self, deliver_errors);
}

/* ---------------------------------------------------------------------------------------------
 * The worker thread */

static void
worker_free_model (VitlensFrameWorker *self)
{
  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    g_clear_pointer (&self->sessions[v], vit_session_free);
  if (self->model != NULL && self->model_free != NULL)
    self->model_free (self->model);
  self->model = NULL;
  self->model_free = NULL;
}

static void
worker_use_model (VitlensFrameWorker *self,
                  vit_model          *model,
                  GDestroyNotify      model_free)
{
  worker_free_model (self);
  self->model = model;
  self->model_free = model_free;
  self->model_serial++;
  g_clear_pointer (&self->last_error, g_free);
}

static void
worker_load (VitlensFrameWorker *self,
             const char         *path)
{
  vit_error err = { 0 };
  vit_model *model = NULL;
  size_t size = 0;

  if (path == NULL && vitlens_data_model (&size) == NULL)
    {
      post_error (self, g_error_new_literal (VITLENS_FRAME_WORKER_ERROR,
                                             VITLENS_FRAME_WORKER_ERROR_NO_MODEL,
                                             _("This build has no built-in model")));
      return;
    }
  if (vitlens_data_load_model (path, &model, &err) != VIT_OK)
    {
      post_error (self, g_error_new_literal (VITLENS_FRAME_WORKER_ERROR,
                                             VITLENS_FRAME_WORKER_ERROR_NO_MODEL, err.msg));
      return;
    }
  worker_use_model (self, model, (GDestroyNotify)vit_model_free);
}

static double
median (const double *values,
        guint64       count)
{
  double sorted[RING];
  guint n = (guint)MIN (count, RING);

  return vitlens_stats_median (values, n, sorted);
}

/* Classify @frame; returns the result, or NULL after posting the error. */
static VitlensFrameResult *
worker_classify (VitlensFrameWorker *self,
                 VitlensFrame       *frame,
                 vit_variant         variant,
                 int                 threads,
                 int                 top_k)
{
  vit_error err = { 0 };
  vit_prediction pred = { 0 };
  VitlensFrameResult *result;
  vit_session *session;
  int k;

  if (self->model == NULL)
    {
      post_error (self, g_error_new_literal (VITLENS_FRAME_WORKER_ERROR,
                                             VITLENS_FRAME_WORKER_ERROR_NO_MODEL,
                                             _("No model is loaded")));
      return NULL;
    }
  if (!vit_model_supports (self->model, variant))
    {
      post_error (self, g_error_new (VITLENS_FRAME_WORKER_ERROR,
                                     VITLENS_FRAME_WORKER_ERROR_UNSUPPORTED,
                                     /* Translators: %s is a model variant: fp32, int8 or optimized */
                                     _("The %s variant is not available for this model"),
                                     vit_variant_name (variant)));
      return NULL;
    }

  /* One session per variant, made on first use and again when the threads asked for change. */
  if (self->sessions[variant] != NULL && self->session_threads[variant] != threads)
    g_clear_pointer (&self->sessions[variant], vit_session_free);
  if (self->sessions[variant] == NULL)
    {
      vit_session_opts opts = vit_session_opts_default ();

      opts.variant = variant;
      opts.threads = threads;
      if (vit_session_new (self->model, &opts, &self->sessions[variant], &err) != VIT_OK)
        {
          post_error (self, g_error_new_literal (VITLENS_FRAME_WORKER_ERROR,
                                                 VITLENS_FRAME_WORKER_ERROR_ENGINE, err.msg));
          return NULL;
        }
      self->session_threads[variant] = threads;
    }
  session = self->sessions[variant];

  k = MIN (CLAMP (top_k, 1, VIT_TOPK_MAX), vit_model_get_info (self->model)->num_classes);
  /* The frame's own pixels: RGBx rows with GStreamer's stride. */
  if (vit_session_classify (session, vitlens_frame_get_image (frame), k, &pred, &err) != VIT_OK)
    {
      post_error (self, g_error_new_literal (VITLENS_FRAME_WORKER_ERROR,
                                             VITLENS_FRAME_WORKER_ERROR_ENGINE, err.msg));
      return NULL;
    }

  result = frame_result_new ();
  result->frame = vitlens_frame_ref (frame);
  result->number = vitlens_frame_get_number (frame);
  result->pts = vitlens_frame_get_pts (frame);
  result->k = pred.k;
  for (int i = 0; i < pred.k; i++)
    {
      result->index[i] = pred.index[i];
      result->prob[i] = pred.prob[i];
      result->label[i] = g_strdup (vit_model_label (self->model, pred.index[i]));
    }
  result->preprocess_ms = pred.timing.preprocess_ms;
  result->forward_ms = pred.timing.forward_ms;
  result->variant = variant;
  result->threads = vit_session_threads (session);
  result->kernel = vit_session_kernel (session);
  result->model_serial = self->model_serial;
  g_clear_pointer (&self->last_error, g_free);

  return result;
}

static gpointer
worker_main (gpointer data)
{
  VitlensFrameWorker *self = data;

  for (;;)
    {
      VitlensFrame *frame;
      vit_model *new_model = NULL;
      GDestroyNotify new_model_free = NULL;
      gboolean has_new_model, has_load;
      g_autofree char *load_path = NULL;
      VitlensFrameResult *result = NULL;
      vit_variant variant;
      int threads, top_k;
      gint64 now;

      g_mutex_lock (&self->lock);
      while (!self->quit && self->slot == NULL && !self->has_new_model && !self->has_load)
        g_cond_wait (&self->cond, &self->lock);
      if (self->quit)
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      has_new_model = self->has_new_model;
      new_model = g_steal_pointer (&self->new_model);
      new_model_free = self->new_model_free;
      self->has_new_model = FALSE;
      has_load = self->has_load;
      load_path = g_steal_pointer (&self->load_path);
      self->has_load = FALSE;
      frame = g_steal_pointer (&self->slot);
      variant = self->variant;
      threads = self->threads;
      top_k = self->top_k;
      self->busy = TRUE;
      g_mutex_unlock (&self->lock);

      /* Settings first, so the frame that waited is classified with them. */
      if (has_new_model)
        worker_use_model (self, new_model, new_model_free);
      if (has_load)
        worker_load (self, load_path);
      if (frame != NULL)
        result = worker_classify (self, frame, variant, threads, top_k);

      now = g_get_monotonic_time ();
      g_mutex_lock (&self->lock);
      if (frame != NULL && result == NULL)
        self->failed++;
      if (result != NULL)
        {
          guint64 first;
          guint m;

          result->latency_ms = (now - vitlens_frame_get_capture_time (frame)) / 1000.0;
          self->recent[self->n_recent++ % FPS_WINDOW] = now;
          m = (guint)MIN (self->n_recent, FPS_WINDOW);
          first = self->n_recent - m;
          if (m > 1 && now > self->recent[first % FPS_WINDOW])
            result->inference_fps = (m - 1) * (double)G_USEC_PER_SEC
                                    / (double)(now - self->recent[first % FPS_WINDOW]);

          self->inferred++;
          self->last_result = now;
          self->latency_ring[self->ring_n % RING] = result->latency_ms;
          self->forward_ring[self->ring_n % RING] = result->forward_ms;
          self->ring_n++;
          result->dropped = self->dropped;
        }
      g_mutex_unlock (&self->lock);

      /* Posted before going idle, so that after drain() the result is on the main context. */
      if (result != NULL)
        post_result (self, result);
      if (frame != NULL)
        vitlens_frame_unref (frame);

      g_mutex_lock (&self->lock);
      self->busy = FALSE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
    }

  worker_free_model (self);

  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Public API */

void
vitlens_frame_worker_set_model (VitlensFrameWorker *self,
                                vit_model          *model,
                                GDestroyNotify      free_model)
{
  vit_model *superseded = NULL;
  GDestroyNotify superseded_free = NULL;

  g_return_if_fail (VITLENS_IS_FRAME_WORKER (self));

  g_mutex_lock (&self->lock);
  if (self->has_new_model)
    {
      superseded = self->new_model;
      superseded_free = self->new_model_free;
    }
  self->new_model = model;
  self->new_model_free = free_model;
  self->has_new_model = TRUE;
  g_clear_pointer (&self->load_path, g_free);
  self->has_load = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  /* Never used by the worker: no session refers to it. */
  if (superseded != NULL && superseded_free != NULL)
    superseded_free (superseded);
}

void
vitlens_frame_worker_load_model (VitlensFrameWorker *self,
                                 const char         *path)
{
  vit_model *superseded = NULL;
  GDestroyNotify superseded_free = NULL;

  g_return_if_fail (VITLENS_IS_FRAME_WORKER (self));

  g_mutex_lock (&self->lock);
  if (self->has_new_model)
    {
      superseded = g_steal_pointer (&self->new_model);
      superseded_free = self->new_model_free;
      self->has_new_model = FALSE;
    }
  g_free (self->load_path);
  self->load_path = g_strdup (path);
  self->has_load = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (superseded != NULL && superseded_free != NULL)
    superseded_free (superseded);
}

void
vitlens_frame_worker_set_variant (VitlensFrameWorker *self,
                                  vit_variant         variant)
{
  g_return_if_fail (VITLENS_IS_FRAME_WORKER (self));
  g_return_if_fail (variant >= 0 && variant < VIT_VARIANT_COUNT);

  g_mutex_lock (&self->lock);
  self->variant = variant;
  g_mutex_unlock (&self->lock);
}

void
vitlens_frame_worker_set_threads (VitlensFrameWorker *self,
                                  int                 threads)
{
  g_return_if_fail (VITLENS_IS_FRAME_WORKER (self));
  g_return_if_fail (threads >= 0);

  g_mutex_lock (&self->lock);
  self->threads = threads;
  g_mutex_unlock (&self->lock);
}

void
vitlens_frame_worker_set_top_k (VitlensFrameWorker *self,
                                int                 top_k)
{
  g_return_if_fail (VITLENS_IS_FRAME_WORKER (self));

  g_mutex_lock (&self->lock);
  self->top_k = CLAMP (top_k, 1, VIT_TOPK_MAX);
  g_mutex_unlock (&self->lock);
}

void
vitlens_frame_worker_set_keep_all_results (VitlensFrameWorker *self,
                                           gboolean            keep_all)
{
  g_return_if_fail (VITLENS_IS_FRAME_WORKER (self));

  g_mutex_lock (&self->lock);
  self->keep_all = !!keep_all;
  g_mutex_unlock (&self->lock);
}

void
vitlens_frame_worker_push (VitlensFrameWorker *self,
                           VitlensFrame       *frame)
{
  VitlensFrame *dropped;

  g_return_if_fail (VITLENS_IS_FRAME_WORKER (self));
  g_return_if_fail (frame != NULL);

  g_mutex_lock (&self->lock);
  dropped = self->slot;
  self->slot = vitlens_frame_ref (frame);
  if (self->pushed++ == 0)
    self->first_push = g_get_monotonic_time ();
  if (dropped != NULL)
    self->dropped++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (dropped != NULL)
    vitlens_frame_unref (dropped);
}

void
vitlens_frame_worker_push_func (VitlensFrame *frame,
                                gpointer      worker)
{
  vitlens_frame_worker_push (worker, frame);
}

void
vitlens_frame_worker_clear (VitlensFrameWorker *self)
{
  VitlensFrame *frame;

  g_return_if_fail (VITLENS_IS_FRAME_WORKER (self));

  g_mutex_lock (&self->lock);
  frame = g_steal_pointer (&self->slot);
  if (frame != NULL)
    self->dropped++;
  g_mutex_unlock (&self->lock);

  if (frame != NULL)
    vitlens_frame_unref (frame);
}

void
vitlens_frame_worker_drain (VitlensFrameWorker *self)
{
  g_return_if_fail (VITLENS_IS_FRAME_WORKER (self));

  g_mutex_lock (&self->lock);
  while (self->slot != NULL || self->busy || self->has_new_model || self->has_load)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

void
vitlens_frame_worker_get_stats (VitlensFrameWorker      *self,
                                VitlensFrameWorkerStats *stats)
{
  g_return_if_fail (VITLENS_IS_FRAME_WORKER (self));
  g_return_if_fail (stats != NULL);

  g_mutex_lock (&self->lock);
  stats->pushed = self->pushed;
  stats->inferred = self->inferred;
  stats->dropped = self->dropped;
  stats->failed = self->failed;
  stats->inference_fps = self->inferred > 0 && self->last_result > self->first_push
                           ? self->inferred * (double)G_USEC_PER_SEC
                               / (double)(self->last_result - self->first_push)
                           : 0;
  stats->latency_ms_median = median (self->latency_ring, self->ring_n);
  stats->forward_ms_median = median (self->forward_ring, self->ring_n);
  g_mutex_unlock (&self->lock);
}

void
vitlens_frame_worker_reset_stats (VitlensFrameWorker *self)
{
  g_return_if_fail (VITLENS_IS_FRAME_WORKER (self));

  g_mutex_lock (&self->lock);
  self->pushed = self->inferred = self->dropped = self->failed = 0;
  self->first_push = self->last_result = 0;
  self->ring_n = 0;
  g_mutex_unlock (&self->lock);
}

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_frame_worker_dispose (GObject *object)
{
  VitlensFrameWorker *self = (VitlensFrameWorker *)object;

  if (self->thread != NULL)
    {
      /* The worker finishes the frame it is on (a forward pass cannot be stopped half way). */
      g_mutex_lock (&self->lock);
      self->quit = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      g_thread_join (g_steal_pointer (&self->thread));
    }

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->slot, vitlens_frame_unref);
  g_queue_clear_full (&self->pending_results, (GDestroyNotify)vitlens_frame_result_unref);
  g_queue_clear_full (&self->pending_errors, (GDestroyNotify)g_error_free);
  if (self->has_new_model && self->new_model != NULL && self->new_model_free != NULL)
    self->new_model_free (self->new_model);
  self->new_model = NULL;
  self->has_new_model = FALSE;
  g_mutex_unlock (&self->lock);

  G_OBJECT_CLASS (vitlens_frame_worker_parent_class)->dispose (object);
}

static void
vitlens_frame_worker_finalize (GObject *object)
{
  VitlensFrameWorker *self = (VitlensFrameWorker *)object;

  g_free (self->load_path);
  g_free (self->last_error);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (vitlens_frame_worker_parent_class)->finalize (object);
}

static void
vitlens_frame_worker_class_init (VitlensFrameWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vitlens_frame_worker_dispose;
  object_class->finalize = vitlens_frame_worker_finalize;

  /**
   * VitlensFrameWorker::result:
   * @result: the newest classified frame
   *
   * On the main context; when results come faster than it runs, older ones are skipped.
   */
  signals[SIGNAL_RESULT] =
    g_signal_new ("result", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, VITLENS_TYPE_FRAME_RESULT | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * VitlensFrameWorker::error:
   * @error: why a model could not be loaded or a frame not classified
   *
   * On the main context, once for each new reason (not for every frame).
   */
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
vitlens_frame_worker_init (VitlensFrameWorker *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->pending_errors);
  g_queue_init (&self->pending_results);
  self->context = g_main_context_ref_thread_default ();
  self->variant = VIT_VARIANT_FP32;
  self->top_k = 5;
  self->thread = g_thread_new ("vitlens-frames", worker_main, self);
}

VitlensFrameWorker *
vitlens_frame_worker_new (void)
{
  return g_object_new (VITLENS_TYPE_FRAME_WORKER, NULL);
}
