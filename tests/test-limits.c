/* test-limits.c — every size limit on user files is enforced before anything is allocated from
 * the file's own numbers, and says so in its message:
 *   image dimensions (16384 a side, 100 megapixels) for PNG, JPEG and vit_image_new; image file
 *   size (1 GiB); the preprocessing crop; safetensors header size (100 MB), tensor count (65536),
 *   rank (8), absurd shapes (2^40 elements and beyond); model arenas larger than the file can
 *   hold; attention scores over 4 GB; labels file size (16 MB); config.json size (4 MB) and JSON
 *   depth (64); IDX dimensions, total size (1 GiB) and data larger than the file; thread counts.
 *
 * "Before allocation" is checked, not assumed: outside the sanitizers (whose shadow memory needs
 * the address space) each case runs in a child process whose address space is limited to what
 * it uses now plus 256 MB, so a check that came after a big allocation would fail with
 * VIT_ERR_NOMEM (or die) instead of giving the limit's status and message.
 *
 * Usage: test-limits FIXTURES_DIR */
#include "../app/cli/cli-dataset.h"
#include "../engine/vit.h"
#include "test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

/* cli-dataset.c prints through the CLI's cli_error; here the message comes back in err. */
void cli_error(const char *fmt, ...)
{
    (void)fmt;
}

static const char *fixtures;
static char tmp[256];

/* ---------------------------------------------------------------------------------------------
 * Running a case with a bounded address space */

typedef struct {
    vit_status status;
    char msg[VIT_ERROR_MSG_MAX];
} outcome;

typedef void (*case_fn)(const void *ctx, outcome *o);

static long long vm_size_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %lld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static outcome run_bounded(case_fn fn, const void *ctx)
{
    outcome o = {VIT_OK, ""};
    if (UNDER_SANITIZER) {
        fn(ctx, &o);
        return o;
    }
    int fds[2];
    if (pipe(fds) != 0) {
        o.status = VIT_ERR_IO;
        snprintf(o.msg, sizeof o.msg, "pipe: %s", strerror(errno));
        return o;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        alarm(60); /* a case that runs for a minute is a hang (SIGALRM ends it: the case fails) */
        long long kb = vm_size_kb();
        struct rlimit rl = {(rlim_t)(kb + 256 * 1024) * 1024, (rlim_t)(kb + 256 * 1024) * 1024};
        if (kb > 0)
            setrlimit(RLIMIT_AS, &rl);
        fn(ctx, &o);
        ssize_t w = write(fds[1], &o, sizeof o);
        _exit(w == (ssize_t)sizeof o ? 0 : 1);
    }
    close(fds[1]);
    ssize_t r = read(fds[0], &o, sizeof o);
    close(fds[0]);
    int ws = 0;
    waitpid(pid, &ws, 0);
    if (r != (ssize_t)sizeof o) {
        o.status = VIT_ERR_NOMEM;
        snprintf(o.msg, sizeof o.msg, "the case died in its bounded address space (wait status %d)",
                 ws);
    }
    return o;
}

static void expect(const char *check, case_fn fn, const void *ctx, vit_status want,
                   const char *want_msg)
{
    outcome o = run_bounded(fn, ctx);
    test_check(o.status == want && strstr(o.msg, want_msg) != NULL,
               "%s: status %s (want %s), message \"%s\"", check, vit_status_str(o.status),
               vit_status_str(want), o.msg);
}

/* ---------------------------------------------------------------------------------------------
 * Inputs */

typedef struct {
    const void *data;
    size_t size;
    const char *name; /* images: the file name; models: the config.json text (or NULL) */
} buffer;

static void case_image_memory(const void *ctx, outcome *o)
{
    const buffer *b = ctx;
    vit_image img;
    vit_error err = {0};
    o->status = vit_image_load_memory(b->data, b->size, b->name, &img, &err);
    snprintf(o->msg, sizeof o->msg, "%s", err.msg);
    vit_image_free(&img);
}

static void case_image_file(const void *ctx, outcome *o)
{
    vit_image img;
    vit_error err = {0};
    o->status = vit_image_load(ctx, &img, &err);
    snprintf(o->msg, sizeof o->msg, "%s", err.msg);
    vit_image_free(&img);
}

static void case_model_memory(const void *ctx, outcome *o)
{
    const buffer *b = ctx;
    vit_model *m = NULL;
    vit_error err = {0};
    o->status = vit_model_load_memory(b->data, b->size, b->name, "limits.safetensors", &m, &err);
    snprintf(o->msg, sizeof o->msg, "%s", err.msg);
    vit_model_free(m);
}

