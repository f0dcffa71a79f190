/* vitlens-stats.c — medians and percentiles of timings (see vitlens-stats.h).
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#include "vitlens-stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

void
vitlens_stats_sort (double *values,
                    size_t  n)
{
  if (n > 1)
    qsort (values, n, sizeof (double), compare_doubles);
}

double
vitlens_stats_median_sorted (const double *sorted,
                             size_t        n)
{
  if (n == 0)
    return 0;
  return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

double
vitlens_stats_percentile_sorted (const double *sorted,
                                 size_t        n,
                                 double        p)
{
  long i = (long)ceil (p / 100.0 * (double)n) - 1;

  if (n == 0)
    return 0;
  if (i < 0)
    i = 0;
  if (i >= (long)n)
    i = (long)n - 1;
  return sorted[i];
}

double
vitlens_stats_median (const double *values,
                      size_t        n,
                      double       *scratch)
{
  if (scratch != values && n > 0)
    memcpy (scratch, values, n * sizeof (double));
  vitlens_stats_sort (scratch, n);
  return vitlens_stats_median_sorted (scratch, n);
}
