/* bench_gemm.c — throughput of the int8 GEMM kernels on the DeiT Linear shapes, next to OpenBLAS
 * sgemm and oneDNN's u8s8s32 matmul. Developer tool; not built by meson. Build and run with
 * tools/bench_gemm.sh, or by hand:
 *
 *   F="-std=c11 -O3 -D_GNU_SOURCE -DVIT_HAVE_X86_SIMD=1 -Iengine"
 *   gcc $F -c engine/vit-kernels-avx512.c -mavx512f -mavx512bw -mavx512vl -mavx512dq \
 *       -mavx512vnni -mfma -mf16c -o k512.o
 *   gcc $F -c engine/vit-kernels-avx2.c -mavx2 -mfma -mf16c -o k2.o
 *   gcc $F -DHAVE_DNNL tools/bench_gemm.c engine/vit.c engine/vit-cpu.c engine/vit-pool.c engine/vit-quant.c \
 *       k512.o k2.o -o bench_gemm -lopenblas -ldnnl -lgomp -lm -lpthread
 *   ./bench_gemm [-m 197] [-reps 9] [-best] [-full] [-scalar] [-shape K N]
 *
 * Columns: GOP/s (2*M*N*K per second, median of -reps timings) of
 *   <kernel> 1t/2t  vit_qlinear_forward_u8: our GEMM with the fused dequantizing epilogue
 *                   (int8 in, fp32 out), split over columns on a vit_pool of 1 or 2 threads
 *   fwd 1t/2t       vit_qlinear_forward with the best kernel: + min/max and quantization of
 *                   the fp32 input (what a Linear costs in the int8 forward)
 *   sgemm 1t/2t     cblas_sgemm, fp32 x (M,K) times W^T, W (N,K) as the fp32 engine calls it
 *   dnnl 1t/2t      oneDNN matmul u8 (M,K) x s8 (K,N) -> s32 (M,N), weights reordered once to
 *                   the layout oneDNN prefers (as torch's onednn engine prepacks them)
 *   ours 2t         the best kernel at 2 threads again, timed in alternation with dnnl 2t
 *   ours/dnnl       the ratio of those two (the fair comparison on a loaded machine)
 * A holds 7-bit values (0..127, torch's reduce_range, the engine's default) unless -full.
 * The machine may be shared: run it a few times and compare medians. */
#include "vit-impl.h"
#include "vit-pool.h"
#include "vit-quant.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_DNNL
#include <dnnl.h>
void omp_set_num_threads(int n); /* libgomp, which libdnnl uses */
#endif

static int reps = 9;
static int use_best; /* -best: the fastest timing instead of the median */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*bench_fn)(void *ctx);

/* Median (or, with -best, fastest) seconds per call; each timing runs enough calls to last
 * >= 2 ms. On a shared machine the fastest timing is what the code does when it gets the
 * cores; the median, what it gets on average. */
static double time_median(bench_fn fn, void *ctx)
{
    fn(ctx); /* warm-up: caches, page faults, thread wake-up */
    double t0 = vit_now_ms();
    fn(ctx);
    double one = vit_now_ms() - t0;
    int inner = one > 0 ? (int)(2.0 / one) + 1 : 1000;
    if (inner > 1000)
        inner = 1000;
    double t[64];
    int r = reps < 64 ? reps : 64;
    for (int i = 0; i < r; i++) {
        double s = vit_now_ms();
        for (int j = 0; j < inner; j++)
            fn(ctx);
        t[i] = (vit_now_ms() - s) / inner * 1e-3;
    }
    qsort(t, (size_t)r, sizeof t[0], cmp_double);
    return use_best ? t[0] : t[r / 2];
}

/* Two operations timed in alternation, rep by rep, so that a shared machine's load falls on
 * both alike: their ratio is then fairer than that of two separate runs. */
