/* vitlens-inference.c — the one loaded model and the one worker thread that runs it; no GTK
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Threading: the model, the sessions and the run statistics belong to ONE worker thread,
 * started in init and joined in dispose. Everything other threads touch is under @lock: three
 * request slots (a model load, a classification, a comparison), the one-frame slot, the frame
 * options, the frame counters and the outgoing frame results. A newer request or frame replaces
 * the one still waiting in its slot (newest wins). The worker takes a load first, then a
 * classification, then a comparison, then a frame: a person's request should not wait behind
 * a stream, and frames are dropped anyway when the worker is busy.
 *
 * Answers go to the main context (the thread-default one when the object was made) in idles.
 * A request's reply carries its GTask, whose strong ref keeps this object alive until the idle
 * has run, and every GTask call (return, unref) happens there, so the last unref of a task, and
 * of the input it holds, never lands on the worker. Frame results and errors travel through
 * queues under @lock, delivered by an idle that holds a strong ref on the object; the worker
 * itself holds none, so the last unref of the object never lands there either.
 *
 * Compare mode runs every variant on one input, in rotating order (as `vitlens-cli bench`
 * does), so that machine noise falls on all of them alike. Its extra files (the .vitq whose
 * size the int8 column shows, the .vitl the lite column runs from) are written once per model,
 * on the worker too.
 */
#define G_LOG_DOMAIN "vitlens-inference"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vitlens-data.h"
#include "vitlens-error.h"
#include "vitlens-inference.h"

#include "vitlens-engine-env.h"
#include "vitlens-stats.h"

#define MEDIAN_WINDOW 64   /* classifications a variant's median is taken over */
#define RING          1024 /* frame results the stream's medians are taken over */
#define FPS_WINDOW    16   /* frame results the running rate is taken over */

/* What the worker hands to the main context for one signal: frame results, or frame errors. */
typedef struct
{
  VitlensInference *self;
  GQueue            items;       /* under the object's lock */
  gboolean          idle_queued; /* under the object's lock */
  guint             signal;
  GDestroyNotify    free_item;
} Outbox;

struct _VitlensInference
{
  GObject            parent_instance;

  GMainContext      *context;          /* where answers, signals and notifications go */
  GThread           *thread;

  /* main thread */
  VitlensModelFacts *facts;

  /* shared with the worker, under @lock */
  GMutex             lock;
  GCond              cond;             /* work arrived, or the worker went idle */
  gboolean           quit;
  GTask             *pending_load;
  GTask             *pending_classify;
  GTask             *pending_compare;
  VitlensFrame      *slot;
  gboolean           busy;
  vit_variant        frame_variant;
  int                frame_top_k;
  int                frame_threads;
  gboolean           rollout;          /* sessions compute the attention rollout (written on the main thread) */
  gboolean           keep_all;
  guint64            pushed, inferred, dropped, failed;
  gint64             first_push, last_result;
  double             latency_ring[RING], forward_ring[RING];
  guint64            ring_n;
  Outbox             results;          /* VitlensResult; one unless @keep_all */
  Outbox             errors;           /* GError */

  /* worker thread only */
  vit_model         *model;
  guint              model_serial;
  vit_session       *sessions[VIT_VARIANT_COUNT];
  int                session_threads[VIT_VARIANT_COUNT]; /* the threads asked for */
  gboolean           session_rollout[VIT_VARIANT_COUNT]; /* made with opts.rollout */
  gboolean           session_profile[VIT_VARIANT_COUNT]; /* made with opts.profile */
  double             forward_ms[VIT_VARIANT_COUNT][MEDIAN_WINDOW];
  int                n_runs[VIT_VARIANT_COUNT];
  char              *last_error;       /* a frame error is not repeated for every frame */
  gint64             recent[FPS_WINDOW];
  guint64            n_recent;

  /* worker thread only: compare mode */
  guint              compare_serial;   /* the model_serial its files were made for; 0: none yet */
  gint64             vitq_bytes;       /* the int8 file's size; -1 unknown */
  gint64             vitl_bytes;       /* the lite file's size; -1 unknown */
  char              *lite_path;        /* the temporary .vitl, removed with the model */
  vit_model         *lite_model;       /* loaded from it */
  vit_model         *prepared_model;   /* the model worker_prepare_model last prepared (compared
                                          only; cleared whenever a model is freed or loaded) */
  vit_session       *lite_session;
  int                lite_threads;
  gboolean           lite_rollout, lite_profile;
  gboolean           warm[VIT_VARIANT_COUNT + 1]; /* the session has run once (index COUNT: lite) */
  guint              rotation;         /* where the next round's order starts */
};

G_DEFINE_FINAL_TYPE (VitlensInference, vitlens_inference, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MODEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_FRAME_RESULT,
  SIGNAL_FRAME_ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  char *path; /* NULL: the embedded model */
} LoadRequest;

/* A classification or a comparison. */
typedef struct
{
  VitlensFrame *input;
  vit_variant   variant; /* classify */
  int           runs;    /* compare */
  int           top_k;
  int           threads;
  gboolean      rollout;
} RunRequest;

