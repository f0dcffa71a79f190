/* test-cases.h — the golden fixtures' index, tests/fixtures/models/cases.json (written by
 * tools/make_model_fixtures.py), for the tests that walk every fixture model. */
#ifndef VITLENS_TEST_CASES_H
#define VITLENS_TEST_CASES_H

#include "../engine/vit-json.h"
#include "test-util.h"

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

#endif
