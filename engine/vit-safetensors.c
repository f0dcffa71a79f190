/* vit-safetensors.c — safetensors parsing and validation. The file is untrusted: every number in
 * it is checked against the file size before it is used for anything. */
#include "vit-safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *vit_dtype_name(vit_dtype dt)
{
    switch (dt) {
    case VIT_DT_F32: return "F32";
    case VIT_DT_F16: return "F16";
    case VIT_DT_BF16: return "BF16";
    case VIT_DT_I8: return "I8";
    }
    return "?";
}

static int dtype_size(vit_dtype dt)
{
    return dt == VIT_DT_F32 ? 4 : dt == VIT_DT_I8 ? 1 : 2;
}

/* Every dtype the safetensors spec names, so an unsupported one gets a precise message. */
static const char *const known_dtypes[] = {"BOOL", "U8",  "I16", "U16", "I32", "U32",
                                           "I64",  "U64", "F64", "F8_E4M3", "F8_E5M2", NULL};

static int cmp_begin(const void *a, const void *b)
{
    const vit_st_tensor *x = *(const vit_st_tensor *const *)a;
    const vit_st_tensor *y = *(const vit_st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(const vit_st_tensor *const *)a)->name, (*(const vit_st_tensor *const *)b)->name);
}

static vit_status parse_entry(const vit_json *e, const char *fname, uint64_t data_size,
                              vit_st_tensor *t, vit_error *err)
{
    t->name = e->key;
    if (e->type != VIT_JSON_OBJECT)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: header entry for tensor %s is not an object",
                        fname, t->name);
    const char *dt = vit_json_string(e, "dtype");
    if (!dt)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: tensor %s has no dtype", fname, t->name);
    if (strcmp(dt, "F32") == 0)
        t->dtype = VIT_DT_F32;
    else if (strcmp(dt, "F16") == 0)
        t->dtype = VIT_DT_F16;
    else if (strcmp(dt, "BF16") == 0)
        t->dtype = VIT_DT_BF16;
    else if (strcmp(dt, "I8") == 0)
        t->dtype = VIT_DT_I8;
    else {
        for (int i = 0; known_dtypes[i]; i++)
            if (strcmp(dt, known_dtypes[i]) == 0)
                return vit_fail(err, VIT_ERR_UNSUPPORTED,
                                "%s: tensor %s has dtype %s; only F32, F16 and BF16 are supported",
                                fname, t->name, dt);
        return vit_fail(err, VIT_ERR_FORMAT, "%s: tensor %s has an unknown dtype '%.32s'", fname,
                        t->name, dt);
    }

    const vit_json *shape = vit_json_get(e, "shape");
    if (!shape || shape->type != VIT_JSON_ARRAY)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: tensor %s has no shape list", fname, t->name);
    if (shape->count > VIT_ST_MAX_RANK)
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: tensor %s has %d dimensions; at most %d",
                        fname, t->name, shape->count, VIT_ST_MAX_RANK);
    t->rank = shape->count;
    uint64_t numel = 1;
    int i = 0;
    for (const vit_json *d = shape->child; d; d = d->next, i++) {
        if (!vit_json_is_int(d, 0, INT64_C(1) << 40))
            return vit_fail(err, VIT_ERR_FORMAT, "%s: tensor %s has an invalid dimension in its shape",
                            fname, t->name);
        t->shape[i] = (int64_t)d->number;
        if (__builtin_mul_overflow(numel, (uint64_t)t->shape[i], &numel))
            return vit_fail(err, VIT_ERR_FORMAT, "%s: tensor %s: shape overflows", fname, t->name);
    }
    t->numel = (int64_t)numel;

    const vit_json *off = vit_json_get(e, "data_offsets");
    if (!off || off->type != VIT_JSON_ARRAY || off->count != 2 ||
        !vit_json_is_int(off->child, 0, INT64_C(1) << 53) ||
        !vit_json_is_int(off->child->next, 0, INT64_C(1) << 53))
        return vit_fail(err, VIT_ERR_FORMAT, "%s: tensor %s has no valid data_offsets [begin, end]",
                        fname, t->name);
    t->begin = (uint64_t)off->child->number;
    t->end = (uint64_t)off->child->next->number;
    if (t->begin > t->end)
        return vit_fail(err, VIT_ERR_FORMAT,
                        "%s: tensor %s has data_offsets [%llu, %llu] that end before they begin",
                        fname, t->name, (unsigned long long)t->begin, (unsigned long long)t->end);
    if (t->end > data_size)
        return vit_fail(err, VIT_ERR_FORMAT,
                        "%s: tensor %s has data_offsets [%llu, %llu] past the end of the data "
                        "(%llu bytes): the file is truncated or damaged",
                        fname, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                        (unsigned long long)data_size);
    uint64_t bytes;
    if (__builtin_mul_overflow(numel, (uint64_t)dtype_size(t->dtype), &bytes) ||
        bytes != t->end - t->begin)
        return vit_fail(err, VIT_ERR_FORMAT,
                        "%s: tensor %s: shape and dtype %s need %llu bytes but data_offsets give %llu",
                        fname, t->name, dt, (unsigned long long)bytes,
                        (unsigned long long)(t->end - t->begin));
    return VIT_OK;
}

