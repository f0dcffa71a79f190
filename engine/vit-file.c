/* vit-file.c — our int8 model file, `.vitq`: writing it, and reading it back.
 *
 * Format, version 1, all little-endian:
 *
 *   offset  size  field
 *        0     4  magic "VITQ"
 *        4     4  u32 version = 1 (a reader refuses newer versions with a clear message)
 *        8     4  u32 CRC-32 (IEEE) of the embedded safetensors header: bytes [16, 24 + N)
 *       12     4  u32 flags: bit 0 = per-output-channel weight scales
 *       16     …  a complete safetensors file (8-byte header length N, JSON header, data):
 *                   - every non-Linear tensor as F32 under its timm name (patch_embed.*, cls_token,
 *                     dist_token, pos_embed, norm*.*, and every Linear's bias);
 *                   - every Linear L (blocks.N.attn.qkv, blocks.N.attn.proj, blocks.N.mlp.fc1,
 *                     blocks.N.mlp.fc2, head, head_dist): "L.weight" I8 (out, in) and
 *                     "L.weight_scale" F32 (out) or (1), w ≈ scale * q;
 *                   - __metadata__: "format" = "vitq", "config" = a timm-style config.json
 *                     (architecture, layer_norm_eps, model_args.num_heads, pretrained_cfg with
 *                     input size, interpolation, mean, std and the exact vitlens_resize_size,
 *                     plus vitlens_resize_width / _height after a transformers model's
 *                     preprocessor_config.json), "labels" = a
 *                     JSON list when the model has labels, "source" = the file it came from.
 *
 * Reusing safetensors for the body means one audited parser reads both kinds of file; the
 * prelude's magic, version and checksum catch foreign, future and damaged files early. */
#include "vit-int8.h"
#include "vit-safetensors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VITQ_MAGIC "VITQ"
#define VITQ_VERSION 1u
#define VITQ_PRELUDE 16u

/* ---------------------------------------------------------------------------------------------
 * Writing */

typedef struct {
    char name[64];
    const char *dtype;
    int32_t rank;
    int64_t shape[2];
    const void *data;
    size_t bytes;
} out_tensor;

typedef struct {
    out_tensor *t;
    int32_t n, cap;
} out_list;

static int push(out_list *l, const char *name, const char *dtype, int32_t rank, int64_t a,
                int64_t b, const void *data, size_t elem)
{
    if (l->n == l->cap) {
        int32_t cap = l->cap ? 2 * l->cap : 64;
        out_tensor *t = realloc(l->t, (size_t)cap * sizeof *t);
        if (!t)
            return 0;
        l->t = t;
        l->cap = cap;
    }
    out_tensor *t = &l->t[l->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dtype;
    t->rank = rank;
    t->shape[0] = a;
    t->shape[1] = b;
    t->data = data;
    t->bytes = (size_t)a * (size_t)(rank == 2 ? b : 1) * elem;
    return 1;
}

/* A growing string buffer for the JSON header. */
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)k;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* s as a JSON string body (no quotes), escaped. */
static void sb_json_escaped(sbuf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            sb_printf(b, "\\u%04x", *p);
        else
            sb_printf(b, "%c", *p);
    }
}

static const char *interp_name(vit_interp i)
{
    return i == VIT_INTERP_BILINEAR ? "bilinear" : i == VIT_INTERP_NEAREST ? "nearest" : "bicubic";
}

/* The config.json text our loader reads back (timm's layout plus vitlens_resize_size, a
 * transformers model's fixed-size resize and its layer_norm_eps). */
