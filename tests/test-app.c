/* test-app.c — the GTK app, driven the way a person uses it
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * Runs the real window (under Xvfb: tests/xvfb-run-test.sh) with the tiny-p16 fixture model:
 * images go in through the drop handler with a GdkFileList, exactly as a drop does; results
 * are compared with what the engine says for the same file; variants, broken images and
 * broken models, several files, paste, preferences, and a render of the window to PNG.
 * Compare mode on an image and on the test pattern (columns, agreement, export to CSV,
 * Markdown and PNG; the window's confirmation, and its question before replacing files), the
 * test pattern streaming with results (over the video and in the sidebar's stream mode), pause,
 * snapshot and its confirmation, videos that end and files that are no video. Test images and
 * videos are written here, into a temporary folder.
 *
 * The tests drive the pages (VitlensImagePage, VitlensStreamPage, VitlensComparePage) through
 * their properties and API, the window through its actions (win.*, as the accelerators do) and
 * its drop target, and read what the window shows (banner, notice, buttons) from its template's
 * children: the window has no functions for tests.
 *
 * Environment (set by tests/meson.build): VITLENS_FIXTURES (tests/fixtures),
 * GSETTINGS_SCHEMA_DIR, GSETTINGS_BACKEND=memory, GTK_A11Y=none, VITLENS_TEST_OUTDIR.
 */
#define G_LOG_DOMAIN "test-app"

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtk/gtk.h>
#include <libintl.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vit.h"
#include "vitlens-application.h"
#include "vitlens-attention-overlay.h"
#include "vitlens-data.h"
#include "vitlens-error.h"
#ifdef VITLENS_HAVE_HUB
#include "vitlens-get-models-dialog.h"
#endif
#include "vitlens-preferences-dialog.h"
#include "vitlens-compare-page.h"
#include "vitlens-image-page.h"
#include "vitlens-image-strip.h"
#include "vitlens-model-menu.h"
#include "vitlens-stream-page.h"
#include "vitlens-variant-switcher.h"
#include "vitlens-window.h"
#include "test-fake-camera.h"

#define WAIT_TIMEOUT_MS 30000
/* Rounds of an image's comparison (vitlens-compare-page.c: a tiny model never hits its time cap) */
#define COMPARE_ROUNDS 12

static VitlensApplication *app;
static char *tmpdir;
static char *model_path; /* tests/fixtures/models/tiny-p16/model.safetensors */


/* ---------------------------------------------------------------------------------------------
 * What the window shows: its pages (their properties and what they show), its banner and notice,
 * its buttons. The window has no API for tests: its parts are its template's children. */

static gpointer
window_child (VitlensWindow *window,
              const char    *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (window), VITLENS_TYPE_WINDOW, name);

  g_assert_nonnull (child);
  return child;
}

/* A template child of @widget, a @type. */
static gpointer
window_child_of (gpointer    widget,
                 GType       type,
                 const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);

  g_assert_nonnull (child);
  return child;
}

static VitlensImagePage   *image_page   (VitlensWindow *w) { return VITLENS_IMAGE_PAGE (window_child (w, "image_page")); }
static VitlensStreamPage  *stream_page  (VitlensWindow *w) { return VITLENS_STREAM_PAGE (window_child (w, "stream_page")); }
static VitlensComparePage *compare_page (VitlensWindow *w) { return VITLENS_COMPARE_PAGE (window_child (w, "compare_page")); }

/* The text of a revealed banner (the error) or notice; NULL when it is hidden. */
static const char *
revealed_text (VitlensWindow *window,
               const char    *revealer,
               const char    *label)
{
  if (!gtk_revealer_get_reveal_child (GTK_REVEALER (window_child (window, revealer))))
    return NULL;
  return gtk_label_get_label (GTK_LABEL (window_child (window, label)));
}

static const char *banner_text (VitlensWindow *w) { return revealed_text (w, "banner_revealer", "banner_label"); }
static const char *notice_text (VitlensWindow *w) { return revealed_text (w, "notice_revealer", "notice_label"); }

static gboolean
get_boolean (gpointer    object,
             const char *property)
{
  gboolean value = FALSE;

  g_object_get (object, property, &value, NULL);
  return value;
}

/* An object the page keeps (the image shown, the camera…): borrowed. */
static gpointer
get_object (gpointer    object,
            const char *property)
{
  GObject *value = NULL;

  g_object_get (object, property, &value, NULL);
  if (value != NULL)
    g_object_unref (value); /* the page has its own reference */
  return value;
}

static guint64
get_uint64 (gpointer    object,
            const char *property)
{
  guint64 value = 0;

  g_object_get (object, property, &value, NULL);
  return value;
}

/* What turns the header bar's spinner: a model loading, a page waiting. */
static gboolean
window_busy (VitlensWindow *w)
{
  return get_boolean (window_child (w, "model_menu"), "loading") || get_boolean (image_page (w), "busy")
         || get_boolean (compare_page (w), "busy");
}

static gboolean       comparing     (VitlensWindow *w) { return get_boolean (compare_page (w), "active"); }
static VitlensResultsPanel  *image_panel    (VitlensWindow *w) { return vitlens_image_page_get_results_panel (image_page (w)); }
static VitlensResultsPanel  *stream_panel   (VitlensWindow *w) { return vitlens_stream_page_get_results_panel (stream_page (w)); }
static VitlensStreamOverlay *stream_overlay (VitlensWindow *w) { return vitlens_stream_page_get_overlay (stream_page (w)); }
static VitlensCompareView   *compare_view   (VitlensWindow *w) { return vitlens_compare_page_get_view (compare_page (w)); }
static VitlensImage   *shown_image   (VitlensWindow *w) { return get_object (image_page (w), "image"); }
static VitlensCamera  *stream_camera (VitlensWindow *w) { return get_object (stream_page (w), "camera"); }
static GListModel     *camera_list   (VitlensWindow *w) { return get_object (stream_page (w), "cameras"); }
static guint64         n_frames      (VitlensWindow *w) { return get_uint64 (stream_page (w), "n-frames"); }
static guint64         n_results     (VitlensWindow *w) { return get_uint64 (stream_page (w), "n-results"); }

static guint
n_files (VitlensWindow *window)
{
  guint n = 0;

  g_object_get (image_page (window), "n-files", &n, NULL);
  return n;
}

static vit_variant
page_variant (VitlensWindow *window)
{
  int variant = -1;

  g_object_get (image_page (window), "variant", &variant, NULL);
  return variant;
}

/* What the image page shows: "no-model", "loading", "empty" or "image". */
static const char *
image_view (VitlensWindow *window)
{
  g_autofree char *view = NULL;

  g_object_get (image_page (window), "view", &view, NULL);
  return g_intern_string (view);
}

/* The stream's picture and numbers are on screen. */
static gboolean
stream_shown (VitlensWindow *window)
{
  return gtk_widget_get_mapped (GTK_WIDGET (stream_panel (window)));
}

/* "image", "camera" or "video". */
static const char *
source_name (VitlensWindow *window)
{
  g_autoptr(GEnumClass) sources = g_type_class_ref (VITLENS_TYPE_SOURCE);
  VitlensSource source;

  g_object_get (stream_page (window), "source", &source, NULL);
  return g_enum_get_value (sources, source)->value_nick;
}

static GtkWidget *
variant_button (VitlensWindow *window,
                vit_variant    variant)
{
  return vitlens_variant_switcher_get_button (window_child (window, "variant_switcher"), variant);
}

/* The window's GtkDropTarget: what a drop from a file manager reaches. */
static GtkDropTarget *
drop_target (VitlensWindow *window)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (window));

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_DROP_TARGET (controller))
        return GTK_DROP_TARGET (controller); /* the window keeps it */
    }
  g_assert_not_reached ();
}

/* Through the model menu's Recent Models entries (win.open-recent-model): the same loading as
 * Open Model…'s. */
static void
load_model (VitlensWindow *window,
            GFile         *file)
{
  g_autofree char *path = g_file_get_path (file);

  g_action_group_activate_action (G_ACTION_GROUP (window), "open-recent-model", g_variant_new_string (path));
}

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
  return !window_busy (VITLENS_WINDOW (data));
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
  g_signal_emit_by_name (drop_target (window), "drop", &value, 10.0, 10.0, &handled);
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
  VitlensResultsPanel *panel = image_panel (window);
  char *labels[5] = { NULL };

  expected_labels (image_path, variant, 5, labels);
  g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_results_panel_get_rows (panel)), ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      g_assert_cmpstr (vitlens_prediction_rows_get_label (vitlens_results_panel_get_rows (panel), i), ==, labels[i]);
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
  VitlensResultsPanel *panel = image_panel (window);

  g_assert_cmpstr (image_view (window), ==, "empty");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "name"), ==, "tiny-p16");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "architecture"), ==, "vit_test_tiny_patch16_32");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "classes"), ==, "10 (unnamed)");
  g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_results_panel_get_rows (panel)), ==, 0);
  g_assert_null (banner_text (window));

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
    g_assert_cmpstr (image_view (window), ==, "empty");
  else
    g_assert_cmpstr (image_view (window), ==, "no-model");
  g_assert_null (banner_text (window));
  for (int v = 0; v < VIT_VARIANT_COUNT && vitlens_data_model (&size) == NULL; v++)
    g_assert_false (gtk_widget_get_sensitive (variant_button (window, v)));
  g_free (render_widget (GTK_WIDGET (window), "no-model"));

  close_window (window);
}

static void
test_bad_startup_model (void)
{
  g_autofree char *bad = write_bytes ("gone.vitl", "VITL", 4);
  g_autofree char *png = write_image ("after-bad-model.png", 40, 30, 11);
  VitlensWindow *window = new_window (bad);
  VitlensResultsPanel *panel = image_panel (window);
  g_autofree char *message = NULL;
  size_t size = 0;

  /* `vitlens --model gone.vitl`: the error says so, and the built-in model (if this build
   * has one) takes over. */
  g_assert_nonnull (banner_text (window));
  message = g_strdup (banner_text (window));
  g_test_message ("bad startup model: %s", message);
  g_assert_true (g_str_has_prefix (message, "gone.vitl"));
  if (vitlens_data_model (&size) == NULL)
    g_assert_cmpstr (image_view (window), ==, "no-model");

  /* An image that decodes does not hide an error about the model. */
  drop_path (window, png);
  wait_idle (window);
  g_assert_cmpstr (banner_text (window), ==, message);
  g_assert_cmpstr (image_view (window), ==, "image");
  if (vitlens_data_model (&size) == NULL)
    g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_results_panel_get_rows (panel)), ==, 0);

  /* A model that loads does, and classifies the image shown. */
  {
    g_autoptr(GFile) good = g_file_new_for_path (model_path);

    load_model (window, good);
    wait_idle (window);
    g_assert_null (banner_text (window));
    assert_labels (window, png, VIT_VARIANT_FP32);
  }

  close_window (window);
}

static void
test_drop_classify (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = image_panel (window);
  g_autofree char *png = write_image ("drop.png", 120, 90, 1);

  drop_path (window, png);
  wait_idle (window);

  g_assert_null (banner_text (window));
  g_assert_cmpstr (image_view (window), ==, "image");
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "drop.png");
  g_assert_cmpint (vitlens_image_get_width (shown_image (window)), ==, 120);
  assert_labels (window, png, VIT_VARIANT_FP32);
  g_assert_true (g_str_has_suffix (vitlens_prediction_rows_get_percent (vitlens_results_panel_get_rows (panel), 0), "%"));
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
  VitlensResultsPanel *panel = image_panel (window);
  g_autofree char *jpg = write_image ("variants.jpg", 64, 80, 2);
  guint n_runs[VIT_VARIANT_COUNT] = { 0 }; /* after the first, which the median leaves out */
  gboolean ran[VIT_VARIANT_COUNT] = { FALSE };
  guint n_supported = 0;

  drop_path (window, jpg);
  wait_idle (window);
  assert_labels (window, jpg, VIT_VARIANT_FP32);
  ran[VIT_VARIANT_FP32] = TRUE;
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "median"), ==, "—");

  /* Each variant the engine has: switch (Alt+1/2/3 go through the same action), the image
   * runs again at once and the numbers change in place. The others are insensitive, and
   * asking for them anyway leaves everything as it was. */
  for (int v = VIT_VARIANT_COUNT - 1; v >= 0; v--)
    {
      GtkWidget *button = variant_button (window, v);
      g_autofree char *expected_median = NULL;

      if (!model_supports (v))
        {
          g_test_message ("%s: not supported by the engine yet", vit_variant_name (v));
          g_assert_false (gtk_widget_get_sensitive (button));
          g_assert_nonnull (gtk_widget_get_tooltip_text (button));
          g_action_group_activate_action (G_ACTION_GROUP (window), "variant",
                                          g_variant_new_string (vit_variant_name (v)));
          wait_idle (window);
          g_assert_cmpint (page_variant (window), !=, v);
          g_assert_nonnull (banner_text (window));
          g_action_group_activate_action (G_ACTION_GROUP (window), "dismiss-error", NULL);
          continue;
        }

      n_supported++;
      g_assert_true (gtk_widget_get_sensitive (button));
      g_action_group_activate_action (G_ACTION_GROUP (window), "variant",
                                      g_variant_new_string (vit_variant_name (v)));
      wait_idle (window);
      if (ran[v])
        n_runs[v]++;
      ran[v] = TRUE;

      g_assert_null (banner_text (window));
      g_assert_cmpint (page_variant (window), ==, v);
      g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (button)));
      g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "variant"), ==, vit_variant_name (v));
      expected_median = n_runs[v] == 0 ? g_strdup ("—")
                                        : g_strdup_printf (n_runs[v] == 1 ? "(%u run)" : "(%u runs)", n_runs[v]);
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
  VitlensResultsPanel *panel = image_panel (window);
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
  first_label = g_strdup (vitlens_prediction_rows_get_label (vitlens_results_panel_get_rows (panel), 0));

  /* Not an image: the engine's words, and nothing else changes. */
  drop_path (window, heic);
  wait_idle (window);
  g_assert_cmpstr (banner_text (window), ==, "dog.heic: not a PNG or JPEG image");
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "good.png");
  g_free (render_widget (GTK_WIDGET (window), "error"));
  g_assert_cmpstr (image_view (window), ==, "image");
  assert_labels (window, good, VIT_VARIANT_FP32);

  /* A truncated PNG. */
  g_assert_true (g_file_get_contents (good, &good_bytes, &good_size, NULL));
  truncated = write_bytes ("truncated.png", good_bytes, good_size / 2);
  drop_path (window, truncated);
  wait_idle (window);
  g_assert_true (g_str_has_prefix (banner_text (window), "truncated.png: "));
  g_assert_cmpstr (vitlens_prediction_rows_get_label (vitlens_results_panel_get_rows (panel), 0), ==, first_label);

  /* A file that is not there. */
  drop_path (window, missing);
  wait_idle (window);
  g_assert_true (g_str_has_prefix (banner_text (window), "missing.png: "));
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "good.png");

  /* A folder and an empty file. */
  {
    g_autofree char *empty = write_bytes ("empty.jpg", "", 0);
    const char *what[] = { tmpdir, empty };

    for (guint i = 0; i < G_N_ELEMENTS (what); i++)
      {
        drop_path (window, what[i]);
        wait_idle (window);
        g_test_message ("%s", banner_text (window));
        g_assert_nonnull (banner_text (window));
        g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "good.png");
        g_assert_cmpstr (vitlens_prediction_rows_get_label (vitlens_results_panel_get_rows (panel), 0), ==, first_label);
      }
  }

  /* A good image again clears the banner. */
  drop_path (window, good);
  wait_idle (window);
  g_assert_null (banner_text (window));

  close_window (window);
}

