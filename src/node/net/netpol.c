/* NetworkPolicy on this node: policies, pods (every namespace: peers can be anywhere) and
   namespaces come from their caches; the compiler (cni/netpol.c) turns them into chains for
   the pods bound here and the applier replaces table inet husk-netpol in one transaction.
   Nothing is sent when the compiled model did not change. */
#include "config.h"

#include "cni/netpol.h"
#include "lib/json.h"
#include "lib/log.h"
#include "src/node/net/net-internal.h"

static void
copy_path (json_t *dst, json_t *src, const char *section, const char *key)
{
  json_t *v = json_object_get (json_object_get (src, section), key);
  if (v == NULL)
    return;
  json_t *d = json_object_get (dst, section);
  if (d == NULL)
    {
      d = json_object ();
      json_object_set_new (dst, section, d);
    }
  json_object_set (d, key, v);
}

json_t *
net_strip_policy (json_t *obj)
{
  json_t *s = json_object ();
  copy_path (s, obj, "metadata", "namespace");
  copy_path (s, obj, "metadata", "name");
  json_object_set (s, "spec", json_object_get (obj, "spec"));
  return s;
}

/* containers[].ports only (named ports) */
static json_t *
ports_of (json_t *ctrs)
{
  json_t *out = json_array ();
  size_t i;
  json_t *c;
  json_array_foreach (ctrs, i, c)
    {
      json_t *p = json_object_get (c, "ports");
      json_array_append_new (out, p ? json_pack ("{s:O}", "ports", p) : json_object ());
    }
  return out;
}

json_t *
net_strip_pod (json_t *obj)
{
  json_t *s = json_object ();
  copy_path (s, obj, "metadata", "namespace");
  copy_path (s, obj, "metadata", "name");
  copy_path (s, obj, "metadata", "labels");
  copy_path (s, obj, "spec", "nodeName");
  copy_path (s, obj, "spec", "hostNetwork");
  copy_path (s, obj, "status", "podIP");
  copy_path (s, obj, "status", "podIPs");
  copy_path (s, obj, "status", "phase");
  json_t *spec = json_object_get (s, "spec");
  if (spec == NULL)
    json_object_set_new (s, "spec", spec = json_object ());
  json_object_set_new (spec, "containers", ports_of (husk_json_path (obj, "spec.containers")));
  json_object_set_new (spec, "initContainers",
                       ports_of (husk_json_path (obj, "spec.initContainers")));
  return s;
}

json_t *
net_strip_namespace (json_t *obj)
{
  json_t *s = json_object ();
  copy_path (s, obj, "metadata", "name");
  copy_path (s, obj, "metadata", "labels");
  return s;
}

int
net_netpol_sync (node_net *n, json_t *policies, json_t *pods, json_t *namespaces,
                 husk_error **err)
{
  _cleanup_ (cni_np_model_freep) cni_np_model *m = NULL;
  int r = cni_np_compile (policies, pods, namespaces, n->node, &m, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *text = cni_np_model_digest (m);
  if (n->netpol_last && streq (n->netpol_last, text))
    return 0;
  for (size_t i = 0; i < m->nwarnings; i++)
    log_warn ("NetworkPolicy: part of a policy ignored (matches nothing)", "problem",
              m->warnings[i]);
  if (m->ningress == 0 && m->negress == 0 && !n->netpol_applied && n->netpol_last)
    {
      free (n->netpol_last);
      n->netpol_last = TAKE_PTR (text);
      return 0;
    }
  r = cni_np_apply (m, err);
  if (r < 0)
    return husk_err_wrap (err, "NetworkPolicy");
  char ni[16], ne[16];
  snprintf (ni, sizeof ni, "%zu", m->ningress);
  snprintf (ne, sizeof ne, "%zu", m->negress);
  log_info ("NetworkPolicy rules applied", "ingressIsolated", ni, "egressIsolated", ne);
  n->netpol_applied = m->ningress || m->negress;
  free (n->netpol_last);
  n->netpol_last = TAKE_PTR (text);
  return 0;
}
