/* vitlens-model-menu.h — the header bar's model menu, and loading the model it shows
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define VITLENS_TYPE_MODEL_MENU (vitlens_model_menu_get_type ())

G_DECLARE_FINAL_TYPE (VitlensModelMenu, vitlens_model_menu, VITLENS, MODEL_MENU, GtkBox)

/* Properties:
 *   inference      VitlensInference  where models load (the window's)
 *   recent-models  GMenuModel        the menu's Recent Models section
 *   loading        gboolean          read-only: a model is being loaded
 * Signals:
 *   loaded (GFile *file, gboolean startup, gboolean fallback): a model loaded from @file (NULL:
 *     the built-in one); @startup: the window's first; @fallback: the built-in model after the
 *     startup model failed
 *   error (const char *message): a model did not load (the one before stays)
 * Actions: open-model, load-embedded-model, open-recent-model (a path). */
GtkWidget    *vitlens_model_menu_new           (void);

/* Load @file (NULL: the built-in model) into the inference; @startup: the window's first model,
 * which falls back to the built-in one when it fails. */
void          vitlens_model_menu_load          (VitlensModelMenu *self,
                                                GFile            *file,
                                                gboolean          startup);
/* The menu's actions, for the window's action map. */
GActionGroup *vitlens_model_menu_get_actions   (VitlensModelMenu *self);
/* Whether @file is a model (.safetensors, .vitq, .vitl), by its name. */
gboolean      vitlens_model_menu_is_model_file (GFile            *file);

G_END_DECLS
