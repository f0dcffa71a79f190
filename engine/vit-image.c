/* vit-image.c — images in, model input out: PNG and JPEG decoding (libpng, libjpeg-turbo), EXIF
 * orientation, PIL-exact resizing, torchvision's center crop, normalization, and PNG saving.
 *
 * The aim is bit-exactness with the Python pipeline the models are trained and evaluated with
 * (PIL 9.4, torchvision 0.14):
 *
 *     img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")      # or "L"
 *     x = Normalize(mean, std)(ToTensor()(CenterCrop(crop)(Resize(size, interp)(img))))
 *
 * Each step below names the PIL / torchvision code it reproduces; where we deliberately differ
 * (16-bit gray PNGs, PNG IDAT CRCs) the comment says so.
 */
#include "vit-impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

/* We read whole files into memory (one decode path for files and pasted buffers). A 100
 * megapixel PNG is at most a few hundred MB; anything beyond this is not a photo. */
#define VIT_IMAGE_MAX_FILE_BYTES (1024LL * 1024 * 1024)

/* ---------------------------------------------------------------------------------------------
 * Basic image objects */

int vit_pixel_format_bytes(vit_pixel_format format)
{
    switch (format) {
    case VIT_PIXEL_RGB8: return 3;
    case VIT_PIXEL_RGBA8:
    case VIT_PIXEL_RGBX8:
    case VIT_PIXEL_BGRA8:
    case VIT_PIXEL_BGRX8: return 4;
    case VIT_PIXEL_GRAY8: return 1;
    }
    return 0;
}

/* The size limits, checked before any pixel buffer is allocated. */
static vit_status check_limits(const char *name, int64_t width, int64_t height, vit_error *err)
{
    if (width <= 0 || height <= 0)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: image has zero width or height (%lld×%lld)",
                        name, (long long)width, (long long)height);
    if (width > VIT_IMAGE_MAX_SIDE || height > VIT_IMAGE_MAX_SIDE ||
        width * height > VIT_IMAGE_MAX_PIXELS)
        return vit_fail(err, VIT_ERR_LIMIT,
                        "%s: image is %lld×%lld pixels; the limit is %d a side and %lld megapixels",
                        name, (long long)width, (long long)height, VIT_IMAGE_MAX_SIDE,
                        VIT_IMAGE_MAX_PIXELS / 1000000);
    return VIT_OK;
}

/* Allocate an owned image (uninitialized pixels); the limits must have been checked. */
static vit_status image_alloc(int32_t width, int32_t height, vit_pixel_format format,
                              const char *name, vit_image *out, vit_error *err)
{
    size_t stride = (size_t)width * (size_t)vit_pixel_format_bytes(format);
    size_t bytes;
    if (!vit_mul_size(stride, (size_t)height, &bytes))
        return vit_fail(err, VIT_ERR_LIMIT, "%s: image is too large", name);
    uint8_t *data = vit_alloc(bytes);
    if (!data)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory for a %d×%d image", name, width,
                        height);
    out->width = width;
    out->height = height;
    out->stride = (int32_t)stride;
    out->format = format;
    out->data = data;
    return VIT_OK;
}

vit_status vit_image_new(int32_t width, int32_t height, vit_pixel_format format, vit_image *out,
                         vit_error *err)
{
    if (!out)
        return vit_fail(err, VIT_ERR_ARG, "vit_image_new: out is NULL");
    memset(out, 0, sizeof *out);
    if (vit_pixel_format_bytes(format) == 0)
        return vit_fail(err, VIT_ERR_ARG, "vit_image_new: unknown pixel format %d", (int)format);
    if (width <= 0 || height <= 0)
        return vit_fail(err, VIT_ERR_ARG, "vit_image_new: size %d×%d is empty", width, height);
    vit_status st = check_limits("vit_image_new", width, height, err);
    if (st != VIT_OK)
        return st;
    st = image_alloc(width, height, format, "vit_image_new", out, err);
    if (st == VIT_OK)
        memset(out->data, 0, (size_t)out->stride * (size_t)height);
    return st;
}

void vit_image_free(vit_image *img)
{
    if (!img)
        return;
    vit_free(img->data);
    memset(img, 0, sizeof *img);
}

