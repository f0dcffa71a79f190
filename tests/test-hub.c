/* test-hub.c — `vitlens-cli fetch` and `--model ORG/NAME` against a hub on 127.0.0.1
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * A SoupServer in this process (its own thread, two ports: the hub and its "CDN") speaks the
 * hub's protocol as huggingface_hub meets it: /ORG/NAME/resolve/REV/FILE answers a large file
 * with a 302 to the CDN carrying X-Linked-Etag (SHA-256), X-Linked-Size and X-Repo-Commit, a
 * small one with 200, ETag (git blob SHA-1) and X-Repo-Commit; 404 with X-Error-Code
 * RepoNotFound, RevisionNotFound or EntryNotFound; 401 GatedRepo without the token; the CDN
 * honours Range (206) and can cut a connection mid-file. The repositories are made of the
 * committed fixture model tests/fixtures/models/tiny-p16 (VITLENS_FIXTURES). The real
 * vitlens-cli (VITLENS_CLI) runs against it with HF_ENDPOINT and HF_HUB_CACHE in a temporary
 * directory; the cache rules are also checked through the library. No other network.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "vitlens-hub.h"

#define TOKEN "hub-test-token"

/* ---------------------------------------------------------------------------------------------
 * The hub */

typedef struct
{
  char    *name;
  GBytes  *bytes;
  char    *sha256;
  char    *git_sha1;
  gboolean large;   /* an LFS file: 302 to the CDN */
} HubFile;

typedef struct
{
  char      *id;
  char      *commit;
  GPtrArray *files; /* HubFile */
  gboolean   gated;
  gboolean   bad_etag; /* advertise a wrong SHA-256 for large files */
  gboolean   slow;     /* the CDN sends large files 4 KiB every 20 ms (the app's Cancel) */
} HubRepo;

static struct
{
  GMutex        lock;
  GMainContext *context;
  GMainLoop    *loop;
  GThread      *thread;
  SoupServer   *server;
  char         *base;     /* http://127.0.0.1:PORT, the hub */
  char         *cdn_base; /* http://127.0.0.1:PORT2, the CDN */
  GHashTable   *repos;    /* id -> HubRepo */
  /* what it saw, under lock */
  guint         requests;
  guint         cdn_gets;
  GPtrArray    *ranges;   /* Range headers at the CDN */
  guint         auth_at_hub;
  guint         auth_at_cdn;
  gsize         cut_after; /* > 0: the next CDN GET closes the connection after this many bytes */
} hub;

static char *
checksum_bytes (GChecksumType type,
                const char   *prefix,
                GBytes       *bytes)
{
  g_autoptr (GChecksum) sum = g_checksum_new (type);
  gsize n;
  const guchar *data = g_bytes_get_data (bytes, &n);

  if (prefix != NULL)
    g_checksum_update (sum, (const guchar *) prefix, (gssize) strlen (prefix) + 1);
  g_checksum_update (sum, data, (gssize) n);
  return g_strdup (g_checksum_get_string (sum));
}

static HubFile *
hub_file_new (const char *name,
              GBytes     *bytes,
              gboolean    large)
{
  HubFile *f = g_new0 (HubFile, 1);
  g_autofree char *header = g_strdup_printf ("blob %zu", g_bytes_get_size (bytes));

  f->name = g_strdup (name);
  f->bytes = g_bytes_ref (bytes);
  f->sha256 = checksum_bytes (G_CHECKSUM_SHA256, NULL, bytes);
  f->git_sha1 = checksum_bytes (G_CHECKSUM_SHA1, header, bytes);
  f->large = large;
  return f;
}

static void
hub_file_free (HubFile *f)
{
  g_free (f->name);
  g_bytes_unref (f->bytes);
  g_free (f->sha256);
  g_free (f->git_sha1);
  g_free (f);
}

static void
hub_repo_free (HubRepo *r)
{
  g_free (r->id);
  g_free (r->commit);
  g_ptr_array_unref (r->files);
  g_free (r);
}

static GBytes *
fixture_dir_bytes (const char *dir,
                   const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("VITLENS_FIXTURES"), "models", dir,
                                            name, NULL);
  g_autoptr (GError) error = NULL;
  char *data;
  gsize n;

  g_file_get_contents (path, &data, &n, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (data, n);
}

static GBytes *
fixture_bytes (const char *name)
{
  return fixture_dir_bytes ("tiny-p16", name);
}

/* A repository of the fixture model: config.json, model.safetensors (large) and, with_labels,
 * a labels.txt of ten names; no preprocessor_config.json. */
static HubRepo *
add_repo (const char *id,
          gboolean    with_weights,
          gboolean    with_labels)
{
  HubRepo *r = g_new0 (HubRepo, 1);
  g_autoptr (GBytes) config = fixture_bytes ("config.json");

  r->id = g_strdup (id);
  r->commit = g_compute_checksum_for_string (G_CHECKSUM_SHA1, id, -1);
  r->files = g_ptr_array_new_with_free_func ((GDestroyNotify) hub_file_free);
  g_ptr_array_add (r->files, hub_file_new ("config.json", config, FALSE));
  if (with_weights)
    {
      g_autoptr (GBytes) weights = fixture_bytes ("model.safetensors");
      g_ptr_array_add (r->files, hub_file_new ("model.safetensors", weights, TRUE));
    }
  if (with_labels)
    {
      static const char names[] = "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n";
      g_autoptr (GBytes) labels = g_bytes_new_static (names, sizeof names - 1);
      g_ptr_array_add (r->files, hub_file_new ("labels.txt", labels, FALSE));
    }
  g_hash_table_insert (hub.repos, r->id, r);
  return r;
}

/* A repository in the transformers layout, as facebook/deit-* are: the fixture folder's
 * config.json (hidden_size, id2label, layer_norm_eps, …), preprocessor_config.json and
 * model.safetensors (vit.* or deit.* names). */
static void
add_transformers_repo (const char *id,
                       const char *fixture_dir)
{
  HubRepo *r = g_new0 (HubRepo, 1);
  static const char *names[] = { "config.json", "preprocessor_config.json", "model.safetensors" };

  r->id = g_strdup (id);
  r->commit = g_compute_checksum_for_string (G_CHECKSUM_SHA1, id, -1);
  r->files = g_ptr_array_new_with_free_func ((GDestroyNotify) hub_file_free);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GBytes) bytes = fixture_dir_bytes (fixture_dir, names[i]);
      g_ptr_array_add (r->files, hub_file_new (names[i], bytes, i == 2));
    }
  g_hash_table_insert (hub.repos, r->id, r);
}

