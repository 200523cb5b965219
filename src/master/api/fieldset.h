/* husk api: field sets of server-side apply, in the FieldsV1 encoding upstream stores in
   metadata.managedFields[].fieldsV1.

   A set is a JSON object tree: each key is a path element ("f:name" a field, "k:{...}" a list
   item by its keys, "v:..." an item of a set-like list, "i:N" an index) and its value the node
   below it. A node is a member of the set when it has no children ({}) or holds the key ".";
   a node that is no member always has children. All functions return new trees (NULL: the
   empty set) and never modify their arguments, unless said otherwise. */
#ifndef HUSK_API_FIELDSET_H
#define HUSK_API_FIELDSET_H

#include <jansson.h>
#include <stdbool.h>

#include "src/master/api/schema.h"

/* The fields an applied configuration v (of type t, NULL: no schema) sets, as upstream's
   ToFieldSet: leaves, list items, map entries, empty or null struct fields. */
json_t *api_fs_from_value (const api_type *t, const json_t *v);

/* Compares old and new (either may be NULL): *changed gets the paths added or modified,
   *removed the paths (whole subtrees) present only in old. Without old (a create), the set
   of a whole object leaves out what api_fs_strip drops anyway (apiVersion, kind, the
   server-owned metadata): not built only to be deleted. */
void api_fs_compare (const api_type *t, const json_t *old, const json_t *new, json_t **changed,
                     json_t **removed);

json_t *api_fs_union (const json_t *a, const json_t *b);
json_t *api_fs_intersect (const json_t *a, const json_t *b);
json_t *api_fs_difference (const json_t *a, const json_t *b);
bool api_fs_empty (const json_t *s);

/* Removes from obj (in place) the members of rm that no node of keep covers. */
void api_fs_prune (const api_type *t, json_t *obj, const json_t *rm, const json_t *keep);

/* The member paths of s as upstream prints them (".spec.containers[name=\"c\"].image"),
   appended as strings to out. */
void api_fs_paths (const json_t *s, json_t *out);

/* Finds metadata.managedFields in a stored object's compact JSON text: [*start, *end) is the
   member with one adjacent comma, so that cutting it leaves valid JSON. False when absent.
   (Tables and selectors never need it, and it is often half the object: parse without.) */
bool api_fs_skip_managed (const char *json, size_t *start, size_t *end);

/* Drops the paths the server owns (apiVersion, kind, metadata.name, uid, ...) and, as given,
   status or everything but status. Takes s, returns the result. */
json_t *api_fs_strip (json_t *s, bool drop_status, bool only_status);

#endif