vit_status vit_st_parse(const uint8_t *data, size_t size, const char *name, vit_st_file *out,
                        vit_error *err)
{
    memset(out, 0, sizeof *out);
    const char *fname = vit_basename(name);
    if (size < 8)
        return vit_fail(err, VIT_ERR_FORMAT,
                        "%s: file is %zu bytes, too short to be a safetensors file", fname, size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | data[i];
    if (hlen > VIT_ST_MAX_HEADER)
        return vit_fail(err, VIT_ERR_LIMIT,
                        "%s: safetensors header length %llu is over the %u MB limit (not a "
                        "safetensors file?)",
                        fname, (unsigned long long)hlen, VIT_ST_MAX_HEADER >> 20);
    if (hlen > size - 8)
        return vit_fail(err, VIT_ERR_FORMAT,
                        "%s: safetensors header length %llu is past the end of the file (%zu "
                        "bytes): truncated or not a safetensors file",
                        fname, (unsigned long long)hlen, size);
    if (hlen < 2 || data[8] != '{')
        return vit_fail(err, VIT_ERR_FORMAT, "%s: not a safetensors file (header is not a JSON object)",
                        fname);

    char jerr[160];
    vit_json *root = vit_json_parse((const char *)data + 8, (size_t)hlen, jerr, sizeof jerr);
    if (!root)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: safetensors header is not valid JSON (%s)", fname,
                        jerr);
    if (root->type != VIT_JSON_OBJECT) {
        vit_json_free(root);
        return vit_fail(err, VIT_ERR_FORMAT, "%s: safetensors header is not a JSON object", fname);
    }
    out->header = root;
    out->base = data;
    out->size = size;
    uint64_t data_size = size - 8 - hlen;
    const uint8_t *data_start = data + 8 + hlen;

    int32_t n = 0;
    for (const vit_json *e = root->child; e; e = e->next) {
        if (strcmp(e->key, "__metadata__") == 0) {
            if (e->type != VIT_JSON_OBJECT) {
                vit_st_close(out);
                return vit_fail(err, VIT_ERR_FORMAT, "%s: __metadata__ is not an object", fname);
            }
            out->metadata = e;
        } else {
            n++;
        }
    }
    if (n > VIT_ST_MAX_TENSORS) {
        vit_st_close(out);
        return vit_fail(err, VIT_ERR_LIMIT, "%s: %d tensors; the limit is %d", fname, n,
                        VIT_ST_MAX_TENSORS);
    }
    out->tensors = calloc(n ? (size_t)n : 1, sizeof *out->tensors);
    vit_st_tensor **order = calloc(n ? (size_t)n : 1, sizeof *order);
    if (!out->tensors || !order) {
        free(order);
        vit_st_close(out);
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory reading the tensor table", fname);
    }
    vit_status st = VIT_OK;
    for (const vit_json *e = root->child; e && st == VIT_OK; e = e->next) {
        if (strcmp(e->key, "__metadata__") == 0)
            continue;
        vit_st_tensor *t = &out->tensors[out->count];
        st = parse_entry(e, fname, data_size, t, err);
        if (st == VIT_OK) {
            t->data = data_start + t->begin;
            order[out->count] = t;
            out->count++;
        }
    }
    /* Sorted by name once: duplicates show up side by side, and every lookup after is a binary
     * search (a linear one per tensor made a 5 MB header of 65536 tensors take a minute). */
    out->by_name = malloc((out->count ? (size_t)out->count : 1) * sizeof *out->by_name);
    if (!out->by_name && st == VIT_OK)
        st = vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory reading the tensor table", fname);
    if (st == VIT_OK && out->count > 1)
        qsort(order, (size_t)out->count, sizeof *order, cmp_name);
    for (int32_t i = 0; st == VIT_OK && i < out->count; i++)
        out->by_name[i] = order[i];
    if (st == VIT_OK && out->count > 1) {
        for (int32_t i = 1; i < out->count && st == VIT_OK; i++)
            if (strcmp(order[i - 1]->name, order[i]->name) == 0)
                st = vit_fail(err, VIT_ERR_FORMAT, "%s: tensor %s appears twice in the header",
                              fname, order[i]->name);
        qsort(order, (size_t)out->count, sizeof *order, cmp_begin);
        for (int32_t i = 1; i < out->count && st == VIT_OK; i++) {
            const vit_st_tensor *a = order[i - 1], *b = order[i];
            if (b->begin < a->end && b->end > b->begin && a->end > a->begin)
                st = vit_fail(err, VIT_ERR_FORMAT,
                              "%s: tensors %s [%llu, %llu] and %s [%llu, %llu] overlap", fname,
                              a->name, (unsigned long long)a->begin, (unsigned long long)a->end,
                              b->name, (unsigned long long)b->begin, (unsigned long long)b->end);
        }
    }
    free(order);
    if (st != VIT_OK) {
        vit_st_close(out);
        return st;
    }
    return VIT_OK;
}

