/* test-reentrant.c — the engine used from several threads at once:
 *   /reentrant/sessions: one shared model per fixture (fresh, so the int8 and optimized weights
 *     are made on first use while four threads race for them), sessions of every supported
 *     variant (fp32, int8 and optimized, per-tensor and per-channel) made, run and freed on 4
 *     threads at once, each result compared with a single-threaded run made beforehand on
 *     another copy of the model: bit for bit for int8 and optimized, within 1e-6 for fp32;
 *     vit_session_classify on a decoded image the same way (preprocessing shares nothing);
 *   /reentrant/loading: 4 threads loading the same safetensors, .vitq and .vitl files at once,
 *     each model giving the reference result.
 * Usage: test-reentrant FIXTURES_DIR [ROUNDS]   (also under ThreadSanitizer, see .ci/run) */
#include "../engine/vit.h"
#include "test-util.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define THREADS 4
#define VIT_TOL_FP32_REENTRANT 1e-6f
#define INPUTS 2

static const char *fixtures;
static char tmp[256];
static int rounds = 5;

static const char *const model_names[] = {"tiny-p16", "tiny-p8-distilled", "gray-p4",
                                          "tiny-p4-f16"};
#define NMODELS (int)(sizeof model_names / sizeof model_names[0])

typedef struct {
    vit_variant variant;
    int per_channel;
    int threads; /* the session's own threads: 1, or 2 for the pool's workers */
} config;

static const config configs[] = {
    {VIT_VARIANT_FP32, 0, 1},      {VIT_VARIANT_FP32, 0, 2},      {VIT_VARIANT_INT8, 0, 1},
    {VIT_VARIANT_INT8, 0, 2},      {VIT_VARIANT_INT8, 1, 2},      {VIT_VARIANT_OPTIMIZED, 0, 1},
    {VIT_VARIANT_OPTIMIZED, 0, 2}, {VIT_VARIANT_OPTIMIZED, 1, 2},
};
#define NCONFIGS (int)(sizeof configs / sizeof configs[0])

typedef struct {
    char path[512];
    vit_model *shared;  /* the model the threads share */
    float *input[INPUTS];
    int32_t in_n, k;
    float *ref[NCONFIGS][INPUTS]; /* single-threaded results; NULL: variant not supported */
    float *ref_probs[NCONFIGS];   /* vit_session_classify on the image */
} fixture;

static fixture fx[NMODELS];
static vit_image image;
static atomic_int failures;

static void model_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/models/%s/model.safetensors", fixtures, name);
}

/* fn(opts) on `m` with input -> logits (num_classes floats). */
static vit_status run_once(const vit_model *m, const config *c, const float *input, float *logits,
                           vit_error *err)
{
    vit_session_opts o = vit_session_opts_default();
    o.variant = c->variant;
    o.per_channel = c->per_channel;
    o.threads = c->threads;
    vit_session *s = NULL;
    vit_status st = vit_session_new(m, &o, &s, err);
    if (st == VIT_OK)
        st = vit_session_run(s, input, logits, err);
    vit_session_free(s);
    return st;
}

static int same(const config *c, const float *a, const float *b, int32_t n, float *diff)
{
    *diff = 0;
    if (c->variant != VIT_VARIANT_FP32)
        return memcmp(a, b, (size_t)n * sizeof *a) == 0;
    int ok = 1;
    for (int32_t i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= VIT_TOL_FP32_REENTRANT)) /* NaN included */
            ok = 0;
        *diff = d > *diff || d != d ? d : *diff;
    }
    return ok;
}

