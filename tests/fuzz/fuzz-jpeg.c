/* fuzz-jpeg.c — libFuzzer harness: the input is a JPEG file (corpus tests/fuzz/corpus/fuzz-jpeg);
 * see fuzz-image.h. Both image harnesses run the same code; their corpora differ. */
#include "fuzz-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_image(data, size);
    return 0;
}
