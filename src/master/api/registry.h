/* husk api: the table of served resources. Adding a type is one entry here plus its
   schema (schema/<group>.c), defaults, validation and Table columns. */
#ifndef HUSK_API_REGISTRY_H
#define HUSK_API_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>

#include "src/master/api/schema.h"

typedef struct api_resource api_resource;

/* A Table column: cell(obj) returns a new JSON value for the row. */
typedef struct api_column
{
  const char *name;
  const char *type; /* "string", "integer", "date" */
  const char *format;
  int priority;
  json_t *(*cell) (const json_t *obj);
  const char *path; /* when cell is NULL: the string at this dotted path, "<none>" if absent */
} api_column;

enum
{
  API_SUB_STATUS = 1,
  API_SUB_SCALE = 2,
  API_SUB_BINDING = 4,
  API_SUB_EVICTION = 8,
  API_SUB_STREAMS = 16, /* log, exec, attach, portforward (proxied to the node) */
  API_SUB_TOKEN = 32,   /* serviceaccounts/token (TokenRequest) */
};

struct api_resource
{
  const char *group; /* "" for core */
  const char *version;
  const char *kind;
  const char *plural;
  const char *singular;
  const char *short_names; /* space separated, or NULL */
  bool in_all;             /* category "all" */
  bool namespaced;
  unsigned subresources;
  const char *schema;       /* type name in the schema tables */
  const char *scale_path;   /* "spec.replicas" for the scale subresource */
  const api_column *columns; /* NULL-name terminated; NAME is implied first, AGE last */
  const char *const *field_selectors; /* extra dotted paths allowed in fieldSelector */
  /* Fill defaults on create/update (objects as stored). */
  void (*defaults) (json_t *obj);
  /* Adds problems for invalid objects; old is NULL on create. */
  void (*validate) (const json_t *obj, const json_t *old, api_problems *p);
  const char *storage; /* store resource name when not the plural */
  bool review; /* not stored: only POST, answered at once (access reviews) */
  /* Conversion when this version is not the storage version (NULL: same shape). */
  void (*to_storage) (json_t *obj);
  void (*from_storage) (json_t *obj);
  bool name_wide; /* Table: no leading NAME column (events list it among their own) */
};

/* Every served resource (NULL-plural terminated). */
extern const api_resource api_resources[];

const api_resource *api_registry_find (const char *group, const char *version,
                                       const char *plural);
/* The group-versions served, as "v1", "apps/v1", ... (NULL-terminated, static). */
const char *const *api_registry_group_versions (void);
const char *api_resource_api_version (const api_resource *res, char *buf, size_t len);
const char *api_resource_storage (const api_resource *res);

#endif
