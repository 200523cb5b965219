/* husk api: a small cache of single-object GETs in front of the store. */
#pragma once

#include <stdint.h>

#include "lib/error.h"

struct store;
typedef struct api_getcache api_getcache;

api_getcache *api_getcache_new (void);
void api_getcache_free (api_getcache *c);

/* store_get through the cache: the same contract (*json_out malloc'd, STORE_ENOTFOUND...).
   An entry is served only while store_resource_write_rev of its resource is the value read
   before the entry was fetched, i.e. no object of that resource was written since; nothing is
   cached when the store may be written by others (etcd: write_rev -1). c may be NULL. */
int api_getcache_get (api_getcache *c, struct store *st, const char *resource, const char *ns,
                      const char *name, char **json_out, husk_error **err);
