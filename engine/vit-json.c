/* vit-json.c — a small recursive-descent JSON parser (RFC 8259, strict: no comments, no trailing
 * commas). Used on untrusted files, so every read is bounds-checked and depth is limited. */
#include "vit-json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errlen;
    int failed;
    size_t nodes; /* values made so far, against VIT_JSON_MAX_NODES */
} parser;

static void fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(parser *p, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    if (!p->err || !p->errlen)
        return;
    int n = snprintf(p->err, p->errlen, "at byte %zu: ", p->pos);
    if (n < 0 || (size_t)n >= p->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static vit_json *new_node(parser *p, vit_json_type t)
{
    /* A value can be 2 bytes of text ("0,") and is about 80 bytes in memory: without a cap, a
     * 100 MB safetensors header would cost 4 GB. */
    if (++p->nodes > VIT_JSON_MAX_NODES) {
        fail(p, "more than %d values; the limit is %d", VIT_JSON_MAX_NODES, VIT_JSON_MAX_NODES);
        return NULL;
    }
    vit_json *v = calloc(1, sizeof *v);
    if (!v)
        fail(p, "out of memory");
    else
        v->type = t;
    return v;
}

static int hex4(parser *p, unsigned *out)
{
    if (p->len - p->pos < 4) {
        fail(p, "truncated \\u escape");
        return 0;
    }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else {
            fail(p, "bad hex digit in \\u escape");
            return 0;
        }
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a string starting at the opening quote; returns a malloc'd decoded copy. */
static char *parse_string(parser *p, size_t *out_len)
{
    p->pos++; /* opening quote */
    size_t start = p->pos;
    /* the decoded form is never longer than the source */
    size_t end = start;
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->len) {
        fail(p, "unterminated string");
        return NULL;
    }
    char *o = malloc(end - start + 1);
    if (!o) {
        fail(p, "out of memory");
        return NULL;
    }
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) {
            fail(p, "control character in string");
            free(o);
            return NULL;
        }
        if (c != '\\') {
            o[n++] = (char)c;
            p->pos++;
            continue;
        }
        p->pos++;
        char e = p->s[p->pos++];
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!hex4(p, &cp)) {
                free(o);
                return NULL;
            }
            if (cp >= 0xD800 && cp < 0xDC00 && p->pos + 6 <= end && p->s[p->pos] == '\\' &&
                p->s[p->pos + 1] == 'u') {
                unsigned lo;
                p->pos += 2;
                if (!hex4(p, &lo)) {
                    free(o);
                    return NULL;
                }
                if (lo >= 0xDC00 && lo < 0xE000)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else
                    cp = 0xFFFD;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            /* \u escapes of 6 source bytes decode to at most 4 bytes: fits */
            n += put_utf8(o + n, cp);
            break;
        }
        default:
            fail(p, "bad escape \\%c", e);
            free(o);
            return NULL;
        }
    }
    p->pos = end + 1;
    o[n] = '\0';
    *out_len = n;
    return o;
}

static vit_json *parse_value(parser *p, int depth);

