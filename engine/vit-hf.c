/* vit-hf.c — the transformers layout (Hugging Face's ViTForImageClassification and
 * DeiTForImageClassification(WithTeacher), as the `facebook/deit-*` hub repositories hold them):
 * tensor names onto timm's, config.json (shapes, heads, layer_norm_eps, id2label, name) and
 * preprocessor_config.json (square resize, center crop, rescale, normalize). The loader
 * (vit-model.c) asks for timm's names and calls these; nothing here calls back into it.
 *
 * The network is timm's: transformers' embeddings are [cls, (distillation,) patches] +
 * position_embeddings, each layer x += attention.output.dense(attention(layernorm_before(x))),
 * x += output.dense(gelu(intermediate.dense(layernorm_after(x)))), then layernorm and the
 * classifier on token 0 (WithTeacher: the mean of cls_classifier(token 0) and
 * distillation_classifier(token 1)). Only the names, the split q/k/v Linears (concatenated at
 * load into timm's qkv, rows q | k | v) and LayerNorm's eps (1e-12 in facebook's configs) differ. */
#include "vit-hf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Tensor names */

vit_layout vit_hf_layout(const vit_st_file *st)
{
    for (int32_t k = 0; k < st->count; k++) {
        const char *n = st->tensors[k].name;
        if (strncmp(n, "vit.embeddings.", 15) == 0)
            return VIT_LAYOUT_HF_VIT;
        if (strncmp(n, "deit.embeddings.", 16) == 0)
            return VIT_LAYOUT_HF_DEIT;
    }
    return VIT_LAYOUT_TIMM;
}

typedef struct {
    const char *timm, *hf;
} name_pair;

void vit_hf_name(vit_layout layout, int distilled, const char *timm, int part, char *buf,
                 size_t size)
{
    if (layout == VIT_LAYOUT_TIMM) {
        snprintf(buf, size, "%s", timm);
        return;
    }
    const char *P = layout == VIT_LAYOUT_HF_VIT ? "vit" : "deit";
    static const name_pair top[] = {
        {"cls_token", "embeddings.cls_token"},
        {"dist_token", "embeddings.distillation_token"},
        {"pos_embed", "embeddings.position_embeddings"},
        {"patch_embed.proj.weight", "embeddings.patch_embeddings.projection.weight"},
        {"patch_embed.proj.bias", "embeddings.patch_embeddings.projection.bias"},
        {"norm.weight", "layernorm.weight"},
        {"norm.bias", "layernorm.bias"},
    };
    for (size_t k = 0; k < sizeof top / sizeof top[0]; k++)
        if (strcmp(timm, top[k].timm) == 0) {
            snprintf(buf, size, "%s.%s", P, top[k].hf);
            return;
        }
    const char *dot = strrchr(timm, '.');
    if (strncmp(timm, "head.", 5) == 0 || strncmp(timm, "head_dist.", 10) == 0) {
        /* the classifiers have no prefix; DeiT's with a teacher are cls_ and distillation_ */
        const char *cls = timm[4] == '_' ? "distillation_classifier"
                          : layout == VIT_LAYOUT_HF_DEIT && distilled ? "cls_classifier"
                                                                      : "classifier";
        snprintf(buf, size, "%s%s", cls, dot);
        return;
    }
    int layer = 0, at = 0;
    if (sscanf(timm, "blocks.%d.%n", &layer, &at) == 1 && at > 0) {
        static const name_pair blk[] = {
            {"norm1.", "layernorm_before."},   {"attn.proj.", "attention.output.dense."},
            {"norm2.", "layernorm_after."},    {"mlp.fc1.", "intermediate.dense."},
            {"mlp.fc2.", "output.dense."},
        };
        static const char *const qkv[3] = {"query", "key", "value"};
        const char *leaf = timm + at;
        if (strncmp(leaf, "attn.qkv.", 9) == 0) {
            snprintf(buf, size, "%s.encoder.layer.%d.attention.attention.%s.%s", P, layer,
                     qkv[part >= 0 && part < 3 ? part : 0], leaf + 9);
            return;
        }
        for (size_t k = 0; k < sizeof blk / sizeof blk[0]; k++) {
            size_t n = strlen(blk[k].timm);
            if (strncmp(leaf, blk[k].timm, n) == 0) {
                snprintf(buf, size, "%s.encoder.layer.%d.%s%s", P, layer, blk[k].hf, leaf + n);
                return;
            }
        }
    }
    snprintf(buf, size, "%s", timm);
}

/* ---------------------------------------------------------------------------------------------
 * Values both config.json readers share */

