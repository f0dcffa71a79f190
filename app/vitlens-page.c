/* vitlens-page.c — what the window's pages have in common
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens-page"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-inference.h"
#include "vitlens-page.h"

G_DEFINE_INTERFACE (VitlensPage, vitlens_page, GTK_TYPE_WIDGET)

enum {
  ERROR,
  CLEAR_ERROR,
  NOTICE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
vitlens_page_default_init (VitlensPageInterface *iface)
{
  g_object_interface_install_property (iface,
    g_param_spec_object ("inference", NULL, NULL, VITLENS_TYPE_INFERENCE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_int ("top-k", NULL, NULL, 1, 10, 5,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_int ("threads", NULL, NULL, 0, 256, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  signals[ERROR] = g_signal_new ("error", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                                 NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);
  signals[CLEAR_ERROR] = g_signal_new ("clear-error", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  signals[NOTICE] = g_signal_new ("notice", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

void
vitlens_action_map_add_group (GActionMap   *map,
                              GActionGroup *group)
{
  g_auto(GStrv) names = NULL;

  g_return_if_fail (G_IS_ACTION_MAP (map));
  g_return_if_fail (G_IS_ACTION_MAP (group));

  /* The same GAction objects: their state and enabled flag stay the group's owner's to set. */
  names = g_action_group_list_actions (group);
  for (guint i = 0; names[i] != NULL; i++)
    g_action_map_add_action (map, g_action_map_lookup_action (G_ACTION_MAP (group), names[i]));
}

void
vitlens_page_add_actions (VitlensPage *self,
                          GActionMap  *map)
{
  g_return_if_fail (VITLENS_IS_PAGE (self));

  vitlens_action_map_add_group (map, VITLENS_PAGE_GET_IFACE (self)->get_actions (self));
}

void
vitlens_page_error (VitlensPage   *self,
                    VitlensOrigin  origin,
                    const char    *message)
{
  g_return_if_fail (VITLENS_IS_PAGE (self));

  g_signal_emit (self, signals[ERROR], 0, (int)origin, message);
}

void
vitlens_page_clear_error (VitlensPage   *self,
                          VitlensOrigin  origin)
{
  g_return_if_fail (VITLENS_IS_PAGE (self));

  g_signal_emit (self, signals[CLEAR_ERROR], 0, (int)origin);
}

void
vitlens_page_notice (VitlensPage *self,
                     const char  *message,
                     const char  *tooltip)
{
  g_return_if_fail (VITLENS_IS_PAGE (self));

  g_signal_emit (self, signals[NOTICE], 0, message, tooltip);
}

GtkFileChooserNative *
vitlens_page_file_chooser_new (VitlensPage          *self,
                               const char           *title,
                               GtkFileChooserAction  action,
                               const char           *accept_label)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *native;

  native = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        action, accept_label, _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  return native;
}
