/* husk api: JSON merge patch, JSON patch and strategic merge patch. */
#include "config.h"

#include <errno.h>

#include "lib/util.h"
#include "src/master/api/patch.h"

json_t *
api_merge_patch (const json_t *target, const json_t *patch)
{
  if (!json_is_object (patch))
    return json_deep_copy (patch);
  json_t *out = json_is_object (target) ? json_deep_copy (target) : json_object ();
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *) patch, k, v)
  {
    if (json_is_null (v))
      json_object_del (out, k);
    else
      json_object_set_new (out, k, api_merge_patch (json_object_get (out, k), v));
  }
  return out;
}

/* ---- JSON patch ---- */

static char *
unescape_token (const char *s, size_t n)
{
  char *t = xmalloc (n + 1), *o = t;
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1'))
        *o++ = s[++i] == '0' ? '~' : '/';
      else
        *o++ = s[i];
    }
  *o = '\0';
  return t;
}

/* Resolves all but the last token of ptr; *last gets the last token. */
static json_t *
parent_of (json_t *root, const char *ptr, char **last, husk_error **err)
{
  if (ptr == NULL || (*ptr && *ptr != '/'))
    return husk_err (err, EINVAL, "json patch: invalid path \"%s\"", ptr ? ptr : ""), NULL;
  json_t *cur = root;
  const char *p = ptr;
  while (*p == '/')
    {
      const char *q = strchr (p + 1, '/');
      size_t n = q ? (size_t) (q - p - 1) : strlen (p + 1);
      char *tok = unescape_token (p + 1, n);
      if (q == NULL)
        {
          *last = tok;
          return cur;
        }
      json_t *next = NULL;
      if (json_is_object (cur))
        next = json_object_get (cur, tok);
      else if (json_is_array (cur))
        {
          char *end;
          long idx = strtol (tok, &end, 10);
          if (!*end && idx >= 0)
            next = json_array_get (cur, (size_t) idx);
        }
      free (tok);
      if (next == NULL)
        return husk_err (err, EINVAL, "json patch: path \"%s\" does not exist", ptr), NULL;
      cur = next;
      p = q;
    }
  return husk_err (err, EINVAL, "json patch: invalid path \"%s\"", ptr), NULL;
}

static int
array_index (json_t *arr, const char *tok, bool allow_end, size_t *out, husk_error **err)
{
  if (allow_end && streq (tok, "-"))
    {
      *out = json_array_size (arr);
      return 0;
    }
  char *end;
  long idx = strtol (tok, &end, 10);
  size_t max = json_array_size (arr) + (allow_end ? 1 : 0);
  if (*tok == '\0' || *end || idx < 0 || (size_t) idx >= max)
    return husk_err (err, EINVAL, "json patch: array index %s out of range", tok);
  *out = (size_t) idx;
  return 0;
}

static json_t *
get_at (json_t *root, const char *ptr, husk_error **err)
{
  if (*ptr == '\0')
    return root;
  _cleanup_free_ char *last = NULL;
  json_t *parent = parent_of (root, ptr, &last, err);
  if (parent == NULL)
    return NULL;
  json_t *v = NULL;
  size_t idx;
  if (json_is_object (parent))
    v = json_object_get (parent, last);
  else if (json_is_array (parent) && array_index (parent, last, false, &idx, NULL) == 0)
    v = json_array_get (parent, idx);
  if (v == NULL)
    husk_err (err, EINVAL, "json patch: path \"%s\" does not exist", ptr);
  return v;
}

static int
remove_at (json_t *root, const char *ptr, husk_error **err)
{
  _cleanup_free_ char *last = NULL;
  json_t *parent = parent_of (root, ptr, &last, err);
  if (parent == NULL)
    return -1;
  size_t idx;
  if (json_is_object (parent))
    {
      if (json_object_del (parent, last) < 0)
        return husk_err (err, EINVAL, "json patch: path \"%s\" does not exist", ptr);
      return 0;
    }
  if (json_is_array (parent) && array_index (parent, last, false, &idx, err) == 0)
    return json_array_remove (parent, idx);
  return -1;
}

/* add (replace=false) or replace (replace=true) value (reference stolen). */
static int
put_at (json_t *root, const char *ptr, json_t *value, bool replace, husk_error **err)
{
  _cleanup_free_ char *last = NULL;
  json_t *parent = parent_of (root, ptr, &last, err);
  if (parent == NULL)
    {
      json_decref (value);
      return -1;
    }
  size_t idx;
  if (json_is_object (parent))
    {
      if (replace && json_object_get (parent, last) == NULL)
        {
          json_decref (value);
          return husk_err (err, EINVAL, "json patch: replace of missing path \"%s\"", ptr);
        }
      return json_object_set_new (parent, last, value);
    }
  if (json_is_array (parent) && array_index (parent, last, !replace, &idx, err) == 0)
    return replace ? json_array_set_new (parent, idx, value)
                   : json_array_insert_new (parent, idx, value);
  json_decref (value);
  return husk_err (err, EINVAL, "json patch: cannot add at \"%s\"", ptr);
}

