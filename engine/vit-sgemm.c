/* vit-sgemm.c — the fp32 GEMM's packing, its scalar reference kernels, the threaded driver, the
 * dispatch, and the model's packed Linear weights. See vit-sgemm.h. */
#include "vit-sgemm.h"

#include "vit-opt.h" /* vit_gelu_fast_ref, vit_exp_fast_ref: the shared fast math */
#include "vit-pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---------------------------------------------------------------------------------------------
 * Packing */

void vit_sgemm_pack_t(const float *w, int32_t ldw, int32_t n, int32_t k, float *p)
{
    const int32_t NR = VIT_SGEMM_NR, KB = 16;
    for (int32_t pn = 0; pn < vit_sgemm_panels(n); pn++) {
        float *dst = p + (size_t)pn * k * NR;
        int32_t j0 = pn * NR, cols = n - j0 < NR ? n - j0 : NR;
        if (cols < NR)
            memset(dst, 0, (size_t)k * NR * sizeof(float));
        // column j of the panel is row j0 + j of w: a transpose, in blocks of 16 steps of k so
        // that the 16 x 32 block written stays in L1 while 32 rows of w are read
        for (int32_t k0 = 0; k0 < k; k0 += KB) {
            int32_t k1 = k0 + KB < k ? k0 + KB : k;
            for (int32_t j = 0; j < cols; j++) {
                const float *src = w + (size_t)(j0 + j) * ldw;
                for (int32_t kk = k0; kk < k1; kk++)
                    dst[(size_t)kk * NR + j] = src[kk];
            }
        }
    }
}

void vit_sgemm_pack_n(const float *b, int32_t ldb, int32_t k, int32_t n, float *p)
{
    const int32_t NR = VIT_SGEMM_NR;
    for (int32_t pn = 0; pn < vit_sgemm_panels(n); pn++) {
        float *dst = p + (size_t)pn * k * NR;
        int32_t j0 = pn * NR, cols = n - j0 < NR ? n - j0 : NR;
        for (int32_t kk = 0; kk < k; kk++) {
            memcpy(dst + (size_t)kk * NR, b + (size_t)kk * ldb + j0, (size_t)cols * sizeof(float));
            if (cols < NR)
                memset(dst + (size_t)kk * NR + cols, 0, (size_t)(NR - cols) * sizeof(float));
        }
    }
}

const vit_sgemm_ops vit_sgemm_ops_ref = {"scalar", vit_sgemm_panel_ref, vit_softmax_ref,
                                          vit_layernorm};

#if defined(VIT_HAVE_X86_SIMD)
static const vit_sgemm_ops ops_avx2 = {"avx2", vit_sgemm_panel_avx2, vit_softmax_avx2,
                                       vit_layernorm_avx2};
static const vit_sgemm_ops ops_avx512 = {"avx512", vit_sgemm_panel_avx512, vit_softmax_avx512,
                                         vit_layernorm_avx512};
#endif

