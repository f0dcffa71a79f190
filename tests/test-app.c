/* test-app.c — the GTK app, driven the way a person uses it
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Runs the real window (under Xvfb: tests/xvfb-run-test.sh) with the tiny-p16 fixture model:
 * images go in through the drop handler with a GdkFileList, exactly as a drop does; results
 * are compared with what the engine says for the same file; variants, broken images and
 * broken models, several files, paste, preferences, and a render of the window to PNG.
 * Test images are written here, into a temporary folder.
 *
 * Environment (set by tests/meson.build): VITLENS_FIXTURES (tests/fixtures),
 * GSETTINGS_SCHEMA_DIR, GSETTINGS_BACKEND=memory, GTK_A11Y=none, VITLENS_TEST_OUTDIR.
 */
#define G_LOG_DOMAIN "test-app"

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "vit.h"
#include "vitlens-application.h"
#include "vitlens-data.h"
#include "vitlens-preferences-dialog.h"
#include "vitlens-window.h"

#define WAIT_TIMEOUT_MS 30000

static VitlensApplication *app;
static char *tmpdir;
static char *model_path; /* tests/fixtures/models/tiny-p16/model.safetensors */

/* ---------------------------------------------------------------------------------------------
 * Helpers */

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Run the main loop until @cond holds; fail after WAIT_TIMEOUT_MS. */
static void
wait_until (gboolean (*cond) (gpointer),
            gpointer   data,
            const char *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (WAIT_TIMEOUT_MS, timeout_cb, &timed_out);

  while (!cond (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("Timed out waiting for %s", what);
  g_source_remove (id);
}

/* Let the main loop run for @ms, whatever happens. */
static void
spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
window_idle (gpointer data)
{
  return !vitlens_window_get_busy (VITLENS_WINDOW (data));
}

static void
wait_idle (VitlensWindow *window)
{
  /* A classification is started from the callback of the decode: one idle round is enough
   * to see it begin, so wait for "not busy" twice around a short spin. */
  wait_until (window_idle, window, "the window to be idle");
  spin (20);
  wait_until (window_idle, window, "the window to be idle");
}

static char *
test_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* A w×h PNG or JPEG with a pattern that depends on @seed, written with gdk-pixbuf. */
static char *
write_image (const char *name,
             int         w,
             int         h,
             int         seed)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, w, h);
  g_autoptr(GError) error = NULL;
  guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  char *path = test_path (name);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guchar *p = pixels + y * stride + 3 * x;

        p[0] = (guchar)((x * 255) / w + seed * 40);
        p[1] = (guchar)((y * 255) / h + seed * 90);
        p[2] = (guchar)(((x / (8 + seed)) + (y / (8 + seed))) % 2 ? 220 - seed * 30 : 30 + seed * 20);
      }
  gdk_pixbuf_save (pixbuf, path, g_str_has_suffix (name, ".png") ? "png" : "jpeg", &error, NULL);
  g_assert_no_error (error);

  return path;
}

static char *
write_bytes (const char *name,
             const void *data,
             gsize       size)
{
  g_autoptr(GError) error = NULL;
  char *path = test_path (name);

  g_file_set_contents (path, data, size, &error);
  g_assert_no_error (error);
  return path;
}

/* Through the window's GtkDropTarget, with a GdkFileList, as a drop from a file manager. */
static void
drop_paths (VitlensWindow      *window,
            const char * const *paths,
            guint               n)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  GValue value = G_VALUE_INIT;
  gboolean handled = FALSE;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (files, g_file_new_for_path (paths[i]));

  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_array ((GFile **)files->pdata, files->len));
  g_signal_emit_by_name (vitlens_window_get_drop_target (window), "drop", &value, 10.0, 10.0, &handled);
  g_value_unset (&value);
  g_assert_true (handled);
}

static void
drop_path (VitlensWindow *window,
           const char    *path)
{
  drop_paths (window, &path, 1);
}

