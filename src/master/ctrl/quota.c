/* husk controllers: ResourceQuota usage and checks (upstream's quota evaluators, reduced to
   the resources husk counts; scopes and scopeSelector are not supported). */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/quantity.h"
#include "src/master/ctrl/cluster-logic.h"

bool
quota_is_milli (const char *name)
{
  return streq (name, "cpu") || streq (name, "requests.cpu") || streq (name, "limits.cpu");
}

int
quota_parse (const char *name, const json_t *v, int64_t *out, husk_error **err)
{
  return husk_quantity_json (v, quota_is_milli (name) ? 1000 : 1, name, out, err);
}

char *
quota_format (const char *name, int64_t v)
{
  if (quota_is_milli (name))
    return v % 1000 ? xasprintf ("%" PRId64 "m", v) : xasprintf ("%" PRId64, v / 1000);
  static const char *const bin[] = { "Ki", "Mi", "Gi", "Ti", "Pi" };
  if (v != 0 && v % 1024 == 0)
    {
      int i = -1;
      while (i < 4 && v % 1024 == 0)
        v /= 1024, i++;
      return xasprintf ("%" PRId64 "%s", v, bin[i]);
    }
  return xasprintf ("%" PRId64, v);
}

static void
add (json_t *u, const char *name, int64_t v)
{
  json_int_t old = json_integer_value (json_object_get (u, name));
  json_object_set_new (u, name, json_integer (old + v));
}

/* One compute resource of a container: request (else limit, as API defaulting does) and
   limit; -1 when absent. */
static void
container_res (const json_t *c, const char *res, int64_t *req, int64_t *lim)
{
  int64_t scale = streq (res, "cpu") ? 1000 : 1;
  json_t *rq = husk_json_path (c, "resources.requests");
  json_t *lm = husk_json_path (c, "resources.limits");
  *req = *lim = -1;
  if (json_object_get (lm, res)
      && husk_quantity_json (json_object_get (lm, res), scale, NULL, lim, NULL) < 0)
    *lim = -1;
  if (json_object_get (rq, res)
      && husk_quantity_json (json_object_get (rq, res), scale, NULL, req, NULL) < 0)
    *req = -1;
  if (*req < 0 && *lim >= 0)
    *req = *lim;
}

/* Pod total of res: containers summed, init containers as max, overhead added. which: 0
   requests, 1 limits. Returns -1 when no container names it. */
static int64_t
pod_total (const json_t *pod, const char *res, int which)
{
  int64_t sum = -1, init = -1, rq, lm;
  size_t i;
  json_t *c;
  json_array_foreach (husk_json_path (pod, "spec.containers"), i, c)
  {
    container_res (c, res, &rq, &lm);
    int64_t v = which ? lm : rq;
    if (v >= 0)
      sum = (sum < 0 ? 0 : sum) + v;
  }
  json_array_foreach (husk_json_path (pod, "spec.initContainers"), i, c)
  {
    container_res (c, res, &rq, &lm);
    int64_t v = which ? lm : rq;
    if (v > init)
      init = v;
  }
  if (init > sum)
    sum = init;
  json_t *oh = json_object_get (husk_json_path (pod, "spec.overhead"), res);
  int64_t o;
  if (sum >= 0 && oh && husk_quantity_json (oh, streq (res, "cpu") ? 1000 : 1, NULL, &o, NULL) == 0)
    sum += o;
  return sum;
}

static void
pod_usage (json_t *u, const json_t *pod)
{
  const char *phase = husk_json_path_str (pod, "status.phase");
  if (husk_json_path_str (pod, "metadata.deletionTimestamp")
      || (phase && (streq (phase, "Succeeded") || streq (phase, "Failed"))))
    {
      json_object_clear (u);
      return;
    }
  add (u, "pods", 1);
  static const char *const res[] = { "cpu", "memory", "ephemeral-storage" };
  for (size_t i = 0; i < sizeof res / sizeof res[0]; i++)
    {
      int64_t rq = pod_total (pod, res[i], 0), lm = pod_total (pod, res[i], 1);
      _cleanup_free_ char *rname = xasprintf ("requests.%s", res[i]);
      _cleanup_free_ char *lname = xasprintf ("limits.%s", res[i]);
      if (rq >= 0)
        {
          add (u, rname, rq);
          if (i < 2)
            add (u, res[i], rq);
        }
      if (lm >= 0)
        add (u, lname, lm);
    }
}