static void config_json(const vit_model *m, sbuf *b)
{
    const vit_model_info *i = &m->info;
    const vit_preprocess_cfg *p = &i->pre;
    sb_printf(b, "{\"architecture\": \"");
    sb_json_escaped(b, i->name);
    sb_printf(b, "\", \"num_classes\": %d, \"layer_norm_eps\": %.9g, "
                 "\"model_args\": {\"num_heads\": %d}, "
                 "\"pretrained_cfg\": {\"input_size\": [%d, %d, %d], \"crop_pct\": %.9g, "
                 "\"vitlens_resize_size\": %d, \"interpolation\": \"%s\", ",
              i->num_classes, (double)i->ln_eps, i->num_heads, i->in_chans, i->img_size,
              i->img_size, (double)i->img_size / p->resize_size, p->resize_size,
              interp_name(p->interp));
    if (p->resize_width > 0)
        sb_printf(b, "\"vitlens_resize_width\": %d, \"vitlens_resize_height\": %d, ",
                  p->resize_width, p->resize_height);
    int nc = i->in_chans == 1 ? 1 : 3;
    sb_printf(b, "\"mean\": [");
    for (int c = 0; c < nc; c++)
        sb_printf(b, "%s%.9g", c ? ", " : "", (double)p->mean[c]);
    sb_printf(b, "], \"std\": [");
    for (int c = 0; c < nc; c++)
        sb_printf(b, "%s%.9g", c ? ", " : "", (double)p->std[c]);
    sb_printf(b, "]}}");
}

static void labels_json(const vit_model *m, sbuf *b)
{
    sb_printf(b, "[");
    for (int32_t k = 0; k < m->num_labels; k++) {
        sb_printf(b, "%s\"", k ? ", " : "");
        sb_json_escaped(b, m->labels[k]);
        sb_printf(b, "\"");
    }
    sb_printf(b, "]");
}

/* Adds a Linear's int8 weight, scale and fp32 bias. */
static int push_qlinear(out_list *l, const char *prefix, const vit_qlinear *ql)
{
    char n[64];
    snprintf(n, sizeof n, "%s.weight", prefix);
    int ok = push(l, n, "I8", 2, ql->n, ql->k, ql->q, 1);
    snprintf(n, sizeof n, "%s.weight_scale", prefix);
    ok = ok && push(l, n, "F32", 1, ql->per_channel ? ql->n : 1, 0, ql->scale, 4);
    snprintf(n, sizeof n, "%s.bias", prefix);
    return ok && push(l, n, "F32", 1, ql->n, 0, ql->bias, 4);
}

