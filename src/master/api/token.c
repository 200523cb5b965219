/* husk api: service account tokens (`kubectl create token`: POST
   serviceaccounts/<name>/token with a TokenRequest) and their authentication.

   A token is a JWT signed with HMAC-SHA256 under <data-dir>/sa-signing-key: claims iss, sub
   (system:serviceaccount:<ns>:<name>), aud, iat, nbf, exp and kubernetes.io {namespace,
   serviceaccount {name, uid}}. It authenticates while unexpired and while the service account
   with that uid exists (deleting the account revokes its tokens), as upstream's bound tokens. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include <nettle/hmac.h>

#include "lib/base64.h"
#include "src/master/api/handlers.h"
#include "src/master/api/token.h"

#define TOKEN_ISSUER "https://kubernetes.default.svc.cluster.local"
#define TOKEN_DEFAULT_SECONDS 3600
#define TOKEN_MIN_SECONDS 600

/* base64url without padding. */
static char *
b64url (const void *data, size_t len)
{
  char *s = husk_base64_encode (data, len);
  size_t n = 0;
  for (char *p = s; *p; p++)
    {
      if (*p == '=')
        break;
      s[n++] = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    }
  s[n] = '\0';
  return s;
}

static char *
sign (const char *key, const char *msg, size_t len)
{
  struct hmac_sha256_ctx ctx;
  uint8_t mac[SHA256_DIGEST_SIZE];
  hmac_sha256_set_key (&ctx, strlen (key), (const uint8_t *) key);
  hmac_sha256_update (&ctx, len, (const uint8_t *) msg);
  hmac_sha256_digest (&ctx, sizeof mac, mac);
  return b64url (mac, sizeof mac);
}

char *
api_token_issue (const char *key, const char *ns, const char *sa, const char *uid,
                 const json_t *audiences, int64_t now, int64_t exp)
{
  static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  json_auto_t *claims = json_pack ("{s:O, s:I, s:I, s:s, s:{s:s, s:{s:s, s:s}}, s:I}", "aud",
                                    audiences, "exp", (json_int_t) exp, "iat", (json_int_t) now,
                                    "iss", TOKEN_ISSUER, "kubernetes.io", "namespace", ns,
                                    "serviceaccount", "name", sa, "uid", uid, "nbf",
                                    (json_int_t) now);
  json_object_set_new (claims, "sub", json_sprintf ("system:serviceaccount:%s:%s", ns, sa));
  _cleanup_free_ char *payload = json_dumps (claims, JSON_COMPACT);
  _cleanup_free_ char *h = b64url (header, strlen (header));
  _cleanup_free_ char *p = b64url (payload, strlen (payload));
  _cleanup_free_ char *signed_part = xasprintf ("%s.%s", h, p);
  _cleanup_free_ char *sig = sign (key, signed_part, strlen (signed_part));
  return xasprintf ("%s.%s", signed_part, sig);
}

/* Constant-time string comparison of equal-length strings. */
static bool
sig_eq (const char *a, const char *b, size_t n)
{
  unsigned char d = 0;
  for (size_t i = 0; i < n; i++)
    d |= (unsigned char) a[i] ^ (unsigned char) b[i];
  return d == 0;
}

int
api_token_verify (const char *key, const char *tok, size_t len, int64_t now, json_t **claims)
{
  const char *dot1 = memchr (tok, '.', len);
  const char *dot2 = dot1 ? memchr (dot1 + 1, '.', len - (size_t) (dot1 + 1 - tok)) : NULL;
  if (dot2 == NULL)
    return -EINVAL;
  size_t signed_len = (size_t) (dot2 - tok);
  size_t sig_len = len - signed_len - 1;
  _cleanup_free_ char *want = sign (key, tok, signed_len);
  if (strlen (want) != sig_len || !sig_eq (want, dot2 + 1, sig_len))
    return -EACCES;
  _cleanup_free_ char *payload = NULL;
  if (husk_base64_decode (dot1 + 1, (size_t) (dot2 - dot1 - 1), &payload, NULL) < 0)
    return -EINVAL;
  json_t *c = json_loads (payload, 0, NULL);
  json_int_t exp = json_integer_value (json_object_get (c, "exp"));
  json_int_t nbf = json_integer_value (json_object_get (c, "nbf"));
  if (c == NULL || now >= exp || now < nbf - 60)
    {
      json_decref (c);
      return -EKEYEXPIRED;
    }
  *claims = c;
  return 0;
}

