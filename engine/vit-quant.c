/* vit-quant.c — int8 Linear layers: weight quantization (torch's observers), weight packing,
 * runtime kernel dispatch, and the parallel forward. The kernels live in vit-kernels-ref.c (the
 * references, with torch's ChooseQuantizationParams) and vit-kernels-avx2.c /
 * vit-kernels-avx512.c, built with their own -m flags and entered only after the CPU check
 * (vit-cpu.c). See vit-quant.h for the semantics. */
#include "vit-quant.h"
#include "vit-cpu.h"
#include "vit-impl.h"
#include "vit-pool.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Log levels used here (vit_log's level argument). */
#ifndef VIT_LOG_WARN
#define VIT_LOG_WARN 1
#endif
#ifndef VIT_LOG_DEBUG
#define VIT_LOG_DEBUG 3
#endif

/* ---------------------------------------------------------------------------------------------
 * Kernel table and dispatch */

typedef struct {
    const char *name;
    vit_gemm_fn gemm;
    vit_minmax_fn minmax;
    vit_quantize_fn quantize;
    int32_t vec, panel; /* packed layout; 0 = reads q directly */
    int32_t mr;         /* rows per micro-tile: the row granularity of the parallel split */
} vit_kernel_ops;

static const vit_kernel_ops kernel_ops[VIT_KERNEL_COUNT] = {
    [VIT_KERNEL_SCALAR] = {"scalar", vit_gemm_u8s8s32_ref, vit_minmax_f32_ref, vit_quantize_u8_ref,
                           0, 0, 8},
#if defined(VIT_HAVE_X86_SIMD)
    [VIT_KERNEL_AVX2] = {"avx2", vit_gemm_u8s8s32_avx2, vit_minmax_f32_avx2, vit_quantize_u8_avx2,
                         VIT_AVX2_VEC, VIT_AVX2_PANEL, VIT_AVX2_MR},
    [VIT_KERNEL_AVX512_VNNI] = {"avx512-vnni", vit_gemm_u8s8s32_avx512, vit_minmax_f32_avx512,
                                vit_quantize_u8_avx512, VIT_AVX512_VEC, VIT_AVX512_PANEL,
                                VIT_AVX512_MR},
#else
    [VIT_KERNEL_AVX2] = {"avx2", NULL, NULL, NULL, 0, 0, 0},
    [VIT_KERNEL_AVX512_VNNI] = {"avx512-vnni", NULL, NULL, NULL, 0, 0, 0},
#endif
};

const char *vit_kernel_name(vit_kernel k)
{
    return (unsigned)k < VIT_KERNEL_COUNT ? kernel_ops[k].name : "unknown";
}

const char *vit_kernel_runs(vit_kernel k)
{
    if (k == VIT_KERNEL_AVX2 && (vit_cpu_features() & VIT_CPU_AVX_VNNI))
        return "avx-vnni";
    return vit_kernel_name(k);
}

vit_minmax_fn vit_kernel_minmax_fn(vit_kernel k)
{
    return (unsigned)k < VIT_KERNEL_COUNT ? kernel_ops[k].minmax : NULL;
}

vit_quantize_fn vit_kernel_quantize_fn(vit_kernel k)
{
    return (unsigned)k < VIT_KERNEL_COUNT ? kernel_ops[k].quantize : NULL;
}

vit_status vit_kernel_parse(const char *name, vit_kernel *out)
{
    for (int k = 0; k < VIT_KERNEL_COUNT; k++) {
        if (name && strcmp(name, kernel_ops[k].name) == 0) {
            *out = (vit_kernel)k;
            return VIT_OK;
        }
    }
    return VIT_ERR_ARG;
}

/* What the CPU has after the VIT_CPU cap (vit-cpu.c): a capped CPU is treated as one without. */
int vit_kernel_supported(vit_kernel k)
{
    switch (k) {
    case VIT_KERNEL_SCALAR:
        return 1;
#if defined(VIT_HAVE_X86_SIMD)
    case VIT_KERNEL_AVX2:
        return (vit_cpu_features() & VIT_CPU_AVX2) != 0;
    case VIT_KERNEL_AVX512_VNNI:
        return (vit_cpu_features() & VIT_CPU_AVX512) != 0;
#endif
    default:
        return 0;
    }
}

