/* bench_opt_gemm.c — throughput of the optimized variant's fused GEMMs (vit_opt_gemm_*) on the
 * DeiT Linear shapes, one thread. Developer tool; not built by meson: tools/bench_opt_gemm.sh
 * builds it against build/engine/libvit.a (optionally with vit-kernels-avx2.c recompiled
 * for another micro-tile shape) and runs it.
 *
 *   ./bench_opt_gemm [-m 197] [-reps 9] [-shape K N] [-mode store|add|gelu|qkv]
 *
 * Kernels (each only when the capped CPU has it: VIT_CPU=avx2 gives an AVX2-only Zen 3's set):
 * (The old AVX2 path, the int8 variant's int32 GEMM on 8 x 64 tiles into scratch and then the
 * auto-vectorized reference epilogue, is gone; its figures are in vit-kernels-avx2.c's top
 * comment and the 2026-12-04 closing note.)
 *   avx2     vit_opt_gemm_avx2 (vpmaddubsw)
 *   vnni     vit_opt_gemm_avx_vnni (VEX vpdpbusd on ymm)
 *   avx512   vit_opt_gemm_avx512 (vpdpbusd on zmm, its own packing)
 * Each call covers what the forward's 1-thread split gives it: all M rows x one 64-column
 * block, block after block. The epilogue mode is the forward's for that Linear (qkv: QKV, proj
 * and fc2: ADD, fc1: GELU with the row min/max) unless -mode. A holds 0..127.
 * GOP/s = 2 M N K / time: the median and the best of -reps timings (each >= 5 ms of calls),
 * kernels interleaved within every repetition; "sprd" is (max - min) / median of those timings. The
 * machine may be shared: run it a few times (the .sh does 3) and compare medians. */
#include "vit-cpu.h"
#include "vit-impl.h"
#include "vit-opt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXREPS 64

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const char *name;
    vit_opt_gemm_fn fn;
    vit_kernel pack;
    unsigned need;
} kernel;

typedef struct {
    vit_opt_gemm_fn fn;
    int32_t m, lda;
    const uint8_t *a;
    const vit_qlinear *ql;
    const vit_oepilogue *ep;
    void *scratch;
} call;

static void run_once(const call *c)
{
    for (int32_t c0 = 0; c0 < c->ql->n; c0 += VIT_OPT_PW) {
        int32_t c1 = c0 + VIT_OPT_PW < c->ql->n ? c0 + VIT_OPT_PW : c->ql->n;
        c->fn(0, c->m, c->a, c->lda, c->ql, c0, c1, c->ep, c->scratch);
    }
}

/* seconds per run_once over enough calls to last >= 5 ms */
static double time_calls(const call *c, int inner)
{
    double t0 = vit_now_ms();
    for (int i = 0; i < inner; i++)
        run_once(c);
    return (vit_now_ms() - t0) / 1e3 / inner;
}

