/* cli-common.h — what the vitlens-cli subcommands share: option parsing, model loading (a path
 * or the embedded default), JSON output helpers. */
#ifndef VITLENS_CLI_COMMON_H
#define VITLENS_CLI_COMMON_H

#include "vit.h"
#include "vitlens-engine-env.h" /* VIT_KERNEL, VIT_OPT_*: vitlens_session_opts_from_env */

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#define CLI_PROG "vitlens-cli"

/* Print "vitlens-cli: <msg>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a positive integer option value in [lo, hi]; prints an error and returns false on junk. */
/* --variant's value; false (and a message) for anything but fp32, int8, optimized. */
bool cli_parse_variant(const char *value, vit_variant *out);
bool cli_parse_int(const char *opt, const char *value, long lo, long hi, int32_t *out);

/* The options classify, stream and export share. */
typedef struct {
    const char *model_path; /* --model PATH; NULL: the embedded model */
    vit_variant variant;    /* --variant */
    int32_t threads;        /* --threads N (1-256); 0: every core */
    int32_t top;            /* --top K (1-VIT_TOPK_MAX) */
} cli_opts;
/* getopt_long matches every long option listed, whatever the short-options string says: a
 * subcommand without --threads and --top (export) lists CLI_OPTS_LONG_MODEL only. */
#define CLI_OPTS_LONG_MODEL                                                                        \
    {"model", required_argument, NULL, 'm'}, {"variant", required_argument, NULL, 'v'},            \
        {"help", no_argument, NULL, 'h'}
#define CLI_OPTS_LONG                                                                              \
    CLI_OPTS_LONG_MODEL, {"threads", required_argument, NULL, 't'},                                \
        {"top", required_argument, NULL, 'k'}
/* One answer of getopt_long: CLI_OPT_DONE when it was one of cli_opts' (-m, -v, -t, -k) and
 * is stored in *o; CLI_OPT_BAD (a message is printed) when its value is not valid; else
 * CLI_OPT_OTHER, for the subcommand's own switch. A subcommand accepts only the letters its
 * short-options string lists. */
enum { CLI_OPT_OTHER, CLI_OPT_DONE, CLI_OPT_BAD };
int cli_common_option(int c, const char *arg, cli_opts *o);

/* Load --model PATH, or the embedded default model when path is NULL. A 1000-class model with
 * no labels of its own gets the ImageNet class names. Prints the error and returns NULL. */
vit_model *cli_load_model(const char *path);
/* The file --model PATH names: PATH itself when it exists (a local path always wins) or is not a
 * hub repository id (ORG/NAME); else that repository's model.safetensors in the hub cache,
 * fetched first when it is missing and HF_HUB_OFFLINE is not set. NULL (after printing why)
 * when that fails; NULL for NULL (the embedded model). Valid until the next call. */
const char *cli_model_path(const char *path);
/* The model's name for output: the path given, or the embedded model's name. */
const char *cli_model_display_name(const char *path);

/* Split "fp32,int8" into variants; returns the count or -1 after printing an error. */
int cli_parse_variants(const char *list, vit_variant *out, int max);

/* The variants to run, reference first: fp32 whenever the model has it (reduction and agreement
 * are measured against it, so it runs even when not asked for), else the first variant asked
 * (an int8 .vitq has no fp32 weights). *show_first tells whether row 0 was asked for and is to be
 * printed. out holds n + 1 entries; returns the count. */
int cli_plan_variants(const vit_model *m, const vit_variant *asked, int n, vit_variant *out,
                      int *show_first);

/* Write s as a JSON string literal (with quotes). */
void cli_json_string(FILE *f, const char *s);
/* s for a terminal, into buf: control characters as \xHH, bytes that are not UTF-8 as U+FFFD. */
const char *cli_printable(const char *s, char *buf, size_t size);
/* A number as JSON: %.*g, or null when it is NaN or infinite (which JSON cannot hold). */
void cli_json_number(FILE *f, double v, int digits);

/* "269" when the model has no label for index. */
const char *cli_label(const vit_model *m, int32_t index, char *buf, size_t size);

#ifdef VITLENS_HAVE_HUB
#include "vitlens-hub.h"

/* Hub downloads on stderr: while one runs, a line redrawn with bytes, rate and time left when
 * stderr is a terminal; then one line per file. quiet: nothing. */
typedef struct {
    bool live, quiet;
    bool drawing;              /* a progress line is on the screen, without its newline */
    double start_ms, drawn_ms; /* the current download's start, the last redraw */
} cli_hub_progress;
void cli_hub_progress_init(cli_hub_progress *p, bool quiet);
/* A VitlensHubProgressFunc; user_data is a cli_hub_progress. */
void cli_hub_progress_show(const VitlensHubProgress *progress, void *user_data);
#endif

/* Subcommands */
int cli_classify(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_stream(int argc, char **argv);
int cli_fetch(int argc, char **argv);

#endif