const vit_sgemm_ops *vit_sgemm_ops_for(vit_kernel k)
{
#if defined(VIT_HAVE_X86_SIMD)
    if (k == VIT_KERNEL_AVX512_VNNI && vit_kernel_supported(k))
        return &ops_avx512;
    if (k == VIT_KERNEL_AVX2 && vit_kernel_supported(k))
        return &ops_avx2;
#endif
    (void)k;
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * The threaded driver */

/* Rows per work item: a multiple of both kernels' tile heights (12 and 6). */
#define ROW_BLOCK 48

typedef struct {
    const vit_sgemm_ops *ops;
    int32_t m, nrb;
    const float *a;
    int32_t lda;
    const vit_sgemm_b *b;
    const float *bias;
    vit_sgemm_mode mode;
    float *c;
    int32_t ldc;
} sgemm_job;

/* Items are (panel, row block), panel-major: a chunk of consecutive items reuses one panel of B
 * (in L2) over successive row blocks. */
static void sgemm_items(void *ctx, int64_t begin, int64_t end, int32_t thread)
{
    const sgemm_job *j = ctx;
    const int32_t NR = VIT_SGEMM_NR, k = j->b->k, n = j->b->n;
    for (int64_t it = begin; it < end; it++) {
        int32_t pn = (int32_t)(it / j->nrb), rb = (int32_t)(it % j->nrb);
        int32_t r0 = rb * ROW_BLOCK, r1 = r0 + ROW_BLOCK < j->m ? r0 + ROW_BLOCK : j->m;
        int32_t c0 = pn * NR, ncols = n - c0 < NR ? n - c0 : NR;
        j->ops->panel(r1 - r0, k, j->a + (size_t)r0 * j->lda, j->lda,
                      j->b->p + (size_t)pn * k * NR, ncols, j->bias ? j->bias + c0 : NULL,
                      j->mode, j->c + (size_t)r0 * j->ldc + c0, j->ldc);
    }
}

void vit_sgemm(const vit_sgemm_ops *ops, struct vit_pool *pool, int32_t m, const float *a,
               int32_t lda, const vit_sgemm_b *b, const float *bias, vit_sgemm_mode mode,
               float *c, int32_t ldc)
{
    if (m <= 0)
        return;
    sgemm_job j = {ops, m, (m + ROW_BLOCK - 1) / ROW_BLOCK, a, lda, b, bias, mode, c, ldc};
    int64_t items = (int64_t)vit_sgemm_panels(b->n) * j.nrb;
    int32_t threads = vit_pool_threads(pool);
    if (threads <= 1 || items == 1) {
        sgemm_items(&j, 0, items, 0);
        return;
    }
    // a few chunks per thread, so a thread the OS descheduled holds up little
    int64_t chunks = 4 * (int64_t)threads;
    vit_pool_run_chunks(pool, items, chunks < items ? chunks : items, sgemm_items, &j);
}

/* ---------------------------------------------------------------------------------------------
 * The model's packed Linear weights */

/* The packed weights are as large as the model's fp32 Linears (346 MB for deit_base): in 2 MB
 * pages where the kernel allows it (THP "madvise"), first-touch page faults took most of the
 * packing time (deit_base: 1.3 s in 4 kB pages). */
#define HUGE_PAGE ((size_t)2 << 20)

static float *alloc_packed(size_t bytes)
{
    if (bytes < HUGE_PAGE)
        return vit_alloc(bytes);
    size_t rounded = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    float *p = aligned_alloc(HUGE_PAGE, rounded);
#if defined(MADV_HUGEPAGE)
    if (p)
        madvise(p, rounded, MADV_HUGEPAGE); /* a hint: failure only costs speed */
#endif
    return p;
}

/* The model's Linears in the packed model's order, as (w (n, k), k, n): l in [0, nl) is per block
 * qkv, proj, fc1, fc2, then head, (head_dist); l == nl is the patch conv as a Linear. */
typedef struct {
    float *w;
    int32_t k, n;
} src_linear;

static int32_t model_num_linears(const vit_model *m)
{
    return 4 * m->info.depth + 1 + (m->info.distilled ? 1 : 0);
}

static src_linear model_linear(const vit_model *m, int32_t l)
{
    const vit_model_info *i = &m->info;
    int32_t D = i->embed_dim, H = i->mlp_hidden, K = i->num_classes;
    if (l < 4 * i->depth) {
        const vit_block_weights *b = &m->w.blocks[l / 4];
        switch (l % 4) {
        case 0: return (src_linear){b->qkv_w, D, 3 * D};
        case 1: return (src_linear){b->proj_w, D, D};
        case 2: return (src_linear){b->fc1_w, D, H};
        default: return (src_linear){b->fc2_w, H, D};
        }
    }
    if (l == 4 * i->depth)
        return (src_linear){m->w.head_w, D, K};
    if (l < model_num_linears(m))
        return (src_linear){m->w.head_dist_w, D, K};
    return (src_linear){m->w.patch_w, i->in_chans * i->patch_size * i->patch_size, D};
}

/* A Linear's whole pages in the arena, back to the kernel: they read as zeros afterwards. */
static void release_pages(const src_linear *w)
{
    vit_release_pages(w->w, (size_t)w->n * w->k * sizeof(float));
}

/* release: hand each Linear's plain copy back to the kernel as soon as it is packed, so that
 * the model is never held twice (only for vit_model_release_linears, on a non-const model). */
static vit_status build(const vit_model *m, int release, vit_sgemm_model **out, vit_error *err)
{
    *out = NULL;
    int32_t nl = model_num_linears(m);
    vit_sgemm_model *sm = calloc(1, sizeof *sm);
    vit_sgemm_b *layers = calloc((size_t)nl, sizeof *layers);
    if (!sm || !layers) {
        free(sm);
        free(layers);
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for the packed fp32 weights");
    }
    sm->layers = layers;
    sm->num_layers = nl;

    size_t total = 0;
    for (int32_t l = 0; l <= nl; l++) {
        src_linear w = model_linear(m, l);
        total += vit_sgemm_packed_floats(w.k, w.n);
    }
    sm->arena = alloc_packed(total * sizeof(float));
    if (!sm->arena) {
        vit_sgemm_model_free(sm);
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for the packed fp32 weights (%zu MB)",
                        total * sizeof(float) >> 20);
    }
    float *p = sm->arena;
    for (int32_t l = 0; l <= nl; l++) {
        src_linear w = model_linear(m, l);
        vit_sgemm_b *b = l < nl ? &sm->layers[l] : &sm->patch;
        *b = (vit_sgemm_b){w.k, w.n, p};
        vit_sgemm_pack_t(w.w, w.k, w.n, w.k, p);
        p += vit_sgemm_packed_floats(w.k, w.n);
        if (release && l < nl)
            release_pages(&w); /* layer by layer: the model is never held twice */
    }
    *out = sm;
    return VIT_OK;
}

vit_status vit_sgemm_model_build(const vit_model *m, vit_sgemm_model **out, vit_error *err)
{
    return build(m, 0, out, err);
}

vit_status vit_sgemm_model_build_releasing(vit_model *m, vit_sgemm_model **out, vit_error *err)
{
    return build(m, 1, out, err);
}

/* The Linears' rows in the model's arena are a second copy of what the packed model holds: their
 * whole pages go back to the kernel (deit_base: 346 MB). The patch conv stays: the int8 and
 * optimized variants read it, and it is small. */
void vit_sgemm_model_release_linears(vit_model *m)
{
    for (int32_t l = 0; l < model_num_linears(m); l++) {
        src_linear w = model_linear(m, l);
        release_pages(&w);
    }
}

void vit_sgemm_unpack_t(const float *p, int32_t n, int32_t k, float *w, int32_t ldw)
{
    const int32_t NR = VIT_SGEMM_NR;
    for (int32_t pn = 0; pn < vit_sgemm_panels(n); pn++) {
        const float *srcp = p + (size_t)pn * k * NR;
        int32_t j0 = pn * NR, cols = n - j0 < NR ? n - j0 : NR;
        for (int32_t j = 0; j < cols; j++) {
            float *dst = w + (size_t)(j0 + j) * ldw;
            for (int32_t kk = 0; kk < k; kk++)
                dst[kk] = srcp[(size_t)kk * NR + j];
        }
    }
}

void vit_sgemm_model_free(vit_sgemm_model *sm)
{
    if (!sm)
        return;
    vit_free(sm->arena);
    free(sm->layers);
    free(sm);
}
