/* test-model.c — model loading and the fp32 forward pass:
 *   golden logits from PyTorch (tools/make_model_fixtures.py) for every fixture model,
 *   the transformers layout (labels, eps, preprocessing, the same network as its timm copy),
 *   every loader error with its message, and a fuzz-style pass over damaged files. */
#include "../engine/vit-json.h"
#include "../engine/vit-safetensors.h"
#include "../engine/vit-sgemm.h"
#include "test-cases.h"
#include "test-util.h"
#include "timm-layout.h"
#include "vitlens-engine-env.h"
#include "vitlens-data.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *fixtures;

/* ---------------------------------------------------------------------------------------------
 * A safetensors writer for synthetic models (the bad files are mutations of these) */

typedef struct {
    char name[64];
    char dtype[8];
    int rank;
    int64_t shape[4];
    size_t nbytes;
    unsigned char *data;
} tt;

typedef struct {
    tt t[64];
    int n;
    char extra_header[256]; /* spliced in before the closing brace (metadata etc.) */
} tt_list;

static uint32_t rng = 12345;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return ((rng >> 8) / 16777216.0f - 0.5f) * 0.2f;
}

static tt *add(tt_list *l, const char *name, int rank, int64_t a, int64_t b, int64_t c, int64_t d)
{
    tt *t = &l->t[l->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    strcpy(t->dtype, "F32");
    t->rank = rank;
    int64_t s[4] = {a, b, c, d}, n = 1;
    for (int i = 0; i < rank; i++) {
        t->shape[i] = s[i];
        n *= s[i];
    }
    t->nbytes = (size_t)n * 4;
    t->data = malloc(t->nbytes ? t->nbytes : 1);
    float *f = (float *)t->data;
    for (int64_t i = 0; i < n; i++)
        f[i] = frand() + (strstr(name, "norm") && strstr(name, "weight") ? 1.0f : 0.0f);
    return t;
}

/* D=64, patch 8, img 16 (4 patches), depth 2, hidden 128, K classes, 3 channels. */
static void synth_model_k(tt_list *l, int distilled, int K)
{
    memset(l, 0, sizeof *l);
    int D = 64, H = 128, T = 4 + 1 + distilled;
    add(l, "patch_embed.proj.weight", 4, D, 3, 8, 8);
    add(l, "patch_embed.proj.bias", 1, D, 0, 0, 0);
    add(l, "cls_token", 3, 1, 1, D, 0);
    if (distilled)
        add(l, "dist_token", 3, 1, 1, D, 0);
    add(l, "pos_embed", 3, 1, T, D, 0);
    for (int b = 0; b < 2; b++) {
        char k[64];
#define BL(leaf, rank, r, c)                                                                       \
    snprintf(k, sizeof k, "blocks.%d.%s", b, leaf);                                                \
    add(l, k, rank, r, c, 0, 0);
        TIMM_BLOCK_TENSORS(BL, D, H)
#undef BL
    }
    add(l, "norm.weight", 1, D, 0, 0, 0);
    add(l, "norm.bias", 1, D, 0, 0, 0);
    add(l, "head.weight", 2, K, D, 0, 0);
    add(l, "head.bias", 1, K, 0, 0, 0);
    if (distilled) {
        add(l, "head_dist.weight", 2, K, D, 0, 0);
        add(l, "head_dist.bias", 1, K, 0, 0, 0);
    }
}

static void synth_model(tt_list *l, int distilled)
{
    synth_model_k(l, distilled, 3);
}

static void free_list(tt_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->t[i].data);
    l->n = 0;
}

static tt *find(tt_list *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->t[i].name, name) == 0)
            return &l->t[i];
    return NULL;
}

static void drop(tt_list *l, const char *name)
{
    tt *t = find(l, name);
    free(t->data);
    *t = l->t[--l->n];
}

/* Serialize; offsets_override (if >= 0) replaces the begin of tensor `which`. */
static unsigned char *serialize(const tt_list *l, size_t *size, int which, long long begin_override,
                                long long end_override)
{
    char *h = malloc(1 << 16);
    size_t o = 0, off = 0;
    o += (size_t)sprintf(h + o, "{");
    for (int i = 0; i < l->n; i++) {
        const tt *t = &l->t[i];
        o += (size_t)sprintf(h + o, "%s\"%s\": {\"dtype\": \"%s\", \"shape\": [", i ? ", " : "",
                             t->name, t->dtype);
        for (int r = 0; r < t->rank; r++)
            o += (size_t)sprintf(h + o, "%s%lld", r ? ", " : "", (long long)t->shape[r]);
        long long b = (long long)off, e = (long long)(off + t->nbytes);
        if (i == which) {
            if (begin_override >= 0)
                b = begin_override;
            if (end_override >= 0)
                e = end_override;
        }
        o += (size_t)sprintf(h + o, "], \"data_offsets\": [%lld, %lld]}", b, e);
        off += t->nbytes;
    }
    o += (size_t)sprintf(h + o, "%s}", l->extra_header);
    while (o % 8)
        h[o++] = ' ';
    *size = 8 + o + off;
    unsigned char *buf = malloc(*size);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)o >> (8 * i));
    memcpy(buf + 8, h, o);
    size_t p = 8 + o;
    for (int i = 0; i < l->n; i++) {
        memcpy(buf + p, l->t[i].data, l->t[i].nbytes);
        p += l->t[i].nbytes;
    }
    free(h);
    return buf;
}

/* Load from memory and check the status and that the message contains `want`. */
static void expect_error(const unsigned char *buf, size_t size, const char *config,
                         vit_status want_status, const char *want, const char *check)
{
    vit_error err = {0};
    vit_model *m = NULL;
    vit_status s = vit_model_load_memory(buf, size, config, "bad.safetensors", &m, &err);
    test_check(s == want_status && m == NULL && strstr(err.msg, want) != NULL,
               "%s: status %d (want %d), message \"%s\"", check, s, want_status, err.msg);
    vit_model_free(m);
}

