/* vit-limits.c — what a model may ask of the machine, decided before anything is sized from it.
 *
 * Every loader (safetensors, .vitq, .vitl) passes its model's shape and preprocessing through
 * vit_model_info_check once it has read them, so that a file cannot make a session allocate
 * gigabytes or run for hours, and a model never loads with settings the preprocessing would then
 * refuse (which used to surface as an error about the image). The limits (vit.h) are generous
 * for every published ViT: the largest, ViT-G/14 at 518 px, has 1,370 tokens, width 1,664, an
 * MLP of 8,192 and about 5.6 TFLOP per image. */
#include "vit-impl.h"

#include <math.h>

vit_status vit_preprocess_cfg_check(const vit_preprocess_cfg *cfg, const char *name,
                                    vit_error *err)
{
    if (!cfg)
        return vit_fail(err, VIT_ERR_ARG, "%s: preprocessing: no settings", name);
    if (cfg->channels != 1 && cfg->channels != 3)
        return vit_fail(err, VIT_ERR_ARG, "%s: preprocessing: channels is %d, not 1 or 3", name,
                        cfg->channels);
    if (cfg->image_size <= 0 || cfg->image_size > VIT_IMAGE_MAX_SIDE)
        return vit_fail(err, VIT_ERR_LIMIT, "%s: preprocessing: a crop of %d px is out of range "
                        "(1 to %d)", name, cfg->image_size, VIT_IMAGE_MAX_SIDE);
    if (cfg->resize_size <= 0 || cfg->resize_size > VIT_IMAGE_MAX_SIDE)
        return vit_fail(err, VIT_ERR_LIMIT,
                        "%s: preprocessing: a resize to %d px for a %d px crop is out of range "
                        "(1 to %d; is crop_pct right?)",
                        name, cfg->resize_size, cfg->image_size, VIT_IMAGE_MAX_SIDE);
    if ((int64_t)cfg->image_size * cfg->image_size > VIT_IMAGE_MAX_PIXELS)
        return vit_fail(err, VIT_ERR_LIMIT, "%s: preprocessing: a %d×%d crop is over the %lld "
                        "megapixel limit", name, cfg->image_size, cfg->image_size,
                        VIT_IMAGE_MAX_PIXELS / 1000000);
    if (cfg->resize_width < 0 || cfg->resize_height < 0 ||
        (cfg->resize_width > 0) != (cfg->resize_height > 0) ||
        cfg->resize_width > VIT_IMAGE_MAX_SIDE || cfg->resize_height > VIT_IMAGE_MAX_SIDE)
        return vit_fail(err, VIT_ERR_LIMIT,
                        "%s: preprocessing: a resize to %d×%d is out of range (both 0, or 1 to %d)",
                        name, cfg->resize_width, cfg->resize_height, VIT_IMAGE_MAX_SIDE);
    if (cfg->resize_width > 0 &&
        (cfg->image_size > cfg->resize_width || cfg->image_size > cfg->resize_height))
        return vit_fail(err, VIT_ERR_ARG,
                        "%s: preprocessing: a %d px crop is larger than the resize to %d×%d", name,
                        cfg->image_size, cfg->resize_width, cfg->resize_height);
    if (cfg->interp != VIT_INTERP_BICUBIC && cfg->interp != VIT_INTERP_BILINEAR &&
        cfg->interp != VIT_INTERP_NEAREST)
        return vit_fail(err, VIT_ERR_ARG, "%s: preprocessing: unknown interpolation %d", name,
                        (int)cfg->interp);
    /* as floats, the way they are used: 1e39 is a valid JSON number but an infinite float */
    for (int c = 0; c < 3; c++) {
        const float m = cfg->mean[c], s = cfg->std[c];
        if (!isfinite(m) || !isfinite(s) || !(s > 0.0f) || !isfinite(1.0f / s))
            return vit_fail(err, VIT_ERR_ARG,
                            "%s: preprocessing: mean %g and std %g of channel %d are not usable "
                            "(finite, std > 0)", name, (double)m, (double)s, c);
    }
    return VIT_OK;
}

vit_status vit_model_info_check(const vit_model_info *info, const char *name, vit_error *err)
{
    const int64_t T = info->num_tokens, D = info->embed_dim, H = info->mlp_hidden,
                  L = info->depth, heads = info->num_heads;
    if (T > VIT_MODEL_MAX_TOKENS)
        return vit_fail(err, VIT_ERR_LIMIT, "%s: %lld tokens per image (%d px, patch %d); the "
                        "limit is %d", name, (long long)T, info->img_size, info->patch_size,
                        VIT_MODEL_MAX_TOKENS);
    if (D > VIT_MODEL_MAX_DIM || H > VIT_MODEL_MAX_DIM)
        return vit_fail(err, VIT_ERR_LIMIT, "%s: width %lld and MLP width %lld; the limit is %d",
                        name, (long long)D, (long long)H, VIT_MODEL_MAX_DIM);
    if (L > VIT_MODEL_MAX_DEPTH)
        return vit_fail(err, VIT_ERR_LIMIT, "%s: %lld blocks; the limit is %d", name,
                        (long long)L, VIT_MODEL_MAX_DEPTH);
    /* the largest buffers of a session: the MLP's hidden activations and the attention scores */
    const double mlp = (double)T * (double)H * 4.0, att = (double)heads * T * T * 4.0;
    if (mlp > (double)VIT_MODEL_MAX_BUFFER_BYTES || att > (double)VIT_MODEL_MAX_BUFFER_BYTES)
        return vit_fail(err, VIT_ERR_LIMIT,
                        "%s: %lld tokens need %.1f GB for the MLP and %.1f GB for attention per "
                        "image; the limit is %lld GB each",
                        name, (long long)T, mlp / 1e9, att / 1e9,
                        (long long)(VIT_MODEL_MAX_BUFFER_BYTES >> 30));
    /* multiply-adds per image: the Linears, then q k^T and p v */
    const double flop = 2.0 * L * ((double)T * (4.0 * D * D + 2.0 * D * H) + 2.0 * T * T * D);
    if (flop > VIT_MODEL_MAX_FLOP)
        return vit_fail(err, VIT_ERR_LIMIT,
                        "%s: %.1f TFLOP per image (about %.0f s on a fast core); the limit is "
                        "%.0f TFLOP",
                        name, flop / 1e12, flop / 1e11, VIT_MODEL_MAX_FLOP / 1e12);
    if (!(info->ln_eps > 0.0f && info->ln_eps <= 1.0f))
        return vit_fail(err, VIT_ERR_LIMIT, "%s: LayerNorm eps %g is out of range (0, 1]", name,
                        (double)info->ln_eps);
    return vit_preprocess_cfg_check(&info->pre, name, err);
}
