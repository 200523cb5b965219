/* husk: declarations shared inside src/node/image only. */
#ifndef HUSK_IMAGE_INTERNAL_H
#define HUSK_IMAGE_INTERNAL_H

#include "src/node/image/image.h"

/* Renames tmp (already verified as digest) into blobs/. */
int image_store_commit_verified (image_store *s, const char *tmp, const char *digest,
                                 husk_error **err);
/* Loads a stored JSON blob (manifest, index, config). */
int image_store_load_json (image_store *s, const char *digest, json_t **out, husk_error **err);

/* Stores a manifest or index document already verified as digest; if it is an index,
   selects platform p, requires the platform manifest in the store (fetch callback),
   and returns the platform manifest digest. */
typedef int (*image_fetch_fn) (void *ctx, const image_desc *d, husk_error **err);

/* Unpacks every layer of manifest digest (each once, in parallel up to jobs). */
int image_unpack_image (image_store *s, const char *manifest, int jobs, husk_error **err);

#endif
