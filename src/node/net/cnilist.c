/* The pod network through a CNI configuration list (cni/chain.c) instead of one plugin. */
#include "config.h"

#include <signal.h>

#include "cni/chain.h"
#include "lib/json.h"
#include "src/node/net/cnilist.h"

int
node_net_cni_list (const node_net_cni *c, json_t *conf, json_t *port_mappings,
                   const char *command, json_t **out, husk_error **err)
{
  _cleanup_json_ json_t *caps = json_object ();
  if (json_array_size (port_mappings) > 0)
    json_object_set (caps, "portMappings", port_mappings);
  json_decref (port_mappings);
  _cleanup_free_ char *netns = NULL;
  if (c->pause_pid > 0 && kill (c->pause_pid, 0) == 0)
    netns = xasprintf ("/proc/%d/ns/net", (int)c->pause_pid);
  /* IgnoreUnknown=1 as Kubernetes runtimes send it: the standard plugins (host-local,
     bridge) refuse CNI_ARGS keys they do not know otherwise. */
  _cleanup_free_ char *args = xasprintf (
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;K8S_POD_UID=%s", c->pod_ns,
      c->pod_name, c->pod_uid);
  _cleanup_free_ char *cache = xasprintf ("%s/cni/results", c->data_dir);
  cni_list_rt rt = {
    .container_id = c->pod_uid,
    .netns = netns,
    .ifname = "eth0",
    .args = args,
    .cni_path = c->cni_path,
    .husk_cni = c->husk_cni,
    .capability_args = caps,
    .cache_dir = cache,
    .stderr_fd = c->log_fd,
  };
  int r = cni_list_run (conf, &rt, command, out, err);
  if (r < 0)
    return husk_err_wrap (err, "CNI %s", command);
  return 0;
}
