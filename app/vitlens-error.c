/* vitlens-error.c — the app's error domain
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens-error"

#include "vitlens-error.h"

G_DEFINE_QUARK (vitlens-error-quark, vitlens_error)

void
vitlens_set_error_from_vit (GError         **error,
                            const vit_error *err)
{
  int code;

  switch (err->status)
    {
    case VIT_ERR_IO:
      code = VITLENS_ERROR_IO;
      break;
    case VIT_ERR_FORMAT:
    case VIT_ERR_SHAPE:
      code = VITLENS_ERROR_FORMAT;
      break;
    case VIT_ERR_UNSUPPORTED:
    case VIT_ERR_LIMIT:
    case VIT_ERR_CPU:
      code = VITLENS_ERROR_UNSUPPORTED;
      break;
    default:
      code = VITLENS_ERROR_FAILED;
      break;
    }

  if (err->msg[0] != '\0')
    g_set_error_literal (error, VITLENS_ERROR, code, err->msg);
  else
    g_set_error_literal (error, VITLENS_ERROR, code, vit_status_str (err->status));
}