vit_kernel vit_kernel_select(const char *name)
{
    vit_kernel best = VIT_KERNEL_SCALAR;
    for (int k = VIT_KERNEL_COUNT - 1; k > 0; k--) {
        if (vit_kernel_supported((vit_kernel)k)) {
            best = (vit_kernel)k;
            break;
        }
    }
    if (name && *name) {
        vit_kernel forced;
        if (vit_kernel_parse(name, &forced) != VIT_OK) {
            vit_log(VIT_LOG_WARN, "kernel %s: unknown kernel (scalar, avx2, avx512-vnni); using %s",
                    name, vit_kernel_name(best));
        } else if (!vit_kernel_supported(forced)) {
            vit_log(VIT_LOG_WARN, "kernel %s: not supported by this CPU; using %s", name,
                    vit_kernel_name(best));
        } else {
            best = forced;
        }
    }
    return best;
}

/* ---------------------------------------------------------------------------------------------
 * Weight quantization: torch's MinMaxObserver / PerChannelMinMaxObserver with qint8 and a
 * symmetric qscheme (observer.py _calculate_qparams), then quantize_per_tensor/_channel
 * (ATen quantize_val: zero_point + nearbyint(value * (1.0f / scale)), clamped). */

static float weight_scale(const float *w, size_t count)
{
    /* min_val_neg = min(min, 0), max_val_pos = max(max, 0), amax = max(-min_val_neg, ...) */
    float amax = 0.0f;
    for (size_t i = 0; i < count; i++) {
        float v = fabsf(w[i]);
        if (v > amax)
            amax = v;
    }
    /* scale = amax / ((quant_max - quant_min) / 2) in float32, at least torch's eps */
    float scale = amax / 127.5f;
    return scale > FLT_EPSILON ? scale : FLT_EPSILON;
}

static void quantize_row_s8(const float *w, size_t count, float scale, int8_t *q)
{
    float inv = 1.0f / scale;
    for (size_t i = 0; i < count; i++) {
        float t = w[i] * inv;
        /* clamp first (bounds are integers, so the order does not change the result); NaN -> 0 */
        t = t > -128.0f ? t : (t != t ? 0.0f : -128.0f);
        t = t < 127.0f ? t : 127.0f;
        q[i] = (int8_t)(int32_t)vit_round_even(t);
    }
}

