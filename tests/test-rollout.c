/* test-rollout.c — attention rollout (vit_session_rollout): fp32's against PyTorch's on every
 * fixture model (tools/make_model_fixtures.py: rollout.f32, forward hooks on the same
 * timm-layout model, float64) to VIT_TOL_FP32 on each fp32 back end; int8, optimized (every
 * kernel this CPU has, fp32 and bf16 attention) and a lite .vitl near fp32's; the optimized
 * variant's the same for any thread count; none without the option; refused with the unfused
 * attention. The correlation over Fashion-MNIST is tests/test-eval.sh's (vitlens-cli eval
 * --explain). */
#include "test-cases.h"
#include "vit.h"
#include "vitlens-engine-env.h"

#include <math.h>
#include <unistd.h>

static const char *fixtures;

/* Tolerances against the fp32 reference (max |difference| over the grid, each max 1). int8
 * and optimized quantize the activations that make q and k: their probabilities move by a few
 * percent on these random tiny models. */
#define VIT_TOL_ROLLOUT_FP32 VIT_TOL_FP32
#define VIT_TOL_ROLLOUT_INT8 0.05f

static float max_diff(const float *a, const float *b, size_t n)
{
    float e = 0.0f;
    for (size_t k = 0; k < n; k++)
        e = fabsf(a[k] - b[k]) > e ? fabsf(a[k] - b[k]) : e;
    return e;
}

/* The rollout of `model` on `input` with opts (rollout on); a malloc'ed copy, or NULL. */
static float *run_rollout(const vit_model *model, vit_session_opts opts, const float *input,
                          int32_t *gh, int32_t *gw)
{
    opts.rollout = 1;
    vit_error err;
    vit_session *s = NULL;
    *gh = *gw = 0;
    if (vit_session_new(model, &opts, &s, &err) != VIT_OK) {
        printf("     session: %s\n", err.msg);
        return NULL;
    }
    const vit_model_info *i = vit_model_get_info(model);
    float *logits = malloc((size_t)i->num_classes * sizeof(float)), *out = NULL;
    if (vit_session_run(s, input, logits, &err) == VIT_OK) {
        const float *g = vit_session_rollout(s, gh, gw);
        if (g) {
            out = malloc((size_t)*gh * *gw * sizeof(float));
            memcpy(out, g, (size_t)*gh * *gw * sizeof(float));
        }
    } else {
        printf("     run: %s\n", err.msg);
    }
    free(logits);
    vit_session_free(s);
    return out;
}

static void test_model(const vit_json *c)
{
    const char *dir = vit_json_string(c, "dir");
    const vit_json *roll = vit_json_get(c, "rollout");
    if (!dir || !roll)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s/model.safetensors", fixtures, dir);
    vit_error err;
    vit_model *model = NULL;
    test_check(vit_model_load(path, &model, &err) == VIT_OK, "/rollout/%s/load", dir);
    if (!model)
        return;
    const vit_model_info *i = vit_model_get_info(model);
    const int32_t G = i->img_size / i->patch_size;
    const vit_json *grid = vit_json_get(roll, "grid");
    test_check(grid && grid->count == 2 && (int32_t)grid->child->number == G &&
                   (int32_t)grid->child->next->number == G,
               "/rollout/%s/grid %dx%d as cases.json's", dir, G, G);
    snprintf(path, sizeof path, "%s/models/%s", fixtures, vit_json_string(roll, "file"));
    float *want = test_read_f32(path, (size_t)G * G);
    snprintf(path, sizeof path, "%s/models/%s/input.f32", fixtures, dir);
    float *input = test_read_f32(path, (size_t)i->in_chans * i->img_size * i->img_size);
    test_check(want && input, "/rollout/%s/golden files", dir);
    if (!want || !input)
        goto out;

    /* fp32 on each back end: the environment's (VIT_KERNEL), our GEMM, OpenBLAS */
    static const char *const fp32_kernels[] = {NULL, "avx2", "scalar"};
    for (size_t k = 0; k < sizeof fp32_kernels / sizeof fp32_kernels[0]; k++) {
        vit_session_opts o = vit_session_opts_default();
        if (k == 0)
            vitlens_session_opts_from_env(&o);
        o.variant = VIT_VARIANT_FP32;
        o.kernel = fp32_kernels[k] ? fp32_kernels[k] : o.kernel;
        int32_t gh, gw;
        float *got = run_rollout(model, o, input, &gh, &gw);
        float e = got && gh == G && gw == G ? max_diff(got, want, (size_t)G * G) : INFINITY;
        test_check(e <= VIT_TOL_ROLLOUT_FP32, "/rollout/%s/fp32-%s matches torch (max |diff| %.2g)",
                   dir, fp32_kernels[k] ? fp32_kernels[k] : "env", (double)e);
        free(got);
    }

    /* int8 and optimized near fp32's, on every kernel this CPU has, both attentions */
    for (int32_t v = VIT_VARIANT_INT8; v <= VIT_VARIANT_OPTIMIZED; v++) {
        if (!vit_model_supports(model, (vit_variant)v))
            continue;
        static const char *const kernels[] = {"scalar", "avx2", "avx512-vnni"};
        for (size_t k = 0; k < 3; k++)
            for (int att = 0; att < (v == VIT_VARIANT_OPTIMIZED ? 2 : 1); att++) {
                vit_session_opts o = vit_session_opts_default();
                o.variant = (vit_variant)v;
                o.kernel = kernels[k];
                o.attention = att ? VIT_ATTENTION_FP32 : VIT_ATTENTION_AUTO;
                int32_t gh, gw;
                float *got = run_rollout(model, o, input, &gh, &gw);
                float e = got && gh == G && gw == G ? max_diff(got, want, (size_t)G * G) : INFINITY;
                test_check(e <= VIT_TOL_ROLLOUT_INT8,
                           "/rollout/%s/%s-%s%s near torch's (max |diff| %.3g)", dir,
                           vit_variant_name((vit_variant)v), kernels[k], att ? "-fp32att" : "",
                           (double)e);
                free(got);
            }
    }

    /* the optimized variant: the same rollout on 1 and 2 threads, bit for bit */
    if (vit_model_supports(model, VIT_VARIANT_OPTIMIZED)) {
        vit_session_opts o = vit_session_opts_default();
        o.variant = VIT_VARIANT_OPTIMIZED;
        o.threads = 1;
        int32_t gh, gw;
        float *one = run_rollout(model, o, input, &gh, &gw);
        o.threads = 2;
        float *two = run_rollout(model, o, input, &gh, &gw);
        test_check(one && two && memcmp(one, two, (size_t)G * G * sizeof(float)) == 0,
                   "/rollout/%s/optimized the same on 1 and 2 threads", dir);
        free(one);
        free(two);
    }
out:
    free(want);
    free(input);
    vit_model_free(model);
}

