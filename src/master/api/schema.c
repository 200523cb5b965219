/* husk api: parsing the schema tables and checking objects against them. */
#include "config.h"

#include <pthread.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "src/master/api/schema.h"

static api_type **all_types; /* NULL-terminated, struct types in table order */
static size_t n_types;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static api_type *
scalar (api_kind k)
{
  static api_type scalars[API_T_ARRAY + 1];
  scalars[k].kind = k;
  return &scalars[k];
}

static api_type *
find_struct (const char *name, size_t len)
{
  for (size_t i = 0; i < n_types; i++)
    if (strlen (all_types[i]->name) == len && strncmp (all_types[i]->name, name, len) == 0)
      return all_types[i];
  return NULL;
}

static api_type *
new_type (api_kind k, api_type *elem)
{
  api_type *t = xzalloc (sizeof *t);
  t->kind = k;
  t->elem = elem;
  return t;
}

/* Parses a type expression of length len; unknown names abort (a table bug). */
static api_type *
parse_type (const char *s, size_t len)
{
  static const struct
  {
    const char *tok;
    api_kind kind;
  } scalars_tab[] = {{"s", API_T_STRING}, {"i", API_T_INT},     {"n", API_T_NUMBER},
                     {"b", API_T_BOOL},   {"io", API_T_INTSTR}, {"q", API_T_QUANTITY},
                     {"t", API_T_TIME},   {"any", API_T_ANY},   {"obj", API_T_OPEN}};
  if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
    return new_type (API_T_ARRAY, parse_type (s + 1, len - 2));
  if (len == 3 && strncmp (s, "map", 3) == 0)
    return new_type (API_T_MAP, scalar (API_T_STRING));
  if (len > 5 && strncmp (s, "map<", 4) == 0 && s[len - 1] == '>')
    return new_type (API_T_MAP, parse_type (s + 4, len - 5));
  for (size_t i = 0; i < ARRAY_SIZE (scalars_tab); i++)
    if (strlen (scalars_tab[i].tok) == len && strncmp (s, scalars_tab[i].tok, len) == 0)
      return scalar (scalars_tab[i].kind);
  api_type *t = find_struct (s, len);
  if (t == NULL)
    {
      fprintf (stderr, "husk: schema table names unknown type '%.*s'\n", (int) len, s);
      abort ();
    }
  return t;
}

static char **
split_enums (const char *s, size_t len)
{
  size_t n = 1;
  for (size_t i = 0; i < len; i++)
    n += s[i] == '|';
  char **v = xcalloc (n + 1, sizeof *v);
  size_t k = 0;
  const char *p = s, *end = s + len;
  while (p <= end && k < n)
    {
      const char *bar = memchr (p, '|', (size_t) (end - p));
      size_t l = bar ? (size_t) (bar - p) : (size_t) (end - p);
      v[k++] = xstrndup (p, l);
      p += l + 1;
    }
  return v;
}

/* name:type[!][~key|~][=A|B] */
static void
parse_field (api_field *f, const char *tok, size_t len)
{
  const char *end = tok + len;
  const char *colon = memchr (tok, ':', len);
  if (colon == NULL)
    {
      fprintf (stderr, "husk: schema field '%.*s' has no type\n", (int) len, tok);
      abort ();
    }
  f->name = xstrndup (tok, (size_t) (colon - tok));
  const char *ty = colon + 1;
  const char *te = ty;
  int depth = 0;
  while (te < end && (depth > 0 || (*te != '!' && *te != '~' && *te != '=')))
    {
      if (*te == '[' || *te == '<')
        depth++;
      else if (*te == ']' || *te == '>')
        depth--;
      te++;
    }
  f->type = parse_type (ty, (size_t) (te - ty));
  const char *p = te;
  while (p < end)
    {
      if (*p == '!')
        f->required = true, p++;
      else if (*p == '~')
        {
          p++;
          const char *q = p;
          while (q < end && *q != '!' && *q != '=')
            q++;
          f->merge = true;
          if (q > p)
            f->merge_key = xstrndup (p, (size_t) (q - p));
          p = q;
        }
      else if (*p == '=')
        {
          f->enums = split_enums (p + 1, (size_t) (end - p - 1));
          p = end;
        }
      else
        p++;
    }
}

