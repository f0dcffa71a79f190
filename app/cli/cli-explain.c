/* cli-explain.c — what `classify --explain` and `eval --explain` show of a session's attention
 * rollout (vit_session_rollout): the grid as JSON, the heat map over the photo as PNG, and the
 * Pearson correlation of two grids. */
#include "cli-explain.h"
#include "vitlens-heatmap.h"

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
    const float alpha = 0.55f;
    VitlensHeatmap map;
    vitlens_heatmap_init(&map, grid, gh, gw, cfg->image_size, &g, photo->width, photo->height);
    for (int32_t y = 0; y < photo->height; y++) {
        const uint8_t *src = photo->data + (size_t)y * photo->stride;
        uint8_t *dst = out.data + (size_t)y * out.stride;
        for (int32_t x = 0; x < photo->width; x++) {
            const uint8_t *p = src + (size_t)x * bpp;
            float rgb[3];
            if (photo->format == VIT_PIXEL_GRAY8)
                rgb[0] = rgb[1] = rgb[2] = p[0];
            else if (photo->format == VIT_PIXEL_BGRA8 || photo->format == VIT_PIXEL_BGRX8)
                rgb[0] = p[2], rgb[1] = p[1], rgb[2] = p[0];
            else
                rgb[0] = p[0], rgb[1] = p[1], rgb[2] = p[2];
            const float v = vitlens_heatmap_value(&map, (float)x + 0.5f, (float)y + 0.5f);
            float o[3];
            if (v >= 0.0f) {
                float heat[3];
                vitlens_heatmap_colour(v, heat);
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
