/* vitlens-results-panel.c — top-K predictions, timings and model facts
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * For an image the panel shows one VitlensResult. In stream mode the predictions are drawn
 * over the video (VitlensStreamOverlay), and the Timing and Model cards follow the frames'
 * results: the last times, a median over a rolling window kept here, the rates, the
 * latency, and the threads and kernel of the session that ran.
 */
#define G_LOG_DOMAIN "vitlens-results-panel"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include <stdlib.h>

#include "vitlens-key-values.h"
#include "vitlens-prediction-rows.h"
#include "vitlens-results-panel.h"
#include "vitlens-stats.h"

/* The model facts, one grid row each; @key names them for vitlens_results_panel_get_fact(). */
typedef enum
{
  FACT_NAME,
  FACT_ARCHITECTURE,
  FACT_PARAMETERS,
  FACT_FILE_SIZE,
  FACT_INPUT,
  FACT_CLASSES,
  FACT_VARIANT,
  FACT_THREADS,
  FACT_KERNEL,
  N_FACTS
} Fact;

static const VitlensKeyTitle fact_titles[N_FACTS] = {
  [FACT_NAME] = { "name", N_("Name"), NULL },
  [FACT_ARCHITECTURE] = { "architecture", N_("Architecture"), NULL },
  [FACT_PARAMETERS] = { "parameters", N_("Parameters"), NULL },
  [FACT_FILE_SIZE] = { "file-size", N_("File size"), NULL },
  [FACT_INPUT] = { "input", N_("Input"), NULL },
  [FACT_CLASSES] = { "classes", N_("Classes"), NULL },
  [FACT_VARIANT] = { "variant", N_("Variant"), NULL },
  [FACT_THREADS] = { "threads", N_("Threads"), NULL },
  [FACT_KERNEL] = { "kernel", N_("Kernel"), NULL },
};

struct _VitlensResultsPanel
{
  GtkBox         parent_instance;

  /* template widgets */
  GtkStack      *predictions_stack;
  GtkLabel      *placeholder_label;
  GtkBox        *rows_box;
  GtkWidget     *decode_key;
  GtkLabel      *decode_label;
  GtkLabel      *preprocess_label;
  GtkLabel      *forward_label;
  GtkLabel      *median_label;
  GtkWidget     *inference_fps_key;
  GtkLabel      *inference_fps_label;
  GtkWidget     *display_fps_key;
  GtkLabel      *display_fps_label;
  GtkWidget     *latency_key;
  GtkLabel      *latency_label;
  GtkGrid       *model_grid;
  GtkWidget     *builtin_hint;   /* what the built-in model knows, and Get ImageNet models… */
  GtkLabel      *builtin_hint_label;

  VitlensPredictionRows rows;
  GtkLabel      *facts[N_FACTS];

  /* stream mode */
  gboolean       stream;
  double         forward_window[VITLENS_RESULTS_PANEL_STREAM_WINDOW]; /* ms, a ring */
  guint          n_forward;    /* results added to the window since it last started */
  vit_variant    window_variant; /* what the window's times were taken with */
  int            window_threads;
  guint          window_model;
};

G_DEFINE_FINAL_TYPE (VitlensResultsPanel, vitlens_results_panel, GTK_TYPE_BOX)

static const char *dash = "—";

static char *
format_count (gint64 n)
{
  if (n >= 1000000)
    /* Translators: a number of parameters in millions, e.g. "5.7 M" */
    return g_strdup_printf (_("%.1f M"), n / 1e6);
  if (n >= 1000)
    /* Translators: a number of parameters in thousands, e.g. "150.3 K" */
    return g_strdup_printf (_("%.1f K"), n / 1e3);
  return g_strdup_printf ("%" G_GINT64_FORMAT, n);
}

static void
set_label_ms (GtkLabel *label,
              double    ms)
{
  g_autofree char *text = vitlens_format_ms (ms);

  gtk_label_set_label (label, text);
}

static void
set_label_fps (GtkLabel *label,
               double    fps)
{
  g_autofree char *text = vitlens_format_fps (fps);

  gtk_label_set_label (label, text ? text : dash);
}

