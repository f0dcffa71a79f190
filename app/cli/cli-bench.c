/* cli-bench.c — `vitlens-cli bench`: the tutorial's comparison table on our engine.
 * Variants run interleaved (fp32, int8, fp32, int8, ...) so that machine noise falls on every row
 * alike; we report medians and spreads, never a single run.
 *
 * The `lite` row is an optimized session on the model's .vitl file (exported to a temporary file
 * first) loaded by mmap. Load time (open -> first result) and peak RSS are measured for each row
 * in a fresh process (this program run again with the hidden --measure-load option), so that one
 * row's memory does not count in another's. */
#include "cli-common.h"
#include "vitlens-stats.h"

#ifdef VITLENS_HAVE_CAIRO
#include "vitlens-chart.h"
#endif

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_VARIANTS 8
#define MAX_IMAGES 64

typedef struct {
    vit_variant variant;
    vit_session *session;
    double *ms;         /* (runs) */
    int32_t top1_agree; /* images whose top-1 equals fp32's */
    int32_t images;
    float max_logit_err; /* against fp32 on the same inputs */
    double create_ms;
    long long file_bytes;
    int lite;       /* a session on the .vitl file (variant optimized) */
    double load_ms; /* open -> first result, in a fresh process (-1: not measured) */
    double rss_mb;  /* that process's peak resident set */
    /* --profile: per run, the forward and its op classes (vit_session_profile), and their
     * medians */
    double *prof_ms[VIT_OP_COUNT + 1]; /* [VIT_OP_COUNT]: the forward */
    double prof_med[VIT_OP_COUNT + 1];
    vit_profile_stats prof;            /* the ops counts */
    /* --explain: a twin session with the attention rollout on, timed run by run next to this
     * one (off, on, on, off, ...): its times, and each run's ratio to the run beside it */
    vit_session *roll_session;
    double *roll_ms, *roll_ratio; /* (runs) */
} bench_row;

static void usage(FILE *f)
{
    fputs("Usage: " CLI_PROG " bench [--model PATH] [--variants fp32,int8,optimized,lite]\n"
          "                         [--threads N] [--runs N] [--warmup N] [--image IMG]...\n"
          "                         [--no-load] [--json | --csv | --markdown] [--plot FILE.png]\n"
          "                         [--profile] [--explain] [--verbose]\n"
          "Times the forward pass of each variant (by default every one the model can run:\n"
          "fp32, int8, optimized and lite), interleaved, and prints median, min and p90\n"
          "in ms, the reduction against fp32, file size, top-1 agreement with fp32, and the time\n"
          "from opening the model to the first result and the peak RSS, each measured in a fresh\n"
          "process (--no-load skips those). 'lite' is the optimized variant on the .vitl file.\n"
          "--profile adds where the time goes: per variant the median time of each op class\n"
          "(patch embedding, LayerNorm (+ quantize), qkv, attention, proj, fc1 + GELU, fc2,\n"
          "head, other), its share of the forward, and GFLOP/s (fp32) or GOP/s (int8) of the\n"
          "matrix products; with --json a \"profile\" object per variant.\n"
          "--explain also times every variant with its attention rollout on (what classify\n"
          "--explain and the app's Show Attention ask for), in a second session run right\n"
          "before or after each timed run, and prints what the rollout costs: the median\n"
          "with it against the median without, and the p10, median and p90 of the runs'\n"
          "paired ratios.\n"
          "--verbose prints the engine's log; with --profile (or VIT_OPT_PROFILE=1 in the\n"
          "environment) that includes each session's mean time per op class.\n",
          f);
}

static long long file_size(const char *path)
{
    struct stat sb;
    return path && stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* --verbose: the engine's log (the kernel chosen, and with VIT_OPT_PROFILE=1 the optimized
 * variant's time per kind of step, written when its session is freed) on stderr */
static void log_stderr(int level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    fprintf(stderr, "%s\n", msg);
}

/* The instruction sets the engine uses, and the cap when VIT_CPU set one: a table measured
 * under VIT_CPU=avx2 on an AVX-512 machine says so. */
static const char *cpu_label(void)
{
    static char buf[96];
    const char *cap = getenv("VIT_CPU");
    if (cap && *cap)
        snprintf(buf, sizeof buf, "%s, capped by VIT_CPU=%.32s", vit_cpu_describe(), cap);
    else
        snprintf(buf, sizeof buf, "%s", vit_cpu_describe());
    return buf;
}

static const char *row_name(const bench_row *r)
{
    return r->lite ? "lite" : vit_variant_name(r->variant);
}

/* This process's peak resident set in KiB: VmHWM of /proc/self/status, the high-water mark of
 * this program's own address space. (getrusage's ru_maxrss would not do: Linux carries it over
 * exec from the forked copy of the parent, so it would start at the parent's size.) */
static long peak_rss_kb(void)
{
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
                break;
        fclose(f);
    }
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = (long)ru.ru_maxrss;
    }
    return kb;
}

