/* fuzz-idx.c — libFuzzer harness: the input is an IDX file (plain or gzip), as vitlens-cli eval
 * reads Fashion-MNIST. cli_idx_read takes a path, so the input is written to a private temp
 * file first. */
#include "../../app/cli/cli-dataset.h"
#include "fuzz-common.h"

#include <stdarg.h>
#include <unistd.h>

/* cli-dataset.c reports through cli_error (cli-common.c, which brings the embedded model in);
 * the harness needs none of that. */
void cli_error(const char *fmt, ...)
{
    (void)fmt;
}

static char path[64];
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fd = fuzz_scratch_file("fuzz-idx", path, sizeof path);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    int32_t dims[4], nd = 0;
    uint8_t *out = NULL;
    size_t n = 0;
    char err[256] = "";
    if (cli_idx_read(path, dims, &nd, &out, &n, err, sizeof err) == 0) {
        uint64_t total = 1;
        for (int i = 0; i < nd; i++)
            total *= (uint64_t)dims[i];
        if (!out || n != total || nd < 1 || nd > 4)
            abort();
        unsigned s = 0;
        for (size_t i = 0; i < n; i++)
            s += out[i];
        (void)s;
        free(out);
    } else if (out != NULL || err[0] == '\0') {
        abort();
    }
    return 0;
}
