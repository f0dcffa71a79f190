/* vitlens-engine-env.h — the engine's developer environment variables, read by the programs
 * (vitlens-cli, the app) and passed to libvit as session options; the library itself reads
 * none of them (only VIT_CPU, a process-wide cap of the CPU features). Plain C, no GLib. */
#ifndef VITLENS_ENGINE_ENV_H
#define VITLENS_ENGINE_ENV_H

#include "vit.h"

/* Set the fields of *opts that these variables name, leaving the others as they are:
 *   VIT_KERNEL=scalar|avx2|avx512-vnni  opts->kernel (the string stays the environment's); an
 *                                       unknown or unsupported name is logged by the engine
 *                                       (vit_log_set) and the best kernel used
 *   VIT_OPT_ATTENTION=fp32              opts->attention = VIT_ATTENTION_FP32
 *   VIT_OPT_UNFUSE=ln,gelu,add,attention,patch or all
 *                                       opts->unfuse (VIT_UNFUSE_* bits)
 *   VIT_OPT_PROFILE=1 (or any value but 0), =cpu
 *                                       opts->profile = VIT_PROFILE_WALL, VIT_PROFILE_CPU */
void vitlens_session_opts_from_env(vit_session_opts *opts);

#endif /* VITLENS_ENGINE_ENV_H */
