/* Service account tokens: issue, verify, expiry, tampering. */
#include "config.h"

#include <errno.h>

#include "src/master/api/token.h"
#include "tests/unit/tap.h"

int
main (void)
{
  json_t *aud = json_pack ("[s]", "https://kubernetes.default.svc.cluster.local");
  char *tok = api_token_issue ("k3y-0123456789abcdef", "ns1", "robot", "u-1", aud, 1000, 1600);
  json_t *claims = NULL;
  is_int (api_token_verify ("k3y-0123456789abcdef", tok, strlen (tok), 1200, &claims), 0,
          "a fresh token verifies");
  is_str (json_string_value (json_object_get (claims, "sub")), "system:serviceaccount:ns1:robot",
          "sub names the service account");
  is_int (json_integer_value (json_object_get (claims, "exp")), 1600, "exp = now + expiration");
  json_decref (claims);
  claims = NULL;
  is_int (api_token_verify ("k3y-0123456789abcdef", tok, strlen (tok), 1600, &claims),
          -EKEYEXPIRED, "an expired token is refused");
  is_int (api_token_verify ("another-key-0123456", tok, strlen (tok), 1200, &claims), -EACCES,
          "a token signed with another key is refused");
  char *dot = strchr (tok, '.');
  dot[3] = dot[3] == 'A' ? 'B' : 'A';
  is_int (api_token_verify ("k3y-0123456789abcdef", tok, strlen (tok), 1200, &claims), -EACCES,
          "a tampered payload is refused");
  is_int (api_token_verify ("k3y-0123456789abcdef", "abc", 3, 1200, &claims), -EINVAL,
          "a malformed token is refused");
  ok (claims == NULL, "claims untouched on failure");
  free (tok);
  json_decref (aud);
  return tap_done ();
}
