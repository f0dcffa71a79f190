/* cli-explain.c — what `classify --explain` and `eval --explain` show of a session's attention
 * rollout (vit_session_rollout): the grid as JSON, the heat map over the photo as PNG, and the
 * Pearson correlation of two grids. */
#include "cli-explain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cli_explain_json(FILE *f, const float *grid, int32_t gh, int32_t gw)
{
    fprintf(f, "\"rollout\": {\"grid\": [%d, %d], \"values\": [", gh, gw);
    for (int32_t k = 0; k < gh * gw; k++) {
        if (k)
            fputs(", ", f);
        cli_json_number(f, grid[k], 5);
    }
    fputs("]}", f);
}

/* The colour map (inferno's five stops, linear between them): v in [0, 1] -> RGB. */
static void colour(float v, float rgb[3])
{
    static const float stops[5][3] = {
        {0, 0, 4}, {87, 16, 110}, {188, 55, 84}, {249, 142, 9}, {252, 255, 164},
    };
    v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    float x = v * 4.0f;
    int i = x >= 4.0f ? 3 : (int)x;
    float t = x - (float)i;
    for (int c = 0; c < 3; c++)
        rgb[c] = stops[i][c] + t * (stops[i + 1][c] - stops[i][c]);
}

/* The grid at grid coordinates (gx, gy) (cell centres at integers), bilinear, edges clamped. */
static float sample(const float *grid, int32_t gh, int32_t gw, float gx, float gy)
{
    gx = gx < 0.0f ? 0.0f : gx > (float)(gw - 1) ? (float)(gw - 1) : gx;
    gy = gy < 0.0f ? 0.0f : gy > (float)(gh - 1) ? (float)(gh - 1) : gy;
    int32_t x0 = (int32_t)gx, y0 = (int32_t)gy;
    int32_t x1 = x0 + 1 < gw ? x0 + 1 : x0, y1 = y0 + 1 < gh ? y0 + 1 : y0;
    float tx = gx - (float)x0, ty = gy - (float)y0;
    float top = grid[y0 * gw + x0] + tx * (grid[y0 * gw + x1] - grid[y0 * gw + x0]);
    float bot = grid[y1 * gw + x0] + tx * (grid[y1 * gw + x1] - grid[y1 * gw + x0]);
    return top + ty * (bot - top);
}

int cli_explain_png(const char *path, const vit_image *photo, const vit_preprocess_cfg *cfg,
                    const float *grid, int32_t gh, int32_t gw)
{
    vit_error err = {0};
    vit_preprocess_geometry g;
    vit_image out = {0};
    if (vit_preprocess_geometry_for(cfg, photo->width, photo->height, &g, &err) != VIT_OK ||
        vit_image_new(photo->width, photo->height, VIT_PIXEL_RGB8, &out, &err) != VIT_OK) {
        cli_error("%s", err.msg);
        return -1;
    }
    const int bpp = vit_pixel_format_bytes(photo->format);
    const float S = (float)cfg->image_size, alpha = 0.55f;
    const float sx = (float)g.resized_w / (float)photo->width;
    const float sy = (float)g.resized_h / (float)photo->height;
    for (int32_t y = 0; y < photo->height; y++) {
        const uint8_t *src = photo->data + (size_t)y * photo->stride;
        uint8_t *dst = out.data + (size_t)y * out.stride;
        // v: the pixel centre's row in the model input
        const float v = ((float)y + 0.5f) * sy - (float)g.crop_y;
        for (int32_t x = 0; x < photo->width; x++) {
            const uint8_t *p = src + (size_t)x * bpp;
            float rgb[3];
            if (photo->format == VIT_PIXEL_GRAY8)
                rgb[0] = rgb[1] = rgb[2] = p[0];
            else if (photo->format == VIT_PIXEL_BGRA8 || photo->format == VIT_PIXEL_BGRX8)
                rgb[0] = p[2], rgb[1] = p[1], rgb[2] = p[0];
            else
                rgb[0] = p[0], rgb[1] = p[1], rgb[2] = p[2];
            const float u = ((float)x + 0.5f) * sx - (float)g.crop_x;
            float o[3];
            if (u >= 0.0f && u < S && v >= 0.0f && v < S) {
                // the patch grid over the crop: cell centres at ((i + 0.5) S / gw)
                float heat[3];
                colour(sample(grid, gh, gw, u * (float)gw / S - 0.5f, v * (float)gh / S - 0.5f),
                       heat);
                for (int c = 0; c < 3; c++)
                    o[c] = (1.0f - alpha) * rgb[c] + alpha * heat[c];
            } else {
                // outside the crop the model saw nothing: the photo, dimmed
                for (int c = 0; c < 3; c++)
                    o[c] = 0.35f * rgb[c];
            }
            for (int c = 0; c < 3; c++)
                dst[(size_t)x * 3 + c] = (uint8_t)(o[c] + 0.5f);
        }
    }
    int st = vit_image_save_png(&out, path, &err) == VIT_OK ? 0 : -1;
    if (st)
        cli_error("%s", err.msg);
    vit_image_free(&out);
    return st;
}

char *cli_explain_png_path(const char *file, const char *image)
{
    const char *base = strrchr(image, '/');
    base = base ? base + 1 : image;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    const char *fbase = strrchr(file, '/');
    fbase = fbase ? fbase + 1 : file;
    const char *fdot = strrchr(fbase, '.');
    size_t head = fdot && fdot != fbase ? (size_t)(fdot - file) : strlen(file);
    size_t n = strlen(file) + stem + 2;
    char *out = malloc(n);
    if (!out)
        return NULL;
    snprintf(out, n, "%.*s-%.*s%s", (int)head, file, (int)stem, base, file + head);
    return out;
}

double cli_pearson(const float *a, const float *b, int32_t n)
{
    double ma = 0, mb = 0;
    for (int32_t k = 0; k < n; k++)
        ma += a[k], mb += b[k];
    ma /= n, mb /= n;
    double sab = 0, saa = 0, sbb = 0;
    for (int32_t k = 0; k < n; k++) {
        double da = a[k] - ma, db = b[k] - mb;
        sab += da * db, saa += da * da, sbb += db * db;
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}