static void
service_usage (json_t *u, const json_t *svc)
{
  const char *type = husk_json_path_str (svc, "spec.type");
  add (u, "services", 1);
  if (type && (streq (type, "NodePort") || streq (type, "LoadBalancer")))
    add (u, "services.nodeports", (int64_t)json_array_size (husk_json_path (svc, "spec.ports")));
  if (type && streq (type, "LoadBalancer"))
    add (u, "services.loadbalancers", 1);
}

static void
claim_usage (json_t *u, const json_t *pvc)
{
  add (u, "persistentvolumeclaims", 1);
  int64_t v = 0;
  json_t *st = husk_json_path (pvc, "spec.resources.requests.storage");
  if (st && husk_quantity_json (st, 1, NULL, &v, NULL) < 0)
    v = 0;
  add (u, "requests.storage", v);
  const char *cls = husk_json_path_str (pvc, "spec.storageClassName");
  if (cls && *cls)
    {
      _cleanup_free_ char *n1 = xasprintf ("%s.storageclass.storage.k8s.io/requests.storage", cls);
      _cleanup_free_ char *n2
          = xasprintf ("%s.storageclass.storage.k8s.io/persistentvolumeclaims", cls);
      add (u, n1, v);
      add (u, n2, 1);
    }
}

json_t *
quota_usage_of (const char *plural, const char *group, const json_t *obj)
{
  json_t *u = json_object ();
  _cleanup_free_ char *count
      = group && *group ? xasprintf ("count/%s.%s", plural, group) : xasprintf ("count/%s", plural);
  add (u, count, 1);
  bool core = !group || !*group;
  if (core && streq (plural, "pods"))
    pod_usage (u, obj);
  else if (core && streq (plural, "services"))
    service_usage (u, obj);
  else if (core && streq (plural, "persistentvolumeclaims"))
    claim_usage (u, obj);
  else if (core
           && (streq (plural, "configmaps") || streq (plural, "secrets")
               || streq (plural, "replicationcontrollers") || streq (plural, "resourcequotas")))
    add (u, plural, 1);
  return u;
}

json_t *
quota_update_delta (const char *plural, const char *group, const json_t *obj, const json_t *old)
{
  json_t *d = json_object ();
  bool core = !group || !*group;
  if (!core
      || !(streq (plural, "pods") || streq (plural, "services")
           || streq (plural, "persistentvolumeclaims")))
    return d;
  _cleanup_json_ json_t *now = quota_usage_of (plural, group, obj);
  _cleanup_json_ json_t *before = quota_usage_of (plural, group, old);
  const char *k;
  json_t *v;
  json_object_foreach (now, k, v)
  {
    int64_t inc = json_integer_value (v) - json_integer_value (json_object_get (before, k));
    if (inc > 0)
      json_object_set_new (d, k, json_integer (inc));
  }
  return d;
}

static bool
best_effort (const json_t *pod)
{
  static const char *const lists[] = { "spec.containers", "spec.initContainers" };
  for (size_t l = 0; l < 2; l++)
    {
      size_t i;
      json_t *c;
      json_array_foreach (husk_json_path (pod, lists[l]), i, c)
      {
        if (json_object_size (husk_json_path (c, "resources.requests"))
            || json_object_size (husk_json_path (c, "resources.limits")))
          return false;
      }
    }
  return true;
}

