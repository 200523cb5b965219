/* husk controllers: Endpoints and EndpointSlices. For every Service with a selector, the
   matching pods that have an IP: ready ones as addresses, others as notReadyAddresses
   (publishNotReadyAddresses lists all as ready), the ports resolved from targetPort (a number
   or a container port's name). One EndpointSlice per Service mirrors the same endpoints. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/ctrl-internal.h"

#define SLICE_MANAGER "endpointslice-controller.k8s.io"

static bool
selector_matches (const json_t *sel, const json_t *pod)
{
  json_t *labels = husk_json_path (pod, "metadata.labels");
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)sel, k,
                       v) if (!json_equal (json_object_get (labels, k), v)) return false;
  return true;
}

/* The pod's port for a Service port's targetPort, or 0 when a named port is absent. */
static json_int_t
resolve_port (const json_t *sp, const json_t *pod)
{
  json_t *tp = json_object_get (sp, "targetPort");
  if (json_is_integer (tp))
    return json_integer_value (tp);
  const char *name = json_string_value (tp);
  if (name == NULL)
    return json_integer_value (json_object_get (sp, "port"));
  char *end;
  long n = strtol (name, &end, 10);
  if (*name && *end == '\0')
    return n;
  json_t *cs = husk_json_path (pod, "spec.containers"), *ctr, *cp;
  size_t i, j;
  json_array_foreach (cs, i, ctr) json_array_foreach (json_object_get (ctr, "ports"), j, cp)
  {
    const char *pn = json_string_value (json_object_get (cp, "name"));
    if (pn && streq (pn, name))
      return json_integer_value (json_object_get (cp, "containerPort"));
  }
  return 0;
}

static json_t *
pod_ports (const json_t *svc, const json_t *pod)
{
  json_t *ports = json_array (), *sp;
  size_t i;
  json_array_foreach (husk_json_path (svc, "spec.ports"), i, sp)
  {
    json_int_t p = resolve_port (sp, pod);
    if (p <= 0)
      continue;
    const char *proto = json_string_value (json_object_get (sp, "protocol"));
    json_t *e = json_pack ("{s:I, s:s}", "port", p, "protocol", proto ? proto : "TCP");
    json_t *name = json_object_get (sp, "name");
    if (json_is_string (name) && *json_string_value (name))
      json_object_set (e, "name", name);
    json_array_append_new (ports, e);
  }
  return ports;
}

static int
cmp_ip (const void *a, const void *b)
{
  const char *x = json_string_value (json_object_get (*(json_t *const *)a, "ip"));
  const char *y = json_string_value (json_object_get (*(json_t *const *)b, "ip"));
  return strcmp (x ? x : "", y ? y : "");
}

