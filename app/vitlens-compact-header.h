/* vitlens-compact-header.h — the window's header bar in a narrow window (half of a 1366 px
 * screen): Open shows its icon only, the variant switcher moves from the header bar to a bar at
 * the bottom and the model's menu takes its place in the middle, so the model's name keeps its
 * room. Not a widget: a helper the window embeds, over widgets of its template.
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct
{
  GtkWindow *window;       /* whose width decides, and whose title bar is rearranged */
  GtkWidget *switcher;     /* the variant switcher: title widget, or in @switcher_bar */
  GtkWidget *model_menu;   /* packed at the end, or the title widget */
  GtkWidget *spinner;      /* packed at the end, before the model menu */
  GtkButton *open_button;  /* label, or icon only */
  GtkBox    *switcher_bar; /* the bar at the bottom, shown when compact */
  gboolean   compact;
  int        squeeze_width; /* compact below this width too: the model's name did not fit */
  guint      idle;
} VitlensCompactHeader;

/* Watch @window's width (default-width, maximized) and switch as it crosses the threshold. */
void     vitlens_compact_header_init    (VitlensCompactHeader *header,
                                         GtkWindow            *window,
                                         GtkWidget            *switcher,
                                         GtkWidget            *model_menu,
                                         GtkWidget            *spinner,
                                         GtkButton            *open_button,
                                         GtkBox               *switcher_bar);
/* Stop watching (the window's dispose). */
void     vitlens_compact_header_clear   (VitlensCompactHeader *header);

G_END_DECLS
