/* vit-model.c — loading a ViT/DeiT: tensors from safetensors, in timm's layout or transformers'
 * (vit-hf.c maps its names), the architecture from their shapes (and config.json when present),
 * preprocessing settings (and transformers' preprocessor_config.json), class labels. */
#include "vit-hf.h"
#include "vit-int8.h"
#include "vit-opt.h"
#include "vit-safetensors.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define VIT_CONFIG_MAX_BYTES (4u << 20)
/* A session holds the attention scores of every head, (heads, T, T) floats: a few hundred kB
 * of pos_embed can declare 65537 tokens and ask for tens of GB there, so models whose scores
 * would pass this are refused at load time (DeiT-B at 384 px needs 16 MB). */

/* ---------------------------------------------------------------------------------------------
 * Small file helpers */

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* dir of `path` + "/" + leaf, into buf. */
static void sibling_path(const char *path, const char *leaf, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, size, "%s", leaf);
    else
        snprintf(buf, size, "%.*s/%s", (int)(slash - path), path, leaf);
}

/* ---------------------------------------------------------------------------------------------
 * Architecture from shapes */

typedef struct {
    const char *name;
    float **dst;
    int32_t rank;
    int64_t shape[4];
} tensor_spec;

static void shape_str(const int64_t *shape, int32_t rank, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    if (rank == 0)
        snprintf(buf, size, "a scalar");
    for (int32_t i = 0; i < rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, i ? "×%lld" : "%lld", (long long)shape[i]);
}

/* The file's tensors under timm's names: the layout (vit-hf.c) maps them. */
typedef struct {
    const vit_st_file *st;
    vit_layout layout;
    int distilled;
} tensor_names;

/* timm's tensor `timm` (part: q, k, v of a qkv) in the file, its file name into buf. */
static const vit_st_tensor *find_as(const tensor_names *tn, const char *timm, int part, char *buf,
                                    size_t size)
{
    vit_hf_name(tn->layout, tn->distilled, timm, part, buf, size);
    return vit_st_find(tn->st, buf);
}

static const vit_st_tensor *need(const tensor_names *tn, const char *timm, char *name,
                                 size_t size, const char *fname, vit_error *err)
{
    const vit_st_tensor *t = find_as(tn, timm, 0, name, size);
    if (!t)
        vit_fail(err, VIT_ERR_SHAPE, "%s: missing tensor %s", fname, name);
    return t;
}

