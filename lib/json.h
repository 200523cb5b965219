/* husk: JSON helpers over jansson. */
#ifndef HUSK_JSON_H
#define HUSK_JSON_H

#include <jansson.h>

#include "lib/error.h"

/* jansson provides json_decrefp (json_auto_t). */
#define _cleanup_json_ _cleanup_ (json_decrefp)

/* Parses one JSON document; an error names line and column ("json: line 3, column 7: ..."). */
int husk_json_parse (const char *data, size_t len, json_t **out, husk_error **err);
/* Reads and parses a file; errors name the file. */
int husk_json_load_file (const char *path, json_t **out, husk_error **err);
/* Compact dump (no spaces, keys in insertion order); never NULL. */
char *husk_json_dump (const json_t *j);

/* Walks a dotted path ("metadata.name", "spec.containers.0.image"; a numeric
   component indexes an array). Returns a borrowed reference or NULL. */
json_t *husk_json_path (const json_t *root, const char *dotted);
/* The string at a dotted path, or NULL when absent or not a string. */
const char *husk_json_path_str (const json_t *root, const char *dotted);
/* The integer at a dotted path, or dflt when absent or not an integer. */
json_int_t husk_json_path_int (const json_t *root, const char *dotted, json_int_t dflt);

/* Typed member access for decoders that must name the JSON path of a bad field.
   `where` is the path of obj (e.g. "process"); on a wrong type the error reads
   "process.args: expected array, got string". Absent members return 0 and leave *out. */
int husk_json_get_str (json_t *obj, const char *key, const char *where, const char **out,
                       husk_error **err);
int husk_json_get_int (json_t *obj, const char *key, const char *where, json_int_t *out,
                       husk_error **err);
int husk_json_get_bool (json_t *obj, const char *key, const char *where, bool *out,
                        husk_error **err);
int husk_json_get_obj (json_t *obj, const char *key, const char *where, json_t **out,
                       husk_error **err);
int husk_json_get_arr (json_t *obj, const char *key, const char *where, json_t **out,
                       husk_error **err);
/* A NULL-terminated copy of an array of strings; errors name where[i]. */
int husk_json_get_strv (json_t *obj, const char *key, const char *where, char ***out,
                        husk_error **err);
/* Errors for every member of obj not in the NULL-terminated list allowed. */
int husk_json_check_keys (json_t *obj, const char *where, const char *const *allowed,
                          husk_error **err);

const char *husk_json_type_name (const json_t *j);

#endif
