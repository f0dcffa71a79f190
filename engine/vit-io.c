/* vit-io.c — what every model reader shares: the one read-only mmap of a file, CRC-32 for the
 * headers of our formats, and small text files (config.json, labels.txt). */
#include "vit-impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------
 * Mapping a file */

vit_status vit_map_file(const char *path, vit_mapped_file *out, vit_error *err)
{
    memset(out, 0, sizeof *out);
    const char *fname = vit_basename(path);
    /* Opened without blocking, and refused unless a regular file: opening a FIFO the plain way
     * waits for a writer, forever (found by tests/test-bad-inputs.sh). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return vit_fail(err, VIT_ERR_IO, "%s: cannot open: %s", fname, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return vit_fail(err, VIT_ERR_IO, "%s: not a regular file", fname);
    }
    size_t size = (size_t)sb.st_size;
    if (size == 0) {
        close(fd);
        return vit_fail(err, VIT_ERR_FORMAT, "%s: file is empty", fname);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int saved = errno;
    close(fd);
    if (map == MAP_FAILED)
        return vit_fail(err, VIT_ERR_IO, "%s: cannot map the file: %s", fname, strerror(saved));
    out->data = map;
    out->size = size;
    return VIT_OK;
}

void vit_unmap_file(vit_mapped_file *f)
{
    if (f && f->data)
        munmap((void *)f->data, f->size);
    if (f)
        memset(f, 0, sizeof *f);
}

/* ---------------------------------------------------------------------------------------------
 * CRC-32 (IEEE 802.3, reflected, as zlib's crc32) */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t vit_crc32_update(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = data;
    uint32_t c = crc ^ 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t vit_crc32(const void *data, size_t n)
{
    return vit_crc32_update(0, data, n);
}

/* ---------------------------------------------------------------------------------------------
 * Small files */

vit_status vit_read_small_file(const char *path, size_t limit, char **out, size_t *len,
                               vit_error *err)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return vit_fail(err, VIT_ERR_IO, "%s: cannot open: %s", vit_basename(path), strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return vit_fail(err, VIT_ERR_IO, "%s: not a regular file", vit_basename(path));
    if ((uint64_t)sb.st_size > limit)
        return vit_fail(err, VIT_ERR_LIMIT, "%s: file is %lld bytes; the limit is %zu",
                        vit_basename(path), (long long)sb.st_size, limit);
    FILE *f = fopen(path, "rb");
    if (!f)
        return vit_fail(err, VIT_ERR_IO, "%s: cannot open: %s", vit_basename(path), strerror(errno));
    char *buf = malloc((size_t)sb.st_size + 1);
    if (!buf) {
        fclose(f);
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", vit_basename(path));
    }
    size_t n = fread(buf, 1, (size_t)sb.st_size, f);
    fclose(f);
    if (n != (size_t)sb.st_size) {
        free(buf);
        return vit_fail(err, VIT_ERR_IO, "%s: read error", vit_basename(path));
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return VIT_OK;
}
