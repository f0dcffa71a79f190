/* bench_opt_ops.c — the optimized variant's AVX2 row-wise ops and attention, hand-written
 * (vit-kernels-avx2.c) against what they replaced: the reference kernels (vit-kernels-ref.c)
 * compiled with -O3 -mavx2 -mfma and left to GCC's auto-vectorizer ("autovec"), on DeiT shapes,
 * 1 thread. Developer tool; not built by meson. Build (from the repository root, after
 * ninja -C build):
 *
 *   F="-std=c11 -O3 -D_GNU_SOURCE -DVIT_HAVE_X86_SIMD=1 -Iengine -mavx2 -mfma -mf16c"
 *   gcc $F -c engine/vit-kernels-ref.c -o /tmp/opt-av.o        # every global X_ref -> X_av
 *   nm --defined-only -g /tmp/opt-av.o | awk '{s=$3; t=s; sub(/_ref$/, "", t); print s" "t"_av"}' \
 *       > /tmp/av.syms && objcopy --redefine-syms=/tmp/av.syms /tmp/opt-av.o
 *   gcc $F -DATT_MR=3 -DATT_NV=4 -c engine/vit-kernels-avx2.c -o /tmp/rows-3x4.o  # X -> X_3x4
 *   nm --defined-only -g /tmp/rows-3x4.o | awk '{print $3" "$3"_3x4"}' > /tmp/3x4.syms &&
 *       objcopy --redefine-syms=/tmp/3x4.syms /tmp/rows-3x4.o
 *   gcc $F tools/bench_opt_ops.c /tmp/opt-av.o /tmp/rows-3x4.o build/engine/libvit.a \
 *       -o /tmp/bench_opt_ops -lopenblas -lpng -ljpeg -lm -lpthread
 *   taskset -c 1 /tmp/bench_opt_ops [-reps 3] [-ms 40]
 *
 * Each row: microseconds per call (attention: all heads and all 6-row blocks of one layer;
 * ln_quant / quant_rows: all 197 rows), median over -reps samples and their spread
 * ((max - min) / median); a sample is the mean over a batch of about -ms milliseconds. The
 * variants of a row are timed in alternation, sample by sample, so that load from other
 * processes on a shared machine falls on all of them alike. "3x4" is the attention with a
 * register tile of 3 rows x 32 keys (dims) instead of 6 x 16: the tiling alternative. */
#include "vit-impl.h"
#include "vit-opt.h"
#include "vit-quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* vit-kernels-ref.c as the old AVX2 build (see the build lines) */
vit_ln_quant_op vit_ln_quant_av;
vit_quant_rows_op vit_quant_rows_av;
vit_quant_rows_mm_op vit_quant_rows_mm_av;
vit_attention_op vit_attention_av;
vit_gelu_op vit_gelu_av;
/* the attention with a 3 x 32 register tile */
vit_attention_op vit_attention_avx2_3x4;

enum { T = 197, TPAD = 208, MAXV = 4 };
static int reps = 3;
static double batch_ms = 40;

typedef struct {
    const char *name;
    void (*run)(int variant);
} variant_set;

static float *buf(size_t n, float lo, float hi)
{
    float *p = vit_alloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * (float)((i * 2654435761u) % 65536) / 65536.0f;
    return p;
}

/* shared inputs, sized for the largest shape */
static float *X, *W, *B, *TMP, *Q, *KT, *V, *CTX, *S, *MM, *Y;
static uint8_t *OUT;
static float SC[T];
static int32_t ZP[T];
static int32_t cur_dim, cur_heads;
static volatile float sink;

static void run_att(int v)
{
    const int32_t D = cur_heads * 64;
    vit_attention_fn fn = v == 0 ? vit_attention_av : v == 1 ? vit_attention_avx2
                                                             : vit_attention_avx2_3x4;
    for (int32_t h = 0; h < cur_heads; h++)
        for (int32_t i = 0; i < T; i += VIT_OPT_ATT_ROWS)
            fn(Q, KT, V, CTX, T, TPAD, D, 64, h, i, i + VIT_OPT_ATT_ROWS < T ? i + 6 : T, S);
    sink += CTX[0];
}

static void run_ln(int v)
{
    (v == 0 ? vit_ln_quant_av : vit_ln_quant_avx2)(X, cur_dim, 0, T, W, B, 1e-6f,
                                                   VIT_ACT_QMAX_TORCH, OUT, cur_dim, SC, ZP, TMP);
    sink += SC[0];
}

static void run_qr(int v)
{
    (v == 0 ? vit_quant_rows_av : vit_quant_rows_avx2)(X, cur_dim, cur_dim, 0, T,
                                                       VIT_ACT_QMAX_TORCH, OUT, cur_dim, SC, ZP);
    sink += SC[0];
}

static void run_qr_mm(int v)
{
    (v == 0 ? vit_quant_rows_mm_av : vit_quant_rows_mm_avx2)(
        X, cur_dim, cur_dim, 0, T, VIT_ACT_QMAX_TORCH, OUT, cur_dim, SC, ZP, MM, cur_dim / 64);
    sink += SC[0];
}

static void run_gelu(int v)
{
    (v == 0 ? vit_gelu_av : vit_gelu_avx2)(X, Y, (size_t)T * cur_dim);
    sink += Y[0];
}