vit_status vit_config_ln_eps(const vit_json *cfg, const char *cname, float *eps, vit_error *err)
{
    const vit_json *e = vit_json_get(cfg, "layer_norm_eps");
    if (!e)
        return VIT_OK;
    /* as the float it becomes: 1e-50 is a positive double but 0 as a float */
    const float f = e->type == VIT_JSON_NUMBER ? (float)e->number : NAN;
    if (!(f > 0.0f && f <= 1.0f))
        return vit_fail(err, VIT_ERR_FORMAT,
                        "%s: layer_norm_eps is not a number in (0, 1] (as a float)", cname);
    *eps = f;
    return VIT_OK;
}

vit_status vit_config_channel_list(const vit_json *a, const char *cname, const char *what,
                                   int32_t in_chans, int positive, float dst[3], vit_error *err)
{
    if (a->type != VIT_JSON_ARRAY || (a->count != in_chans && a->count != 1 && a->count != 3))
        return vit_fail(err, VIT_ERR_FORMAT, "%s: %s must list one value per channel", cname,
                        what);
    int i = 0;
    for (const vit_json *v = a->child; v; v = v->next, i++) {
        /* checked as the float it becomes: 1e39 is a finite double but an infinite float */
        if (v->type != VIT_JSON_NUMBER || !isfinite((float)v->number) ||
            (positive && !((float)v->number > 0 && isfinite(1.0f / (float)v->number))))
            return vit_fail(err, VIT_ERR_FORMAT, "%s: %s[%d] is not a valid number", cname, what,
                            i);
        dst[i] = (float)v->number;
    }
    for (; i < 3; i++)
        dst[i] = dst[a->count - 1];
    return VIT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * config.json */

/* An optional whole number of config.json that must equal what the weights say. */
static vit_status check_dim(const vit_json *cfg, const char *cname, const char *key, int32_t have,
                            const char *from, vit_error *err)
{
    const vit_json *v = vit_json_get(cfg, key);
    if (!v)
        return VIT_OK;
    if (!vit_json_is_int(v, 1, 1 << 24))
        return vit_fail(err, VIT_ERR_FORMAT, "%s: %s is not a positive whole number", cname, key);
    if ((int32_t)v->number != have)
        return vit_fail(err, VIT_ERR_SHAPE, "%s: %s is %d but %s says %d", cname, key,
                        (int)v->number, from, have);
    return VIT_OK;
}

vit_status vit_hf_apply_config(const vit_json *cfg, const char *cname, vit_model_info *info,
                               int *heads_from_config, vit_error *err)
{
    if (cfg->type != VIT_JSON_OBJECT)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: not a JSON object", cname);
    const struct {
        const char *key;
        int32_t have;
        const char *from;
    } dims[] = {
        {"hidden_size", info->embed_dim, "the patch embedding"},
        {"num_hidden_layers", info->depth, "the encoder's layer count"},
        {"intermediate_size", info->mlp_hidden, "intermediate.dense"},
        {"image_size", info->img_size, "position_embeddings"},
        {"patch_size", info->patch_size, "the patch embedding"},
        {"num_channels", info->in_chans, "the patch embedding"},
    };
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
        vit_status s = check_dim(cfg, cname, dims[k].key, dims[k].have, dims[k].from, err);
        if (s != VIT_OK)
            return s;
    }
    const vit_json *h = vit_json_get(cfg, "num_attention_heads");
    if (h) {
        if (!vit_json_is_int(h, 1, 4096))
            return vit_fail(err, VIT_ERR_FORMAT,
                            "%s: num_attention_heads is not a positive whole number", cname);
        info->num_heads = (int32_t)h->number;
        *heads_from_config = 1;
    }
    vit_status s = vit_config_ln_eps(cfg, cname, &info->ln_eps, err);
    if (s != VIT_OK)
        return s;
    const vit_json *act = vit_json_get(cfg, "hidden_act");
    if (act && (act->type != VIT_JSON_STRING || strcmp(act->string, "gelu") != 0))
        return vit_fail(err, VIT_ERR_UNSUPPORTED,
                        "%s: hidden_act '%.32s' is not supported (only gelu, the exact GELU)",
                        cname, act->type == VIT_JSON_STRING ? act->string : "?");
    const vit_json *qb = vit_json_get(cfg, "qkv_bias");
    if (qb && qb->type == VIT_JSON_BOOL && !qb->boolean)
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: qkv_bias false is not supported", cname);

    const char *name = vit_json_string(cfg, "_name_or_path");
    const vit_json *arch = vit_json_get(cfg, "architectures");
    if ((!name || !name[0]) && arch && arch->type == VIT_JSON_ARRAY && arch->child &&
        arch->child->type == VIT_JSON_STRING)
        name = arch->child->string;
    if (name && name[0])
        snprintf(info->name, sizeof info->name, "%s", name);
    return VIT_OK;
}