static void
test_broken_model (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = image_panel (window);
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
  load_model (window, broken_file);
  wait_idle (window);
  message = banner_text (window);
  g_assert_nonnull (message);
  g_test_message ("broken model: %s", message);
  g_assert_true (strstr (message, "broken.safetensors") != NULL);
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "name"), ==, "tiny-p16");
  g_assert_cmpstr (image_view (window), ==, "image");
  assert_labels (window, good, VIT_VARIANT_FP32);

  /* ...and through a drop: model files are told apart by their names. */
  drop_path (window, empty);
  wait_idle (window);
  message = banner_text (window);
  g_assert_nonnull (message);
  g_test_message ("empty model: %s", message);
  g_assert_true (strstr (message, "empty.vitq") != NULL);
  assert_labels (window, good, VIT_VARIANT_FP32);

  close_window (window);
}

static gboolean
notice_shown (gpointer data)
{
  return notice_text (VITLENS_WINDOW (data)) != NULL;
}

/* The model's file changes on disk while the app uses it (hardening 2): the session keeps its
 * own weights, a notice says so and offers Reload Model, which loads the new file. */
static void
test_model_file_changed (void)
{
  g_autofree char *bytes = NULL, *config = NULL;
  gsize size = 0, config_size = 0;
  g_autofree char *dir = test_path ("watched");
  g_autofree char *copy = g_build_filename (dir, "watched.safetensors", NULL);
  g_autofree char *config_copy = g_build_filename (dir, "config.json", NULL);
  g_autofree char *model_dir = g_path_get_dirname (model_path);
  g_autofree char *config_path = g_build_filename (model_dir, "config.json", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (copy);
  g_autofree char *good = write_image ("watched.png", 50, 40, 5);
  VitlensWindow *window;
  GAction *reload;

  /* the model and the config.json beside it, in a folder of their own */
  g_assert_true (g_mkdir_with_parents (dir, 0755) == 0);
  g_assert_true (g_file_get_contents (model_path, &bytes, &size, NULL));
  g_assert_true (g_file_get_contents (config_path, &config, &config_size, NULL));
  g_assert_true (g_file_set_contents (copy, bytes, (gssize)size, NULL));
  g_assert_true (g_file_set_contents (config_copy, config, (gssize)config_size, NULL));
  window = new_window (NULL);
  drop_path (window, good);
  wait_idle (window);
  load_model (window, file);
  wait_idle (window);
  reload = g_action_map_lookup_action (G_ACTION_MAP (window), "reload-model");
  g_assert_nonnull (reload);
  g_assert_true (g_action_get_enabled (reload));
  g_assert_null (notice_text (window));

  /* rewritten in place, as cp does */
  g_assert_true (g_file_set_contents (copy, bytes, (gssize)size, NULL));
  wait_until (notice_shown, window, "the notice that the model file changed");
  g_test_message ("notice: %s", notice_text (window));
  g_assert_nonnull (strstr (notice_text (window), "watched.safetensors changed on disk"));
  assert_labels (window, good, VIT_VARIANT_FP32); /* the answer is still there */

  g_action_group_activate_action (G_ACTION_GROUP (window), "reload-model", NULL);
  wait_idle (window);
  g_assert_null (banner_text (window));
  assert_labels (window, good, VIT_VARIANT_FP32);

  /* the built-in model has no file to reload */
  g_action_group_activate_action (G_ACTION_GROUP (window), "load-embedded-model", NULL);
  wait_idle (window);
  g_assert_false (g_action_get_enabled (reload));
  close_window (window);
  g_unlink (copy);
  g_unlink (config_copy);
  g_rmdir (dir);
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
  g_assert_cmpuint (n_files (window), ==, 3);
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "a.png");
  assert_labels (window, a, VIT_VARIANT_FP32);

  g_action_group_activate_action (G_ACTION_GROUP (window), "next-image", NULL);
  wait_idle (window);
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "b.jpg");
  assert_labels (window, b, VIT_VARIANT_FP32);

  g_action_group_activate_action (G_ACTION_GROUP (window), "previous-image", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (window), "previous-image", NULL);
  wait_idle (window);
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "c.png");
  assert_labels (window, c, VIT_VARIANT_FP32);
  g_free (render_widget (GTK_WIDGET (window), "several"));

  close_window (window);
}

static void
test_paste (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = image_panel (window);
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
  g_assert_null (banner_text (window));
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "Pasted image");
  assert_labels (window, png, VIT_VARIANT_FP32); /* the same pixels as the file */
  g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_results_panel_get_rows (panel)), ==, 5);

  /* Files on the clipboard (a file manager's Copy). */
  {
    g_autofree char *jpg = write_image ("copied.jpg", 33, 44, 6);
    g_autoptr(GFile) file = g_file_new_for_path (jpg);
    GdkFileList *list = gdk_file_list_new_from_array (&file, 1);

    gdk_clipboard_set (clipboard, GDK_TYPE_FILE_LIST, list);
    g_boxed_free (GDK_TYPE_FILE_LIST, list);
    g_action_group_activate_action (G_ACTION_GROUP (window), "paste", NULL);
    wait_idle (window);
    g_assert_null (banner_text (window));
    g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "copied.jpg");
    assert_labels (window, jpg, VIT_VARIANT_FP32);
  }

  /* Text is no image. */
  gdk_clipboard_set_text (clipboard, "hello");
  g_action_group_activate_action (G_ACTION_GROUP (window), "paste", NULL);
  wait_idle (window);
  g_assert_nonnull (banner_text (window));
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "copied.jpg");

  close_window (window);
}

static void
test_preferences (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = image_panel (window);
  GSettings *settings = vitlens_application_get_settings (app);
  g_autofree char *png = write_image ("prefs.png", 64, 64, 7);
  GtkWidget *dialog;

  drop_path (window, png);
  wait_idle (window);
  g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_results_panel_get_rows (panel)), ==, 5);

  dialog = vitlens_preferences_dialog_new (settings, GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (dialog));
  g_free (render_widget (dialog, "preferences"));

  /* Changes apply at once: the image runs again with three results, then one thread. */
  g_settings_set_int (settings, "top-k", 3);
  wait_idle (window);
  g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_results_panel_get_rows (panel)), ==, 3);
  g_settings_set_int (settings, "threads", 1);
  wait_idle (window);
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "threads"), ==, "1");

  g_settings_reset (settings, "top-k");
  g_settings_reset (settings, "threads");
  wait_idle (window);
  g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_results_panel_get_rows (panel)), ==, 5);

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
  g_assert_true (window_busy (window));
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
  g_assert_cmpstr (vitlens_image_get_name (shown_image (VITLENS_WINDOW (window))), ==, "argv.png");
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
    { "win.variant::compare", "<Alt>4" },
    { "win.source::image", "<Control>1" },
    { "win.source::camera", "<Control>2" },
    { "win.source::video", "<Control>3" },
    { "win.play-pause", "<Control>p" },
    { "win.snapshot", "<Control>s" },
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


/* ---------------------------------------------------------------------------------------------
 * Compare mode, streams */

typedef struct
{
  VitlensWindow *window;
  guint64        frames;
  guint64        results;
} StreamWait;

static gboolean
stream_progressed (gpointer data)
{
  StreamWait *w = data;

  return n_frames (w->window) >= w->frames
         && n_results (w->window) >= w->results;
}

/* Until @frames more frames were shown and @results more results came. */
static void
wait_stream (VitlensWindow *window,
             guint64        frames,
             guint64        results)
{
  StreamWait w = { window, n_frames (window) + frames,
                   n_results (window) + results };

  wait_until (stream_progressed, &w, "frames and results of the stream");
}

typedef struct
{
  VitlensWindow     *window;
  VitlensCameraState state;
} StateWait;

static gboolean
camera_in_state (gpointer data)
{
  StateWait *w = data;
  VitlensCamera *camera = stream_camera (w->window);

  return camera != NULL && vitlens_camera_get_state (camera) == w->state;
}

static void
wait_state (VitlensWindow     *window,
            VitlensCameraState state)
{
  StateWait w = { window, state };
  g_autofree char *what = g_strdup_printf ("the stream to be %s", vitlens_camera_state_to_string (state));

  wait_until (camera_in_state, &w, what);
}

typedef struct
{
  VitlensCompareView *view;
  guint               inputs;
} AgreeWait;

static gboolean
compared_inputs (gpointer data)
{
  AgreeWait *w = data;
  guint agree = 0, inputs = 0;

  if (vitlens_compare_view_get_n_columns (w->view) < 2)
    return FALSE;
  vitlens_compare_view_get_agreement (w->view, 1, &agree, &inputs);
  return inputs >= w->inputs;
}

static void
activate (VitlensWindow *window,
          const char    *action,
          GVariant      *param)
{
  g_action_group_activate_action (G_ACTION_GROUP (window), action, param);
}

/* The columns a model's comparison has: its variants, then lite with the optimized one. */
static guint
expected_columns (const char **names)
{
  guint n = 0;

  for (int v = 0; v < VIT_VARIANT_COUNT; v++)
    if (model_supports (v))
      names[n++] = vit_variant_name (v);
  if (model_supports (VIT_VARIANT_OPTIMIZED))
    names[n++] = "lite";
  return n;
}

/* PNG signature and IHDR size, read from the file's bytes. */
static void
assert_png (const char *path,
            int        *width,
            int        *height)
{
  static const guchar signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autofree guchar *bytes = NULL;
  gsize size = 0;

  g_assert_true (g_file_get_contents (path, (char **)&bytes, &size, NULL));
  g_assert_cmpuint (size, >, 33);
  g_assert_cmpmem (bytes, 8, signature, 8);
  g_assert_cmpmem (bytes + 12, 4, "IHDR", 4);
  *width = (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19];
  *height = (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23];
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, &error);

    g_assert_no_error (error);
    g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, *width);
    g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, *height);
  }
}

/* The question a window asks in a GtkMessageDialog (replace files?); NULL when none is up. */
static GtkMessageDialog *
find_message_dialog (VitlensWindow *window)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  GtkMessageDialog *found = NULL;

  for (guint i = 0; found == NULL && i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) toplevel = g_list_model_get_item (toplevels, i);

      if (GTK_IS_MESSAGE_DIALOG (toplevel) && gtk_widget_get_visible (GTK_WIDGET (toplevel))
          && gtk_window_get_transient_for (toplevel) == GTK_WINDOW (window))
        found = GTK_MESSAGE_DIALOG (toplevel); /* the list of toplevels keeps it */
    }
  return found;
}

static char *
dialog_text (GtkMessageDialog *dialog,
             const char       *property)
{
  char *text = NULL;

  g_object_get (dialog, property, &text, NULL);
  return text;
}

/* What Export… does with a name chosen: writes the three files and says so; asks first when
 * they exist, and leaves them alone when told no. */
static void
assert_window_export (VitlensWindow *window)
{
  g_autofree char *base = test_path ("comparison-window");
  g_autofree char *typed = g_strconcat (base, ".csv", NULL);
  g_auto(GStrv) paths = vitlens_compare_view_export_paths (base);
  g_autoptr(GFile) file = g_file_new_for_path (base);
  g_autoptr(GFile) typed_file = g_file_new_for_path (typed);
  g_autofree char *csv = NULL;
  GtkMessageDialog *dialog;

  g_assert_null (notice_text (window));
  vitlens_compare_page_export (compare_page (window), file);
  g_assert_null (find_message_dialog (window));
  g_assert_null (banner_text (window));
  g_assert_cmpstr (notice_text (window), ==,
                   "Saved comparison-window.csv, comparison-window.md and comparison-window.png");
  for (guint i = 0; i < 3; i++)
    g_assert_true (g_file_test (paths[i], G_FILE_TEST_IS_REGULAR));

  /* Again: the files exist, the window asks, naming them; No leaves them as they are. */
  activate (window, "dismiss-notice", NULL);
  g_assert_null (notice_text (window));
  g_assert_true (g_file_set_contents (paths[0], "old", -1, NULL));
  vitlens_compare_page_export (compare_page (window), file);
  dialog = find_message_dialog (window);
  g_assert_nonnull (dialog);
  {
    g_autofree char *text = dialog_text (dialog, "text");
    g_autofree char *secondary = dialog_text (dialog, "secondary-text");

    g_test_message ("Asked: %s / %s", text, secondary);
    g_assert_cmpstr (text, ==, "Replace the existing files?");
    for (guint i = 0; i < 3; i++)
      {
        g_autofree char *name = g_path_get_basename (paths[i]);
        g_assert_nonnull (strstr (secondary, name));
      }
  }
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  spin (50);
  g_assert_null (find_message_dialog (window));
  g_assert_null (notice_text (window));
  g_assert_true (g_file_get_contents (paths[0], &csv, NULL, NULL));
  g_assert_cmpstr (csv, ==, "old");
  g_clear_pointer (&csv, g_free);

  /* A name typed with .csv: the chooser asked about that one; the window asks about the rest. */
  vitlens_compare_page_export (compare_page (window), typed_file);
  dialog = find_message_dialog (window);
  g_assert_nonnull (dialog);
  {
    g_autofree char *secondary = dialog_text (dialog, "secondary-text");

    g_assert_null (strstr (secondary, "comparison-window.csv"));
    g_assert_nonnull (strstr (secondary, "comparison-window.md"));
    g_assert_nonnull (strstr (secondary, "comparison-window.png"));
  }

  /* Yes: written, and said. */
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  spin (50);
  g_assert_null (find_message_dialog (window));
  g_assert_true (g_file_get_contents (paths[0], &csv, NULL, NULL));
  g_assert_true (g_str_has_prefix (csv, "variant,median_ms,"));
  g_assert_cmpstr (notice_text (window), ==,
                   "Saved comparison-window.csv, comparison-window.md and comparison-window.png");
  g_clear_pointer (&csv, g_free);

  /* Through the one output writer: a link is written through, a FIFO is refused and kept. */
  {
    g_autofree char *lbase = test_path ("linked");
    g_autofree char *lcsv = g_strconcat (lbase, ".csv", NULL);
    g_autofree char *target = test_path ("linked-target.csv");
    g_autofree char *fbase = test_path ("fifo-export");
    g_autofree char *fmd = g_strconcat (fbase, ".md", NULL);
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) lpaths = vitlens_compare_view_export_paths (lbase);
    g_auto(GStrv) fpaths = vitlens_compare_view_export_paths (fbase);

    g_assert_true (g_file_set_contents (target, "old", -1, NULL));
    g_assert_cmpint (symlink ("linked-target.csv", lcsv), ==, 0);
    g_assert_true (vitlens_compare_view_export (compare_view (window), lbase, &error));
    g_assert_true (g_file_test (lcsv, G_FILE_TEST_IS_SYMLINK));
    g_assert_true (g_file_get_contents (target, &csv, NULL, NULL));
    g_assert_true (g_str_has_prefix (csv, "variant,median_ms,"));
    g_assert_cmpint (mkfifo (fmd, 0644), ==, 0);
    g_assert_false (vitlens_compare_view_export (compare_view (window), fbase, &error));
    g_assert_true (g_file_test (fmd, G_FILE_TEST_EXISTS) && !g_file_test (fmd, G_FILE_TEST_IS_REGULAR));
    g_test_message ("export onto a FIFO: %s", error->message);
    g_assert_nonnull (strstr (error->message, "fifo-export.md: is a FIFO, not a regular file"));
    for (guint i = 0; i < 3; i++)
      {
        g_unlink (lpaths[i]);
        g_unlink (fpaths[i]);
      }
    g_unlink (target);
  }
}

