/* vitlens-key-values.h — a grid of named values: a dim key on the left, its value on the
 * right, for the results panel's model facts, the stream overlay's figures and each Compare
 * card. Not a widget: rows a widget adds to a grid of its template.
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* One row: @key names it for tests (vitlens_*_get_value), @title and @tooltip (may be NULL)
 * are untranslated msgids (marked with N_), translated when the row is made. */
typedef struct
{
  const char *key;
  const char *title;
  const char *tooltip;
} VitlensKeyTitle;

typedef enum
{
  VITLENS_KEY_VALUE_NUMERIC  = 1 << 0,  /* a number: tabular figures, never cut */
  VITLENS_KEY_VALUE_ELLIPSIZE = 1 << 1, /* text that may lose its middle (the tooltip has it all) */
  VITLENS_KEY_VALUE_WRAP_KEY = 1 << 2,  /* the key may wrap */
} VitlensKeyValueFlags;

/* Row @row of @grid: the key label, returned in *@key (may be NULL), and the value label,
 * "—" until set, which screen readers hear as labelled by the key. */
GtkWidget *vitlens_key_value_add  (GtkGrid               *grid,
                                   int                    row,
                                   const VitlensKeyTitle *title,
                                   VitlensKeyValueFlags   flags,
                                   GtkWidget            **key);
/* The index of the row named @key among @n @titles; -1 if none is. */
int        vitlens_key_title_find (const VitlensKeyTitle *titles,
                                   int                    n,
                                   const char            *key);

/* The values' words: "12.3 ms" (two decimals under 10 ms, seconds from 1,000 ms on), and
 * "29.8 fps" (NULL for no rate yet: 0 or less). Newly allocated. */
char      *vitlens_format_ms      (double                 ms);
char      *vitlens_format_fps     (double                 fps);

G_END_DECLS
