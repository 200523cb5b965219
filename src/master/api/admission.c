/* husk api: admission after validation: DefaultTolerationSeconds, LimitRanger,
   DefaultStorageClass and ResourceQuota, as upstream's plugins of those names (the logic
   lives in src/master/ctrl/quota.c, limitrange.c and taints.c; the quota controller
   recomputes status.used from what exists, this charges each accepted create, and each
   update that raises a pod's, claim's or service's usage, at once so that a burst of writes
   cannot overrun a quota; a write that fails after its charge is over-counted until the
   controller's next pass). */
#include "config.h"

#include <errno.h>
#include <pthread.h>

#include "lib/json.h"
#include "src/master/api/admission.h"
#include "src/master/ctrl/cluster-logic.h"

/* Attempts at charging quotas that concurrent creates keep changing. */
#define QUOTA_ATTEMPTS 16

/* The fact cache: a direct-mapped table (a collision replaces the older fact), so that its
   size stays bounded whatever the number of namespaces. */
#define FACT_SLOTS 1024

typedef struct fact_slot
{
  api_fact f;
  int64_t rev;
  char ns[64]; /* namespace names are at most 63 bytes; longer ones are not cached */
} fact_slot;

static fact_slot facts[FACT_SLOTS];
static pthread_mutex_t facts_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *
fact_resource (api_fact f)
{
  switch (f)
    {
    case API_FACT_NS_USABLE:
      return "namespaces";
    case API_FACT_NO_QUOTA:
      return "resourcequotas";
    case API_FACT_NO_LIMITRANGE:
      return "limitranges";
    }
  return NULL;
}