/* Export, then read every file back: CSV rows and fields, Markdown table, PNG header. */
static void
assert_export (VitlensCompareView *view,
               const char         *base_name,
               gboolean            stream)
{
  g_autofree char *base = test_path (base_name);
  g_autofree char *csv_path = g_strconcat (base, ".csv", NULL);
  g_autofree char *md_path = g_strconcat (base, ".md", NULL);
  g_autofree char *png_path = g_strconcat (base, ".png", NULL);
  g_autofree char *typed = g_strconcat (base, ".md", NULL); /* a name typed with a suffix */
  g_autofree char *csv = NULL, *md = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  guint n = vitlens_compare_view_get_n_columns (view);
  guint table_rows = 0;
  int width, height;
  VitlensChart chart;

  g_assert_true (vitlens_compare_view_export (view, typed, &error));
  g_assert_no_error (error);

  /* CSV: a header and one row per column, the same number of fields, numbers that parse. */
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  lines = g_strsplit (g_strchomp (csv), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, n + 1);
  g_assert_true (g_str_has_prefix (lines[0], "variant,median_ms,p10_ms,p90_ms,last_ms,reduction_pct,"));
  g_assert_true (g_str_has_suffix (lines[0], ",patch_ms,patch_pct,layernorm_ms,layernorm_pct,qkv_ms,qkv_pct,"
                                             "attention_ms,attention_pct,proj_ms,proj_pct,fc1_ms,fc1_pct,"
                                             "fc2_ms,fc2_pct,head_ms,head_pct,other_ms,other_pct"));
  for (guint i = 1; i <= n; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], ",", -1);
      char *end = NULL;
      double median, p10, p90, latency;

      g_test_message ("CSV: %s", lines[i]);
      g_assert_cmpuint (g_strv_length (fields), ==, 18 + 2 * VIT_OP_COUNT);
      /* where the time goes (Compare profiles every variant): ms and % per op class, the %
       * adding up to the whole forward */
      {
        double pct = 0;

        for (int k = 0; k < VIT_OP_COUNT; k++)
          {
            g_assert_cmpfloat (g_ascii_strtod (fields[18 + 2 * k], &end), >=, 0);
            g_assert_true (*end == '\0' && end != fields[18 + 2 * k]);
            pct += g_ascii_strtod (fields[19 + 2 * k], NULL);
          }
        g_assert_cmpfloat_with_epsilon (pct, 100.0, 0.1);
      }
      g_assert_cmpstr (fields[0], ==, vitlens_compare_view_get_column_name (view, i - 1));
      median = g_ascii_strtod (fields[1], &end);
      g_assert_true (*end == '\0');
      p10 = g_ascii_strtod (fields[2], NULL);
      p90 = g_ascii_strtod (fields[3], NULL);
      g_assert_cmpfloat (median, >, 0);
      g_assert_cmpfloat (p10, <=, median);
      g_assert_cmpfloat (p90, >=, median);
      g_assert_cmpuint (g_ascii_strtoull (fields[6], NULL, 10), ==, vitlens_compare_view_get_n_runs (view, i - 1));
      g_assert_cmpint (g_ascii_strtoll (fields[7], NULL, 10), >, 0);
      if (i == 1)
        g_assert_cmpstr (fields[5], ==, "0.00");
      /* how it compares with the reference, in words */
      if (i == 1)
        g_assert_cmpstr (fields[17], ==, "reference");
      else
        g_assert_true (g_strv_contains ((const char *[]) { "faster", "slower", "same", NULL }, fields[17]));
      latency = fields[11][0] ? g_ascii_strtod (fields[11], NULL) : -1;
      if (stream)
        g_assert_cmpfloat (latency, >, 0);
      else
        g_assert_cmpfloat (latency, ==, -1);
    }

  /* Markdown: the tutorial's table, a row per column. */
  g_assert_true (g_file_get_contents (md_path, &md, NULL, NULL));
  g_test_message ("Markdown:\n%s", md);
  {
    g_auto(GStrv) md_lines = g_strsplit (md, "\n", -1);

    /* the first table; "Where the time goes" comes after it */
    for (guint i = 0; md_lines[i] != NULL && !(table_rows > 0 && md_lines[i][0] == '\0'); i++)
      if (g_str_has_prefix (md_lines[i], "| "))
        {
          if (table_rows > 0)
            {
              g_autofree char *cell = g_strdup_printf ("| %s |", vitlens_compare_view_get_column_name (view, table_rows - 1));
              g_assert_true (g_str_has_prefix (md_lines[i], cell));
            }
          table_rows++;
        }
    g_assert_true (g_str_has_prefix (md_lines[0], "**"));
  }
  g_assert_cmpuint (table_rows, ==, n + 1);
  g_assert_true (strstr (md, "| Model | Inference Time (median ms) |") != NULL);
  g_assert_true ((strstr (md, "Latency (median ms)") != NULL) == stream);
  /* Where the time goes: a row per op class, ms and % per variant. */
  {
    const char *profile = strstr (md, "**Where the time goes**");
    g_autofree char *head = g_strdup_printf ("| Op | %s ms | %% |", vitlens_compare_view_get_column_name (view, 0));

    g_assert_nonnull (profile);
    g_assert_nonnull (strstr (profile, head));
    for (int k = 0; k < VIT_OP_COUNT; k++)
      {
        g_autofree char *row = g_strdup_printf ("\n| %s | ", vitlens_chart_op_label (k));

        g_assert_nonnull (strstr (profile, row));
      }
  }

  /* PNG: the chart, taller with the latency trace. */
  assert_png (png_path, &width, &height);
  vitlens_compare_view_get_chart (view, &chart);
  g_assert_cmpint (chart.n_rows, ==, n);
  g_assert_cmpint (width, ==, 760);
  /* the time bars under it */
  g_assert_true (vitlens_chart_has_profile (&chart));
  g_assert_cmpint (height, ==, 120 + 56 * (int)n + (stream ? 180 : 0)
                               + (int)ceil (vitlens_chart_profile_height (&chart, 760)));
}

/* ---------------------------------------------------------------------------------------------
 * Show attention (win.show-attention, Ctrl+T) */

static VitlensAttentionOverlay *
image_attention (VitlensWindow *w)
{
  return VITLENS_ATTENTION_OVERLAY (window_child_of (image_page (w), VITLENS_TYPE_IMAGE_PAGE, "attention_overlay"));
}

static VitlensAttentionOverlay *
stream_attention (VitlensWindow *w)
{
  return VITLENS_ATTENTION_OVERLAY (window_child_of (stream_page (w), VITLENS_TYPE_STREAM_PAGE, "attention_overlay"));
}

/* The image page's result (borrowed: the page keeps it). */
static VitlensResult *
shown_prediction (VitlensWindow *window)
{
  VitlensResult *result = NULL;

  g_object_get (image_page (window), "prediction", &result, NULL);
  if (result != NULL)
    vitlens_result_unref (result);
  return result;
}

static void
set_show_attention (VitlensWindow *window,
                    gboolean       show)
{
  g_autoptr(GVariant) state = g_action_group_get_action_state (G_ACTION_GROUP (window), "show-attention");

  g_assert_nonnull (state);
  if (g_variant_get_boolean (state) != show)
    activate (window, "show-attention", NULL); /* Ctrl+T's action toggles */
  g_clear_pointer (&state, g_variant_unref);
  state = g_action_group_get_action_state (G_ACTION_GROUP (window), "show-attention");
  g_assert_true (g_variant_get_boolean (state) == show);
}

/* A rollout grid as the engine makes it: the model's patch grid, values in [0, 1], the largest 1. */
static void
assert_rollout (VitlensWindow *window,
                const float   *grid,
                int            gh,
                int            gw)
{
  VitlensInference *inference = get_object (image_page (window), "inference");
  const VitlensModelFacts *facts = vitlens_inference_get_model (inference);
  float max = 0;

  g_assert_nonnull (grid);
  g_assert_cmpint (gh, ==, facts->img_size / facts->patch_size);
  g_assert_cmpint (gw, ==, facts->img_size / facts->patch_size);
  for (int i = 0; i < gh * gw; i++)
    {
      g_assert_cmpfloat (grid[i], >=, 0);
      g_assert_cmpfloat (grid[i], <=, 1);
      max = MAX (max, grid[i]);
    }
  g_assert_cmpfloat_with_epsilon (max, 1.0, 1e-6);
}

static gboolean
overlay_has_grid (gpointer data)
{
  int gh, gw;

  return vitlens_attention_overlay_get_grid (data, &gh, &gw) != NULL;
}

static void
test_attention_image (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensAttentionOverlay *overlay = image_attention (window);
  GtkWidget *picture = window_child_of (image_page (window), VITLENS_TYPE_IMAGE_PAGE, "picture");
  g_autofree char *path = write_image ("attention.png", 400, 300, 3);
  GSettings *settings = vitlens_application_get_settings (app);
  VitlensResult *prediction;
  graphene_rect_t rect;
  graphene_point_t origin;
  const float *grid;
  int gh, gw;

  drop_path (window, path);
  wait_idle (window);
  /* Off (the default): the result has no rollout, nothing is drawn. */
  prediction = shown_prediction (window);
  g_assert_nonnull (prediction);
  g_assert_null (prediction->rollout);
  g_assert_null (vitlens_attention_overlay_get_grid (overlay, &gh, &gw));

  /* On: classified again, the overlay gets the model's patch grid, and the key remembers it. */
  set_show_attention (window, TRUE);
  wait_idle (window);
  wait_until (overlay_has_grid, overlay, "the attention over the image");
  grid = vitlens_attention_overlay_get_grid (overlay, &gh, &gw);
  assert_rollout (window, grid, gh, gw);
  prediction = shown_prediction (window);
  g_assert_true (prediction->rollout == grid);
  g_assert_true (g_settings_get_boolean (settings, "show-attention"));

  /* Over the picture as it is drawn: the image's aspect, inside the picture, centred. */
  g_free (render_widget (GTK_WIDGET (window), "attention-image"));
  g_assert_true (vitlens_attention_overlay_get_image_rect (overlay, &rect));
  g_assert_true (gtk_widget_compute_point (picture, GTK_WIDGET (overlay), &GRAPHENE_POINT_INIT (0, 0), &origin));
  g_assert_cmpfloat_with_epsilon (rect.size.width / rect.size.height, 400.0 / 300.0, 0.02);
  g_assert_cmpfloat (rect.origin.x, >=, origin.x - 1);
  g_assert_cmpfloat (rect.origin.x + rect.size.width, <=, origin.x + gtk_widget_get_width (picture) + 1);
  g_assert_cmpfloat_with_epsilon (2 * (rect.origin.x - origin.x) + rect.size.width,
                                  gtk_widget_get_width (picture), 2);

  /* Off again: nothing drawn; the next classification computes no rollout. */
  set_show_attention (window, FALSE);
  g_assert_null (vitlens_attention_overlay_get_grid (overlay, &gh, &gw));
  if (model_supports (VIT_VARIANT_INT8))
    {
      activate (window, "variant", g_variant_new_string ("int8"));
      wait_idle (window);
      prediction = shown_prediction (window);
      g_assert_cmpint (prediction->variant, ==, VIT_VARIANT_INT8);
      g_assert_null (prediction->rollout);
      /* and on, with int8: its own rollout */
      set_show_attention (window, TRUE);
      wait_idle (window);
      wait_until (overlay_has_grid, overlay, "int8's attention over the image");
      grid = vitlens_attention_overlay_get_grid (overlay, &gh, &gw);
      assert_rollout (window, grid, gh, gw);
      set_show_attention (window, FALSE);
    }

  close_window (window);
}

typedef struct
{
  guint    with, without;
} RolloutCount;

static void
count_rollout (VitlensInference *inference,
               VitlensResult    *result,
               RolloutCount     *count)
{
  if (result->rollout != NULL)
    count->with++;
  else
    count->without++;
}

static void
test_attention_stream (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensAttentionOverlay *overlay = stream_attention (window);
  VitlensInference *inference = get_object (image_page (window), "inference");
  RolloutCount count = { 0, 0 };
  const float *grid;
  gulong handler;
  int gh, gw;

  handler = g_signal_connect (inference, "frame-result", G_CALLBACK (count_rollout), &count);

  /* Off: the test pattern's results carry no rollout. */
  activate (window, "camera", g_variant_new_string ("test-pattern"));
  wait_stream (window, 10, 3);
  g_assert_cmpuint (count.without, >=, 3);
  g_assert_cmpuint (count.with, ==, 0);
  g_assert_null (vitlens_attention_overlay_get_grid (overlay, &gh, &gw));

  /* On: from the next frames on, every result has one, and the overlay shows the newest. */
  set_show_attention (window, TRUE);
  wait_stream (window, 1, 2); /* a frame already under way may come without */
  memset (&count, 0, sizeof count);
  wait_stream (window, 5, 3);
  g_assert_cmpuint (count.with, >=, 3);
  g_assert_cmpuint (count.without, ==, 0);
  grid = vitlens_attention_overlay_get_grid (overlay, &gh, &gw);
  assert_rollout (window, grid, gh, gw);
  g_assert_true (vitlens_attention_overlay_get_result (overlay)->number > 0);
  g_free (render_widget (GTK_WIDGET (window), "attention-stream"));

  /* Off: none again, and nothing drawn. */
  set_show_attention (window, FALSE);
  g_assert_null (vitlens_attention_overlay_get_grid (overlay, &gh, &gw));
  wait_stream (window, 1, 2);
  memset (&count, 0, sizeof count);
  wait_stream (window, 5, 3);
  g_assert_cmpuint (count.with, ==, 0);
  g_assert_cmpuint (count.without, >=, 3);

  g_signal_handler_disconnect (inference, handler);
  activate (window, "source", g_variant_new_string ("image"));
  close_window (window);
}