/* Works out D, C, P, depth, tokens, hidden, classes from the tensors alone. */
static vit_status infer_shapes(tensor_names *tn, const char *fname, vit_model_info *info,
                               vit_error *err)
{
    char nm[128];
    const vit_st_tensor *pw = need(tn, "patch_embed.proj.weight", nm, sizeof nm, fname, err);
    if (!pw)
        return VIT_ERR_SHAPE;
    if (pw->rank != 4 || pw->shape[2] != pw->shape[3] || pw->shape[0] < 1 || pw->shape[1] < 1 ||
        pw->shape[2] < 1 || pw->shape[0] > 65536 || pw->shape[1] > 16 || pw->shape[2] > 1024) {
        char s[96];
        shape_str(pw->shape, pw->rank, s, sizeof s);
        return vit_fail(err, VIT_ERR_SHAPE,
                        "%s: tensor %s has shape %s, expected a conv weight "
                        "(dim, channels, patch, patch)",
                        fname, nm, s);
    }
    info->embed_dim = (int32_t)pw->shape[0];
    info->in_chans = (int32_t)pw->shape[1];
    info->patch_size = (int32_t)pw->shape[2];

    const vit_st_tensor *pos = need(tn, "pos_embed", nm, sizeof nm, fname, err);
    if (!pos)
        return VIT_ERR_SHAPE;
    char dn[128];
    info->distilled = tn->distilled = find_as(tn, "dist_token", 0, dn, sizeof dn) != NULL;
    int32_t prefix = 1 + info->distilled;
    if (pos->rank != 3 || pos->shape[0] != 1 || pos->shape[2] != info->embed_dim ||
        pos->shape[1] <= prefix || pos->shape[1] > 1 + 65536) {
        char s[96];
        shape_str(pos->shape, pos->rank, s, sizeof s);
        return vit_fail(err, VIT_ERR_SHAPE, "%s: tensor %s has shape %s, expected 1×T×%d",
                        fname, nm, s, info->embed_dim);
    }
    info->num_tokens = (int32_t)pos->shape[1];
    info->num_patches = info->num_tokens - prefix;
    int32_t grid = (int32_t)lrint(sqrt((double)info->num_patches));
    if (grid * grid != info->num_patches)
        return vit_fail(err, VIT_ERR_SHAPE,
                        "%s: %s has %d patch positions, which is not a square grid", fname,
                        nm, info->num_patches);
    info->img_size = grid * info->patch_size;

    int32_t depth = 0;
    char key[96];
    for (; depth <= VIT_MODEL_MAX_DEPTH; depth++) {
        snprintf(key, sizeof key, "blocks.%d.norm1.weight", depth);
        if (!find_as(tn, key, 0, nm, sizeof nm))
            break;
    }
    if (depth > VIT_MODEL_MAX_DEPTH)
        return vit_fail(err, VIT_ERR_LIMIT, "%s: more than %d blocks; the limit is %d", fname,
                        VIT_MODEL_MAX_DEPTH, VIT_MODEL_MAX_DEPTH);
    if (depth == 0) {
        vit_hf_name(tn->layout, 0, "blocks.0.norm1.weight", 0, nm, sizeof nm);
        return vit_fail(err, VIT_ERR_SHAPE, "%s: missing tensor %s (no blocks)", fname, nm);
    }
    info->depth = depth;

    const vit_st_tensor *fc1 = need(tn, "blocks.0.mlp.fc1.weight", nm, sizeof nm, fname, err);
    if (!fc1)
        return VIT_ERR_SHAPE;
    if (fc1->rank != 2 || fc1->shape[0] < 1 || fc1->shape[0] > 1 << 20)
        return vit_fail(err, VIT_ERR_SHAPE, "%s: tensor %s is not a matrix", fname, nm);
    info->mlp_hidden = (int32_t)fc1->shape[0];

    const vit_st_tensor *head = need(tn, "head.weight", nm, sizeof nm, fname, err);
    if (!head)
        return VIT_ERR_SHAPE;
    if (head->rank != 2 || head->shape[0] < 1 || head->shape[0] > 1 << 20)
        return vit_fail(err, VIT_ERR_SHAPE, "%s: tensor %s is not a matrix", fname, nm);
    info->num_classes = (int32_t)head->shape[0];
    return VIT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * config.json (timm hub format) */

static vit_status apply_config(const vit_json *cfg, const char *cname, vit_model_info *info,
                               int *heads_from_config, vit_error *err)
{
    if (cfg->type != VIT_JSON_OBJECT)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: not a JSON object", cname);
    const char *arch = vit_json_string(cfg, "architecture");
    if (arch)
        snprintf(info->name, sizeof info->name, "%s", arch);

    const vit_json *nc = vit_json_get(cfg, "num_classes");
    if (nc && (!vit_json_is_int(nc, 1, 1 << 20) || (int32_t)nc->number != info->num_classes))
        return vit_fail(err, VIT_ERR_SHAPE, "%s: num_classes is %g but head.weight has %d rows",
                        cname, nc->number, info->num_classes);

    const vit_json *margs = vit_json_get(cfg, "model_args");
    if (margs) {
        const vit_json *h = vit_json_get(margs, "num_heads");
        if (h) {
            if (!vit_json_is_int(h, 1, 4096))
                return vit_fail(err, VIT_ERR_FORMAT, "%s: model_args.num_heads is not a positive integer",
                                cname);
            info->num_heads = (int32_t)h->number;
            *heads_from_config = 1;
        }
    }

    const vit_json *pc = vit_json_get(cfg, "pretrained_cfg");
    const vit_json *src = pc ? pc : cfg; /* some configs put these at the top level */
    const vit_json *isz = vit_json_get(src, "input_size");
    if (isz) {
        if (isz->type != VIT_JSON_ARRAY || isz->count != 3 || !vit_json_is_int(isz->child, 1, 16) ||
            !vit_json_is_int(isz->child->next, 1, 16384) ||
            !vit_json_is_int(isz->child->next->next, 1, 16384))
            return vit_fail(err, VIT_ERR_FORMAT, "%s: input_size is not [channels, height, width]",
                            cname);
        int32_t c = (int32_t)isz->child->number, h = (int32_t)isz->child->next->number,
                w = (int32_t)isz->child->next->next->number;
        if (c != info->in_chans)
            return vit_fail(err, VIT_ERR_SHAPE,
                            "%s: input_size says %d channels but patch_embed.proj.weight takes %d",
                            cname, c, info->in_chans);
        if (h != info->img_size || w != info->img_size)
            return vit_fail(err, VIT_ERR_SHAPE,
                            "%s: input_size says %d×%d but pos_embed fits %d×%d images (a model for "
                            "another resolution?)",
                            cname, h, w, info->img_size, info->img_size);
    }
    double crop_pct = vit_json_number(src, "crop_pct", 0.875);
    if (!(crop_pct > 0.05 && crop_pct <= 4.0))
        return vit_fail(err, VIT_ERR_FORMAT, "%s: crop_pct %g is out of range", cname, crop_pct);
    /* timm: scale_size = math.floor(img_size / crop_pct) */
    const double resize = floor((double)info->img_size / crop_pct);
    if (resize > VIT_IMAGE_MAX_SIDE)
        return vit_fail(err, VIT_ERR_FORMAT,
                        "%s: crop_pct %g makes a resize to %.0f px before the %d px crop; the "
                        "limit is %d", cname, crop_pct, resize, info->img_size, VIT_IMAGE_MAX_SIDE);
    info->pre.resize_size = (int32_t)resize;
    /* our own files store the exact size, which a float crop_pct cannot always round-trip */
    const vit_json *rs = vit_json_get(src, "vitlens_resize_size");
    if (rs) {
        if (!vit_json_is_int(rs, 1, VIT_IMAGE_MAX_SIDE))
            return vit_fail(err, VIT_ERR_FORMAT, "%s: vitlens_resize_size is not a whole number from 1 to %d",
                            cname, VIT_IMAGE_MAX_SIDE);
        info->pre.resize_size = (int32_t)rs->number;
    }
    const char *interp = vit_json_string(src, "interpolation");
    if (interp) {
        if (strcmp(interp, "bicubic") == 0)
            info->pre.interp = VIT_INTERP_BICUBIC;
        else if (strcmp(interp, "bilinear") == 0)
            info->pre.interp = VIT_INTERP_BILINEAR;
        else if (strcmp(interp, "nearest") == 0)
            info->pre.interp = VIT_INTERP_NEAREST;
        else
            return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: interpolation '%.32s' is not supported",
                            cname, interp);
    }
    /* our own files (.vitq) keep a transformers model's fixed-size resize */
    const vit_json *rw = vit_json_get(src, "vitlens_resize_width"),
                   *rh = vit_json_get(src, "vitlens_resize_height");
    if (rw || rh) {
        if (!vit_json_is_int(rw, 1, VIT_IMAGE_MAX_SIDE) || !vit_json_is_int(rh, 1, VIT_IMAGE_MAX_SIDE))
            return vit_fail(err, VIT_ERR_FORMAT,
                            "%s: vitlens_resize_width and _height are not whole numbers from 1 to %d",
                            cname, VIT_IMAGE_MAX_SIDE);
        info->pre.resize_width = (int32_t)rw->number;
        info->pre.resize_height = (int32_t)rh->number;
    }
    const char *names[2] = {"mean", "std"};
    float *dst[2] = {info->pre.mean, info->pre.std};
    for (int k = 0; k < 2; k++) {
        const vit_json *a = vit_json_get(src, names[k]);
        vit_status s = a ? vit_config_channel_list(a, cname, names[k], info->in_chans, k == 1,
                                                   dst[k], err)
                         : VIT_OK;
        if (s != VIT_OK)
            return s;
    }
    /* not in timm's configs; our .vitq files keep a transformers model's here */
    return vit_config_ln_eps(cfg, cname, &info->ln_eps, err);
}

