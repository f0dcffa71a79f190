/* cli-dataset.c — reading labelled image sets for `vitlens-cli eval`. */
#include "cli-dataset.h"

#include "cli-common.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* The most data an IDX file may hold once inflated: 256 MiB, 5x Fashion-MNIST's whole training
 * set (47 MB). Decided from the header, before anything is allocated or inflated: a gzip file
 * can inflate 1032:1, so a 1 MB file could otherwise cost a gigabyte. */
#define IDX_MAX_BYTES (256u << 20)

/* A gzip error (bad CRC, corrupt deflate data) as what it is, not as a malformed IDX file; closes f. */
static void gz_fail(gzFile f, const char *path, const char *name, char *err, size_t errlen)
{
    int code = 0;
    const char *why = gzerror(f, &code);
    size_t plen = strlen(path); /* zlib puts "path: " in front */
    if (why && strncmp(why, path, plen) == 0 && strncmp(why + plen, ": ", 2) == 0)
        why += plen + 2;
    snprintf(err, errlen, "%s: corrupt gzip data: %s", name,
             code == Z_ERRNO ? strerror(errno) : why && *why ? why : "unknown error");
    gzclose(f);
}

int cli_idx_read(const char *path, int32_t *dims, int32_t *ndims, uint8_t **data, size_t *size,
                 char *err, size_t errlen)
{
    *data = NULL;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "%s: cannot open: %s", name, strerror(errno));
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", name);
        return -1;
    }
    gzFile f = gzopen(path, "rb"); /* reads plain files too */
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", name, strerror(errno));
        return -1;
    }
    unsigned char head[4];
    int nhead = gzread(f, head, 4);
    if (nhead < 0) {
        gz_fail(f, path, name, err, errlen);
        return -1;
    }
    if (nhead != 4 || head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] < 1 ||
        head[3] > 4) {
        snprintf(err, errlen, "%s: not an IDX file of unsigned bytes", name);
        gzclose(f);
        return -1;
    }
    *ndims = head[3];
    uint64_t total = 1;
    for (int i = 0; i < *ndims; i++) {
        unsigned char d[4];
        int nd = gzread(f, d, 4);
        if (nd < 0) {
            gz_fail(f, path, name, err, errlen);
            return -1;
        }
        if (nd != 4) {
            snprintf(err, errlen, "%s: truncated IDX header", name);
            gzclose(f);
            return -1;
        }
        dims[i] = (int32_t)((uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3]);
        if (dims[i] <= 0 || dims[i] > (1 << 28)) {
            snprintf(err, errlen, "%s: IDX dimension %d is %d", name, i, dims[i]);
            gzclose(f);
            return -1;
        }
        total *= (uint64_t)dims[i];
        if (total > IDX_MAX_BYTES) {
            snprintf(err, errlen, "%s: IDX data would be %llu bytes or more; the limit is %u MiB",
                     name, (unsigned long long)total, IDX_MAX_BYTES >> 20);
            gzclose(f);
            return -1;
        }
    }
    /* Refuse before allocating (found by tests/fuzz/fuzz-idx.c: a 20-byte file could make us
     * allocate 1 GiB): the data cannot be longer than the rest of a plain file, nor than
     * deflate's 1032:1 maximum ratio allows for a gzip file. */
    uint64_t room = gzdirect(f) ? (uint64_t)sb.st_size - (uint64_t)(4 + 4 * *ndims)
                                : (uint64_t)sb.st_size * 1032u;
    if (total > room) {
        snprintf(err, errlen, "%s: truncated: the header declares %llu data bytes, more than the "
                 "file holds", name, (unsigned long long)total);
        gzclose(f);
        return -1;
    }
    *data = malloc(total ? total : 1);
    if (!*data) {
        snprintf(err, errlen, "%s: out of memory", name);
        gzclose(f);
        return -1;
    }
    size_t got = 0;
    int n = 0;
    while (got < total) {
        n = gzread(f, *data + got, (unsigned)(total - got));
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    /* One more byte reads up to the gzip trailer, so that its CRC and length are checked. */
    unsigned char extra;
    if (n < 0 || (got == total && gzread(f, &extra, 1) < 0)) {
        gz_fail(f, path, name, err, errlen);
        free(*data);
        *data = NULL;
        return -1;
    }
    gzclose(f);
    if (got != total) {
        snprintf(err, errlen, "%s: truncated: %zu of %llu data bytes", name, got,
                 (unsigned long long)total);
        free(*data);
        *data = NULL;
        return -1;
    }
    *size = got;
    return 0;
}

