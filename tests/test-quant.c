/* test-quant.c — int8 kernels, packing, quantization and the int8 Linear forward.
 *
 * One line per check ("/quant/gemm/avx512-vnni/bit-exact 197x768x2304 ok"); exit status 1 when
 * any check fails. Every kernel this CPU supports is compared with the scalar reference, bit for
 * bit; the others are reported as skipped. */
#include "vit-cpu.h"
#include "vit-impl.h"
#include "vit-pool.h"
#include "vit-quant.h"

#include "test-util.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* xorshift64*: reproducible data without libc's rand */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}
static float rnd_unit(void) /* [-1, 1) */
{
    return (float)((double)rnd() / 2147483648.0 - 1.0);
}
static float rnd_normal(void)
{
    double u = ((double)rnd() + 1.0) / 4294967297.0, v = (double)rnd() / 4294967296.0;
    return (float)(sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v));
}

static void *xalloc(size_t bytes)
{
    void *p = vit_alloc(bytes);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}

/* A (m, k) u8 and W (n, k) int8 with a mix of uniform values and the extremes 0/255, -128/127
 * (runs of them too, so that vpmaddubsw pairs of two extremes occur). */
static void fill_u8(uint8_t *a, size_t count, int mode)
{
    for (size_t i = 0; i < count; i++) {
        uint32_t r = rnd();
        if (mode == 1)
            a[i] = 255;
        else if (mode == 2)
            a[i] = (uint8_t)(r & 0x7f); /* torch's 7-bit activations */
        else
            a[i] = (r % 5 == 0) ? ((r >> 8) & 1 ? 255 : 0) : (uint8_t)(r >> 16);
    }
}
static void fill_s8(int8_t *q, size_t count, int mode)
{
    for (size_t i = 0; i < count; i++) {
        uint32_t r = rnd();
        if (mode == 1)
            q[i] = (int8_t)((r & 1) ? -128 : 127);
        else
            q[i] = (r % 5 == 0) ? (int8_t)((r >> 8) & 1 ? -128 : 127) : (int8_t)(r >> 16);
    }
}

static const vit_kernel simd_kernels[] = {VIT_KERNEL_AVX2, VIT_KERNEL_AVX512_VNNI};

/* ---------------------------------------------------------------------------------------------
 * GEMM: every kernel against the reference */

/* a (m rows of k bytes at a stride of lda) times the weights q (n x k) with one scale: every
 * SIMD kernel of this CPU bit for bit against the scalar reference, over all the columns and
 * over three column sub-ranges, aligned or not, each writing exactly its columns ("what" ends
 * the checks' names) */
static void check_gemm_kernels(int32_t m, int32_t k, int32_t n, const uint8_t *a, int32_t lda,
                               const int8_t *q, const float *scale, const char *what)
{
    int32_t *ref = xalloc((size_t)m * (size_t)n * sizeof(int32_t));
    int32_t *out = xalloc((size_t)m * (size_t)n * sizeof(int32_t));
    vit_qlinear ql_ref;
    vit_error err;
    if (vit_qlinear_init_quantized(&ql_ref, q, scale, NULL, n, k, 0, VIT_KERNEL_SCALAR, &err) !=
        VIT_OK) {
        test_check(0, "/quant/gemm/init %dx%dx%d: %s", (int)m, (int)k, (int)n, err.msg);
        vit_free(ref);
        vit_free(out);
        return;
    }
    vit_gemm_u8s8s32(VIT_KERNEL_SCALAR, m, k, a, lda, &ql_ref, ref, n, 0, n);

    for (size_t s = 0; s < sizeof simd_kernels / sizeof simd_kernels[0]; s++) {
        vit_kernel kern = simd_kernels[s];
        if (!vit_kernel_supported(kern))
            continue;
        vit_qlinear ql;
        if (vit_qlinear_init_quantized(&ql, q, scale, NULL, n, k, 0, kern, &err) != VIT_OK) {
            test_check(0, "/quant/gemm/%s/init %dx%dx%d: %s", vit_kernel_name(kern), (int)m, (int)k,
                  (int)n, err.msg);
            continue;
        }
        memset(out, 0xA5, (size_t)m * (size_t)n * sizeof(int32_t));
        vit_gemm_u8s8s32(kern, m, k, a, lda, &ql, out, n, 0, n);
        int ok = memcmp(out, ref, (size_t)m * (size_t)n * sizeof(int32_t)) == 0;
        /* column sub-ranges, aligned or not, must write exactly their columns */
        int32_t cuts[3] = {(int32_t)(rnd() % (uint32_t)n), (int32_t)(rnd() % (uint32_t)n), 0};
        if (cuts[0] > cuts[1]) {
            int32_t tmp = cuts[0];
            cuts[0] = cuts[1];
            cuts[1] = tmp;
        }
        cuts[2] = n;
        memset(out, 0xA5, (size_t)m * (size_t)n * sizeof(int32_t));
        vit_gemm_u8s8s32(kern, m, k, a, lda, &ql, out, n, 0, cuts[0]);
        vit_gemm_u8s8s32(kern, m, k, a, lda, &ql, out, n, cuts[0], cuts[1]);
        vit_gemm_u8s8s32(kern, m, k, a, lda, &ql, out, n, cuts[1], cuts[2]);
        ok = ok && memcmp(out, ref, (size_t)m * (size_t)n * sizeof(int32_t)) == 0;
        test_check(ok, "/quant/gemm/%s/bit-exact%s %dx%dx%d", vit_kernel_name(kern), what, (int)m,
              (int)k, (int)n);
        vit_qlinear_free(&ql);
    }
    vit_qlinear_free(&ql_ref);
    vit_free(ref);
    vit_free(out);
}