void vit_st_close(vit_st_file *f)
{
    if (!f)
        return;
    vit_json_free(f->header);
    free(f->tensors);
    free(f->by_name);
    memset(f, 0, sizeof *f);
}

void vit_st_release(const vit_st_file *f, const vit_st_tensor *t)
{
    if (f && t && f->file_backed)
        vit_release_pages(t->data, (size_t)(t->end - t->begin));
}

const vit_st_tensor *vit_st_find(const vit_st_file *f, const char *name)
{
    int32_t lo = 0, hi = f->count - 1;
    while (lo <= hi) {
        const int32_t mid = lo + (hi - lo) / 2;
        const int c = strcmp(f->by_name[mid]->name, name);
        if (c == 0)
            return f->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t man = h & 0x3FF;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalize */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3FF) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void vit_st_to_f32(const vit_st_tensor *t, float *dst)
{
    const uint8_t *p = t->data;
    size_t n = (size_t)t->numel;
    switch (t->dtype) {
    case VIT_DT_F32:
        memcpy(dst, p, n * 4); /* little-endian host assumed (x86-64, arm64) */
        break;
    case VIT_DT_F16:
        for (size_t i = 0; i < n; i++)
            dst[i] = half_to_float((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    case VIT_DT_BF16:
        for (size_t i = 0; i < n; i++) {
            uint32_t bits = (uint32_t)(p[2 * i] | (p[2 * i + 1] << 8)) << 16;
            memcpy(&dst[i], &bits, 4);
        }
        break;
    case VIT_DT_I8:
        for (size_t i = 0; i < n; i++)
            dst[i] = (float)(int8_t)p[i];
        break;
    }
}
