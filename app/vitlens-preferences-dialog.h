/* vitlens-preferences-dialog.h — threads, default variant, results shown, last model
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define VITLENS_TYPE_PREFERENCES_DIALOG (vitlens_preferences_dialog_get_type ())

G_DECLARE_FINAL_TYPE (VitlensPreferencesDialog, vitlens_preferences_dialog, VITLENS, PREFERENCES_DIALOG, GtkWindow)

GtkWidget *vitlens_preferences_dialog_new (GSettings *settings,
                                           GtkWindow *parent);

G_END_DECLS
