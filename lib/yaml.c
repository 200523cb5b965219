/* YAML -> JSON: a recursive walk over libyaml's event stream. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <yaml.h>

#include "lib/json.h"
#include "lib/yaml.h"

#define MAX_DEPTH 512

typedef struct
{
  yaml_parser_t parser;
  json_t *anchors; /* anchor name -> node, for aliases */
  husk_error **err;
  int depth;
} ctx_t;

static int mark_err (ctx_t *c, const yaml_mark_t *m, const char *fmt, ...) _printf_ (3, 4);
static int
mark_err (ctx_t *c, const yaml_mark_t *m, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  return husk_err (c->err, EINVAL, "yaml: line %zu, column %zu: %s", m->line + 1, m->column + 1,
                   msg);
}

static int
next_event (ctx_t *c, yaml_event_t *ev)
{
  if (yaml_parser_parse (&c->parser, ev))
    return 0;
  const yaml_mark_t *m = &c->parser.problem_mark;
  if (c->parser.context)
    return husk_err (c->err, EINVAL, "yaml: line %zu, column %zu: %s %s", m->line + 1,
                     m->column + 1, c->parser.problem, c->parser.context);
  return husk_err (c->err, EINVAL, "yaml: line %zu, column %zu: %s", m->line + 1, m->column + 1,
                   c->parser.problem ? c->parser.problem : "parse error");
}

static bool
one_of (const char *s, const char *const *set)
{
  for (; *set; set++)
    if (streq (s, *set))
      return true;
  return false;
}

static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const trues[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL};
static const char *const falses[]
    = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL};

/* Integers: decimal, 0x hex, 0o and YAML 1.1 leading-zero octal. 1 when s is one. */
static int
parse_int (const char *s, json_int_t *out)
{
  const char *p = s;
  bool neg = false;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  int base = 10;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
    base = 16, p += 2;
  else if (p[0] == '0' && p[1] == 'o')
    base = 8, p += 2;
  else if (p[0] == '0' && p[1] != '\0')
    base = 8, p += 1;
  if (*p == '\0')
    return 0;
  unsigned long long v = 0;
  for (; *p; p++)
    {
      int d;
      if (*p >= '0' && *p <= '9')
        d = *p - '0';
      else if (base == 16 && *p >= 'a' && *p <= 'f')
        d = *p - 'a' + 10;
      else if (base == 16 && *p >= 'A' && *p <= 'F')
        d = *p - 'A' + 10;
      else
        return 0;
      if (d >= base)
        return 0;
      if (v > (ULLONG_MAX - (unsigned) d) / (unsigned) base)
        return 0;
      v = v * (unsigned) base + (unsigned) d;
    }
  if ((!neg && v > (unsigned long long) INT64_MAX) || (neg && v > (unsigned long long) INT64_MAX + 1))
    return 0;
  *out = neg ? (json_int_t) (0 - v) : (json_int_t) v;
  return 1;
}

static int
parse_float (const char *s, double *out)
{
  const char *p = s;
  if (*p == '+' || *p == '-')
    p++;
  bool digits = false, dot = false;
  for (; *p && *p != 'e' && *p != 'E'; p++)
    {
      if (*p >= '0' && *p <= '9')
        digits = true;
      else if (*p == '.' && !dot)
        dot = true;
      else
        return 0;
    }
  if (!digits)
    return 0;
  if (*p == 'e' || *p == 'E')
    {
      p++;
      if (*p == '+' || *p == '-')
        p++;
      if (*p < '0' || *p > '9')
        return 0;
      while (*p >= '0' && *p <= '9')
        p++;
      if (*p)
        return 0;
    }
  *out = strtod (s, NULL);
  return isfinite (*out) ? 1 : 0;
}

static bool
is_special_float (const char *s)
{
  static const char *const specials[]
      = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
         ".nan", ".NaN", ".NAN", NULL};
  return one_of (s, specials);
}

static int
resolve_plain (ctx_t *c, const yaml_event_t *ev, const char *s, json_t **out)
{
  json_int_t i;
  double d;
  if (one_of (s, nulls))
    *out = json_null ();
  else if (one_of (s, trues))
    *out = json_true ();
  else if (one_of (s, falses))
    *out = json_false ();
  else if (parse_int (s, &i))
    *out = json_integer (i);
  else if (parse_float (s, &d))
    *out = json_real (d);
  else if (is_special_float (s))
    return mark_err (c, &ev->start_mark, "%s cannot be represented in JSON", s);
  else
    *out = json_stringn (s, strlen (s));
  return 0;
}

