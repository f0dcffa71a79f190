/* vitlens-stats.h — medians and percentiles of timings: one definition for the app (results
 * panel, VitlensInference, Compare) and vitlens-cli (bench, stream). Plain C.
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <stddef.h>

/* Sort @n values ascending, in place. */
void   vitlens_stats_sort              (double       *values,
                                        size_t        n);
/* The median of sorted values: the middle one, or the mean of the two middle ones; 0 for none. */
double vitlens_stats_median_sorted     (const double *sorted,
                                        size_t        n);
/* The nearest-rank @p-th percentile (0..100) of sorted values; 0 for none. */
double vitlens_stats_percentile_sorted (const double *sorted,
                                        size_t        n,
                                        double        p);
/* The median of @n unsorted values, sorted in @scratch (room for @n; may be @values itself). */
double vitlens_stats_median            (const double *values,
                                        size_t        n,
                                        double       *scratch);
