/* api_slim_pod_row: a pod's Table row written from its stored text must be byte for byte the
   row the general path (parse, api_table_build, dump) makes, and refuse what it cannot copy. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "src/master/api/slim.h"
#include "src/master/api/table.h"
#include "tests/unit/tap.h"

static const api_resource *pods;

/* The row of the general path: the parsed object without managedFields, built and dumped. */
static char *
general_row (const char *json, const char *io)
{
  json_t *o = NULL;
  if (husk_json_parse (json, strlen (json), &o, NULL) < 0)
    return NULL;
  json_object_del (json_object_get (o, "metadata"), "managedFields");
  json_t *items = json_pack ("[o]", o);
  json_t *t = api_table_build (pods, items, "1", NULL, io, false);
  char *s = husk_json_dump (json_array_get (json_object_get (t, "rows"), 0));
  json_decref (t);
  json_decref (items);
  return s;
}

/* Equal texts, or for input with blanks (copied as they are) equal JSON. */
static bool
equal (const char *got, const char *want, bool exact)
{
  if (exact || want == NULL)
    return want && streq (got, want);
  json_t *a = NULL, *b = NULL;
  bool eq = husk_json_parse (got, strlen (got), &a, NULL) == 0
            && husk_json_parse (want, strlen (want), &b, NULL) == 0 && json_equal (a, b);
  json_decref (a);
  json_decref (b);
  return eq;
}

/* The fast row must be written and equal the general one for each includeObject: byte for
   byte for the store's compact text. */
static void
same_as (const char *json, bool exact, const char *name)
{
  static const char *const ios[] = {NULL, "None", "Object"};
  for (size_t i = 0; i < 3; i++)
    {
      husk_buf b = HUSK_BUF_INIT;
      husk_buf_puts (&b, "[");
      bool done = api_slim_pod_row (json, strlen (json), ios[i], &b);
      char *want = general_row (json, ios[i]);
      char *got = xasprintf ("%s", husk_buf_str (&b) + 1);
      char *what = xasprintf ("%s (includeObject %s)", name, ios[i] ? ios[i] : "unset");
      ok (done, "%s: written", what);
      if (exact)
        is_str (got, want ? want : "(general path failed)", what);
      else
        ok (equal (got, want, false), "%s: same row as JSON (%s)", what, got);
      free (what);
      free (got);
      free (want);
      husk_buf_free (&b);
    }
}

static void
same (const char *json, const char *name)
{
  same_as (json, true, name);
}

/* Refused by the fast path, out untouched; api_table_put_row still gives the general row. */
static void
refused (const char *json, const char *name)
{
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_puts (&b, "x");
  ok (!api_slim_pod_row (json, strlen (json), NULL, &b) && streq (husk_buf_str (&b), "x"),
      "%s: refused, nothing written", name);
  husk_buf_reset (&b);
  char *want = general_row (json, NULL);
  bool put = api_table_put_row (pods, json, NULL, &b);
  if (want)
    is_str (husk_buf_str (&b), want, name);
  else
    ok (!put && b.len == 0, "%s: no row for a text that does not parse", name);
  free (want);
  husk_buf_free (&b);
}

#define OLD "\"creationTimestamp\":\"2020-01-01T00:00:00Z\""

