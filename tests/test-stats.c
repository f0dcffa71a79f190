/* test-stats.c — vitlens-stats: the median and nearest-rank percentiles that the app and
 * vitlens-cli report (one definition for both). */
#include "vitlens-stats.h"

#include <stdio.h>

static int fails, checks;

static void check(int ok, const char *name, double got, double want)
{
    checks++;
    if (!ok)
        fails++;
    printf("%s %s (got %g, want %g)\n", ok ? "ok  " : "FAIL", name, got, want);
}

int main(void)
{
    double odd[] = {5, 1, 4, 2, 3}, even[] = {10, 40, 20, 30}, scratch[8];
    double m = vitlens_stats_median(odd, 5, scratch);
    check(m == 3, "/stats/median-odd", m, 3);
    m = vitlens_stats_median(even, 4, scratch);
    check(m == 25, "/stats/median-even", m, 25);
    check(even[0] == 10 && even[1] == 40, "/stats/median-leaves-input", even[1], 40);
    m = vitlens_stats_median(even, 4, even); /* in place */
    check(m == 25 && even[0] == 10 && even[3] == 40, "/stats/median-in-place", m, 25);
    m = vitlens_stats_median(odd, 0, scratch);
    check(m == 0, "/stats/median-empty", m, 0);
    double sorted[10];
    for (int i = 0; i < 10; i++)
        sorted[i] = i + 1; /* 1..10 */
    double p = vitlens_stats_percentile_sorted(sorted, 10, 10);
    check(p == 1, "/stats/p10-nearest-rank", p, 1);
    p = vitlens_stats_percentile_sorted(sorted, 10, 90);
    check(p == 9, "/stats/p90-nearest-rank", p, 9);
    p = vitlens_stats_percentile_sorted(sorted, 10, 100);
    check(p == 10, "/stats/p100", p, 10);
    p = vitlens_stats_percentile_sorted(sorted, 10, 0);
    check(p == 1, "/stats/p0", p, 1);
    p = vitlens_stats_percentile_sorted(sorted, 3, 50);
    check(p == 2, "/stats/p50-of-3", p, 2);
    printf("%d passed, %d failed\n", checks - fails, fails);
    return fails != 0;
}