/* ---------------------------------------------------------------------------------------------
 * Building the model */

/* Floats in the arena; with_linears = 0 leaves out the Linear weight matrices (int8 models). */
static size_t model_floats(const vit_model_info *i, int with_linears)
{
    size_t D = (size_t)i->embed_dim, H = (size_t)i->mlp_hidden, K = (size_t)i->num_classes;
    size_t CPP = (size_t)i->in_chans * (size_t)i->patch_size * (size_t)i->patch_size;
    size_t L = with_linears ? 1 : 0;
    size_t per_block = 4 * D + L * 3 * D * D + 3 * D + L * D * D + D + L * H * D + H + L * D * H + D;
    size_t n = D * CPP + D + D + (size_t)i->num_tokens * D + per_block * (size_t)i->depth + 2 * D +
               L * K * D + K;
    if (i->distilled)
        n += D + L * K * D + K;
    return n;
}

static int64_t count_params(const vit_model_info *i)
{
    return (int64_t)model_floats(i, 1);
}

/* Carve the arena into the weight pointers, in one place so sizes cannot drift apart. */
static void assign_pointers(vit_model *m, int with_linears)
{
    size_t L = with_linears ? 1 : 0;
    const vit_model_info *i = &m->info;
    size_t D = (size_t)i->embed_dim, H = (size_t)i->mlp_hidden, K = (size_t)i->num_classes;
    size_t CPP = (size_t)i->in_chans * (size_t)i->patch_size * (size_t)i->patch_size;
    float *p = m->arena;
#define TAKE(ptr, n) (ptr = ((n) != 0) ? p : NULL, p += (n))
    TAKE(m->w.patch_w, D * CPP);
    TAKE(m->w.patch_b, D);
    TAKE(m->w.cls_token, D);
    if (i->distilled)
        TAKE(m->w.dist_token, D);
    TAKE(m->w.pos_embed, (size_t)i->num_tokens * D);
    for (int32_t l = 0; l < i->depth; l++) {
        vit_block_weights *b = &m->w.blocks[l];
        TAKE(b->norm1_w, D);
        TAKE(b->norm1_b, D);
        TAKE(b->qkv_w, L * 3 * D * D);
        TAKE(b->qkv_b, 3 * D);
        TAKE(b->proj_w, L * D * D);
        TAKE(b->proj_b, D);
        TAKE(b->norm2_w, D);
        TAKE(b->norm2_b, D);
        TAKE(b->fc1_w, L * H * D);
        TAKE(b->fc1_b, H);
        TAKE(b->fc2_w, L * D * H);
        TAKE(b->fc2_b, D);
    }
    TAKE(m->w.norm_w, D);
    TAKE(m->w.norm_b, D);
    TAKE(m->w.head_w, L * K * D);
    TAKE(m->w.head_b, K);
    if (i->distilled) {
        TAKE(m->w.head_dist_w, L * K * D);
        TAKE(m->w.head_dist_b, K);
    }
#undef TAKE
}

