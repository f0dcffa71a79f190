/* test-image.c — image decoding, PIL-exact resizing and preprocessing against golden fixtures
 * made by tools/make_image_fixtures.py (PIL 9.4 / torchvision 0.14), and bad input of every kind.
 *
 * Usage: test-image FIXTURES_DIR   (tests/fixtures/images; meson passes it)
 * (or tests/fixtures, then its images/ is used). Prints one line per check
 * ("ok   /image/png/gray16_35x27: ...", "FAIL ...: why", "skip ...: why") and exits non-zero if
 * any check failed.
 */
#include "vit.h"
#include "test-util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jpeglib.h>

/* Resized images: within ±1 per channel and at least this share of values identical. */
#define VIT_TOL_RESIZE_IDENTICAL 0.99
/* Normalized tensors against torchvision's. */
#define VIT_TOL_TENSOR 1e-6f

static int n_skip;
static const char *fixtures = "tests/fixtures/images";
static char tmpdir[256];

static void report(bool ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(bool ok, const char *name, const char *fmt, ...)
{
    char detail[768] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    test_check(ok, "%s%s%s", name, detail[0] ? ": " : "", detail);
}

static void skip(const char *name, const char *why)
{
    printf("skip %s: %s\n", name, why);
    n_skip++;
}

static uint8_t *read_all(const char *path, size_t *size)
{
    return test_read_file(path, size);
}

static bool write_all(const char *path, const void *data, size_t size)
{
    return test_write_file(path, data, size);
}

static void fixture_path(char *out, size_t n, const char *file)
{
    snprintf(out, n, "%s/%s", fixtures, file);
}

static void tmp_path(char *out, size_t n, const char *file)
{
    snprintf(out, n, "%s/%s", tmpdir, file);
}

/* "dir/name.ext" -> "name" without the extension, for check names. */
static void stem(const char *file, char *out, size_t n)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot)
        *dot = 0;
}

static const char *kind_of(const char *file)
{
    size_t n = strlen(file);
    return n > 4 && strcmp(file + n - 4, ".jpg") == 0 ? "jpeg" : "png";
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

/* Packed bytes of an image (rows without stride padding). */
static uint8_t *packed(const vit_image *img, size_t *n)
{
    size_t row = (size_t)img->width * vit_pixel_format_bytes(img->format);
    uint8_t *p = malloc(row * img->height);
    for (int32_t y = 0; y < img->height; y++)
        memcpy(p + row * y, img->data + (size_t)y * img->stride, row);
    *n = row * img->height;
    return p;
}

/* ---------------------------------------------------------------------------------------------
 * The index: one JSON object per line; a tiny field reader is all we need. */

/* Where the value of "key" starts (after `"key": ` and `open`), or NULL. */
static const char *json_value(const char *line, const char *key, const char *open)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": %s", key, open);
    const char *p = strstr(line, pat);
    return p ? p + strlen(pat) : NULL;
}

static bool json_str(const char *line, const char *key, char *out, size_t n)
{
    const char *p = json_value(line, key, "\""), *e = p ? strchr(p, '"') : NULL;
    if (!e || (size_t)(e - p) >= n)
        return false;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = 0;
    return true;
}

static bool json_num(const char *line, const char *key, double *out)
{
    const char *p = json_value(line, key, "");
    if (p)
        *out = strtod(p, NULL);
    return p != NULL;
}

static int json_floats(const char *line, const char *key, float *out, int max)
{
    const char *p = json_value(line, key, "[");
    int n = 0;
    while (p && n < max && *p && *p != ']') {
        char *end;
        out[n++] = strtof(p, &end);
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return n;
}

/* How many of n bytes differ, and the largest difference (*maxd). */
static size_t bytes_differing(const uint8_t *got, const uint8_t *want, size_t n, int *maxd)
{
    size_t diff = 0;
    *maxd = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs(got[i] - want[i]);
        diff += d != 0;
        *maxd = d > *maxd ? d : *maxd;
    }
    return diff;
}

/* ---------------------------------------------------------------------------------------------
 * Golden checks */

