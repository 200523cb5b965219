/* husk: declarations shared inside src/node/image only. */
#ifndef HUSK_IMAGE_INTERNAL_H
#define HUSK_IMAGE_INTERNAL_H

#include "src/node/image/image.h"

/* Renames tmp (already verified as digest) into blobs/. */
int image_store_commit_verified (image_store *s, const char *tmp, const char *digest,
                                 husk_error **err);
/* Loads a stored JSON blob (manifest, index, config). */
int image_store_load_json (image_store *s, const char *digest, json_t **out, husk_error **err);

/* Decodes a descriptor {mediaType, digest, size}; errors name where. */
int image_desc_parse (json_t *obj, const char *where, image_desc *d, husk_error **err);

/* ---- credentials (auth.c) ---- */

typedef struct image_challenge
{
  char *scheme; /* "Bearer", "Basic" */
  char *realm, *service, *scope;
} image_challenge;
int image_challenge_parse (const char *header, image_challenge *c, husk_error **err);
void image_challenge_clear (image_challenge *c);
/* 1 with *user, *pass set; 0 when none is configured for host. */
int image_auth_find (const image_pull_opts *o, const char *host, char **user, char **pass,
                     husk_error **err);

/* ---- the registry client (registry.c) ---- */

typedef struct image_registry image_registry;
/* Pings https://host/v2/ (plain HTTP only for insecure hosts and 127.0.0.0/8) and
   authenticates for pulling r's repository. */
int image_registry_open (const image_ref *r, const image_pull_opts *o, image_registry **out,
                         husk_error **err);
void image_registry_free (image_registry *reg);
DEFINE_CLEANUP (image_registry *, image_registry_free)
/* GETs a manifest by tag or digest: body (<= IMAGE_MANIFEST_MAX), Content-Type and the
   Docker-Content-Digest header (NULL when absent). */
int image_registry_get_manifest (image_registry *reg, const char *reference, char **body,
                                 size_t *len, char **media_type, char **digest_hdr,
                                 husk_error **err);
/* Called (from the downloading thread) as each blob enters the store. */
typedef void (*image_blob_done_fn) (void *ctx, const image_desc *d);
/* Downloads the missing blobs of descs in parallel into the store: resumable partial files,
   digest and size verified, each blob downloaded once across concurrent pulls. */
int image_registry_fetch_blobs (image_registry *reg, image_store *s, image_desc *descs, size_t n,
                                image_blob_done_fn done, void *ctx, husk_error **err);

#endif