static void test_gemm_shape(int32_t m, int32_t k, int32_t n, int mode)
{
    int32_t lda = k + (int32_t)(rnd() % 3); /* odd strides, and rows that end at k exactly */
    size_t abytes = (size_t)(m - 1) * (size_t)lda + (size_t)k;
    uint8_t *a = xalloc(abytes);
    fill_u8(a, abytes, mode);
    int8_t *q = xalloc((size_t)n * (size_t)k);
    fill_s8(q, (size_t)n * (size_t)k, mode);
    float *scale = xalloc(sizeof(float));
    scale[0] = 0.01f;
    check_gemm_kernels(m, k, n, a, lda, q, scale,
                       mode == 1 ? "-extreme" : mode == 2 ? "-7bit" : "");
    vit_free(a);
    vit_free(q);
    vit_free(scale);
}

static void test_gemm(void)
{
    for (size_t s = 0; s < sizeof simd_kernels / sizeof simd_kernels[0]; s++)
        if (!vit_kernel_supported(simd_kernels[s]))
            printf("/quant/gemm/%s skipped (not supported by this CPU)\n",
                   vit_kernel_name(simd_kernels[s]));

    static const int32_t odd[] = {1, 3, 4, 5, 7, 17, 33, 64, 65};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        for (size_t j = 0; j < sizeof odd / sizeof odd[0]; j++)
            test_gemm_shape(odd[i], odd[j], odd[(i + j) % (sizeof odd / sizeof odd[0])], 0);
    static const int32_t ms[] = {1, 3, 17, 197, 198};
    static const int32_t kn[][2] = {{192, 576}, {192, 192}, {192, 768}, {768, 192},
                                    {384, 1152}, {384, 384}, {384, 1536}, {1536, 384},
                                    {768, 2304}, {768, 768}, {768, 3072}, {3072, 768},
                                    {193, 97}, {3, 1000}, {1001, 17}};
    for (size_t i = 0; i < sizeof kn / sizeof kn[0]; i++)
        for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) {
            int32_t m = ms[j];
            /* the big shapes at full M only once each, to keep the test fast */
            if (kn[i][0] * kn[i][1] > 1000000 && m != 197 && m != 3)
                continue;
            test_gemm_shape(m, kn[i][0], kn[i][1], 0);
        }
    /* the largest sums: all 255 x alternating -128/127, and 7-bit activations (fast path) */
    test_gemm_shape(198, 3072, 96, 1);
    test_gemm_shape(7, 4099, 33, 1);
    test_gemm_shape(197, 768, 192, 2);
    /* rows with and without bytes > 127 mixed in one call (the AVX2 per-block switch) */
    {
        int32_t m = 37, k = 300, n = 50;
        uint8_t *a = xalloc((size_t)m * k);
        fill_u8(a, (size_t)m * k, 2);
        a[5 * k + 17] = 255;
        a[36 * k + 299] = 200;
        int8_t *q = xalloc((size_t)n * k);
        fill_s8(q, (size_t)n * k, 1);
        const float sc = 1.0f;
        check_gemm_kernels(m, k, n, a, k, q, &sc, "-mixed-rows");
        vit_free(a);
        vit_free(q);
    }
}

/* Both inner products of the AVX2 int8 kernel (vit_gemm_u8s8s32_avx2 picks one by the CPU):
 * vpmaddubsw (+ the exact split) and AVX-VNNI's vpdpbusd, each against the reference, int32 sums
 * and the dequantizing epilogue, on full-range, extreme and 7-bit bytes and ragged shapes. */
