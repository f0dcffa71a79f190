/* test-soak.c — a long mixed run that must not grow: thousands of inferences on the fixture
 * models (safetensors, and their .vitq and .vitl exports) across every variant (fp32, int8 and
 * optimized, per-tensor and per-channel, 1 and 2 threads), switching models and variants all
 * the time, loading and freeing models, making and freeing sessions, decoding images, replacing
 * labels. After a warm-up (two full cycles, so every allocator size class and every thread
 * stack has been seen), the resident set (/proc/self/statm) may grow by at most 2 MB and the
 * number of open file descriptors not at all.
 *
 * Usage: test-soak FIXTURES_DIR        runs for VITLENS_SOAK_SECONDS (default 20; 5 under a
 *                                      sanitizer, where the RSS bound is reported, not checked:
 *                                      ASan's quarantine and TSan's shadow grow by design) */
#include "../engine/vit.h"
#include "test-util.h"

#include <dirent.h>
#include <unistd.h>

#define RSS_GROWTH_MAX (2L << 20)

static const char *fixtures;
static char tmp[256];

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own */
}

typedef struct {
    vit_variant variant;
    int per_channel, threads;
} config;

static const config configs[] = {
    {VIT_VARIANT_FP32, 0, 1},      {VIT_VARIANT_FP32, 0, 2},      {VIT_VARIANT_INT8, 0, 1},
    {VIT_VARIANT_INT8, 1, 2},      {VIT_VARIANT_OPTIMIZED, 0, 2}, {VIT_VARIANT_OPTIMIZED, 1, 1},
};
#define NCONFIGS (int)(sizeof configs / sizeof configs[0])

static char model_files[8][512];
static int nmodels;
static const char *images[] = {"models/images/grad-45x37.png", "models/images/blobs-20x50.png",
                               "images/jpeg_444_89x57.jpg", "images/palette_50x35.png"};
#define NIMAGES (int)(sizeof images / sizeof images[0])

static long inferences, loads, sessions, failures_seen;
static char first_failure[2048];

static void fail(const char *what, const vit_error *err)
{
    if (!failures_seen++)
        snprintf(first_failure, sizeof first_failure, "%.300s: %.600s", what, err->msg);
}

/* One cycle: every model file, loaded fresh, every supported variant, a few inferences each. */
static void cycle(int round)
{
    vit_error err = {0};
    float input[3 * 32 * 32], logits[64];
    for (int m = 0; m < nmodels; m++) {
        vit_model *model = NULL;
        if (vit_model_load(model_files[(m + round) % nmodels], &model, &err) != VIT_OK) {
            fail(model_files[m], &err);
            continue;
        }
        loads++;
        const vit_model_info *info = vit_model_get_info(model);
        char labels[1024] = "";
        for (int32_t k = 0; k < info->num_classes && strlen(labels) < 900; k++)
            snprintf(labels + strlen(labels), sizeof labels - strlen(labels), "class %d/%d\n", k,
                     round);
        if (vit_model_set_labels(model, labels, &err) != VIT_OK)
            fail("labels", &err);
        int32_t in_n = info->in_chans * info->img_size * info->img_size;
        for (int32_t i = 0; i < in_n && i < (int32_t)(sizeof input / sizeof input[0]); i++)
            input[i] = (float)((i * 31 + round) % 17) / 8.0f - 1.0f;
        for (int c = 0; c < NCONFIGS; c++) {
            const config *cf = &configs[(c + round) % NCONFIGS];
            if (!vit_model_supports(model, cf->variant))
                continue;
            vit_session_opts o = vit_session_opts_default();
            o.variant = cf->variant;
            o.per_channel = cf->per_channel;
            o.threads = cf->threads;
            vit_session *s = NULL;
            if (vit_session_new(model, &o, &s, &err) != VIT_OK) {
                fail("session", &err);
                continue;
            }
            sessions++;
            for (int k = 0; k < 4; k++) {
                if (vit_session_run(s, input, logits, &err) != VIT_OK)
                    fail("run", &err);
                inferences++;
            }
            for (int k = 0; k < 2; k++) {
                char path[600];
                snprintf(path, sizeof path, "%s/%s", fixtures, images[(k + c + round) % NIMAGES]);
                vit_image img;
                vit_prediction pred;
                if (vit_image_load(path, &img, &err) != VIT_OK) {
                    fail(path, &err);
                    continue;
                }
                if (vit_session_classify(s, &img, 3, &pred, &err) != VIT_OK)
                    fail("classify", &err);
                else if (!vit_model_label(model, pred.index[0]))
                    fail("label", &err);
                inferences++;
                vit_image_free(&img);
            }
            vit_session_free(s);
        }
        vit_model_free(model);
    }
}