static int
apply_op (json_t *doc, json_t *op, husk_error **err)
{
  const char *o = json_string_value (json_object_get (op, "op"));
  const char *path = json_string_value (json_object_get (op, "path"));
  const char *from = json_string_value (json_object_get (op, "from"));
  json_t *value = json_object_get (op, "value");
  if (o == NULL || path == NULL)
    return husk_err (err, EINVAL, "json patch: an operation needs \"op\" and \"path\"");
  if (streq (o, "add") || streq (o, "replace"))
    {
      if (value == NULL)
        return husk_err (err, EINVAL, "json patch: %s at \"%s\" needs a value", o, path);
      return put_at (doc, path, json_deep_copy (value), streq (o, "replace"), err);
    }
  if (streq (o, "remove"))
    return remove_at (doc, path, err);
  if (streq (o, "test"))
    {
      json_t *cur = get_at (doc, path, err);
      if (cur == NULL)
        return -1;
      if (!json_equal (cur, value))
        return husk_err (err, ESTALE, "json patch: test at \"%s\" failed", path);
      return 0;
    }
  if ((streq (o, "move") || streq (o, "copy")) && from)
    {
      json_t *src = get_at (doc, from, err);
      if (src == NULL)
        return -1;
      json_t *v = json_deep_copy (src);
      if (streq (o, "move") && remove_at (doc, from, err) < 0)
        {
          json_decref (v);
          return -1;
        }
      return put_at (doc, path, v, false, err);
    }
  return husk_err (err, EINVAL, "json patch: unknown operation \"%s\"", o);
}

json_t *
api_json_patch (const json_t *target, const json_t *patch, husk_error **err)
{
  if (!json_is_array (patch))
    return husk_err (err, EINVAL, "json patch: the patch must be an array of operations"), NULL;
  json_t *doc = json_deep_copy (target);
  size_t i;
  json_t *op;
  json_array_foreach ((json_t *) patch, i, op)
  {
    if (apply_op (doc, op, err) < 0)
      {
        if (err && *err && (*err)->msg == NULL)
          husk_err (err, EINVAL, "json patch: operation %zu failed", i);
        json_decref (doc);
        return NULL;
      }
  }
  return doc;
}

/* ---- strategic merge patch ---- */

static json_t *smp (const json_t *target, const json_t *patch, const api_type *t,
                    husk_error **err);

static const api_type *
field_type (const api_type *t, const char *key, const api_field **f)
{
  *f = NULL;
  if (t == NULL)
    return NULL;
  if (t->kind == API_T_MAP)
    return t->elem;
  *f = api_schema_field (t, key);
  return *f ? (*f)->type : NULL;
}

static bool
key_eq (json_t *a, json_t *b)
{
  return a && b && json_equal (a, b);
}

static json_t *
merge_keyed_list (const json_t *target, const json_t *patch, const char *mk,
                  const api_type *elem, husk_error **err)
{
  json_t *out = json_is_array (target) ? json_deep_copy (target) : json_array ();
  size_t i;
  json_t *pe;
  json_array_foreach ((json_t *) patch, i, pe)
  {
    if (!json_is_object (pe))
      {
        json_array_append (out, pe);
        continue;
      }
    const char *directive = json_string_value (json_object_get (pe, "$patch"));
    if (directive && streq (directive, "replace"))
      {
        /* The whole list is replaced by the patch's other elements. */
        json_t *rep = json_array ();
        size_t j;
        json_t *x;
        json_array_foreach ((json_t *) patch, j, x) if (!json_object_get (x, "$patch"))
            json_array_append (rep, x);
        json_decref (out);
        return rep;
      }
    json_t *kv = json_object_get (pe, mk);
    size_t j, found = (size_t) -1;
    json_t *te;
    json_array_foreach (out, j, te) if (key_eq (json_object_get (te, mk), kv))
    {
      found = j;
      break;
    }
    if (directive && streq (directive, "delete"))
      {
        if (found != (size_t) -1)
          json_array_remove (out, found);
        continue;
      }
    if (found == (size_t) -1)
      {
        json_t *n = smp (NULL, pe, elem, err);
        if (n == NULL)
          return json_decref (out), NULL;
        json_array_append_new (out, n);
      }
    else
      {
        json_t *n = smp (json_array_get (out, found), pe, elem, err);
        if (n == NULL)
          return json_decref (out), NULL;
        json_array_set_new (out, found, n);
      }
  }
  return out;
}

