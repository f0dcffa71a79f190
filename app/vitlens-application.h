/* vitlens-application.h — the application: actions, accelerators, settings, recent models,
 * open handling
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define VITLENS_TYPE_APPLICATION (vitlens_application_get_type ())

G_DECLARE_FINAL_TYPE (VitlensApplication, vitlens_application, VITLENS, APPLICATION, GtkApplication)

VitlensApplication *vitlens_application_new               (void);
/* The settings (io.github.vitlens.ViTLens). */
GSettings          *vitlens_application_get_settings      (VitlensApplication *self);
/* The model a new window loads: --model PATH, else $VITLENS_MODEL, else the last model
 * opened (if the preference says so); NULL for the built-in model. Transfer full. */
GFile              *vitlens_application_get_startup_model (VitlensApplication *self);
/* What --model sets; NULL to unset. */
void                vitlens_application_set_startup_model (VitlensApplication *self,
                                                           const char         *path);

/* The models opened last (the recent-models setting, newest first), as menu items that
 * activate win.open-recent-model with the path. */
GMenuModel         *vitlens_application_get_recent_models (VitlensApplication *self);
/* A model loaded from @file (NULL: the built-in model): the last model, and the first of the
 * recent ones (at most 5). */
void                vitlens_application_remember_model    (VitlensApplication *self,
                                                           GFile              *file);

G_END_DECLS