static int setup(void)
{
    vit_error err = {0};
    char ipath[512];
    snprintf(ipath, sizeof ipath, "%s/models/images/grad-45x37.png", fixtures);
    if (vit_image_load(ipath, &image, &err) != VIT_OK) {
        test_check(0, "/reentrant/setup/image: %s", err.msg);
        return 0;
    }
    for (int i = 0; i < NMODELS; i++) {
        fixture *f = &fx[i];
        model_path(model_names[i], f->path, sizeof f->path);
        vit_model *ref = NULL;
        if (vit_model_load(f->path, &ref, &err) != VIT_OK ||
            vit_model_load(f->path, &f->shared, &err) != VIT_OK) {
            test_check(0, "/reentrant/setup/%s: %s", model_names[i], err.msg);
            vit_model_free(ref);
            return 0;
        }
        const vit_model_info *info = vit_model_get_info(ref);
        f->in_n = info->in_chans * info->img_size * info->img_size;
        f->k = info->num_classes;
        for (int j = 0; j < INPUTS; j++) {
            f->input[j] = malloc((size_t)f->in_n * sizeof(float));
            for (int32_t p = 0; p < f->in_n; p++)
                f->input[j][p] = sinf(0.37f * (float)p + (float)j) * 1.5f;
        }
        for (int c = 0; c < NCONFIGS; c++) {
            if (!vit_model_supports(ref, configs[c].variant))
                continue;
            for (int j = 0; j < INPUTS; j++) {
                f->ref[c][j] = malloc((size_t)f->k * sizeof(float));
                if (run_once(ref, &configs[c], f->input[j], f->ref[c][j], &err) != VIT_OK) {
                    test_check(0, "/reentrant/setup/%s/%s: %s", model_names[i],
                               vit_variant_name(configs[c].variant), err.msg);
                    return 0;
                }
            }
            vit_session_opts o = vit_session_opts_default();
            o.variant = configs[c].variant;
            o.per_channel = configs[c].per_channel;
            o.threads = configs[c].threads;
            vit_session *s = NULL;
            vit_prediction pred;
            if (vit_session_new(ref, &o, &s, &err) != VIT_OK ||
                vit_session_classify(s, &image, 3, &pred, &err) != VIT_OK) {
                test_check(0, "/reentrant/setup/%s/classify: %s", model_names[i], err.msg);
                vit_session_free(s);
                return 0;
            }
            f->ref_probs[c] = malloc((size_t)f->k * sizeof(float));
            memcpy(f->ref_probs[c], vit_session_probs(s), (size_t)f->k * sizeof(float));
            vit_session_free(s);
        }
        vit_model_free(ref);
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------------
 * 4 threads, shared models, every variant */

typedef struct {
    int id;
    int checks, fails;
    char first_failure[512];
} worker;

static void note(worker *w, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(worker *w, int ok, const char *fmt, ...)
{
    w->checks++;
    if (ok)
        return;
    if (!w->fails++) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->first_failure, sizeof w->first_failure, fmt, ap);
        va_end(ap);
    }
    atomic_fetch_add(&failures, 1);
}

static void *session_worker(void *arg)
{
    worker *w = arg;
    vit_error err = {0};
    float logits[64];
    for (int r = 0; r < rounds; r++) {
        /* each thread walks the (model, config) grid from its own offset, so that different
         * variants of one model run at the same moment */
        for (int step = 0; step < NMODELS * NCONFIGS; step++) {
            int idx = (step + w->id * 7 + r * 3) % (NMODELS * NCONFIGS);
            fixture *f = &fx[idx / NCONFIGS];
            int c = idx % NCONFIGS;
            if (!f->ref[c][0])
                continue;
            vit_session_opts o = vit_session_opts_default();
            o.variant = configs[c].variant;
            o.per_channel = configs[c].per_channel;
            o.threads = configs[c].threads;
            vit_session *s = NULL;
            if (vit_session_new(f->shared, &o, &s, &err) != VIT_OK) {
                note(w, 0, "%s/%s: session: %s", f->path, vit_variant_name(o.variant), err.msg);
                continue;
            }
            for (int j = 0; j < INPUTS; j++) {
                float d = 0;
                vit_status st = vit_session_run(s, f->input[j], logits, &err);
                int ok = st == VIT_OK && same(&configs[c], logits, f->ref[c][j], f->k, &d);
                note(w, ok, "%s %s pc%d t%d input %d: differs from the single-threaded run (%g; "
                     "logit 0 %.9g vs %.9g; %s)",
                     model_names[idx / NCONFIGS], vit_variant_name(o.variant), o.per_channel,
                     o.threads, j, (double)d, (double)logits[0], (double)f->ref[c][j][0],
                     st == VIT_OK ? "ran" : err.msg);
            }
            vit_prediction pred;
            float d = 0;
            vit_status st = vit_session_classify(s, &image, 3, &pred, &err);
            int ok = st == VIT_OK &&
                     same(&configs[c], vit_session_probs(s), f->ref_probs[c], f->k, &d);
            note(w, ok, "%s %s classify: differs from the single-threaded run (%g)",
                 model_names[idx / NCONFIGS], vit_variant_name(o.variant), (double)d);
            vit_session_free(s);
        }
    }
    return NULL;
}

static void test_sessions(void)
{
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].id = i;
        pthread_create(&t[i], NULL, session_worker, &w[i]);
    }
    int checks = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        checks += w[i].checks;
        test_check(w[i].fails == 0, "/reentrant/sessions/thread%d: %d results, %d differ%s%s", i,
                   w[i].checks, w[i].fails, w[i].fails ? "; first: " : "", w[i].first_failure);
    }
    test_check(checks > 0, "/reentrant/sessions/ran (%d results on %d threads)", checks, THREADS);
}

