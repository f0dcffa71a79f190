/* vitlens-error.c — the app's error domain
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens-error"

#include <glib/gi18n-lib.h>
#include <string.h>

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
    {
      g_autofree char *message = vitlens_localize_vit_message (err->msg);
      g_set_error_literal (error, VITLENS_ERROR, code, message);
    }
  else
    g_set_error_literal (error, VITLENS_ERROR, code, vit_status_str (err->status));
}

/* The engine (plain C, no gettext) says what is wrong with a file in English after the file's
 * name. These are the problems of files a person opens or drops; the ones with ": %s" end in a
 * detail (a system error, a decoder's words) that is kept. */
static const char *const file_problems[] = {
  /* Translators: the engine's words after a file name, e.g. "photo.heic: not a PNG or JPEG image" */
  N_("not a PNG or JPEG image"),
  N_("empty file"),
  N_("file is empty"),
  N_("truncated PNG file"),
  N_("truncated JPEG file"),
  N_("image is too large"),
  N_("is a directory, not an image file"),
  N_("not a regular file"),
  N_("out of memory"),
  N_("JPEG has tables but no image"),
  N_("read error"),
  N_("not a safetensors file (header is not a JSON object)"),
  N_("not a .vitl file"),
  /* Translators: the engine's words after a file name; %s is the system's reason */
  N_("cannot open: %s"),
  /* Translators: the engine's words after a file name; %s is the decoder's reason */
  N_("corrupt PNG: %s"),
  /* Translators: the engine's words after a file name; %s is the decoder's reason */
  N_("corrupt JPEG: %s"),
  /* Translators: the engine's words after a file name; %s is the decoder's reason */
  N_("unsupported JPEG: %s"),
  /* Translators: the engine's words after a file name; %s is the system's reason */
  N_("read error: %s"),
};

char *
vitlens_localize_vit_message (const char *message)
{
  const char *sep;
  const char *problem;

  g_return_val_if_fail (message != NULL, NULL);

  sep = strstr (message, ": ");
  if (sep == NULL)
    return g_strdup (message);
  problem = sep + 2;
  for (gsize i = 0; i < G_N_ELEMENTS (file_problems); i++)
    {
      const char *english = file_problems[i];
      const char *arg = strstr (english, "%s");

      if (arg == NULL && strcmp (problem, english) == 0)
        return g_strdup_printf ("%.*s: %s", (int)(sep - message), message, _(english));
      if (arg != NULL && strncmp (problem, english, (gsize)(arg - english)) == 0)
        {
          g_autofree char *translated = g_strdup_printf (_(english), problem + (arg - english));
          return g_strdup_printf ("%.*s: %s", (int)(sep - message), message, translated);
        }
    }
  return g_strdup (message);
}