static void
set_fact (VitlensResultsPanel *self,
          Fact                 fact,
          const char          *text)
{
  gtk_label_set_label (self->facts[fact], text ? text : dash);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->facts[fact]), text);
}

static void
set_fact_take (VitlensResultsPanel *self,
               Fact                 fact,
               char                *text)
{
  set_fact (self, fact, text);
  g_free (text);
}

static void
vitlens_results_panel_class_init (VitlensResultsPanelClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               APP_RESOURCE_PATH "/ui/vitlens-results-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, predictions_stack);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, placeholder_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, rows_box);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, decode_key);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, decode_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, preprocess_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, forward_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, median_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, inference_fps_key);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, inference_fps_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, display_fps_key);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, display_fps_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, latency_key);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, latency_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, model_grid);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, builtin_hint);
  gtk_widget_class_bind_template_child (widget_class, VitlensResultsPanel, builtin_hint_label);
  gtk_widget_class_set_css_name (widget_class, "resultspanel");
}

static void
vitlens_results_panel_init (VitlensResultsPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  vitlens_prediction_rows_init (&self->rows, self->rows_box, "prediction-row");

  /* Long architecture names lose their middle; the tooltip has all of it. */
  for (int f = 0; f < N_FACTS; f++)
    self->facts[f] = GTK_LABEL (vitlens_key_value_add (self->model_grid, f, &fact_titles[f],
                                                       VITLENS_KEY_VALUE_ELLIPSIZE, NULL));
}

GtkWidget *
vitlens_results_panel_new (void)
{
  return g_object_new (VITLENS_TYPE_RESULTS_PANEL, NULL);
}

void
vitlens_results_panel_set_model (VitlensResultsPanel     *self,
                                 const VitlensModelFacts *facts)
{
  g_return_if_fail (VITLENS_IS_RESULTS_PANEL (self));

  /* The built-in model is Fashion-MNIST's: a horse dropped on it comes out "Bag", and this says why. */
  gtk_widget_set_visible (self->builtin_hint, facts != NULL && facts->path == NULL);
  if (facts == NULL)
    {
      for (guint f = 0; f < N_FACTS; f++)
        set_fact (self, f, NULL);
      return;
    }

  set_fact (self, FACT_NAME, facts->display_name);
  set_fact (self, FACT_ARCHITECTURE, facts->architecture);
  set_fact_take (self, FACT_PARAMETERS, format_count (facts->num_params));
  set_fact_take (self, FACT_FILE_SIZE, facts->file_bytes > 0 ? g_format_size (facts->file_bytes) : NULL);
  set_fact_take (self, FACT_INPUT,
                 /* Translators: the model's input: side × side pixels, colour, patch side */
                 g_strdup_printf (facts->in_chans == 1 ? _("%d×%d gray, patch %d")
                                                       : _("%d×%d RGB, patch %d"),
                                  facts->img_size, facts->img_size, facts->patch_size));
  if (facts->num_labels > 0)
    set_fact_take (self, FACT_CLASSES, g_strdup_printf ("%d", facts->num_classes));
  else
    /* Translators: the number of classes of a model that has no class names */
    set_fact_take (self, FACT_CLASSES, g_strdup_printf (_("%d (unnamed)"), facts->num_classes));
  set_fact (self, FACT_THREADS, NULL);
  set_fact (self, FACT_KERNEL, NULL);
}

void
vitlens_results_panel_set_placeholder (VitlensResultsPanel *self,
                                       const char          *text)
{
  g_return_if_fail (VITLENS_IS_RESULTS_PANEL (self));

  gtk_label_set_label (self->placeholder_label, text);
}

void
vitlens_results_panel_set_variant (VitlensResultsPanel *self,
                                   vit_variant          variant)
{
  g_return_if_fail (VITLENS_IS_RESULTS_PANEL (self));

  set_fact (self, FACT_VARIANT, vitlens_variant_label (vit_variant_name (variant)));
}

