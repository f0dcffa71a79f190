/* vitlens-window-private.h — what vitlens-window*.c share
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "vitlens-classifier.h"
#include "vitlens-image-strip.h"
#include "vitlens-window.h"

G_BEGIN_DECLS

/* What the error in the banner is about, so that success at one thing clears only its own. */
typedef enum
{
  ERROR_FROM_OTHER,
  ERROR_FROM_IMAGE,
  ERROR_FROM_MODEL,
} ErrorSource;

struct _VitlensWindow
{
  GtkApplicationWindow parent_instance;

  /* template widgets */
  GtkToggleButton     *source_image_button;
  GtkToggleButton     *variant_fp32_button;
  GtkToggleButton     *variant_int8_button;
  GtkToggleButton     *variant_optimized_button;
  GtkMenuButton       *model_menu_button;
  GtkLabel            *model_label;
  GtkSpinner          *busy_spinner;
  GtkRevealer         *banner_revealer;
  GtkLabel            *banner_label;
  GtkWidget           *image_area;
  GtkStack            *image_stack;
  GtkSpinner          *loading_spinner;
  GtkPicture          *picture;
  GtkLabel            *image_caption;
  GtkRevealer         *drop_revealer;
  GtkRevealer         *strip_revealer;
  VitlensImageStrip   *strip;
  VitlensResultsPanel *results_panel;
  GMenu               *recent_models_section;

  GtkToggleButton     *variant_buttons[VIT_VARIANT_COUNT];
  GtkDropTarget       *drop_target;

  GSettings           *settings;
  VitlensClassifier   *classifier;
  GCancellable        *cancellable;        /* all this window started; cancelled in dispose */
  GCancellable        *decode_cancellable; /* the image being decoded: a newer one cancels it */

  VitlensImage        *image;              /* the image shown */
  VitlensPrediction   *prediction;         /* its results, if any yet */
  vit_variant          variant;
  GPtrArray           *files;              /* GFile: the images opened together */
  guint                shown_index;        /* of the image shown, in @files */

  guint                n_pending;          /* decodes, loads and classifications under way */
  guint                n_model_loads;
  ErrorSource          error_source;
};

/* vitlens-window.c */
void _vitlens_window_show_image_error (VitlensWindow *self,
                                       const char    *message);
void _vitlens_window_begin_busy (VitlensWindow *self);
void _vitlens_window_end_busy   (VitlensWindow *self);

/* vitlens-window-dnd.c: drag and drop, paste, the file choosers */
void _vitlens_window_init_dnd       (VitlensWindow *self);
void _vitlens_window_paste          (VitlensWindow *self);
void _vitlens_window_choose_images  (VitlensWindow *self);
void _vitlens_window_choose_model   (VitlensWindow *self);
gboolean _vitlens_file_is_model     (GFile         *file);

G_END_DECLS