/* What the engine itself says: the labels the window must show. */
static void
expected_labels (const char *image_path,
                 vit_variant variant,
                 int         k,
                 char      **labels)
{
  vit_error err = { 0 };
  vit_model *model = NULL;
  vit_session *session = NULL;
  vit_image image = { 0 };
  vit_prediction pred = { 0 };
  vit_session_opts opts = vit_session_opts_default ();

  g_assert_cmpint (vit_model_load (model_path, &model, &err), ==, VIT_OK);
  opts.variant = variant;
  g_assert_cmpint (vit_session_new (model, &opts, &session, &err), ==, VIT_OK);
  g_assert_cmpint (vit_image_load (image_path, &image, &err), ==, VIT_OK);
  g_assert_cmpint (vit_session_classify (session, &image, k, &pred, &err), ==, VIT_OK);
  for (int i = 0; i < k; i++)
    {
      const char *label = vit_model_label (model, pred.index[i]);
      labels[i] = label ? g_strdup (label) : g_strdup_printf ("Class %d", pred.index[i]);
    }
  vit_image_free (&image);
  vit_session_free (session);
  vit_model_free (model);
}

static gboolean
model_supports (vit_variant variant)
{
  vit_error err = { 0 };
  vit_model *model = NULL;
  gboolean ok;

  g_assert_cmpint (vit_model_load (model_path, &model, &err), ==, VIT_OK);
  ok = vit_model_supports (model, variant) != 0;
  vit_model_free (model);
  return ok;
}

static void
assert_labels (VitlensWindow *window,
               const char    *image_path,
               vit_variant    variant)
{
  VitlensResultsPanel *panel = vitlens_window_get_results_panel (window);
  char *labels[5] = { NULL };

  expected_labels (image_path, variant, 5, labels);
  g_assert_cmpuint (vitlens_results_panel_get_n_rows (panel), ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      g_assert_cmpstr (vitlens_results_panel_get_row_label (panel, i), ==, labels[i]);
      g_free (labels[i]);
    }
}

static VitlensWindow *
new_window (const char *startup_model)
{
  VitlensWindow *window;

  vitlens_application_set_startup_model (app, startup_model);

  window = vitlens_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  wait_idle (window);
  return window;
}

static void
close_window (VitlensWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  spin (50);
}


/* Render @widget (after its next frame) to VITLENS_TEST_OUTDIR/test-app-NAME.png, as GTK would
 * paint it on screen; returns the path. */
static char *
render_widget (GtkWidget  *widget,
               const char *name)
{
  const char *outdir = g_getenv ("VITLENS_TEST_OUTDIR");
  g_autofree char *file = g_strdup_printf ("test-app-%s.png", name);
  char *out = g_build_filename (outdir ? outdir : tmpdir, file, NULL);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int w, h;

  /* The widget's render node is only there right after a frame. */
  spin (100);
  gtk_test_widget_wait_for_draw (widget);
  w = gtk_widget_get_width (widget);
  h = gtk_widget_get_height (widget);
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_assert_true (gdk_texture_save_to_png (texture, out));
  g_test_message ("%s rendered to %s (%d×%d)", G_OBJECT_TYPE_NAME (widget), out, w, h);

  return out;
}

/* ---------------------------------------------------------------------------------------------
 * Tests */

static void
test_startup_model (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = vitlens_window_get_results_panel (window);

  g_assert_cmpstr (vitlens_window_get_page (window), ==, "empty");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "name"), ==, "tiny-p16");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "architecture"), ==, "vit_test_tiny_patch16_32");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "classes"), ==, "10 (unnamed)");
  g_assert_cmpuint (vitlens_results_panel_get_n_rows (panel), ==, 0);
  g_assert_null (vitlens_window_get_error_message (window));

  close_window (window);
}

static void
test_no_model (void)
{
  VitlensWindow *window;
  size_t size = 0;

  /* Not the model of the last session (the other tests opened one). */
  g_settings_reset (vitlens_application_get_settings (app), "last-model");
  window = new_window (NULL);

  /* The built-in model is there or not, depending on the build. */
  if (vitlens_data_model (&size) != NULL)
    g_assert_cmpstr (vitlens_window_get_page (window), ==, "empty");
  else
    g_assert_cmpstr (vitlens_window_get_page (window), ==, "no-model");
  g_assert_null (vitlens_window_get_error_message (window));
  for (int v = 0; v < VIT_VARIANT_COUNT && vitlens_data_model (&size) == NULL; v++)
    g_assert_false (gtk_widget_get_sensitive (vitlens_window_get_variant_button (window, v)));
  g_free (render_widget (GTK_WIDGET (window), "no-model"));

  close_window (window);
}