static void test_synthetic_errors(void)
{
    tt_list l;
    size_t size;
    unsigned char *buf;
    vit_error err = {0};
    vit_model *m = NULL;

    synth_model(&l, 0);
    buf = serialize(&l, &size, -1, -1, -1);
    vit_status s = vit_model_load_memory(buf, size, NULL, "good.safetensors", &m, &err);
    const vit_model_info *info = m ? vit_model_get_info(m) : NULL;
    test_check(s == VIT_OK && info && info->embed_dim == 64 && info->depth == 2 &&
                   info->patch_size == 8 && info->img_size == 16 && info->num_heads == 1 &&
                   info->mlp_hidden == 128 && info->num_classes == 3 && !info->distilled &&
                   info->pre.image_size == 16 && info->pre.resize_size == 18,
               "/model/infer/shapes-without-config (%s)", err.msg);
    vit_model_free(m);
    m = NULL;

    /* fuzz-style: every truncation of the header and of the data is refused cleanly */
    int bad = 0;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | buf[i];
    for (size_t cut = 0; cut < size; cut += (cut < 8 + hlen + 64 ? 1 : 97)) {
        unsigned char *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        if (vit_model_load_memory(copy, cut, NULL, "cut.safetensors", &m, &err) == VIT_OK ||
            m != NULL || !strstr(err.msg, "cut.safetensors"))
            bad++;
        vit_model_free(m);
        m = NULL;
        free(copy);
    }
    test_check(bad == 0, "/model/fuzz/truncate-every-header-byte (%d accepted)", bad);

    /* flip bytes in the header: either a clean error or a model that still loads */
    int crashes_would_show_under_asan = 0;
    uint32_t r = 99;
    for (int k = 0; k < 3000; k++) {
        unsigned char *copy = malloc(size);
        memcpy(copy, buf, size);
        for (int f = 0; f < 1 + k % 3; f++) {
            r = r * 1103515245u + 12345u;
            size_t at = (r >> 4) % (8 + hlen);
            r = r * 1103515245u + 12345u;
            copy[at] ^= (unsigned char)(1u << ((r >> 8) % 8));
        }
        s = vit_model_load_memory(copy, size, NULL, "flip.safetensors", &m, &err);
        if (s != VIT_OK && (m != NULL || !err.msg[0]))
            crashes_would_show_under_asan++;
        vit_model_free(m);
        m = NULL;
        free(copy);
    }
    test_check(crashes_would_show_under_asan == 0, "/model/fuzz/flip-header-bytes");
    free(buf);

    /* header length past the end of the file */
    buf = serialize(&l, &size, -1, -1, -1);
    buf[0] = 0xff;
    buf[1] = 0xff;
    buf[2] = 0x0f;
    expect_error(buf, size, NULL, VIT_ERR_FORMAT, "past the end of the file", "/model/error/header-length");
    buf[7] = 0x7f;
    expect_error(buf, size, NULL, VIT_ERR_LIMIT, "over the 100 MB limit", "/model/error/header-limit");
    free(buf);

    /* overlapping offsets: tensor 1 starts inside tensor 0 */
    buf = serialize(&l, &size, 1, 4, 4 + (long long)l.t[1].nbytes);
    expect_error(buf, size, NULL, VIT_ERR_FORMAT, "overlap", "/model/error/overlapping-offsets");
    free(buf);
    /* out-of-range offsets */
    buf = serialize(&l, &size, 3, 1LL << 40, (1LL << 40) + (long long)l.t[3].nbytes);
    expect_error(buf, size, NULL, VIT_ERR_FORMAT, "past the end of the data", "/model/error/offsets-out-of-range");
    free(buf);
    /* end before begin */
    buf = serialize(&l, &size, 2, 64, 0);
    expect_error(buf, size, NULL, VIT_ERR_FORMAT, "end before they begin", "/model/error/offsets-reversed");
    free(buf);
    /* size that disagrees with the shape */
    buf = serialize(&l, &size, 2, -1, (long long)(l.t[0].nbytes + l.t[1].nbytes + 4));
    expect_error(buf, size, NULL, VIT_ERR_FORMAT, "need 256 bytes but data_offsets give 4",
                 "/model/error/offsets-vs-shape");
    free(buf);

    /* unsupported dtype */
    strcpy(find(&l, "head.bias")->dtype, "I64");
    find(&l, "head.bias")->shape[0] = 3;
    find(&l, "head.bias")->nbytes = 24;
    find(&l, "head.bias")->data = realloc(find(&l, "head.bias")->data, 24);
    buf = serialize(&l, &size, -1, -1, -1);
    expect_error(buf, size, NULL, VIT_ERR_UNSUPPORTED, "tensor head.bias has dtype I64; only F32, F16 and BF16",
                 "/model/error/dtype-unsupported");
    free(buf);
    strcpy(find(&l, "head.bias")->dtype, "Q4");
    buf = serialize(&l, &size, -1, -1, -1);
    expect_error(buf, size, NULL, VIT_ERR_FORMAT, "unknown dtype 'Q4'", "/model/error/dtype-unknown");
    free(buf);
    free_list(&l);

    /* missing tensor */
    synth_model(&l, 0);
    drop(&l, "blocks.1.attn.qkv.bias");
    buf = serialize(&l, &size, -1, -1, -1);
    expect_error(buf, size, NULL, VIT_ERR_SHAPE, "bad.safetensors: missing tensor blocks.1.attn.qkv.bias",
                 "/model/error/missing-tensor");
    free(buf);
    free_list(&l);

    /* extra tensor */
    synth_model(&l, 0);
    add(&l, "fc_norm.weight", 1, 64, 0, 0, 0);
    buf = serialize(&l, &size, -1, -1, -1);
    expect_error(buf, size, NULL, VIT_ERR_SHAPE, "unexpected tensor fc_norm.weight", "/model/error/extra-tensor");
    free(buf);
    free_list(&l);

    /* a shape that does not fit the others */
    synth_model(&l, 0);
    tt *fc1 = find(&l, "blocks.1.mlp.fc1.weight");
    fc1->shape[0] = 96;
    fc1->nbytes = 96 * 64 * 4;
    fc1->data = realloc(fc1->data, fc1->nbytes);
    buf = serialize(&l, &size, -1, -1, -1);
    expect_error(buf, size, NULL, VIT_ERR_SHAPE,
                 "tensor blocks.1.mlp.fc1.weight has shape 96×64, expected 128×64",
                 "/model/error/wrong-shape");
    free(buf);
    free_list(&l);

    /* NaN in a weight */
    synth_model(&l, 0);
    ((float *)find(&l, "blocks.0.attn.proj.weight")->data)[7] = NAN;
    buf = serialize(&l, &size, -1, -1, -1);
    expect_error(buf, size, NULL, VIT_ERR_FORMAT, "blocks.0.attn.proj.weight contains NaN",
                 "/model/error/nan-weight");
    free(buf);
    free_list(&l);

    /* duplicate names */
    synth_model(&l, 0);
    snprintf(l.t[1].name, sizeof l.t[1].name, "%s", l.t[0].name);
    buf = serialize(&l, &size, -1, -1, -1);
    expect_error(buf, size, NULL, VIT_ERR_FORMAT, "appears twice", "/model/error/duplicate-name");
    free(buf);
    free_list(&l);

    /* config that disagrees with the weights: a 384 px config on a 16 px model */
    synth_model(&l, 1);
    buf = serialize(&l, &size, -1, -1, -1);
    expect_error(buf, size,
                 "{\"architecture\": \"x\", \"pretrained_cfg\": {\"input_size\": [3, 384, 384]}}",
                 VIT_ERR_SHAPE, "input_size says 384×384 but pos_embed fits 16×16",
                 "/model/error/config-resolution");
    expect_error(buf, size, "{\"num_classes\": 1000}", VIT_ERR_SHAPE,
                 "num_classes is 1000 but head.weight has 3 rows", "/model/error/config-classes");
    expect_error(buf, size, "{\"label_names\": [\"a\", \"b\"]}", VIT_ERR_SHAPE,
                 "label_names has 2 names but the model has 3 classes", "/model/error/config-labels");
    expect_error(buf, size, "{\"pretrained_cfg\": {\"mean\": [0.5, 0.5]}}", VIT_ERR_FORMAT,
                 "mean must list one value per channel", "/model/error/config-mean");
    expect_error(buf, size, "{\"architecture\": ", VIT_ERR_FORMAT, "config.json: not valid JSON",
                 "/model/error/config-json");
    /* a valid config: distilled, labels from label_names, crop_pct from it */
    s = vit_model_load_memory(buf, size,
                              "{\"architecture\": \"deit_test\", \"label_names\": [\"a\", \"b\", \"c\"],"
                              " \"pretrained_cfg\": {\"input_size\": [3, 16, 16], \"crop_pct\": 0.9,"
                              " \"interpolation\": \"bilinear\", \"mean\": [0.5, 0.5, 0.5],"
                              " \"std\": [0.25, 0.25, 0.25]}}",
                              "good.safetensors", &m, &err);
    info = m ? vit_model_get_info(m) : NULL;
    test_check(s == VIT_OK && info->distilled && info->pre.resize_size == 17 &&
                   info->pre.interp == VIT_INTERP_BILINEAR && info->pre.std[2] == 0.25f &&
                   strcmp(info->name, "deit_test") == 0 && strcmp(vit_model_label(m, 2), "c") == 0,
               "/model/config/applied (%s)", err.msg);
    test_check(m && vit_model_set_labels(m, "x\ny\n", &err) == VIT_ERR_SHAPE &&
                   strcmp(vit_model_label(m, 0), "a") == 0,
               "/model/labels/wrong-count-keeps-old (%s)", err.msg);
    /* labels come out valid UTF-8 whatever the file held: a lone 0xFF, a cut sequence and an
     * overlong '/' become U+FFFD; valid text (here Chinese) is kept */
    test_check(m && vit_model_set_labels(m, "a\xff\nb\xe7\x8b\nc\xc0\xaf\xe7\x8b\xbc\n", &err) == VIT_OK &&
                   strcmp(vit_model_label(m, 0), "a\xef\xbf\xbd") == 0 &&
                   strcmp(vit_model_label(m, 1), "b\xef\xbf\xbd\xef\xbf\xbd") == 0 &&
                   strcmp(vit_model_label(m, 2), "c\xef\xbf\xbd\xef\xbf\xbd\xe7\x8b\xbc") == 0,
               "/model/labels/made-valid-utf8 (%s)", err.msg);
    vit_model_free(m);
    m = NULL;
    free(buf);
    free_list(&l);

    /* file-level errors */
    s = vit_model_load("/nonexistent/model.safetensors", &m, &err);
    test_check(s == VIT_ERR_IO && strstr(err.msg, "model.safetensors: cannot open"), "/model/error/missing-file (%s)", err.msg);
    s = vit_model_load("/tmp", &m, &err);
    test_check(s == VIT_ERR_IO && strstr(err.msg, "not a regular file"), "/model/error/directory (%s)", err.msg);
    char tmp[] = "/tmp/vitlens-empty-XXXXXX";
    int fd = mkstemp(tmp);
    close(fd);
    s = vit_model_load(tmp, &m, &err);
    test_check(s == VIT_ERR_FORMAT && strstr(err.msg, "file is empty"), "/model/error/empty-file (%s)", err.msg);
    test_write_file(tmp, "<html>not a model</html>", 24);
    s = vit_model_load(tmp, &m, &err);
    test_check(s != VIT_OK && m == NULL, "/model/error/not-a-model (%s)", err.msg);
    unlink(tmp);
}