static int open_idx_set(const char *dir, const vit_model *model, cli_dataset *ds)
{
    char ip[4096], lp[4096], err[512];
    snprintf(ip, sizeof ip, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(lp, sizeof lp, "%s/t10k-labels-idx1-ubyte.gz", dir);
    int32_t idims[4], ldims[4], ind, lnd;
    uint8_t *labels8 = NULL;
    size_t isz, lsz;
    if (cli_idx_read(ip, idims, &ind, &ds->pixels, &isz, err, sizeof err) != 0 ||
        cli_idx_read(lp, ldims, &lnd, &labels8, &lsz, err, sizeof err) != 0) {
        cli_error("fashion-mnist (%s): %s", dir, err);
        free(ds->pixels);
        ds->pixels = NULL;
        return -1;
    }
    if (ind != 3 || lnd != 1 || idims[0] != ldims[0]) {
        cli_error("fashion-mnist: %s and %s do not match (shapes)", ip, lp);
        free(ds->pixels);
        free(labels8);
        ds->pixels = NULL;
        return -1;
    }
    ds->count = idims[0];
    ds->rows = idims[1];
    ds->cols = idims[2];
    ds->labels = malloc((size_t)ds->count * sizeof(int32_t));
    int32_t maxl = 0;
    for (int32_t i = 0; i < ds->count; i++) {
        ds->labels[i] = labels8[i];
        maxl = labels8[i] > maxl ? labels8[i] : maxl;
    }
    free(labels8);
    ds->num_classes = maxl + 1;
    if (ds->num_classes > vit_model_get_info(model)->num_classes) {
        cli_error("fashion-mnist (%s): the data set has %d classes but the model only %d", dir,
                  ds->num_classes, vit_model_get_info(model)->num_classes);
        return -1;
    }
    snprintf(ds->name, sizeof ds->name, "fashion-mnist test (%s)", dir);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * ImageNet-style folders: DIR/<class>/<image>, <class> an index, a WordNet id listed in a mapping
 * file (DIR/mapping.txt or DIR/LOC_synset_mapping.txt: line i names class i's wnid first), or one
 * of the model's class names. */

static int is_image_name(const char *n)
{
    const char *dot = strrchr(n, '.');
    if (!dot)
        return 0;
    return !strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The class of a folder; -1 when it names none, -2 when the mapping file gives it a line past the
 * model's classes (a message was printed). */
static int32_t class_of(const char *folder, char **wnids, int32_t nw, const char *mapping,
                        const vit_model *model)
{
    const int32_t K = vit_model_get_info(model)->num_classes;
    char *end;
    long v = strtol(folder, &end, 10);
    if (*folder && !*end && v >= 0 && v < K)
        return (int32_t)v;
    for (int32_t i = 0; i < nw; i++)
        if (strcmp(wnids[i], folder) == 0) {
            if (i < K)
                return i;
            cli_error("imagefolder: %s: folder '%s' is on line %d, but the model has %d classes",
                      mapping, folder, i + 1, K);
            return -2;
        }
    for (int32_t i = 0; i < vit_model_get_info(model)->num_classes; i++) {
        const char *l = vit_model_label(model, i);
        if (l && strcasecmp(l, folder) == 0)
            return i;
    }
    return -1;
}

static int open_folder_set(const char *dir, const vit_model *model, cli_dataset *ds)
{
    char **wnids = NULL;
    int32_t nw = 0;
    const char *maps[] = {"mapping.txt", "LOC_synset_mapping.txt"};
    char mp[4096] = "";
    for (int k = 0; k < 2 && !nw; k++) {
        snprintf(mp, sizeof mp, "%s/%s", dir, maps[k]);
        FILE *f = fopen(mp, "r");
        if (!f)
            continue;
        /* Line i names class i, however long the line (getline: a fixed buffer would cut a
         * long line in two and shift every later class by one). */
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) >= 0) {
            char *p = line;
            while (*p && !isspace((unsigned char)*p))
                p++;
            *p = 0;
            if (!line[0])
                continue;
            wnids = realloc(wnids, (size_t)(nw + 1) * sizeof *wnids);
            wnids[nw++] = strdup(line);
        }
        free(line);
        fclose(f);
    }
    DIR *d = opendir(dir);
    if (!d) {
        cli_error("imagefolder: %s: %s", dir, strerror(errno));
        return -1;
    }
    char **classes = NULL;
    int32_t nc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            classes = realloc(classes, (size_t)(nc + 1) * sizeof *classes);
            classes[nc++] = strdup(e->d_name);
        }
    }
    closedir(d);
    if (nc > 0) /* qsort's pointer must be valid even for no elements */
        qsort(classes, (size_t)nc, sizeof *classes, cmp_str);
    int status = 0;
    int32_t cap = 0;
    for (int32_t c = 0; c < nc && !status; c++) {
        int32_t cls = class_of(classes[c], wnids, nw, mp, model);
        if (cls < 0) {
            if (cls == -1)
                cli_error("imagefolder: %s: folder '%s' is not a class index, a WordNet id from a "
                          "mapping file, or a class name of the model",
                          dir, classes[c]);
            status = -1;
            break;
        }
        char cp[4096];
        snprintf(cp, sizeof cp, "%s/%s", dir, classes[c]);
        DIR *cd = opendir(cp);
        if (!cd)
            continue;
        char **files = NULL;
        int32_t nf = 0;
        while ((e = readdir(cd)))
            if (e->d_name[0] != '.' && is_image_name(e->d_name)) {
                files = realloc(files, (size_t)(nf + 1) * sizeof *files);
                files[nf++] = strdup(e->d_name);
            }
        closedir(cd);
        if (nf > 0)
            qsort(files, (size_t)nf, sizeof *files, cmp_str);
        for (int32_t k = 0; k < nf; k++) {
            if (ds->count == cap) {
                cap = cap ? 2 * cap : 256;
                ds->paths = realloc(ds->paths, (size_t)cap * sizeof *ds->paths);
                ds->labels = realloc(ds->labels, (size_t)cap * sizeof *ds->labels);
            }
            size_t l = strlen(cp) + strlen(files[k]) + 2;
            ds->paths[ds->count] = malloc(l);
            snprintf(ds->paths[ds->count], l, "%s/%s", cp, files[k]);
            ds->labels[ds->count] = cls;
            ds->count++;
            if (cls + 1 > ds->num_classes)
                ds->num_classes = cls + 1;
            free(files[k]);
        }
        free(files);
    }
    for (int32_t c = 0; c < nc; c++)
        free(classes[c]);
    free(classes);
    for (int32_t i = 0; i < nw; i++)
        free(wnids[i]);
    free(wnids);
    if (!status && ds->count == 0) {
        cli_error("imagefolder: %s has no PNG or JPEG images in class folders", dir);
        status = -1;
    }
    snprintf(ds->name, sizeof ds->name, "imagefolder %s", dir);
    return status;
}