/* `bench --measure-load VARIANT --model PATH --threads N`: in this fresh process, open the
 * model, make a session, run it once; print "load_ms peak_rss_kb". */
static int measure_load_child(const char *model_path, const char *variant, int32_t threads,
                              int per_channel)
{
    vit_variant v;
    if (vit_variant_parse(variant, &v) != VIT_OK)
        return 2;
    double t0 = vit_now_ms();
    vit_model *model = cli_load_model(model_path);
    if (!model)
        return 1;
    const vit_model_info *info = vit_model_get_info(model);
    size_t in_n = (size_t)info->in_chans * info->img_size * info->img_size;
    float *input = malloc(in_n * sizeof(float));
    float *logits = malloc((size_t)info->num_classes * sizeof(float));
    vit_session_opts o = vit_session_opts_default();
    vitlens_session_opts_from_env(&o);
    o.variant = v;
    o.threads = threads;
    o.per_channel = per_channel;
    vit_session *s = NULL;
    vit_error err = {0};
    int status = 1;
    /* fp32 on our GEMM keeps only the packed Linears, as an fp32-only program would: the plain
     * copies go back to the kernel as they are packed (OpenBLAS, the scalar kernel, reads them) */
    if (v == VIT_VARIANT_FP32 && !(o.kernel && strcmp(o.kernel, "scalar") == 0))
        vit_model_release_linears(model, NULL); /* refused where fp32 runs on OpenBLAS anyway */
    if (input && logits && vit_session_new(model, &o, &s, &err) == VIT_OK) {
        for (size_t k = 0; k < in_n; k++)
            input[k] = (float)((k * 7919) % 1000) / 250.0f - 2.0f;
        if (vit_session_run(s, input, logits, &err) == VIT_OK) {
            double ms = vit_now_ms() - t0;
            printf("%.3f %ld\n", ms, peak_rss_kb());
            status = 0;
        }
    }
    if (status)
        cli_error("%s", err.msg);
    vit_session_free(s);
    free(input);
    free(logits);
    vit_model_free(model);
    return status;
}

