/* test-json.c — the JSON reader on valid, invalid and hostile input. */
#include "../engine/vit-json.h"
#include "test-util.h"

static int parses(const char *s)
{
    char err[128];
    vit_json *v = vit_json_parse(s, strlen(s), err, sizeof err);
    int ok = v != NULL;
    vit_json_free(v);
    return ok;
}

int main(void)
{
    char err[128];
    const char *doc = "{\"a\": [1, 2.5e1, -3], \"s\": \"x\\n\\u00e9\\ud83d\\ude00\", \"t\": true, "
                      "\"f\": false, \"n\": null, \"o\": {}}";
    vit_json *v = vit_json_parse(doc, strlen(doc), err, sizeof err);
    test_check(v != NULL, "/json/parse/valid");
    if (v) {
        const vit_json *a = vit_json_get(v, "a");
        test_check(a && a->type == VIT_JSON_ARRAY && a->count == 3 && a->child->next->number == 25.0,
                   "/json/parse/array-numbers");
        const char *s = vit_json_string(v, "s");
        test_check(s && strcmp(s, "x\n\xc3\xa9\xf0\x9f\x98\x80") == 0, "/json/parse/escapes-utf8");
        test_check(vit_json_get(v, "t")->boolean == 1 && vit_json_get(v, "f")->boolean == 0,
                   "/json/parse/booleans");
        test_check(vit_json_get(v, "n")->type == VIT_JSON_NULL, "/json/parse/null");
        test_check(vit_json_is_int(a->child, 0, 10) && !vit_json_is_int(a->child->next->next, 0, 10),
                   "/json/is-int");
    }
    vit_json_free(v);

    const char *bad[] = {"", "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "tru", "\"abc",
                         "\"\\x\"", "[1 2]", "{} x", "01x", "-", "\"\x01\"", "{\"a\":\"\\u12\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        test_check(!parses(bad[i]), "/json/reject/%zu '%s'", i, bad[i]);

    v = vit_json_parse("[1,", 3, err, sizeof err);
    test_check(!v && strstr(err, "at byte 3"), "/json/error-names-offset (%s)", err);

    /* nesting past the limit is refused, not a stack overflow */
    char deep[4096];
    int n = 0;
    for (int i = 0; i < 2000; i++)
        deep[n++] = '[';
    deep[n] = 0;
    test_check(!parses(deep), "/json/reject/deep-nesting");
    memset(deep, 0, sizeof deep);
    for (int i = 0; i < 60; i++)
        deep[i] = '[';
    for (int i = 0; i < 60; i++)
        deep[60 + i] = ']';
    test_check(parses(deep), "/json/accept/nesting-60");

    /* every prefix of a valid document is either valid or cleanly refused */
    int crashes = 0;
    for (size_t cut = 0; cut < strlen(doc); cut++) {
        vit_json *p = vit_json_parse(doc, cut, err, sizeof err);
        if (p && cut < strlen(doc) - 1)
            crashes++; /* a prefix of an object cannot be complete */
        vit_json_free(p);
    }
    test_check(crashes == 0, "/json/reject/every-prefix");
    return test_done();
}
