/* husk controllers: LimitRange for pods, as upstream's LimitRanger admission plugin:
   defaults filled into containers, then min, max and maxLimitRequestRatio checked per
   Container and per Pod, with upstream's messages. PersistentVolumeClaim items are not
   enforced. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/quantity.h"
#include "src/master/ctrl/cluster-logic.h"

static bool
is_type (const json_t *item, const char *type)
{
  const char *t = json_string_value (json_object_get (item, "type"));
  return t && streq (t, type);
}

/* The default limits and requests of a Container item, with upstream's LimitRange
   defaulting (default from max; defaultRequest from default, then from min). */
static void
item_defaults (const json_t *item, json_t **lim, json_t **req)
{
  json_t *d = json_object_get (item, "default"), *dr = json_object_get (item, "defaultRequest");
  *lim = json_is_object (d) ? json_deep_copy (d) : json_object ();
  *req = json_is_object (dr) ? json_deep_copy (dr) : json_object ();
  const char *k;
  json_t *v;
  json_object_foreach (json_object_get (item, "max"), k, v) if (!json_object_get (*lim, k))
      json_object_set (*lim, k, v);
  json_object_foreach (*lim, k, v) if (!json_object_get (*req, k)) json_object_set (*req, k, v);
  json_object_foreach (json_object_get (item, "min"), k, v) if (!json_object_get (*req, k))
      json_object_set (*req, k, v);
}

static json_t *
sub_object (json_t *o, const char *key)
{
  json_t *s = json_object_get (o, key);
  if (!json_is_object (s))
    {
      s = json_object ();
      json_object_set_new (o, key, s);
    }
  return s;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static void
note (husk_buf *ann, const char **names, size_t n, const char *what, const char *ctype,
      const char *cname)
{
  if (n == 0)
    return;
  qsort (names, n, sizeof names[0], cmp_str);
  husk_buf_puts (ann, ann->len ? "; " : "LimitRanger plugin set: ");
  for (size_t i = 0; i < n; i++)
    husk_buf_printf (ann, "%s%s", i ? ", " : "", names[i]);
  husk_buf_printf (ann, " %s for %s %s", what, ctype, cname ? cname : "");
}

static void
default_container (json_t *c, const json_t *dlim, const json_t *dreq, const char *ctype,
                   husk_buf *ann)
{
  json_t *res = sub_object (c, "resources");
  json_t *lim = sub_object (res, "limits"), *req = sub_object (res, "requests");
  const char *set_lim[32], *set_req[32];
  size_t nl = 0, nr = 0;
  _cleanup_json_ json_t *given = json_copy (lim);
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)dlim, k, v) if (nl < 32 && !json_object_get (lim, k))
  {
    json_object_set (lim, k, v);
    set_lim[nl++] = k;
  }
  json_object_foreach ((json_t *)dreq, k, v) if (nr < 32 && !json_object_get (req, k))
  {
    /* A limit the user gave is also the request (API defaulting), not the range's. */
    bool own_limit = json_object_get (given, k) != NULL;
    json_object_set (req, k, own_limit ? json_object_get (lim, k) : v);
    if (!own_limit)
      set_req[nr++] = k;
  }
  if (json_object_size (lim) == 0)
    json_object_del (res, "limits");
  if (json_object_size (req) == 0)
    json_object_del (res, "requests");
  const char *name = json_string_value (json_object_get (c, "name"));
  note (ann, set_req, nr, "request", ctype, name);
  note (ann, set_lim, nl, "limit", ctype, name);
}

void
limitrange_default_pod (json_t *pod, const json_t *lrs)
{
  husk_buf ann = HUSK_BUF_INIT;
  size_t i, j;
  json_t *lr, *item;
  json_array_foreach ((json_t *)lrs, i, lr)
  {
    json_array_foreach (husk_json_path (lr, "spec.limits"), j, item)
    {
      if (!is_type (item, "Container"))
        continue;
      _cleanup_json_ json_t *dlim = NULL, *dreq = NULL;
      item_defaults (item, &dlim, &dreq);
      if (json_object_size (dlim) == 0 && json_object_size (dreq) == 0)
        continue;
      size_t k;
      json_t *c;
      json_array_foreach (husk_json_path (pod, "spec.containers"), k, c)
          default_container (c, dlim, dreq, "container", &ann);
      json_array_foreach (husk_json_path (pod, "spec.initContainers"), k, c)
          default_container (c, dlim, dreq, "init container", &ann);
    }
  }
  if (ann.len)
    {
      json_t *meta = sub_object (pod, "metadata");
      json_object_set_new (sub_object (meta, "annotations"), "kubernetes.io/limit-ranger",
                           json_string (husk_buf_str (&ann)));
    }
  husk_buf_free (&ann);
}