static void test_gemm_avx2_paths(void)
{
#if defined(__x86_64__)
    static const int32_t shapes[][3] = {/* m, k, n */
                                        {197, 384, 1152}, {17, 193, 97}, {5, 7, 33},
                                        {37, 300, 50},    {1, 1001, 17}, {198, 3072, 96}};
    const unsigned f = vit_cpu_features();
    for (int vnni = 0; vnni <= 1; vnni++) {
        const char *name = vnni ? "avx-vnni" : "avx2-maddubs";
        if (!(f & (vnni ? VIT_CPU_AVX_VNNI : VIT_CPU_AVX2))) {
            printf("note /quant/gemm/%s: not in this CPU (or the VIT_CPU cap): not run\n", name);
            continue;
        }
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int mode = 0; mode <= 2; mode++) {
                const int32_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
                uint8_t *a = xalloc((size_t)m * k);
                int8_t *q = xalloc((size_t)n * k);
                fill_u8(a, (size_t)m * k, mode);
                fill_s8(q, (size_t)n * k, mode);
                float *sc = xalloc((size_t)n * sizeof(float)), *bias = xalloc((size_t)n * 4);
                for (int32_t j = 0; j < n; j++)
                    sc[j] = 0.001f + 0.0001f * (float)(j % 13), bias[j] = 0.01f * (float)(j % 7);
                vit_qlinear qr, ql;
                vit_qlinear_init_quantized(&qr, q, sc, bias, n, k, 1, VIT_KERNEL_SCALAR, NULL);
                vit_qlinear_init_quantized(&ql, q, sc, bias, n, k, 1, VIT_KERNEL_AVX2, NULL);
                int32_t *ref = xalloc((size_t)m * n * 4), *out = xalloc((size_t)m * n * 4);
                float *yr = xalloc((size_t)m * n * 4), *yo = xalloc((size_t)m * n * 4);
                vit_gemm_u8s8s32_ref(m, a, k, &qr, 0, n, ref, n, NULL);
                memset(out, 0xA5, (size_t)m * n * 4);
                const int32_t cut = n / 2 - 3 > 0 ? n / 2 - 3 : 0; /* not on a vector boundary */
                vit_gemm_u8s8s32_avx2_path(vnni, m, a, k, &ql, 0, cut, out, n, NULL);
                vit_gemm_u8s8s32_avx2_path(vnni, m, a, k, &ql, cut, n, out, n, NULL);
                int ok = memcmp(out, ref, (size_t)m * n * 4) == 0;
                vit_qepilogue er = {0.02f, 77, qr.scale, qr.row_sum, qr.bias, yr, n};
                vit_qepilogue eo = {0.02f, 77, ql.scale, ql.row_sum, ql.bias, yo, n};
                vit_gemm_u8s8s32_ref(m, a, k, &qr, 0, n, NULL, 0, &er);
                memset(yo, 0xA5, (size_t)m * n * 4);
                vit_gemm_u8s8s32_avx2_path(vnni, m, a, k, &ql, 0, cut, NULL, 0, &eo);
                vit_gemm_u8s8s32_avx2_path(vnni, m, a, k, &ql, cut, n, NULL, 0, &eo);
                int ok_ep = memcmp(yo, yr, (size_t)m * n * 4) == 0;
                test_check(ok && ok_ep, "/quant/gemm/%s/bit-exact%s %dx%dx%d (int32 %s, epilogue %s)",
                      name, mode == 1 ? "-extreme" : mode == 2 ? "-7bit" : "", (int)m, (int)k,
                      (int)n, ok ? "same" : "DIFFERENT", ok_ep ? "same" : "DIFFERENT");
                vit_qlinear_free(&qr);
                vit_qlinear_free(&ql);
                vit_free(a), vit_free(q), vit_free(sc), vit_free(bias);
                vit_free(ref), vit_free(out), vit_free(yr), vit_free(yo);
            }
    }
#else
    printf("note /quant/gemm/avx2-maddubs, avx-vnni: not x86-64: not run\n");
#endif
}

/* ---------------------------------------------------------------------------------------------
 * Quantization parameters and passes */