static void
test_attention_compare (void)
{
  g_autofree char *path = write_image ("attention-compare.png", 120, 90, 4);
  VitlensWindow *window = new_window (model_path);
  VitlensCompareView *view = compare_view (window);
  guint n;

  /* Compare first, then the image: it is compared as it comes. */
  activate (window, "variant", g_variant_new_string ("compare"));
  drop_path (window, path);
  wait_idle (window);
  n = vitlens_compare_view_get_n_columns (view);
  g_assert_cmpuint (n, >, 0);
  /* Off: the columns show no attention; their profiles are there all the same. */
  for (guint c = 0; c < n; c++)
    {
      GtkWidget *attention = vitlens_compare_view_get_attention (view, c);
      int gh, gw;

      g_assert_false (gtk_widget_get_visible (attention));
      g_assert_null (vitlens_attention_overlay_get_grid (VITLENS_ATTENTION_OVERLAY (attention), &gh, &gw));
    }

  /* On: compared again, every column has its variant's attention and where its time went. */
  set_show_attention (window, TRUE);
  wait_idle (window);
  for (guint c = 0; c < n; c++)
    {
      GtkWidget *attention = vitlens_compare_view_get_attention (view, c);
      double op_ms[VIT_OP_COUNT], sum = 0;
      const float *grid;
      int gh, gw;

      g_assert_true (gtk_widget_get_visible (attention));
      grid = vitlens_attention_overlay_get_grid (VITLENS_ATTENTION_OVERLAY (attention), &gh, &gw);
      g_test_message ("%s: rollout %d×%d", vitlens_compare_view_get_column_name (view, c), gh, gw);
      assert_rollout (window, grid, gh, gw);
      g_assert_true (vitlens_compare_view_get_profile (view, c, op_ms));
      for (int k = 0; k < VIT_OP_COUNT; k++)
        {
          g_assert_cmpfloat (op_ms[k], >=, 0);
          sum += op_ms[k];
        }
      g_assert_cmpfloat (sum, >, 0);
      g_assert_cmpfloat (op_ms[VIT_OP_ATTENTION], >, 0);
    }
  gtk_test_widget_wait_for_draw (vitlens_compare_view_get_chart_area (view));
  g_free (render_widget (GTK_WIDGET (window), "attention-compare"));
  assert_export (view, "attention-compare", FALSE);

  set_show_attention (window, FALSE);
  g_assert_false (gtk_widget_get_visible (vitlens_compare_view_get_attention (view, 0)));
  activate (window, "variant", g_variant_new_string ("fp32"));
  wait_idle (window);
  close_window (window);
}

static void
test_compare_image (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensCompareView *view = compare_view (window);
  g_autofree char *a = write_image ("compare-a.png", 96, 72, 1);
  g_autofree char *b = write_image ("compare-b.jpg", 64, 64, 5);
  const char *names[VITLENS_COMPARE_MAX_COLUMNS];
  guint n = expected_columns (names);
  char *labels[5] = { NULL };
  guint agree, inputs;

  drop_path (window, a);
  wait_idle (window);

  /* Alt+4's action: every variant on the image, twelve rounds each. */
  activate (window, "variant", g_variant_new_string ("compare"));
  wait_idle (window);
  g_assert_true (comparing (window));
  g_assert_null (banner_text (window));
  g_assert_cmpuint (vitlens_compare_view_get_n_columns (view), ==, n);
  for (guint c = 0; c < n; c++)
    {
      g_test_message ("%s: median %s, last %s, reduction %s, size %s (%s), agreement %s",
                      vitlens_compare_view_get_column_name (view, c),
                      vitlens_compare_view_get_value (view, c, "median"),
                      vitlens_compare_view_get_value (view, c, "last"),
                      vitlens_compare_view_get_value (view, c, "reduction"),
                      vitlens_compare_view_get_value (view, c, "size"),
                      vitlens_compare_view_get_value (view, c, "size-reduction"),
                      vitlens_compare_view_get_value (view, c, "agreement"));
      g_assert_cmpstr (vitlens_compare_view_get_column_name (view, c), ==, names[c]);
      g_assert_cmpuint (vitlens_compare_view_get_n_rows (view, c), ==, 5);
      g_assert_cmpuint (vitlens_compare_view_get_n_runs (view, c), ==, COMPARE_ROUNDS);
      for (const char **key = (const char *[]) { "last", "median", "spread", "reduction", "size",
                                                 "size-reduction", "agreement", NULL }; *key; key++)
        g_assert_cmpstr (vitlens_compare_view_get_value (view, c, *key), !=, "—");
      vitlens_compare_view_get_agreement (view, c, &agree, &inputs);
      g_assert_cmpuint (inputs, ==, 1);
      /* fp32 has no mark; the others a mark exactly where their class differs from fp32's. */
      for (guint r = 0; r < 5; r++)
        g_assert_true (vitlens_compare_view_get_row_marked (view, c, r)
                       == (c > 0 && g_strcmp0 (vitlens_compare_view_get_row_label (view, c, r),
                                               vitlens_compare_view_get_row_label (view, 0, r)) != 0));
    }
  g_assert_cmpstr (vitlens_compare_view_get_value (view, 0, "reduction"), ==, "reference");
  g_assert_cmpstr (vitlens_compare_view_get_value (view, 0, "agreement"), ==, "reference");

  /* The fp32 column says what fp32 says. */
  expected_labels (a, VIT_VARIANT_FP32, 5, labels);
  for (guint r = 0; r < 5; r++)
    {
      g_assert_cmpstr (vitlens_compare_view_get_row_label (view, 0, r), ==, labels[r]);
      g_free (labels[r]);
    }
  /* The optimized and lite columns say what the engine's optimized variant says: the lite file
   * is written from the model after its fp32 pass has run (and packed, and released its copy of
   * the weights), and must hold the same int8 weights. */
  if (model_supports (VIT_VARIANT_OPTIMIZED))
    {
      expected_labels (a, VIT_VARIANT_OPTIMIZED, 5, labels);
      for (guint c = 0; c < n; c++)
        if (g_str_equal (names[c], "optimized") || g_str_equal (names[c], "lite"))
          for (guint r = 0; r < 5; r++)
            g_assert_cmpstr (vitlens_compare_view_get_row_label (view, c, r), ==, labels[r]);
      for (guint r = 0; r < 5; r++)
        g_free (labels[r]);
    }

  /* Run Again: more times, the same input. */
  activate (window, "compare-again", NULL);
  wait_idle (window);
  for (guint c = 0; c < n; c++)
    {
      g_assert_cmpuint (vitlens_compare_view_get_n_runs (view, c), ==, 2 * COMPARE_ROUNDS);
      vitlens_compare_view_get_agreement (view, c, &agree, &inputs);
      g_assert_cmpuint (inputs, ==, 1);
    }

  /* Another image: the agreement counts move. */
  drop_path (window, b);
  wait_idle (window);
  g_assert_true (comparing (window));
  for (guint c = 0; c < n; c++)
    {
      vitlens_compare_view_get_agreement (view, c, &agree, &inputs);
      g_assert_cmpuint (inputs, ==, 2);
      g_assert_cmpuint (agree, <=, inputs);
      g_assert_cmpuint (vitlens_compare_view_get_n_runs (view, c), ==, 3 * COMPARE_ROUNDS);
    }
  vitlens_compare_view_get_agreement (view, 0, &agree, &inputs);
  g_assert_cmpuint (agree, ==, 2);

  assert_export (view, "comparison", FALSE);
  assert_window_export (window);
  gtk_test_widget_wait_for_draw (vitlens_compare_view_get_chart_area (view));
  g_free (render_widget (GTK_WIDGET (window), "compare"));

  /* A model opened in compare mode: still comparing, the statistics start again. */
  {
    g_autoptr(GFile) model = g_file_new_for_path (model_path);

    load_model (window, model);
    wait_idle (window);
    g_assert_true (comparing (window));
    g_assert_cmpuint (vitlens_compare_view_get_n_columns (view), ==, n);
    vitlens_compare_view_get_agreement (view, 1, &agree, &inputs);
    g_assert_cmpuint (inputs, ==, 1);
    g_assert_cmpuint (vitlens_compare_view_get_n_runs (view, 1), ==, COMPARE_ROUNDS);
  }

  /* Alt+1: back to one variant, the image classified by it. */
  activate (window, "variant", g_variant_new_string ("fp32"));
  wait_idle (window);
  g_assert_false (comparing (window));
  assert_labels (window, b, VIT_VARIANT_FP32);

  /* Reset forgets. */
  activate (window, "compare-reset", NULL);
  g_assert_cmpuint (vitlens_compare_view_get_n_columns (view), ==, 0);

  close_window (window);
}

/* A comparison with known times (ms), one column per variant; fp32 is the reference. */
static VitlensComparison *
known_comparison (const double times[][5],
                  guint        n_columns)
{
  static const char *names[] = { "fp32", "int8", "optimized", "lite" };
  VitlensComparison *comparison = g_new0 (VitlensComparison, 1);

  comparison->n_columns = (int)n_columns;
  for (guint c = 0; c < n_columns; c++)
    {
      VitlensCompareColumn *column = &comparison->columns[c];
      VitlensResult *result = vitlens_result_new ();

      result->k = 1;
      result->index[0] = 7;
      result->prob[0] = 0.5f;
      result->variant = c == 0 ? VIT_VARIANT_FP32 : c == 1 ? VIT_VARIANT_INT8 : VIT_VARIANT_OPTIMIZED;
      column->name = names[c];
      column->lite = c == 3;
      column->result = result;
      column->file_bytes = 1000000 / (c + 1);
      column->n_runs = 5;
      memcpy (column->forward_ms, times[c], sizeof times[c]);
    }
  return comparison;
}

/* "2.1× faster" / "1.3× slower" beside the reduction, "≈ same" (with why) where the p10–p90
 * bands overlap: in the cards, the CSV, the Markdown and the chart. */
static void
test_compare_speed_words (void)
{
  static const double times[4][5] = {
    { 10.0, 10.2, 9.9, 10.1, 10.0 },  /* fp32: median 10 */
    { 4.8, 4.7, 4.9, 4.8, 4.8 },      /* int8: median 4.8, 2.08× faster */
    { 13.0, 13.1, 12.9, 13.0, 13.0 }, /* optimized: median 13, 1.3× slower */
    { 10.05, 9.95, 10.3, 9.8, 10.0 }, /* lite: its band overlaps fp32's */
  };
  g_autoptr(VitlensComparison) comparison = known_comparison (times, 4);
  GtkWidget *window = gtk_window_new ();
  VitlensCompareView *view = VITLENS_COMPARE_VIEW (vitlens_compare_view_new ());
  g_autofree char *csv = NULL, *md = NULL;
  g_auto(GStrv) lines = NULL;
  VitlensChart chart;

  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  vitlens_compare_view_add (view, comparison, TRUE, -1);

  g_assert_cmpstr (vitlens_compare_view_get_value (view, 0, "reduction"), ==, "reference");
  g_assert_cmpstr (vitlens_compare_view_get_value (view, 1, "reduction"), ==, "52.0% · 2.1× faster");
  g_assert_cmpstr (vitlens_compare_view_get_value (view, 2, "reduction"), ==, "-30.0% · 1.3× slower");
  g_assert_cmpstr (vitlens_compare_view_get_value (view, 3, "reduction"), ==, "0.0% · ≈ same");
  g_assert_null (vitlens_compare_view_get_value_tooltip (view, 1, "reduction"));
  g_assert_null (vitlens_compare_view_get_value_tooltip (view, 2, "reduction"));
  g_assert_nonnull (strstr (vitlens_compare_view_get_value_tooltip (view, 3, "reduction"), "overlap"));

  csv = vitlens_compare_view_to_csv (view);
  g_test_message ("%s", csv);
  lines = g_strsplit (csv, "\n", -1);
  /* then where the time goes: empty fields, these comparisons have no profile */
  g_assert_nonnull (strstr (lines[0], ",speed_factor,vs_reference,patch_ms,"));
  g_assert_nonnull (strstr (lines[1], ",reference,,,"));
  g_assert_nonnull (strstr (lines[2], ",2.0833,faster,,,"));
  g_assert_nonnull (strstr (lines[3], ",1.3000,slower,,,"));
  g_assert_nonnull (strstr (lines[4], ",same,,,"));

  md = vitlens_compare_view_to_markdown (view);
  g_test_message ("%s", md);
  g_assert_null (strstr (md, "Where the time goes"));
  g_assert_nonnull (strstr (md, "| 52.0% (2.1× faster) |"));
  g_assert_nonnull (strstr (md, "| -30.0% (1.3× slower) |"));
  g_assert_nonnull (strstr (md, "| 0.0% (≈ same) |"));
  g_assert_nonnull (strstr (md, "≈ same: its p10–p90 band overlaps"));

  vitlens_compare_view_get_chart (view, &chart);
  g_assert_cmpstr (chart.rows[1].speed, ==, "2.1× faster");
  g_assert_cmpstr (chart.rows[2].speed, ==, "1.3× slower");
  g_assert_cmpstr (chart.rows[3].speed, ==, "≈ same");
  /* the CLI's plot (no note given) writes the same in English */
  {
    char note[48];

    vitlens_chart_format_speed (&chart.rows[1], &chart.rows[0], note, sizeof note);
    g_assert_cmpstr (note, ==, "2.1× faster");
    vitlens_chart_format_speed (&chart.rows[3], &chart.rows[0], note, sizeof note);
    g_assert_cmpstr (note, ==, "≈ same");
  }

  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
compare_progress_shown (gpointer data)
{
  return vitlens_compare_view_get_progress (data) != NULL;
}

/* While an image's comparison runs, the view says what runs and how far it is; before its
 * first answer it says it runs on the image (not "Open an image…"); after, how the runs went. */
static void
test_compare_progress (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensCompareView *view = compare_view (window);
  g_autofree char *a = write_image ("compare-progress.png", 96, 72, 2);
  g_autofree char *placeholder = NULL;
  const char *progress;

  /* no image: the placeholder asks for one */
  g_assert_nonnull (strstr (vitlens_compare_view_get_placeholder (view), "Open an image"));

  drop_path (window, a);
  wait_idle (window);
  activate (window, "variant", g_variant_new_string ("compare"));
  placeholder = g_strdup (vitlens_compare_view_get_placeholder (view));
  g_test_message ("placeholder: %s", placeholder);
  g_assert_null (strstr (placeholder, "Open an image"));
  g_assert_nonnull (strstr (placeholder, "compare-progress.png"));

  wait_until (compare_progress_shown, view, "the comparison's progress");
  progress = vitlens_compare_view_get_progress (view);
  g_test_message ("progress: %s", progress);
  g_assert_true (g_str_has_prefix (progress, "Running "));
  g_assert_true (g_str_has_suffix (progress, " of 12…"));
  g_assert_nonnull (strstr (progress, ", round "));

  wait_idle (window);
  g_assert_null (vitlens_compare_view_get_progress (view));
  g_assert_null (vitlens_compare_view_get_placeholder (view));
  g_test_message ("summary: %s", vitlens_compare_view_get_summary (view));
  g_assert_nonnull (strstr (vitlens_compare_view_get_summary (view),
                            "12 runs per variant, interleaved, 12 rounds at a time"));

  close_window (window);
}

/* Every number (a label with the .numeric class) under @widget: shown whole. Measured on the
 * label's Pango layout after a real layout pass, and against the width it was given. */
static guint
assert_numbers_whole (GtkWidget *widget)
{
  guint n = 0;

  if (GTK_IS_LABEL (widget) && gtk_widget_has_css_class (widget, "numeric")
      && gtk_widget_get_mapped (widget))
    {
      GtkLabel *label = GTK_LABEL (widget);
      int natural = 0;

      gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &natural, NULL, NULL);
      g_test_message ("number \"%s\": %d px of %d", gtk_label_get_label (label),
                      gtk_widget_get_width (widget), natural);
      g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (label)));
      g_assert_false (pango_layout_is_wrapped (gtk_label_get_layout (label)));
      g_assert_cmpint (gtk_widget_get_width (widget), >=, natural);
      return 1;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += assert_numbers_whole (child);
  return n;
}