typedef struct
{
  GTask             *task;       /* the worker's ref, handed over */
  VitlensModelFacts *facts;      /* a load that worked */
  VitlensResult     *result;     /* a classification that worked */
  VitlensComparison *comparison; /* a comparison that worked */
  GError            *error;
} Reply;

/* ---------------------------------------------------------------------------------------------
 * Plain data */

static void
model_facts_clear (gpointer data)
{
  VitlensModelFacts *facts = data;

  g_free (facts->display_name);
  g_free (facts->architecture);
  g_free (facts->path);
}

VitlensModelFacts *
vitlens_model_facts_ref (VitlensModelFacts *facts)
{
  return g_atomic_rc_box_acquire (facts);
}

void
vitlens_model_facts_unref (VitlensModelFacts *facts)
{
  g_atomic_rc_box_release_full (facts, model_facts_clear);
}

G_DEFINE_BOXED_TYPE (VitlensModelFacts, vitlens_model_facts,
                     vitlens_model_facts_ref, vitlens_model_facts_unref)

static void
load_request_free (gpointer data)
{
  LoadRequest *req = data;

  g_free (req->path);
  g_free (req);
}

static void
run_request_free (gpointer data)
{
  RunRequest *req = data;

  vitlens_frame_unref (req->input);
  g_free (req);
}

/* ---------------------------------------------------------------------------------------------
 * Worker → main context */

static void
queue_idle (VitlensInference *self,
            GSourceFunc       func,
            gpointer          data,
            GDestroyNotify    destroy)
{
  GSource *idle = g_idle_source_new ();

  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, func, data, destroy);
  g_source_attach (idle, self->context);
  g_source_unref (idle);
}

static gboolean
deliver_reply (gpointer data)
{
  Reply *reply = data;
  VitlensInference *self = g_task_get_source_object (reply->task);

  if (reply->error != NULL)
    g_task_return_error (reply->task, reply->error);
  else if (reply->facts != NULL)
    {
      /* The property first: the callback sees the new model. */
      g_clear_pointer (&self->facts, vitlens_model_facts_unref);
      self->facts = reply->facts;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
      g_task_return_boolean (reply->task, TRUE);
    }
  else if (reply->comparison != NULL)
    g_task_return_pointer (reply->task, reply->comparison, (GDestroyNotify)vitlens_comparison_free);
  else
    g_task_return_pointer (reply->task, reply->result, (GDestroyNotify)vitlens_result_unref);

  g_object_unref (reply->task);
  g_free (reply);

  return G_SOURCE_REMOVE;
}

static void
post_reply (VitlensInference *self,
            Reply            *reply)
{
  queue_idle (self, deliver_reply, reply, NULL);
}

static void
post_cancelled (VitlensInference *self,
                GTask            *task,
                const char       *why)
{
  Reply *reply = g_new0 (Reply, 1);

  reply->task = task;
  reply->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, why);
  post_reply (self, reply);
}

static gboolean
deliver_outbox (gpointer data)
{
  Outbox *outbox = data;
  VitlensInference *self = outbox->self;

  for (;;)
    {
      gpointer item;

      g_mutex_lock (&self->lock);
      item = g_queue_pop_head (&outbox->items);
      if (item == NULL)
        outbox->idle_queued = FALSE;
      g_mutex_unlock (&self->lock);
      if (item == NULL)
        break;
      g_signal_emit (self, signals[outbox->signal], 0, item);
      outbox->free_item (item);
    }

  return G_SOURCE_REMOVE;
}

static void
outbox_unref_self (gpointer data)
{
  g_object_unref (((Outbox *)data)->self);
}

/* Worker thread: @item to the main context, replacing what still waits there when @replace.
 * One idle at a time, holding a ref on the object, empties the outbox. */
static void
outbox_post (Outbox   *outbox,
             gpointer  item,
             gboolean  replace)
{
  VitlensInference *self = outbox->self;
  GQueue superseded = G_QUEUE_INIT;
  gboolean queue;

  g_mutex_lock (&self->lock);
  if (replace)
    {
      superseded = outbox->items;
      g_queue_init (&outbox->items);
    }
  g_queue_push_tail (&outbox->items, item);
  queue = !outbox->idle_queued;
  outbox->idle_queued = TRUE;
  g_mutex_unlock (&self->lock);

  g_queue_clear_full (&superseded, outbox->free_item);
  if (queue)
    {
      g_object_ref (self);
      queue_idle (self, deliver_outbox, outbox, outbox_unref_self);
    }
}

static void
outbox_init (Outbox           *outbox,
             VitlensInference *self,
             guint             signal,
             GDestroyNotify    free_item)
{
  g_queue_init (&outbox->items);
  outbox->self = self;
  outbox->signal = signal;
  outbox->free_item = free_item;
}

/* Worker thread. Newest result wins, unless every result is wanted. */
static void
post_frame_result (VitlensInference *self,
                   VitlensResult    *result)
{
  gboolean keep_all;

  g_mutex_lock (&self->lock);
  keep_all = self->keep_all;
  g_mutex_unlock (&self->lock);
  outbox_post (&self->results, result, !keep_all);
}