static void
test_bad_startup_model (void)
{
  g_autofree char *bad = write_bytes ("gone.vitl", "VITL", 4);
  g_autofree char *png = write_image ("after-bad-model.png", 40, 30, 11);
  VitlensWindow *window = new_window (bad);
  VitlensResultsPanel *panel = vitlens_window_get_results_panel (window);
  g_autofree char *message = NULL;
  size_t size = 0;

  /* `vitlens --model gone.vitl`: the error says so, and the built-in model (if this build
   * has one) takes over. */
  g_assert_nonnull (vitlens_window_get_error_message (window));
  message = g_strdup (vitlens_window_get_error_message (window));
  g_test_message ("bad startup model: %s", message);
  g_assert_true (g_str_has_prefix (message, "gone.vitl"));
  if (vitlens_data_model (&size) == NULL)
    g_assert_cmpstr (vitlens_window_get_page (window), ==, "no-model");

  /* An image that decodes does not hide an error about the model. */
  drop_path (window, png);
  wait_idle (window);
  g_assert_cmpstr (vitlens_window_get_error_message (window), ==, message);
  g_assert_cmpstr (vitlens_window_get_page (window), ==, "image");
  if (vitlens_data_model (&size) == NULL)
    g_assert_cmpuint (vitlens_results_panel_get_n_rows (panel), ==, 0);

  /* A model that loads does, and classifies the image shown. */
  {
    g_autoptr(GFile) good = g_file_new_for_path (model_path);

    vitlens_window_load_model (window, good);
    wait_idle (window);
    g_assert_null (vitlens_window_get_error_message (window));
    assert_labels (window, png, VIT_VARIANT_FP32);
  }

  close_window (window);
}

static void
test_drop_classify (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = vitlens_window_get_results_panel (window);
  g_autofree char *png = write_image ("drop.png", 120, 90, 1);

  drop_path (window, png);
  wait_idle (window);

  g_assert_null (vitlens_window_get_error_message (window));
  g_assert_cmpstr (vitlens_window_get_page (window), ==, "image");
  g_assert_cmpstr (vitlens_image_get_name (vitlens_window_get_image (window)), ==, "drop.png");
  g_assert_cmpint (vitlens_image_get_width (vitlens_window_get_image (window)), ==, 120);
  assert_labels (window, png, VIT_VARIANT_FP32);
  g_assert_true (g_str_has_suffix (vitlens_results_panel_get_row_percent (panel, 0), "%"));
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "forward"), !=, "—");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "decode"), !=, "—");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "variant"), ==, "fp32");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "kernel"), !=, "—");

  close_window (window);
}

static void
test_variants (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = vitlens_window_get_results_panel (window);
  g_autofree char *jpg = write_image ("variants.jpg", 64, 80, 2);
  guint n_runs[VIT_VARIANT_COUNT] = { 0 };
  guint n_supported = 0;

  drop_path (window, jpg);
  wait_idle (window);
  assert_labels (window, jpg, VIT_VARIANT_FP32);
  n_runs[VIT_VARIANT_FP32] = 1;
  g_assert_true (g_str_has_suffix (vitlens_results_panel_get_fact (panel, "median"), "(1 run)"));

  /* Each variant the engine has: switch (Alt+1/2/3 go through the same action), the image
   * runs again at once and the numbers change in place. The others are insensitive, and
   * asking for them anyway leaves everything as it was. */
  for (int v = VIT_VARIANT_COUNT - 1; v >= 0; v--)
    {
      GtkWidget *button = vitlens_window_get_variant_button (window, v);
      g_autofree char *expected_median = NULL;

      if (!model_supports (v))
        {
          g_test_message ("%s: not supported by the engine yet", vit_variant_name (v));
          g_assert_false (gtk_widget_get_sensitive (button));
          g_assert_nonnull (gtk_widget_get_tooltip_text (button));
          g_action_group_activate_action (G_ACTION_GROUP (window), "variant",
                                          g_variant_new_string (vit_variant_name (v)));
          wait_idle (window);
          g_assert_cmpint (vitlens_window_get_variant (window), !=, v);
          g_assert_nonnull (vitlens_window_get_error_message (window));
          g_action_group_activate_action (G_ACTION_GROUP (window), "dismiss-error", NULL);
          continue;
        }

      n_supported++;
      g_assert_true (gtk_widget_get_sensitive (button));
      g_action_group_activate_action (G_ACTION_GROUP (window), "variant",
                                      g_variant_new_string (vit_variant_name (v)));
      wait_idle (window);
      n_runs[v]++;

      g_assert_null (vitlens_window_get_error_message (window));
      g_assert_cmpint (vitlens_window_get_variant (window), ==, v);
      g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (button)));
      g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "variant"), ==, vit_variant_name (v));
      expected_median = g_strdup_printf (n_runs[v] == 1 ? "(%u run)" : "(%u runs)", n_runs[v]);
      g_assert_true (g_str_has_suffix (vitlens_results_panel_get_fact (panel, "median"), expected_median));
      assert_labels (window, jpg, v);
    }
  g_assert_cmpuint (n_supported, >=, 1);

  close_window (window);
}