/* the int8 variant's softmax exp before (expf per element) and after (vit_exp_avx2) */
static void run_exp(int v)
{
    const size_t n = (size_t)T * T * cur_heads;
    if (v == 0)
        for (size_t i = 0; i < n; i++)
            Y[i] = expf(X[i]);
    else
        vit_exp_avx2(X, Y, n);
    sink += Y[0];
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* times variants 0..nv-1 of fn in alternation; prints one row */
static void bench(const char *op, const char *shape, void (*fn)(int), int nv)
{
    double us[MAXV][64];
    int iters[MAXV];
    for (int v = 0; v < nv; v++) { /* warm up, and size the batches */
        fn(v);
        double t0 = vit_now_ms();
        int n = 0;
        while (vit_now_ms() - t0 < 5.0)
            fn(v), n++;
        iters[v] = (int)(n * batch_ms / 5.0) + 1;
    }
    for (int r = 0; r < reps; r++)
        for (int v = 0; v < nv; v++) {
            double t0 = vit_now_ms();
            for (int k = 0; k < iters[v]; k++)
                fn(v);
            us[v][r] = (vit_now_ms() - t0) * 1000.0 / iters[v];
        }
    printf("%-12s %-10s", op, shape);
    double med[MAXV];
    for (int v = 0; v < nv; v++) {
        qsort(us[v], (size_t)reps, sizeof(double), cmp_d);
        med[v] = us[v][reps / 2];
        printf(" %9.1f (%4.1f%%)", med[v], 100.0 * (us[v][reps - 1] - us[v][0]) / med[v]);
    }
    for (int v = 1; v < nv; v++)
        printf("  x%.2f", med[0] / med[v]);
    printf("\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-ms") && i + 1 < argc)
            batch_ms = atof(argv[++i]);
    }
    reps = reps < 1 ? 1 : reps > 64 ? 64 : reps;
    if (!vit_kernel_supported(VIT_KERNEL_AVX2)) {
        fprintf(stderr, "needs AVX2\n");
        return 1;
    }
    const size_t big = (size_t)T * 3072;
    X = buf(big > (size_t)T * T * 12 ? big : (size_t)T * T * 12, -4, 4);
    Y = buf(big > (size_t)T * T * 12 ? big : (size_t)T * T * 12, 0, 0);
    W = buf(3072, 0.5f, 1.5f), B = buf(3072, -0.5f, 0.5f), TMP = buf(3072, 0, 0);
    OUT = vit_alloc(big);
    Q = buf((size_t)T * 768, -1, 1), V = buf((size_t)T * 768, -2, 2), CTX = buf((size_t)T * 768, 0, 0);
    KT = buf((size_t)768 * TPAD, -2, 2), S = buf((size_t)VIT_OPT_ATT_ROWS * TPAD, 0, 0);
    MM = buf((size_t)T * 48 * 2, 0, 0);
    for (int32_t d = 0; d < 768; d++) /* the k^T padding columns are zeros, as in a session */
        for (int32_t j = T; j < TPAD; j++)
            KT[(size_t)d * TPAD + j] = 0;
    for (int32_t r = 0; r < T; r++) /* per-panel min / max as fc1's epilogue leaves them */
        for (int32_t p = 0; p < 48; p++) {
            float mn = INFINITY, mx = -INFINITY;
            for (int32_t k = p * 64; k < (p + 1) * 64; k++) {
                mn = fminf(mn, X[(size_t)r * 3072 + k]);
                mx = fmaxf(mx, X[(size_t)r * 3072 + k]);
            }
            MM[((size_t)r * 48 + p) * 2] = mn, MM[((size_t)r * 48 + p) * 2 + 1] = mx;
        }
    /* the attention variants agree (to float rounding) before they are timed */
    cur_heads = 3;
    float *c0 = buf((size_t)T * 192, 0, 0);
    run_att(0);
    memcpy(c0, CTX, (size_t)T * 192 * sizeof(float));
    for (int v = 1; v < 3; v++) {
        run_att(v);
        float d = 0;
        for (size_t i = 0; i < (size_t)T * 192; i++)
            d = fmaxf(d, fabsf(CTX[i] - c0[i]));
        printf("attention variant %d: max |diff| vs autovec %.1e\n", v, d);
    }
    vit_free(c0);
    printf("us per call, median (spread) of %d samples; 1 thread; T=%d\n", reps, T);
    printf("%-12s %-10s %17s %17s %17s  speedup\n", "op", "shape", "autovec", "avx2", "avx2-3x4");
    char shape[32];
    static const int32_t heads[] = {3, 6, 12}, lnd[] = {192, 384, 768}, qd[] = {768, 1536, 3072};
    for (int k = 0; k < 3; k++) {
        cur_heads = heads[k];
        snprintf(shape, sizeof shape, "h%d hd64", heads[k]);
        bench("attention", shape, run_att, 3);
    }
    for (int k = 0; k < 3; k++) {
        cur_dim = lnd[k];
        snprintf(shape, sizeof shape, "%dx%d", T, lnd[k]);
        bench("ln_quant", shape, run_ln, 2);
    }
    for (int k = 0; k < 3; k++) {
        cur_dim = qd[k];
        snprintf(shape, sizeof shape, "%dx%d", T, qd[k]);
        bench("quant_rows", shape, run_qr, 2);
    }
    cur_dim = 3072;
    bench("quant_rows_mm", "197x3072", run_qr_mm, 2);
    cur_dim = 1536;
    bench("gelu", "197x1536", run_gelu, 2);
    cur_heads = 6;
    bench("exp(expf)", "6x197x197", run_exp, 2);
    return 0;
}
