/* vitlens-hub.c — model repositories from the Hugging Face Hub into the hub cache, with libsoup 3
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 * What huggingface_hub's file_download.py does for one file (hf_hub_download into the cache),
 * in the same order: HEAD for the metadata (relative redirects followed, the CDN's not: the 302
 * itself carries X-Linked-Etag and X-Linked-Size), then under .locks/…/ETAG.lock the GET into
 * blobs/ETAG.incomplete (Range from its size when a partial is there), then the rename to
 * blobs/ETAG, then the snapshot link. We also check the hash before the rename, which
 * huggingface_hub leaves to the size.
 */
#define G_LOG_DOMAIN "vitlens-hub"

#include "vitlens-hub.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#define DEFAULT_ENDPOINT "https://huggingface.co"
#define MAX_REDIRECTS    5
#define CHUNK_BYTES      (256 * 1024)

G_DEFINE_QUARK (vitlens-hub-error-quark, vitlens_hub_error)

struct _VitlensHub
{
  char        *endpoint;  /* without a trailing '/' */
  char        *cache_dir;
  char        *token;     /* NULL: none */
  gboolean     offline;
  SoupSession *session;   /* made on the first request */
};

/* The files of a model repository that vit_model_load() reads beside model.safetensors. */
static const struct
{
  const char *name;
  gboolean    optional;
} model_files[] = {
  { "config.json", FALSE }, /* first: small, so a wrong or gated repository fails fast */
  { "model.safetensors", FALSE },
  { "preprocessor_config.json", TRUE },
  { "labels.txt", TRUE },
};

/* ---------------------------------------------------------------------------------------------
 * The environment (huggingface_hub's constants.py) */

static char *
expand_home (const char *path)
{
  if (path[0] == '~' && (path[1] == '\0' || path[1] == '/'))
    return g_strconcat (g_get_home_dir (), path + 1, NULL);
  return g_strdup (path);
}

/* An environment variable, NULL when unset or empty. */
static const char *
env (const char *name)
{
  const char *value = g_getenv (name);
  return value != NULL && value[0] != '\0' ? value : NULL;
}

char *
vitlens_hub_default_cache_dir (void)
{
  const char *dir = env ("HF_HUB_CACHE");
  g_autofree char *home = NULL;

  if (dir == NULL)
    dir = env ("HUGGINGFACE_HUB_CACHE");
  if (dir != NULL)
    return expand_home (dir);

  if (env ("HF_HOME") != NULL)
    {
      home = expand_home (env ("HF_HOME"));
    }
  else
    {
      g_autofree char *cache = env ("XDG_CACHE_HOME") != NULL
                                 ? g_strdup (env ("XDG_CACHE_HOME"))
                                 : g_build_filename (g_get_home_dir (), ".cache", NULL);
      g_autofree char *joined = g_build_filename (cache, "huggingface", NULL);
      home = expand_home (joined);
    }
  return g_build_filename (home, "hub", NULL);
}

static char *
strip_slashes (const char *url)
{
  char *copy = g_strdup (url);
  gsize n = strlen (copy);

  while (n > 0 && copy[n - 1] == '/')
    copy[--n] = '\0';
  return copy;
}

char *
vitlens_hub_default_endpoint (void)
{
  return strip_slashes (env ("HF_ENDPOINT") != NULL ? env ("HF_ENDPOINT") : DEFAULT_ENDPOINT);
}

static gboolean
is_true (const char *value)
{
  static const char *const yes[] = { "1", "ON", "YES", "TRUE" };

  for (gsize i = 0; value != NULL && i < G_N_ELEMENTS (yes); i++)
    if (g_ascii_strcasecmp (value, yes[i]) == 0)
      return TRUE;
  return FALSE;
}

gboolean
vitlens_hub_env_offline (void)
{
  const char *value = env ("HF_HUB_OFFLINE");

  return is_true (value != NULL ? value : g_getenv ("TRANSFORMERS_OFFLINE"));
}

/* ---------------------------------------------------------------------------------------------
 * Names: what may become a path in the cache */

static gboolean
is_word_char (char c)
{
  return g_ascii_isalnum (c) || c == '_';
}

static gboolean
is_repo_part (const char *part,
              gsize       n)
{
  if (n == 0 || !is_word_char (part[0]) || !is_word_char (part[n - 1]))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!is_word_char (part[i]) && part[i] != '-' && part[i] != '.')
      return FALSE;
  return TRUE;
}

gboolean
vitlens_hub_is_repo_id (const char *text)
{
  const char *slash = text != NULL ? strchr (text, '/') : NULL;
  gsize n;

  if (slash == NULL)
    return FALSE;
  n = strlen (text);
  return n <= 96 && strstr (text, "--") == NULL && strstr (text, "..") == NULL
         && is_repo_part (text, (gsize) (slash - text))
         && is_repo_part (slash + 1, n - (gsize) (slash + 1 - text));
}

