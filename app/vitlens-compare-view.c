/* vitlens-compare-view.c — compare mode: every variant side by side, with the speed chart
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * The tutorial's speed table, live. One column per variant (fp32, int8, optimized, lite): its
 * top-k (a row whose class differs from the reference's at the same rank is marked), the last
 * and the median forward time over a rolling window, the p10–p90 spread, the speed-up against
 * fp32 as the tutorial's "Reduction" and in words ("2.1× faster"; "≈ same" when the p10–p90
 * bands overlap, so the difference is within the noise), the file it runs from and its size
 * reduction, and how
 * often its top-1 agreed with fp32's. Beside them, the input and the chart (vitlens-chart.c,
 * the same picture `vitlens-cli bench --plot` writes) with, for streams, a latency trace.
 *
 * The view only keeps statistics and draws; the comparisons come from VitlensInference's worker
 * thread (vitlens_inference_compare_async), so nothing here waits on the engine.
 */
#define G_LOG_DOMAIN "vitlens-compare-view"

#include "vitlens-config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "vitlens-attention-overlay.h"
#include "vitlens-compare-view.h"
#include "vitlens-key-values.h"
#include "vitlens-prediction-rows.h"
#include "vitlens-stats.h"

static const char *dash = "—";

/* A column's value rows, in order; @key names them for vitlens_compare_view_get_value(). */
typedef enum
{
  VALUE_LAST,
  VALUE_MEDIAN,
  VALUE_SPREAD,
  VALUE_REDUCTION,
  VALUE_SIZE,
  VALUE_SIZE_REDUCTION,
  VALUE_AGREEMENT,
  VALUE_LATENCY,
  N_VALUES
} Value;

static const VitlensKeyTitle value_titles[N_VALUES] = {
  [VALUE_LAST] = { "last", N_("Last"), N_("The forward pass of the latest run") },
  [VALUE_MEDIAN] = { "median", N_("Median"), N_("Median forward pass over the latest runs (at most 64)") },
  [VALUE_SPREAD] = { "spread", N_("p10–p90"), N_("10th and 90th percentiles: one run in ten was faster than the first, one in ten slower than the second") },
  [VALUE_REDUCTION] = { "reduction", N_("Reduction"), N_("Time saved against fp32, by the medians, and how many times faster or slower that is; “≈ same” when the p10–p90 bands overlap") },
  [VALUE_SIZE] = { "size", N_("Size"), N_("The model file this variant runs from") },
  [VALUE_SIZE_REDUCTION] = { "size-reduction", N_("Size reduction"), N_("File size saved against fp32") },
  [VALUE_AGREEMENT] = { "agreement", N_("Top-1 agreement"), N_("Inputs whose top class is the same as fp32's") },
  [VALUE_LATENCY] = { "latency", N_("Latency"), N_("From the frame's capture to this variant's result, median") },
};

/* The op classes of the engine's profile (vit_op), as the time bars' legend names them. */
static const char *const op_titles[VIT_OP_COUNT] = {
  [VIT_OP_PATCH] = N_("Patch embedding"),
  [VIT_OP_LAYERNORM] = N_("LayerNorm (+ quantize)"),
  [VIT_OP_QKV] = N_("qkv"),
  [VIT_OP_ATTENTION] = N_("Attention"),
  [VIT_OP_PROJ] = N_("proj"),
  [VIT_OP_FC1] = N_("fc1 + GELU"),
  [VIT_OP_FC2] = N_("fc2"),
  [VIT_OP_HEAD] = N_("Head"),
  [VIT_OP_OTHER] = N_("Other"),
};

typedef struct
{
  /* what it is */
  char        *name;
  vit_variant  variant;
  gboolean     lite;
  gint64       file_bytes;

  /* statistics */
  double       ms[VITLENS_COMPARE_WINDOW];     /* ring */
  guint        n_ms;                           /* runs so far (the ring holds the latest) */
  double       last_ms;
  double       latency[VITLENS_COMPARE_TRACE]; /* ring */
  guint        n_latency;
  guint        agree;
  guint        inputs;

  /* the latest answer: its top-k, and the threads and kernel of the session that ran */
  VitlensResult *result;
  gboolean     marked[VIT_TOPK_MAX];
  /* where the time of its latest comparison went, per vit_op class */
  gboolean     profiled;
  double       op_ms[VIT_OP_COUNT];

  /* widgets */
  GtkWidget   *card;
  GtkWidget   *title;
  GtkWidget   *badge;
  GtkWidget   *rows_box;
  GtkWidget   *attention;  /* the input with this variant's attention (win.show-attention) */
  VitlensPredictionRows rows;
  GtkWidget   *value_keys[N_VALUES];
  GtkWidget   *values[N_VALUES];

  /* the chart's copy of the trace, oldest first */
  double       trace[VITLENS_COMPARE_TRACE];
  /* the chart's note beside the reduction: "2.1× faster", "≈ same" (NULL: none) */
  char        *speed;
} Column;

struct _VitlensCompareView
{
  GtkBox          parent_instance;

  /* template widgets */
  GtkLabel       *summary_label;
  GtkPicture     *preview_picture;
  GtkDrawingArea *chart_area;
  GtkDrawingArea *profile_area;
  GtkStack       *columns_stack;
  GtkLabel       *placeholder_label;
  GtkBox         *columns_box;
  GtkWidget      *progress_box;
  GtkLabel       *progress_label;
  GtkProgressBar *progress_bar;

  Column          columns[VITLENS_COMPARE_MAX_COLUMNS];
  guint           n_columns;
  int             reference;
  char           *model_name;
  char           *source_name;
  gboolean        stream;
  guint           n_comparisons;
  char           *note;          /* how the runs were stopped, after "12 runs per variant" */
  int             round, rounds; /* the comparison under way: round of rounds; 0 of 0: none */
  gboolean        show_attention;

  /* the chart's strings */
  char           *chart_subtitle;
  char           *chart_trace_title;
};

G_DEFINE_FINAL_TYPE (VitlensCompareView, vitlens_compare_view, GTK_TYPE_BOX)

/* ---------------------------------------------------------------------------------------------
 * Statistics */

/* The window, sorted; returns how many. */
static guint
sorted_window (const Column *column,
               double       *out)
{
  guint n = MIN (column->n_ms, VITLENS_COMPARE_WINDOW);

  memcpy (out, column->ms, n * sizeof (double));
  vitlens_stats_sort (out, n);
  return n;
}

static double
column_median (const Column *column)
{
  double sorted[VITLENS_COMPARE_WINDOW];
  guint n = sorted_window (column, sorted);

  return vitlens_stats_median_sorted (sorted, n);
}

static double
column_latency_median (const Column *column)
{
  double sorted[VITLENS_COMPARE_TRACE];
  guint n = MIN (column->n_latency, VITLENS_COMPARE_TRACE);

  return vitlens_stats_median (column->latency, n, sorted);
}

