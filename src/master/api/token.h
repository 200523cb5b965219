/* husk api: service account tokens (TokenRequest) and their verification. */
#ifndef HUSK_API_TOKEN_H
#define HUSK_API_TOKEN_H

#include <stdint.h>

#include "src/master/api/handlers.h"

/* A signed JWT for service account ns/sa (uid) valid from now until exp (Unix seconds). */
char *api_token_issue (const char *key, const char *ns, const char *sa, const char *uid,
                       const json_t *audiences, int64_t now, int64_t exp);
/* Checks signature and validity of tok (len bytes) at now: 0 and *claims, or -EINVAL
   (malformed), -EACCES (bad signature), -EKEYEXPIRED. */
int api_token_verify (const char *key, const char *tok, size_t len, int64_t now,
                      json_t **claims);
/* "system:serviceaccount:<ns>:<name>" for a valid token whose account still exists, or
   NULL. */
char *api_token_user (api_server *srv, const char *tok, size_t len);
/* POST .../serviceaccounts/<name>/token */
enum MHD_Result api_do_token (api_req *r, const api_route *rt);

#endif