#define MAX_SPECS 16
static int add_spec(tensor_spec *specs, int n, const char *name, float **dst, int32_t rank,
                    int64_t a, int64_t b, int64_t c, int64_t d)
{
    specs[n] = (tensor_spec){name, dst, rank, {a, b, c, d}};
    return n + 1;
}

/* Copy one expected tensor (sp->name: timm's; part: q, k or v of a transformers qkv) into place,
 * checking its shape and values. */
static vit_status load_tensor(const tensor_names *tn, const tensor_spec *sp, int part,
                              const char *fname, unsigned char *used, vit_error *err)
{
    char name[128];
    const vit_st_tensor *t = find_as(tn, sp->name, part, name, sizeof name);
    if (!t)
        return vit_fail(err, VIT_ERR_SHAPE, "%s: missing tensor %s", fname, name);
    if (t->dtype == VIT_DT_I8)
        return vit_fail(err, VIT_ERR_UNSUPPORTED,
                        "%s: tensor %s has dtype I8; only F32, F16 and BF16 are supported", fname,
                        name);
    int ok = t->rank == sp->rank;
    for (int32_t i = 0; ok && i < sp->rank; i++)
        ok = t->shape[i] == sp->shape[i];
    if (!ok) {
        char have[96], want[96];
        shape_str(t->shape, t->rank, have, sizeof have);
        shape_str(sp->shape, sp->rank, want, sizeof want);
        return vit_fail(err, VIT_ERR_SHAPE, "%s: tensor %s has shape %s, expected %s", fname,
                        name, have, want);
    }
    vit_st_to_f32(t, *sp->dst);
    vit_st_release(tn->st, t);
    const float *v = *sp->dst;
    for (int64_t i = 0; i < t->numel; i++)
        if (!isfinite(v[i]))
            return vit_fail(err, VIT_ERR_FORMAT,
                            "%s: tensor %s contains NaN or infinite values (at element %lld)", fname,
                            name, (long long)i);
    used[t - tn->st->tensors] = 1;
    return VIT_OK;
}

/* timm's qkv Linear (rows q | k | v): one tensor, or transformers' query, key and value. */
static vit_status load_qkv(const tensor_names *tn, const tensor_spec *sp, const char *fname,
                           unsigned char *used, vit_error *err)
{
    if (tn->layout == VIT_LAYOUT_TIMM)
        return load_tensor(tn, sp, 0, fname, used, err);
    const int64_t D = sp->shape[0] / 3;
    const size_t n = (size_t)D * (size_t)(sp->rank == 2 ? sp->shape[1] : 1);
    vit_status s = VIT_OK;
    for (int part = 0; part < 3 && s == VIT_OK; part++) {
        float *dst = *sp->dst + (size_t)part * n;
        tensor_spec one = {sp->name, &dst, sp->rank, {D, sp->shape[1], 0, 0}};
        s = load_tensor(tn, &one, part, fname, used, err);
    }
    return s;
}

/* One int8 Linear of a .vitq file: "<prefix>.weight" I8 (n, k) and "<prefix>.weight_scale" F32
 * (n) or (1); the bias was loaded into the arena as an ordinary fp32 tensor. */
