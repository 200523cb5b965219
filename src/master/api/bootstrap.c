/* husk api: objects that exist from the first start: the four namespaces and the
   `kubernetes` service in default. */
#include "config.h"

#include <errno.h>

#include "src/master/api/defaults.h"
#include "src/master/api/handlers.h"

static int
ensure (store *st, const char *resource, const char *ns, const char *name, json_t *obj,
        husk_error **err)
{
  _cleanup_free_ char *cur = NULL;
  husk_error *e = NULL;
  if (store_get (st, resource, ns, name, &cur, NULL, &e) == 0)
    {
      json_decref (obj);
      return 0;
    }
  if (e->errnum != STORE_ENOTFOUND)
    {
      json_decref (obj);
      husk_error_move (err, &e);
      return husk_err_code (*err);
    }
  husk_error_free (e);
  _cleanup_free_ char *uid = api_random_hex (16);
  _cleanup_free_ char *now = api_now_rfc3339 ();
  json_t *meta = json_object_get (obj, "metadata");
  json_object_set_new (meta, "uid", json_sprintf ("%.8s-%.4s-4%.3s-a%.3s-%.12s", uid, uid + 8,
                                                  uid + 13, uid + 17, uid + 20));
  json_object_set_new (meta, "creationTimestamp", json_string (now));
  _cleanup_free_ char *s = husk_json_dump (obj);
  json_decref (obj);
  int ret = store_create (st, resource, ns, name, s, NULL, NULL, err);
  if (ret < 0 && (*err)->errnum == STORE_EEXIST)
    {
      husk_error_free (*err);
      *err = NULL;
      return 0;
    }
  return ret;
}

int
api_bootstrap (store *st, husk_error **err)
{
  static const char *const names[] = {"default", "kube-system", "kube-public", "kube-node-lease"};
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    {
      json_t *ns = json_pack ("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                              "metadata", "name", names[i]);
      api_default_namespace (ns);
      int ret = ensure (st, "namespaces", NULL, names[i], ns, err);
      if (ret < 0)
        return husk_err_wrap (err, "create namespace %s", names[i]);
    }
  static const struct
  {
    const char *name;
    int value;
    const char *description;
  } classes[] = {{"system-node-critical", 2000001000,
                  "Used for system critical pods that must not be moved from their current "
                  "node."},
                 {"system-cluster-critical", 2000000000,
                  "Used for system critical pods that must run in the cluster, but can be moved "
                  "to another node if necessary."}};
  for (size_t i = 0; i < ARRAY_SIZE (classes); i++)
    {
      json_t *pc = json_pack ("{s:s, s:s, s:{s:s}, s:i, s:s, s:s}", "apiVersion",
                              "scheduling.k8s.io/v1", "kind", "PriorityClass", "metadata", "name",
                              classes[i].name, "value", classes[i].value, "description",
                              classes[i].description, "preemptionPolicy",
                              "PreemptLowerPriority");
      int ret = ensure (st, "priorityclasses", NULL, classes[i].name, pc, err);
      if (ret < 0)
        return husk_err_wrap (err, "create priority class %s", classes[i].name);
    }
  json_t *svc = json_pack ("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:[s], s:s, "
                           "s:[{s:s, s:i, s:s, s:i}], s:s, s:[s], s:s, s:s}}",
                           "apiVersion", "v1", "kind", "Service", "metadata", "name",
                           "kubernetes", "namespace", "default", "labels", "component",
                           "apiserver", "provider", "kubernetes", "spec", "clusterIP",
                           "10.43.0.1", "clusterIPs", "10.43.0.1", "type", "ClusterIP", "ports",
                           "name", "https", "port", 443, "protocol", "TCP", "targetPort", 6443,
                           "sessionAffinity", "None", "ipFamilies", "IPv4", "ipFamilyPolicy",
                           "SingleStack", "internalTrafficPolicy", "Cluster");
  int ret = ensure (st, "services", "default", "kubernetes", svc, err);
  if (ret < 0)
    return husk_err_wrap (err, "create service default/kubernetes");
  return 0;
}
