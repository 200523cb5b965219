/* husk api: label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors. */
#ifndef HUSK_API_SELECTOR_H
#define HUSK_API_SELECTOR_H

#include <jansson.h>

#include "lib/error.h"

typedef struct api_selector api_selector;

/* Parses a labelSelector query value; errors are EINVAL with upstream-like messages. */
int api_label_selector_parse (const char *s, api_selector **out, husk_error **err);
/* Parses a fieldSelector; allowed: NULL-terminated dotted paths besides metadata.name and
   metadata.namespace. */
int api_field_selector_parse (const char *s, const char *const *allowed, api_selector **out,
                              husk_error **err);
/* Label selectors match metadata.labels; field selectors the dotted paths of obj. */
bool api_selector_matches (const api_selector *sel, const json_t *obj);
/* For field selectors: the value required for path by an = requirement, or NULL. */
const char *api_selector_equals (const api_selector *sel, const char *path);
/* Builds a selector from a LabelSelector object (matchLabels/matchExpressions). */
int api_label_selector_from_json (const json_t *ls, api_selector **out, husk_error **err);
void api_selector_free (api_selector *sel);
DEFINE_CLEANUP (api_selector *, api_selector_free)

#endif