static void case_model_file(const void *ctx, outcome *o)
{
    vit_model *m = NULL;
    vit_error err = {0};
    o->status = vit_model_load(ctx, &m, &err);
    snprintf(o->msg, sizeof o->msg, "%s", err.msg);
    vit_model_free(m);
}

/* A PNG signature and an IHDR of the given size (no CRC needed: the size is read first). */
static size_t png_header(uint8_t *p, uint32_t w, uint32_t h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(p, sig, 8);
    const uint8_t ihdr[8] = {0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    memcpy(p + 8, ihdr, 8);
    for (int i = 0; i < 4; i++) {
        p[16 + i] = (uint8_t)(w >> (24 - 8 * i));
        p[20 + i] = (uint8_t)(h >> (24 - 8 * i));
    }
    p[24] = 8; /* depth */
    p[25] = 2; /* RGB */
    p[26] = p[27] = p[28] = 0;
    memset(p + 29, 0, 4); /* CRC */
    return 33;
}

/* A copy of a fixture JPEG with its SOF saying width × height. */
/* A fixture JPEG (tests/fixtures/images/NAME) whose frame header says w x h; with full = 1 every
 * component is also made full resolution (4:4:4), so that the coefficients take 2 bytes a
 * sample. The scans are left as they are: what is tested happens before they are read. */
static uint8_t *jpeg_fixture_with_size(const char *name, uint16_t w, uint16_t h, int full,
                                       size_t *size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/images/%s", fixtures, name);
    uint8_t *d = test_read_file(path, size);
    if (!d)
        return NULL;
    for (size_t i = 2; i + 9 < *size;) {
        if (d[i] != 0xFF)
            break;
        uint8_t m = d[i + 1];
        size_t len = (size_t)d[i + 2] << 8 | d[i + 3];
        if (m == 0xC0 || m == 0xC1 || m == 0xC2) {
            d[i + 5] = (uint8_t)(h >> 8);
            d[i + 6] = (uint8_t)h;
            d[i + 7] = (uint8_t)(w >> 8);
            d[i + 8] = (uint8_t)w;
            for (int c = 0; full && c < d[i + 9] && i + 11 + 3 * c < *size; c++)
                d[i + 11 + 3 * c] = 0x11;
            return d;
        }
        i += 2 + len;
    }
    free(d);
    return NULL;
}

static uint8_t *jpeg_with_size(uint16_t w, uint16_t h, size_t *size)
{
    return jpeg_fixture_with_size("jpeg_base_240x180.jpg", w, h, 0, size);
}

/* The progressive fixture with its shortest scan (marker, header and entropy data) written
 * `copies` more times before EOI: a valid-looking file of many scans. */
static uint8_t *jpeg_with_scans(int copies, size_t *size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/images/jpeg_prog_203x151.jpg", fixtures);
    size_t n;
    uint8_t *d = test_read_file(path, &n);
    if (!d)
        return NULL;
    size_t best = 0, best_len = 0;
    for (size_t i = 2; i + 4 <= n && d[i] == 0xFF && d[i + 1] != 0xD9;) {
        size_t len = (size_t)d[i + 2] << 8 | d[i + 3], j = i + 2 + len;
        if (d[i + 1] == 0xDA) { /* the entropy data runs to the next marker but RSTn */
            while (j + 1 < n && !(d[j] == 0xFF && d[j + 1] != 0 && (d[j + 1] & 0xF8) != 0xD0))
                j++;
            if (!best_len || j - i < best_len)
                best = i, best_len = j - i;
        }
        i = j;
    }
    if (!best_len || n < 2 || d[n - 2] != 0xFF || d[n - 1] != 0xD9) {
        free(d);
        return NULL;
    }
    *size = n + (size_t)copies * best_len;
    uint8_t *out = malloc(*size);
    memcpy(out, d, n - 2);
    for (int k = 0; k < copies; k++)
        memcpy(out + n - 2 + (size_t)k * best_len, d + best, best_len);
    memcpy(out + *size - 2, d + n - 2, 2);
    free(d);
    return out;
}

/* A sparse file of `size` bytes starting with `head`. */
static int sparse_file(const char *path, const void *head, size_t n, off_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 0;
    int ok = write(fd, head, n) == (ssize_t)n && ftruncate(fd, size) == 0;
    return close(fd) == 0 && ok;
}

static uint8_t *st_file(const char *header, size_t data_bytes, size_t *size);

/* A one-block model 2 wide with `tokens` tokens (patch 1, one channel) and an MLP `hidden` wide,
 * F16 zeros: small files whose shapes ask for a lot. */
static uint8_t *wide_model_file(int tokens, int hidden, size_t *size)
{
    char shape[8][32];
    snprintf(shape[0], sizeof shape[0], "[1,%d,2]", tokens);
    snprintf(shape[1], sizeof shape[1], "[%d,2]", hidden);
    snprintf(shape[2], sizeof shape[2], "[%d]", hidden);
    snprintf(shape[3], sizeof shape[3], "[2,%d]", hidden);
    struct {
        const char *name;
        const char *shape;
        size_t n;
    } t[] = {
        {"patch_embed.proj.weight", "[2,1,1,1]", 2}, {"patch_embed.proj.bias", "[2]", 2},
        {"cls_token", "[1,1,2]", 2},                  {"pos_embed", shape[0], (size_t)tokens * 2},
        {"blocks.0.norm1.weight", "[2]", 2},          {"blocks.0.norm1.bias", "[2]", 2},
        {"blocks.0.attn.qkv.weight", "[6,2]", 12},    {"blocks.0.attn.qkv.bias", "[6]", 6},
        {"blocks.0.attn.proj.weight", "[2,2]", 4},    {"blocks.0.attn.proj.bias", "[2]", 2},
        {"blocks.0.norm2.weight", "[2]", 2},          {"blocks.0.norm2.bias", "[2]", 2},
        {"blocks.0.mlp.fc1.weight", shape[1], (size_t)hidden * 2},
        {"blocks.0.mlp.fc1.bias", shape[2], (size_t)hidden},
        {"blocks.0.mlp.fc2.weight", shape[3], (size_t)hidden * 2},
        {"blocks.0.mlp.fc2.bias", "[2]", 2},
        {"norm.weight", "[2]", 2},                    {"norm.bias", "[2]", 2},
        {"head.weight", "[2,2]", 4},                  {"head.bias", "[2]", 2},
    };
    char *hdr = malloc(1 << 16);
    size_t o = (size_t)sprintf(hdr, "{"), off = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        o += (size_t)sprintf(hdr + o, "%s\"%s\":{\"dtype\":\"F16\",\"shape\":%s,"
                             "\"data_offsets\":[%zu,%zu]}",
                             i ? "," : "", t[i].name, t[i].shape, off, off + 2 * t[i].n);
        off += 2 * t[i].n;
    }
    sprintf(hdr + o, "}");
    uint8_t *f = st_file(hdr, off, size);
    free(hdr);
    return f;
}

