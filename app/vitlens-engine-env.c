/* vitlens-engine-env.c — VIT_KERNEL and VIT_OPT_* as session options (vitlens-engine-env.h),
 * read exactly as the engine used to read them itself. */
#include "vitlens-engine-env.h"

#include <stdlib.h>
#include <string.h>

void vitlens_session_opts_from_env(vit_session_opts *opts)
{
    const char *kernel = getenv("VIT_KERNEL");
    if (kernel && *kernel)
        opts->kernel = kernel;

    const char *att = getenv("VIT_OPT_ATTENTION");
    if (att && strcmp(att, "fp32") == 0)
        opts->attention = VIT_ATTENTION_FP32;

    /* a list in any form: each name found anywhere in the value turns its fusion off */
    const char *uf = getenv("VIT_OPT_UNFUSE");
    if (uf) {
        static const struct {
            const char *name;
            uint32_t bit;
        } names[] = {{"ln", VIT_UNFUSE_LN},           {"gelu", VIT_UNFUSE_GELU},
                     {"add", VIT_UNFUSE_ADD},         {"attention", VIT_UNFUSE_ATTENTION},
                     {"patch", VIT_UNFUSE_PATCH},     {"all", VIT_UNFUSE_ALL}};
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (strstr(uf, names[k].name))
                opts->unfuse |= names[k].bit;
    }

    const char *prof = getenv("VIT_OPT_PROFILE");
    if (prof && *prof && *prof != '0')
        opts->profile = strcmp(prof, "cpu") == 0 ? VIT_PROFILE_CPU : VIT_PROFILE_WALL;
}