static gboolean
is_hex (const char *text,
        gsize       n)
{
  if (text == NULL || strlen (text) != n)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isxdigit (text[i]))
      return FALSE;
  return TRUE;
}

/* A commit hash as huggingface_hub's REGEX_COMMIT_HASH has it: 40 lowercase hex digits. */
static gboolean
is_commit (const char *text)
{
  if (!is_hex (text, 40))
    return FALSE;
  for (const char *p = text; *p; p++)
    if (g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

/* A branch, tag or commit: it names refs/REVISION, so no "..", no component beginning with '.',
 * no empty component; '/' as in "refs/pr/1". */
static gboolean
is_revision (const char *text)
{
  gsize n = strlen (text);

  if (n == 0 || n > 255 || text[0] == '.' || text[0] == '/' || text[n - 1] == '/'
      || strstr (text, "/.") != NULL || strstr (text, "//") != NULL)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (text[i]) && strchr ("._-/", text[i]) == NULL)
      return FALSE;
  return TRUE;
}

/* An ETag as a blob's file name: what the hub sends (hex digests), nothing that walks paths. */
static gboolean
is_etag (const char *text)
{
  gsize n = text != NULL ? strlen (text) : 0;

  if (n == 0 || n > 128)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (text[i]) && text[i] != '-' && text[i] != '_')
      return FALSE;
  return TRUE;
}

/* huggingface_hub's _normalize_etag: W/"x" and "x" are both x. */
static char *
normalize_etag (const char *etag)
{
  gsize n;

  if (etag == NULL)
    return NULL;
  if (g_str_has_prefix (etag, "W/"))
    etag += 2;
  while (*etag == '"')
    etag++;
  n = strlen (etag);
  while (n > 0 && etag[n - 1] == '"')
    n--;
  return g_strndup (etag, n);
}

static gboolean
check_names (const char  *repo,
             const char  *revision,
             GError     **error)
{
  if (!vitlens_hub_is_repo_id (repo))
    {
      g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_INVALID,
                   "'%s' is not a hub repository id (ORG/NAME)", repo);
      return FALSE;
    }
  if (!is_revision (revision))
    {
      g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_INVALID,
                   "%s: '%s' is not a revision (a branch, tag or commit)", repo, revision);
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * VitlensHub */

VitlensHub *
vitlens_hub_new (const char *endpoint,
                 const char *cache_dir)
{
  VitlensHub *hub = g_new0 (VitlensHub, 1);

  hub->endpoint = endpoint != NULL ? strip_slashes (endpoint) : vitlens_hub_default_endpoint ();
  hub->cache_dir = cache_dir != NULL ? g_strdup (cache_dir) : vitlens_hub_default_cache_dir ();
  return hub;
}

VitlensHub *
vitlens_hub_new_from_env (void)
{
  VitlensHub *hub = vitlens_hub_new (NULL, NULL);
  const char *token = env ("HF_TOKEN");

  hub->offline = vitlens_hub_env_offline ();
  vitlens_hub_set_token (hub, token != NULL ? token : env ("HUGGING_FACE_HUB_TOKEN"));
  return hub;
}

void
vitlens_hub_free (VitlensHub *hub)
{
  if (hub == NULL)
    return;
  g_clear_object (&hub->session);
  g_free (hub->endpoint);
  g_free (hub->cache_dir);
  g_free (hub->token);
  g_free (hub);
}

void
vitlens_hub_set_offline (VitlensHub *hub,
                         gboolean    offline)
{
  hub->offline = offline;
}

gboolean
vitlens_hub_get_offline (VitlensHub *hub)
{
  return hub->offline;
}

void
vitlens_hub_set_token (VitlensHub *hub,
                       const char *token)
{
  g_free (hub->token);
  hub->token = g_strdup (token);
}

const char *
vitlens_hub_get_cache_dir (VitlensHub *hub)
{
  return hub->cache_dir;
}

const char *
vitlens_hub_get_endpoint (VitlensHub *hub)
{
  return hub->endpoint;
}

/* ---------------------------------------------------------------------------------------------
 * The cache */

/* CACHE/models--ORG--NAME */
static char *
storage_dir (VitlensHub *hub,
             const char *repo)
{
  g_auto (GStrv) parts = g_strsplit (repo, "/", 2);
  g_autofree char *folder = g_strconcat ("models--", parts[0], "--", parts[1], NULL);

  return g_build_filename (hub->cache_dir, folder, NULL);
}

/* The commit REVISION names: itself when it is one, else what refs/REVISION holds. */
static char *
read_commit (const char *storage,
             const char *revision)
{
  g_autofree char *ref = NULL;
  g_autofree char *text = NULL;

  if (is_commit (revision))
    return g_strdup (revision);
  ref = g_build_filename (storage, "refs", revision, NULL);
  if (!g_file_get_contents (ref, &text, NULL, NULL))
    return NULL;
  g_strstrip (text);
  return is_commit (text) ? g_steal_pointer (&text) : NULL;
}