/* Without the option: no rollout; with the unfused attention: refused; a lite file's
 * optimized rollout near the fp32 one. */
static void test_options(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/tiny-p16/model.safetensors", fixtures);
    vit_error err;
    vit_model *model = NULL;
    if (vit_model_load(path, &model, &err) != VIT_OK) {
        test_check(0, "/rollout/options/load: %s", err.msg);
        return;
    }
    const vit_model_info *i = vit_model_get_info(model);
    snprintf(path, sizeof path, "%s/models/tiny-p16/input.f32", fixtures);
    float *input = test_read_f32(path, (size_t)i->in_chans * i->img_size * i->img_size);
    float logits[16];
    for (int32_t v = 0; v < VIT_VARIANT_COUNT; v++) {
        vit_session_opts o = vit_session_opts_default();
        o.variant = (vit_variant)v;
        vit_session *s = NULL;
        int32_t gh = -1, gw = -1;
        int ok = vit_session_new(model, &o, &s, &err) == VIT_OK &&
                 vit_session_run(s, input, logits, &err) == VIT_OK &&
                 vit_session_rollout(s, &gh, &gw) == NULL && gh == 0 && gw == 0;
        test_check(ok, "/rollout/off/%s: no rollout without the option",
                   vit_variant_name((vit_variant)v));
        vit_session_free(s);
        o.rollout = 1;
        s = NULL;
        ok = vit_session_new(model, &o, &s, &err) == VIT_OK &&
             vit_session_rollout(s, &gh, &gw) == NULL && gh == 0;
        test_check(ok, "/rollout/before-run/%s: none before a run", vit_variant_name((vit_variant)v));
        vit_session_free(s);
    }
    vit_session_opts o = vit_session_opts_default();
    o.variant = VIT_VARIANT_OPTIMIZED;
    o.unfuse = VIT_UNFUSE_ATTENTION;
    o.rollout = 1;
    vit_session *s = NULL;
    vit_status st = vit_session_new(model, &o, &s, &err);
    test_check(st == VIT_ERR_UNSUPPORTED && !s && strstr(err.msg, "rollout"),
               "/rollout/unfused-attention refused (%s)", err.msg);

    /* the lite file */
    char tmp[] = "/tmp/test-rollout-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd >= 0)
        close(fd);
    vit_model *lite = NULL;
    int exported = fd >= 0 && vit_model_export_vitl(model, 0, tmp, &err) == VIT_OK &&
                   vit_model_load(tmp, &lite, &err) == VIT_OK;
    test_check(exported, "/rollout/lite/export and load");
    if (exported) {
        vit_session_opts f = vit_session_opts_default();
        int32_t gh, gw, lh, lw;
        float *ref = run_rollout(model, f, input, &gh, &gw);
        f.variant = VIT_VARIANT_OPTIMIZED;
        float *got = run_rollout(lite, f, input, &lh, &lw);
        float e = ref && got && lh == gh && lw == gw ? max_diff(got, ref, (size_t)gh * gw) : INFINITY;
        test_check(e <= VIT_TOL_ROLLOUT_INT8, "/rollout/lite near fp32's (max |diff| %.3g)",
                   (double)e);
        free(ref);
        free(got);
    }
    if (fd >= 0)
        unlink(tmp);
    vit_model_free(lite);
    free(input);
    vit_model_free(model);
}

int main(int argc, char **argv)
{
    fixtures = test_fixtures_dir(argc, argv, "test-rollout", "");
    if (!fixtures)
        return 2;
    vit_json *cases = test_load_cases(fixtures, "rollout");
    int count = 0;
    for (const vit_json *c = test_first_case(cases); c; c = c->next)
        if (vit_json_get(c, "rollout")) {
            test_model(c);
            count++;
        }
    test_check(count >= 5, "/rollout/count %d fixture models with a rollout golden", count);
    vit_json_free(cases);
    test_options();
    return test_done();
}