/* Run this program again with --measure-load on `path` and read its answer. */
static void measure_load(bench_row *row, const char *path, int32_t threads, int per_channel)
{
    row->load_ms = row->rss_mb = -1;
    int fds[2];
    if (!path || pipe(fds) != 0)
        return;
    char tbuf[16];
    snprintf(tbuf, sizeof tbuf, "%d", (int)threads);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        char *args[] = {(char *)CLI_PROG, (char *)"bench", (char *)"--measure-load",
                        (char *)vit_variant_name(row->variant), (char *)"--model", (char *)path,
                        (char *)"--threads", tbuf, per_channel ? (char *)"--per-channel" : NULL,
                        NULL};
        execv("/proc/self/exe", args);
        _exit(127);
    }
    close(fds[1]);
    char buf[128] = {0};
    ssize_t got = 0, r;
    while (pid > 0 && got < (ssize_t)sizeof buf - 1 &&
           (r = read(fds[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0)
        got += r;
    close(fds[0]);
    int wst = 0;
    if (pid > 0)
        waitpid(pid, &wst, 0);
    double ms;
    long kb;
    if (pid > 0 && WIFEXITED(wst) && WEXITSTATUS(wst) == 0 && sscanf(buf, "%lf %ld", &ms, &kb) == 2) {
        row->load_ms = ms;
        row->rss_mb = kb / 1024.0;
    }
}

/* --profile: the medians of each row's per-run samples */
static void profile_medians(bench_row *r, int runs)
{
    for (int k = 0; k <= VIT_OP_COUNT; k++) {
        vitlens_stats_sort(r->prof_ms[k], (size_t)runs);
        r->prof_med[k] = vitlens_stats_median_sorted(r->prof_ms[k], (size_t)runs);
    }
}

/* op k of row r: its GFLOP/s (fp32) or GOP/s (int8 products) at the median time; 0: none */
static double profile_rate(const bench_row *r, int k)
{
    double ms = r->prof_med[k];
    return k < VIT_OP_COUNT && r->prof.ops[k] > 0 && ms > 0 ? r->prof.ops[k] / (ms * 1e6) : 0.0;
}

static const char *const op_labels[VIT_OP_COUNT + 1] = {
    "patch embedding", "LayerNorm (+ quant)", "qkv", "attention", "proj", "fc1 + GELU", "fc2",
    "head", "other", "forward",
};

/* The profile table: a row per op class, a column (ms, %, rate) per variant. */
static void print_profile(const bench_row *rows, int first, int nrows, int runs, int markdown)
{
    printf(markdown ? "\n**Where the time goes** · median of %d runs · ms, %% of the forward, "
                      "GFLOP/s (fp32) or GOP/s (int8 products)\n\n| Op |"
                    : "\nwhere the time goes: median of %d runs; ms, %% of the forward, "
                      "GFLOP/s (fp32) or GOP/s (int8 products)\n%-20s",
           runs, "op");
    for (int r = first; r < nrows; r++)
        printf(markdown ? " %s ms | %% | G(FL)OP/s |" : " %25s", row_name(&rows[r]));
    if (markdown) {
        printf("\n|---|");
        for (int r = first; r < nrows; r++)
            printf("---|---|---|");
    }
    printf("\n");
    for (int k = 0; k <= VIT_OP_COUNT; k++) {
        printf(markdown ? "| %s |" : "%-20s", op_labels[k]);
        for (int r = first; r < nrows; r++) {
            double ms = rows[r].prof_med[k], fwd = rows[r].prof_med[VIT_OP_COUNT];
            double rate = profile_rate(&rows[r], k);
            char rs[32] = "";
            if (rate > 0)
                snprintf(rs, sizeof rs, "%.1f", rate);
            printf(markdown ? " %.3f | %.1f%% | %s |" : " %8.3f %6.1f%% %8s", ms,
                   fwd > 0 ? 100.0 * ms / fwd : 0.0, rs);
        }
        printf("\n");
    }
}

/* One forward of s on in, in ms */
static double timed_run(vit_session *s, const float *in, float *logits)
{
    double t0 = vit_now_ms();
    vit_session_run(s, in, logits, NULL);
    return vit_now_ms() - t0;
}

/* --explain: each variant's time with the rollout off and on, from the same interleaved runs;
 * the cost is the ratio of the medians; the paired ratios (on / the off run beside it) show its
 * spread, and their median, what a machine whose speed jumps from run to run changes least */
static double roll_cost_pct(const bench_row *r, int runs)
{
    double off = vitlens_stats_median_sorted(r->ms, (size_t)runs);
    double on = vitlens_stats_median_sorted(r->roll_ms, (size_t)runs);
    return off > 0 ? 100.0 * (on / off - 1.0) : 0.0;
}

/* the p-th percentile of the paired ratios, as a cost in % */
static double roll_paired_pct(const bench_row *r, int runs, double p)
{
    return 100.0 * (vitlens_stats_percentile_sorted(r->roll_ratio, (size_t)runs, p) - 1.0);
}

static void print_rollout(const bench_row *rows, int first, int nrows, int runs, int markdown)
{
    printf(markdown ? "\n**The attention rollout's cost** · the same %d runs, each variant with "
                      "it off and on, back to back\n\n| Variant | Off (median ms) | On (median ms) "
                      "| Cost | Paired ratios: p10 | median | p90 |\n|---|---|---|---|---|---|---|\n"
                    : "\nthe attention rollout's cost: the same %d runs, each variant with it off "
                      "and on, back to back\n%-10s %10s %10s %8s   %s\n",
           runs, "variant", "off ms", "on ms", "cost", "paired ratios: p10 / median / p90");
    for (int r = first; r < nrows; r++) {
        double off = vitlens_stats_median_sorted(rows[r].ms, (size_t)runs);
        double on = vitlens_stats_median_sorted(rows[r].roll_ms, (size_t)runs);
        printf(markdown ? "| %s | %.3f | %.3f | %+.1f%% | %+.1f%% | %+.1f%% | %+.1f%% |\n"
                        : "%-10s %10.3f %10.3f %+7.1f%%   %+.1f%% / %+.1f%% / %+.1f%%\n",
               row_name(&rows[r]), off, on, roll_cost_pct(&rows[r], runs),
               roll_paired_pct(&rows[r], runs, 10), roll_paired_pct(&rows[r], runs, 50),
               roll_paired_pct(&rows[r], runs, 90));
    }
}

/* --json: the row's "profile" object */
static void json_profile(const bench_row *r)
{
    double fwd = r->prof_med[VIT_OP_COUNT];
    printf(", \"profile\": {\"forward_ms\": %.4f, \"ops\": {", fwd);
    for (int k = 0; k < VIT_OP_COUNT; k++) {
        printf("%s\"%s\": {\"ms\": %.4f, \"pct\": %.2f", k ? ", " : "", vit_op_name(k),
               r->prof_med[k], fwd > 0 ? 100.0 * r->prof_med[k] / fwd : 0.0);
        if (profile_rate(r, k) > 0)
            printf(", \"ops\": %.0f, \"gops\": %.3f", r->prof.ops[k], profile_rate(r, k));
        printf("}");
    }
    printf("}}");
}

int cli_bench(int argc, char **argv)
{
    const char *model_path = NULL;
    const char *variants_arg = NULL; /* the tutorial's whole table unless --variants */
    const char *images[MAX_IMAGES];
    int n_images = 0;
    int32_t threads = 0, runs = 20, warmup = 3;
    int json = 0, csv = 0, per_channel = 0, markdown = 0, no_load = 0, profile = 0, explain = 0;
    const char *measure_variant = NULL;
    const char *plot = NULL;
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},  {"variants", required_argument, NULL, 'v'},
        {"threads", required_argument, NULL, 't'}, {"runs", required_argument, NULL, 'r'},
        {"warmup", required_argument, NULL, 'w'}, {"image", required_argument, NULL, 'i'},
        {"json", no_argument, NULL, 'j'},         {"csv", no_argument, NULL, 'c'},
        {"per-channel", no_argument, NULL, 'p'},  {"help", no_argument, NULL, 'h'},
        {"markdown", no_argument, NULL, 'M'},     {"plot", required_argument, NULL, 'P'},
        {"no-load", no_argument, NULL, 'N'},      {"measure-load", required_argument, NULL, 'L'},
        {"verbose", no_argument, NULL, 'V'},      {"profile", no_argument, NULL, 'F'},
        {"explain", no_argument, NULL, 'e'},      {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:v:t:r:w:i:jcphMP:NL:VFe", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'v': variants_arg = optarg; break;
        case 't':
            if (!cli_parse_int("--threads", optarg, 0, 256, &threads))
                return 2;
            break;
        case 'r':
            if (!cli_parse_int("--runs", optarg, 1, 100000, &runs))
                return 2;
            break;
        case 'w':
            if (!cli_parse_int("--warmup", optarg, 0, 100000, &warmup))
                return 2;
            break;
        case 'i':
            if (n_images == MAX_IMAGES) {
                cli_error("at most %d --image", MAX_IMAGES);
                return 2;
            }
            images[n_images++] = optarg;
            break;
        case 'j': json = 1; break;
        case 'c': csv = 1; break;
        case 'p': per_channel = 1; break;
        case 'M': markdown = 1; break;
        case 'P': plot = optarg; break;
        case 'N': no_load = 1; break;
        case 'L': measure_variant = optarg; break;
        case 'V': vit_log_set(log_stderr, NULL); break;
        case 'F': profile = 1; break;
        case 'e': explain = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        cli_error("bench: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (measure_variant)
        return measure_load_child(model_path, measure_variant, threads, per_channel);
    vit_model *model = cli_load_model(model_path);
    if (!model)
        return 1;
    /* no --variants: every row of the tutorial's table this model can run — fp32, int8,
     * optimized, and lite (the model exported to a temporary .vitl) unless it is a .vitl */
    char all_variants[64] = "";
    if (!variants_arg) {
        static const vit_variant order[] = {VIT_VARIANT_FP32, VIT_VARIANT_INT8,
                                            VIT_VARIANT_OPTIMIZED};
        for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
            if (vit_model_supports(model, order[k]))
                snprintf(all_variants + strlen(all_variants),
                         sizeof all_variants - strlen(all_variants), "%s%s",
                         all_variants[0] ? "," : "", vit_variant_name(order[k]));
        if (vit_model_get_info(model)->format != VIT_FORMAT_VITL)
            snprintf(all_variants + strlen(all_variants),
                     sizeof all_variants - strlen(all_variants), "%slite",
                     all_variants[0] ? "," : "");
        variants_arg = all_variants;
    }
    /* "lite" is not a variant of the engine but the optimized one on a .vitl: take it out */
    char vlist[256] = "";
    int want_lite = 0;
    char *vcopy = strdup(variants_arg);
    for (char *save = NULL, *tok = vcopy ? strtok_r(vcopy, ",", &save) : NULL; tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "lite") == 0)
            want_lite = 1;
        else if (strlen(vlist) + strlen(tok) + 2 < sizeof vlist)
            snprintf(vlist + strlen(vlist), sizeof vlist - strlen(vlist), "%s%s",
                     vlist[0] ? "," : "", tok);
    }
    free(vcopy);
    vit_variant vars[MAX_VARIANTS];
    int nv = vlist[0] ? cli_parse_variants(vlist, vars, MAX_VARIANTS) : 0;
    if (nv < 0) {
        vit_model_free(model);
        return 2;
    }
    char lite_path[] = "/tmp/vitlens-bench-XXXXXX.vitl";
    int have_lite_file = 0, lite_created = 0;
    vit_model *lite_model = NULL;
    const vit_model_info *info = vit_model_get_info(model);
    size_t in_n = (size_t)info->in_chans * info->img_size * info->img_size;
    int n_inputs = n_images ? n_images : 1;
    float *inputs = malloc(in_n * (size_t)n_inputs * sizeof(float));
    float *logits = malloc((size_t)info->num_classes * sizeof(float));
    float *ref_logits = calloc((size_t)info->num_classes * (size_t)n_inputs, sizeof(float));
    bench_row rows[MAX_VARIANTS + 1];
    memset(rows, 0, sizeof rows);
    int status = 0, nrows = 0;
    vit_error err = {0};

    /* inputs: the images, preprocessed with the model's config; else a fixed pseudo-random one */
    if (n_images == 0) {
        uint32_t r = 42;
        for (size_t k = 0; k < in_n; k++) {
            r = r * 1664525u + 1013904223u;
            inputs[k] = ((float)(r >> 8) / 16777216.0f - 0.5f) * 4.0f;
        }
    }
    for (int k = 0; k < n_images; k++) {
        vit_image img = {0};
        if (vit_image_load(images[k], &img, &err) != VIT_OK ||
            vit_preprocess(&img, &info->pre, inputs + (size_t)k * in_n, &err) != VIT_OK) {
            cli_error("%s", err.msg);
            vit_image_free(&img);
            status = 1;
            goto out;
        }
        vit_image_free(&img);
    }

    /* fp32 is row 0, the reference for reduction and agreement, whenever the model has it (an
     * int8 .vitq file has no fp32 weights: then the first variant asked for is the reference) */
    int have_fp32 = vit_model_supports(model, VIT_VARIANT_FP32), show_fp32;
    vit_variant planned[MAX_VARIANTS + 1];
    nrows = cli_plan_variants(model, vars, nv, planned, &show_fp32);
    for (int r = 0; r < nrows; r++)
        rows[r].variant = planned[r];
    if (nrows == 0 && !want_lite) {
        cli_error("bench: no variant to run");
        status = 2;
        goto out;
    }
    /* the lite file: this model written as .vitl (also the optimized row's file size) */
    int need_vitl = want_lite;
    for (int r = 0; r < nrows; r++)
        need_vitl |= rows[r].variant == VIT_VARIANT_OPTIMIZED;
    if (need_vitl) {
        int fd = mkstemps(lite_path, 5);
        if (fd >= 0) {
            close(fd);
            lite_created = 1;
            vit_session_opts env = vit_session_opts_default();
            vitlens_session_opts_from_env(&env); /* VIT_KERNEL packs the file */
            have_lite_file = vit_model_export_vitl_for(model, per_channel, env.kernel, lite_path,
                                                       &err) == VIT_OK;
        }
        if (want_lite && (!have_lite_file || vit_model_load(lite_path, &lite_model, &err) != VIT_OK)) {
            cli_error("lite: %s", err.msg);
            status = 1;
            goto out;
        }
    }
    if (want_lite) {
        rows[nrows].variant = VIT_VARIANT_OPTIMIZED;
        rows[nrows++].lite = 1;
    }
    /* each variant's file: the model's own, or what `export` writes (measured by writing it) */
    long long fsize = model_path ? file_size(cli_model_path(model_path)) /* ORG/NAME too */
                                 : (long long)info->file_bytes;
    for (int r = 0; r < nrows; r++) {
        rows[r].file_bytes = fsize;
        if (rows[r].variant == VIT_VARIANT_INT8 && have_fp32) {
            char tmp[] = "/tmp/vitlens-bench-XXXXXX";
            int fd = mkstemp(tmp);
            if (fd >= 0) {
                close(fd);
                if (vit_model_export_vitq(model, per_channel, tmp, &err) == VIT_OK)
                    rows[r].file_bytes = file_size(tmp);
                unlink(tmp);
            }
        }
        /* the optimized variant's file is the lite one (what `export --variant optimized` writes) */
        if (rows[r].variant == VIT_VARIANT_OPTIMIZED && have_lite_file)
            rows[r].file_bytes = file_size(lite_path);
    }
    /* open -> first result and peak RSS, each in a fresh process */
    for (int r = 0; r < nrows; r++) {
        rows[r].load_ms = rows[r].rss_mb = -1;
        if (!no_load)
            measure_load(&rows[r], rows[r].lite ? lite_path : model_path, threads, per_channel);
    }

    for (int r = 0; r < nrows; r++) {
        vit_session_opts o = vit_session_opts_default();
        vitlens_session_opts_from_env(&o);
        o.variant = rows[r].variant;
        o.threads = threads;
        o.per_channel = per_channel;
        if (profile && !o.profile)
            o.profile = VIT_PROFILE_WALL; /* VIT_OPT_PROFILE=cpu: the thread's CPU time */
        double t0 = vit_now_ms();
        /* one model, several sessions: its derived weights are built once, on the model */
        vit_model *m = rows[r].lite ? lite_model : model;
        if (vit_model_prepare(m, &o, &err) != VIT_OK ||
            vit_session_new(m, &o, &rows[r].session, &err) != VIT_OK) {
            cli_error("%s", err.msg);
            status = 1;
            goto out;
        }
        rows[r].create_ms = vit_now_ms() - t0;
        if (explain) { /* its twin: the rollout on, and the same profile clock as the plain
                        * session (what both pay for it), whose profile is the one printed */
            o.rollout = 1;
            if (vit_session_new(m, &o, &rows[r].roll_session, &err) != VIT_OK) {
                cli_error("%s", err.msg);
                status = 1;
                goto out;
            }
            rows[r].roll_ms = calloc((size_t)runs, sizeof(double));
            rows[r].roll_ratio = calloc((size_t)runs, sizeof(double));
        }
        rows[r].ms = calloc((size_t)runs, sizeof(double));
        for (int k = 0; profile && k <= VIT_OP_COUNT; k++)
            rows[r].prof_ms[k] = calloc((size_t)runs, sizeof(double));
    }

    /* agreement with fp32 on every input */
    for (int k = 0; k < n_inputs; k++) {
        float *ref = ref_logits + (size_t)k * info->num_classes;
        vit_session_run(rows[0].session, inputs + (size_t)k * in_n, ref, &err);
        int32_t ref_top;
        vit_topk(ref, info->num_classes, 1, &ref_top);
        for (int r = 0; r < nrows; r++) {
            vit_session_run(rows[r].session, inputs + (size_t)k * in_n, logits, &err);
            int32_t top;
            vit_topk(logits, info->num_classes, 1, &top);
            rows[r].top1_agree += top == ref_top;
            rows[r].images++;
            for (int32_t j = 0; j < info->num_classes; j++)
                rows[r].max_logit_err = fmaxf(rows[r].max_logit_err, fabsf(logits[j] - ref[j]));
        }
    }

    /* warm-up, then interleaved timed runs */
    for (int w = 0; w < warmup; w++)
        for (int r = 0; r < nrows; r++) {
            vit_session_run(rows[r].session, inputs, logits, &err);
            if (rows[r].roll_session)
                vit_session_run(rows[r].roll_session, inputs, logits, &err);
        }
    for (int i = 0; i < runs; i++)
        for (int r0 = 0; r0 < nrows; r0++) {
            int r = (r0 + i) % nrows; /* rotate the order too */
            const float *in = inputs + (size_t)(i % n_inputs) * in_n;
            /* --explain: the rollout's twin right before (odd runs) or after (even) */
            vit_session *twin = rows[r].roll_session;
            if (twin && i % 2)
                rows[r].roll_ms[i] = timed_run(twin, in, logits);
            rows[r].ms[i] = timed_run(rows[r].session, in, logits);
            if (twin && i % 2 == 0)
                rows[r].roll_ms[i] = timed_run(twin, in, logits);
            if (twin)
                rows[r].roll_ratio[i] =
                    rows[r].ms[i] > 0 ? rows[r].roll_ms[i] / rows[r].ms[i] : 1.0;
            if (profile && vit_session_profile(rows[r].session, &rows[r].prof, NULL) == VIT_OK) {
                for (int k = 0; k < VIT_OP_COUNT; k++)
                    rows[r].prof_ms[k][i] = rows[r].prof.ms[k];
                rows[r].prof_ms[VIT_OP_COUNT][i] = rows[r].prof.forward_ms;
            }
        }
    for (int r = 0; profile && r < nrows; r++)
        profile_medians(&rows[r], runs);
    for (int r = 0; explain && r < nrows; r++) {
        vitlens_stats_sort(rows[r].roll_ms, (size_t)runs);
        vitlens_stats_sort(rows[r].roll_ratio, (size_t)runs);
    }

    double ref_median = 0;
    if (markdown)
        printf("**%s** · %d thread%s · %d runs (+%d warm-up), interleaved · %s · CPU: %s\n\n"
               "| Model | Inference Time (median ms) | p10–p90 ms | Reduction | Size (MB) | Size "
               "reduction | Top-1 agreement with fp32 | Open → first result (ms) | Peak RSS (MB) "
               "| Kernel |\n"
               "|---|---|---|---|---|---|---|---|---|---|\n",
               info->name, vit_session_threads(rows[0].session),
               vit_session_threads(rows[0].session) == 1 ? "" : "s", runs, warmup,
               n_images ? "images given" : "a fixed random input", cpu_label());
    else if (!json && !csv)
        printf("%s · %d thread%s · %d runs (+%d warm-up) · %s · CPU: %s\n", info->name,
               vit_session_threads(rows[0].session),
               vit_session_threads(rows[0].session) == 1 ? "" : "s", runs, warmup,
               n_images ? "images given" : "a fixed random input", cpu_label());
    if (csv)
        printf("variant,median_ms,min_ms,p90_ms,reduction_pct,runs,threads,file_bytes,"
               "size_reduction_pct,top1_agree,max_logit_err,kernel,load_ms,peak_rss_mb%s\n",
               explain ? ",rollout_median_ms,rollout_cost_pct" : "");
    else if (!json && !markdown)
        printf("%-10s %10s %9s %9s %10s %12s %9s %10s %12s %9s %9s  %s\n", "variant", "median ms",
               "min ms", "p90 ms", "reduction", "file size", "size red.", "top-1 agr.",
               "max|Δlogit|", "load ms", "peak RSS", "kernel");
    for (int r = 0; r < nrows; r++) {
        vitlens_stats_sort(rows[r].ms, (size_t)runs);
        double med = vitlens_stats_median_sorted(rows[r].ms, (size_t)runs);
        if (r == 0)
            ref_median = med;
        if (r == 0 && !show_fp32)
            continue;
        double reduction = 100.0 * (1.0 - med / ref_median);
        long long vsize = rows[r].file_bytes;
        double size_red = 100.0 * (1.0 - (double)vsize / (double)rows[0].file_bytes);
        double agree = rows[r].images ? (double)rows[r].top1_agree / rows[r].images : 0.0;
        const char *kernel = vit_session_kernel(rows[r].session);
        const char *vname = row_name(&rows[r]);
        char load_s[32] = "-", rss_s[32] = "-";
        if (rows[r].load_ms >= 0) {
            snprintf(load_s, sizeof load_s, "%.1f", rows[r].load_ms);
            snprintf(rss_s, sizeof rss_s, "%.1f", rows[r].rss_mb);
        }
        if (json) {
            printf("{\"variant\": \"%s\", \"model\": ", vname);
            cli_json_string(stdout, info->name);
            printf(", \"median_ms\": %.4f, \"min_ms\": %.4f, \"p90_ms\": %.4f, \"reduction_pct\": %.2f,"
                   " \"runs\": %d, \"threads\": %d, \"file_bytes\": %lld, \"top1_agree\": %.4f,"
                   " \"max_logit_err\": ",
                   med, rows[r].ms[0], vitlens_stats_percentile_sorted(rows[r].ms, (size_t)runs, 90), reduction, runs,
                   vit_session_threads(rows[r].session), vsize, agree);
            cli_json_number(stdout, rows[r].max_logit_err, 6); /* NaN when a variant gave NaN */
            printf(", \"kernel\": \"%s\", \"session_ms\": %.2f, \"load_ms\": %.3f,"
                   " \"peak_rss_mb\": %.2f, \"cpu\": \"%s\"",
                   kernel, rows[r].create_ms, rows[r].load_ms, rows[r].rss_mb, cpu_label());
            if (profile)
                json_profile(&rows[r]);
            int32_t gh = 0, gw = 0; /* --explain: the rollout of the last run is there */
            if (rows[r].roll_session && vit_session_rollout(rows[r].roll_session, &gh, &gw))
                printf(", \"rollout_grid\": [%d, %d], \"rollout_median_ms\": %.4f,"
                       " \"rollout_cost_pct\": %.2f, \"rollout_paired_p10_pct\": %.2f,"
                       " \"rollout_paired_median_pct\": %.2f, \"rollout_paired_p90_pct\": %.2f",
                       gh, gw, vitlens_stats_median_sorted(rows[r].roll_ms, (size_t)runs),
                       roll_cost_pct(&rows[r], runs), roll_paired_pct(&rows[r], runs, 10),
                       roll_paired_pct(&rows[r], runs, 50), roll_paired_pct(&rows[r], runs, 90));
            printf("}\n");
        } else if (csv) {
            printf("%s,%.4f,%.4f,%.4f,%.2f,%d,%d,%lld,%.2f,%.4f,%.6g,%s,%.3f,%.2f", vname, med,
                   rows[r].ms[0], vitlens_stats_percentile_sorted(rows[r].ms, (size_t)runs, 90), reduction, runs,
                   vit_session_threads(rows[r].session), vsize, size_red, agree,
                   rows[r].max_logit_err, kernel, rows[r].load_ms, rows[r].rss_mb);
            if (explain)
                printf(",%.4f,%.2f", vitlens_stats_median_sorted(rows[r].roll_ms, (size_t)runs),
                       roll_cost_pct(&rows[r], runs));
            printf("\n");
        } else if (markdown) {
            printf("| %s | %.2f | %.2f–%.2f | %.1f%% | %.1f | %.1f%% | %d/%d | %s | %s | %s |\n",
                   vname, med, vitlens_stats_percentile_sorted(rows[r].ms, (size_t)runs, 10), vitlens_stats_percentile_sorted(rows[r].ms, (size_t)runs, 90),
                   reduction, (double)vsize / 1e6, size_red, rows[r].top1_agree, rows[r].images,
                   load_s, rss_s, kernel);
        } else {
            printf("%-10s %10.2f %9.2f %9.2f %9.1f%% %9.1f MB %8.1f%% %5d/%-4d %12.2e %9s %6s MB"
                   "  %s\n",
                   vname, med, rows[r].ms[0], vitlens_stats_percentile_sorted(rows[r].ms, (size_t)runs, 90), reduction,
                   (double)vsize / 1e6, size_red, rows[r].top1_agree, rows[r].images,
                   rows[r].max_logit_err, load_s, rss_s, kernel);
        }
    }
    if (profile && !json && !csv && nrows > 0)
        print_profile(rows, show_fp32 ? 0 : 1, nrows, runs, markdown);
    if (explain && !json && !csv && nrows > 0)
        print_rollout(rows, show_fp32 ? 0 : 1, nrows, runs, markdown);
    if (plot) {
#ifdef VITLENS_HAVE_CAIRO
        /* the same chart as the app's Compare view, written without a display */
        VitlensChart chart = {0};
        char sub[128];
        snprintf(sub, sizeof sub, "median forward time, p10–p90 whiskers · %d thread%s · %d runs",
                 vit_session_threads(rows[0].session),
                 vit_session_threads(rows[0].session) == 1 ? "" : "s", runs);
        chart.title = info->name;
        chart.subtitle = sub;
        for (int r = 0; r < nrows && chart.n_rows < VITLENS_CHART_MAX_ROWS; r++) {
            if (r == 0 && !show_fp32)
                continue;
            VitlensChartRow *cr = &chart.rows[chart.n_rows++];
            cr->name = row_name(&rows[r]);
            cr->median_ms = vitlens_stats_median_sorted(rows[r].ms, (size_t)runs);
            cr->p10_ms = vitlens_stats_percentile_sorted(rows[r].ms, (size_t)runs, 10);
            cr->p90_ms = vitlens_stats_percentile_sorted(rows[r].ms, (size_t)runs, 90);
        }
        char msg[512];
        if (vitlens_chart_write_png(&chart, 720, 120 + 56 * chart.n_rows, plot, msg, sizeof msg)) {
            cli_error("%s", msg);
            status = 1;
        }
#else
        cli_error("--plot: this build has no cairo");
        status = 1;
#endif
    }

out:
    for (int r = 0; r < nrows; r++) {
        vit_session_free(rows[r].session);
        vit_session_free(rows[r].roll_session);
        free(rows[r].ms);
        free(rows[r].roll_ms);
        free(rows[r].roll_ratio);
        for (int k = 0; k <= VIT_OP_COUNT; k++)
            free(rows[r].prof_ms[k]);
    }
    free(inputs);
    free(logits);
    free(ref_logits);
    vit_model_free(model);
    vit_model_free(lite_model);
    if (lite_created)
        unlink(lite_path);
    return status;
}
