/* test-cases.h — the golden fixtures' index, tests/fixtures/models/cases.json (written by
 * tools/make_model_fixtures.py), for the tests that walk every fixture model. */
#ifndef VITLENS_TEST_CASES_H
#define VITLENS_TEST_CASES_H

#include "../engine/vit-json.h"
#include "../engine/vit.h"
#include "test-util.h"
#include "vitlens-engine-env.h"

#include <stdint.h>

/* The parsed cases.json under `fixtures` (checked as "<area>/cases.json"), or NULL; free with
 * vit_json_free. Its "models" object has one member per fixture model. */
__attribute__((unused)) static vit_json *test_load_cases(const char *fixtures, const char *area)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/cases.json", fixtures);
    size_t size;
    char *text = test_read_file(path, &size);
    char jerr[128] = "";
    const int found = text != NULL;
    vit_json *cases = found ? vit_json_parse(text, size, jerr, sizeof jerr) : NULL;
    free(text);
    test_check(cases != NULL, "/%s/cases.json (%s)", area, found ? jerr : "missing");
    return cases;
}

/* The first fixture model of parsed cases.json (the next one is ->next), or NULL. */
__attribute__((unused)) static const vit_json *test_first_case(const vit_json *cases)
{
    const vit_json *models = vit_json_get(cases, "models");
    return models ? models->child : NULL;
}

/* One fixture model of cases.json and its golden files: the path of its model.safetensors,
 * its input image (C x S x S floats) and its fp32 logits (K floats), NULL where absent or of
 * another size; free input and logits. */
typedef struct {
    const char *dir;
    int32_t K, C, S;
    char model[1024];
    float *input, *logits;
} test_case;

__attribute__((unused)) static void test_case_read(const char *fixtures, const vit_json *c,
                                                   test_case *tc)
{
    char path[1024];
    tc->dir = vit_json_string(c, "dir");
    tc->K = (int32_t)vit_json_number(c, "num_classes", 0);
    tc->C = (int32_t)vit_json_number(c, "in_chans", 0);
    tc->S = (int32_t)vit_json_number(c, "img_size", 0);
    snprintf(tc->model, sizeof tc->model, "%s/models/%s/model.safetensors", fixtures, tc->dir);
    snprintf(path, sizeof path, "%s/models/%s/input.f32", fixtures, tc->dir);
    tc->input = test_read_f32(path, (size_t)tc->C * tc->S * tc->S);
    snprintf(path, sizeof path, "%s/models/%s/logits.f32", fixtures, tc->dir);
    tc->logits = test_read_f32(path, (size_t)tc->K);
}

/* A fresh model from model_path (so its weights are packed for the kernel VIT_KERNEL names)
 * and a session of it: the variant, thread count and per_channel given, the kernel from the
 * environment as the programs read it. 1 when both were made; *m and *s (NULL when not made)
 * are the caller's to free either way. */
__attribute__((unused)) static int test_session_new(const char *model_path, vit_variant v,
                                                    int threads, int per_channel, vit_model **m,
                                                    vit_session **s)
{
    vit_error err = {0};
    *m = NULL;
    *s = NULL;
    if (vit_model_load(model_path, m, &err) != VIT_OK)
        return 0;
    vit_session_opts o = vit_session_opts_default();
    vitlens_session_opts_from_env(&o); /* VIT_KERNEL, as the programs read it */
    o.variant = v;
    o.threads = threads;
    o.per_channel = per_channel;
    return vit_session_new(*m, &o, s, &err) == VIT_OK;
}

#endif
