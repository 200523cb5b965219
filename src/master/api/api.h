/* husk api: the Kubernetes API server of `husk master`. */
#ifndef HUSK_API_H
#define HUSK_API_H

#include "lib/error.h"

struct store;

typedef struct api_config
{
  const char *data_dir;
  const char *bind;     /* "addr:port", "addr" (port 6443) or ":port"; default 0.0.0.0:6443 */
  const char *tls_cert; /* optional PEM files replacing the generated serving certificate */
  const char *tls_key;
  int insecure_port; /* >0: also serve plain HTTP on 127.0.0.1:<port> without auth */
  struct store *store;
} api_config;

typedef struct api_server api_server;

/* Prepares certificates, tokens and kubeconfig, then starts serving in background threads. */
int api_server_start (const api_config *cfg, api_server **out, husk_error **err);
/* The TCP port actually bound (useful with port 0). */
int api_server_port (const api_server *s);
void api_server_stop (api_server *s);

#endif
