/* vitlens-get-models-dialog.h — Get Models…: ImageNet models from the Hugging Face Hub
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>


G_BEGIN_DECLS

#define VITLENS_TYPE_GET_MODELS_DIALOG (vitlens_get_models_dialog_get_type ())

G_DECLARE_FINAL_TYPE (VitlensGetModelsDialog, vitlens_get_models_dialog, VITLENS, GET_MODELS_DIALOG, GtkWindow)

/* A catalogue of the timm DeiT models (the cached ones marked), a field for any repository,
 * and the download's progress; the model downloaded is loaded through @menu, and the dialog
 * closes. The hub is the environment's (HF_ENDPOINT, HF_HUB_CACHE, HF_TOKEN, HF_HUB_OFFLINE). */
GtkWidget  *vitlens_get_models_dialog_new      (GtkWindow              *parent);

/* For tests: type @repo into the repository field and press Download; press Cancel. */
void        vitlens_get_models_dialog_download (VitlensGetModelsDialog *self,
                                                const char             *repo);
void        vitlens_get_models_dialog_cancel   (VitlensGetModelsDialog *self);
/* What is on screen: a download under way; its progress (0..1) and bytes/rate line; the error
 * line ("" when none); the catalogue's rows and the state shown on row @i ("Downloaded" or the
 * download size). */
gboolean    vitlens_get_models_dialog_get_busy     (VitlensGetModelsDialog *self);
double      vitlens_get_models_dialog_get_fraction (VitlensGetModelsDialog *self);
const char *vitlens_get_models_dialog_get_progress_text (VitlensGetModelsDialog *self);
const char *vitlens_get_models_dialog_get_error    (VitlensGetModelsDialog *self);
guint       vitlens_get_models_dialog_get_n_models (VitlensGetModelsDialog *self);
const char *vitlens_get_models_dialog_get_model_state (VitlensGetModelsDialog *self,
                                                       guint                   i);

G_END_DECLS