/* Validate a caller's image: non-NULL pixels, known format, a stride that holds a row. */
static vit_status check_image(const vit_image *img, const char *what, vit_error *err)
{
    if (!img || !img->data)
        return vit_fail(err, VIT_ERR_ARG, "%s: the image is NULL or has no pixels", what);
    int bpp = vit_pixel_format_bytes(img->format);
    if (bpp == 0)
        return vit_fail(err, VIT_ERR_ARG, "%s: unknown pixel format %d", what, (int)img->format);
    if (img->width <= 0 || img->height <= 0)
        return vit_fail(err, VIT_ERR_ARG, "%s: the image is %d×%d", what, img->width,
                        img->height);
    if ((int64_t)img->stride < (int64_t)img->width * bpp)
        return vit_fail(err, VIT_ERR_ARG, "%s: stride %d is less than a row of %d pixels", what,
                        img->stride, img->width);
    return VIT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * EXIF orientation: a TIFF block (in a JPEG's APP1 after "Exif\0\0", or a PNG's eXIf chunk),
 * IFD0 tag 0x0112. Everything is bounds checked; a malformed block means "no orientation" (PIL
 * would sometimes raise instead). */

static uint32_t exif_u16(const uint8_t *p, bool be)
{
    return be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t exif_u32(const uint8_t *p, bool be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Orientation 2..8 from an EXIF TIFF block, or 0 for none. Read the way PIL 9.4 reads it
 * (Image.Exif / TiffImagePlugin.ImageFileDirectory_v2.load), so that the same files turn:
 *  - IFD0 entries are read in order until one does not fit; an entry whose out-of-line data
 *    lies outside the block ends the walk too (PIL's read raises and keeps what it had);
 *  - entries of unknown type or with count 0 are skipped; a repeated tag replaces the earlier;
 *  - Orientation (0x0112) takes the first value; integer, rational and float values equal to
 *    2..8 match PIL's dict lookup, BYTE/ASCII/UNDEFINED ones never do (bytes or str in PIL).
 * Where PIL raises instead (a header that is not TIFF), we simply ignore the block. */
static int exif_orientation(const uint8_t *t, size_t n)
{
    if (n < 8)
        return 0;
    bool be;
    if (memcmp(t, "II\x2a\0", 4) == 0 || memcmp(t, "II\0\x2a", 4) == 0)
        be = false;
    else if (memcmp(t, "MM\0\x2a", 4) == 0 || memcmp(t, "MM\x2a\0", 4) == 0)
        be = true;
    else
        return 0;
    const size_t ifd = exif_u32(t + 4, be);
    if (ifd > n || n - ifd < 2)
        return 0;
    const uint32_t count = exif_u16(t + ifd, be);
    /* Bytes per value of each TIFF type PIL knows (0: unknown, the entry is skipped). */
    static const uint8_t unit[17] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8};
    int orientation = 0;
    for (uint32_t i = 0; i < count; i++) {
        const size_t e = ifd + 2 + (size_t)i * 12;
        if (e > n || n - e < 12)
            break;
        const uint32_t tag = exif_u16(t + e, be), type = exif_u16(t + e + 2, be);
        const uint64_t cnt = exif_u32(t + e + 4, be);
        if (type > 16 || unit[type] == 0)
            continue;
        const uint64_t size = cnt * unit[type];
        size_t at = e + 8;
        if (size > 4) {
            at = exif_u32(t + e + 8, be);
            if (at > n || n - at < size)
                break;
        }
        if (size == 0 || tag != 0x0112)
            continue;
        const uint8_t *v = t + at;
        int64_t value = 0;
        switch (type) {
        case 3: value = exif_u16(v, be); break;                       /* SHORT */
        case 4: case 13: value = exif_u32(v, be); break;              /* LONG, IFD */
        case 6: value = (int8_t)v[0]; break;                          /* SBYTE */
        case 8: value = (int16_t)exif_u16(v, be); break;              /* SSHORT */
        case 9: value = (int32_t)exif_u32(v, be); break;              /* SLONG */
        case 16: {                                                    /* LONG8 */
            /* unsigned: a high word >= 2^31 shifted as int64_t overflowed (UB; found by
             * tests/fuzz/fuzz-png.c); only 2..8 can match anyway */
            const uint64_t u = be ? (uint64_t)exif_u32(v + 4, be) | (uint64_t)exif_u32(v, be) << 32
                                  : (uint64_t)exif_u32(v, be) | (uint64_t)exif_u32(v + 4, be) << 32;
            value = u <= 8 ? (int64_t)u : 0;
            break;
        }
        case 5: case 10: {                                            /* (S)RATIONAL */
            int64_t num = type == 5 ? (int64_t)exif_u32(v, be) : (int32_t)exif_u32(v, be);
            int64_t den = type == 5 ? (int64_t)exif_u32(v + 4, be) : (int32_t)exif_u32(v + 4, be);
            value = den != 0 && num % den == 0 ? num / den : 0;
            break;
        }
        case 11: {                                                    /* FLOAT */
            uint32_t bits = exif_u32(v, be);
            float f;
            memcpy(&f, &bits, 4);
            value = f >= 2 && f <= 8 && f == (float)(int)f ? (int)f : 0;
            break;
        }
        case 12: {                                                    /* DOUBLE */
            uint64_t bits = be ? (uint64_t)exif_u32(v, be) << 32 | exif_u32(v + 4, be)
                               : (uint64_t)exif_u32(v + 4, be) << 32 | exif_u32(v, be);
            double f;
            memcpy(&f, &bits, 8);
            value = f >= 2 && f <= 8 && f == (double)(int)f ? (int)f : 0;
            break;
        }
        default: value = 0; break; /* BYTE, ASCII, UNDEFINED: bytes or str in PIL */
        }
        orientation = value >= 2 && value <= 8 ? (int)value : 0;
    }
    return orientation;
}

/* ImageOps.exif_transpose, applied while decoding: decoded pixel (x, y) of a W×H image goes to
 * byte base + x * dx + y * dy of the output (row stride `os`, the width being H for 5..8).
 * 2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270 (clockwise 90),
 * 7 TRANSVERSE, 8 ROTATE_90 (counter-clockwise 90). */
typedef struct {
    int64_t base, dx, dy;
} placement;

static placement orientation_placement(int orientation, int64_t W, int64_t H)
{
    const int64_t os = (orientation >= 5 ? H : W) * 3;
    switch (orientation) {
    case 2: return (placement){(W - 1) * 3, -3, os};                 /* (W-1-x, y) */
    case 3: return (placement){(H - 1) * os + (W - 1) * 3, -3, -os}; /* (W-1-x, H-1-y) */
    case 4: return (placement){(H - 1) * os, 3, -os};                /* (x, H-1-y) */
    case 5: return (placement){0, os, 3};                            /* (y, x) */
    case 6: return (placement){(H - 1) * 3, os, -3};                 /* (H-1-y, x) */
    case 7: return (placement){(W - 1) * os + (H - 1) * 3, -os, -3}; /* (H-1-y, W-1-x) */
    case 8: return (placement){(W - 1) * os, -os, 3};                /* (y, W-1-x) */
    default: return (placement){0, 3, os};                           /* as decoded */
    }
}

/* Rows decoded (or moved) per step when they must be converted or placed: enough to fill
 * cache lines of a rotated output, few enough to stay in cache. */
#define JPEG_BAND 16

/* Place rows [y0, y0 + n) of RGB8 `band` (n, W, 3) into `out`. */
static void place_band(const uint8_t *band, int32_t n, int32_t y0, int32_t W, placement p,
                       uint8_t *out)
{
    if (p.dx == 3 || p.dx == -3) {
        for (int32_t r = 0; r < n; r++) {
            const uint8_t *s = band + (size_t)r * W * 3;
            uint8_t *d = out + p.base + (int64_t)(y0 + r) * p.dy;
            if (p.dx == 3) {
                memcpy(d, s, (size_t)W * 3);
            } else {
                for (int32_t x = 0; x < W; x++, d -= 3)
                    memcpy(d, s + 3 * x, 3);
            }
        }
        return;
    }
    /* Rotations and transpositions: a band of rows becomes a band of columns; along x the
     * band's n pixels land side by side in one output row. */
    for (int32_t x = 0; x < W; x++) {
        uint8_t *d = out + p.base + (int64_t)x * p.dx + (int64_t)y0 * p.dy;
        for (int32_t r = 0; r < n; r++, d += p.dy)
            memcpy(d, band + ((size_t)r * W + x) * 3, 3);
    }
}

/* ---------------------------------------------------------------------------------------------
 * PNG decoding (libpng's progressive reader). Errors longjmp out of libpng into
 * png_decode_inner; every resource lives in the png_ctx so the one cleanup path frees it.
 *
 * Why progressive: PIL decodes a PNG as a stream and succeeds as soon as it has every row;
 * a file cut after the last row's data (missing the end of the zlib stream, the last IDAT's
 * CRC, IEND) still opens, and PIL never checks IDAT CRCs or the chunks after the image. The
 * sequential reader would read ahead into that tail and fail. So our rule is PIL's: success
 * if and only if every row was decoded before the data ran out or an error occurred. */

typedef struct {
    const char *name;
    vit_error *err;
    vit_status status; /* set when a callback fails for a reason of ours (limits, memory) */
    uint32_t width, height;
    bool interlaced;
    char msg[192];
    jmp_buf jmp;
    png_structp png;
    png_infop info;
    uint8_t *pixels; /* (height, width, 3) the result */
} png_ctx;

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    longjmp(c->jmp, 1);
}

/* libpng's default warning handler prints; the engine never prints. */
static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void png_on_info(png_structp png, png_infop info)
{
    png_ctx *c = png_get_progressive_ptr(png);
    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    c->status = check_limits(c->name, w, h, c->err);
    if (c->status != VIT_OK)
        png_error(png, "over the size limits");
    c->width = w;
    c->height = h;
    c->interlaced = interlace != PNG_INTERLACE_NONE;

    /* Transformations to RGB8 that give PIL's convert("RGB") pixels:
     *  - 16-bit: PIL's "RGB;16B"/"RGBA;16B"/"LA;16B" unpackers keep the high byte, which is
     *    png_set_strip_16 (not png_set_scale_16, which rounds).
     *    16-bit GRAY deliberately differs: PIL opens it as mode "I" and convert("RGB") clips
     *    the 16-bit value to 255, so every pixel above 255/65535 turns white. We keep the high
     *    byte, the only reading that shows the picture.
     *  - 1/2/4-bit gray is scaled to 0..255 (PIL's "1", "L;2", "L;4" unpackers do the same).
     *  - palettes are expanded; alpha (also a palette's tRNS alpha) is dropped without
     *    compositing, as convert("RGB") does; gray is replicated. No gamma is applied. */
    if (depth == 16)
        png_set_strip_16(png);
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        /* Indices past the end of a short PLTE: libpng gives black, PIL's palette (which
         * starts as a gray ramp) gives (i, i, i). Extend the palette the PIL way. */
        png_colorp pal = NULL;
        int n = 0;
        const int full_n = 1 << (depth < 8 ? depth : 8);
        if (png_get_PLTE(png, info, &pal, &n) == PNG_INFO_PLTE && n >= 0 && n < full_n) {
            png_color full[256];
            memcpy(full, pal, sizeof *full * (size_t)n);
            for (int i = n; i < full_n; i++)
                full[i].red = full[i].green = full[i].blue = (png_byte)i;
            png_set_PLTE(png, info, full, full_n);
        }
        png_set_palette_to_rgb(png);
    }
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if ((ctype & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_strip_alpha(png);
    if (!(ctype & PNG_COLOR_MASK_COLOR))
        png_set_gray_to_rgb(png);
    if (c->interlaced)
        png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_bit_depth(png, info) != 8 || png_get_channels(png, info) != 3 ||
        png_get_rowbytes(png, info) != (size_t)w * 3) {
        c->status = vit_fail(c->err, VIT_ERR_UNSUPPORTED, "%s: PNG pixel layout not supported",
                             c->name);
        png_error(png, "unsupported layout");
    }
    size_t bytes = (size_t)w * h * 3;
    c->pixels = vit_alloc(bytes);
    if (!c->pixels) {
        c->status = vit_fail(c->err, VIT_ERR_NOMEM, "%s: out of memory for a %u×%u image",
                             c->name, (unsigned)w, (unsigned)h);
        png_error(png, "out of memory");
    }
    /* Interlaced passes fill the rows piecewise; start from a defined state. */
    if (c->interlaced)
        memset(c->pixels, 0, bytes);
}

static void png_on_row(png_structp png, png_bytep row, png_uint_32 y, int pass)
{
    (void)pass;
    png_ctx *c = png_get_progressive_ptr(png);
    if (row && y < c->height)
        png_progressive_combine_row(png, c->pixels + (size_t)y * c->width * 3, row);
}

/* Every row delivered: the last row of the last Adam7 pass, or of the image. libpng's
 * counters stop there (pass 7 after the last pass; row number == height otherwise). */
static bool png_rows_complete(png_ctx *c)
{
    if (!c->pixels)
        return false;
    if (c->interlaced)
        return png_get_current_pass_number(c->png) >= 7;
    return png_get_current_row_number(c->png) >= c->height;
}

/* ImageOps.exif_transpose applies a PNG's eXIf chunk too, before or after the image data
 * (PIL reads the chunks after IDAT when asked for EXIF; the last eXIf wins). libpng's
 * progressive reader does not keep eXIf, so we walk the chunks ourselves. */
static int png_exif_orientation(const uint8_t *data, size_t size)
{
    const uint8_t *exif = NULL;
    size_t exif_len = 0;
    for (size_t pos = 8; pos <= size && size - pos >= 12;) {
        const uint8_t *p = data + pos;
        const size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if (len > size - pos - 12)
            break;
        if (memcmp(p + 4, "eXIf", 4) == 0) {
            exif = p + 8;
            exif_len = len;
        } else if (memcmp(p + 4, "IEND", 4) == 0) {
            break;
        }
        pos += 12 + len;
    }
    return exif ? exif_orientation(exif, exif_len) : 0;
}

/* Hand a decoder's RGB8 pixels (*pixels, width x height) to the caller's image. */
static void give_rgb8(vit_image *out, int32_t width, int32_t height, uint8_t **pixels)
{
    out->width = width;
    out->height = height;
    out->stride = width * 3;
    out->format = VIT_PIXEL_RGB8;
    out->data = *pixels;
    *pixels = NULL;
}

static vit_status png_decode_inner(png_ctx *c, const uint8_t *data, size_t size, vit_image *out,
                                   vit_error *err)
{
    /* Read the IHDR size ourselves first: libpng rejects huge sizes with its own message and
     * status, and we want the limit error for every oversized image. */
    if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        const uint8_t *p = data + 16;
        uint32_t w = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        uint32_t h = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
        vit_status st = check_limits(c->name, w, h, err);
        if (st != VIT_OK)
            return st;
    }

    c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, png_on_error, png_on_warning);
    if (!c->png)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", c->name);
    c->info = png_create_info_struct(c->png);
    if (!c->info)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", c->name);

    if (setjmp(c->jmp)) {
        if (c->status != VIT_OK)
            return c->status;
        if (png_rows_complete(c))
            goto done; /* an error in what follows the pixels: PIL never reads that far */
        return vit_fail(err, VIT_ERR_FORMAT, "%s: corrupt PNG: %s", c->name, c->msg);
    }
    /* PIL refuses a PNG whose chunks before the image data have a bad CRC, ancillary or not;
     * libpng by default only warns for ancillary chunks. One deliberate difference: libpng
     * also checks IDAT CRCs, which PIL skips, so an IDAT damaged before the last row is
     * refused here where PIL may decode damaged pixels. */
    png_set_crc_action(c->png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    png_set_progressive_read_fn(c->png, c, png_on_info, png_on_row, NULL);
    png_process_data(c->png, c->info, (png_bytep)data, size);
    if (!png_rows_complete(c))
        return vit_fail(err, VIT_ERR_FORMAT, "%s: truncated PNG file", c->name);
done:;
    const int orientation = png_exif_orientation(data, size);
    if (orientation >= 2) {
        const bool swap = orientation >= 5;
        uint8_t *rotated = vit_alloc((size_t)c->width * c->height * 3);
        if (!rotated)
            return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory for a %u×%u image", c->name,
                            (unsigned)c->width, (unsigned)c->height);
        const placement place = orientation_placement(orientation, c->width, c->height);
        for (uint32_t y0 = 0; y0 < c->height; y0 += JPEG_BAND) {
            const uint32_t n = c->height - y0 < JPEG_BAND ? c->height - y0 : JPEG_BAND;
            place_band(c->pixels + (size_t)y0 * c->width * 3, (int32_t)n, (int32_t)y0,
                       (int32_t)c->width, place, rotated);
        }
        vit_free(c->pixels);
        c->pixels = rotated;
        if (swap) {
            uint32_t t = c->width;
            c->width = c->height;
            c->height = t;
        }
    }
    give_rgb8(out, (int32_t)c->width, (int32_t)c->height, &c->pixels);
    return VIT_OK;
}