/* The trace, oldest first, into column->trace; returns its length. */
static int
column_trace (Column *column)
{
  guint n = MIN (column->n_latency, VITLENS_COMPARE_TRACE);
  guint start = column->n_latency - n;

  for (guint i = 0; i < n; i++)
    column->trace[i] = column->latency[(start + i) % VITLENS_COMPARE_TRACE];
  return (int)n;
}

static const Column *
reference_column (VitlensCompareView *self)
{
  if (self->n_columns == 0)
    return NULL;
  return &self->columns[CLAMP (self->reference, 0, (int)self->n_columns - 1)];
}

/* The column's median and p10–p90 band, as the chart draws them. */
static void
column_chart_row (const Column    *column,
                  VitlensChartRow *row)
{
  double sorted[VITLENS_COMPARE_WINDOW];
  guint n = sorted_window (column, sorted);

  row->name = column->name;
  row->median_ms = vitlens_stats_median_sorted (sorted, n);
  row->p10_ms = vitlens_stats_percentile_sorted (sorted, n, 10);
  row->p90_ms = vitlens_stats_percentile_sorted (sorted, n, 90);
}

/* How @column compares with the reference by the medians (vitlens_chart_speed): 1 faster, -1
 * slower, 0 within the noise; @factor >= 1. FALSE when there is nothing to compare. */
