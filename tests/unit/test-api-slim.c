/* api_slim_pod: a pod's stored JSON cut down to what its Table row reads. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src/master/api/slim.h"
#include "tests/unit/tap.h"

static void
check (const char *in, const char *want, const char *name)
{
  char *got = api_slim_pod (in, strlen (in));
  if (want == NULL)
    ok (got == NULL, "%s", name);
  else
    is_str (got, want, name);
  free (got);
}

int
main (void)
{
  check ("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"managedFields\":"
         "[{\"manager\":\"x\",\"fieldsV1\":{\"f:spec\":{}}}],\"labels\":{\"k\":\"v}\"}},"
         "\"spec\":{\"containers\":[{\"name\":\"c\",\"args\":[\"]\",\"\\\"{\"]},{\"name\":\"d\"}],"
         "\"nodeName\":\"n1\",\"tolerations\":[{\"key\":\"t\"}],\"readinessGates\":"
         "[{\"conditionType\":\"g\"}]},\"status\":{\"phase\":\"Running\"}}",
         "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"labels\":"
         "{\"k\":\"v}\"}},\"spec\":{\"containers\":[{},{}],\"nodeName\":\"n1\","
         "\"readinessGates\":[{\"conditionType\":\"g\"}]},\"status\":{\"phase\":\"Running\"}}",
         "managedFields, unread spec fields and container bodies go; brackets in strings skipped");
  check ("{ \"metadata\" : { \"name\" : \"b\" } , \"spec\" : { \"containers\" : [ ] } }",
         "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"containers\":[]}}", "whitespace, no containers");
  check ("{\"metadata\":{},\"spec\":{\"priority\":-1,\"hostNetwork\":true}}",
         "{\"metadata\":{},\"spec\":{}}", "scalars skipped");
  check ("{\"metadata\":{\"name\":\"x\\\\\"},\"spec\":{\"containers\":[{\"a\":\"\\\\\\\"]\"}]}}",
         "{\"metadata\":{\"name\":\"x\\\\\"},\"spec\":{\"containers\":[{}]}}",
         "escaped backslashes before a quote");
  check ("{\"metadata\":{\"name\":\"c\"", NULL, "truncated text: NULL");
  check ("{\"metadata\":{\"name\":\"c\\\"}}", NULL, "unterminated string: NULL");
  check ("{\"spec\":{\"containers\":{}}}", NULL, "containers not an array: NULL");
  check ("[1]", NULL, "not an object: NULL");
  return tap_done ();
}
