/* vitlens-result.c — what VitlensInference answers (see vitlens-result.h)
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "vitlens-result"

#include "vitlens-config.h"

#include <glib/gi18n.h>

#include "vitlens-result.h"

static void
result_clear (gpointer data)
{
  VitlensResult *result = data;

  for (int i = 0; i < VIT_TOPK_MAX; i++)
    g_free (result->label[i]);
  g_free (result->kernel);
  g_free (result->rollout);
  g_clear_pointer (&result->frame, vitlens_frame_unref);
}

VitlensResult *
vitlens_result_new (void)
{
  return g_atomic_rc_box_new0 (VitlensResult);
}

VitlensResult *
vitlens_result_ref (VitlensResult *result)
{
  return g_atomic_rc_box_acquire (result);
}

void
vitlens_result_unref (VitlensResult *result)
{
  g_atomic_rc_box_release_full (result, result_clear);
}

G_DEFINE_BOXED_TYPE (VitlensResult, vitlens_result, vitlens_result_ref, vitlens_result_unref)

void
vitlens_comparison_free (VitlensComparison *comparison)
{
  if (comparison == NULL)
    return;
  for (int c = 0; c < comparison->n_columns; c++)
    g_clear_pointer (&comparison->columns[c].result, vitlens_result_unref);
  g_free (comparison);
}

const char *
vitlens_variant_label (const char *name)
{
  if (g_strcmp0 (name, "optimized") == 0)
    /* Translators: the optimized variant of a model (the engine's name stays "optimized") */
    return C_("variant", "optimized");
  if (g_strcmp0 (name, "lite") == 0)
    /* Translators: the lite variant of a model, from a .vitl file */
    return C_("variant", "lite");
  return name;
}