/* The user a verified token names, if its service account (and uid) still exist. */
char *
api_token_user (api_server *srv, const char *tok, size_t len)
{
  json_auto_t *claims = NULL;
  if (srv->auth.sa_key == NULL
      || api_token_verify (srv->auth.sa_key, tok, len, time (NULL), &claims) < 0)
    return NULL;
  json_t *k8s = json_object_get (claims, "kubernetes.io"); /* a dot in the key: no path */
  const char *ns = json_string_value (json_object_get (k8s, "namespace"));
  const char *sa = husk_json_path_str (json_object_get (k8s, "serviceaccount"), "name");
  const char *uid = husk_json_path_str (json_object_get (k8s, "serviceaccount"), "uid");
  if (ns == NULL || sa == NULL || uid == NULL)
    return NULL;
  _cleanup_free_ char *json = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (store_get (srv->store, "serviceaccounts", ns, sa, &json, NULL, &err) < 0)
    return NULL;
  json_auto_t *obj = json_loads (json, 0, NULL);
  const char *have = husk_json_path_str (obj, "metadata.uid");
  if (have == NULL || !streq (have, uid))
    return NULL;
  return xasprintf ("system:serviceaccount:%s:%s", ns, sa);
}

/* spec.expirationSeconds (default 1 h, at least 10 min); replies 422 and returns -1. */
static int64_t
expiration (api_req *r, const json_t *spec)
{
  json_t *e = json_object_get (spec, "expirationSeconds");
  if (e == NULL || json_is_null (e))
    return TOKEN_DEFAULT_SECONDS;
  if (!json_is_integer (e) || json_integer_value (e) < TOKEN_MIN_SECONDS
      || json_integer_value (e) > (json_int_t) 1 << 32)
    {
      json_t *st = api_status_new (422, "Invalid",
                                   "TokenRequest.authentication.k8s.io \"\" is invalid: "
                                   "spec.expirationSeconds: Invalid value: may not specify a "
                                   "duration less than 10 minutes");
      api_status_cause (st, "FieldValueInvalid", "spec.expirationSeconds",
                        "Invalid value: may not specify a duration less than 10 minutes");
      api_reply_status (r, st);
      return -1;
    }
  return json_integer_value (e);
}

enum MHD_Result
api_do_token (api_req *r, const api_route *rt)
{
  json_auto_t *req = NULL;
  if (!api_decode_body (r, rt, &req))
    return MHD_YES;
  json_auto_t *sa = NULL;
  api_route sa_rt = *rt;
  sa_rt.sub = NULL;
  if (!api_load (r, &sa_rt, &sa, NULL))
    return MHD_YES;
  json_t *spec = json_object_get (req, "spec");
  int64_t secs = expiration (r, spec);
  if (secs < 0)
    return MHD_YES;
  json_t *aud = json_object_get (spec, "audiences");
  json_auto_t *audiences = json_array_size (aud) ? json_incref (aud)
                                                   : json_pack ("[s]", TOKEN_ISSUER);
  int64_t now = time (NULL);
  _cleanup_free_ char *tok
      = api_token_issue (r->srv->auth.sa_key, rt->ns, rt->name,
                         husk_json_path_str (sa, "metadata.uid"), audiences, now, now + secs);
  char exp[32];
  time_t t = (time_t) (now + secs);
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_t *out = json_pack ("{s:s, s:s, s:{s:s, s:s, s:n}, s:{s:O, s:I, s:O*}, s:{s:s, s:s}}",
                           "kind", "TokenRequest", "apiVersion", "authentication.k8s.io/v1",
                           "metadata", "name", rt->name, "namespace", rt->ns,
                           "creationTimestamp", "spec", "audiences", audiences,
                           "expirationSeconds", (json_int_t) secs, "boundObjectRef",
                           json_object_get (spec, "boundObjectRef"), "status", "token", tok,
                           "expirationTimestamp", exp);
  return api_reply_json (r, 201, out);
}
