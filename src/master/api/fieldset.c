/* husk api: field sets (FieldsV1) of server-side apply: computed from objects guided by the
   schema tables, combined, printed, and used to remove fields nobody applies any more. */
#include "config.h"

#include "lib/buf.h"
#include "lib/util.h"
#include "src/master/api/fieldset.h"

/* Where a value sits: its type (NULL: no schema, an open object) and the field that holds
   it (which tells how a list merges). */
typedef struct slot
{
  const api_type *t;
  const api_field *f;
} slot;

enum
{
  LIST_ATOMIC,
  LIST_MAP,
  LIST_SET
};

static json_t *
leaf (void)
{
  return json_object ();
}

static bool
member (const json_t *n)
{
  return n && (json_object_size (n) == 0 || json_object_get (n, "."));
}

static json_t *
mark_member (json_t *n)
{
  if (n == NULL)
    return leaf ();
  if (json_object_size (n) > 0)
    json_object_set_new (n, ".", leaf ());
  return n;
}

/* The node as a set: NULL when it has neither children nor membership. */
static json_t *
finish (json_t *n, bool is_member)
{
  if (json_object_size (n) == 0)
    {
      if (is_member)
        return n;
      json_decref (n);
      return NULL;
    }
  if (is_member)
    json_object_set_new (n, ".", leaf ());
  return n;
}

static bool
scalar_type (const api_type *t)
{
  return t && t->kind != API_T_STRUCT && t->kind != API_T_MAP && t->kind != API_T_OPEN
         && t->kind != API_T_ARRAY;
}

static bool
is_leaf (slot s, const json_t *v)
{
  if (json_is_object (v))
    return scalar_type (s.t) || (s.t && s.t->kind == API_T_ARRAY);
  if (json_is_array (v))
    return (s.t && s.t->kind != API_T_ARRAY) || s.f == NULL;
  return true;
}

/* The slot of member key of an object in slot s; *declared is false for map entries. */
static slot
child_slot (slot s, const char *key, bool *declared)
{
  slot c = {NULL, NULL};
  *declared = true;
  if (s.t == NULL)
    return c;
  if (s.t->kind == API_T_STRUCT)
    {
      c.f = api_schema_field (s.t, key);
      c.t = c.f ? c.f->type : NULL;
    }
  else if (s.t->kind == API_T_MAP)
    {
      c.t = s.t->elem;
      *declared = false;
    }
  return c;
}

static slot
elem_slot (slot s)
{
  slot c = {s.t && s.t->kind == API_T_ARRAY ? s.t->elem : NULL, NULL};
  return c;
}

static int
list_kind (slot s)
{
  if (s.f == NULL)
    return LIST_ATOMIC;
  if (s.f->merge_key)
    return LIST_MAP;
  return s.f->merge ? LIST_SET : LIST_ATOMIC;
}

/* The key fields of a list's items (x-kubernetes-list-map-keys; mostly the merge key). */
static void
list_keys (slot s, const char **keys)
{
  const char *elem = s.t && s.t->elem ? s.t->elem->name : NULL;
  keys[0] = s.f->merge_key;
  keys[1] = NULL;
  if (elem && streq (elem, "ContainerPort"))
    keys[1] = "protocol";
  else if (elem && streq (elem, "ServicePort"))
    keys[1] = "protocol";
  else if (streq (s.f->name, "topologySpreadConstraints"))
    keys[1] = "whenUnsatisfiable";
}

/* "k:{...}" or "v:..." for an item of a LIST_MAP or LIST_SET list; NULL without keys. */
static char *
item_key (slot s, const json_t *item)
{
  if (list_kind (s) == LIST_SET)
    {
      _cleanup_free_ char *d = json_dumps (item, JSON_ENCODE_ANY | JSON_COMPACT);
      return d ? xasprintf ("v:%s", d) : NULL;
    }
  const char *keys[2];
  list_keys (s, keys);
  json_auto_t *k = json_object ();
  for (size_t i = 0; i < 2 && keys[i]; i++)
    {
      json_t *v = json_object_get (item, keys[i]);
      if (v == NULL && streq (keys[i], "protocol"))
        v = json_string ("TCP");
      else if (v)
        json_incref (v);
      if (v)
        json_object_set_new (k, keys[i], v);
    }
  if (json_object_size (k) == 0)
    return NULL;
  _cleanup_free_ char *d = json_dumps (k, JSON_COMPACT | JSON_SORT_KEYS);
  return xasprintf ("k:%s", d);
}

