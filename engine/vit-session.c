/* vit-session.c — sessions: the plan (variant, threads, kernel) and every buffer for running one
 * model, made once at vit_session_new so that a forward pass never allocates. The variant's
 * work is its backend's (vit-backend.h), chosen here once. */
#include "vit-backend.h"
#include "vit-opt.h"

#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static int32_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 1024 ? (int32_t)n : 1;
}

static const vit_backend *const backends[VIT_VARIANT_COUNT] = {
    [VIT_VARIANT_FP32] = &vit_backend_fp32,
    [VIT_VARIANT_INT8] = &vit_backend_int8,
    [VIT_VARIANT_OPTIMIZED] = &vit_backend_opt,
};

/* The rollout buffers (opts.rollout), before the backend's init, which hands roll_att to its
 * forward. */
static vit_status rollout_new(vit_session *s, vit_error *err)
{
    const vit_model_info *i = &s->model->info;
    if (s->opts.variant == VIT_VARIANT_OPTIMIZED && (s->opts.unfuse & VIT_UNFUSE_ATTENTION))
        return vit_fail(err, VIT_ERR_UNSUPPORTED,
                        "the attention rollout needs the fused attention (unfuse 0x%x)",
                        (unsigned)s->opts.unfuse);
    /* the optimized variant keeps its head means in bf16: its rollout is compared with fp32's
     * (a correlation), not with torch's to 1e-4, and its attention is in bf16 already */
    s->roll_bf16 = s->opts.variant == VIT_VARIANT_OPTIMIZED;
    size_t TT, bytes;
    if (!vit_mul_size((size_t)i->num_tokens, (size_t)i->num_tokens, &TT) ||
        !vit_mul_size(TT, (size_t)i->depth * (s->roll_bf16 ? sizeof(uint16_t) : sizeof(float)),
                      &bytes))
        return vit_fail(err, VIT_ERR_LIMIT, "%s: the rollout buffer's size overflows", i->name);
    s->roll_att = vit_alloc(bytes);
    s->roll_row = vit_alloc(2 * (size_t)i->num_tokens * sizeof(float));
    s->roll_grid = vit_alloc((size_t)i->num_patches * sizeof(float));
    if (!s->roll_att || !s->roll_row || !s->roll_grid)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory for the rollout buffer (%zu bytes)",
                        i->name, bytes);
    memset(s->roll_att, 0, bytes);
    return VIT_OK;
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
    s->backend = backends[o.variant];
    const vit_model_info *i = &model->info;
    size_t in = (size_t)i->in_chans * i->img_size * i->img_size;
    s->input = vit_alloc(in * sizeof(float));
    s->logits = vit_alloc((size_t)i->num_classes * sizeof(float));
    s->probs = vit_alloc((size_t)i->num_classes * sizeof(float));
    vit_status st = VIT_OK;
    if (!s->input || !s->logits || !s->probs)
        st = vit_fail(err, VIT_ERR_NOMEM, "out of memory for session buffers");
    if (st == VIT_OK && o.rollout)
        st = rollout_new(s, err);
    if (st == VIT_OK && o.profile) {
        s->prof = calloc(1, sizeof *s->prof);
        if (!s->prof)
            st = vit_fail(err, VIT_ERR_NOMEM, "out of memory for a session's profile");
        else {
            s->prof->clock = o.profile;
            vit_prof_count_ops(s->prof, i);
        }
    }
    if (st == VIT_OK)
        st = s->backend->init(s, err);
    if (st != VIT_OK) {
        vit_session_free(s);
        return st;
    }
    *out = s;
    return VIT_OK;
}

/* opts.profile: the mean per run of each class, at INFO (VIT_OPT_PROFILE=1 bench --verbose) */
static void log_profile(const vit_session *s)
{
    if (!s->prof || s->prof->stats.runs < 1)
        return;
    const vit_profile_stats *st = &s->prof->stats;
    char line[512];
    int n = snprintf(line, sizeof line, "%s, %d threads, mean of %d runs: %.3f ms:",
                     vit_variant_name(s->opts.variant), (int)s->threads, (int)st->runs,
                     st->total_forward_ms / st->runs);
    for (int k = 0; k < VIT_OP_COUNT && n > 0 && (size_t)n < sizeof line; k++)
        n += snprintf(line + n, sizeof line - (size_t)n, " %s %.3f", vit_op_name(k),
                      st->total_ms[k] / st->runs);
    vit_log(VIT_LOG_INFO, "%s", line);
}

void vit_session_free(vit_session *s)
{
    if (!s)
        return;
    s->backend->free(s);
    log_profile(s);
    free(s->prof);
    vit_free(s->roll_att);
    vit_free(s->roll_row);
    vit_free(s->roll_grid);
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
    return s ? s->backend->kernel(s) : "openblas";
}

int32_t vit_session_threads(const vit_session *s)
{
    return s ? s->threads : 0;
}

vit_status vit_session_profile(const vit_session *s, vit_profile_stats *out, vit_error *err)
{
    if (!s || !out)
        return vit_fail(err, VIT_ERR_ARG, "vit_session_profile: NULL argument");
    if (!s->prof)
        return vit_fail(err, VIT_ERR_ARG, "vit_session_profile: the session has no profile");
    *out = s->prof->stats;
    return VIT_OK;
}

vit_status vit_session_run(vit_session *s, const float *input, float *logits, vit_error *err)
{
    if (!s || !input || !logits)
        return vit_fail(err, VIT_ERR_ARG, "vit_session_run: NULL argument");
    s->roll_ready = 0;
    s->roll_r = NULL;
    if (s->prof)
        vit_prof_begin(s->prof);
    vit_status st = s->backend->forward(s, input, logits, err);
    if (s->prof)
        vit_prof_end(s->prof);
    /* No silent wrong answer: finite weights can still overflow (1e30 everywhere), and a NaN
     * logit would come out of softmax as a class with "nan%" or, through int8's clamping, as a
     * confident answer. Checking K values costs nothing next to the forward. */
    for (int32_t c = 0; st == VIT_OK && c < s->model->info.num_classes; c++)
        if (!isfinite(logits[c]))
            st = vit_fail(err, VIT_ERR_FORMAT,
                          "%s: the %s forward pass gave a NaN or infinite logit (class %d): the "
                          "weights or the input are out of range",
                          s->model->info.name, vit_variant_name(s->opts.variant), c);
    // rollout: the blocks' head means, multiplied from the last block down (vit-rollout.c;
    // the optimized variant's forward makes the row beside its last GEMMs), then the grid
    if (st == VIT_OK && s->roll_att) {
        const vit_model_info *i = &s->model->info;
        const float *r = s->roll_r;
        if (!r)
            r = vit_rollout_row(s->roll_att,
                                s->roll_bf16 ? vit_opt_ops_for(s->kernel)->roll_gemv : NULL,
                                i->depth, i->num_tokens, 1 + i->distilled, s->roll_row);
        vit_rollout_normalize(r, i->num_tokens, 1 + i->distilled, s->roll_grid);
        s->roll_ready = 1;
    }
    return st;
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

const float *vit_session_rollout(const vit_session *s, int32_t *grid_h, int32_t *grid_w)
{
    int32_t g = s && s->roll_ready ? s->model->info.img_size / s->model->info.patch_size : 0;
    if (grid_h)
        *grid_h = g;
    if (grid_w)
        *grid_w = g;
    return g ? s->roll_grid : NULL;
}
