/* vitlens-hub.h — model repositories from the Hugging Face Hub, kept in the hub cache that
 * huggingface_hub (and so timm, transformers, huggingface-cli) writes and reads; GLib, GIO and
 * libsoup 3, no GTK, so vitlens-cli and the app's worker share it.
 *
 * Copyright 2024 The ViT Lens authors
 * SPDX-License-Identifier: MIT
 *
 *     g_autoptr(VitlensHub) hub = vitlens_hub_new_from_env ();  // HF_ENDPOINT, HF_HUB_CACHE, …
 *     g_autofree char *dir = vitlens_hub_fetch_model (hub, "timm/deit_small_patch16_224.fb_in1k",
 *                                                     NULL, progress, self, cancellable, &error);
 *     // dir = CACHE/models--timm--deit_small_patch16_224.fb_in1k/snapshots/COMMIT, holding
 *     // model.safetensors and config.json (links into ../../blobs/), as vit_model_load() wants
 *
 * The protocol is the hub's own, as huggingface_hub's hf_hub_download() speaks it: a HEAD of
 * ENDPOINT/REPO/resolve/REVISION/FILE names the commit (X-Repo-Commit), the content's hash
 * (X-Linked-Etag on the 302 to the CDN for large files: their SHA-256; ETag for small ones: their
 * git blob SHA-1) and size (X-Linked-Size, or Content-Length); a GET of where it points brings the
 * bytes. The cache, under vitlens_hub_default_cache_dir():
 *
 *     models--ORG--NAME/blobs/ETAG                   the content, named by its hash
 *     models--ORG--NAME/blobs/ETAG.incomplete        a download under way or cut (resumed with Range)
 *     models--ORG--NAME/snapshots/COMMIT/FILE        a relative link to ../../blobs/ETAG
 *     models--ORG--NAME/refs/REVISION                the commit REVISION named when last asked
 *     models--ORG--NAME/.no_exist/COMMIT/FILE        "the repository has no FILE at COMMIT"
 *     .locks/models--ORG--NAME/ETAG.lock             flock()ed while a blob is written
 *
 * A blob gets its final name only once its hash has been checked, and a snapshot link only then,
 * so a cut or corrupt transfer never leaves anything a later run could take for a model.
 *
 * The calls are synchronous (run them on a worker thread in the app) and cancellable; use a
 * VitlensHub from one thread at a time. Error messages are one line of English naming the
 * repository and the file.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VITLENS_HUB_ERROR (vitlens_hub_error_quark ())

typedef enum
{
  VITLENS_HUB_ERROR_INVALID,            /* not an ORG/NAME repository id, or a bad revision */
  VITLENS_HUB_ERROR_REPO_NOT_FOUND,     /* X-Error-Code: RepoNotFound (also what private repos say) */
  VITLENS_HUB_ERROR_REVISION_NOT_FOUND, /* X-Error-Code: RevisionNotFound */
  VITLENS_HUB_ERROR_ENTRY_NOT_FOUND,    /* X-Error-Code: EntryNotFound, or a plain 404 */
  VITLENS_HUB_ERROR_UNAUTHORIZED,       /* 401/403: gated (X-Error-Code: GatedRepo) or private */
  VITLENS_HUB_ERROR_NETWORK,            /* no connection, or it broke (the partial file is kept) */
  VITLENS_HUB_ERROR_CHECKSUM,           /* the bytes do not have the advertised hash or size */
  VITLENS_HUB_ERROR_PROTOCOL,           /* an answer the hub does not give (no ETag, HTTP 500) */
  VITLENS_HUB_ERROR_NOT_CACHED,         /* offline (HF_HUB_OFFLINE), and not in the cache */
  VITLENS_HUB_ERROR_CACHE,              /* the cache cannot be written */
} VitlensHubError;

GQuark vitlens_hub_error_quark (void);

/* ---------------------------------------------------------------------------------------------
 * The environment, read as huggingface_hub's constants.py reads it */

/* HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
 * ${XDG_CACHE_HOME:-~/.cache}/huggingface/hub; a leading ~ is the home directory. */
char     *vitlens_hub_default_cache_dir (void);
/* HF_ENDPOINT without its trailing slashes, else https://huggingface.co. */
char     *vitlens_hub_default_endpoint  (void);
/* HF_HUB_OFFLINE (or, when that is unset or empty, TRANSFORMERS_OFFLINE) is 1, ON, YES or TRUE. */
gboolean  vitlens_hub_env_offline       (void);