static void
parse_fields (api_type *t, const char *spec)
{
  size_t cap = 8;
  t->fields = xcalloc (cap, sizeof *t->fields);
  const char *p = spec;
  while (*p)
    {
      while (*p == ' ' || *p == '\n')
        p++;
      if (!*p)
        break;
      size_t len = strcspn (p, " \n");
      if (t->nfields == cap)
        {
          t->fields = xreallocarray (t->fields, cap * 2, sizeof *t->fields);
          memset (t->fields + cap, 0, cap * sizeof *t->fields);
          cap *= 2;
        }
      parse_field (&t->fields[t->nfields++], p, len);
      p += len;
    }
}

static const api_type_def *const tables[]
    = {api_schema_meta, api_schema_core, api_schema_apps, api_schema_other};

static void
build (void)
{
  size_t total = 0;
  for (size_t i = 0; i < ARRAY_SIZE (tables); i++)
    for (const api_type_def *d = tables[i]; d->name; d++)
      total++;
  all_types = xcalloc (total + 1, sizeof *all_types);
  /* First every name, so that types may refer to each other in any order. */
  for (size_t i = 0; i < ARRAY_SIZE (tables); i++)
    for (const api_type_def *d = tables[i]; d->name; d++)
      {
        api_type *t = new_type (d->fields ? API_T_STRUCT : API_T_OPEN, NULL);
        t->name = xstrdup (d->name);
        t->description = xstrdup (d->description ? d->description : "");
        all_types[n_types++] = t;
      }
  size_t k = 0;
  for (size_t i = 0; i < ARRAY_SIZE (tables); i++)
    for (const api_type_def *d = tables[i]; d->name; d++, k++)
      if (d->fields)
        parse_fields (all_types[k], d->fields);
}

const api_type *
api_schema_type (const char *name)
{
  pthread_once (&once, build);
  /* The last type found by this thread (a create asks twice for its type): one compare
     instead of a walk over every type. */
  static __thread const api_type *last_type;
  if (last_type && streq (last_type->name, name))
    return last_type;
  const api_type *t = find_struct (name, strlen (name));
  if (t)
    last_type = t;
  return t;
}

const api_type *const *
api_schema_all (void)
{
  pthread_once (&once, build);
  return (const api_type *const *) all_types;
}

const api_field *
api_schema_field (const api_type *t, const char *name)
{
  if (t == NULL || t->kind != API_T_STRUCT)
    return NULL;
  for (size_t i = 0; i < t->nfields; i++)
    if (streq (t->fields[i].name, name))
      return &t->fields[i];
  return NULL;
}

/* ---- checking ---- */

void
api_problems_init (api_problems *p)
{
  /* The lists are made by the first problem of their kind (most writes have none). */
  p->unknown = p->type = p->invalid = NULL;
}

void
api_problems_clear (api_problems *p)
{
  json_decref (p->unknown);
  json_decref (p->type);
  json_decref (p->invalid);
  memset (p, 0, sizeof *p);
}

static json_t *
problem_list (json_t **l)
{
  if (*l == NULL)
    *l = json_array ();
  return *l;
}

void
api_problem_invalid (api_problems *p, const char *field, const char *reason, const char *fmt,
                     ...)
{
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  json_array_append_new (problem_list (&p->invalid),
                         json_pack ("{s:s, s:s, s:s}", "field", field, "reason", reason,
                                    "message", msg));
}

static void
type_problem (api_problems *p, const char *path, const char *want, json_t *v)
{
  static const char *const names[]
      = {"object", "array", "string", "number", "number", "bool", "bool", "null"};
  const char *got = names[json_typeof (v)];
  json_array_append_new (
      problem_list (&p->type), json_pack ("{s:s, s:s+++}", "field", path, "message", "cannot unmarshal ", got,
                          " into field of type ", want));
}

/* The walk keeps the current field path in one buffer: a step appends to it and cut_path
   takes it back (no string made per field; problems copy the path when they need it). */
static size_t
push_field (husk_buf *path, const char *key)
{
  size_t mark = path->len;
  if (mark)
    husk_buf_putc (path, '.');
  husk_buf_puts (path, key);
  return mark;
}

static void
cut_path (husk_buf *path, size_t mark)
{
  path->len = mark;
  if (path->data)
    path->data[mark] = '\0';
}

static void check_value (const api_type *t, json_t *v, husk_buf *path, api_problems *p);

