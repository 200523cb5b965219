/* The schema tables: unknown fields, wrong types, required fields and enums. */
#include "config.h"

#include "lib/json.h"
#include "src/master/api/schema.h"
#include "tests/unit/tap.h"

static api_problems
check (const char *type, const char *json, bool prune, json_t **keep)
{
  api_problems p;
  api_problems_init (&p);
  p.prune = prune;
  json_t *v = json_loads (json, 0, NULL);
  api_schema_check (api_schema_type (type), v, "", &p);
  if (keep)
    *keep = v;
  else
    json_decref (v);
  return p;
}

int
main (void)
{
  static const char *const types[]
      = {"Pod", "Deployment", "Service", "ConfigMap", "Secret", "Namespace", "Node", "Job",
         "CronJob", "StatefulSet", "DaemonSet", "ReplicaSet", "Lease", "Role", "Scale", NULL};
  for (size_t i = 0; types[i]; i++)
    ok (api_schema_type (types[i]) != NULL, "schema of %s", types[i]);

  api_problems p = check ("Pod",
                          "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\","
                          "\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                          "\"image\":\"i\",\"ports\":[{\"containerPort\":80}],\"resources\":"
                          "{\"limits\":{\"cpu\":\"1\",\"memory\":1024}}}],\"affinity\":{\"any\":1}}}",
                          false, NULL);
  ok (json_array_size (p.unknown) == 0 && json_array_size (p.type) == 0
          && json_array_size (p.invalid) == 0,
      "a valid pod has no problems (quantities as string or number, open affinity)");
  api_problems_clear (&p);

  p = check ("Pod", "{\"metadata\":{\"name\":\"x\",\"foo\":1},\"spec\":{\"containers\":[{\"name\":"
                    "\"c\",\"imagee\":\"i\"}]}}",
             false, NULL);
  is_int (json_array_size (p.unknown), 2, "two unknown fields");
  is_str (json_string_value (json_array_get (p.unknown, 1)), "spec.containers[0].imagee",
          "unknown field path names the list index");
  api_problems_clear (&p);

  json_t *v = NULL;
  p = check ("ConfigMap", "{\"metadata\":{\"name\":\"x\",\"foo\":1},\"data\":{\"a\":\"b\"}}", true,
             &v);
  ok (json_object_get (json_object_get (v, "metadata"), "foo") == NULL, "prune drops unknown fields");
  json_decref (v);
  api_problems_clear (&p);

  p = check ("Pod", "{\"spec\":{\"containers\":\"x\"}}", false, NULL);
  is_int (json_array_size (p.type), 1, "wrong type reported");
  is_str (json_string_value (json_object_get (json_array_get (p.type, 0), "field")),
          "spec.containers", "wrong type names the field");
  api_problems_clear (&p);

  p = check ("Pod", "{\"spec\":{\"restartPolicy\":\"Sometimes\",\"containers\":[{\"image\":\"i\"}]}}",
             false, NULL);
  is_int (json_array_size (p.invalid), 2, "bad enum and missing required name");
  is_str (json_string_value (json_object_get (json_array_get (p.invalid, 0), "reason")),
          "FieldValueNotSupported", "enum problem reason");
  is_str (json_string_value (json_object_get (json_array_get (p.invalid, 1), "field")),
          "spec.containers[0].name", "required problem names the field");
  api_problems_clear (&p);

  /* The walk keeps one path buffer: each problem must name its own field after siblings,
     list items and map entries were walked (and the buffer grew) before it. */
  p = check ("Pod",
             "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\",\"x\":1},"
             "{\"name\":\"b\",\"image\":\"i\",\"resources\":{\"limits\":{\"cpu\":true,"
             "\"a-very-long-resource-name-that-makes-the-path-buffer-grow-past-its-first-size\":"
             "\"1\"}},\"y\":2}],\"zzz\":3},\"www\":4}",
             false, NULL);
  is_int (json_array_size (p.unknown), 4, "four unknown fields");
  is_str (json_string_value (json_array_get (p.unknown, 0)), "spec.containers[0].x",
          "unknown field in the first list item");
  is_str (json_string_value (json_array_get (p.unknown, 1)), "spec.containers[1].y",
          "unknown field after a map walk in the second item");
  is_str (json_string_value (json_array_get (p.unknown, 2)), "spec.zzz",
          "unknown field after the list");
  is_str (json_string_value (json_array_get (p.unknown, 3)), "www", "unknown top-level field");
  is_str (json_string_value (json_object_get (json_array_get (p.type, 0), "field")),
          "spec.containers[1].resources.limits[cpu]", "wrong type in a map names its key");
  api_problems_clear (&p);

  const api_field *f = api_schema_field (api_schema_type ("PodSpec"), "containers");
  ok (f && f->merge && f->merge_key && streq (f->merge_key, "name"), "containers merge by name");
  f = api_schema_field (api_schema_type ("ObjectMeta"), "finalizers");
  ok (f && f->merge && f->merge_key == NULL, "finalizers are a merged primitive list");
  return tap_done ();
}
