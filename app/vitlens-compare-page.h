/* vitlens-compare-page.h — Compare mode: every variant side by side, on the image or a stream
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-compare-view.h"
#include "vitlens-image.h"
#include "vitlens-page.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_COMPARE_PAGE (vitlens_compare_page_get_type ())

G_DECLARE_FINAL_TYPE (VitlensComparePage, vitlens_compare_page, VITLENS, COMPARE_PAGE, VitlensPage)

/* Properties, besides VitlensPage's:
 *   active       gboolean           the page is shown: it compares (off: answers still to come
 *                                   are dropped)
 *   image        VitlensImage       the image to compare on, while no stream plays
 *   stream-page  VitlensStreamPage  the stream whose frames it compares while one plays (its
 *                                   ::frame, :source, :state and :stream-name)
 * Actions: compare-again, compare-reset, compare-export. */
GtkWidget          *vitlens_compare_page_new       (void);

/* What Export… does with the file chosen (a base name; a .csv, .md or .png typed is dropped):
 * asks before replacing BASE.csv, BASE.md or BASE.png if any exists (other than @file itself,
 * which the file chooser asked about), writes them and says so (::notice), or says why not
 * (::error). */
void                vitlens_compare_page_export    (VitlensComparePage *self,
                                                    GFile              *file);
/* The view, as shown. */
VitlensCompareView *vitlens_compare_page_get_view  (VitlensComparePage *self);

G_END_DECLS
