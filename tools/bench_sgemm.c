/* bench_sgemm.c — throughput of the fp32 GEMM kernels (vit_sgemm: AVX-512 12x32, AVX2 6x16) on
 * DeiT's Linear shapes, against the in-register FMA peak that tools/peak.c measures. Developer
 * tool; not built by meson. After `ninja -C build`:
 *
 *   gcc -O2 -std=c11 -D_GNU_SOURCE -DVIT_HAVE_X86_SIMD=1 -Iengine tools/bench_sgemm.c \
 *       build/engine/libvit.a -lopenblas -lpng -ljpeg -lm -lpthread -o bench_sgemm
 *   ./bench_sgemm [threads (1)] [reps (15)] [model: tiny|small|base (base)]
 *
 * Each shape is M = 197 tokens x (K -> N), B packed once as the model's weights are; kernels
 * run interleaved (avx2, avx512, avx2, ...) so noise falls on both; GFLOP/s = 2 M N K / the
 * median time, with the min–max of the runs. A kernel the CPU (or the VIT_CPU cap) lacks is
 * skipped and says so. */
#include "vit-pool.h"
#include "vit-sgemm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int reps = argc > 2 ? atoi(argv[2]) : 15;
    const char *model = argc > 3 ? argv[3] : "base";
    int D = strcmp(model, "tiny") == 0 ? 192 : strcmp(model, "small") == 0 ? 384 : 768;
    if (reps < 3 || reps > 1000)
        reps = 15;
    const int M = 197;
    const struct {
        const char *name;
        int k, n;
        vit_sgemm_mode mode;
    } shapes[] = {
        {"qkv", D, 3 * D, VIT_SEP_STORE},
        {"proj", D, D, VIT_SEP_ADD},
        {"fc1+gelu", D, 4 * D, VIT_SEP_GELU},
        {"fc2", 4 * D, D, VIT_SEP_ADD},
    };
    const vit_kernel kernels[] = {VIT_KERNEL_AVX2, VIT_KERNEL_AVX512_VNNI};
    const vit_sgemm_ops *ops[2];
    for (int j = 0; j < 2; j++) {
        ops[j] = vit_sgemm_ops_for(kernels[j]);
        if (!ops[j])
            printf("# %s: not supported by this CPU (or the VIT_CPU cap): skipped\n",
                   vit_kernel_name(kernels[j]));
    }
    struct vit_pool *pool = NULL;
    vit_error err;
    if (vit_pool_new(threads, &pool, &err) != VIT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("deit_%s · M = %d · %d thread%s · %d reps, interleaved · GFLOP/s median [min–max]\n",
           model, M, vit_pool_threads(pool), vit_pool_threads(pool) == 1 ? "" : "s", reps);
    printf("%-10s %6s %6s  %-26s %-26s\n", "layer", "K", "N", "avx2 (6x16)", "avx512 (12x32)");
    double tot_flop = 0, tot_ms[2] = {0, 0};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int K = shapes[s].k, N = shapes[s].n;
        float *a = vit_alloc((size_t)M * K * sizeof(float));
        float *w = vit_alloc((size_t)N * K * sizeof(float));
        float *bias = vit_alloc((size_t)N * sizeof(float));
        float *c = vit_alloc((size_t)M * N * sizeof(float));
        vit_sgemm_b b = {K, N, vit_alloc(vit_sgemm_packed_floats(K, N) * sizeof(float))};
        if (!a || !w || !bias || !c || !b.p)
            return 1;
        for (size_t i = 0; i < (size_t)M * K; i++)
            a[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
        for (size_t i = 0; i < (size_t)N * K; i++)
            w[i] = (float)((i * 104729) % 1000) / 50000.0f - 0.01f;
        for (int i = 0; i < N; i++)
            bias[i] = 0.01f * (float)(i % 7);
        memset(c, 0, (size_t)M * N * sizeof(float));
        vit_sgemm_pack_t(w, K, N, K, b.p);
        double *t[2];
        for (int j = 0; j < 2; j++)
            t[j] = calloc((size_t)reps, sizeof(double));
        for (int r = -2; r < reps; r++) /* two warm-ups */
            for (int j = 0; j < 2; j++) {
                if (!ops[j])
                    continue;
                double t0 = vit_now_ms();
                vit_sgemm(ops[j], pool, M, a, K, &b, bias, shapes[s].mode, c, N);
                if (r >= 0)
                    t[j][r] = vit_now_ms() - t0;
            }
        const double flop = 2.0 * M * N * K;
        tot_flop += flop;
        printf("%-10s %6d %6d ", shapes[s].name, K, N);
        for (int j = 0; j < 2; j++) {
            if (!ops[j]) {
                printf(" %-26s", "-");
                continue;
            }
            qsort(t[j], (size_t)reps, sizeof(double), cmp);
            double med = t[j][reps / 2];
            tot_ms[j] += med;
            char buf[64];
            snprintf(buf, sizeof buf, "%.1f [%.1f–%.1f]", flop / med / 1e6,
                     flop / t[j][reps - 1] / 1e6, flop / t[j][0] / 1e6);
            printf(" %-26s", buf);
        }
        printf("\n");
        for (int j = 0; j < 2; j++)
            free(t[j]);
        vit_free(a);
        vit_free(w);
        vit_free(bias);
        vit_free(c);
        vit_free(b.p);
    }
    printf("%-24s", "all four (sum of medians)");
    for (int j = 0; j < 2; j++)
        if (ops[j])
            printf(" %-26.1f", tot_flop / tot_ms[j] / 1e6);
        else
            printf(" %-26s", "-");
    printf("\n");
    vit_pool_free(pool);
    return 0;
}
