/* Field sets of server-side apply (FieldsV1) computed from objects with the schema tables. */
#include "config.h"

#include "lib/json.h"
#include "src/master/api/fieldset.h"
#include "tests/unit/tap.h"

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

/* Compares got (taken) with the JSON text want, key order ignored. */
static void
check (json_t *got, const char *want, const char *name)
{
  json_t *w = J (want);
  char *g = got ? json_dumps (got, JSON_COMPACT | JSON_SORT_KEYS) : strdup ("null");
  char *ws = json_dumps (w, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  is_str (g, ws, name);
  free (g);
  free (ws);
  json_decref (w);
  json_decref (got);
}

static const char *deploy
    = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
      "\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":"
      "{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":"
      "{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"ports\":[{\"containerPort\":80}],"
      "\"args\":[\"a\",\"b\"]}]}}}}";

static void
test_from_value (void)
{
  const api_type *t = api_schema_type ("Deployment");
  json_t *o = J (deploy);
  check (api_fs_strip (api_fs_from_value (t, o), true, false),
         "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:replicas\":{},"
         "\"f:selector\":{\"f:matchLabels\":{\"f:app\":{}}},\"f:template\":{\"f:metadata\":"
         "{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}"
         "\":{\".\":{},\"f:name\":{},\"f:image\":{},\"f:args\":{},\"f:ports\":{\"k:{\\\""
         "containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{}}}}"
         "}}}}}",
         "apply field set: struct fields, map entries, keyed items with '.', atomic lists, "
         "server-owned fields stripped");
  json_t *ns = J ("{\"metadata\":{\"name\":\"x\",\"finalizers\":[\"a\",\"b\"]}}");
  check (api_fs_strip (api_fs_from_value (api_schema_type ("Namespace"), ns), false, false),
         "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"a\\\"\":{},\"v:\\\"b\\\"\":{}}}}",
         "set-like lists give v: items");
  json_decref (ns);
  json_decref (o);
}

static void
test_compare (void)
{
  const api_type *t = api_schema_type ("Deployment");
  json_t *a = J (deploy), *b = J (deploy), *ch, *rm;
  json_object_set_new (husk_json_path (b, "spec"), "replicas", json_integer (3));
  json_t *c0 = json_array_get (husk_json_path (b, "spec.template.spec.containers"), 0);
  json_object_del (c0, "ports");
  json_object_set_new (c0, "env", J ("[{\"name\":\"E\",\"value\":\"1\"}]"));
  api_fs_compare (t, a, b, &ch, &rm);
  check (ch,
         "{\"f:spec\":{\"f:replicas\":{},\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\""
         "name\\\":\\\"c\\\"}\":{\"f:env\":{\".\":{},\"k:{\\\"name\\\":\\\"E\\\"}\":{\".\":{},"
         "\"f:name\":{},\"f:value\":{}}}}}}}}}",
         "compare: modified scalar, added keyed list with its items");
  check (rm,
         "{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}"
         "\":{\"f:ports\":{\".\":{},\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":"
         "{\".\":{},\"f:containerPort\":{}}}}}}}}}",
         "compare: a removed subtree, every node a member");
  api_fs_compare (t, a, a, &ch, &rm);
  ok (ch == NULL && rm == NULL, "compare of equal objects is empty");
  json_decref (a);
  json_decref (b);
}

static void
test_ops (void)
{
  json_t *a = J ("{\"f:a\":{},\"f:b\":{\".\":{},\"f:c\":{}}}");
  json_t *b = J ("{\"f:b\":{\"f:c\":{},\"f:d\":{}}}");
  check (api_fs_union (a, b), "{\"f:a\":{},\"f:b\":{\".\":{},\"f:c\":{},\"f:d\":{}}}", "union");
  check (api_fs_intersect (a, b), "{\"f:b\":{\"f:c\":{}}}", "intersection");
  check (api_fs_difference (a, b), "{\"f:a\":{},\"f:b\":{}}",
         "difference keeps a member whose children went");
  json_t *d = api_fs_difference (b, b);
  ok (api_fs_empty (d), "difference with itself is empty");
  json_decref (d);
  json_t *paths = json_array ();
  json_t *k = J ("{\"f:spec\":{\"f:ports\":{\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":"
                 "{\"f:targetPort\":{}}},\"f:x\":{\"v:\\\"q\\\"\":{}}}}");
  api_fs_paths (k, paths);
  check (paths, "[\".spec.ports[port=80,protocol=\\\"TCP\\\"].targetPort\",\".spec.x[=\\\"q\\\"]\"]",
         "paths printed as upstream's conflicts name them");
  json_decref (k);
  json_decref (a);
  json_decref (b);
}

static void
test_prune (void)
{
  const api_type *t = api_schema_type ("Deployment");
  json_t *o = J (deploy);
  json_t *rm = J ("{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:template\":"
                  "{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{\"f:args\":{},"
                  "\"f:ports\":{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":"
                  "{\".\":{},\"f:containerPort\":{}}}}}}},\"f:replicas\":{}}}");
  json_t *keep = J ("{\"f:spec\":{\"f:replicas\":{}}}");
  api_fs_prune (t, o, rm, keep);
  ok (json_object_size (husk_json_path (o, "metadata.labels")) == 0, "prune: label removed");
  ok (husk_json_path (o, "spec.replicas") != NULL, "prune: a field another manager owns stays");
  json_t *c0 = json_array_get (husk_json_path (o, "spec.template.spec.containers"), 0);
  ok (json_object_get (c0, "args") == NULL, "prune: atomic list removed");
  is_int (json_array_size (json_object_get (c0, "ports")), 0, "prune: keyed item removed");
  ok (json_object_get (c0, "image") != NULL, "prune: other fields stay");
  json_decref (o);
  json_decref (rm);
  json_decref (keep);
}

static void
test_skip_managed (void)
{
  const char *j = "{\"metadata\":{\"name\":\"a\",\"managedFields\":[{\"manager\":\"x]\\\"\","
                  "\"fieldsV1\":{\"f:data\":{}}}],\"uid\":\"u\"},\"data\":{\"k\":\"v\"}}";
  size_t a, b;
  ok (api_fs_skip_managed (j, &a, &b), "managedFields found");
  char cut[256];
  snprintf (cut, sizeof cut, "%.*s%s", (int) a, j, j + b);
  is_str (cut, "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"},\"data\":{\"k\":\"v\"}}",
          "cutting it leaves valid JSON without it (brackets and quotes in strings skipped)");
  const char *last = "{\"metadata\":{\"name\":\"a\",\"managedFields\":[]},\"x\":1}";
  ok (api_fs_skip_managed (last, &a, &b), "found as the last member");
  snprintf (cut, sizeof cut, "%.*s%s", (int) a, last, last + b);
  is_str (cut, "{\"metadata\":{\"name\":\"a\"},\"x\":1}", "the comma before it goes");
  ok (!api_fs_skip_managed ("{\"metadata\":{\"name\":\"a\"}}", &a, &b), "absent: false");
}

int
main (void)
{
  test_from_value ();
  test_compare ();
  test_ops ();
  test_prune ();
  test_skip_managed ();
  return tap_done ();
}
