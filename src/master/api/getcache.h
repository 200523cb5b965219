/* husk api: a small cache of single-object GETs in front of the store. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

struct store;
struct MHD_Response;
typedef struct api_getcache api_getcache;
typedef struct api_getcache_entry api_getcache_entry;

api_getcache *api_getcache_new (void);
void api_getcache_free (api_getcache *c);

/* store_get through the cache: the same contract (*json_out malloc'd, STORE_ENOTFOUND...).
   An entry is served only while store_resource_write_rev of its resource is the value read
   before the entry was fetched, i.e. no object of that resource was written since; nothing is
   cached when the store may be written by others (etcd: write_rev -1). c may be NULL. */
int api_getcache_get (api_getcache *c, struct store *st, const char *resource, const char *ns,
                      const char *name, char **json_out, husk_error **err);

/* The same read without copying the text: *out is a reference to the object's entry (its
   stored text, and a 200 reply built once for it), valid until api_getcache_release; entries
   replaced or dropped meanwhile stay alive while referenced. Objects that are not cached (too
   large, etcd, c NULL) come as an entry of their own. */
int api_getcache_hold (api_getcache *c, struct store *st, const char *resource, const char *ns,
                       const char *name, api_getcache_entry **out, husk_error **err);
void api_getcache_release (api_getcache_entry *e);
/* The stored text (NUL-terminated) and its length. */
const char *api_getcache_json (const api_getcache_entry *e, size_t *len);
/* A libmicrohttpd reply of the text and a newline, as application/json with the API's
   Cache-Control header, shared by every request served from this entry: queue it as it is
   (MHD_queue_response takes its own reference; never MHD_destroy_response it). */
struct MHD_Response *api_getcache_response (const api_getcache_entry *e);