static vit_status png_decode(const uint8_t *data, size_t size, const char *name, vit_image *out,
                             vit_error *err)
{
    png_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", name);
    c->name = name;
    c->err = err;
    vit_status st = png_decode_inner(c, data, size, out, err);
    if (c->png)
        png_destroy_read_struct(&c->png, c->info ? &c->info : NULL, NULL);
    vit_free(c->pixels);
    free(c);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * JPEG decoding (libjpeg-turbo, the library PIL itself uses, with the same default settings:
 * islow DCT, fancy upsampling — so the pixels are identical). */

typedef struct {
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr jerr;
    struct jpeg_source_mgr src;
    const char *name;
    bool created, truncated;
    bool finishing, finish_eof; /* in jpeg_finish_decompress; it ran out of data there */
    int msg_code;
    char msg[JMSG_LENGTH_MAX];
    jmp_buf jmp;
    struct jpeg_progress_mgr progress;
    bool too_many_scans; /* the progress monitor stopped it at VIT_IMAGE_MAX_JPEG_SCANS */
    int orientation;     /* EXIF, 0 or 1 for none */
    uint8_t *pixels;     /* (height, width, 3) the result, oriented */
    uint8_t *band;   /* (JPEG_BAND, width, components) decoded rows */
    uint8_t *rgb;    /* (JPEG_BAND, width, 3) the band as RGB, when it is not already */
} jpeg_ctx;


/* libjpeg's default error_exit calls exit(); ours returns to jpeg_decode_inner. */
static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_ctx *c = cinfo->client_data;
    c->msg_code = cinfo->err->msg_code;
    cinfo->err->format_message(cinfo, c->msg);
    longjmp(c->jmp, 1);
}

/* Warnings (corrupt entropy data and the like) are ignored, as PIL ignores them; printing
 * them is not the engine's business. */
static void jpeg_on_message(j_common_ptr cinfo)
{
    (void)cinfo;
}

/* Called between pieces of work while the scans are read. A scan can be a few bytes and each one
 * is a pass over the whole coefficient buffer, so a small file with thousands of scans would
 * decode for minutes; no encoder writes more than a few dozen (libjpeg's progressive script
 * has 10, TurboJPEG itself stops at 500). */
static void jpeg_on_progress(j_common_ptr cinfo)
{
    jpeg_ctx *c = cinfo->client_data;
    if (c->d.input_scan_number > VIT_IMAGE_MAX_JPEG_SCANS) {
        c->too_many_scans = true;
        longjmp(c->jmp, 1);
    }
}

static void jpeg_src_init(j_decompress_ptr d)
{
    (void)d;
}

/* The whole file is in the buffer from the start, so being asked for more means the file
 * ended early. libjpeg's own sources would warn and pad with gray; PIL raises "image file is
 * truncated", and so do we. */
static boolean jpeg_src_fill(j_decompress_ptr d)
{
    jpeg_ctx *c = d->client_data;
    if (c->finishing)
        c->finish_eof = true;
    else
        c->truncated = true;
    ERREXIT(d, JERR_INPUT_EOF);
    return FALSE;
}