static gboolean
column_speed (VitlensCompareView *self,
              const Column       *column,
              int                *way,
              double             *factor)
{
  const Column *ref = reference_column (self);
  VitlensChartRow a = { 0 }, b = { 0 };

  if (ref == NULL || column == ref || column->n_ms == 0 || ref->n_ms == 0)
    return FALSE;
  column_chart_row (column, &a);
  column_chart_row (ref, &b);
  *way = vitlens_chart_speed (&a, &b, factor);
  return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * Formatting */

/* "2.1× faster", "1.3× slower", "≈ same"; NULL when there is nothing to compare. */
static char *
format_speed (VitlensCompareView *self,
              const Column       *column)
{
  g_autofree char *number = NULL;
  double factor;
  int way;

  if (!column_speed (self, column, &way, &factor))
    return NULL;
  if (way == 0)
    /* Translators: in compare mode, a variant whose time differs from fp32's by less than the
     * machine's noise (their p10–p90 bands overlap) */
    return g_strdup (_("≈ same"));
  number = g_strdup_printf ("%.*f", vitlens_chart_factor_digits (factor), factor);
  if (way > 0)
    /* Translators: a speed-up against fp32, e.g. "2.1× faster" */
    return g_strdup_printf (_("%s× faster"), number);
  /* Translators: a slow-down against fp32, e.g. "1.3× slower" */
  return g_strdup_printf (_("%s× slower"), number);
}

static char *
format_percent (double value)
{
  /* Translators: a percentage, e.g. a reduction of "42.5%" */
  return g_strdup_printf (_("%.1f%%"), value);
}

static char *
column_value (VitlensCompareView *self,
              const Column       *column,
              Value               value)
{
  const Column *ref = reference_column (self);
  gboolean is_ref = column == ref;
  double sorted[VITLENS_COMPARE_WINDOW];
  guint n = sorted_window (column, sorted);

  switch (value)
    {
    case VALUE_LAST:
      return n ? vitlens_format_ms (column->last_ms) : NULL;

    case VALUE_MEDIAN:
      return n ? vitlens_format_ms (vitlens_stats_median_sorted (sorted, n)) : NULL;

    case VALUE_SPREAD:
      if (n == 0)
        return NULL;
      {
        double p10 = vitlens_stats_percentile_sorted (sorted, n, 10), p90 = vitlens_stats_percentile_sorted (sorted, n, 90);
        g_autofree char *high = vitlens_format_ms (p90);
        /* the low end as a bare number in the high end's unit: "0.05–0.08 ms" */
        g_autofree char *low = p90 >= 1000 ? g_strdup_printf ("%.2f", p10 / 1000)
                                           : g_strdup_printf (p90 < 10 ? "%.2f" : "%.1f", p10);
        /* Translators: a range of times, from the 10th to the 90th percentile, e.g. "0.05–0.08 ms" */
        return g_strdup_printf (_("%s–%s"), low, high);
      }

    case VALUE_REDUCTION:
      if (is_ref)
        /* Translators: in compare mode, the column every other is measured against */
        return g_strdup (_("reference"));
      if (n == 0 || ref->n_ms == 0 || !(column_median (ref) > 0))
        return NULL;
      {
        g_autofree char *percent = format_percent (100.0 * (1.0 - vitlens_stats_median_sorted (sorted, n) / column_median (ref)));
        g_autofree char *speed = format_speed (self, column);

        /* Translators: the tutorial's reduction and the speed it means, e.g. "52.4% · 2.1× faster" */
        return g_strdup_printf (_("%s · %s"), percent, speed);
      }

    case VALUE_SIZE:
      return column->file_bytes > 0 ? g_format_size (column->file_bytes) : NULL;

    case VALUE_SIZE_REDUCTION:
      if (is_ref)
        return g_strdup (_("reference"));
      if (column->file_bytes <= 0 || ref->file_bytes <= 0)
        return NULL;
      return format_percent (100.0 * (1.0 - (double)column->file_bytes / (double)ref->file_bytes));

    case VALUE_AGREEMENT:
      if (is_ref)
        return g_strdup (_("reference"));
      if (column->inputs == 0)
        return NULL;
      /* Translators: top-1 agreement with fp32: "3 of 4" inputs */
      return g_strdup_printf (_("%u of %u"), column->agree, column->inputs);

    case VALUE_LATENCY:
      return column->n_latency ? vitlens_format_ms (column_latency_median (column)) : NULL;

    case N_VALUES:
    default:
      break;
    }

  g_return_val_if_reached (NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Columns */

static void
column_clear (Column *column)
{
  g_clear_pointer (&column->name, g_free);
  g_clear_pointer (&column->speed, g_free);
  g_clear_pointer (&column->result, vitlens_result_unref);
}

static int
column_k (const Column *column)
{
  return column->result ? column->result->k : 0;
}

static int
column_threads (const Column *column)
{
  return column->result ? column->result->threads : 0;
}

static const char *
column_kernel (const Column *column)
{
  return column->result ? column->result->kernel : NULL;
}

static void
make_column_widgets (VitlensCompareView *self,
                     Column             *column)
{
  GtkWidget *heading = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *grid = gtk_grid_new ();

  column->card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  gtk_widget_add_css_class (column->card, "vitlens-card");
  gtk_widget_add_css_class (column->card, "compare-column");
  gtk_widget_set_hexpand (column->card, TRUE);

  column->title = gtk_label_new (vitlens_variant_label (column->name)); /* "optimized", "lite" translated */
  gtk_label_set_xalign (GTK_LABEL (column->title), 0);
  gtk_widget_add_css_class (column->title, "title-3");
  gtk_box_append (GTK_BOX (heading), column->title);
  column->badge = gtk_label_new (_("reference"));
  gtk_widget_add_css_class (column->badge, "compare-badge");
  gtk_widget_set_valign (column->badge, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (column->badge, FALSE);
  gtk_box_append (GTK_BOX (heading), column->badge);
  gtk_box_append (GTK_BOX (column->card), heading);

  column->attention = vitlens_attention_overlay_new ();
  gtk_widget_set_size_request (column->attention, -1, 150);
  gtk_widget_add_css_class (column->attention, "compare-attention");
  vitlens_attention_overlay_set_paintable (VITLENS_ATTENTION_OVERLAY (column->attention),
                                           gtk_picture_get_paintable (self->preview_picture));
  gtk_box_append (GTK_BOX (column->card), column->attention);

  column->rows_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (column->rows_box, "compare-rows");
  gtk_accessible_update_relation (GTK_ACCESSIBLE (column->rows_box),
                                  GTK_ACCESSIBLE_RELATION_LABELLED_BY, column->title, NULL,
                                  -1);
  gtk_box_append (GTK_BOX (column->card), column->rows_box);
  vitlens_prediction_rows_init (&column->rows, GTK_BOX (column->rows_box), "compare-row");
  column->rows.marker_shown = TRUE;

  gtk_box_append (GTK_BOX (column->card), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));

  gtk_grid_set_column_spacing (GTK_GRID (grid), 10);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_widget_add_css_class (grid, "compare-values");
  /* Keys may wrap; values are numbers, never cut: they keep their natural width, and the cards
   * reflow instead (columns_layout_allocate). */
  for (int v = 0; v < N_VALUES; v++)
    column->values[v] = vitlens_key_value_add (GTK_GRID (grid), v, &value_titles[v],
                                               VITLENS_KEY_VALUE_NUMERIC | VITLENS_KEY_VALUE_WRAP_KEY,
                                               &column->value_keys[v]);
  gtk_box_append (GTK_BOX (column->card), grid);

  gtk_box_append (self->columns_box, column->card);
}

static void
update_column_widgets (VitlensCompareView *self,
                       Column             *column)
{
  gboolean is_ref = column == reference_column (self);

  gtk_widget_set_visible (column->badge, is_ref);
  if (is_ref)
    gtk_widget_add_css_class (column->card, "reference");
  else
    gtk_widget_remove_css_class (column->card, "reference");

  vitlens_prediction_rows_show (&column->rows, column->result, column_k (column), column->marked);
  gtk_widget_set_visible (column->attention, self->show_attention);
  vitlens_attention_overlay_set_result (VITLENS_ATTENTION_OVERLAY (column->attention),
                                        self->show_attention ? column->result : NULL);

  for (int v = 0; v < N_VALUES; v++)
    {
      g_autofree char *text = column_value (self, column, v);
      gboolean shown = v != VALUE_LATENCY || self->stream;

      gtk_label_set_label (GTK_LABEL (column->values[v]), text ? text : dash);
      gtk_widget_set_visible (column->values[v], shown);
      gtk_widget_set_visible (column->value_keys[v], shown);
    }

  /* Within the noise: said so, and why. */
  {
    GtkWidget *reduction = column->values[VALUE_REDUCTION];
    g_autofree char *tooltip = NULL;
    double factor;
    int way;

    g_free (column->speed);
    column->speed = format_speed (self, column);
    if (column_speed (self, column, &way, &factor) && way == 0)
      /* Translators: the tooltip of "≈ same" in compare mode; %s are variants, e.g. "int8", "fp32" */
      tooltip = g_strdup_printf (_("The p10–p90 bands of %s and %s overlap: the difference between their medians is within this machine's noise"),
                                 column->name, reference_column (self)->name);
    gtk_widget_set_tooltip_text (reduction, tooltip);
    if (tooltip != NULL)
      gtk_widget_add_css_class (reduction, "within-noise");
    else
      gtk_widget_remove_css_class (reduction, "within-noise");
  }
}

static void
remove_columns (VitlensCompareView *self)
{
  for (guint c = 0; c < self->n_columns; c++)
    {
      if (self->columns[c].card != NULL)
        gtk_box_remove (self->columns_box, self->columns[c].card);
      column_clear (&self->columns[c]);
      memset (&self->columns[c], 0, sizeof (Column));
    }
  self->n_columns = 0;
}

/* ---------------------------------------------------------------------------------------------
 * The cards' layout: all in one row when they fit with every number whole, else two per row
 * (4 → 2×2), else one per row. Every card gets the same width; a row is as tall as its tallest
 * card at that width. */

#define CARD_GAP 12

/* Cards per row at @width: n, or half of them, or one. */
static int
cards_per_row (GtkWidget *box,
               int        width,
               int       *n_cards)
{
  int n = 0, min_card = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (box); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (gtk_widget_should_layout (child))
      {
        int min = 0;

        gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1, &min, NULL, NULL, NULL);
        min_card = MAX (min_card, min);
        n++;
      }
  *n_cards = n;
  if (n == 0)
    return 1;
  for (int per = n; per > 1; per = per > 2 ? (per + 1) / 2 : 1)
    if (per * min_card + (per - 1) * CARD_GAP <= width)
      return per;
  return 1;
}

/* The cards laid out at @width: their heights in rows (allocated when @allocate). */
static int
columns_layout_rows (GtkWidget *box,
                     int        width,
                     gboolean   allocate)
{
  int n, per = cards_per_row (box, width, &n);
  int card_width = MAX (0, (width - (per - 1) * CARD_GAP) / per);
  int y = 0, i = 0;
  GtkWidget *row_start = gtk_widget_get_first_child (box);

  while (row_start != NULL)
    {
      GtkWidget *child, *next = NULL;
      int row_height = 0, k = 0;

      for (child = row_start; child != NULL && k < per; child = gtk_widget_get_next_sibling (child))
        if (gtk_widget_should_layout (child))
          {
            int min = 0;

            gtk_widget_measure (child, GTK_ORIENTATION_VERTICAL, card_width, &min, NULL, NULL, NULL);
            row_height = MAX (row_height, min);
            k++;
          }
      next = child;
      if (k == 0)
        break;
      if (allocate)
        {
          int x = 0;

          for (child = row_start; child != next; child = gtk_widget_get_next_sibling (child))
            if (gtk_widget_should_layout (child))
              {
                gtk_widget_size_allocate (child, &(GtkAllocation) { x, y, card_width, row_height }, -1);
                x += card_width + CARD_GAP;
              }
        }
      y += row_height + CARD_GAP;
      i += k;
      row_start = next;
    }
  return i > 0 ? y - CARD_GAP : 0;
}

static GtkSizeRequestMode
columns_layout_request_mode (GtkWidget *box)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
columns_layout_measure (GtkWidget      *box,
                        GtkOrientation  orientation,
                        int             for_size,
                        int            *minimum,
                        int            *natural,
                        int            *minimum_baseline,
                        int            *natural_baseline)
{
  int min_card = 0, nat_sum = 0, n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (box); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (gtk_widget_should_layout (child))
      {
        int min = 0, nat = 0;

        gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
        min_card = MAX (min_card, min);
        nat_sum += nat;
        n++;
      }

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* at least one card's width; at best all side by side */
      *minimum = min_card;
      *natural = MAX (min_card, nat_sum + MAX (0, n - 1) * CARD_GAP);
    }
  else
    {
      int width = for_size >= 0 ? for_size : MAX (min_card, nat_sum + MAX (0, n - 1) * CARD_GAP);

      *minimum = *natural = columns_layout_rows (box, width, FALSE);
    }
}

static void
columns_layout_allocate (GtkWidget *box,
                         int        width,
                         int        height,
                         int        baseline)
{
  columns_layout_rows (box, width, TRUE);
}

/* The same variants as before, in the same order? */
static gboolean
same_columns (VitlensCompareView      *self,
              const VitlensComparison *comparison)
{
  if (self->n_columns != (guint)comparison->n_columns)
    return FALSE;
  for (guint c = 0; c < self->n_columns; c++)
    if (g_strcmp0 (self->columns[c].name, comparison->columns[c].name) != 0)
      return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * Summary and chart */

static void
update_summary (VitlensCompareView *self)
{
  g_autoptr(GString) text = g_string_new (NULL);
  const Column *ref = reference_column (self);

  if (self->model_name != NULL)
    g_string_append (text, self->model_name);
  if (ref != NULL && column_threads (ref) > 0)
    {
      g_string_append (text, " · ");
      g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%d thread", "%d threads", column_threads (ref)),
                              column_threads (ref));
    }
  if (ref != NULL && ref->n_ms > 0)
    {
      g_string_append (text, " · ");
      /* Translators: how many times each variant has run in compare mode */
      g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u run per variant",
                                                 "%u runs per variant", ref->n_ms),
                              ref->n_ms);
      if (self->note != NULL && !self->stream)
        {
          /* Translators: separates "12 runs per variant" from how they were run */
          g_string_append (text, _(", "));
          g_string_append (text, self->note);
        }
    }
  if (self->source_name != NULL)
    {
      g_string_append (text, " · ");
      g_string_append (text, self->source_name);
    }
  gtk_label_set_label (self->summary_label, text->str);
}

