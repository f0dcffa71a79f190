/* fuzz-image.h — the body of the PNG and JPEG harnesses (fuzz-png.c, fuzz-jpeg.c): decode with
 * vit_image_load_memory, then resize/crop and preprocess the result with a small configuration
 * chosen by the input's last bytes (size, interpolation, channels).
 *
 * Images that declare more than FUZZ_MAX_PIXELS, 0.5 MP (but are within the 100 MP limit), are
 * skipped: decoding a legitimately huge image is slow under ASan and finds nothing new. Over-
 * limit declarations still go through, since refusing them is the engine's job. */
#ifndef VITLENS_FUZZ_IMAGE_H
#define VITLENS_FUZZ_IMAGE_H

#include "fuzz-common.h"

#define FUZZ_MAX_PIXELS (1LL << 19)

static int fuzz_big_but_legal(int64_t w, int64_t h)
{
    if (w > VIT_IMAGE_MAX_SIDE || h > VIT_IMAGE_MAX_SIDE)
        return 0;
    int64_t px = w * h;
    return px > FUZZ_MAX_PIXELS && px <= VIT_IMAGE_MAX_PIXELS;
}

static uint32_t be(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The size a PNG's IHDR or a JPEG's SOF markers declare is big but legal. */
static int fuzz_skip_image(const uint8_t *d, size_t n)
{
    if (n >= 24 && d[0] == 0x89 && memcmp(d + 12, "IHDR", 4) == 0)
        return fuzz_big_but_legal(be(d + 16, 4), be(d + 20, 4));
    if (n >= 4 && d[0] == 0xFF && d[1] == 0xD8) {
        for (size_t pos = 2; pos + 4 <= n;) {
            if (d[pos] != 0xFF) { /* libjpeg skips stray bytes before a marker; so do we */
                pos++;
                continue;
            }
            uint8_t mk = d[pos + 1];
            if (mk == 0xFF || mk == 0xD8 || mk == 0x01 || (mk >= 0xD0 && mk <= 0xD7)) {
                pos += mk == 0xFF ? 1 : 2;
                continue;
            }
            if (mk == 0xDA || mk == 0xD9)
                return 0;
            size_t len = be(d + pos + 2, 2);
            if (mk >= 0xC0 && mk <= 0xCF && mk != 0xC4 && mk != 0xC8 && mk != 0xCC &&
                pos + 9 <= n && fuzz_big_but_legal(be(d + pos + 7, 2), be(d + pos + 5, 2)))
                return 1;
            pos += 2 + len;
        }
    }
    return 0;
}

static void fuzz_image(const uint8_t *data, size_t size)
{
    if (fuzz_skip_image(data, size))
        return;
    vit_image img;
    vit_error err;
    vit_status st = vit_image_load_memory(data, size, "fuzz.img", &img, &err);
    if (st != VIT_OK) {
        if (img.data != NULL || err.msg[0] == '\0')
            abort();
        return;
    }
    if (img.width <= 0 || img.height <= 0 || img.stride < img.width * 3 ||
        img.format != VIT_PIXEL_RGB8)
        abort();
    /* touch every pixel: an uninitialized or short buffer shows under ASan/MSan */
    unsigned sum = 0;
    for (int32_t y = 0; y < img.height; y++)
        for (int32_t x = 0; x < img.width * 3; x++)
            sum += img.data[(size_t)y * img.stride + x];
    (void)sum;

    uint8_t t0 = size > 1 ? data[size - 1] : 0, t1 = size > 2 ? data[size - 2] : 0;
    vit_preprocess_cfg cfg = vit_preprocess_cfg_default();
    cfg.image_size = 1 + t0 % 24;
    cfg.resize_size = cfg.image_size + t1 % 9;
    cfg.interp = (vit_interp)((t0 >> 5) % 3);
    cfg.channels = (t1 & 0x80) ? 1 : 3;
    vit_image out;
    if (vit_image_resize_crop(&img, &cfg, &out, &err) == VIT_OK) {
        if (out.width != cfg.image_size || out.height != cfg.image_size)
            abort();
        vit_image_free(&out);
    }
    float *x = malloc(sizeof(float) * 3 * 24 * 24);
    if (!x)
        abort();
    vit_preprocess(&img, &cfg, x, &err);
    free(x);
    vit_image_free(&img);
}

#endif