/* "ORG/NAME" as the hub accepts it: two parts of letters, digits, '_', '-' and '.', each
 * beginning and ending with a letter, digit or '_', no "--" or "..", 96 characters at most. */
gboolean  vitlens_hub_is_repo_id        (const char *text);

/* ---------------------------------------------------------------------------------------------
 * VitlensHub: an endpoint, a cache directory, and the HTTP session */

typedef struct _VitlensHub VitlensHub;

/* NULL endpoint or cache_dir: the defaults above. Online, with no token. */
VitlensHub *vitlens_hub_new           (const char *endpoint,
                                       const char *cache_dir);
/* vitlens_hub_new (NULL, NULL), offline as HF_HUB_OFFLINE says, with HF_TOKEN as the token. */
VitlensHub *vitlens_hub_new_from_env  (void);
void        vitlens_hub_free          (VitlensHub *hub);

/* Offline: nothing is sent, files come from the cache or VITLENS_HUB_ERROR_NOT_CACHED. */
void        vitlens_hub_set_offline   (VitlensHub *hub,
                                       gboolean    offline);
gboolean    vitlens_hub_get_offline   (VitlensHub *hub);
/* Sent as "Authorization: Bearer TOKEN" to the endpoint's host only (never to the CDN). */
void        vitlens_hub_set_token     (VitlensHub *hub,
                                       const char *token);
const char *vitlens_hub_get_cache_dir (VitlensHub *hub);
const char *vitlens_hub_get_endpoint  (VitlensHub *hub);

/* ---------------------------------------------------------------------------------------------
 * Files */

typedef enum
{
  VITLENS_HUB_FILE_STARTED,   /* a download begins (resumed > 0: from a partial file) */
  VITLENS_HUB_FILE_RECEIVING, /* more bytes arrived */
  VITLENS_HUB_FILE_DONE,      /* downloaded and verified */
  VITLENS_HUB_FILE_CACHED,    /* already in the cache: nothing downloaded */
  VITLENS_HUB_FILE_ABSENT,    /* an optional file the repository does not have */
} VitlensHubFileState;

typedef struct
{
  const char          *repo;
  const char          *file;
  VitlensHubFileState  state;
  guint64              received; /* bytes on disk now, a resumed part included */
  guint64              resumed;  /* bytes already on disk from an earlier, cut download */
  guint64              total;    /* the file's size; 0 when the server does not say */
} VitlensHubProgress;

/* Called on the calling thread, from inside the fetch. */
typedef void (*VitlensHubProgressFunc) (const VitlensHubProgress *progress,
                                        gpointer                  user_data);

/* The cached copy of FILE of REPO at REVISION (a branch, tag or commit; NULL: "main"): its path
 * in the snapshot, or NULL and VITLENS_HUB_ERROR_NOT_CACHED. Never touches the network. */
char *vitlens_hub_lookup      (VitlensHub             *hub,
                               const char             *repo,
                               const char             *revision,
                               const char             *file,
                               GError                **error);

/* One file into the cache (or found there: the hub is asked which commit REVISION is now, as
 * huggingface_hub does, unless offline). Returns its snapshot path. */
char *vitlens_hub_fetch_file  (VitlensHub             *hub,
                               const char             *repo,
                               const char             *revision,
                               const char             *file,
                               VitlensHubProgressFunc  progress,
                               gpointer                user_data,
                               GCancellable           *cancellable,
                               GError                **error);

/* A model repository: config.json and model.safetensors, and preprocessor_config.json and
 * labels.txt when it has them, all from one commit. Returns the snapshot directory. */
char *vitlens_hub_fetch_model (VitlensHub             *hub,
                               const char             *repo,
                               const char             *revision,
                               VitlensHubProgressFunc  progress,
                               gpointer                user_data,
                               GCancellable           *cancellable,
                               GError                **error);

/* The model.safetensors to load for REPO: the cached snapshot's when there is one (no network),
 * else fetched first with vitlens_hub_fetch_model() unless the hub is offline. */
char *vitlens_hub_model_path  (VitlensHub             *hub,
                               const char             *repo,
                               const char             *revision,
                               VitlensHubProgressFunc  progress,
                               gpointer                user_data,
                               GCancellable           *cancellable,
                               GError                **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VitlensHub, vitlens_hub_free)

G_END_DECLS