/* Worker thread. Every frame error is delivered, but the same one only once in a row. */
static void
post_frame_error (VitlensInference *self,
                  GError           *error)
{
  if (g_strcmp0 (self->last_error, error->message) == 0)
    {
      g_error_free (error);
      return;
    }
  g_free (self->last_error);
  self->last_error = g_strdup (error->message);
  outbox_post (&self->errors, error, FALSE);
}

/* ---------------------------------------------------------------------------------------------
 * The worker: model and sessions */

/* The one place engine sessions are configured, for classifications, comparisons and frames
 * alike, so the app and vitlens-cli stream run what the environment asks for. */
static vit_session_opts
session_opts_for (VitlensInference *self,
                  vit_variant       variant,
                  int               threads,
                  gboolean          rollout,
                  gboolean          profile)
{
  vit_session_opts opts = vit_session_opts_default ();

  vitlens_session_opts_from_env (&opts); /* VIT_KERNEL, VIT_OPT_*: for development and tests */
  opts.variant = variant;
  opts.threads = threads;
  /* The rollout keeps every block's attention (not there with the attention unfused) */
  opts.rollout = rollout && !(opts.unfuse & VIT_UNFUSE_ATTENTION);
  if (profile && opts.profile == VIT_PROFILE_OFF)
    opts.profile = VIT_PROFILE_WALL;

  return opts;
}

static void
worker_free_sessions (VitlensInference *self)
{
  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    {
      g_clear_pointer (&self->sessions[v], vit_session_free);
      self->n_runs[v] = 0;
    }
  g_clear_pointer (&self->lite_session, vit_session_free);
  memset (self->warm, 0, sizeof self->warm);
}

static void
worker_free_model (VitlensInference *self)
{
  worker_free_sessions (self);
  g_clear_pointer (&self->model, vit_model_free);
  g_clear_pointer (&self->lite_model, vit_model_free);
  self->prepared_model = NULL;
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
      g_autofree char *snapshots = g_path_get_dirname (dir);
      g_autofree char *repo_dir = g_path_get_dirname (snapshots);
      g_autofree char *repo_base = g_path_get_basename (repo_dir);
      g_autofree char *snapshots_base = g_path_get_basename (snapshots);
      const char *name = g_strrstr (repo_base, "--");

      /* the hub cache's models--ORG--NAME/snapshots/COMMIT/: NAME, not the commit */
      if (g_str_equal (snapshots_base, "snapshots") && g_str_has_prefix (repo_base, "models--") &&
          name != NULL && name[2] != '\0')
        return g_strdup (name + 2);
      if (!g_str_equal (dir_base, ".") && !g_str_equal (dir_base, G_DIR_SEPARATOR_S))
        return g_steal_pointer (&dir_base);
    }

  return g_steal_pointer (&base);
}

/* The built-in model's name for the UI: the data's name is "fashion-vit (embedded)", which the
 * CLI prints as it is; here the suffix is translated. */
static char *
builtin_display_name (void)
{
  const char *name = vitlens_data_model_name ();
  const char *suffix = strstr (name, " (embedded)");
  g_autofree char *base = suffix ? g_strndup (name, suffix - name) : g_strdup (name);

  /* Translators: the name of the model built into the app, e.g. "fashion-vit (embedded)" */
  return g_strdup_printf (_("%s (embedded)"), base);
}

static VitlensModelFacts *
model_facts_new (const vit_model *model,
                 const char      *path,
                 guint            serial)
{
  const vit_model_info *info = vit_model_get_info (model);
  VitlensModelFacts *facts = g_atomic_rc_box_new0 (VitlensModelFacts);

  facts->path = g_strdup (path);
  facts->display_name = path ? model_display_name (path) : builtin_display_name ();
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
worker_load (VitlensInference *self,
             LoadRequest      *req,
             Reply            *reply)
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
  g_clear_pointer (&self->last_error, g_free);
  reply->facts = model_facts_new (model, req->path, self->model_serial);
}

/* Every variant's derived weights, built once per model on its first session, then the plain
 * fp32 Linear weights handed back: the fp32 variant reads its packed copy, int8 and optimized
 * their int8 one, and nothing reads the plain copy after (deit_base: 346 MB less). The int8
 * weights are built from the plain ones, so they must all be prepared before the release; the
 * release is refused where fp32 runs on OpenBLAS, which reads the plain copy, and that is fine. */
static void
worker_prepare_model (VitlensInference *self,
                      vit_model        *model)
{
  /* not fp32: vit_model_release_linears packs it layer by layer as it frees the plain copy,
   * so the two are never held whole at once */
  static const vit_variant order[] = { VIT_VARIANT_INT8, VIT_VARIANT_OPTIMIZED };
  vit_error err = { 0 };

  if (model == self->prepared_model)
    return;
  self->prepared_model = model;
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      vit_session_opts opts = session_opts_for (self, order[i], 0, FALSE, FALSE);

      if (vit_model_supports (model, order[i]) && vit_model_prepare (model, &opts, &err) != VIT_OK)
        return; /* the session asking for it will report the error */
    }
  if (vit_model_supports (model, VIT_VARIANT_FP32))
    vit_model_release_linears (model, &err);
}

