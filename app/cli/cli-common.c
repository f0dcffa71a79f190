/* cli-common.c — helpers shared by the vitlens-cli subcommands. */
#include "cli-common.h"

#include <math.h>

#include "vitlens-data.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int cli_common_option(int c, const char *arg, cli_opts *o)
{
    switch (c) {
    case 'm': o->model_path = arg; return CLI_OPT_DONE;
    case 'v': return cli_parse_variant(arg, &o->variant) ? CLI_OPT_DONE : CLI_OPT_BAD;
    case 't': return cli_parse_int("--threads", arg, 1, 256, &o->threads) ? CLI_OPT_DONE : CLI_OPT_BAD;
    case 'k': return cli_parse_int("--top", arg, 1, VIT_TOPK_MAX, &o->top) ? CLI_OPT_DONE : CLI_OPT_BAD;
    default: return CLI_OPT_OTHER;
    }
}

const char *cli_model_display_name(const char *path)
{
    return path ? path : vitlens_data_model_name();
}

#ifdef VITLENS_HAVE_HUB
void cli_hub_progress_init(cli_hub_progress *p, bool quiet)
{
    *p = (cli_hub_progress){.live = !quiet && isatty(STDERR_FILENO), .quiet = quiet};
}

/* "604.1 kB": SI units as g_format_size, with a plain space (a terminal in any locale). */
static const char *format_bytes(double n, char *buf, size_t size)
{
    static const char *const units[] = {"kB", "MB", "GB", "TB"};
    if (n < 1000) {
        snprintf(buf, size, "%.0f bytes", n);
        return buf;
    }
    int u = 0;
    for (n /= 1000; n >= 1000 && u < 3; u++)
        n /= 1000;
    snprintf(buf, size, "%.1f %s", n, units[u]);
    return buf;
}

void cli_hub_progress_show(const VitlensHubProgress *progress, void *user_data)
{
    cli_hub_progress *p = user_data;
    if (p->quiet)
        return;
    double now = vit_now_ms();
    if (progress->state == VITLENS_HUB_FILE_STARTED)
        p->start_ms = p->drawn_ms = now;
    /* this run's bytes over this run's time: a resumed part came for free */
    double secs = (now - p->start_ms) / 1e3;
    double rate = secs > 0 ? (double)(progress->received - progress->resumed) / secs : 0;
    char got[32], total[32], speed[32], resumed[32];
    format_bytes((double)progress->received, got, sizeof got);
    format_bytes((double)progress->total, total, sizeof total);
    format_bytes(rate, speed, sizeof speed);
    switch (progress->state) {
    case VITLENS_HUB_FILE_STARTED:
    case VITLENS_HUB_FILE_RECEIVING:
        if (!p->live || (progress->state == VITLENS_HUB_FILE_RECEIVING && now - p->drawn_ms < 200))
            return;
        p->drawn_ms = now;
        p->drawing = true;
        fprintf(stderr, "\r  %-24s %s", progress->file, got);
        if (progress->total > 0)
            fprintf(stderr, " / %s  %3d%%", total,
                    (int)(100.0 * (double)progress->received / (double)progress->total));
        if (rate > 0) {
            fprintf(stderr, "  %s/s", speed);
            if (progress->total > progress->received) {
                long left = (long)((double)(progress->total - progress->received) / rate + 0.5);
                fprintf(stderr, "  %ld:%02ld left", left / 60, left % 60);
            }
        }
        fputs("\033[K", stderr);
        break;
    case VITLENS_HUB_FILE_DONE:
        fprintf(stderr, "%s  %-24s %s in %.1f s (%s/s)", p->live ? "\r" : "", progress->file,
                got, secs, speed);
        if (progress->resumed > 0)
            fprintf(stderr, ", resumed after %s",
                    format_bytes((double)progress->resumed, resumed, sizeof resumed));
        fputs(p->live ? "\033[K\n" : "\n", stderr);
        p->drawing = false;
        break;
    case VITLENS_HUB_FILE_CACHED:
        fprintf(stderr, "  %-24s %s, in the cache\n", progress->file, got);
        break;
    case VITLENS_HUB_FILE_ABSENT:
        fprintf(stderr, "  %-24s not in the repository\n", progress->file);
        break;
    }
}
#endif

const char *cli_model_path(const char *path)
{
#ifdef VITLENS_HAVE_HUB
    static char *resolved; /* kept for the caller until the next call */
    if (!path || g_file_test(path, G_FILE_TEST_EXISTS) || !vitlens_hub_is_repo_id(path))
        return path;
    g_autoptr(VitlensHub) hub = vitlens_hub_new_from_env();
    g_autoptr(GError) error = NULL;
    cli_hub_progress progress;
    cli_hub_progress_init(&progress, false);
    g_free(resolved);
    resolved = vitlens_hub_model_path(hub, path, NULL, cli_hub_progress_show, &progress, NULL,
                                      &error);
    if (!resolved)
        cli_error("no file %s here; as a hub repository: %s", path, error->message);
    return resolved;
#else
    return path;
#endif
}

vit_model *cli_load_model(const char *path)
{
    vit_error err = {0};
    vit_model *m = NULL;
    size_t size = 0;
    if (path && !(path = cli_model_path(path)))
        return NULL;
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
