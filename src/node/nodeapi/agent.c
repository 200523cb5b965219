/* husk node API: started by the node agent (src/node/node.c) with the agent's paths and
   the token it joined with. */
#include "config.h"

#include "lib/kclient.h"
#include "lib/log.h"
#include "src/node/node-internal.h"
#include "src/node/nodeapi/nodeapi.h"

void
nodeapi_agent_start (node_agent *a, nodeapi **out)
{
  const node_config *c = a->cfg;
  *out = NULL;
  if (c->api_port < 0)
    return;
  kclient_config kc = {0};
  _cleanup_error_ husk_error *err = NULL;
  if (c->token == NULL && c->kubeconfig
      && kclient_config_from_kubeconfig (c->kubeconfig, &kc, &err) < 0)
    log_warn ("node API: no token from the kubeconfig", "error", err->msg);
  husk_error_free (TAKE_PTR (err));
  nodeapi_config nc = {.bind = c->api_bind,
                       .port = c->api_port ? c->api_port : NODEAPI_DEFAULT_PORT,
                       .data_dir = a->data_dir,
                       .rt_root = a->rt_root,
                       .log_dir = a->log_dir,
                       .token = c->token ? c->token : kc.token};
  if (nodeapi_start (&nc, out, &err) < 0)
    log_warn ("node API not started: kubectl logs/exec/port-forward through the master will "
              "not reach this node", "error", err->msg);
  else
    {
      a->api_port = nodeapi_port (*out);
      char port[16];
      snprintf (port, sizeof port, "%d", a->api_port);
      log_info ("node API listening", "port", port);
    }
  kclient_config_clear (&kc);
}
