/* cli-eval.c — `vitlens-cli eval`: accuracy of each variant on a labelled data set, agreement
 * with fp32, time per image, per-class accuracy and the confusion matrix. */
#include "cli-common.h"
#include "cli-dataset.h"
#include "cli-explain.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_VARIANTS 8

typedef struct {
    vit_variant variant;
    vit_session *session;
    int64_t top1, top5, agree;
    int64_t agree_int8; /* with the int8 row, when one runs (the optimized variant's second bar) */
    double ms;         /* preprocess + forward, summed */
    int64_t *confusion;/* (C, C): [truth][predicted] */
    double roll_corr;  /* --explain: the sum of the rollout's Pearson correlation with fp32's */
    int64_t roll_n;    /* over this many images (a constant grid has none) */
} eval_row;

static void usage(FILE *f)
{
    fputs("Usage: " CLI_PROG " eval [--model PATH] [--variants fp32,int8,...] [--threads N]\n"
          "                        [--dataset fashion-mnist[:DIR] | --dataset imagefolder:DIR]\n"
          "                        [--limit N] [--json] [--confusion-png FILE] [--explain]\n"
          "Reports top-1 and top-5 accuracy, top-1 agreement with fp32, time per image,\n"
          "per-class accuracy and the confusion matrix of each variant. --explain: also the\n"
          "mean Pearson correlation of each variant's attention rollout with fp32's\n"
          "(rollout_corr_fp32).\n",
          f);
}

/* The confusion matrix as an image: a cell of 16 px per entry, gray level by row-normalised
 * count (white = 0, black = all of the row), written through the engine's PNG writer. */
static int write_confusion_png(const char *path, const int64_t *cm, const int64_t *class_count,
                               int32_t C)
{
    const int cell = 16;
    vit_image img;
    vit_error err = {0};
    if (vit_image_new(C * cell, C * cell, VIT_PIXEL_RGB8, &img, &err) != VIT_OK) {
        cli_error("%s", err.msg);
        return -1;
    }
    for (int32_t t = 0; t < C; t++) {
        const int64_t row = class_count[t]; /* predictions outside the data set's classes too */
        for (int32_t p = 0; p < C; p++) {
            double f = row ? (double)cm[t * C + p] / row : 0.0;
            uint8_t v = (uint8_t)(255.0 - 255.0 * f + 0.5);
            for (int y = 0; y < cell; y++)
                for (int x = 0; x < cell; x++) {
                    uint8_t *px = img.data + (size_t)(t * cell + y) * img.stride + (size_t)(p * cell + x) * 3;
                    int border = x == 0 || y == 0;
                    px[0] = border ? 200 : v;
                    px[1] = border ? 200 : v;
                    px[2] = border ? 200 : (t == p ? (uint8_t)(v / 2 + 127) : v);
                }
        }
    }
    int st = vit_image_save_png(&img, path, &err) == VIT_OK ? 0 : -1;
    if (st)
        cli_error("%s", err.msg);
    vit_image_free(&img);
    return st;
}