static HubFile *
find_file (HubRepo    *r,
           const char *name)
{
  for (guint i = 0; i < r->files->len; i++)
    {
      HubFile *f = g_ptr_array_index (r->files, i);
      if (strcmp (f->name, name) == 0)
        return f;
    }
  return NULL;
}

static void
hub_error (SoupServerMessage *msg,
           guint              status,
           const char        *code,
           HubRepo           *r)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  soup_server_message_set_status (msg, status, NULL);
  if (code != NULL)
    soup_message_headers_replace (h, "X-Error-Code", code);
  if (r != NULL)
    soup_message_headers_replace (h, "X-Repo-Commit", r->commit);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "error", 5);
}

/* The hub: /ORG/NAME/resolve/REV/FILE */
static void
handle_resolve (SoupServerMessage *msg,
                const char        *path)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  g_auto (GStrv) parts = g_strsplit (path + 1, "/", 5);
  g_autofree char *id = NULL;
  HubRepo *r;
  HubFile *f;

  if (g_strv_length (parts) != 5 || strcmp (parts[2], "resolve") != 0)
    return hub_error (msg, SOUP_STATUS_NOT_FOUND, NULL, NULL);
  id = g_strconcat (parts[0], "/", parts[1], NULL);
  r = g_hash_table_lookup (hub.repos, id);
  if (r == NULL)
    return hub_error (msg, SOUP_STATUS_NOT_FOUND, "RepoNotFound", NULL);
  if (r->gated && g_strcmp0 (soup_message_headers_get_one (
                                 soup_server_message_get_request_headers (msg), "Authorization"),
                             "Bearer " TOKEN) != 0)
    return hub_error (msg, SOUP_STATUS_UNAUTHORIZED, "GatedRepo", NULL);
  if (strcmp (parts[3], "main") != 0 && strcmp (parts[3], r->commit) != 0)
    return hub_error (msg, SOUP_STATUS_NOT_FOUND, "RevisionNotFound", NULL);
  f = find_file (r, parts[4]);
  if (f == NULL)
    return hub_error (msg, SOUP_STATUS_NOT_FOUND, "EntryNotFound", r);

  soup_message_headers_replace (h, "X-Repo-Commit", r->commit);
  if (f->large)
    {
      g_autofree char *location = g_strdup_printf ("%s/cdn/%s/%s", hub.cdn_base, id, f->name);
      g_autofree char *etag = g_strdup_printf ("\"%s\"", r->bad_etag ? f->git_sha1 : f->sha256);
      g_autofree char *size = g_strdup_printf ("%zu", g_bytes_get_size (f->bytes));

      if (r->bad_etag) /* 64 hex digits, but not this file's */
        {
          g_free (etag);
          etag = g_strdup_printf ("\"%s\"", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        }
      soup_server_message_set_status (msg, SOUP_STATUS_FOUND, NULL);
      soup_message_headers_replace (h, "Location", location);
      soup_message_headers_replace (h, "X-Linked-Etag", etag);
      soup_message_headers_replace (h, "X-Linked-Size", size);
      soup_message_headers_replace (h, "ETag", "\"not-the-content-hash\"");
    }
  else
    {
      g_autofree char *etag = g_strdup_printf ("\"%s\"", f->git_sha1);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_message_headers_replace (h, "ETag", etag);
      soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (f->bytes, NULL),
                                        g_bytes_get_size (f->bytes));
    }
}

/* The CDN: /cdn/ORG/NAME/FILE, with Range; the first GET after a cut_after is cut. */
/* A slow CDN response, written by its own thread so the server goes on answering; it stops
 * when the client goes away. */
typedef struct
{
  GIOStream *io;
  GBytes    *bytes;
} SlowSend;

static gpointer
slow_send_thread (gpointer data)
{
  SlowSend *s = data;
  GOutputStream *out = g_io_stream_get_output_stream (s->io);
  gsize n;
  const char *bytes = g_bytes_get_data (s->bytes, &n);
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                                           "Content-Type: application/octet-stream\r\n\r\n", n);
  gboolean ok = g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);

  for (gsize at = 0; ok && at < n; at += 4096)
    {
      ok = g_output_stream_write_all (out, bytes + at, MIN (4096, n - at), NULL, NULL, NULL);
      g_usleep (20000);
    }
  g_io_stream_close (s->io, NULL, NULL);
  g_object_unref (s->io);
  g_bytes_unref (s->bytes);
  g_free (s);
  return NULL;
}

static void
handle_cdn (SoupServerMessage *msg,
            const char        *path)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  g_auto (GStrv) parts = g_strsplit (path + strlen ("/cdn/"), "/", 3);
  g_autofree char *id = NULL;
  HubRepo *r;
  HubFile *f = NULL;
  gsize n, cut;
  const char *data;
  SoupRange *ranges = NULL;
  int nranges = 0;

  if (g_strv_length (parts) == 3)
    {
      id = g_strconcat (parts[0], "/", parts[1], NULL);
      r = g_hash_table_lookup (hub.repos, id);
      f = r != NULL ? find_file (r, parts[2]) : NULL;
    }
  if (f == NULL)
    return hub_error (msg, SOUP_STATUS_NOT_FOUND, NULL, NULL);
  data = g_bytes_get_data (f->bytes, &n);

  g_mutex_lock (&hub.lock);
  hub.cdn_gets++;
  if (soup_message_headers_get_one (req, "Range") != NULL)
    g_ptr_array_add (hub.ranges, g_strdup (soup_message_headers_get_one (req, "Range")));
  if (soup_message_headers_get_one (req, "Authorization") != NULL)
    hub.auth_at_cdn++;
  cut = hub.cut_after;
  hub.cut_after = 0;
  g_mutex_unlock (&hub.lock);

  if (r->slow)
    {
      SlowSend *s = g_new0 (SlowSend, 1);
      s->io = soup_server_message_steal_connection (msg);
      s->bytes = g_bytes_ref (f->bytes);
      g_thread_unref (g_thread_new ("slow-cdn", slow_send_thread, s));
      return;
    }

  if (cut > 0)
    {
      /* a whole response announced, part of it sent, then the connection closed */
      g_autoptr (GIOStream) io = soup_server_message_steal_connection (msg);
      GOutputStream *out = g_io_stream_get_output_stream (io);
      g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                                               "Content-Type: application/octet-stream\r\n\r\n", n);
      g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
      g_output_stream_write_all (out, data, cut, NULL, NULL, NULL);
      g_io_stream_close (io, NULL, NULL);
      return;
    }

  if (soup_message_headers_get_ranges (req, (goffset) n, &ranges, &nranges) && nranges == 1)
    {
      goffset start = ranges[0].start, end = ranges[0].end;
      soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
      soup_message_headers_set_content_range (soup_server_message_get_response_headers (msg),
                                              start, end, (goffset) n);
      soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                        data + start, (gsize) (end - start + 1));
      soup_message_headers_free_ranges (req, ranges);
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY, data, n);
}

