/* husk: container images: references, the content-addressed store, layer unpacking,
   registry pulls, import/export and overlayfs snapshots (docs/images.md). */
#ifndef HUSK_IMAGE_H
#define HUSK_IMAGE_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>
#include <nettle/sha2.h>

#include "lib/error.h"

/* ---- references (ref.c) ---- */

/* A parsed image reference with Docker Hub defaults applied:
   "busybox" -> docker.io/library/busybox:latest. */
typedef struct image_ref
{
  char *domain; /* "docker.io", "127.0.0.1:5000", "localhost" */
  char *path;   /* "library/busybox" */
  char *tag;    /* "latest" unless a digest was given alone; NULL then */
  char *digest; /* "sha256:<64 hex>" or NULL */
  char *full;   /* canonical: domain/path[:tag][@digest] */
} image_ref;

/* Parses s; errors (EINVAL) name the reference and the bad part. */
int image_ref_parse (const char *s, image_ref **out, husk_error **err);
void image_ref_free (image_ref *r);
DEFINE_CLEANUP (image_ref *, image_ref_free)
/* "domain/path" */
char *image_ref_repo (const image_ref *r);
/* Host to connect to for r->domain: docker.io -> registry-1.docker.io. */
const char *image_ref_registry_host (const image_ref *r);

/* ---- digests (digest.c) ---- */

#define IMAGE_DIGEST_LEN (7 + 64) /* "sha256:" + hex */

/* true when s is "sha256:" followed by 64 lowercase hex digits. */
bool image_digest_valid (const char *s);
/* Checks a digest from outside input; EINVAL naming it when invalid or another algorithm. */
int image_digest_check (const char *s, husk_error **err);

typedef struct image_hasher
{
  struct sha256_ctx ctx;
  uint64_t size;
} image_hasher;
void image_hasher_init (image_hasher *h);
void image_hasher_update (image_hasher *h, const void *data, size_t len);
/* Writes "sha256:<hex>" (IMAGE_DIGEST_LEN + 1 bytes) into out. */
void image_hasher_digest (image_hasher *h, char out[IMAGE_DIGEST_LEN + 1]);
void image_digest_of (const void *data, size_t len, char out[IMAGE_DIGEST_LEN + 1]);

/* ---- platforms and manifests (manifest.c) ---- */

#define IMAGE_MT_OCI_MANIFEST     "application/vnd.oci.image.manifest.v1+json"
#define IMAGE_MT_OCI_INDEX        "application/vnd.oci.image.index.v1+json"
#define IMAGE_MT_OCI_CONFIG       "application/vnd.oci.image.config.v1+json"
#define IMAGE_MT_OCI_LAYER        "application/vnd.oci.image.layer.v1.tar"
#define IMAGE_MT_OCI_LAYER_GZIP   "application/vnd.oci.image.layer.v1.tar+gzip"
#define IMAGE_MT_OCI_LAYER_ZSTD   "application/vnd.oci.image.layer.v1.tar+zstd"
#define IMAGE_MT_DOCKER_MANIFEST  "application/vnd.docker.distribution.manifest.v2+json"
#define IMAGE_MT_DOCKER_LIST      "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMAGE_MT_DOCKER_CONFIG    "application/vnd.docker.container.image.v1+json"
#define IMAGE_MT_DOCKER_LAYER     "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define IMAGE_MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"

/* Largest manifest or config accepted (as containerd). */
#define IMAGE_MANIFEST_MAX (4 * 1024 * 1024)

typedef struct image_platform
{
  const char *os;           /* "linux" */
  const char *architecture; /* "amd64", "arm64", "arm" ... (GOARCH names) */
  const char *variant;      /* "v7", "v8" or NULL */
} image_platform;

/* The platform of this machine (uname), GOARCH naming. */
void image_platform_host (image_platform *p);
/* Parses "os/arch[/variant]"; the strings point into s, which must outlive p. */
int image_platform_parse (char *s, image_platform *p, husk_error **err);