static void jpeg_src_skip(j_decompress_ptr d, long n)
{
    if (n <= 0)
        return;
    if ((unsigned long)n > d->src->bytes_in_buffer) {
        jpeg_src_fill(d);
        return;
    }
    d->src->next_input_byte += n;
    d->src->bytes_in_buffer -= (size_t)n;
}

static void jpeg_src_term(j_decompress_ptr d)
{
    (void)d;
}

static vit_status jpeg_decode_inner(jpeg_ctx *c, const uint8_t *data, size_t size,
                                    vit_image *out, vit_error *err)
{
    c->d.err = jpeg_std_error(&c->jerr);
    c->jerr.error_exit = jpeg_on_error;
    c->jerr.output_message = jpeg_on_message;
    if (setjmp(c->jmp)) {
        if (c->finish_eof)
            goto done;
        if (c->too_many_scans)
            return vit_fail(err, VIT_ERR_LIMIT, "%s: JPEG has more than %d scans; the limit is %d",
                            c->name, VIT_IMAGE_MAX_JPEG_SCANS, VIT_IMAGE_MAX_JPEG_SCANS);
        if (c->truncated)
            return vit_fail(err, VIT_ERR_FORMAT, "%s: truncated JPEG file", c->name);
        switch (c->msg_code) {
        case JERR_NO_BACKING_STORE:
            /* What max_memory_to_use below turns a too large coefficient buffer into. */
            return vit_fail(err, VIT_ERR_LIMIT,
                            "%s: decoding this %u×%u JPEG needs more than %lld MB of memory; the "
                            "limit is %lld MB",
                            c->name, (unsigned)c->d.image_width, (unsigned)c->d.image_height,
                            VIT_IMAGE_MAX_JPEG_MEMORY >> 20, VIT_IMAGE_MAX_JPEG_MEMORY >> 20);
        case JERR_IMAGE_TOO_BIG: {
            /* Over libjpeg's own 65500 limit: the SOF size has been read; report ours. */
            vit_status st = check_limits(c->name, c->d.image_width, c->d.image_height, err);
            return st != VIT_OK ? st : vit_fail(err, VIT_ERR_LIMIT, "%s: %s", c->name, c->msg);
        }
        case JERR_OUT_OF_MEMORY:
            return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory decoding the JPEG", c->name);
        case JERR_BAD_PRECISION:
        case JERR_NOT_COMPILED:
        case JERR_CONVERSION_NOTIMPL:
            return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: unsupported JPEG: %s", c->name,
                            c->msg);
        default:
            return vit_fail(err, VIT_ERR_FORMAT, "%s: corrupt JPEG: %s", c->name, c->msg);
        }
    }
    jpeg_create_decompress(&c->d);
    c->created = true;
    c->d.client_data = c;
    /* Progressive and multi-scan JPEGs keep every coefficient (2 bytes per sample, 4 samples a
     * pixel for CMYK) in "virtual arrays" for the whole decode; libjpeg caps those at
     * max_memory_to_use and, having no backing store, fails instead of allocating more. */
    c->d.mem->max_memory_to_use = VIT_IMAGE_MAX_JPEG_MEMORY;
    c->progress.progress_monitor = jpeg_on_progress;
    c->d.progress = &c->progress;
    c->src.next_input_byte = data;
    c->src.bytes_in_buffer = size;
    c->src.init_source = jpeg_src_init;
    c->src.fill_input_buffer = jpeg_src_fill;
    c->src.skip_input_data = jpeg_src_skip;
    c->src.resync_to_restart = jpeg_resync_to_restart;
    c->src.term_source = jpeg_src_term;
    c->d.src = &c->src;
    jpeg_save_markers(&c->d, JPEG_APP0 + 1, 0xFFFF);

    if (jpeg_read_header(&c->d, TRUE) != JPEG_HEADER_OK)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: JPEG has tables but no image", c->name);
    vit_status st = check_limits(c->name, c->d.image_width, c->d.image_height, err);
    if (st != VIT_OK)
        return st;
    /* PIL maps 1/3/4 components to L/RGB/CMYK and refuses anything else. */
    int comps = c->d.num_components;
    if (comps == 1)
        c->d.out_color_space = JCS_GRAYSCALE;
    else if (comps == 3)
        c->d.out_color_space = JCS_RGB;
    else if (comps == 4)
        c->d.out_color_space = JCS_CMYK; /* libjpeg turns YCCK into CMYK */
    else
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: JPEG with %d color components", c->name,
                        comps);

    /* PIL takes the first APP1 starting with "Exif\0", and reads a TIFF block after
     * "Exif\0\0" (when the sixth byte is not 0 it raises; we ignore the block). */
    for (jpeg_saved_marker_ptr m = c->d.marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 5 &&
            memcmp(m->data, "Exif\0", 5) == 0) {
            if (m->data_length >= 6 && m->data[5] == 0)
                c->orientation = exif_orientation(m->data + 6, m->data_length - 6);
            break;
        }
    }

    jpeg_start_decompress(&c->d);
    const uint32_t w = c->d.output_width, h = c->d.output_height;
    if (c->d.output_components != comps || w != c->d.image_width || h != c->d.image_height)
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: unexpected JPEG output layout", c->name);
    c->pixels = vit_alloc((size_t)w * h * 3);
    /* RGB as decoded goes straight into place; everything else through the band. */
    const bool direct = comps == 3 && c->orientation <= 1;
    if (!direct) {
        c->band = malloc((size_t)JPEG_BAND * w * comps);
        c->rgb = comps == 3 ? c->band : malloc((size_t)JPEG_BAND * w * 3);
    }
    if (!c->pixels || (!direct && (!c->band || !c->rgb)))
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory for a %u×%u image", c->name,
                        (unsigned)w, (unsigned)h);
    const placement place = orientation_placement(c->orientation, w, h);
    while (c->d.output_scanline < h) {
        const uint32_t y0 = c->d.output_scanline;
        /* Our source never suspends (it fails at the end of the data), so 0 rows would be a
         * libjpeg surprise; fail rather than spin. */
        if (direct) {
            JSAMPROW row = c->pixels + (size_t)y0 * w * 3;
            if (jpeg_read_scanlines(&c->d, &row, 1) != 1)
                return vit_fail(err, VIT_ERR_FORMAT, "%s: truncated JPEG file", c->name);
            continue;
        }
        JSAMPROW rows[JPEG_BAND];
        const uint32_t n = h - y0 < JPEG_BAND ? h - y0 : JPEG_BAND;
        for (uint32_t r = 0; r < n; r++)
            rows[r] = c->band + (size_t)r * w * comps;
        for (uint32_t got = 0, k; got < n; got += k)
            if ((k = jpeg_read_scanlines(&c->d, rows + got, n - got)) == 0)
                return vit_fail(err, VIT_ERR_FORMAT, "%s: truncated JPEG file", c->name);
        const size_t count = (size_t)n * w;
        if (comps == 1) {
            for (size_t i = 0; i < count; i++)
                c->rgb[3 * i] = c->rgb[3 * i + 1] = c->rgb[3 * i + 2] = c->band[i];
        } else if (comps == 4) {
            /* PIL reads every 4-component JPEG as Adobe-inverted CMYK ("CMYK;I") and converts
             * with Convert.c's cmyk2rgb: nk = 255 - k, out = nk - muldiv255(v, nk). The
             * inversion makes nk the stored K byte and v = 255 - stored byte. */
            for (size_t i = 0; i < count; i++) {
                const uint8_t *p = c->band + 4 * i;
                const int nk = p[3];
                for (int ch = 0; ch < 3; ch++) {
                    int t = (255 - p[ch]) * nk + 128;
                    int v = nk - (((t >> 8) + t) >> 8);
                    c->rgb[3 * i + ch] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
            }
        }
        place_band(c->rgb, (int32_t)n, (int32_t)y0, (int32_t)w, place, c->pixels);
    }
    /* Read on to EOI as PIL does: an error there (a corrupt marker after the scan) fails the
     * image in PIL too. Running out of data there does not: PIL's decoder simply suspends
     * once every row is out, so a missing EOI after complete data is accepted. */
    c->finishing = true;
    jpeg_finish_decompress(&c->d);
done:;
    const bool swap = c->orientation >= 5;
    give_rgb8(out, (int32_t)(swap ? c->d.output_height : c->d.output_width),
              (int32_t)(swap ? c->d.output_width : c->d.output_height), &c->pixels);
    return VIT_OK;
}

