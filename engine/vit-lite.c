/* vit-lite.c — lite model files, `.vitl`: the optimized variant's weights in the exact layout its
 * kernels read (int8 weights prepacked for one kernel, 64-byte aligned), so that loading is one
 * read into private memory plus checks: no repacking, no conversion. (Not an mmap: a mapped
 * file truncated or rewritten under a session crashed it or changed its weights; see vit-io.c.)
 *
 * Format, version 1, all little-endian:
 *
 *   offset  size  field
 *        0     4  magic "VITL"
 *        4     4  u32 version = 1 (newer versions are refused with a message)
 *        8     4  u32 CRC-32 (IEEE) of bytes [12, table end): the rest of the header and the table
 *       12     4  u32 header bytes = 256
 *       16     8  u64 file bytes (a shorter file is truncated)
 *       24     4  u32 kernel the weights are packed for (vit_kernel: 0 scalar, 1 avx2,
 *                 2 avx512-vnni)
 *       28     8  u32 pack_vec, u32 pack_panel: that kernel's packed layout (vit-quant.h)
 *       36     4  u32 flags: bit 0 = per-output-channel weight scales
 *       40     4  u32 tensor count N
 *       44     4  u32 table offset = 256 (entries of 64 bytes)
 *       48    44  u32 img_size, patch_size, in_chans, embed_dim, depth, num_heads, mlp_hidden,
 *                 num_classes, distilled, num_tokens, num_patches
 *       92    36  u32 resize_size, interpolation, channels; f32 mean[3], std[3]
 *      128     8  u64 num_params
 *      136     4  f32 LayerNorm eps (0: 1e-6, as files written before the field)
 *      140     8  u32 resize_width, resize_height (0, 0: the shorter-side resize to resize_size;
 *                 else transformers' fixed-size resize, vit_preprocess_cfg)
 *      148   108  zeros
 *      256  64 N  tensor table: char name[32] (NUL-padded), u32 dtype (0 f32, 1 i8, 2 i32,
 *                 3 text: rows = bytes), u32 rows, u32 cols, u32 zero, u64 offset (a multiple of 64),
 *                 u64 checksum of the data (fletcher-style, 64 bit; see vit_lite_checksum)
 *        …        data, each tensor at its 64-byte aligned offset
 *
 * Tensors: for each int8 Linear L (patch, blocks.N.{qkv,proj,fc1,fc2}, head, head_dist):
 * "L.w" the packed weights (the plain (n, k) rows for the scalar kernel), "L.scale" (n) (the
 * patch Linear's per output channel always; the others' per the flags),
 * "L.rowsum" (n) int32, "L.bias" (n); "patch.weight" fp32 (D, C*P*P) when the patch
 * embedding runs in fp32 (C*P*P <= VIT_OPT_PATCH_F32_MAX); "blocks.N.qkv.scale_q" and "blocks.N.qkv.bias_q" with the
 * q rows times hd^-0.5; the LayerNorms, cls_token, dist_token, pos_embed under timm's names;
 * "name" and "labels" (newline-separated) as text.
 *
 * Checks on load: size, magic, version, header CRC, the table (names, dtypes, offsets inside the
 * file and aligned, shapes against the header's model), every tensor's checksum, the kernel
 * (unknown: refused; known but missing on this CPU: the session repacks from the stored int8
 * weights). */
#include "vit-opt.h"
#include "vit-safetensors.h"
#include "vit-int8.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define VITL_MAGIC "VITL"
#define VITL_VERSION 1u
#define VITL_HEADER 256u
#define VITL_ENTRY 64u
#define VITL_NAME 32
#define VITL_MAX_TENSORS 4096u

enum { DT_F32 = 0, DT_I8 = 1, DT_I32 = 2, DT_TEXT = 3 };

/* A fast 64-bit checksum of the data (memory speed, so every load can afford it): 16 lanes of
 * Fletcher sums over 32-bit words (a += w; b += a), mixed at the end. Catches flipped, zeroed
 * and swapped words; not a cryptographic hash. */
uint64_t vit_lite_checksum(const uint8_t *p, size_t n)
{
    uint64_t a[16] = {0}, b[16] = {0};
    size_t words = n / 4, i = 0;
    for (; i + 16 <= words; i += 16) {
        uint32_t w[16];
        memcpy(w, p + i * 4, sizeof w);
        for (int l = 0; l < 16; l++) {
            a[l] += w[l];
            b[l] += a[l];
        }
    }
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    for (; i < words; i++)
        h = (h ^ vit_rd32(p + i * 4)) * 0x100000001B3ull;
    for (size_t t = words * 4; t < n; t++)
        h = (h ^ p[t]) * 0x100000001B3ull;
    for (int l = 0; l < 16; l++) {
        h = (h ^ a[l]) * 0xBF58476D1CE4E5B9ull;
        h = (h ^ b[l]) * 0x94D049BB133111EBull;
        h ^= h >> 31;
    }
    return h;
}

/* ---------------------------------------------------------------------------------------------
 * The tensor list (what a file holds), used by the writer and the reader */

typedef struct {
    char name[VITL_NAME];
    uint32_t dtype, rows, cols;
    const void *data; /* writer: the source; reader: into the mapping */
    uint64_t offset, bytes, sum;
} lite_tensor;

