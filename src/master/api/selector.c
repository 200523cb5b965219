/* husk api: label and field selectors. */
#include "config.h"

#include <ctype.h>
#include <errno.h>

#include "lib/json.h"
#include "src/master/api/selector.h"

typedef enum op
{
  OP_EQ,
  OP_NE,
  OP_IN,
  OP_NOTIN,
  OP_EXISTS,
  OP_NOTEXISTS,
} op;

typedef struct req
{
  char *key;
  op op;
  char **values; /* NULL-terminated */
} req;

struct api_selector
{
  bool fields; /* field selector: keys are dotted paths into the object */
  req *reqs;
  size_t n;
};

void
api_selector_free (api_selector *sel)
{
  if (sel == NULL)
    return;
  for (size_t i = 0; i < sel->n; i++)
    {
      free (sel->reqs[i].key);
      strv_free (sel->reqs[i].values);
    }
  free (sel->reqs);
  free (sel);
}

static char *
trim (const char *s, size_t n)
{
  while (n && isspace ((unsigned char) *s))
    s++, n--;
  while (n && isspace ((unsigned char) s[n - 1]))
    n--;
  return xstrndup (s, n);
}

static void
add_req (api_selector *sel, char *key, op o, char **values)
{
  sel->reqs = xreallocarray (sel->reqs, sel->n + 1, sizeof *sel->reqs);
  sel->reqs[sel->n++] = (req){key, o, values};
}

static char **
one_value (char *v)
{
  char **vals = xcalloc (2, sizeof *vals);
  vals[0] = v;
  return vals;
}

static bool
valid_key (const char *k)
{
  if (!*k)
    return false;
  for (const char *p = k; *p; p++)
    if (!(isalnum ((unsigned char) *p) || strchr ("-_./", *p)))
      return false;
  return true;
}

static bool
valid_value (const char *v)
{
  for (const char *p = v; *p; p++)
    if (!(isalnum ((unsigned char) *p) || strchr ("-_.", *p)))
      return false;
  return true;
}

/* "(a, b, c)" -> values. */
static int
parse_set (const char *s, char ***out, husk_error **err)
{
  while (isspace ((unsigned char) *s))
    s++;
  size_t n = strlen (s);
  while (n && isspace ((unsigned char) s[n - 1]))
    n--;
  if (n < 2 || s[0] != '(' || s[n - 1] != ')')
    return husk_err (err, EINVAL, "unable to parse requirement: found '%s', expected: '(value, ...)'", s);
  size_t cap = 4, k = 0;
  char **vals = xcalloc (cap, sizeof *vals);
  const char *p = s + 1, *end = s + n - 1;
  while (p <= end)
    {
      const char *c = memchr (p, ',', (size_t) (end - p));
      size_t l = c ? (size_t) (c - p) : (size_t) (end - p);
      if (k + 2 > cap)
        vals = xreallocarray (vals, cap *= 2, sizeof *vals);
      vals[k] = trim (p, l);
      vals[k + 1] = NULL;
      if (!valid_value (vals[k]))
        {
          int r = husk_err (err, EINVAL, "invalid label value: \"%s\"", vals[k]);
          strv_free (vals);
          return r;
        }
      k++;
      p += l + 1;
    }
  *out = vals;
  return 0;
}

static int
parse_one (api_selector *sel, const char *s, husk_error **err)
{
  _cleanup_free_ char *t = trim (s, strlen (s));
  if (!*t)
    return 0;
  char *p;
  if (t[0] == '!')
    {
      char *k = trim (t + 1, strlen (t + 1));
      if (!valid_key (k))
        {
          int r = husk_err (err, EINVAL, "unable to parse requirement: invalid label key \"%s\"", k);
          free (k);
          return r;
        }
      add_req (sel, k, OP_NOTEXISTS, NULL);
      return 0;
    }
  if ((p = strstr (t, "!=")))
    {
      add_req (sel, trim (t, (size_t) (p - t)), OP_NE, one_value (trim (p + 2, strlen (p + 2))));
    }
  else if ((p = strstr (t, "==")))
    add_req (sel, trim (t, (size_t) (p - t)), OP_EQ, one_value (trim (p + 2, strlen (p + 2))));
  else if ((p = strchr (t, '=')))
    add_req (sel, trim (t, (size_t) (p - t)), OP_EQ, one_value (trim (p + 1, strlen (p + 1))));
  else
    {
      /* key, "key in (...)" or "key notin (...)" */
      size_t kl = strcspn (t, " \t(");
      char *rest = t + kl;
      while (isspace ((unsigned char) *rest))
        rest++;
      if (!*rest)
        {
          char *k = xstrdup (t);
          if (!valid_key (k))
            {
              int r = husk_err (err, EINVAL, "unable to parse requirement: invalid label key \"%s\"", k);
              free (k);
              return r;
            }
          add_req (sel, k, OP_EXISTS, NULL);
          return 0;
        }
      op o;
      if (strncmp (rest, "notin", 5) == 0)
        o = OP_NOTIN, rest += 5;
      else if (strncmp (rest, "in", 2) == 0)
        o = OP_IN, rest += 2;
      else
        return husk_err (err, EINVAL,
                         "unable to parse requirement: found '%s', expected: in, notin, =, ==, "
                         "!=, gt, lt",
                         rest);
      char **vals = NULL;
      int r = parse_set (rest, &vals, err);
      if (r < 0)
        return r;
      add_req (sel, xstrndup (t, kl), o, vals);
    }
  req *last = &sel->reqs[sel->n - 1];
  if (!valid_key (last->key))
    return husk_err (err, EINVAL, "unable to parse requirement: invalid label key \"%s\"", last->key);
  if (!sel->fields && last->values && !valid_value (last->values[0]))
    return husk_err (err, EINVAL, "invalid label value: \"%s\"", last->values[0]);
  return 0;
}