static void check_decode(const char *line)
{
    char file[256], expect[256] = "", name[320], st[256], path[1024];
    double w = 0, h = 0, ext = 0;
    json_str(line, "file", file, sizeof file);
    json_str(line, "expect", expect, sizeof expect);
    json_num(line, "width", &w);
    json_num(line, "height", &h);
    json_num(line, "external", &ext);
    stem(file, st, sizeof st);
    snprintf(name, sizeof name, "/image/%s/%s", kind_of(file), st);
    fixture_path(path, sizeof path, file);
    if (ext && access(path, R_OK) != 0) {
        skip(name, "the tutorial photo is absent (../shared/data/images/wolf.png)");
        return;
    }
    vit_image img;
    vit_error err = {0};
    if (vit_image_load(path, &img, &err) != VIT_OK) {
        report(false, name, "%s", err.msg);
        return;
    }
    size_t n;
    uint8_t *got = packed(&img, &n);
    if (img.width != (int)w || img.height != (int)h || img.format != VIT_PIXEL_RGB8) {
        report(false, name, "decoded %d×%d format %d, PIL %d×%d", img.width, img.height,
               img.format, (int)w, (int)h);
    } else if (ext) {
        char want[32], have[32];
        json_str(line, "fnv", want, sizeof want);
        snprintf(have, sizeof have, "%016llx", (unsigned long long)fnv1a(got, n));
        report(strcmp(want, have) == 0, name, "%d×%d, FNV %s (PIL %s)", img.width,
               img.height, have, want);
    } else {
        char epath[1024];
        size_t en = 0;
        fixture_path(epath, sizeof epath, expect);
        uint8_t *want = read_all(epath, &en);
        int maxd = 0;
        const size_t diff = want && en == n ? bytes_differing(got, want, n, &maxd) : 0;
        const bool gray16 = strstr(file, "gray16") != NULL;
        report(want && en == n && diff == 0, name, "%d×%d, %zu of %zu bytes differ (max %d)%s",
               img.width, img.height, diff, n, maxd,
               gray16 ? "; vs the high byte: PIL's own convert(\"RGB\") clips 16-bit gray to "
                        "255 — a deliberate difference"
                      : "");
        free(want);

        /* The same bytes through vit_image_load_memory. */
        size_t fn;
        uint8_t *fdata = read_all(path, &fn);
        vit_image mimg;
        char mname[320];
        snprintf(mname, sizeof mname, "/image/memory/%s", st);
        if (vit_image_load_memory(fdata, fn, file, &mimg, &err) == VIT_OK) {
            size_t mn;
            uint8_t *mp = packed(&mimg, &mn);
            report(mn == n && memcmp(mp, got, n) == 0, mname, NULL);
            free(mp);
            vit_image_free(&mimg);
        } else {
            report(false, mname, "%s", err.msg);
        }
        free(fdata);
    }
    free(got);
    vit_image_free(&img);
}

static vit_interp parse_interp(const char *s)
{
    return strcmp(s, "bilinear") == 0 ? VIT_INTERP_BILINEAR
           : strcmp(s, "nearest") == 0 ? VIT_INTERP_NEAREST
                                       : VIT_INTERP_BICUBIC;
}

/* The input of a resize record: PIL's decode (the .rgb fixture) so that resizing is tested on
 * its own; the tutorial photo is decoded by us (its decode has its own check). */
static bool record_input(const char *file, bool external, vit_image *img)
{
    char path[1024], rpath[1100];
    fixture_path(path, sizeof path, file);
    vit_error err;
    if (external)
        return vit_image_load(path, img, &err) == VIT_OK;
    char idx[1024];
    size_t n;
    snprintf(rpath, sizeof rpath, "%s.rgb", path);
    uint8_t *raw = read_all(rpath, &n);
    if (!raw)
        return false;
    /* The size is in the name: stem_WxH.ext (as stored, before any EXIF orientation). */
    int w = 0, h = 0;
    const char *us = strrchr(file, '_');
    if (!us || sscanf(us + 1, "%dx%d", &w, &h) != 2) {
        free(raw);
        return false;
    }
    /* EXIF orientations 5 to 8 swap the sides. */
    if (strstr(file, "exif5") || strstr(file, "exif6") || strstr(file, "exif7") ||
        strstr(file, "exif8")) {
        int t = w;
        w = h;
        h = t;
    }
    (void)idx;
    if ((size_t)w * h * 3 != n || vit_image_new(w, h, VIT_PIXEL_RGB8, img, &err) != VIT_OK) {
        free(raw);
        return false;
    }
    memcpy(img->data, raw, n);
    free(raw);
    return true;
}

static void cfg_from(const char *line, vit_preprocess_cfg *cfg)
{
    double v;
    char interp[32] = "bicubic";
    *cfg = vit_preprocess_cfg_default();
    if (json_num(line, "resize", &v))
        cfg->resize_size = (int32_t)v;
    if (json_num(line, "crop", &v))
        cfg->image_size = (int32_t)v;
    if (json_num(line, "channels", &v))
        cfg->channels = (int32_t)v;
    json_str(line, "interp", interp, sizeof interp);
    cfg->interp = parse_interp(interp);
    json_floats(line, "mean", cfg->mean, 3);
    json_floats(line, "std", cfg->std, 3);
}

