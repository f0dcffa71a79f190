/* vitlens-error.h — the app's error domain
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

#include "vit.h"

G_BEGIN_DECLS

#define VITLENS_ERROR (vitlens_error_quark ())

typedef enum
{
  VITLENS_ERROR_FAILED,      /* anything not below */
  VITLENS_ERROR_IO,          /* cannot read a file */
  VITLENS_ERROR_FORMAT,      /* the file is malformed */
  VITLENS_ERROR_UNSUPPORTED, /* well-formed but not supported (image type, dtype, variant) */
  VITLENS_ERROR_NO_MODEL,    /* no model is loaded, or this build has no embedded model */
} VitlensError;

GQuark vitlens_error_quark (void);

/* Set @error from an engine error. Its message already names the file and the problem, in
 * English ("photo.heic: not a PNG or JPEG image"): the problems a person meets when opening a
 * file are translated (vitlens_localize_vit_message), the rest is kept as the engine wrote it. */
void  vitlens_set_error_from_vit    (GError         **error,
                                     const vit_error *err);
/* "FILE: PROBLEM" with PROBLEM in the user's language when it is one of the translated ones. */
char *vitlens_localize_vit_message  (const char      *message);

G_END_DECLS
