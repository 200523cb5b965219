/* husk api: bearer tokens (admin, node join) and the admin kubeconfig. */
#ifndef HUSK_API_AUTH_H
#define HUSK_API_AUTH_H

#include "lib/error.h"

typedef struct api_auth
{
  char *admin_token;
  char *node_token;
  char *sa_key; /* HMAC key of service account tokens */
} api_auth;

/* Reads <data_dir>/admin-token, node-token and sa-signing-key, making them on first start. */
int api_auth_ensure (const char *data_dir, api_auth *out, husk_error **err);
void api_auth_clear (api_auth *a);

/* The user an Authorization header value authenticates ("admin", "system:node"), or NULL. */
const char *api_auth_check (const api_auth *a, const char *authorization);
/* The bearer token of an Authorization header value (*len its length), or NULL. */
const char *api_auth_bearer (const char *authorization, size_t *len);

/* Writes <data_dir>/admin.kubeconfig pointing at server_url, trusting ca_pem (may be NULL:
   then insecure-skip-tls-verify). */
int api_auth_write_kubeconfig (const char *data_dir, const char *server_url, const char *ca_pem,
                               const char *token, husk_error **err);

#endif