int main(int argc, char **argv)
{
    int32_t m = 197, only_k = 0, only_n = 0;
    int reps = 9, force_mode = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") && i + 1 < argc)
            m = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-shape") && i + 2 < argc) {
            only_k = atoi(argv[++i]);
            only_n = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "-mode") && i + 1 < argc) {
            const char *s = argv[++i];
            force_mode = !strcmp(s, "store") ? VIT_OEP_STORE
                         : !strcmp(s, "add")  ? VIT_OEP_ADD
                         : !strcmp(s, "gelu") ? VIT_OEP_GELU
                                              : VIT_OEP_QKV;
        } else {
            fprintf(stderr, "usage: %s [-m M] [-reps R] [-shape K N] [-mode store|add|gelu|qkv]\n",
                    argv[0]);
            return 2;
        }
    }
    if (reps < 1)
        reps = 1;
    if (reps > MAXREPS)
        reps = MAXREPS;
    const kernel kernels[] = {
        {"avx2", vit_opt_gemm_avx2, VIT_KERNEL_AVX2, VIT_CPU_AVX2},
        {"vnni", vit_opt_gemm_avx_vnni, VIT_KERNEL_AVX2, VIT_CPU_AVX_VNNI},
        {"avx512", vit_opt_gemm_avx512, VIT_KERNEL_AVX512_VNNI, VIT_CPU_AVX512},
    };
    enum { NK = sizeof kernels / sizeof kernels[0] };
    /* K x N per model: qkv, proj, fc1, fc2 */
    static const int32_t shapes[][2] = {
        {192, 576},  {192, 192},  {192, 768},  {768, 192},  /* deit_tiny */
        {384, 1152}, {384, 384},  {384, 1536}, {1536, 384}, /* deit_small */
        {768, 2304}, {768, 768},  {768, 3072}, {3072, 768}, /* deit_base */
    };
    static const char *mode_names[] = {"store", "add", "gelu", "qkv"};
    const unsigned f = vit_cpu_features();
    printf("# M=%d, 1 thread, GOP/s: median and best of %d, spread (max-min)/median of the times;"
           " features 0x%x\n", (int)m,
           reps, f);
    printf("%-10s %-5s", "K x N", "mode");
    for (int k = 0; k < NK; k++)
        if ((f & kernels[k].need) == kernels[k].need)
            printf(" %6s %6s %5s", kernels[k].name, "best", "sprd");
    printf("\n");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int32_t K = only_k ? only_k : shapes[s][0], N = only_k ? only_n : shapes[s][1];
        const int mode = force_mode >= 0 ? force_mode
                         : s % 4 == 0    ? VIT_OEP_QKV
                         : s % 4 == 2    ? VIT_OEP_GELU
                                         : VIT_OEP_ADD;
        float *w = malloc((size_t)N * K * sizeof(float)), *bias = malloc((size_t)N * sizeof(float));
        for (size_t i = 0; i < (size_t)N * K; i++)
            w[i] = (float)((i * 2654435761u) % 1000) / 5000.0f - 0.1f;
        for (int32_t j = 0; j < N; j++)
            bias[j] = (float)(j % 7) * 0.1f;
        const int32_t lda = (K + 63) & ~63;
        uint8_t *a = aligned_alloc(64, (size_t)m * lda);
        for (size_t i = 0; i < (size_t)m * lda; i++)
            a[i] = (uint8_t)((i * 40503u >> 3) & 127);
        float *as = malloc((size_t)m * 4), *y = calloc((size_t)m * N, 4);
        int32_t *az = malloc((size_t)m * 4);
        for (int32_t i = 0; i < m; i++)
            as[i] = 0.01f, az[i] = 60 + i % 9;
        const int32_t D = N / 3, tpad = (m + 15) & ~15;
        float *qkv = calloc((size_t)3 * tpad * N, 4);
        const int32_t panels = (N + VIT_OPT_PW - 1) / VIT_OPT_PW;
        float *mm = calloc((size_t)m * panels * 2, 4);
        vit_qlinear ql[VIT_KERNEL_COUNT];
        memset(ql, 0, sizeof ql);
        vit_oepilogue ep[VIT_KERNEL_COUNT];
        call calls[NK];
        int have[NK] = {0};
        int32_t scratch[8 * VIT_OPT_PW];
        for (int k = 0; k < NK; k++) {
            if ((f & kernels[k].need) != kernels[k].need)
                continue;
            vit_kernel pk = kernels[k].pack;
            if (!ql[pk].packed) {
                vit_error err = {0};
                if (vit_qlinear_init(&ql[pk], w, bias, N, K, 1, pk, &err) != VIT_OK) {
                    fprintf(stderr, "init: %s\n", err.msg);
                    return 1;
                }
                ep[pk] = (vit_oepilogue){.mode = mode, .a_scale = as, .a_zp = az,
                                         .w_scale = ql[pk].scale, .row_sum = ql[pk].row_sum,
                                         .bias = ql[pk].bias, .y = y, .ldy = N};
                if (mode == VIT_OEP_GELU)
                    ep[pk].row_mm = mm, ep[pk].mm_ld = panels;
                if (mode == VIT_OEP_QKV) {
                    ep[pk].q = qkv, ep[pk].kt = qkv + (size_t)tpad * N;
                    ep[pk].v = qkv + (size_t)2 * tpad * N;
                    ep[pk].dim = D, ep[pk].hd = 64, ep[pk].tpad = tpad;
                }
            }
            calls[k] = (call){kernels[k].fn, m, lda, a, &ql[pk], &ep[pk], scratch};
            have[k] = 1;
        }
        /* inner counts: enough calls for >= 5 ms with the slowest kernel */
        int inner[NK];
        for (int k = 0; k < NK; k++) {
            if (!have[k])
                continue;
            run_once(&calls[k]); /* warm-up */
            double t = time_calls(&calls[k], 1);
            inner[k] = t > 0 ? (int)(0.005 / t) + 1 : 1000;
        }
        double t[NK][MAXREPS];
        for (int r = 0; r < reps; r++)
            for (int k = 0; k < NK; k++)
                if (have[k])
                    t[k][r] = time_calls(&calls[k], inner[k]);
        printf("%4dx%-5d %-5s", (int)K, (int)N, mode_names[mode]);
        const double ops = 2.0 * m * N * K;
        for (int k = 0; k < NK; k++) {
            if (!have[k])
                continue;
            qsort(t[k], (size_t)reps, sizeof(double), cmp_double);
            double med = t[k][reps / 2];
            printf(" %6.1f %6.1f %4.0f%%", ops / med / 1e9, ops / t[k][0] / 1e9,
                   100.0 * (t[k][reps - 1] - t[k][0]) / med);
        }
        printf("\n");
        fflush(stdout);
        for (int pk = 0; pk < VIT_KERNEL_COUNT; pk++)
            if (ql[pk].packed)
                vit_qlinear_free(&ql[pk]);
        free(w), free(bias), free(a), free(as), free(y), free(az), free(qkv), free(mm);
        if (only_k)
            break;
    }
    return 0;
}