/* One session per variant (and one on the lite model), made on first use (that is when its
 * buffers are allocated) and made again when the number of threads asked for changes, when
 * the rollout is turned on or off (off, it costs nothing), or when a profile is asked of a
 * session made without one (compare mode; a profile once there stays: it costs under 0.4%). */
static vit_session *
worker_session (VitlensInference *self,
                vit_variant       variant,
                gboolean          lite,
                int               threads,
                gboolean          rollout,
                gboolean          profile,
                vit_error        *err)
{
  vit_session **slot = lite ? &self->lite_session : &self->sessions[variant];
  int *slot_threads = lite ? &self->lite_threads : &self->session_threads[variant];
  gboolean *slot_rollout = lite ? &self->lite_rollout : &self->session_rollout[variant];
  gboolean *slot_profile = lite ? &self->lite_profile : &self->session_profile[variant];
  int warm = lite ? VIT_VARIANT_COUNT : (int)variant;

  if (*slot != NULL && (*slot_threads != threads || *slot_rollout != rollout || (profile && !*slot_profile)))
    {
      profile |= *slot_profile;
      g_clear_pointer (slot, vit_session_free);
      /* Times taken with another number of threads (or the rollout's work) do not mix. */
      if (!lite)
        self->n_runs[variant] = 0;
    }
  if (*slot == NULL)
    {
      vit_session_opts opts = session_opts_for (self, variant, threads, rollout, profile);
      vit_model *model = lite ? self->lite_model : self->model;

      /* The derived weights (packed fp32, int8) are built once on the model, which only this
       * thread uses, so that the int8 and optimized sessions share them instead of each
       * building its own copy. */
      worker_prepare_model (self, model);
      if (vit_model_prepare (model, &opts, err) != VIT_OK ||
          vit_session_new (model, &opts, slot, err) != VIT_OK)
        return NULL;
      *slot_threads = threads;
      *slot_rollout = rollout;
      *slot_profile = profile;
      self->warm[warm] = FALSE;
    }

  return *slot;
}

static VitlensResult *
result_new (VitlensFrame *input,
            vit_variant   variant,
            vit_session  *session,
            guint         model_serial)
{
  VitlensResult *result = vitlens_result_new ();

  result->frame = vitlens_frame_ref (input);
  result->number = vitlens_frame_get_number (input);
  result->pts = vitlens_frame_get_pts (input);
  result->variant = variant;
  result->threads = vit_session_threads (session);
  result->kernel = g_strdup (vit_session_kernel (session));
  result->model_serial = model_serial;

  return result;
}

static void
result_set_top (VitlensResult   *result,
                const vit_model *model,
                int              k,
                const int32_t   *index,
                const float     *prob)
{
  result->k = k;
  for (int i = 0; i < k; i++)
    {
      result->index[i] = index[i];
      result->prob[i] = prob[i];
      result->label[i] = g_strdup (vit_model_label (model, index[i]));
    }
}

/* The session's attention rollout of its last run, if it made one, into @result, with where
 * the model's input square lies in the input's image. */
static void
result_set_rollout (VitlensResult   *result,
                    const vit_model *model,
                    vit_session     *session)
{
  const vit_model_info *info = vit_model_get_info (model);
  const vit_image *image = vitlens_frame_get_image (result->frame);
  int32_t gh = 0, gw = 0;
  const float *grid = vit_session_rollout (session, &gh, &gw);
  vit_error err = { 0 };

  if (grid == NULL || gh <= 0 || gw <= 0
      || vit_preprocess_geometry_for (&info->pre, image->width, image->height,
                                      &result->rollout_geometry, &err) != VIT_OK)
    return;
  result->rollout = g_memdup2 (grid, (gsize)gh * gw * sizeof (float));
  result->rollout_h = gh;
  result->rollout_w = gw;
  result->rollout_size = info->pre.image_size;
}

/* Classify @input with one variant: what a classification and a frame have in common. */
static VitlensResult *
worker_classify (VitlensInference *self,
                 VitlensFrame     *input,
                 vit_variant       variant,
                 int               top_k,
                 int               threads,
                 gboolean          rollout,
                 GError          **error)
{
  vit_error err = { 0 };
  vit_prediction pred = { 0 };
  vit_session *session;
  VitlensResult *result;
  gboolean first_run;
  int k;

  if (self->model == NULL)
    {
      g_set_error_literal (error, VITLENS_ERROR, VITLENS_ERROR_NO_MODEL, _("No model is loaded"));
      return NULL;
    }
  if (!vit_model_supports (self->model, variant))
    {
      g_set_error (error, VITLENS_ERROR, VITLENS_ERROR_UNSUPPORTED,
                   /* Translators: %s is a model variant: fp32, int8 or optimized */
                   _("The %s variant is not available for this model"), vit_variant_name (variant));
      return NULL;
    }

  session = worker_session (self, variant, FALSE, threads, rollout, FALSE, &err);
  if (session == NULL)
    {
      vitlens_set_error_from_vit (error, &err);
      return NULL;
    }

  first_run = !self->warm[variant];
  k = MIN (CLAMP (top_k, 1, VIT_TOPK_MAX), vit_model_get_info (self->model)->num_classes);
  /* The input's own pixels (an image's RGB, or a frame's RGBx rows with GStreamer's stride). */
  if (vit_session_classify (session, vitlens_frame_get_image (input), k, &pred, &err) != VIT_OK)
    {
      vitlens_set_error_from_vit (error, &err);
      return NULL;
    }

  result = result_new (input, variant, session, self->model_serial);
  result_set_top (result, self->model, pred.k, pred.index, pred.prob);
  result->preprocess_ms = pred.timing.preprocess_ms;
  result->forward_ms = pred.timing.forward_ms;
  result->first_run = first_run;
  result_set_rollout (result, self->model, session);
  self->warm[variant] = TRUE;

  return result;
}