typedef struct image_desc
{
  char *media_type;
  char *digest;
  int64_t size;
} image_desc;

typedef struct image_manifest
{
  char *media_type;
  image_desc config;
  size_t n_layers;
  image_desc *layers;
} image_manifest;

void image_manifest_free (image_manifest *m);
DEFINE_CLEANUP (image_manifest *, image_manifest_free)

/* true for an OCI index or a Docker manifest list (by media type or, when absent, shape). */
bool image_manifest_is_index (const char *media_type, json_t *doc);
/* Decodes an image manifest (OCI or Docker schema2); errors name the JSON path. */
int image_manifest_parse (json_t *doc, const char *media_type, image_manifest **out,
                          husk_error **err);
/* Picks p's manifest out of an index/list; ENOENT listing the platforms offered. */
int image_index_select (json_t *index, const image_platform *p, image_desc *out, husk_error **err);
void image_desc_clear (image_desc *d);
/* The config's rootfs.diff_ids (the uncompressed layers' digests), exactly n_layers valid
   sha256 digests; errors name the JSON path. *out is NULL-terminated. */
int image_config_diff_ids (json_t *config, size_t n_layers, char ***out, husk_error **err);
/* true for a layer media type we can unpack; *compression "gzip"/"zstd"/NULL. */
bool image_layer_media_supported (const char *mt);

/* ---- the store (store.c) ---- */

typedef struct image_store image_store;

/* Opens (creating) <data_dir>/images. */
int image_store_open (const char *data_dir, image_store **out, husk_error **err);
void image_store_free (image_store *s);
DEFINE_CLEANUP (image_store *, image_store_free)
const char *image_store_root (const image_store *s);

char *image_store_blob_path (const image_store *s, const char *digest);
bool image_store_has_blob (const image_store *s, const char *digest);
/* Path for a partial download of digest (kept across interrupted pulls for resuming). */
char *image_store_partial_path (const image_store *s, const char *digest);
/* Verifies file `tmp` against digest and size (size < 0: any) and renames it into the
   store. On mismatch the file is removed and the error names the digest. */
int image_store_commit_blob (image_store *s, const char *tmp, const char *digest, int64_t size,
                             husk_error **err);
/* Stores data under its digest; when want is set it must match (and size). */
int image_store_put_blob (image_store *s, const void *data, size_t len, const char *want,
                          int64_t want_size, char out[IMAGE_DIGEST_LEN + 1], husk_error **err);
/* Reads a stored blob of at most max bytes. */
int image_store_read_blob (const image_store *s, const char *digest, size_t max, char **data,
                           size_t *len, husk_error **err);
/* Creates a temp file in the store's tmp dir; *path_out names it. */
int image_store_tmpfile (image_store *s, char **path_out, husk_error **err);

/* Per-digest lock (flock on a lock file): wait=false returns -EWOULDBLOCK-1 style
   error code 1 when held elsewhere. Returns fd >= 0, 1 when busy, < 0 on error. */
int image_store_lock_digest (image_store *s, const char *kind, const char *digest, bool wait,
                             int *fd_out, husk_error **err);
/* Store-wide GC lock: pulls/imports hold it shared, prune exclusive. */
int image_store_lock_gc (image_store *s, bool exclusive, int *fd_out, husk_error **err);

/* The unpacked directory of a layer blob; made once (under a lock) on first use. The
   uncompressed stream must hash to diff_id (from the image config; NULL: not checked):
   on a mismatch the error names both digests and neither the unpacked layer nor its blob
   is kept. A layer unpacked earlier is checked against the diff_id recorded then. */
int image_store_ensure_layer (image_store *s, const image_desc *layer, const char *diff_id,
                              char **dir_out, husk_error **err);
/* The diff_ids of manifest m's layers, from its stored config. */
int image_store_diff_ids (image_store *s, const image_manifest *m, char ***out, husk_error **err);
char *image_store_layer_path (const image_store *s, const char *digest);