static json_t *
find_item (slot s, const json_t *arr, const char *key, size_t *index)
{
  size_t i;
  json_t *it;
  json_array_foreach (arr, i, it)
  {
    _cleanup_free_ char *k = item_key (s, it);
    if (k && streq (k, key))
      {
        if (index)
          *index = i;
        return it;
      }
  }
  return NULL;
}

/* Whether an object member that is new enters the set itself. Apply (ToFieldSet): map
   entries, empty or null fields. Update (compare): also maps and merged lists that Go omits
   when empty (not the required ones), as upstream's comparison with an empty object finds. */
static bool
added_is_member (slot c, bool declared, const json_t *v, bool update)
{
  if (!declared || json_is_null (v) || (json_is_object (v) && json_object_size (v) == 0))
    return true;
  if (!update || c.f == NULL || c.f->required || c.t == NULL)
    return false;
  return c.t->kind == API_T_MAP || (c.t->kind == API_T_ARRAY && list_kind (c) != LIST_ATOMIC);
}

static json_t *from_value (slot s, const json_t *v, bool update);

/* "f:<k>" in buf when it fits (no allocation: every field of every write), else malloc'd
   into *heap. */
static const char *
fkey (char *buf, size_t size, const char *k, char **heap)
{
  size_t n = strlen (k);
  *heap = NULL;
  if (n + 3 > size)
    return *heap = xasprintf ("f:%s", k);
  buf[0] = 'f';
  buf[1] = ':';
  memcpy (buf + 2, k, n + 1);
  return buf;
}

static void
put_field (json_t *node, const char *k, json_t *child)
{
  char buf[256];
  _cleanup_free_ char *heap = NULL;
  json_object_set_new (node, fkey (buf, sizeof buf, k, &heap), child);
}

/* Server-owned members api_fs_strip drops from every Update and Apply set: sets of whole
   objects are built without them. */
static const char *const top_owned[] = {"apiVersion", "kind", NULL};
static const char *const meta_owned[]
    = {"name",       "namespace",       "uid",
       "selfLink",   "generation",      "creationTimestamp",
       "managedFields", "resourceVersion", "deletionTimestamp",
       "deletionGracePeriodSeconds", NULL};

static bool
listed (const char *const *names, const char *k)
{
  for (; names && *names; names++)
    if (streq (*names, k))
      return true;
  return false;
}

static json_t *
from_list (slot s, const json_t *v, bool update)
{
  int kind = list_kind (s);
  if (kind == LIST_ATOMIC)
    return leaf ();
  json_t *node = json_object ();
  size_t i;
  json_t *it;
  json_array_foreach (v, i, it)
  {
    _cleanup_free_ char *k = item_key (s, it);
    if (k == NULL)
      continue;
    json_t *c = kind == LIST_SET ? leaf () : mark_member (from_value (elem_slot (s), it, update));
    json_object_set_new (node, k, c);
  }
  return finish (node, false);
}

static json_t *from_members (slot s, const json_t *v, bool update, bool top);

/* metadata's set without meta_owned. */
static json_t *
from_meta (slot s, const json_t *v, bool update)
{
  json_t *node = json_object ();
  const char *k;
  json_t *cv;
  json_object_foreach ((json_t *) v, k, cv)
  {
    if (listed (meta_owned, k))
      continue;
    bool declared;
    slot c = child_slot (s, k, &declared);
    json_t *child = from_value (c, cv, update);
    if (added_is_member (c, declared, cv, update))
      child = mark_member (child);
    if (child)
      put_field (node, k, child);
  }
  return finish (node, false);
}