static bool
scope_matches (const char *scope, const char *op, const json_t *values, const json_t *pod)
{
  bool in = true;
  if (streq (scope, "Terminating"))
    in = husk_json_path (pod, "spec.activeDeadlineSeconds") != NULL;
  else if (streq (scope, "NotTerminating"))
    in = husk_json_path (pod, "spec.activeDeadlineSeconds") == NULL;
  else if (streq (scope, "BestEffort"))
    in = best_effort (pod);
  else if (streq (scope, "NotBestEffort"))
    in = !best_effort (pod);
  else if (streq (scope, "PriorityClass"))
    {
      const char *pc = husk_json_path_str (pod, "spec.priorityClassName");
      bool listed = false;
      size_t i;
      json_t *v;
      json_array_foreach ((json_t *)values, i, v) if (pc && json_is_string (v)
                                                      && streq (json_string_value (v), pc)) listed
          = true;
      if (streq (op, "In"))
        return listed;
      if (streq (op, "NotIn"))
        return !listed;
      if (streq (op, "DoesNotExist"))
        return !pc || !*pc;
      return pc && *pc;
    }
  else
    return false;
  if (streq (op, "DoesNotExist") || streq (op, "NotIn"))
    return !in;
  return in;
}

bool
quota_in_scope (const json_t *q, const char *plural, const char *group, const json_t *obj)
{
  json_t *scopes = husk_json_path (q, "spec.scopes");
  json_t *exprs = husk_json_path (q, "spec.scopeSelector.matchExpressions");
  if (json_array_size (scopes) == 0 && json_array_size (exprs) == 0)
    return true;
  if (!streq (plural, "pods") || (group && *group))
    return false;
  size_t i;
  json_t *s;
  json_array_foreach (scopes, i, s) if (!json_is_string (s)
                                        || !scope_matches (json_string_value (s), "Exists", NULL,
                                                           obj)) return false;
  json_array_foreach (exprs, i, s)
  {
    const char *name = json_string_value (json_object_get (s, "scopeName"));
    const char *op = json_string_value (json_object_get (s, "operator"));
    if (!name || !op || !scope_matches (name, op, json_object_get (s, "values"), obj))
      return false;
  }
  return true;
}

void
quota_usage_add (json_t *a, const json_t *b)
{
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)b, k, v) add (a, k, json_integer_value (v));
}

static bool
compute_name (const char *name, const char **res, bool *limit)
{
  if (streq (name, "cpu") || streq (name, "memory"))
    {
      *res = name;
      *limit = false;
      return true;
    }
  if (strncmp (name, "requests.", 9) == 0 || strncmp (name, "limits.", 7) == 0)
    {
      *limit = name[0] == 'l';
      *res = name + (*limit ? 7 : 9);
      return streq (*res, "cpu") || streq (*res, "memory");
    }
  return false;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

char *
quota_missing (const char *plural, const json_t *obj, const json_t *hard)
{
  if (!streq (plural, "pods"))
    return NULL;
  const char *names[16];
  size_t n = 0;
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)hard, k, v)
  {
    const char *res;
    bool limit;
    if (n == 16 || !compute_name (k, &res, &limit))
      continue;
    bool missing = false;
    static const char *const lists[] = { "spec.containers", "spec.initContainers" };
    for (size_t l = 0; l < 2; l++)
      {
        size_t i;
        json_t *c;
        json_array_foreach (husk_json_path (obj, lists[l]), i, c)
        {
          json_t *rl = husk_json_path (c, limit ? "resources.limits" : "resources.requests");
          json_t *lm = husk_json_path (c, "resources.limits");
          if (!json_object_get (rl, res) && (limit || !json_object_get (lm, res)))
            missing = true;
        }
      }
    if (missing)
      names[n++] = k;
  }
  if (n == 0)
    return NULL;
  qsort (names, n, sizeof names[0], cmp_str);
  husk_buf b = HUSK_BUF_INIT;
  for (size_t i = 0; i < n; i++)
    husk_buf_printf (&b, "%s%s", i ? "," : "", names[i]);
  return husk_buf_steal (&b);
}