/* "0", "17": a class index without sign, spaces or leading zeros, below n; else -1. */
static int32_t class_index(const char *key, int32_t n)
{
    if (!key[0] || (key[0] == '0' && key[1]) || strlen(key) > 9)
        return -1;
    int32_t v = 0;
    for (const char *p = key; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v < n ? v : -1;
}

vit_status vit_hf_labels(vit_model *m, const vit_json *cfg, const char *cname, vit_error *err)
{
    const vit_json *map = vit_json_get(cfg, "id2label");
    if (!map)
        return VIT_OK;
    const int32_t K = m->info.num_classes;
    if (map->type != VIT_JSON_OBJECT)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: id2label is not an object", cname);
    const char **names = calloc((size_t)K, sizeof *names);
    if (!names)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory for labels", cname);
    vit_status s = VIT_OK;
    for (const vit_json *e = map->child; e && s == VIT_OK; e = e->next) {
        const int32_t i = class_index(e->key, K);
        if (i < 0)
            s = vit_fail(err, VIT_ERR_SHAPE,
                         "%s: id2label key \"%.24s\" is not a class index from 0 to %d", cname,
                         e->key, K - 1);
        else if (e->type != VIT_JSON_STRING)
            s = vit_fail(err, VIT_ERR_FORMAT, "%s: id2label[\"%d\"] is not a string", cname, i);
        else if (names[i])
            s = vit_fail(err, VIT_ERR_FORMAT, "%s: id2label names class %d twice", cname, i);
        else
            names[i] = e->string;
    }
    for (int32_t i = 0; i < K && s == VIT_OK; i++)
        if (!names[i])
            s = vit_fail(err, VIT_ERR_SHAPE,
                         "%s: id2label has no label for class %d (it must name all %d classes)",
                         cname, i, K);
    if (s == VIT_OK)
        s = vit_model_alloc_labels(m, names, K, err);
    free(names);
    return s;
}

/* ---------------------------------------------------------------------------------------------
 * preprocessor_config.json */

/* A boolean that defaults to `dflt`. */
static vit_status get_flag(const vit_json *pp, const char *pname, const char *key, int dflt,
                           int *out, vit_error *err)
{
    const vit_json *v = vit_json_get(pp, key);
    *out = dflt;
    if (!v)
        return VIT_OK;
    if (v->type != VIT_JSON_BOOL)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: %s is not true or false", pname, key);
    *out = v->boolean;
    return VIT_OK;
}

/* size / crop_size: an integer n (n×n: the ViT and DeiT image processors' legacy form, which
 * transformers' get_size_dict reads with default_to_square) or {"height": h, "width": w}. */
static vit_status get_size(const vit_json *pp, const char *pname, const char *key, int32_t *h,
                           int32_t *w, vit_error *err)
{
    const vit_json *v = vit_json_get(pp, key);
    if (!v)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: %s is missing", pname, key);
    const vit_json *vh = v, *vw = v;
    if (v->type == VIT_JSON_OBJECT) {
        vh = vit_json_get(v, "height");
        vw = vit_json_get(v, "width");
        if (!vh || !vw) {
            if (vit_json_get(v, "shortest_edge"))
                return vit_fail(err, VIT_ERR_UNSUPPORTED,
                                "%s: %s {\"shortest_edge\"} is not supported (only a fixed "
                                "height and width)", pname, key);
            return vit_fail(err, VIT_ERR_FORMAT, "%s: %s has no height and width", pname, key);
        }
    }
    if (!vit_json_is_int(vh, 1, VIT_IMAGE_MAX_SIDE) || !vit_json_is_int(vw, 1, VIT_IMAGE_MAX_SIDE))
        return vit_fail(err, VIT_ERR_FORMAT,
                        "%s: %s is not a size from 1 to %d px (an integer or {\"height\", "
                        "\"width\"})", pname, key, VIT_IMAGE_MAX_SIDE);
    *h = (int32_t)vh->number;
    *w = (int32_t)vw->number;
    return VIT_OK;
}

vit_status vit_hf_apply_preprocessor(const vit_json *pp, const char *pname, vit_model_info *info,
                                     vit_error *err)
{
    if (pp->type != VIT_JSON_OBJECT)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: not a JSON object", pname);
    int do_resize, do_crop, do_rescale, do_normalize;
    vit_status s = get_flag(pp, pname, "do_resize", 1, &do_resize, err);
    if (s == VIT_OK)
        s = get_flag(pp, pname, "do_center_crop", 1, &do_crop, err);
    if (s == VIT_OK)
        s = get_flag(pp, pname, "do_rescale", 1, &do_rescale, err);
    if (s == VIT_OK)
        s = get_flag(pp, pname, "do_normalize", 1, &do_normalize, err);
    if (s != VIT_OK)
        return s;
    if (!do_resize)
        return vit_fail(err, VIT_ERR_UNSUPPORTED,
                        "%s: do_resize false is not supported (images of every size need one)",
                        pname);
    if (!do_rescale)
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: do_rescale false is not supported", pname);
    const vit_json *rf = vit_json_get(pp, "rescale_factor");
    if (rf && (rf->type != VIT_JSON_NUMBER || !(fabs(rf->number * 255.0 - 1.0) < 1e-6)))
        return vit_fail(err, VIT_ERR_UNSUPPORTED,
                        "%s: rescale_factor is not 1/255, the only one supported", pname);

    int32_t rh, rw, ch, cw;
    s = get_size(pp, pname, "size", &rh, &rw, err);
    if (s != VIT_OK)
        return s;
    const int32_t S = info->img_size;
    if (do_crop) {
        s = get_size(pp, pname, "crop_size", &ch, &cw, err);
        if (s != VIT_OK)
            return s;
        if (ch > rh || cw > rw)
            return vit_fail(err, VIT_ERR_SHAPE,
                            "%s: crop_size %d×%d is larger than the resize to %d×%d", pname, cw,
                            ch, rw, rh);
        if (ch != S || cw != S)
            return vit_fail(err, VIT_ERR_SHAPE,
                            "%s: crop_size %d×%d is not the model's %d×%d input", pname, cw, ch,
                            S, S);
    } else if (rh != S || rw != S) {
        return vit_fail(err, VIT_ERR_SHAPE,
                        "%s: without a center crop the resize to %d×%d must be the model's %d×%d "
                        "input", pname, rw, rh, S, S);
    }

    /* PIL's Resampling enum; absent: the processor's default (ViT bilinear, DeiT bicubic) */
    const char *type = vit_json_string(pp, "image_processor_type");
    if (!type)
        type = vit_json_string(pp, "feature_extractor_type");
    vit_interp interp = type && strncmp(type, "ViT", 3) == 0 ? VIT_INTERP_BILINEAR
                                                              : VIT_INTERP_BICUBIC;
    const vit_json *rs = vit_json_get(pp, "resample");
    if (rs) {
        static const char *const pil[6] = {"nearest", "Lanczos", "bilinear", "bicubic", "box",
                                           "Hamming"};
        if (!vit_json_is_int(rs, 0, 1 << 30))
            return vit_fail(err, VIT_ERR_FORMAT, "%s: resample is not a PIL filter number",
                            pname);
        const int r = (int)rs->number;
        if (r != 0 && r != 2 && r != 3)
            return vit_fail(err, VIT_ERR_UNSUPPORTED,
                            "%s: resample %d (%s) is not supported; only 0 (nearest), 2 "
                            "(bilinear) and 3 (bicubic)", pname, r, r < 6 ? pil[r] : "unknown");
        interp = r == 0 ? VIT_INTERP_NEAREST : r == 2 ? VIT_INTERP_BILINEAR : VIT_INTERP_BICUBIC;
    }

    vit_preprocess_cfg pre = info->pre;
    pre.image_size = S;
    pre.resize_width = rw;
    pre.resize_height = rh;
    pre.resize_size = rw < rh ? rw : rh;
    pre.interp = interp;
    for (int c = 0; c < 3; c++) {
        /* transformers' IMAGENET_STANDARD_MEAN / _STD when absent; identity when not normalizing */
        pre.mean[c] = do_normalize ? 0.5f : 0.0f;
        pre.std[c] = do_normalize ? 0.5f : 1.0f;
    }
    const vit_json *mean = vit_json_get(pp, "image_mean"), *std = vit_json_get(pp, "image_std");
    if (do_normalize && mean)
        s = vit_config_channel_list(mean, pname, "image_mean", info->in_chans, 0, pre.mean, err);
    if (s == VIT_OK && do_normalize && std)
        s = vit_config_channel_list(std, pname, "image_std", info->in_chans, 1, pre.std, err);
    if (s == VIT_OK)
        s = vit_preprocess_cfg_check(&pre, pname, err);
    if (s == VIT_OK)
        info->pre = pre;
    return s;
}
