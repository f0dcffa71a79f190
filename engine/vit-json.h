/* vit-json.h — a small, strict JSON reader for safetensors headers and timm's config.json.
 * Bounded: nesting depth and input size are limited, every error gives the byte offset. */
#ifndef VIT_JSON_H
#define VIT_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    VIT_JSON_NULL = 0,
    VIT_JSON_BOOL,
    VIT_JSON_NUMBER,
    VIT_JSON_STRING,
    VIT_JSON_ARRAY,
    VIT_JSON_OBJECT,
} vit_json_type;

typedef struct vit_json vit_json;
struct vit_json {
    vit_json_type type;
    int boolean;
    double number;
    char *string;   /* decoded, NUL-terminated (strings only) */
    size_t len;     /* string length in bytes */
    char *key;      /* member name when inside an object, else NULL */
    vit_json *child;/* first element / member */
    vit_json *next; /* next sibling */
    int32_t count;  /* number of children */
};

#define VIT_JSON_MAX_DEPTH 64
/* Values in one document: a safetensors header at its tensor limit (65536 tensors) has about
 * 600,000; a 4 MB config.json could otherwise hold 2 million (160 MB of nodes). */
#define VIT_JSON_MAX_NODES (1 << 20)

/* Parse `len` bytes. On failure returns NULL and writes "at byte N: problem" into errbuf. */
vit_json *vit_json_parse(const char *text, size_t len, char *errbuf, size_t errlen);
void vit_json_free(vit_json *root);

const vit_json *vit_json_get(const vit_json *object, const char *key);
/* Convenience accessors: return the fallback when absent or of another type. */
double vit_json_number(const vit_json *object, const char *key, double fallback);
const char *vit_json_string(const vit_json *object, const char *key);
/* 1 if v is a number holding an integer in [lo, hi]. */
int vit_json_is_int(const vit_json *v, int64_t lo, int64_t hi);

#endif /* VIT_JSON_H */