/* A classification request: the result and this variant's median over its latest runs. */
static void
worker_classify_request (VitlensInference *self,
                         RunRequest       *req,
                         Reply            *reply)
{
  double sorted[MEDIAN_WINDOW];
  VitlensResult *result;
  vit_variant v = req->variant;
  int n;

  result = worker_classify (self, req->input, v, req->top_k, req->threads, req->rollout,
                            &reply->error);
  if (result == NULL)
    return;

  /* The first run of a session is reported apart (VitlensResult.first_run), not in the median. */
  if (!result->first_run)
    {
      self->forward_ms[v][self->n_runs[v] % MEDIAN_WINDOW] = result->forward_ms;
      self->n_runs[v]++;
    }
  n = MIN (self->n_runs[v], MEDIAN_WINDOW);
  result->median_runs = n;
  result->median_forward_ms = vitlens_stats_median (self->forward_ms[v], n, sorted);

  reply->result = result;
}

/* ---------------------------------------------------------------------------------------------
 * The worker: compare mode */

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
worker_prepare_compare (VitlensInference *self)
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

          self->prepared_model = NULL; /* a new model may take a freed one's address */
          if (vit_model_load (self->lite_path, &self->lite_model, &err) != VIT_OK)
            g_debug ("Compare: cannot load the lite file: %s", err.msg);
        }
    }
}

static gboolean
worker_superseded (VitlensInference *self)
{
  gboolean newer;

  g_mutex_lock (&self->lock);
  newer = self->pending_load != NULL || self->pending_compare != NULL || self->quit;
  g_mutex_unlock (&self->lock);

  return newer;
}

/* Each op class's median over the request's runs (@samples[k][run], as bench --profile): one
 * slow run on a busy machine moves a mean, not the median the chart above the bars shows. */
static void
column_set_profile (VitlensCompareColumn *column,
                    double                samples[VIT_OP_COUNT][VITLENS_COMPARE_MAX_RUNS])
{
  double scratch[VITLENS_COMPARE_MAX_RUNS];

  if (column->n_runs <= 0)
    return;
  for (int k = 0; k < VIT_OP_COUNT; k++)
    column->op_ms[k] = vitlens_stats_median (samples[k], (size_t)column->n_runs, scratch);
  column->profiled = TRUE;
}

static void
worker_compare (VitlensInference *self,
                RunRequest       *req,
                GCancellable     *cancellable,
                Reply            *reply)
{
  const vit_model_info *info;
  vit_error err = { 0 };
  vit_session *sessions[VITLENS_COMPARE_MAX_COLUMNS] = { NULL };
  gboolean profiled[VITLENS_COMPARE_MAX_COLUMNS];
  double op_samples[VITLENS_COMPARE_MAX_COLUMNS][VIT_OP_COUNT][VITLENS_COMPARE_MAX_RUNS];
  vit_variant variants[VITLENS_COMPARE_MAX_COLUMNS];
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
        VitlensCompareColumn *column = &out->columns[n];

        variants[n++] = v;
        column->name = vit_variant_name (v);
        column->file_bytes = v == VIT_VARIANT_INT8 ? self->vitq_bytes
                           : v == VIT_VARIANT_OPTIMIZED ? self->vitl_bytes
                           : info->file_bytes;
      }
  if (self->lite_model != NULL && n < VITLENS_COMPARE_MAX_COLUMNS)
    {
      VitlensCompareColumn *column = &out->columns[n];

      variants[n++] = VIT_VARIANT_OPTIMIZED;
      column->lite = TRUE;
      column->name = "lite";
      column->file_bytes = self->vitl_bytes;
    }
  out->n_columns = n;
  out->reference = 0; /* fp32 when the model has it: it comes first */
  out->model_serial = self->model_serial;

  for (int c = 0; c < n; c++)
    {
      sessions[c] = worker_session (self, variants[c], out->columns[c].lite, req->threads,
                                    req->rollout, TRUE, &err);
      if (sessions[c] == NULL)
        {
          vitlens_set_error_from_vit (&reply->error, &err);
          return;
        }
    }

  /* The input, once: every variant sees the same floats. */
  input = g_new (float, (gsize)info->in_chans * info->img_size * info->img_size);
  t0 = vit_now_ms ();
  if (vit_preprocess (vitlens_frame_get_image (req->input), &info->pre, input, &err) != VIT_OK)
    {
      vitlens_set_error_from_vit (&reply->error, &err);
      return;
    }
  out->preprocess_ms = vit_now_ms () - t0;

  /* A session's first run allocates and touches its buffers: not a fair time. */
  logits = g_new (float, (gsize)info->num_classes * n);
  for (int c = 0; c < n; c++)
    {
      int warm = out->columns[c].lite ? VIT_VARIANT_COUNT : (int)variants[c];

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

  /* Where the time goes: each run's time per op class (the sessions are profiled). */
  for (int c = 0; c < n; c++)
    {
      vit_profile_stats stats;

      profiled[c] = vit_session_profile (sessions[c], &stats, NULL) == VIT_OK;
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
          column->forward_ms[column->n_runs] = vit_now_ms () - start;
          if (profiled[c])
            {
              vit_profile_stats stats;

              profiled[c] = vit_session_profile (sessions[c], &stats, NULL) == VIT_OK;
              for (int op = 0; op < VIT_OP_COUNT; op++)
                op_samples[c][op][column->n_runs] = stats.ms[op];
            }
          column->n_runs++;
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
      int32_t index[VIT_TOPK_MAX];
      float prob[VIT_TOPK_MAX];
      VitlensResult *result;

      vit_softmax (logits + (gsize)c * info->num_classes, probs, info->num_classes);
      vit_topk (probs, info->num_classes, k, index);
      for (int i = 0; i < k; i++)
        prob[i] = probs[index[i]];

      result = result_new (req->input, variants[c], sessions[c], self->model_serial);
      result_set_top (result, self->model, k, index, prob);
      result->preprocess_ms = out->preprocess_ms;
      result->forward_ms = column->forward_ms[column->n_runs - 1];
      result_set_rollout (result, self->model, sessions[c]);
      column->result = result;
      if (profiled[c])
        column_set_profile (column, op_samples[c]);
    }

  reply->comparison = g_steal_pointer (&out);
}

