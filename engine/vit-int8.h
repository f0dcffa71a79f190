/* vit-int8.h — the int8 variant's weights and run state (vit-forward-int8.c). */
#ifndef VIT_INT8_H
#define VIT_INT8_H

#include "vit-impl.h"
#include "vit-pool.h"
#include "vit-quant.h"

typedef struct vit_pool vit_pool;

/* Every Linear of the model, quantized and packed for one kernel. */
typedef struct vit_quant_model {
    int32_t per_channel;
    vit_kernel kernel;
    int32_t num_layers; /* 4 * depth + 1 (+1 distilled) */
    vit_qlinear *layers;/* per block: qkv, proj, fc1, fc2; then head, (head_dist) */
} vit_quant_model;

/* vit-prepare.c: the model's derived weights. */
vit_status vit_quant_model_build(const vit_model *m, int per_channel, vit_kernel kernel,
                                 vit_quant_model **out, vit_error *err);
void vit_quant_model_free(vit_quant_model *q);
/* The int8 weights vit_model_prepare made for (per_channel, kernel), or a .vitq's; NULL if none.
 * (A .vitq has one kind of scales: asked for the other, it gives what it has.) */
const vit_quant_model *vit_model_quant_find(const vit_model *m, int per_channel,
                                            vit_kernel kernel);
/* New int8 weights for (per_channel, kernel), owned by the caller: quantized from the fp32
 * Linears, or repacked from int8 weights the model has. The model is only read. */
vit_status vit_quant_model_derive(const vit_model *m, int per_channel, vit_kernel kernel,
                                  vit_quant_model **out, vit_error *err);
/* The int8 weights a session reads: the model's prepared ones (*use), or new ones made for it
 * (*use == *own, the session frees *own). */
vit_status vit_model_quant_for(const vit_model *m, int per_channel, vit_kernel kernel,
                               const vit_quant_model **use, vit_quant_model **own,
                               vit_error *err);
/* What vit_model_free calls: frees the int8 and packed fp32 weights. */
void vit_model_free_derived(vit_model *m);
/* Bytes of int8 weights + scales + bias (what a .vitq file stores for the Linears). */
size_t vit_quant_model_bytes(const vit_quant_model *q);

typedef struct {
    vit_fp32_state f; /* the fp32 buffers: x, xn, qkv, att, ctx, hid, patches */
    float *tmp;       /* (T, D) a Linear's output before the residual add */
    void *scratch;    /* quantized activations for vit_qlinear_forward */
    vit_pool *pool;
} vit_int8_state;

vit_status vit_int8_state_new(const vit_model *m, int32_t threads, vit_int8_state *s,
                              vit_error *err);
void vit_int8_state_free(vit_int8_state *s);
void vit_forward_int8(const vit_model *m, const vit_quant_model *q, vit_int8_state *s,
                      const float *input, float *logits);

#endif /* VIT_INT8_H */