static void
check_struct (const api_type *t, json_t *v, husk_buf *path, api_problems *p)
{
  const char *key;
  json_t *mv;
  void *tmp;
  json_object_foreach_safe (v, tmp, key, mv)
  {
    const api_field *f = api_schema_field (t, key);
    size_t mark = push_field (path, key);
    const char *cp = husk_buf_str (path);
    if (f == NULL)
      {
        json_array_append_new (problem_list (&p->unknown), json_string (cp));
        if (p->prune)
          json_object_del (v, key);
        cut_path (path, mark);
        continue;
      }
    if (json_is_null (mv))
      {
        cut_path (path, mark);
        continue;
      }
    check_value (f->type, mv, path, p);
    cp = husk_buf_str (path);
    if (f->enums && json_is_string (mv))
      {
        bool found = false;
        for (char **e = f->enums; *e && !found; e++)
          found = streq (*e, json_string_value (mv));
        if (!found)
          {
            _cleanup_free_ char *list = NULL;
            for (char **e = f->enums; *e; e++)
              {
                char *n = xasprintf ("%s%s\"%s\"", list ? list : "", list ? ", " : "", *e);
                free (list);
                list = n;
              }
            api_problem_invalid (p, cp, "FieldValueNotSupported",
                                 "Unsupported value: \"%s\": supported values: %s",
                                 json_string_value (mv), list);
          }
      }
    cut_path (path, mark);
  }
  for (size_t i = 0; i < t->nfields; i++)
    if (t->fields[i].required)
      {
        json_t *fv = json_object_get (v, t->fields[i].name);
        if (fv == NULL || json_is_null (fv) || (json_is_string (fv) && !*json_string_value (fv)))
          {
            size_t mark = push_field (path, t->fields[i].name);
            api_problem_invalid (p, husk_buf_str (path), "FieldValueRequired", "Required value");
            cut_path (path, mark);
          }
      }
}

static void
check_value (const api_type *t, json_t *v, husk_buf *pathbuf, api_problems *p)
{
  const char *path = husk_buf_str (pathbuf);
  switch (t->kind)
    {
    case API_T_STRING:
    case API_T_TIME:
      if (!json_is_string (v))
        type_problem (p, path, "string", v);
      break;
    case API_T_INT:
      if (!json_is_integer (v) && !(json_is_real (v) && json_real_value (v) == (double) (json_int_t) json_real_value (v)))
        type_problem (p, path, "int", v);
      break;
    case API_T_NUMBER:
      if (!json_is_number (v))
        type_problem (p, path, "float64", v);
      break;
    case API_T_BOOL:
      if (!json_is_boolean (v))
        type_problem (p, path, "bool", v);
      break;
    case API_T_INTSTR:
    case API_T_QUANTITY:
      if (!json_is_string (v) && !json_is_number (v))
        type_problem (p, path, "int-or-string", v);
      break;
    case API_T_ANY:
      break;
    case API_T_OPEN:
      if (!json_is_object (v))
        type_problem (p, path, "object", v);
      break;
    case API_T_STRUCT:
      if (!json_is_object (v))
        type_problem (p, path, "object", v);
      else
        check_struct (t, v, pathbuf, p);
      break;
    case API_T_MAP:
      {
        if (!json_is_object (v))
          {
            type_problem (p, path, "map", v);
            break;
          }
        const char *key;
        json_t *mv;
        json_object_foreach (v, key, mv)
        {
          if (json_is_null (mv))
            continue;
          size_t mark = pathbuf->len;
          husk_buf_printf (pathbuf, "[%s]", key);
          check_value (t->elem, mv, pathbuf, p);
          cut_path (pathbuf, mark);
        }
        break;
      }
    case API_T_ARRAY:
      {
        if (!json_is_array (v))
          {
            type_problem (p, path, "array", v);
            break;
          }
        size_t i;
        json_t *ev;
        json_array_foreach (v, i, ev)
        {
          size_t mark = pathbuf->len;
          husk_buf_printf (pathbuf, "[%zu]", i);
          check_value (t->elem, ev, pathbuf, p);
          cut_path (pathbuf, mark);
        }
        break;
      }
    }
}

void
api_schema_check (const api_type *t, json_t *v, const char *path, api_problems *p)
{
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  husk_buf_puts (&b, path);
  check_value (t, v, &b, p);
}
