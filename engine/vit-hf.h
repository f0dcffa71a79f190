/* vit-hf.h — the transformers layout of a ViT/DeiT on the Hugging Face hub (the
 * `facebook/deit-*` repositories): its tensor names, its config.json and its
 * preprocessor_config.json, mapped onto the engine's (timm's) model. Also the config values both
 * layouts' config.json readers share. Internal to libvit (vit-hf.c). */
#ifndef VIT_HF_H
#define VIT_HF_H

#include "vit-safetensors.h"

typedef enum {
    VIT_LAYOUT_TIMM = 0, /* timm: blocks.N.attn.qkv, head, ... */
    VIT_LAYOUT_HF_VIT,   /* transformers ViTForImageClassification: vit.*, classifier.* */
    VIT_LAYOUT_HF_DEIT,  /* transformers DeiTForImageClassification(WithTeacher): deit.*,
                          * classifier.* or cls_classifier.* + distillation_classifier.* */
} vit_layout;

/* The layout of a file's tensors, told by their names (its class token's). */
vit_layout vit_hf_layout(const vit_st_file *st);

/* The file's name for timm's tensor `timm` ("blocks.3.attn.proj.weight") in `layout`, into buf;
 * `distilled`: the model has a distillation token (which picks DeiT's classifier names). timm's
 * fused qkv has three transformers tensors: part 0, 1, 2 names query, key, value (rows q | k | v
 * of timm's qkv); other tensors ignore part. */
void vit_hf_name(vit_layout layout, int distilled, const char *timm, int part, char *buf,
                 size_t size);

/* config.json of the transformers layout: checks hidden_size, num_hidden_layers,
 * intermediate_size, image_size, patch_size, num_channels against the shapes in info; takes
 * num_attention_heads (*heads_from_config = 1), layer_norm_eps, the name (_name_or_path, else
 * architectures[0]); refuses another hidden_act than gelu. */
vit_status vit_hf_apply_config(const vit_json *cfg, const char *cname, vit_model_info *info,
                               int *heads_from_config, vit_error *err);
/* Labels from config.json's id2label ({"0": "tench, Tinca tinca", ...}): keys "0".."K-1", every
 * class named exactly once. Nothing when there is no id2label. */
vit_status vit_hf_labels(vit_model *m, const vit_json *cfg, const char *cname, vit_error *err);
/* preprocessor_config.json (ViTImageProcessor / DeiTImageProcessor): resize to size (an integer
 * n meaning n×n, or {"height", "width"}) with resample (PIL: 0 nearest, 2 bilinear, 3 bicubic),
 * center crop to crop_size (the model's input), rescale by 1/255, normalize with image_mean /
 * image_std; into info->pre. */
vit_status vit_hf_apply_preprocessor(const vit_json *pp, const char *pname, vit_model_info *info,
                                     vit_error *err);

/* Shared by both config.json readers (vit-model.c and the above). */
/* layer_norm_eps when present: a number, as a float in (0, 1]. */
vit_status vit_config_ln_eps(const vit_json *cfg, const char *cname, float *eps, vit_error *err);
/* A per-channel list (mean, std) of 1, 3 or in_chans numbers into dst[3] (one value repeated);
 * `positive`: each must be > 0 (a std). `what` names it in messages. */
vit_status vit_config_channel_list(const vit_json *a, const char *cname, const char *what,
                                   int32_t in_chans, int positive, float dst[3], vit_error *err);

#endif /* VIT_HF_H */
