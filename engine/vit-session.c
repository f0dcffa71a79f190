/* vit-session.c — sessions: the plan (variant, threads, kernel) and every buffer for running one
 * model, made once at vit_session_new so that a forward pass never allocates. */
#include "vit-int8.h"
#include "vit-opt.h"
#include "vit-sgemm.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct vit_session {
    const vit_model *model;
    vit_session_opts opts;
    int32_t threads;
    vit_kernel kernel;               /* opts.kernel resolved for this CPU */
    vit_fp32_state fp32;             /* VIT_VARIANT_FP32 */
    vit_sgemm_model *own_f32p;       /* its packed weights when the model has none prepared */
    vit_int8_state int8;             /* VIT_VARIANT_INT8 */
    const vit_quant_model *qmodel;   /* the model's (vit_model_prepare) or own_q */
    vit_quant_model *own_q;          /* int8 weights made for this session */
    vit_opt_state opt;               /* VIT_VARIANT_OPTIMIZED: plan and arena */
    vit_opt_weights opt_own;         /* its weights when made for this session */
    const vit_opt_weights *optw;     /* opt_own or a lite file's */
    float *input;  /* (C, S, S) preprocessed image */
    float *logits; /* (K) */
    float *probs;  /* (K) */
};

vit_session_opts vit_session_opts_default(void)
{
    vit_session_opts o = {.variant = VIT_VARIANT_FP32, .threads = 0, .per_channel = 0};
    return o;
}

static int32_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 1024 ? (int32_t)n : 1;
}

/* The int8 weights for the session's scales and kernel: the model's, prepared, or made for
 * this session alone. */
static vit_status session_quant(vit_session *s, vit_error *err)
{
    s->qmodel = vit_model_quant_find(s->model, s->opts.per_channel, s->kernel);
    if (s->qmodel)
        return VIT_OK;
    vit_status st = vit_quant_model_derive(s->model, s->opts.per_channel, s->kernel, &s->own_q, err);
    s->qmodel = s->own_q;
    return st;
}

/* The fp32 pass's plan: our GEMM with the model's Linears packed for it (prepared on the model,
 * or packed for this session alone), or OpenBLAS where the CPU has neither AVX2 nor AVX-512 (or
 * for the scalar kernel), which reads the model's plain weights. */
static vit_status fp32_session_plan(vit_session *s, vit_error *err)
{
    const vit_model *m = s->model;
    const vit_sgemm_ops *ops = vit_sgemm_ops_for(s->kernel);
    if (!ops) {
        if (m->linears_released)
            return vit_fail(err, VIT_ERR_UNSUPPORTED,
                            "%s: the fp32 Linear weights were released (vit_model_release_linears): "
                            "the OpenBLAS pass cannot run",
                            m->info.name);
        return VIT_OK;
    }
    const vit_sgemm_model *packed = m->f32p;
    if (!packed) {
        vit_status st = vit_sgemm_model_build(m, &s->own_f32p, err);
        if (st != VIT_OK)
            return st;
        packed = s->own_f32p;
    }
    return vit_fp32_state_plan(&s->fp32, ops, packed, s->threads, err);
}

/* The optimized variant's weights (a lite file's, or the model's int8 layers plus the patch
 * Linear) and its plan. A lite file packed for a kernel other than the one selected here is
 * repacked from its int8 weights (vit_lite_weights_repack). */
static vit_status opt_session_new(vit_session *s, vit_error *err)
{
    const vit_model *m = s->model;
    vit_status st = VIT_OK;
    const vit_opt_weights *lw = vit_lite_weights(m);
    if (lw) {
        if (lw->kernel == s->kernel) {
            s->optw = lw;
        } else {
            st = vit_lite_weights_repack(m, s->kernel, &s->opt_own, err);
            s->optw = &s->opt_own;
        }
    } else {
        st = session_quant(s, err);
        if (st == VIT_OK)
            st = vit_opt_weights_from_model(m, s->qmodel, &s->opt_own, err);
        s->optw = &s->opt_own;
    }
    if (st == VIT_OK)
        st = vit_opt_state_new(m, vit_opt_ops_for(s->optw->kernel), s->threads, &s->opt, err);
    return st;
}

vit_status vit_session_new(const vit_model *model, const vit_session_opts *opts, vit_session **out,
                           vit_error *err)
{
    if (!out)
        return vit_fail(err, VIT_ERR_ARG, "no output pointer given");
    *out = NULL;
    if (!model)
        return vit_fail(err, VIT_ERR_ARG, "no model given");
    vit_session_opts o = opts ? *opts : vit_session_opts_default();
    if (o.variant < 0 || o.variant >= VIT_VARIANT_COUNT)
        return vit_fail(err, VIT_ERR_ARG, "unknown variant %d", (int)o.variant);
    if (o.threads < 0 || o.threads > 1024)
        return vit_fail(err, VIT_ERR_ARG, "thread count %d is out of range", o.threads);
    if (!vit_model_supports(model, o.variant))
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: the %s variant is not available for this model",
                        model->info.name, vit_variant_name(o.variant));

    vit_session *s = calloc(1, sizeof *s);
    if (!s)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for a session");
    s->model = model;
    s->opts = o;
    s->threads = o.threads ? o.threads : online_cpus();
    s->kernel = vit_kernel_select(o.kernel);
    const vit_model_info *i = &model->info;
    size_t in = (size_t)i->in_chans * i->img_size * i->img_size;
    s->input = vit_alloc(in * sizeof(float));
    s->logits = vit_alloc((size_t)i->num_classes * sizeof(float));
    s->probs = vit_alloc((size_t)i->num_classes * sizeof(float));
    vit_status st = VIT_OK;
    if (!s->input || !s->logits || !s->probs)
        st = vit_fail(err, VIT_ERR_NOMEM, "out of memory for session buffers");
    if (st == VIT_OK && o.variant == VIT_VARIANT_FP32) {
        st = vit_fp32_state_new(model, &s->fp32, err);
        if (st == VIT_OK)
            st = fp32_session_plan(s, err);
    }
    if (st == VIT_OK && o.variant == VIT_VARIANT_INT8) {
        st = session_quant(s, err);
        if (st == VIT_OK)
            st = vit_int8_state_new(model, s->threads, &s->int8, err);
    }
    if (st == VIT_OK && o.variant == VIT_VARIANT_OPTIMIZED)
        st = opt_session_new(s, err);
    if (st != VIT_OK) {
        vit_session_free(s);
        return st;
    }
    *out = s;
    return VIT_OK;
}