/* ---------------------------------------------------------------------------------------------
 * Golden logits from PyTorch */

static void test_golden(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/cases.json", fixtures);
    size_t size;
    char *text = test_read_file(path, &size);
    test_check(text != NULL, "/model/golden/cases.json present");
    if (!text)
        return;
    char jerr[128];
    vit_json *cases = vit_json_parse(text, size, jerr, sizeof jerr);
    const vit_json *models = vit_json_get(cases, "models");
    const vit_json *images = vit_json_get(cases, "images");
    int count = 0;
    for (const vit_json *c = models ? models->child : NULL; c; c = c->next, count++) {
        const char *dir = vit_json_string(c, "dir");
        snprintf(path, sizeof path, "%s/models/%s/model.safetensors", fixtures, dir);
        vit_error err = {0};
        vit_model *m = NULL;
        vit_status s = vit_model_load(path, &m, &err);
        test_check(s == VIT_OK, "/model/golden/%s/load (%s)", c->key, err.msg);
        if (s != VIT_OK)
            continue;
        const vit_model_info *info = vit_model_get_info(m);
        int32_t K = info->num_classes;
        test_check(info->embed_dim == (int)vit_json_number(c, "embed_dim", -1) &&
                       info->depth == (int)vit_json_number(c, "depth", -1) &&
                       info->num_heads == (int)vit_json_number(c, "num_heads", -1) &&
                       info->patch_size == (int)vit_json_number(c, "patch_size", -1) &&
                       info->img_size == (int)vit_json_number(c, "img_size", -1) &&
                       info->num_params == (int64_t)vit_json_number(c, "num_params", -1),
                   "/model/golden/%s/architecture", c->key);
        const vit_json *pre = vit_json_get(c, "preprocess");
        test_check(pre && info->pre.resize_size == (int)vit_json_number(pre, "resize_size", -1) &&
                       info->pre.image_size == (int)vit_json_number(pre, "crop", -1) &&
                       info->pre.channels == (int)vit_json_number(pre, "channels", -1),
                   "/model/golden/%s/preprocess-config (resize %d crop %d)", c->key,
                   info->pre.resize_size, info->pre.image_size);

        size_t in_n = (size_t)info->in_chans * info->img_size * info->img_size;
        float *logits = calloc((size_t)K, sizeof(float));
        for (int threads = 1; threads <= 2; threads++) {
            vit_session_opts o = vit_session_opts_default();
            vitlens_session_opts_from_env(&o); /* VIT_KERNEL, as the programs read it */
            o.threads = threads;
            vit_session *ses = NULL;
            s = vit_session_new(m, &o, &ses, &err);
            test_check(s == VIT_OK, "/model/golden/%s/session-%dt (%s)", c->key, threads, err.msg);
            if (s != VIT_OK)
                continue;
            /* the random input, then each image's torchvision-preprocessed input */
            for (const vit_json *img = NULL;;) {
                char in_path[1024], lg_path[1024], stem[128] = "input";
                if (img) {
                    const char *leaf = strrchr(img->string, '/');
                    snprintf(stem, sizeof stem, "%s", leaf ? leaf + 1 : img->string);
                    char *dot = strrchr(stem, '.');
                    if (dot)
                        *dot = 0;
                    snprintf(in_path, sizeof in_path, "%s/models/%s/%s.input.f32", fixtures, dir, stem);
                    snprintf(lg_path, sizeof lg_path, "%s/models/%s/%s.logits.f32", fixtures, dir, stem);
                } else {
                    snprintf(in_path, sizeof in_path, "%s/models/%s/input.f32", fixtures, dir);
                    snprintf(lg_path, sizeof lg_path, "%s/models/%s/logits.f32", fixtures, dir);
                }
                float *input = test_read_f32(in_path, in_n), *want = test_read_f32(lg_path, (size_t)K);
                if (input && want) {
                    vit_session_run(ses, input, logits, &err);
                    float maxd = 0;
                    for (int32_t k = 0; k < K; k++)
                        maxd = fmaxf(maxd, fabsf(logits[k] - want[k]));
                    int32_t a[5], b[5], k5 = K < 5 ? K : 5, same = 1;
                    vit_topk(logits, K, k5, a);
                    vit_topk(want, K, k5, b);
                    for (int j = 0; j < k5; j++)
                        same &= a[j] == b[j];
                    test_check(maxd <= VIT_TOL_FP32 && same,
                               "/model/golden/%s/%s/%dt max|Δlogit| %.2e (tol %.0e), top-%d %s",
                               c->key, stem, threads, maxd, VIT_TOL_FP32, k5,
                               same ? "identical" : "DIFFERENT");
                }
                free(input);
                free(want);
                img = img ? img->next : (images ? images->child : NULL);
                if (!img)
                    break;
            }
            vit_session_free(ses);
        }
        free(logits);
        vit_model_free(m);
    }
    test_check(count >= 5, "/model/golden/count %d models", count);
    vit_json_free(cases);
    free(text);
}