static vit_status load_qlinear(const vit_st_file *st, const char *prefix, int32_t n, int32_t k,
                               int per_channel, const float *bias, vit_kernel kern, vit_qlinear *ql,
                               const char *fname, unsigned char *used, vit_error *err)
{
    char wn[96], sn[96];
    snprintf(wn, sizeof wn, "%s.weight", prefix);
    snprintf(sn, sizeof sn, "%s.weight_scale", prefix);
    const vit_st_tensor *w = vit_st_find(st, wn), *sc = vit_st_find(st, sn);
    if (!w)
        return vit_fail(err, VIT_ERR_SHAPE, "%s: missing tensor %s", fname, wn);
    if (!sc)
        return vit_fail(err, VIT_ERR_SHAPE, "%s: missing tensor %s", fname, sn);
    int64_t ns = per_channel ? n : 1;
    if (w->dtype != VIT_DT_I8 || w->rank != 2 || w->shape[0] != n || w->shape[1] != k)
        return vit_fail(err, VIT_ERR_SHAPE, "%s: tensor %s is not I8 of shape %d×%d", fname, wn, n,
                        k);
    if (sc->dtype != VIT_DT_F32 || sc->rank != 1 || sc->shape[0] != ns)
        return vit_fail(err, VIT_ERR_SHAPE, "%s: tensor %s is not F32 of shape %lld", fname, sn,
                        (long long)ns);
    float *scale = malloc((size_t)ns * sizeof(float));
    if (!scale)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", fname);
    vit_st_to_f32(sc, scale);
    vit_status s = VIT_OK;
    for (int64_t j = 0; j < ns && s == VIT_OK; j++)
        if (!isfinite(scale[j]) || !(scale[j] > 0))
            s = vit_fail(err, VIT_ERR_FORMAT, "%s: tensor %s has a scale that is not a positive number",
                         fname, sn);
    if (s == VIT_OK)
        s = vit_qlinear_init_quantized(ql, (const int8_t *)w->data, scale, bias, n, k, per_channel,
                                       kern, err);
    vit_st_release(st, w);
    free(scale);
    used[w - st->tensors] = 1;
    used[sc - st->tensors] = 1;
    return s;
}

static vit_status load_quant_layers(vit_model *m, const vit_st_file *st, const char *fname,
                                    int per_channel, unsigned char *used, vit_error *err)
{
    const vit_model_info *i = &m->info;
    int32_t D = i->embed_dim, H = i->mlp_hidden, K = i->num_classes;
    vit_quant_model *q = calloc(1, sizeof *q);
    if (!q)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", fname);
    q->per_channel = per_channel;
    q->kernel = vit_kernel_select(NULL); /* the best this CPU has */
    q->num_layers = 4 * i->depth + 1 + i->distilled;
    q->layers = calloc((size_t)q->num_layers, sizeof *q->layers);
    if (!q->layers) {
        free(q);
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", fname);
    }
    m->q[per_channel][q->kernel] = q; /* freed with the model, also on failure below */
    vit_status s = VIT_OK;
    char prefix[64];
    for (int32_t l = 0; l < i->depth && s == VIT_OK; l++) {
        const vit_block_weights *b = &m->w.blocks[l];
        struct {
            const char *leaf;
            int32_t n, k;
            const float *bias;
        } L[4] = {{"attn.qkv", 3 * D, D, b->qkv_b},
                  {"attn.proj", D, D, b->proj_b},
                  {"mlp.fc1", H, D, b->fc1_b},
                  {"mlp.fc2", D, H, b->fc2_b}};
        for (int j = 0; j < 4 && s == VIT_OK; j++) {
            snprintf(prefix, sizeof prefix, "blocks.%d.%s", l, L[j].leaf);
            s = load_qlinear(st, prefix, L[j].n, L[j].k, per_channel, L[j].bias, q->kernel,
                             &q->layers[4 * l + j], fname, used, err);
        }
    }
    if (s == VIT_OK)
        s = load_qlinear(st, "head", K, D, per_channel, m->w.head_b, q->kernel,
                         &q->layers[4 * i->depth], fname, used, err);
    if (s == VIT_OK && i->distilled)
        s = load_qlinear(st, "head_dist", K, D, per_channel, m->w.head_dist_b, q->kernel,
                         &q->layers[4 * i->depth + 1], fname, used, err);
    return s;
}

/* per_channel: -1 for a float model; 0 / 1 for a .vitq whose Linears are int8 with per-tensor /
 * per-channel scales. */