/* snapshots/COMMIT/FILE when it leads to a file (through its link). */
static char *
cached_file (const char *storage,
             const char *commit,
             const char *file)
{
  g_autofree char *path = g_build_filename (storage, "snapshots", commit, file, NULL);

  return g_file_test (path, G_FILE_TEST_IS_REGULAR) ? g_steal_pointer (&path) : NULL;
}

/* "cannot VERB PATH: <errno's text>" as a VITLENS_HUB_ERROR_CACHE. Returns FALSE. */
static gboolean
set_cache_error (GError     **error,
                 const char  *verb,
                 const char  *path)
{
  int saved = errno;

  g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_CACHE, "cannot %s %s: %s", verb, path,
               g_strerror (saved));
  return FALSE;
}

static gboolean
make_dir (const char  *dir,
          GError     **error)
{
  return g_mkdir_with_parents (dir, 0777) == 0 || set_cache_error (error, "create", dir);
}

/* refs/REVISION = COMMIT (atomically), unless REVISION is that commit. */
static gboolean
write_ref (const char  *storage,
           const char  *revision,
           const char  *commit,
           GError     **error)
{
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *old = NULL;
  g_autoptr (GError) local = NULL;

  if (strcmp (revision, commit) == 0)
    return TRUE;
  path = g_build_filename (storage, "refs", revision, NULL);
  dir = g_path_get_dirname (path);
  old = read_commit (storage, revision);
  if (g_strcmp0 (old, commit) == 0)
    return TRUE;
  if (!make_dir (dir, error))
    return FALSE;
  if (!g_file_set_contents (path, commit, -1, &local))
    {
      g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_CACHE, "%s", local->message);
      return FALSE;
    }
  return TRUE;
}

/* .no_exist/COMMIT/FILE, as huggingface_hub records a file the repository does not have. */
static void
mark_absent (const char *storage,
             const char *commit,
             const char *file)
{
  g_autofree char *path = g_build_filename (storage, ".no_exist", commit, file, NULL);
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0777) == 0)
    g_file_set_contents (path, "", 0, NULL);
}

/* snapshots/COMMIT/FILE -> ../../blobs/ETAG (relative, so the cache can move), made under a
 * temporary name and renamed over whatever was there. */
static gboolean
link_snapshot (const char  *pointer,
               const char  *file,
               const char  *etag,
               GError     **error)
{
  g_autoptr (GString) target = g_string_new (NULL);
  g_autofree char *tmp = g_strdup_printf ("%s.%d.tmp", pointer, (int) getpid ());

  for (const char *p = file; *p; p++)
    if (*p == '/')
      g_string_append (target, "../");
  g_string_append_printf (target, "../../blobs/%s", etag);
  g_unlink (tmp);
  if (symlink (target->str, tmp) == 0 && g_rename (tmp, pointer) == 0)
    return TRUE;
  set_cache_error (error, "link", pointer);
  g_unlink (tmp);
  return FALSE;
}

/* .locks/models--ORG--NAME/ETAG.lock, flock()ed as Python's filelock does, so a vitlens-cli and
 * a Python process never write one blob at once. Returns the descriptor, or -1. */
static int
lock_blob (VitlensHub    *hub,
           const char    *storage,
           const char    *etag,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree char *folder = g_path_get_basename (storage);
  g_autofree char *dir = g_build_filename (hub->cache_dir, ".locks", folder, NULL);
  g_autofree char *name = g_strconcat (etag, ".lock", NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd;

  if (!make_dir (dir, error))
    return -1;
  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      set_cache_error (error, "open", path);
      return -1;
    }
  while (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      if (errno != EWOULDBLOCK && errno != EINTR)
        {
          set_cache_error (error, "lock", path);
          close (fd);
          return -1;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          close (fd);
          return -1;
        }
      g_usleep (100 * 1000); /* another process is writing this blob */
    }
  return fd;
}

char *
vitlens_hub_lookup (VitlensHub  *hub,
                    const char  *repo,
                    const char  *revision,
                    const char  *file,
                    GError     **error)
{
  g_autofree char *storage = NULL;
  g_autofree char *commit = NULL;
  char *path;

  revision = revision != NULL ? revision : "main";
  if (!check_names (repo, revision, error))
    return NULL;
  storage = storage_dir (hub, repo);
  commit = read_commit (storage, revision);
  path = commit != NULL ? cached_file (storage, commit, file) : NULL;
  if (path == NULL)
    g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_NOT_CACHED,
                 "%s: %s%s%s is not in the hub cache (%s)", repo, file,
                 strcmp (revision, "main") != 0 ? " at " : "",
                 strcmp (revision, "main") != 0 ? revision : "", hub->cache_dir);
  return path;
}

/* ---------------------------------------------------------------------------------------------
 * HTTP */