int main(int argc, char **argv)
{
    fixtures = test_fixtures_dir(argc, argv, "test-soak", "");
    if (!fixtures)
        return 2;
    double seconds = UNDER_SANITIZER ? 5 : 20;
    if (getenv("VITLENS_SOAK_SECONDS"))
        seconds = atof(getenv("VITLENS_SOAK_SECONDS"));
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%s/vitlens-soak-XXXXXX", tmpdir);
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 2;
    }
    long rss_start = rss_bytes();
    int fds_start = open_fds();

    /* the models: four safetensors fixtures and .vitq / .vitl exports of two of them */
    static const char *const names[] = {"tiny-p16", "tiny-p8-distilled", "gray-p4", "tiny-p4-f16"};
    for (int i = 0; i < 4; i++)
        snprintf(model_files[nmodels++], sizeof model_files[0], "%s/models/%s/model.safetensors",
                 fixtures, names[i]);
    for (int i = 0; i < 2; i++) {
        vit_model *m = NULL;
        vit_error err = {0};
        char q[300], l[300];
        snprintf(q, sizeof q, "%s/%s.vitq", tmp, names[i]);
        snprintf(l, sizeof l, "%s/%s.vitl", tmp, names[i]);
        int ok = vit_model_load(model_files[i], &m, &err) == VIT_OK &&
                 vit_model_export_vitq(m, i, q, &err) == VIT_OK &&
                 vit_model_export_vitl(m, !i, l, &err) == VIT_OK;
        test_check(ok, "/soak/setup/export-%s (%s)", names[i], err.msg);
        vit_model_free(m);
        snprintf(model_files[nmodels++], sizeof model_files[0], "%s", q);
        snprintf(model_files[nmodels++], sizeof model_files[0], "%s", l);
    }

    /* warm-up */
    int round = 0;
    double t0 = vit_now_ms();
    for (; round < 2; round++)
        cycle(round);
    long rss_warm = rss_bytes(), rss_max = rss_warm;
    int fds_warm = open_fds();
    long inf_warm = inferences;
    double t_warm = vit_now_ms();

    while (vit_now_ms() - t0 < seconds * 1000.0) {
        cycle(round++);
        long r = rss_bytes();
        rss_max = r > rss_max ? r : rss_max;
    }
    long rss_end = rss_bytes();
    int fds_end = open_fds();
    double t_end = vit_now_ms();

    printf("# %.1f s, %d cycles, %ld inferences (%ld after warm-up, %.0f/s), %ld model loads, "
           "%ld sessions\n",
           (t_end - t0) / 1000.0, round, inferences, inferences - inf_warm,
           (double)(inferences - inf_warm) / ((t_end - t_warm) / 1000.0), loads, sessions);
    printf("# RSS: start %.1f MB, after warm-up %.1f MB, end %.1f MB, max %.1f MB: growth %+.0f kB "
           "(limit %ld kB%s)\n",
           rss_start / 1048576.0, rss_warm / 1048576.0, rss_end / 1048576.0,
           rss_max / 1048576.0, (rss_max - rss_warm) / 1024.0, RSS_GROWTH_MAX / 1024,
           UNDER_SANITIZER ? ", not checked under a sanitizer" : "");
    printf("# open fds: start %d, after warm-up %d, end %d\n", fds_start, fds_warm, fds_end);

    test_check(failures_seen == 0, "/soak/no-errors (%ld; first: %s)", failures_seen,
               first_failure);
    test_check(inferences >= 2000 || UNDER_SANITIZER, "/soak/ran-thousands (%ld inferences)",
               inferences);
    if (!UNDER_SANITIZER)
        test_check(rss_max - rss_warm <= RSS_GROWTH_MAX,
                   "/soak/rss-growth-under-2MB (%+ld kB after warm-up)",
                   (rss_max - rss_warm) / 1024);
    test_check(fds_end == fds_warm && fds_end == fds_start, "/soak/no-fd-growth (%d -> %d -> %d)",
               fds_start, fds_warm, fds_end);

    for (int i = 4; i < nmodels; i++)
        unlink(model_files[i]);
    rmdir(tmp);
    return test_done();
}
