/* vitlens-data.h — data compiled into the binaries: the default model and the ImageNet labels.
 * Embedding (rather than installing data files) means the CLI and the app find their model with
 * no flags, from the build tree and after `meson install`, and nothing can be half-installed. */
#ifndef VITLENS_DATA_H
#define VITLENS_DATA_H

#include <stddef.h>

#include "vit.h"

/* The ImageNet-1k class names, one per line, in index order (NUL-terminated). */
const char *vitlens_data_imagenet_labels(void);

/* The embedded default model (safetensors bytes) and its config.json text; NULL / 0 when this
 * build has none. */
const unsigned char *vitlens_data_model(size_t *size);
const char *vitlens_data_model_config(void);
/* A short name for messages and the UI. */
const char *vitlens_data_model_name(void);

/* Load the model at `path`, or the embedded one when path is NULL (VIT_ERR_UNSUPPORTED when this
 * build has none), the way the app and vitlens-cli all do: a model with 1000 classes and no
 * labels of its own is an ImageNet model and gets the ImageNet labels, before any session can
 * share it. */
vit_status vitlens_data_load_model(const char *path, vit_model **out, vit_error *err);

#endif