static void test_qparams(void)
{
    /* Values from torch 1.13: torch._choose_qparams_per_tensor(x, reduce_range) runs the same
     * quant_utils::ChooseQuantizationParams(min, max, 0, 255, ..., reduce_range). */
    static const struct {
        float min, max;
        int32_t qmax;
        float scale;
        int32_t zp;
    } cases[] = {
        {-1.29999995f, 2.70000005f, 127, 0.0314960629f, 41},
        {-1.29999995f, 2.70000005f, 255, 0.0156862754f, 83},
        {0.0f, 5.0f, 127, 0.0393700786f, 0},
        {0.0f, 5.0f, 255, 0.0196078438f, 0},
        {-4.0f, -1.0f, 127, 0.0314960629f, 127},
        {-4.0f, -1.0f, 255, 0.0156862754f, 255},
        {-9.99999997e-07f, 1.99999999e-06f, 127, 6.09999988e-05f, 42},
        {-9.99999997e-07f, 1.99999999e-06f, 255, 6.09999988e-05f, 85},
        {0.0f, 0.0f, 127, 0.100000001f, 0},
        {0.0f, 0.0f, 255, 0.100000001f, 0},
        {-3.0f, 3.0f, 127, 0.0472440943f, 64},
        {-3.0f, 3.0f, 255, 0.0235294122f, 128},
        {-0.0199999996f, 100.0f, 127, 0.787559032f, 0},
        {-0.0199999996f, 100.0f, 255, 0.392235309f, 0},
        {-7.5f, 0.00100000005f, 127, 0.0590629913f, 127},
        {-7.5f, 0.00100000005f, 255, 0.0294156857f, 255},
        {9.99999972e-10f, 9.99999994e-09f, 127, 6.09999988e-05f, 0},
        {9.99999972e-10f, 9.99999994e-09f, 255, 6.09999988e-05f, 0},
        {-123.456001f, 7.88999987f, 127, 1.03422046f, 119},
        {-123.456001f, 7.88999987f, 255, 0.515082359f, 240},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vit_qparams qp = vit_qparams_from_range_u8(cases[i].min, cases[i].max, cases[i].qmax);
        test_check(qp.scale == cases[i].scale && qp.zero_point == cases[i].zp,
              "/quant/qparams/torch [%g, %g] qmax %d -> %.9g %d (torch %.9g %d)",
              (double)cases[i].min, (double)cases[i].max, (int)cases[i].qmax, (double)qp.scale,
              (int)qp.zero_point, (double)cases[i].scale, (int)cases[i].zp);
    }
    /* empty input: torch uses min = max = 0 -> scale 0.1, zp 0 */
    vit_qparams qp = vit_choose_qparams_u8(NULL, 0, 127);
    test_check(qp.scale == 0.1f && qp.zero_point == 0, "/quant/qparams/empty");
    float nan_inf[4] = {NAN, INFINITY, -3.0f, 1.0f};
    qp = vit_choose_qparams_u8(nan_inf, 4, 255);
    test_check(isfinite(qp.scale) && qp.scale > 0 && qp.zero_point >= 0 && qp.zero_point <= 255,
          "/quant/qparams/non-finite-stays-finite");
}

static void test_roundtrip(void)
{
    const size_t count = 100003;
    float *x = xalloc(count * sizeof(float)), *back = xalloc(count * sizeof(float));
    uint8_t *q = xalloc(count);
    for (int32_t qmax = 127; qmax <= 255; qmax += 128) {
        for (int dist = 0; dist < 3; dist++) {
            for (size_t i = 0; i < count; i++)
                x[i] = dist == 0 ? rnd_normal() * 3.0f + 0.5f
                     : dist == 1 ? rnd_unit() * 0.01f + 2.0f /* all positive: range [0, max] */
                                 : -fabsf(rnd_normal());    /* all negative */
            vit_qparams qp = vit_choose_qparams_u8(x, count, qmax);
            vit_quantize_u8(x, count, qp, q);
            vit_dequantize_u8(q, count, qp, back);
            double worst = 0;
            int in_range = 1;
            for (size_t i = 0; i < count; i++) {
                double e = fabs((double)back[i] - x[i]);
                worst = e > worst ? e : worst;
                in_range &= q[i] <= qmax;
            }
            /* half a step, plus float rounding of x * (1/scale) */
            test_check(worst <= qp.scale * 0.5 * (1 + 1e-5) + 1e-7 && in_range,
                  "/quant/roundtrip/qmax%d/dist%d max error %.3g <= scale/2 = %.3g", (int)qmax,
                  dist, worst, qp.scale * 0.5);
            /* zero is exact */
            float zero = 0.0f, z;
            uint8_t zq;
            vit_quantize_u8(&zero, 1, qp, &zq);
            vit_dequantize_u8(&zq, 1, qp, &z);
            test_check(z == 0.0f, "/quant/roundtrip/qmax%d/dist%d zero-exact", (int)qmax, dist);
        }
    }
    vit_free(x);
    vit_free(back);
    vit_free(q);
}