/* ---------------------------------------------------------------------------------------------
 * The worker: frames */

static double
ring_median (const double *values,
             guint64       count)
{
  double sorted[RING];

  return vitlens_stats_median (values, (size_t)MIN (count, RING), sorted);
}

static void
worker_frame (VitlensInference *self,
              VitlensFrame     *frame,
              vit_variant       variant,
              int               top_k,
              int               threads,
              gboolean          rollout)
{
  g_autoptr(GError) error = NULL;
  VitlensResult *result;
  gint64 now;

  result = worker_classify (self, frame, variant, top_k, threads, rollout, &error);
  now = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);
  if (result == NULL)
    self->failed++;
  else
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

  /* Posted before going idle, so that after drain() the answer is on the main context. */
  if (result != NULL)
    {
      g_clear_pointer (&self->last_error, g_free);
      post_frame_result (self, result);
    }
  else
    post_frame_error (self, g_steal_pointer (&error));
}

static gpointer
worker_main (gpointer data)
{
  VitlensInference *self = data;

  for (;;)
    {
      GTask *task = NULL;
      VitlensFrame *frame = NULL;
      vit_variant variant;
      int top_k, threads;
      gboolean rollout;

      g_mutex_lock (&self->lock);
      while (!self->quit && self->pending_load == NULL && self->pending_classify == NULL
             && self->pending_compare == NULL && self->slot == NULL)
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
      else if (self->pending_compare != NULL)
        task = g_steal_pointer (&self->pending_compare);
      else
        frame = g_steal_pointer (&self->slot);
      variant = self->frame_variant;
      top_k = self->frame_top_k;
      threads = self->frame_threads;
      rollout = self->rollout;
      self->busy = TRUE;
      g_mutex_unlock (&self->lock);

      if (task != NULL)
        {
          Reply *reply = g_new0 (Reply, 1);
          gpointer tag = g_task_get_source_tag (task);

          reply->task = task;
          if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &reply->error))
            ;
          else if (tag == vitlens_inference_load_model_async)
            worker_load (self, g_task_get_task_data (task), reply);
          else if (tag == vitlens_inference_compare_async)
            worker_compare (self, g_task_get_task_data (task), g_task_get_cancellable (task), reply);
          else
            worker_classify_request (self, g_task_get_task_data (task), reply);
          post_reply (self, reply);
        }
      else
        {
          worker_frame (self, frame, variant, top_k, threads, rollout);
          vitlens_frame_unref (frame);
        }

      g_mutex_lock (&self->lock);
      self->busy = FALSE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
    }

  /* The model is the worker's: it goes here, after its sessions. */
  worker_free_model (self);

  return NULL;
}