static json_t *
from_value (slot s, const json_t *v, bool update)
{
  if (v == NULL)
    return NULL;
  if (is_leaf (s, v))
    return leaf ();
  if (json_is_array (v))
    return from_list (s, v, update);
  return from_members (s, v, update, false);
}

/* The set of object v's members; top: v is a whole object, whose server-owned members
   (top_owned, meta_owned) are left out. */
static json_t *
from_members (slot s, const json_t *v, bool update, bool top)
{
  json_t *node = json_object ();
  const char *k;
  json_t *cv;
  json_object_foreach ((json_t *) v, k, cv)
  {
    bool declared;
    if (top && listed (top_owned, k))
      continue;
    slot c = child_slot (s, k, &declared);
    json_t *child;
    if (top && streq (k, "metadata") && json_is_object (cv) && !is_leaf (c, cv))
      child = from_meta (c, cv, update);
    else
      child = from_value (c, cv, update);
    if (added_is_member (c, declared, cv, update))
      child = mark_member (child);
    if (child)
      put_field (node, k, child);
  }
  return finish (node, false);
}

json_t *
api_fs_from_value (const api_type *t, const json_t *v)
{
  slot s = {t, NULL};
  return from_value (s, v, false);
}

static void
mark_all (json_t *n)
{
  const char *k;
  json_t *c;
  json_object_foreach (n, k, c) if (!streq (k, "."))
    mark_all (c);
  mark_member (n);
}

/* Every path of v, all of them members (what disappears with a removed subtree). */
static json_t *
all_paths (slot s, const json_t *v)
{
  json_t *n = mark_member (from_value (s, v, true));
  mark_all (n);
  return n;
}

static void
put (json_t *node, const char *key, json_t *child)
{
  if (child)
    json_object_set_new (node, key, child);
}

static void compare (slot s, const json_t *o, const json_t *n, json_t **ch, json_t **rm);

static void
compare_object (slot s, const json_t *o, const json_t *n, json_t **ch, json_t **rm)
{
  json_t *c = json_object (), *r = json_object ();
  const char *k;
  json_t *nv, *ov;
  json_object_foreach ((json_t *) n, k, nv)
  {
    bool declared;
    slot cs = child_slot (s, k, &declared);
    char buf[256];
    _cleanup_free_ char *heap = NULL;
    const char *key = fkey (buf, sizeof buf, k, &heap);
    ov = json_object_get (o, k);
    json_t *cc = NULL, *rr = NULL;
    if (ov == NULL)
      {
        cc = from_value (cs, nv, true);
        if (added_is_member (cs, declared, nv, true) || is_leaf (cs, nv))
          cc = mark_member (cc);
      }
    else
      compare (cs, ov, nv, &cc, &rr);
    put (c, key, cc);
    put (r, key, rr);
  }
  json_object_foreach ((json_t *) o, k, ov) if (json_object_get (n, k) == NULL)
  {
    bool declared;
    slot cs = child_slot (s, k, &declared);
    put_field (r, k, all_paths (cs, ov));
  }
  *ch = finish (c, false);
  *rm = finish (r, false);
}

static void
compare_list (slot s, const json_t *o, const json_t *n, json_t **ch, json_t **rm)
{
  int kind = list_kind (s);
  json_t *c = json_object (), *r = json_object ();
  size_t i;
  json_t *it;
  json_array_foreach (n, i, it)
  {
    _cleanup_free_ char *k = item_key (s, it);
    if (k == NULL)
      continue;
    const json_t *old = find_item (s, o, k, NULL);
    json_t *cc = NULL, *rr = NULL;
    if (old == NULL)
      cc = kind == LIST_SET ? leaf () : mark_member (from_value (elem_slot (s), it, true));
    else if (kind == LIST_MAP)
      compare (elem_slot (s), old, it, &cc, &rr);
    put (c, k, cc);
    put (r, k, rr);
  }
  json_array_foreach (o, i, it)
  {
    _cleanup_free_ char *k = item_key (s, it);
    if (k && find_item (s, n, k, NULL) == NULL)
      json_object_set_new (r, k, kind == LIST_SET ? leaf () : all_paths (elem_slot (s), it));
  }
  *ch = finish (c, false);
  *rm = finish (r, false);
}