static void
test_broken_image (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = vitlens_window_get_results_panel (window);
  g_autofree char *good = write_image ("good.png", 50, 50, 3);
  g_autofree char *heic = write_bytes ("dog.heic", "ftypheic not really", strlen ("ftypheic not really"));
  g_autofree char *missing = test_path ("missing.png");
  g_autofree char *first_label = NULL;
  g_autofree char *truncated = NULL;
  g_autofree char *good_bytes = NULL;
  gsize good_size = 0;

  drop_path (window, good);
  wait_idle (window);
  assert_labels (window, good, VIT_VARIANT_FP32);
  first_label = g_strdup (vitlens_results_panel_get_row_label (panel, 0));

  /* Not an image: the engine's words, and nothing else changes. */
  drop_path (window, heic);
  wait_idle (window);
  g_assert_cmpstr (vitlens_window_get_error_message (window), ==, "dog.heic: not a PNG or JPEG image");
  g_assert_cmpstr (vitlens_image_get_name (vitlens_window_get_image (window)), ==, "good.png");
  g_free (render_widget (GTK_WIDGET (window), "error"));
  g_assert_cmpstr (vitlens_window_get_page (window), ==, "image");
  assert_labels (window, good, VIT_VARIANT_FP32);

  /* A truncated PNG. */
  g_assert_true (g_file_get_contents (good, &good_bytes, &good_size, NULL));
  truncated = write_bytes ("truncated.png", good_bytes, good_size / 2);
  drop_path (window, truncated);
  wait_idle (window);
  g_assert_true (g_str_has_prefix (vitlens_window_get_error_message (window), "truncated.png: "));
  g_assert_cmpstr (vitlens_results_panel_get_row_label (panel, 0), ==, first_label);

  /* A file that is not there. */
  drop_path (window, missing);
  wait_idle (window);
  g_assert_true (g_str_has_prefix (vitlens_window_get_error_message (window), "missing.png: "));
  g_assert_cmpstr (vitlens_image_get_name (vitlens_window_get_image (window)), ==, "good.png");

  /* A folder and an empty file. */
  {
    g_autofree char *empty = write_bytes ("empty.jpg", "", 0);
    const char *what[] = { tmpdir, empty };

    for (guint i = 0; i < G_N_ELEMENTS (what); i++)
      {
        drop_path (window, what[i]);
        wait_idle (window);
        g_test_message ("%s", vitlens_window_get_error_message (window));
        g_assert_nonnull (vitlens_window_get_error_message (window));
        g_assert_cmpstr (vitlens_image_get_name (vitlens_window_get_image (window)), ==, "good.png");
        g_assert_cmpstr (vitlens_results_panel_get_row_label (panel, 0), ==, first_label);
      }
  }

  /* A good image again clears the banner. */
  drop_path (window, good);
  wait_idle (window);
  g_assert_null (vitlens_window_get_error_message (window));

  close_window (window);
}

