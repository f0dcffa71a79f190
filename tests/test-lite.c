/* test-lite.c — lite model files (.vitl): export, mmap load (weights used in place, not copied),
 * logits identical to the in-memory optimized variant, files packed for another kernel
 * (repacked on load), and damaged, truncated, foreign and future files refused with a message
 * that names the file. */
#include "../engine/vit-impl.h"
#include "../engine/vit-json.h"
#include "../engine/vit-opt.h"
#include "test-cases.h"
#include "vitlens-engine-env.h"

#include <math.h>
#include <stdint.h>
#include <unistd.h>

static const char *fixtures;

static vit_model *load(const char *path)
{
    vit_error err = {0};
    vit_model *m = NULL;
    vit_model_load(path, &m, &err);
    return m;
}

/* Logits of an optimized session on m (threads), into out; 1 on success. */
static int run_opt(const vit_model *m, int threads, const float *input, float *out, char *kernel)
{
    vit_error err = {0};
    vit_session_opts o = vit_session_opts_default();
    vitlens_session_opts_from_env(&o); /* VIT_KERNEL, as the programs read it */
    o.variant = VIT_VARIANT_OPTIMIZED;
    o.threads = threads;
    vit_session *s = NULL;
    int ok = vit_session_new(m, &o, &s, &err) == VIT_OK &&
             vit_session_run(s, input, out, &err) == VIT_OK;
    if (kernel)
        snprintf(kernel, 32, "%s", s ? vit_session_kernel(s) : "?");
    vit_session_free(s);
    return ok;
}

/* 1 when p lies in a mapping of a file whose path contains `name` (/proc/self/maps). */
static int in_file_mapping(const void *p, const char *name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && (uintptr_t)p >= lo && (uintptr_t)p < hi)
            found = strstr(line, name) != NULL;
    }
    fclose(f);
    return found;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Write data with the header CRC fixed up (for checks past the checksum). */
static void write_fixed(const char *path, unsigned char *data, size_t size)
{
    uint32_t n = data[40] | data[41] << 8 | data[42] << 16 | (uint32_t)data[43] << 24;
    put32(data + 8, vit_crc32(data + 12, 256 + (size_t)n * 64 - 12));
    test_write_file(path, data, size);
}