/* ---- constraints ---- */

/* A quantity as text: the string given, or a number printed. */
static char *
qtext (const json_t *v)
{
  if (json_is_string (v))
    return xstrdup (json_string_value (v));
  if (json_is_integer (v))
    return xasprintf ("%lld", (long long)json_integer_value (v));
  return xasprintf ("%g", json_number_value (v));
}

static bool
milli (const json_t *v, int64_t *out)
{
  return v && husk_quantity_json (v, 1000, NULL, out, NULL) == 0;
}

typedef struct
{
  const char *ltype; /* "Container" or "Pod" */
  const char *res;
  const json_t *req, *lim; /* the observed values (NULL when absent) */
} observed;

static void
min_constraint (husk_buf *b, const observed *o, const json_t *enforced)
{
  _cleanup_free_ char *e = qtext (enforced);
  int64_t ev = 0, rv = 0, lv = 0;
  milli (enforced, &ev);
  if (!o->req)
    husk_buf_printf (b, "\nminimum %s usage per %s is %s.  No request is specified", o->res,
                     o->ltype, e);
  else if (milli (o->req, &rv) && rv < ev)
    {
      _cleanup_free_ char *r = qtext (o->req);
      husk_buf_printf (b, "\nminimum %s usage per %s is %s, but request is %s", o->res, o->ltype, e,
                       r);
    }
  else if (o->lim && milli (o->lim, &lv) && lv < ev)
    {
      _cleanup_free_ char *l = qtext (o->lim);
      husk_buf_printf (b, "\nminimum %s usage per %s is %s, but limit is %s", o->res, o->ltype, e,
                       l);
    }
}

static void
max_constraint (husk_buf *b, const observed *o, const json_t *enforced)
{
  _cleanup_free_ char *e = qtext (enforced);
  int64_t ev = 0, rv = 0, lv = 0;
  milli (enforced, &ev);
  if (!o->lim)
    husk_buf_printf (b, "\nmaximum %s usage per %s is %s.  No limit is specified", o->res, o->ltype,
                     e);
  else if (milli (o->lim, &lv) && lv > ev)
    {
      _cleanup_free_ char *l = qtext (o->lim);
      husk_buf_printf (b, "\nmaximum %s usage per %s is %s, but limit is %s", o->res, o->ltype, e,
                       l);
    }
  else if (o->req && milli (o->req, &rv) && rv > ev)
    {
      _cleanup_free_ char *r = qtext (o->req);
      husk_buf_printf (b, "\nmaximum %s usage per %s is %s, but request is %s", o->res, o->ltype, e,
                       r);
    }
}

static void
ratio_constraint (husk_buf *b, const observed *o, const json_t *enforced)
{
  _cleanup_free_ char *e = qtext (enforced);
  int64_t ev = 0, rv = 0, lv = 0;
  milli (enforced, &ev);
  if (!o->req || !milli (o->req, &rv) || rv == 0)
    husk_buf_printf (b,
                     "\n%s max limit to request ratio per %s is %s, but no request is specified "
                     "or request is 0",
                     o->res, o->ltype, e);
  else if (!o->lim || !milli (o->lim, &lv) || lv == 0)
    husk_buf_printf (b,
                     "\n%s max limit to request ratio per %s is %s, but no limit is specified or "
                     "limit is 0",
                     o->res, o->ltype, e);
  else if ((double)lv / (double)rv * 1000.0 > (double)ev)
    husk_buf_printf (b, "\n%s max limit to request ratio per %s is %s, but provided ratio is %f",
                     o->res, o->ltype, e, (double)lv / (double)rv);
}