static void check_resize(const char *line, bool tensor)
{
    char file[256], expect[256], name[800], st[256], tag[256], epath[1024];
    double ext = 0;
    json_str(line, "file", file, sizeof file);
    json_str(line, "expect", expect, sizeof expect);
    json_num(line, "external", &ext);
    vit_preprocess_cfg cfg;
    cfg_from(line, &cfg);
    stem(file, st, sizeof st);
    const char *t = strstr(expect, ".r");
    snprintf(tag, sizeof tag, "%s", t ? t + 1 : expect);
    char *dot = strrchr(tag, '.');
    if (dot)
        *dot = 0;
    snprintf(name, sizeof name, "/image/%s/%s/%s", tensor ? "tensor" : "resize", st, tag);

    vit_image in;
    if (!record_input(file, ext != 0, &in)) {
        if (ext)
            skip(name, "the tutorial photo is absent (../shared/data/images/wolf.png)");
        else
            report(false, name, "cannot read the input fixture");
        return;
    }
    fixture_path(epath, sizeof epath, expect);
    size_t en;
    uint8_t *want = read_all(epath, &en);
    vit_error err = {0};
    const size_t S = (size_t)cfg.image_size, C = (size_t)cfg.channels;
    if (!tensor) {
        vit_image out;
        if (vit_image_resize_crop(&in, &cfg, &out, &err) != VIT_OK) {
            report(false, name, "%s", err.msg);
        } else {
            size_t n;
            uint8_t *got = packed(&out, &n);
            int maxd = 0;
            const size_t diff = want && en == n ? bytes_differing(got, want, n, &maxd) : 0;
            bool ok = want && en == n && n == S * S * C && maxd <= 1 &&
                      (double)(n - diff) / n >= VIT_TOL_RESIZE_IDENTICAL;
            report(ok, name, "%s%.2f%% identical, max diff %d", diff ? "NOT EXACT: " : "",
                   n ? 100.0 * (n - diff) / n : 0.0, maxd);
            free(got);
            vit_image_free(&out);
        }
    } else {
        float *got = malloc(sizeof *got * S * S * C);
        if (vit_preprocess(&in, &cfg, got, &err) != VIT_OK) {
            report(false, name, "%s", err.msg);
        } else {
            size_t n = S * S * C, exact = 0;
            float maxd = 0;
            for (size_t i = 0; want && en == n * 4 && i < n; i++) {
                float w;
                memcpy(&w, want + 4 * i, 4); /* little-endian float32, as x86 */
                float d = fabsf(got[i] - w);
                exact += d == 0;
                maxd = d > maxd ? d : maxd;
            }
            report(want && en == n * 4 && maxd <= VIT_TOL_TENSOR, name,
                   "max |diff| %.3g, %zu of %zu values bit-identical", maxd, exact, n);
        }
        free(got);
    }
    free(want);
    vit_image_free(&in);
}

static void run_index(void)
{
    char path[1024];
    fixture_path(path, sizeof path, "index.json");
    size_t n;
    char *text = (char *)read_all(path, &n);
    if (!text) {
        report(false, "/image/fixtures/index", "cannot read %s", path);
        return;
    }
    text = realloc(text, n + 1);
    text[n] = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char kind[32];
        if (!json_str(line, "kind", kind, sizeof kind))
            continue;
        if (strcmp(kind, "decode") == 0)
            check_decode(line);
        else if (strcmp(kind, "resize") == 0)
            check_resize(line, false);
        else if (strcmp(kind, "tensor") == 0)
            check_resize(line, true);
    }
    free(text);
}

/* ---------------------------------------------------------------------------------------------
 * Pixel formats and strides: every input format must give the RGB8 result. */

static bool load_fixture_rgb(const char *file, vit_image *img)
{
    return record_input(file, false, img);
}

