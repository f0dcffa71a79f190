/* fuzz-vitq.c — libFuzzer harness: the input is a .vitq int8 model file, read by
 * vit_model_from_vitq (what vit_model_load does after mapping the file). The header checksum
 * would stop almost every mutation at the prelude, so each input is tried twice: as it is, and
 * with the checksum recomputed, which lets the fuzzer reach the safetensors body and the int8
 * layer loading behind it. */
#include "fuzz-common.h"

#include "../../engine/vit-impl.h"

static void try_load(const uint8_t *data, size_t size)
{
    vit_model *m = NULL;
    vit_error err;
    if (vit_model_from_vitq(data, size, "fuzz.vitq", 0, &m, &err) == VIT_OK) {
        fuzz_exercise_model(m);
        vit_model_free(m);
    } else if (m != NULL || err.msg[0] == '\0') {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_load(data, size);
    if (size < 24)
        return 0;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | data[16 + i];
    if (hlen > size - 24)
        return 0;
    uint8_t *copy = malloc(size);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    uint32_t crc = vit_crc32(copy + 16, 8 + (size_t)hlen);
    for (int i = 0; i < 4; i++)
        copy[8 + i] = (uint8_t)(crc >> (8 * i));
    if (memcmp(copy + 8, data + 8, 4) != 0)
        try_load(copy, size);
    free(copy);
    return 0;
}