int
main (void)
{
  pods = api_registry_find ("", "v1", "pods");
  ok (pods != NULL, "pods resource");

  same ("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\",\"uid\":\"u1\","
        "\"resourceVersion\":\"8\"," OLD ",\"labels\":{\"app\":\"web\",\"k\":\"v}\\\"\",\"b\":\"x\\\\\"},"
        "\"managedFields\":[{\"manager\":\"kubectl\",\"operation\":\"Update\",\"fieldsV1\":"
        "{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{}}}}}]},"
        "\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"nodeName\":\"n0\",\"containers\":"
        "[{\"name\":\"c\",\"args\":[\"]\",\"\\\"{\"]},{\"name\":\"d\"}],\"tolerations\":[]},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.0.7\",\"qosClass\":\"BestEffort\"}}",
        "running pod with managedFields, escapes outside the cells");
  same ("{\"metadata\":{\"name\":\"crash\"," OLD "},\"spec\":{\"containers\":[{},{},{}]},"
        "\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
        "{\"name\":\"a\",\"ready\":true,\"restartCount\":3,\"state\":{\"running\":{}}},"
        "{\"name\":\"b\",\"ready\":false,\"restartCount\":12,\"state\":{\"waiting\":"
        "{\"reason\":\"CrashLoopBackOff\"}}},"
        "{\"name\":\"c\",\"ready\":true,\"restartCount\":1.5,\"state\":{\"terminated\":"
        "{\"reason\":\"Completed\",\"exitCode\":0}}}]}}",
        "container statuses: ready count, restarts, waiting reason, real restartCount");
  same ("{\"metadata\":{\"name\":\"done\"," OLD "},\"spec\":{\"containers\":[{}]},"
        "\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"state\":{\"terminated\":"
        "{\"reason\":\"Error\"}}},7,{\"ready\":\"true\",\"state\":{\"waiting\":{\"reason\":\"\"}}}]}}",
        "terminated reason when not Running; odd items and values");
  same ("{\"metadata\":{\"name\":\"bye\"," OLD ",\"deletionTimestamp\":\"2020-01-02T00:00:00Z\"},"
        "\"spec\":{\"containers\":[{}]},\"status\":{\"phase\":\"Running\"}}",
        "deletionTimestamp: Terminating");
  same ("{\"metadata\":{\"name\":\"ev\"," OLD "},\"spec\":{\"containers\":[{}]},"
        "\"status\":{\"phase\":\"Failed\",\"reason\":\"Evicted\",\"podIP\":\"\","
        "\"nominatedNodeName\":\"n2\"}}",
        "status.reason wins, empty podIP is <none>, nominated node");
  same ("{\"metadata\":{\"name\":\"g\"," OLD "},\"spec\":{\"containers\":[{}],\"readinessGates\":"
        "[{\"conditionType\":\"www.example.com/feature-1\"},{\"conditionType\":\"x\"},{}]},"
        "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},"
        "{\"type\":\"www.example.com/feature-1\",\"status\":\"True\"},"
        "{\"type\":\"x\",\"status\":\"False\"}]}}",
        "readiness gates");
  same ("{\"kind\":\"Pod\"}", "no metadata, spec or status");
  same ("{\"metadata\":{\"managedFields\":[{\"manager\":\"m\"}],\"name\":\"first\"},"
        "\"spec\":{\"containers\":[{}]}}",
        "managedFields the first member of metadata");
  same ("{\"metadata\":{\"managedFields\":[]},\"kind\":\"Pod\"}",
        "managedFields the only member of metadata");
  same_as ("{ \"metadata\" : { \"name\" : \"sp\" , \"managedFields\" : [ ] } , \"spec\" : "
        "{ \"containers\" : [ { } ] } , \"status\" : { \"phase\" : \"Pending\" } }",
        false, "whitespace");
  same ("{\"metadata\":{\"name\":7,\"creationTimestamp\":null},\"spec\":{\"nodeName\":false,"
        "\"containers\":[]},\"status\":{\"phase\":null}}",
        "fields of other types read as absent");

  refused ("{\"metadata\":{\"name\":\"a\\u00e9\"},\"spec\":{\"containers\":[]}}",
           "escape in the name");
  refused ("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"containers\":{}}}",
           "containers not an array");
  refused ("{\"metadata\":\"x\",\"spec\":{}}", "metadata not an object");
  refused ("{\"metadata\":{\"name\":\"a\"},\"status\":{\"containerStatuses\":[{\"restartCount\":"
           "99999999999999999999999}]}}",
           "restartCount out of range");
  refused ("{\"metadata\":{\"name\":\"c\"", "truncated text");
  refused ("[1]", "not an object");
  return tap_done ();
}
