/* main.c — vitlens, the ViT Lens desktop app
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens"

#include "vitlens-config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "vitlens-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(VitlensApplication) app = NULL;
  const char *localedir = g_getenv ("VITLENS_LOCALEDIR"); /* the build tree's, for development */
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  /* Run from the build tree (tools/run.sh, build/app/vitlens): the catalogs meson compiled there,
   * so that LANGUAGE=zh_CN works without installing anything. */
  if ((localedir == NULL || *localedir == '\0') && exe != NULL &&
      g_str_has_prefix (exe, VITLENS_BUILD_ROOT "/"))
    localedir = VITLENS_BUILD_LOCALEDIR;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = vitlens_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
