/* NetworkPolicy compiler, part 1: label selectors and the pods/namespaces they see. */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "cni/netpol-internal.h"
#include "lib/json.h"

static bool
value_in (const char *v, json_t *values)
{
  size_t i;
  json_t *x;
  json_array_foreach (values, i, x)
    if (json_is_string (x) && streq (json_string_value (x), v))
      return true;
  return false;
}

/* One matchExpressions entry. *bad gets a description of an invalid one. */
static bool
expr_match (json_t *e, json_t *labels, char **bad)
{
  const char *key = husk_json_path_str (e, "key");
  const char *op = husk_json_path_str (e, "operator");
  json_t *values = json_object_get (e, "values");
  if (key == NULL || op == NULL)
    {
      *bad = xstrdup ("needs key and operator");
      return false;
    }
  json_t *lv = json_object_get (labels, key);
  const char *v = json_is_string (lv) ? json_string_value (lv) : NULL;
  if (streq (op, "Exists"))
    return v != NULL;
  if (streq (op, "DoesNotExist"))
    return v == NULL;
  if (!streq (op, "In") && !streq (op, "NotIn"))
    {
      *bad = xasprintf ("unknown operator \"%s\" (In, NotIn, Exists, DoesNotExist)", op);
      return false;
    }
  if (!json_is_array (values) || json_array_size (values) == 0)
    {
      *bad = xasprintf ("operator %s needs values", op);
      return false;
    }
  if (streq (op, "In"))
    return v != NULL && value_in (v, values);
  return v == NULL || !value_in (v, values);
}

bool
np_selector_match (json_t *sel, json_t *labels, char **bad)
{
  if (sel == NULL || json_is_null (sel))
    return true;
  if (!json_is_object (sel))
    {
      *bad = xstrdup ("not an object");
      return false;
    }
  const char *k;
  json_t *want;
  json_t *ml = json_object_get (sel, "matchLabels");
  json_object_foreach (ml, k, want)
    {
      json_t *have = json_object_get (labels, k);
      if (!json_is_string (want) || !json_is_string (have)
          || !streq (json_string_value (want), json_string_value (have)))
        return false;
    }
  size_t i;
  json_t *e;
  bool ok = true;
  json_array_foreach (json_object_get (sel, "matchExpressions"), i, e)
    {
      char *why = NULL;
      if (!expr_match (e, labels, &why))
        ok = false;
      if (why)
        {
          *bad = xasprintf ("matchExpressions[%zu]: %s", i, why);
          free (why);
          return false;
        }
    }
  return ok;
}

static void
pod_ips (json_t *pod, np_pod *p)
{
  size_t i;
  json_t *x;
  json_t *list = husk_json_path (pod, "status.podIPs");
  json_array_foreach (list, i, x)
    {
      cni_ip ip;
      const char *s = husk_json_path_str (x, "ip");
      if (s && cni_ip_parse (s, &ip, NULL) == 0)
        {
          p->ips = xreallocarray (p->ips, p->nips + 1, sizeof *p->ips);
          ip.prefix = -1;
          p->ips[p->nips++] = ip;
        }
    }
  const char *one = husk_json_path_str (pod, "status.podIP");
  cni_ip ip;
  if (p->nips == 0 && one && cni_ip_parse (one, &ip, NULL) == 0)
    {
      p->ips = xmalloc (sizeof *p->ips);
      ip.prefix = -1;
      p->ips[p->nips++] = ip;
    }
}

/* Pods that take part: an address, not hostNetwork, not finished. */
static bool
pod_counts (json_t *pod)
{
  json_t *hn = husk_json_path (pod, "spec.hostNetwork");
  const char *phase = husk_json_path_str (pod, "status.phase");
  if (json_is_true (hn))
    return false;
  if (phase && (streq (phase, "Succeeded") || streq (phase, "Failed")))
    return false;
  return true;
}

static void pod_ports (json_t *pod, np_pod *p);

void
np_pods_load (json_t *pods, np_ctx *c)
{
  size_t i;
  json_t *pod;
  json_array_foreach (pods, i, pod)
    {
      if (!pod_counts (pod))
        continue;
      np_pod p = {.obj = pod};
      pod_ips (pod, &p);
      if (p.nips == 0)
        continue;
      p.ns = husk_json_path_str (pod, "metadata.namespace");
      p.name = husk_json_path_str (pod, "metadata.name");
      if (p.ns == NULL)
        p.ns = "default";
      if (p.name == NULL)
        p.name = "";
      p.node = husk_json_path_str (pod, "spec.nodeName");
      p.labels = husk_json_path (pod, "metadata.labels");
      pod_ports (pod, &p);
      c->pods = xreallocarray (c->pods, c->npods + 1, sizeof *c->pods);
      c->pods[c->npods++] = p;
    }
}

/* A namespace's labels; kubernetes.io/metadata.name is always there (as upstream sets it),
   also for a namespace not (yet) in the list. Borrowed from c->ns_labels. */
json_t *
np_ns_labels (np_ctx *c, const char *ns)
{
  json_t *l = json_object_get (c->ns_labels, ns);
  if (l)
    return l;
  l = json_object ();
  json_object_set_new (l, "kubernetes.io/metadata.name", json_string (ns));
  json_object_set_new (c->ns_labels, ns, l);
  return l;
}

void
np_namespaces_load (json_t *namespaces, np_ctx *c)
{
  size_t i;
  json_t *ns;
  c->ns_labels = json_object ();
  json_array_foreach (namespaces, i, ns)
    {
      const char *name = husk_json_path_str (ns, "metadata.name");
      if (name == NULL)
        continue;
      json_t *labels = json_object ();
      json_t *have = husk_json_path (ns, "metadata.labels");
      if (json_is_object (have))
        json_object_update (labels, have);
      json_object_set_new (labels, "kubernetes.io/metadata.name", json_string (name));
      json_object_set_new (c->ns_labels, name, labels);
    }
}

/* The named ports of a pod's containers (init containers too), looked up once. */
static void
pod_ports (json_t *pod, np_pod *p)
{
  static const char *const lists[] = {"spec.containers", "spec.initContainers"};
  for (size_t l = 0; l < ARRAY_SIZE (lists); l++)
    {
      size_t i, j;
      json_t *ctr, *port;
      json_array_foreach (husk_json_path (pod, lists[l]), i, ctr)
        json_array_foreach (json_object_get (ctr, "ports"), j, port)
        {
          const char *n = husk_json_path_str (port, "name");
          json_int_t num = husk_json_path_int (port, "containerPort", 0);
          uint8_t proto = np_proto (husk_json_path_str (port, "protocol"));
          if (n == NULL || proto == 0 || num < 1 || num > 65535)
            continue;
          p->ports = xreallocarray (p->ports, p->nports + 1, sizeof *p->ports);
          p->ports[p->nports++] = (np_named) {.name = n, .proto = proto, .port = (int) num};
        }
    }
}

/* The port a pod's containers give a name for proto; 0 when none. */
int
np_named_port (const np_pod *p, const char *name, uint8_t proto)
{
  for (size_t i = 0; i < p->nports; i++)
    if (p->ports[i].proto == proto && streq (p->ports[i].name, name))
      return p->ports[i].port;
  return 0;
}

/* IPPROTO_* of a protocol name (NULL: TCP); 0 when unknown. */
uint8_t
np_proto (const char *name)
{
  if (name == NULL || streq (name, "TCP"))
    return IPPROTO_TCP;
  if (streq (name, "UDP"))
    return IPPROTO_UDP;
  if (streq (name, "SCTP"))
    return IPPROTO_SCTP;
  return 0;
}
