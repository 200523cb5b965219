/* husk api: bearer tokens (admin, node join) and the admin kubeconfig. */
#ifndef HUSK_API_AUTH_H
#define HUSK_API_AUTH_H

#include "lib/error.h"

typedef struct api_auth
{
  char *admin_token;
  char *node_token;
} api_auth;

/* Reads <data_dir>/admin-token and <data_dir>/node-token, making them on first start. */
int api_auth_ensure (const char *data_dir, api_auth *out, husk_error **err);
void api_auth_clear (api_auth *a);

/* The user an Authorization header value authenticates ("admin", "system:node"), or NULL. */
const char *api_auth_check (const api_auth *a, const char *authorization);

/* Writes <data_dir>/admin.kubeconfig pointing at server_url, trusting ca_pem (may be NULL:
   then insecure-skip-tls-verify). */
int api_auth_write_kubeconfig (const char *data_dir, const char *server_url, const char *ca_pem,
                               const char *token, husk_error **err);

#endif