static vit_status load_weights(vit_model *m, const tensor_names *tn, const char *fname,
                               int per_channel, vit_error *err)
{
    const vit_st_file *st = tn->st;
    const vit_model_info *i = &m->info;
    int64_t D = i->embed_dim, H = i->mlp_hidden, K = i->num_classes, P = i->patch_size;
    unsigned char *used = calloc((size_t)(st->count ? st->count : 1), 1);
    if (!used)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", fname);
    tensor_spec sp[MAX_SPECS];
    char names[MAX_SPECS][64];
    vit_status s = VIT_OK;
    int n = 0;
    n = add_spec(sp, n, "patch_embed.proj.weight", &m->w.patch_w, 4, D, i->in_chans, P, P);
    n = add_spec(sp, n, "patch_embed.proj.bias", &m->w.patch_b, 1, D, 0, 0, 0);
    n = add_spec(sp, n, "cls_token", &m->w.cls_token, 3, 1, 1, D, 0);
    if (i->distilled)
        n = add_spec(sp, n, "dist_token", &m->w.dist_token, 3, 1, 1, D, 0);
    n = add_spec(sp, n, "pos_embed", &m->w.pos_embed, 3, 1, i->num_tokens, D, 0);
    n = add_spec(sp, n, "norm.weight", &m->w.norm_w, 1, D, 0, 0, 0);
    n = add_spec(sp, n, "norm.bias", &m->w.norm_b, 1, D, 0, 0, 0);
    n = add_spec(sp, n, "head.weight", &m->w.head_w, 2, K, D, 0, 0);
    n = add_spec(sp, n, "head.bias", &m->w.head_b, 1, K, 0, 0, 0);
    if (i->distilled) {
        n = add_spec(sp, n, "head_dist.weight", &m->w.head_dist_w, 2, K, D, 0, 0);
        n = add_spec(sp, n, "head_dist.bias", &m->w.head_dist_b, 1, K, 0, 0, 0);
    }
    for (int k = 0; k < n && s == VIT_OK; k++)
        if (*sp[k].dst) /* NULL: an int8 Linear weight, loaded by load_quant_layers */
            s = load_tensor(tn, &sp[k], 0, fname, used, err);

    for (int32_t l = 0; l < i->depth && s == VIT_OK; l++) {
        vit_block_weights *b = &m->w.blocks[l];
        struct {
            const char *leaf;
            float **dst;
            int32_t rank;
            int64_t r, c;
        } bl[] = {
            {"norm1.weight", &b->norm1_w, 1, D, 0},   {"norm1.bias", &b->norm1_b, 1, D, 0},
            {"attn.qkv.weight", &b->qkv_w, 2, 3 * D, D}, {"attn.qkv.bias", &b->qkv_b, 1, 3 * D, 0},
            {"attn.proj.weight", &b->proj_w, 2, D, D},  {"attn.proj.bias", &b->proj_b, 1, D, 0},
            {"norm2.weight", &b->norm2_w, 1, D, 0},   {"norm2.bias", &b->norm2_b, 1, D, 0},
            {"mlp.fc1.weight", &b->fc1_w, 2, H, D},   {"mlp.fc1.bias", &b->fc1_b, 1, H, 0},
            {"mlp.fc2.weight", &b->fc2_w, 2, D, H},   {"mlp.fc2.bias", &b->fc2_b, 1, D, 0},
        };
        for (size_t k = 0; k < sizeof bl / sizeof bl[0] && s == VIT_OK; k++) {
            snprintf(names[0], sizeof names[0], "blocks.%d.%s", l, bl[k].leaf);
            tensor_spec t = {names[0], bl[k].dst, bl[k].rank, {bl[k].r, bl[k].c, 0, 0}};
            if (*t.dst)
                s = k == 2 || k == 3 ? load_qkv(tn, &t, fname, used, err)
                                     : load_tensor(tn, &t, 0, fname, used, err);
        }
    }
    if (s == VIT_OK && per_channel >= 0)
        s = load_quant_layers(m, st, fname, per_channel, used, err);
    for (int32_t k = 0; k < st->count && s == VIT_OK; k++)
        if (!used[k])
            s = vit_fail(err, VIT_ERR_SHAPE, "%s: unexpected tensor %s (not part of a DeiT/ViT%s)",
                         fname, st->tensors[k].name,
                         tn->layout == VIT_LAYOUT_TIMM ? "" : " in transformers' layout");
    free(used);
    return s;
}