/* No results: the placeholder, "—" everywhere, and the stream's window forgotten. */
static void
clear_numbers (VitlensResultsPanel *self)
{
  gtk_stack_set_visible_child_name (self->predictions_stack, "empty");
  gtk_label_set_label (self->decode_label, dash);
  gtk_label_set_label (self->preprocess_label, dash);
  gtk_label_set_label (self->forward_label, dash);
  gtk_label_set_label (self->median_label, dash);
  gtk_label_set_label (self->inference_fps_label, dash);
  gtk_label_set_label (self->display_fps_label, dash);
  gtk_label_set_label (self->latency_label, dash);
  set_fact (self, FACT_THREADS, NULL);
  set_fact (self, FACT_KERNEL, NULL);
  self->rows.n_visible = 0;
  self->n_forward = 0;
}

void
vitlens_results_panel_set_prediction (VitlensResultsPanel *self,
                                      const VitlensResult *prediction,
                                      double               decode_ms)
{
  g_return_if_fail (VITLENS_IS_RESULTS_PANEL (self));

  if (prediction == NULL)
    {
      clear_numbers (self);
      return;
    }
  /* An image's answer that came late, after a stream started: the stream's numbers stay. */
  g_return_if_fail (!self->stream);

  vitlens_prediction_rows_show (&self->rows, prediction, prediction->k, NULL);
  gtk_stack_set_visible_child_name (self->predictions_stack, "rows");

  set_label_ms (self->decode_label, decode_ms);
  set_label_ms (self->preprocess_label, prediction->preprocess_ms);
  if (prediction->first_run)
    {
      g_autofree char *ms = vitlens_format_ms (prediction->forward_ms);
      /* Translators: the forward time of a variant's first run, which sets up its buffers and
       * is slower than the runs after it (it is left out of the median) */
      g_autofree char *text = g_strdup_printf (_("%s (first run, includes warm-up)"), ms);

      gtk_label_set_label (self->forward_label, text);
    }
  else
    set_label_ms (self->forward_label, prediction->forward_ms);
  if (prediction->median_runs == 0)
    gtk_label_set_label (self->median_label, dash); /* only a first run so far */
  else
    {
      g_autofree char *ms = vitlens_format_ms (prediction->median_forward_ms);
      /* Translators: the median forward time, then over how many runs it was taken */
      g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s (%d run)", "%s (%d runs)",
                                                            prediction->median_runs),
                                               ms, prediction->median_runs);
      gtk_label_set_label (self->median_label, text);
    }

  set_fact (self, FACT_VARIANT, vitlens_variant_label (vit_variant_name (prediction->variant)));
  set_fact_take (self, FACT_THREADS, g_strdup_printf ("%d", prediction->threads));
  set_fact (self, FACT_KERNEL, prediction->kernel);
}

void
vitlens_results_panel_set_stream (VitlensResultsPanel *self,
                                  gboolean             stream)
{
  g_return_if_fail (VITLENS_IS_RESULTS_PANEL (self));

  self->stream = !!stream;
  /* Stream frames arrive decoded: no decode time to show. */
  gtk_widget_set_visible (self->decode_key, !stream);
  gtk_widget_set_visible (GTK_WIDGET (self->decode_label), !stream);
  gtk_widget_set_visible (self->inference_fps_key, stream);
  gtk_widget_set_visible (GTK_WIDGET (self->inference_fps_label), stream);
  gtk_widget_set_visible (self->display_fps_key, stream);
  gtk_widget_set_visible (GTK_WIDGET (self->display_fps_label), stream);
  gtk_widget_set_visible (self->latency_key, stream);
  gtk_widget_set_visible (GTK_WIDGET (self->latency_label), stream);
  clear_numbers (self);
}

gboolean
vitlens_results_panel_get_stream (VitlensResultsPanel *self)
{
  g_return_val_if_fail (VITLENS_IS_RESULTS_PANEL (self), FALSE);

  return self->stream;
}

