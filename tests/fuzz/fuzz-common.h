/* fuzz-common.h — helpers shared by the libFuzzer harnesses in tests/fuzz/ (built by
 * tools/fuzz.sh with clang -fsanitize=fuzzer,address,undefined):
 *   - fuzz_synth_model(): a small, valid timm-layout safetensors file made in memory, for the
 *     harnesses that fuzz what comes with a model (config.json, labels);
 *   - fuzz_exercise_model(): what a user does with a model that loaded: read its info and
 *     labels, make a session of every variant it supports and run it once, so a fuzzed file that
 *     loads is also run (shape bugs would show there, not in the loader);
 *   - fuzz_cstring(): the input as a NUL-terminated string. */
#ifndef VITLENS_FUZZ_COMMON_H
#define VITLENS_FUZZ_COMMON_H

#include "../../engine/vit.h"
#include "../timm-layout.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A scratch file for harnesses that must hand the engine a path: made in $TMPDIR, unlinked at
 * once and kept open, reached through /proc/self/fd/N (written into path); returns its fd. */
static int fuzz_scratch_file(const char *name, char *path, size_t size)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char tmpl[96];
    snprintf(tmpl, sizeof tmpl, "%.40s/%.20s-XXXXXX", dir, name);
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        perror(name);
        abort();
    }
    unlink(tmpl);
    snprintf(path, size, "/proc/self/fd/%d", fd);
    return fd;
}

/* Models bigger than this are loaded but not run (a fuzzed shape can make a valid model of a
 * few hundred MB, slow under ASan and not more interesting). */
#define FUZZ_MAX_RUN_PARAMS 400000

typedef struct {
    char *h;
    size_t hn, hcap;
    uint8_t *d;
    size_t dn, dcap;
} fuzz_st_writer;

static void fuzz_grow(void **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c);
    if (!q)
        abort(); /* harness bug, not an engine finding */
    *p = q;
    *cap = c;
}

/* One F32 tensor of shape (a, b, c, d) with rank dims; values from a small LCG, norm weights
 * near 1. */
static void fuzz_st_add(fuzz_st_writer *w, const char *name, int rank, int64_t a, int64_t b,
                        int64_t c, int64_t d)
{
    static uint32_t rng = 2024;
    int64_t s[4] = {a, b, c, d}, n = 1;
    char shape[96];
    size_t o = 0;
    for (int i = 0; i < rank; i++) {
        n *= s[i];
        o += (size_t)snprintf(shape + o, sizeof shape - o, "%s%lld", i ? "," : "", (long long)s[i]);
    }
    char entry[256];
    int k = snprintf(entry, sizeof entry, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%s],"
                     "\"data_offsets\":[%zu,%zu]}",
                     w->hn > 1 ? "," : "", name, shape, w->dn, w->dn + (size_t)n * 4);
    fuzz_grow((void **)&w->h, &w->hcap, w->hn + (size_t)k + 64);
    memcpy(w->h + w->hn, entry, (size_t)k);
    w->hn += (size_t)k;
    fuzz_grow((void **)&w->d, &w->dcap, w->dn + (size_t)n * 4);
    int norm = strstr(name, "norm") && strstr(name, "weight");
    for (int64_t i = 0; i < n; i++) {
        rng = rng * 1664525u + 1013904223u;
        float v = ((float)(rng >> 8) / 16777216.0f - 0.5f) * 0.2f + (norm ? 1.0f : 0.0f);
        memcpy(w->d + w->dn + 4 * i, &v, 4);
    }
    w->dn += (size_t)n * 4;
}

/* A ViT with embed dim D, C input channels, patch P, a grid×grid patch grid, `depth` blocks,
 * mlp hidden H and K classes. Returns the safetensors bytes (malloc'd) and their size. */
static uint8_t *fuzz_synth_model(int D, int C, int P, int grid, int depth, int H, int K,
                                 size_t *size)
{
    fuzz_st_writer w = {0};
    fuzz_grow((void **)&w.h, &w.hcap, 64);
    w.h[0] = '{';
    w.hn = 1;
    fuzz_st_add(&w, "patch_embed.proj.weight", 4, D, C, P, P);
    fuzz_st_add(&w, "patch_embed.proj.bias", 1, D, 0, 0, 0);
    fuzz_st_add(&w, "cls_token", 3, 1, 1, D, 0);
    fuzz_st_add(&w, "pos_embed", 3, 1, grid * grid + 1, D, 0);
    for (int b = 0; b < depth; b++) {
        char k[64];
#define FUZZ_BL(leaf, rank, r, c)                                                                  \
    snprintf(k, sizeof k, "blocks.%d.%s", b, leaf);                                                \
    fuzz_st_add(&w, k, rank, r, c, 0, 0);
        TIMM_BLOCK_TENSORS(FUZZ_BL, D, H)
#undef FUZZ_BL
    }
    fuzz_st_add(&w, "norm.weight", 1, D, 0, 0, 0);
    fuzz_st_add(&w, "norm.bias", 1, D, 0, 0, 0);
    fuzz_st_add(&w, "head.weight", 2, K, D, 0, 0);
    fuzz_st_add(&w, "head.bias", 1, K, 0, 0, 0);
    w.h[w.hn++] = '}';
    while (w.hn % 8)
        w.h[w.hn++] = ' ';
    *size = 8 + w.hn + w.dn;
    uint8_t *buf = malloc(*size);
    if (!buf)
        abort();
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((uint64_t)w.hn >> (8 * i));
    memcpy(buf + 8, w.h, w.hn);
    memcpy(buf + 8 + w.hn, w.d, w.dn);
    free(w.h);
    free(w.d);
    return buf;
}

/* The input as a NUL-terminated string (caller frees). */
static char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Everything a caller may do with a model that loaded. Any engine error here is fine; a crash,
 * a leak or a sanitizer report is the finding. */
static void fuzz_exercise_model(vit_model *m)
{
    const vit_model_info *info = vit_model_get_info(m);
    if (!info)
        abort();
    for (int32_t i = -1; i <= info->num_classes; i++) {
        const char *l = vit_model_label(m, i);
        if (l)
            (void)strlen(l);
    }
    if (info->num_params > FUZZ_MAX_RUN_PARAMS)
        return;
    size_t in_n = (size_t)info->in_chans * (size_t)info->img_size * (size_t)info->img_size;
    float *input = calloc(in_n ? in_n : 1, sizeof *input);
    float *logits = calloc((size_t)info->num_classes, sizeof *logits);
    if (!input || !logits)
        abort();
    for (size_t i = 0; i < in_n; i++)
        input[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    for (int v = 0; v < VIT_VARIANT_COUNT; v++) {
        vit_session_opts o = vit_session_opts_default();
        o.variant = (vit_variant)v;
        o.threads = v ? 2 : 1; /* int8 and optimized through the pool with a worker */
        if (!vit_model_supports(m, o.variant))
            continue;
        vit_session *s = NULL;
        vit_error err;
        if (vit_session_new(m, &o, &s, &err) == VIT_OK) {
            vit_session_run(s, input, logits, &err);
            vit_session_free(s);
        }
    }
    free(input);
    free(logits);
}

#endif /* VITLENS_FUZZ_COMMON_H */
