/* vitlens-cli.c — the command-line front end of ViT Lens: dispatches to the subcommands. */
#include "cli-common.h"

#include <signal.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("Usage: " CLI_PROG " COMMAND [OPTIONS]\n"
          "\n"
          "Commands:\n"
          "  classify   top-K classes and timings for images\n"
          "  bench      forward-pass times of the variants, interleaved (the tutorial's table)\n"
          "  eval       accuracy of the variants on a labelled data set\n"
          "  export     write an int8 (.vitq) or lite (.vitl) model file\n"
          "  stream     classify frames from a camera, video or GStreamer pipeline\n"
          "  fetch      download a model from the Hugging Face Hub into its cache\n"
          "\n"
          "Run '" CLI_PROG " COMMAND --help' for a command's options.\n",
          f);
}

/* Interrupted while writing a file: remove the temporary file the writer may have named, then
 * die of the signal as before. */
static void on_fatal_signal(int sig)
{
    vit_output_remove_temporaries();
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv)
{
    static const int fatal[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction sa = {.sa_handler = on_fatal_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(fatal[i], &sa, NULL);
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf(CLI_PROG " %s\n", VIT_VERSION_STRING);
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } commands[] = {
        {"classify", cli_classify},
        {"bench", cli_bench},
        {"export", cli_export},
        {"eval", cli_eval},
        {"stream", cli_stream},
        {"fetch", cli_fetch},
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    cli_error("unknown command '%s'", cmd);
    usage(stderr);
    return 2;
}