static void
test_broken_model (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = vitlens_window_get_results_panel (window);
  g_autofree char *good = write_image ("model-test.png", 70, 40, 4);
  static const char broken_bytes[] = "\x10\0\0\0\0\0\0\0{\"a\": nonsense";
  g_autofree char *broken = write_bytes ("broken.safetensors", broken_bytes, sizeof broken_bytes - 1);
  g_autofree char *empty = write_bytes ("empty.vitq", "", 0);
  g_autoptr(GFile) broken_file = g_file_new_for_path (broken);
  const char *message;

  drop_path (window, good);
  wait_idle (window);
  assert_labels (window, good, VIT_VARIANT_FP32);

  /* Through Open Model's code path... */
  vitlens_window_load_model (window, broken_file);
  wait_idle (window);
  message = vitlens_window_get_error_message (window);
  g_assert_nonnull (message);
  g_test_message ("broken model: %s", message);
  g_assert_true (strstr (message, "broken.safetensors") != NULL);
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "name"), ==, "tiny-p16");
  g_assert_cmpstr (vitlens_window_get_page (window), ==, "image");
  assert_labels (window, good, VIT_VARIANT_FP32);

  /* ...and through a drop: model files are told apart by their names. */
  drop_path (window, empty);
  wait_idle (window);
  message = vitlens_window_get_error_message (window);
  g_assert_nonnull (message);
  g_test_message ("empty model: %s", message);
  g_assert_true (strstr (message, "empty.vitq") != NULL);
  assert_labels (window, good, VIT_VARIANT_FP32);

  close_window (window);
}

static void
test_several_files (void)
{
  VitlensWindow *window = new_window (model_path);
  g_autofree char *a = write_image ("a.png", 40, 40, 1);
  g_autofree char *b = write_image ("b.jpg", 60, 30, 2);
  g_autofree char *c = write_image ("c.png", 30, 60, 3);
  const char *paths[] = { a, b, c };

  drop_paths (window, paths, 3);
  wait_idle (window);
  g_assert_cmpuint (vitlens_window_get_n_files (window), ==, 3);
  g_assert_cmpstr (vitlens_image_get_name (vitlens_window_get_image (window)), ==, "a.png");
  assert_labels (window, a, VIT_VARIANT_FP32);

  g_action_group_activate_action (G_ACTION_GROUP (window), "next-image", NULL);
  wait_idle (window);
  g_assert_cmpstr (vitlens_image_get_name (vitlens_window_get_image (window)), ==, "b.jpg");
  assert_labels (window, b, VIT_VARIANT_FP32);

  g_action_group_activate_action (G_ACTION_GROUP (window), "previous-image", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (window), "previous-image", NULL);
  wait_idle (window);
  g_assert_cmpstr (vitlens_image_get_name (vitlens_window_get_image (window)), ==, "c.png");
  assert_labels (window, c, VIT_VARIANT_FP32);
  g_free (render_widget (GTK_WIDGET (window), "several"));

  close_window (window);
}

static void
test_paste (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = vitlens_window_get_results_panel (window);
  g_autofree char *png = write_image ("clip.png", 48, 36, 5);
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (window));

  texture = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);

  /* An image on the clipboard (a browser's Copy Image), pasted with Ctrl+V's action. */
  gdk_clipboard_set_texture (clipboard, texture);
  g_action_group_activate_action (G_ACTION_GROUP (window), "paste", NULL);
  wait_idle (window);
  g_assert_null (vitlens_window_get_error_message (window));
  g_assert_cmpstr (vitlens_image_get_name (vitlens_window_get_image (window)), ==, "Pasted image");
  assert_labels (window, png, VIT_VARIANT_FP32); /* the same pixels as the file */
  g_assert_cmpuint (vitlens_results_panel_get_n_rows (panel), ==, 5);

  /* Files on the clipboard (a file manager's Copy). */
  {
    g_autofree char *jpg = write_image ("copied.jpg", 33, 44, 6);
    g_autoptr(GFile) file = g_file_new_for_path (jpg);
    GdkFileList *list = gdk_file_list_new_from_array (&file, 1);

    gdk_clipboard_set (clipboard, GDK_TYPE_FILE_LIST, list);
    g_boxed_free (GDK_TYPE_FILE_LIST, list);
    g_action_group_activate_action (G_ACTION_GROUP (window), "paste", NULL);
    wait_idle (window);
    g_assert_null (vitlens_window_get_error_message (window));
    g_assert_cmpstr (vitlens_image_get_name (vitlens_window_get_image (window)), ==, "copied.jpg");
    assert_labels (window, jpg, VIT_VARIANT_FP32);
  }

  /* Text is no image. */
  gdk_clipboard_set_text (clipboard, "hello");
  g_action_group_activate_action (G_ACTION_GROUP (window), "paste", NULL);
  wait_idle (window);
  g_assert_nonnull (vitlens_window_get_error_message (window));
  g_assert_cmpstr (vitlens_image_get_name (vitlens_window_get_image (window)), ==, "copied.jpg");

  close_window (window);
}