/* ---------------------------------------------------------------------------------------------
 * 4 threads loading the same files */

typedef struct {
    const char *path;
    int fixture;
    int config; /* the reference to compare with */
} load_case;

static load_case loads[8];
static int nloads;

static void *load_worker(void *arg)
{
    worker *w = arg;
    vit_error err = {0};
    float logits[64];
    for (int r = 0; r < rounds * 2; r++) {
        for (int k = 0; k < nloads; k++) {
            const load_case *lc = &loads[(k + w->id) % nloads];
            const fixture *f = &fx[lc->fixture];
            if (!f->ref[lc->config][0])
                continue; /* the variant is not supported for that model */
            vit_model *m = NULL;
            vit_status st = vit_model_load(lc->path, &m, &err);
            note(w, st == VIT_OK, "load %s: %s", lc->path, err.msg);
            if (st != VIT_OK)
                continue;
            float d = 0;
            st = run_once(m, &configs[lc->config], f->input[0], logits, &err);
            int ok = st == VIT_OK &&
                     same(&configs[lc->config], logits, f->ref[lc->config][0], f->k, &d);
            note(w, ok, "%s: result differs from the reference (%g) %s", lc->path, (double)d,
                 err.msg);
            vit_model_free(m);
        }
    }
    return NULL;
}

static void test_loading(void)
{
    /* the files: safetensors (+ config.json), and .vitq / .vitl exports of tiny-p16 */
    static char vitq[300], vitq_pc[300], vitl[300];
    vit_error err = {0};
    snprintf(vitq, sizeof vitq, "%s/m.vitq", tmp);
    snprintf(vitq_pc, sizeof vitq_pc, "%s/m-pc.vitq", tmp);
    snprintf(vitl, sizeof vitl, "%s/m.vitl", tmp);
    vit_model *m = NULL;
    if (vit_model_load(fx[0].path, &m, &err) != VIT_OK ||
        vit_model_export_vitq(m, 0, vitq, &err) != VIT_OK ||
        vit_model_export_vitq(m, 1, vitq_pc, &err) != VIT_OK ||
        vit_model_export_vitl(m, 0, vitl, &err) != VIT_OK) {
        test_check(0, "/reentrant/loading/export: %s", err.msg);
        vit_model_free(m);
        return;
    }
    vit_model_free(m);
    nloads = 0;
    loads[nloads++] = (load_case){fx[0].path, 0, 0};         /* fp32, 1 thread */
    loads[nloads++] = (load_case){fx[1].path, 1, 3};         /* int8, 2 threads */
    loads[nloads++] = (load_case){fx[2].path, 2, 6};         /* optimized */
    loads[nloads++] = (load_case){vitq, 0, 3};               /* .vitq: int8 as exported */
    loads[nloads++] = (load_case){vitq_pc, 0, 4};
    loads[nloads++] = (load_case){vitl, 0, 6};               /* .vitl: the optimized variant */

    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].id = i;
        pthread_create(&t[i], NULL, load_worker, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        test_check(w[i].fails == 0, "/reentrant/loading/thread%d: %d loads and runs, %d failed%s%s",
                   i, w[i].checks / 2, w[i].fails, w[i].fails ? "; first: " : "",
                   w[i].first_failure);
    }
    unlink(vitq);
    unlink(vitq_pc);
    unlink(vitl);
}

int main(int argc, char **argv)
{
    fixtures = test_fixtures_dir(argc, argv, "test-reentrant", "[ROUNDS]");
    if (!fixtures)
        return 2;
    if (argc > 2)
        rounds = atoi(argv[2]) > 0 ? atoi(argv[2]) : rounds;
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%s/vitlens-reentrant-XXXXXX", tmpdir);
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 2;
    }
    if (setup()) {
        /* the .vitq/.vitl exports need the references; the sessions test needs fresh models */
        test_loading();
        test_sessions();
    }
    for (int i = 0; i < NMODELS; i++) {
        vit_model_free(fx[i].shared);
        for (int j = 0; j < INPUTS; j++)
            free(fx[i].input[j]);
        for (int c = 0; c < NCONFIGS; c++) {
            for (int j = 0; j < INPUTS; j++)
                free(fx[i].ref[c][j]);
            free(fx[i].ref_probs[c]);
        }
    }
    vit_image_free(&image);
    rmdir(tmp);
    return test_done();
}