vit_status vit_model_export_vitq(const vit_model *m, int per_channel, const char *path,
                                 vit_error *err)
{
    if (!m || !path)
        return vit_fail(err, VIT_ERR_ARG, "no model or output path given");
    per_channel = per_channel ? 1 : 0;
    if (m->lite) /* packed weights only */
        return vit_fail(err, VIT_ERR_UNSUPPORTED,
                        "%s: a lite model cannot be written as .vitq; export from its "
                        ".safetensors or .vitq",
                        vit_basename(path));
    /* the model's prepared int8 weights (the file holds the portable rows: any kernel's will
     * do), else quantized here for this export alone (the scalar kernel packs nothing) */
    const vit_quant_model *q = NULL;
    for (int k = 0; k < VIT_KERNEL_COUNT && !q; k++)
        q = vit_model_quant_find(m, per_channel, (vit_kernel)k);
    vit_quant_model *qown = NULL;
    if (!q) {
        vit_status qs = vit_quant_model_derive(m, per_channel, VIT_KERNEL_SCALAR, &qown, err);
        if (qs != VIT_OK)
            return qs;
        q = qown;
    }
    const vit_model_info *i = &m->info;
    int64_t D = i->embed_dim, P = i->patch_size;
    out_list l = {0};
    int ok = 1;
    ok = ok && push(&l, "patch_embed.proj.weight", "F32", 2, D, (int64_t)i->in_chans * P * P,
                    m->w.patch_w, 4);
    ok = ok && push(&l, "patch_embed.proj.bias", "F32", 1, D, 0, m->w.patch_b, 4);
    ok = ok && push(&l, "cls_token", "F32", 1, D, 0, m->w.cls_token, 4);
    if (i->distilled)
        ok = ok && push(&l, "dist_token", "F32", 1, D, 0, m->w.dist_token, 4);
    ok = ok && push(&l, "pos_embed", "F32", 2, i->num_tokens, D, m->w.pos_embed, 4);
    char n[64];
    static const char *const leaves[4] = {"attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"};
    for (int32_t b = 0; b < i->depth && ok; b++) {
        const vit_block_weights *bw = &m->w.blocks[b];
        snprintf(n, sizeof n, "blocks.%d.norm1.weight", b);
        ok = ok && push(&l, n, "F32", 1, D, 0, bw->norm1_w, 4);
        snprintf(n, sizeof n, "blocks.%d.norm1.bias", b);
        ok = ok && push(&l, n, "F32", 1, D, 0, bw->norm1_b, 4);
        snprintf(n, sizeof n, "blocks.%d.norm2.weight", b);
        ok = ok && push(&l, n, "F32", 1, D, 0, bw->norm2_w, 4);
        snprintf(n, sizeof n, "blocks.%d.norm2.bias", b);
        ok = ok && push(&l, n, "F32", 1, D, 0, bw->norm2_b, 4);
        for (int j = 0; j < 4 && ok; j++) {
            snprintf(n, sizeof n, "blocks.%d.%s", b, leaves[j]);
            ok = push_qlinear(&l, n, &q->layers[4 * b + j]);
        }
    }
    ok = ok && push(&l, "norm.weight", "F32", 1, D, 0, m->w.norm_w, 4);
    ok = ok && push(&l, "norm.bias", "F32", 1, D, 0, m->w.norm_b, 4);
    ok = ok && push_qlinear(&l, "head", &q->layers[4 * i->depth]);
    if (i->distilled)
        ok = ok && push_qlinear(&l, "head_dist", &q->layers[4 * i->depth + 1]);

    /* The timm names above use shapes our loader expects: cls/dist tokens (1,1,D), pos_embed
     * (1,T,D), patch weight (D,C,P,P). Written with those ranks: */
    sbuf h = {0};
    sb_printf(&h, "{");
    size_t off = 0;
    for (int32_t k = 0; k < l.n; k++) {
        const out_tensor *t = &l.t[k];
        sb_printf(&h, "%s\"%s\": {\"dtype\": \"%s\", \"shape\": ", k ? ", " : "", t->name, t->dtype);
        if (strcmp(t->name, "patch_embed.proj.weight") == 0)
            sb_printf(&h, "[%lld, %d, %lld, %lld]", (long long)D, i->in_chans, (long long)P,
                      (long long)P);
        else if (strcmp(t->name, "cls_token") == 0 || strcmp(t->name, "dist_token") == 0)
            sb_printf(&h, "[1, 1, %lld]", (long long)D);
        else if (strcmp(t->name, "pos_embed") == 0)
            sb_printf(&h, "[1, %d, %lld]", i->num_tokens, (long long)D);
        else if (t->rank == 2)
            sb_printf(&h, "[%lld, %lld]", (long long)t->shape[0], (long long)t->shape[1]);
        else
            sb_printf(&h, "[%lld]", (long long)t->shape[0]);
        /* keep every tensor 4-byte aligned so F32 data can be read in place later */
        size_t pad = (4 - off % 4) % 4;
        off += pad;
        sb_printf(&h, ", \"data_offsets\": [%zu, %zu]}", off, off + t->bytes);
        off += t->bytes;
    }
    sb_printf(&h, ", \"__metadata__\": {\"format\": \"vitq\", \"config\": \"");
    sbuf cfg = {0};
    config_json(m, &cfg);
    if (cfg.s)
        sb_json_escaped(&h, cfg.s);
    free(cfg.s);
    sb_printf(&h, "\"");
    if (m->num_labels) {
        sbuf lab = {0};
        labels_json(m, &lab);
        sb_printf(&h, ", \"labels\": \"");
        if (lab.s)
            sb_json_escaped(&h, lab.s);
        free(lab.s);
        sb_printf(&h, "\"");
    }
    sb_printf(&h, ", \"source\": \"");
    sb_json_escaped(&h, i->name);
    sb_printf(&h, "\"}}");
    while (!h.oom && h.n % 8)
        sb_printf(&h, " ");

    vit_status st = VIT_OK;
    if (!ok || h.oom) {
        st = vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory writing the model", vit_basename(path));
        goto done;
    }
    /* through the one output writer: a failed export never leaves half a file or a temporary */
    vit_output *out = NULL;
    if ((st = vit_output_open(path, &out, err)) != VIT_OK)
        goto done;
    FILE *f = vit_output_stream(out);
    uint8_t pre[VITQ_PRELUDE + 8];
    memcpy(pre, VITQ_MAGIC, 4);
    vit_wr32(pre + 4, VITQ_VERSION);
    vit_wr32(pre + 12, per_channel ? 1u : 0u);
    vit_wr64(pre + 16, (uint64_t)h.n);
    /* the checksum covers the header length and the JSON header */
    vit_wr32(pre + 8, vit_crc32_update(vit_crc32(pre + 16, 8), h.s, h.n));
    int wok = fwrite(pre, 1, sizeof pre, f) == sizeof pre && fwrite(h.s, 1, h.n, f) == h.n;
    size_t pos = 0;
    static const uint8_t zeros[4];
    for (int32_t k = 0; k < l.n && wok; k++) {
        size_t pad = (4 - pos % 4) % 4;
        wok = fwrite(zeros, 1, pad, f) == pad && fwrite(l.t[k].data, 1, l.t[k].bytes, f) == l.t[k].bytes;
        pos += pad + l.t[k].bytes;
    }
    if (wok) {
        st = vit_output_commit(out, err);
    } else {
        st = vit_fail(err, VIT_ERR_IO, "%s: cannot write: %s", vit_basename(path), strerror(errno));
        vit_output_abort(out);
    }
done:
    free(h.s);
    free(l.t);
    vit_quant_model_free(qown);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * Reading */

int vit_file_is_vitq(const uint8_t *data, size_t size)
{
    return size >= 4 && memcmp(data, VITQ_MAGIC, 4) == 0;
}

vit_status vit_model_from_vitq(const uint8_t *data, size_t size, const char *path, int file_backed,
                               vit_model **out, vit_error *err)
{
    *out = NULL;
    const char *fname = vit_basename(path);
    if (size < VITQ_PRELUDE + 8)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: truncated .vitq file (%zu bytes)", fname, size);
    uint32_t version = vit_rd32(data + 4);
    if (version > VITQ_VERSION)
        return vit_fail(err, VIT_ERR_UNSUPPORTED,
                        "%s: .vitq version %u was written by a newer ViT Lens; this one reads "
                        "version %u",
                        fname, version, VITQ_VERSION);
    if (version == 0)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: .vitq version 0 is not valid", fname);
    uint32_t flags = vit_rd32(data + 12);
    if (flags & ~1u)
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: .vitq has unknown flags 0x%x", fname, flags);
    uint64_t hlen = vit_rd64(data + VITQ_PRELUDE);
    if (hlen > size - VITQ_PRELUDE - 8)
        return vit_fail(err, VIT_ERR_FORMAT,
                        "%s: .vitq header length %llu is past the end of the file: truncated", fname,
                        (unsigned long long)hlen);
    uint32_t want = vit_rd32(data + 8);
    uint32_t got = vit_crc32(data + VITQ_PRELUDE, 8 + (size_t)hlen);
    if (want != got)
        return vit_fail(err, VIT_ERR_FORMAT,
                        "%s: .vitq header checksum mismatch (stored %08x, computed %08x): the file "
                        "is damaged",
                        fname, want, got);
    vit_st_file st;
    vit_status s = vit_st_parse(data + VITQ_PRELUDE, size - VITQ_PRELUDE, path, &st, err);
    if (s != VIT_OK)
        return s;
    st.file_backed = file_backed;
    const char *format = vit_json_string(st.metadata, "format");
    const char *cfg_text = vit_json_string(st.metadata, "config");
    vit_json *config = NULL;
    if (!format || strcmp(format, "vitq") != 0 || !cfg_text) {
        s = vit_fail(err, VIT_ERR_FORMAT, "%s: .vitq metadata lacks its format or config", fname);
    } else {
        char jerr[160];
        config = vit_json_parse(cfg_text, strlen(cfg_text), jerr, sizeof jerr);
        if (!config)
            s = vit_fail(err, VIT_ERR_FORMAT, "%s: .vitq config is not valid JSON (%s)", fname, jerr);
    }
    if (s == VIT_OK)
        s = vit_model_from_safetensors(&st, config, NULL, path, fname, (int)(flags & 1u), out, err);
    if (s == VIT_OK) {
        (*out)->info.format = VIT_FORMAT_VITQ;
        (*out)->info.file_bytes = (int64_t)size;
    }
    vit_json_free(config);
    vit_st_close(&st);
    return s;
}