typedef struct {
    lite_tensor *t;
    uint32_t n, cap;
    int oom;
} lite_list;

static lite_tensor *add(lite_list *l, const char *name, uint32_t dtype, uint32_t rows,
                        uint32_t cols, const void *data, uint64_t bytes)
{
    if (l->oom)
        return NULL;
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 128;
        lite_tensor *t = realloc(l->t, (size_t)cap * sizeof *t);
        if (!t) {
            l->oom = 1;
            return NULL;
        }
        l->t = t;
        l->cap = cap;
    }
    lite_tensor *t = &l->t[l->n++];
    memset(t, 0, sizeof *t);
    size_t len = strlen(name);
    memcpy(t->name, name, len < VITL_NAME ? len : VITL_NAME - 1); /* names are short: < 32 */
    t->dtype = dtype;
    t->rows = rows;
    t->cols = cols;
    t->data = data;
    t->bytes = bytes;
    return t;
}

static const char *const linear_leaf[4] = {"qkv", "proj", "fc1", "fc2"};

static void linear_name(char *buf, size_t size, const vit_model_info *i, int32_t layer,
                        const char *what)
{
    if (layer < 0)
        snprintf(buf, size, "patch.%s", what);
    else if (layer < 4 * i->depth)
        snprintf(buf, size, "blocks.%d.%s.%s", (int)(layer / 4), linear_leaf[layer % 4], what);
    else
        snprintf(buf, size, "%s.%s", layer == 4 * i->depth ? "head" : "head_dist", what);
}

/* The weight bytes of a Linear as stored: the packed layout, or q for the scalar kernel. */
static const void *linear_bytes(const vit_qlinear *ql, uint64_t *bytes)
{
    if (ql->packed) {
        *bytes = ql->packed_bytes;
        return ql->packed;
    }
    *bytes = (uint64_t)ql->n * (uint64_t)ql->k;
    return ql->q;
}

static void add_linear(lite_list *l, const vit_model_info *i, int32_t layer, const vit_qlinear *ql)
{
    char n[64];
    uint64_t bytes;
    const void *w = linear_bytes(ql, &bytes);
    linear_name(n, sizeof n, i, layer, "w");
    add(l, n, DT_I8, (uint32_t)ql->n, (uint32_t)ql->k, w, bytes);
    linear_name(n, sizeof n, i, layer, "scale");
    add(l, n, DT_F32, (uint32_t)ql->n, 1, ql->scale, (uint64_t)ql->n * 4);
    linear_name(n, sizeof n, i, layer, "rowsum");
    add(l, n, DT_I32, (uint32_t)ql->n, 1, ql->row_sum, (uint64_t)ql->n * 4);
    linear_name(n, sizeof n, i, layer, "bias");
    add(l, n, DT_F32, (uint32_t)ql->n, 1, ql->bias, (uint64_t)ql->n * 4);
}

/* Every tensor of a model's optimized weights, in file order (text tensors filled by caller). */
static void list_tensors(lite_list *l, const vit_model *m, const vit_opt_weights *w)
{
    const vit_model_info *i = &m->info;
    const uint32_t D = (uint32_t)i->embed_dim, T = (uint32_t)i->num_tokens;
    char n[64];
    add_linear(l, i, -1, w->patch);
    if (w->patch_f32)
        add(l, "patch.weight", DT_F32, D, (uint32_t)(i->in_chans * i->patch_size * i->patch_size),
            w->patch_f32, (uint64_t)D * i->in_chans * i->patch_size * i->patch_size * 4);
    add(l, "cls_token", DT_F32, D, 1, m->w.cls_token, (uint64_t)D * 4);
    if (i->distilled)
        add(l, "dist_token", DT_F32, D, 1, m->w.dist_token, (uint64_t)D * 4);
    add(l, "pos_embed", DT_F32, T, D, m->w.pos_embed, (uint64_t)T * D * 4);
    for (int32_t b = 0; b < i->depth; b++) {
        const vit_block_weights *bw = &m->w.blocks[b];
        static const char *const ln[4] = {"norm1.weight", "norm1.bias", "norm2.weight",
                                          "norm2.bias"};
        const float *lp[4] = {bw->norm1_w, bw->norm1_b, bw->norm2_w, bw->norm2_b};
        for (int k = 0; k < 4; k++) {
            snprintf(n, sizeof n, "blocks.%d.%s", (int)b, ln[k]);
            add(l, n, DT_F32, D, 1, lp[k], (uint64_t)D * 4);
        }
        for (int k = 0; k < 4; k++)
            add_linear(l, i, 4 * b + k, &w->layers[4 * b + k]);
        snprintf(n, sizeof n, "blocks.%d.qkv.scale_q", (int)b);
        add(l, n, DT_F32, 3 * D, 1, w->qkv_scale + (size_t)b * 3 * D, (uint64_t)3 * D * 4);
        snprintf(n, sizeof n, "blocks.%d.qkv.bias_q", (int)b);
        add(l, n, DT_F32, 3 * D, 1, w->qkv_bias + (size_t)b * 3 * D, (uint64_t)3 * D * 4);
    }
    add(l, "norm.weight", DT_F32, D, 1, m->w.norm_w, (uint64_t)D * 4);
    add(l, "norm.bias", DT_F32, D, 1, m->w.norm_b, (uint64_t)D * 4);
    add_linear(l, i, 4 * i->depth, &w->layers[4 * i->depth]);
    if (i->distilled)
        add_linear(l, i, 4 * i->depth + 1, &w->layers[4 * i->depth + 1]);
}

