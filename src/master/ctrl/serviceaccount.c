/* husk controllers: a `default` ServiceAccount in every active namespace. */
#include "config.h"

#include <errno.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/ctrl-internal.h"

int
ctrl_serviceaccount_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *nss = NULL, *sas = NULL;
  int ret = ctrl_list (c, "/api/v1/namespaces", &nss, err);
  if (ret == 0)
    ret = ctrl_list (c, "/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault", &sas, err);
  if (ret < 0)
    return ret;
  json_t *ns, *sa;
  size_t i, j;
  json_array_foreach (nss, i, ns)
  {
    const char *name = husk_json_path_str (ns, "metadata.name");
    const char *phase = husk_json_path_str (ns, "status.phase");
    if (!name || ctrl_terminating (ns) || (phase && streq (phase, "Terminating")))
      continue;
    bool found = false;
    json_array_foreach (sas, j, sa)
    {
      const char *sns = husk_json_path_str (sa, "metadata.namespace");
      const char *sname = husk_json_path_str (sa, "metadata.name");
      if (sns && sname && streq (sns, name) && streq (sname, "default"))
        found = true;
    }
    if (found)
      continue;
    _cleanup_json_ json_t *body
        = json_pack ("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "ServiceAccount",
                     "metadata", "name", "default", "namespace", name);
    _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/serviceaccounts", name);
    _cleanup_error_ husk_error *e = NULL;
    long code = 0;
    if (ctrl_write (c, "POST", path, NULL, body, NULL, &code, &e) < 0 && code != 409
        && code != 404 && code != 403)
      log_warn ("serviceaccount sync", "error", e->msg);
  }
  return 0;
}