/* A safetensors file from a JSON header and `data_bytes` zero bytes of data. */
static uint8_t *st_file(const char *header, size_t data_bytes, size_t *size)
{
    size_t h = strlen(header), hp = (h + 7) / 8 * 8;
    *size = 8 + hp + data_bytes;
    uint8_t *b = calloc(1, *size);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)hp >> (8 * i));
    memcpy(b + 8, header, h);
    memset(b + 8 + h, ' ', hp - h);
    return b;
}

/* ---------------------------------------------------------------------------------------------
 * The limits */

static void test_images(void)
{
    uint8_t png[64];
    buffer b = {png, 0, "wide.png"};
    b.size = png_header(png, 16385, 1);
    expect("/limits/image/png-side-16385", case_image_memory, &b, VIT_ERR_LIMIT,
           "wide.png: image is 16385×1 pixels; the limit is 16384 a side and 100 megapixels");
    b.size = png_header(png, 10000, 10001);
    b.name = "100mp.png";
    expect("/limits/image/png-100-megapixels", case_image_memory, &b, VIT_ERR_LIMIT,
           "100mp.png: image is 10000×10001 pixels; the limit is 16384 a side and 100 megapixels");
    b.size = png_header(png, 0xFFFFFFFFu, 0xFFFFFFFFu);
    b.name = "4g.png";
    expect("/limits/image/png-2^32-side", case_image_memory, &b, VIT_ERR_LIMIT,
           "4g.png: image is 4294967295×4294967295 pixels");

    /* the largest side allowed still decodes: a real 16384×1 PNG */
    vit_image img;
    vit_error err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/edge-16384x1.png", tmp);
    vit_status s = vit_image_new(16384, 1, VIT_PIXEL_RGB8, &img, &err);
    if (s == VIT_OK)
        s = vit_image_save_png(&img, path, &err);
    vit_image_free(&img);
    if (s == VIT_OK)
        s = vit_image_load(path, &img, &err);
    test_check(s == VIT_OK && img.width == 16384 && img.height == 1,
               "/limits/image/png-16384x1-allowed (%s)", err.msg);
    vit_image_free(&img);

    size_t n;
    uint8_t *jpg = jpeg_with_size(16385, 8, &n);
    buffer j = {jpg, n, "wide.jpg"};
    test_check(jpg != NULL, "/limits/image/jpeg-fixture");
    if (jpg)
        expect("/limits/image/jpeg-side-16385", case_image_memory, &j, VIT_ERR_LIMIT,
               "wide.jpg: image is 16385×8 pixels; the limit is 16384 a side and 100 megapixels");
    free(jpg);
    jpg = jpeg_with_size(65535, 65535, &n);
    j = (buffer){jpg, n, "huge.jpg"};
    if (jpg)
        expect("/limits/image/jpeg-65535x65535", case_image_memory, &j, VIT_ERR_LIMIT,
               "huge.jpg: image is 65535×65535 pixels; the limit is 16384 a side");
    free(jpg);
    jpg = jpeg_with_size(12000, 9000, &n);
    j = (buffer){jpg, n, "108mp.jpg"};
    if (jpg)
        expect("/limits/image/jpeg-108-megapixels", case_image_memory, &j, VIT_ERR_LIMIT,
               "108mp.jpg: image is 12000×9000 pixels; the limit is 16384 a side and 100 "
               "megapixels");
    free(jpg);

    /* a progressive 4:4:4 JPEG of 100 megapixels: its coefficients alone would take 600 MB */
    jpg = jpeg_fixture_with_size("jpeg_prog_203x151.jpg", 10000, 10000, 1, &n);
    j = (buffer){jpg, n, "prog-600mb.jpg"};
    test_check(jpg != NULL, "/limits/image/jpeg-prog-fixture");
    if (jpg)
        expect("/limits/image/jpeg-coefficient-memory", case_image_memory, &j, VIT_ERR_LIMIT,
               "prog-600mb.jpg: decoding this 10000×10000 JPEG needs more than 512 MB of memory; "
               "the limit is 512 MB");
    free(jpg);
    /* thousands of scans in a small file; the fixture itself (10 scans) still decodes */
    jpg = jpeg_with_scans(0, &n);
    j = (buffer){jpg, n, "prog.jpg"};
    if (jpg)
        expect("/limits/image/jpeg-10-scans-allowed", case_image_memory, &j, VIT_OK, "");
    free(jpg);
    jpg = jpeg_with_scans(2000, &n);
    j = (buffer){jpg, n, "scans.jpg"};
    test_check(jpg != NULL, "/limits/image/jpeg-scans-fixture");
    if (jpg)
        expect("/limits/image/jpeg-2000-scans", case_image_memory, &j, VIT_ERR_LIMIT,
               "scans.jpg: JPEG has more than 500 scans; the limit is 500");
    free(jpg);

    s = vit_image_new(16385, 1, VIT_PIXEL_RGB8, &img, &err);
    test_check(s == VIT_ERR_LIMIT && img.data == NULL && strstr(err.msg, "16385×1 pixels"),
               "/limits/image/new-16385 (%s)", err.msg);
    s = vit_image_new(10001, 10000, VIT_PIXEL_GRAY8, &img, &err);
    test_check(s == VIT_ERR_LIMIT && img.data == NULL && strstr(err.msg, "100 megapixels"),
               "/limits/image/new-100-megapixels (%s)", err.msg);

    /* a file over 1 GiB is refused from its size (sparse: no disk used) */
    snprintf(path, sizeof path, "%s/big.png", tmp);
    uint8_t head[33];
    png_header(head, 64, 64);
    if (sparse_file(path, head, sizeof head, (1LL << 30) + 1))
        expect("/limits/image/file-over-1GiB", case_image_file, path, VIT_ERR_LIMIT,
               "big.png: file is 1073741825 bytes; the limit is 1073741824");
    else
        test_check(0, "/limits/image/file-over-1GiB: cannot write %s", path);
    unlink(path);
    /* a 1 GiB file that is no image is refused from its first bytes, not read whole (in the
     * bounded address space, reading it would fail for memory) */
    snprintf(path, sizeof path, "%s/notes.png", tmp);
    if (sparse_file(path, "not an image", 12, 1LL << 30))
        expect("/limits/image/1GiB-not-an-image", case_image_file, path, VIT_ERR_UNSUPPORTED,
               "notes.png: not a PNG or JPEG image");
    else
        test_check(0, "/limits/image/1GiB-not-an-image: cannot write %s", path);
    unlink(path);

    /* the preprocessing crop itself */
    vit_image small;
    vit_image_new(8, 8, VIT_PIXEL_RGB8, &small, NULL);
    vit_preprocess_cfg cfg = vit_preprocess_cfg_default();
    cfg.image_size = 10001;
    cfg.resize_size = 10001;
    vit_image out;
    s = vit_image_resize_crop(&small, &cfg, &out, &err);
    test_check(s == VIT_ERR_LIMIT && strstr(err.msg, "10001×10001 crop is over the 100 megapixel"),
               "/limits/preprocess/crop-100-megapixels (%s)", err.msg);
    vit_image_free(&small);
}