static SoupSession *
get_session (VitlensHub *hub)
{
  if (hub->session == NULL)
    {
      /* a trailing space: libsoup appends its own name and version */
      hub->session = soup_session_new_with_options ("user-agent", "vitlens ", "timeout", 60, NULL);
      /* the bytes as stored: their hash is what the hub names */
      soup_session_remove_feature_by_type (hub->session, SOUP_TYPE_CONTENT_DECODER);
    }
  return hub->session;
}

static gboolean
is_endpoint_host (VitlensHub *hub,
                  GUri       *uri)
{
  g_autoptr (GUri) endpoint = g_uri_parse (hub->endpoint, G_URI_FLAGS_SCHEME_NORMALIZE, NULL);
  g_autoptr (GUri) normal = g_uri_parse_relative (uri, "", G_URI_FLAGS_SCHEME_NORMALIZE, NULL);

  return endpoint != NULL && normal != NULL
         && g_strcmp0 (g_uri_get_scheme (endpoint), g_uri_get_scheme (normal)) == 0
         && g_ascii_strcasecmp (g_uri_get_host (endpoint), g_uri_get_host (normal)) == 0
         && g_uri_get_port (endpoint) == g_uri_get_port (normal);
}

/* Send METHOD URL (from byte range_from on, when not 0) and follow redirects: every one for the
 * bytes; for the metadata only relative ones (a renamed repository), as huggingface_hub does, so
 * the hub's own 302 with X-Linked-Etag is what we read. The token goes to the endpoint's host
 * only. Returns the final response's body and the message in *out. */
static GInputStream *
send_request (VitlensHub    *hub,
              const char    *method,
              const char    *url,
              gboolean       follow_all,
              guint64        range_from,
              SoupMessage  **out,
              const char    *repo,
              const char    *file,
              GCancellable  *cancellable,
              GError       **error)
{
  /* ENCODED: a revision such as refs/pr/1 travels as refs%2Fpr%2F1 */
  GUri *uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);

  if (uri == NULL)
    {
      g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_PROTOCOL,
                   "%s: %s: '%s' is not a URL (HF_ENDPOINT?)", repo, file, url);
      return NULL;
    }
  for (int hop = 0;; hop++)
    {
      g_autoptr (SoupMessage) msg = soup_message_new_from_uri (method, uri);
      SoupMessageHeaders *request = soup_message_get_request_headers (msg);
      g_autoptr (GInputStream) body = NULL;
      g_autoptr (GError) local = NULL;
      const char *location;

      soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
      soup_message_headers_replace (request, "Accept-Encoding", "identity");
      if (range_from > 0)
        soup_message_headers_set_range (request, (goffset) range_from, -1);
      if (hub->token != NULL && is_endpoint_host (hub, uri))
        {
          g_autofree char *auth = g_strconcat ("Bearer ", hub->token, NULL);
          soup_message_headers_replace (request, "Authorization", auth);
        }

      body = soup_session_send (get_session (hub), msg, cancellable, &local);
      if (body == NULL)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local));
          else
            g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_NETWORK,
                         "%s: %s: no connection to %s (%s)", repo, file, g_uri_get_host (uri),
                         local->message);
          g_uri_unref (uri);
          return NULL;
        }

      location = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                               "Location");
      if (SOUP_STATUS_IS_REDIRECTION (soup_message_get_status (msg)) && location != NULL
          && hop < MAX_REDIRECTS
          && (follow_all || (g_uri_peek_scheme (location) == NULL && !g_str_has_prefix (location, "//"))))
        {
          GUri *next = g_uri_parse_relative (uri, location, G_URI_FLAGS_ENCODED, NULL);

          if (next != NULL)
            {
              g_input_stream_close (body, NULL, NULL);
              g_uri_unref (uri);
              uri = next;
              continue;
            }
        }
      g_uri_unref (uri);
      *out = g_steal_pointer (&msg);
      return g_steal_pointer (&body);
    }
}

/* An error status as one line naming the repository and the file; the hub's X-Error-Code tells
 * a missing repository, revision and file apart (huggingface_hub's hf_raise_for_status). */
static void
set_http_error (GError      **error,
                VitlensHub   *hub,
                SoupMessage  *msg,
                const char   *repo,
                const char   *revision,
                const char   *file)
{
  guint status = soup_message_get_status (msg);
  const char *code = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                   "X-Error-Code");

  if (g_strcmp0 (code, "RepoNotFound") == 0)
    g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_REPO_NOT_FOUND,
                 "%s: repository not found on %s (HTTP %u; check the name, and a private one needs HF_TOKEN)",
                 repo, hub->endpoint, status);
  else if (g_strcmp0 (code, "RevisionNotFound") == 0)
    g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_REVISION_NOT_FOUND,
                 "%s: revision '%s' not found (HTTP %u)", repo, revision, status);
  else if (g_strcmp0 (code, "EntryNotFound") == 0)
    g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_ENTRY_NOT_FOUND,
                 "%s: file %s not found in the repository (revision %s, HTTP %u)", repo, file,
                 revision, status);
  else if (g_strcmp0 (code, "GatedRepo") == 0 || status == SOUP_STATUS_UNAUTHORIZED
           || status == SOUP_STATUS_FORBIDDEN)
    g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_UNAUTHORIZED,
                 "%s: %s: access denied (HTTP %u): the repository is gated or private; %s", repo,
                 file, status,
                 hub->token != NULL ? "HF_TOKEN was not accepted for it"
                                    : "accept its terms on the hub and set HF_TOKEN");
  else if (status == SOUP_STATUS_NOT_FOUND)
    g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_ENTRY_NOT_FOUND,
                 "%s: %s not found (HTTP 404: no such repository, revision or file)", repo, file);
  else
    g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_PROTOCOL, "%s: %s: HTTP %u %s", repo,
                 file, status, soup_message_get_reason_phrase (msg));
}