static void
test_preferences (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = vitlens_window_get_results_panel (window);
  GSettings *settings = vitlens_application_get_settings (app);
  g_autofree char *png = write_image ("prefs.png", 64, 64, 7);
  GtkWidget *dialog;

  drop_path (window, png);
  wait_idle (window);
  g_assert_cmpuint (vitlens_results_panel_get_n_rows (panel), ==, 5);

  dialog = vitlens_preferences_dialog_new (settings, GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (dialog));
  g_free (render_widget (dialog, "preferences"));

  /* Changes apply at once: the image runs again with three results, then one thread. */
  g_settings_set_int (settings, "top-k", 3);
  wait_idle (window);
  g_assert_cmpuint (vitlens_results_panel_get_n_rows (panel), ==, 3);
  g_settings_set_int (settings, "threads", 1);
  wait_idle (window);
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "threads"), ==, "1");

  g_settings_reset (settings, "top-k");
  g_settings_reset (settings, "threads");
  wait_idle (window);
  g_assert_cmpuint (vitlens_results_panel_get_n_rows (panel), ==, 5);

  /* The model opened is remembered for next time. */
  {
    g_autofree char *last = g_settings_get_string (settings, "last-model");
    g_auto(GStrv) recent = g_settings_get_strv (settings, "recent-models");

    g_assert_cmpstr (last, ==, model_path);
    g_assert_cmpstr (recent[0], ==, model_path);
  }

  gtk_window_destroy (GTK_WINDOW (dialog));
  close_window (window);
}

static void
test_destroy_while_busy (void)
{
  VitlensWindow *window = new_window (model_path);
  g_autofree char *png = write_image ("busy.png", 400, 300, 8);

  /* Callbacks still to come must find a cancelled window and leave it alone. */
  drop_path (window, png);
  g_assert_true (vitlens_window_get_busy (window));
  gtk_window_destroy (GTK_WINDOW (window));
  spin (500);

  window = new_window (model_path);
  drop_path (window, png);
  g_object_run_dispose (G_OBJECT (window));
  spin (500);
}

static void
test_render_png (void)
{
  VitlensWindow *window = new_window (model_path);
  g_autofree char *png = write_image ("render.png", 320, 240, 9);
  g_autofree char *out = NULL;
  g_autoptr(GdkPixbuf) saved = NULL;
  g_autoptr(GError) error = NULL;

  drop_path (window, png);
  wait_idle (window);
  assert_labels (window, png, VIT_VARIANT_FP32);

  out = render_widget (GTK_WIDGET (window), "window");
  saved = gdk_pixbuf_new_from_file (out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (saved), ==, gtk_widget_get_width (GTK_WIDGET (window)));
  g_assert_cmpint (gdk_pixbuf_get_height (saved), ==, gtk_widget_get_height (GTK_WIDGET (window)));
  g_assert_cmpint (gdk_pixbuf_get_width (saved), >=, 760);
  g_assert_cmpint (gdk_pixbuf_get_height (saved), >=, 520);

  close_window (window);
}


static void
test_command_line (void)
{
  g_autofree char *png = write_image ("argv.png", 90, 60, 10);
  g_autoptr(GFile) file = g_file_new_for_path (png);
  GtkWindow *window;

  /* `vitlens argv.png`: GApplication's open, into the active window or a new one. */
  vitlens_application_set_startup_model (app, model_path);
  g_application_open (G_APPLICATION (app), &file, 1, "");
  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  g_assert_true (VITLENS_IS_WINDOW (window));
  wait_idle (VITLENS_WINDOW (window));
  g_assert_cmpstr (vitlens_image_get_name (vitlens_window_get_image (VITLENS_WINDOW (window))), ==, "argv.png");
  g_assert_cmpstr (gtk_window_get_title (window), ==, "argv.png — ViT Lens");
  assert_labels (VITLENS_WINDOW (window), png, VIT_VARIANT_FP32);

  close_window (VITLENS_WINDOW (window));
}

