/* husk api: the Kubernetes API server of `husk master`. */
#ifndef HUSK_API_H
#define HUSK_API_H

#include "lib/error.h"

struct store;
struct MHD_Connection;

/* Streams of a pod's node (log, exec, attach, portforward) are answered by this hook, which
   the node-agent side of the master installs; pod_json is the stored pod (its spec.nodeName
   says where it runs). Returns MHD_YES/MHD_NO as a libmicrohttpd access handler; the request
   is already authenticated. Without a hook these answer 503. */
typedef int (*api_pod_proxy_fn) (void *cls, struct MHD_Connection *conn, const char *method,
                                 const char *ns, const char *pod, const char *subresource,
                                 const char *pod_json);

typedef struct api_config
{
  const char *data_dir;
  const char *bind;     /* "addr:port", "addr" (port 6443) or ":port"; default 0.0.0.0:6443 */
  const char *tls_cert; /* optional PEM files replacing the generated serving certificate */
  const char *tls_key;
  int insecure_port; /* >0: also serve plain HTTP on 127.0.0.1:<port> without auth */
  struct store *store;
  api_pod_proxy_fn pod_proxy;
  void *pod_proxy_cls;
} api_config;

typedef struct api_server api_server;

/* Prepares certificates, tokens and kubeconfig, then starts serving in background threads. */
int api_server_start (const api_config *cfg, api_server **out, husk_error **err);
/* The TCP port actually bound (useful with port 0). */
int api_server_port (const api_server *s);
/* https://ADDR:PORT for clients on this host (the scheduler, the controllers): the bound
   address, or 127.0.0.1 when bound to every address. Valid until api_server_stop. */
const char *api_server_url (const api_server *s);
void api_server_stop (api_server *s);

#endif
