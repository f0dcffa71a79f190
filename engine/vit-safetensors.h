/* vit-safetensors.h — reading the safetensors format: an 8-byte little-endian header length,
 * a JSON header naming each tensor's dtype, shape and byte range, then the raw data. */
#ifndef VIT_SAFETENSORS_H
#define VIT_SAFETENSORS_H

#include "vit-impl.h"
#include "vit-json.h"

/* Limits checked before anything is allocated from the file's own numbers. */
#define VIT_ST_MAX_HEADER (100u << 20) /* 100 MB, as the safetensors reference implementation */
#define VIT_ST_MAX_TENSORS 65536
#define VIT_ST_MAX_RANK 8

/* I8 appears only in our .vitq files; vit-model.c refuses it in plain safetensors models. */
typedef enum { VIT_DT_F32 = 0, VIT_DT_F16, VIT_DT_BF16, VIT_DT_I8 } vit_dtype;

typedef struct {
    const char *name;  /* points into the parsed header */
    vit_dtype dtype;
    int32_t rank;
    int64_t shape[VIT_ST_MAX_RANK];
    int64_t numel;
    const uint8_t *data; /* into the file's bytes */
    uint64_t begin, end; /* byte range within the data section */
} vit_st_tensor;

typedef struct {
    vit_json *header;       /* parsed JSON (owns the names) */
    const vit_json *metadata; /* "__metadata__" object or NULL */
    vit_st_tensor *tensors;
    int32_t count;
    const vit_st_tensor **by_name; /* (count) sorted by name: vit_st_find is a binary search */
    const uint8_t *base;    /* whole file */
    size_t size;
    int file_backed;        /* base is the file's private copy: vit_st_release may drop pages */
} vit_st_file;

/* Parse and validate a safetensors image in memory (not copied; must outlive the result).
 * `name` is used in messages. Checks: header length within the file and the limit, valid JSON,
 * each entry's dtype / shape / offsets, sizes that agree, no overlaps, no duplicate names. */
vit_status vit_st_parse(const uint8_t *data, size_t size, const char *name, vit_st_file *out,
                        vit_error *err);
/* Free what vit_st_parse made (not the bytes it parsed). */
void vit_st_close(vit_st_file *f);

const vit_st_tensor *vit_st_find(const vit_st_file *f, const char *name);
/* Convert a float tensor's data to fp32 (F16/BF16 widened). dst holds numel floats. */
void vit_st_to_f32(const vit_st_tensor *t, float *dst);
/* Done with a tensor's bytes: where they are the file's private copy (file_backed), its whole
 * pages are handed back to the kernel, so a model copied out of its file tensor by tensor never
 * holds the file and its copy in memory at once. The bytes must not be read again (they read as
 * zeros); tensors never overlap (vit_st_parse refuses it), so no other tensor loses bytes. */
void vit_st_release(const vit_st_file *f, const vit_st_tensor *t);
const char *vit_dtype_name(vit_dtype dt);

/* Build a model from a parsed safetensors file (timm's layout, or for float weights
 * transformers', vit-hf.h), an optional parsed config.json (timm's or transformers', as the
 * layout) and an optional preprocessor_config.json (vit-model.c). per_channel: -1 for float
 * weights; 0 / 1 for a .vitq's int8 Linears (per-tensor / per-channel scales). */
vit_status vit_model_from_safetensors(const vit_st_file *st, const vit_json *config,
                                      const vit_json *preprocessor, const char *name,
                                      const char *config_name, int per_channel, vit_model **out,
                                      vit_error *err);

/* Labels from a JSON array of num_classes strings (vit-labels.c); `what` names it in messages. */
vit_status vit_model_labels_from_json(vit_model *m, const vit_json *arr, const char *fname,
                                      const char *what, vit_error *err);

#endif /* VIT_SAFETENSORS_H */