/* The image index: reference -> (top digest, platform manifest digest). */
typedef struct image_record
{
  char *ref;       /* canonical reference */
  char *digest;    /* what the reference resolved to (index or manifest) */
  char *manifest;  /* the platform's image manifest */
  char *created;   /* when stored, RFC 3339 */
  char *last_used; /* last pulled or mounted (image_store_touch), RFC 3339 */
} image_record;
void image_record_clear (image_record *r);
int image_store_set_ref (image_store *s, const char *ref, const char *digest, const char *manifest,
                         husk_error **err);
/* ENOENT "image X not found" when absent. Accepts a reference, a manifest digest or
   a unique digest prefix of at least 12 hex digits. */
int image_store_get (image_store *s, const char *name, image_record *out, husk_error **err);
/* Records that the image called name (as image_store_get) was used at when (0: now);
   image GC removes the least recently used first. Pulls and snapshot mounts call it. */
int image_store_touch (image_store *s, const char *name, time_t when, husk_error **err);
int image_store_list (image_store *s, image_record **out, size_t *n, husk_error **err);
int image_store_remove_ref (image_store *s, const char *name, husk_error **err);
/* Bytes of the image as distributed: config plus compressed layers (what a node reports
   as an image's sizeBytes). */
int image_store_image_size (image_store *s, const char *manifest, uint64_t *out, husk_error **err);
/* The image's config document (OCI image config: .config.Entrypoint, .Cmd, .Env,
   .WorkingDir, .User, ...) for the image called name (as image_store_get). */
int image_store_load_config (image_store *s, const char *name, json_t **out, husk_error **err);
/* Loads the image manifest of a record (verified blob). */
int image_store_load_manifest (image_store *s, const char *digest, image_manifest **out,
                               husk_error **err);

typedef struct image_prune_stats
{
  size_t blobs_removed, layers_removed;
  uint64_t bytes_freed;
} image_prune_stats;
/* Removes blobs and layers that no image and no snapshot references, and stale temp files. */
int image_store_prune (image_store *s, image_prune_stats *st, husk_error **err);

/* ---- image GC by disk usage (gc.c) ---- */

/* Disk usage of the filesystem holding the images: bytes used and capacity. */
typedef int (*image_usage_fn) (void *ctx, uint64_t *used, uint64_t *capacity, husk_error **err);
/* The default usage function: statvfs of the store's root (ctx is the image_store). */
int image_gc_statvfs_usage (void *ctx, uint64_t *used, uint64_t *capacity, husk_error **err);

typedef struct image_gc_policy
{
  int high_pct;      /* GC runs when usage >= this (kubelet imageGCHighThresholdPercent: 85) */
  int low_pct;       /* and frees until usage <= this (imageGCLowThresholdPercent: 80) */
  int64_t min_age_s; /* images used more recently are kept (imageMinimumGCAge: 120) */
  const char *const *in_use; /* NULL-terminated names of images containers use: kept */
  image_usage_fn usage;      /* NULL: image_gc_statvfs_usage */
  void *usage_ctx;
  time_t now; /* 0: time (NULL) (tests set it) */
} image_gc_policy;

typedef struct image_gc_stats
{
  int usage_before_pct, usage_after_pct;
  size_t images_removed;
  char **removed; /* NULL-terminated references removed, in order */
  uint64_t bytes_freed;
} image_gc_stats;
void image_gc_stats_clear (image_gc_stats *st);

/* When usage >= high_pct, removes the least recently used images (image_record.last_used)
   that are not in use and older than min_age_s, one at a time followed by a prune, until
   usage <= low_pct. ENOSPC when what may be removed was not enough (*st says what was done).
   *st is filled in all cases. */
int image_gc_by_usage (image_store *s, const image_gc_policy *p, image_gc_stats *st,
                       husk_error **err);

/* ---- layer unpacking (unpack.c) ---- */

/* Read size of the compressed layer file. */
#define IMAGE_UNPACK_BLOCK (1 << 20)