typedef struct
{
  char   *commit;   /* X-Repo-Commit */
  char   *etag;     /* X-Linked-Etag or ETag, normalized */
  char   *location; /* where the bytes are: the CDN for a large file */
  gint64  size;     /* X-Linked-Size or Content-Length; -1 when not said */
} FileMeta;

static void
file_meta_clear (FileMeta *meta)
{
  g_free (meta->commit);
  g_free (meta->etag);
  g_free (meta->location);
}

/* huggingface_hub's get_hf_file_metadata. meta->commit is set from an error answer too (for
 * .no_exist). */
static gboolean
get_metadata (VitlensHub    *hub,
              const char    *repo,
              const char    *revision,
              const char    *file,
              FileMeta      *meta,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autofree char *rev = g_uri_escape_string (revision, NULL, FALSE);
  g_autofree char *url = g_strdup_printf ("%s/%s/resolve/%s/%s", hub->endpoint, repo, rev, file);
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) body = NULL;
  SoupMessageHeaders *headers;
  const char *commit, *size, *location;
  guint status;

  body = send_request (hub, "HEAD", url, FALSE, 0, &msg, repo, file, cancellable, error);
  if (body == NULL)
    return FALSE;
  g_input_stream_close (body, NULL, NULL);
  headers = soup_message_get_response_headers (msg);
  status = soup_message_get_status (msg);

  commit = soup_message_headers_get_one (headers, "X-Repo-Commit");
  meta->commit = is_commit (commit) ? g_strdup (commit) : NULL;
  if (!SOUP_STATUS_IS_SUCCESSFUL (status) && !SOUP_STATUS_IS_REDIRECTION (status))
    {
      set_http_error (error, hub, msg, repo, revision, file);
      return FALSE;
    }

  meta->etag = normalize_etag (soup_message_headers_get_one (headers, "X-Linked-Etag"));
  if (meta->etag == NULL)
    meta->etag = normalize_etag (soup_message_headers_get_one (headers, "ETag"));
  if (meta->commit == NULL || !is_etag (meta->etag))
    {
      g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_PROTOCOL,
                   "%s: %s: the server at %s gave no %s (is HF_ENDPOINT a hub?)", repo, file,
                   hub->endpoint, meta->commit == NULL ? "commit (X-Repo-Commit)" : "usable ETag");
      return FALSE;
    }

  size = soup_message_headers_get_one (headers, "X-Linked-Size");
  meta->size = -1;
  if (size != NULL)
    {
      guint64 n;
      if (g_ascii_string_to_unsigned (size, 10, 0, G_MAXINT64, &n, NULL))
        meta->size = (gint64) n;
    }
  else if (status == SOUP_STATUS_OK
           && soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
    {
      meta->size = soup_message_headers_get_content_length (headers);
    }

  location = soup_message_headers_get_one (headers, "Location");
  if (SOUP_STATUS_IS_REDIRECTION (status) && location != NULL)
    {
      g_autoptr (GUri) target = g_uri_parse_relative (soup_message_get_uri (msg), location,
                                                      G_URI_FLAGS_ENCODED, NULL);
      if (target != NULL)
        meta->location = g_uri_to_string (target);
    }
  if (meta->location == NULL)
    meta->location = g_uri_to_string (soup_message_get_uri (msg));
  return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * Downloading and checking one blob */

typedef struct
{
  VitlensHubProgressFunc func;
  gpointer               user_data;
  VitlensHubProgress     p;
} Report;

static void
report (Report              *r,
        VitlensHubFileState  state)
{
  r->p.state = state;
  if (r->func != NULL)
    r->func (&r->p, r->user_data);
}

static gboolean
write_all (int           fd,
           const guint8 *data,
           gsize         n)
{
  while (n > 0)
    {
      ssize_t w = write (fd, data, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return FALSE;
      data += w;
      n -= (gsize) w;
    }
  return TRUE;
}

/* The bytes into PARTIAL (blobs/ETAG.incomplete), from its current size on when it has some
 * (Range); a cut leaves it for the next run. */
static gboolean
download (VitlensHub      *hub,
          const FileMeta  *meta,
          const char      *partial,
          Report          *r,
          GCancellable    *cancellable,
          GError         **error)
{
  const char *repo = r->p.repo, *file = r->p.file;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) body = NULL;
  g_autofree guint8 *buf = NULL;
  GStatBuf st;
  guint64 have = g_stat (partial, &st) == 0 ? (guint64) st.st_size : 0;
  guint status;
  int fd;

  if (meta->size >= 0 && have > (guint64) meta->size)
    {
      g_unlink (partial);
      have = 0;
    }
  r->p.resumed = r->p.received = have;
  r->p.total = meta->size >= 0 ? (guint64) meta->size : 0;
  if (meta->size >= 0 && have == (guint64) meta->size)
    {
      report (r, VITLENS_HUB_FILE_STARTED);
      return TRUE; /* a complete partial from an earlier run: only the check is left */
    }

  body = send_request (hub, "GET", meta->location, TRUE, have, &msg, repo, file, cancellable,
                       error);
  if (body == NULL)
    return FALSE;
  status = soup_message_get_status (msg);
  if (status == SOUP_STATUS_PARTIAL_CONTENT)
    {
      goffset start, end, total;
      if (!soup_message_headers_get_content_range (soup_message_get_response_headers (msg),
                                                   &start, &end, &total)
          || start != (goffset) have)
        {
          g_unlink (partial);
          g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_PROTOCOL,
                       "%s: %s: the server resumed at another byte than asked; run again",
                       repo, file);
          return FALSE;
        }
    }
  else if (status == SOUP_STATUS_OK)
    {
      have = 0; /* the whole file (the server ignored Range) */
      r->p.resumed = r->p.received = 0;
    }
  else
    {
      /* the hub answered the HEAD a moment ago: this is the CDN (an expired link: 403) */
      if (status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE)
        g_unlink (partial);
      g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_PROTOCOL,
                   "%s: %s: HTTP %u %s from %s; run again", repo, file, status,
                   soup_message_get_reason_phrase (msg), g_uri_get_host (soup_message_get_uri (msg)));
      return FALSE;
    }

  fd = g_open (partial, O_WRONLY | O_CREAT | O_CLOEXEC | (have > 0 ? O_APPEND : O_TRUNC), 0666);
  if (fd < 0)
    {
      set_cache_error (error, "write", partial);
      return FALSE;
    }
  report (r, VITLENS_HUB_FILE_STARTED);
  buf = g_malloc (CHUNK_BYTES);
  for (;;)
    {
      g_autoptr (GError) local = NULL;
      gssize n = g_input_stream_read (body, buf, CHUNK_BYTES, cancellable, &local);

      if (n == 0)
        break;
      if (n < 0)
        {
          g_autofree char *got = g_format_size (have);
          g_autofree char *want = g_format_size ((guint64) MAX (meta->size, 0));
          close (fd);
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local));
          else
            g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_NETWORK,
                         "%s: %s: the connection broke after %s%s%s (%s); run again to resume",
                         repo, file, got, meta->size >= 0 ? " of " : "",
                         meta->size >= 0 ? want : "", local->message);
          return FALSE;
        }
      if (!write_all (fd, buf, (gsize) n))
        {
          set_cache_error (error, "write", partial);
          close (fd);
          return FALSE;
        }
      have += (guint64) n;
      if (meta->size >= 0 && have > (guint64) meta->size)
        {
          close (fd);
          g_unlink (partial);
          g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_CHECKSUM,
                       "%s: %s: more bytes than the %" G_GINT64_FORMAT " the hub announced; nothing was kept",
                       repo, file, meta->size);
          return FALSE;
        }
      r->p.received = have;
      report (r, VITLENS_HUB_FILE_RECEIVING);
    }
  if (fsync (fd) != 0) /* on disk before it can be renamed into place */
    {
      set_cache_error (error, "write", partial);
      close (fd);
      return FALSE;
    }
  if (close (fd) != 0)
    return set_cache_error (error, "write", partial);
  if (meta->size >= 0 && have < (guint64) meta->size)
    {
      g_autofree char *got = g_format_size (have);
      g_autofree char *want = g_format_size ((guint64) meta->size);
      g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_NETWORK,
                   "%s: %s: the connection closed after %s of %s; run again to resume", repo,
                   file, got, want);
      return FALSE;
    }
  return TRUE;
}