bool
quota_resource_of (const char *name, char **plural, const char **group)
{
  const char *res;
  bool limit;
  *group = "";
  if (streq (name, "pods") || compute_name (name, &res, &limit)
      || strncmp (name, "requests.ephemeral-storage", 26) == 0
      || strncmp (name, "limits.ephemeral-storage", 24) == 0)
    *plural = xstrdup ("pods");
  else if (strncmp (name, "services", 8) == 0)
    *plural = xstrdup ("services");
  else if (streq (name, "requests.storage") || streq (name, "persistentvolumeclaims")
           || strstr (name, ".storageclass.storage.k8s.io/"))
    *plural = xstrdup ("persistentvolumeclaims");
  else if (streq (name, "configmaps") || streq (name, "secrets")
           || streq (name, "replicationcontrollers") || streq (name, "resourcequotas"))
    *plural = xstrdup (name);
  else if (strncmp (name, "count/", 6) == 0 && name[6])
    {
      const char *dot = strchr (name + 6, '.');
      *plural = dot ? xstrndup (name + 6, (size_t)(dot - name - 6)) : xstrdup (name + 6);
      *group = dot ? dot + 1 : "";
    }
  else
    return false;
  return true;
}

static void
pretty (husk_buf *b, const json_t *u, const char *const *names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *q
          = quota_format (names[i], json_integer_value (json_object_get (u, names[i])));
      husk_buf_printf (b, "%s%s=%s", i ? "," : "", names[i], q);
    }
}

char *
quota_charge (const json_t *q, const json_t *used, const json_t *delta, json_t **new_used)
{
  json_t *hard = husk_json_path (q, "spec.hard");
  const char *qname = husk_json_path_str (q, "metadata.name");
  _cleanup_free_ const char **over = xmalloc ((json_object_size (hard) + 1) * sizeof *over);
  size_t n = 0;
  _cleanup_json_ json_t *hv = json_object (), *nu = json_deep_copy (used);
  const char *k;
  json_t *v;
  json_object_foreach (hard, k, v)
  {
    int64_t h;
    _cleanup_error_ husk_error *e = NULL;
    if (quota_parse (k, v, &h, &e) < 0)
      return xasprintf ("quota %s: spec.hard: %s", qname ? qname : "", e->msg);
    json_object_set_new (hv, k, json_integer (h));
    json_t *d = json_object_get (delta, k);
    if (!d || json_integer_value (d) <= 0)
      continue;
    int64_t now = json_integer_value (json_object_get (used, k)) + json_integer_value (d);
    json_object_set_new (nu, k, json_integer (now));
    if (now > h)
      over[n++] = k;
  }
  if (n == 0)
    {
      *new_used = TAKE_PTR (nu);
      return NULL;
    }
  qsort (over, n, sizeof over[0], cmp_str);
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_printf (&b, "exceeded quota: %s, requested: ", qname ? qname : "");
  pretty (&b, delta, over, n);
  husk_buf_puts (&b, ", used: ");
  pretty (&b, used, over, n);
  husk_buf_puts (&b, ", limited: ");
  pretty (&b, hv, over, n);
  return husk_buf_steal (&b);
}

json_t *
quota_used_of (const json_t *q)
{
  json_t *u = json_object ();
  const char *k;
  json_t *v;
  json_object_foreach (husk_json_path (q, "status.used"), k, v)
  {
    int64_t x;
    if (quota_parse (k, v, &x, NULL) == 0)
      json_object_set_new (u, k, json_integer (x));
  }
  return u;
}

json_t *
quota_usage_text (const json_t *usage)
{
  json_t *t = json_object ();
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)usage, k, v)
  {
    _cleanup_free_ char *s = quota_format (k, json_integer_value (v));
    json_object_set_new (t, k, json_string (s));
  }
  return t;
}

json_t *
quota_usage_mask (const json_t *usage, const json_t *hard)
{
  json_t *m = json_object ();
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)hard, k, v)
      json_object_set_new (m, k, json_integer (json_integer_value (json_object_get (usage, k))));
  return m;
}