static void test_safetensors(void)
{
    /* header length: over 100 MB is a limit, even when the file is tiny */
    uint8_t h[16] = {0};
    uint64_t len = (100u << 20) + 1;
    for (int i = 0; i < 8; i++)
        h[i] = (uint8_t)(len >> (8 * i));
    memcpy(h + 8, "{}      ", 8);
    buffer b = {h, sizeof h, NULL};
    expect("/limits/safetensors/header-over-100MB", case_model_memory, &b, VIT_ERR_LIMIT,
           "limits.safetensors: safetensors header length 104857601 is over the 100 MB limit");
    len = 100u << 20;
    for (int i = 0; i < 8; i++)
        h[i] = (uint8_t)(len >> (8 * i));
    expect("/limits/safetensors/header-past-the-end", case_model_memory, &b, VIT_ERR_FORMAT,
           "safetensors header length 104857600 is past the end of the file (16 bytes)");
    memset(h, 0xFF, 8);
    expect("/limits/safetensors/header-2^64", case_model_memory, &b, VIT_ERR_LIMIT,
           "header length 18446744073709551615 is over the 100 MB limit");

    /* tensor count: 65537 empty tensors */
    size_t cap = 65537 * 64 + 16, o = 0;
    char *hdr = malloc(cap);
    o += (size_t)sprintf(hdr + o, "{");
    for (int i = 0; i < 65537; i++)
        o += (size_t)sprintf(hdr + o, "%s\"t%d\":{\"dtype\":\"F32\",\"shape\":[0],"
                             "\"data_offsets\":[0,0]}", i ? "," : "", i);
    sprintf(hdr + o, "}");
    size_t n;
    uint8_t *f = st_file(hdr, 0, &n);
    b = (buffer){f, n, NULL};
    expect("/limits/safetensors/65537-tensors", case_model_memory, &b, VIT_ERR_LIMIT,
           "limits.safetensors: 65537 tensors; the limit is 65536");
    free(f);
    free(hdr);

    struct {
        const char *check, *header;
        size_t data;
        vit_status want;
        const char *msg;
    } cases[] = {
        {"/limits/safetensors/rank-9",
         "{\"x\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
         VIT_ERR_UNSUPPORTED, "tensor x has 9 dimensions; at most 8"},
        {"/limits/safetensors/2^40-elements",
         "{\"x\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],\"data_offsets\":[0,4]}}", 4,
         VIT_ERR_FORMAT,
         "tensor x: shape and dtype F32 need 4398046511104 bytes but data_offsets give 4"},
        {"/limits/safetensors/dimension-over-2^40",
         "{\"x\":{\"dtype\":\"F32\",\"shape\":[1099511627777],\"data_offsets\":[0,4]}}", 4,
         VIT_ERR_FORMAT, "tensor x has an invalid dimension in its shape"},
        {"/limits/safetensors/2^80-elements",
         "{\"x\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],"
         "\"data_offsets\":[0,4]}}",
         4, VIT_ERR_FORMAT, "tensor x: shape overflows"},
        {"/limits/safetensors/offset-over-2^53",
         "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18014398509481984]}}", 4,
         VIT_ERR_FORMAT, "tensor x has no valid data_offsets [begin, end]"},
        /* zero-width matrices make a tiny file declare a model of hundreds of GB: refused
         * before the weights are allocated */
        {"/limits/model/arena-larger-than-the-file",
         "{\"patch_embed.proj.weight\":{\"dtype\":\"F32\",\"shape\":[65536,1,1,1],"
         "\"data_offsets\":[0,262144]},"
         "\"pos_embed\":{\"dtype\":\"F32\",\"shape\":[1,2,65536],\"data_offsets\":[262144,786432]},"
         "\"blocks.0.norm1.weight\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
         "\"blocks.0.mlp.fc1.weight\":{\"dtype\":\"F32\",\"shape\":[1048576,0],"
         "\"data_offsets\":[0,0]},"
         "\"head.weight\":{\"dtype\":\"F32\",\"shape\":[1048576,0],\"data_offsets\":[0,0]}}",
         786432, VIT_ERR_LIMIT, "width 65536 and MLP width 1048576; the limit is 16384"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f = st_file(cases[i].header, cases[i].data, &n);
        b = (buffer){f, n, NULL};
        expect(cases[i].check, case_model_memory, &b, cases[i].want, cases[i].msg);
        free(f);
    }

    /* attention scores: 65537 tokens of a 2-wide model fit in 300 kB of pos_embed */
    f = wide_model_file(65537, 2, &n);
    b = (buffer){f, n, "{\"model_args\": {\"num_heads\": 1}}"};
    expect("/limits/model/attention-over-4GB", case_model_memory, &b, VIT_ERR_LIMIT,
           "limits.safetensors: 65537 tokens per image (256 px, patch 1); the limit is 4098");
    free(f);
    /* under the attention limit, but more tokens (65×65 patches) than any ViT uses: hours of
     * work per image with real widths; and an MLP 32768 wide in 256 kB */
    f = wide_model_file(65 * 65 + 1, 2, &n);
    b = (buffer){f, n, "{\"model_args\": {\"num_heads\": 1}}"};
    expect("/limits/model/tokens-over-4098", case_model_memory, &b, VIT_ERR_LIMIT,
           "limits.safetensors: 4226 tokens per image (65 px, patch 1); the limit is 4098");
    free(f);
    f = wide_model_file(197, 32768, &n);
    b = (buffer){f, n, "{\"model_args\": {\"num_heads\": 1}}"};
    expect("/limits/model/mlp-over-16384", case_model_memory, &b, VIT_ERR_LIMIT,
           "limits.safetensors: width 2 and MLP width 32768; the limit is 16384");
    free(f);
    /* within every limit, the same file loads */
    f = wide_model_file(197, 8, &n);
    b = (buffer){f, n, "{\"model_args\": {\"num_heads\": 1}}"};
    expect("/limits/model/small-allowed", case_model_memory, &b, VIT_OK, "");
    free(f);
    /* 65530 blocks in a 5 MB header: refused at the depth limit, and found by binary search (a
     * linear search per block took 71 s here) */
    {
        const int nb = 65530;
        char *hdr = malloc((size_t)nb * 96 + 1024); /* up to 87 bytes a block */
        size_t o = (size_t)sprintf(hdr, "{\"patch_embed.proj.weight\":{\"dtype\":\"F16\","
                                        "\"shape\":[2,1,1,1],\"data_offsets\":[0,4]},"
                                        "\"pos_embed\":{\"dtype\":\"F16\",\"shape\":[1,5,2],"
                                        "\"data_offsets\":[4,24]}");
        for (int i = 0; i < nb; i++)
            o += (size_t)sprintf(hdr + o, ",\"blocks.%d.norm1.weight\":{\"dtype\":\"F16\","
                                 "\"shape\":[1],\"data_offsets\":[%d,%d]}", i, 24 + 2 * i,
                                 26 + 2 * i);
        sprintf(hdr + o, "}");
        f = st_file(hdr, 24 + 2 * (size_t)nb, &n);
        b = (buffer){f, n, NULL};
        expect("/limits/model/65530-blocks", case_model_memory, &b, VIT_ERR_LIMIT,
               "limits.safetensors: more than 256 blocks; the limit is 256");
        free(f);
        free(hdr);
    }

    /* a config of 1.2 million values (2.4 MB of "0,"): refused at the node limit */
    {
        const size_t nv = 1200000;
        char *cfg = malloc(nv * 2 + 64);
        size_t o = (size_t)sprintf(cfg, "{\"model_args\": {\"num_heads\": 1}, \"x\": [");
        for (size_t i = 0; i < nv; i++)
            o += (size_t)sprintf(cfg + o, i ? ",0" : "0");
        sprintf(cfg + o, "]}");
        f = wide_model_file(197, 8, &n);
        b = (buffer){f, n, cfg};
        expect("/limits/config/1.2-million-values", case_model_memory, &b, VIT_ERR_FORMAT,
               "more than 1048576 values; the limit is 1048576");
        free(f);
        free(cfg);
    }

    /* config values that pass as JSON but not as what they become: refused at load, naming the
     * config, not later when an image is preprocessed (nor printed as -nan%) */
    static const struct {
        const char *check, *config, *msg;
    } cfgs[] = {
        {"/limits/config/mean-1e39", "{\"model_args\": {\"num_heads\": 1}, \"mean\": [1e39]}",
         "mean[0] is not a valid number"},
        {"/limits/config/std-1e-46", "{\"model_args\": {\"num_heads\": 1}, \"std\": [1e-46]}",
         "std[0] is not a valid number"},
        {"/limits/config/resize-20000",
         "{\"model_args\": {\"num_heads\": 1}, \"vitlens_resize_size\": 20000}",
         "vitlens_resize_size is not a whole number from 1 to 16384"},
    };
    f = wide_model_file(197, 8, &n);
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        b = (buffer){f, n, cfgs[i].config};
        expect(cfgs[i].check, case_model_memory, &b, VIT_ERR_FORMAT, cfgs[i].msg);
    }
    free(f);

    /* JSON nesting: 65 levels in a config */
    char deep[256] = "{\"a\":";
    for (int i = 0; i < 70; i++)
        strcat(deep, "[");
    char path[512];
    snprintf(path, sizeof path, "%s/models/tiny-p4-f16/model.safetensors", fixtures);
    size_t msize;
    uint8_t *model = test_read_file(path, &msize);
    b = (buffer){model, msize, deep};
    expect("/limits/config/json-depth-64", case_model_memory, &b, VIT_ERR_FORMAT,
           "config.json: not valid JSON (at byte 69: nested deeper than 64 levels)");

    /* config.json and labels.txt beside a model: their sizes, from stat, before reading */
    char dir[512], p2[600];
    snprintf(dir, sizeof dir, "%s/model-dir", tmp);
    mkdir(dir, 0755);
    snprintf(p2, sizeof p2, "%s/model.safetensors", dir);
    test_write_file(p2, model, msize);
    snprintf(p2, sizeof p2, "%s/config.json", dir);
    if (sparse_file(p2, "{", 1, (4 << 20) + 1)) {
        snprintf(p2, sizeof p2, "%s/model.safetensors", dir);
        expect("/limits/config/file-over-4MB", case_model_file, p2, VIT_ERR_LIMIT,
               "config.json: file is 4194305 bytes; the limit is 4194304");
    }
    /* the model's own config, so that the labels are what fails next */
    snprintf(p2, sizeof p2, "%s/models/tiny-p4-f16/config.json", fixtures);
    size_t clen;
    char *cfg = test_read_file(p2, &clen);
    snprintf(p2, sizeof p2, "%s/config.json", dir);
    test_write_file(p2, cfg ? cfg : "{}", cfg ? clen : 2);
    free(cfg);
    snprintf(p2, sizeof p2, "%s/labels.txt", dir);
    if (sparse_file(p2, "a\n", 2, (16 << 20) + 1)) {
        snprintf(p2, sizeof p2, "%s/model.safetensors", dir);
        expect("/limits/labels/file-over-16MB-beside-the-model", case_model_file, p2,
               VIT_ERR_LIMIT, "labels.txt: file is 16777217 bytes; the limit is 16777216");
        vit_model *m = NULL;
        vit_error err = {0};
        snprintf(p2, sizeof p2, "%s/models/tiny-p4-f16/model.safetensors", fixtures);
        vit_model_load(p2, &m, &err);
        snprintf(p2, sizeof p2, "%s/labels.txt", dir);
        vit_status s = m ? vit_model_load_labels(m, p2, &err) : VIT_ERR_IO;
        test_check(s == VIT_ERR_LIMIT && strstr(err.msg, "file is 16777217 bytes; the limit is "
                                                         "16777216"),
                   "/limits/labels/load-labels-over-16MB (%s)", err.msg);
        vit_model_free(m);
    }
    unlink(p2);
    snprintf(p2, sizeof p2, "%s/config.json", dir);
    unlink(p2);
    snprintf(p2, sizeof p2, "%s/model.safetensors", dir);
    unlink(p2);
    rmdir(dir);
    free(model);
}