static void
test_accels (void)
{
  VitlensWindow *window = new_window (model_path);
  static const struct {
    const char *action;
    const char *accel;
  } expected[] = {
    { "win.open", "<Control>o" },
    { "win.paste", "<Control>v" },
    { "app.quit", "<Control>q" },
    { "win.close", "<Control>w" },
    { "win.fullscreen", "F11" },
    { "win.variant::fp32", "<Alt>1" },
    { "win.variant::int8", "<Alt>2" },
    { "win.variant::optimized", "<Alt>3" },
    { "win.open-model", "<Control><Shift>o" },
    { "app.preferences", "<Control>comma" },
    { "win.show-help-overlay", "<Control>question" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), expected[i].action);
      g_autofree char *name = NULL;
      g_autoptr(GVariant) target = NULL;
      GActionGroup *group = g_str_has_prefix (expected[i].action, "app.") ? G_ACTION_GROUP (app)
                                                                          : G_ACTION_GROUP (window);

      guint key, expected_key;
      GdkModifierType mods, expected_mods;

      g_assert_nonnull (accels[0]);
      g_assert_true (gtk_accelerator_parse (accels[0], &key, &mods));
      g_assert_true (gtk_accelerator_parse (expected[i].accel, &expected_key, &expected_mods));
      g_assert_cmpuint (key, ==, expected_key);
      g_assert_cmpuint (mods, ==, expected_mods);
      g_assert_true (g_action_parse_detailed_name (strchr (expected[i].action, '.') + 1, &name, &target, NULL));
      g_assert_true (g_action_group_has_action (group, name));
    }

  /* F11 toggles fullscreen through the same action. */
  g_action_group_activate_action (G_ACTION_GROUP (window), "fullscreen", NULL);
  spin (200);
  g_action_group_activate_action (G_ACTION_GROUP (window), "fullscreen", NULL);
  spin (200);

  close_window (window);
}

static void
remove_tmpdir (void)
{
  g_autoptr(GDir) dir = g_dir_open (tmpdir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmpdir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (tmpdir);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  const char *fixtures = g_getenv ("VITLENS_FIXTURES");
  int rc;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_printerr ("No display: skipping (run under tests/xvfb-run-test.sh)\n");
      return 77;
    }
  gtk_test_init (&argc, &argv, NULL);
  /* No crossfades half way through when the window is rendered. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  g_assert_nonnull (fixtures);
  g_unsetenv ("VITLENS_MODEL"); /* before any thread: the tests choose their models */
  model_path = g_build_filename (fixtures, "models", "tiny-p16", "model.safetensors", NULL);
  tmpdir = g_dir_make_tmp ("vitlens-test-app-XXXXXX", &error);
  g_assert_no_error (error);

  app = vitlens_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  g_test_add_func ("/app/window/startup-model", test_startup_model);
  g_test_add_func ("/app/window/no-model", test_no_model);
  g_test_add_func ("/app/window/bad-startup-model", test_bad_startup_model);
  g_test_add_func ("/app/window/drop-classify", test_drop_classify);
  g_test_add_func ("/app/window/variants", test_variants);
  g_test_add_func ("/app/window/broken-image", test_broken_image);
  g_test_add_func ("/app/window/broken-model", test_broken_model);
  g_test_add_func ("/app/window/several-files", test_several_files);
  g_test_add_func ("/app/window/paste", test_paste);
  g_test_add_func ("/app/window/destroy-while-busy", test_destroy_while_busy);
  g_test_add_func ("/app/window/render-png", test_render_png);
  g_test_add_func ("/app/preferences", test_preferences);
  g_test_add_func ("/app/command-line", test_command_line);
  g_test_add_func ("/app/accels", test_accels);

  rc = g_test_run ();

  remove_tmpdir ();
  g_clear_object (&app);
  g_free (model_path);
  g_free (tmpdir);
  return rc;
}
