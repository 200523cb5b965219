#include "config.h"

#include <errno.h>
#include <inttypes.h>

#include "lib/json.h"
#include "lib/path.h"

int
husk_json_parse (const char *data, size_t len, json_t **out, husk_error **err)
{
  json_error_t jerr;
  json_t *j = json_loadb (data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  if (j == NULL)
    return husk_err (err, EINVAL, "json: line %d, column %d: %s", jerr.line, jerr.column,
                     jerr.text);
  *out = j;
  return 0;
}

int
husk_json_load_file (const char *path, json_t **out, husk_error **err)
{
  _cleanup_free_ char *data = NULL;
  size_t len = 0;
  int r = husk_read_file (path, &data, &len, err);
  if (r < 0)
    return r;
  r = husk_json_parse (data, len, out, err);
  if (r < 0)
    return husk_err_wrap (err, "%s", path);
  return 0;
}

char *
husk_json_dump (const json_t *j)
{
  char *s = json_dumps (j, JSON_COMPACT | JSON_ENCODE_ANY);
  if (s == NULL)
    husk_oom ();
  return s;
}

static json_t *
step (const json_t *cur, const char *comp, size_t n)
{
  if (json_is_object (cur))
    {
      _cleanup_free_ char *k = xstrndup (comp, n);
      return json_object_get (cur, k);
    }
  if (json_is_array (cur) && n > 0)
    {
      size_t idx = 0;
      for (size_t i = 0; i < n; i++)
        {
          if (comp[i] < '0' || comp[i] > '9')
            return NULL;
          idx = idx * 10 + (size_t) (comp[i] - '0');
        }
      return json_array_get (cur, idx);
    }
  return NULL;
}

json_t *
husk_json_path (const json_t *root, const char *dotted)
{
  const json_t *cur = root;
  const char *p = dotted;
  while (cur && *p)
    {
      const char *dot = strchr (p, '.');
      size_t n = dot ? (size_t) (dot - p) : strlen (p);
      cur = step (cur, p, n);
      p += n + (dot ? 1 : 0);
    }
  return (json_t *) cur;
}

const char *
husk_json_path_str (const json_t *root, const char *dotted)
{
  return json_string_value (husk_json_path (root, dotted));
}

json_int_t
husk_json_path_int (const json_t *root, const char *dotted, json_int_t dflt)
{
  json_t *v = husk_json_path (root, dotted);
  return json_is_integer (v) ? json_integer_value (v) : dflt;
}

const char *
husk_json_type_name (const json_t *j)
{
  if (j == NULL)
    return "nothing";
  switch (json_typeof (j))
    {
    case JSON_OBJECT:
      return "object";
    case JSON_ARRAY:
      return "array";
    case JSON_STRING:
      return "string";
    case JSON_INTEGER:
      return "integer";
    case JSON_REAL:
      return "number";
    case JSON_TRUE:
    case JSON_FALSE:
      return "boolean";
    case JSON_NULL:
      return "null";
    }
  return "unknown";
}

static int
type_error (husk_error **err, const char *where, const char *key, const char *want, json_t *got)
{
  return husk_err (err, EINVAL, "%s%s%s: expected %s, got %s", where ? where : "",
                   where && *where ? "." : "", key, want, husk_json_type_name (got));
}

/* Returns 1 with *v set when present, 0 when absent, <0 on wrong type. */
static int
member (json_t *obj, const char *key, const char *where, json_t **v, husk_error **err)
{
  if (!json_is_object (obj))
    return husk_err (err, EINVAL, "%s: expected object, got %s", where ? where : "(root)",
                     husk_json_type_name (obj));
  *v = json_object_get (obj, key);
  return *v != NULL;
}

#define GETTER(fname, ctype, check, want, extract)                                                 \
  int fname (json_t *obj, const char *key, const char *where, ctype *out, husk_error **err)        \
  {                                                                                                \
    json_t *v;                                                                                     \
    int r = member (obj, key, where, &v, err);                                                     \
    if (r <= 0)                                                                                    \
      return r;                                                                                    \
    if (!(check (v)))                                                                              \
      return type_error (err, where, key, want, v);                                                \
    *out = extract (v);                                                                            \
    return 0;                                                                                      \
  }

#define IDENT(v) (v)
GETTER (husk_json_get_str, const char *, json_is_string, "string", json_string_value)
GETTER (husk_json_get_int, json_int_t, json_is_integer, "integer", json_integer_value)
GETTER (husk_json_get_bool, bool, json_is_boolean, "boolean", json_is_true)
GETTER (husk_json_get_obj, json_t *, json_is_object, "object", IDENT)
GETTER (husk_json_get_arr, json_t *, json_is_array, "array", IDENT)

int
husk_json_get_strv (json_t *obj, const char *key, const char *where, char ***out,
                    husk_error **err)
{
  json_t *arr = NULL;
  int r = husk_json_get_arr (obj, key, where, &arr, err);
  if (r < 0 || arr == NULL)
    return r;
  size_t n = json_array_size (arr);
  _cleanup_strv_ char **v = xcalloc (n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    {
      json_t *e = json_array_get (arr, i);
      if (!json_is_string (e))
        return husk_err (err, EINVAL, "%s%s%s[%zu]: expected string, got %s", where ? where : "",
                         where && *where ? "." : "", key, i, husk_json_type_name (e));
      v[i] = xstrdup (json_string_value (e));
    }
  strv_free (*out);
  *out = TAKE_PTR (v);
  return 0;
}

int
husk_json_check_keys (json_t *obj, const char *where, const char *const *allowed,
                      husk_error **err)
{
  const char *key;
  json_t *v;
  json_object_foreach (obj, key, v)
    {
      bool ok = false;
      for (size_t i = 0; allowed[i] && !ok; i++)
        ok = streq (key, allowed[i]);
      if (!ok)
        return husk_err (err, EINVAL, "%s%s%s: unknown field", where ? where : "",
                         where && *where ? "." : "", key);
    }
  return 0;
}