static void check_formats(void)
{
    vit_image rgb, gray;
    if (!load_fixture_rgb("rgb_61x47.png", &rgb) || !load_fixture_rgb("gray_45x39.png", &gray)) {
        report(false, "/image/formats", "cannot read fixtures");
        return;
    }
    vit_preprocess_cfg cfgs[2];
    cfgs[0] = vit_preprocess_cfg_default();
    cfgs[0].resize_size = 40;
    cfgs[0].image_size = 32;
    cfgs[1] = cfgs[0];
    cfgs[1].channels = 1;
    cfgs[1].interp = VIT_INTERP_BILINEAR;
    const struct { vit_pixel_format f; const char *name; int r, g, b, a; } fmts[] = {
        {VIT_PIXEL_RGBA8, "rgba8", 0, 1, 2, 3},
        {VIT_PIXEL_RGBX8, "rgbx8", 0, 1, 2, 3},
        {VIT_PIXEL_BGRA8, "bgra8", 2, 1, 0, 3},
        {VIT_PIXEL_BGRX8, "bgrx8", 2, 1, 0, 3},
        {VIT_PIXEL_RGB8, "rgb8-stride", 0, 1, 2, -1},
    };
    vit_error err;
    for (int c = 0; c < 2; c++) {
        vit_image ref;
        vit_image_resize_crop(&rgb, &cfgs[c], &ref, &err);
        for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
            /* A padded stride, alpha set to junk that must be ignored. */
            const int bpp = vit_pixel_format_bytes(fmts[k].f);
            vit_image x = {rgb.width, rgb.height, rgb.width * bpp + 13, fmts[k].f, NULL};
            x.data = calloc((size_t)x.stride * x.height, 1);
            for (int y = 0; y < x.height; y++)
                for (int i = 0; i < x.width; i++) {
                    const uint8_t *s = rgb.data + (size_t)y * rgb.stride + 3 * i;
                    uint8_t *d = x.data + (size_t)y * x.stride + bpp * i;
                    d[fmts[k].r] = s[0];
                    d[fmts[k].g] = s[1];
                    d[fmts[k].b] = s[2];
                    if (fmts[k].a >= 0)
                        d[fmts[k].a] = (uint8_t)(i * 37 + y);
                }
            vit_image out;
            char name[128];
            snprintf(name, sizeof name, "/image/format/%s/c%d", fmts[k].name, cfgs[c].channels);
            if (vit_image_resize_crop(&x, &cfgs[c], &out, &err) != VIT_OK) {
                report(false, name, "%s", err.msg);
            } else {
                report(out.format == ref.format &&
                           memcmp(out.data, ref.data, (size_t)ref.stride * ref.height) == 0,
                       name, NULL);
                vit_image_free(&out);
            }
            free(x.data);
        }
        vit_image_free(&ref);
    }

    /* GRAY8 input: as PIL's "L" image: replicated for RGB, itself for L. The expectations are
     * the gray fixture's (its PIL decode is L replicated). */
    vit_image g8 = {gray.width, gray.height, gray.width + 7, VIT_PIXEL_GRAY8, NULL};
    g8.data = calloc((size_t)g8.stride * g8.height, 1);
    for (int y = 0; y < g8.height; y++)
        for (int i = 0; i < g8.width; i++)
            g8.data[(size_t)y * g8.stride + i] = gray.data[(size_t)y * gray.stride + 3 * i];
    const struct { int resize, crop, ch; vit_interp in; const char *file; } gc[] = {
        {40, 32, 3, VIT_INTERP_BICUBIC, "gray_45x39.png.r40c32-bicubic-c3.u8"},
        {28, 28, 1, VIT_INTERP_BILINEAR, "gray_45x39.png.r28c28-bilinear-c1.u8"},
        {36, 33, 3, VIT_INTERP_NEAREST, "gray_45x39.png.r36c33-nearest-c3.u8"},
    };
    for (size_t k = 0; k < sizeof gc / sizeof gc[0]; k++) {
        vit_preprocess_cfg cfg = vit_preprocess_cfg_default();
        cfg.resize_size = gc[k].resize;
        cfg.image_size = gc[k].crop;
        cfg.channels = gc[k].ch;
        cfg.interp = gc[k].in;
        char path[1024], name[128];
        fixture_path(path, sizeof path, gc[k].file);
        size_t en;
        uint8_t *want = read_all(path, &en);
        vit_image out;
        snprintf(name, sizeof name, "/image/format/gray8/r%dc%d-c%d", gc[k].resize, gc[k].crop,
                 gc[k].ch);
        if (vit_image_resize_crop(&g8, &cfg, &out, &err) == VIT_OK) {
            size_t n;
            uint8_t *got = packed(&out, &n);
            report(want && en == n && memcmp(got, want, n) == 0, name, NULL);
            free(got);
            vit_image_free(&out);
        } else {
            report(false, name, "%s", err.msg);
        }
        free(want);
    }
    free(g8.data);
    vit_image_free(&rgb);
    vit_image_free(&gray);
}

/* ---------------------------------------------------------------------------------------------
 * Saving */