void vit_session_free(vit_session *s)
{
    if (!s)
        return;
    vit_fp32_state_free(&s->fp32);
    vit_sgemm_model_free(s->own_f32p);
    vit_int8_state_free(&s->int8);
    vit_opt_state_free(&s->opt);
    vit_opt_weights_free(&s->opt_own);
    vit_quant_model_free(s->own_q);
    vit_free(s->input);
    vit_free(s->logits);
    vit_free(s->probs);
    free(s);
}

const vit_model *vit_session_model(const vit_session *s)
{
    return s ? s->model : NULL;
}

vit_variant vit_session_variant(const vit_session *s)
{
    return s ? s->opts.variant : VIT_VARIANT_FP32;
}

const char *vit_session_kernel(const vit_session *s)
{
    if (s && s->opt.ops)
        return s->opt.ops->name;
    if (s && s->qmodel)
        return vit_kernel_runs(s->qmodel->kernel);
    if (s && s->fp32.ops)
        return s->fp32.ops->name;
    return "openblas";
}

int32_t vit_session_threads(const vit_session *s)
{
    return s ? s->threads : 0;
}

static pthread_mutex_t fp32_blas_lock = PTHREAD_MUTEX_INITIALIZER;

vit_status vit_session_run(vit_session *s, const float *input, float *logits, vit_error *err)
{
    if (!s || !input || !logits)
        return vit_fail(err, VIT_ERR_ARG, "vit_session_run: NULL argument");
    switch (s->opts.variant) {
    case VIT_VARIANT_FP32:
        if (s->fp32.ops) {
            /* our GEMM, split in our pool */
            vit_forward_fp32(s->model, &s->fp32, input, logits);
            break;
        }
        /* OpenBLAS' thread count is process-wide: set it for this session before each run.
         * Two fp32 runs at once would each compute with the other's count, and GEMMs split for
         * 1 and for 2 threads round differently (logits up to 1e-6 apart; found by
         * tests/test-reentrant.c), so fp32 runs take turns, and leave the count at 1, the one
         * the int8 and optimized variants (which split the work in our pool) want. */
        pthread_mutex_lock(&fp32_blas_lock);
        openblas_set_num_threads(s->threads);
        vit_forward_fp32(s->model, &s->fp32, input, logits);
        openblas_set_num_threads(1);
        pthread_mutex_unlock(&fp32_blas_lock);
        break;
    case VIT_VARIANT_INT8:
        /* our pool splits the work; OpenBLAS runs single-threaded inside each attention head */
        openblas_set_num_threads(1);
        vit_forward_int8(s->model, s->qmodel, &s->int8, input, logits);
        break;
    case VIT_VARIANT_OPTIMIZED:
        /* our pool does everything (OpenBLAS only in the VIT_OPT_UNFUSE=attention measurement,
         * one thread per head) */
        openblas_set_num_threads(1);
        vit_forward_opt(s->model, s->optw, &s->opt, input, logits);
        break;
    default:
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "variant %s is not available",
                        vit_variant_name(s->opts.variant));
    }
    return VIT_OK;
}

vit_status vit_session_classify(vit_session *s, const vit_image *image, int32_t k,
                                vit_prediction *out, vit_error *err)
{
    if (!s || !image || !out)
        return vit_fail(err, VIT_ERR_ARG, "vit_session_classify: NULL argument");
    memset(out, 0, sizeof *out);
    const vit_model_info *i = &s->model->info;
    if (k < 1)
        k = 1;
    if (k > VIT_TOPK_MAX)
        k = VIT_TOPK_MAX;
    if (k > i->num_classes)
        k = i->num_classes;
    double t0 = vit_now_ms();
    vit_status st = vit_preprocess(image, &i->pre, s->input, err);
    if (st != VIT_OK)
        return st;
    double t1 = vit_now_ms();
    st = vit_session_run(s, s->input, s->logits, err);
    if (st != VIT_OK)
        return st;
    double t2 = vit_now_ms();
    vit_softmax(s->logits, s->probs, i->num_classes);
    out->k = k;
    vit_topk(s->probs, i->num_classes, k, out->index);
    for (int32_t j = 0; j < k; j++)
        out->prob[j] = s->probs[out->index[j]];
    out->timing.preprocess_ms = t1 - t0;
    out->timing.forward_ms = t2 - t1;
    return VIT_OK;
}

const float *vit_session_logits(const vit_session *s)
{
    return s ? s->logits : NULL;
}

const float *vit_session_probs(const vit_session *s)
{
    return s ? s->probs : NULL;
}
