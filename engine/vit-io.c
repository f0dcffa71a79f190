/* vit-io.c — what every model reader shares: the one read of a model file into private memory,
 * CRC-32 for the headers of our formats, and small text files (config.json, labels.txt). */
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
 * Reading a model file: into private memory, checked against changes while it is read
 *
 * Why not mmap: a mapped file that is truncated while it is read raises SIGBUS in whoever touches
 * the lost pages (half the loads of a file truncated under us crashed), and a file rewritten in
 * place (`cp new old`) changes under a session that keeps its mapping, which then computes with
 * a mix of old and new weights. A private copy has neither problem: the file can only change
 * while it is being read, and that is detected here (a short read, or a size, inode or
 * modification time that moved) and, for .vitl, by its per-tensor checksums. The cost is one read
 * at memory speed; the memory is the same, since the weights are resident either way. */

static int same_file_state(const struct stat *a, const struct stat *b)
{
    /* not ctime: a rename over the file changes it without touching a byte we read */
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

vit_status vit_file_read(const char *path, vit_file_data *out, vit_error *err)
{
    memset(out, 0, sizeof *out);
    const char *fname = vit_basename(path);
    /* Opened without blocking, and refused unless a regular file: opening a FIFO the plain way
     * waits for a writer, forever (found by tests/test-bad-inputs.sh). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return vit_fail(err, VIT_ERR_IO, "%s: cannot open: %s", fname, strerror(errno));
    struct stat before, after;
    if (fstat(fd, &before) != 0 || !S_ISREG(before.st_mode)) {
        close(fd);
        return vit_fail(err, VIT_ERR_IO, "%s: not a regular file", fname);
    }
    if (before.st_size == 0) {
        close(fd);
        return vit_fail(err, VIT_ERR_FORMAT, "%s: file is empty", fname);
    }
    if ((unsigned long long)before.st_size > VIT_MODEL_MAX_FILE_BYTES) {
        close(fd);
        return vit_fail(err, VIT_ERR_LIMIT, "%s: file is %lld bytes; the limit is %lld", fname,
                        (long long)before.st_size, (long long)VIT_MODEL_MAX_FILE_BYTES);
    }
    const size_t size = (size_t)before.st_size;
    /* Anonymous pages of our own: page-aligned (.vitl tensors are 64-byte aligned in the file
     * and stay so in memory), given back whole when freed, and never through malloc, whose
     * heap a file-sized block would leave fragmented (and whose mmap threshold it would raise). */
    void *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        close(fd);
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory for %zu bytes", fname, size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, (uint8_t *)buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            munmap(buf, size);
            close(fd);
            return vit_fail(err, VIT_ERR_IO, "%s: read error: %s", fname, strerror(e));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    uint8_t more;
    ssize_t extra = got == size ? read(fd, &more, 1) : 0;
    int changed = got != size || extra > 0 || fstat(fd, &after) != 0 ||
                  !same_file_state(&before, &after);
    close(fd);
    if (changed) {
        munmap(buf, size);
        return vit_fail(err, VIT_ERR_IO,
                        "%s: the file changed while it was read (%zu bytes when opened, %zu read): "
                        "it is being written; open it again when it is complete",
                        fname, size, got + (extra > 0 ? 1 : 0));
    }
    out->data = buf;
    out->size = size;
    return VIT_OK;
}

void vit_file_data_free(vit_file_data *f)
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
