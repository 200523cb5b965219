#include "config.h"

#include "lib/json.h"
#include "tests/unit/tap.h"

int
main (void)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_json_ json_t *j = NULL;
  const char *doc = "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"containers\":[{\"image\":\"busybox\"}]}}";
  ok (husk_json_parse (doc, strlen (doc), &j, &err) == 0, "parse valid JSON");
  is_str (husk_json_path_str (j, "metadata.name"), "web", "dotted path");
  is_str (husk_json_path_str (j, "spec.containers.0.image"), "busybox", "array index in path");
  ok (husk_json_path (j, "spec.containers.1") == NULL, "out of range index is NULL");
  ok (husk_json_path (j, "metadata.name.x") == NULL, "path through a string is NULL");
  _cleanup_json_ json_t *n = json_pack ("{s:{s:i,s:s}}", "spec", "replicas", 3, "s", "3");
  is_int (husk_json_path_int (n, "spec.replicas", -1), 3, "path_int reads an integer");
  is_int (husk_json_path_int (n, "spec.s", -1), -1, "path_int: a string gives the default");
  is_int (husk_json_path_int (n, "spec.none", 7), 7, "path_int: absent gives the default");

  _cleanup_free_ char *dumped = husk_json_dump (j);
  is_str (dumped, doc, "compact dump keeps order");

  _cleanup_json_ json_t *bad = NULL;
  const char *broken = "{\n  \"a\": 1,\n  \"b\": }";
  ok (husk_json_parse (broken, strlen (broken), &bad, &err) < 0, "malformed JSON refused");
  ok (err && strstr (err->msg, "json: line 3, column") != NULL, "error names line and column: %s",
      err ? err->msg : "");
  husk_error_free (TAKE_PTR (err));

  json_t *spec = json_object_get (j, "spec");
  json_t *arr = NULL;
  ok (husk_json_get_arr (spec, "containers", "spec", &arr, &err) == 0 && arr, "get_arr");
  const char *s = NULL;
  ok (husk_json_get_str (spec, "containers", "spec", &s, &err) < 0, "wrong type refused");
  is_str (err ? err->msg : NULL, "spec.containers: expected string, got array",
          "type error names the JSON path");
  husk_error_free (TAKE_PTR (err));

  const char *absent = "keep";
  ok (husk_json_get_str (spec, "missing", "spec", &absent, &err) == 0 && streq (absent, "keep"),
      "absent member leaves output untouched");

  _cleanup_json_ json_t *args = json_pack ("{s:[s,i]}", "args", "sh", 3);
  char **v = NULL;
  ok (husk_json_get_strv (args, "args", "process", &v, &err) < 0, "mixed array refused");
  is_str (err ? err->msg : NULL, "process.args[1]: expected string, got integer",
          "element error names the index");
  husk_error_free (TAKE_PTR (err));

  static const char *const allowed[] = {"metadata", NULL};
  ok (husk_json_check_keys (j, "", allowed, &err) < 0, "unknown key refused");
  is_str (err ? err->msg : NULL, "spec: unknown field", "unknown field named");
  return tap_done ();
}
