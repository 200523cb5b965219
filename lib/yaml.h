/* husk: YAML -> JSON over libyaml, as Kubernetes reads manifests. */
#ifndef HUSK_YAML_H
#define HUSK_YAML_H

#include <jansson.h>

#include "lib/error.h"

/* Converts a YAML stream to a JSON array with one element per non-empty document
   (multi-document streams, anchors and aliases, merge keys, block and flow scalars).
   Plain scalars resolve as YAML 1.1 does in Kubernetes (null/~, true/false/yes/no/on/off,
   integers incl. 0x/0o, floats, .inf/.nan); quoted ones stay strings. Errors carry
   "yaml: line L, column C: <problem>". JSON input is YAML and converts too. */
int husk_yaml_to_json (const char *data, size_t len, json_t **out_docs, husk_error **err);

/* One document: errors when the stream holds zero or several documents. */
int husk_yaml_to_json_one (const char *data, size_t len, json_t **out, husk_error **err);

#endif