int cli_eval(int argc, char **argv)
{
    const char *model_path = NULL, *variants_arg = "fp32,int8", *spec = "fashion-mnist";
    const char *png = NULL;
    int32_t threads = 0, limit = 0;
    int json = 0, explain = 0;
    float *ref_grid = NULL;
    static const struct option longopts[] = {
        {"explain", no_argument, NULL, 'e'},
        {"model", required_argument, NULL, 'm'},   {"variants", required_argument, NULL, 'v'},
        {"threads", required_argument, NULL, 't'}, {"dataset", required_argument, NULL, 'd'},
        {"limit", required_argument, NULL, 'n'},   {"json", no_argument, NULL, 'j'},
        {"confusion-png", required_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:v:t:d:n:jp:eh", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'v': variants_arg = optarg; break;
        case 'd': spec = optarg; break;
        case 'p': png = optarg; break;
        case 't':
            if (!cli_parse_int("--threads", optarg, 1, 256, &threads))
                return 2;
            break;
        case 'n':
            if (!cli_parse_int("--limit", optarg, 1, 100000000, &limit))
                return 2;
            break;
        case 'j': json = 1; break;
        case 'e': explain = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        cli_error("eval: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    vit_variant vars[MAX_VARIANTS];
    int nv = cli_parse_variants(variants_arg, vars, MAX_VARIANTS);
    if (nv < 0)
        return 2;
    vit_model *model = cli_load_model(model_path);
    if (!model)
        return 1;
    const vit_model_info *info = vit_model_get_info(model);
    cli_dataset ds;
    if (cli_dataset_open(spec, model, &ds) != 0) {
        vit_model_free(model);
        return 1;
    }
    int32_t n = limit && limit < ds.count ? limit : ds.count;
    int32_t K = info->num_classes, C = ds.num_classes;

    /* fp32 runs first whenever the model has it: it is what agreement is measured against */
    eval_row rows[MAX_VARIANTS + 1];
    memset(rows, 0, sizeof rows);
    int show_fp32, status = 0;
    vit_variant planned[MAX_VARIANTS + 1];
    int nrows = cli_plan_variants(model, vars, nv, planned, &show_fp32);
    for (int r = 0; r < nrows; r++)
        rows[r].variant = planned[r];
    vit_error err = {0};
    /* images per true class: what per-class accuracy divides by (a prediction outside the data
     * set's classes has no column in the matrix, but is still a miss) */
    int64_t *class_count = calloc((size_t)C, sizeof *class_count);
    if (!class_count) {
        cli_error("%s: out of memory for %d classes", ds.name, C);
        status = 1;
        goto out;
    }
    for (int r = 0; r < nrows; r++) {
        vit_session_opts o = vit_session_opts_default();
        vitlens_session_opts_from_env(&o);
        o.variant = rows[r].variant;
        o.threads = threads;
        o.rollout = explain;
        /* one model, several sessions: its derived weights are built once, on the model */
        if (vit_model_prepare(model, &o, &err) != VIT_OK ||
            vit_session_new(model, &o, &rows[r].session, &err) != VIT_OK) {
            cli_error("%s", err.msg);
            status = 1;
            goto out;
        }
        rows[r].confusion = calloc((size_t)C * C, sizeof(int64_t));
        if (!rows[r].confusion) {
            cli_error("%s: out of memory for a %d×%d confusion matrix", ds.name, C, C);
            status = 1;
            goto out;
        }
    }

    ref_grid = explain ? malloc((size_t)info->num_patches * sizeof(float)) : NULL;
    if (explain && !ref_grid) {
        cli_error("out of memory");
        status = 1;
        goto out;
    }
    int int8_row = -1;
    for (int r = 0; r < nrows; r++)
        if (rows[r].variant == VIT_VARIANT_INT8)
            int8_row = r;
    int tty = isatty(STDERR_FILENO);
    double t_start = vit_now_ms(), last = 0;
    int32_t skipped = 0;
    for (int32_t i = 0; i < n; i++) {
        vit_image img;
        int owned;
        if (cli_dataset_image(&ds, i, &img, &owned, &err) != VIT_OK) {
            cli_error("%s", err.msg);
            skipped++;
            continue;
        }
        int32_t truth = ds.labels[i], ref_top1 = -1, top1s[MAX_VARIANTS + 1];
        for (int r = 0; r < nrows; r++) {
            vit_prediction p;
            if (vit_session_classify(rows[r].session, &img, 5, &p, &err) != VIT_OK) {
                cli_error("%s", err.msg);
                status = 1;
                break;
            }
            rows[r].ms += p.timing.preprocess_ms + p.timing.forward_ms;
            rows[r].top1 += p.index[0] == truth;
            for (int32_t j = 0; j < p.k; j++)
                rows[r].top5 += p.index[j] == truth;
            if (r == 0)
                ref_top1 = p.index[0];
            rows[r].agree += p.index[0] == ref_top1;
            top1s[r] = p.index[0];
            // --explain: row 0's rollout is the reference (fp32 whenever the model has it)
            int32_t gh, gw;
            const float *grid = explain ? vit_session_rollout(rows[r].session, &gh, &gw) : NULL;
            if (grid && r == 0)
                memcpy(ref_grid, grid, (size_t)gh * gw * sizeof(float));
            double corr = grid && r > 0 ? cli_pearson(grid, ref_grid, gh * gw) : NAN;
            if (corr == corr) {
                rows[r].roll_corr += corr;
                rows[r].roll_n++;
            }
            if (p.index[0] < C)
                rows[r].confusion[(size_t)truth * C + p.index[0]]++;
        }
        if (!status)
            class_count[truth]++;
        if (!status && int8_row >= 0)
            for (int r = 0; r < nrows; r++)
                rows[r].agree_int8 += top1s[r] == top1s[int8_row];
        if (owned)
            vit_image_free(&img);
        double now = vit_now_ms();
        if (tty && (now - last > 200 || i + 1 == n)) {
            last = now;
            fprintf(stderr, "\r%s: %d/%d images, %.0f s", ds.name, i + 1, n, (now - t_start) / 1e3);
            if (i + 1 == n)
                fputc('\n', stderr);
        }
        if (status)
            break;
    }
    int32_t done = n - skipped;
    if (done <= 0) {
        cli_error("no image could be evaluated");
        status = 1;
        goto out;
    }

    char buf[32];
    if (!json)
        printf("%s · %s · %d images%s\n", info->name, ds.name, done,
               skipped ? " (some skipped: see messages)" : "");
    if (!json)
        printf("%-10s %8s %8s %10s %10s %12s  %s\n", "variant", "top-1", "top-5", "agree fp32",
               "agree int8", "ms / image", "kernel");
    for (int r = 0; r < nrows; r++) {
        if (r == 0 && !show_fp32)
            continue;
        double t1 = (double)rows[r].top1 / done, t5 = (double)rows[r].top5 / done,
               ag = (double)rows[r].agree / done, ms = rows[r].ms / done;
        const char *vn = vit_variant_name(rows[r].variant);
        if (json) {
            printf("{\"variant\": \"%s\", \"model\": ", vn);
            cli_json_string(stdout, info->name);
            printf(", \"dataset\": ");
            cli_json_string(stdout, ds.name);
            printf(", \"images\": %d, \"top1\": %.6f, \"top5\": %.6f, \"agree_fp32\": %.6f, "
                   "\"ms_per_image\": %.4f, \"kernel\": \"%s\", ",
                   done, t1, t5, ag, ms, vit_session_kernel(rows[r].session));
            if (int8_row >= 0)
                printf("\"agree_int8\": %.6f, ", (double)rows[r].agree_int8 / done);
            if (explain) {
                printf("\"rollout_corr_fp32\": ");
                cli_json_number(stdout, r == 0 ? 1.0 : rows[r].roll_corr / (double)rows[r].roll_n, 6);
                printf(", \"rollout_images\": %lld, ", (long long)(r == 0 ? done : rows[r].roll_n));
            }
            printf("\"per_class_top1\": [");
            for (int32_t t = 0; t < C; t++) {
                const int64_t row = class_count[t];
                printf("%s%.6f", t ? ", " : "", row ? (double)rows[r].confusion[(size_t)t * C + t] / row : 0.0);
            }
            printf("], \"confusion\": [");
            for (int32_t t = 0; t < C; t++) {
                printf("%s[", t ? ", " : "");
                for (int32_t p = 0; p < C; p++)
                    printf("%s%lld", p ? ", " : "", (long long)rows[r].confusion[(size_t)t * C + p]);
                printf("]");
            }
            printf("]}\n");
        } else {
            char a8[16] = "-";
            if (int8_row >= 0)
                snprintf(a8, sizeof a8, "%.2f%%", 100.0 * rows[r].agree_int8 / done);
            printf("%-10s %7.2f%% %7.2f%% %9.2f%% %10s %12.3f  %s\n", vn, 100 * t1, 100 * t5, 100 * ag, a8,
                   ms, vit_session_kernel(rows[r].session));
            if (explain && r > 0)
                printf("%-10s rollout: mean Pearson correlation with fp32's %.4f over %lld images\n",
                       "", rows[r].roll_corr / (double)rows[r].roll_n, (long long)rows[r].roll_n);
        }
    }
    if (!json && C <= 32) {
        for (int r = 0; r < nrows; r++) {
            if (r == 0 && !show_fp32)
                continue;
            printf("\n%s: per-class top-1 and confusion matrix (rows: truth, columns: predicted)\n",
                   vit_variant_name(rows[r].variant));
            for (int32_t t = 0; t < C; t++) {
                const int64_t row = class_count[t];
                char shown[256];
                printf("  %-14.14s %6.2f%% |",
                       cli_printable(cli_label(model, t, buf, sizeof buf), shown, sizeof shown),
                       row ? 100.0 * rows[r].confusion[(size_t)t * C + t] / row : 0.0);
                for (int32_t p = 0; p < C; p++)
                    printf(" %5lld", (long long)rows[r].confusion[(size_t)t * C + p]);
                printf("\n");
            }
        }
    }
    (void)K;
    if (png) {
        /* the first variant asked for */
        int r = show_fp32 ? 0 : (nrows > 1 ? 1 : 0);
        if (write_confusion_png(png, rows[r].confusion, class_count, C) != 0)
            status = 1;
    }

out:
    free(class_count);
    free(ref_grid);
    for (int r = 0; r < nrows; r++) {
        vit_session_free(rows[r].session);
        free(rows[r].confusion);
    }
    cli_dataset_close(&ds);
    vit_model_free(model);
    return status;
}