/* Compare at 800 and 1280 px wide: no number in the cards is cut ("… ms"); the cards reflow. */
static void
test_compare_numbers_readable (void)
{
  g_autofree char *a = write_image ("compare-readable.png", 96, 72, 3);
  const int widths[] = { 800, 1280 };

  for (guint i = 0; i < G_N_ELEMENTS (widths); i++)
    {
      VitlensWindow *window;
      VitlensCompareView *view;
      g_autofree char *name = g_strdup_printf ("compare-%d", widths[i]);
      guint numbers;

      vitlens_application_set_startup_model (app, model_path);
      window = vitlens_window_new (app);
      gtk_window_set_default_size (GTK_WINDOW (window), widths[i], widths[i] == 800 ? 600 : 800);
      gtk_window_present (GTK_WINDOW (window));
      wait_idle (window);
      view = compare_view (window);

      drop_path (window, a);
      wait_idle (window);
      activate (window, "variant", g_variant_new_string ("compare"));
      wait_idle (window);
      g_assert_cmpuint (vitlens_compare_view_get_n_columns (view), >, 0);

      spin (100);
      gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
      /* the window's own width (without its client-side shadow, when there is one) */
      g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), <=, widths[i]);
      g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), >=, widths[i] - 40);
      numbers = assert_numbers_whole (GTK_WIDGET (view));
      /* every value of every card, and the top-k percentages */
      g_assert_cmpuint (numbers, >=, vitlens_compare_view_get_n_columns (view) * 7);
      g_free (render_widget (GTK_WIDGET (window), name));
      close_window (window);
    }
}

/* The sidebar in stream mode: every number of the Timing card and the session's facts. */
static void
assert_stream_panel (VitlensWindow *window,
                     const char    *variant)
{
  VitlensResultsPanel *panel = stream_panel (window);
  const char *threads = vitlens_results_panel_get_fact (panel, "threads");

  g_assert_true (vitlens_results_panel_get_stream (panel));
  for (const char **key = (const char *[]) { "preprocess", "forward", "median", "inference-fps", "display-fps",
                                             "latency", "threads", "kernel", NULL }; *key; key++)
    {
      g_test_message ("sidebar %s: %s", *key, vitlens_results_panel_get_fact (panel, *key));
      g_assert_cmpstr (vitlens_results_panel_get_fact (panel, *key), !=, "—");
    }
  g_assert_true (g_str_has_suffix (vitlens_results_panel_get_fact (panel, "forward"), " ms"));
  g_assert_true (g_str_has_suffix (vitlens_results_panel_get_fact (panel, "inference-fps"), " fps"));
  g_assert_true (g_str_has_suffix (vitlens_results_panel_get_fact (panel, "display-fps"), " fps"));
  g_assert_true (g_str_has_suffix (vitlens_results_panel_get_fact (panel, "median"), " frames)")
                 || g_str_has_suffix (vitlens_results_panel_get_fact (panel, "median"), " frame)"));
  g_assert_cmpint (atoi (threads), >=, 1);
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "variant"), ==, variant);
  /* The predictions are over the video, not in the sidebar. */
  g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_results_panel_get_rows (panel)), ==, 0);
}

static void
test_stream_test_pattern (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensStreamOverlay *overlay = stream_overlay (window);
  VitlensResultsPanel *panel = image_panel (window);
  GListModel *cameras = camera_list (window);
  g_autofree char *snap = test_path ("snapshot.png");
  g_autofree char *image = write_image ("before-stream.png", 80, 60, 2);
  guint64 frames, results;
  int width, height, image_width;

  /* An image first: its results come back when the stream stops. */
  drop_path (window, image);
  wait_idle (window);
  g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_results_panel_get_rows (panel)), ==, 5);
  g_assert_false (vitlens_results_panel_get_stream (panel));
  spin (100);
  image_width = gtk_widget_get_width (GTK_WIDGET (panel));

  /* The test pattern, through the camera list's entry. */
  activate (window, "camera", g_variant_new_string ("test-pattern"));
  g_assert_cmpstr (source_name (window), ==, "camera");
  g_assert_true (stream_shown (window));
  wait_stream (window, 15, 3);
  g_assert_cmpint (vitlens_camera_get_state (stream_camera (window)), ==, VITLENS_CAMERA_STATE_PLAYING);
  g_assert_null (banner_text (window));
  g_assert_cmpstr (gtk_string_object_get_string (g_list_model_get_item (cameras, g_list_model_get_n_items (cameras) - 1)),
                   ==, "Test Pattern");
  g_object_unref (g_list_model_get_item (cameras, g_list_model_get_n_items (cameras) - 1));

  g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_stream_overlay_get_rows (overlay)), ==, 5);
  for (const char **key = (const char *[]) { "forward", "inference-fps", "display-fps", "latency", NULL }; *key; key++)
    {
      g_test_message ("%s: %s", *key, vitlens_stream_overlay_get_value (overlay, *key));
      g_assert_cmpstr (vitlens_stream_overlay_get_value (overlay, *key), !=, "—");
    }
  g_assert_cmpstr (vitlens_stream_overlay_get_value (overlay, "variant"), ==, "fp32");
  assert_stream_panel (window, "fp32");
  g_free (render_widget (GTK_WIDGET (window), "stream"));
  /* "0.26 ms (last 6 frames)" wraps: the side panel keeps its width in both modes (18.11) */
  g_assert_nonnull (strstr (vitlens_results_panel_get_fact (stream_panel (window), "median"), "("));
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (stream_panel (window))), ==, image_width);

  /* Another variant takes effect on the next frames; the median starts again with it. */
  if (model_supports (VIT_VARIANT_INT8))
    {
      guint64 before = n_results (window);

      activate (window, "variant", g_variant_new_string ("int8"));
      wait_stream (window, 1, 3);
      g_assert_cmpstr (vitlens_stream_overlay_get_value (overlay, "variant"), ==, "int8");
      assert_stream_panel (window, "int8");
      g_assert_cmpint (atoi (strstr (vitlens_results_panel_get_fact (stream_panel (window), "median"), "(last ") + 6), <=,
                       (int)(n_results (window) - before));
    }

  /* Pause freezes the frame and the results. */
  activate (window, "play-pause", NULL);
  wait_state (window, VITLENS_CAMERA_STATE_PAUSED);
  spin (150);
  frames = n_frames (window);
  results = n_results (window);
  spin (600);
  g_assert_cmpuint (n_frames (window), ==, frames);
  g_assert_cmpuint (n_results (window), ==, results);

  /* The snapshot: the frame at its own size, labels drawn on it; the window says so, for a
   * few seconds. */
  g_assert_null (notice_text (window));
  gint64 shown = g_get_monotonic_time ();
  g_assert_true (vitlens_stream_page_save_snapshot (stream_page (window), snap, NULL));
  assert_png (snap, &width, &height);
  g_assert_cmpint (width, ==, 640);
  g_assert_cmpint (height, ==, 480);
  g_assert_cmpstr (notice_text (window), ==, "Saved snapshot.png");
  g_assert_null (banner_text (window));
  g_free (render_widget (GTK_WIDGET (window), "snapshot-notice"));
  /* g_timeout_add_seconds fires on a whole-second tick, so "5 s" is 5 to 6 s, and a loaded
   * machine adds to that: still shown after 4 s, gone within 10 s. */
  while (notice_text (window) && g_get_monotonic_time () - shown < 10 * G_USEC_PER_SEC)
    spin (100);
  g_assert_null (notice_text (window));
  g_assert_cmpint (g_get_monotonic_time () - shown, >=, 4 * G_USEC_PER_SEC);

  activate (window, "play-pause", NULL);
  wait_state (window, VITLENS_CAMERA_STATE_PLAYING);
  wait_stream (window, 3, 1);

  /* Back to images: the stream stops, the sidebar shows the image's results again. */
  activate (window, "source", g_variant_new_string ("image"));
  g_assert_cmpint (vitlens_camera_get_state (stream_camera (window)), ==, VITLENS_CAMERA_STATE_IDLE);
  g_assert_false (stream_shown (window));
  g_assert_cmpstr (image_view (window), ==, "image");
  g_assert_false (vitlens_results_panel_get_stream (panel));
  wait_idle (window);
  g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_results_panel_get_rows (panel)), ==, 5);
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "decode"), !=, "—");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "inference-fps"), ==, "—");

  close_window (window);
}

static void
test_compare_stream (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensCompareView *view = compare_view (window);
  const char *names[VITLENS_COMPARE_MAX_COLUMNS];
  guint n = expected_columns (names);
  AgreeWait w = { view, 4 };
  VitlensChart chart;

  activate (window, "variant", g_variant_new_string ("compare"));
  activate (window, "camera", g_variant_new_string ("test-pattern"));
  wait_until (compared_inputs, &w, "frames compared");
  g_assert_null (banner_text (window));
  g_assert_cmpuint (vitlens_compare_view_get_n_columns (view), ==, n);
  for (guint c = 0; c < n; c++)
    {
      guint agree, inputs;

      g_test_message ("%s: latency %s, median %s", names[c],
                      vitlens_compare_view_get_value (view, c, "latency"),
                      vitlens_compare_view_get_value (view, c, "median"));
      g_assert_cmpstr (vitlens_compare_view_get_column_name (view, c), ==, names[c]);
      g_assert_cmpstr (vitlens_compare_view_get_value (view, c, "latency"), !=, "—");
      g_assert_cmpstr (vitlens_compare_view_get_value (view, c, "median"), !=, "—");
      g_assert_cmpuint (vitlens_compare_view_get_n_rows (view, c), ==, 5);
      vitlens_compare_view_get_agreement (view, c, &agree, &inputs);
      g_assert_cmpuint (inputs, >=, 4);
    }
  /* No frame goes to the single variant meanwhile: one forward pass at a time, all of them
   * compare's. */
  g_assert_cmpuint (n_results (window), ==, 0);

  vitlens_compare_view_get_chart (view, &chart);
  g_assert_nonnull (chart.trace_title);
  for (int r = 0; r < chart.n_rows; r++)
    g_assert_cmpint (chart.rows[r].n_trace, >=, 4);

  /* Paused, the numbers stand still. */
  activate (window, "play-pause", NULL);
  wait_state (window, VITLENS_CAMERA_STATE_PAUSED);
  spin (300);
  {
    guint agree, inputs, agree2, inputs2;

    vitlens_compare_view_get_agreement (view, 1, &agree, &inputs);
    spin (500);
    vitlens_compare_view_get_agreement (view, 1, &agree2, &inputs2);
    g_assert_cmpuint (inputs2, ==, inputs);
  }
  assert_export (view, "comparison-stream", TRUE);
  g_free (render_widget (GTK_WIDGET (window), "compare-stream"));

  close_window (window);
}

