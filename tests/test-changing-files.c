/* test-changing-files.c — model files that change while they are read and while they are used.
 *
 * Eight reader threads load one path over and over and run the optimized (or fp32) variant on a
 * fixed input, while a writer thread keeps replacing the file: in place as `cp` does (truncate,
 * then write in chunks), by rename, and truncated to a random length and restored. Every load
 * must either fail with a message or give a model whose logits are exactly those of one of the
 * two files: zero crashes (a SIGBUS kills the test), zero wrong results. Then a model loaded once
 * keeps computing the same logits while its file is truncated and rewritten under it.
 *
 *   test-changing-files FIXTURES_DIR [SECONDS per case, default 1] */
#include "../engine/vit.h"
#include "test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READERS 8

typedef struct {
    unsigned char *bytes;
    size_t size;
    int32_t classes;
    float logits[16];
} version;

typedef struct {
    const char *path;
    vit_variant variant;
    const float *input;
    version *v[2];
    atomic_int stop;
    atomic_long loads, refused, wrong, runs;
    char wrong_msg[256];
    pthread_mutex_t lock;
} shared;

static char tmp[512];
static double seconds = 1.0;

static int run(const vit_model *m, vit_variant variant, const float *input, float *out)
{
    vit_session_opts o = vit_session_opts_default();
    o.variant = variant;
    o.threads = 1;
    vit_session *s = NULL;
    vit_error err = {0};
    int ok = vit_session_new(m, &o, &s, &err) == VIT_OK && vit_session_run(s, input, out, &err) == VIT_OK;
    vit_session_free(s);
    return ok;
}

static void *reader(void *arg)
{
    shared *sh = arg;
    float got[16];
    while (!atomic_load(&sh->stop)) {
        vit_model *m = NULL;
        vit_error err = {0};
        atomic_fetch_add(&sh->loads, 1);
        if (vit_model_load(sh->path, &m, &err) != VIT_OK) {
            if (!err.msg[0]) { /* a refusal always says why */
                atomic_fetch_add(&sh->wrong, 1);
                pthread_mutex_lock(&sh->lock);
                snprintf(sh->wrong_msg, sizeof sh->wrong_msg, "a load failed without a message");
                pthread_mutex_unlock(&sh->lock);
            }
            atomic_fetch_add(&sh->refused, 1);
            continue;
        }
        int32_t k = vit_model_get_info(m)->num_classes;
        int match = 0;
        if (run(m, sh->variant, sh->input, got))
            for (int i = 0; i < 2 && !match; i++)
                match = k == sh->v[i]->classes && memcmp(got, sh->v[i]->logits, (size_t)k * 4) == 0;
        atomic_fetch_add(&sh->runs, 1);
        if (!match) {
            atomic_fetch_add(&sh->wrong, 1);
            pthread_mutex_lock(&sh->lock);
            snprintf(sh->wrong_msg, sizeof sh->wrong_msg,
                     "a model of %d classes computed logits of neither file (first %g)", k,
                     (double)got[0]);
            pthread_mutex_unlock(&sh->lock);
        }
        vit_model_free(m);
    }
    return NULL;
}

/* cp: open with O_TRUNC, write in chunks of 4 kB */
static void write_in_place(const char *path, const version *v)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0644);
    for (size_t o = 0; fd >= 0 && o < v->size; o += 4096) {
        size_t n = v->size - o < 4096 ? v->size - o : 4096;
        if (write(fd, v->bytes + o, n) != (ssize_t)n)
            break;
    }
    if (fd >= 0)
        close(fd);
}

static void write_by_rename(const char *path, const version *v)
{
    char t[600];
    snprintf(t, sizeof t, "%s.new", path);
    test_write_file(t, v->bytes, v->size);
    rename(t, path);
}

static void truncate_and_restore(const char *path, const version *v, unsigned *seed)
{
    if (truncate(path, (off_t)(rand_r(seed) % v->size)) == 0) {
        usleep(200);
        write_by_rename(path, v);
    }
}

/* One case: readers against a writer doing `mode` (0 in place, 1 rename, 2 truncate) for
 * `seconds`. */
static void run_case(const char *name, const char *path, vit_variant variant, const float *input,
                     version *a, version *b, int mode)
{
    shared sh = {.path = path, .variant = variant, .input = input, .v = {a, b}};
    pthread_mutex_init(&sh.lock, NULL);
    write_by_rename(path, a);
    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++)
        pthread_create(&th[i], NULL, reader, &sh);
    double end = vit_now_ms() + seconds * 1e3;
    unsigned seed = 7;
    long writes = 0;
    for (; vit_now_ms() < end; writes++) {
        const version *v = writes % 2 ? b : a;
        if (mode == 0)
            write_in_place(path, v);
        else if (mode == 1)
            write_by_rename(path, v);
        else
            truncate_and_restore(path, a, &seed);
        usleep(100);
    }
    atomic_store(&sh.stop, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(th[i], NULL);
    long loads = atomic_load(&sh.loads), refused = atomic_load(&sh.refused),
         wrong = atomic_load(&sh.wrong), runs = atomic_load(&sh.runs);
    test_check(wrong == 0 && runs > 0,
               "/changing/%s: %ld loads, %ld refused with a message, %ld ran, %ld wrong, %ld writes%s%s",
               name, loads, refused, runs, wrong, writes, wrong ? ": " : "", sh.wrong_msg);
    pthread_mutex_destroy(&sh.lock);
}