static void test_model(const vit_json *c)
{
    const char *dir = vit_json_string(c, "dir");
    int32_t K = (int32_t)vit_json_number(c, "num_classes", 0);
    int32_t C = (int32_t)vit_json_number(c, "in_chans", 0), S = (int32_t)vit_json_number(c, "img_size", 0);
    char mpath[1024];
    snprintf(mpath, sizeof mpath, "%s/models/%s/model.safetensors", fixtures, dir);
    vit_error err = {0};
    vit_model *m = load(mpath);
    test_check(m != NULL, "/lite/%s/load-source", c->key);
    if (!m)
        return;
    /* labels travel in the file */
    char labels[1024] = "";
    for (int32_t k = 0; k < K; k++)
        snprintf(labels + strlen(labels), sizeof labels - strlen(labels), "class %d\n", (int)k);
    vit_model_set_labels(m, labels, &err);

    size_t in_n = (size_t)C * S * S;
    float *input = malloc(in_n * sizeof(float));
    for (size_t k = 0; k < in_n; k++)
        input[k] = (float)((k * 7919) % 1000) / 250.0f - 2.0f;
    float *ref = calloc(K, 4), *got = calloc(K, 4);
    char kref[32], kgot[32];
    run_opt(m, 2, input, ref, kref);

    char out[] = "/tmp/vitlens-lite-test-XXXXXX.vitl";
    int fd = mkstemps(out, 5);
    close(fd);
    vit_status s = vit_model_export_vitl(m, 0, out, &err);
    test_check(s == VIT_OK, "/lite/%s/export (%s)", c->key, s ? err.msg : "ok");
    vit_model *q = NULL;
    s = vit_model_load(out, &q, &err);
    test_check(s == VIT_OK, "/lite/%s/load (%s)", c->key, s ? err.msg : "ok");
    if (s == VIT_OK) {
        const vit_model_info *a = vit_model_get_info(m), *b = vit_model_get_info(q);
        test_check(b->format == VIT_FORMAT_VITL && b->embed_dim == a->embed_dim &&
                       b->depth == a->depth && b->num_heads == a->num_heads &&
                       b->mlp_hidden == a->mlp_hidden && b->distilled == a->distilled &&
                       b->num_tokens == a->num_tokens && b->in_chans == a->in_chans &&
                       b->pre.resize_size == a->pre.resize_size && b->pre.interp == a->pre.interp &&
                       b->pre.mean[1] == a->pre.mean[1] && b->pre.std[2] == a->pre.std[2] &&
                       strcmp(b->name, a->name) == 0 && b->num_params == a->num_params &&
                       vit_model_num_labels(q) == K &&
                       strcmp(vit_model_label(q, K - 1), vit_model_label(m, K - 1)) == 0,
                   "/lite/%s/info-and-labels-round-trip", c->key);
        test_check(!vit_model_supports(q, VIT_VARIANT_FP32) && !vit_model_supports(q, VIT_VARIANT_INT8) &&
                       vit_model_supports(q, VIT_VARIANT_OPTIMIZED),
                   "/lite/%s/variants (optimized only)", c->key);
        const vit_opt_weights *w = vit_lite_weights(q);
        const void *wp = w ? (w->layers[0].packed ? w->layers[0].packed : (const void *)w->layers[0].q) : NULL;
        test_check(wp && ((uintptr_t)wp % 64) == 0 && !in_file_mapping(wp, "vitlens-lite-test-"),
                   "/lite/%s/weights-used-in-place (64-byte aligned, in private memory, not a file "
                   "mapping)", c->key);
        for (int threads = 1; threads <= 3; threads++) {
            int ok = run_opt(q, threads, input, got, kgot);
            test_check(ok && strcmp(kgot, kref) == 0 && memcmp(got, ref, (size_t)K * 4) == 0,
                       "/lite/%s/%dt logits bit-identical to the in-memory optimized variant (%s)",
                       c->key, threads, kgot);
        }
        /* the file truncated, then rewritten in place with other bytes: the loaded model neither
         * crashes (a mapping would SIGBUS) nor changes (a mapping would read the new bytes) */
        {
            size_t fsize = 0;
            unsigned char *bytes = test_read_file(out, &fsize);
            if (truncate(out, 0) == 0 && bytes) {
                int ok = run_opt(q, 2, input, got, kgot) && memcmp(got, ref, (size_t)K * 4) == 0;
                for (size_t i = 0; i < fsize; i++)
                    bytes[i] ^= 0x5A;
                test_write_file(out, bytes, fsize);
                ok = ok && run_opt(q, 2, input, got, kgot) && memcmp(got, ref, (size_t)K * 4) == 0;
                test_check(ok, "/lite/%s/file-truncated-and-rewritten-under-the-model", c->key);
                for (size_t i = 0; i < fsize; i++)
                    bytes[i] ^= 0x5A;
                test_write_file(out, bytes, fsize);
            } else {
                test_check(0, "/lite/%s/file-truncated-and-rewritten-under-the-model: cannot "
                              "rewrite %s", c->key, out);
            }
            free(bytes);
        }
        /* a lite model cannot become a .vitq; it can be written again as .vitl, byte for byte */
        char out2[] = "/tmp/vitlens-lite-test-XXXXXX.vitq";
        fd = mkstemps(out2, 5);
        close(fd);
        s = vit_model_export_vitq(q, 0, out2, &err);
        test_check(s == VIT_ERR_UNSUPPORTED, "/lite/%s/no-vitq-from-lite (%s)", c->key, err.msg);
        s = vit_model_export_vitl(q, 0, out2, &err);
        size_t n1, n2;
        unsigned char *d1 = test_read_file(out, &n1), *d2 = test_read_file(out2, &n2);
        test_check(s == VIT_OK && d1 && d2 && n1 == n2 && memcmp(d1, d2, n1) == 0,
                   "/lite/%s/re-export-identical", c->key);
        free(d1);
        free(d2);
        unlink(out2);
    }
    vit_model_free(q);
    q = NULL;

    /* packed for another kernel: repacked on load, same logits as that kernel in memory */
    for (vit_kernel k = VIT_KERNEL_SCALAR; k < VIT_KERNEL_COUNT; k++) {
        if (!vit_kernel_supported(k))
            continue;
        char other[] = "/tmp/vitlens-lite-test-XXXXXX.vitl";
        fd = mkstemps(other, 5);
        close(fd);
        setenv("VIT_KERNEL", vit_kernel_name(k), 1);
        vit_model *mk = load(mpath);
        vit_session_opts env = vit_session_opts_default();
        vitlens_session_opts_from_env(&env); /* packed for VIT_KERNEL, as vitlens-cli export does */
        s = mk ? vit_model_export_vitl_for(mk, 0, env.kernel, other, &err) : VIT_ERR_IO;
        vit_model_free(mk);
        unsetenv("VIT_KERNEL");
        q = s == VIT_OK ? load(other) : NULL;
        int ok = q && run_opt(q, 2, input, got, kgot);
        test_check(ok && strcmp(kgot, kref) == 0 && memcmp(got, ref, (size_t)K * 4) == 0,
                   "/lite/%s/packed-for-%s loads under %s, same logits", c->key, vit_kernel_name(k),
                   kref);
        vit_model_free(q);
        q = NULL;
        /* and the other way: this CPU's file, run as if only kernel k were there */
        setenv("VIT_KERNEL", vit_kernel_name(k), 1);
        vit_model *mk2 = load(mpath);
        float *want = calloc(K, 4);
        int ok2 = mk2 && run_opt(mk2, 2, input, want, NULL);
        q = load(out);
        ok2 = ok2 && q && run_opt(q, 2, input, got, kgot);
        unsetenv("VIT_KERNEL");
        test_check(ok2 && strcmp(kgot, vit_opt_ops_for(k)->name) == 0 && memcmp(got, want, (size_t)K * 4) == 0,
                   "/lite/%s/%s-file-under-%s repacked, logits identical to %s in memory", c->key,
                   kref, vit_kernel_name(k), vit_kernel_name(k));
        vit_model_free(q);
        q = NULL;
        vit_model_free(mk2);
        free(want);
        unlink(other);
    }

    /* damage */
    size_t size;
    unsigned char *data = test_read_file(out, &size);
    int accepted = 0, unnamed = 0, tried = 0;
    for (size_t cut = 0; data && cut < size; cut += cut < 2048 ? 7 : (size / 61) | 1) {
        test_write_file(out, data, cut);
        tried++;
        if (vit_model_load(out, &q, &err) == VIT_OK)
            accepted++;
        else if (!strstr(err.msg, "vitlens-lite-test-"))
            unnamed++;
        vit_model_free(q);
        q = NULL;
    }
    test_check(data && accepted == 0 && unnamed == 0,
               "/lite/%s/truncated-everywhere (%d cuts: %d accepted, %d unnamed)", c->key, tried,
               accepted, unnamed);
    if (data) {
        data[300] ^= 0x10; /* in the tensor table */
        test_write_file(out, data, size);
        s = vit_model_load(out, &q, &err);
        test_check(s == VIT_ERR_FORMAT && strstr(err.msg, "checksum mismatch"),
                   "/lite/%s/damaged-table (%s)", c->key, err.msg);
        data[300] ^= 0x10;
        /* in the data: a byte of the first tensor (the patch weights); padding is not checked */
        size_t at = 0;
        for (int k = 0; k < 8; k++)
            at |= (size_t)data[256 + 48 + k] << (8 * k);
        at += 5;
        data[at] ^= 0x01;
        test_write_file(out, data, size);
        s = vit_model_load(out, &q, &err);
        test_check(s == VIT_ERR_FORMAT && strstr(err.msg, "checksum mismatch") && strstr(err.msg, "tensor"),
                   "/lite/%s/damaged-data (%s)", c->key, err.msg);
        data[at] ^= 0x01;
        /* a NaN in an fp32 tensor (norm.weight) with a valid checksum: refused, as safetensors
         * and .vitq refuse it (the int8 path clamped it into a confident answer) */
        uint32_t ntab = data[40] | data[41] << 8 | data[42] << 16 | (uint32_t)data[43] << 24;
        int found = 0;
        for (uint32_t k = 0; k < ntab && !found; k++) {
            unsigned char *e = data + 256 + (size_t)k * 64;
            if (strcmp((char *)e, "norm.weight") != 0)
                continue;
            size_t off = 0;
            for (int b = 0; b < 8; b++)
                off |= (size_t)e[48 + b] << (8 * b);
            const uint32_t rows = e[36] | e[37] << 8 | e[38] << 16 | (uint32_t)e[39] << 24,
                           cols = e[40] | e[41] << 8 | e[42] << 16 | (uint32_t)e[43] << 24;
            unsigned char keep[4];
            memcpy(keep, data + off + 4, 4);
            const float nan = NAN;
            memcpy(data + off + 4, &nan, 4);
            uint64_t sum = vit_lite_checksum(data + off, (size_t)rows * cols * 4);
            unsigned char keep_sum[8];
            memcpy(keep_sum, e + 56, 8);
            for (int b = 0; b < 8; b++)
                e[56 + b] = (unsigned char)(sum >> (8 * b));
            write_fixed(out, data, size);
            s = vit_model_load(out, &q, &err);
            test_check(s == VIT_ERR_FORMAT && strstr(err.msg, "tensor norm.weight contains NaN"),
                       "/lite/%s/nan-weight (%s)", c->key, err.msg);
            vit_model_free(q);
            q = NULL;
            memcpy(data + off + 4, keep, 4);
            memcpy(e + 56, keep_sum, 8);
            found = 1;
        }
        test_check(found, "/lite/%s/nan-weight: norm.weight in the table", c->key);
        put32(data + 4, 7);
        write_fixed(out, data, size);
        s = vit_model_load(out, &q, &err);
        test_check(s == VIT_ERR_UNSUPPORTED && strstr(err.msg, "version 7 was written by a newer"),
                   "/lite/%s/future-version (%s)", c->key, err.msg);
        put32(data + 4, 1);
        const uint32_t packed_for = (uint32_t)data[24] | (uint32_t)data[25] << 8;
        put32(data + 24, 9);
        write_fixed(out, data, size);
        s = vit_model_load(out, &q, &err);
        test_check(s == VIT_ERR_UNSUPPORTED && strstr(err.msg, "kernel 9"),
                   "/lite/%s/unknown-kernel (%s)", c->key, err.msg);
        /* another kernel's name on this file's layout, whichever kernel packed it (the
         * loader checks the layout against the name, whatever this CPU runs) */
        put32(data + 24, packed_for == VIT_KERNEL_AVX2 ? VIT_KERNEL_AVX512_VNNI : VIT_KERNEL_AVX2);
        write_fixed(out, data, size);
        s = vit_model_load(out, &q, &err);
        test_check(s != VIT_OK && strstr(err.msg, "layout"),
                   "/lite/%s/layout-mismatch (%s)", c->key, err.msg);
        /* foreign: the magic and garbage */
        for (size_t k = 4; k < size; k++)
            data[k] = (unsigned char)(k * 131 + 7);
        test_write_file(out, data, size);
        s = vit_model_load(out, &q, &err);
        test_check(s != VIT_OK && strstr(err.msg, "vitlens-lite-test-"), "/lite/%s/foreign (%s)",
                   c->key, err.msg);
    }
    vit_model_free(q);
    free(data);
    unlink(out);
    free(input);
    free(ref);
    free(got);
    vit_model_free(m);
}

int main(int argc, char **argv)
{
    fixtures = test_fixtures_dir(argc, argv, "test-lite", "");
    if (!fixtures)
        return 2;
    unsetenv("VIT_KERNEL");
    vit_json *cases = test_load_cases(fixtures, "lite");
    for (const vit_json *c = test_first_case(cases); c; c = c->next)
        test_model(c);
    vit_json_free(cases);
    return test_done();
}