void
vitlens_compare_view_get_chart (VitlensCompareView *self,
                                VitlensChart       *chart)
{
  g_return_if_fail (VITLENS_IS_COMPARE_VIEW (self));

  memset (chart, 0, sizeof *chart);
  chart->title = self->model_name;
  chart->subtitle = self->chart_subtitle;
  chart->reference = self->reference;
  for (guint c = 0; c < self->n_columns && chart->n_rows < VITLENS_CHART_MAX_ROWS; c++)
    {
      Column *column = &self->columns[c];
      VitlensChartRow *row = &chart->rows[chart->n_rows++];

      column_chart_row (column, row);
      row->name = vitlens_variant_label (column->name); /* the picture's words: translated */
      row->speed = column->speed;
      row->op_ms = column->profiled ? column->op_ms : NULL;
      if (self->stream)
        {
          row->n_trace = column_trace (column);
          row->trace = column->trace;
        }
    }
  if (self->stream)
    chart->trace_title = self->chart_trace_title;
  /* Translators: the heading of Compare's stacked bars of time per kind of operation */
  chart->profile_title = _("Where the time goes");
  /* Translators: milliseconds, after the times in Compare's chart and under its axis */
  chart->unit = C_("unit", "ms");
  for (int k = 0; k < VIT_OP_COUNT; k++)
    chart->op_labels[k] = _(op_titles[k]);
}

static gboolean
is_dark (GtkWidget *widget)
{
  GdkRGBA fg;

  /* The text colour tells the theme: light text, dark background. */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return 0.2126 * fg.red + 0.7152 * fg.green + 0.0722 * fg.blue > 0.5;
}

/* The time bars' height follows the legend's lines at the width they get. */
static void
update_profile_area (VitlensCompareView *self)
{
  GtkWidget *area = GTK_WIDGET (self->profile_area);
  VitlensChart chart;
  int width = gtk_widget_get_width (area);

  vitlens_compare_view_get_chart (self, &chart);
  gtk_widget_set_visible (area, vitlens_chart_has_profile (&chart));
  gtk_drawing_area_set_content_height (self->profile_area,
                                       (int)ceil (vitlens_chart_profile_height (&chart, width > 0 ? width : 600)));
  gtk_widget_queue_draw (area);
}

static void
draw_chart (GtkDrawingArea *area,
            cairo_t        *cr,
            int             width,
            int             height,
            gpointer        user_data)
{
  VitlensCompareView *self = VITLENS_COMPARE_VIEW (user_data);
  VitlensChart chart;

  vitlens_compare_view_get_chart (self, &chart);
  chart.title = NULL; /* the view's heading says it */
  chart.dark = is_dark (GTK_WIDGET (area));
  /* the chart, or under it where each variant's forward pass spends its time */
  if (area == self->profile_area)
    vitlens_chart_draw_profile (&chart, cr, width, height);
  else
    vitlens_chart_draw (&chart, cr, width, height);
}

/* "Running fp32 · int8 · optimized · lite, round 3 of 12…" and its bar, while one runs. */
static void
update_progress (VitlensCompareView *self)
{
  g_autoptr(GString) names = g_string_new (NULL);
  g_autofree char *text = NULL;

  gtk_widget_set_visible (self->progress_box, self->rounds > 0);
  if (self->rounds <= 0)
    return;
  for (guint c = 0; c < self->n_columns; c++)
    g_string_append_printf (names, "%s%s", c ? " · " : "", self->columns[c].name);
  /* Translators: in compare mode while it runs: "Running fp32 · int8, round 3 of 12…" (the
   * variants, or "every variant" before they are known) */
  text = g_strdup_printf (_("Running %s, round %d of %d…"),
                          names->len ? names->str : _("every variant"), self->round, self->rounds);
  gtk_label_set_label (self->progress_label, text);
  gtk_progress_bar_set_fraction (self->progress_bar, CLAMP ((double)(self->round - 1) / self->rounds, 0, 1));
}