/* ---------------------------------------------------------------------------------------------
 * A lite model's file data and weights: the model's `lite` field, owned by the model */

typedef struct vit_lite {
    vit_file_data map;
    vit_opt_weights w;
    vit_qlinear *layers; /* (num_layers) pointing into the file data */
    vit_qlinear patch;
} vit_lite;

const vit_opt_weights *vit_lite_weights(const vit_model *m)
{
    return m && m->lite ? &m->lite->w : NULL;
}

static void lite_free(vit_lite *l)
{
    if (!l)
        return;
    vit_file_data_free(&l->map);
    free(l->layers);
    vit_free((void *)l->w.own_qkv);
    free(l);
}

void vit_lite_release(vit_model *m)
{
    lite_free(m->lite);
    m->lite = NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Writing */

vit_status vit_model_export_vitl(const vit_model *m, int per_channel, const char *path,
                                 vit_error *err)
{
    return vit_model_export_vitl_for(m, per_channel, NULL, path, err);
}

vit_status vit_model_export_vitl_for(const vit_model *m, int per_channel, const char *kernel,
                                     const char *path, vit_error *err)
{
    if (!m || !path)
        return vit_fail(err, VIT_ERR_ARG, "no model or output path given");
    const vit_model_info *i = &m->info;
    const char *fname = vit_basename(path);
    per_channel = per_channel ? 1 : 0;

    /* the weights: a lite model's own, else the model's int8 layers packed for the kernel
     * (prepared, or made here for this export alone) */
    vit_opt_weights own = {0};
    const vit_opt_weights *w = vit_lite_weights(m);
    vit_quant_model *qown = NULL;
    if (!w) {
        vit_kernel kern = vit_kernel_select(kernel);
        const vit_quant_model *q = vit_model_quant_find(m, per_channel, kern);
        if (!q) {
            vit_status s = vit_quant_model_derive(m, per_channel, kern, &qown, err);
            if (s != VIT_OK)
                return s;
            q = qown;
        }
        vit_status s = vit_opt_weights_from_model(m, q, &own, err);
        if (s != VIT_OK) {
            vit_quant_model_free(qown);
            return s;
        }
        w = &own;
    }

    lite_list l = {0};
    list_tensors(&l, m, w);
    add(&l, "name", DT_TEXT, (uint32_t)strlen(i->name), 1, i->name, strlen(i->name));
    /* labels: one per line */
    size_t lab_bytes = 0;
    for (int32_t k = 0; k < m->num_labels; k++)
        lab_bytes += strlen(m->labels[k]) + 1;
    char *labels = malloc(lab_bytes + 1);
    size_t pos = 0;
    if (labels)
        for (int32_t k = 0; k < m->num_labels; k++) {
            size_t len = strlen(m->labels[k]);
            memcpy(labels + pos, m->labels[k], len);
            pos += len;
            labels[pos++] = '\n';
        }
    if (m->num_labels)
        add(&l, "labels", DT_TEXT, (uint32_t)lab_bytes, 1, labels, lab_bytes);

    vit_status st = VIT_OK;
    uint8_t *head = NULL;
    if (l.oom || (m->num_labels && !labels)) {
        st = vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory writing the model", fname);
        goto done;
    }
    /* layout: header, table, then each tensor 64-byte aligned */
    size_t table_end = VITL_HEADER + (size_t)l.n * VITL_ENTRY;
    uint64_t off = (table_end + 63) & ~(uint64_t)63;
    for (uint32_t k = 0; k < l.n; k++) {
        l.t[k].offset = off;
        l.t[k].sum = vit_lite_checksum(l.t[k].data, l.t[k].bytes);
        off = (off + l.t[k].bytes + 63) & ~(uint64_t)63;
    }
    uint64_t file_bytes = off;
    head = calloc(1, table_end);
    if (!head) {
        st = vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory writing the model", fname);
        goto done;
    }
    memcpy(head, VITL_MAGIC, 4);
    vit_wr32(head + 4, VITL_VERSION);
    vit_wr32(head + 12, VITL_HEADER);
    vit_wr64(head + 16, file_bytes);
    const vit_qlinear *ql0 = &w->layers[0];
    vit_wr32(head + 24, (uint32_t)w->kernel);
    vit_wr32(head + 28, (uint32_t)ql0->pack_vec);
    vit_wr32(head + 32, (uint32_t)ql0->pack_panel);
    vit_wr32(head + 36, w->per_channel ? 1u : 0u);
    vit_wr32(head + 40, l.n);
    vit_wr32(head + 44, VITL_HEADER);
    const int32_t dims[11] = {i->img_size,  i->patch_size, i->in_chans,    i->embed_dim,
                              i->depth,     i->num_heads,  i->mlp_hidden,  i->num_classes,
                              i->distilled, i->num_tokens, i->num_patches};
    for (int k = 0; k < 11; k++)
        vit_wr32(head + 48 + 4 * k, (uint32_t)dims[k]);
    vit_wr32(head + 92, (uint32_t)i->pre.resize_size);
    vit_wr32(head + 96, (uint32_t)i->pre.interp);
    vit_wr32(head + 100, (uint32_t)i->pre.channels);
    for (int c = 0; c < 3; c++) {
        vit_wrf(head + 104 + 4 * c, i->pre.mean[c]);
        vit_wrf(head + 116 + 4 * c, i->pre.std[c]);
    }
    vit_wr64(head + 128, (uint64_t)i->num_params);
    vit_wrf(head + 136, i->ln_eps);
    vit_wr32(head + 140, (uint32_t)i->pre.resize_width);
    vit_wr32(head + 144, (uint32_t)i->pre.resize_height);
    for (uint32_t k = 0; k < l.n; k++) {
        uint8_t *e = head + VITL_HEADER + (size_t)k * VITL_ENTRY;
        memcpy(e, l.t[k].name, VITL_NAME);
        vit_wr32(e + 32, l.t[k].dtype);
        vit_wr32(e + 36, l.t[k].rows);
        vit_wr32(e + 40, l.t[k].cols);
        vit_wr64(e + 48, l.t[k].offset);
        vit_wr64(e + 56, l.t[k].sum);
    }
    vit_wr32(head + 8, vit_crc32(head + 12, table_end - 12));

    vit_output *out = NULL; /* the one output writer: temporary, fsync, rename */
    if ((st = vit_output_open(path, &out, err)) != VIT_OK)
        goto done;
    FILE *f = vit_output_stream(out);
    static const uint8_t zeros[64];
    int ok = fwrite(head, 1, table_end, f) == table_end;
    pos = table_end;
    for (uint32_t k = 0; k < l.n && ok; k++) {
        size_t pad = (size_t)(l.t[k].offset - pos);
        ok = fwrite(zeros, 1, pad, f) == pad &&
             fwrite(l.t[k].data, 1, (size_t)l.t[k].bytes, f) == l.t[k].bytes;
        pos = (size_t)(l.t[k].offset + l.t[k].bytes);
    }
    if (ok && pos < file_bytes)
        ok = fwrite(zeros, 1, (size_t)(file_bytes - pos), f) == file_bytes - pos;
    if (ok) {
        st = vit_output_commit(out, err);
    } else {
        st = vit_fail(err, VIT_ERR_IO, "%s: cannot write: %s", fname, strerror(errno));
        vit_output_abort(out);
    }
done:
    free(head);
    free(labels);
    free(l.t);
    vit_opt_weights_free(&own);
    vit_quant_model_free(qown);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * Reading */

int vit_file_is_vitl(const uint8_t *data, size_t size)
{
    return size >= 4 && memcmp(data, VITL_MAGIC, 4) == 0;
}

typedef struct {
    const uint8_t *base;
    size_t size;
    uint32_t n;
    const uint8_t *table;
    const char *fname;
    vit_error *err;
} reader;

/* The tensor `name` with this dtype and shape (rows, cols) and `bytes` of data (0: computed
 * from the shape), checked; NULL (and err set) otherwise. */
static const uint8_t *want(reader *r, const char *name, uint32_t dtype, uint32_t rows,
                           uint32_t cols, uint64_t bytes)
{
    for (uint32_t k = 0; k < r->n; k++) {
        const uint8_t *e = r->table + (size_t)k * VITL_ENTRY;
        if (strncmp((const char *)e, name, VITL_NAME) != 0)
            continue;
        uint32_t dt = vit_rd32(e + 32), rw = vit_rd32(e + 36), cl = vit_rd32(e + 40);
        uint64_t off = vit_rd64(e + 48);
        if (dt != dtype || (rows && rw != rows) || cl != cols) {
            vit_fail(r->err, VIT_ERR_SHAPE,
                     "%s: tensor %s is dtype %u (%u, %u), expected dtype %u (%u, %u)", r->fname,
                     name, dt, rw, cl, dtype, rows, cols);
            return NULL;
        }
        if (!bytes)
            bytes = (uint64_t)rw * cl * (dtype == DT_I8 || dtype == DT_TEXT ? 1 : 4);
        if (off % 64 || off > r->size || bytes > r->size - off ||
            off < VITL_HEADER + (uint64_t)r->n * VITL_ENTRY) {
            vit_fail(r->err, VIT_ERR_FORMAT,
                     "%s: tensor %s (%llu bytes at %llu) is outside the file or misaligned: the "
                     "file is damaged or truncated",
                     r->fname, name, (unsigned long long)bytes, (unsigned long long)off);
            return NULL;
        }
        if (vit_lite_checksum(r->base + off, (size_t)bytes) != vit_rd64(e + 56)) {
            vit_fail(r->err, VIT_ERR_FORMAT, "%s: tensor %s checksum mismatch: the file is damaged",
                     r->fname, name);
            return NULL;
        }
        /* as safetensors and .vitq: a NaN or infinite weight would otherwise be clamped by the
         * int8 path into a confident wrong answer */
        for (uint64_t i = 0; dtype == DT_F32 && i < bytes / 4; i++) {
            float v;
            memcpy(&v, r->base + off + 4 * i, 4);
            if (!isfinite(v)) {
                vit_fail(r->err, VIT_ERR_FORMAT,
                         "%s: tensor %s contains NaN or infinite values (at element %llu)",
                         r->fname, name, (unsigned long long)i);
                return NULL;
            }
        }
        return r->base + off;
    }
    vit_fail(r->err, VIT_ERR_SHAPE, "%s: tensor %s is missing", r->fname, name);
    return NULL;
}

static size_t packed_bytes(int32_t n, int32_t k, int32_t vec, int32_t panel)
{
    if (vec == 0)
        return (size_t)n * (size_t)k;
    const int32_t pw = vec * panel, kg = (k + 3) / 4, full = n / pw, rem = n % pw;
    const int32_t wv_last = (rem + vec - 1) / vec;
    return ((size_t)full * pw + (size_t)wv_last * vec) * (size_t)kg * 4;
}

static int bind_linear(reader *r, const vit_model_info *i, int32_t layer, int32_t n, int32_t k,
                       uint32_t kernel, int32_t vec, int32_t panel, int per_channel,
                       vit_qlinear *ql)
{
    char nm[64];
    memset(ql, 0, sizeof *ql);
    ql->n = n;
    ql->k = k;
    ql->per_channel = per_channel;
    ql->act_qmax = VIT_ACT_QMAX_FULL;
    ql->kernel = (vit_kernel)kernel;
    ql->pack_vec = vec;
    ql->pack_panel = panel;
    size_t pb = packed_bytes(n, k, vec, panel);
    linear_name(nm, sizeof nm, i, layer, "w");
    const uint8_t *wp = want(r, nm, DT_I8, (uint32_t)n, (uint32_t)k, pb);
    linear_name(nm, sizeof nm, i, layer, "scale");
    const uint8_t *sp = wp ? want(r, nm, DT_F32, (uint32_t)n, 1, 0) : NULL;
    linear_name(nm, sizeof nm, i, layer, "rowsum");
    const uint8_t *rp = sp ? want(r, nm, DT_I32, (uint32_t)n, 1, 0) : NULL;
    linear_name(nm, sizeof nm, i, layer, "bias");
    const uint8_t *bp = rp ? want(r, nm, DT_F32, (uint32_t)n, 1, 0) : NULL;
    if (!bp)
        return 0;
    /* the mapping is read-only; the kernels only read these */
    if (vec) {
        ql->packed = (void *)wp;
        ql->packed_bytes = pb;
    } else {
        ql->q = (int8_t *)wp;
    }
    ql->scale = (float *)sp;
    ql->row_sum = (int32_t *)rp;
    ql->bias = (float *)bp;
    for (int32_t j = 0; j < n; j++)
        if (!(ql->scale[j] > 0.0f) || !isfinite(ql->scale[j])) {
            vit_fail(r->err, VIT_ERR_FORMAT, "%s: %s has weight scale %g in row %d", r->fname, nm,
                     (double)ql->scale[j], (int)j);
            return 0;
        }
    /* A row sum adds up k int8 weights; any other value comes from a crafted file and would
     * overflow the int32 epilogue (-zp * row_sum; found by tests/fuzz/fuzz-vitl.c). */
    for (int32_t j = 0; j < n; j++)
        if (ql->row_sum[j] < -128 * (int64_t)k || ql->row_sum[j] > 127 * (int64_t)k) {
            linear_name(nm, sizeof nm, i, layer, "rowsum");
            vit_fail(r->err, VIT_ERR_FORMAT,
                     "%s: %s has %d in row %d, more than %d int8 weights can add up to",
                     r->fname, nm, (int)ql->row_sum[j], (int)j, (int)k);
            return 0;
        }
    return 1;
}

static const float *want_f32(reader *r, const char *name, uint32_t rows, uint32_t cols)
{
    return (const float *)want(r, name, DT_F32, rows, cols, 0);
}

vit_status vit_model_from_vitl(vit_file_data *file, const char *path, vit_model **out,
                               vit_error *err)
{
    *out = NULL;
    const char *fname = vit_basename(path);
    const uint8_t *map = file->data;
    size_t size = file->size;
    if (size < VITL_HEADER)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: truncated .vitl file (%zu bytes)", fname, size);
    const uint8_t *h = map;
    vit_status st = VIT_OK;
    vit_lite *lite = NULL;
    vit_model *m = NULL;

    uint32_t version = vit_rd32(h + 4);
    uint32_t ntens = vit_rd32(h + 40);
    uint64_t table_end = VITL_HEADER + (uint64_t)ntens * VITL_ENTRY;
    if (!vit_file_is_vitl(h, size)) {
        st = vit_fail(err, VIT_ERR_FORMAT, "%s: not a .vitl file", fname);
    } else if (version > VITL_VERSION) {
        st = vit_fail(err, VIT_ERR_UNSUPPORTED,
                      "%s: .vitl version %u was written by a newer ViT Lens; this one reads "
                      "version %u",
                      fname, version, VITL_VERSION);
    } else if (version == 0) {
        st = vit_fail(err, VIT_ERR_FORMAT, "%s: .vitl version 0 is not valid", fname);
    } else if (vit_rd64(h + 16) != size) {
        st = vit_fail(err, VIT_ERR_FORMAT,
                      "%s: the file has %zu bytes, its header says %llu: truncated or damaged",
                      fname, size, (unsigned long long)vit_rd64(h + 16));
    } else if (vit_rd32(h + 12) != VITL_HEADER || vit_rd32(h + 44) != VITL_HEADER ||
               ntens > VITL_MAX_TENSORS || table_end > size) {
        st = vit_fail(err, VIT_ERR_FORMAT, "%s: .vitl header is damaged (bad table)", fname);
    } else if (vit_crc32(h + 12, (size_t)table_end - 12) != vit_rd32(h + 8)) {
        st = vit_fail(err, VIT_ERR_FORMAT,
                      "%s: .vitl header checksum mismatch: the file is damaged", fname);
    }
    if (st != VIT_OK)
        goto fail;

    uint32_t kernel = vit_rd32(h + 24), flags = vit_rd32(h + 36);
    int32_t vec = (int32_t)vit_rd32(h + 28), panel = (int32_t)vit_rd32(h + 32);
    if (kernel >= VIT_KERNEL_COUNT) {
        st = vit_fail(err, VIT_ERR_UNSUPPORTED,
                      "%s: packed for kernel %u, which this version of ViT Lens does not know",
                      fname, kernel);
        goto fail;
    }
    if (flags & ~1u) {
        st = vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: .vitl has unknown flags 0x%x", fname, flags);
        goto fail;
    }
    /* the layout must be the one our kernel of that name reads */
    static const int32_t layout[VIT_KERNEL_COUNT][2] = {
        [VIT_KERNEL_SCALAR] = {0, 0},
        [VIT_KERNEL_AVX2] = {VIT_AVX2_VEC, VIT_AVX2_PANEL},
        [VIT_KERNEL_AVX512_VNNI] = {VIT_AVX512_VEC, VIT_AVX512_PANEL},
    };
    if (vec != layout[kernel][0] || panel != layout[kernel][1]) {
        st = vit_fail(err, VIT_ERR_UNSUPPORTED,
                      "%s: packed layout %dx%d for %s is not the one this version reads (%dx%d)",
                      fname, vec, panel, vit_kernel_name((vit_kernel)kernel), layout[kernel][0],
                      layout[kernel][1]);
        goto fail;
    }

    /* the model's shape, checked for consistency before anything is sized from it */
    vit_model_info info;
    memset(&info, 0, sizeof info);
    int32_t d[11];
    for (int k = 0; k < 11; k++)
        d[k] = (int32_t)vit_rd32(h + 48 + 4 * k);
    info.img_size = d[0];
    info.patch_size = d[1];
    info.in_chans = d[2];
    info.embed_dim = d[3];
    info.depth = d[4];
    info.num_heads = d[5];
    info.mlp_hidden = d[6];
    info.num_classes = d[7];
    info.distilled = d[8];
    info.num_tokens = d[9];
    info.num_patches = d[10];
    int shape_ok = info.patch_size > 0 && info.img_size > 0 && info.img_size <= 4096 &&
                   info.img_size % info.patch_size == 0 &&
                   (info.in_chans == 1 || info.in_chans == 3) && info.embed_dim > 0 &&
                   info.embed_dim <= 16384 && info.depth > 0 && info.depth <= 1024 &&
                   info.num_heads > 0 && info.embed_dim % info.num_heads == 0 &&
                   info.mlp_hidden > 0 && info.mlp_hidden <= 65536 && info.num_classes > 0 &&
                   info.num_classes <= 1000000 && (info.distilled == 0 || info.distilled == 1);
    if (shape_ok) {
        int32_t g = info.img_size / info.patch_size;
        shape_ok = info.num_patches == g * g && info.num_tokens == g * g + 1 + info.distilled &&
                   (int64_t)info.in_chans * info.patch_size * info.patch_size <= VIT_QLINEAR_MAX_K;
    }
    if (shape_ok) {
        /* the int8 weights alone need depth * (4 D^2 + 2 D H) bytes: a file too small for them
         * is refused before anything is sized from the header */
        double need = (double)info.depth * (4.0 * info.embed_dim * info.embed_dim +
                                            2.0 * info.embed_dim * info.mlp_hidden);
        shape_ok = need <= (double)size;
    }
    if (!shape_ok) {
        st = vit_fail(err, VIT_ERR_FORMAT,
                      "%s: .vitl header has an impossible model shape (or the file is truncated)",
                      fname);
        goto fail;
    }
    info.pre = vit_preprocess_cfg_default();
    info.pre.image_size = info.img_size;
    info.pre.resize_size = (int32_t)vit_rd32(h + 92);
    info.pre.interp = (vit_interp)vit_rd32(h + 96);
    info.pre.channels = (int32_t)vit_rd32(h + 100);
    for (int c = 0; c < 3; c++) {
        info.pre.mean[c] = vit_rdf(h + 104 + 4 * c);
        info.pre.std[c] = vit_rdf(h + 116 + 4 * c);
    }
    info.pre.resize_width = (int32_t)vit_rd32(h + 140);
    info.pre.resize_height = (int32_t)vit_rd32(h + 144);
    info.ln_eps = vit_rdf(h + 136);
    if (info.ln_eps == 0.0f)
        info.ln_eps = 1e-6f; /* written before the field */
    int pre_ok = info.pre.resize_size >= info.img_size && info.pre.resize_size <= 65536 &&
                 (unsigned)info.pre.interp <= VIT_INTERP_NEAREST &&
                 info.pre.channels == info.in_chans;
    for (int c = 0; c < 3; c++)
        pre_ok = pre_ok && isfinite(info.pre.mean[c]) && info.pre.std[c] > 0.0f &&
                 isfinite(info.pre.std[c]);
    if (!pre_ok) {
        st = vit_fail(err, VIT_ERR_FORMAT, "%s: .vitl header has bad preprocessing settings",
                      fname);
        goto fail;
    }
    if ((st = vit_model_info_check(&info, fname, err)) != VIT_OK)
        goto fail;
    info.num_params = (int64_t)vit_rd64(h + 128);
    info.file_bytes = (int64_t)size;
    info.format = VIT_FORMAT_VITL;

    reader r = {h, size, ntens, h + VITL_HEADER, fname, err};
    const uint8_t *name = want(&r, "name", DT_TEXT, 0, 1, 0);
    if (!name) {
        st = err ? err->status : VIT_ERR_FORMAT;
        goto fail;
    }
    {
        const uint8_t *e = NULL;
        for (uint32_t k = 0; k < ntens; k++)
            if (strncmp((const char *)r.table + k * VITL_ENTRY, "name", VITL_NAME) == 0)
                e = r.table + k * VITL_ENTRY;
        size_t len = vit_rd32(e + 36);
        if (len >= sizeof info.name)
            len = sizeof info.name - 1;
        memcpy(info.name, name, len);
        info.name[len] = 0;
    }

    m = calloc(1, sizeof *m);
    lite = calloc(1, sizeof *lite);
    if (!m || !lite) {
        free(m);
        m = NULL;
        st = vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", fname);
        goto fail;
    }
    m->info = info;
    lite->map = *file;
    memset(file, 0, sizeof *file); /* owned by lite from here */
    const int32_t D = info.embed_dim, depth = info.depth, K = info.num_classes;
    const int32_t cpp = info.in_chans * info.patch_size * info.patch_size;
    const int per_channel = (int)(flags & 1u);
    m->w.blocks = calloc((size_t)depth, sizeof *m->w.blocks);
    lite->w.num_layers = 4 * depth + 1 + info.distilled;
    lite->layers = calloc((size_t)lite->w.num_layers, sizeof *lite->layers);
    if (!m->w.blocks || !lite->layers) {
        st = vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", fname);
        goto fail;
    }
    /* the patch Linear always has per-output-channel scales (vit_opt_weights_from_model) */
    int ok = bind_linear(&r, &info, -1, D, cpp, kernel, vec, panel, 1, &lite->patch);
    m->w.patch_b = lite->patch.bias;
    if (ok && cpp <= VIT_OPT_PATCH_F32_MAX) /* small patches run in fp32 (vit-opt.h) */
        ok = (m->w.patch_w = (float *)want_f32(&r, "patch.weight", (uint32_t)D, (uint32_t)cpp)) != NULL;
    lite->w.patch_f32 = m->w.patch_w;
    ok = ok && (m->w.cls_token = (float *)want_f32(&r, "cls_token", (uint32_t)D, 1));
    if (info.distilled)
        ok = ok && (m->w.dist_token = (float *)want_f32(&r, "dist_token", (uint32_t)D, 1));
    ok = ok && (m->w.pos_embed =
                    (float *)want_f32(&r, "pos_embed", (uint32_t)info.num_tokens, (uint32_t)D));
    /* the q-scaled qkv scales and biases, gathered into one (2, depth, 3D) array: the only
     * copy (a few hundred KB), so that the forward indexes them as the other weights' */
    float *qkv = ok ? vit_alloc((size_t)2 * depth * 3 * D * sizeof(float)) : NULL;
    if (ok && !qkv) {
        st = vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", fname);
        goto fail;
    }
    lite->w.own_qkv = qkv;
    for (int32_t b = 0; b < depth && ok; b++) {
        vit_block_weights *bw = &m->w.blocks[b];
        char nm[64];
        snprintf(nm, sizeof nm, "blocks.%d.norm1.weight", (int)b);
        ok = ok && (bw->norm1_w = (float *)want_f32(&r, nm, (uint32_t)D, 1));
        snprintf(nm, sizeof nm, "blocks.%d.norm1.bias", (int)b);
        ok = ok && (bw->norm1_b = (float *)want_f32(&r, nm, (uint32_t)D, 1));
        snprintf(nm, sizeof nm, "blocks.%d.norm2.weight", (int)b);
        ok = ok && (bw->norm2_w = (float *)want_f32(&r, nm, (uint32_t)D, 1));
        snprintf(nm, sizeof nm, "blocks.%d.norm2.bias", (int)b);
        ok = ok && (bw->norm2_b = (float *)want_f32(&r, nm, (uint32_t)D, 1));
        const int32_t nk[4][2] = {{3 * D, D}, {D, D}, {info.mlp_hidden, D}, {D, info.mlp_hidden}};
        for (int k = 0; k < 4 && ok; k++)
            ok = bind_linear(&r, &info, 4 * b + k, nk[k][0], nk[k][1], kernel, vec, panel,
                             per_channel, &lite->layers[4 * b + k]);
        const float *sq = NULL, *bq = NULL;
        snprintf(nm, sizeof nm, "blocks.%d.qkv.scale_q", (int)b);
        ok = ok && (sq = want_f32(&r, nm, (uint32_t)(3 * D), 1));
        snprintf(nm, sizeof nm, "blocks.%d.qkv.bias_q", (int)b);
        ok = ok && (bq = want_f32(&r, nm, (uint32_t)(3 * D), 1));
        if (ok) {
            memcpy(qkv + (size_t)b * 3 * D, sq, (size_t)3 * D * sizeof(float));
            memcpy(qkv + (size_t)(depth + b) * 3 * D, bq, (size_t)3 * D * sizeof(float));
        }
    }
    ok = ok && (m->w.norm_w = (float *)want_f32(&r, "norm.weight", (uint32_t)D, 1));
    ok = ok && (m->w.norm_b = (float *)want_f32(&r, "norm.bias", (uint32_t)D, 1));
    ok = ok && bind_linear(&r, &info, 4 * depth, K, D, kernel, vec, panel, per_channel,
                           &lite->layers[4 * depth]);
    if (info.distilled)
        ok = ok && bind_linear(&r, &info, 4 * depth + 1, K, D, kernel, vec, panel, per_channel,
                               &lite->layers[4 * depth + 1]);
    if (ok) {
        m->w.head_b = lite->layers[4 * depth].bias;
        if (info.distilled)
            m->w.head_dist_b = lite->layers[4 * depth + 1].bias;
    }
    if (!ok) {
        st = err && err->status ? err->status : VIT_ERR_FORMAT;
        goto fail;
    }
    /* labels: text, one per line (rows = bytes) */
    for (uint32_t k = 0; k < ntens; k++) {
        const uint8_t *e = r.table + (size_t)k * VITL_ENTRY;
        if (strncmp((const char *)e, "labels", VITL_NAME) != 0)
            continue;
        const uint8_t *lp = want(&r, "labels", DT_TEXT, 0, 1, 0);
        size_t len = vit_rd32(e + 36);
        char *text = lp ? malloc(len + 1) : NULL;
        if (!text) {
            st = lp ? vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", fname)
                    : (err && err->status ? err->status : VIT_ERR_FORMAT);
            goto fail;
        }
        memcpy(text, lp, len);
        text[len] = 0;
        st = vit_model_set_labels(m, text, err);
        free(text);
        if (st != VIT_OK)
            goto fail;
        break;
    }

    lite->w.kernel = (vit_kernel)kernel;
    lite->w.per_channel = per_channel;
    lite->w.layers = lite->layers;
    lite->w.patch = &lite->patch;
    lite->w.qkv_scale = qkv;
    lite->w.qkv_bias = qkv + (size_t)depth * 3 * D;
    m->lite = lite;
    *out = m;
    return VIT_OK;

fail:
    if (m) {
        free(m->w.blocks);
        free(m->labels);
        free(m->label_storage);
        free(m);
    }
    lite_free(lite);
    return st != VIT_OK ? st : VIT_ERR_FORMAT;
}

/* ---------------------------------------------------------------------------------------------
 * The fallback: weights for another kernel, from the stored int8 weights */

vit_status vit_lite_weights_repack(const vit_model *m, vit_kernel kernel, vit_opt_weights *w,
                                   vit_error *err)
{
    memset(w, 0, sizeof *w);
    const vit_opt_weights *lw = vit_lite_weights(m);
    if (!lw)
        return vit_fail(err, VIT_ERR_ARG, "not a lite model");
    vit_log(VIT_LOG_INFO, "%s: lite file packed for %s, repacking for %s", m->info.name,
            vit_kernel_name(lw->kernel), vit_kernel_name(kernel));
    w->kernel = kernel;
    w->per_channel = lw->per_channel;
    w->num_layers = lw->num_layers;
    w->own_layers = calloc((size_t)lw->num_layers, sizeof *w->own_layers);
    if (!w->own_layers)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory repacking a lite model");
    vit_status s = vit_qlinear_repack(lw->patch, kernel, &w->own_patch, err);
    for (int32_t l = 0; l < lw->num_layers && s == VIT_OK; l++)
        s = vit_qlinear_repack(&lw->layers[l], kernel, &w->own_layers[l], err);
    w->layers = w->own_layers;
    w->patch = &w->own_patch;
    w->patch_f32 = lw->patch_f32;
    if (s == VIT_OK) {
        size_t n = (size_t)2 * m->info.depth * 3 * m->info.embed_dim;
        w->own_qkv = vit_alloc(n * sizeof(float));
        if (!w->own_qkv)
            s = vit_fail(err, VIT_ERR_NOMEM, "out of memory repacking a lite model");
        else
            memcpy(w->own_qkv, lw->qkv_scale, n / 2 * sizeof(float)),
                memcpy(w->own_qkv + n / 2, lw->qkv_bias, n / 2 * sizeof(float));
        w->qkv_scale = w->own_qkv;
        w->qkv_bias = w->own_qkv + n / 2;
    }
    if (s != VIT_OK)
        vit_opt_weights_free(w);
    return s;
}