static void
sort_addresses (json_t *arr)
{
  size_t n = json_array_size (arr);
  if (n < 2)
    return;
  json_t **v = xmalloc (n * sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = json_incref (json_array_get (arr, i));
  qsort (v, n, sizeof *v, cmp_ip);
  json_array_clear (arr);
  for (size_t i = 0; i < n; i++)
    json_array_append_new (arr, v[i]);
  free (v);
}

/* Equal, an absent field counting as an empty array. */
static bool
same_field (const json_t *a, const json_t *b, const char *key)
{
  json_t *x = json_object_get (a, key), *y = json_object_get (b, key);
  if (json_array_size (x) == 0 && json_array_size (y) == 0 && (!x || json_is_array (x))
      && (!y || json_is_array (y)))
    return true;
  return x && y && json_equal (x, y);
}

/* Creates coll/name with body, or replaces it when its field key or key2 differs. */
static int
apply (ctrl_ctx *c, const char *coll, const char *name, json_t *body, const char *key,
       const char *key2, json_t *existing, husk_error **err)
{
  long code = 0;
  int ret;
  if (existing == NULL)
    {
      ret = ctrl_write (c, "POST", coll, NULL, body, NULL, &code, err);
    }
  else
    {
      if (same_field (existing, body, key) && (!key2 || same_field (existing, body, key2)))
        return 0;
      json_object_set (json_object_get (body, "metadata"), "resourceVersion",
                       husk_json_path (existing, "metadata.resourceVersion"));
      _cleanup_free_ char *path = xasprintf ("%s/%s", coll, name);
      ret = ctrl_write (c, "PUT", path, NULL, body, NULL, &code, err);
    }
  return ctrl_tolerate_stale (ret, code, err);
}

static json_t *
find_named (json_t *items, const char *ns, const char *name)
{
  json_t *o;
  size_t i;
  json_array_foreach (items, i, o)
  {
    const char *n = husk_json_path_str (o, "metadata.name");
    const char *s = husk_json_path_str (o, "metadata.namespace");
    if (n && s && streq (n, name) && streq (s, ns))
      return o;
  }
  return NULL;
}

static int
sync_service (ctrl_ctx *c, json_t *svc, json_t *pods, json_t *eps, json_t *slices, husk_error **err)
{
  const char *ns = husk_json_path_str (svc, "metadata.namespace");
  const char *name = husk_json_path_str (svc, "metadata.name");
  json_t *sel = husk_json_path (svc, "spec.selector");
  if (!ns || !name || !json_is_object (sel) || json_object_size (sel) == 0)
    return 0;
  bool all_ready = json_is_true (husk_json_path (svc, "spec.publishNotReadyAddresses"));
  /* Subsets grouped by their port list (pods may resolve named ports differently). */
  _cleanup_json_ json_t *groups = json_object ();
  _cleanup_json_ json_t *sl_eps = json_array ();
  _cleanup_json_ json_t *sl_ports = NULL;
  json_t *p;
  size_t i;
  json_array_foreach (pods, i, p)
  {
    const char *pns = husk_json_path_str (p, "metadata.namespace");
    const char *ip = husk_json_path_str (p, "status.podIP");
    if (!pns || !streq (pns, ns) || !ip || !*ip || !selector_matches (sel, p))
      continue;
    const char *phase = husk_json_path_str (p, "status.phase");
    if (phase && (streq (phase, "Succeeded") || streq (phase, "Failed")))
      continue;
    bool terminating = ctrl_terminating (p);
    bool ready = (all_ready || ctrl_pod_ready (p)) && !terminating;
    json_t *ports = pod_ports (svc, p);
    _cleanup_free_ char *key = husk_json_dump (ports);
    json_t *sub = json_object_get (groups, key);
    if (sub == NULL)
      {
        sub = json_pack ("{s:[], s:[], s:o}", "addresses", "notReadyAddresses", "ports", ports);
        json_object_set_new (groups, key, sub);
      }
    else
      json_decref (ports);
    if (sl_ports == NULL)
      sl_ports = json_incref (json_object_get (sub, "ports"));
    json_t *target = json_pack ("{s:s, s:s, s:s, s:s}", "kind", "Pod", "namespace", ns, "name",
                                husk_json_path_str (p, "metadata.name"), "uid",
                                husk_json_path_str (p, "metadata.uid"));
    const char *node = husk_json_path_str (p, "spec.nodeName");
    json_t *addr = json_pack ("{s:s, s:O}", "ip", ip, "targetRef", target);
    json_t *ep = json_pack ("{s:[s], s:{s:b, s:b, s:b}, s:o}", "addresses", ip, "conditions",
                            "ready", ready, "serving", (all_ready || ctrl_pod_ready (p)),
                            "terminating", terminating, "targetRef", target);
    if (node)
      {
        json_object_set_new (addr, "nodeName", json_string (node));
        json_object_set_new (ep, "nodeName", json_string (node));
      }
    json_array_append_new (json_object_get (sub, ready ? "addresses" : "notReadyAddresses"), addr);
    json_array_append_new (sl_eps, ep);
  }
  _cleanup_json_ json_t *subsets = json_array ();
  const char *k;
  json_t *sub;
  json_object_foreach (groups, k, sub)
  {
    sort_addresses (json_object_get (sub, "addresses"));
    sort_addresses (json_object_get (sub, "notReadyAddresses"));
    if (json_array_size (json_object_get (sub, "notReadyAddresses")) == 0)
      json_object_del (sub, "notReadyAddresses");
    if (json_array_size (json_object_get (sub, "addresses")) == 0)
      json_object_del (sub, "addresses");
    json_array_append (subsets, sub);
  }
  json_t *labels = husk_json_path (svc, "metadata.labels");
  _cleanup_json_ json_t *ep
      = json_pack ("{s:s, s:s, s:{s:s, s:s, s:O}, s:O}", "apiVersion", "v1", "kind", "Endpoints",
                   "metadata", "name", name, "namespace", ns, "labels",
                   labels ? labels : json_object (), "subsets", subsets);
  _cleanup_free_ char *coll = xasprintf ("/api/v1/namespaces/%s/endpoints", ns);
  int ret = apply (c, coll, name, ep, "subsets", NULL, find_named (eps, ns, name), err);
  if (ret < 0)
    return husk_err_wrap (err, "endpoints %s/%s", ns, name);

  _cleanup_json_ json_t *sl = json_pack (
      "{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}, s:[o]}, s:s, s:O, s:O}", "apiVersion",
      "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata", "name", name, "namespace", ns,
      "labels", "kubernetes.io/service-name", name, "endpointslice.kubernetes.io/managed-by",
      SLICE_MANAGER, "ownerReferences", ctrl_owner_ref ("v1", "Service", svc), "addressType",
      "IPv4", "endpoints", sl_eps, "ports", sl_ports ? sl_ports : json_array ());
  _cleanup_free_ char *scoll
      = xasprintf ("/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices", ns);
  ret = apply (c, scoll, name, sl, "endpoints", "ports", find_named (slices, ns, name), err);
  if (ret < 0)
    return husk_err_wrap (err, "endpointslice %s/%s", ns, name);
  return 0;
}

int
ctrl_endpoints_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *svcs = NULL, *pods = NULL, *eps = NULL, *slices = NULL;
  int ret = ctrl_list (c, "/api/v1/services", &svcs, err);
  if (ret == 0)
    ret = ctrl_list (c, "/api/v1/pods", &pods, err);
  if (ret == 0)
    ret = ctrl_list (c, "/api/v1/endpoints", &eps, err);
  if (ret == 0)
    ret = ctrl_list (c, "/apis/discovery.k8s.io/v1/endpointslices", &slices, err);
  if (ret < 0)
    return ret;
  json_t *svc;
  size_t i;
  json_array_foreach (svcs, i, svc)
  {
    _cleanup_error_ husk_error *e = NULL;
    if (sync_service (c, svc, pods, eps, slices, &e) < 0)
      log_warn ("endpoints sync", "error", e->msg);
  }
  return 0;
}
