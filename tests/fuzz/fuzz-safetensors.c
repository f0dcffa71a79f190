/* fuzz-safetensors.c — libFuzzer harness: the input is a model.safetensors file. Parses the
 * header and tensor table, builds the model without a config and with a fixed config (so embed
 * dims that are not multiples of 64 get through to the build), and runs what loads. */
#include "fuzz-common.h"

/* Heads from the config; nothing that contradicts the tensors. */
static const char fuzz_config[] =
    "{\"architecture\": \"fuzz\", \"model_args\": {\"num_heads\": 2}, "
    "\"pretrained_cfg\": {\"crop_pct\": 0.9, \"interpolation\": \"bilinear\", "
    "\"mean\": [0.5], \"std\": [0.25]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int with_config = 0; with_config < 2; with_config++) {
        vit_model *m = NULL;
        vit_error err;
        if (vit_model_load_memory(data, size, with_config ? fuzz_config : NULL,
                                  "fuzz.safetensors", &m, &err) == VIT_OK) {
            fuzz_exercise_model(m);
            vit_model_free(m);
        } else if (m != NULL || err.msg[0] == '\0') {
            abort(); /* a failure must leave no model and say why */
        }
    }
    return 0;
}
