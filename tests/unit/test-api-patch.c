/* JSON merge patch, JSON patch and strategic merge patch of the API server. */
#include "config.h"

#include <errno.h>

#include "lib/json.h"
#include "src/master/api/patch.h"
#include "tests/unit/tap.h"

static char *
dump_sorted (json_t *j)
{
  char *s = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  return s;
}

static void
check (json_t *got, const char *want, const char *name)
{
  json_t *w = json_loads (want, JSON_DECODE_ANY, NULL);
  char *g = got ? dump_sorted (got) : strdup ("(null)");
  char *ws = dump_sorted (w);
  is_str (g, ws, name);
  free (g);
  free (ws);
  json_decref (w);
  json_decref (got);
}

static json_t *
J (const char *s)
{
  json_t *j = json_loads (s, JSON_DECODE_ANY, NULL);
  if (j == NULL)
    {
      fprintf (stderr, "bad test JSON: %s\n", s);
      exit (1);
    }
  return j;
}

int
main (void)
{
  json_t *t = J ("{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"l\":[1,2]}");
  json_t *p = J ("{\"a\":null,\"b\":{\"c\":5},\"l\":[3],\"n\":\"x\"}");
  check (api_merge_patch (t, p), "{\"b\":{\"c\":5,\"d\":3},\"l\":[3],\"n\":\"x\"}",
         "merge patch: null deletes, objects merge, arrays replace");
  json_decref (p);

  p = J ("[{\"op\":\"add\",\"path\":\"/l/1\",\"value\":9},{\"op\":\"remove\",\"path\":\"/a\"},"
         "{\"op\":\"replace\",\"path\":\"/b/c\",\"value\":7},{\"op\":\"copy\",\"from\":\"/b/d\","
         "\"path\":\"/e\"},{\"op\":\"move\",\"from\":\"/b/d\",\"path\":\"/f\"},"
         "{\"op\":\"add\",\"path\":\"/l/-\",\"value\":0},{\"op\":\"test\",\"path\":\"/e\",\"value\":3},"
         "{\"op\":\"add\",\"path\":\"/k~1x\",\"value\":1}]");
  husk_error *err = NULL;
  check (api_json_patch (t, p, &err), "{\"b\":{\"c\":7},\"l\":[1,9,2,0],\"e\":3,\"f\":3,\"k/x\":1}",
         "json patch: add, remove, replace, copy, move, test, ~1 escape");
  json_decref (p);
  p = J ("[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]");
  ok (api_json_patch (t, p, &err) == NULL && err && err->errnum == ESTALE, "failed test op");
  husk_error_free (err), err = NULL;
  json_decref (p);
  p = J ("[{\"op\":\"remove\",\"path\":\"/nope/x\"}]");
  ok (api_json_patch (t, p, &err) == NULL && err && err->errnum == EINVAL, "missing path");
  husk_error_free (err), err = NULL;
  json_decref (p);
  p = J ("[{\"op\":\"replace\",\"path\":\"/l/5\",\"value\":1}]");
  ok (api_json_patch (t, p, &err) == NULL, "index out of range");
  husk_error_free (err), err = NULL;
  json_decref (p);
  json_decref (t);

  const api_type *pod = api_schema_type ("Pod");
  ok (pod != NULL, "Pod schema exists");
  t = J ("{\"metadata\":{\"finalizers\":[\"a\"]},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":"
         "\"x\",\"env\":[{\"name\":\"E\",\"value\":\"1\"}]},{\"name\":\"b\",\"image\":\"y\"}]}}");
  p = J ("{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"z\"},{\"name\":\"c\",\"image\":"
         "\"w\"}]}}");
  check (api_strategic_merge_patch (t, p, pod, &err),
         "{\"metadata\":{\"finalizers\":[\"a\"]},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":"
         "\"x\",\"env\":[{\"name\":\"E\",\"value\":\"1\"}]},{\"name\":\"b\",\"image\":\"z\"},{\"name\":"
         "\"c\",\"image\":\"w\"}]}}",
         "smp merges containers by name and appends new ones");
  json_decref (p);
  p = J ("{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"}]}}");
  check (api_strategic_merge_patch (t, p, pod, &err),
         "{\"metadata\":{\"finalizers\":[\"a\"]},\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":"
         "\"y\"}]}}",
         "smp $patch: delete removes by key");
  json_decref (p);
  p = J ("{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"F\",\"value\":\"2\"}]}]}}");
  check (api_strategic_merge_patch (t, p, pod, &err),
         "{\"metadata\":{\"finalizers\":[\"a\"]},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":"
         "\"x\",\"env\":[{\"name\":\"E\",\"value\":\"1\"},{\"name\":\"F\",\"value\":\"2\"}]},{\"name\":"
         "\"b\",\"image\":\"y\"}]}}",
         "smp merges nested keyed lists (env by name)");
  json_decref (p);
  p = J ("{\"metadata\":{\"finalizers\":[\"b\",\"a\"]},\"spec\":{\"$setElementOrder/containers\":"
         "[{\"name\":\"b\"},{\"name\":\"a\"}]}}");
  check (api_strategic_merge_patch (t, p, pod, &err),
         "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]},\"spec\":{\"containers\":[{\"name\":\"b\","
         "\"image\":\"y\"},{\"name\":\"a\",\"image\":\"x\",\"env\":[{\"name\":\"E\",\"value\":\"1\"}]}]}}",
         "smp primitive merge list and $setElementOrder");
  json_decref (p);
  p = J ("{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]},\"spec\":{\"$patch\":"
         "\"replace\",\"containers\":[]}}");
  check (api_strategic_merge_patch (t, p, pod, &err),
         "{\"metadata\":{\"finalizers\":[]},\"spec\":{\"containers\":[]}}",
         "smp $deleteFromPrimitiveList and $patch: replace");
  json_decref (p);
  p = J ("{\"spec\":{\"containers\":[{\"$patch\":\"replace\"},{\"name\":\"only\",\"image\":\"o\"}]}}");
  check (api_strategic_merge_patch (t, p, pod, &err),
         "{\"metadata\":{\"finalizers\":[\"a\"]},\"spec\":{\"containers\":[{\"name\":\"only\","
         "\"image\":\"o\"}]}}",
         "smp list-level $patch: replace");
  json_decref (p);
  p = J ("{\"spec\":{\"x\":{\"a\":1,\"b\":2,\"$retainKeys\":[\"a\"]}}}");
  check (api_strategic_merge_patch (t, p, pod, &err),
         "{\"metadata\":{\"finalizers\":[\"a\"]},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":"
         "\"x\",\"env\":[{\"name\":\"E\",\"value\":\"1\"}]},{\"name\":\"b\",\"image\":\"y\"}],\"x\":"
         "{\"a\":1}}}",
         "smp $retainKeys");
  json_decref (p);
  json_decref (t);
  return tap_done ();
}
