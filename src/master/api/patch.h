/* husk api: the patch formats kubectl sends. Each returns a new value (the target is not
   modified) or NULL with *err set (EINVAL: bad patch, ESTALE: a json-patch test failed). */
#ifndef HUSK_API_PATCH_H
#define HUSK_API_PATCH_H

#include <jansson.h>

#include "lib/error.h"
#include "src/master/api/schema.h"

/* RFC 7386 JSON merge patch. */
json_t *api_merge_patch (const json_t *target, const json_t *patch);
/* RFC 6902 JSON patch (patch is an array of operations). */
json_t *api_json_patch (const json_t *target, const json_t *patch, husk_error **err);
/* Kubernetes strategic merge patch guided by the schema type t (NULL: plain merge):
   merge keys, $patch (replace, delete, merge), $setElementOrder, $retainKeys,
   $deleteFromPrimitiveList. */
json_t *api_strategic_merge_patch (const json_t *target, const json_t *patch,
                                   const api_type *t, husk_error **err);

#endif
