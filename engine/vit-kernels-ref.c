/* vit-kernels-ref.c — every reference kernel of the engine in plain C: the definition of each op
 * that the SIMD kernels (vit-kernels-avx2.c, vit-kernels-avx512.c) implement and are tested
 * against, and what a CPU without them runs. By variant: the fp32 GEMM panel, softmax, LayerNorm
 * and exact GELU; the int8 u8·s8→s32 GEMM, min/max, the activation quantization parameters and
 * quantization; the optimized variant's fused GEMM epilogues, LayerNorm + per-row quantization,
 * per-row quantization, attention, and the fast GELU and exp that every variant's SIMD kernels
 * reproduce lane for lane. Plain C: the C standard mode keeps GCC from
 * contracting a*b+c into fma on its own, so every fma here is an explicit fmaf, and the SIMD
 * kernels can repeat the same operations in the same order. */
#include "vit-opt.h"
#include "vit-sgemm.h"

#include <float.h>

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Fast math: one sequence of operations, shared with the AVX-512 kernels */

/* erf(x) as a rational minimax fit on [-4, 4] (|erf(x)| rounds to 1 beyond): |err| < 4e-7. */
static inline float erf_fast(float x)
{
    x = x > -4.0f ? x : -4.0f; /* NaN -> -4 */
    x = x < 4.0f ? x : 4.0f;
    float x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = fmaf(p, x2, 2.77068142495902e-08f);
    p = fmaf(p, x2, -2.10102402082508e-06f);
    p = fmaf(p, x2, -5.69250639462346e-05f);
    p = fmaf(p, x2, -7.34990630326855e-04f);
    p = fmaf(p, x2, -2.95459980854025e-03f);
    p = fmaf(p, x2, -1.60960333262415e-02f);
    p = p * x;
    float q = -1.45660718464996e-05f;
    q = fmaf(q, x2, -2.13374055278905e-04f);
    q = fmaf(q, x2, -1.68282697438203e-03f);
    q = fmaf(q, x2, -7.37332916720468e-03f);
    q = fmaf(q, x2, -1.42647390514189e-02f);
    return p / q;
}

/* gelu(x) = 0.5 x (1 + erf(x / sqrt 2)) = h + h * erf(...), h = 0.5 x */
static inline float gelu_fast(float x)
{
    float h = 0.5f * x;
    return fmaf(h, erf_fast(x * 0.70710678118654752f), h);
}

/* exp(x): x = n ln2 + r (Cody-Waite, |r| <= ln2 / 2), exp(r) by a degree-6 Taylor polynomial,
 * times 2^n built in the exponent bits; x clamped to [-87.3, 88] (so 2^n is a normal float;
 * the softmax only ever passes x <= 0). */
static inline float exp_fast(float x)
{
    x = x > -87.3f ? x : -87.3f;
    x = x < 88.0f ? x : 88.0f;
    float n = nearbyintf(x * 1.44269504088896341f);
    float r = fmaf(n, -0.693359375f, x);
    r = fmaf(n, 2.12194440e-4f, r);
    float p = 1.0f / 720.0f;
    p = fmaf(p, r, 1.0f / 120.0f);
    p = fmaf(p, r, 1.0f / 24.0f);
    p = fmaf(p, r, 1.0f / 6.0f);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    int32_t bits = ((int32_t)n + 127) << 23;
    float two_n;
    memcpy(&two_n, &bits, sizeof two_n);
    return p * two_n;
}

float vit_gelu_fast_ref(float x)
{
    return gelu_fast(x);
}

float vit_exp_fast_ref(float x)
{
    return exp_fast(x);
}

void vit_gelu_ref(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = gelu_fast(x[i]);
}

/* ---------------------------------------------------------------------------------------------
 * GEMM epilogues */

