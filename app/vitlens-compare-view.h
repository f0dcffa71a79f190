/* vitlens-compare-view.h — compare mode: every variant side by side, with the speed chart
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-chart.h"
#include "vitlens-inference.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_COMPARE_VIEW (vitlens_compare_view_get_type ())

G_DECLARE_FINAL_TYPE (VitlensCompareView, vitlens_compare_view, VITLENS, COMPARE_VIEW, GtkBox)

/* Timing statistics are taken over this many runs per variant, the latest ones. */
#define VITLENS_COMPARE_WINDOW 64
/* Points in a stream's latency trace. */
#define VITLENS_COMPARE_TRACE  60

GtkWidget  *vitlens_compare_view_new            (void);

/* The model compared (NULL: none); forgets every statistic. */
void        vitlens_compare_view_set_model      (VitlensCompareView      *self,
                                                 const VitlensModelFacts *facts);
/* Forget the statistics, keep the model (threads changed, the user asked). */
void        vitlens_compare_view_reset          (VitlensCompareView      *self);
/* What is compared on: an image's name, or a stream's (@stream: latency is shown). */
void        vitlens_compare_view_set_source     (VitlensCompareView      *self,
                                                 const char              *name,
                                                 gboolean                 stream);
/* The input shown beside the chart (an image, or the stream's latest frame). */
void        vitlens_compare_view_set_preview    (VitlensCompareView      *self,
                                                 GdkPaintable            *paintable);
/* The input with each variant's attention rollout in its column (the results carry it when
 * the inference computes it), or not. */
void        vitlens_compare_view_set_show_attention (VitlensCompareView  *self,
                                                 gboolean                 show);
/* What the view says while it has nothing to show. */
void        vitlens_compare_view_set_placeholder (VitlensCompareView     *self,
                                                 const char              *text);

/* A comparison under way: round @round of @rounds shown ("Running fp32 · int8, round 3 of 12…"
 * and a bar); @rounds 0: none. */
void        vitlens_compare_view_set_progress   (VitlensCompareView      *self,
                                                 int                      round,
                                                 int                      rounds);
/* How the runs were made, after "12 runs per variant" in the summary (e.g. "interleaved,
 * stopped after 12 rounds"); NULL: nothing. */
void        vitlens_compare_view_set_note       (VitlensCompareView      *self,
                                                 const char              *note);

/* Add one comparison: its times join each variant's rolling window; when @new_input, it also
 * counts for top-1 agreement (a re-run of the same image does not). @capture_time
 * (g_get_monotonic_time() of the frame's capture; -1 for images) gives each variant's latency. */
void        vitlens_compare_view_add            (VitlensCompareView      *self,
                                                 const VitlensComparison *comparison,
                                                 gboolean                 new_input,
                                                 gint64                   capture_time);

/* The files vitlens_compare_view_export() writes for @base_path: BASE.csv, BASE.md and BASE.png,
 * in that order (NULL-terminated; g_strfreev()). */
char      **vitlens_compare_view_export_paths   (const char              *base_path);
/* Write BASE.csv, BASE.md and BASE.png (the table twice, and the chart). */
gboolean    vitlens_compare_view_export         (VitlensCompareView      *self,
                                                 const char              *base_path,
                                                 GError                 **error);
char       *vitlens_compare_view_to_csv         (VitlensCompareView      *self);
char       *vitlens_compare_view_to_markdown    (VitlensCompareView      *self);
/* The chart as drawn (strings owned by the view, valid until it changes). */
void        vitlens_compare_view_get_chart      (VitlensCompareView      *self,
                                                 VitlensChart            *chart);

/* What is on screen, for tests. */
/* Column @column's VitlensAttentionOverlay. */
GtkWidget  *vitlens_compare_view_get_attention  (VitlensCompareView      *self,
                                                 guint                    column);
/* Where column @column's latest comparison spent its time: VIT_OP_COUNT ms into @op_ms;
 * FALSE when it has no profile. */
gboolean    vitlens_compare_view_get_profile    (VitlensCompareView      *self,
                                                 guint                    column,
                                                 double                  *op_ms);
guint       vitlens_compare_view_get_n_columns  (VitlensCompareView      *self);
const char *vitlens_compare_view_get_column_name (VitlensCompareView     *self,
                                                 guint                    column);
/* Rows of a column's top-k shown, their labels, and whether a row is marked as differing. */
guint       vitlens_compare_view_get_n_rows     (VitlensCompareView      *self,
                                                 guint                    column);
const char *vitlens_compare_view_get_row_label  (VitlensCompareView      *self,
                                                 guint                    column,
                                                 guint                    row);
gboolean    vitlens_compare_view_get_row_marked (VitlensCompareView      *self,
                                                 guint                    column,
                                                 guint                    row);
/* A column's value as shown: "last", "median", "spread", "reduction", "size",
 * "size-reduction", "agreement", "latency". */
const char *vitlens_compare_view_get_value      (VitlensCompareView      *self,
                                                 guint                    column,
                                                 const char              *key);
/* A value's tooltip as shown (the reduction's says why it reads "≈ same"); NULL: none. */
const char *vitlens_compare_view_get_value_tooltip (VitlensCompareView  *self,
                                                 guint                    column,
                                                 const char              *key);
/* The progress line while a comparison runs, else NULL. */
const char *vitlens_compare_view_get_progress   (VitlensCompareView      *self);
/* The placeholder's text while it is shown (no column yet), else NULL. */
const char *vitlens_compare_view_get_placeholder (VitlensCompareView     *self);
/* The line under the heading: model, threads, runs and how they were made, source. */
const char *vitlens_compare_view_get_summary    (VitlensCompareView      *self);
/* Top-1 agreement with the reference: @agree of @inputs. */
void        vitlens_compare_view_get_agreement  (VitlensCompareView      *self,
                                                 guint                    column,
                                                 guint                   *agree,
                                                 guint                   *inputs);
/* Runs in the rolling window of a column. */
guint       vitlens_compare_view_get_n_runs     (VitlensCompareView      *self,
                                                 guint                    column);
GtkWidget  *vitlens_compare_view_get_chart_area (VitlensCompareView      *self);

G_END_DECLS