static void
refresh (VitlensCompareView *self)
{
  for (guint c = 0; c < self->n_columns; c++)
    update_column_widgets (self, &self->columns[c]);
  update_summary (self);
  update_progress (self);
  gtk_stack_set_visible_child_name (self->columns_stack, self->n_columns > 0 ? "columns" : "empty");
  gtk_widget_queue_draw (GTK_WIDGET (self->chart_area));
  update_profile_area (self);
}

/* ---------------------------------------------------------------------------------------------
 * GObject */

static void
vitlens_compare_view_dispose (GObject *object)
{
  VitlensCompareView *self = (VitlensCompareView *)object;

  for (guint c = 0; c < self->n_columns; c++)
    column_clear (&self->columns[c]);
  self->n_columns = 0;
  gtk_widget_dispose_template (GTK_WIDGET (self), VITLENS_TYPE_COMPARE_VIEW);

  G_OBJECT_CLASS (vitlens_compare_view_parent_class)->dispose (object);
}

static void
vitlens_compare_view_finalize (GObject *object)
{
  VitlensCompareView *self = (VitlensCompareView *)object;

  g_free (self->model_name);
  g_free (self->source_name);
  g_free (self->chart_subtitle);
  g_free (self->chart_trace_title);
  g_free (self->note);

  G_OBJECT_CLASS (vitlens_compare_view_parent_class)->finalize (object);
}

static void
vitlens_compare_view_class_init (VitlensCompareViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = vitlens_compare_view_dispose;
  object_class->finalize = vitlens_compare_view_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               APP_RESOURCE_PATH "/ui/vitlens-compare-view.ui");
  gtk_widget_class_bind_template_child (widget_class, VitlensCompareView, summary_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensCompareView, preview_picture);
  gtk_widget_class_bind_template_child (widget_class, VitlensCompareView, chart_area);
  gtk_widget_class_bind_template_child (widget_class, VitlensCompareView, profile_area);
  gtk_widget_class_bind_template_child (widget_class, VitlensCompareView, columns_stack);
  gtk_widget_class_bind_template_child (widget_class, VitlensCompareView, placeholder_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensCompareView, columns_box);
  gtk_widget_class_bind_template_child (widget_class, VitlensCompareView, progress_box);
  gtk_widget_class_bind_template_child (widget_class, VitlensCompareView, progress_label);
  gtk_widget_class_bind_template_child (widget_class, VitlensCompareView, progress_bar);
  gtk_widget_class_set_css_name (widget_class, "compareview");
}

static void
vitlens_compare_view_init (VitlensCompareView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_widget_set_layout_manager (GTK_WIDGET (self->columns_box),
                                 gtk_custom_layout_new (columns_layout_request_mode,
                                                        columns_layout_measure,
                                                        columns_layout_allocate));
  self->chart_subtitle = g_strdup (_("Median forward pass per variant, p10–p90 whiskers"));
  gtk_drawing_area_set_draw_func (self->chart_area, draw_chart, self, NULL);
  gtk_drawing_area_set_draw_func (self->profile_area, draw_chart, self, NULL);
  g_signal_connect_swapped (self->profile_area, "resize", G_CALLBACK (update_profile_area), self);
  refresh (self);
}

GtkWidget *
vitlens_compare_view_new (void)
{
  return g_object_new (VITLENS_TYPE_COMPARE_VIEW, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Public */

void
vitlens_compare_view_set_model (VitlensCompareView      *self,
                                const VitlensModelFacts *facts)
{
  g_return_if_fail (VITLENS_IS_COMPARE_VIEW (self));

  g_free (self->model_name);
  self->model_name = facts ? g_strdup (facts->display_name) : NULL;
  remove_columns (self);
  self->n_comparisons = 0;
  refresh (self);
}

void
vitlens_compare_view_reset (VitlensCompareView *self)
{
  g_return_if_fail (VITLENS_IS_COMPARE_VIEW (self));

  remove_columns (self);
  self->n_comparisons = 0;
  refresh (self);
}

void
vitlens_compare_view_set_source (VitlensCompareView *self,
                                 const char         *name,
                                 gboolean            stream)
{
  g_return_if_fail (VITLENS_IS_COMPARE_VIEW (self));

  g_free (self->source_name);
  self->source_name = g_strdup (name);
  self->stream = stream;
  /* Streams add the latency trace under the bars. */
  gtk_widget_set_size_request (GTK_WIDGET (self->chart_area), -1, stream ? 300 : 220);
  g_free (self->chart_trace_title);
  /* Translators: heading of the chart's latency trace in compare mode */
  self->chart_trace_title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                          "Latency from capture, last %d frame",
                                                          "Latency from capture, last %d frames",
                                                          VITLENS_COMPARE_TRACE),
                                             VITLENS_COMPARE_TRACE);
  refresh (self);
}

void
vitlens_compare_view_set_preview (VitlensCompareView *self,
                                  GdkPaintable       *paintable)
{
  g_return_if_fail (VITLENS_IS_COMPARE_VIEW (self));

  gtk_picture_set_paintable (self->preview_picture, paintable);
  for (guint c = 0; c < self->n_columns; c++)
    vitlens_attention_overlay_set_paintable (VITLENS_ATTENTION_OVERLAY (self->columns[c].attention), paintable);
}

void
vitlens_compare_view_set_show_attention (VitlensCompareView *self,
                                         gboolean            show)
{
  g_return_if_fail (VITLENS_IS_COMPARE_VIEW (self));

  self->show_attention = show;
  refresh (self);
}

GtkWidget *
vitlens_compare_view_get_attention (VitlensCompareView *self,
                                    guint               column)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), NULL);
  g_return_val_if_fail (column < self->n_columns, NULL);

  return self->columns[column].attention;
}

gboolean
vitlens_compare_view_get_profile (VitlensCompareView *self,
                                  guint               column,
                                  double             *op_ms)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), FALSE);
  g_return_val_if_fail (column < self->n_columns, FALSE);

  memcpy (op_ms, self->columns[column].op_ms, sizeof self->columns[column].op_ms);
  return self->columns[column].profiled;
}

void
vitlens_compare_view_set_placeholder (VitlensCompareView *self,
                                      const char         *text)
{
  g_return_if_fail (VITLENS_IS_COMPARE_VIEW (self));

  gtk_label_set_label (self->placeholder_label, text);
}

void
vitlens_compare_view_set_progress (VitlensCompareView *self,
                                   int                 round,
                                   int                 rounds)
{
  g_return_if_fail (VITLENS_IS_COMPARE_VIEW (self));

  self->round = rounds > 0 ? CLAMP (round, 1, rounds) : 0;
  self->rounds = MAX (rounds, 0);
  update_progress (self);
}

void
vitlens_compare_view_set_note (VitlensCompareView *self,
                               const char         *note)
{
  g_return_if_fail (VITLENS_IS_COMPARE_VIEW (self));

  g_free (self->note);
  self->note = g_strdup (note);
  update_summary (self);
}

