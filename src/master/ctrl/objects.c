/* husk controllers: small writes the DaemonSet, StatefulSet and garbage collector share. */
#include "config.h"

#include <errno.h>

#include "lib/json.h"
#include "src/master/ctrl/ctrl-internal.h"

int
ctrl_post_pod (ctrl_ctx *c, const char *ns, json_t *meta, json_t *spec, husk_error **err)
{
  _cleanup_json_ json_t *pod = json_pack ("{s:s, s:s, s:O, s:O}", "apiVersion", "v1", "kind",
                                          "Pod", "metadata", meta, "spec", spec);
  _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/pods", ns);
  long code = 0;
  int ret = ctrl_write (c, "POST", path, NULL, pod, NULL, &code, err);
  return ctrl_tolerate_stale (ret, code, err);
}

int
ctrl_delete (ctrl_ctx *c, const char *path, husk_error **err)
{
  long code = 0;
  int ret = ctrl_write (c, "DELETE", path, NULL, NULL, NULL, &code, err);
  return ctrl_tolerate_stale (ret, code, err);
}

int
ctrl_delete_pod (ctrl_ctx *c, const json_t *pod, husk_error **err)
{
  _cleanup_free_ char *path
      = xasprintf ("/api/v1/namespaces/%s/pods/%s", husk_json_path_str (pod, "metadata.namespace"),
                   husk_json_path_str (pod, "metadata.name"));
  return ctrl_delete (c, path, err);
}

void
ctrl_set_label (json_t *meta, const char *key, const char *value)
{
  json_t *labels = json_object_get (meta, "labels");
  if (!json_is_object (labels))
    json_object_set_new (meta, "labels", labels = json_object ());
  json_object_set_new (labels, key, json_string (value));
}

const char *
ctrl_label (const json_t *obj, const char *key)
{
  return json_string_value (json_object_get (husk_json_path (obj, "metadata.labels"), key));
}

json_t *
ctrl_owned_pods (const json_t *owner, json_t *pods)
{
  const char *uid = husk_json_path_str (owner, "metadata.uid");
  const char *ns = husk_json_path_str (owner, "metadata.namespace");
  json_t *mine = json_array (), *p;
  size_t i;
  json_array_foreach (pods, i, p)
  {
    const char *o = ctrl_controller_uid (p);
    const char *pns = husk_json_path_str (p, "metadata.namespace");
    if (o && uid && streq (o, uid) && pns && ns && streq (pns, ns))
      json_array_append (mine, p);
  }
  return mine;
}
