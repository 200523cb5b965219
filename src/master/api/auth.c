/* husk api: bearer tokens and the admin kubeconfig. */
#include "config.h"

#include <errno.h>

#include <gnutls/gnutls.h>

#include "lib/path.h"
#include "src/master/api/auth.h"
#include "src/master/api/tls.h"

static int
ensure_token (const char *data_dir, const char *name, char **out, husk_error **err)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", data_dir, name);
  _cleanup_free_ char *data = NULL;
  if (access (path, R_OK) == 0)
    {
      int ret = husk_read_file (path, &data, NULL, err);
      if (ret < 0)
        return ret;
      data[strcspn (data, "\r\n")] = '\0';
      if (strlen (data) < 16)
        return husk_err (err, EINVAL, "%s: token too short", path);
      *out = TAKE_PTR (data);
      return 0;
    }
  data = api_random_hex (24);
  _cleanup_free_ char *line = xasprintf ("%s\n", data);
  int ret = husk_write_file_atomic (path, line, strlen (line), 0600, err);
  if (ret < 0)
    return ret;
  *out = TAKE_PTR (data);
  return 0;
}

int
api_auth_ensure (const char *data_dir, api_auth *out, husk_error **err)
{
  api_auth a = {0};
  int ret = ensure_token (data_dir, "admin-token", &a.admin_token, err);
  if (ret == 0)
    ret = ensure_token (data_dir, "node-token", &a.node_token, err);
  if (ret == 0)
    ret = ensure_token (data_dir, "sa-signing-key", &a.sa_key, err);
  if (ret < 0)
    {
      api_auth_clear (&a);
      return ret;
    }
  *out = a;
  return 0;
}

void
api_auth_clear (api_auth *a)
{
  free (a->admin_token);
  free (a->node_token);
  free (a->sa_key);
  memset (a, 0, sizeof *a);
}

/* Constant-time comparison of a presented token against the expected one. */
static bool
token_eq (const char *got, size_t n, const char *want)
{
  size_t wn = strlen (want);
  unsigned char diff = n != wn;
  for (size_t i = 0; i < wn; i++)
    diff |= (unsigned char) (i < n ? got[i] : 0) ^ (unsigned char) want[i];
  return diff == 0;
}

const char *
api_auth_bearer (const char *authorization, size_t *len)
{
  if (authorization == NULL || strncasecmp (authorization, "Bearer ", 7) != 0)
    return NULL;
  const char *tok = authorization + 7;
  while (*tok == ' ')
    tok++;
  *len = strcspn (tok, " \t\r\n");
  return tok;
}

const char *
api_auth_check (const api_auth *a, const char *authorization)
{
  size_t n = 0;
  const char *tok = api_auth_bearer (authorization, &n);
  if (tok == NULL)
    return NULL;
  if (token_eq (tok, n, a->admin_token))
    return "admin";
  if (token_eq (tok, n, a->node_token))
    return "system:node";
  return NULL;
}

static char *
base64 (const char *s)
{
  gnutls_datum_t in = {(unsigned char *) s, (unsigned) strlen (s)}, out;
  if (gnutls_base64_encode2 (&in, &out) < 0)
    husk_oom ();
  char *r = xstrndup ((const char *) out.data, out.size);
  gnutls_free (out.data);
  return r;
}

int
api_auth_write_kubeconfig (const char *data_dir, const char *server_url, const char *ca_pem,
                           const char *token, husk_error **err)
{
  _cleanup_free_ char *ca = ca_pem ? base64 (ca_pem) : NULL;
  _cleanup_free_ char *trust = ca ? xasprintf ("certificate-authority-data: %s", ca)
                                  : xstrdup ("insecure-skip-tls-verify: true");
  _cleanup_free_ char *doc = xasprintf ("apiVersion: v1\n"
                                        "kind: Config\n"
                                        "clusters:\n"
                                        "- name: husk\n"
                                        "  cluster:\n"
                                        "    server: %s\n"
                                        "    %s\n"
                                        "users:\n"
                                        "- name: admin\n"
                                        "  user:\n"
                                        "    token: %s\n"
                                        "contexts:\n"
                                        "- name: husk\n"
                                        "  context:\n"
                                        "    cluster: husk\n"
                                        "    user: admin\n"
                                        "    namespace: default\n"
                                        "current-context: husk\n",
                                        server_url, trust, token);
  _cleanup_free_ char *path = xasprintf ("%s/admin.kubeconfig", data_dir);
  return husk_write_file_atomic (path, doc, strlen (doc), 0600, err);
}