void
vitlens_compare_view_add (VitlensCompareView      *self,
                          const VitlensComparison *comparison,
                          gboolean                 new_input,
                          gint64                   capture_time)
{
  const VitlensCompareColumn *ref;

  g_return_if_fail (VITLENS_IS_COMPARE_VIEW (self));
  g_return_if_fail (comparison != NULL);

  if (comparison->n_columns == 0)
    return;

  /* Another model, or a model with other variants: start again. */
  if (!same_columns (self, comparison))
    {
      remove_columns (self);
      for (int c = 0; c < comparison->n_columns; c++)
        {
          Column *column = &self->columns[c];

          column->name = g_strdup (comparison->columns[c].name);
          column->variant = comparison->columns[c].result->variant;
          column->lite = comparison->columns[c].lite;
          make_column_widgets (self, column);
        }
      self->n_columns = comparison->n_columns;
    }
  self->reference = CLAMP (comparison->reference, 0, comparison->n_columns - 1);
  ref = &comparison->columns[self->reference];

  for (int c = 0; c < comparison->n_columns; c++)
    {
      const VitlensCompareColumn *in = &comparison->columns[c];
      Column *column = &self->columns[c];

      column->file_bytes = in->file_bytes;
      column->profiled = in->profiled;
      memcpy (column->op_ms, in->op_ms, sizeof column->op_ms);

      for (int r = 0; r < in->n_runs; r++)
        {
          column->ms[column->n_ms % VITLENS_COMPARE_WINDOW] = in->forward_ms[r];
          column->n_ms++;
          column->last_ms = in->forward_ms[r];
        }
      if (capture_time >= 0 && in->done_time > 0)
        {
          column->latency[column->n_latency % VITLENS_COMPARE_TRACE] =
            MAX (0, in->done_time - capture_time) / 1000.0;
          column->n_latency++;
        }
      if (new_input && in->result->k > 0 && ref->result->k > 0)
        {
          column->inputs++;
          column->agree += in->result->index[0] == ref->result->index[0];
        }

      g_clear_pointer (&column->result, vitlens_result_unref);
      column->result = vitlens_result_ref (in->result);
      for (int i = 0; i < VIT_TOPK_MAX; i++)
        column->marked[i] = i < in->result->k && c != self->reference
                            && (i >= ref->result->k || in->result->index[i] != ref->result->index[i]);
    }
  self->n_comparisons++;
  refresh (self);
}

/* ---------------------------------------------------------------------------------------------
 * Export: CSV and Markdown as `vitlens-cli bench` writes them (English, '.' decimals), and the
 * chart as PNG */

static char *
ascii_double (double value,
              const char *format)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buf, sizeof buf, format, value));
}

/* RFC 4180: quoted when it holds a comma, a quote or a line break. */
static void
append_csv_field (GString    *out,
                  const char *text)
{
  if (text == NULL)
    return;
  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      g_string_append (out, text);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

typedef struct
{
  double median, p10, p90, reduction, size_reduction, latency;
  guint  runs;
} Numbers;

static void
column_numbers (VitlensCompareView *self,
                const Column       *column,
                Numbers            *out)
{
  const Column *ref = reference_column (self);
  double sorted[VITLENS_COMPARE_WINDOW];
  guint n = sorted_window (column, sorted);
  double ref_median = column_median (ref);

  out->runs = n;
  out->median = vitlens_stats_median_sorted (sorted, n);
  out->p10 = vitlens_stats_percentile_sorted (sorted, n, 10);
  out->p90 = vitlens_stats_percentile_sorted (sorted, n, 90);
  out->reduction = ref_median > 0 && n > 0 ? 100.0 * (1.0 - out->median / ref_median) : 0;
  out->size_reduction = column->file_bytes > 0 && ref->file_bytes > 0
                        ? 100.0 * (1.0 - (double)column->file_bytes / (double)ref->file_bytes) : 0;
  out->latency = column->n_latency ? column_latency_median (column) : -1;
}

static const char *
top1_label (const Column *column,
            char        **fallback)
{
  if (column_k (column) == 0)
    return "";
  if (column->result->label[0] != NULL)
    return column->result->label[0];
  *fallback = g_strdup_printf ("class %d", column->result->index[0]);
  return *fallback;
}

/* Op class @k's share of the column's profiled forward pass, in %. */
static double
op_percent (const Column *column,
            int           k)
{
  double sum = 0;

  for (int i = 0; i < VIT_OP_COUNT; i++)
    sum += column->op_ms[i];
  return sum > 0 ? 100.0 * column->op_ms[k] / sum : 0;
}

char *
vitlens_compare_view_to_csv (VitlensCompareView *self)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), NULL);

  g_string_append (out, "variant,median_ms,p10_ms,p90_ms,last_ms,reduction_pct,runs,file_bytes,"
                        "size_reduction_pct,top1_agree,inputs,latency_ms,top1,top1_prob,threads,kernel,"
                        "speed_factor,vs_reference");
  /* where the time goes: ms and % of the forward per op class ("patch_ms,patch_pct,…") */
  for (int k = 0; k < VIT_OP_COUNT; k++)
    g_string_append_printf (out, ",%s_ms,%s_pct", vit_op_name (k), vit_op_name (k));
  g_string_append_c (out, '\n');
  for (guint c = 0; c < self->n_columns; c++)
    {
      const Column *column = &self->columns[c];
      g_autofree char *fallback = NULL;
      g_autofree char *median = NULL, *p10 = NULL, *p90 = NULL, *last = NULL, *red = NULL;
      g_autofree char *size_red = NULL, *latency = NULL, *prob = NULL;
      Numbers num;

      column_numbers (self, column, &num);
      median = ascii_double (num.median, "%.4f");
      p10 = ascii_double (num.p10, "%.4f");
      p90 = ascii_double (num.p90, "%.4f");
      last = ascii_double (column->last_ms, "%.4f");
      red = ascii_double (num.reduction, "%.2f");
      size_red = ascii_double (num.size_reduction, "%.2f");
      latency = num.latency >= 0 ? ascii_double (num.latency, "%.3f") : g_strdup ("");
      prob = ascii_double (column_k (column) ? column->result->prob[0] : 0, "%.4f");

      append_csv_field (out, column->name);
      g_string_append_printf (out, ",%s,%s,%s,%s,%s,%u,%" G_GINT64_FORMAT ",%s,%u,%u,%s,",
                              median, p10, p90, last, red, num.runs, column->file_bytes, size_red,
                              column->agree, column->inputs, latency);
      append_csv_field (out, top1_label (column, &fallback));
      g_string_append_printf (out, ",%s,%d,", prob, column_threads (column));
      append_csv_field (out, column_kernel (column));
      /* how many times faster or slower than the reference, and which: "2.1000,faster" */
      {
        double factor = 1;
        int way = 0;
        gboolean known = column_speed (self, column, &way, &factor);
        g_autofree char *f = ascii_double (factor, "%.4f");

        g_string_append_printf (out, ",%s,%s", known ? f : "",
                                column == reference_column (self) ? "reference"
                                : !known ? "" : way > 0 ? "faster" : way < 0 ? "slower" : "same");
      }
      for (int k = 0; k < VIT_OP_COUNT; k++)
        {
          g_autofree char *ms = column->profiled ? ascii_double (column->op_ms[k], "%.4f") : g_strdup ("");
          g_autofree char *pct = column->profiled ? ascii_double (op_percent (column, k), "%.2f") : g_strdup ("");

          g_string_append_printf (out, ",%s,%s", ms, pct);
        }
      g_string_append_c (out, '\n');
    }

  return g_string_free (out, FALSE);
}

