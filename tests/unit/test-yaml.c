#include "config.h"

#include "lib/json.h"
#include "lib/yaml.h"
#include "tests/unit/tap.h"

static char *
convert (const char *yaml)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_json_ json_t *docs = NULL;
  if (husk_yaml_to_json (yaml, strlen (yaml), &docs, &err) < 0)
    return xasprintf ("ERROR %s", err->msg);
  return husk_json_dump (docs);
}

#define CONVERTS(yaml, want, name)                                                                 \
  do                                                                                               \
    {                                                                                              \
      _cleanup_free_ char *got_ = convert (yaml);                                                  \
      is_str (got_, want, name);                                                                   \
    }                                                                                              \
  while (0)

int
main (void)
{
  CONVERTS ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n",
            "[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"}}]",
            "simple mapping");
  CONVERTS ("a: 1\n---\nb: 2\n---\n---\nc: [x, y]\n",
            "[{\"a\":1},{\"b\":2},{\"c\":[\"x\",\"y\"]}]", "multi-document stream, empty skipped");
  CONVERTS ("i: 42\nn: -7\nh: 0x1F\no: 0o17\nf: 1.5\ne: 1e3\nb: true\nY: yes\nN: off\nz: ~\nnl: null\n"
            "q: \"42\"\nsq: 'true'\nv: 1.2.3\nyy: y\n",
            "[{\"i\":42,\"n\":-7,\"h\":31,\"o\":15,\"f\":1.5,\"e\":1000.0,\"b\":true,\"Y\":true,"
            "\"N\":false,\"z\":null,\"nl\":null,\"q\":\"42\",\"sq\":\"true\",\"v\":\"1.2.3\",\"yy\":\"y\"}]",
            "scalar resolution as Kubernetes");
  CONVERTS ("big: 99999999999999999999\n", "[{\"big\":1e20}]",
            "integer overflow becomes a float, as in Kubernetes");
  CONVERTS ("base: &b\n  image: busybox\n  tag: '1'\nc1:\n  <<: *b\n  tag: '2'\nlist: &l [1, 2]\ncopy: *l\n",
            "[{\"base\":{\"image\":\"busybox\",\"tag\":\"1\"},\"c1\":{\"tag\":\"2\",\"image\":\"busybox\"},"
            "\"list\":[1,2],\"copy\":[1,2]}]",
            "anchors, aliases and merge keys (explicit keys win)");
  CONVERTS ("lit: |\n  line1\n  line2\nfold: >\n  a\n  b\nkeep: |+\n  x\n\nstrip: |-\n  y\n",
            "[{\"lit\":\"line1\\nline2\\n\",\"fold\":\"a b\\n\",\"keep\":\"x\\n\\n\",\"strip\":\"y\"}]",
            "block scalars: literal, folded, keep, strip");
  CONVERTS ("s: !!str 123\ni: !!int \"7\"\n", "[{\"s\":\"123\",\"i\":7}]", "explicit tags");
  CONVERTS ("{\"a\": [1, {\"b\": null}]}", "[{\"a\":[1,{\"b\":null}]}]", "JSON is YAML");
  CONVERTS ("", "[]", "empty stream has no documents");
  CONVERTS ("1: one\ntrue: t\n", "[{\"1\":\"one\",\"true\":\"t\"}]", "non-string keys become strings");

  CONVERTS ("a: 1\nb: [1, 2\nc: 3\n",
            "ERROR yaml: line 3, column 2: did not find expected ',' or ']' while parsing a flow sequence",
            "bad YAML names line and column");
  CONVERTS ("a: 1\na: 2\n", "ERROR yaml: line 2, column 1: mapping key \"a\" already defined",
            "duplicate keys refused");
  CONVERTS ("{{{a}}}: 1\n", "ERROR yaml: line 1, column 3: mapping key must be a scalar, not a collection",
            "collection keys refused");
  CONVERTS ("a: *nope\n", "ERROR yaml: line 1, column 4: unknown anchor 'nope'", "unknown alias");
  CONVERTS ("x: .inf\n", "ERROR yaml: line 1, column 4: .inf cannot be represented in JSON",
            "infinity refused");
  CONVERTS ("a:\n  b: c\n d: e\n",
            "ERROR yaml: line 3, column 2: did not find expected key while parsing a block mapping",
            "bad indentation");

  /* deep nesting is refused, not a stack overflow */
  size_t depth = 5000;
  char *deep = xmalloc (depth * 2 + 1);
  memset (deep, '[', depth);
  memset (deep + depth, ']', depth);
  deep[depth * 2] = '\0';
  _cleanup_free_ char *got = convert (deep);
  ok (strstr (got, "nesting deeper than 512 levels") != NULL, "deep nesting refused: %.80s", got);
  free (deep);

  _cleanup_error_ husk_error *err = NULL;
  _cleanup_json_ json_t *one = NULL;
  ok (husk_yaml_to_json_one ("a: 1\n---\nb: 2\n", 14, &one, &err) < 0, "one: two documents refused");
  is_str (err ? err->msg : NULL, "yaml: expected one document, found 2", "one: message");
  return tap_done ();
}
