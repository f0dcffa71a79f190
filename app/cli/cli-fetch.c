/* cli-fetch.c — `vitlens-cli fetch`: a model repository from the Hugging Face Hub into the hub
 * cache (app/vitlens-hub.h), where `--model ORG/NAME` and Python's huggingface_hub find it. */
#include "cli-common.h"

#include <getopt.h>

static void usage(FILE *f)
{
    fputs("Usage: " CLI_PROG " fetch ORG/NAME [--revision REV] [--quiet]\n"
          "Download a model repository from the Hugging Face Hub into the hub cache that Python's\n"
          "huggingface_hub shares: config.json and model.safetensors, and preprocessor_config.json\n"
          "and labels.txt when the repository has them. '--model ORG/NAME' then loads it.\n"
          "Prints the snapshot directory. A download that was cut resumes where it stopped.\n"
          "  --revision REV   a branch, tag or commit (default: main)\n"
          "  --quiet          no progress and no line per file\n"
          "Environment: HF_ENDPOINT (the hub), HF_HUB_CACHE or HF_HOME (the cache),\n"
          "HF_HUB_OFFLINE=1 (no network: the cache only), HF_TOKEN (gated or private repositories).\n",
          f);
}

int cli_fetch(int argc, char **argv)
{
    const char *revision = NULL;
    bool quiet = false;
    static const struct option longopts[] = {
        {"revision", required_argument, NULL, 'r'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': revision = optarg; break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *repo = argv[optind];
#ifdef VITLENS_HAVE_HUB
    if (!vitlens_hub_is_repo_id(repo)) {
        cli_error("fetch: '%s' is not a hub repository id (ORG/NAME, such as "
                  "timm/deit_small_patch16_224.fb_in1k)",
                  repo);
        return 2;
    }
    g_autoptr(VitlensHub) hub = vitlens_hub_new_from_env();
    g_autoptr(GError) error = NULL;
    cli_hub_progress progress;
    cli_hub_progress_init(&progress, quiet);
    g_autofree char *dir = vitlens_hub_fetch_model(hub, repo, revision, cli_hub_progress_show,
                                                   &progress, NULL, &error);
    if (!dir) {
        if (progress.drawing)
            fputc('\n', stderr); /* below a progress line the cut left */
        cli_error("%s", error->message);
        return 1;
    }
    printf("%s\n", dir);
    return 0;
#else
    (void)revision;
    (void)quiet;
    cli_error("fetch %s: this vitlens-cli was built without libsoup 3, so it has no hub", repo);
    return 1;
#endif
}
