/* vit-prepare.c — a model's derived weights: its int8 Linears, quantized and packed per (scales,
 * kernel), and its fp32 Linears packed for our GEMM. They are built here, by explicit calls on a
 * non-const model (vit_model_prepare, vit_model_release_linears) before the model is shared,
 * and only read afterwards; a session or an export that finds nothing prepared derives its own
 * copy with the same functions (vit_quant_model_derive, vit_sgemm_model_build), which read the
 * model and never change it. */
#include "vit-int8.h"
#include "vit-opt.h"
#include "vit-sgemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Quantized weights */

void vit_quant_model_free(vit_quant_model *q)
{
    if (!q)
        return;
    if (q->layers)
        for (int32_t i = 0; i < q->num_layers; i++)
            vit_qlinear_free(&q->layers[i]);
    free(q->layers);
    free(q);
}

static vit_quant_model *quant_model_alloc(int32_t num_layers, int per_channel, vit_kernel kernel)
{
    vit_quant_model *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->per_channel = per_channel;
    q->kernel = kernel;
    q->num_layers = num_layers;
    q->layers = calloc((size_t)num_layers, sizeof *q->layers);
    if (!q->layers) {
        free(q);
        return NULL;
    }
    return q;
}

vit_status vit_quant_model_build(const vit_model *m, int per_channel, vit_kernel kernel,
                                 vit_quant_model **out, vit_error *err)
{
    *out = NULL;
    const vit_model_info *i = &m->info;
    int32_t D = i->embed_dim, H = i->mlp_hidden, K = i->num_classes;
    vit_quant_model *q = quant_model_alloc(4 * i->depth + 1 + i->distilled, per_channel, kernel);
    if (!q)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for int8 weights");
    vit_status s = VIT_OK;
    for (int32_t l = 0; l < i->depth && s == VIT_OK; l++) {
        const vit_block_weights *b = &m->w.blocks[l];
        vit_qlinear *ql = &q->layers[4 * l];
        s = vit_qlinear_init(&ql[0], b->qkv_w, b->qkv_b, 3 * D, D, per_channel, kernel, err);
        if (s == VIT_OK)
            s = vit_qlinear_init(&ql[1], b->proj_w, b->proj_b, D, D, per_channel, kernel, err);
        if (s == VIT_OK)
            s = vit_qlinear_init(&ql[2], b->fc1_w, b->fc1_b, H, D, per_channel, kernel, err);
        if (s == VIT_OK)
            s = vit_qlinear_init(&ql[3], b->fc2_w, b->fc2_b, D, H, per_channel, kernel, err);
    }
    if (s == VIT_OK)
        s = vit_qlinear_init(&q->layers[4 * i->depth], m->w.head_w, m->w.head_b, K, D, per_channel,
                             kernel, err);
    if (s == VIT_OK && i->distilled)
        s = vit_qlinear_init(&q->layers[4 * i->depth + 1], m->w.head_dist_w, m->w.head_dist_b, K,
                             D, per_channel, kernel, err);
    if (s != VIT_OK) {
        vit_quant_model_free(q);
        return s;
    }
    *out = q;
    return VIT_OK;
}

/* The same int8 weights packed for another kernel (bit-identical results: every kernel gives
 * the same sums). */
static vit_status quant_model_repack(const vit_quant_model *src, vit_kernel kernel,
                                     vit_quant_model **out, vit_error *err)
{
    *out = NULL;
    vit_quant_model *q = quant_model_alloc(src->num_layers, src->per_channel, kernel);
    if (!q)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for int8 weights");
    vit_status s = VIT_OK;
    for (int32_t l = 0; l < src->num_layers && s == VIT_OK; l++)
        s = vit_qlinear_repack(&src->layers[l], kernel, &q->layers[l], err);
    if (s != VIT_OK) {
        vit_quant_model_free(q);
        return s;
    }
    *out = q;
    return VIT_OK;
}