/* ---------------------------------------------------------------------------------------------
 * Derived weights: vit_model_prepare builds them on the model and changes nothing else (the
 * int8 exports and sessions of a prepared model are those of a fresh one: found in the app's
 * Compare view, when packing released the plain weights behind a const model and its lite
 * column, exported after the fp32 column had run, ran on zeroed weights); and
 * vit_model_release_linears, the one call that hands the plain fp32 Linears back, after which
 * whatever would read them fails with a message instead of reading zeros. */

static int run_logits_k(vit_model *m, vit_variant v, int per_channel, const char *kernel,
                        const float *in, float *out, vit_error *err)
{
    vit_session_opts o = vit_session_opts_default();
    vitlens_session_opts_from_env(&o); /* VIT_KERNEL, as the programs read it */
    o.variant = v;
    o.threads = 2;
    o.per_channel = per_channel;
    o.kernel = kernel;
    vit_session *s = NULL;
    if (vit_session_new(m, &o, &s, err) != VIT_OK)
        return 0;
    vit_status st = vit_session_run(s, in, out, err);
    vit_session_free(s);
    return st == VIT_OK;
}

static int run_logits(vit_model *m, vit_variant v, int per_channel, const float *in, float *out)
{
    vit_error err = {0};
    return run_logits_k(m, v, per_channel, NULL, in, out, &err);
}

static int same_linears(const vit_model *a, const vit_model *b)
{
    const vit_model_info *i = &a->info;
    size_t D = (size_t)i->embed_dim, H = (size_t)i->mlp_hidden, K = (size_t)i->num_classes;
    int same = 1;
    for (int32_t l = 0; l < i->depth; l++) {
        const vit_block_weights *x = &a->w.blocks[l], *y = &b->w.blocks[l];
        same &= memcmp(x->qkv_w, y->qkv_w, 3 * D * D * 4) == 0;
        same &= memcmp(x->proj_w, y->proj_w, D * D * 4) == 0;
        same &= memcmp(x->fc1_w, y->fc1_w, H * D * 4) == 0;
        same &= memcmp(x->fc2_w, y->fc2_w, D * H * 4) == 0;
    }
    same &= memcmp(a->w.head_w, b->w.head_w, K * D * 4) == 0;
    if (i->distilled)
        same &= memcmp(a->w.head_dist_w, b->w.head_dist_w, K * D * 4) == 0;
    return same;
}

/* Export m and a freshly loaded model the same way; 1 when the files are byte for byte equal. */
static int same_exports(vit_model *m, const char *path, int kind, int pc, const char *what)
{
    static const char *const kinds[2] = {"vitq", "vitl"};
    char pa[64], pb[64];
    snprintf(pa, sizeof pa, "/tmp/test-model-%d-fresh.%s", (int)getpid(), kinds[kind]);
    snprintf(pb, sizeof pb, "/tmp/test-model-%d-prepared.%s", (int)getpid(), kinds[kind]);
    vit_error err = {0};
    vit_model *fresh = NULL;
    vit_status s1 = vit_model_load(path, &fresh, &err);
    if (s1 == VIT_OK)
        s1 = kind ? vit_model_export_vitl(fresh, pc, pa, &err)
                  : vit_model_export_vitq(fresh, pc, pa, &err);
    vit_model_free(fresh);
    vit_status s2 = kind ? vit_model_export_vitl(m, pc, pb, &err)
                         : vit_model_export_vitq(m, pc, pb, &err);
    size_t na = 0, nb = 0;
    void *fa = test_read_file(pa, &na), *fb = test_read_file(pb, &nb);
    int same = s1 == VIT_OK && s2 == VIT_OK && fa && fb && na == nb && memcmp(fa, fb, na) == 0;
    test_check(same, "/model/prepare/export-%s%s-%s: the same %zu bytes as a fresh model's",
               kinds[kind], pc ? "-per-channel" : "", what, nb);
    free(fa);
    free(fb);
    unlink(pa);
    unlink(pb);
    return same;
}

/* ---------------------------------------------------------------------------------------------
 * The transformers layout (tools/make_model_fixtures.py, HF_MODELS): the fixtures' own checks
 * beyond the golden logits above */