/* Put @task in @slot (newest wins) and wake the worker. */
static void
queue_task (VitlensInference *self,
            GTask           **slot,
            GTask            *task)
{
  GTask *superseded;

  g_mutex_lock (&self->lock);
  superseded = *slot;
  *slot = task;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (superseded != NULL)
    post_cancelled (self, superseded, "Superseded by a newer request");
}

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_inference_dispose (GObject *object)
{
  VitlensInference *self = (VitlensInference *)object;

  if (self->thread != NULL)
    {
      GTask *load, *classify, *compare;

      /* Pending tasks hold a ref on us, so they are normally gone by now; but
       * g_object_run_dispose() can get here early. The worker finishes what it is running
       * (the engine has no way to stop a forward pass half way), then quits. */
      g_mutex_lock (&self->lock);
      self->quit = TRUE;
      load = g_steal_pointer (&self->pending_load);
      classify = g_steal_pointer (&self->pending_classify);
      compare = g_steal_pointer (&self->pending_compare);
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);

      g_thread_join (g_steal_pointer (&self->thread));

      if (load != NULL)
        post_cancelled (self, load, "The inference object was disposed");
      if (classify != NULL)
        post_cancelled (self, classify, "The inference object was disposed");
      if (compare != NULL)
        post_cancelled (self, compare, "The inference object was disposed");
    }

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->slot, vitlens_frame_unref);
  g_queue_clear_full (&self->results.items, self->results.free_item);
  g_queue_clear_full (&self->errors.items, self->errors.free_item);
  g_mutex_unlock (&self->lock);

  G_OBJECT_CLASS (vitlens_inference_parent_class)->dispose (object);
}

static void
vitlens_inference_finalize (GObject *object)
{
  VitlensInference *self = (VitlensInference *)object;

  g_clear_pointer (&self->facts, vitlens_model_facts_unref);
  g_free (self->last_error);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (vitlens_inference_parent_class)->finalize (object);
}

static void
vitlens_inference_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  VitlensInference *self = VITLENS_INFERENCE (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_boxed (value, self->facts);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}