void vit_opt_epilogue_ref(int32_t r0, int32_t r1, int32_t n0, int32_t n1, const int32_t *acc,
                           int32_t ldacc, const vit_oepilogue *ep)
{
    const int32_t D = ep->dim;
    const int32_t *restrict rs = ep->row_sum;
    const float *restrict ws = ep->w_scale, *restrict bias = ep->bias;
    for (int32_t i = r0; i < r1; i++) {
        const int32_t *restrict ar = acc + (size_t)(i - r0) * (size_t)ldacc - n0;
        const int32_t zp = ep->a_zp[i];
        const float as = ep->a_scale[i];
        float *restrict yr = ep->y ? ep->y + (size_t)i * (size_t)ep->ldy : NULL;
        /* val(j) = fma((float)(acc - zp * row_sum), a_scale * w_scale, bias) */
#define VAL(j) fmaf((float)(ar[j] - zp * rs[j]), as * ws[j], bias[j])
        switch (ep->mode) {
        case VIT_OEP_STORE:
            for (int32_t j = n0; j < n1; j++)
                yr[j] = VAL(j);
            break;
        case VIT_OEP_ADD:
            for (int32_t j = n0; j < n1; j++)
                yr[j] += VAL(j);
            break;
        case VIT_OEP_GELU:
            for (int32_t j = n0; j < n1; j++)
                yr[j] = gelu_fast(VAL(j));
            if (ep->row_mm) /* per-panel min and max (NaNs skipped, as vit_minmax_f32_ref) */
                for (int32_t p0 = n0; p0 < n1; p0 = (p0 / VIT_OPT_PW + 1) * VIT_OPT_PW) {
                    int32_t p1 = (p0 / VIT_OPT_PW + 1) * VIT_OPT_PW;
                    p1 = p1 < n1 ? p1 : n1;
                    float mn = INFINITY, mx = -INFINITY;
                    for (int32_t j = p0; j < p1; j++) {
                        mn = yr[j] < mn ? yr[j] : mn;
                        mx = yr[j] > mx ? yr[j] : mx;
                    }
                    float *mm = ep->row_mm + ((size_t)i * ep->mm_ld + p0 / VIT_OPT_PW) * 2;
                    mm[0] = mn;
                    mm[1] = mx;
                }
            break;
        case VIT_OEP_QKV:
            for (int32_t j = n0; j < n1; j++) {
                float val = VAL(j);
                if (j < D)
                    ep->q[(size_t)i * D + j] = val;
                else if (j < 2 * D)
                    ep->kt[(size_t)(j - D) * ep->tpad + i] = val; /* kt (D, tpad) = k^T */
                else
                    ep->v[(size_t)i * D + (j - 2 * D)] = val;
            }
            break;
        }
#undef VAL
    }
}

/* The definition: exact int32 sums from the unpacked weights, then the epilogue. */
void vit_opt_gemm_ref(int32_t r0, int32_t r1, const uint8_t *a, int32_t lda, const vit_qlinear *b,
                      int32_t n0, int32_t n1, const vit_oepilogue *ep, void *scratch)
{
    int32_t *acc = scratch; /* one row of at most VIT_OPT_PW columns at a time */
    for (int32_t i = r0; i < r1; i++)
        for (int32_t c0 = n0; c0 < n1; c0 += VIT_OPT_PW) {
            int32_t c1 = c0 + VIT_OPT_PW < n1 ? c0 + VIT_OPT_PW : n1;
            vit_gemm_u8s8s32_ref(1, a + (size_t)i * lda, lda, b, c0, c1, acc - c0, 0, NULL);
            vit_opt_epilogue_ref(i, i + 1, c0, c1, acc, VIT_OPT_PW, ep);
        }
}

/* ---------------------------------------------------------------------------------------------
 * Per-row quantization */

/* Rows [r0, r1) of x quantized each with its own parameters from its min and max — or, when mm
 * is given, from the GEMM epilogue's per-panel partials (`panels` per row; NaNs skipped as the
 * min/max kernels skip them) — through one kernel's min/max and quantization: the loop every
 * kernel's quant_rows and quant_rows_mm share (memory-bound: the call per row costs nothing). */
