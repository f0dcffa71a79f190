/* cli-common.c — helpers shared by the vitlens-cli subcommands. */
#include "cli-common.h"

#include <math.h>

#include "vitlens-data.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(CLI_PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

bool cli_parse_int(const char *opt, const char *value, long lo, long hi, int32_t *out)
{
    if (!value) {
        cli_error("%s needs a value", opt);
        return false;
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < lo || v > hi) {
        cli_error("%s: '%s' is not a whole number from %ld to %ld", opt, value, lo, hi);
        return false;
    }
    *out = (int32_t)v;
    return true;
}

const char *cli_model_display_name(const char *path)
{
    return path ? path : vitlens_data_model_name();
}

vit_model *cli_load_model(const char *path)
{
    vit_error err = {0};
    vit_model *m = NULL;
    size_t size = 0;
    if (!path && !vitlens_data_model(&size)) {
        cli_error("this build has no embedded model; give one with --model PATH");
        return NULL;
    }
    if (vitlens_data_load_model(path, &m, &err) != VIT_OK) {
        cli_error("%s%s", path ? "" : "embedded model: ", err.msg);
        return NULL;
    }
    return m;
}

int cli_parse_variants(const char *list, vit_variant *out, int max)
{
    if (!list || !*list) {
        cli_error("--variants needs a list such as fp32,int8");
        return -1;
    }
    char *copy = strdup(list);
    if (!copy)
        return -1;
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        vit_variant v;
        if (vit_variant_parse(tok, &v) != VIT_OK) {
            cli_error("unknown variant '%s' (known: fp32, int8, optimized)", tok);
            free(copy);
            return -1;
        }
        if (n == max) {
            cli_error("too many variants");
            free(copy);
            return -1;
        }
        out[n++] = v;
    }
    free(copy);
    return n;
}

int cli_plan_variants(const vit_model *m, const vit_variant *asked, int n, vit_variant *out,
                      int *show_first)
{
    int have_fp32 = vit_model_supports(m, VIT_VARIANT_FP32), count = 0;
    if (have_fp32)
        out[count++] = VIT_VARIANT_FP32;
    *show_first = !have_fp32;
    for (int v = 0; v < n; v++) {
        if (asked[v] == VIT_VARIANT_FP32)
            *show_first = 1;
        if (asked[v] != VIT_VARIANT_FP32 || !have_fp32)
            out[count++] = asked[v];
    }
    return count;
}

void cli_json_number(FILE *f, double v, int digits)
{
    if (isfinite(v))
        fprintf(f, "%.*g", digits, v);
    else
        fputs("null", f);
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

const char *cli_label(const vit_model *m, int32_t index, char *buf, size_t size)
{
    const char *l = vit_model_label(m, index);
    if (l)
        return l;
    snprintf(buf, size, "%d", index);
    return buf;
}
