/* cli-explain.h — the attention rollout in vitlens-cli's output (classify --explain,
 * --explain-png; eval --explain). */
#ifndef VITLENS_CLI_EXPLAIN_H
#define VITLENS_CLI_EXPLAIN_H

#include "cli-common.h"

/* "rollout": {"grid": [gh, gw], "values": [...]} (row-major, max 1), a member of a JSON line */
void cli_explain_json(FILE *f, const float *grid, int32_t gh, int32_t gw);
/* The heat map over `photo`: the grid mapped back through cfg's resize and crop
 * (vit_preprocess_geometry_for), bilinear between cell centres, coloured (inferno) and blended
 * at 55% over the photo; outside the crop the photo dimmed. Written with vit_image_save_png;
 * 0, or -1 after printing the error. */
int cli_explain_png(const char *path, const vit_image *photo, const vit_preprocess_cfg *cfg,
                    const float *grid, int32_t gh, int32_t gw);
/* --explain-png FILE with several images: FILE with "-<image's stem>" before its extension
 * ("heat.png", "dir/wolf.jpg" -> "heat-wolf.png"); malloc'ed. */
char *cli_explain_png_path(const char *file, const char *image);
/* Pearson correlation of two series of n; NaN when either is constant. */
double cli_pearson(const float *a, const float *b, int32_t n);

#endif