static void
check_item (husk_buf *b, const json_t *item, const char *ltype, const json_t *req,
            const json_t *lim)
{
  const char *k;
  json_t *v;
  json_object_foreach (json_object_get (item, "min"), k, v)
  {
    observed o = { ltype, k, json_object_get (req, k), json_object_get (lim, k) };
    min_constraint (b, &o, v);
  }
  json_object_foreach (json_object_get (item, "max"), k, v)
  {
    observed o = { ltype, k, json_object_get (req, k), json_object_get (lim, k) };
    max_constraint (b, &o, v);
  }
  json_object_foreach (json_object_get (item, "maxLimitRequestRatio"), k, v)
  {
    observed o = { ltype, k, json_object_get (req, k), json_object_get (lim, k) };
    ratio_constraint (b, &o, v);
  }
}

/* Pod totals of requests or limits (containers summed, init containers as max) as
   quantity strings in millis-aware form. */
static json_t *
pod_sums (const json_t *pod, const char *which)
{
  _cleanup_json_ json_t *sum = json_object (), *init = json_object ();
  size_t i;
  json_t *c, *v;
  const char *k;
  json_array_foreach (husk_json_path (pod, "spec.containers"), i, c)
      json_object_foreach (husk_json_path (c, which), k, v)
  {
    int64_t x;
    if (milli (v, &x))
      json_object_set_new (sum, k,
                           json_integer (json_integer_value (json_object_get (sum, k)) + x));
  }
  json_array_foreach (husk_json_path (pod, "spec.initContainers"), i, c)
      json_object_foreach (husk_json_path (c, which), k, v)
  {
    int64_t x;
    if (milli (v, &x) && x > json_integer_value (json_object_get (init, k)))
      json_object_set_new (init, k, json_integer (x));
  }
  json_t *out = json_object ();
  json_object_foreach (init, k, v) if (json_integer_value (v) > json_integer_value (
                                           json_object_get (sum, k))) json_object_set (sum, k, v);
  json_object_foreach (sum, k, v)
  {
    int64_t m = json_integer_value (v);
    _cleanup_free_ char *s = m % 1000 ? xasprintf ("%lldm", (long long)m)
                                      : quota_format (k, streq (k, "cpu") ? m : m / 1000);
    json_object_set_new (out, k, json_string (s));
  }
  return out;
}

char *
limitrange_check_pod (const json_t *pod, const json_t *lrs)
{
  husk_buf b = HUSK_BUF_INIT;
  size_t i, j, k;
  json_t *lr, *item, *c;
  json_array_foreach ((json_t *)lrs, i, lr)
  {
    json_array_foreach (husk_json_path (lr, "spec.limits"), j, item)
    {
      if (is_type (item, "Container"))
        {
          static const char *const lists[] = { "spec.containers", "spec.initContainers" };
          for (size_t l = 0; l < 2; l++)
            json_array_foreach (husk_json_path (pod, lists[l]), k, c)
                check_item (&b, item, "Container", husk_json_path (c, "resources.requests"),
                            husk_json_path (c, "resources.limits"));
        }
      else if (is_type (item, "Pod"))
        {
          _cleanup_json_ json_t *req = pod_sums (pod, "resources.requests");
          _cleanup_json_ json_t *lim = pod_sums (pod, "resources.limits");
          check_item (&b, item, "Pod", req, lim);
        }
    }
  }
  if (b.len == 0)
    {
      husk_buf_free (&b);
      return NULL;
    }
  /* Messages were collected as "\n<msg>..."; upstream's aggregate is "msg" or "[a, b]". */
  _cleanup_free_ char *all = husk_buf_steal (&b);
  size_t n = 0;
  for (char *p = all; *p; p++)
    n += *p == '\n';
  husk_buf out = HUSK_BUF_INIT;
  if (n > 1)
    husk_buf_puts (&out, "[");
  bool first = true;
  for (char *save = NULL, *m = strtok_r (all, "\n", &save); m; m = strtok_r (NULL, "\n", &save))
    {
      husk_buf_printf (&out, "%s%s", first ? "" : ", ", m);
      first = false;
    }
  if (n > 1)
    husk_buf_puts (&out, "]");
  return husk_buf_steal (&out);
}