static void test_passes(void)
{
    /* SIMD min/max and quantize against the _ref: every length up to 100, ties, NaN, inf */
    const size_t count = 1000;
    float *x = xalloc(count * sizeof(float));
    uint8_t *q0 = xalloc(count), *q1 = xalloc(count);
    for (size_t s = 0; s < sizeof simd_kernels / sizeof simd_kernels[0]; s++) {
        vit_kernel kern = simd_kernels[s];
        if (!vit_kernel_supported(kern))
            continue;
        vit_minmax_fn mm = vit_kernel_minmax_fn(kern);
        vit_quantize_fn qf = vit_kernel_quantize_fn(kern);
        if (!mm || !qf) {
            test_check(0, "/quant/passes/%s supported but not built", vit_kernel_name(kern));
            continue;
        }
        int ok_mm = 1, ok_q = 1;
        for (int trial = 0; trial < 300; trial++) {
            size_t len = (size_t)trial % 101 + (trial >= 202 ? 800 : 0);
            for (size_t i = 0; i < len; i++) {
                uint32_t r = rnd() % 16;
                x[i] = r == 0 ? NAN : r == 1 ? INFINITY : r == 2 ? -INFINITY
                     : r == 3 ? (float)((int)(rnd() % 200) - 100) * 0.5f /* exact .5 ties */
                     : r == 4 ? -0.0f
                              : rnd_normal() * 4.0f;
            }
            float a0, b0, a1, b1;
            vit_minmax_f32_ref(x, len, &a0, &b0);
            mm(x, len, &a1, &b1);
            ok_mm &= a0 == a1 && b0 == b1;
            int32_t zp = (int32_t)(rnd() % 256);
            float inv = trial % 3 == 0 ? 1.0f : 1.0f / (0.01f + (float)(rnd() % 100) * 0.01f);
            vit_quantize_u8_ref(x, len, inv, zp, q0);
            qf(x, len, inv, zp, q1);
            ok_q &= memcmp(q0, q1, len) == 0;
        }
        test_check(ok_mm, "/quant/minmax/%s/matches-ref", vit_kernel_name(kern));
        test_check(ok_q, "/quant/quantize/%s/matches-ref", vit_kernel_name(kern));
    }
    vit_free(x);
    vit_free(q0);
    vit_free(q1);
}

/* ---------------------------------------------------------------------------------------------
 * Weights */

static void test_weights(void)
{
    /* torch: scale = max|w| / 127.5, q = nearbyint(w * (1/scale)) clamped to [-128, 127];
     * -1.0 gives -127 (-127.49999 in float), as in torch */
    float w[6] = {-1.0f, 0.5f, 0.25f, 1.0f / 255.0f, 0.0f, 0.99f};
    float scale[2];
    int8_t q[6];
    vit_quantize_weights_s8(w, 1, 6, 0, scale, q);
    test_check(scale[0] == 1.0f / 127.5f && q[0] == -127 && q[1] == 64 && q[2] == 32 && q[3] == 0 &&
              q[4] == 0 && q[5] == 126,
          "/quant/weights/torch-rounding scale %.9g q %d %d %d %d %d %d", (double)scale[0], q[0],
          q[1], q[2], q[3], q[4], q[5]);
    float zeros[4] = {0};
    vit_quantize_weights_s8(zeros, 2, 2, 1, scale, q);
    test_check(scale[0] == FLT_EPSILON && q[0] == 0, "/quant/weights/all-zero-eps-scale");

    /* per-channel beats per-tensor when rows differ in magnitude */
    const int32_t n = 64, k = 256;
    float *wt = xalloc((size_t)n * k * sizeof(float));
    for (int32_t j = 0; j < n; j++)
        for (int32_t kk = 0; kk < k; kk++)
            wt[(size_t)j * k + kk] = rnd_normal() * (j % 8 == 0 ? 1.0f : 0.02f);
    double err[2] = {0, 0};
    for (int pc = 0; pc < 2; pc++) {
        vit_qlinear ql;
        vit_qlinear_init(&ql, wt, NULL, n, k, pc, VIT_KERNEL_SCALAR, NULL);
        int same = 1;
        for (int32_t j = 1; j < n; j++)
            same &= ql.scale[j] == ql.scale[0];
        test_check(pc ? !same : same, "/quant/weights/%s scales", pc ? "per-channel" : "per-tensor");
        for (size_t i = 0; i < (size_t)n * k; i++) {
            double d = (double)ql.q[i] * ql.scale[i / (size_t)k] - wt[i];
            err[pc] += d * d;
        }
        vit_qlinear_free(&ql);
    }
    test_check(err[1] < err[0] * 0.1, "/quant/weights/per-channel-error %.3g < per-tensor %.3g / 10",
          err[1], err[0]);
    vit_free(wt);
}

/* ---------------------------------------------------------------------------------------------
 * The forward */