void vit_quantize_weights_s8(const float *w, int32_t n, int32_t k, int per_channel, float *scale,
                             int8_t *q)
{
    float s = per_channel ? 0.0f : weight_scale(w, (size_t)n * (size_t)k);
    for (int32_t j = 0; j < n; j++) {
        const float *row = w + (size_t)j * (size_t)k;
        scale[j] = per_channel ? weight_scale(row, (size_t)k) : s;
        quantize_row_s8(row, (size_t)k, scale[j], q + (size_t)j * (size_t)k);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Activation quantization */

vit_qparams vit_choose_qparams_u8(const float *x, size_t count, int32_t qmax)
{
    float mn, mx;
    vit_minmax_f32_ref(x, count, &mn, &mx);
    return vit_qparams_from_range_u8(mn, mx, qmax);
}

void vit_quantize_u8(const float *x, size_t count, vit_qparams qp, uint8_t *out)
{
    vit_quantize_u8_ref(x, count, 1.0f / qp.scale, qp.zero_point, out);
}

void vit_dequantize_u8(const uint8_t *q, size_t count, vit_qparams qp, float *out)
{
    for (size_t i = 0; i < count; i++)
        out[i] = (float)((int32_t)q[i] - qp.zero_point) * qp.scale;
}

void vit_gemm_u8s8s32(vit_kernel kern, int32_t m, int32_t k, const uint8_t *a, int32_t lda,
                      const vit_qlinear *b, int32_t *c, int32_t ldc, int32_t n0, int32_t n1)
{
    (void)k; /* b->k is authoritative; kept in the signature for readability at call sites */
    if (m <= 0 || n1 <= n0)
        return;
    if (kern != VIT_KERNEL_SCALAR && kern != b->kernel)
        kern = VIT_KERNEL_SCALAR; /* a programmer error: the packing is for another kernel */
    kernel_ops[kern].gemm(m, a, lda, b, n0, n1, c, ldc, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Packing (see vit_qlinear in vit-quant.h for the layout) */

static vit_status pack_weights(vit_qlinear *ql, vit_error *err)
{
    const vit_kernel_ops *ops = &kernel_ops[ql->kernel];
    ql->pack_vec = ops->vec;
    ql->pack_panel = ops->panel;
    if (ops->vec == 0)
        return VIT_OK;
    const int32_t n = ql->n, k = ql->k, vec = ops->vec, pw = ops->vec * ops->panel;
    const int32_t kg = (k + 3) / 4;
    const int32_t full = n / pw, rem = n % pw;
    const int32_t wv_last = (rem + vec - 1) / vec;
    /* kg * 4 * (full * pw + wv_last * vec) bytes; each factor is < 2^31, so size_t math with
     * checks is enough */
    size_t cols = (size_t)full * (size_t)pw + (size_t)wv_last * (size_t)vec, bytes;
    if (!vit_mul_size(cols, (size_t)kg * 4, &bytes))
        return vit_fail(err, VIT_ERR_LIMIT, "int8 linear %dx%d: packed size overflows", (int)n,
                        (int)k);
    uint8_t *p = vit_alloc(bytes);
    if (!p)
        return vit_fail(err, VIT_ERR_NOMEM, "int8 linear %dx%d: cannot allocate %zu bytes", (int)n,
                        (int)k, bytes);
    memset(p, 0, bytes); /* the k padding and the column padding of the last panel are zeros */
    for (int32_t j = 0; j < n; j++) {
        int32_t panel = j / pw, wv = panel < full ? ops->panel : wv_last;
        uint8_t *base = p + vit_pack_panel_offset(j, vec, ops->panel, kg) +
                        (size_t)((j % pw) / vec) * (size_t)vec * 4 + (size_t)(j % vec) * 4;
        const int8_t *src = ql->q + (size_t)j * (size_t)k;
        for (int32_t kk = 0; kk < k; kk++)
            base[(size_t)(kk / 4) * (size_t)wv * (size_t)vec * 4 + (size_t)(kk % 4)] =
                (uint8_t)src[kk];
    }
    ql->packed = p;
    ql->packed_bytes = bytes;
    return VIT_OK;
}

static vit_status qlinear_alloc(vit_qlinear *ql, const float *b, int32_t n, int32_t k,
                                int per_channel, vit_kernel kernel, vit_error *err)
{
    memset(ql, 0, sizeof *ql);
    if (n <= 0 || k <= 0)
        return vit_fail(err, VIT_ERR_ARG, "int8 linear: bad shape %dx%d", (int)n, (int)k);
    if (k > VIT_QLINEAR_MAX_K)
        return vit_fail(err, VIT_ERR_LIMIT, "int8 linear: %d in-features (at most %d)", (int)k,
                        VIT_QLINEAR_MAX_K);
    if ((unsigned)kernel >= VIT_KERNEL_COUNT)
        return vit_fail(err, VIT_ERR_ARG, "int8 linear: unknown kernel %d", (int)kernel);
    if (!vit_kernel_supported(kernel))
        return vit_fail(err, VIT_ERR_CPU, "int8 linear: kernel %s not supported by this CPU",
                        vit_kernel_name(kernel));
    size_t nk;
    if (!vit_mul_size((size_t)n, (size_t)k, &nk))
        return vit_fail(err, VIT_ERR_LIMIT, "int8 linear: %dx%d too large", (int)n, (int)k);
    ql->n = n;
    ql->k = k;
    ql->per_channel = per_channel ? 1 : 0;
    ql->act_qmax = VIT_ACT_QMAX_TORCH;
    ql->kernel = kernel;
    ql->scale = vit_alloc((size_t)n * sizeof(float));
    ql->q = vit_alloc(nk);
    ql->row_sum = vit_alloc((size_t)n * sizeof(int32_t));
    ql->bias = vit_alloc((size_t)n * sizeof(float));
    if (!ql->scale || !ql->q || !ql->row_sum || !ql->bias) {
        vit_qlinear_free(ql);
        return vit_fail(err, VIT_ERR_NOMEM, "int8 linear %dx%d: out of memory", (int)n, (int)k);
    }
    if (b)
        memcpy(ql->bias, b, (size_t)n * sizeof(float));
    else
        memset(ql->bias, 0, (size_t)n * sizeof(float));
    return VIT_OK;
}

static vit_status qlinear_finish(vit_qlinear *ql, vit_error *err)
{
    for (int32_t j = 0; j < ql->n; j++) {
        const int8_t *row = ql->q + (size_t)j * (size_t)ql->k;
        int32_t s = 0;
        for (int32_t kk = 0; kk < ql->k; kk++)
            s += row[kk];
        ql->row_sum[j] = s;
    }
    vit_status st = pack_weights(ql, err);
    if (st != VIT_OK) {
        vit_qlinear_free(ql);
        return st;
    }
    return VIT_OK;
}

vit_status vit_qlinear_init(vit_qlinear *ql, const float *w, const float *b, int32_t n, int32_t k,
                            int per_channel, vit_kernel kernel, vit_error *err)
{
    vit_status st = qlinear_alloc(ql, b, n, k, per_channel, kernel, err);
    if (st != VIT_OK)
        return st;
    vit_quantize_weights_s8(w, n, k, per_channel, ql->scale, ql->q);
    return qlinear_finish(ql, err);
}

vit_status vit_qlinear_init_quantized(vit_qlinear *ql, const int8_t *q, const float *scale,
                                      const float *b, int32_t n, int32_t k, int per_channel,
                                      vit_kernel kernel, vit_error *err)
{
    vit_status st = qlinear_alloc(ql, b, n, k, per_channel, kernel, err);
    if (st != VIT_OK)
        return st;
    for (int32_t j = 0; j < n; j++) {
        float s = scale[per_channel ? j : 0];
        if (!(s > 0.0f) || !isfinite(s)) {
            vit_qlinear_free(ql);
            return vit_fail(err, VIT_ERR_FORMAT, "int8 linear %dx%d: weight scale %g of row %d",
                            (int)n, (int)k, (double)s, (int)j);
        }
        ql->scale[j] = s;
    }
    memcpy(ql->q, q, (size_t)n * (size_t)k);
    return qlinear_finish(ql, err);
}

void vit_qlinear_free(vit_qlinear *ql)
{
    if (!ql)
        return;
    vit_free(ql->scale);
    vit_free(ql->q);
    vit_free(ql->row_sum);
    vit_free(ql->bias);
    vit_free(ql->packed);
    memset(ql, 0, sizeof *ql);
}

/* ---------------------------------------------------------------------------------------------
 * The forward: min/max -> qparams -> quantize -> GEMM with the dequantizing epilogue, each
 * step split over the pool. Results do not depend on the split: min/max is exact, and every
 * output element is computed by one thread with the same integer sum. */

#define A_ALIGN 64

size_t vit_qlinear_scratch_bytes(int32_t m, int32_t k)
{
    if (m <= 0 || k <= 0)
        return A_ALIGN;
    size_t lda = ((size_t)k + A_ALIGN - 1) & ~(size_t)(A_ALIGN - 1);
    return (size_t)m * lda + A_ALIGN;
}

typedef struct {
    const vit_qlinear *ql;
    const vit_kernel_ops *ops;
    const float *x;
    int32_t m, k;
    uint8_t *a;
    int32_t lda;
    float inv_scale;
    int32_t zp;
    int64_t panel_cols, block_rows, row_blocks; /* the GEMM's work grid, see fwd_gemm */
    vit_qepilogue ep;
    float mn[VIT_POOL_MAX_THREADS], mx[VIT_POOL_MAX_THREADS];
} fwd_ctx;

static void fwd_minmax(void *p, int64_t begin, int64_t end, int32_t thread)
{
    fwd_ctx *f = p;
    float mn, mx;
    f->ops->minmax(f->x + begin, (size_t)(end - begin), &mn, &mx);
    if (mn < f->mn[thread])
        f->mn[thread] = mn;
    if (mx > f->mx[thread])
        f->mx[thread] = mx;
}

static void fwd_quantize(void *p, int64_t begin, int64_t end, int32_t thread)
{
    (void)thread;
    fwd_ctx *f = p;
    for (int64_t i = begin; i < end; i++)
        f->ops->quantize(f->x + (size_t)i * (size_t)f->k, (size_t)f->k, f->inv_scale, f->zp,
                         f->a + (size_t)i * (size_t)f->lda);
}

/* The GEMM is split over a grid of micro-tiles: row blocks of the kernel's MR rows x column
 * panels of its panel width, numbered panel by panel (item = panel * row_blocks + block). A
 * chunk of items is then a run of row blocks through one panel after another, so every tile is
 * a full-width one and B is still streamed one panel at a time, and two threads split even a
 * 3-panel layer (N = 192) evenly, which a split over columns alone cannot. */
static void gemm_rows(const fwd_ctx *f, int32_t r0, int32_t r1, int32_t c0, int32_t c1)
{
    if (r1 <= r0 || c1 <= c0)
        return;
    vit_qepilogue ep = f->ep;
    ep.y += (size_t)r0 * (size_t)ep.ldy;
    f->ops->gemm(r1 - r0, f->a + (size_t)r0 * (size_t)f->lda, f->lda, f->ql, c0, c1, NULL, 0, &ep);
}

static void fwd_gemm(void *p, int64_t begin, int64_t end, int32_t thread)
{
    (void)thread;
    const fwd_ctx *f = p;
    const int64_t blocks = f->row_blocks;
    const int32_t n = f->ql->n, m = f->m;
#define PANEL_COL(pn) ((int32_t)((pn)*f->panel_cols < n ? (pn)*f->panel_cols : n))
#define BLOCK_ROW(b) ((int32_t)((b)*f->block_rows < m ? (b)*f->block_rows : m))
    int64_t p0 = begin / blocks, b0 = begin % blocks;
    int64_t p1 = end / blocks, b1 = end % blocks;
    if (p0 == p1) { /* within one panel */
        gemm_rows(f, BLOCK_ROW(b0), BLOCK_ROW(b1), PANEL_COL(p0), PANEL_COL(p0 + 1));
        return;
    }
    /* the rest of the first panel, whole panels, the start of the last */
    gemm_rows(f, BLOCK_ROW(b0), m, PANEL_COL(p0), PANEL_COL(p0 + 1));
    gemm_rows(f, 0, m, PANEL_COL(p0 + 1), PANEL_COL(p1));
    gemm_rows(f, 0, BLOCK_ROW(b1), PANEL_COL(p1), PANEL_COL(p1 + 1));
#undef PANEL_COL
#undef BLOCK_ROW
}

/* Work per chunk below which a second thread costs more than it gives (wake-up ~ µs). */
#define ELEMS_GRAIN 65536
#define MACS_GRAIN 1000000

static void gemm_parallel(fwd_ctx *f, struct vit_pool *pool)
{
    const vit_qlinear *ql = f->ql;
    f->panel_cols = f->ops->vec > 0 ? f->ops->vec * f->ops->panel : 16;
    f->block_rows = f->ops->mr;
    f->row_blocks = (f->m + f->block_rows - 1) / f->block_rows;
    int64_t panels = (ql->n + f->panel_cols - 1) / f->panel_cols;
    int64_t rows = f->m < f->block_rows ? f->m : f->block_rows;
    int64_t per_item = rows * f->panel_cols * (int64_t)ql->k;
    int64_t grain = per_item >= MACS_GRAIN ? 1 : MACS_GRAIN / per_item;
    vit_pool_run(pool, panels * f->row_blocks, grain, fwd_gemm, f);
}

void vit_qlinear_forward_u8(const vit_qlinear *ql, const uint8_t *a, int32_t lda, vit_qparams qp,
                            int32_t m, float *y, struct vit_pool *pool)
{
    if (m <= 0)
        return;
    fwd_ctx *f = &(fwd_ctx){0};
    f->ql = ql;
    f->ops = &kernel_ops[ql->kernel];
    f->m = m;
    f->k = ql->k;
    f->a = (uint8_t *)a;
    f->lda = lda;
    f->ep = (vit_qepilogue){qp.scale, qp.zero_point, ql->scale, ql->row_sum, ql->bias, y, ql->n};
    gemm_parallel(f, pool);
}

void vit_qlinear_forward(const vit_qlinear *ql, const float *x, int32_t m, float *y, void *scratch,
                         struct vit_pool *pool)
{
    if (m <= 0)
        return;
    const int32_t k = ql->k;
    fwd_ctx ctx; /* with the per-thread min/max partials: 2 KiB on the caller's stack */
    fwd_ctx *f = &ctx;
    f->ql = ql;
    f->ops = &kernel_ops[ql->kernel];
    f->x = x;
    f->m = m;
    f->k = k;
    f->lda = (int32_t)(((size_t)k + A_ALIGN - 1) & ~(size_t)(A_ALIGN - 1));
    f->a = (uint8_t *)(((uintptr_t)scratch + A_ALIGN - 1) & ~(uintptr_t)(A_ALIGN - 1));

    int32_t threads = vit_pool_threads(pool);
    for (int32_t t = 0; t < threads; t++) {
        f->mn[t] = INFINITY;
        f->mx[t] = -INFINITY;
    }
    size_t count = (size_t)m * (size_t)k;
    vit_pool_run(pool, (int64_t)count, ELEMS_GRAIN, fwd_minmax, f);
    float mn = INFINITY, mx = -INFINITY;
    for (int32_t t = 0; t < threads; t++) {
        mn = f->mn[t] < mn ? f->mn[t] : mn;
        mx = f->mx[t] > mx ? f->mx[t] : mx;
    }
    vit_qparams qp = vit_qparams_from_range_u8(mn, mx, ql->act_qmax);
    f->inv_scale = 1.0f / qp.scale;
    f->zp = qp.zero_point;
    vit_pool_run(pool, m, (ELEMS_GRAIN + k - 1) / k, fwd_quantize, f);

    f->ep = (vit_qepilogue){qp.scale, qp.zero_point, ql->scale, ql->row_sum, ql->bias, y, ql->n};
    gemm_parallel(f, pool);
}

/* ---------------------------------------------------------------------------------------------
 * Repacking for another kernel */

/* q (n, k) row-major from a packed layout (the inverse of vit-quant.c's pack_weights). */
static void unpack_weights(const vit_qlinear *ql, int8_t *q)
{
    const int32_t n = ql->n, k = ql->k, vec = ql->pack_vec, panel = ql->pack_panel;
    if (!vec) {
        memcpy(q, ql->q, (size_t)n * (size_t)k);
        return;
    }
    const uint8_t *p = ql->packed;
    const int32_t pw = vec * panel, kg = (k + 3) / 4, full = n / pw, rem = n % pw;
    const int32_t wv_last = (rem + vec - 1) / vec;
    for (int32_t j = 0; j < n; j++) {
        int32_t pn = j / pw, wv = pn < full ? panel : wv_last;
        const uint8_t *base = p + vit_pack_panel_offset(j, vec, panel, kg) +
                              (size_t)((j % pw) / vec) * (size_t)vec * 4 + (size_t)(j % vec) * 4;
        for (int32_t kk = 0; kk < k; kk++)
            q[(size_t)j * k + kk] =
                (int8_t)base[(size_t)(kk / 4) * (size_t)wv * (size_t)vec * 4 + (size_t)(kk % 4)];
    }
}

vit_status vit_qlinear_repack(const vit_qlinear *src, vit_kernel kernel, vit_qlinear *dst,
                              vit_error *err)
{
    if (src->q) /* the portable rows are there: nothing to unpack */
        return vit_qlinear_init_quantized(dst, src->q, src->scale, src->bias, src->n, src->k,
                                          src->per_channel, kernel, err);
    int8_t *q = malloc((size_t)src->n * (size_t)src->k);
    if (!q)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory repacking int8 weights");
    unpack_weights(src, q);
    vit_status s = vit_qlinear_init_quantized(dst, q, src->scale, src->bias, src->n, src->k,
                                              src->per_channel, kernel, err);
    free(q);
    return s;
}