static void check_save(void)
{
    vit_image rgb;
    vit_error err;
    if (!load_fixture_rgb("rgb_61x47.png", &rgb)) {
        report(false, "/image/save", "cannot read fixture");
        return;
    }
    const vit_pixel_format fmts[] = {VIT_PIXEL_RGB8, VIT_PIXEL_GRAY8, VIT_PIXEL_RGBA8,
                                     VIT_PIXEL_BGRX8};
    const char *names[] = {"rgb8", "gray8", "rgba8", "bgrx8"};
    for (int k = 0; k < 4; k++) {
        vit_image x;
        vit_image_new(rgb.width, rgb.height, fmts[k], &x, &err);
        const int bpp = vit_pixel_format_bytes(fmts[k]);
        for (int y = 0; y < x.height; y++)
            for (int i = 0; i < x.width; i++) {
                const uint8_t *s = rgb.data + (size_t)y * rgb.stride + 3 * i;
                uint8_t *d = x.data + (size_t)y * x.stride + (size_t)bpp * i;
                if (bpp == 1) {
                    d[0] = s[1];
                } else if (fmts[k] == VIT_PIXEL_BGRX8) {
                    d[0] = s[2], d[1] = s[1], d[2] = s[0], d[3] = 0;
                } else {
                    memcpy(d, s, 3);
                    if (bpp == 4)
                        d[3] = (uint8_t)i;
                }
            }
        char path[512], name[128];
        snprintf(name, sizeof name, "/image/save/%s", names[k]);
        snprintf(path, sizeof path, "%s/save-%s.png", tmpdir, names[k]);
        vit_image back;
        if (vit_image_save_png(&x, path, &err) != VIT_OK) {
            report(false, name, "%s", err.msg);
        } else if (vit_image_load(path, &back, &err) != VIT_OK) {
            report(false, name, "reload: %s", err.msg);
        } else {
            bool same = back.width == x.width && back.height == x.height;
            for (int y = 0; same && y < x.height; y++)
                for (int i = 0; same && i < x.width; i++) {
                    const uint8_t *b = back.data + (size_t)y * back.stride + 3 * i;
                    const uint8_t *s = rgb.data + (size_t)y * rgb.stride + 3 * i;
                    same = bpp == 1 ? b[0] == s[1] && b[1] == s[1] && b[2] == s[1]
                                    : memcmp(b, s, 3) == 0;
                }
            report(same, name, NULL);
            vit_image_free(&back);
        }
        vit_image_free(&x);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/no-such-dir/snap.png", tmpdir);
    vit_status st = vit_image_save_png(&rgb, path, &err);
    report(st == VIT_ERR_IO && strstr(err.msg, "snap.png"), "/image/save/unwritable", "%s",
           err.msg);
    vit_image_free(&rgb);
}

/* ---------------------------------------------------------------------------------------------
 * Bad input */

/* Load `path` and expect `want`; with want == VIT_OK also accept it. The message must name the
 * file. */
static void expect_status(const char *name, const char *path, vit_status want, const char *needle)
{
    vit_image img;
    vit_error err = {0};
    vit_status st = vit_image_load(path, &img, &err);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    bool ok = st == want && (st == VIT_OK || strstr(err.msg, base) != NULL) &&
              (!needle || strstr(err.msg, needle) != NULL);
    report(ok, name, "%s (%s)", st == VIT_OK ? "decoded" : err.msg, vit_status_str(st));
    if (st == VIT_OK)
        vit_image_free(&img);
}

static void check_truncated(const char *file, const size_t *cuts, int ncuts)
{
    char path[1024], st[256];
    fixture_path(path, sizeof path, file);
    stem(file, st, sizeof st);
    size_t n;
    uint8_t *data = read_all(path, &n);
    for (int i = 0; i < ncuts; i++) {
        size_t cut = cuts[i] < n ? cuts[i] : n / 2;
        char tpath[512], name[320];
        snprintf(tpath, sizeof tpath, "%s/cut-%zu-%s", tmpdir, cut, file);
        write_all(tpath, data, cut);
        snprintf(name, sizeof name, "/image/truncated/%s/%zu-of-%zu", st, cut, n);
        expect_status(name, tpath, VIT_ERR_FORMAT, "truncated");
        unlink(tpath);
    }
    free(data);
}

/* Bit flips and zeroed runs: any outcome but a crash, a leak or an anonymous error. */
static void check_corrupt(const char *file, int variants)
{
    char path[1024], st[256], name[320];
    fixture_path(path, sizeof path, file);
    stem(file, st, sizeof st);
    size_t n;
    uint8_t *data = read_all(path, &n);
    uint8_t *buf = malloc(n);
    uint32_t seed = 12345;
    int decoded = 0, failed = 0, bad = 0;
    char first_bad[VIT_ERROR_MSG_MAX] = "";
    for (int v = 0; v < variants; v++) {
        memcpy(buf, data, n);
        seed = seed * 1664525u + 1013904223u;
        size_t pos = (seed >> 8) % n;
        if (v % 4 == 3) {
            size_t len = 1 + (seed % 16);
            memset(buf + pos, 0, pos + len <= n ? len : n - pos);
        } else {
            buf[pos] ^= (uint8_t)(1u << (seed % 8));
        }
        vit_image img;
        vit_error err = {0};
        vit_status s = vit_image_load_memory(buf, n, file, &img, &err);
        if (s == VIT_OK) {
            decoded++;
            if (img.width <= 0 || img.height <= 0 || !img.data)
                bad++;
            vit_image_free(&img);
        } else {
            failed++;
            if (!strstr(err.msg, file) && !bad++)
                snprintf(first_bad, sizeof first_bad, "%s", err.msg);
        }
    }
    snprintf(name, sizeof name, "/image/corrupt/%s", st);
    report(bad == 0, name, "%d variants: %d decoded, %d refused%s%s", variants, decoded, failed,
           first_bad[0] ? "; anonymous message: " : "", first_bad);
    free(buf);
    free(data);
}

/* Rewrite the SOF size (and sample precision, when precision != 0) of a JPEG in memory. */
static bool jpeg_set_size(uint8_t *d, size_t n, unsigned w, unsigned h, unsigned precision)
{
    for (size_t i = 2; i + 9 < n; i++) {
        if (d[i] == 0xFF && (d[i + 1] == 0xC0 || d[i + 1] == 0xC2)) {
            if (precision)
                d[i + 4] = (uint8_t)precision;
            d[i + 5] = (uint8_t)(h >> 8), d[i + 6] = (uint8_t)h;
            d[i + 7] = (uint8_t)(w >> 8), d[i + 8] = (uint8_t)w;
            return true;
        }
        if (d[i] == 0xFF && d[i + 1] >= 0xE0 && d[i + 1] <= 0xFE) /* skip a segment */
            i += 1 + ((size_t)d[i + 2] << 8 | d[i + 3]);
    }
    return false;
}

static void check_bad_input(void)
{
    char path[512];

    /* Truncations: inside the signature, the header, and the image data. */
    const size_t png_cuts[] = {1, 7, 8, 20, 33, 60, 150, 400, 1000, 5000};
    check_truncated("rgb_61x47.png", png_cuts, 10);
    check_truncated("interlaced_53x37.png", png_cuts, 10);
    check_truncated("palette_50x35.png", (const size_t[]){900, 1200}, 2);
    const size_t jpeg_cuts[] = {1, 2, 3, 10, 100, 400, 700, 2000, 6000, 15000};
    check_truncated("jpeg_base_240x180.jpg", jpeg_cuts, 10);
    check_truncated("jpeg_prog_203x151.jpg", jpeg_cuts, 10);
    check_truncated("jpeg_gray_97x65.jpg", (const size_t[]){1000, 3000}, 2);
    {
        /* Cut just before the end: the last bytes of a JPEG (EOI) and a PNG (IEND). A JPEG
         * without its EOI and everything that reads past the entropy data: truncated, as PIL
         * says; a PNG without IEND is read as PIL reads it (the pixels are complete). */
        size_t n;
        fixture_path(path, sizeof path, "jpeg_base_240x180.jpg");
        uint8_t *d = read_all(path, &n);
        char tpath[512];
        tmp_path(tpath, sizeof tpath, "no-eoi.jpg");
        write_all(tpath, d, n - 2);
        expect_status("/image/truncated/jpeg-without-eoi", tpath, VIT_ERR_FORMAT, "truncated");
        free(d);
        fixture_path(path, sizeof path, "rgb_61x47.png");
        d = read_all(path, &n);
        tmp_path(tpath, sizeof tpath, "no-iend.png");
        write_all(tpath, d, n - 12);
        expect_status("/image/truncated/png-without-iend", tpath, VIT_OK, NULL);
        free(d);
    }

    check_corrupt("rgb_61x47.png", 400);
    check_corrupt("interlaced_rgba16_31x19.png", 300);
    check_corrupt("palette4_trns_44x44.png", 300);
    check_corrupt("jpeg_base_240x180.jpg", 300);
    check_corrupt("jpeg_prog_203x151.jpg", 300);
    check_corrupt("jpeg_cmyk_71x53.jpg", 200);
    check_corrupt("jpeg_exif6_75x51.jpg", 300);

    /* Not an image at all. */
    tmp_path(path, sizeof path, "x.heic");
    write_all(path, "\0\0\0\x18" "ftypheic\0\0\0\0mif1heic", 24);
    expect_status("/image/bad/not-an-image", path, VIT_ERR_UNSUPPORTED, "x.heic: not a PNG or JPEG image");
    tmp_path(path, sizeof path, "notes.png");
    write_all(path, "hello, world\n", 13);
    expect_status("/image/bad/text-named-png", path, VIT_ERR_UNSUPPORTED, "not a PNG or JPEG");
    tmp_path(path, sizeof path, "empty.jpg");
    write_all(path, "", 0);
    expect_status("/image/bad/empty", path, VIT_ERR_FORMAT, "empty");
    tmp_path(path, sizeof path, "a-directory.png");
    mkdir(path, 0700);
    expect_status("/image/bad/directory", path, VIT_ERR_IO, "directory");
    rmdir(path);
    tmp_path(path, sizeof path, "fifo.png");
    if (mkfifo(path, 0600) == 0) {
        expect_status("/image/bad/fifo", path, VIT_ERR_IO, "not a regular file");
        unlink(path);
    } else {
        skip("/image/bad/fifo", strerror(errno));
    }
    tmp_path(path, sizeof path, "missing.png");
    expect_status("/image/bad/missing", path, VIT_ERR_IO, "missing.png: cannot open");
    tmp_path(path, sizeof path, "secret.png");
    write_all(path, "\x89PNG", 4);
    chmod(path, 0);
    if (access(path, R_OK) == 0)
        skip("/image/bad/unreadable", "running as root: permissions do not apply");
    else
        expect_status("/image/bad/unreadable", path, VIT_ERR_IO, "Permission denied");
    unlink(path);

    /* Size limits, checked before allocating. */
    fixture_path(path, sizeof path, "huge_decl.png");
    expect_status("/image/limit/png-100000x100000", path, VIT_ERR_LIMIT,
                  "huge_decl.png: image is 100000×100000 pixels; the limit is 16384 a side and "
                  "100 megapixels");
    {
        size_t n;
        fixture_path(path, sizeof path, "rgb_61x47.png");
        uint8_t *d = read_all(path, &n);
        char tpath[512];
        d[16] = d[17] = d[18] = d[19] = 0; /* width 0 (CRC left wrong: checked first) */
        tmp_path(tpath, sizeof tpath, "zero.png");
        write_all(tpath, d, n);
        expect_status("/image/bad/png-zero-width", tpath, VIT_ERR_FORMAT, "zero");
        free(d);

        fixture_path(path, sizeof path, "jpeg_base_240x180.jpg");
        d = read_all(path, &n);
        const struct { unsigned w, h; vit_status st; const char *needle, *name; } sizes[] = {
            {20000, 20000, VIT_ERR_LIMIT, "image is 20000×20000 pixels; the limit is 16384 a "
                                          "side and 100 megapixels", "jpeg-20000x20000"},
            {12000, 12000, VIT_ERR_LIMIT, "100 megapixels", "jpeg-12000x12000"},
            {65535, 65535, VIT_ERR_LIMIT, "65535×65535", "jpeg-65535x65535"},
            {240, 0, VIT_ERR_FORMAT, NULL, "jpeg-zero-height"},
        };
        for (int k = 0; k < 4; k++) {
            char name[128];
            snprintf(name, sizeof name, "/image/limit/%s", sizes[k].name);
            snprintf(tpath, sizeof tpath, "%s/%s.jpg", tmpdir, sizes[k].name);
            jpeg_set_size(d, n, sizes[k].w, sizes[k].h, 0);
            write_all(tpath, d, n);
            expect_status(name, tpath, sizes[k].st, sizes[k].needle);
        }
        /* 12-bit samples: well-formed, but neither libjpeg-turbo's 8-bit API nor PIL reads them. */
        jpeg_set_size(d, n, 240, 180, 12);
        tmp_path(tpath, sizeof tpath, "twelve-bit.jpg");
        write_all(tpath, d, n);
        expect_status("/image/bad/jpeg-12-bit", tpath, VIT_ERR_UNSUPPORTED, "precision 12");
        free(d);
    }

    /* A malformed EXIF block is ignored, not an error and not an overread: IFD0 offset past
     * the end, so the image stays 75×51 instead of turning to 51×75. */
    {
        size_t n;
        fixture_path(path, sizeof path, "jpeg_exif6_75x51.jpg");
        uint8_t *d = read_all(path, &n);
        uint8_t *e = memmem(d, n, "Exif\0\0II*\0", 10);
        vit_image img;
        vit_error err;
        if (e) {
            e[10] = e[11] = e[12] = 0xF0, e[13] = 0x7F;
            bool ok = vit_image_load_memory(d, n, "bad-exif.jpg", &img, &err) == VIT_OK &&
                      img.width == 75 && img.height == 51;
            report(ok, "/image/exif/malformed-ignored", NULL);
            if (ok)
                vit_image_free(&img);
            e[10] = 8, e[11] = e[12] = e[13] = 0;
            e[14] = 0xFF, e[15] = 0xFF; /* 65535 entries in a few bytes */
            ok = vit_image_load_memory(d, n, "bad-exif.jpg", &img, &err) == VIT_OK;
            report(ok, "/image/exif/entry-count-overrun", NULL);
            if (ok)
                vit_image_free(&img);
        } else {
            report(false, "/image/exif/malformed-ignored", "no EXIF block in the fixture");
        }
        free(d);
    }

    /* Arguments. */
    vit_image img;
    vit_error err;
    report(vit_image_load_memory(NULL, 10, "x.png", &img, &err) == VIT_ERR_ARG,
           "/image/args/null-data", "%s", err.msg);
    report(vit_image_load_memory("", 0, "paste.png", &img, &err) == VIT_ERR_FORMAT &&
               strstr(err.msg, "paste.png"),
           "/image/args/empty-buffer", "%s", err.msg);
    vit_image_new(8, 8, VIT_PIXEL_RGB8, &img, &err);
    vit_preprocess_cfg cfg = vit_preprocess_cfg_default();
    cfg.channels = 2;
    vit_image out;
    report(vit_image_resize_crop(&img, &cfg, &out, &err) == VIT_ERR_ARG && out.data == NULL,
           "/image/args/bad-channels", "%s", err.msg);
    cfg = vit_preprocess_cfg_default();
    cfg.std[1] = 0;
    float *t = malloc(sizeof *t * 3 * 224 * 224);
    report(vit_preprocess(&img, &cfg, t, &err) == VIT_ERR_ARG, "/image/args/zero-std", "%s",
           err.msg);
    free(t);
    vit_image narrow = img;
    narrow.stride = 5;
    report(vit_image_resize_crop(&narrow, &cfg, &out, &err) == VIT_ERR_ARG,
           "/image/args/short-stride", "%s", err.msg);
    report(vit_image_new(20000, 20000, VIT_PIXEL_RGB8, &out, &err) == VIT_ERR_LIMIT,
           "/image/args/new-over-limit", "%s", err.msg);
    vit_image_free(&img);
}

/* ---------------------------------------------------------------------------------------------
 * Timing (reported, with a generous bound to catch pathologies) */

static double best_ms(const vit_image *img, const vit_preprocess_cfg *cfg, float *out)
{
    double best = 1e9;
    for (int r = 0; r < 3; r++) {
        vit_error err;
        double t0 = vit_now_ms();
        if (vit_preprocess(img, cfg, out, &err) != VIT_OK)
            return -1;
        double t = vit_now_ms() - t0;
        best = t < best ? t : best;
    }
    return best;
}

static void write_big_jpeg(const char *path, const vit_image *img, int orientation)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)img->width;
    c.image_height = (JDIMENSION)img->height;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 90, TRUE);
    jpeg_start_compress(&c, TRUE);
    if (orientation) {
        /* "Exif\0\0", a little-endian TIFF header, IFD0 with one SHORT: Orientation. */
        const uint8_t exif[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 0x2a, 0, 8, 0, 0, 0, 1, 0,
                                0x12, 0x01, 3, 0, 1, 0, 0, 0, (uint8_t)orientation, 0, 0, 0,
                                0, 0, 0, 0};
        jpeg_write_marker(&c, JPEG_APP0 + 1, exif, sizeof exif);
    }
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = img->data + (size_t)c.next_scanline * img->stride;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
}

