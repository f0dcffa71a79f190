/* vitlens-compact-header.c — the window's header bar in a narrow window
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens"

#include "vitlens-config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "vitlens-compact-header.h"

/* The header bar as a whole needs about 790 px, so COMPACT_WIDTH is above that: a window can always
 * be made narrow enough to become compact, and the compact one (about 560 px) fits 640. A long
 * model name needs more: the switcher stays in the middle, so the model's menu gets only what
 * is left at its side. When that cuts its name, the header turns compact from that width on
 * (squeeze_width), where the name has the middle to itself. */

#define COMPACT_WIDTH 840

static void
set_compact (VitlensCompactHeader *self,
             gboolean       compact)
{
  GtkWidget *switcher = self->switcher;
  GtkWidget *model_menu = self->model_menu;
  GtkWidget *spinner = self->spinner;
  /* not a template child: the window owns its title bar, and disposes of it */
  GtkHeaderBar *header_bar = GTK_HEADER_BAR (gtk_window_get_titlebar (self->window));

  if (self->compact == compact)
    return;
  self->compact = compact;

  g_object_ref (switcher);
  g_object_ref (model_menu);
  g_object_ref (spinner);
  if (compact)
    {
      /* The model's menu takes the switcher's place, in the middle, with room for its name. */
      gtk_header_bar_remove (header_bar, model_menu);
      gtk_header_bar_set_title_widget (header_bar, model_menu);
      gtk_box_append (self->switcher_bar, switcher);
      gtk_widget_set_hexpand (switcher, TRUE);
      gtk_widget_set_halign (switcher, GTK_ALIGN_CENTER);
      gtk_button_set_icon_name (self->open_button, "document-open-symbolic");
    }
  else
    {
      gtk_box_remove (self->switcher_bar, switcher);
      gtk_header_bar_set_title_widget (header_bar, switcher);
      /* back at the end, in the order of the template: spinner, model, main menu */
      gtk_header_bar_remove (header_bar, spinner);
      gtk_header_bar_pack_end (header_bar, model_menu);
      gtk_header_bar_pack_end (header_bar, spinner);
      gtk_button_set_label (self->open_button, _("_Open"));
      gtk_button_set_use_underline (self->open_button, TRUE);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->switcher_bar), compact);
  if (compact)
    gtk_widget_add_css_class (GTK_WIDGET (self->window), "compact");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->window), "compact");
  g_object_unref (spinner);
  g_object_unref (model_menu);
  g_object_unref (switcher);
}

/* The model's menu, laid out at the end of the header bar, has less than it asks for. */
static gboolean
model_menu_squeezed (VitlensCompactHeader *self)
{
  int natural = 0;

  if (self->compact || !gtk_widget_get_mapped (self->model_menu))
    return FALSE;
  gtk_widget_measure (self->model_menu, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &natural, NULL, NULL);
  return gtk_widget_get_width (self->model_menu) < natural;
}

static void
apply_compact (VitlensCompactHeader *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self->window));
  int height;

  /* not shown yet: the size it will have */
  if (width <= 0 || !gtk_widget_get_mapped (GTK_WIDGET (self->window)))
    gtk_window_get_default_size (self->window, &width, &height);
  if (width > 0 && model_menu_squeezed (self))
    self->squeeze_width = MAX (self->squeeze_width, width + 1);
  set_compact (self, width > 0 && width < MAX (COMPACT_WIDTH, self->squeeze_width));
}

static gboolean
compact_idle_cb (gpointer user_data)
{
  VitlensCompactHeader *self = user_data;

  self->idle = 0;
  apply_compact (self);
  return G_SOURCE_REMOVE;
}

/* The width changed: a window not shown yet changes at once (so that it opens at the size
 * asked for), a shown one after this round of layout, not in it. */
static void
update_compact (GObject              *window,
                GParamSpec           *pspec,
                VitlensCompactHeader *self)
{
  if (!gtk_widget_get_mapped (GTK_WIDGET (self->window)))
    apply_compact (self);
  else if (self->idle == 0)
    self->idle = g_idle_add (compact_idle_cb, self);
}

static void
on_model_menu_loading (GObject              *model_menu,
                       GParamSpec           *pspec,
                       VitlensCompactHeader *self)
{
  /* A name that fitted before decides nothing about this one. */
  self->squeeze_width = 0;
  if (self->idle == 0 && gtk_widget_get_mapped (GTK_WIDGET (self->window)))
    self->idle = g_idle_add (compact_idle_cb, self);
}

void
vitlens_compact_header_init (VitlensCompactHeader *self,
                             GtkWindow            *window,
                             GtkWidget            *switcher,
                             GtkWidget            *model_menu,
                             GtkWidget            *spinner,
                             GtkButton            *open_button,
                             GtkBox               *switcher_bar)
{
  memset (self, 0, sizeof *self);
  self->window = window;
  self->switcher = switcher;
  self->model_menu = model_menu;
  self->spinner = spinner;
  self->open_button = open_button;
  self->switcher_bar = switcher_bar;
  g_signal_connect (window, "notify::default-width", G_CALLBACK (update_compact), self);
  g_signal_connect (window, "notify::maximized", G_CALLBACK (update_compact), self);
  /* Another model, another name: is there room for it? (after it is laid out) */
  g_signal_connect (model_menu, "notify::loading", G_CALLBACK (on_model_menu_loading), self);
}

void
vitlens_compact_header_clear (VitlensCompactHeader *self)
{
  g_clear_handle_id (&self->idle, g_source_remove);
  if (self->window != NULL)
    g_signal_handlers_disconnect_by_data (self->window, self);
  if (self->model_menu != NULL)
    g_signal_handlers_disconnect_by_data (self->model_menu, self);
  self->window = NULL;
}