/* Markdown table cells must not break the table. */
static char *
markdown_cell (const char *text)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (const char *p = text ? text : ""; *p; p++)
    {
      if (*p == '|')
        g_string_append (out, "\\|");
      else if (*p == '\n' || *p == '\r')
        g_string_append_c (out, ' ');
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* The Markdown table of where the time goes, as `vitlens-cli bench --profile --markdown`
 * writes it: a row per op class, ms and % per variant; nothing without a profile. */
static void
append_markdown_profile (VitlensCompareView *self,
                         GString            *out)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  gboolean any = FALSE;

  for (guint c = 0; c < self->n_columns; c++)
    any |= self->columns[c].profiled;
  if (!any)
    return;
  g_string_append (out, "\n**Where the time goes** · mean of the latest comparison's runs · ms, % of "
                        "the forward\n\n| Op |");
  for (guint c = 0; c < self->n_columns; c++)
    if (self->columns[c].profiled)
      {
        g_autofree char *name = markdown_cell (self->columns[c].name);

        g_string_append_printf (out, " %s ms | %% |", name);
      }
  g_string_append (out, "\n|---|");
  for (guint c = 0; c < self->n_columns; c++)
    if (self->columns[c].profiled)
      g_string_append (out, "---|---|");
  g_string_append_c (out, '\n');
  for (int k = 0; k < VIT_OP_COUNT; k++)
    {
      g_string_append_printf (out, "| %s |", vitlens_chart_op_label (k));
      for (guint c = 0; c < self->n_columns; c++)
        {
          const Column *column = &self->columns[c];

          if (!column->profiled)
            continue;
          g_string_append_printf (out, " %s |", g_ascii_formatd (buf, sizeof buf, "%.3f", column->op_ms[k]));
          g_string_append_printf (out, " %s%% |", g_ascii_formatd (buf, sizeof buf, "%.1f", op_percent (column, k)));
        }
      g_string_append_c (out, '\n');
    }
}

char *
vitlens_compare_view_to_markdown (VitlensCompareView *self)
{
  GString *out = g_string_new (NULL);
  const Column *ref;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  gboolean any_same = FALSE;

  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), NULL);

  ref = reference_column (self);
  {
    g_autofree char *model = markdown_cell (self->model_name ? self->model_name : "model");
    g_autofree char *source = markdown_cell (self->source_name);
    int threads = ref ? column_threads (ref) : 0;

    g_string_append_printf (out, "**%s** · %d thread%s · %u run%s per variant, interleaved "
                                 "(median of the latest %d) · %s\n\n",
                            model, threads, threads == 1 ? "" : "s",
                            ref ? ref->n_ms : 0, ref && ref->n_ms == 1 ? "" : "s",
                            VITLENS_COMPARE_WINDOW, source);
  }
  g_string_append (out, "| Model | Inference Time (median ms) | p10–p90 ms | Last (ms) | Reduction "
                        "| Size (MB) | Size reduction | Top-1 agreement with fp32 |");
  if (self->stream)
    g_string_append (out, " Latency (median ms) |");
  g_string_append (out, " Top-1 | Kernel |\n|---|---|---|---|---|---|---|---|");
  if (self->stream)
    g_string_append (out, "---|");
  g_string_append (out, "---|---|\n");

  for (guint c = 0; c < self->n_columns; c++)
    {
      const Column *column = &self->columns[c];
      g_autofree char *fallback = NULL;
      g_autofree char *name = markdown_cell (column->name);
      g_autofree char *top1 = NULL;
      g_autofree char *kernel = markdown_cell (column_kernel (column));
      Numbers num;

      column_numbers (self, column, &num);
      {
        g_autofree char *label = markdown_cell (top1_label (column, &fallback));
        top1 = column_k (column) ? g_strdup_printf ("%s (%s%%)", label,
                                                    g_ascii_formatd (buf, sizeof buf, "%.1f",
                                                                     100.0 * column->result->prob[0]))
                                 : g_strdup ("");
      }

      g_string_append_printf (out, "| %s | ", name);
      g_string_append_printf (out, "%s | ", g_ascii_formatd (buf, sizeof buf, "%.2f", num.median));
      g_string_append_printf (out, "%s–", g_ascii_formatd (buf, sizeof buf, "%.2f", num.p10));
      g_string_append_printf (out, "%s | ", g_ascii_formatd (buf, sizeof buf, "%.2f", num.p90));
      g_string_append_printf (out, "%s | ", g_ascii_formatd (buf, sizeof buf, "%.2f", column->last_ms));
      g_string_append_printf (out, "%s%%", g_ascii_formatd (buf, sizeof buf, "%.1f", num.reduction));
      if (column != ref && column->n_ms > 0 && ref->n_ms > 0)
        {
          VitlensChartRow a = { 0 }, b = { 0 };
          char speed[48];

          column_chart_row (column, &a);
          column_chart_row (ref, &b);
          vitlens_chart_format_speed (&a, &b, speed, sizeof speed);
          g_string_append_printf (out, " (%s)", speed);
          any_same |= vitlens_chart_speed (&a, &b, NULL) == 0;
        }
      g_string_append (out, " | ");
      if (column->file_bytes > 0)
        g_string_append_printf (out, "%s | ", g_ascii_formatd (buf, sizeof buf, "%.1f", column->file_bytes / 1e6));
      else
        g_string_append (out, "- | ");
      g_string_append_printf (out, "%s%% | ", g_ascii_formatd (buf, sizeof buf, "%.1f", num.size_reduction));
      g_string_append_printf (out, "%u/%u | ", column->agree, column->inputs);
      if (self->stream)
        {
          if (num.latency >= 0)
            g_string_append_printf (out, "%s | ", g_ascii_formatd (buf, sizeof buf, "%.1f", num.latency));
          else
            g_string_append (out, "- | ");
        }
      g_string_append_printf (out, "%s | %s |\n", top1, kernel);
    }
  if (any_same)
    g_string_append (out, "\n≈ same: its p10–p90 band overlaps the reference's, so the difference "
                          "between the medians is within the machine's noise.\n");
  append_markdown_profile (self, out);

  return g_string_free (out, FALSE);
}

