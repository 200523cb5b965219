/* husk api: a pod's Table row written straight from its stored JSON text, without a parse. */
#ifndef HUSK_API_SLIM_H
#define HUSK_API_SLIM_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Appends to out the Table row of the pod whose stored compact JSON is json[0..len):
   {"cells":[name, ready, status, restarts, age, ip, node, nominated node, readiness gates],
   "object":...} with the object as api_table_row makes it for include_object ("None", "Object"
   or else PartialObjectMetadata), metadata.managedFields left out. The cells are those of the
   api_cell_pod_* functions, byte for byte. Returns false and leaves out as it was when the text
   is not the shape expected (a member of another type, a string with escapes among the fields
   the cells read, malformed text): the caller then parses the object and takes the general
   path. */
bool api_slim_pod_row (const char *json, size_t len, const char *include_object, husk_buf *out);

#endif