static json_t *
merge_primitive_list (const json_t *target, const json_t *patch)
{
  json_t *out = json_is_array (target) ? json_deep_copy (target) : json_array ();
  size_t i, j;
  json_t *pe, *te;
  json_array_foreach ((json_t *) patch, i, pe)
  {
    bool seen = false;
    json_array_foreach (out, j, te) seen = seen || json_equal (te, pe);
    if (!seen)
      json_array_append (out, pe);
  }
  return out;
}

/* Orders list elements as in order (by merge key or value); others keep their order after. */
static void
set_order (json_t *list, const json_t *order, const char *mk)
{
  if (!json_is_array (list) || !json_is_array (order))
    return;
  json_t *sorted = json_array ();
  size_t i, j;
  json_t *o, *e;
  json_array_foreach ((json_t *) order, i, o)
  {
    json_t *want = mk ? json_object_get (o, mk) : o;
    json_array_foreach (list, j, e)
    {
      json_t *have = mk ? json_object_get (e, mk) : e;
      if (key_eq (have, want))
        {
          json_array_append (sorted, e);
          break;
        }
    }
  }
  json_array_foreach (list, j, e)
  {
    bool in = false;
    size_t k;
    json_t *s;
    json_array_foreach (sorted, k, s) in = in || s == e;
    if (!in)
      json_array_append (sorted, e);
  }
  json_array_clear (list);
  json_array_extend (list, sorted);
  json_decref (sorted);
}

static void
apply_directives (json_t *out, const json_t *patch, const api_type *t)
{
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *) patch, k, v)
  {
    if (strncmp (k, "$setElementOrder/", 17) == 0)
      {
        const api_field *f;
        field_type (t, k + 17, &f);
        set_order (json_object_get (out, k + 17), v, f ? f->merge_key : NULL);
      }
    else if (strncmp (k, "$deleteFromPrimitiveList/", 25) == 0)
      {
        json_t *list = json_object_get (out, k + 25);
        size_t i, j;
        json_t *d;
        json_array_foreach (v, i, d) for (j = json_array_size (list); j-- > 0;) if (
            json_equal (json_array_get (list, j), d)) json_array_remove (list, j);
      }
  }
  json_t *retain = json_object_get (patch, "$retainKeys");
  if (json_is_array (retain))
    {
      void *tmp;
      json_object_foreach_safe (out, tmp, k, v)
      {
        bool keep = false;
        size_t i;
        json_t *r;
        json_array_foreach (retain, i, r) keep = keep || (json_is_string (r) && streq (json_string_value (r), k));
        if (!keep)
          json_object_del (out, k);
      }
    }
}

static json_t *
smp (const json_t *target, const json_t *patch, const api_type *t, husk_error **err)
{
  if (!json_is_object (patch))
    return json_deep_copy (patch);
  const char *directive = json_string_value (json_object_get (patch, "$patch"));
  if (directive && streq (directive, "replace"))
    {
      json_t *out = json_deep_copy (patch);
      json_object_del (out, "$patch");
      return out;
    }
  json_t *out = json_is_object (target) ? json_deep_copy (target) : json_object ();
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *) patch, k, v)
  {
    if (k[0] == '$')
      continue;
    if (json_is_null (v))
      {
        json_object_del (out, k);
        continue;
      }
    const api_field *f;
    const api_type *ft = field_type (t, k, &f);
    json_t *cur = json_object_get (out, k);
    json_t *n;
    if (json_is_object (v))
      {
        const char *d = json_string_value (json_object_get (v, "$patch"));
        if (d && streq (d, "delete"))
          {
            json_object_del (out, k);
            continue;
          }
        n = smp (cur, v, ft, err);
      }
    else if (json_is_array (v) && f && f->merge && ft && ft->kind == API_T_ARRAY)
      n = f->merge_key ? merge_keyed_list (cur, v, f->merge_key, ft->elem, err)
                       : merge_primitive_list (cur, v);
    else
      n = json_deep_copy (v);
    if (n == NULL)
      {
        json_decref (out);
        return NULL;
      }
    json_object_set_new (out, k, n);
  }
  apply_directives (out, patch, t);
  return out;
}

json_t *
api_strategic_merge_patch (const json_t *target, const json_t *patch, const api_type *t,
                           husk_error **err)
{
  if (!json_is_object (patch))
    return husk_err (err, EINVAL, "strategic merge patch: the patch must be a JSON object"),
           NULL;
  return smp (target, patch, t, err);
}
