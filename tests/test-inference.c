/* test-inference.c — VitlensInference without a display: loading a model (and the :model
 * notification), classifying, newest-wins, compare mode, a bad model keeping the previous one
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * The object the image page, Compare, the stream and `vitlens-cli stream` share; the frame path
 * (push_frame, drops, stats, keep-all) is tested in test-camera.c with the camera. The model is
 * the fixture tests/fixtures/models/tiny-p16 (VITLENS_FIXTURES).
 */
#include <glib/gstdio.h>
#include <string.h>

#include "vitlens-error.h"
#include "vitlens-inference.h"

/* ---------------------------------------------------------------------------------------------
 * Helpers */

static char *
fixture_model_path (void)
{
  const char *fixtures = g_getenv ("VITLENS_FIXTURES");

  g_assert_nonnull (fixtures);
  return g_build_filename (fixtures, "models", "tiny-p16", "model.safetensors", NULL);
}

/* An answer of an async call, kept for the test to look at. */
typedef struct
{
  guint              n;        /* answers so far */
  gboolean           loaded;
  VitlensResult     *result;
  VitlensComparison *comparison;
  GError            *error;
} Answer;

static void
answer_clear (Answer *a)
{
  g_clear_pointer (&a->result, vitlens_result_unref);
  g_clear_pointer (&a->comparison, vitlens_comparison_free);
  g_clear_error (&a->error);
  a->loaded = FALSE;
}

static void
on_loaded (GObject *object, GAsyncResult *result, gpointer data)
{
  Answer *a = data;

  answer_clear (a);
  a->loaded = vitlens_inference_load_model_finish (VITLENS_INFERENCE (object), result, &a->error);
  a->n++;
}

static void
on_classified (GObject *object, GAsyncResult *result, gpointer data)
{
  Answer *a = data;

  answer_clear (a);
  a->result = vitlens_inference_classify_finish (VITLENS_INFERENCE (object), result, &a->error);
  a->n++;
}

static void
on_compared (GObject *object, GAsyncResult *result, gpointer data)
{
  Answer *a = data;

  answer_clear (a);
  a->comparison = vitlens_inference_compare_finish (VITLENS_INFERENCE (object), result, &a->error);
  a->n++;
}

/* Run the default main context until @a has @n answers (or 30 s pass). */
static void
wait_answers (Answer *a, guint n)
{
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (a->n < n && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (a->n, ==, n);
}

static void
load (VitlensInference *inference, const char *path, Answer *a)
{
  g_autoptr(GFile) file = path ? g_file_new_for_path (path) : NULL;
  guint n = a->n;

  vitlens_inference_load_model_async (inference, file, NULL, on_loaded, a);
  wait_answers (a, n + 1);
}

static VitlensInference *
fixture_inference (void)
{
  VitlensInference *inference = vitlens_inference_new ();
  g_autofree char *path = fixture_model_path ();
  Answer a = { 0 };

  load (inference, path, &a);
  g_assert_no_error (a.error);
  g_assert_true (a.loaded);
  answer_clear (&a);

  return inference;
}

/* A synthetic RGB image (gradient), with padded rows, as a VitlensFrame. */
static VitlensFrame *
synthetic_image (guint seed, int width, int height)
{
  int stride = width * 3 + 5;
  guint8 *data = g_malloc (stride * height);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = data + y * stride + x * 3;

        p[0] = (guint8)(x * 255 / width);
        p[1] = (guint8)(y * 255 / height);
        p[2] = (guint8)(seed * 37);
      }
  return vitlens_frame_new_for_data (data, width, height, stride, VIT_PIXEL_RGB8, data, g_free);
}

