/* fuzz-vitl.c — libFuzzer harness: the input is a .vitl lite model file, loaded the way a user
 * loads it (vit_model_load on a path: magic, then one read and checks) and run when it loads.
 *
 * A .vitl carries a header CRC and a checksum per tensor, which would stop almost every mutation
 * at the first check. So each input is tried twice: as it is, and with the tensor checksums and
 * then the header CRC recomputed over what the table now says, which lets the fuzzer reach the
 * table, shape and binding checks behind them. The checksum below is a copy of vit_lite_checksum() in
 * engine/vit-lite.c (static there); if the two ever differ, only the second try loses depth. */
#include "fuzz-common.h"

#include "../../engine/vit-impl.h"
#include "../../engine/vit-quant.h"

#include <unistd.h>

static char path[64];
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fd = fuzz_scratch_file("fuzz-vitl", path, sizeof path);
    return 0;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Bytes of a Linear's packed int8 weights (vit-lite.c's packed_bytes). */
static uint64_t packed_bytes(uint64_t n, uint64_t k, uint64_t vec, uint64_t panel)
{
    if (vec == 0 || panel == 0)
        return n * k;
    const uint64_t pw = vec * panel, kg = (k + 3) / 4, full = n / pw, rem = n % pw;
    return (full * pw + (rem + vec - 1) / vec * vec) * kg * 4;
}

static void try_load(const uint8_t *data, size_t size)
{
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    vit_model *m = NULL;
    vit_error err;
    if (vit_model_load(path, &m, &err) == VIT_OK) {
        fuzz_exercise_model(m);
        vit_model_free(m);
    } else if (m != NULL || err.msg[0] == '\0') {
        abort();
    }
}

/* Recompute every checksum the table's entries allow, then the header CRC. */
static void fix_checksums(uint8_t *d, size_t size)
{
    uint32_t n = rd32(d + 40);
    uint64_t vec = rd32(d + 28), panel = rd32(d + 32);
    if (n > 4096 || 256 + (uint64_t)n * 64 > size || vec > 64 || panel > 64)
        return;
    for (uint32_t k = 0; k < n; k++) {
        uint8_t *e = d + 256 + (size_t)k * 64;
        uint32_t dt = rd32(e + 32);
        uint64_t rows = rd32(e + 36), cols = rd32(e + 40), off = rd64(e + 48);
        uint64_t bytes = rows * cols * (dt == 1 || dt == 3 ? 1 : 4);
        size_t nl = strnlen((const char *)e, 32);
        if (dt == 1 && nl >= 2 && memcmp(e + nl - 2, ".w", 2) == 0)
            bytes = packed_bytes(rows, cols, vec, panel);
        if (off <= size && bytes <= size - off) {
            uint64_t s = vit_lite_checksum(d + off, (size_t)bytes);
            for (int i = 0; i < 8; i++)
                e[56 + i] = (uint8_t)(s >> (8 * i));
        }
    }
    wr32(d + 8, vit_crc32(d + 12, 256 + (size_t)n * 64 - 12));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_load(data, size);
    if (size < 256 || memcmp(data, "VITL", 4) != 0)
        return 0;
    uint8_t *copy = malloc(size);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    fix_checksums(copy, size);
    if (memcmp(copy, data, size) != 0)
        try_load(copy, size);
    free(copy);
    return 0;
}