/* A small AVI written with GStreamer (jpegenc, avimux: gst-plugins-good). */
static char *
write_video (const char *name,
             int         frames)
{
  char *path = test_path (name);
  g_autofree char *desc = g_strdup_printf ("videotestsrc num-buffers=%d pattern=ball ! "
                                           "video/x-raw,width=160,height=120,framerate=30/1 ! "
                                           "jpegenc ! avimux ! filesink location=\"%s\"", frames, path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) message = NULL;

  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  message = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (message);
  g_assert_cmpint (GST_MESSAGE_TYPE (message), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return path;
}

static void
test_video (void)
{
  VitlensWindow *window = new_window (model_path);
  g_autofree char *avi = write_video ("clip.avi", 20);
  g_autofree char *bad = write_bytes ("holiday.mp4", "this is not a video\n", 20);
  const char *message;

  /* A dropped video plays, then ends: the page says so (/app/stream/video-end), and Play
   * starts it again. */
  drop_path (window, avi);
  g_assert_cmpstr (source_name (window), ==, "video");
  wait_state (window, VITLENS_CAMERA_STATE_EOS);
  g_assert_cmpuint (n_frames (window), >, 0);

  activate (window, "play-pause", NULL);
  wait_state (window, VITLENS_CAMERA_STATE_PLAYING);
  g_assert_null (banner_text (window));

  /* Not a video: its own message, and another source can be chosen at once. */
  drop_path (window, bad);
  wait_state (window, VITLENS_CAMERA_STATE_ERROR);
  message = banner_text (window);
  g_test_message ("bad video: %s", message);
  g_assert_nonnull (message);
  g_assert_true (strstr (message, "holiday.mp4") != NULL);
  g_free (render_widget (GTK_WIDGET (window), "bad-video"));

  activate (window, "camera", g_variant_new_string ("test-pattern"));
  wait_stream (window, 3, 1);
  g_assert_null (banner_text (window));

  close_window (window);
}

static void
test_no_camera (void)
{
  VitlensWindow *window = new_window (model_path);
  GListModel *cameras = camera_list (window);

  /* Without a camera (this machine, in CI): "No camera" in plain words, and the test pattern
   * one click away. With one, it plays. */
  activate (window, "source", g_variant_new_string ("camera"));
  g_assert_cmpuint (g_list_model_get_n_items (cameras), >=, 2);
  if (g_str_equal (gtk_string_list_get_string (GTK_STRING_LIST (cameras), 0), "No Camera Found"))
    {
      wait_state (window, VITLENS_CAMERA_STATE_NO_CAMERA);
      g_free (render_widget (GTK_WIDGET (window), "no-camera"));
    }
  activate (window, "source", g_variant_new_string ("image"));
  g_assert_null (banner_text (window));

  close_window (window);
}

/* What the stream page says over the picture (its status), or NULL when it says nothing. */
static const char *
stream_status (VitlensWindow *window,
               const char    *label)
{
  GtkWidget *status = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (stream_page (window)),
                                                                 VITLENS_TYPE_STREAM_PAGE, "status"));
  GtkLabel *child = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (stream_page (window)),
                                                              VITLENS_TYPE_STREAM_PAGE, label));

  if (!gtk_widget_get_visible (status) || !gtk_widget_get_visible (GTK_WIDGET (child)))
    return NULL;
  return gtk_label_get_label (child);
}

/* No camera is a state: one calm message in the page, no banner; Play does nothing (it is
 * insensitive and says why); "No Camera Found" is a placeholder of the list, not a choice. */
static void
test_no_camera_state (void)
{
  VitlensWindow *window = new_window (model_path);
  GListModel *cameras = camera_list (window);
  GtkWidget *play = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (stream_page (window)),
                                                               VITLENS_TYPE_STREAM_PAGE, "play_button"));

  activate (window, "source", g_variant_new_string ("camera"));
  if (!g_str_equal (gtk_string_list_get_string (GTK_STRING_LIST (cameras), 0), "No Camera Found"))
    {
      g_test_skip ("a camera is plugged in");
      close_window (window);
      return;
    }
  wait_state (window, VITLENS_CAMERA_STATE_NO_CAMERA);
  spin (100);
  g_assert_null (banner_text (window));
  g_assert_cmpstr (stream_status (window, "status_title"), ==, "No Camera Found");
  /* Placed and styled as the image page's placeholders (status-page, title-1). */
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (stream_page (window)),
                                                                                      VITLENS_TYPE_STREAM_PAGE, "status")),
                                           "status-page"));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "play-pause"));
  g_assert_false (gtk_widget_is_sensitive (play));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (play), ==, "No camera is connected");
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "camera"));

  /* The test pattern plays; the placeholder is no choice to go back to. */
  activate (window, "camera", g_variant_new_string ("test-pattern"));
  wait_stream (window, 3, 0);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "play-pause"));
  activate (window, "camera", g_variant_new_string ("none"));
  spin (200);
  g_assert_cmpint (vitlens_camera_get_state (stream_camera (window)), ==, VITLENS_CAMERA_STATE_PLAYING);
  g_assert_null (banner_text (window));

  close_window (window);
}

/* The end of a video is a state: the page says it once, with Play Again; no banner. */
static void
test_video_end (void)
{
  VitlensWindow *window = new_window (model_path);
  g_autofree char *avi = write_video ("ending.avi", 10);

  drop_path (window, avi);
  wait_state (window, VITLENS_CAMERA_STATE_EOS);
  spin (100);
  g_assert_null (banner_text (window));
  g_assert_cmpstr (stream_status (window, "status_title"), ==, "The Video Has Ended");
  g_assert_nonnull (strstr (stream_status (window, "status_label"), "ending.avi"));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "play-pause"));

  close_window (window);
}

/* Snapshots go to the user's Pictures folder (else home), not where the app was started;
 * after one is saved, Open and Show in Files are offered. */
/* Ctrl+S (win.snapshot) in Image mode: the image at its own size, its labels drawn on it;
 * Compare has nothing to snapshot. */
static void
test_image_snapshot (void)
{
  VitlensWindow *window = new_window (model_path);
  g_autofree char *png = write_image ("snapshot-source.png", 320, 240, 3);
  g_autofree char *snap = test_path ("image-snapshot.png");
  vit_image in = { 0 }, out = { 0 };
  vit_error err = { 0 };
  gsize differ = 0;
  int width, height;

  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "snapshot"));
  drop_path (window, png);
  wait_idle (window);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "snapshot"));
  g_assert_true (vitlens_stream_page_save_snapshot (stream_page (window), snap, NULL));
  assert_png (snap, &width, &height);
  g_assert_cmpint (width, ==, 320);
  g_assert_cmpint (height, ==, 240);
  g_assert_cmpstr (notice_text (window), ==, "Saved image-snapshot.png");

  /* The labels' card is drawn over the picture: a good part of it differs from the image. */
  g_assert_cmpint (vit_image_load (png, &in, &err), ==, VIT_OK);
  g_assert_cmpint (vit_image_load (snap, &out, &err), ==, VIT_OK);
  for (gsize i = 0; i < (gsize)320 * 240 * 3; i++)
    differ += in.data[i] != out.data[i];
  g_test_message ("%" G_GSIZE_FORMAT " of %d bytes differ", differ, 320 * 240 * 3);
  g_assert_cmpuint (differ, >, 320 * 240 * 3 / 50);
  vit_image_free (&in);
  vit_image_free (&out);

  activate (window, "variant", g_variant_new_string ("compare"));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "snapshot"));

  close_window (window);
}

static void
test_snapshot_next (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensStreamPage *page = stream_page (window);
  const char *pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);
  g_autofree char *folder = vitlens_stream_page_get_snapshot_folder (page);
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *snap = test_path ("next.png");
  GtkWidget *popover = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (page), VITLENS_TYPE_STREAM_PAGE,
                                                                  "snapshot_popover"));

  g_test_message ("snapshot folder: %s (Pictures: %s, working directory: %s)", folder, pictures, cwd);
  if (pictures != NULL && g_file_test (pictures, G_FILE_TEST_IS_DIR))
    g_assert_cmpstr (folder, ==, pictures);
  else
    g_assert_cmpstr (folder, ==, g_get_home_dir ());
  if (g_strcmp0 (cwd, g_get_home_dir ()) != 0)
    g_assert_cmpstr (folder, !=, cwd);

  /* Not autohide here: an autohide popover grabs the pointer, and the grab's crossing events
   * arm GTK 4.8's tooltip timer with the popover as its surface; the timer then fires after
   * close_window, in a later test, on a popover without a surface (a fatal CRITICAL in
   * gdk_surface_get_device_position). What is tested is that it opens after a save. */
  gtk_popover_set_autohide (GTK_POPOVER (popover), FALSE);
  activate (window, "camera", g_variant_new_string ("test-pattern"));
  wait_stream (window, 3, 1);
  for (const char **name = (const char *[]) { "open-snapshot", "show-snapshot", NULL }; *name; name++)
    {
      g_assert_true (g_action_group_has_action (G_ACTION_GROUP (window), *name));
      g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), *name));
    }
  g_assert_true (vitlens_stream_page_save_snapshot (page, snap, NULL));
  for (const char **name = (const char *[]) { "open-snapshot", "show-snapshot", NULL }; *name; name++)
    g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), *name));
  g_assert_true (gtk_widget_get_visible (popover));
  g_free (render_widget (GTK_WIDGET (window), "snapshot-next"));
  gtk_popover_popdown (GTK_POPOVER (popover));

  close_window (window);
}

/* A fake camera (test-fake-camera.h) comes and goes. */
typedef struct
{
  VitlensWindow *window;
  const char    *name;
} CameraWait;

static gboolean
first_camera_is (gpointer data)
{
  CameraWait *want = data;
  GListModel *cameras = camera_list (want->window);

  return g_list_model_get_n_items (cameras) > 0
         && g_str_equal (gtk_string_list_get_string (GTK_STRING_LIST (cameras), 0), want->name);
}

static void
test_camera_hotplug (void)
{
  VitlensWindow *window;
  g_autoptr(GstDeviceProvider) provider = NULL;
  g_autoptr(GstDevice) device = test_device_new ("ViT Lens Test Camera", "/dev/vitlens-test0", 320, 240);
  CameraWait want;

  g_assert_true (gst_device_provider_register (NULL, "vitlenstestcameras", GST_RANK_PRIMARY,
                                               test_provider_get_type ()));
  window = new_window (model_path);
  want.window = window;

  /* No camera yet: the list says so. */
  activate (window, "source", g_variant_new_string ("camera"));
  want.name = "No Camera Found";
  wait_until (first_camera_is, &want, "the camera list without a camera");
  wait_state (window, VITLENS_CAMERA_STATE_NO_CAMERA);

  /* Plugged in: listed, and the window waiting for a camera starts it. */
  provider = gst_device_provider_factory_get_by_name ("vitlenstestcameras");
  gst_device_provider_device_add (provider, gst_object_ref (device));
  want.name = "ViT Lens Test Camera";
  wait_until (first_camera_is, &want, "the camera to be listed");
  g_assert_cmpuint (g_list_model_get_n_items (camera_list (window)), ==, 2);
  wait_state (window, VITLENS_CAMERA_STATE_PLAYING);
  wait_stream (window, 5, 2);
  g_assert_null (banner_text (window));
  g_assert_cmpstr (vitlens_camera_get_source_name (stream_camera (window)), ==, "ViT Lens Test Camera");
  g_free (render_widget (GTK_WIDGET (window), "camera"));

  /* Unplugged: gone from the list. */
  gst_device_provider_device_remove (provider, device);
  want.name = "No Camera Found";
  wait_until (first_camera_is, &want, "the camera to leave the list");

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

/* The engine's English words about a file, as the app shows them: unchanged in English; in
 * zh_CN (when this machine has that locale and the build's catalog) the problems a person meets
 * opening files are translated and the file name and the system's detail are kept. */
static void
test_localized_engine_message (void)
{
  const char *localedir = g_getenv ("VITLENS_LOCALEDIR");
  const char *kept[] = {
    "dog.heic: not a PNG or JPEG image",
    "x.jpg: cannot open: No such file or directory",
    "model.safetensors: tensor blocks.3.mlp.fc1.weight has shape [7] but the model needs [768, 192]",
    "no file name here",
  };
  g_autofree char *old = g_strdup (setlocale (LC_MESSAGES, NULL));

  for (gsize i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      g_autofree char *got = vitlens_localize_vit_message (kept[i]);
      g_assert_cmpstr (got, ==, kept[i]);
    }

  if (localedir == NULL || setlocale (LC_MESSAGES, "zh_CN.UTF-8") == NULL)
    {
      g_test_message ("zh_CN.UTF-8 is not installed here: only the English messages were checked");
      return;
    }
  /* as main.c does */
  bindtextdomain ("vitlens", localedir);
  bind_textdomain_codeset ("vitlens", "UTF-8");
  textdomain ("vitlens");
  {
    g_autofree char *a = vitlens_localize_vit_message ("dog.heic: not a PNG or JPEG image");
    g_autofree char *b = vitlens_localize_vit_message ("x: y.jpg: cannot open: No such file or directory");
    g_autofree char *c = vitlens_localize_vit_message ("m.safetensors: tensor x has shape [7]");

    setlocale (LC_MESSAGES, old);
    g_assert_cmpstr (a, ==, "dog.heic: 不是 PNG 或 JPEG 图像");
    /* only the first ": " ends the file name: "x" here, so "y.jpg: ..." is not a known problem */
    g_assert_cmpstr (b, ==, "x: y.jpg: cannot open: No such file or directory");
    g_assert_cmpstr (c, ==, "m.safetensors: tensor x has shape [7]");
  }
  setlocale (LC_MESSAGES, "zh_CN.UTF-8");
  {
    g_autofree char *d = vitlens_localize_vit_message ("y.jpg: cannot open: No such file or directory");

    setlocale (LC_MESSAGES, old);
    g_assert_cmpstr (d, ==, "y.jpg: 无法打开：No such file or directory");
  }
}

/* The stream overlay's variant as the UI names it: "optimized" in English, translated in zh_CN
 * (when this machine has that locale), as the Compare columns' titles are. */
static void
test_overlay_variant_label (void)
{
  const char *localedir = g_getenv ("VITLENS_LOCALEDIR");
  g_autoptr(VitlensStreamOverlay) overlay = g_object_ref_sink (g_object_new (VITLENS_TYPE_STREAM_OVERLAY, NULL));
  g_autofree char *old = g_strdup (setlocale (LC_MESSAGES, NULL));
  g_autofree char *zh = NULL;

  vitlens_stream_overlay_set_variant (overlay, VIT_VARIANT_OPTIMIZED);
  g_assert_cmpstr (vitlens_stream_overlay_get_value (overlay, "variant"), ==, "optimized");
  if (localedir == NULL || setlocale (LC_MESSAGES, "zh_CN.UTF-8") == NULL)
    {
      g_test_message ("zh_CN.UTF-8 is not installed here: only English was checked");
      return;
    }
  bindtextdomain ("vitlens", localedir);
  bind_textdomain_codeset ("vitlens", "UTF-8");
  textdomain ("vitlens");
  vitlens_stream_overlay_set_variant (overlay, VIT_VARIANT_OPTIMIZED);
  zh = g_strdup (vitlens_stream_overlay_get_value (overlay, "variant"));
  setlocale (LC_MESSAGES, old);
  g_assert_cmpstr (zh, ==, "优化");
}

/* Issue 18.4: a missing file and a folder among the images opened together are marked broken in
 * the strip, and Alt+→ / Alt+← pass them by, so every image after them can be reached. */
static void
test_strip_skips_broken (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensImagePage *page = image_page (window);
  VitlensImageStrip *strip = window_child_of (page, VITLENS_TYPE_IMAGE_PAGE, "strip");
  g_autofree char *a = write_image ("strip-a.png", 40, 40, 1);
  g_autofree char *missing = test_path ("strip-missing.png");
  g_autofree char *b = write_image ("strip-b.png", 30, 50, 2);
  GFile *files[] = {
    g_file_new_for_path (a), g_file_new_for_path (missing), g_file_new_for_path (tmpdir), g_file_new_for_path (b),
  };

  vitlens_image_page_open_files (page, files, G_N_ELEMENTS (files));
  wait_idle (window);
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "strip-a.png");

  g_action_group_activate_action (G_ACTION_GROUP (window), "next-image", NULL);
  wait_idle (window);
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "strip-b.png");
  g_assert_cmpuint (vitlens_image_strip_get_selected (strip), ==, 3);
  g_assert_true (vitlens_image_strip_get_broken (strip, 1));
  g_assert_true (vitlens_image_strip_get_broken (strip, 2));
  g_assert_false (vitlens_image_strip_get_broken (strip, 0));
  g_assert_null (banner_text (window));

  /* back past both, and round */
  g_action_group_activate_action (G_ACTION_GROUP (window), "previous-image", NULL);
  wait_idle (window);
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "strip-a.png");
  g_action_group_activate_action (G_ACTION_GROUP (window), "previous-image", NULL);
  wait_idle (window);
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "strip-b.png");

  /* the broken ones say why */
  {
    GtkWidget *button = gtk_widget_get_next_sibling (gtk_widget_get_first_child (
      GTK_WIDGET (window_child_of (strip, VITLENS_TYPE_IMAGE_STRIP, "items_box"))));

    g_assert_true (gtk_widget_has_css_class (button, "broken"));
    g_assert_true (g_str_has_prefix (gtk_widget_get_tooltip_text (button), "strip-missing.png: "));
  }

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    g_object_unref (files[i]);
  close_window (window);
}