static void
on_notify_model (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

/* ---------------------------------------------------------------------------------------------
 * Tests */

/* A model loads on the worker; :model is notified on the main context, before the callback,
 * with the facts; a load that fails keeps the previous model (and its serial). */
static void
test_load (void)
{
  g_autoptr(VitlensInference) inference = vitlens_inference_new ();
  g_autofree char *path = fixture_model_path ();
  g_autoptr(VitlensModelFacts) facts = NULL;
  const VitlensModelFacts *now;
  guint notified = 0;
  Answer a = { 0 };

  g_assert_null (vitlens_inference_get_model (inference));
  g_assert_false (vitlens_inference_supports (inference, VIT_VARIANT_FP32));
  g_signal_connect (inference, "notify::model", G_CALLBACK (on_notify_model), &notified);

  load (inference, path, &a);
  g_assert_no_error (a.error);
  g_assert_true (a.loaded);
  g_assert_cmpuint (notified, ==, 1);
  now = vitlens_inference_get_model (inference);
  g_assert_nonnull (now);
  g_assert_cmpstr (now->display_name, ==, "tiny-p16");
  g_assert_cmpstr (now->path, ==, path);
  g_assert_cmpuint (now->serial, ==, 1);
  g_assert_cmpint (now->num_classes, >, 0);
  g_assert_true (now->supports[VIT_VARIANT_FP32]);
  g_assert_true (vitlens_inference_supports (inference, VIT_VARIANT_FP32));
  g_object_get (inference, "model", &facts, NULL);
  g_assert_true (facts == now);

  /* A file that does not exist, then one that is not a model: errors naming them, and the
   * model stays. */
  load (inference, "/nonexistent/model.safetensors", &a);
  g_assert_false (a.loaded);
  g_assert_error (a.error, VITLENS_ERROR, VITLENS_ERROR_IO);
  g_assert_nonnull (strstr (a.error->message, "model.safetensors"));
  {
    g_autofree char *bad = NULL;
    int fd = g_file_open_tmp ("vitlens-test-XXXXXX.safetensors", &bad, NULL);

    g_assert_cmpint (fd, >=, 0);
    g_assert_true (g_file_set_contents (bad, "not a model", -1, NULL));
    g_close (fd, NULL);
    load (inference, bad, &a);
    g_assert_false (a.loaded);
    g_assert_nonnull (a.error);
    g_assert_nonnull (strstr (a.error->message, ".safetensors"));
    g_unlink (bad);
  }
  g_assert_cmpuint (notified, ==, 1);
  g_assert_true (vitlens_inference_get_model (inference) == now);
  g_assert_cmpuint (vitlens_inference_get_model (inference)->serial, ==, 1);

  /* Loading again: a new serial, notified again. */
  load (inference, path, &a);
  g_assert_no_error (a.error);
  g_assert_cmpuint (notified, ==, 2);
  g_assert_cmpuint (vitlens_inference_get_model (inference)->serial, ==, 2);

  /* Not a local file. */
  {
    g_autoptr(GFile) remote = g_file_new_for_uri ("http://example.com/model.safetensors");
    guint n = a.n;

    vitlens_inference_load_model_async (inference, remote, NULL, on_loaded, &a);
    wait_answers (&a, n + 1);
    g_assert_error (a.error, VITLENS_ERROR, VITLENS_ERROR_IO);
  }

  answer_clear (&a);
}

/* Classify: the engine's own answer for the same pixels, labels, timings, the median. */
static void
test_classify (void)
{
  g_autoptr(VitlensInference) inference = vitlens_inference_new ();
  g_autoptr(VitlensFrame) input = synthetic_image (1, 45, 37);
  Answer a = { 0 };

  /* No model yet. */
  vitlens_inference_classify_async (inference, input, VIT_VARIANT_FP32, 5, 1, NULL, on_classified, &a);
  wait_answers (&a, 1);
  g_assert_error (a.error, VITLENS_ERROR, VITLENS_ERROR_NO_MODEL);
  g_clear_object (&inference);

  inference = fixture_inference ();
  for (int run = 1; run <= 3; run++)
    {
      vitlens_inference_classify_async (inference, input, VIT_VARIANT_FP32, 5, 1, NULL, on_classified, &a);
      wait_answers (&a, (guint)run + 1);
      g_assert_no_error (a.error);
      g_assert_nonnull (a.result);
      g_assert_true (a.result->frame == input);
      g_assert_cmpint (a.result->k, ==, 5);
      g_assert_cmpint (a.result->variant, ==, VIT_VARIANT_FP32);
      g_assert_cmpint (a.result->threads, ==, 1);
      g_assert_nonnull (a.result->kernel);
      g_assert_cmpuint (a.result->model_serial, ==, 1);
      g_assert_cmpfloat (a.result->forward_ms, >, 0);
      g_assert_cmpfloat (a.result->preprocess_ms, >, 0);
      g_assert_cmpfloat (a.result->latency_ms, ==, 0);
      /* the first run (buffers set up) is reported apart, not in the median */
      g_assert_cmpint (a.result->first_run, ==, run == 1);
      g_assert_cmpint (a.result->median_runs, ==, run - 1);
      if (run > 1)
        g_assert_cmpfloat (a.result->median_forward_ms, >, 0);
      g_assert_cmpfloat (a.result->prob[0], >=, a.result->prob[1]);
    }

  /* The same pixels through the engine directly. */
  {
    g_autofree char *path = fixture_model_path ();
    vit_model *model = NULL;
    vit_session *session = NULL;
    vit_prediction pred;
    vit_session_opts opts = vit_session_opts_default ();

    g_assert_cmpint (vit_model_load (path, &model, NULL), ==, VIT_OK);
    opts.threads = 1;
    g_assert_cmpint (vit_session_new (model, &opts, &session, NULL), ==, VIT_OK);
    g_assert_cmpint (vit_session_classify (session, vitlens_frame_get_image (input), 5, &pred, NULL), ==, VIT_OK);
    for (int i = 0; i < 5; i++)
      {
        g_assert_cmpint (pred.index[i], ==, a.result->index[i]);
        g_assert_cmpfloat_with_epsilon (pred.prob[i], a.result->prob[i], 1e-6);
        g_assert_cmpstr (vit_model_label (model, pred.index[i]), ==, a.result->label[i]);
      }
    vit_session_free (session);
    vit_model_free (model);
  }

  /* Another variant, another number of threads: its own session, a first run again. */
  vitlens_inference_classify_async (inference, input, VIT_VARIANT_INT8, 3, 1, NULL, on_classified, &a);
  wait_answers (&a, 5);
  g_assert_no_error (a.error);
  g_assert_cmpint (a.result->variant, ==, VIT_VARIANT_INT8);
  g_assert_cmpint (a.result->k, ==, 3);
  g_assert_true (a.result->first_run);
  g_assert_cmpint (a.result->median_runs, ==, 0);
  vitlens_inference_classify_async (inference, input, VIT_VARIANT_FP32, 5, 2, NULL, on_classified, &a);
  wait_answers (&a, 6);
  g_assert_no_error (a.error);
  g_assert_true (a.result->first_run);
  g_assert_cmpint (a.result->median_runs, ==, 0);

  /* A model reloaded: medians start again, the serial says which model answered. */
  {
    g_autofree char *path = fixture_model_path ();

    load (inference, path, &a);
  }
  vitlens_inference_classify_async (inference, input, VIT_VARIANT_FP32, 5, 2, NULL, on_classified, &a);
  wait_answers (&a, 8);
  g_assert_no_error (a.error);
  g_assert_true (a.result->first_run);
  g_assert_cmpint (a.result->median_runs, ==, 0);
  g_assert_cmpuint (a.result->model_serial, ==, 2);

  /* A cancelled request. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();

    g_cancellable_cancel (cancellable);
    vitlens_inference_classify_async (inference, input, VIT_VARIANT_FP32, 5, 1, cancellable,
                                      on_classified, &a);
    wait_answers (&a, 9);
    g_assert_error (a.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  }

  answer_clear (&a);
}

/* Newest wins: of requests made while the worker is busy, only the last runs; the others end
 * with G_IO_ERROR_CANCELLED. */
static void
test_newest_wins (void)
{
  g_autoptr(VitlensInference) inference = fixture_inference ();
  VitlensFrame *inputs[4];
  Answer answers[4] = { { 0 } };
  Answer busy = { 0 };

  for (int i = 0; i < 4; i++)
    inputs[i] = synthetic_image (i, 64, 48);

  /* A comparison of a large image keeps the worker busy resizing it while the classifications
   * are asked for (a newer classification does not stop it; only a newer comparison or load
   * would). The pause lets the worker take it first: classifications go before comparisons. */
  {
    g_autoptr(VitlensFrame) large = synthetic_image (8, 6000, 4000);
    gint64 start = g_get_monotonic_time ();

    vitlens_inference_compare_async (inference, large, 1, 5, 1, NULL, on_compared, &busy);
    g_usleep (10000);
    g_test_message ("queued after %.1f ms", (g_get_monotonic_time () - start) / 1000.0);
  }
  for (int i = 0; i < 4; i++)
    vitlens_inference_classify_async (inference, inputs[i], VIT_VARIANT_FP32, 5, 1, NULL,
                                      on_classified, &answers[i]);
  vitlens_inference_drain (inference);
  for (int i = 0; i < 4; i++)
    wait_answers (&answers[i], 1);
  wait_answers (&busy, 1);

  g_assert_no_error (busy.error);
  /* The first one ran only if the worker woke after it came (a loaded machine): it then went
   * before the comparison. The middle ones were replaced within microseconds. */
  if (answers[0].error == NULL)
    g_test_message ("the worker took the first classification before the comparison");
  else
    g_assert_error (answers[0].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  for (int i = 1; i < 3; i++)
    g_assert_error (answers[i].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_no_error (answers[3].error);
  g_assert_true (answers[3].result->frame == inputs[3]);
  g_test_message ("the busy comparison took %.1f ms to preprocess", busy.comparison->preprocess_ms);

  /* Comparisons supersede each other the same way. */
  answer_clear (&busy);
  for (int i = 0; i < 4; i++)
    answer_clear (&answers[i]);
  {
    /* A large image keeps the worker busy resizing while the comparisons are asked for. */
    g_autoptr(VitlensFrame) large = synthetic_image (9, 6000, 4000);

    vitlens_inference_classify_async (inference, large, VIT_VARIANT_FP32, 5, 1, NULL, on_classified, &busy);
    g_usleep (10000);
  }
  for (int i = 0; i < 4; i++)
    vitlens_inference_compare_async (inference, inputs[i], 1, 5, 1, NULL, on_compared, &answers[i]);
  for (int i = 0; i < 4; i++)
    wait_answers (&answers[i], 2);
  wait_answers (&busy, 2);
  g_assert_no_error (answers[3].error);
  g_assert_nonnull (answers[3].comparison);
  g_assert_true (answers[3].comparison->columns[0].result->frame == inputs[3]);
  for (int i = 1; i < 3; i++)
    g_assert_error (answers[i].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  for (int i = 0; i < 4; i++)
    {
      answer_clear (&answers[i]);
      vitlens_frame_unref (inputs[i]);
    }
  answer_clear (&busy);
}

/* Compare: every variant and lite, fp32 first, N runs each, the same top-1 within the model's
 * promise, sizes of the files each runs from. */
static void
test_compare (void)
{
  g_autoptr(VitlensInference) inference = fixture_inference ();
  g_autoptr(VitlensFrame) input = synthetic_image (7, 45, 37);
  const VitlensModelFacts *facts = vitlens_inference_get_model (inference);
  VitlensComparison *c;
  Answer a = { 0 };
  int expected = 1; /* lite */

  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    expected += facts->supports[v];

  vitlens_inference_compare_async (inference, input, 3, 4, 1, NULL, on_compared, &a);
  wait_answers (&a, 1);
  g_assert_no_error (a.error);
  c = a.comparison;
  g_assert_nonnull (c);
  g_assert_cmpint (c->n_columns, ==, expected);
  g_assert_cmpint (c->reference, ==, 0);
  g_assert_cmpstr (c->columns[0].name, ==, "fp32");
  g_assert_cmpstr (c->columns[c->n_columns - 1].name, ==, "lite");
  g_assert_true (c->columns[c->n_columns - 1].lite);
  g_assert_cmpuint (c->model_serial, ==, 1);
  g_assert_cmpfloat (c->preprocess_ms, >, 0);
  for (int i = 0; i < c->n_columns; i++)
    {
      const VitlensCompareColumn *col = &c->columns[i];

      g_assert_cmpint (col->n_runs, ==, 3);
      g_assert_nonnull (col->result);
      g_assert_true (col->result->frame == input);
      g_assert_cmpint (col->result->k, ==, 4);
      g_assert_cmpint (col->result->threads, ==, 1);
      g_assert_cmpfloat (col->result->forward_ms, ==, col->forward_ms[2]);
      g_assert_cmpint (col->file_bytes, >, 0);
      g_assert_cmpint (col->done_time, >, 0);
      for (int r = 0; r < col->n_runs; r++)
        g_assert_cmpfloat (col->forward_ms[r], >, 0);
      g_assert_cmpstr (col->name, ==, col->lite ? "lite" : vit_variant_name (col->result->variant));
    }

  /* The fp32 column is what classify says. */
  {
    Answer b = { 0 };

    vitlens_inference_classify_async (inference, input, VIT_VARIANT_FP32, 4, 1, NULL, on_classified, &b);
    wait_answers (&b, 1);
    g_assert_no_error (b.error);
    for (int i = 0; i < 4; i++)
      {
        g_assert_cmpint (b.result->index[i], ==, c->columns[0].result->index[i]);
        g_assert_cmpfloat_with_epsilon (b.result->prob[i], c->columns[0].result->prob[i], 1e-5);
      }
    answer_clear (&b);
  }

  answer_clear (&a);
}

/* Disposing while requests wait and one runs: every callback comes, cancelled or answered. */
static void
test_dispose_while_busy (void)
{
  VitlensInference *inference = fixture_inference ();
  g_autoptr(VitlensFrame) input = synthetic_image (3, 64, 48);
  Answer compared = { 0 }, classified = { 0 };

  vitlens_inference_compare_async (inference, input, 16, 5, 1, NULL, on_compared, &compared);
  vitlens_inference_classify_async (inference, input, VIT_VARIANT_FP32, 5, 1, NULL, on_classified, &classified);
  g_object_run_dispose (G_OBJECT (inference));
  g_object_unref (inference);
  wait_answers (&compared, 1);
  wait_answers (&classified, 1);
  answer_clear (&compared);
  answer_clear (&classified);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/inference/load", test_load);
  g_test_add_func ("/inference/classify", test_classify);
  g_test_add_func ("/inference/newest-wins", test_newest_wins);
  g_test_add_func ("/inference/compare", test_compare);
  g_test_add_func ("/inference/dispose-while-busy", test_dispose_while_busy);

  return g_test_run ();
}
