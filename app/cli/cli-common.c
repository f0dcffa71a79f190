/* cli-common.c — helpers shared by the vitlens-cli subcommands. */
#include "cli-common.h"

#include <math.h>

#include "vitlens-data.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int utf8_length(const unsigned char *p)
{
    return vit_utf8_length((const char *)p);
}

/* A C0 or C1 control character or DEL: what a terminal would act on instead of showing. */
static bool is_control(const unsigned char *p, int n)
{
    return (n == 1 && (p[0] < 0x20 || p[0] == 0x7F)) || (n == 2 && p[0] == 0xC2 && p[1] < 0xA0);
}

const char *cli_printable(const char *s, char *buf, size_t size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && o + 8 < size;) {
        int n = utf8_length(p);
        if (n && is_control(p, n)) { /* shown as \xHH, the way it could be typed */
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", n == 1 ? p[0] : p[1]);
        } else if (n) {
            memcpy(buf + o, p, (size_t)n);
            o += (size_t)n;
        } else { /* not UTF-8: U+FFFD, the replacement character */
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3;
            n = 1;
        }
        p += n;
    }
    buf[o] = 0;
    return buf;
}

void cli_error(const char *fmt, ...)
{
    /* Messages carry file names, tensor names and labels from files: escape what a terminal
     * would act on (an ESC sequence could rewrite the screen) and what is not UTF-8. */
    char msg[2048], shown[4 * sizeof msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, CLI_PROG ": %s\n", cli_printable(msg, shown, sizeof shown));
}

bool cli_parse_variant(const char *value, vit_variant *out)
{
    if (vit_variant_parse(value, out) == VIT_OK)
        return true;
    cli_error("unknown variant '%s' (known: fp32, int8, optimized)", value);
    return false;
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
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        int n = utf8_length(p);
        if (!n) { /* JSON text is UTF-8: what is not becomes U+FFFD */
            fputs("\\ufffd", f);
            p++;
            continue;
        }
        switch (n == 1 ? *p : 0) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (is_control(p, n)) /* C0, DEL and C1 escaped, so a terminal showing it is safe */
                fprintf(f, "\\u%04x", n == 1 ? p[0] : p[1]);
            else
                fwrite(p, 1, (size_t)n, f);
        }
        p += n;
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
