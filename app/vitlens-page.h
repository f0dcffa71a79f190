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
 */
#pragma once

#include <gtk/gtk.h>

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

G_DECLARE_INTERFACE (VitlensPage, vitlens_page, VITLENS, PAGE, GtkWidget)

struct _VitlensPageInterface
{
  GTypeInterface parent_iface;

  /* The page's actions, for vitlens_page_add_actions(). */
  GActionGroup *(*get_actions) (VitlensPage *self);
};

/* Properties every page has:
 *   inference  VitlensInference  the model and its worker (set once, by the window)
 *   top-k      int               results shown (1–10)
 *   threads    int               threads of a forward pass (0: every core)
 *   loading    gboolean          a model is being loaded (the placeholders say so)
 *   busy       gboolean          read-only: the page waits for a decode, a classification…
 * Signals:
 *   error        (VitlensOrigin origin, const char *message)
 *   clear-error  (VitlensOrigin origin)    a success: an error about @origin is out of date
 *   notice       (const char *message, const char *tooltip)   a confirmation; tooltip may be NULL
 */
void vitlens_page_add_actions (VitlensPage   *self,
                               GActionMap    *map);

/* Add the actions of @group (a GActionMap) to @map: the same GAction objects. */
void vitlens_action_map_add_group (GActionMap   *map,
                                   GActionGroup *group);

/* For the pages themselves: emit the signals above. */
void vitlens_page_error       (VitlensPage   *self,
                               VitlensOrigin  origin,
                               const char    *message);
void vitlens_page_clear_error (VitlensPage   *self,
                               VitlensOrigin  origin);
void vitlens_page_notice      (VitlensPage   *self,
                               const char    *message,
                               const char    *tooltip);
/* A modal file chooser over the page's window (the caller destroys and unrefs it when answered). */
GtkFileChooserNative *vitlens_page_file_chooser_new (VitlensPage          *self,
                                                     const char           *title,
                                                     GtkFileChooserAction  action,
                                                     const char           *accept_label);

G_END_DECLS