static void test_forward_shape(int32_t m, int32_t k, int32_t n, int per_channel, int32_t act_qmax,
                               struct vit_pool **pools, int npools)
{
    float *x = xalloc((size_t)m * k * sizeof(float)), *w = xalloc((size_t)n * k * sizeof(float));
    float *b = xalloc((size_t)n * sizeof(float));
    for (size_t i = 0; i < (size_t)m * k; i++)
        x[i] = rnd_normal() * (i % 97 == 0 ? 6.0f : 1.0f) - 0.3f; /* outliers, as LayerNorm gives */
    for (size_t i = 0; i < (size_t)n * k; i++)
        w[i] = rnd_normal() * 0.05f * (1.0f + (float)(i / (size_t)k % 4));
    for (int32_t j = 0; j < n; j++)
        b[j] = rnd_unit() * 0.1f;

    /* fp32 reference in double */
    double *yref = xalloc((size_t)m * n * sizeof(double));
    for (int32_t i = 0; i < m; i++)
        for (int32_t j = 0; j < n; j++) {
            double s = b[j];
            for (int32_t kk = 0; kk < k; kk++)
                s += (double)x[(size_t)i * k + kk] * w[(size_t)j * k + kk];
            yref[(size_t)i * n + j] = s;
        }

    void *scratch = xalloc(vit_qlinear_scratch_bytes(m, k));
    float *y0 = xalloc((size_t)m * n * sizeof(float)), *y1 = xalloc((size_t)m * n * sizeof(float));
    const char *tag = per_channel ? "per-channel" : "per-tensor";

    for (int kern = 0; kern < VIT_KERNEL_COUNT; kern++) {
        if (!vit_kernel_supported((vit_kernel)kern))
            continue;
        vit_qlinear ql;
        vit_error err;
        if (vit_qlinear_init(&ql, w, b, n, k, per_channel, (vit_kernel)kern, &err) != VIT_OK) {
            test_check(0, "/quant/forward/%s/init: %s", vit_kernel_name((vit_kernel)kern), err.msg);
            continue;
        }
        ql.act_qmax = act_qmax;
        vit_qlinear_forward(&ql, x, m, y1, scratch, NULL);
        if (kern == VIT_KERNEL_SCALAR) {
            memcpy(y0, y1, (size_t)m * n * sizeof(float));
            /* error bound per element: |x w - x~ w~| <= sum |x||dw| + |dx||w~|, with |dx| <=
             * x_scale/2 (x within [min, max]) and |dw| <= w_scale/2, plus float rounding */
            float mn, mx;
            vit_minmax_f32_ref(x, (size_t)m * k, &mn, &mx);
            vit_qparams qp = vit_qparams_from_range_u8(mn, mx, act_qmax);
            int ok = 1;
            double worst_ratio = 0, rms = 0, rms_ref = 0;
            for (int32_t i = 0; i < m && ok; i++)
                for (int32_t j = 0; j < n; j++) {
                    double bound = 0;
                    for (int32_t kk = 0; kk < k; kk++) {
                        double xa = fabs(x[(size_t)i * k + kk]);
                        double wq = fabs((double)ql.q[(size_t)j * k + kk] * ql.scale[j]);
                        bound += xa * ql.scale[j] * 0.5 + qp.scale * 0.5 * wq;
                    }
                    bound = bound * (1 + 1e-4) + 1e-5 * (fabs(yref[(size_t)i * n + j]) + 1);
                    double e = fabs(y1[(size_t)i * n + j] - yref[(size_t)i * n + j]);
                    worst_ratio = e / bound > worst_ratio ? e / bound : worst_ratio;
                    if (e > bound)
                        ok = 0;
                    rms += e * e;
                    rms_ref += yref[(size_t)i * n + j] * yref[(size_t)i * n + j];
                }
            test_check(ok, "/quant/forward/scalar/%s/qmax%d/vs-fp32 %dx%dx%d error/bound %.2f, rel rms %.2g",
                  tag, (int)act_qmax, (int)m, (int)k, (int)n, worst_ratio, sqrt(rms / rms_ref));
        } else {
            test_check(memcmp(y0, y1, (size_t)m * n * sizeof(float)) == 0,
                  "/quant/forward/%s/%s/qmax%d/bit-identical-to-scalar %dx%dx%d",
                  vit_kernel_name((vit_kernel)kern), tag, (int)act_qmax, (int)m, (int)k, (int)n);
        }
        for (int p = 0; p < npools; p++) {
            memset(y1, 0, (size_t)m * n * sizeof(float));
            vit_qlinear_forward(&ql, x, m, y1, scratch, pools[p]);
            test_check(memcmp(y0, y1, (size_t)m * n * sizeof(float)) == 0,
                  "/quant/forward/%s/%s/threads%d/same-as-1-thread %dx%dx%d",
                  vit_kernel_name((vit_kernel)kern), tag, (int)vit_pool_threads(pools[p]), (int)m,
                  (int)k, (int)n);
        }
        vit_qlinear_free(&ql);
    }
    vit_free(x);
    vit_free(w);
    vit_free(b);
    vit_free(yref);
    vit_free(scratch);
    vit_free(y0);
    vit_free(y1);
}