static int
resolve_tagged (ctx_t *c, const yaml_event_t *ev, const char *tag, const char *s, json_t **out)
{
  json_int_t i;
  double d;
  if (streq (tag, YAML_STR_TAG) || streq (tag, "tag:yaml.org,2002:binary") || streq (tag, "!"))
    *out = json_string (s);
  else if (streq (tag, YAML_INT_TAG) && parse_int (s, &i))
    *out = json_integer (i);
  else if (streq (tag, YAML_FLOAT_TAG) && parse_float (s, &d))
    *out = json_real (d);
  else if (streq (tag, YAML_BOOL_TAG) && (one_of (s, trues) || one_of (s, falses)))
    *out = json_boolean (one_of (s, trues));
  else if (streq (tag, YAML_NULL_TAG))
    *out = json_null ();
  else if (strncmp (tag, "tag:yaml.org,2002:", 18) == 0)
    return mark_err (c, &ev->start_mark, "value does not match its tag %s", tag);
  else
    *out = json_string (s); /* application tags: keep the text, as Kubernetes does */
  return 0;
}

static int
convert_scalar (ctx_t *c, const yaml_event_t *ev, json_t **out)
{
  const char *s = (const char *) ev->data.scalar.value;
  if (strlen (s) != ev->data.scalar.length)
    return mark_err (c, &ev->start_mark, "%s", "NUL byte in scalar");
  const char *tag = (const char *) ev->data.scalar.tag;
  int r;
  if (tag)
    r = resolve_tagged (c, ev, tag, s, out);
  else if (ev->data.scalar.plain_implicit && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
    r = resolve_plain (c, ev, s, out);
  else
    {
      *out = json_string (s);
      r = 0;
    }
  if (r == 0 && *out == NULL)
    return mark_err (c, &ev->start_mark, "%s", "scalar is not valid UTF-8");
  return r;
}

static int parse_node (ctx_t *c, yaml_event_t *ev, json_t **out);

static void
remember_anchor (ctx_t *c, const yaml_char_t *anchor, json_t *node)
{
  if (anchor)
    json_object_set (c->anchors, (const char *) anchor, node);
}

/* Text of a key: strings as they are, other scalars as their JSON text. */
static char *
key_text (json_t *k)
{
  if (json_is_string (k))
    return xstrdup (json_string_value (k));
  if (json_is_null (k))
    return xstrdup ("null");
  return husk_json_dump (k);
}

static int
apply_merge (ctx_t *c, const yaml_event_t *at, json_t *merges, json_t *map)
{
  size_t i;
  json_t *m;
  json_array_foreach (merges, i, m)
    {
      if (json_is_object (m))
        json_object_update_missing (map, m);
      else if (json_is_array (m))
        {
          size_t j;
          json_t *e;
          json_array_foreach (m, j, e)
            {
              if (!json_is_object (e))
                return mark_err (c, &at->start_mark, "%s", "merge key '<<' needs mappings");
              json_object_update_missing (map, e);
            }
        }
      else
        return mark_err (c, &at->start_mark, "%s", "merge key '<<' needs a mapping");
    }
  return 0;
}

static int
parse_mapping (ctx_t *c, yaml_event_t *start, json_t **out)
{
  _cleanup_json_ json_t *map = json_object ();
  _cleanup_json_ json_t *merges = json_array ();
  remember_anchor (c, start->data.mapping_start.anchor, map);
  for (;;)
    {
      yaml_event_t kev;
      int r = next_event (c, &kev);
      if (r < 0)
        return r;
      if (kev.type == YAML_MAPPING_END_EVENT)
        {
          yaml_event_delete (&kev);
          break;
        }
      bool merge = kev.type == YAML_SCALAR_EVENT && kev.data.scalar.tag == NULL
                   && kev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                   && streq ((const char *) kev.data.scalar.value, "<<");
      yaml_mark_t kmark = kev.start_mark;
      _cleanup_json_ json_t *k = NULL;
      r = parse_node (c, &kev, &k);
      if (r < 0)
        return r;
      yaml_event_t vev;
      r = next_event (c, &vev);
      if (r < 0)
        return r;
      _cleanup_json_ json_t *v = NULL;
      r = parse_node (c, &vev, &v);
      if (r < 0)
        return r;
      if (merge)
        {
          json_array_append (merges, v);
          continue;
        }
      if (json_is_object (k) || json_is_array (k))
        return mark_err (c, &kmark, "%s", "mapping key must be a scalar, not a collection");
      _cleanup_free_ char *ks = key_text (k);
      if (json_object_get (map, ks))
        return mark_err (c, &kmark, "mapping key \"%s\" already defined", ks);
      json_object_set (map, ks, v);
    }
  int r = apply_merge (c, start, merges, map);
  if (r < 0)
    return r;
  *out = TAKE_PTR (map);
  return 0;
}

static int
parse_sequence (ctx_t *c, yaml_event_t *start, json_t **out)
{
  _cleanup_json_ json_t *arr = json_array ();
  remember_anchor (c, start->data.sequence_start.anchor, arr);
  for (;;)
    {
      yaml_event_t ev;
      int r = next_event (c, &ev);
      if (r < 0)
        return r;
      if (ev.type == YAML_SEQUENCE_END_EVENT)
        {
          yaml_event_delete (&ev);
          break;
        }
      _cleanup_json_ json_t *v = NULL;
      r = parse_node (c, &ev, &v);
      if (r < 0)
        return r;
      json_array_append (arr, v);
    }
  *out = TAKE_PTR (arr);
  return 0;
}

/* Consumes *ev (deletes it) and the events of its subtree; *out gets a new reference. */
static int
parse_node (ctx_t *c, yaml_event_t *ev, json_t **out)
{
  int r;
  if (++c->depth > MAX_DEPTH)
    r = mark_err (c, &ev->start_mark, "nesting deeper than %s levels", "512");
  else
    switch (ev->type)
      {
      case YAML_SCALAR_EVENT:
        r = convert_scalar (c, ev, out);
        if (r == 0)
          remember_anchor (c, ev->data.scalar.anchor, *out);
        break;
      case YAML_ALIAS_EVENT:
        {
          json_t *a = json_object_get (c->anchors, (const char *) ev->data.alias.anchor);
          if (a == NULL)
            r = mark_err (c, &ev->start_mark, "unknown anchor '%s'",
                          (const char *) ev->data.alias.anchor);
          else
            {
              *out = json_deep_copy (a);
              r = 0;
            }
          break;
        }
      case YAML_MAPPING_START_EVENT:
        r = parse_mapping (c, ev, out);
        break;
      case YAML_SEQUENCE_START_EVENT:
        r = parse_sequence (c, ev, out);
        break;
      default:
        r = mark_err (c, &ev->start_mark, "%s", "unexpected event");
        break;
      }
  c->depth--;
  yaml_event_delete (ev);
  return r;
}

/* Reads one document after its DOCUMENT_START; *out is NULL for an empty document. */
static int
parse_document (ctx_t *c, json_t **out)
{
  yaml_event_t ev;
  int r = next_event (c, &ev);
  if (r < 0)
    return r;
  json_t *root = NULL;
  if (ev.type != YAML_DOCUMENT_END_EVENT)
    {
      r = parse_node (c, &ev, &root);
      if (r < 0)
        return r;
      r = next_event (c, &ev);
      if (r < 0)
        {
          json_decref (root);
          return r;
        }
    }
  yaml_event_delete (&ev);
  json_object_clear (c->anchors); /* anchors do not cross documents */
  if (json_is_null (root))
    {
      json_decref (root);
      root = NULL;
    }
  *out = root;
  return 0;
}

static int
parse_stream (ctx_t *c, json_t *docs)
{
  for (;;)
    {
      yaml_event_t ev;
      int r = next_event (c, &ev);
      if (r < 0)
        return r;
      yaml_event_type_t type = ev.type;
      yaml_event_delete (&ev);
      if (type == YAML_STREAM_END_EVENT)
        return 0;
      if (type != YAML_DOCUMENT_START_EVENT)
        continue; /* STREAM_START */
      json_t *doc = NULL;
      r = parse_document (c, &doc);
      if (r < 0)
        return r;
      if (doc)
        json_array_append_new (docs, doc);
    }
}

int
husk_yaml_to_json (const char *data, size_t len, json_t **out_docs, husk_error **err)
{
  ctx_t c = {.anchors = json_object (), .err = err};
  if (!yaml_parser_initialize (&c.parser))
    husk_oom ();
  yaml_parser_set_input_string (&c.parser, (const unsigned char *) data, len);
  _cleanup_json_ json_t *docs = json_array ();
  int r = parse_stream (&c, docs);
  yaml_parser_delete (&c.parser);
  json_decref (c.anchors);
  if (r < 0)
    return r;
  *out_docs = TAKE_PTR (docs);
  return 0;
}

int
husk_yaml_to_json_one (const char *data, size_t len, json_t **out, husk_error **err)
{
  _cleanup_json_ json_t *docs = NULL;
  int r = husk_yaml_to_json (data, len, &docs, err);
  if (r < 0)
    return r;
  if (json_array_size (docs) != 1)
    return husk_err (err, EINVAL, "yaml: expected one document, found %zu",
                     json_array_size (docs));
  *out = json_incref (json_array_get (docs, 0));
  return 0;
}