void vit_quant_rows_with(vit_minmax_fn minmax, vit_quantize_fn quantize, const float *x,
                         int32_t ldx, int32_t dim, int32_t r0, int32_t r1, int32_t qmax,
                         uint8_t *out, int32_t ldo, float *scale, int32_t *zp, const float *mm,
                         int32_t panels)
{
    for (int32_t i = r0; i < r1; i++) {
        const float *xr = x + (size_t)i * ldx;
        float mn = INFINITY, mx = -INFINITY;
        if (mm) {
            const float *m = mm + (size_t)i * panels * 2;
            for (int32_t p = 0; p < panels; p++) {
                mn = m[2 * p] < mn ? m[2 * p] : mn;
                mx = m[2 * p + 1] > mx ? m[2 * p + 1] : mx;
            }
        } else {
            minmax(xr, (size_t)dim, &mn, &mx);
        }
        vit_qparams qp = vit_qparams_from_range_u8(mn, mx, qmax);
        scale[i] = qp.scale;
        zp[i] = qp.zero_point;
        quantize(xr, (size_t)dim, 1.0f / qp.scale, qp.zero_point, out + (size_t)i * ldo);
    }
}

void vit_quant_rows_mm_ref(const float *x, int32_t ldx, int32_t dim, int32_t r0, int32_t r1,
                           int32_t qmax, uint8_t *out, int32_t ldo, float *scale, int32_t *zp,
                           const float *mm, int32_t panels)
{
    vit_quant_rows_with(vit_minmax_f32_ref, vit_quantize_u8_ref, x, ldx, dim, r0, r1, qmax, out,
                        ldo, scale, zp, mm, panels);
}

void vit_quant_rows_ref(const float *x, int32_t ldx, int32_t dim, int32_t r0, int32_t r1,
                        int32_t qmax, uint8_t *out, int32_t ldo, float *scale, int32_t *zp)
{
    vit_quant_rows_with(vit_minmax_f32_ref, vit_quantize_u8_ref, x, ldx, dim, r0, r1, qmax, out,
                        ldo, scale, zp, NULL, 0);
}