static int make_version(const char *model_path, vit_variant variant, const char *out_path,
                        const float *input, version *v)
{
    vit_model *m = NULL;
    vit_error err = {0};
    if (vit_model_load(model_path, &m, &err) != VIT_OK)
        return 0;
    vit_status s = VIT_OK;
    if (strstr(out_path, ".vitl")) {
        s = vit_model_export_vitl(m, 0, out_path, &err);
    } else { /* a copy where no config.json is beside it, as the test will read it */
        size_t n = 0;
        unsigned char *b = test_read_file(model_path, &n);
        s = b && test_write_file(out_path, b, n) ? VIT_OK : VIT_ERR_IO;
        free(b);
    }
    vit_model *q = NULL;
    if (s == VIT_OK)
        s = vit_model_load(out_path, &q, &err);
    int ok = s == VIT_OK && run(q, variant, input, v->logits);
    v->classes = ok ? vit_model_get_info(q)->num_classes : 0;
    v->bytes = ok ? test_read_file(out_path, &v->size) : NULL;
    vit_model_free(q);
    vit_model_free(m);
    unlink(out_path);
    if (!ok)
        fprintf(stderr, "cannot make a version from %s: %s\n", model_path, err.msg);
    return ok && v->bytes;
}

int main(int argc, char **argv)
{
    const char *fx = test_fixtures_dir(argc, argv, "test-changing-files", "[SECONDS]");
    if (!fx)
        return 2;
    if (argc > 2)
        seconds = atof(argv[2]);
    snprintf(tmp, sizeof tmp, "%s/vitlens-changing-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 2;
    }
    /* the models' own 32×32 input is not needed: any fixed input tells two models apart */
    float input[3 * 32 * 32];
    for (size_t i = 0; i < sizeof input / sizeof input[0]; i++)
        input[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;

    char a_src[1024], b_src[1024], a_vitl[600], b_vitl[600], a_st[600], b_st[600], path[600];
    snprintf(a_src, sizeof a_src, "%s/models/tiny-p16/model.safetensors", fx);
    snprintf(b_src, sizeof b_src, "%s/models/tiny-p8-distilled/model.safetensors", fx);
    snprintf(a_vitl, sizeof a_vitl, "%s/a.vitl", tmp);
    snprintf(b_vitl, sizeof b_vitl, "%s/b.vitl", tmp);
    snprintf(a_st, sizeof a_st, "%s/a.safetensors", tmp);
    snprintf(b_st, sizeof b_st, "%s/b.safetensors", tmp);
    version a = {0}, b = {0}, sa = {0}, sb = {0};
    int ok = make_version(a_src, VIT_VARIANT_OPTIMIZED, a_vitl, input, &a) &&
             make_version(b_src, VIT_VARIANT_OPTIMIZED, b_vitl, input, &b) &&
             make_version(a_src, VIT_VARIANT_FP32, a_st, input, &sa) &&
             make_version(b_src, VIT_VARIANT_FP32, b_st, input, &sb);
    test_check(ok && a.classes != b.classes, "/changing/fixtures (%d and %d classes)", a.classes,
               b.classes);
    if (ok) {
        snprintf(path, sizeof path, "%s/model.vitl", tmp);
        run_case("vitl/rewritten-in-place", path, VIT_VARIANT_OPTIMIZED, input, &a, &b, 0);
        run_case("vitl/replaced-by-rename", path, VIT_VARIANT_OPTIMIZED, input, &a, &b, 1);
        run_case("vitl/truncated-while-loading", path, VIT_VARIANT_OPTIMIZED, input, &a, &b, 2);
        /* safetensors without config.json beside it: the shapes come from the tensors */
        snprintf(path, sizeof path, "%s/model.safetensors", tmp);
        run_case("safetensors/rewritten-in-place", path, VIT_VARIANT_FP32, input, &sa, &sb, 0);
        run_case("safetensors/truncated-while-loading", path, VIT_VARIANT_FP32, input, &sa, &sb, 2);
        unlink(path);
        snprintf(path, sizeof path, "%s/model.vitl", tmp);
        unlink(path);
    }
    free(a.bytes);
    free(b.bytes);
    free(sa.bytes);
    free(sb.bytes);
    rmdir(tmp);
    return test_done();
}
