/* fuzz-labels.c — libFuzzer harness: the input is a labels text (one class name a line), given
 * to vit_model_set_labels on a small model with 3 classes, then every label is read back. */
#include "fuzz-common.h"

static vit_model *model;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    size_t size;
    uint8_t *st = fuzz_synth_model(64, 3, 4, 2, 1, 64, 3, &size);
    vit_error err;
    if (vit_model_load_memory(st, size, NULL, "labels-host.safetensors", &model, &err) != VIT_OK) {
        fprintf(stderr, "fuzz-labels: cannot make the host model: %s\n", err.msg);
        abort();
    }
    free(st);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    vit_error err;
    int32_t before = vit_model_num_labels(model);
    if (vit_model_set_labels(model, text, &err) == VIT_OK) {
        if (vit_model_num_labels(model) != vit_model_get_info(model)->num_classes)
            abort();
    } else if (err.msg[0] == '\0' || vit_model_num_labels(model) != before) {
        abort(); /* a refused text must leave the old labels in place */
    }
    for (int32_t i = 0; i < vit_model_num_labels(model); i++) {
        const char *l = vit_model_label(model, i);
        if (!l || strchr(l, '\n'))
            abort();
    }
    free(text);
    return 0;
}