/* Splits at commas outside parentheses. */
static int
parse (api_selector *sel, const char *s, husk_error **err)
{
  int depth = 0;
  const char *start = s;
  for (const char *p = s;; p++)
    {
      if (*p == '(')
        depth++;
      else if (*p == ')')
        depth--;
      if ((*p == ',' && depth == 0) || *p == '\0')
        {
          _cleanup_free_ char *part = xstrndup (start, (size_t) (p - start));
          int r = parse_one (sel, part, err);
          if (r < 0)
            return r;
          if (*p == '\0')
            break;
          start = p + 1;
        }
    }
  return 0;
}

int
api_label_selector_parse (const char *s, api_selector **out, husk_error **err)
{
  api_selector *sel = xzalloc (sizeof *sel);
  int r = parse (sel, s ? s : "", err);
  if (r < 0)
    {
      api_selector_free (sel);
      return r;
    }
  *out = sel;
  return 0;
}

int
api_field_selector_parse (const char *s, const char *const *allowed, api_selector **out,
                          husk_error **err)
{
  api_selector *sel = xzalloc (sizeof *sel);
  sel->fields = true;
  int r = parse (sel, s ? s : "", err);
  for (size_t i = 0; r == 0 && i < sel->n; i++)
    {
      req *q = &sel->reqs[i];
      bool ok = streq (q->key, "metadata.name") || streq (q->key, "metadata.namespace");
      for (size_t k = 0; allowed && allowed[k] && !ok; k++)
        ok = streq (q->key, allowed[k]);
      if (!ok)
        r = husk_err (err, EINVAL, "field label not supported: %s", q->key);
      else if (q->op != OP_EQ && q->op != OP_NE)
        r = husk_err (err, EINVAL, "invalid field selector operator for %s", q->key);
    }
  if (r < 0)
    {
      api_selector_free (sel);
      return r;
    }
  *out = sel;
  return 0;
}

static bool
in_values (char **vals, const char *v)
{
  for (size_t i = 0; vals && vals[i]; i++)
    if (streq (vals[i], v))
      return true;
  return false;
}

/* The string form of a field's value ("" when absent). */
static const char *
field_value (const json_t *obj, const char *path, char *buf, size_t len)
{
  json_t *v = husk_json_path (obj, path);
  if (json_is_string (v))
    return json_string_value (v);
  if (json_is_boolean (v))
    return json_is_true (v) ? "true" : "false";
  if (json_is_integer (v))
    {
      snprintf (buf, len, "%lld", (long long) json_integer_value (v));
      return buf;
    }
  return "";
}

bool
api_selector_matches (const api_selector *sel, const json_t *obj)
{
  if (sel == NULL)
    return true;
  const json_t *labels = husk_json_path (obj, "metadata.labels");
  for (size_t i = 0; i < sel->n; i++)
    {
      const req *q = &sel->reqs[i];
      char buf[32];
      const char *v;
      bool has;
      if (sel->fields)
        {
          v = field_value (obj, q->key, buf, sizeof buf);
          has = true;
        }
      else
        {
          json_t *lv = json_object_get (labels, q->key);
          has = json_is_string (lv);
          v = has ? json_string_value (lv) : NULL;
        }
      switch (q->op)
        {
        case OP_EQ:
        case OP_IN:
          if (!has || !in_values (q->values, v))
            return false;
          break;
        case OP_NE:
        case OP_NOTIN:
          if (has && in_values (q->values, v))
            return false;
          break;
        case OP_EXISTS:
          if (!has)
            return false;
          break;
        case OP_NOTEXISTS:
          if (has)
            return false;
          break;
        }
    }
  return true;
}

const char *
api_selector_equals (const api_selector *sel, const char *path)
{
  for (size_t i = 0; sel && i < sel->n; i++)
    if (sel->reqs[i].op == OP_EQ && streq (sel->reqs[i].key, path))
      return sel->reqs[i].values[0];
  return NULL;
}

int
api_label_selector_from_json (const json_t *ls, api_selector **out, husk_error **err)
{
  api_selector *sel = xzalloc (sizeof *sel);
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *) json_object_get (ls, "matchLabels"), k, v)
  if (json_is_string (v))
    add_req (sel, xstrdup (k), OP_EQ, one_value (xstrdup (json_string_value (v))));
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get (ls, "matchExpressions"), i, e)
  {
    const char *key = json_string_value (json_object_get (e, "key"));
    const char *o = json_string_value (json_object_get (e, "operator"));
    if (!key || !o)
      continue;
    op oo = streq (o, "In") ? OP_IN : streq (o, "NotIn") ? OP_NOTIN
                                   : streq (o, "Exists") ? OP_EXISTS
                                                         : OP_NOTEXISTS;
    json_t *vals = json_object_get (e, "values");
    char **vv = xcalloc (json_array_size (vals) + 1, sizeof *vv);
    size_t j;
    json_t *x;
    json_array_foreach (vals, j, x) vv[j] = xstrdup (json_string_value (x) ? json_string_value (x) : "");
    add_req (sel, xstrdup (key), oo, vv);
  }
  *out = sel;
  (void) err;
  return 0;
}
