/* cli-export.c — `vitlens-cli export`: write a model's int8 form as a .vitq file, or its
 * optimized form as a lite .vitl file. */
#include "cli-common.h"

#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f)
{
    fputs("Usage: " CLI_PROG " export --variant int8|optimized [--model IN] [--per-channel] -o OUT\n"
          "int8: writes the int8-quantized model (int8 Linear weights and scales, fp32 for the\n"
          "rest, config and labels inside) as a .vitq file.\n"
          "optimized: writes a lite .vitl file, the optimized variant's weights prepacked for\n"
          "this CPU's kernel (VIT_KERNEL=avx2|avx512-vnni|scalar picks another), loaded by mmap.\n"
          "Without --model, the embedded model is exported.\n",
          f);
}

int cli_export(int argc, char **argv)
{
    cli_opts o = {.variant = VIT_VARIANT_INT8};
    const char *out_path = NULL;
    int per_channel = 0;
    static const struct option longopts[] = {
        CLI_OPTS_LONG_MODEL,
        {"output", required_argument, NULL, 'o'},
        {"per-channel", no_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    int c, common;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:v:o:ch", longopts, NULL)) != -1) {
        if ((common = cli_common_option(c, optarg, &o)) == CLI_OPT_BAD)
            return 2;
        if (common == CLI_OPT_DONE)
            continue;
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'c': per_channel = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!out_path || optind < argc) {
        usage(stderr);
        return 2;
    }
    if (o.variant != VIT_VARIANT_INT8 && o.variant != VIT_VARIANT_OPTIMIZED) {
        cli_error("export: --variant int8 (.vitq) or optimized (.vitl); fp32 models are the "
                  "safetensors themselves");
        return 2;
    }
    vit_model *model = cli_load_model(o.model_path);
    if (!model)
        return 1;
    vit_error err = {0};
    vit_session_opts env = vit_session_opts_default();
    vitlens_session_opts_from_env(&env); /* VIT_KERNEL: the kernel a .vitl is packed for */
    double t0 = vit_now_ms();
    vit_status s = o.variant == VIT_VARIANT_INT8
                       ? vit_model_export_vitq(model, per_channel, out_path, &err)
                       : vit_model_export_vitl_for(model, per_channel, env.kernel, out_path, &err);
    double ms = vit_now_ms() - t0;
    if (s != VIT_OK) {
        cli_error("%s", err.msg);
        vit_model_free(model);
        return 1;
    }
    struct stat sb;
    long long out_bytes = stat(out_path, &sb) == 0 ? (long long)sb.st_size : -1;
    long long in_bytes = vit_model_get_info(model)->file_bytes;
    printf("wrote %s: %.2f MB, %.1f%% of %s (%.2f MB), %s scales, in %.0f ms\n", out_path,
           out_bytes / 1e6, in_bytes > 0 ? 100.0 * out_bytes / in_bytes : 0.0,
           cli_model_display_name(o.model_path), in_bytes / 1e6,
           per_channel ? "per-channel" : "per-tensor", ms);
    vit_model_free(model);
    return 0;
}