static void
vitlens_inference_class_init (VitlensInferenceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vitlens_inference_dispose;
  object_class->finalize = vitlens_inference_finalize;
  object_class->get_property = vitlens_inference_get_property;

  /**
   * VitlensInference:model:
   *
   * Facts about the loaded model (a VitlensModelFacts), NULL until one has loaded. Notified on
   * the main context each time a model loads.
   */
  properties[PROP_MODEL] =
    g_param_spec_boxed ("model", NULL, NULL, VITLENS_TYPE_MODEL_FACTS,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * VitlensInference::frame-result:
   * @result: the newest classified frame (a VitlensResult)
   *
   * On the main context; when results come faster than it runs, older ones are skipped
   * (unless vitlens_inference_set_keep_all_results() asked for all).
   */
  signals[SIGNAL_FRAME_RESULT] =
    g_signal_new ("frame-result", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, VITLENS_TYPE_RESULT | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * VitlensInference::frame-error:
   * @error: why a frame could not be classified
   *
   * On the main context, once for each new reason (not for every frame).
   */
  signals[SIGNAL_FRAME_ERROR] =
    g_signal_new ("frame-error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
vitlens_inference_init (VitlensInference *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  outbox_init (&self->results, self, SIGNAL_FRAME_RESULT, (GDestroyNotify)vitlens_result_unref);
  outbox_init (&self->errors, self, SIGNAL_FRAME_ERROR, (GDestroyNotify)g_error_free);
  self->context = g_main_context_ref_thread_default ();
  self->frame_variant = VIT_VARIANT_FP32;
  self->frame_top_k = 5;
  self->thread = g_thread_new ("vitlens-inference", worker_main, self);
}

/* ---------------------------------------------------------------------------------------------
 * Public API */

/**
 * vitlens_inference_new:
 *
 * Returns: (transfer full): an object with no model yet and its worker thread started.
 */
VitlensInference *
vitlens_inference_new (void)
{
  return g_object_new (VITLENS_TYPE_INFERENCE, NULL);
}

void
vitlens_inference_load_model_async (VitlensInference   *self,
                                    GFile              *file,
                                    GCancellable       *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer            user_data)
{
  GTask *task;
  LoadRequest *req;

  g_return_if_fail (VITLENS_IS_INFERENCE (self));
  g_return_if_fail (file == NULL || G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, vitlens_inference_load_model_async);

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
vitlens_inference_load_model_finish (VitlensInference *self,
                                     GAsyncResult     *result,
                                     GError          **error)
{
  g_return_val_if_fail (VITLENS_IS_INFERENCE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

const VitlensModelFacts *
vitlens_inference_get_model (VitlensInference *self)
{
  g_return_val_if_fail (VITLENS_IS_INFERENCE (self), NULL);

  return self->facts;
}

gboolean
vitlens_inference_supports (VitlensInference *self,
                            vit_variant       variant)
{
  g_return_val_if_fail (VITLENS_IS_INFERENCE (self), FALSE);

  if (self->facts == NULL || variant < 0 || variant >= VIT_VARIANT_COUNT)
    return FALSE;
  return self->facts->supports[variant];
}

static void
run_async (VitlensInference   *self,
           gpointer            tag,
           GTask             **slot,
           VitlensFrame       *input,
           vit_variant         variant,
           int                 runs,
           int                 top_k,
           int                 threads,
           GCancellable       *cancellable,
           GAsyncReadyCallback callback,
           gpointer            user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  RunRequest *req = g_new0 (RunRequest, 1);

  g_task_set_source_tag (task, tag);
  req->input = vitlens_frame_ref (input);
  req->variant = variant;
  req->runs = runs;
  req->top_k = top_k;
  req->threads = MAX (threads, 0);
  req->rollout = self->rollout;
  g_task_set_task_data (task, req, run_request_free);

  queue_task (self, slot, task);
}

void
vitlens_inference_classify_async (VitlensInference   *self,
                                  VitlensFrame       *input,
                                  vit_variant         variant,
                                  int                 top_k,
                                  int                 threads,
                                  GCancellable       *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer            user_data)
{
  g_return_if_fail (VITLENS_IS_INFERENCE (self));
  g_return_if_fail (input != NULL);
  g_return_if_fail (variant >= 0 && variant < VIT_VARIANT_COUNT);

  run_async (self, vitlens_inference_classify_async, &self->pending_classify, input, variant, 1,
             top_k, threads, cancellable, callback, user_data);
}

/* What classify and compare return (both newest-wins, both a pointer). */
static gpointer
run_finish (VitlensInference *self,
            GAsyncResult     *result,
            gpointer          tag,
            GError          **error)
{
  g_return_val_if_fail (VITLENS_IS_INFERENCE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

VitlensResult *
vitlens_inference_classify_finish (VitlensInference *self,
                                   GAsyncResult     *result,
                                   GError          **error)
{
  return run_finish (self, result, vitlens_inference_classify_async, error);
}

void
vitlens_inference_compare_async (VitlensInference   *self,
                                 VitlensFrame       *input,
                                 int                 runs,
                                 int                 top_k,
                                 int                 threads,
                                 GCancellable       *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer            user_data)
{
  g_return_if_fail (VITLENS_IS_INFERENCE (self));
  g_return_if_fail (input != NULL);

  run_async (self, vitlens_inference_compare_async, &self->pending_compare, input,
             VIT_VARIANT_FP32, runs, top_k, threads, cancellable, callback, user_data);
}

VitlensComparison *
vitlens_inference_compare_finish (VitlensInference *self,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  return run_finish (self, result, vitlens_inference_compare_async, error);
}

void
vitlens_inference_set_frame_options (VitlensInference *self,
                                     vit_variant       variant,
                                     int               top_k,
                                     int               threads)
{
  g_return_if_fail (VITLENS_IS_INFERENCE (self));
  g_return_if_fail (variant >= 0 && variant < VIT_VARIANT_COUNT);
  g_return_if_fail (threads >= 0);

  g_mutex_lock (&self->lock);
  self->frame_variant = variant;
  self->frame_top_k = CLAMP (top_k, 1, VIT_TOPK_MAX);
  self->frame_threads = threads;
  g_mutex_unlock (&self->lock);
}

void
vitlens_inference_set_keep_all_results (VitlensInference *self,
                                        gboolean          keep_all)
{
  g_return_if_fail (VITLENS_IS_INFERENCE (self));

  g_mutex_lock (&self->lock);
  self->keep_all = !!keep_all;
  g_mutex_unlock (&self->lock);
}

void
vitlens_inference_push_frame (VitlensInference *self,
                              VitlensFrame     *frame)
{
  VitlensFrame *dropped;

  g_return_if_fail (VITLENS_IS_INFERENCE (self));
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
vitlens_inference_push_func (VitlensFrame *frame,
                             gpointer      inference)
{
  vitlens_inference_push_frame (inference, frame);
}

void
vitlens_inference_clear_frames (VitlensInference *self)
{
  VitlensFrame *frame;

  g_return_if_fail (VITLENS_IS_INFERENCE (self));

  g_mutex_lock (&self->lock);
  frame = g_steal_pointer (&self->slot);
  if (frame != NULL)
    self->dropped++;
  g_mutex_unlock (&self->lock);

  if (frame != NULL)
    vitlens_frame_unref (frame);
}

void
vitlens_inference_drain (VitlensInference *self)
{
  g_return_if_fail (VITLENS_IS_INFERENCE (self));

  g_mutex_lock (&self->lock);
  while (self->slot != NULL || self->busy || self->pending_load != NULL
         || self->pending_classify != NULL || self->pending_compare != NULL)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

void
vitlens_inference_get_stats (VitlensInference      *self,
                             VitlensInferenceStats *stats)
{
  g_return_if_fail (VITLENS_IS_INFERENCE (self));
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
  stats->latency_ms_median = ring_median (self->latency_ring, self->ring_n);
  stats->forward_ms_median = ring_median (self->forward_ring, self->ring_n);
  g_mutex_unlock (&self->lock);
}

void
vitlens_inference_reset_stats (VitlensInference *self)
{
  g_return_if_fail (VITLENS_IS_INFERENCE (self));

  g_mutex_lock (&self->lock);
  self->pushed = self->inferred = self->dropped = self->failed = 0;
  self->first_push = self->last_result = 0;
  self->ring_n = 0;
  g_mutex_unlock (&self->lock);
}

/* Main thread. The engine's sessions are made again with or without the rollout as the next
 * request or frame needs them: off, no session computes it (it costs nothing). */
void
vitlens_inference_set_rollout (VitlensInference *self,
                               gboolean          rollout)
{
  g_return_if_fail (VITLENS_IS_INFERENCE (self));
  g_atomic_int_set (&self->rollout, !!rollout); /* the worker reads it under the lock */
}

gboolean
vitlens_inference_get_rollout (VitlensInference *self)
{
  g_return_val_if_fail (VITLENS_IS_INFERENCE (self), FALSE);

  return self->rollout;
}
