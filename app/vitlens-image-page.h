/* vitlens-image-page.h — images: the one shown, the ones opened with it, and its results
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-image.h"
#include "vitlens-page.h"
#include "vitlens-results-panel.h"

G_BEGIN_DECLS

#define VITLENS_TYPE_IMAGE_PAGE (vitlens_image_page_get_type ())

G_DECLARE_FINAL_TYPE (VitlensImagePage, vitlens_image_page, VITLENS, IMAGE_PAGE, VitlensPage)

/* Properties, besides VitlensPage's:
 *   variant      int           the vit_variant the image is classified with
 *   active       gboolean      the page is shown: it classifies (off: it keeps its image and
 *                              classifies it again when shown)
 *   drop-active  gboolean      something is dragged over the window: "Drop to Classify"
 *   image        VitlensImage  read-only: the image shown (NULL: none yet)
 *   prediction   VitlensResult read-only: its results, when they have come
 *   title        char *        read-only: for the window ("photo.jpg — ViT Lens"); NULL: none
 *   n-files      guint         read-only: the images opened together (the strip's)
 *   view         char *        read-only: what is shown: "no-model", "loading", "empty", "image"
 * Signals:
 *   open-files (GListModel *files): files that came in through the page (Open…, a paste) for
 *     the window to open as what they are (a drop too): images come back through
 *     vitlens_image_page_open_files(), models and videos go elsewhere
 * Actions: open, paste, previous-image, next-image. */
GtkWidget           *vitlens_image_page_new               (void);

/* Decode @files off the main thread and show the first (several make a strip of thumbnails),
 * classified; a file that fails leaves the image shown as it was. */
void                 vitlens_image_page_open_files        (VitlensImagePage *self,
                                                           GFile           **files,
                                                           guint             n_files);
/* A pasted or dropped image, through the same decoder as a file. */
void                 vitlens_image_page_open_texture      (VitlensImagePage *self,
                                                           GdkTexture       *texture);
/* What was dropped on the window (a GdkFileList, a GFile or a GdkTexture): files go to
 * ::open-files, an image is opened. FALSE: nothing the page can use. */
gboolean             vitlens_image_page_take_drop         (VitlensImagePage *self,
                                                           const GValue     *value);
/* The results shown beside the image. */
VitlensResultsPanel *vitlens_image_page_get_results_panel (VitlensImagePage *self);

G_END_DECLS