/* A gzip IDX file of rows x cols zero bytes (two dimensions); flip_crc damages the trailer's
 * CRC-32. */
static int idx_gzip(const char *path, uint32_t rows, uint32_t cols, int flip_crc)
{
    gzFile f = gzopen(path, "wb9");
    if (!f)
        return 0;
    const uint8_t head[12] = {0, 0, 8, 2, (uint8_t)(rows >> 24), (uint8_t)(rows >> 16),
                              (uint8_t)(rows >> 8), (uint8_t)rows, (uint8_t)(cols >> 24),
                              (uint8_t)(cols >> 16), (uint8_t)(cols >> 8), (uint8_t)cols};
    int ok = gzwrite(f, head, sizeof head) == (int)sizeof head;
    static const uint8_t zeros[1 << 16];
    for (uint64_t left = (uint64_t)rows * cols; ok && left;) {
        unsigned n = left < sizeof zeros ? (unsigned)left : (unsigned)sizeof zeros;
        ok = gzwrite(f, zeros, n) == (int)n;
        left -= n;
    }
    ok = gzclose(f) == Z_OK && ok;
    if (ok && flip_crc) { /* the trailer: CRC-32, then the length, 4 bytes each */
        int fd = open(path, O_RDWR);
        off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
        uint8_t b;
        ok = end >= 8 && pread(fd, &b, 1, end - 8) == 1;
        b ^= 0xFF;
        ok = ok && pwrite(fd, &b, 1, end - 8) == 1;
        if (fd >= 0)
            close(fd);
    }
    return ok;
}