/* Paste what @provider offers into a new window: the image @png is shown as "Pasted image". */
static void
assert_pastes_image (GdkContentProvider *provider,
                     const char         *png)
{
  VitlensWindow *window = new_window (model_path);

  g_assert_true (gdk_clipboard_set_content (gtk_widget_get_clipboard (GTK_WIDGET (window)), provider));
  g_action_group_activate_action (G_ACTION_GROUP (window), "paste", NULL);
  wait_idle (window);
  g_assert_null (banner_text (window));
  g_assert_nonnull (shown_image (window));
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "Pasted image");
  assert_labels (window, png, VIT_VARIANT_FP32);
  close_window (window);
}

/* Issue 18.5: a clipboard with only image/png bytes (no file list, no texture type), as some
 * apps' Copy Image offers, is pasted as "Pasted image" and classified; so is one that offers
 * the image's web address as a URI list beside it (a browser's), which is no file to read. */
static void
test_paste_png_bytes (void)
{
  g_autofree char *png = write_image ("bare.png", 48, 36, 4);
  g_autoptr(GdkContentProvider) bare = NULL;
  g_autoptr(GdkContentProvider) both = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) uris = g_bytes_new_static ("https://example.com/\r\n", 22);
  g_autoptr(GError) error = NULL;
  char *data = NULL;
  gsize size = 0;

  g_file_get_contents (png, &data, &size, &error);
  g_assert_no_error (error);
  bytes = g_bytes_new_take (data, size);
  bare = gdk_content_provider_new_for_bytes ("image/png", bytes);
  assert_pastes_image (bare, png);

  both = gdk_content_provider_new_union ((GdkContentProvider *[]) {
                                           gdk_content_provider_new_for_bytes ("image/png", bytes),
                                           gdk_content_provider_new_for_bytes ("text/uri-list", uris),
                                         }, 2);
  assert_pastes_image (both, png);
}

/* Issue 18.6: a variant's first run (its session setting up its buffers) is reported apart in
 * the forward-pass row and left out of the median; the next run is an ordinary one. */
static void
test_first_run_apart (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensResultsPanel *panel = image_panel (window);
  g_autofree char *png = write_image ("first.png", 40, 40, 3);

  drop_path (window, png);
  wait_idle (window);
  g_assert_nonnull (strstr (vitlens_results_panel_get_fact (panel, "forward"), "first run"));
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "median"), ==, "—");

  drop_path (window, png);
  wait_idle (window);
  g_assert_null (strstr (vitlens_results_panel_get_fact (panel, "forward"), "first run"));
  g_assert_true (g_str_has_suffix (vitlens_results_panel_get_fact (panel, "median"), "(1 run)"));
  close_window (window);
}

/* Issue 18.13: the title names what is shown: the image, then the video that plays, then the
 * image again when the Image mode comes back. */
static void
test_title_follows_source (void)
{
  VitlensWindow *window = new_window (model_path);
  g_autofree char *png = write_image ("titled.png", 32, 32, 1);
  g_autofree char *avi = write_video ("titled.avi", 10);

  drop_path (window, png);
  wait_idle (window);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "titled.png — ViT Lens");

  drop_path (window, avi);
  g_assert_cmpstr (source_name (window), ==, "video");
  wait_state (window, VITLENS_CAMERA_STATE_EOS);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "titled.avi — ViT Lens");

  g_action_group_activate_action (G_ACTION_GROUP (window), "source", g_variant_new_string ("image"));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "titled.png — ViT Lens");
  close_window (window);
}

/* A label under @widget whose text (mnemonics resolved) is @text, or @whole FALSE, contains it;
 * NULL: none. */
static GtkWidget *
find_label (GtkWidget  *widget,
            const char *text,
            gboolean    whole)
{
  if (GTK_IS_LABEL (widget))
    {
      const char *shown = gtk_label_get_text (GTK_LABEL (widget));

      if (whole ? g_str_equal (shown, text) : strstr (shown, text) != NULL)
        return widget;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_label (child, text, whole);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Issue 18.16: Preferences explains the threads field in the words the field shows for 0. */
static void
test_preferences_threads_words (void)
{
  VitlensWindow *window = new_window (model_path);
  GSettings *settings = vitlens_application_get_settings (app);
  GtkWidget *dialog;
  GtkWidget *threads;

  g_settings_reset (settings, "threads");
  dialog = vitlens_preferences_dialog_new (settings, GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (dialog));
  threads = window_child_of (dialog, VITLENS_TYPE_PREFERENCES_DIALOG, "threads_spin");
  spin (50);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (threads)), ==, "Automatic");
  g_assert_nonnull (find_label (dialog, "Automatic uses every core", FALSE));
  g_assert_null (find_label (dialog, "0 uses every core", FALSE));
  gtk_window_destroy (GTK_WINDOW (dialog));
  close_window (window);
}

/* Issue 18.17: while something is dragged over the empty window, "Drop to Classify" does not
 * cover the empty page's title, at the smallest window size too. */
static void
test_drop_pill_clear_of_title (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensImagePage *page = image_page (window);
  GtkWidget *pill = gtk_revealer_get_child (window_child_of (page, VITLENS_TYPE_IMAGE_PAGE, "drop_revealer"));
  GtkWidget *title = find_label (GTK_WIDGET (page), "Drop an Image Here", TRUE);
  graphene_rect_t a, b;

  g_assert_cmpstr (image_view (window), ==, "empty");
  g_assert_nonnull (title);
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 480);
  g_object_set (page, "drop-active", TRUE, NULL);
  spin (300);
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
  g_assert_true (gtk_widget_get_mapped (pill));
  g_assert_true (gtk_widget_compute_bounds (pill, GTK_WIDGET (window), &a));
  g_assert_true (gtk_widget_compute_bounds (title, GTK_WIDGET (window), &b));
  g_assert_false (graphene_rect_intersection (&a, &b, NULL));
  g_object_set (page, "drop-active", FALSE, NULL);
  close_window (window);
}

static gboolean
window_width_is (gpointer data)
{
  GtkWidget *window = data;
  int want = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (window), "want-width"));

  /* the default size includes the frame that client-side decorations draw around the window */
  return gtk_widget_get_width (window) <= want && gtk_widget_get_width (window) >= want - 40;
}

/* Issues 18.14 and 18.15: at 800 and at 640 px wide (half of a 1366 px screen) the window fits
 * (its minimum size is no more), and the model's name is not squeezed away. */
static void
test_narrow_window (void)
{
  /* 1000 px, with a model whose name is as long as the menu shows (22 characters): the
   * switcher in the middle left it too little room, so the name was cut in the middle. */
  const int widths[] = { 1000, 800, 640 };
  g_autofree char *long_dir = test_path ("deit_small_patch16_224");
  g_autofree char *long_model = g_build_filename (long_dir, "model.safetensors", NULL);
  g_autofree char *fixture_dir = g_path_get_dirname (model_path);

  g_assert_cmpint (g_mkdir_with_parents (long_dir, 0755), ==, 0);
  for (const char **name = (const char *[]) { "model.safetensors", "config.json", NULL }; *name; name++)
    {
      g_autofree char *target = g_build_filename (fixture_dir, *name, NULL);
      g_autofree char *link = g_build_filename (long_dir, *name, NULL);

      g_unlink (link);
      g_assert_cmpint (symlink (target, link), ==, 0);
    }

  for (guint i = 0; i < G_N_ELEMENTS (widths); i++)
    {
      int min_width = 0, min_height = 0, header_width = 0;
      int width;
      VitlensWindow *window;
      GtkWidget *model_label;

      /* A window opened at that size (one shown again keeps its first size on some X servers:
       * GTK 4.8 under Xvfb, in the ASan build). */
      vitlens_application_set_startup_model (app, i == 0 ? long_model : model_path);
      window = vitlens_window_new (app);
      gtk_window_set_default_size (GTK_WINDOW (window), widths[i], 480);
      gtk_window_present (GTK_WINDOW (window));
      wait_idle (window);
      model_label = window_child_of (window_child (window, "model_menu"), VITLENS_TYPE_MODEL_MENU, "model_label");
      g_object_set_data (G_OBJECT (window), "want-width", GINT_TO_POINTER (widths[i]));
      wait_until (window_width_is, window, "the window's new width");
      spin (100); /* the compact layout comes in an idle */
      gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
      width = gtk_widget_get_width (GTK_WIDGET (window));
      /* what the window holds, and its header bar, need no more than the window has */
      gtk_widget_measure (gtk_window_get_child (GTK_WINDOW (window)), GTK_ORIENTATION_HORIZONTAL, -1,
                          &min_width, NULL, NULL, NULL);
      gtk_widget_measure (gtk_window_get_child (GTK_WINDOW (window)), GTK_ORIENTATION_VERTICAL, width,
                          &min_height, NULL, NULL, NULL);
      gtk_widget_measure (gtk_window_get_titlebar (GTK_WINDOW (window)), GTK_ORIENTATION_HORIZONTAL, -1,
                          &header_width, NULL, NULL, NULL);
      g_test_message ("%d px: content needs %d×%d, header bar %d, model label %d px", width, min_width,
                      min_height, header_width, gtk_widget_get_width (model_label));
      g_assert_cmpint (min_width, <=, width);
      g_assert_cmpint (header_width, <=, width);
      g_assert_cmpint (min_height, <=, gtk_widget_get_height (gtk_window_get_child (GTK_WINDOW (window))));
      g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (model_label)), ==,
                       i == 0 ? "deit_small_patch16_224" : "tiny-p16");
      g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (model_label))));
      close_window (window);
    }
}

/* Issue 18.18: a small image grows by a whole factor with nearest-neighbour: the picture's
 * texture is the image's, each pixel a scale×scale block (GTK 4.8 would blur it by linear
 * filtering). */
static void
test_small_image_sharp (void)
{
  VitlensWindow *window = new_window (model_path);
  g_autofree char *png = write_image ("tiny.png", 8, 6, 2);
  GtkPicture *picture;
  GdkTexture *shown, *original;
  g_autofree guint8 *a = NULL, *b = NULL;
  int scale;

  drop_path (window, png);
  wait_idle (window);
  picture = window_child_of (image_page (window), VITLENS_TYPE_IMAGE_PAGE, "picture");
  shown = GDK_TEXTURE (gtk_picture_get_paintable (picture));
  original = vitlens_image_get_texture (shown_image (window));
  scale = gdk_texture_get_width (shown) / 8;
  g_assert_cmpint (scale, >=, 2);
  g_assert_cmpint (gdk_texture_get_width (shown), ==, 8 * scale);
  g_assert_cmpint (gdk_texture_get_height (shown), ==, 6 * scale);

  a = g_malloc (8 * 6 * 4);
  b = g_malloc ((gsize)8 * scale * 6 * scale * 4);
  gdk_texture_download (original, a, 8 * 4);
  gdk_texture_download (shown, b, (gsize)8 * scale * 4);
  for (int y = 0; y < 6 * scale; y++)
    for (int x = 0; x < 8 * scale; x++)
      g_assert_cmpmem (b + ((gsize)y * 8 * scale + x) * 4, 4, a + ((gsize)(y / scale) * 8 + x / scale) * 4, 4);
  close_window (window);
}

/* Issue 18.19: while an image decodes, the image area says so ("Decoding big.png…", shown if it
 * takes over a quarter of a second) and the header bar keeps its layout (its spinner is always
 * there, turning or not); once decoded, the notice is gone. */
static void
test_decoding_notice (void)
{
  VitlensWindow *window = new_window (model_path);
  VitlensImagePage *page = image_page (window);
  GtkWidget *box = window_child_of (page, VITLENS_TYPE_IMAGE_PAGE, "decoding_box");
  GtkLabel *label = window_child_of (page, VITLENS_TYPE_IMAGE_PAGE, "decoding_label");
  GtkWidget *spinner = window_child (window, "busy_spinner");
  g_autofree char *png = write_image ("big.png", 1600, 1200, 3);
  g_autoptr(GFile) file = g_file_new_for_path (png);

  g_assert_true (gtk_widget_get_visible (spinner));
  vitlens_image_page_open_files (page, &file, 1);
  g_assert_cmpstr (gtk_label_get_label (label), ==, "Decoding big.png…");
  g_assert_true (gtk_widget_get_visible (spinner));
  wait_idle (window);
  g_assert_cmpstr (vitlens_image_get_name (shown_image (window)), ==, "big.png");
  g_assert_false (gtk_widget_get_visible (box));
  g_assert_true (gtk_widget_get_visible (spinner));
  close_window (window);
}

/* Issue 18.3: a recent model in timm's layout keeps its underscores in the model menu: the
 * GMenu label doubles them (a single one would be a mnemonic) and the menu shows them. */
static void
test_recent_model_underscores (void)
{
  VitlensWindow *window = new_window (model_path);
  g_autofree char *dir = test_path ("deit_base_patch16_224");
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  GMenuModel *recent = vitlens_application_get_recent_models (app);
  GtkMenuButton *button = window_child_of (window_child (window, "model_menu"), VITLENS_TYPE_MODEL_MENU, "button");
  g_autofree char *label = NULL;

  vitlens_application_remember_model (app, file);
  g_assert_cmpint (g_menu_model_get_n_items (recent), >=, 1);
  g_assert_true (g_menu_model_get_item_attribute (recent, 0, G_MENU_ATTRIBUTE_LABEL, "s", &label));
  g_assert_cmpstr (label, ==, "deit__base__patch16__224/model.safetensors");

  gtk_menu_button_popup (button);
  spin (100);
  g_assert_nonnull (find_label (GTK_WIDGET (gtk_menu_button_get_popover (button)),
                                "deit_base_patch16_224/model.safetensors", TRUE));
  gtk_menu_button_popdown (button);
  close_window (window);
}

