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

/* Set @error from an engine error; its message (which already names the file and the
 * problem) becomes the GError's message unchanged. */
void vitlens_set_error_from_vit (GError         **error,
                                 const vit_error *err);

G_END_DECLS