static size_t
fact_slot_of (api_fact f, const char *ns)
{
  uint32_t h = 2166136261u ^ (uint32_t) f;
  for (const unsigned char *p = (const unsigned char *) ns; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h % FACT_SLOTS;
}

int64_t
api_fact_rev (store *st, api_fact f)
{
  return store_resource_write_rev (st, fact_resource (f));
}

bool
api_fact_holds (api_fact f, const char *ns, int64_t rev)
{
  if (rev < 0 || ns == NULL || strlen (ns) >= sizeof facts[0].ns)
    return false;
  fact_slot *sl = &facts[fact_slot_of (f, ns)];
  pthread_mutex_lock (&facts_mu);
  bool holds = sl->rev == rev && sl->f == f && streq (sl->ns, ns) && sl->ns[0];
  pthread_mutex_unlock (&facts_mu);
  return holds;
}

void
api_fact_note (api_fact f, const char *ns, int64_t rev)
{
  if (rev < 0 || ns == NULL || strlen (ns) >= sizeof facts[0].ns)
    return;
  fact_slot *sl = &facts[fact_slot_of (f, ns)];
  pthread_mutex_lock (&facts_mu);
  sl->f = f;
  sl->rev = rev;
  strcpy (sl->ns, ns);
  pthread_mutex_unlock (&facts_mu);
}

static bool
forbidden (api_req *r, const api_route *rt, const json_t *obj, const char *msg)
{
  const char *name = husk_json_path_str (obj, "metadata.name");
  json_t *st = api_status_new (403, "Forbidden", NULL);
  json_object_set_new (
      st, "message",
      json_sprintf ("%s \"%s\" is forbidden: %s", rt->res->plural, name ? name : "", msg));
  api_status_details (st, name, rt->res->group, rt->res->plural);
  api_reply_status (r, st);
  return false;
}

static bool
internal (api_req *r, husk_error *err)
{
  api_reply_error (r, 500, "InternalError", "admission: %s", err->msg);
  return false;
}

/* Every object of storage resource res in ns, parsed, as an array. */
static int
list_ns (store *st, const char *res, const char *ns, json_t **out, husk_error **err)
{
  store_list_result lr = { 0 };
  int ret = store_list (st, res, ns, 0, NULL, &lr, err);
  if (ret < 0)
    return ret;
  json_t *arr = json_array ();
  for (size_t i = 0; i < lr.n; i++)
    {
      json_t *o = json_loads (lr.items[i], 0, NULL);
      if (o)
        json_array_append_new (arr, o);
    }
  store_list_result_free (&lr);
  *out = arr;
  return 0;
}

static const char *
storage_of (const char *group, const char *plural)
{
  for (const api_resource *res = api_resources; res->plural; res++)
    if (streq (res->group, group) && streq (res->plural, plural))
      return api_resource_storage (res);
  return NULL;
}

static bool
limit_ranges (api_req *r, const api_route *rt, json_t *pod)
{
  _cleanup_json_ json_t *lrs = NULL;
  _cleanup_error_ husk_error *err = NULL;
  const char *res = storage_of ("", "limitranges");
  if (!res)
    return true;
  int64_t rev = api_fact_rev (r->srv->store, API_FACT_NO_LIMITRANGE);
  if (api_fact_holds (API_FACT_NO_LIMITRANGE, rt->ns, rev))
    return true;
  if (list_ns (r->srv->store, res, rt->ns, &lrs, &err) < 0)
    return internal (r, err);
  if (json_array_size (lrs) == 0)
    {
      api_fact_note (API_FACT_NO_LIMITRANGE, rt->ns, rev);
      return true;
    }
  limitrange_default_pod (pod, lrs);
  _cleanup_free_ char *msg = limitrange_check_pod (pod, lrs);
  return msg ? forbidden (r, rt, pod, msg) : true;
}

/* The usage of the namespace's objects of rt's kind: what a quota whose status does not
   yet count some name starts from. */
static int
usage_now (api_req *r, const api_route *rt, const json_t *q, json_t **out, husk_error **err)
{
  _cleanup_json_ json_t *objs = NULL;
  int ret = list_ns (r->srv->store, api_resource_storage (rt->res), rt->ns, &objs, err);
  if (ret < 0)
    return ret;
  json_t *u = json_object (), *o;
  size_t i;
  json_array_foreach (objs, i, o)
  {
    if (!quota_in_scope (q, rt->res->plural, rt->res->group, o))
      continue;
    _cleanup_json_ json_t *d = quota_usage_of (rt->res->plural, rt->res->group, o);
    quota_usage_add (u, d);
  }
  *out = u;
  return 0;
}

/* Checks one quota. Returns 1 with *charged (the quota with its new status, NULL when obj
   does not concern it) or 0 after replying. */
static int
check_one (api_req *r, const api_route *rt, const json_t *q, const json_t *obj, const json_t *delta,
           json_t **charged)
{
  json_t *hard = husk_json_path (q, "spec.hard");
  bool concerned = false;
  const char *k;
  json_t *v;
  *charged = NULL;
  if (!quota_in_scope (q, rt->res->plural, rt->res->group, obj))
    return 1;
  json_object_foreach (hard, k, v) if (json_integer_value (json_object_get (delta, k)) > 0)
      concerned
      = true;
  if (!concerned)
    return 1;
  const char *qname = husk_json_path_str (q, "metadata.name");
  _cleanup_free_ char *missing = quota_missing (rt->res->plural, obj, hard);
  if (missing)
    {
      _cleanup_free_ char *msg = xasprintf ("failed quota: %s: must specify %s", qname, missing);
      return forbidden (r, rt, obj, msg);
    }
  _cleanup_json_ json_t *used = quota_used_of (q), *now = NULL, *new_used = NULL;
  _cleanup_error_ husk_error *err = NULL;
  json_object_foreach (hard, k, v)
  {
    if (json_object_get (used, k) || !json_object_get (delta, k))
      continue;
    if (!now && usage_now (r, rt, q, &now, &err) < 0)
      return internal (r, err);
    json_object_set_new (used, k, json_integer (json_integer_value (json_object_get (now, k))));
  }
  _cleanup_free_ char *msg = quota_charge (q, used, delta, &new_used);
  if (msg)
    return forbidden (r, rt, obj, msg);
  json_t *nq = json_deep_copy (q);
  json_t *status = json_object ();
  json_object_set (status, "hard", hard);
  /* Names whose usage is still unknown stay absent: the quota controller counts them. */
  _cleanup_json_ json_t *known = json_object ();
  json_object_foreach (hard, k, v) if (json_object_get (new_used, k))
      json_object_set (known, k, json_object_get (new_used, k));
  json_object_set_new (status, "used", quota_usage_text (known));
  json_object_set_new (nq, "status", status);
  *charged = nq;
  return 1;
}

/* Writes a charged quota. Returns 0, -1 after replying, -2 when it changed meanwhile. */
static int
write_charge (api_req *r, const api_route *rt, json_t *q)
{
  _cleanup_error_ husk_error *err = NULL;
  const char *rv = husk_json_path_str (q, "metadata.resourceVersion");
  int64_t rev = rv ? strtoll (rv, NULL, 10) : 0;
  json_object_del (json_object_get (q, "metadata"), "resourceVersion");
  _cleanup_free_ char *text = husk_json_dump (q);
  if (store_update (r->srv->store, storage_of ("", "resourcequotas"), rt->ns,
                    husk_json_path_str (q, "metadata.name"), text, rev, NULL, NULL, &err)
      == 0)
    return 0;
  if (err->errnum == STORE_ECONFLICT || err->errnum == STORE_ENOTFOUND)
    return -2;
  internal (r, err);
  return -1;
}

/* One pass over the namespace's quotas: every one is checked before any is charged.
   Returns 1 done, 0 refused (replied), -2 to start over. */
static int
charge_quotas (api_req *r, const api_route *rt, const json_t *obj, const json_t *delta,
               const char *res)
{
  _cleanup_json_ json_t *qs = NULL, *charged = NULL;
  _cleanup_error_ husk_error *err = NULL;
  int64_t rev = api_fact_rev (r->srv->store, API_FACT_NO_QUOTA);
  if (api_fact_holds (API_FACT_NO_QUOTA, rt->ns, rev))
    return 1;
  if (list_ns (r->srv->store, res, rt->ns, &qs, &err) < 0)
    return internal (r, err);
  if (json_array_size (qs) == 0)
    {
      api_fact_note (API_FACT_NO_QUOTA, rt->ns, rev);
      return 1;
    }
  charged = json_array ();
  size_t i;
  json_t *q;
  json_array_foreach (qs, i, q)
  {
    json_t *nq = NULL;
    if (!check_one (r, rt, q, obj, delta, &nq))
      return 0;
    if (nq)
      json_array_append_new (charged, nq);
  }
  if (api_dry_run (r))
    return 1;
  json_array_foreach (charged, i, q)
  {
    int ret = write_charge (r, rt, q);
    if (ret < 0)
      return ret == -2 ? -2 : 0;
  }
  return 1;
}

/* ResourceQuota: a create is charged its whole usage, an update (old set) what grew. */
static bool
quotas (api_req *r, const api_route *rt, const json_t *obj, const json_t *old)
{
  const char *res = storage_of ("", "resourcequotas");
  if (!res || !rt->ns)
    return true;
  if (api_fact_holds (API_FACT_NO_QUOTA, rt->ns, api_fact_rev (r->srv->store, API_FACT_NO_QUOTA)))
    return true; /* before working out the usage: most namespaces have no quota */
  _cleanup_json_ json_t *delta
      = old ? quota_update_delta (rt->res->plural, rt->res->group, obj, old)
            : quota_usage_of (rt->res->plural, rt->res->group, obj);
  if (json_object_size (delta) == 0)
    return true;
  for (int attempt = 0; attempt < QUOTA_ATTEMPTS; attempt++)
    {
      int ret = charge_quotas (r, rt, obj, delta, res);
      if (ret >= 0)
        return ret == 1;
    }
  api_reply_error (r, 409, "Conflict",
                   "Operation cannot be fulfilled on resourcequotas: the quotas of namespace %s "
                   "keep changing, please retry",
                   rt->ns);
  return false;
}

static bool
is_default_class (const json_t *sc)
{
  json_t *ann = husk_json_path (sc, "metadata.annotations");
  const char *v
      = json_string_value (json_object_get (ann, "storageclass.kubernetes.io/is-default-class"));
  if (!v)
    v = json_string_value (
        json_object_get (ann, "storageclass.beta.kubernetes.io/is-default-class"));
  return v && streq (v, "true");
}

/* DefaultStorageClass: a claim that names no class (absent or null; "" means none) gets the
   default one. */
static bool
default_storage_class (api_req *r, json_t *pvc)
{
  json_t *spec = json_object_get (pvc, "spec");
  json_t *cls = json_object_get (spec, "storageClassName");
  if (!json_is_object (spec) || (cls && !json_is_null (cls)))
    return true;
  const char *res = storage_of ("storage.k8s.io", "storageclasses");
  _cleanup_json_ json_t *classes = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (!res)
    return true;
  if (list_ns (r->srv->store, res, NULL, &classes, &err) < 0)
    return internal (r, err);
  size_t i;
  json_t *sc;
  json_array_foreach (classes, i, sc) if (is_default_class (sc))
  {
    json_object_set (spec, "storageClassName",
                     json_object_get (json_object_get (sc, "metadata"), "name"));
    break;
  }
  return true;
}

bool
api_admission (api_req *r, const api_route *rt, json_t *obj, const json_t *old)
{
  if (rt->sub)
    return true;
  if (old)
    return quotas (r, rt, obj, old);
  bool pod = streq (rt->res->group, "") && streq (rt->res->plural, "pods");
  if (pod)
    {
      taints_default_tolerations (obj, 300);
      if (!limit_ranges (r, rt, obj))
        return false;
    }
  if (streq (rt->res->group, "") && streq (rt->res->plural, "persistentvolumeclaims")
      && !default_storage_class (r, obj))
    return false;
  return quotas (r, rt, obj, NULL);
}
