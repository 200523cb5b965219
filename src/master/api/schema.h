/* husk api: the schema table of every served type (field names, JSON types, required fields,
   enums, patch merge keys). One description per type lives in schema/<group>.c as compact
   field specs; it drives unknown-field detection, validation, strategic merge patch and
   /openapi/v3 (and so `kubectl explain`).

   Field spec grammar (space separated):  name:type[!][~key|~][=A|B|C]
     type: s string, i integer, n number, b boolean, io int-or-string, q quantity,
           t date-time string, any (free-form JSON), obj (object with any fields),
           map (string->string), map<T>, [T] (array), or a type name defined in the tables.
     !  required     ~key  list merges by key (patchStrategy merge)   ~  primitive list merges
     =A|B  enum values. */
#ifndef HUSK_API_SCHEMA_H
#define HUSK_API_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>

typedef enum api_kind
{
  API_T_STRING,
  API_T_INT,
  API_T_NUMBER,
  API_T_BOOL,
  API_T_INTSTR,
  API_T_QUANTITY,
  API_T_TIME,
  API_T_ANY,    /* any JSON value */
  API_T_OPEN,   /* object, any members */
  API_T_STRUCT, /* object with the listed fields */
  API_T_MAP,
  API_T_ARRAY,
} api_kind;

typedef struct api_type api_type;

typedef struct api_field
{
  char *name;
  api_type *type;
  bool required;
  bool merge;      /* patchStrategy: merge */
  char *merge_key; /* patchMergeKey for lists of objects, or NULL */
  char **enums;    /* NULL-terminated, or NULL */
} api_field;

struct api_type
{
  api_kind kind;
  char *name; /* struct types: "io.k8s.api.core.v1.Container"-less short name ("Container") */
  char *description;
  api_field *fields;
  size_t nfields;
  api_type *elem; /* array / map element */
};

/* Tables, one per file in the schema folder. */
typedef struct api_type_def
{
  const char *name;
  const char *description;
  const char *fields;
} api_type_def;

/* The type named name (a struct), or NULL. Tables are parsed once, on first use. */
const api_type *api_schema_type (const char *name);
const api_field *api_schema_field (const api_type *t, const char *name);
/* Every struct type, for openapi (NULL-terminated array owned by the module). */
const api_type *const *api_schema_all (void);

/* Problems found checking a value against a type. */
typedef struct api_problems
{
  /* Each list is NULL until its first problem (json_array_size/get/foreach take NULL). */
  json_t *unknown; /* array of JSON paths of unknown fields ("spec.containers[0].foo") */
  json_t *type;    /* array of {field, message}: wrong JSON types (decode errors, 400) */
  json_t *invalid; /* array of {field, reason, message}: required/enum (422) */
  bool prune;      /* drop unknown fields from the value while checking */
} api_problems;

void api_problems_init (api_problems *p);
void api_problems_clear (api_problems *p);
void api_problem_invalid (api_problems *p, const char *field, const char *reason,
                          const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));
/* Checks v against t; path is v's JSON path ("" for the root). */
void api_schema_check (const api_type *t, json_t *v, const char *path, api_problems *p);

/* Tables, one per file under schema/ . */
extern const api_type_def api_schema_meta[];
extern const api_type_def api_schema_core[];
extern const api_type_def api_schema_apps[];
extern const api_type_def api_schema_other[];

#endif