static vit_json *parse_number(parser *p)
{
    size_t start = p->pos;
    if (p->s[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->len || !(p->s[p->pos] >= '0' && p->s[p->pos] <= '9')) {
        fail(p, "bad number");
        return NULL;
    }
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if ((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')
            p->pos++;
        else
            break;
    }
    char buf[64];
    size_t n = p->pos - start;
    if (n >= sizeof buf) {
        fail(p, "number too long");
        return NULL;
    }
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    char *endp;
    double d = strtod(buf, &endp);
    if (*endp != '\0') {
        p->pos = start;
        fail(p, "bad number '%s'", buf);
        return NULL;
    }
    vit_json *v = new_node(p, VIT_JSON_NUMBER);
    if (v)
        v->number = d;
    return v;
}

static int match_word(parser *p, const char *w)
{
    size_t n = strlen(w);
    if (p->len - p->pos >= n && memcmp(p->s + p->pos, w, n) == 0) {
        p->pos += n;
        return 1;
    }
    return 0;
}

static vit_json *parse_container(parser *p, int depth, int is_object)
{
    vit_json *v = new_node(p, is_object ? VIT_JSON_OBJECT : VIT_JSON_ARRAY);
    if (!v)
        return NULL;
    char close = is_object ? '}' : ']';
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return v;
    }
    vit_json **tail = &v->child;
    for (;;) {
        char *key = NULL;
        skip_ws(p);
        if (is_object) {
            if (p->pos >= p->len || p->s[p->pos] != '"') {
                fail(p, "expected a member name");
                break;
            }
            size_t klen;
            key = parse_string(p, &klen);
            if (!key)
                break;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                fail(p, "expected ':'");
                free(key);
                break;
            }
            p->pos++;
        }
        vit_json *child = parse_value(p, depth + 1);
        if (!child) {
            free(key);
            break;
        }
        child->key = key;
        *tail = child;
        tail = &child->next;
        v->count++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            return v;
        }
        fail(p, "expected ',' or '%c'", close);
        break;
    }
    vit_json_free(v);
    return NULL;
}

static vit_json *parse_value(parser *p, int depth)
{
    if (depth > VIT_JSON_MAX_DEPTH) {
        fail(p, "nested deeper than %d levels", VIT_JSON_MAX_DEPTH);
        return NULL;
    }
    skip_ws(p);
    if (p->pos >= p->len) {
        fail(p, "unexpected end of input");
        return NULL;
    }
    char c = p->s[p->pos];
    if (c == '{' || c == '[')
        return parse_container(p, depth, c == '{');
    if (c == '"') {
        size_t n;
        char *s = parse_string(p, &n);
        if (!s)
            return NULL;
        vit_json *v = new_node(p, VIT_JSON_STRING);
        if (!v) {
            free(s);
            return NULL;
        }
        v->string = s;
        v->len = n;
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p);
    if (match_word(p, "true") || match_word(p, "false")) {
        vit_json *v = new_node(p, VIT_JSON_BOOL);
        if (v)
            v->boolean = p->s[p->pos - 1] == 'e' && p->s[p->pos - 2] == 'u';
        return v;
    }
    if (match_word(p, "null"))
        return new_node(p, VIT_JSON_NULL);
    fail(p, "unexpected character '%c'", c >= 0x20 && c < 0x7f ? c : '?');
    return NULL;
}

vit_json *vit_json_parse(const char *text, size_t len, char *errbuf, size_t errlen)
{
    parser p = {.s = text, .len = len, .err = errbuf, .errlen = errlen};
    if (errbuf && errlen)
        errbuf[0] = '\0';
    vit_json *root = parse_value(&p, 0);
    if (!root)
        return NULL;
    skip_ws(&p);
    if (p.pos != p.len) {
        fail(&p, "unexpected data after the JSON value");
        vit_json_free(root);
        return NULL;
    }
    return root;
}

void vit_json_free(vit_json *v)
{
    while (v) {
        vit_json *next = v->next;
        vit_json_free(v->child);
        free(v->string);
        free(v->key);
        free(v);
        v = next;
    }
}

const vit_json *vit_json_get(const vit_json *object, const char *key)
{
    if (!object || object->type != VIT_JSON_OBJECT)
        return NULL;
    for (const vit_json *c = object->child; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

double vit_json_number(const vit_json *object, const char *key, double fallback)
{
    const vit_json *v = vit_json_get(object, key);
    return v && v->type == VIT_JSON_NUMBER ? v->number : fallback;
}

const char *vit_json_string(const vit_json *object, const char *key)
{
    const vit_json *v = vit_json_get(object, key);
    return v && v->type == VIT_JSON_STRING ? v->string : NULL;
}

int vit_json_is_int(const vit_json *v, int64_t lo, int64_t hi)
{
    if (!v || v->type != VIT_JSON_NUMBER || !isfinite(v->number))
        return 0;
    double d = v->number;
    return d == floor(d) && d >= (double)lo && d <= (double)hi;
}
