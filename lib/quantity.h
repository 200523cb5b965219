/* husk: Kubernetes resource quantities ("100m", "1.5", "128Mi", "1G", "1e3"). */
#ifndef HUSK_QUANTITY_H
#define HUSK_QUANTITY_H

#include <jansson.h>
#include <stdint.h>

#include "lib/error.h"

/* Parses a quantity and returns its value times `scale` (1 for bytes and counts, 1000 for
   millicores), rounded up as upstream's Value()/MilliValue() do. Errors (EINVAL, ERANGE) quote
   the text. */
int husk_quantity_parse (const char *s, int64_t scale, int64_t *out, husk_error **err);

/* The same for a JSON value: a string, or a number (YAML `cpu: 1` arrives as a number).
   where (may be NULL) names the field in errors ("limits.cpu: ..."). */
int husk_quantity_json (const json_t *v, int64_t scale, const char *where, int64_t *out,
                        husk_error **err);

#endif