static void case_idx(const void *ctx, outcome *o)
{
    int32_t dims[4], nd;
    uint8_t *data = NULL;
    size_t size;
    char err[256] = "";
    o->status = cli_idx_read(ctx, dims, &nd, &data, &size, err, sizeof err) == 0 ? VIT_OK
                                                                                 : VIT_ERR_FORMAT;
    snprintf(o->msg, sizeof o->msg, "%s", err);
    free(data);
}

static void test_idx(void)
{
    struct {
        const char *check;
        uint8_t head[16];
        size_t n;
        const char *msg;
    } cases[] = {
        {"/limits/idx/dimension-over-2^28", {0, 0, 8, 1, 0x10, 0, 0, 1}, 8,
         "IDX dimension 0 is 268435457"},
        {"/limits/idx/total-over-1GiB", {0, 0, 8, 2, 0, 1, 0, 0, 0, 1, 0, 1}, 12,
         "IDX data would be 4295032832 bytes or more; the limit is 256 MiB"},
        {"/limits/idx/more-than-the-file-holds", {0, 0, 8, 2, 0, 0, 0x03, 0xE8, 0, 0, 0x03, 0xE8},
         12, "truncated: the header declares 1000000 data bytes, more than the file holds"},
    };
    char path[512];
    snprintf(path, sizeof path, "%s/t.idx", tmp);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_write_file(path, cases[i].head, cases[i].n);
        expect(cases[i].check, case_idx, path, VIT_ERR_FORMAT, cases[i].msg);
    }
    unlink(path);

    /* gzip: 300 MiB of zeros declared and deflated into about 300 kB is refused from the header;
     * 64 MiB still reads; a damaged CRC is named as such */
    snprintf(path, sizeof path, "%s/t.idx.gz", tmp);
    static const struct {
        const char *check;
        uint32_t rows;
        int flip_crc;
        vit_status want;
        const char *msg;
    } gz[] = {
        {"/limits/idx/gzip-300MiB", 300u << 10, 0, VIT_ERR_FORMAT,
         "t.idx.gz: IDX data would be 314572800 bytes or more; the limit is 256 MiB"},
        {"/limits/idx/gzip-64MiB-allowed", 64u << 10, 0, VIT_OK, ""},
        {"/limits/idx/gzip-bad-crc", 16, 1, VIT_ERR_FORMAT,
         "t.idx.gz: corrupt gzip data: incorrect data check"},
    };
    for (size_t i = 0; i < sizeof gz / sizeof gz[0]; i++) {
        if (!idx_gzip(path, gz[i].rows, 1024, gz[i].flip_crc)) {
            test_check(0, "%s: cannot write %s", gz[i].check, path);
            continue;
        }
        expect(gz[i].check, case_idx, path, gz[i].want, gz[i].msg);
    }
    unlink(path);
}

