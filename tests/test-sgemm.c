/* test-sgemm.c — the fp32 variant's GEMM and kernels (vit-sgemm.h).
 *
 * One line per check; exit status 1 when any check fails. For every kernel this CPU supports
 * (the others are reported as skipped):
 *   - packing (both layouts) puts every element where the kernels read it, zero past n;
 *   - the GEMM in each epilogue (store, add, GELU; with and without bias) agrees with a double
 *     precision product within a bound proportional to sum |a||b|, writes nothing outside its
 *     output, and is bit-identical to the scalar reference (one FMA chain over k, in order, in
 *     every kernel);
 *   - the threaded driver is bit-identical for 1, 2 and 3 threads;
 *   - softmax and LayerNorm agree with double-precision definitions. */
#include "vit-impl.h"
#include "vit-opt.h"
#include "vit-pool.h"
#include "vit-sgemm.h"

#include "test-util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;
static float rnd_unit(void) /* [-1, 1) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint32_t r = (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
    return (float)((double)r / 2147483648.0 - 1.0);
}

static float *xalloc(size_t floats)
{
    float *p = vit_alloc((floats ? floats : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void fill(float *x, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = scale * rnd_unit();
}

typedef struct {
    const char *name;
    const vit_sgemm_ops *ops;
} kernel;

static int kernels(kernel *out)
{
    int n = 0;
    out[n++] = (kernel){"scalar", &vit_sgemm_ops_ref};
    const vit_kernel ks[] = {VIT_KERNEL_AVX2, VIT_KERNEL_AVX512_VNNI};
    for (int i = 0; i < 2; i++) {
        const vit_sgemm_ops *o = vit_sgemm_ops_for(ks[i]);
        if (o)
            out[n++] = (kernel){o->name, o};
        else
            printf("/sgemm/%s skipped: this CPU does not have it\n", vit_kernel_name(ks[i]));
    }
    return n;
}

static void test_pack(void)
{
    const int32_t shapes[][2] = {{1, 1}, {5, 33}, {64, 197}, {192, 32}, {7, 65}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int32_t k = shapes[s][0], n = shapes[s][1];
        float *w = xalloc((size_t)n * (k + 3)); /* (n, k), row stride k + 3 */
        float *b = xalloc((size_t)k * (n + 5)); /* (k, n), row stride n + 5 */
        fill(w, (size_t)n * (k + 3), 1.0f);
        fill(b, (size_t)k * (n + 5), 1.0f);
        size_t pf = vit_sgemm_packed_floats(k, n);
        float *pt = xalloc(pf), *pn = xalloc(pf);
        memset(pt, 0x7f, pf * sizeof(float)); /* padding must be written as zeros */
        memset(pn, 0x7f, pf * sizeof(float));
        vit_sgemm_pack_t(w, k + 3, n, k, pt);
        vit_sgemm_pack_n(b, n + 5, k, n, pn);
        int ok = 1;
        for (int32_t j = 0; j < vit_sgemm_panels(n) * VIT_SGEMM_NR; j++)
            for (int32_t kk = 0; kk < k; kk++) {
                size_t at = ((size_t)(j / VIT_SGEMM_NR) * k + kk) * VIT_SGEMM_NR + j % VIT_SGEMM_NR;
                float wt = j < n ? w[(size_t)j * (k + 3) + kk] : 0.0f;
                float bn = j < n ? b[(size_t)kk * (n + 5) + j] : 0.0f;
                ok &= pt[at] == wt && pn[at] == bn;
            }
        test_check(ok, "/sgemm/pack k=%d n=%d: every element in place, zeros past n", k, n);
        /* unpacking (what restores a model's released Linears) gives w back, bit for bit, and
         * writes nothing past each row's k floats */
        float *u = xalloc((size_t)n * (k + 3));
        memset(u, 0x5a, (size_t)n * (k + 3) * sizeof(float));
        vit_sgemm_unpack_t(pt, n, k, u, k + 3);
        int same = 1;
        for (int32_t j = 0; j < n; j++) {
            same &= memcmp(u + (size_t)j * (k + 3), w + (size_t)j * (k + 3), (size_t)k * 4) == 0;
            for (int32_t g = k; g < k + 3; g++) {
                uint32_t bits;
                memcpy(&bits, &u[(size_t)j * (k + 3) + g], 4);
                same &= bits == 0x5a5a5a5au;
            }
        }
        test_check(same, "/sgemm/unpack k=%d n=%d: the inverse of pack_t, row stride kept", k, n);
        vit_free(u);
        vit_free(w);
        vit_free(b);
        vit_free(pt);
        vit_free(pn);
    }
}

static double gelu_exact(double x)
{
    return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
}

/* A random a (m, lda), Linear weight w (n, k) packed as B, and bias (n). */
typedef struct {
    float *a, *w, *bias;
    vit_sgemm_b b;
} problem;