void
vitlens_results_panel_add_stream_result (VitlensResultsPanel *self,
                                         const VitlensResult *result)
{
  double sorted[VITLENS_RESULTS_PANEL_STREAM_WINDOW];
  guint n;
  double median;

  g_return_if_fail (VITLENS_IS_RESULTS_PANEL (self));
  g_return_if_fail (self->stream);

  if (result == NULL)
    {
      g_autofree char *display = g_strdup (gtk_label_get_label (self->display_fps_label));

      /* Frames may still be shown while no result has come (a model loading). */
      clear_numbers (self);
      gtk_label_set_label (self->display_fps_label, display);
      return;
    }

  /* Times taken with another model, variant or number of threads do not mix. */
  if (self->n_forward > 0
      && (result->variant != self->window_variant || result->threads != self->window_threads
          || result->model_serial != self->window_model))
    self->n_forward = 0;
  self->window_variant = result->variant;
  self->window_threads = result->threads;
  self->window_model = result->model_serial;
  self->forward_window[self->n_forward++ % VITLENS_RESULTS_PANEL_STREAM_WINDOW] = result->forward_ms;

  /* Median of the latest VITLENS_RESULTS_PANEL_STREAM_WINDOW forward passes. */
  n = MIN (self->n_forward, VITLENS_RESULTS_PANEL_STREAM_WINDOW);
  median = vitlens_stats_median (self->forward_window, n, sorted);

  set_label_ms (self->preprocess_label, result->preprocess_ms);
  set_label_ms (self->forward_label, result->forward_ms);
  {
    g_autofree char *ms = vitlens_format_ms (median);
    /* Translators: the median forward time of a stream, then over how many of its latest frames */
    g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s (last %u frame)",
                                                          "%s (last %u frames)", n),
                                             ms, n);
    gtk_label_set_label (self->median_label, text);
  }
  set_label_fps (self->inference_fps_label, result->inference_fps);
  set_label_ms (self->latency_label, result->latency_ms);

  set_fact (self, FACT_VARIANT, vitlens_variant_label (vit_variant_name (result->variant)));
  set_fact_take (self, FACT_THREADS, g_strdup_printf ("%d", result->threads));
  set_fact (self, FACT_KERNEL, result->kernel);
}

void
vitlens_results_panel_set_display_fps (VitlensResultsPanel *self,
                                       double               fps)
{
  g_return_if_fail (VITLENS_IS_RESULTS_PANEL (self));

  set_label_fps (self->display_fps_label, fps);
}

const VitlensPredictionRows *
vitlens_results_panel_get_rows (VitlensResultsPanel *self)
{
  g_return_val_if_fail (VITLENS_IS_RESULTS_PANEL (self), NULL);

  return &self->rows;
}

const char *
vitlens_results_panel_get_fact (VitlensResultsPanel *self,
                                const char          *key)
{
  int fact;

  g_return_val_if_fail (VITLENS_IS_RESULTS_PANEL (self), NULL);

  if (g_str_equal (key, "decode"))
    return gtk_label_get_label (self->decode_label);
  if (g_str_equal (key, "preprocess"))
    return gtk_label_get_label (self->preprocess_label);
  if (g_str_equal (key, "forward"))
    return gtk_label_get_label (self->forward_label);
  if (g_str_equal (key, "median"))
    return gtk_label_get_label (self->median_label);
  if (g_str_equal (key, "inference-fps"))
    return gtk_label_get_label (self->inference_fps_label);
  if (g_str_equal (key, "display-fps"))
    return gtk_label_get_label (self->display_fps_label);
  if (g_str_equal (key, "latency"))
    return gtk_label_get_label (self->latency_label);
  fact = vitlens_key_title_find (fact_titles, N_FACTS, key);
  g_return_val_if_fail (fact >= 0, NULL);
  return gtk_label_get_label (self->facts[fact]);
}

const char *
vitlens_results_panel_get_hint (VitlensResultsPanel *self)
{
  g_return_val_if_fail (VITLENS_IS_RESULTS_PANEL (self), NULL);

  return gtk_widget_get_visible (self->builtin_hint) ? gtk_label_get_label (self->builtin_hint_label) : NULL;
}