static void test_forward(void)
{
    struct vit_pool *pools[3] = {0};
    int32_t counts[3] = {2, 3, 4};
    for (int i = 0; i < 3; i++)
        if (vit_pool_new(counts[i], &pools[i], NULL) != VIT_OK)
            test_check(0, "/quant/forward/pool-new %d", (int)counts[i]);
    test_forward_shape(197, 192, 576, 0, VIT_ACT_QMAX_TORCH, pools, 3);
    test_forward_shape(197, 192, 576, 1, VIT_ACT_QMAX_TORCH, pools, 3);
    test_forward_shape(198, 384, 130, 0, VIT_ACT_QMAX_FULL, pools, 3);
    test_forward_shape(198, 384, 130, 1, VIT_ACT_QMAX_FULL, pools, 3);
    test_forward_shape(5, 37, 19, 1, VIT_ACT_QMAX_TORCH, pools, 3);
    test_forward_shape(1, 1, 1, 0, VIT_ACT_QMAX_TORCH, pools, 3);
    for (int i = 0; i < 3; i++)
        vit_pool_free(pools[i]);
}

/* torch 1.13 (onednn engine) on a fixed small layer: quantize_dynamic's Linear output */
static void test_torch_golden(void)
{
    /* torch 1.13, onednn engine: x (3,8), w (5,8) and b rounded to a few decimals,
     * torch.ao.quantization.quantize_dynamic(nn.Sequential(linear), {nn.Linear} or
     * {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8); y = model(x), q =
     * model[0].weight().int_repr(). */
    #define GOLDEN_M 3
    #define GOLDEN_K 8
    #define GOLDEN_N 5
    static const float golden_x[] = {-3.05100012f, -1.5f, -1.30799997f, -3.2190001f, -0.200000003f, -1.21800005f, -1.96000004f, -3.21799994f, 0.878000021f, 2.34200001f, 3.53500009f, -0.191f, 0.279000014f, -3.15700006f, -0.640999973f, -0.598999977f, -1.597f, 0.671000004f, 0.550999999f, 3.43300009f, -0.112000003f, 1.82099998f, -2.78500009f, 5.37799978f};
    static const float golden_w[] = {-0.564599991f, -0.232999995f, 0.607299984f, -0.0260000005f, 0.0294000003f, -0.364499986f, 0.219400004f, 0.351500005f, 0.0722100064f, 0.00836000033f, 0.0074f, 0.0355300009f, -0.0218500011f, 0.0349000022f, -0.000270000019f, -0.0252700001f, 0.0645999983f, -0.157299995f, -0.541000009f, -0.392500013f, 0.136000007f, 0.342599988f, 0.0746000037f, -0.532599986f, -0.151899993f, 0.0298999995f, -0.196199998f, 0.219500005f, -0.430299997f, -0.150199994f, 0.0515000001f, -0.0480000004f, 0.0763999969f, -0.150600001f, -0.312400013f, 0.219699994f, -0.314500004f, -0.141299993f, 0.0873000026f, 0.597199976f};
    static const float golden_b[] = {-0.0553000011f, 0.063500002f, -0.0397000015f, -0.065700002f, -0.164299995f};
    static const int8_t golden_q[] = {-119, -49, 127, -5, 6, -77, 46, 74, 15, 2, 2, 7, -5, 7, 0, -5, 14, -33, -114, -82, 29, 72, 16, -112, -32, 6, -41, 46, -90, -32, 11, -10, 16, -32, -66, 46, -66, -30, 18, 125};
    static const int8_t golden_q_pc[] = {-119, -49, 127, -5, 6, -77, 46, 74, 127, 15, 13, 63, -39, 62, 0, -45, 15, -37, -128, -93, 32, 81, 18, -126, -45, 9, -58, 65, -128, -45, 15, -14, 16, -32, -67, 47, -67, -30, 19, 127};
    static const float golden_y[] = {0.183943525f, -0.247323126f, 3.09658289f, 0.219973534f, -2.34199643f, 1.85348928f, 0.0776869506f, -2.96059895f, -0.498079479f, -1.65489674f, 1.55556345f, 0.0109438132f, -4.35317707f, 0.231258601f, 2.92232823f};
    static const float golden_y_pc[] = {0.183943525f, -0.249147043f, 3.12184429f, 0.217586622f, -2.35365653f, 1.85348928f, 0.0634233207f, -2.96485376f, -0.496798277f, -1.6573745f, 1.55556345f, 0.0104400972f, -4.36711216f, 0.240660772f, 2.9223597f};
    for (int pc = 0; pc < 2; pc++) {
        vit_qlinear ql;
        vit_qlinear_init(&ql, golden_w, golden_b, GOLDEN_N, GOLDEN_K, pc, vit_kernel_select(NULL), NULL);
        float y[GOLDEN_M * GOLDEN_N];
        void *scratch = xalloc(vit_qlinear_scratch_bytes(GOLDEN_M, GOLDEN_K));
        vit_qlinear_forward(&ql, golden_x, GOLDEN_M, y, scratch, NULL);
        const float *ty = pc ? golden_y_pc : golden_y;
        double worst = 0;
        for (int i = 0; i < GOLDEN_M * GOLDEN_N; i++)
            worst = fmax(worst, fabs((double)y[i] - ty[i]));
        int same_q = memcmp(ql.q, pc ? golden_q_pc : golden_q, sizeof golden_q) == 0;
        test_check(same_q && worst <= 1e-5, "/quant/torch-golden/%s/%s max |y - torch| %.3g, weights %s",
              vit_kernel_name(ql.kernel), pc ? "per-channel" : "per-tensor", worst,
              same_q ? "equal" : "DIFFER");
        vit_free(scratch);
        vit_qlinear_free(&ql);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Selection and errors */

static int log_count;
static void count_log(int level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    (void)msg;
    log_count++;
}

static void test_select(void)
{
    test_check(vit_kernel_supported(VIT_KERNEL_SCALAR), "/quant/kernel/scalar-supported");
    /* the best kernel without a name, each named one when the CPU has it (else the best) */
    vit_kernel best = vit_kernel_select(NULL);
    printf("# best kernel here: %s\n", vit_kernel_name(best));
    test_check(vit_kernel_select("") == best, "/quant/kernel/empty-name-is-best");
    for (int k = 0; k < VIT_KERNEL_COUNT; k++) {
        vit_kernel parsed;
        test_check(vit_kernel_parse(vit_kernel_name((vit_kernel)k), &parsed) == VIT_OK && (int)parsed == k,
              "/quant/kernel/parse %s", vit_kernel_name((vit_kernel)k));
        vit_kernel got = vit_kernel_select(vit_kernel_name((vit_kernel)k));
        if (vit_kernel_supported((vit_kernel)k))
            test_check((int)got == k, "/quant/kernel/named %s -> %s", vit_kernel_name((vit_kernel)k),
                  vit_kernel_name(got));
        else
            test_check(got == best, "/quant/kernel/named-unsupported %s -> %s",
                  vit_kernel_name((vit_kernel)k), vit_kernel_name(got));
    }
    log_count = 0;
    vit_log_set(count_log, NULL);
    test_check(vit_kernel_select("no-such-kernel") == best && log_count == 1,
          "/quant/kernel/named-unknown-warns");
    vit_log_set(NULL, NULL);

    vit_qlinear ql;
    vit_error err;
    float w = 1.0f;
    test_check(vit_qlinear_init(&ql, &w, NULL, 0, 1, 0, VIT_KERNEL_SCALAR, &err) == VIT_ERR_ARG,
          "/quant/init/bad-shape");
    test_check(vit_qlinear_init(&ql, &w, NULL, 1, VIT_QLINEAR_MAX_K + 1, 0, VIT_KERNEL_SCALAR, &err) ==
              VIT_ERR_LIMIT,
          "/quant/init/k-limit");
    for (int k = 0; k < VIT_KERNEL_COUNT; k++)
        if (!vit_kernel_supported((vit_kernel)k))
            test_check(vit_qlinear_init(&ql, &w, NULL, 1, 1, 0, (vit_kernel)k, &err) == VIT_ERR_CPU,
                  "/quant/init/unsupported-kernel %s", vit_kernel_name((vit_kernel)k));
    float bad = 0.0f;
    int8_t q = 1;
    test_check(vit_qlinear_init_quantized(&ql, &q, &bad, NULL, 1, 1, 0, VIT_KERNEL_SCALAR, &err) ==
              VIT_ERR_FORMAT,
          "/quant/init/bad-scale");
}

int main(void)
{
    test_select();
    test_weights();
    test_qparams();
    test_roundtrip();
    test_passes();
    test_gemm();
    test_gemm_avx2_paths();
    test_forward();
    test_torch_golden();
    if (test_failures)
        printf("%d test_check(s) failed\n", test_failures);
    return test_done();
}
