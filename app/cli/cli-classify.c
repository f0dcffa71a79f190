/* cli-classify.c — `vitlens-cli classify`: top-k labels and timings for each image. */
#include "cli-common.h"
#include "cli-explain.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("Usage: " CLI_PROG " classify [--model PATH] [--variant fp32|int8|optimized] [--top K]\n"
          "                            [--threads N] [--json] [--explain] [--explain-png FILE]\n"
          "                            IMAGE...\n"
          "Prints the top-K classes of each PNG or JPEG image with the time of each stage.\n"
          "Without --model, the embedded default model is used.\n"
          "--explain adds the attention rollout (the patch grid, max 1) to each --json line;\n"
          "--explain-png FILE writes it as a heat map over the image (several images:\n"
          "FILE-<image stem>.png, e.g. heat.png -> heat-wolf.png).\n",
          f);
}

static void print_human(const char *image, const vit_model *m, const vit_session *s,
                        const vit_prediction *p)
{
    const vit_model_info *info = vit_model_get_info(m);
    printf("%s  (%s, %s, %d thread%s, %s)\n", image, info->name,
           vit_variant_name(vit_session_variant(s)), vit_session_threads(s),
           vit_session_threads(s) == 1 ? "" : "s", vit_session_kernel(s));
    char buf[32], shown[1024];
    for (int32_t j = 0; j < p->k; j++)
        printf("  %d  %6.2f%%  %4d  %s\n", j + 1, 100.0 * p->prob[j], p->index[j],
               cli_printable(cli_label(m, p->index[j], buf, sizeof buf), shown, sizeof shown));
    printf("  decode %.2f ms · preprocess %.2f ms · forward %.2f ms\n", p->timing.decode_ms,
           p->timing.preprocess_ms, p->timing.forward_ms);
}

static void print_json(const char *image, const char *model_name, const vit_model *m,
                       const vit_session *s, const vit_prediction *p, int explain)
{
    char buf[32];
    fputs("{\"image\": ", stdout);
    cli_json_string(stdout, image);
    fputs(", \"model\": ", stdout);
    cli_json_string(stdout, model_name);
    printf(", \"arch\": ");
    cli_json_string(stdout, vit_model_get_info(m)->name);
    printf(", \"variant\": \"%s\", \"threads\": %d, \"kernel\": \"%s\", \"top\": [",
           vit_variant_name(vit_session_variant(s)), vit_session_threads(s), vit_session_kernel(s));
    for (int32_t j = 0; j < p->k; j++) {
        printf("%s{\"index\": %d, \"label\": ", j ? ", " : "", p->index[j]);
        cli_json_string(stdout, cli_label(m, p->index[j], buf, sizeof buf));
        printf(", \"prob\": ");
        cli_json_number(stdout, p->prob[j], 6);
        printf("}");
    }
    printf("], \"ms\": {\"decode\": %.3f, \"preprocess\": %.3f, \"forward\": %.3f}",
           p->timing.decode_ms, p->timing.preprocess_ms, p->timing.forward_ms);
    int32_t gh, gw;
    const float *grid = explain ? vit_session_rollout(s, &gh, &gw) : NULL;
    if (grid) {
        fputs(", ", stdout);
        cli_explain_json(stdout, grid, gh, gw);
    }
    printf("}\n");
}

int cli_classify(int argc, char **argv)
{
    vit_session_opts opts = vit_session_opts_default();
    vitlens_session_opts_from_env(&opts);
    cli_opts o = {.variant = opts.variant, .threads = opts.threads, .top = 5};
    int json = 0, explain = 0;
    const char *explain_png = NULL;
    static const struct option longopts[] = {
        CLI_OPTS_LONG,
        {"explain", no_argument, NULL, 'e'},
        {"explain-png", required_argument, NULL, 'E'},
        {"json", no_argument, NULL, 'j'},
        {"per-channel", no_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    int c, common;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:v:k:t:jceE:h", longopts, NULL)) != -1) {
        if ((common = cli_common_option(c, optarg, &o)) == CLI_OPT_BAD)
            return 2;
        if (common == CLI_OPT_DONE)
            continue;
        switch (c) {
        case 'j': json = 1; break;
        case 'c': opts.per_channel = 1; break;
        case 'e': explain = 1; break;
        case 'E': explain_png = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        cli_error("classify: no image given");
        usage(stderr);
        return 2;
    }

    opts.variant = o.variant;
    opts.threads = o.threads;
    opts.rollout = explain || explain_png;
    vit_model *model = cli_load_model(o.model_path);
    if (!model)
        return 1;
    vit_error err = {0};
    vit_session *session = NULL;
    if (vit_session_new(model, &opts, &session, &err) != VIT_OK) {
        cli_error("%s", err.msg);
        vit_model_free(model);
        return 1;
    }

    int failures = 0;
    for (int a = optind; a < argc; a++) {
        const char *path = argv[a];
        vit_image img = {0};
        double t0 = vit_now_ms();
        if (vit_image_load(path, &img, &err) != VIT_OK) {
            cli_error("%s", err.msg);
            failures++;
            continue;
        }
        double decode_ms = vit_now_ms() - t0;
        vit_prediction pred;
        if (vit_session_classify(session, &img, o.top, &pred, &err) != VIT_OK) {
            cli_error("%s: %s", path, err.msg);
            failures++;
            vit_image_free(&img);
            continue;
        }
        pred.timing.decode_ms = decode_ms;
        if (json)
            print_json(path, cli_model_display_name(o.model_path), model, session, &pred, explain);
        else
            print_human(path, model, session, &pred);
        int32_t gh, gw;
        const float *grid = explain_png ? vit_session_rollout(session, &gh, &gw) : NULL;
        if (grid) {
            char *out = argc - optind > 1 ? cli_explain_png_path(explain_png, path) : NULL;
            const char *target = out ? out : explain_png;
            if (cli_explain_png(target, &img, &vit_model_get_info(model)->pre, grid, gh, gw) != 0)
                failures++;
            else if (!json)
                printf("  rollout heat map: %s\n", target);
            free(out);
        }
        fflush(stdout);
        vit_image_free(&img);
    }
    vit_session_free(session);
    vit_model_free(model);
    return failures ? 1 : 0;
}