vit_status vit_model_from_safetensors(const vit_st_file *st, const vit_json *config,
                                      const vit_json *preprocessor, const char *name,
                                      const char *config_name, int per_channel, vit_model **out,
                                      vit_error *err)
{
    *out = NULL;
    const char *fname = vit_basename(name);
    const char *cname = config_name ? config_name : "config.json";
    vit_model_info info;
    memset(&info, 0, sizeof info);
    info.pre = vit_preprocess_cfg_default();
    /* .vitq files hold timm's names whatever the model came from */
    tensor_names tn = {st, per_channel < 0 ? vit_hf_layout(st) : VIT_LAYOUT_TIMM, 0};
    const int hf = tn.layout != VIT_LAYOUT_TIMM;
    /* timm's LayerNorm eps, or transformers' ViTConfig / DeiTConfig default */
    info.ln_eps = hf ? 1e-12f : 1e-6f;
    vit_status s = infer_shapes(&tn, fname, &info, err);
    if (s != VIT_OK)
        return s;
    info.pre.image_size = info.img_size;
    info.pre.channels = info.in_chans;
    /* Without a config: the tutorial's Resize(256)/CenterCrop(224) ratio, at the model's size. */
    info.pre.resize_size = (int32_t)floor((double)info.img_size / 0.875);
    if (info.in_chans == 1) {
        /* gray models without a config: a neutral normalization */
        info.pre.mean[0] = info.pre.mean[1] = info.pre.mean[2] = 0.5f;
        info.pre.std[0] = info.pre.std[1] = info.pre.std[2] = 0.5f;
    } else if (info.in_chans != 3) {
        return vit_fail(err, VIT_ERR_UNSUPPORTED,
                        "%s: the model takes %d input channels; only 1 (gray) and 3 (RGB) are "
                        "supported",
                        fname, info.in_chans);
    }
    int heads_from_config = 0;
    if (config) {
        s = hf ? vit_hf_apply_config(config, cname, &info, &heads_from_config, err)
               : apply_config(config, cname, &info, &heads_from_config, err);
        if (s != VIT_OK)
            return s;
    }
    if (preprocessor) {
        s = vit_hf_apply_preprocessor(preprocessor, "preprocessor_config.json", &info, err);
        if (s != VIT_OK)
            return s;
    }
    if (!heads_from_config) {
        /* every DeiT/ViT in timm uses 64-wide heads */
        if (info.embed_dim % 64 != 0)
            return vit_fail(err, VIT_ERR_SHAPE,
                            "%s: embed dim %d is not a multiple of 64, so the head count cannot be "
                            "inferred; give it in config.json as model_args.num_heads",
                            fname, info.embed_dim);
        info.num_heads = info.embed_dim / 64;
    }
    if (info.embed_dim % info.num_heads != 0)
        return vit_fail(err, VIT_ERR_SHAPE, "%s: embed dim %d does not split into %d heads", fname,
                        info.embed_dim, info.num_heads);
    if (!info.name[0])
        snprintf(info.name, sizeof info.name, "vit_d%d_l%d_p%d_%d%s", info.embed_dim, info.depth,
                 info.patch_size, info.img_size, info.distilled ? "_distilled" : "");
    s = vit_model_info_check(&info, fname, err);
    if (s != VIT_OK)
        return s;
    info.num_params = count_params(&info);
    info.file_bytes = (int64_t)st->size;
    info.format = VIT_FORMAT_SAFETENSORS;

    vit_model *m = calloc(1, sizeof *m);
    if (!m)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", fname);
    m->info = info;
    m->has_fp32_linears = per_channel < 0;
    m->arena_floats = model_floats(&info, m->has_fp32_linears);
    /* Every arena float is read from a tensor of the file, at 2 bytes an element at least, and
     * tensors never overlap: a file too small to hold them is refused before the arena is
     * allocated. (Found by tests/test-limits.c: zero-width Linear weights such as [1048576, 0]
     * let a 300 kB file ask for hundreds of GB here.) */
    if (m->arena_floats > st->size / 2) {
        size_t want = m->arena_floats;
        vit_model_free(m);
        return vit_fail(err, VIT_ERR_SHAPE,
                        "%s: the tensor shapes need %zu weights, more than the file's %zu bytes "
                        "can hold",
                        fname, want, st->size);
    }
    size_t bytes;
    m->w.blocks = calloc((size_t)info.depth, sizeof *m->w.blocks);
    if (!vit_mul_size(m->arena_floats, sizeof(float), &bytes) || !m->w.blocks ||
        !(m->arena = vit_alloc(bytes))) {
        size_t want = m->arena_floats;
        vit_model_free(m);
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory for %zu weights", fname, want);
    }
    assign_pointers(m, m->has_fp32_linears);
    s = load_weights(m, &tn, fname, per_channel, err);
    if (s == VIT_OK && config && hf) {
        s = vit_hf_labels(m, config, cname, err);
    } else if (s == VIT_OK && config) {
        const vit_json *ln = vit_json_get(config, "label_names");
        if (ln)
            s = vit_model_labels_from_json(m, ln, cname, "label_names", err);
    }
    if (s == VIT_OK && !m->labels && st->metadata) {
        const char *lj = vit_json_string(st->metadata, "labels");
        if (lj) {
            char jerr[128];
            vit_json *arr = vit_json_parse(lj, strlen(lj), jerr, sizeof jerr);
            if (!arr)
                s = vit_fail(err, VIT_ERR_FORMAT, "%s: __metadata__ labels is not a JSON list (%s)",
                             fname, jerr);
            else
                s = vit_model_labels_from_json(m, arr, fname, "__metadata__ labels", err);
            vit_json_free(arr);
        }
    }
    if (s != VIT_OK) {
        vit_model_free(m);
        return s;
    }
    *out = m;
    return VIT_OK;
}

