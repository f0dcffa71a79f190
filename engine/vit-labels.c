/* vit-labels.c — a model's class labels: from a text file or text (one per line), from a JSON
 * list (config.json's label_names, a .vitq's metadata), and the accessors. */
#include "vit-safetensors.h" /* vit_json, vit_model_labels_from_json */

#include <stdlib.h>
#include <string.h>

#define VIT_LABELS_MAX_BYTES (16u << 20)

/* ---------------------------------------------------------------------------------------------
 * Labels */

int vit_utf8_length(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (p[0] < 0x80)
        return 1;
    int n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
    if (!n || p[0] > 0xF4)
        return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) ||
        (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* `in` as valid UTF-8 into out (when not NULL): each byte that starts no valid sequence becomes
 * U+FFFD. Returns the bytes written, without the NUL. Labels come from files and go to GTK
 * (which warns on invalid UTF-8), to JSON and to terminals. */
static size_t utf8_sanitize(const char *in, char *out)
{
    size_t o = 0;
    for (const char *p = in; *p;) {
        int n = vit_utf8_length(p);
        if (n) {
            if (out)
                memcpy(out + o, p, (size_t)n);
            o += (size_t)n;
            p += n;
        } else {
            if (out)
                memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            p++;
        }
    }
    return o;
}

vit_status vit_model_alloc_labels(vit_model *m, const char *const *names, int32_t n, vit_error *err)
{
    size_t total = 0;
    for (int32_t i = 0; i < n; i++)
        total += utf8_sanitize(names[i], NULL) + 1;
    char *store = malloc(total ? total : 1);
    char **labels = calloc((size_t)(n ? n : 1), sizeof *labels);
    if (!store || !labels) {
        free(store);
        free(labels);
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory for labels");
    }
    char *p = store;
    for (int32_t i = 0; i < n; i++) {
        size_t l = utf8_sanitize(names[i], p);
        p[l] = '\0';
        labels[i] = p;
        p += l + 1;
    }
    free(m->labels);
    free(m->label_storage);
    m->labels = labels;
    m->label_storage = store;
    m->num_labels = n;
    return VIT_OK;
}

/* One label per line; blank trailing lines ignored; the count must equal num_classes. */
static vit_status labels_from_text(vit_model *m, char *text, const char *fname, vit_error *err)
{
    int32_t want = m->info.num_classes;
    const char **names = calloc((size_t)want, sizeof *names);
    if (!names)
        return vit_fail(err, VIT_ERR_NOMEM, "%s: out of memory", fname);
    /* n counts the lines up to the last non-empty one: trailing empty lines are ignored, any
     * other line beyond the count is an error (it used to be dropped, so a 1000-line file was
     * taken for a 10-class model; found by tests/test-bad-inputs.sh). */
    int32_t n = 0, lines = 0;
    char *line = text;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        if (lines < want)
            names[lines] = line;
        lines++;
        if (l)
            n = lines;
        if (!nl)
            break;
        line = nl + 1;
    }
    vit_status st;
    if (n != want)
        st = vit_fail(err, VIT_ERR_SHAPE, "%s: has %d labels but the model has %d classes", fname, n,
                      want);
    else
        st = vit_model_alloc_labels(m, names, n, err);
    free(names);
    return st;
}

vit_status vit_model_read_labels_file(vit_model *m, const char *path, vit_error *err)
{
    char *text;
    size_t len;
    vit_status st = vit_read_small_file(path, VIT_LABELS_MAX_BYTES, &text, &len, err);
    if (st != VIT_OK)
        return st;
    if (memchr(text, '\0', len)) {
        free(text);
        return vit_fail(err, VIT_ERR_FORMAT, "%s: not a text file", vit_basename(path));
    }
    st = labels_from_text(m, text, vit_basename(path), err);
    free(text);
    return st;
}

vit_status vit_model_load_labels(vit_model *m, const char *path, vit_error *err)
{
    if (!m || !path)
        return vit_fail(err, VIT_ERR_ARG, "no model or path given");
    return vit_model_read_labels_file(m, path, err);
}

vit_status vit_model_set_labels(vit_model *m, const char *text, vit_error *err)
{
    if (!m || !text)
        return vit_fail(err, VIT_ERR_ARG, "no model or labels given");
    char *copy = strdup(text);
    if (!copy)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory");
    vit_status st = labels_from_text(m, copy, "labels", err);
    free(copy);
    return st;
}

/* A JSON array of strings with num_classes entries -> labels. */
vit_status vit_model_labels_from_json(vit_model *m, const vit_json *arr, const char *fname,
                                      const char *what, vit_error *err)
{
    if (arr->type != VIT_JSON_ARRAY)
        return vit_fail(err, VIT_ERR_FORMAT, "%s: %s is not a list", fname, what);
    if (arr->count != m->info.num_classes)
        return vit_fail(err, VIT_ERR_SHAPE, "%s: %s has %d names but the model has %d classes",
                        fname, what, arr->count, m->info.num_classes);
    const char **names = calloc((size_t)(arr->count ? arr->count : 1), sizeof *names);
    if (!names)
        return vit_fail(err, VIT_ERR_NOMEM, "out of memory");
    int32_t i = 0;
    for (const vit_json *c = arr->child; c; c = c->next, i++) {
        if (c->type != VIT_JSON_STRING) {
            free(names);
            return vit_fail(err, VIT_ERR_FORMAT, "%s: %s entry %d is not a string", fname, what, i);
        }
        names[i] = c->string;
    }
    vit_status st = vit_model_alloc_labels(m, names, i, err);
    free(names);
    return st;
}

const char *vit_model_label(const vit_model *m, int32_t index)
{
    if (!m || !m->labels || index < 0 || index >= m->num_labels)
        return NULL;
    return m->labels[index];
}

int32_t vit_model_num_labels(const vit_model *m)
{
    return m ? m->num_labels : 0;
}