static void check_timing(void)
{
    vit_image big;
    vit_error err;
    vit_image_new(4000, 3000, VIT_PIXEL_RGB8, &big, &err);
    for (int y = 0; y < big.height; y++)
        for (int x = 0; x < big.width; x++) {
            uint8_t *p = big.data + (size_t)y * big.stride + 3 * x;
            p[0] = (uint8_t)(x * 255 / 3999);
            p[1] = (uint8_t)(y * 255 / 2999);
            p[2] = (uint8_t)((x ^ y) * 7);
        }
    vit_preprocess_cfg cfg = vit_preprocess_cfg_default();
    float *t = malloc(sizeof *t * 3 * 224 * 224);
    double ms = best_ms(&big, &cfg, t);
    report(ms >= 0 && ms < 500, "/image/timing/preprocess-4000x3000", "%.1f ms (bicubic 256/224)",
           ms);
    char path[512], path6[512];
    tmp_path(path, sizeof path, "big.jpg");
    write_big_jpeg(path, &big, 0);
    tmp_path(path6, sizeof path6, "big-exif6.jpg");
    write_big_jpeg(path6, &big, 6);
    vit_image_free(&big);
    vit_image dec;
    double t0 = vit_now_ms();
    vit_status st = vit_image_load(path, &dec, &err);
    double dms = vit_now_ms() - t0;
    if (st == VIT_OK) {
        double pms = best_ms(&dec, &cfg, t);
        report(true, "/image/timing/jpeg-4000x3000", "decode %.1f ms, preprocess %.1f ms", dms,
               pms);
        vit_image frame;
        vit_image_new(1280, 720, VIT_PIXEL_BGRX8, &frame, &err);
        report(true, "/image/timing/bgrx-1280x720", "preprocess %.1f ms", best_ms(&frame, &cfg, t));
        vit_image_free(&frame);
        vit_image_free(&dec);
    } else {
        report(false, "/image/timing/jpeg-4000x3000", "%s", err.msg);
    }
    t0 = vit_now_ms();
    st = vit_image_load(path6, &dec, &err);
    dms = vit_now_ms() - t0;
    report(st == VIT_OK && dec.width == 3000 && dec.height == 4000,
           "/image/timing/jpeg-4000x3000-exif6", "decode and rotate %.1f ms", dms);
    if (st == VIT_OK)
        vit_image_free(&dec);
    unlink(path);
    unlink(path6);
    free(t);
}

/* The temporary directory holds plain files only. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    static char images_dir[1024];
    if (argc > 1) {
        /* Accept the images directory itself or the fixtures root holding it. */
        snprintf(images_dir, sizeof images_dir, "%s/images/index.json", argv[1]);
        if (access(images_dir, R_OK) == 0) {
            snprintf(images_dir, sizeof images_dir, "%s/images", argv[1]);
            fixtures = images_dir;
        } else {
            fixtures = argv[1];
        }
    }
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/test-image-XXXXXX", base);
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "cannot make a temporary directory in %s\n", base);
        return 1;
    }
    run_index();
    check_formats();
    check_save();
    check_bad_input();
    if (!getenv("VIT_TEST_NO_TIMING"))
        check_timing();

    remove_tree(tmpdir);
    if (n_skip)
        printf("%d skipped\n", n_skip);
    return test_done();
}