static void time_pair(bench_fn fa, void *ca, bench_fn fb, void *cb, double *ta, double *tb)
{
    fa(ca);
    fb(cb);
    double t0 = vit_now_ms();
    fa(ca);
    double t1 = vit_now_ms();
    fb(cb);
    double t2 = vit_now_ms();
    int ia = t1 - t0 > 0 ? (int)(2.0 / (t1 - t0)) + 1 : 1000,
        ib = t2 - t1 > 0 ? (int)(2.0 / (t2 - t1)) + 1 : 1000;
    ia = ia > 1000 ? 1000 : ia;
    ib = ib > 1000 ? 1000 : ib;
    double a[64], b[64];
    int r = reps < 64 ? reps : 64;
    for (int i = 0; i < r; i++) {
        double s = vit_now_ms();
        for (int j = 0; j < ia; j++)
            fa(ca);
        a[i] = (vit_now_ms() - s) / ia * 1e-3;
        s = vit_now_ms();
        for (int j = 0; j < ib; j++)
            fb(cb);
        b[i] = (vit_now_ms() - s) / ib * 1e-3;
    }
    qsort(a, (size_t)r, sizeof a[0], cmp_double);
    qsort(b, (size_t)r, sizeof b[0], cmp_double);
    *ta = use_best ? a[0] : a[r / 2];
    *tb = use_best ? b[0] : b[r / 2];
}

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

typedef struct {
    int32_t m, k, n;
    const vit_qlinear *ql;
    const uint8_t *a;
    const float *x;
    float *y;
    void *scratch;
    struct vit_pool *pool;
    vit_qparams qp;
    /* sgemm */
    const float *w;
    float *c;
} ctx_t;

static void run_ours(void *p)
{
    ctx_t *c = p;
    vit_qlinear_forward_u8(c->ql, c->a, c->k, c->qp, c->m, c->y, c->pool);
}

static void run_fwd(void *p)
{
    ctx_t *c = p;
    vit_qlinear_forward(c->ql, c->x, c->m, c->y, c->scratch, c->pool);
}

static void run_sgemm(void *p)
{
    ctx_t *c = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->m, c->n, c->k, 1.0f, c->x, c->k, c->w,
                c->k, 0.0f, c->c, c->n);
}

#ifdef HAVE_DNNL
typedef struct {
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    dnnl_primitive_t prim;
    dnnl_memory_t src, wei, dst;
} dnnl_ctx;

#define DNNL_CHECK(x)                                                                          \
    do {                                                                                       \
        dnnl_status_t s_ = (x);                                                                \
        if (s_ != dnnl_success) {                                                              \
            fprintf(stderr, "%s:%d: %s failed (%d)\n", __FILE__, __LINE__, #x, (int)s_);       \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

/* a (m,k) u8, q (n,k) s8 as ours; oneDNN wants weights (k,n): transposed once here. */
static void dnnl_setup(dnnl_ctx *d, int32_t m, int32_t k, int32_t n, const uint8_t *a,
                       const int8_t *q, int32_t *out)
{
    DNNL_CHECK(dnnl_engine_create(&d->eng, dnnl_cpu, 0));
    DNNL_CHECK(dnnl_stream_create(&d->stream, d->eng, dnnl_stream_default_flags));
    dnnl_memory_desc_t src_md, wei_any, wei_ab, dst_md;
    dnnl_dims_t sd = {m, k}, wd = {k, n}, dd = {m, n};
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&src_md, 2, sd, dnnl_u8, dnnl_ab));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&wei_any, 2, wd, dnnl_s8, dnnl_format_tag_any));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&wei_ab, 2, wd, dnnl_s8, dnnl_ab));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 2, dd, dnnl_s32, dnnl_ab));
    dnnl_matmul_desc_t md;
    DNNL_CHECK(dnnl_matmul_desc_init(&md, &src_md, &wei_any, NULL, &dst_md));
    dnnl_primitive_desc_t pd;
    DNNL_CHECK(dnnl_primitive_desc_create(&pd, &md, NULL, d->eng, NULL));
    DNNL_CHECK(dnnl_primitive_create(&d->prim, pd));
    const dnnl_memory_desc_t *wei_pref = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);

    int8_t *wt = malloc((size_t)k * n);
    for (int32_t j = 0; j < n; j++)
        for (int32_t kk = 0; kk < k; kk++)
            wt[(size_t)kk * n + j] = q[(size_t)j * k + kk];
    dnnl_memory_t wei_plain;
    DNNL_CHECK(dnnl_memory_create(&wei_plain, &wei_ab, d->eng, wt));
    DNNL_CHECK(dnnl_memory_create(&d->wei, wei_pref, d->eng, DNNL_MEMORY_ALLOCATE));
    dnnl_primitive_desc_t rpd;
    DNNL_CHECK(dnnl_reorder_primitive_desc_create(&rpd, &wei_ab, d->eng, wei_pref, d->eng, NULL));
    dnnl_primitive_t reorder;
    DNNL_CHECK(dnnl_primitive_create(&reorder, rpd));
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, wei_plain}, {DNNL_ARG_TO, d->wei}};
    DNNL_CHECK(dnnl_primitive_execute(reorder, d->stream, 2, rargs));
    DNNL_CHECK(dnnl_stream_wait(d->stream));
    dnnl_primitive_destroy(reorder);
    dnnl_primitive_desc_destroy(rpd);
    dnnl_memory_destroy(wei_plain);
    free(wt);
    DNNL_CHECK(dnnl_memory_create(&d->src, &src_md, d->eng, (void *)a));
    DNNL_CHECK(dnnl_memory_create(&d->dst, &dst_md, d->eng, out));
    dnnl_primitive_desc_destroy(pd);
}