static void
compare (slot s, const json_t *o, const json_t *n, json_t **ch, json_t **rm)
{
  *ch = *rm = NULL;
  bool same_shape = (json_is_object (o) && json_is_object (n))
                    || (json_is_array (o) && json_is_array (n));
  if (!same_shape || is_leaf (s, n) || (json_is_array (n) && list_kind (s) == LIST_ATOMIC))
    {
      if (!json_equal (o, n))
        *ch = leaf ();
      return;
    }
  if (json_is_object (n))
    compare_object (s, o, n, ch, rm);
  else
    compare_list (s, o, n, ch, rm);
}

void
api_fs_compare (const api_type *t, const json_t *old, const json_t *new, json_t **changed,
                json_t **removed)
{
  slot s = {t, NULL};
  *changed = *removed = NULL;
  if (old == NULL && new == NULL)
    return;
  if (old == NULL && json_is_object (new) && !is_leaf (s, new))
    *changed = from_members (s, new, true, true);
  else if (old == NULL)
    *changed = from_value (s, new, true);
  else if (new == NULL)
    *removed = all_paths (s, old);
  else
    compare (s, old, new, changed, removed);
}

enum
{
  OP_UNION,
  OP_INTERSECT,
  OP_DIFFERENCE
};

static json_t *
combine (const json_t *a, const json_t *b, int op)
{
  bool ma = member (a), mb = member (b);
  bool m = op == OP_UNION ? ma || mb : op == OP_INTERSECT ? ma && mb : ma && !mb;
  json_t *out = json_object ();
  const char *k;
  json_t *c;
  json_object_foreach ((json_t *) a, k, c) if (!streq (k, "."))
    put (out, k, combine (c, json_object_get (b, k), op));
  if (op == OP_UNION)
    json_object_foreach ((json_t *) b, k, c) if (!streq (k, ".") && !json_object_get (a, k))
      put (out, k, combine (NULL, c, op));
  return finish (out, m);
}

json_t *
api_fs_union (const json_t *a, const json_t *b)
{
  return combine (a, b, OP_UNION);
}

json_t *
api_fs_intersect (const json_t *a, const json_t *b)
{
  return a && b ? combine (a, b, OP_INTERSECT) : NULL;
}

json_t *
api_fs_difference (const json_t *a, const json_t *b)
{
  return a ? combine (a, b, OP_DIFFERENCE) : NULL;
}

bool
api_fs_empty (const json_t *s)
{
  return s == NULL || json_object_size (s) == 0;
}

static void
prune (slot s, json_t *obj, const json_t *rm, const json_t *keep)
{
  const char *k;
  json_t *rn;
  json_object_foreach ((json_t *) rm, k, rn)
  {
    const json_t *kn = json_object_get (keep, k);
    json_t *cv = NULL;
    slot cs = {NULL, NULL};
    size_t index = 0;
    if (strncmp (k, "f:", 2) == 0 && json_is_object (obj))
      {
        bool declared;
        cv = json_object_get (obj, k + 2);
        cs = child_slot (s, k + 2, &declared);
      }
    else if ((k[0] == 'k' || k[0] == 'v') && k[1] == ':' && json_is_array (obj) && s.f)
      {
        cv = find_item (s, obj, k, &index);
        cs = elem_slot (s);
      }
    if (cv == NULL)
      continue;
    if (member (rn) && kn == NULL)
      {
        if (json_is_object (obj))
          json_object_del (obj, k + 2);
        else
          json_array_remove (obj, index);
      }
    else if (json_is_object (cv) || json_is_array (cv))
      {
        bool had = json_is_object (cv) && json_object_size (cv) > 0;
        prune (cs, cv, rn, kn);
        /* a map emptied by the removal goes too, unless somebody owns it */
        if (had && json_object_size (cv) == 0 && kn == NULL && json_is_object (obj))
          json_object_del (obj, k + 2);
      }
  }
}