/* y = (x - mean) / sqrt(var + eps) * w + b in float (two passes), then quantized. */
void vit_ln_quant_ref(const float *x, int32_t dim, int32_t r0, int32_t r1, const float *w,
                       const float *b, float eps, int32_t qmax, uint8_t *out, int32_t ldo,
                       float *scale, int32_t *zp, float *tmp)
{
    for (int32_t i = r0; i < r1; i++) {
        const float *restrict xr = x + (size_t)i * dim;
        float *restrict y = tmp;
        float sum = 0.0f;
        for (int32_t k = 0; k < dim; k++)
            sum += xr[k];
        float mean = sum / (float)dim;
        float var = 0.0f;
        for (int32_t k = 0; k < dim; k++) {
            float d = xr[k] - mean;
            var = fmaf(d, d, var);
        }
        float inv = 1.0f / sqrtf(var / (float)dim + eps);
        for (int32_t k = 0; k < dim; k++)
            y[k] = fmaf((xr[k] - mean) * inv, w[k], b[k]);
        vit_quant_rows_with(vit_minmax_f32_ref, vit_quantize_u8_ref, y, dim, dim, 0, 1, qmax,
                            out + (size_t)i * ldo, ldo, &scale[i], &zp[i], NULL, 0);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Attention of one head for a block of query rows: s = q k^T (q pre-scaled), p = exp(s - max),
 * ctx = (p v) / sum(p). The inner loops run over keys (for s) and over head dims (for ctx). */

void vit_attention_ref(const float *q, const float *kt, const float *v, float *ctx, int32_t T,
                        int32_t tpad, int32_t dim, int32_t hd, int32_t h, int32_t i0, int32_t i1,
                        float *s)
{
    const float *kth = kt + (size_t)h * hd * tpad;
    for (int32_t i = i0; i < i1; i++) {
        const float *qi = q + (size_t)i * dim + (size_t)h * hd;
        /* row i of its block of VIT_OPT_ATT_ROWS (the probabilities are left there, vit-opt.h) */
        float *restrict sr = s + (size_t)((i - i0) % VIT_OPT_ATT_ROWS) * tpad;
        for (int32_t j = 0; j < T; j++)
            sr[j] = 0.0f;
        for (int32_t d = 0; d < hd; d++) {
            const float *restrict kd = kth + (size_t)d * tpad;
            const float qd = qi[d];
            for (int32_t j = 0; j < T; j++)
                sr[j] = fmaf(qd, kd[j], sr[j]);
        }
        float mx = -INFINITY;
        for (int32_t j = 0; j < T; j++)
            mx = sr[j] > mx ? sr[j] : mx;
        for (int32_t j = 0; j < T; j++)
            sr[j] = exp_fast(sr[j] - mx);
        float sum = 0.0f;
        for (int32_t j = 0; j < T; j++)
            sum += sr[j];
        float *restrict o = ctx + (size_t)i * dim + (size_t)h * hd;
        for (int32_t d = 0; d < hd; d++)
            o[d] = 0.0f;
        for (int32_t j = 0; j < T; j++) {
            const float *restrict vj = v + (size_t)j * dim + (size_t)h * hd;
            const float pj = sr[j];
            for (int32_t d = 0; d < hd; d++)
                o[d] = fmaf(pj, vj[d], o[d]);
        }
        const float inv = 1.0f / sum;
        for (int32_t d = 0; d < hd; d++)
            o[d] *= inv;
    }
}

/* The rollout's head mean from an attention tile's probabilities: the row sum in 8 running sums
 * (as the AVX2 kernel's lanes), then each probability / (heads * sum) into acc. */
void vit_roll_add_ref(const float *p32, const uint16_t *p16, const float *inv, int32_t rows,
                      int32_t T, int32_t tpad, int32_t heads, const float *prev, float *out,
                      uint16_t *out16)
{
    for (int32_t r = 0; r < rows; r++) {
        float *o = out16 ? NULL : out + (size_t)r * T; /* prev may be out: no restrict */
        const float *pv = prev ? prev + (size_t)r * T : NULL;
        float part[8] = {0}, sum = 0.0f;
        int32_t c = 0;
#define P(c) (p32 ? p32[(size_t)r * tpad + (c)] : vit_bf16_to_f32(p16[(size_t)r * tpad + (c)]))
        for (; !inv && c + 8 <= T; c += 8)
            for (int k = 0; k < 8; k++)
                part[k] += P(c + k);
        for (; !inv && c < T; c++)
            sum += P(c);
        for (int k = 0; k < 8; k++)
            sum += part[k];
        const float w = inv ? inv[r] / (float)heads : 1.0f / ((float)heads * sum);
        for (c = 0; c < T; c++) {
            const float v = fmaf(P(c), w, pv ? pv[c] : 0.0f);
            if (out16)
                vit_to_bf16_ref(&v, out16 + (size_t)r * T + c, 1);
            else
                o[c] = v;
        }
#undef P
    }
}

/* Round to nearest, ties to even: add half an ulp of bf16 (less one, plus the kept lowest bit) and
 * drop the low 16 bits. Finite x only (what the head means are). */
void vit_to_bf16_ref(const float *x, uint16_t *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        y[i] = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
}

/* The rollout's product with bf16 rows: y += alpha r a, a row at a time, each a fused multiply-add
 * (the SIMD kernels keep y in registers and take the rows in this order: bit for bit this) */
void vit_roll_gemv_ref(const uint16_t *a, int32_t rows, int32_t T, const float *r, float alpha,
                       float *y)
{
    for (int32_t i = 0; i < rows; i++) {
        const float ri = alpha * r[i];
        const uint16_t *ai = a + (size_t)i * T;
        for (int32_t c = 0; c < T; c++)
            y[c] = fmaf(ri, vit_bf16_to_f32(ai[c]), y[c]);
    }
}

/* ---------------------------------------------------------------------------------------------
 * The int8 variant: activation quantization parameters, min/max, quantization, the GEMM */

vit_qparams vit_qparams_from_range_u8(float min, float max, int32_t qmax)
{
    /* torch: ChooseQuantizationParams(min, max, qmin = 0, qmax, preserve_sparsity = false,
     * force_scale_power_of_two = false); reduce_range is folded into qmax (255 / 2 = 127). */
    const float small_scale = 6.1e-5f; /* SMALL_SCALE_THRESHOLD */
    const int32_t qmin = 0;
    if (qmax <= qmin || qmax > 255)
        qmax = VIT_ACT_QMAX_TORCH;
    /* Not in torch (it would give inf/NaN): non-finite ends are clamped so the result stays
     * usable; empty or all-NaN input (min > max) is treated as torch treats numel == 0. */
    if (!(min <= max))
        min = max = 0.0f;
    if (min < -FLT_MAX)
        min = -FLT_MAX;
    if (max > FLT_MAX)
        max = FLT_MAX;

    min = min < 0.0f ? min : 0.0f;
    max = max > 0.0f ? max : 0.0f;
    double scale = ((double)max - min) / (qmax - qmin);
    if ((float)scale == 0.0f || isinf(1.0f / (float)scale))
        scale = 0.1;
    if ((float)scale > FLT_MAX) /* not in torch: keep the float scale finite */
        scale = FLT_MAX;
    if (scale < small_scale) {
        float org_scale = (float)scale;
        scale = small_scale;
        if (min == 0.0f) {
            max = small_scale * (qmax - qmin);
        } else if (max == 0.0f) {
            min = -small_scale * (qmax - qmin);
        } else {
            float amplifier = small_scale / org_scale;
            min *= amplifier;
            max *= amplifier;
        }
    }
    double zp_from_min = qmin - min / scale;
    double zp_from_max = qmax - max / scale;
    double zp_from_min_error = fabs((double)qmin) - fabs(min / scale);
    double zp_from_max_error = fabs((double)qmax) - fabs(max / scale);
    double zp = zp_from_min_error < zp_from_max_error ? zp_from_min : zp_from_max;
    int32_t nudged;
    if (!(zp >= qmin)) /* also NaN */
        nudged = qmin;
    else if (zp > qmax)
        nudged = qmax;
    else
        nudged = (int32_t)nearbyint(zp);
    return (vit_qparams){(float)scale, nudged};
}

void vit_minmax_f32_ref(const float *x, size_t count, float *min, float *max)
{
    float mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        /* comparisons are false for NaN, so NaNs are skipped (as the SIMD min/max do) */
        if (x[i] < mn)
            mn = x[i];
        if (x[i] > mx)
            mx = x[i];
    }
    *min = mn;
    *max = mx;
}

void vit_quantize_u8_ref(const float *x, size_t count, float inv_scale, int32_t zp, uint8_t *out)
{
    /* Clamp in float before rounding, in the operand order of the SIMD max/min (which return
     * the bound for NaN), so every kernel gives the same bytes: the bounds are integers, so
     * clamp(nearbyint(t)) == nearbyint(clamp(t)). round_even rounds half to even, like cvtps2dq. */
    float lo = (float)-zp, hi = (float)(255 - zp);
    for (size_t i = 0; i < count; i++) {
        float t = x[i] * inv_scale;
        t = t > lo ? t : lo;
        t = t < hi ? t : hi;
        out[i] = (uint8_t)((int32_t)vit_round_even(t) + zp);
    }
}

/* The reference GEMM: the definition every SIMD kernel must match bit for bit. */

void vit_gemm_u8s8s32_ref(int32_t m, const uint8_t *a, int32_t lda, const vit_qlinear *b,
                          int32_t n0, int32_t n1, int32_t *c, int32_t ldc, const vit_qepilogue *ep)
{
    const int32_t k = b->k;
    for (int32_t i = 0; i < m; i++) {
        const uint8_t *ar = a + (size_t)i * (size_t)lda;
        for (int32_t j = n0; j < n1; j++) {
            const int8_t *br = b->q + (size_t)j * (size_t)k;
            int32_t acc = 0;
            for (int32_t kk = 0; kk < k; kk++)
                acc += (int32_t)ar[kk] * (int32_t)br[kk];
            if (ep) {
                float v = (float)(acc - ep->a_zp * ep->row_sum[j]);
                ep->y[(size_t)i * (size_t)ep->ldy + (size_t)j] =
                    fmaf(v, ep->a_scale * ep->w_scale[j], ep->bias[j]);
            } else {
                c[(size_t)i * (size_t)ldc + (size_t)j] = acc;
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * The fp32 variant: LayerNorm, exact GELU and softmax rows (the OpenBLAS pass's building blocks),
 * and the GEMM panel of our own GEMM */

/* y = (x - mean) / sqrt(var + eps) * w + b, per row; eps is the model's ln_eps (timm 1e-6,
 * transformers 1e-12). Two-pass variance in double: rows are short (D <= a few thousand) and
 * this keeps it exact enough. */
void vit_layernorm(const float *x, const float *w, const float *b, float *y, int32_t rows,
                   int32_t dim, float eps)
{
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * dim;
        float *yr = y + (size_t)r * dim;
        double mean = 0.0;
        for (int32_t i = 0; i < dim; i++)
            mean += xr[i];
        mean /= dim;
        double var = 0.0;
        for (int32_t i = 0; i < dim; i++) {
            double d = xr[i] - mean;
            var += d * d;
        }
        var /= dim;
        float inv = (float)(1.0 / sqrt(var + (double)eps));
        float m = (float)mean;
        for (int32_t i = 0; i < dim; i++)
            yr[i] = (xr[i] - m) * inv * w[i] + b[i];
    }
}

/* Exact GELU, as nn.GELU(): 0.5 x (1 + erf(x / sqrt(2))). */
void vit_gelu_inplace(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

/* Row-wise softmax of scale * x, rows ld apart, with the given exp. */
void vit_softmax_rows_exp(float *x, int32_t rows, int32_t cols, int32_t ld, float scale,
                          float (*expfn)(float))
{
    for (int32_t r = 0; r < rows; r++) {
        float *xr = x + (size_t)r * ld;
        float max = xr[0];
        for (int32_t i = 1; i < cols; i++)
            max = xr[i] > max ? xr[i] : max;
        float sum = 0.0f;
        for (int32_t i = 0; i < cols; i++) {
            xr[i] = expfn((xr[i] - max) * scale);
            sum += xr[i];
        }
        float inv = 1.0f / sum;
        for (int32_t i = 0; i < cols; i++)
            xr[i] *= inv;
    }
}

/* Row-wise softmax of scale * x. */
void vit_softmax_rows(float *x, int32_t rows, int32_t cols, float scale)
{
    vit_softmax_rows_exp(x, rows, cols, cols, scale, expf);
}

void vit_sgemm_panel_ref(int32_t m, int32_t k, const float *a, int32_t lda, const float *bp,
                         int32_t ncols, const float *bias, vit_sgemm_mode mode, float *c,
                         int32_t ldc)
{
    for (int32_t i = 0; i < m; i++) {
        const float *ar = a + (size_t)i * lda;
        float *cr = c + (size_t)i * ldc;
        for (int32_t j = 0; j < ncols; j++) {
            float acc = 0.0f;
            for (int32_t kk = 0; kk < k; kk++)
                acc = fmaf(ar[kk], bp[(size_t)kk * VIT_SGEMM_NR + j], acc);
            float v = acc + (bias ? bias[j] : 0.0f);
            switch (mode) {
            case VIT_SEP_STORE: cr[j] = v; break;
            case VIT_SEP_ADD: cr[j] = cr[j] + v; break;
            case VIT_SEP_GELU: cr[j] = vit_gelu_fast_ref(v); break;
            }
        }
    }
}

void vit_softmax_ref(float *x, int32_t rows, int32_t cols, int32_t ld, float scale)
{
    vit_softmax_rows_exp(x, rows, cols, ld, scale, vit_exp_fast_ref);
}