static problem problem_new(int32_t m, int32_t lda, int32_t k, int32_t n, float wscale)
{
    problem p = {xalloc((size_t)m * lda), xalloc((size_t)n * k), xalloc((size_t)n),
                 {k, n, xalloc(vit_sgemm_packed_floats(k, n))}};
    fill(p.a, (size_t)m * lda, 1.0f);
    fill(p.w, (size_t)n * k, wscale);
    fill(p.bias, (size_t)n, wscale);
    vit_sgemm_pack_t(p.w, k, n, k, p.b.p);
    return p;
}

static void problem_free(problem *p)
{
    vit_free(p->a);
    vit_free(p->w);
    vit_free(p->bias);
    vit_free(p->b.p);
}

/* One GEMM shape in every mode on kernel kn; result kept for the cross-kernel comparison. */
static void test_gemm_shape(const kernel *kn, const kernel *ref, int32_t m, int32_t k, int32_t n)
{
    const int32_t lda = k + 1, ldc = n + 3; /* strides wider than the rows, guards between */
    problem pr = problem_new(m, lda, k, n, 0.5f);
    const float *a = pr.a, *w = pr.w, *bias = pr.bias;
    const vit_sgemm_b b = pr.b;
    float *c0 = xalloc((size_t)m * ldc), *c = xalloc((size_t)m * ldc), *cr = xalloc((size_t)m * ldc);
    fill(c0, (size_t)m * ldc, 1.0f);

    const char *modes[] = {"store", "add", "gelu"};
    for (int mode = VIT_SEP_STORE; mode <= VIT_SEP_GELU; mode++)
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            const float *bp = with_bias ? bias : NULL;
            memcpy(c, c0, (size_t)m * ldc * sizeof(float));
            vit_sgemm(kn->ops, NULL, m, a, lda, &b, bp, (vit_sgemm_mode)mode, c, ldc);
            double worst = 0.0;
            int guards = 1;
            for (int32_t i = 0; i < m; i++) {
                for (int32_t j = 0; j < n; j++) {
                    double acc = 0.0, mag = 0.0;
                    for (int32_t kk = 0; kk < k; kk++) {
                        acc += (double)a[(size_t)i * lda + kk] * w[(size_t)j * k + kk];
                        mag += fabs((double)a[(size_t)i * lda + kk] * w[(size_t)j * k + kk]);
                    }
                    double v = acc + (bp ? bp[j] : 0.0), want = v;
                    if (mode == VIT_SEP_ADD)
                        want = c0[(size_t)i * ldc + j] + v;
                    else if (mode == VIT_SEP_GELU)
                        want = gelu_exact(v);
                    // fp32 FMA chain: |err| <= k * eps * sum|a b| (far less in practice); the
                    // fast erf adds 4e-7 absolute
                    double bound = 2.0 * 1.2e-7 * (mag + fabs(v) + 1.0) + 1e-6;
                    double d = fabs(c[(size_t)i * ldc + j] - want) / bound;
                    worst = d > worst ? d : worst;
                }
                for (int32_t j = n; j < ldc; j++)
                    guards &= c[(size_t)i * ldc + j] == c0[(size_t)i * ldc + j];
            }
            test_check(worst <= 1.0 && guards,
                  "/sgemm/%s/%s%s %dx%dx%d: error %.2f of its bound, nothing written past n",
                  kn->name, modes[mode], with_bias ? "+bias" : "", m, k, n, worst);
            if (kn != ref) {
                memcpy(cr, c0, (size_t)m * ldc * sizeof(float));
                vit_sgemm(ref->ops, NULL, m, a, lda, &b, bp, (vit_sgemm_mode)mode, cr, ldc);
                test_check(memcmp(c, cr, (size_t)m * ldc * sizeof(float)) == 0,
                      "/sgemm/%s/%s%s %dx%dx%d: bit-identical to the scalar reference", kn->name,
                      modes[mode], with_bias ? "+bias" : "", m, k, n);
            }
        }
    problem_free(&pr);
    vit_free(c0);
    vit_free(c);
    vit_free(cr);
}

static void test_threads(const kernel *kn)
{
    const int32_t m = 197, k = 192, n = 576;
    problem pr = problem_new(m, k, k, n, 0.3f);
    const float *a = pr.a, *bias = pr.bias;
    const vit_sgemm_b b = pr.b;
    float *c1 = xalloc((size_t)m * n), *ct = xalloc((size_t)m * n);
    vit_sgemm(kn->ops, NULL, m, a, k, &b, bias, VIT_SEP_GELU, c1, n);
    for (int32_t t = 2; t <= 3; t++) {
        struct vit_pool *pool = NULL;
        vit_error err;
        if (vit_pool_new(t, &pool, &err) != VIT_OK) {
            test_check(0, "/sgemm/%s/threads: pool of %d: %s", kn->name, t, err.msg);
            continue;
        }
        memset(ct, 0, (size_t)m * n * sizeof(float));
        vit_sgemm(kn->ops, pool, m, a, k, &b, bias, VIT_SEP_GELU, ct, n);
        test_check(memcmp(c1, ct, (size_t)m * n * sizeof(float)) == 0,
              "/sgemm/%s/threads %d: bit-identical to 1 thread", kn->name, t);
        vit_pool_free(pool);
    }
    problem_free(&pr);
    vit_free(c1);
    vit_free(ct);
}