static void
handle (SoupServer        *server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           user_data)
{
  gboolean cdn = g_str_has_prefix (path, "/cdn/");

  g_mutex_lock (&hub.lock);
  hub.requests++;
  if (!cdn && soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                            "Authorization") != NULL)
    hub.auth_at_hub++;
  g_mutex_unlock (&hub.lock);
  if (cdn)
    handle_cdn (msg, path);
  else
    handle_resolve (msg, path);
}

static gpointer
server_thread (gpointer data)
{
  GCond *ready = data;
  g_autoptr (GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (hub.context);
  hub.server = soup_server_new (NULL, NULL);
  soup_server_add_handler (hub.server, NULL, handle, NULL, NULL);
  for (int i = 0; i < 2; i++)
    {
      soup_server_listen_local (hub.server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
      g_assert_no_error (error);
    }
  uris = soup_server_get_uris (hub.server);
  g_assert_cmpuint (g_slist_length (uris), ==, 2);
  g_mutex_lock (&hub.lock);
  hub.base = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  hub.cdn_base = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->next->data));
  g_cond_signal (ready);
  g_mutex_unlock (&hub.lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (hub.loop);
  soup_server_disconnect (hub.server);
  g_clear_object (&hub.server);
  g_main_context_pop_thread_default (hub.context);
  return NULL;
}

static void
hub_start (void)
{
  GCond ready;

  g_mutex_init (&hub.lock);
  g_cond_init (&ready);
  hub.repos = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) hub_repo_free);
  hub.ranges = g_ptr_array_new_with_free_func (g_free);
  add_repo ("vitlens-test/tiny-p16", TRUE, TRUE);
  add_repo ("vitlens-test/cut", TRUE, FALSE);
  add_repo ("vitlens-test/bad-sha", TRUE, FALSE)->bad_etag = TRUE;
  add_repo ("vitlens-test/gated", TRUE, FALSE)->gated = TRUE;
  add_repo ("vitlens-test/no-weights", FALSE, FALSE);
  add_repo ("vitlens-test/on-demand", TRUE, FALSE);
  add_repo ("vitlens-test/slow", TRUE, FALSE)->slow = TRUE;
  add_transformers_repo ("facebook-test/vit-tiny", "tiny-p16-hf");
  add_transformers_repo ("facebook-test/deit-tiny-distilled", "tiny-p8-distilled-hf");

  hub.context = g_main_context_new ();
  hub.loop = g_main_loop_new (hub.context, FALSE);
  g_mutex_lock (&hub.lock);
  hub.thread = g_thread_new ("hub", server_thread, &ready);
  while (hub.cdn_base == NULL)
    g_cond_wait (&ready, &hub.lock);
  g_mutex_unlock (&hub.lock);
  g_cond_clear (&ready);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (hub.loop);
  return G_SOURCE_REMOVE;
}

static void
hub_stop (void)
{
  g_main_context_invoke (hub.context, quit_loop, NULL);
  g_thread_join (hub.thread);
  g_main_loop_unref (hub.loop);
  g_main_context_unref (hub.context);
  g_hash_table_unref (hub.repos);
  g_ptr_array_unref (hub.ranges);
  g_free (hub.base);
  g_free (hub.cdn_base);
}

/* A counter of what the hub saw, read under its lock. */
static guint
hub_count (const guint *counter)
{
  g_mutex_lock (&hub.lock);
  guint n = *counter;
  g_mutex_unlock (&hub.lock);
  return n;
}

static guint
hub_requests (void)
{
  return hub_count (&hub.requests);
}

/* ---------------------------------------------------------------------------------------------
 * Helpers: a cache per test, the CLI, files */

typedef struct
{
  char *dir;   /* the test's temporary directory */
  char *cache; /* dir/hub: HF_HUB_CACHE */
} Fixture;

static void
fixture_set_up (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  if (hub.thread == NULL) /* after the /hub/env tests, which set variables */
    hub_start ();

  fx->dir = g_dir_make_tmp ("vitlens-hub-XXXXXX", &error);
  g_assert_no_error (error);
  fx->cache = g_build_filename (fx->dir, "hub", NULL);
}

static int
remove_entry (const char        *path,
              const struct stat *sb,
              int                flag,
              struct FTW        *ftw)
{
  return remove (path);
}

