/* vitlens-page.h — what the window's pages (image, stream, compare) have in common
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * A page is a widget that shows one way of using the model. The window gives every page the
 * same VitlensInference and the preferences (properties), and hears from them only through
 * signals: an error to show in the banner (and where it came from, so that a success clears
 * only its own kind), a short notice ("Saved …"), and their busy state for the header's
 * spinner. A page's actions (play-pause, next-image, compare-export…) join the window's, so
 * that win.<name> and its accelerator reach them.
 *
 * Properties:
 *   inference  VitlensInference  the model and its worker (set once, by the window)
 *   top-k      int               results shown (1–10)
 *   threads    int               threads of a forward pass (0: every core)
 *   loading    gboolean          a model is being loaded (the placeholders say so)
 *   show-attention gboolean      the model's attention rollout over the pictures (win.show-attention)
 *   busy       gboolean          read-only: the page waits for a decode, a classification…
 *   variant    int (vit_variant) the variant a single-variant page runs
 *   active     gboolean          the page is the one shown (a hidden page runs nothing)
 *   drop-active gboolean         something is dragged over the window: the page's drop target
 *                                (vitlens_page_set_drop_target) says "Drop to Classify"
 * Signals:
 *   error        (VitlensOrigin origin, const char *message)
 *   clear-error  (VitlensOrigin origin)    a success: an error about @origin is out of date
 *   notice       (const char *message, const char *tooltip)   a confirmation; tooltip may be NULL
 */
#pragma once

#include <gtk/gtk.h>

#include "vitlens-inference.h"

G_BEGIN_DECLS

/* What an error in the banner is about. */
typedef enum
{
  VITLENS_ORIGIN_OTHER,
  VITLENS_ORIGIN_IMAGE,
  VITLENS_ORIGIN_MODEL,
  VITLENS_ORIGIN_STREAM,
} VitlensOrigin;

#define VITLENS_TYPE_PAGE (vitlens_page_get_type ())

G_DECLARE_DERIVABLE_TYPE (VitlensPage, vitlens_page, VITLENS, PAGE, GtkBox)

struct _VitlensPageClass
{
  GtkBoxClass parent_class;

  /* The inference's model changed, or the inference was set. */
  void (*model_changed)   (VitlensPage *self);
  /* :top-k, :threads, :loading, :show-attention, :variant or :active changed (@pspec says
   * which); :variant and :active only when their value did. */
  void (*options_changed) (VitlensPage *self,
                           GParamSpec  *pspec);
};

/* Add the page's actions to @map (the window's): the same GAction objects. */
void                     vitlens_page_add_actions      (VitlensPage   *self,
                                                        GActionMap    *map);
/* Add the actions of @group (a GActionMap) to @map: the same GAction objects. */
void                     vitlens_action_map_add_group  (GActionMap    *map,
                                                        GActionGroup  *group);

/* Add a stateful action named @key to @map, which sets @settings' key of that name (a boolean
 * one toggles). */
void                     vitlens_action_map_add_setting (GActionMap   *map,
                                                        GSettings     *settings,
                                                        const char    *key);

/* For the pages themselves. */
VitlensInference        *vitlens_page_get_inference    (VitlensPage   *self);
/* The loaded model; NULL without one (or without an inference yet). */
const VitlensModelFacts *vitlens_page_get_model        (VitlensPage   *self);
int                      vitlens_page_get_top_k        (VitlensPage   *self);
int                      vitlens_page_get_threads      (VitlensPage   *self);
gboolean                 vitlens_page_get_loading      (VitlensPage   *self);
vit_variant              vitlens_page_get_variant      (VitlensPage   *self);
gboolean                 vitlens_page_get_active       (VitlensPage   *self);
gboolean                 vitlens_page_get_show_attention (VitlensPage *self);
/* For the window: :top-k, :threads and :show-attention follow @settings' keys of those names. */
void                     vitlens_page_bind_settings    (VitlensPage   *self,
                                                        GSettings     *settings);
void                     vitlens_page_set_busy         (VitlensPage   *self,
                                                        gboolean       busy);
/* Where a page puts its actions. */
GActionMap              *vitlens_page_get_action_map   (VitlensPage   *self);
/* While :drop-active, @revealer shows "Drop to Classify" over @area, which lights up. Both
 * are the page's own widgets (not referenced). */
void                     vitlens_page_set_drop_target  (VitlensPage   *self,
                                                        GtkRevealer   *revealer,
                                                        GtkWidget     *area);
/* Emit ::error, ::clear-error, ::notice. */
void                     vitlens_page_error            (VitlensPage   *self,
                                                        VitlensOrigin  origin,
                                                        const char    *message);
void                     vitlens_page_clear_error      (VitlensPage   *self,
                                                        VitlensOrigin  origin);
void                     vitlens_page_notice           (VitlensPage   *self,
                                                        const char    *message,
                                                        const char    *tooltip);
/* A modal file chooser over the page's window (the caller destroys and unrefs it when answered). */
GtkFileChooserNative    *vitlens_page_file_chooser_new (VitlensPage          *self,
                                                        const char           *title,
                                                        GtkFileChooserAction  action,
                                                        const char           *accept_label);

/* Show @native (from vitlens_page_file_chooser_new()); when a file is accepted, @chosen gets
 * it. The chooser is destroyed either way. */
typedef void (*VitlensPageFileFunc) (VitlensPage *self,
                                     GFile       *file);
void                     vitlens_page_run_file_chooser (VitlensPage          *self,
                                                        GtkFileChooserNative *native,
                                                        VitlensPageFileFunc   chosen);

G_END_DECLS