/* ---------------------------------------------------------------------------------------------
 * Get Models…, against tests/test-hub --serve on 127.0.0.1 (HF_ENDPOINT), the cache in tmpdir */

#ifdef VITLENS_HAVE_HUB
static GPid hub_pid;
static char *hub_cache;

/* the hub goes when the test goes, even when it aborts */
static void
hub_child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Start the test hub (VITLENS_TEST_HUB), before any thread: the environment is set for it. */
static gboolean
hub_serve (void)
{
  const char *prog = g_getenv ("VITLENS_TEST_HUB");
  const char *argv[] = { prog, "--serve", NULL };
  g_autoptr(GError) error = NULL;
  char line[256] = "";
  gsize n = 0;
  int out = -1;

  if (prog == NULL)
    return FALSE;
  g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, hub_child_setup, NULL, &hub_pid,
                            NULL, &out, NULL, &error);
  g_assert_no_error (error);
  while (n < sizeof line - 1 && read (out, line + n, 1) == 1 && line[n] != '\n')
    n++;
  line[n] = '\0';
  close (out);
  g_assert_true (g_str_has_prefix (line, "http://127.0.0.1:"));
  hub_cache = g_build_filename (tmpdir, "hub", NULL);
  g_setenv ("HF_ENDPOINT", line, TRUE);
  g_setenv ("HF_HUB_CACHE", hub_cache, TRUE);
  g_unsetenv ("HF_HUB_OFFLINE");
  g_unsetenv ("TRANSFORMERS_OFFLINE");
  g_unsetenv ("HF_TOKEN");
  return TRUE;
}

static VitlensGetModelsDialog *
open_get_models (VitlensWindow *window)
{
  GListModel *windows = gtk_window_get_toplevels ();

  g_action_group_activate_action (G_ACTION_GROUP (window), "get-models", NULL);
  spin (100);
  for (guint i = 0; i < g_list_model_get_n_items (windows); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (windows, i);
      if (VITLENS_IS_GET_MODELS_DIALOG (w))
        return VITLENS_GET_MODELS_DIALOG (w);
    }
  g_assert_not_reached ();
}

static gboolean
dialog_idle (gpointer data)
{
  return !vitlens_get_models_dialog_get_busy (data);
}

static gboolean
dialog_halfway (gpointer data)
{
  return g_str_has_prefix (vitlens_get_models_dialog_get_progress_text (data), "model.safetensors: ")
         && vitlens_get_models_dialog_get_fraction (data) >= 0.3;
}

static gboolean
dialog_gone (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static void
on_fraction (GtkProgressBar *bar,
             GParamSpec     *pspec,
             double         *max)
{
  *max = MAX (*max, gtk_progress_bar_get_fraction (bar));
}

static const char *
menu_label (VitlensWindow *window)
{
  return gtk_label_get_label (window_child_of (window_child (window, "model_menu"), VITLENS_TYPE_MODEL_MENU,
                                               "model_label"));
}

/* Download, cancel, errors: the built-in model's hint, then a model from the hub loaded. */
static void
test_get_models_download (void)
{
  VitlensWindow *window;
  VitlensResultsPanel *panel;
  VitlensGetModelsDialog *dialog;
  g_autofree char *png = write_image ("get-models.png", 64, 64, 1);
  g_autofree char *slow = NULL, *snapshot = NULL;
  g_autofree char *progress_png = NULL;
  gboolean builtin;
  size_t size = 0;
  double max = 0;

  if (hub_cache == NULL)
    {
      g_test_skip ("no test hub (VITLENS_TEST_HUB)");
      return;
    }
  g_settings_reset (vitlens_application_get_settings (app), "last-model");
  window = new_window (NULL);
  panel = image_panel (window);
  builtin = vitlens_data_model (&size) != NULL;
  drop_path (window, png);
  wait_idle (window);
  /* the built-in model says what it knows, and offers this dialog */
  if (builtin)
    {
      g_assert_nonnull (strstr (vitlens_results_panel_get_hint (panel), "10 kinds of clothing"));
      g_free (render_widget (GTK_WIDGET (panel), "getmodels-hint"));
    }
  else
    g_assert_null (vitlens_results_panel_get_hint (panel));

  dialog = open_get_models (window);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  g_assert_cmpuint (vitlens_get_models_dialog_get_n_models (dialog), ==, 5);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpstr (vitlens_get_models_dialog_get_model_state (dialog, i), !=, "Downloaded");
  {
    g_autofree char *size = g_format_size (22900000);
    g_assert_cmpstr (vitlens_get_models_dialog_get_model_state (dialog, 0), ==, size);
  }

  /* a slow download, cancelled half way: no snapshot */
  vitlens_get_models_dialog_download (dialog, "vitlens-test/slow");
  g_assert_true (vitlens_get_models_dialog_get_busy (dialog));
  wait_until (dialog_halfway, dialog, "the download half way");
  g_assert_nonnull (strstr (vitlens_get_models_dialog_get_progress_text (dialog), "/s)"));
  progress_png = render_widget (GTK_WIDGET (dialog), "getmodels-progress");
  vitlens_get_models_dialog_cancel (dialog);
  wait_until (dialog_idle, dialog, "the download cancelled");
  g_assert_cmpstr (vitlens_get_models_dialog_get_error (dialog), ==, "Download cancelled");
  slow = g_build_filename (hub_cache, "models--vitlens-test--slow", "snapshots", NULL);
  {
    /* config.json, verified, may stay (as huggingface_hub keeps it); the weights have no
     * snapshot link, only the partial blob a later download resumes */
    g_autoptr(GDir) dir = g_dir_open (slow, 0, NULL);
    const char *commit;
    while (dir != NULL && (commit = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *weights = g_build_filename (slow, commit, "model.safetensors", NULL);
        g_assert_false (g_file_test (weights, G_FILE_TEST_EXISTS));
      }
  }
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "name"), !=, "slow");

  /* errors, in one line */
  vitlens_get_models_dialog_download (dialog, "vitlens-test/no-such-model");
  wait_until (dialog_idle, dialog, "the unknown repository");
  g_assert_cmpstr (vitlens_get_models_dialog_get_error (dialog), ==,
                   "No repository vitlens-test/no-such-model on the Hub (or it is private)");
  vitlens_get_models_dialog_download (dialog, "vitlens-test/gated");
  wait_until (dialog_idle, dialog, "the gated repository");
  g_assert_true (g_str_has_prefix (vitlens_get_models_dialog_get_error (dialog), "vitlens-test/gated is gated"));
  vitlens_get_models_dialog_download (dialog, "not a repo");
  g_assert_false (vitlens_get_models_dialog_get_busy (dialog));
  g_assert_true (g_str_has_suffix (vitlens_get_models_dialog_get_error (dialog), "is not a repository id (ORGANIZATION/NAME)"));
  g_free (render_widget (GTK_WIDGET (dialog), "getmodels-error"));

  /* a download to the end: loaded, the image classified again, the dialog closed */
  g_signal_connect (window_child_of (dialog, VITLENS_TYPE_GET_MODELS_DIALOG, "progress_bar"), "notify::fraction",
                    G_CALLBACK (on_fraction), &max);
  vitlens_get_models_dialog_download (dialog, "vitlens-test/tiny-p16");
  wait_until (dialog_gone, &dialog, "the dialog to close");
  g_assert_cmpfloat (max, ==, 1.0);
  wait_until (window_idle, window, "the model to load");
  wait_idle (window);
  g_assert_cmpstr (menu_label (window), ==, "tiny-p16");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "name"), ==, "tiny-p16");
  g_assert_cmpstr (vitlens_results_panel_get_fact (panel, "parameters"), !=, "—");
  g_assert_cmpuint (vitlens_prediction_rows_get_n (vitlens_results_panel_get_rows (panel)), >, 0);
  g_assert_null (vitlens_results_panel_get_hint (panel));
  snapshot = g_build_filename (hub_cache, "models--vitlens-test--tiny-p16", "snapshots", NULL);
  g_assert_true (g_file_test (snapshot, G_FILE_TEST_IS_DIR));
  g_free (render_widget (GTK_WIDGET (window), "getmodels-result"));

  close_window (window);
}

/* A catalogue model already in the cache is marked, and loads at once without the network. */
static void
test_get_models_cached (void)
{
  const char *repo_dir = "models--timm--deit_tiny_patch16_224.fb_in1k";
  const char *commit = "0123456789abcdef0123456789abcdef01234567";
  g_autofree char *snap = NULL, *refs = NULL, *fixtures_dir = NULL;
  VitlensWindow *window;
  VitlensGetModelsDialog *dialog;
  GtkListBox *list;

  if (hub_cache == NULL)
    {
      g_test_skip ("no test hub (VITLENS_TEST_HUB)");
      return;
    }
  snap = g_build_filename (hub_cache, repo_dir, "snapshots", commit, NULL);
  refs = g_build_filename (hub_cache, repo_dir, "refs", NULL);
  fixtures_dir = g_path_get_dirname (model_path);
  g_assert_cmpint (g_mkdir_with_parents (snap, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (refs, 0755), ==, 0);
  for (guint i = 0; i < 2; i++)
    {
      const char *name = i == 0 ? "model.safetensors" : "config.json";
      g_autofree char *from = g_build_filename (fixtures_dir, name, NULL);
      g_autofree char *to = g_build_filename (snap, name, NULL);
      g_assert_cmpint (symlink (from, to), ==, 0);
    }
  {
    g_autofree char *ref = g_build_filename (refs, "main", NULL);
    g_assert_true (g_file_set_contents (ref, commit, -1, NULL));
  }

  window = new_window (model_path);
  dialog = open_get_models (window);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  g_assert_cmpstr (vitlens_get_models_dialog_get_model_state (dialog, 0), ==, "Downloaded");
  {
    g_autofree char *size = g_format_size (88200000);
    g_assert_cmpstr (vitlens_get_models_dialog_get_model_state (dialog, 1), ==, size);
  }
  g_assert_null (vitlens_results_panel_get_hint (image_panel (window)));
  list = window_child_of (dialog, VITLENS_TYPE_GET_MODELS_DIALOG, "catalogue_list");
  g_signal_emit_by_name (list, "row-activated", gtk_list_box_get_row_at_index (list, 0));
  wait_until (dialog_gone, &dialog, "the dialog to close");
  wait_idle (window);
  g_assert_cmpstr (menu_label (window), ==, "deit_tiny_patch16_224.fb_in1k");

  close_window (window);
}
#endif

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
  gst_init (NULL, NULL);
  /* No crossfades half way through when the window is rendered. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  g_assert_nonnull (fixtures);
  g_unsetenv ("VITLENS_MODEL"); /* before any thread: the tests choose their models */
  model_path = g_build_filename (fixtures, "models", "tiny-p16", "model.safetensors", NULL);
  tmpdir = g_dir_make_tmp ("vitlens-test-app-XXXXXX", &error);
  g_assert_no_error (error);
#ifdef VITLENS_HAVE_HUB
  hub_serve ();
#endif

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
  g_test_add_func ("/app/window/model-file-changed", test_model_file_changed);
  g_test_add_func ("/app/window/several-files", test_several_files);
  g_test_add_func ("/app/window/paste", test_paste);
  g_test_add_func ("/app/window/destroy-while-busy", test_destroy_while_busy);
  g_test_add_func ("/app/window/render-png", test_render_png);
  g_test_add_func ("/app/preferences", test_preferences);
  g_test_add_func ("/app/command-line", test_command_line);
  g_test_add_func ("/app/accels", test_accels);
  g_test_add_func ("/app/compare/image", test_compare_image);
  g_test_add_func ("/app/attention/image", test_attention_image);
  g_test_add_func ("/app/attention/test-pattern", test_attention_stream);
  g_test_add_func ("/app/attention/compare", test_attention_compare);
  g_test_add_func ("/app/compare/test-pattern", test_compare_stream);
  g_test_add_func ("/app/compare/numbers-readable", test_compare_numbers_readable);
  g_test_add_func ("/app/compare/speed-words", test_compare_speed_words);
  g_test_add_func ("/app/compare/progress", test_compare_progress);
  g_test_add_func ("/app/stream/test-pattern", test_stream_test_pattern);
  g_test_add_func ("/app/stream/video", test_video);
  g_test_add_func ("/app/stream/no-camera", test_no_camera);
  g_test_add_func ("/app/stream/no-camera-state", test_no_camera_state);
  g_test_add_func ("/app/stream/video-end", test_video_end);
  g_test_add_func ("/app/stream/snapshot-next", test_snapshot_next);
  g_test_add_func ("/app/window/image-snapshot", test_image_snapshot);
  g_test_add_func ("/app/stream/camera-hotplug", test_camera_hotplug);
  g_test_add_func ("/app/error/localized-engine-message", test_localized_engine_message);
  g_test_add_func ("/app/stream/overlay-variant-label", test_overlay_variant_label);
  g_test_add_func ("/app/model-menu/recent-underscores", test_recent_model_underscores);
  g_test_add_func ("/app/window/strip-skips-broken", test_strip_skips_broken);
  g_test_add_func ("/app/window/paste-png-bytes", test_paste_png_bytes);
  g_test_add_func ("/app/window/first-run-apart", test_first_run_apart);
  g_test_add_func ("/app/window/title-follows-source", test_title_follows_source);
  g_test_add_func ("/app/preferences/threads-words", test_preferences_threads_words);
  g_test_add_func ("/app/window/drop-pill-clear-of-title", test_drop_pill_clear_of_title);
  g_test_add_func ("/app/window/narrow", test_narrow_window);
  g_test_add_func ("/app/window/small-image-sharp", test_small_image_sharp);
  g_test_add_func ("/app/window/decoding-notice", test_decoding_notice);
#ifdef VITLENS_HAVE_HUB
  g_test_add_func ("/app/get-models/download", test_get_models_download);
  g_test_add_func ("/app/get-models/cached", test_get_models_cached);
#endif

  rc = g_test_run ();
#ifdef VITLENS_HAVE_HUB
  if (hub_pid != 0)
    {
      kill (hub_pid, SIGKILL);
      g_spawn_close_pid (hub_pid);
    }
  g_free (hub_cache);
#endif

  remove_tmpdir ();
  g_clear_object (&app);
  g_free (model_path);
  g_free (tmpdir);
  return rc;
}
