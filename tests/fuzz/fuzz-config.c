/* fuzz-config.c — libFuzzer harness: the input is a config.json, given with a small valid
 * model (embed dim 64, 3×8×8 input, patch 4, one block, 3 classes) to vit_model_load_memory. */
#include "fuzz-common.h"

static uint8_t *model;
static size_t model_size;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    model = fuzz_synth_model(64, 3, 4, 2, 1, 64, 3, &model_size);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *config = fuzz_cstring(data, size);
    vit_model *m = NULL;
    vit_error err;
    if (vit_model_load_memory(model, model_size, config, "model.safetensors", &m, &err) ==
        VIT_OK) {
        /* the preprocessing the config asked for must work on an image */
        const vit_model_info *info = vit_model_get_info(m);
        vit_image img;
        if (vit_image_new(13, 9, VIT_PIXEL_RGB8, &img, &err) == VIT_OK) {
            size_t n = (size_t)info->pre.channels * info->pre.image_size * info->pre.image_size;
            float *x = malloc(n * sizeof *x);
            if (!x)
                abort();
            vit_preprocess(&img, &info->pre, x, &err);
            free(x);
            vit_image_free(&img);
        }
        fuzz_exercise_model(m);
        vit_model_free(m);
    } else if (m != NULL || err.msg[0] == '\0') {
        abort();
    }
    free(config);
    return 0;
}