int cli_dataset_open(const char *spec, const vit_model *model, cli_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    int st;
    if (strcmp(spec, "fashion-mnist") == 0)
        st = open_idx_set("/usr/share/datasets/fashion-mnist", model, ds);
    else if (strncmp(spec, "fashion-mnist:", 14) == 0)
        st = open_idx_set(spec + 14, model, ds);
    else if (strncmp(spec, "imagefolder:", 12) == 0)
        st = open_folder_set(spec + 12, model, ds);
    else {
        cli_error("unknown data set '%s' (fashion-mnist[:DIR] or imagefolder:DIR)", spec);
        return -1;
    }
    if (st)
        cli_dataset_close(ds);
    return st;
}

vit_status cli_dataset_image(const cli_dataset *ds, int32_t i, vit_image *img, int *owned,
                             vit_error *err)
{
    if (ds->pixels) {
        img->width = ds->cols;
        img->height = ds->rows;
        img->stride = ds->cols;
        img->format = VIT_PIXEL_GRAY8;
        img->data = ds->pixels + (size_t)i * ds->rows * ds->cols;
        *owned = 0;
        return VIT_OK;
    }
    *owned = 1;
    return vit_image_load(ds->paths[i], img, err);
}

void cli_dataset_close(cli_dataset *ds)
{
    free(ds->pixels);
    if (ds->paths)
        for (int32_t i = 0; i < ds->count; i++)
            free(ds->paths[i]);
    free(ds->paths);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}