/* PATH against the ETag: a 64-digit one is the SHA-256 of an LFS file, a 40-digit one the git
 * blob SHA-1 of a small file (sha1("blob SIZE\0" + bytes)); any other only against the size. */
static gboolean
verify (const char  *path,
        const char  *etag,
        gint64       size,
        Report      *r,
        GError     **error)
{
  gboolean sha256 = is_hex (etag, 64), git_sha1 = is_hex (etag, 40);
  g_autoptr (GChecksum) sum = NULL;
  g_autofree guint8 *buf = NULL;
  struct stat st;
  ssize_t n;
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0 || fstat (fd, &st) != 0)
    {
      set_cache_error (error, "read", path);
      if (fd >= 0)
        close (fd);
      return FALSE;
    }
  if (size >= 0 && st.st_size != size)
    {
      close (fd);
      g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_CHECKSUM,
                   "%s: %s: %lld bytes where the hub announced %" G_GINT64_FORMAT, r->p.repo,
                   r->p.file, (long long) st.st_size, size);
      return FALSE;
    }
  if (!sha256 && !git_sha1)
    {
      close (fd);
      return TRUE;
    }

  sum = g_checksum_new (sha256 ? G_CHECKSUM_SHA256 : G_CHECKSUM_SHA1);
  if (git_sha1)
    {
      g_autofree char *header = g_strdup_printf ("blob %lld", (long long) st.st_size);
      g_checksum_update (sum, (const guchar *) header, (gssize) strlen (header) + 1);
    }
  buf = g_malloc (CHUNK_BYTES);
  while ((n = read (fd, buf, CHUNK_BYTES)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_cache_error (error, "read", path);
          close (fd);
          return FALSE;
        }
      g_checksum_update (sum, buf, n);
    }
  close (fd);
  if (g_ascii_strcasecmp (g_checksum_get_string (sum), etag) != 0)
    {
      g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_CHECKSUM,
                   "%s: %s: %s mismatch (got %s, the hub says %s); nothing was kept", r->p.repo,
                   r->p.file, sha256 ? "SHA-256" : "git SHA-1", g_checksum_get_string (sum),
                   etag);
      return FALSE;
    }
  return TRUE;
}