static vit_status parse_config_text(const char *text, size_t len, const char *cname,
                                    vit_json **out, vit_error *err)
{
    char jerr[160];
    *out = vit_json_parse(text, len, jerr, sizeof jerr);
    if (!*out)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: not valid JSON (%s)", cname, jerr);
    return VIT_OK;
}

/* The JSON file `leaf` beside `path` into *out; *out stays NULL when there is none. */
static vit_status read_json_beside(const char *path, const char *leaf, vit_json **out,
                                   vit_error *err)
{
    char jpath[4096];
    sibling_path(path, leaf, jpath, sizeof jpath);
    *out = NULL;
    if (!file_exists(jpath))
        return VIT_OK;
    char *text;
    size_t len;
    vit_status s = vit_read_small_file(jpath, VIT_CONFIG_MAX_BYTES, &text, &len, err);
    if (s == VIT_OK) {
        s = parse_config_text(text, len, leaf, out, err);
        free(text);
    }
    return s;
}

vit_status vit_model_from_safetensors_file(const vit_file_data *map, const char *path,
                                           vit_model **out, vit_error *err)
{
    *out = NULL;
    vit_st_file st;
    vit_status s = vit_st_parse(map->data, map->size, path, &st, err);
    if (s != VIT_OK)
        return s;
    st.file_backed = 1; /* pages copied into the model may be dropped as it is built */

    /* config.json; preprocessor_config.json for a model in transformers' layout */
    vit_json *config = NULL, *pre = NULL;
    s = read_json_beside(path, "config.json", &config, err);
    if (s == VIT_OK && vit_hf_layout(&st) != VIT_LAYOUT_TIMM)
        s = read_json_beside(path, "preprocessor_config.json", &pre, err);
    vit_model *m = NULL;
    if (s == VIT_OK)
        s = vit_model_from_safetensors(&st, config, pre, path, "config.json", -1, &m, err);
    vit_json_free(config);
    vit_json_free(pre);
    vit_st_close(&st);
    if (s != VIT_OK)
        return s;

    char lpath[4096];
    sibling_path(path, "labels.txt", lpath, sizeof lpath);
    if (file_exists(lpath)) {
        s = vit_model_read_labels_file(m, lpath, err);
        if (s != VIT_OK) {
            vit_model_free(m);
            return s;
        }
    }
    *out = m;
    return VIT_OK;
}

vit_status vit_model_load_memory(const void *data, size_t size, const char *config_json,
                                 const char *name, vit_model **out, vit_error *err)
{
    if (!out)
        return vit_fail(err, VIT_ERR_ARG, "no output pointer given");
    *out = NULL;
    if (!data)
        return vit_fail(err, VIT_ERR_ARG, "no model data given");
    if (!name)
        name = "model";
    vit_st_file st;
    vit_status s = vit_st_parse(data, size, name, &st, err);
    if (s != VIT_OK)
        return s;
    vit_json *config = NULL;
    if (config_json) {
        s = parse_config_text(config_json, strlen(config_json), "config.json", &config, err);
        if (s != VIT_OK) {
            vit_st_close(&st);
            return s;
        }
    }
    s = vit_model_from_safetensors(&st, config, NULL, name, "config.json", -1, out, err);
    vit_json_free(config);
    vit_st_close(&st);
    return s;
}

void vit_model_free(vit_model *m)
{
    if (!m)
        return;
    vit_model_free_derived(m);
    vit_lite_release(m);
    vit_free(m->arena);
    free(m->w.blocks);
    free(m->labels);
    free(m->label_storage);
    free(m);
}

const vit_model_info *vit_model_get_info(const vit_model *m)
{
    return m ? &m->info : NULL;
}