static void run_dnnl(void *p)
{
    dnnl_ctx *d = p;
    dnnl_exec_arg_t args[3] = {
        {DNNL_ARG_SRC, d->src}, {DNNL_ARG_WEIGHTS, d->wei}, {DNNL_ARG_DST, d->dst}};
    dnnl_primitive_execute(d->prim, d->stream, 3, args);
    dnnl_stream_wait(d->stream);
}

static void dnnl_teardown(dnnl_ctx *d)
{
    dnnl_primitive_destroy(d->prim);
    dnnl_memory_destroy(d->src);
    dnnl_memory_destroy(d->wei);
    dnnl_memory_destroy(d->dst);
    dnnl_stream_destroy(d->stream);
    dnnl_engine_destroy(d->eng);
}
#endif

int main(int argc, char **argv)
{
    int32_t m = 197;
    int full = 0, with_scalar = 0;
    int32_t shapes[16][2] = {{192, 576}, {192, 192}, {192, 768}, {768, 192},
                             {384, 1152}, {384, 384}, {384, 1536}, {1536, 384},
                             {768, 2304}, {768, 768}, {768, 3072}, {3072, 768}};
    int nshapes = 12;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") && i + 1 < argc)
            m = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-best"))
            use_best = 1;
        else if (!strcmp(argv[i], "-full"))
            full = 1;
        else if (!strcmp(argv[i], "-scalar"))
            with_scalar = 1;
        else if (!strcmp(argv[i], "-shape") && i + 2 < argc) {
            shapes[0][0] = atoi(argv[++i]);
            shapes[0][1] = atoi(argv[++i]);
            nshapes = 1;
        } else {
            fprintf(stderr, "usage: %s [-m M] [-reps R] [-best] [-full] [-scalar] [-shape K N]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1)
        reps = 1;

    struct vit_pool *pool2 = NULL;
    vit_error err;
    if (vit_pool_new(2, &pool2, &err) != VIT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    vit_kernel best = vit_kernel_select(NULL);
    printf("# M = %d, A %s, %s of %d; GOP/s = 2*M*N*K / s; best kernel %s\n", (int)m,
           full ? "0..255" : "0..127", use_best ? "fastest" : "median", reps,
           vit_kernel_name(best));
    printf("%5s %5s", "K", "N");
    for (int kern = with_scalar ? 0 : 1; kern < VIT_KERNEL_COUNT; kern++)
        if (vit_kernel_supported((vit_kernel)kern))
            printf(" %9.9s-1t %9.9s-2t", vit_kernel_name((vit_kernel)kern),
                   vit_kernel_name((vit_kernel)kern));
    printf(" %8s %8s %8s %8s", "fwd-1t", "fwd-2t", "sgemm-1t", "sgemm-2t");
#ifdef HAVE_DNNL
    printf(" %8s %8s %8s %9s", "dnnl-1t", "dnnl-2t", "ours-2t", "ours/dnnl");
#endif
    printf("\n");

    for (int s = 0; s < nshapes; s++) {
        int32_t k = shapes[s][0], n = shapes[s][1];
        double ops = 2.0 * m * n * k;
        uint8_t *a = vit_alloc((size_t)m * k);
        float *x = vit_alloc((size_t)m * k * sizeof(float));
        float *w = vit_alloc((size_t)n * k * sizeof(float));
        float *y = vit_alloc((size_t)m * n * sizeof(float));
        float *cc = vit_alloc((size_t)m * n * sizeof(float));
        void *scratch = vit_alloc(vit_qlinear_scratch_bytes(m, k));
        for (size_t i = 0; i < (size_t)m * k; i++) {
            a[i] = (uint8_t)(full ? rnd() : rnd() & 0x7f);
            x[i] = (float)(int32_t)(rnd() % 2001 - 1000) * 1e-3f;
        }
        for (size_t i = 0; i < (size_t)n * k; i++)
            w[i] = (float)(int32_t)(rnd() % 2001 - 1000) * 1e-4f;
        printf("%5d %5d", (int)k, (int)n);
        fflush(stdout);

        double best2 = 0;
        vit_qlinear qbest = {0};
        for (int kern = with_scalar ? 0 : 1; kern < VIT_KERNEL_COUNT; kern++) {
            if (!vit_kernel_supported((vit_kernel)kern))
                continue;
            vit_qlinear ql;
            if (vit_qlinear_init(&ql, w, NULL, n, k, 0, (vit_kernel)kern, &err) != VIT_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            ctx_t c = {m, k, n, &ql, a, x, y, scratch, NULL, {0.01f, 3}, w, cc};
            double t1 = time_median(run_ours, &c);
            c.pool = pool2;
            double t2 = time_median(run_ours, &c);
            printf(" %12.1f %12.1f", ops / t1 * 1e-9, ops / t2 * 1e-9);
            fflush(stdout);
            if (kern == (int)best) {
                best2 = ops / t2 * 1e-9;
                qbest = ql;
            } else {
                vit_qlinear_free(&ql);
            }
        }
        ctx_t c = {m, k, n, &qbest, a, x, y, scratch, NULL, {0.01f, 3}, w, cc};
        double tf1 = time_median(run_fwd, &c);
        c.pool = pool2;
        double tf = time_median(run_fwd, &c);
        openblas_set_num_threads(1);
        double s1 = time_median(run_sgemm, &c);
        openblas_set_num_threads(2);
        double s2 = time_median(run_sgemm, &c);
        printf(" %8.1f %8.1f %8.1f %8.1f", ops / tf1 * 1e-9, ops / tf * 1e-9, ops / s1 * 1e-9,
               ops / s2 * 1e-9);
        fflush(stdout);
#ifdef HAVE_DNNL
        {
            int32_t *d32 = vit_alloc((size_t)m * n * sizeof(int32_t));
            int32_t *r32 = vit_alloc((size_t)m * n * sizeof(int32_t));
            dnnl_ctx d;
            dnnl_setup(&d, m, k, n, a, qbest.q, d32);
            omp_set_num_threads(1);
            double d1 = time_median(run_dnnl, &d);
            /* ours and oneDNN at 2 threads, alternating (see time_pair) */
            omp_set_num_threads(2);
            ctx_t cb = {m, k, n, &qbest, a, x, y, scratch, pool2, {0.01f, 3}, w, cc};
            double d2, ours2;
            time_pair(run_ours, &cb, run_dnnl, &d, &ours2, &d2);
            /* sanity: oneDNN's int32 sums equal ours */
            vit_gemm_u8s8s32(qbest.kernel, m, k, a, k, &qbest, r32, n, 0, n);
            int same = memcmp(d32, r32, (size_t)m * n * sizeof(int32_t)) == 0;
            (void)best2;
            printf(" %8.1f %8.1f %8.1f %8.0f%%%s", ops / d1 * 1e-9, ops / d2 * 1e-9,
                   ops / ours2 * 1e-9, 100.0 * d2 / ours2, same ? "" : " (dnnl result differs!)");
            dnnl_teardown(&d);
            vit_free(d32);
            vit_free(r32);
        }
#else
        (void)best2;
#endif
        printf("\n");
        vit_qlinear_free(&qbest);
        vit_free(a);
        vit_free(x);
        vit_free(w);
        vit_free(y);
        vit_free(cc);
        vit_free(scratch);
    }
    vit_pool_free(pool2);
    return 0;
}