/* blobs/ETAG from the hub: downloaded (resumed), checked, then renamed into place. A check that
 * fails removes the partial; when it had been resumed, the whole file is downloaded once more. */
static gboolean
download_blob (VitlensHub      *hub,
               const FileMeta  *meta,
               const char      *blob,
               Report          *r,
               GCancellable    *cancellable,
               GError         **error)
{
  g_autofree char *partial = g_strconcat (blob, ".incomplete", NULL);

  for (int attempt = 0;; attempt++)
    {
      g_autoptr (GError) local = NULL;

      if (!download (hub, meta, partial, r, cancellable, error))
        return FALSE;
      if (verify (partial, meta->etag, meta->size, r, &local))
        break;
      g_unlink (partial);
      if (r->p.resumed == 0 || attempt > 0
          || !g_error_matches (local, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_CHECKSUM))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  if (g_rename (partial, blob) != 0)
    {
      set_cache_error (error, "rename", partial);
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * Files and models */

/* FILE of REPO at REVISION from the cache (offline). */
static gboolean
fetch_cached (VitlensHub  *hub,
              const char  *revision,
              gboolean     optional,
              char       **path,
              char       **commit,
              Report      *r,
              GError     **error)
{
  g_autofree char *storage = storage_dir (hub, r->p.repo);
  g_autofree char *found = NULL;
  GStatBuf st;

  *commit = read_commit (storage, revision);
  found = *commit != NULL ? cached_file (storage, *commit, r->p.file) : NULL;
  if (found != NULL)
    {
      r->p.received = r->p.total = g_stat (found, &st) == 0 ? (guint64) st.st_size : 0;
      report (r, VITLENS_HUB_FILE_CACHED);
      *path = g_steal_pointer (&found);
      return TRUE;
    }
  if (optional)
    {
      report (r, VITLENS_HUB_FILE_ABSENT);
      return TRUE;
    }
  g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_NOT_CACHED,
               "%s: %s is not in the hub cache (%s) and the hub is offline (HF_HUB_OFFLINE)",
               r->p.repo, r->p.file, hub->cache_dir);
  return FALSE;
}

/* FILE of REPO at REVISION into the cache. *path: its snapshot path, NULL when an optional file
 * is absent; *commit: the commit the hub named (NULL when it named none). */
static gboolean
fetch_one (VitlensHub    *hub,
           const char    *revision,
           gboolean       optional,
           char         **path,
           char         **commit,
           Report        *r,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree char *storage = storage_dir (hub, r->p.repo);
  g_autofree char *blob = NULL;
  g_autofree char *pointer = NULL;
  g_autofree char *blobs_dir = NULL;
  g_autofree char *pointer_dir = NULL;
  g_autoptr (GError) local = NULL;
  FileMeta meta = { 0 };
  VitlensHubFileState state = VITLENS_HUB_FILE_CACHED;
  gboolean ok = TRUE;
  int lock = -1;

  *path = *commit = NULL;
  if (hub->offline)
    return fetch_cached (hub, revision, optional, path, commit, r, error);

  if (!get_metadata (hub, r->p.repo, revision, r->p.file, &meta, cancellable, &local))
    {
      *commit = g_steal_pointer (&meta.commit);
      file_meta_clear (&meta);
      if (optional && g_error_matches (local, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_ENTRY_NOT_FOUND))
        {
          if (*commit != NULL)
            mark_absent (storage, *commit, r->p.file);
          report (r, VITLENS_HUB_FILE_ABSENT);
          return TRUE;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  *commit = g_strdup (meta.commit);

  blobs_dir = g_build_filename (storage, "blobs", NULL);
  blob = g_build_filename (blobs_dir, meta.etag, NULL);
  pointer = g_build_filename (storage, "snapshots", meta.commit, r->p.file, NULL);
  pointer_dir = g_path_get_dirname (pointer);
  r->p.received = r->p.total = meta.size >= 0 ? (guint64) meta.size : 0;
  if (g_file_test (pointer, G_FILE_TEST_IS_REGULAR))
    {
      report (r, VITLENS_HUB_FILE_CACHED);
      *path = g_steal_pointer (&pointer);
      file_meta_clear (&meta);
      return TRUE;
    }
  if (!make_dir (blobs_dir, error) || !make_dir (pointer_dir, error)
      || (lock = lock_blob (hub, storage, meta.etag, cancellable, error)) < 0)
    {
      file_meta_clear (&meta);
      return FALSE;
    }
  /* another process may have written it while we waited for the lock */
  if (!g_file_test (blob, G_FILE_TEST_IS_REGULAR))
    {
      ok = download_blob (hub, &meta, blob, r, cancellable, error);
      state = VITLENS_HUB_FILE_DONE;
    }
  ok = ok && link_snapshot (pointer, r->p.file, meta.etag, error);
  close (lock);
  file_meta_clear (&meta);
  if (!ok)
    return FALSE;
  report (r, state);
  *path = g_steal_pointer (&pointer);
  return TRUE;
}

char *
vitlens_hub_fetch_file (VitlensHub              *hub,
                        const char              *repo,
                        const char              *revision,
                        const char              *file,
                        VitlensHubProgressFunc   progress,
                        gpointer                 user_data,
                        GCancellable            *cancellable,
                        GError                 **error)
{
  Report r = { progress, user_data, { .repo = repo, .file = file } };
  g_autofree char *storage = NULL;
  g_autofree char *commit = NULL;
  g_autofree char *path = NULL;

  revision = revision != NULL ? revision : "main";
  if (!check_names (repo, revision, error))
    return NULL;
  storage = storage_dir (hub, repo);
  if (!fetch_one (hub, revision, FALSE, &path, &commit, &r, cancellable, error))
    return NULL;
  if (!hub->offline && !write_ref (storage, revision, commit, error))
    return NULL;
  return g_steal_pointer (&path);
}

char *
vitlens_hub_fetch_model (VitlensHub              *hub,
                         const char              *repo,
                         const char              *revision,
                         VitlensHubProgressFunc   progress,
                         gpointer                 user_data,
                         GCancellable            *cancellable,
                         GError                 **error)
{
  g_autofree char *storage = NULL;
  g_autofree char *commit = NULL;

  revision = revision != NULL ? revision : "main";
  if (!check_names (repo, revision, error))
    return NULL;
  storage = storage_dir (hub, repo);
  for (gsize i = 0; i < G_N_ELEMENTS (model_files); i++)
    {
      Report r = { progress, user_data, { .repo = repo, .file = model_files[i].name } };
      g_autofree char *path = NULL;
      g_autofree char *named = NULL;

      /* the first file fixes the commit; the others come from that commit, even if the
       * branch moves meanwhile (as snapshot_download does) */
      if (!fetch_one (hub, commit != NULL ? commit : revision, model_files[i].optional, &path,
                      &named, &r, cancellable, error))
        return NULL;
      if (commit == NULL)
        commit = g_steal_pointer (&named);
    }
  if (!hub->offline && !write_ref (storage, revision, commit, error))
    return NULL;
  return g_build_filename (storage, "snapshots", commit, NULL);
}

char *
vitlens_hub_model_path (VitlensHub              *hub,
                        const char              *repo,
                        const char              *revision,
                        VitlensHubProgressFunc   progress,
                        gpointer                 user_data,
                        GCancellable            *cancellable,
                        GError                 **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *dir = NULL;
  char *path = vitlens_hub_lookup (hub, repo, revision, "model.safetensors", &local);

  if (path != NULL)
    return path;
  if (!g_error_matches (local, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_NOT_CACHED))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (hub->offline)
    {
      g_set_error (error, VITLENS_HUB_ERROR, VITLENS_HUB_ERROR_NOT_CACHED,
                   "%s is not in the hub cache (%s), and the hub is offline (HF_HUB_OFFLINE)",
                   repo, hub->cache_dir);
      return NULL;
    }
  dir = vitlens_hub_fetch_model (hub, repo, revision, progress, user_data, cancellable, error);
  return dir != NULL ? g_build_filename (dir, "model.safetensors", NULL) : NULL;
}