static float max_abs_diff(const float *a, const float *b, size_t n)
{
    float d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

static int run_input(vit_model *m, const float *in, float *out)
{
    vit_session_opts o = vit_session_opts_default();
    vitlens_session_opts_from_env(&o);
    o.threads = 2;
    vit_session *s = NULL;
    vit_error err = {0};
    int ok = vit_session_new(m, &o, &s, &err) == VIT_OK &&
             vit_session_run(s, in, out, &err) == VIT_OK;
    vit_session_free(s);
    return ok;
}

static void test_hf_model(const vit_json *c)
{
    const char *dir = vit_json_string(c, "dir");
    const vit_json *pre = vit_json_get(c, "preprocess");
    char path[1024], dpath[512];
    snprintf(dpath, sizeof dpath, "%s/models/%s", fixtures, dir);
    snprintf(path, sizeof path, "%s/model.safetensors", dpath);
    vit_error err = {0};
    vit_model *m = NULL;
    vit_status s = vit_model_load(path, &m, &err);
    test_check(s == VIT_OK, "/model/hf/%s/load (%s)", c->key, err.msg);
    if (s != VIT_OK)
        return;
    const vit_model_info *info = vit_model_get_info(m);
    const int32_t K = info->num_classes;
    const float eps = (float)vit_json_number(c, "ln_eps", -1);
    test_check(info->ln_eps == eps && strcmp(info->name, vit_json_string(c, "architecture")) == 0 &&
                   info->distilled == (vit_json_get(c, "distilled")->boolean ? 1 : 0),
               "/model/hf/%s/config: eps %g, name %s", c->key, (double)info->ln_eps, info->name);
    const vit_json *labels = vit_json_get(c, "labels");
    int same = labels && vit_model_num_labels(m) == K && labels->count == K;
    int32_t k = 0;
    for (const vit_json *l = labels ? labels->child : NULL; l && same; l = l->next, k++)
        same = strcmp(vit_model_label(m, k), l->string) == 0;
    test_check(same, "/model/hf/%s/labels-from-id2label (%d)", c->key, vit_model_num_labels(m));
    const char *interp = vit_json_string(pre, "interpolation");
    const vit_interp want_interp = strcmp(interp, "bilinear") == 0 ? VIT_INTERP_BILINEAR
                                                                  : VIT_INTERP_BICUBIC;
    test_check(info->pre.resize_width == (int)vit_json_number(pre, "resize_width", -1) &&
                   info->pre.resize_height == (int)vit_json_number(pre, "resize_height", -1) &&
                   info->pre.image_size == (int)vit_json_number(pre, "crop", -1) &&
                   info->pre.interp == want_interp &&
                   info->pre.mean[1] == (float)vit_json_get(pre, "mean")->child->next->number &&
                   info->pre.std[2] == (float)vit_json_get(pre, "std")->child->next->next->number,
               "/model/hf/%s/preprocessor-config: resize %d×%d, crop %d, %s", c->key,
               info->pre.resize_width, info->pre.resize_height, info->pre.image_size, interp);

    /* the whole path from the image file: our preprocessing is transformers' (torchvision's
     * Resize((h, w)) and CenterCrop on PIL), the top-5 PyTorch's */
    const size_t in_n = (size_t)info->in_chans * info->img_size * info->img_size;
    float *got = calloc(in_n, sizeof(float));
    vit_session_opts o = vit_session_opts_default();
    vitlens_session_opts_from_env(&o);
    vit_session *ses = NULL;
    vit_session_new(m, &o, &ses, &err);
    for (const vit_json *img = vit_json_get(c, "images")->child; img && ses; img = img->next) {
        char ipath[1024];
        const char *image = vit_json_string(img, "image");
        snprintf(ipath, sizeof ipath, "%s/models/%s", fixtures, image);
        snprintf(path, sizeof path, "%s/models/%s", fixtures, vit_json_string(img, "input"));
        float *want_in = test_read_f32(path, in_n);
        snprintf(path, sizeof path, "%s/models/%s", fixtures, vit_json_string(img, "logits"));
        float *want = test_read_f32(path, (size_t)K);
        vit_image im;
        vit_prediction pred;
        int ok = want_in && want && vit_image_load(ipath, &im, &err) == VIT_OK;
        if (ok) {
            ok = vit_preprocess(&im, &info->pre, got, &err) == VIT_OK &&
                 vit_session_classify(ses, &im, 5, &pred, &err) == VIT_OK;
            vit_image_free(&im);
        }
        const vit_json *top5 = vit_json_get(img, "top5");
        int same5 = ok && top5 && top5->count == 5;
        int j = 0;
        for (const vit_json *t = top5 ? top5->child : NULL; t && same5; t = t->next, j++)
            same5 = pred.index[j] == (int32_t)t->number;
        const float din = ok ? max_abs_diff(got, want_in, in_n) : -1;
        const float dl = ok ? max_abs_diff(vit_session_logits(ses), want, (size_t)K) : -1;
        test_check(ok && din <= 1e-6f && dl <= VIT_TOL_FP32 && same5,
                   "/model/hf/%s/%s: input max|Δ| %.1e, logits max|Δ| %.1e, top-5 %s (%s)",
                   c->key, image, din, dl, same5 ? "= PyTorch's" : "DIFFERENT", err.msg);
        free(want_in);
        free(want);
    }
    vit_session_free(ses);
    free(got);

    /* the same network in timm's layout: its timm copy with this eps gives the same logits; with
     * timm's eps it differs by what the eps changes (ln_eps_effect) */
    float *input = NULL, *a = calloc((size_t)K, 4), *b = calloc((size_t)K, 4);
    snprintf(path, sizeof path, "%s/input.f32", dpath);
    input = test_read_f32(path, in_n);
    snprintf(path, sizeof path, "%s/models/%s/model.safetensors", fixtures,
             vit_json_string(c, "timm_copy_of"));
    size_t size = 0;
    void *timm = test_read_file(path, &size);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"model_args\": {\"num_heads\": %d}, \"layer_norm_eps\": %.9g}",
             info->num_heads, (double)eps);
    vit_model *t = NULL;
    int ok = input && timm &&
             vit_model_load_memory(timm, size, cfg, "timm.safetensors", &t, &err) == VIT_OK &&
             run_input(m, input, a) && run_input(t, input, b);
    const float d_same = ok ? max_abs_diff(a, b, (size_t)K) : -1;
    test_check(ok && d_same <= VIT_TOL_FP32 && vit_model_get_info(t)->ln_eps == eps,
               "/model/hf/%s/same-as-timm-layout max|Δlogit| %.1e (%s)", c->key, d_same, err.msg);
    vit_model_free(t);
    t = NULL;
    snprintf(cfg, sizeof cfg, "{\"model_args\": {\"num_heads\": %d}}", info->num_heads);
    const double effect = vit_json_number(vit_json_get(c, "logits"), "ln_eps_effect", 0);
    ok = ok && vit_model_load_memory(timm, size, cfg, "timm.safetensors", &t, &err) == VIT_OK &&
         run_input(t, input, b);
    const float d_eps = ok ? max_abs_diff(a, b, (size_t)K) : -1;
    test_check(ok && fabs(d_eps - effect) <= 1e-5 + 0.01 * effect,
               "/model/hf/%s/timm-eps differs by %.2e, as in PyTorch (%.2e)", c->key, d_eps,
               effect);
    vit_model_free(t);
    free(timm);

    /* .vitq and .vitl keep the eps, the fixed-size resize and the labels */
    static const char *const ext[2] = {"vitq", "vitl"};
    for (int kind = 0; kind < 2; kind++) {
        snprintf(path, sizeof path, "/tmp/test-model-hf-%d.%s", (int)getpid(), ext[kind]);
        vit_model *q = NULL;
        ok = (kind ? vit_model_export_vitl(m, 0, path, &err) : vit_model_export_vitq(m, 0, path, &err)) ==
                 VIT_OK &&
             vit_model_load(path, &q, &err) == VIT_OK;
        const vit_model_info *qi = q ? vit_model_get_info(q) : NULL;
        test_check(ok && qi->ln_eps == eps && qi->pre.resize_width == info->pre.resize_width &&
                       qi->pre.resize_height == info->pre.resize_height &&
                       qi->pre.interp == info->pre.interp && strcmp(qi->name, info->name) == 0 &&
                       vit_model_num_labels(q) == K &&
                       strcmp(vit_model_label(q, K - 1), vit_model_label(m, K - 1)) == 0,
                   "/model/hf/%s/%s-keeps-eps-resize-labels (%s)", c->key, ext[kind], err.msg);
        vit_model_free(q);
        unlink(path);
    }
    free(input), free(a), free(b);
    vit_model_free(m);
}

