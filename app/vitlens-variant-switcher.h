/* vitlens-variant-switcher.h — the header bar's variant buttons: fp32 · int8 · optimized · Compare
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vit.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_VARIANT_SWITCHER (vitlens_variant_switcher_get_type ())

G_DECLARE_FINAL_TYPE (VitlensVariantSwitcher, vitlens_variant_switcher, VITLENS, VARIANT_SWITCHER, GtkBox)

/* Properties:
 *   inference  VitlensInference  which variants the model has (the others are insensitive)
 *   variant    int               the vit_variant shown active (unless :compare)
 *   compare    gboolean          Compare shown active
 * A button pressed activates win.variant with its name ("fp32", "int8", "optimized",
 * "compare"); the window's answer comes back through the properties (set them again to undo a
 * press that was refused). */
GtkWidget *vitlens_variant_switcher_new        (void);
/* The button of @variant. */
GtkWidget *vitlens_variant_switcher_get_button (VitlensVariantSwitcher *self,
                                                vit_variant             variant);

G_END_DECLS
