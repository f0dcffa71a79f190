/* cli-dataset.h — labelled image sets for `vitlens-cli eval`: Fashion-MNIST's IDX files (gzip
 * through zlib) and ImageNet-style folder trees. */
#ifndef VITLENS_CLI_DATASET_H
#define VITLENS_CLI_DATASET_H

#include "vit.h"

#include <stdint.h>

typedef struct {
    int32_t count;
    int32_t num_classes;
    /* IDX: all images in one block of count * rows * cols bytes */
    uint8_t *pixels;
    int32_t rows, cols;
    /* folders: one path per image */
    char **paths;
    int32_t *labels; /* (count) class index of each image */
    char name[256];
} cli_dataset;

/* spec: "fashion-mnist", "fashion-mnist:DIR" or "imagefolder:DIR". The model's labels map
 * folder names that are class names. On error prints a message and returns non-zero. */
int cli_dataset_open(const char *spec, const vit_model *model, cli_dataset *ds);
/* Image i as a vit_image (IDX images point into the set; folder images are decoded and must be
 * freed with vit_image_free — *owned says which). */
vit_status cli_dataset_image(const cli_dataset *ds, int32_t i, vit_image *img, int *owned,
                             vit_error *err);
void cli_dataset_close(cli_dataset *ds);

/* Read an IDX file (optionally gzip-compressed): magic, dims, data. Exposed for tests. */
int cli_idx_read(const char *path, int32_t *dims, int32_t *ndims, uint8_t **data, size_t *size,
                 char *err, size_t errlen);

#endif
