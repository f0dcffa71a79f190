/* vit.c — status strings, error messages, logging, the clock, aligned memory, softmax/top-k. */
#include "vit-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

const char *vit_status_str(vit_status status)
{
    switch (status) {
    case VIT_OK: return "ok";
    case VIT_ERR_IO: return "i/o error";
    case VIT_ERR_FORMAT: return "malformed file";
    case VIT_ERR_UNSUPPORTED: return "unsupported";
    case VIT_ERR_SHAPE: return "shape mismatch";
    case VIT_ERR_LIMIT: return "over a size limit";
    case VIT_ERR_NOMEM: return "out of memory";
    case VIT_ERR_ARG: return "invalid argument";
    case VIT_ERR_CPU: return "CPU lacks a required instruction set";
    }
    return "unknown status";
}

vit_status vit_fail(vit_error *err, vit_status status, const char *fmt, ...)
{
    if (err) {
        err->status = status;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

static vit_log_fn log_fn;
static void *log_user;

void vit_log_set(vit_log_fn fn, void *user)
{
    log_fn = fn;
    log_user = user;
}

void vit_log(int level, const char *fmt, ...)
{
    if (!log_fn)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_fn(level, buf, log_user);
}

const char *vit_basename(const char *path)
{
    if (!path)
        return "(null)";
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

void *vit_alloc(size_t bytes)
{
    if (bytes == 0)
        bytes = 64;
    /* aligned_alloc wants a multiple of the alignment */
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded < bytes)
        return NULL;
    return aligned_alloc(64, rounded);
}

void vit_free(void *p)
{
    free(p);
}

void vit_release_pages(const void *p, size_t bytes)
{
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(page - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

double vit_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

void vit_softmax(const float *logits, float *probs, int32_t n)
{
    if (n <= 0)
        return;
    float max = logits[0];
    for (int32_t i = 1; i < n; i++)
        if (logits[i] > max)
            max = logits[i];
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        probs[i] = expf(logits[i] - max);
        sum += probs[i];
    }
    float inv = (float)(1.0 / sum);
    for (int32_t i = 0; i < n; i++)
        probs[i] *= inv;
}

void vit_topk(const float *values, int32_t n, int32_t k, int32_t *index)
{
    if (k > n)
        k = n;
    /* k is small (<= VIT_TOPK_MAX): insertion into a sorted list of k. NaN sorts last. */
    int32_t filled = 0;
    for (int32_t i = 0; i < n; i++) {
        float v = values[i];
        if (isnan(v))
            v = -INFINITY;
        int32_t pos = filled;
        while (pos > 0) {
            float u = values[index[pos - 1]];
            if (isnan(u))
                u = -INFINITY;
            if (u >= v)
                break;
            pos--;
        }
        if (pos >= k)
            continue;
        int32_t last = filled < k ? filled : k - 1;
        for (int32_t j = last; j > pos; j--)
            index[j] = index[j - 1];
        index[pos] = i;
        if (filled < k)
            filled++;
    }
}

const char *vit_variant_name(vit_variant v)
{
    switch (v) {
    case VIT_VARIANT_FP32: return "fp32";
    case VIT_VARIANT_INT8: return "int8";
    case VIT_VARIANT_OPTIMIZED: return "optimized";
    default: return "unknown";
    }
}

vit_status vit_variant_parse(const char *name, vit_variant *out)
{
    for (int v = 0; v < VIT_VARIANT_COUNT; v++) {
        if (name && strcmp(name, vit_variant_name((vit_variant)v)) == 0) {
            *out = (vit_variant)v;
            return VIT_OK;
        }
    }
    return VIT_ERR_ARG;
}

vit_session_opts vit_session_opts_default(void)
{
    vit_session_opts o = {.variant = VIT_VARIANT_FP32, .threads = 0, .per_channel = 0};
    return o;
}