size_t vit_quant_model_bytes(const vit_quant_model *q)
{
    size_t n = 0;
    for (int32_t l = 0; l < q->num_layers; l++) {
        const vit_qlinear *ql = &q->layers[l];
        n += (size_t)ql->n * (size_t)ql->k + (size_t)ql->n * 3 * sizeof(float);
    }
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * The optimized variant's weights: the int8 layers (borrowed), the patch embedding as one more
 * int8 Linear, qkv's scales and bias with the q rows folded */

void vit_opt_weights_free(vit_opt_weights *w)
{
    if (!w)
        return;
    if (w->own_layers)
        for (int32_t l = 0; l < w->num_layers; l++)
            vit_qlinear_free(&w->own_layers[l]);
    free(w->own_layers);
    vit_qlinear_free(&w->own_patch);
    vit_free(w->own_qkv);
    memset(w, 0, sizeof *w);
}

vit_status vit_opt_weights_fold_qkv(const vit_model *m, vit_opt_weights *w, vit_error *err)
{
    const vit_model_info *i = &m->info;
    const int32_t D = i->embed_dim, depth = i->depth, n = 3 * D;
    const float qs = 1.0f / sqrtf((float)(D / i->num_heads));
    w->own_qkv = vit_alloc((size_t)2 * depth * n * sizeof(float));
    if (!w->own_qkv)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for the optimized weights");
    float *sc = w->own_qkv, *bi = w->own_qkv + (size_t)depth * n;
    for (int32_t l = 0; l < depth; l++) {
        const vit_qlinear *ql = &w->layers[4 * l];
        for (int32_t j = 0; j < n; j++) {
            // softmax(q k^T / sqrt(hd)): the q rows of W and b carry the 1/sqrt(hd)
            float f = j < D ? qs : 1.0f;
            sc[(size_t)l * n + j] = ql->scale[j] * f;
            bi[(size_t)l * n + j] = ql->bias[j] * f;
        }
    }
    w->qkv_scale = sc;
    w->qkv_bias = bi;
    return VIT_OK;
}

vit_status vit_opt_weights_from_model(const vit_model *m, const struct vit_quant_model *q,
                                      vit_opt_weights *w, vit_error *err)
{
    memset(w, 0, sizeof *w);
    const vit_model_info *i = &m->info;
    w->kernel = q->kernel;
    w->per_channel = q->per_channel;
    w->num_layers = q->num_layers;
    w->layers = q->layers;
    int32_t cpp = i->in_chans * i->patch_size * i->patch_size;
    /* the patch embedding has no int8 counterpart in the int8 variant (a Conv2d there): its
     * weights get one scale per output channel (the channels' ranges differ widely); small
     * patches (C*P*P <= VIT_OPT_PATCH_F32_MAX) run it in fp32 from m->w.patch_w instead */
    vit_status s = vit_qlinear_init(&w->own_patch, m->w.patch_w, m->w.patch_b, i->embed_dim, cpp,
                                    1, q->kernel, err);
    if (s != VIT_OK)
        return s;
    w->patch = &w->own_patch;
    w->patch_f32 = cpp <= VIT_OPT_PATCH_F32_MAX ? m->w.patch_w : NULL;
    s = vit_opt_weights_fold_qkv(m, w, err);
    if (s != VIT_OK)
        vit_opt_weights_free(w);
    return s;
}

/* ---------------------------------------------------------------------------------------------
 * Finding and deriving */

/* The scales a request for per_channel gets: what was asked, except on a .vitq model, which
 * has one kind only (the other is used). */
static int scales_for(const vit_model *m, int per_channel)
{
    per_channel = per_channel ? 1 : 0;
    if (m->has_fp32_linears)
        return per_channel;
    for (int k = 0; k < VIT_KERNEL_COUNT; k++)
        if (m->q[per_channel][k])
            return per_channel;
    return !per_channel;
}

const vit_quant_model *vit_model_quant_find(const vit_model *m, int per_channel, vit_kernel kernel)
{
    return (unsigned)kernel < VIT_KERNEL_COUNT ? m->q[scales_for(m, per_channel)][kernel] : NULL;
}

vit_status vit_quant_model_derive(const vit_model *m, int per_channel, vit_kernel kernel,
                                  vit_quant_model **out, vit_error *err)
{
    *out = NULL;
    int pc = scales_for(m, per_channel);
    if (m->has_fp32_linears && !m->linears_released)
        return vit_quant_model_build(m, pc, kernel, out, err);
    for (int k = 0; k < VIT_KERNEL_COUNT; k++)
        if (m->q[pc][k])
            return quant_model_repack(m->q[pc][k], kernel, out, err);
    if (m->linears_released)
        return vit_fail(err, VIT_ERR_UNSUPPORTED,
                        "%s: the fp32 Linear weights were released (vit_model_release_linears) "
                        "before the int8 weights for %s scales and kernel %s were prepared; call "
                        "vit_model_prepare for them first",
                        m->info.name, pc ? "per-channel" : "per-tensor", vit_kernel_name(kernel));
    return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: the model has no int8 weights", m->info.name);
}

vit_status vit_model_quant_for(const vit_model *m, int per_channel, vit_kernel kernel,
                               const vit_quant_model **use, vit_quant_model **own,
                               vit_error *err)
{
    *own = NULL;
    *use = vit_model_quant_find(m, per_channel, kernel);
    if (*use)
        return VIT_OK;
    vit_status st = vit_quant_model_derive(m, per_channel, kernel, own, err);
    *use = *own;
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * The explicit calls */

int vit_model_supports(const vit_model *m, vit_variant v)
{
    if (!m)
        return 0;
    int has_q = 0;
    for (int pc = 0; pc < 2; pc++)
        for (int k = 0; k < VIT_KERNEL_COUNT; k++)
            has_q |= m->q[pc][k] != NULL;
    switch (v) {
    case VIT_VARIANT_FP32: return m->has_fp32_linears;
    case VIT_VARIANT_INT8: return m->has_fp32_linears || has_q;
    case VIT_VARIANT_OPTIMIZED: return m->has_fp32_linears || has_q || m->lite != NULL;
    default: return 0;
    }
}

vit_status vit_model_prepare(vit_model *m, const vit_session_opts *opts, vit_error *err)
{
    if (!m)
        return vit_fail(err, VIT_ERR_ARG, "no model given");
    vit_session_opts o = opts ? *opts : vit_session_opts_default();
    if (o.variant < 0 || o.variant >= VIT_VARIANT_COUNT)
        return vit_fail(err, VIT_ERR_ARG, "unknown variant %d", (int)o.variant);
    if (!vit_model_supports(m, o.variant))
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: the %s variant is not available for this model",
                        m->info.name, vit_variant_name(o.variant));
    vit_kernel kernel = vit_kernel_select(o.kernel);
    if (o.variant == VIT_VARIANT_FP32) {
        /* OpenBLAS (no AVX2, or the scalar kernel) reads the model's own weights */
        if (m->f32p || !vit_sgemm_ops_for(kernel))
            return VIT_OK;
        return vit_sgemm_model_build(m, &m->f32p, err);
    }
    if (m->lite) /* its packed weights are the file's; another kernel's: each session repacks */
        return VIT_OK;
    int pc = scales_for(m, o.per_channel);
    if (m->q[pc][kernel])
        return VIT_OK;
    return vit_quant_model_derive(m, pc, kernel, &m->q[pc][kernel], err);
}

vit_status vit_model_release_linears(vit_model *m, vit_error *err)
{
    if (!m)
        return vit_fail(err, VIT_ERR_ARG, "no model given");
    if (!m->has_fp32_linears)
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: the model has no fp32 Linear weights",
                        m->info.name);
    if (m->linears_released)
        return VIT_OK;
    if (!vit_sgemm_ops_for(vit_kernel_select(NULL)))
        return vit_fail(err, VIT_ERR_UNSUPPORTED,
                        "%s: the fp32 variant runs on OpenBLAS on this CPU, which reads the "
                        "plain Linear weights: they cannot be released",
                        m->info.name);
    if (m->f32p) {
        vit_sgemm_model_release_linears(m);
    } else {
        vit_status s = vit_sgemm_model_build_releasing(m, &m->f32p, err);
        if (s != VIT_OK)
            return s;
    }
    m->linears_released = 1;
    return VIT_OK;
}

void vit_model_free_derived(vit_model *m)
{
    for (int pc = 0; pc < 2; pc++)
        for (int k = 0; k < VIT_KERNEL_COUNT; k++) {
            vit_quant_model_free(m->q[pc][k]);
            m->q[pc][k] = NULL;
        }
    vit_sgemm_model_free(m->f32p);
    m->f32p = NULL;
}