static void test_threads(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/models/tiny-p4-f16/model.safetensors", fixtures);
    vit_model *m = NULL;
    vit_error err = {0};
    if (vit_model_load(path, &m, &err) != VIT_OK) {
        test_check(0, "/limits/threads: %s", err.msg);
        return;
    }
    vit_session_opts o = vit_session_opts_default();
    o.threads = 1025;
    vit_session *s = NULL;
    vit_status st = vit_session_new(m, &o, &s, &err);
    test_check(st == VIT_ERR_ARG && !s && strstr(err.msg, "thread count 1025 is out of range"),
               "/limits/threads/session-1025 (%s)", err.msg);
    o.variant = VIT_VARIANT_INT8;
    o.threads = 257;
    st = vit_session_new(m, &o, &s, &err);
    test_check(st == VIT_ERR_LIMIT && !s && strstr(err.msg, "257 threads (at most 256)"),
               "/limits/threads/int8-pool-257 (%s)", err.msg);
    vit_session_free(s);
    vit_model_free(m);
}

int main(int argc, char **argv)
{
    fixtures = test_fixtures_dir(argc, argv, "test-limits", "");
    if (!fixtures)
        return 2;
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%s/vitlens-limits-XXXXXX", tmpdir);
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 2;
    }
    printf("# address space bounded per case: %s\n", UNDER_SANITIZER ? "no (sanitizer)" : "yes");
    test_images();
    test_safetensors();
    test_idx();
    test_threads();
    char p[300];
    snprintf(p, sizeof p, "%s/edge-16384x1.png", tmp);
    unlink(p);
    rmdir(tmp);
    return test_done();
}