static void
fixture_tear_down (Fixture       *fx,
                   gconstpointer  data)
{
  nftw (fx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  g_free (fx->dir);
  g_free (fx->cache);
}

typedef struct
{
  int   status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* vitlens-cli ARGS… with HF_ENDPOINT (NULL: the test hub) and HF_HUB_CACHE set, and the hub
 * variables a developer may have unset; extra: "NAME=VALUE" strings (NULL-terminated). */
static void
run_cli (Run         *run,
         Fixture     *fx,
         const char  *endpoint,
         const char  *cwd,
         const char **extra,
         ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (GStrv) envp = g_get_environ ();
  g_autoptr (GError) error = NULL;
  const char *cli = g_getenv ("VITLENS_CLI");
  va_list ap;
  int wait_status;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (char *) cli);
  va_start (ap, extra);
  for (const char *a; (a = va_arg (ap, const char *)) != NULL;)
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  static const char *const unset[] = { "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN",
                                       "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_HUB_CACHE",
                                       "HF_HOME" };
  for (gsize i = 0; i < G_N_ELEMENTS (unset); i++)
    envp = g_environ_unsetenv (envp, unset[i]);
  envp = g_environ_setenv (envp, "HF_ENDPOINT", endpoint != NULL ? endpoint : hub.base, TRUE);
  envp = g_environ_setenv (envp, "HF_HUB_CACHE", fx->cache, TRUE);
  for (; extra != NULL && *extra != NULL; extra++)
    {
      g_auto (GStrv) kv = g_strsplit (*extra, "=", 2);
      envp = g_environ_setenv (envp, kv[0], kv[1], TRUE);
    }

  g_spawn_sync (cwd, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL, &run->out,
                &run->err, &wait_status, &error);
  g_assert_no_error (error);
  run->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128;
  if (g_test_verbose ())
    g_printerr ("$ vitlens-cli %s …: %d\n%s%s", (char *) argv->pdata[1], run->status, run->out,
                run->err);
}

/* The top-5 class indices of a `classify --json` line, as "0,6,5,3,8". */
static char *
top5 (const char *json)
{
  g_autoptr (GRegex) re = g_regex_new ("\"index\": *([0-9]+)", 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;
  g_autoptr (GString) s = g_string_new (NULL);

  for (g_regex_match (re, json, 0, &m); g_match_info_matches (m); g_match_info_next (m, NULL))
    {
      g_autofree char *index = g_match_info_fetch (m, 1);
      g_string_append_printf (s, "%s%s", s->len ? "," : "", index);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
image_path (void)
{
  return g_build_filename (g_getenv ("VITLENS_FIXTURES"), "models", "images", "grad-45x37.png",
                           NULL);
}

/* The top-5 of classifying the committed fixture file `dir`/model.safetensors directly. */
static char *
fixture_dir_top5 (Fixture    *fx,
                  const char *dir)
{
  g_auto (Run) run = { 0 };
  g_autofree char *model = g_build_filename (g_getenv ("VITLENS_FIXTURES"), "models", dir,
                                             "model.safetensors", NULL);
  g_autofree char *image = image_path ();
  char *top;

  run_cli (&run, fx, NULL, NULL, NULL, "classify", "--json", "--model", model, image, NULL);
  g_assert_cmpint (run.status, ==, 0);
  top = top5 (run.out);
  g_assert_cmpuint (strlen (top), >, 0);
  return top;
}

/* The top-5 of the fixture model file itself (tests/test-cli.sh checks it against PyTorch). */
static char *
fixture_top5 (Fixture *fx)
{
  return fixture_dir_top5 (fx, "tiny-p16");
}

/* transformers-layout repositories (facebook/deit-* style) fetched through --model: the same
 * top-5 as the fixture files, whose logits test-model checks against PyTorch, and their labels
 * from id2label */
static void
test_transformers_layout (Fixture       *fx,
                          gconstpointer  data)
{
  static const struct { const char *id, *dir; } repos[] = {
    { "facebook-test/vit-tiny", "tiny-p16-hf" },
    { "facebook-test/deit-tiny-distilled", "tiny-p8-distilled-hf" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (repos); i++)
    {
      g_auto (Run) classify = { 0 };
      g_autofree char *want = fixture_dir_top5 (fx, repos[i].dir);
      g_autofree char *image = image_path ();
      g_autofree char *got = NULL;

      run_cli (&classify, fx, NULL, NULL, NULL, "classify", "--json", "--model", repos[i].id,
               image, NULL);
      g_test_message ("%s: %s", repos[i].id, classify.out);
      g_assert_cmpint (classify.status, ==, 0);
      got = top5 (classify.out);
      g_assert_cmpstr (got, ==, want);
    }
}

static char *
storage_path (Fixture    *fx,
              const char *folder,
              ...)
{
  va_list ap;
  g_autoptr (GPtrArray) parts = g_ptr_array_new ();

  g_ptr_array_add (parts, fx->cache);
  g_ptr_array_add (parts, (char *) folder);
  va_start (ap, folder);
  for (const char *p; (p = va_arg (ap, const char *)) != NULL;)
    g_ptr_array_add (parts, (char *) p);
  va_end (ap);
  g_ptr_array_add (parts, NULL);
  return g_build_filenamev ((char **) parts->pdata);
}

static char *
read_text (const char *path)
{
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, NULL);
  return text;
}

static gboolean
bytes_equal_file (GBytes     *bytes,
                  const char *path)
{
  g_autofree char *data = NULL;
  gsize n;

  return g_file_get_contents (path, &data, &n, NULL) && n == g_bytes_get_size (bytes)
         && memcmp (data, g_bytes_get_data (bytes, NULL), n) == 0;
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

/* No file under DIR whose name contains PART (recursive; links not followed). */
static gboolean
tree_has (const char *dir,
          const char *part)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (strstr (name, part) != NULL)
        return TRUE;
      if (!g_file_test (path, G_FILE_TEST_IS_SYMLINK) && g_file_test (path, G_FILE_TEST_IS_DIR)
          && tree_has (path, part))
        return TRUE;
    }
  return FALSE;
}

static HubRepo *
repo (const char *id)
{
  HubRepo *r = g_hash_table_lookup (hub.repos, id);

  g_assert_nonnull (r);
  return r;
}

/* ---------------------------------------------------------------------------------------------
 * The environment */

static void
test_env_cache_dir (void)
{
  static const char *const vars[] = { "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME",
                                      "XDG_CACHE_HOME", "HOME" };
  g_auto (GStrv) saved = g_new0 (char *, G_N_ELEMENTS (vars) + 1);
  g_autofree char *home_default = g_build_filename (g_get_home_dir (), ".cache", "huggingface",
                                                    "hub", NULL);
  g_autofree char *home_tilde = g_build_filename (g_get_home_dir (), "hubcache", NULL);
  char *dir;

  for (gsize i = 0; i < G_N_ELEMENTS (vars); i++)
    saved[i] = g_strdup (g_getenv (vars[i]) != NULL ? g_getenv (vars[i]) : "");
  g_unsetenv ("HF_HUB_CACHE");
  g_unsetenv ("HUGGINGFACE_HUB_CACHE");
  g_unsetenv ("HF_HOME");
  g_unsetenv ("XDG_CACHE_HOME");

  dir = vitlens_hub_default_cache_dir ();
  g_assert_cmpstr (dir, ==, home_default);
  g_free (dir);
  g_setenv ("XDG_CACHE_HOME", "/x/cache", TRUE);
  dir = vitlens_hub_default_cache_dir ();
  g_assert_cmpstr (dir, ==, "/x/cache/huggingface/hub");
  g_free (dir);
  g_setenv ("HF_HOME", "/h/hf", TRUE); /* over XDG_CACHE_HOME */
  dir = vitlens_hub_default_cache_dir ();
  g_assert_cmpstr (dir, ==, "/h/hf/hub");
  g_free (dir);
  g_setenv ("HUGGINGFACE_HUB_CACHE", "/legacy", TRUE); /* over HF_HOME */
  dir = vitlens_hub_default_cache_dir ();
  g_assert_cmpstr (dir, ==, "/legacy");
  g_free (dir);
  g_setenv ("HF_HUB_CACHE", "~/hubcache", TRUE); /* over all; ~ expanded */
  dir = vitlens_hub_default_cache_dir ();
  g_assert_cmpstr (dir, ==, home_tilde);
  g_free (dir);

  for (gsize i = 0; i < G_N_ELEMENTS (vars); i++)
    if (saved[i][0] != '\0')
      g_setenv (vars[i], saved[i], TRUE);
    else
      g_unsetenv (vars[i]);
}

static void
test_env_endpoint_offline (void)
{
  char *endpoint;

  g_setenv ("HF_ENDPOINT", "http://mirror.example//", TRUE);
  endpoint = vitlens_hub_default_endpoint ();
  g_assert_cmpstr (endpoint, ==, "http://mirror.example");
  g_free (endpoint);
  g_unsetenv ("HF_ENDPOINT");
  endpoint = vitlens_hub_default_endpoint ();
  g_assert_cmpstr (endpoint, ==, "https://huggingface.co");
  g_free (endpoint);

  g_unsetenv ("HF_HUB_OFFLINE");
  g_unsetenv ("TRANSFORMERS_OFFLINE");
  g_assert_false (vitlens_hub_env_offline ());
  g_setenv ("HF_HUB_OFFLINE", "yes", TRUE);
  g_assert_true (vitlens_hub_env_offline ());
  g_setenv ("HF_HUB_OFFLINE", "0", TRUE);
  g_assert_false (vitlens_hub_env_offline ());
  g_setenv ("TRANSFORMERS_OFFLINE", "1", TRUE); /* HF_HUB_OFFLINE=0 is said, and wins */
  g_assert_false (vitlens_hub_env_offline ());
  g_unsetenv ("HF_HUB_OFFLINE");
  g_assert_true (vitlens_hub_env_offline ());
  g_unsetenv ("TRANSFORMERS_OFFLINE");
}

static void
test_repo_id (void)
{
  g_assert_true (vitlens_hub_is_repo_id ("timm/deit_small_patch16_224.fb_in1k"));
  g_assert_true (vitlens_hub_is_repo_id ("facebook/deit-tiny-patch16-224"));
  g_assert_false (vitlens_hub_is_repo_id ("deit_small"));         /* no ORG */
  g_assert_false (vitlens_hub_is_repo_id ("a/b/c"));              /* a path */
  g_assert_false (vitlens_hub_is_repo_id ("/abs/model"));
  g_assert_false (vitlens_hub_is_repo_id ("../model"));
  g_assert_false (vitlens_hub_is_repo_id ("org/.hidden"));
  g_assert_false (vitlens_hub_is_repo_id ("org/a--b"));
  g_assert_false (vitlens_hub_is_repo_id ("org/name.safetensors-")); /* ends with '-' */
  g_assert_false (vitlens_hub_is_repo_id (NULL));
}

/* ---------------------------------------------------------------------------------------------
 * Fetching */

/* fetch, then classify --model ORG/NAME from the cache with HF_HUB_OFFLINE=1: the fixture's
 * top-5; the layout huggingface_hub writes. */
static void
test_fetch_then_classify_offline (Fixture       *fx,
                                  gconstpointer  data)
{
  g_auto (Run) fetch = { 0 };
  g_auto (Run) again = { 0 };
  g_auto (Run) classify = { 0 };
  HubRepo *r = repo ("vitlens-test/tiny-p16");
  HubFile *weights = find_file (r, "model.safetensors");
  HubFile *config = find_file (r, "config.json");
  g_autofree char *want = fixture_top5 (fx);
  g_autofree char *snapshot = storage_path (fx, "models--vitlens-test--tiny-p16", "snapshots",
                                            r->commit, NULL);
  g_autofree char *model_link = g_build_filename (snapshot, "model.safetensors", NULL);
  g_autofree char *config_link = g_build_filename (snapshot, "config.json", NULL);
  g_autofree char *labels_link = g_build_filename (snapshot, "labels.txt", NULL);
  g_autofree char *ref = storage_path (fx, "models--vitlens-test--tiny-p16", "refs", "main", NULL);
  g_autofree char *ref_text = NULL;
  g_autofree char *target = NULL;
  g_autofree char *config_target = NULL;
  g_autofree char *target_want = g_strconcat ("../../blobs/", weights->sha256, NULL);
  g_autofree char *config_target_want = g_strconcat ("../../blobs/", config->git_sha1, NULL);
  g_autofree char *blob = storage_path (fx, "models--vitlens-test--tiny-p16", "blobs",
                                        weights->sha256, NULL);
  g_autofree char *no_exist = storage_path (fx, "models--vitlens-test--tiny-p16", ".no_exist",
                                            r->commit, "preprocessor_config.json", NULL);
  g_autofree char *image = image_path ();
  g_autofree char *got = NULL;
  g_autofree char *stdout_want = g_strconcat (snapshot, "\n", NULL);
  const char *offline[] = { "HF_HUB_OFFLINE=1", NULL };
  guint before;

  run_cli (&fetch, fx, NULL, NULL, NULL, "fetch", "vitlens-test/tiny-p16", NULL);
  g_assert_cmpint (fetch.status, ==, 0);
  g_assert_cmpstr (fetch.out, ==, stdout_want);
  g_assert_nonnull (strstr (fetch.err, "model.safetensors"));
  g_assert_nonnull (strstr (fetch.err, "not in the repository")); /* preprocessor_config.json */

  /* refs/main -> the commit; snapshot links relative into ../../blobs/; blobs by hash */
  ref_text = read_text (ref);
  g_assert_cmpstr (ref_text, ==, r->commit);
  target = g_file_read_link (model_link, NULL);
  g_assert_cmpstr (target, ==, target_want);
  config_target = g_file_read_link (config_link, NULL);
  g_assert_cmpstr (config_target, ==, config_target_want);
  g_assert_true (bytes_equal_file (weights->bytes, blob));
  g_assert_true (bytes_equal_file (weights->bytes, model_link));
  g_assert_true (g_file_test (labels_link, G_FILE_TEST_IS_SYMLINK));
  g_assert_true (g_file_test (no_exist, G_FILE_TEST_IS_REGULAR));
  g_assert_false (tree_has (fx->cache, ".incomplete"));

  /* from the cache, no network: same top-5 as the file itself, labels.txt beside it used */
  before = hub_requests ();
  run_cli (&classify, fx, NULL, NULL, offline, "classify", "--json", "--model",
           "vitlens-test/tiny-p16", image, NULL);
  g_assert_cmpint (classify.status, ==, 0);
  got = top5 (classify.out);
  g_assert_cmpstr (got, ==, want);
  g_assert_nonnull (strstr (classify.out, "\"label\": \"zero\""));
  g_assert_nonnull (strstr (classify.out, "\"model\": \"vitlens-test/tiny-p16\""));
  g_assert_cmpuint (hub_requests (), ==, before);

  /* fetched again: the hub is asked, nothing is downloaded */
  guint gets = hub_count (&hub.cdn_gets);
  run_cli (&again, fx, NULL, NULL, NULL, "fetch", "vitlens-test/tiny-p16", NULL);
  g_assert_cmpint (again.status, ==, 0);
  g_assert_nonnull (strstr (again.err, "in the cache"));
  g_assert_cmpuint (hub_count (&hub.cdn_gets), ==, gets);
  g_assert_cmpuint (hub_requests (), >, before);
}

/* A connection cut mid-file leaves blobs/ETAG.incomplete and nothing else; the next run sends
 * Range from there and completes. */
static void
test_fetch_resume (Fixture       *fx,
                   gconstpointer  data)
{
  g_auto (Run) first = { 0 };
  g_auto (Run) second = { 0 };
  HubRepo *r = repo ("vitlens-test/cut");
  HubFile *weights = find_file (r, "model.safetensors");
  gsize cut = g_bytes_get_size (weights->bytes) * 2 / 5;
  g_autofree char *blob = storage_path (fx, "models--vitlens-test--cut", "blobs", weights->sha256,
                                        NULL);
  g_autofree char *partial = g_strconcat (blob, ".incomplete", NULL);
  g_autofree char *link = storage_path (fx, "models--vitlens-test--cut", "snapshots", r->commit,
                                        "model.safetensors", NULL);
  g_autofree char *range = g_strdup_printf ("bytes=%zu-", cut);
  GStatBuf st;

  g_mutex_lock (&hub.lock);
  hub.cut_after = cut;
  g_ptr_array_set_size (hub.ranges, 0);
  g_mutex_unlock (&hub.lock);
  run_cli (&first, fx, NULL, NULL, NULL, "fetch", "--quiet", "vitlens-test/cut", NULL);
  g_assert_cmpint (first.status, ==, 1);
  g_assert_cmpuint (count_lines (first.err), ==, 1);
  g_assert_true (g_str_has_prefix (first.err, "vitlens-cli: vitlens-test/cut: model.safetensors:"));
  g_assert_nonnull (strstr (first.err, "resume"));
  g_assert_cmpint (g_stat (partial, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, (goffset) cut);
  g_assert_false (g_file_test (blob, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (link, G_FILE_TEST_EXISTS) || g_file_test (link, G_FILE_TEST_IS_SYMLINK));

  run_cli (&second, fx, NULL, NULL, NULL, "fetch", "vitlens-test/cut", NULL);
  g_assert_cmpint (second.status, ==, 0);
  g_assert_nonnull (strstr (second.err, "resumed after"));
  g_mutex_lock (&hub.lock);
  g_assert_cmpuint (hub.ranges->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (hub.ranges, 0), ==, range);
  g_mutex_unlock (&hub.lock);
  g_assert_true (bytes_equal_file (weights->bytes, blob));
  g_assert_true (bytes_equal_file (weights->bytes, link));
  g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));
}

/* A partial that is already whole (a run stopped before the rename) is checked and used with no
 * download; one of the right size but wrong bytes fails the check and is downloaded again. */
static void
test_fetch_whole_partial (Fixture       *fx,
                          gconstpointer  data)
{
  HubRepo *r = repo ("vitlens-test/cut");
  HubFile *weights = find_file (r, "model.safetensors");
  g_autofree char *blobs = storage_path (fx, "models--vitlens-test--cut", "blobs", NULL);
  g_autofree char *blob = g_build_filename (blobs, weights->sha256, NULL);
  g_autofree char *partial = g_strconcat (blob, ".incomplete", NULL);
  gsize n = g_bytes_get_size (weights->bytes);
  g_autofree char *wrong = g_malloc0 (n);

  g_assert_cmpint (g_mkdir_with_parents (blobs, 0755), ==, 0);
  for (int corrupt = 0; corrupt < 2; corrupt++)
    {
      g_auto (Run) run = { 0 };
      guint gets = hub_count (&hub.cdn_gets);

      g_unlink (blob);
      g_assert_true (g_file_set_contents (partial, corrupt ? wrong : g_bytes_get_data (weights->bytes, NULL),
                                          (gssize) n, NULL));
      run_cli (&run, fx, NULL, NULL, NULL, "fetch", "--quiet", "vitlens-test/cut", NULL);
      g_assert_cmpint (run.status, ==, 0);
      g_assert_cmpuint (hub_count (&hub.cdn_gets), ==, gets + (corrupt ? 1 : 0));
      g_assert_true (bytes_equal_file (weights->bytes, blob));
      g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));
    }
}

/* A wrong X-Linked-Etag: one line, status 1, no blob under its name, no partial, no link. */
static void
test_fetch_bad_checksum (Fixture       *fx,
                         gconstpointer  data)
{
  g_auto (Run) run = { 0 };
  g_auto (Run) classify = { 0 };
  HubRepo *r = repo ("vitlens-test/bad-sha");
  g_autofree char *blobs = storage_path (fx, "models--vitlens-test--bad-sha", "blobs", NULL);
  g_autofree char *snapshot = storage_path (fx, "models--vitlens-test--bad-sha", "snapshots",
                                            r->commit, NULL);
  g_autofree char *link = g_build_filename (snapshot, "model.safetensors", NULL);
  g_autofree char *image = image_path ();
  const char *offline[] = { "HF_HUB_OFFLINE=1", NULL };

  run_cli (&run, fx, NULL, NULL, NULL, "fetch", "--quiet", "vitlens-test/bad-sha", NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_cmpuint (count_lines (run.err), ==, 1);
  g_assert_true (g_str_has_prefix (run.err, "vitlens-cli: vitlens-test/bad-sha: model.safetensors: SHA-256 mismatch"));
  g_assert_false (tree_has (blobs, "0123456789abcdef"));
  g_assert_false (tree_has (fx->cache, ".incomplete"));
  g_assert_false (g_file_test (link, G_FILE_TEST_EXISTS) || g_file_test (link, G_FILE_TEST_IS_SYMLINK));

  /* and nothing a later run takes for the model */
  run_cli (&classify, fx, NULL, NULL, offline, "classify", "--model", "vitlens-test/bad-sha",
           image, NULL);
  g_assert_cmpint (classify.status, ==, 1);
  g_assert_nonnull (strstr (classify.err, "not in the hub cache"));
}

/* Each failure: status 1, one line naming the repository (and the file), nothing cached. */
static void
test_fetch_errors (Fixture       *fx,
                   gconstpointer  data)
{
  static const struct
  {
    const char *repo, *endpoint, *revision, *env, *line;
  } cases[] = {
    { "vitlens-test/nope", NULL, NULL, NULL,
      "vitlens-cli: vitlens-test/nope: repository not found on http://127.0.0.1:" },
    { "vitlens-test/no-weights", NULL, NULL, NULL,
      "vitlens-cli: vitlens-test/no-weights: file model.safetensors not found in the repository" },
    { "vitlens-test/gated", NULL, NULL, NULL,
      "vitlens-cli: vitlens-test/gated: config.json: access denied (HTTP 401): the repository is gated" },
    { "vitlens-test/tiny-p16", NULL, "v9", NULL,
      "vitlens-cli: vitlens-test/tiny-p16: revision 'v9' not found" },
    /* a revision with '/' travels escaped, as one path segment */
    { "vitlens-test/tiny-p16", NULL, "refs/pr/1", NULL,
      "vitlens-cli: vitlens-test/tiny-p16: revision 'refs/pr/1' not found" },
    { "vitlens-test/tiny-p16", "http://127.0.0.1:1", NULL, NULL,
      "vitlens-cli: vitlens-test/tiny-p16: config.json: no connection to 127.0.0.1" },
    { "vitlens-test/tiny-p16", NULL, NULL, "HF_HUB_OFFLINE=1",
      "vitlens-cli: vitlens-test/tiny-p16: config.json is not in the hub cache" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (Run) run = { 0 };
      const char *env[] = { cases[i].env, NULL };
      guint before = hub_requests ();

      if (cases[i].revision != NULL)
        run_cli (&run, fx, cases[i].endpoint, NULL, env, "fetch", "--quiet", "--revision",
                 cases[i].revision, cases[i].repo, NULL);
      else
        run_cli (&run, fx, cases[i].endpoint, NULL, env, "fetch", "--quiet", cases[i].repo, NULL);
      g_test_message ("%s: %s", cases[i].repo, run.err);
      g_assert_cmpint (run.status, ==, 1);
      g_assert_cmpuint (count_lines (run.err), ==, 1);
      g_assert_true (g_str_has_prefix (run.err, cases[i].line));
      g_assert_cmpstr (run.out, ==, "");
      g_assert_false (tree_has (fx->cache, "model.safetensors"));
      if (cases[i].env != NULL)
        g_assert_cmpuint (hub_requests (), ==, before);
    }
}

/* HF_TOKEN opens a gated repository; it goes to the hub, never to the CDN. */
static void
test_fetch_token (Fixture       *fx,
                  gconstpointer  data)
{
  g_auto (Run) run = { 0 };
  const char *env[] = { "HF_TOKEN=" TOKEN, NULL };

  g_mutex_lock (&hub.lock);
  hub.auth_at_hub = hub.auth_at_cdn = 0;
  g_mutex_unlock (&hub.lock);
  run_cli (&run, fx, NULL, NULL, env, "fetch", "vitlens-test/gated", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpuint (hub_count (&hub.auth_at_hub), >, 0);
  g_assert_cmpuint (hub_count (&hub.auth_at_cdn), ==, 0);
}

/* classify --model ORG/NAME with an empty cache fetches first, then classifies. */
static void
test_model_fetch_on_demand (Fixture       *fx,
                            gconstpointer  data)
{
  g_auto (Run) run = { 0 };
  g_autofree char *want = fixture_top5 (fx);
  g_autofree char *got = NULL;
  g_autofree char *image = image_path ();

  run_cli (&run, fx, NULL, NULL, NULL, "classify", "--json", "--model", "vitlens-test/on-demand",
           image, NULL);
  g_assert_cmpint (run.status, ==, 0);
  got = top5 (run.out);
  g_assert_cmpstr (got, ==, want);
  g_assert_nonnull (strstr (run.err, "model.safetensors"));
}

/* An existing path wins over a hub id of the same spelling: no request is made. */
static void
test_model_local_path_wins (Fixture       *fx,
                            gconstpointer  data)
{
  g_auto (Run) run = { 0 };
  g_autoptr (GBytes) weights = fixture_bytes ("model.safetensors");
  g_autoptr (GBytes) config = fixture_bytes ("config.json");
  g_autofree char *dir = g_build_filename (fx->dir, "localorg", NULL);
  g_autofree char *model = g_build_filename (dir, "model", NULL);
  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *want = fixture_top5 (fx);
  g_autofree char *got = NULL;
  g_autofree char *image = image_path ();
  guint before;

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (model, g_bytes_get_data (weights, NULL),
                                      (gssize) g_bytes_get_size (weights), NULL));
  g_assert_true (g_file_set_contents (config_path, g_bytes_get_data (config, NULL),
                                      (gssize) g_bytes_get_size (config), NULL));
  before = hub_requests ();
  run_cli (&run, fx, NULL, fx->dir, NULL, "classify", "--json", "--model", "localorg/model",
           image, NULL);
  g_assert_cmpint (run.status, ==, 0);
  got = top5 (run.out);
  g_assert_cmpstr (got, ==, want);
  g_assert_cmpuint (hub_requests (), ==, before);
  g_assert_false (g_file_test (fx->cache, G_FILE_TEST_EXISTS));
}

/* ---------------------------------------------------------------------------------------------
 * The cache read back */

/* What we wrote, through the library: refs/main -> snapshots/COMMIT/FILE -> blobs/ETAG; a
 * commit as the revision; a ref to a commit with no snapshot is no hit. */
static void
test_cache_layout_read (Fixture       *fx,
                        gconstpointer  data)
{
  g_autoptr (VitlensHub) h = vitlens_hub_new (hub.base, fx->cache);
  g_autoptr (GError) error = NULL;
  HubRepo *r = repo ("vitlens-test/tiny-p16");
  HubFile *weights = find_file (r, "model.safetensors");
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *by_commit = NULL;
  g_autofree char *real = NULL;
  g_autofree char *blob = NULL;
  g_autofree char *ref = storage_path (fx, "models--vitlens-test--tiny-p16", "refs", "main", NULL);
  char *missing;

  dir = vitlens_hub_fetch_model (h, "vitlens-test/tiny-p16", NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  vitlens_hub_set_offline (h, TRUE);
  path = vitlens_hub_lookup (h, "vitlens-test/tiny-p16", NULL, "model.safetensors", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (path, dir));
  real = realpath (path, NULL);
  blob = storage_path (fx, "models--vitlens-test--tiny-p16", "blobs", weights->sha256, NULL);
  g_assert_cmpstr (real, ==, blob);
  by_commit = vitlens_hub_lookup (h, "vitlens-test/tiny-p16", r->commit, "model.safetensors", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (by_commit, ==, path);

  /* main moved to a commit we do not have: not cached, and offline not fetched */
  g_assert_true (g_file_set_contents (ref, "1111111111111111111111111111111111111111", -1, NULL));
  missing = vitlens_hub_lookup (h, "vitlens-test/tiny-p16", NULL, "model.safetensors", &error);
  g_assert_null (missing);
  g_assert_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_NOT_CACHED);
  g_clear_error (&error);
  missing = vitlens_hub_model_path (h, "vitlens-test/tiny-p16", NULL, NULL, NULL, NULL, &error);
  g_assert_null (missing);
  g_assert_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_NOT_CACHED);
}

/* A cache laid out as huggingface_hub writes it (made here: blobs named by hash, relative links,
 * refs/main, .no_exist) is read offline, and online without asking the hub. */
static void
test_cache_python_layout (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr (GBytes) weights = fixture_bytes ("model.safetensors");
  g_autoptr (GBytes) config = fixture_bytes ("config.json");
  g_autofree char *sha256 = checksum_bytes (G_CHECKSUM_SHA256, NULL, weights);
  g_autofree char *header = g_strdup_printf ("blob %zu", g_bytes_get_size (config));
  g_autofree char *sha1 = checksum_bytes (G_CHECKSUM_SHA1, header, config);
  const char *commit = "0123456789abcdef0123456789abcdef01234567";
  g_autofree char *blobs = storage_path (fx, "models--pyorg--tiny", "blobs", NULL);
  g_autofree char *snapshot = storage_path (fx, "models--pyorg--tiny", "snapshots", commit, NULL);
  g_autofree char *refs = storage_path (fx, "models--pyorg--tiny", "refs", NULL);
  g_autofree char *no_exist = storage_path (fx, "models--pyorg--tiny", ".no_exist", commit, NULL);
  g_autofree char *weights_blob = g_build_filename (blobs, sha256, NULL);
  g_autofree char *config_blob = g_build_filename (blobs, sha1, NULL);
  g_autofree char *weights_link = g_build_filename (snapshot, "model.safetensors", NULL);
  g_autofree char *config_link = g_build_filename (snapshot, "config.json", NULL);
  g_autofree char *weights_target = g_strconcat ("../../blobs/", sha256, NULL);
  g_autofree char *config_target = g_strconcat ("../../blobs/", sha1, NULL);
  g_autofree char *ref = g_build_filename (refs, "main", NULL);
  g_autofree char *absent = g_build_filename (no_exist, "labels.txt", NULL);
  g_autofree char *want = fixture_top5 (fx);
  g_autofree char *image = image_path ();
  const char *offline[] = { "HF_HUB_OFFLINE=1", NULL };
  guint before;

  g_assert_cmpint (g_mkdir_with_parents (blobs, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (snapshot, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (refs, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (no_exist, 0755), ==, 0);
  g_assert_true (g_file_set_contents (weights_blob, g_bytes_get_data (weights, NULL),
                                      (gssize) g_bytes_get_size (weights), NULL));
  g_assert_true (g_file_set_contents (config_blob, g_bytes_get_data (config, NULL),
                                      (gssize) g_bytes_get_size (config), NULL));
  g_assert_cmpint (symlink (weights_target, weights_link), ==, 0);
  g_assert_cmpint (symlink (config_target, config_link), ==, 0);
  g_assert_true (g_file_set_contents (ref, commit, -1, NULL)); /* no newline, as Python writes */
  g_assert_true (g_file_set_contents (absent, "", 0, NULL));

  before = hub_requests ();
  for (int online = 0; online < 2; online++)
    {
      g_auto (Run) run = { 0 };
      g_autofree char *got = NULL;

      run_cli (&run, fx, NULL, NULL, online ? NULL : offline, "classify", "--json", "--model",
               "pyorg/tiny", image, NULL);
      g_assert_cmpint (run.status, ==, 0);
      got = top5 (run.out);
      g_assert_cmpstr (got, ==, want);
    }
  {
    /* fetch offline takes it from the cache, says so, and names the snapshot */
    g_auto (Run) run = { 0 };
    g_autofree char *line = g_strconcat (snapshot, "\n", NULL);
    run_cli (&run, fx, NULL, NULL, offline, "fetch", "pyorg/tiny", NULL);
    g_assert_cmpint (run.status, ==, 0);
    g_assert_cmpstr (run.out, ==, line);
    g_assert_nonnull (strstr (run.err, "in the cache"));
  }
  g_assert_cmpuint (hub_requests (), ==, before);
}

int
main (int    argc,
      char **argv)
{
  int status;

  if (argc == 2 && strcmp (argv[1], "--serve") == 0)
    {
      /* for a person: the same hub until interrupted, e.g.
       *   VITLENS_FIXTURES=tests/fixtures build/tests/test-hub --serve
       *   HF_ENDPOINT=<the URL printed> vitlens-cli fetch vitlens-test/tiny-p16 */
      g_assert_nonnull (g_getenv ("VITLENS_FIXTURES"));
      hub_start ();
      printf ("%s\n", hub.base);
      fflush (stdout);
      for (;;)
        pause ();
    }
  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (g_getenv ("VITLENS_FIXTURES"));

  g_test_add_func ("/hub/env/cache-dir", test_env_cache_dir);
  g_test_add_func ("/hub/env/endpoint-offline", test_env_endpoint_offline);
  g_test_add_func ("/hub/repo-id", test_repo_id);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/hub/fetch/classify-offline", test_fetch_then_classify_offline);
  ADD ("/hub/fetch/resume", test_fetch_resume);
  ADD ("/hub/fetch/whole-partial", test_fetch_whole_partial);
  ADD ("/hub/fetch/bad-checksum", test_fetch_bad_checksum);
  ADD ("/hub/fetch/errors", test_fetch_errors);
  ADD ("/hub/fetch/token", test_fetch_token);
  ADD ("/hub/model/fetch-on-demand", test_model_fetch_on_demand);
  ADD ("/hub/model/transformers-layout", test_transformers_layout);
  ADD ("/hub/model/local-path-wins", test_model_local_path_wins);
  ADD ("/hub/cache/layout-read", test_cache_layout_read);
  ADD ("/hub/cache/python-layout", test_cache_python_layout);
#undef ADD

  status = g_test_run ();
  if (hub.thread != NULL)
    hub_stop ();
  return status;
}