static vit_status jpeg_decode(const uint8_t *data, size_t size, const char *name, vit_image *out,
                              vit_error *err)
{
    jpeg_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", name);
    c->name = name;
    vit_status st = jpeg_decode_inner(c, data, size, out, err);
    if (c->created)
        jpeg_destroy_decompress(&c->d);
    vit_free(c->pixels);
    if (c->rgb != c->band)
        free(c->rgb);
    free(c->band);
    free(c);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * Loading */

static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
static const uint8_t jpeg_magic[3] = {0xFF, 0xD8, 0xFF};

/* 1 when the first bytes (size of them, or 8 when there are more) begin a PNG or a JPEG, or are
 * a prefix of one's magic (a file cut short, not some other format). */
static bool looks_like_image(const uint8_t *data, size_t size)
{
    return memcmp(data, png_magic, size < 8 ? size : 8) == 0 ||
           memcmp(data, jpeg_magic, size < 3 ? size : 3) == 0;
}

static vit_status decode_any(const uint8_t *data, size_t size, const char *name, vit_image *out,
                             vit_error *err)
{
    if (size == 0)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: empty file", name);
    /* The kind is told by the magic bytes, never by the name. */
    if (!looks_like_image(data, size))
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: not a PNG or JPEG image", name);
    if (memcmp(data, png_magic, size < 8 ? size : 8) == 0)
        return size < 8 ? vit_fail(err, VIT_ERR_FORMAT, "%s: truncated PNG file", name)
                        : png_decode(data, size, name, out, err);
    return size < 3 ? vit_fail(err, VIT_ERR_FORMAT, "%s: truncated JPEG file", name)
                    : jpeg_decode(data, size, name, out, err);
}

vit_status vit_image_load_memory(const void *data, size_t size, const char *name, vit_image *out,
                                 vit_error *err)
{
    const char *base = name ? vit_basename(name) : "(memory)";
    if (!out)
        return vit_fail(err, VIT_ERR_ARG, "%s: out is NULL", base);
    memset(out, 0, sizeof *out);
    if (!data && size > 0)
        return vit_fail(err, VIT_ERR_ARG, "%s: data is NULL", base);
    return decode_any(data, size, base, out, err);
}

static vit_status read_whole_file(const char *path, const char *name, uint8_t **data,
                                  size_t *size, vit_error *err)
{
    /* stat first so directories, FIFOs and devices are refused without being opened (opening a
     * FIFO would block); fstat again after open in case the path changed in between. */
    struct stat st;
    if (stat(path, &st) != 0)
        return vit_fail(err, VIT_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return vit_fail(err, VIT_ERR_IO, "%s: is a directory, not an image file", name);
    if (!S_ISREG(st.st_mode))
        return vit_fail(err, VIT_ERR_IO, "%s: not a regular file", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return vit_fail(err, VIT_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return vit_fail(err, VIT_ERR_IO, "%s: not a regular file", name);
    }
    if (st.st_size == 0) {
        close(fd);
        return vit_fail(err, VIT_ERR_FORMAT, "%s: empty file", name);
    }
    if (st.st_size > VIT_IMAGE_MAX_FILE_BYTES) {
        close(fd);
        return vit_fail(err, VIT_ERR_LIMIT, "%s: file is %lld bytes; the limit is %lld", name,
                        (long long)st.st_size, VIT_IMAGE_MAX_FILE_BYTES);
    }
    /* The magic bytes first: a large file that is no image costs 8 bytes, not its size. */
    uint8_t head[8];
    ssize_t nhead;
    do
        nhead = pread(fd, head, sizeof head, 0);
    while (nhead < 0 && errno == EINTR);
    if (nhead > 0 && !looks_like_image(head, (size_t)nhead)) {
        close(fd);
        return vit_fail(err, VIT_ERR_UNSUPPORTED, "%s: not a PNG or JPEG image", name);
    }
    size_t cap = (size_t)st.st_size;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory for %zu bytes", name, cap);
    }
    size_t got = 0;
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return vit_fail(err, VIT_ERR_IO, "%s: read error: %s", name, strerror(e));
        }
        if (r == 0)
            break; /* the file shrank since fstat: decode what is there */
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *size = got;
    return VIT_OK;
}

vit_status vit_image_load(const char *path, vit_image *out, vit_error *err)
{
    const char *name = vit_basename(path);
    if (!out)
        return vit_fail(err, VIT_ERR_ARG, "%s: out is NULL", name);
    memset(out, 0, sizeof *out);
    if (!path)
        return vit_fail(err, VIT_ERR_ARG, "vit_image_load: path is NULL");
    uint8_t *data = NULL;
    size_t size = 0;
    vit_status st = read_whole_file(path, name, &data, &size, err);
    if (st != VIT_OK)
        return st;
    st = decode_any(data, size, name, out, err);
    free(data);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * PNG saving */

typedef struct {
    jmp_buf jmp;
    char msg[192];
    vit_output *out;
    png_structp png;
    png_infop info;
    uint8_t *row; /* one converted row for formats PNG has no layout for */
} png_write_ctx;

static void png_write_on_error(png_structp png, png_const_charp msg)
{
    png_write_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    longjmp(c->jmp, 1);
}

/* Bytes per pixel in the PNG: GRAY8 → gray, RGBA8/BGRA8 → RGBA, the rest → RGB. */
static int png_save_bpp(vit_pixel_format f)
{
    return f == VIT_PIXEL_GRAY8 ? 1 : f == VIT_PIXEL_RGBA8 || f == VIT_PIXEL_BGRA8 ? 4 : 3;
}

/* Formats PNG stores as they are; the others go through c->row. */
static bool png_save_direct(vit_pixel_format f)
{
    return f == VIT_PIXEL_GRAY8 || f == VIT_PIXEL_RGB8 || f == VIT_PIXEL_RGBA8;
}

static void png_save_rows(png_write_ctx *c, const vit_image *img)
{
    const int out_bpp = png_save_bpp(img->format);
    const bool bgr = img->format == VIT_PIXEL_BGRA8 || img->format == VIT_PIXEL_BGRX8;
    for (int32_t y = 0; y < img->height; y++) {
        const uint8_t *s = img->data + (size_t)y * img->stride;
        if (!png_save_direct(img->format)) {
            for (int32_t x = 0; x < img->width; x++) {
                const uint8_t *p = s + 4 * x;
                uint8_t *d = c->row + (size_t)x * out_bpp;
                d[0] = bgr ? p[2] : p[0];
                d[1] = p[1];
                d[2] = bgr ? p[0] : p[2];
                if (out_bpp == 4)
                    d[3] = p[3];
            }
            s = c->row;
        }
        png_write_row(c->png, s);
    }
}

static vit_status png_save_inner(png_write_ctx *c, const vit_image *img, const char *path,
                                 const char *name, vit_error *err)
{
    if (!png_save_direct(img->format) &&
        !(c->row = malloc((size_t)img->width * png_save_bpp(img->format))))
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", name);
    vit_status st = vit_output_open(path, &c->out, err);
    if (st != VIT_OK)
        return st;
    c->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, c, png_write_on_error,
                                     png_on_warning);
    if (!c->png)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", name);
    c->info = png_create_info_struct(c->png);
    if (!c->info)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", name);
    if (setjmp(c->jmp))
        return vit_fail(err, VIT_ERR_IO, "%s: cannot write PNG: %s", name, c->msg);
    png_init_io(c->png, vit_output_stream(c->out));
    png_set_IHDR(c->png, c->info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 png_save_bpp(img->format) == 1   ? PNG_COLOR_TYPE_GRAY
                 : png_save_bpp(img->format) == 4 ? PNG_COLOR_TYPE_RGB_ALPHA
                                                  : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(c->png, c->info);
    png_save_rows(c, img);
    png_write_end(c->png, NULL);
    return VIT_OK;
}

vit_status vit_image_save_png(const vit_image *img, const char *path, vit_error *err)
{
    const char *name = vit_basename(path);
    if (!path)
        return vit_fail(err, VIT_ERR_ARG, "vit_image_save_png: path is NULL");
    vit_status st = check_image(img, name, err);
    if (st != VIT_OK)
        return st;
    png_write_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", name);
    st = png_save_inner(c, img, path, name, err);
    if (c->png)
        png_destroy_write_struct(&c->png, c->info ? &c->info : NULL);
    if (st == VIT_OK)
        st = vit_output_commit(c->out, err); /* a full disk shows up here */
    else
        vit_output_abort(c->out); /* the old file, if any, stays as it was */
    free(c->row);
    free(c);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * PIL-exact resampling (Pillow 9.4, src/libImaging/Resample.c), 8-bit path.
 *
 * Separable: a horizontal pass into a uint8 intermediate holding only the rows the vertical
 * pass reads, then a vertical pass; a pass whose size does not change is skipped. Per output
 * pixel the filter (support scaled by the downscale factor: antialiasing) is sampled, the
 * weights normalized to sum 1 in double, then rounded to fixed point with PRECISION_BITS = 22
 * fractional bits; sums start at 1 << 21 and are clipped after >> 22.
 *
 * Every output pixel only depends on its own coefficient row, so we compute only the output
 * pixels the center crop keeps: the result is identical to resizing everything and cropping.
 */

#define PRECISION_BITS (32 - 8 - 2)
#define ROUND_HALF (1 << (PRECISION_BITS - 1))

static inline uint8_t clip8(int32_t v)
{
    v >>= PRECISION_BITS; /* arithmetic shift, as PIL's clip8 lookup table index */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static double filter_bilinear(double x)
{
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return 1.0 - x;
    return 0.0;
}

static double filter_bicubic(double x)
{
    /* Keys' cubic convolution with a = -0.5, written exactly as PIL writes it so that the
     * double arithmetic rounds the same way. */
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

typedef struct {
    int32_t ksize;   /* coefficient row length (max taps) */
    int32_t count;   /* output pixels described */
    int32_t *bounds; /* (count, 2) first input index, number of taps */
    int32_t *k;      /* (count, ksize) fixed-point weights */
} resample_coeffs;

static void coeffs_free(resample_coeffs *rc)
{
    free(rc->bounds);
    free(rc->k);
    memset(rc, 0, sizeof *rc);
}

/* PIL's precompute_coeffs + normalize_coeffs_8bpc for output pixels [first, first + count) of
 * a resize from in_size to out_size. */
static bool coeffs_build(int32_t in_size, int32_t out_size, int32_t first, int32_t count,
                         vit_interp interp, resample_coeffs *rc)
{
    double (*filter)(double) = interp == VIT_INTERP_BILINEAR ? filter_bilinear : filter_bicubic;
    const double fsupport = interp == VIT_INTERP_BILINEAR ? 1.0 : 2.0;
    /* PIL's box is float; (float)in_size is exact for sizes this small. */
    double scale = (double)(float)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = fsupport * filterscale;
    int32_t ksize = (int32_t)ceil(support) * 2 + 1;
    memset(rc, 0, sizeof *rc);
    rc->ksize = ksize;
    rc->count = count;
    rc->bounds = malloc(sizeof *rc->bounds * 2 * (size_t)count);
    rc->k = calloc((size_t)count * (size_t)ksize, sizeof *rc->k);
    double *w = malloc(sizeof *w * (size_t)ksize);
    if (!rc->bounds || !rc->k || !w) {
        free(w);
        coeffs_free(rc);
        return false;
    }
    const double ss = 1.0 / filterscale;
    for (int32_t i = 0; i < count; i++) {
        int32_t xx = first + i;
        double center = (xx + 0.5) * scale;
        int32_t xmin = (int32_t)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int32_t xmax = (int32_t)(center + support + 0.5);
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        if (xmax < 0)
            xmax = 0;
        double ww = 0.0;
        for (int32_t x = 0; x < xmax; x++) {
            w[x] = filter((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        int32_t *k = rc->k + (size_t)i * ksize;
        for (int32_t x = 0; x < xmax; x++) {
            double v = ww != 0.0 ? w[x] / ww : w[x];
            k[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << PRECISION_BITS))
                         : (int32_t)(0.5 + v * (1 << PRECISION_BITS));
        }
        rc->bounds[2 * i] = xmin;
        rc->bounds[2 * i + 1] = xmax;
    }
    free(w);
    return true;
}

/* The hot loops. Integer arithmetic is exact, so the summation order is free: we vectorize
 * across lanes (pixels × channels) with fixed lane counts the compiler unrolls into SIMD, and
 * build an AVX2 clone beside the baseline one where the compiler can dispatch at load time
 * (SSE2 has no 32-bit multiply). */
#ifndef VIT_HOT
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define VIT_HOT __attribute__((target_clones("avx2", "default")))
#else
#define VIT_HOT
#endif
#endif

/* Horizontal pass on a strip of rows stored transposed: T is (span, HLANES) where lane
 * r*C + c holds channel c of row r. res (n_out, HLANES) gets the filtered lanes. */
#define HLANES 48

VIT_HOT static void hpass_strip(const uint8_t *T, int32_t xlo, const resample_coeffs *rc,
                                uint8_t *res)
{
    for (int32_t i = 0; i < rc->count; i++) {
        const int32_t *k = rc->k + (size_t)i * rc->ksize;
        const int32_t n = rc->bounds[2 * i + 1];
        const uint8_t *p = T + (size_t)(rc->bounds[2 * i] - xlo) * HLANES;
        int32_t acc[HLANES];
        for (int j = 0; j < HLANES; j++)
            acc[j] = ROUND_HALF;
        for (int32_t t = 0; t < n; t++) {
            const int32_t kt = k[t];
            const uint8_t *q = p + (size_t)t * HLANES;
            for (int j = 0; j < HLANES; j++)
                acc[j] += q[j] * kt;
        }
        uint8_t *o = res + (size_t)i * HLANES;
        for (int j = 0; j < HLANES; j++)
            o[j] = clip8(acc[j]);
    }
}

/* Vertical pass for one output row: out[i] = clip8(1<<21 + sum_t rows[t][i] * k[t]). */
#define VLANES 64

VIT_HOT static void vpass_row(const uint8_t *in, size_t in_stride, int32_t n, const int32_t *k,
                              int32_t len, uint8_t *out)
{
    int32_t i = 0;
    for (; i + VLANES <= len; i += VLANES) {
        int32_t acc[VLANES];
        for (int j = 0; j < VLANES; j++)
            acc[j] = ROUND_HALF;
        for (int32_t t = 0; t < n; t++) {
            const uint8_t *q = in + (size_t)t * in_stride + i;
            const int32_t kt = k[t];
            for (int j = 0; j < VLANES; j++)
                acc[j] += q[j] * kt;
        }
        for (int j = 0; j < VLANES; j++)
            out[i + j] = clip8(acc[j]);
    }
    for (; i < len; i++) {
        int32_t acc = ROUND_HALF;
        for (int32_t t = 0; t < n; t++)
            acc += in[(size_t)t * in_stride + i] * k[t];
        out[i] = clip8(acc);
    }
}

/* The horizontal pass for rows [0, rows) of src: dst row r, pixel i, channel c =
 * filter of src row r around output column rc's pixel i. C is 1 or 3. */
static bool hpass(const uint8_t *src, size_t sstride, int C, int32_t rows,
                  const resample_coeffs *rc, uint8_t *dst, size_t dstride)
{
    const int R = HLANES / C; /* rows per strip */
    const int32_t xlo = rc->bounds[0];
    const int32_t last = rc->count - 1;
    const int32_t span = rc->bounds[2 * last] + rc->bounds[2 * last + 1] - xlo;
    uint8_t *T = malloc((size_t)(span > 0 ? span : 1) * HLANES);
    uint8_t *res = malloc((size_t)rc->count * HLANES);
    if (!T || !res) {
        free(T);
        free(res);
        return false;
    }
    for (int32_t r0 = 0; r0 < rows; r0 += R) {
        const int nr = rows - r0 < R ? (int)(rows - r0) : R;
        /* Transpose the strip in; lanes of missing rows (the last strip) are zero. */
        if (nr < R)
            memset(T, 0, (size_t)(span > 0 ? span : 1) * HLANES);
        const uint8_t *rowp[HLANES];
        for (int r = 0; r < nr; r++)
            rowp[r] = src + (size_t)(r0 + r) * sstride + (size_t)xlo * C;
        if (C == 3) {
            /* One 4-byte copy per pixel: its 4th byte lands in lane r+1, written next, or in
             * the next column's lane 0, written after. The last column copies 3 bytes, so
             * no read passes the end of a row. */
            uint8_t *t = T;
            int32_t x = 0;
            if (nr == HLANES / 3) { /* full strips: a fixed count the compiler unrolls */
                for (; x + 1 < span; x++, t += HLANES)
                    for (int r = 0; r < HLANES / 3; r++)
                        memcpy(t + 3 * r, rowp[r] + 3 * x, 4);
            } else {
                for (; x + 1 < span; x++, t += HLANES)
                    for (int r = 0; r < nr; r++)
                        memcpy(t + 3 * r, rowp[r] + 3 * x, 4);
            }
            for (int r = 0; r < nr && span > 0; r++)
                memcpy(t + 3 * r, rowp[r] + 3 * x, 3);
        } else {
            uint8_t *t = T;
            for (int32_t x = 0; x < span; x++, t += HLANES)
                for (int r = 0; r < nr; r++)
                    t[r] = rowp[r][x];
        }
        hpass_strip(T, xlo, rc, res);
        /* Transpose the results out. */
        for (int r = 0; r < nr; r++) {
            uint8_t *d = dst + (size_t)(r0 + r) * dstride;
            const uint8_t *q = res + (size_t)r * C;
            if (C == 3) {
                for (int32_t i = 0; i < rc->count; i++, d += 3, q += HLANES) {
                    d[0] = q[0];
                    d[1] = q[1];
                    d[2] = q[2];
                }
            } else {
                for (int32_t i = 0; i < rc->count; i++, q += HLANES)
                    d[i] = *q;
            }
        }
    }
    free(T);
    free(res);
    return true;
}

/* PIL's NEAREST resize: ImagingScaleAffine with a = in/out scale, sampling positions
 * accumulated in double from 0.5 * a exactly as PIL steps them (the accumulated rounding can
 * matter), pixels mapping outside the source left zero. */
static void nearest_table(int32_t in_size, int32_t out_size, int32_t first, int32_t count,
                          int32_t *tab)
{
    const double a = (double)(float)in_size / out_size;
    double pos = a * 0.5;
    for (int32_t x = 0; x < first + count; x++) {
        int32_t v = pos < 0.0 ? -1 : (int32_t)pos;
        if (x >= first)
            tab[x - first] = v >= 0 && v < in_size ? v : -1;
        pos += a;
    }
}

/* Resize src (sw×sh, C channels) to nw×nh and write the window [wx, wx+ww) × [wy, wy+wh) of
 * the result at dst (dst must be zeroed for NEAREST's out-of-source pixels). */
static vit_status resize_window(const uint8_t *src, size_t sstride, int C, int32_t sw,
                                int32_t sh, int32_t nw, int32_t nh, int32_t wx, int32_t wy,
                                int32_t ww, int32_t wh, vit_interp interp, uint8_t *dst,
                                size_t dstride, const char *name, vit_error *err)
{
    if (ww <= 0 || wh <= 0)
        return VIT_OK;
    if (nw == sw && nh == sh) {
        /* Same size: torchvision returns the image untouched. */
        for (int32_t y = 0; y < wh; y++)
            memcpy(dst + (size_t)y * dstride, src + (size_t)(wy + y) * sstride + (size_t)wx * C,
                   (size_t)ww * C);
        return VIT_OK;
    }
    if (interp == VIT_INTERP_NEAREST) {
        int32_t *xt = malloc(sizeof *xt * (size_t)ww), *yt = malloc(sizeof *yt * (size_t)wh);
        if (!xt || !yt) {
            free(xt);
            free(yt);
            return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory resizing", name);
        }
        nearest_table(sw, nw, wx, ww, xt);
        nearest_table(sh, nh, wy, wh, yt);
        for (int32_t y = 0; y < wh; y++) {
            if (yt[y] < 0)
                continue;
            const uint8_t *s = src + (size_t)yt[y] * sstride;
            uint8_t *d = dst + (size_t)y * dstride;
            for (int32_t x = 0; x < ww; x++)
                if (xt[x] >= 0)
                    memcpy(d + (size_t)x * C, s + (size_t)xt[x] * C, (size_t)C);
        }
        free(xt);
        free(yt);
        return VIT_OK;
    }

    const bool need_h = nw != sw, need_v = nh != sh;
    resample_coeffs rh = {0}, rv = {0};
    uint8_t *mid = NULL;
    vit_status st = VIT_OK;
    int32_t yfirst = wy, ylast = wy + wh; /* the source rows the horizontal pass must make */
    if (need_v) {
        if (!coeffs_build(sh, nh, wy, wh, interp, &rv))
            goto nomem;
        yfirst = rv.bounds[0];
        ylast = rv.bounds[2 * (wh - 1)] + rv.bounds[2 * (wh - 1) + 1];
    }
    const uint8_t *vsrc = src + (size_t)wx * C; /* what the vertical pass reads */
    size_t vstride = sstride;
    int32_t vshift = 0; /* row index of vsrc's first row in source coordinates */
    if (need_h) {
        if (!coeffs_build(sw, nw, wx, ww, interp, &rh))
            goto nomem;
        if (!need_v) {
            /* Only the horizontal pass: write straight into the output. */
            if (!hpass(src + (size_t)wy * sstride, sstride, C, wh, &rh, dst, dstride))
                goto nomem;
            goto done;
        }
        size_t mstride = (size_t)ww * C;
        mid = malloc(mstride * (size_t)(ylast - yfirst > 0 ? ylast - yfirst : 1));
        if (!mid)
            goto nomem;
        if (!hpass(src + (size_t)yfirst * sstride, sstride, C, ylast - yfirst, &rh, mid,
                   mstride))
            goto nomem;
        vsrc = mid;
        vstride = mstride;
        vshift = yfirst;
    }
    for (int32_t y = 0; y < wh; y++) {
        const int32_t ymin = rv.bounds[2 * y], n = rv.bounds[2 * y + 1];
        vpass_row(vsrc + (size_t)(ymin - vshift) * vstride, vstride, n,
                  rv.k + (size_t)y * rv.ksize, ww * C, dst + (size_t)y * dstride);
    }
    goto done;
nomem:
    st = vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory resizing", name);
done:
    coeffs_free(&rh);
    coeffs_free(&rv);
    free(mid);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * Preprocessing */

vit_preprocess_cfg vit_preprocess_cfg_default(void)
{
    vit_preprocess_cfg cfg = {
        .image_size = 224,
        .resize_size = 256,
        .channels = 3,
        .interp = VIT_INTERP_BICUBIC,
        .mean = {0.485f, 0.456f, 0.406f},
        .std = {0.229f, 0.224f, 0.225f},
    };
    return cfg;
}

/* Pixels of `in` as packed C-channel bytes: RGB, or PIL's convert("L") luma
 * L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16 (ITU-R 601-2 in 16-bit fixed point), or
 * gray replicated (convert("RGB") of an "L" image). */
static void convert_row(const uint8_t *s, vit_pixel_format f, int32_t w, int C, uint8_t *d)
{
    if (f == VIT_PIXEL_GRAY8) {
        if (C == 1)
            memcpy(d, s, (size_t)w);
        else
            for (int32_t x = 0; x < w; x++)
                d[3 * x] = d[3 * x + 1] = d[3 * x + 2] = s[x];
        return;
    }
    const int bpp = vit_pixel_format_bytes(f);
    const bool bgr = f == VIT_PIXEL_BGRA8 || f == VIT_PIXEL_BGRX8;
    const int ri = bgr ? 2 : 0, bi = bgr ? 0 : 2;
    if (C == 3) {
        for (int32_t x = 0; x < w; x++, s += bpp) {
            d[3 * x] = s[ri];
            d[3 * x + 1] = s[1];
            d[3 * x + 2] = s[bi];
        }
    } else {
        for (int32_t x = 0; x < w; x++, s += bpp)
            d[x] = (uint8_t)((s[ri] * 19595u + s[1] * 38470u + s[bi] * 7471u + 0x8000u) >> 16);
    }
}

/* torchvision CenterCrop along one axis of length `size`: where the crop's pixels come from
 * in the resized image (src), where they go in the crop (dst), how many there are (len).
 * Larger crops pad (crop - size) // 2 before; otherwise the offset is
 * int(round((size - crop) / 2.0)), and Python rounds halves to even. */
static void center_crop_axis(int32_t size, int32_t crop, int floor_offset, int32_t *src,
                             int32_t *dst, int32_t *len)
{
    if (crop > size) {
        *src = 0;
        *dst = (crop - size) / 2;
        *len = size;
        return;
    }
    int32_t d = size - crop, off = d / 2;
    if ((d & 1) && (off & 1) && !floor_offset)
        off++; /* d/2 = off + 0.5 rounds to the even neighbour (transformers: (d // 2)) */
    *src = off;
    *dst = 0;
    *len = crop;
}

static vit_status check_cfg(const vit_preprocess_cfg *cfg, vit_error *err)
{
    return vit_preprocess_cfg_check(cfg, "preprocess", err);
}

/* The size a w × h image is resized to before the crop. torchvision
 * _compute_resized_output_size: the shorter side becomes resize_size, the longer
 * int(resize_size * long / short) — a correctly rounded double quotient of exact integers,
 * truncated, the same in C as in Python; transformers: a fixed size, whatever the aspect. */
static vit_status resize_size(int32_t w, int32_t h, const vit_preprocess_cfg *cfg, int32_t *nw,
                              int32_t *nh, vit_error *err)
{
    const int64_t shorter = w <= h ? w : h, longer = w <= h ? h : w;
    const int64_t new_long =
        (int64_t)((double)((int64_t)cfg->resize_size * longer) / (double)shorter);
    const int fixed = cfg->resize_width > 0 && cfg->resize_height > 0;
    if (new_long > INT32_MAX / 4 && !fixed)
        return vit_fail(err, VIT_ERR_LIMIT, "resize_crop: resizing %d×%d makes a side of %lld",
                        w, h, (long long)new_long);
    *nw = fixed ? cfg->resize_width : w <= h ? cfg->resize_size : (int32_t)new_long;
    *nh = fixed ? cfg->resize_height : w <= h ? (int32_t)new_long : cfg->resize_size;
    return VIT_OK;
}

vit_status vit_preprocess_geometry_for(const vit_preprocess_cfg *cfg, int32_t width,
                                       int32_t height, vit_preprocess_geometry *out,
                                       vit_error *err)
{
    if (!out)
        return vit_fail(err, VIT_ERR_ARG, "preprocess geometry: out is NULL");
    memset(out, 0, sizeof *out);
    vit_status st = check_cfg(cfg, err);
    if (st != VIT_OK)
        return st;
    if (width < 1 || height < 1 || width > VIT_IMAGE_MAX_SIDE || height > VIT_IMAGE_MAX_SIDE)
        return vit_fail(err, VIT_ERR_ARG, "preprocess geometry: bad image size %d×%d", width,
                        height);
    int32_t nw = 0, nh = 0;
    st = resize_size(width, height, cfg, &nw, &nh, err);
    if (st != VIT_OK)
        return st;
    const int fixed = cfg->resize_width > 0 && cfg->resize_height > 0;
    int32_t sx, dx, lx, sy, dy, ly;
    center_crop_axis(nw, cfg->image_size, fixed, &sx, &dx, &lx);
    center_crop_axis(nh, cfg->image_size, fixed, &sy, &dy, &ly);
    out->resized_w = nw;
    out->resized_h = nh;
    out->crop_x = sx - dx;
    out->crop_y = sy - dy;
    return VIT_OK;
}

vit_status vit_image_resize_crop(const vit_image *in, const vit_preprocess_cfg *cfg, vit_image *out,
                                 vit_error *err)
{
    if (!out)
        return vit_fail(err, VIT_ERR_ARG, "resize_crop: out is NULL");
    memset(out, 0, sizeof *out);
    vit_status st = check_image(in, "resize_crop", err);
    if (st == VIT_OK)
        st = check_cfg(cfg, err);
    if (st != VIT_OK)
        return st;
    const int C = cfg->channels;
    const int32_t w = in->width, h = in->height, S = cfg->image_size;

    /* The source as packed C-channel bytes; RGB8 / GRAY8 already are. */
    const uint8_t *src = in->data;
    size_t sstride = (size_t)in->stride;
    uint8_t *conv = NULL;
    if (!((in->format == VIT_PIXEL_RGB8 && C == 3) || (in->format == VIT_PIXEL_GRAY8 && C == 1))) {
        sstride = (size_t)w * C;
        conv = malloc(sstride * (size_t)h);
        if (!conv)
            return vit_fail(err, VIT_ERR_NOMEM, "resize_crop: out of memory for %d×%d", w, h);
        for (int32_t y = 0; y < h; y++)
            convert_row(in->data + (size_t)y * in->stride, in->format, w, C,
                        conv + (size_t)y * sstride);
        src = conv;
    }

    int32_t nw = 0, nh = 0;
    st = resize_size(w, h, cfg, &nw, &nh, err);
    if (st != VIT_OK) {
        free(conv);
        return st;
    }
    const int fixed = cfg->resize_width > 0 && cfg->resize_height > 0;
    int32_t sx, dx, lx, sy, dy, ly;
    center_crop_axis(nw, S, fixed, &sx, &dx, &lx);
    center_crop_axis(nh, S, fixed, &sy, &dy, &ly);

    st = vit_image_new(S, S, C == 3 ? VIT_PIXEL_RGB8 : VIT_PIXEL_GRAY8, out, err);
    if (st == VIT_OK) {
        st = resize_window(src, sstride, C, w, h, nw, nh, sx, sy, lx, ly, cfg->interp,
                           out->data + (size_t)dy * out->stride + (size_t)dx * C,
                           (size_t)out->stride, "resize_crop", err);
        if (st != VIT_OK)
            vit_image_free(out);
    }
    free(conv);
    return st;
}

vit_status vit_preprocess(const vit_image *in, const vit_preprocess_cfg *cfg, float *out,
                          vit_error *err)
{
    if (!out)
        return vit_fail(err, VIT_ERR_ARG, "preprocess: out is NULL");
    vit_status st = check_cfg(cfg, err);
    if (st != VIT_OK)
        return st;
    for (int c = 0; c < cfg->channels; c++)
        if (!(cfg->std[c] != 0.0f))
            return vit_fail(err, VIT_ERR_ARG, "preprocess: std[%d] is zero", c);
    vit_image crop;
    st = vit_image_resize_crop(in, cfg, &crop, err);
    if (st != VIT_OK)
        return st;
    /* ToTensor then Normalize, in float32 as torch computes them: (v / 255 - mean) / std,
     * each operation rounded to float. A table per channel holds the 256 possible values. */
    const int C = cfg->channels;
    const size_t plane = (size_t)crop.width * crop.height;
    for (int c = 0; c < C; c++) {
        float lut[256];
        for (int v = 0; v < 256; v++) {
            float x = (float)v / 255.0f;
            x = x - cfg->mean[c];
            lut[v] = x / cfg->std[c];
        }
        float *o = out + (size_t)c * plane;
        for (int32_t y = 0; y < crop.height; y++) {
            const uint8_t *s = crop.data + (size_t)y * crop.stride + c;
            for (int32_t x = 0; x < crop.width; x++)
                o[(size_t)y * crop.width + x] = lut[s[(size_t)x * C]];
        }
    }
    vit_image_free(&crop);
    return VIT_OK;
}