void
api_fs_prune (const api_type *t, json_t *obj, const json_t *rm, const json_t *keep)
{
  slot s = {t, NULL};
  if (rm)
    prune (s, obj, rm, keep);
}

/* ".name", "[a=\"b\",c=1]", "[=\"x\"]", "[3]" for one path element. */
static char *
element_string (const char *k)
{
  if (strncmp (k, "f:", 2) == 0)
    return xasprintf (".%s", k + 2);
  if (strncmp (k, "v:", 2) == 0)
    return xasprintf ("[=%s]", k + 2);
  if (strncmp (k, "i:", 2) == 0)
    return xasprintf ("[%s]", k + 2);
  json_auto_t *o = json_loads (k + 2, 0, NULL);
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_puts (&b, "[");
  const char *name;
  json_t *v;
  bool first = true;
  json_object_foreach (o, name, v)
  {
    _cleanup_free_ char *d = json_dumps (v, JSON_ENCODE_ANY | JSON_COMPACT);
    husk_buf_printf (&b, "%s%s=%s", first ? "" : ",", name, d ? d : "");
    first = false;
  }
  husk_buf_puts (&b, "]");
  return husk_buf_steal (&b);
}

static void
paths (const json_t *n, const char *prefix, json_t *out)
{
  if (member (n) && *prefix)
    json_array_append_new (out, json_string (prefix));
  const char *k;
  json_t *c;
  json_object_foreach ((json_t *) n, k, c) if (!streq (k, "."))
  {
    _cleanup_free_ char *e = element_string (k);
    _cleanup_free_ char *p = xasprintf ("%s%s", prefix, e);
    paths (c, p, out);
  }
}

void
api_fs_paths (const json_t *s, json_t *out)
{
  if (s)
    paths (s, "", out);
}

json_t *
api_fs_strip (json_t *s, bool drop_status, bool only_status)
{
  if (s == NULL)
    return NULL;
  json_object_del (s, "f:apiVersion");
  json_object_del (s, "f:kind");
  json_object_del (s, ".");
  json_t *meta = json_object_get (s, "f:metadata");
  if (meta)
    {
      for (size_t i = 0; meta_owned[i]; i++)
        {
          char buf[64];
          _cleanup_free_ char *heap = NULL;
          json_object_del (meta, fkey (buf, sizeof buf, meta_owned[i], &heap));
        }
      json_object_del (meta, ".");
      if (json_object_size (meta) == 0)
        json_object_del (s, "f:metadata");
    }
  if (drop_status)
    json_object_del (s, "f:status");
  if (only_status)
    {
      json_t *st = json_incref (json_object_get (s, "f:status"));
      json_object_clear (s);
      if (st)
        json_object_set_new (s, "f:status", st);
    }
  if (json_object_size (s) == 0)
    {
      json_decref (s);
      return NULL;
    }
  return s;
}

/* The end of the JSON value starting at p (an array or object), or NULL. */
static const char *
value_end (const char *p)
{
  int depth = 0;
  bool in_str = false;
  for (; *p; p++)
    {
      if (in_str)
        {
          if (*p == '\\' && p[1])
            p++;
          else if (*p == '"')
            in_str = false;
          continue;
        }
      if (*p == '"')
        in_str = true;
      else if (*p == '[' || *p == '{')
        depth++;
      else if ((*p == ']' || *p == '}') && --depth == 0)
        return p + 1;
    }
  return NULL;
}

bool
api_fs_skip_managed (const char *json, size_t *start, size_t *end)
{
  const char *meta = strstr (json, "\"metadata\":{");
  const char *mf = meta ? strstr (meta, "\"managedFields\":[") : NULL;
  if (mf == NULL)
    return false;
  const char *v = mf + strlen ("\"managedFields\":");
  const char *e = value_end (v);
  if (e == NULL)
    return false;
  if (*e == ',')
    e++;
  else if (mf > json && mf[-1] == ',')
    mf--;
  *start = (size_t) (mf - json);
  *end = (size_t) (e - json);
  return true;
}
