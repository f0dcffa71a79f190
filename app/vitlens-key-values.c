/* vitlens-key-values.c — a grid of named values
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-key-values.h"

GtkWidget *
vitlens_key_value_add (GtkGrid               *grid,
                       int                    row,
                       const VitlensKeyTitle *title,
                       VitlensKeyValueFlags   flags,
                       GtkWidget            **key_out)
{
  GtkWidget *key = gtk_label_new (_(title->title));
  GtkWidget *value = gtk_label_new ("—");

  gtk_label_set_xalign (GTK_LABEL (key), 0);
  gtk_widget_set_valign (key, GTK_ALIGN_START);
  gtk_widget_add_css_class (key, "dim-label");
  if (title->tooltip != NULL)
    gtk_widget_set_tooltip_text (key, _(title->tooltip));
  if (flags & VITLENS_KEY_VALUE_WRAP_KEY)
    {
      gtk_label_set_wrap (GTK_LABEL (key), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (key), PANGO_WRAP_WORD_CHAR);
    }

  gtk_label_set_xalign (GTK_LABEL (value), 1);
  gtk_widget_set_hexpand (value, TRUE);
  if (flags & VITLENS_KEY_VALUE_NUMERIC)
    gtk_widget_add_css_class (value, "numeric");
  if (flags & VITLENS_KEY_VALUE_ELLIPSIZE)
    gtk_label_set_ellipsize (GTK_LABEL (value), PANGO_ELLIPSIZE_MIDDLE);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (value),
                                  GTK_ACCESSIBLE_RELATION_LABELLED_BY, key, NULL,
                                  -1);

  gtk_grid_attach (grid, key, 0, row, 1, 1);
  gtk_grid_attach (grid, value, 1, row, 1, 1);
  if (key_out != NULL)
    *key_out = key;
  return value;
}

char *
vitlens_format_ms (double ms)
{
  if (ms >= 1000)
    /* Translators: a duration in seconds */
    return g_strdup_printf (_("%.2f s"), ms / 1000);
  /* Translators: a duration in milliseconds */
  return g_strdup_printf (ms < 10 ? _("%.2f ms") : _("%.1f ms"), ms);
}

char *
vitlens_format_fps (double fps)
{
  if (!(fps > 0))
    return NULL;
  /* Translators: a rate in frames per second */
  return g_strdup_printf (_("%.1f fps"), fps);
}

int
vitlens_key_title_find (const VitlensKeyTitle *titles,
                        int                    n,
                        const char            *key)
{
  for (int i = 0; i < n; i++)
    if (g_str_equal (key, titles[i].key))
      return i;
  return -1;
}