/* Write `text` with `from` replaced by `to` (which must occur) to dir/leaf. */
static void write_edited(const char *dir, const char *leaf, const char *text, const char *from,
                         const char *to)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, leaf);
    const char *at = strstr(text, from);
    size_t n = strlen(text), nf = strlen(from), nt = strlen(to);
    char *out = malloc(n + nt + 1);
    test_check(at != NULL, "/model/hf/bad/%s: '%s' in the fixture", leaf, from);
    if (!at)
        at = text + n, nf = 0, nt = 0;
    memcpy(out, text, (size_t)(at - text));
    memcpy(out + (at - text), to, nt);
    memcpy(out + (at - text) + nt, at + nf, n - (size_t)(at - text) - nf);
    test_write_file(path, out, n - nf + nt);
    free(out);
}

/* Bad transformers configs, each refused with a message naming the file. */
static void test_hf_errors(void)
{
    char src[1024], path[1024], dir[] = "/tmp/vitlens-hf-XXXXXX";
    test_check(mkdtemp(dir) != NULL, "/model/hf/bad/tmpdir");
    size_t ns = 0, nc = 0, np = 0;
    snprintf(src, sizeof src, "%s/models/tiny-p16-hf/model.safetensors", fixtures);
    char *st = test_read_file(src, &ns);
    snprintf(src, sizeof src, "%s/models/tiny-p16-hf/config.json", fixtures);
    char *cfg = test_read_file(src, &nc);
    snprintf(src, sizeof src, "%s/models/tiny-p16-hf/preprocessor_config.json", fixtures);
    char *pp = test_read_file(src, &np);
    if (!st || !cfg || !pp) {
        test_check(0, "/model/hf/bad/fixtures-present");
        free(st), free(cfg), free(pp);
        return;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    const struct {
        const char *leaf, *from, *to;
        vit_status status;
        const char *want;
    } bad[] = {
        {"config.json", "\"3\": \"tiger", "\"x3\": \"tiger", VIT_ERR_SHAPE,
         "config.json: id2label key \"x3\" is not a class index from 0 to 9"},
        {"config.json", "\"3\": \"tiger shark, Galeocerdo cuvieri\",", "", VIT_ERR_SHAPE,
         "config.json: id2label has no label for class 3 (it must name all 10 classes)"},
        {"config.json", "\"hidden_size\": 64", "\"hidden_size\": 768", VIT_ERR_SHAPE,
         "config.json: hidden_size is 768 but the patch embedding says 64"},
        {"config.json", "\"layer_norm_eps\": 1e-12", "\"layer_norm_eps\": -1", VIT_ERR_FORMAT,
         "config.json: layer_norm_eps is not a number in (0, 1]"},
        {"config.json", "\"hidden_act\": \"gelu\"", "\"hidden_act\": \"gelu_new\"",
         VIT_ERR_UNSUPPORTED, "config.json: hidden_act 'gelu_new' is not supported"},
        {"preprocessor_config.json", "\"size\": 40", "\"size\": 30", VIT_ERR_SHAPE,
         "preprocessor_config.json: crop_size 32×32 is larger than the resize to 30×30"},
        {"preprocessor_config.json", "\"crop_size\": 32", "\"crop_size\": 24", VIT_ERR_SHAPE,
         "preprocessor_config.json: crop_size 24×24 is not the model's 32×32 input"},
        {"preprocessor_config.json", "\"resample\": 3", "\"resample\": 1", VIT_ERR_UNSUPPORTED,
         "preprocessor_config.json: resample 1 (Lanczos) is not supported"},
        {"preprocessor_config.json", "\"resample\": 3", "\"resample\": 9", VIT_ERR_UNSUPPORTED,
         "preprocessor_config.json: resample 9 (unknown) is not supported"},
        {"preprocessor_config.json", "\"size\": 40", "\"size\": {\"shortest_edge\": 40}",
         VIT_ERR_UNSUPPORTED, "preprocessor_config.json: size {\"shortest_edge\"} is not supported"},
        {"preprocessor_config.json", "\"image_std\": [", "\"image_std\": [0, ", VIT_ERR_FORMAT,
         "preprocessor_config.json: image_std must list one value per channel"},
        {"preprocessor_config.json", "\"do_rescale\": true", "\"do_rescale\": false",
         VIT_ERR_UNSUPPORTED, "preprocessor_config.json: do_rescale false is not supported"},
        /* a tensor renamed in place (same length, offsets intact): key of layer 1 missing */
        {"model.safetensors", "layer.1.attention.attention.key.weight",
         "layer.1.attention.attention.kex.weight", VIT_ERR_SHAPE,
         "model.safetensors: missing tensor vit.encoder.layer.1.attention.attention.key.weight"},
        /* the final LayerNorm's bias renamed */
        {"model.safetensors", "vit.layernorm.bias", "vit.layernorm.bia2", VIT_ERR_SHAPE,
         "model.safetensors: missing tensor vit.layernorm.bias"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        test_write_file(path, st, ns);
        snprintf(src, sizeof src, "%s/config.json", dir);
        test_write_file(src, cfg, nc);
        snprintf(src, sizeof src, "%s/preprocessor_config.json", dir);
        test_write_file(src, pp, np);
        if (strcmp(bad[i].leaf, "model.safetensors") == 0) {
            /* binary: replace inside the header, same length */
            char *copy = malloc(ns);
            memcpy(copy, st, ns);
            char *at = memmem(copy, ns, bad[i].from, strlen(bad[i].from));
            test_check(at != NULL, "/model/hf/bad/%s in the header", bad[i].from);
            if (at)
                memcpy(at, bad[i].to, strlen(bad[i].to));
            test_write_file(path, copy, ns);
            free(copy);
        } else {
            write_edited(dir, bad[i].leaf, strcmp(bad[i].leaf, "config.json") == 0 ? cfg : pp,
                         bad[i].from, bad[i].to);
        }
        vit_error err = {0};
        vit_model *m = NULL;
        vit_status s = vit_model_load(path, &m, &err);
        test_check(s == bad[i].status && m == NULL && strstr(err.msg, bad[i].want) != NULL,
                   "/model/hf/bad/%zu: status %d (want %d), \"%s\"", i, s, bad[i].status,
                   err.msg);
        vit_model_free(m);
    }
    /* the legacy integer sizes and the {height, width} ones are the same */
    test_write_file(path, st, ns);
    snprintf(src, sizeof src, "%s/config.json", dir);
    test_write_file(src, cfg, nc);
    write_edited(dir, "preprocessor_config.json", pp, "\"size\": 40",
                 "\"size\": {\"height\": 40, \"width\": 48}");
    vit_error err = {0};
    vit_model *m = NULL;
    vit_status s = vit_model_load(path, &m, &err);
    test_check(s == VIT_OK && vit_model_get_info(m)->pre.resize_width == 48 &&
                   vit_model_get_info(m)->pre.resize_height == 40,
               "/model/hf/size-height-width: 48×40 (%s)", err.msg);
    vit_model_free(m);
    /* no preprocessor_config.json: timm's default ratio; no config.json: transformers' eps */
    snprintf(src, sizeof src, "%s/preprocessor_config.json", dir);
    unlink(src);
    snprintf(src, sizeof src, "%s/config.json", dir);
    unlink(src);
    m = NULL;
    s = vit_model_load(path, &m, &err);
    test_check(s == VIT_OK && vit_model_get_info(m)->ln_eps == 1e-12f &&
                   vit_model_get_info(m)->pre.resize_width == 0 &&
                   vit_model_get_info(m)->num_heads == 1 && vit_model_num_labels(m) == 0,
               "/model/hf/no-configs: eps 1e-12, heads D/64, shorter-side resize (%s)", err.msg);
    vit_model_free(m);
    unlink(path);
    rmdir(dir);
    free(st), free(cfg), free(pp);
}

static void test_transformers(void)
{
    vit_json *cases = test_load_cases(fixtures, "model");
    int count = 0;
    for (const vit_json *c = test_first_case(cases); c; c = c->next) {
        const char *layout = vit_json_string(c, "layout");
        if (layout && strcmp(layout, "transformers") == 0) {
            test_hf_model(c);
            count++;
        }
    }
    test_check(count >= 2, "/model/hf/count %d models", count);
    vit_json_free(cases);
    test_hf_errors();
}

static void test_prepare_and_release(void)
{
    char path[1024], in_path[1024], lg_path[1024];
    snprintf(path, sizeof path, "%s/models/tiny-p8-distilled/model.safetensors", fixtures);
    snprintf(in_path, sizeof in_path, "%s/models/tiny-p8-distilled/input.f32", fixtures);
    snprintf(lg_path, sizeof lg_path, "%s/models/tiny-p8-distilled/logits.f32", fixtures);
    vit_error err = {0};
    vit_model *fresh = NULL, *m = NULL;
    if (vit_model_load(path, &fresh, &err) != VIT_OK || vit_model_load(path, &m, &err) != VIT_OK) {
        test_check(0, "/model/prepare/load (%s)", err.msg);
        vit_model_free(fresh);
        vit_model_free(m);
        return;
    }
    const vit_model_info *i = vit_model_get_info(m);
    int32_t K = i->num_classes;
    float *in = test_read_f32(in_path, (size_t)i->in_chans * i->img_size * i->img_size);
    float *want = test_read_f32(lg_path, (size_t)K);
    float *a = calloc((size_t)K, 4), *b = calloc((size_t)K, 4);
    test_check(in && want && a && b, "/model/prepare/fixture inputs");
    if (!in || !want || !a || !b)
        goto out;

    /* prepare every variant: the plain weights stay as loaded, the sessions read the model's
     * copies and give what an unprepared model's own copies give, bit for bit */
    static const vit_variant vs[3] = {VIT_VARIANT_FP32, VIT_VARIANT_INT8, VIT_VARIANT_OPTIMIZED};
    int ok = 1;
    for (int v = 0; v < 3; v++)
        for (int pc = 0; pc < 2; pc++) {
            vit_session_opts o = vit_session_opts_default();
            vitlens_session_opts_from_env(&o); /* VIT_KERNEL, as the programs read it */
            o.variant = vs[v];
            o.per_channel = pc;
            ok &= vit_model_prepare(m, &o, &err) == VIT_OK;
            ok &= vit_model_prepare(m, &o, &err) == VIT_OK; /* again: nothing to do */
        }
    test_check(ok && same_linears(m, fresh) && m->linears_released == 0,
               "/model/prepare/every-variant: the plain weights as loaded (%s)", ok ? "" : err.msg);
    for (int v = 0; v < 3; v++) {
        ok = run_logits(fresh, vs[v], v == 1, in, a) && run_logits(m, vs[v], v == 1, in, b);
        test_check(ok && memcmp(a, b, (size_t)K * 4) == 0,
                   "/model/prepare/%s-session: the logits of an unprepared model's",
                   vit_variant_name(vs[v]));
    }
    for (int kind = 0; kind < 2; kind++)
        for (int pc = 0; pc < 2; pc++)
            same_exports(m, path, kind, pc, "prepared");

    /* an OpenBLAS fp32 session (the scalar kernel, what CPUs without AVX2 run) reads the plain
     * weights */
    ok = run_logits_k(m, VIT_VARIANT_FP32, 0, "scalar", in, b, &err);
    float maxd = 0;
    for (int32_t k = 0; ok && k < K; k++)
        maxd = fmaxf(maxd, fabsf(b[k] - want[k]));
    test_check(ok && maxd <= VIT_TOL_FP32, "/model/prepare/openblas-logits max|Δ| %.2e (tol %.0e)",
               maxd, VIT_TOL_FP32);

    if (!vit_sgemm_ops_for(vit_kernel_select(NULL))) {
        vit_status st = vit_model_release_linears(m, &err);
        test_check(st == VIT_ERR_UNSUPPORTED && m->linears_released == 0,
                   "/model/release/refused-on-openblas (%s)", err.msg);
        goto out;
    }
    /* release: fp32 and the prepared int8 weights run as before, exports of prepared weights
     * are the same files; what would read the plain weights says so */
    run_logits(m, VIT_VARIANT_INT8, 0, in, a);
    test_check(vit_model_release_linears(m, &err) == VIT_OK && m->linears_released == 1 &&
                   vit_model_release_linears(m, &err) == VIT_OK,
               "/model/release/releases (%s)", err.msg);
    ok = run_logits(m, VIT_VARIANT_INT8, 0, in, b);
    test_check(ok && memcmp(a, b, (size_t)K * 4) == 0, "/model/release/int8-prepared-before: same logits");
    ok = run_logits(m, VIT_VARIANT_FP32, 0, in, b);
    maxd = 0;
    for (int32_t k = 0; ok && k < K; k++)
        maxd = fmaxf(maxd, fabsf(b[k] - want[k]));
    test_check(ok && maxd <= VIT_TOL_FP32, "/model/release/fp32-logits max|Δ| %.2e (tol %.0e)",
               maxd, VIT_TOL_FP32);
    for (int kind = 0; kind < 2; kind++)
        for (int pc = 0; pc < 2; pc++)
            same_exports(m, path, kind, pc, "released");
    ok = run_logits_k(m, VIT_VARIANT_FP32, 0, "scalar", in, b, &err);
    test_check(!ok && err.status == VIT_ERR_UNSUPPORTED && strstr(err.msg, "vit_model_release_linears"),
               "/model/release/openblas-session-refused: %s", err.msg);
    vit_model *m2 = NULL;
    ok = vit_model_load(path, &m2, &err) == VIT_OK && vit_model_release_linears(m2, &err) == VIT_OK;
    ok = ok && !run_logits_k(m2, VIT_VARIANT_INT8, 0, NULL, in, b, &err);
    test_check(ok && err.status == VIT_ERR_UNSUPPORTED && strstr(err.msg, "vit_model_prepare"),
               "/model/release/int8-not-prepared-refused: %s", err.msg);
    vit_model_free(m2);
out:
    free(in);
    free(want);
    free(a);
    free(b);
    vit_model_free(fresh);
    vit_model_free(m);
}

/* vitlens_data_load_model, the app's and the CLI's one loader: a model with 1000 classes and no
 * labels of its own gets ImageNet's (index 269 = timber wolf); other models keep theirs or none;
 * no path is the embedded model with its own labels. */
/* Finite weights that overflow: the final LayerNorm's scale at 3e38 makes the normalized
 * activations infinite. The forward must say so, not print a class with "nan%" (hardening 2). */
static void test_overflow_is_an_error(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/tiny-p16/model.safetensors", fixtures);
    size_t size = 0;
    unsigned char *b = test_read_file(path, &size);
    char *entry = b ? strstr((char *)b + 8, "\"norm.weight\"") : NULL;
    char *offs = entry ? strstr(entry, "\"data_offsets\":") : NULL;
    unsigned long lo = 0, hi = 0;
    uint64_t hlen = 0;
    for (int i = 0; b && i < 8; i++)
        hlen |= (uint64_t)b[i] << (8 * i);
    int ok = offs && sscanf(offs, "\"data_offsets\":[%lu,%lu]", &lo, &hi) == 2 &&
             8 + hlen + hi <= size;
    test_check(ok, "/model/overflow/fixture has norm.weight");
    if (ok) {
        const float big = 3e38f;
        for (unsigned long o = lo; o + 4 <= hi; o += 4)
            memcpy(b + 8 + hlen + o, &big, 4);
        vit_model *m = NULL;
        vit_error err = {0};
        vit_status s = vit_model_load_memory(b, size, NULL, "overflow.safetensors", &m, &err);
        test_check(s == VIT_OK, "/model/overflow/loads (finite weights) (%s)", err.msg);
        vit_session_opts o = vit_session_opts_default();
        vit_session *ses = NULL;
        float in[3 * 32 * 32], logits[16];
        for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
            in[i] = (float)(i % 7) - 3.0f;
        if (s == VIT_OK && vit_session_new(m, &o, &ses, &err) == VIT_OK) {
            s = vit_session_run(ses, in, logits, &err);
            test_check(s == VIT_ERR_FORMAT && strstr(err.msg, "gave a NaN or infinite logit"),
                       "/model/overflow/fp32-refuses-nan-logits (%s)", err.msg);
        }
        vit_session_free(ses);
        vit_model_free(m);
    }
    free(b);
}

static void test_data_loader(void)
{
    char dir[] = "/tmp/vitlens-loader-XXXXXX", path[64];
    if (!mkdtemp(dir)) {
        test_check(0, "/model/loader/tmpdir");
        return;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    const int classes[] = {1000, 3};
    for (int c = 0; c < 2; c++) {
        tt_list l;
        size_t size;
        synth_model_k(&l, 0, classes[c]);
        unsigned char *buf = serialize(&l, &size, -1, -1, -1);
        free_list(&l);
        test_write_file(path, buf, size);
        free(buf);
        vit_model *m = NULL;
        vit_error err = {0};
        vit_status st = vitlens_data_load_model(path, &m, &err);
        if (classes[c] == 1000) {
            const char *l0 = m ? vit_model_label(m, 0) : NULL;
            const char *l269 = m ? vit_model_label(m, 269) : NULL;
            test_check(st == VIT_OK && vit_model_num_labels(m) == 1000 && l0 &&
                           strcmp(l0, "tench") == 0 && l269 && strcmp(l269, "timber wolf") == 0,
                       "/model/loader/imagenet-labels (%s, 269 = %s)", st == VIT_OK ? "ok" : err.msg,
                       l269 ? l269 : "none");
        } else {
            test_check(st == VIT_OK && vit_model_num_labels(m) == 0,
                       "/model/loader/no-labels-for-3-classes (%d labels)",
                       m ? vit_model_num_labels(m) : -1);
        }
        vit_model_free(m);
    }
    unlink(path);
    rmdir(dir);
    size_t esize = 0;
    if (vitlens_data_model(&esize)) {
        vit_model *m = NULL;
        vit_error err = {0};
        vit_status st = vitlens_data_load_model(NULL, &m, &err);
        const vit_model_info *info = m ? vit_model_get_info(m) : NULL;
        test_check(st == VIT_OK && info && info->num_classes != 1000 &&
                       vit_model_num_labels(m) == info->num_classes,
                   "/model/loader/embedded (%s, %d labels)", st == VIT_OK ? "ok" : err.msg,
                   m ? vit_model_num_labels(m) : -1);
        vit_model_free(m);
    } else {
        printf("note /model/loader/embedded: this build has no embedded model: not run\n");
    }
}

int main(int argc, char **argv)
{
    fixtures = test_fixtures_dir(argc, argv, "test-model", "");
    if (!fixtures)
        return 2;
    test_synthetic_errors();
    test_golden();
    test_transformers();
    test_prepare_and_release();
    test_overflow_is_an_error();
    test_data_loader();
    return test_done();
}