/* Unpacks a (gzip|zstd|xz|plain) tar layer from fd into dir (which must exist, empty):
   OCI whiteouts become overlayfs ones; entries escaping dir are refused naming the entry.
   diff_id (optional) receives the sha256 of the uncompressed stream, computed in the
   same pass. */
int image_unpack_layer_fd (int fd, const char *dir, char diff_id[IMAGE_DIGEST_LEN + 1],
                           husk_error **err);
int image_unpack_layer_file (const char *path, const char *dir, char diff_id[IMAGE_DIGEST_LEN + 1],
                             husk_error **err);
/* The diff_id of a (compressed) layer file, without unpacking it. */
int image_layer_diff_id_file (const char *path, char diff_id[IMAGE_DIGEST_LEN + 1],
                              husk_error **err);

/* ---- registry pulls (registry.c, pull.c) ---- */

typedef struct image_pull_opts
{
  image_platform platform;
  const char
      *auth_file; /* docker config.json; NULL: $REGISTRY_AUTH_FILE, $DOCKER_CONFIG, ~/.docker */
  json_t *auths;  /* optional extra {"auths":{...}} (a dockerconfigjson secret) */
  const char *username; /* explicit credentials win over the files */
  const char *password;
  const char *ca_file; /* extra CA bundle for TLS */
  char **insecure;     /* NULL-terminated hosts allowed over plain HTTP */
  int parallel;        /* concurrent layer downloads (0: 4) */
  int progress;        /* 1 bar, 0 log lines, -1 auto (isatty(2)) */
  bool quiet;
} image_pull_opts;

/* Pulls ref into the store and unpacks its layers; *record_out (optional) describes it. */
int image_pull (image_store *s, const char *ref, const image_pull_opts *o, image_record *record_out,
                husk_error **err);

/* Credentials for host from a docker config.json-shaped object
   ({"auths":{host:{auth|username,password}}}). Returns 1 and sets *user and *pass when found, 0
   when not. */
int image_auth_lookup (json_t *config, const char *host, char **user, char **pass,
                       husk_error **err);

/* ---- import / export (archive.c) ---- */

/* Imports an OCI layout dir, an OCI layout tarball or a `docker save` tarball.
   name (optional) names the image when the archive holds a single image without a full
   reference. Fills *refs_out (NULL-terminated) with the references stored. */
int image_import (image_store *s, const char *path, const char *name,
                  const image_platform *platform, char ***refs_out, husk_error **err);
/* Imports every archive in dir (node start: appliance images baked into the host); tries
   them all and returns the first error. *refs_out (optional) lists what was stored. */
int image_import_dir (image_store *s, const char *dir, const image_platform *platform,
                      char ***refs_out, husk_error **err);
/* Node start: imports every archive in dir (appliance images baked into the host; the
   node uses <data-dir>/images.d), skipping those imported before whose size and mtime are
   unchanged and whose images are all still stored. Tries them all; returns the first error.
   ENOENT for dir is not an error. *refs_out (optional) lists what was imported now. */
int image_preload (image_store *s, const char *dir, const image_platform *platform,
                   char ***refs_out, husk_error **err);
/* Writes ref as a tarball that is both an OCI layout and a `docker load` archive, or
   as an OCI layout directory when path is an existing directory. */
int image_export (image_store *s, const char *ref, const char *path, husk_error **err);

/* ---- snapshots (snapshot.c) ---- */

/* Mounts the image's root filesystem at target as an overlayfs: read-only when id is NULL,
   otherwise with the private upper/work dirs of snapshot id (a container's rootfs). */
int image_snapshot_mount (image_store *s, const char *ref, const char *id, const char *target,
                          husk_error **err);
/* Unmounts target and forgets its record; with remove, deletes snapshot id's upper dir. */
int image_snapshot_unmount (image_store *s, const char *target, bool remove, husk_error **err);
/* Removes snapshot id (unmounting where it is mounted). */
int image_snapshot_remove (image_store *s, const char *id, husk_error **err);

#endif