static void test_softmax_layernorm(const kernel *kn)
{
    const int32_t sizes[] = {1, 7, 16, 33, 197};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int32_t cols = sizes[s], rows = 3, ld = cols + 2;
        float *x = xalloc((size_t)rows * ld), *x0 = xalloc((size_t)rows * ld);
        fill(x0, (size_t)rows * ld, 6.0f);
        memcpy(x, x0, (size_t)rows * ld * sizeof(float));
        const float scale = 0.125f;
        kn->ops->softmax(x, rows, cols, ld, scale);
        double worst = 0.0;
        int guards = 1;
        for (int32_t r = 0; r < rows; r++) {
            const float *xr = x0 + (size_t)r * ld;
            double mx = xr[0], sum = 0.0;
            for (int32_t j = 1; j < cols; j++)
                mx = xr[j] > mx ? xr[j] : mx;
            for (int32_t j = 0; j < cols; j++)
                sum += exp((xr[j] - mx) * scale);
            for (int32_t j = 0; j < cols; j++) {
                double want = exp((xr[j] - mx) * scale) / sum;
                double d = fabs(x[(size_t)r * ld + j] - want) / want;
                worst = d > worst ? d : worst;
            }
            for (int32_t j = cols; j < ld; j++)
                guards &= x[(size_t)r * ld + j] == xr[j];
        }
        test_check(worst < 2e-6 && guards, "/sgemm/%s/softmax %dx%d: max rel. error %.2e", kn->name,
              rows, cols, worst);
        vit_free(x);
        vit_free(x0);
    }
    const int32_t dims[] = {1, 8, 30, 192, 768};
    for (size_t s = 0; s < sizeof dims / sizeof dims[0]; s++) {
        int32_t dim = dims[s], rows = 5;
        float *x = xalloc((size_t)rows * dim), *y = xalloc((size_t)rows * dim);
        float *w = xalloc((size_t)dim), *b = xalloc((size_t)dim);
        fill(x, (size_t)rows * dim, 4.0f);
        for (int32_t j = 0; j < rows * dim; j++)
            x[j] += 3.0f; /* a mean far from 0, as in the residual stream */
        fill(w, (size_t)dim, 1.0f);
        fill(b, (size_t)dim, 1.0f);
        /* eps: timm's, transformers' and one that changes every row */
        static const float epss[] = {1e-6f, 1e-12f, 0.25f};
        const float eps = epss[s % 3];
        kn->ops->layernorm(x, w, b, y, rows, dim, eps);
        double worst = 0.0;
        for (int32_t r = 0; r < rows; r++) {
            const float *xr = x + (size_t)r * dim;
            double mean = 0.0, var = 0.0;
            for (int32_t j = 0; j < dim; j++)
                mean += xr[j];
            mean /= dim;
            for (int32_t j = 0; j < dim; j++)
                var += (xr[j] - mean) * (xr[j] - mean);
            var /= dim;
            for (int32_t j = 0; j < dim; j++) {
                double want = (xr[j] - mean) / sqrt(var + (double)eps) * w[j] + b[j];
                double d = fabs(y[(size_t)r * dim + j] - want);
                worst = d > worst ? d : worst;
            }
        }
        test_check(worst < 2e-6, "/sgemm/%s/layernorm %dx%d eps %g: max abs. error %.2e", kn->name,
                   rows, dim, (double)eps, worst);
        vit_free(x);
        vit_free(y);
        vit_free(w);
        vit_free(b);
    }
}

int main(void)
{
    test_pack();
    kernel ks[3];
    int nk = kernels(ks);
    const int32_t shapes[][3] = {
        {1, 1, 1},    {1, 192, 1000}, {5, 7, 33},    {12, 64, 32}, {13, 64, 197},
        {197, 197, 64}, {25, 17, 31}, {50, 768, 48}, {11, 3072, 17}, {49, 48, 96},
    };
    for (int i = 0; i < nk; i++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            test_gemm_shape(&ks[i], &ks[0], shapes[s][0], shapes[s][1], shapes[s][2]);
        test_threads(&ks[i]);
        test_softmax_layernorm(&ks[i]);
    }
    return test_done();
}
