/* vitlens-chart.h — the speed chart of the tutorial's comparison: one horizontal bar per variant
 * (median forward time) with a p10–p90 whisker, labelled with the time and the reduction against
 * the first row; for streams, below it, a small rolling latency trace per variant. Plain cairo,
 * no GTK: the CLI writes it to PNG without a display (`bench --plot`) and the app's Compare view
 * draws the same picture into a GtkDrawingArea. Built with VITLENS_CHART_PANGO (the app), text
 * goes through Pango, so that translated titles find their fonts; else cairo's toy text. */
#ifndef VITLENS_CHART_H
#define VITLENS_CHART_H

#include <cairo.h>
#include <stddef.h>

#include "vit.h"

#define VITLENS_CHART_MAX_ROWS 8

typedef struct {
    const char *name; /* "fp32", "int8", ... */
    double median_ms, p10_ms, p90_ms;
    /* optional: the latest latencies in ms, oldest first (streams); NULL/0: no trace */
    const double *trace;
    int n_trace;
    /* optional: how it compares with the reference, beside its reduction ("2.1× faster",
     * "≈ same"); NULL: the chart writes it in English (vitlens_chart_format_speed) */
    const char *speed;
    /* optional: where the forward's time goes, ms per op class (vit_op order, VIT_OP_COUNT
     * values, vit_session_profile); NULL: the row has no "where the time goes" bar */
    const double *op_ms;
} VitlensChartRow;

typedef struct {
    const char *title;    /* e.g. the model's name; may be NULL */
    const char *subtitle; /* e.g. "2 threads · 30 runs"; may be NULL */
    int n_rows;
    VitlensChartRow rows[VITLENS_CHART_MAX_ROWS];
    /* colours: text and bars, 0..1 RGB; dark = light-on-dark */
    int dark;
    /* the trace panel's heading, e.g. "Latency, last 60 frames"; drawn when a row has a trace */
    const char *trace_title;
    /* where the reduction is measured from: this row (default 0, the first) */
    int reference;
    /* the time bars' heading and op class names (NULL: English, as vitlens_chart_op_label) */
    const char *profile_title;
    const char *op_labels[VIT_OP_COUNT];
    /* the unit after every time and under the axis (NULL: "ms"; the app's is translated) */
    const char *unit;
} VitlensChart;

#ifdef VITLENS_CHART_PANGO
#include <pango/pangocairo.h>
/* @text in Sans at @size px (bold or not), laid out for @cr: what the chart and the snapshot
 * card draw their text with. */
PangoLayout *vitlens_text_layout (cairo_t *cr, const char *text, double size, int bold);
#endif

/* How @row's median compares with @ref's: 1 faster, -1 slower, 0 within the noise (their p10–p90
 * bands overlap, so the difference may be the machine's, not the variant's). @factor (may be
 * NULL) gets how many times faster or slower, >= 1: ref / median, or median / ref. */
int vitlens_chart_speed (const VitlensChartRow *row, const VitlensChartRow *ref, double *factor);
/* Digits after the point a speed factor is written with: "1.04×", "2.1×", "12×". */
int vitlens_chart_factor_digits (double factor);
/* The English note: "2.1× faster", "1.3× slower" or "≈ same" (the CLI's plot and exports). */
void vitlens_chart_format_speed (const VitlensChartRow *row, const VitlensChartRow *ref, char *buf,
                                 size_t len);

/* Draw into cr over (0, 0, width, height). */
void vitlens_chart_draw (const VitlensChart *chart, cairo_t *cr, double width, double height);

/* "Where the time goes": for each row with op_ms, a bar stacked by op class (its length the
 * row's forward, on one scale for all rows; each class's share written in it when it fits),
 * under a legend of the classes. vitlens_chart_write_png draws it under the chart. */
int vitlens_chart_has_profile (const VitlensChart *chart);
/* The height the time bars want at @width (0 without any op_ms). */
double vitlens_chart_profile_height (const VitlensChart *chart, double width);
void vitlens_chart_draw_profile (const VitlensChart *chart, cairo_t *cr, double width, double height);
/* An op class's English name ("patch embedding", "LayerNorm (+ quantize)", … "other"), and its
 * colour in the time bars (0..1 RGB). */
const char *vitlens_chart_op_label (vit_op op);
void vitlens_chart_op_colour (vit_op op, double rgb[3]);

/* Write @surface as PNG to @path through the engine's one output writer (vit_output: temporary,
 * fsync, rename; only regular files replaced); 0 on success, else -1 with a message in errbuf. */
int vitlens_surface_write_png (cairo_surface_t *surface, const char *path, char *errbuf,
                               size_t errlen);

/* Render to a PNG file, @height for the chart and, when a row has op_ms, the time bars under it
 * (vitlens_chart_profile_height more); returns 0 on success, else -1 with a message in errbuf. */
int vitlens_chart_write_png (const VitlensChart *chart, int width, int height, const char *path,
                             char *errbuf, size_t errlen);

#endif