/* BASE without a .csv, .md, .markdown or .png the user may have typed. */
static char *
export_base (const char *path)
{
  static const char *suffixes[] = { ".csv", ".md", ".markdown", ".png" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_has_suffix (path, suffixes[i]))
      return g_strndup (path, strlen (path) - strlen (suffixes[i]));
  return g_strdup (path);
}

char **
vitlens_compare_view_export_paths (const char *base_path)
{
  g_autofree char *base = NULL;
  char **paths;

  g_return_val_if_fail (base_path != NULL, NULL);

  base = export_base (base_path);
  paths = g_new0 (char *, 4);
  paths[0] = g_strconcat (base, ".csv", NULL);
  paths[1] = g_strconcat (base, ".md", NULL);
  paths[2] = g_strconcat (base, ".png", NULL);
  return paths;
}

/* @text into @path through the engine's one output writer (temporary, fsync, rename; only a
 * regular file replaced, a link written through). */
static gboolean
write_text (const char *path,
            const char *text,
            GError    **error)
{
  vit_output *out = NULL;
  vit_error err = { 0 };
  size_t len = strlen (text);

  if (vit_output_open (path, &out, &err) != VIT_OK)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, err.msg);
      return FALSE;
    }
  if (fwrite (text, 1, len, vit_output_stream (out)) != len)
    {
      g_autofree char *name = g_path_get_basename (path);

      vit_output_abort (out);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot write", name);
      return FALSE;
    }
  if (vit_output_commit (out, &err) != VIT_OK)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, err.msg);
      return FALSE;
    }
  return TRUE;
}

gboolean
vitlens_compare_view_export (VitlensCompareView *self,
                             const char         *base_path,
                             GError            **error)
{
  g_auto(GStrv) paths = NULL;
  const char *csv_path, *md_path, *png_path;
  g_autofree char *csv = NULL, *md = NULL;
  VitlensChart chart;
  char message[512];
  int height;

  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), FALSE);
  g_return_val_if_fail (base_path != NULL, FALSE);

  if (self->n_columns == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("There is nothing to export yet: no comparison has run"));
      return FALSE;
    }

  paths = vitlens_compare_view_export_paths (base_path);
  csv_path = paths[0];
  md_path = paths[1];
  png_path = paths[2];
  csv = vitlens_compare_view_to_csv (self);
  md = vitlens_compare_view_to_markdown (self);

  if (!write_text (csv_path, csv, error) || !write_text (md_path, md, error))
    return FALSE;

  vitlens_compare_view_get_chart (self, &chart);
  height = 120 + 56 * chart.n_rows + (chart.trace_title ? 180 : 0);
  if (vitlens_chart_write_png (&chart, 760, height, png_path, message, sizeof message) != 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, message);
      return FALSE;
    }

  return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * For tests */

guint
vitlens_compare_view_get_n_columns (VitlensCompareView *self)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), 0);
  return self->n_columns;
}

const char *
vitlens_compare_view_get_column_name (VitlensCompareView *self,
                                      guint               column)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), NULL);
  g_return_val_if_fail (column < self->n_columns, NULL);
  return gtk_label_get_label (GTK_LABEL (self->columns[column].title));
}

guint
vitlens_compare_view_get_n_rows (VitlensCompareView *self,
                                 guint               column)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), 0);
  g_return_val_if_fail (column < self->n_columns, 0);
  return (guint)column_k (&self->columns[column]);
}

const char *
vitlens_compare_view_get_row_label (VitlensCompareView *self,
                                    guint               column,
                                    guint               row)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), NULL);
  g_return_val_if_fail (column < self->n_columns, NULL);
  g_return_val_if_fail (row < (guint)column_k (&self->columns[column]), NULL);
  return vitlens_prediction_rows_get_label (&self->columns[column].rows, row);
}

gboolean
vitlens_compare_view_get_row_marked (VitlensCompareView *self,
                                     guint               column,
                                     guint               row)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), FALSE);
  g_return_val_if_fail (column < self->n_columns, FALSE);
  g_return_val_if_fail (row < (guint)column_k (&self->columns[column]), FALSE);
  return self->columns[column].marked[row];
}

/* The label of @column's value named @key ("median", ...). */
static GtkWidget *
value_label (VitlensCompareView *self,
             guint               column,
             const char         *key)
{
  int v;

  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), NULL);
  g_return_val_if_fail (column < self->n_columns, NULL);

  v = vitlens_key_title_find (value_titles, N_VALUES, key);
  g_return_val_if_fail (v >= 0, NULL);
  return self->columns[column].values[v];
}

const char *
vitlens_compare_view_get_value (VitlensCompareView *self,
                                guint               column,
                                const char         *key)
{
  GtkWidget *label = value_label (self, column, key);

  return label ? gtk_label_get_label (GTK_LABEL (label)) : NULL;
}

void
vitlens_compare_view_get_agreement (VitlensCompareView *self,
                                    guint               column,
                                    guint              *agree,
                                    guint              *inputs)
{
  g_return_if_fail (VITLENS_IS_COMPARE_VIEW (self));
  g_return_if_fail (column < self->n_columns);
  *agree = self->columns[column].agree;
  *inputs = self->columns[column].inputs;
}

guint
vitlens_compare_view_get_n_runs (VitlensCompareView *self,
                                 guint               column)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), 0);
  g_return_val_if_fail (column < self->n_columns, 0);
  return MIN (self->columns[column].n_ms, VITLENS_COMPARE_WINDOW);
}

const char *
vitlens_compare_view_get_value_tooltip (VitlensCompareView *self,
                                        guint               column,
                                        const char         *key)
{
  GtkWidget *label = value_label (self, column, key);

  return label ? gtk_widget_get_tooltip_text (label) : NULL;
}

const char *
vitlens_compare_view_get_progress (VitlensCompareView *self)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), NULL);
  return self->rounds > 0 ? gtk_label_get_label (self->progress_label) : NULL;
}

const char *
vitlens_compare_view_get_placeholder (VitlensCompareView *self)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), NULL);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->columns_stack), "empty") != 0)
    return NULL;
  return gtk_label_get_label (self->placeholder_label);
}

const char *
vitlens_compare_view_get_summary (VitlensCompareView *self)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), NULL);
  return gtk_label_get_label (self->summary_label);
}

GtkWidget *
vitlens_compare_view_get_chart_area (VitlensCompareView *self)
{
  g_return_val_if_fail (VITLENS_IS_COMPARE_VIEW (self), NULL);
  return GTK_WIDGET (self->chart_area);
}
