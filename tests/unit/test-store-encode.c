/* The object encoder: its fast path (a byte scanner) must agree with jansson on every input
   it accepts, hand everything unusual to jansson, and always yield compact JSON that starts
   with metadata.resourceVersion. */
#include "lib/json.h"
#include "src/master/store/store-internal.h"
#include "tests/unit/tap.h"

/* What the encoding must mean: the input with metadata.resourceVersion = "". */
static json_t *
expected (const char *in)
{
  json_t *j = json_loads (in, JSON_ALLOW_NUL, NULL); /* as husk_json_parse */
  if (!json_is_object (j))
    {
      json_decref (j);
      return NULL;
    }
  json_t *m = json_object_get (j, "metadata");
  if (!m)
    json_object_set_new (j, "metadata", m = json_object ());
  if (!json_is_object (m))
    {
      json_decref (j);
      return NULL;
    }
  json_object_set_new (m, "resourceVersion", json_string (""));
  return j;
}

static bool
compact (const char *s)
{
  bool in_str = false;
  for (const char *p = s; *p; p++)
    {
      if (in_str)
        {
          if (*p == '\\')
            p++;
          else if (*p == '"')
            in_str = false;
        }
      else if (*p == '"')
        in_str = true;
      else if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        return false;
    }
  return true;
}

/* Checks one input through the whole encoder; fast: what the fast path must do (1 take,
   0 decline, -1 don't care). */
static bool
check (const char *in, int fast, const char *name)
{
  char *enc = NULL;
  size_t len = 0, off = 0;
  int f = store_encode_fast (in, &enc, &len, &off);
  bool good = fast < 0 || f == fast;
  if (f)
    free (enc);
  husk_error *err = NULL;
  int ret = store_encode_object (in, &enc, &len, &off, &err);
  _cleanup_json_ json_t *want = expected (in);
  if (!want)
    good = good && ret < 0 && err->errnum == STORE_EINVAL;
  else
    {
      json_t *got = ret == 0 ? json_loads (enc, JSON_ALLOW_NUL, NULL) : NULL;
      good = good && ret == 0 && got && json_equal (got, want) && compact (enc)
             && strlen (enc) == len && off == strlen (STORE_RV_PREFIX)
             && strncmp (enc, STORE_RV_PREFIX "\"", off + 1) == 0;
      json_decref (got);
    }
  if (!(name ? ok (good, "%s", name) : good))
    printf ("#   input: %s\n#   fast=%d ret=%d out: %s %s\n", in, f, ret, ret == 0 ? enc : "",
            err ? err->msg : "");
  if (ret == 0)
    free (enc);
  husk_error_free (err);
  return good;
}

static json_t *
random_value (unsigned *seed, int depth)
{
  int k = rand_r (seed) % (depth > 4 ? 5 : 7);
  switch (k)
    {
    case 0:
      return json_integer ((json_int_t)(rand_r (seed) % 200000) - 100000);
    case 1:
      {
        static const char *strs[]
            = { "",          "a",      "with space",  "quote\"d",    "back\\slash",
                "tab\there", "slash/", "caf\xc3\xa9", "\xe2\x98\x83" };
        return json_string (strs[rand_r (seed) % ARRAY_SIZE (strs)]);
      }
    case 2:
      return json_true ();
    case 3:
      return json_null ();
    case 4:
      return json_real ((double)(rand_r (seed) % 1000) / 8.0);
    case 5:
      {
        json_t *a = json_array ();
        for (int i = rand_r (seed) % 4; i > 0; i--)
          json_array_append_new (a, random_value (seed, depth + 1));
        return a;
      }
    default:
      {
        json_t *o = json_object ();
        for (int i = rand_r (seed) % 5; i > 0; i--)
          {
            char key[16];
            snprintf (key, sizeof key, "k%d", rand_r (seed) % 8);
            json_object_set_new (o, key, random_value (seed, depth + 1));
          }
        return o;
      }
    }
}

/* store_encode_tree must give byte for byte what the text path gives for jansson's dump of
   the same tree, or decline (0) and leave the tree to that path. */
static int
tree_same (const json_t *o, bool *took)
{
  char *a = NULL, *b = NULL;
  size_t alen = 0, blen = 0, aoff = 0, boff = 0;
  husk_error *err = NULL;
  *took = store_encode_tree (o, &a, &alen, &aoff);
  char *dump = json_dumps (o, JSON_COMPACT | JSON_ENCODE_ANY);
  int ret = store_encode_object (dump, &b, &blen, &boff, &err);
  int same = !*took || (ret == 0 && alen == blen && aoff == boff && memcmp (a, b, alen) == 0
                        && strlen (a) == alen);
  if (!same)
    printf ("#   tree: %s\n#   got:  %s\n#   want: %s\n", dump, a, ret == 0 ? b : err->msg);
  free (a);
  free (b);
  free (dump);
  husk_error_free (err);
  return same;
}

static void
tree_checks (void)
{
  bool took;
  json_t *o = json_pack ("{s:s, s:{s:s, s:s, s:i}, s:{s:[s, s], s:b, s:n}}", "kind", "ConfigMap",
                         "metadata", "name", "a\"b\\c\n\t\r\b\f/\x7f\xc3\xa9", "resourceVersion",
                         "7", "generation", -42, "data", "l", "x", "", "t", 1, "z");
  ok (tree_same (o, &took) && took, "a tree with escapes, negative integers, literals");
  json_decref (o);
  o = json_pack ("{s:i, s:{s:s}}", "a", (json_int_t)INT64_MIN, "metadata", "k\"ey", "v");
  ok (tree_same (o, &took) && took, "INT64_MIN, a key with a quote; metadata goes first");
  json_decref (o);
  o = json_pack ("{s:s}", "a", "ctl\x01");
  ok (tree_same (o, &took) && !took, "a control character without a short escape declines");
  json_decref (o);
  o = json_pack ("{s:f}", "a", 1.5);
  ok (tree_same (o, &took) && !took, "a real declines");
  json_decref (o);
  o = json_pack ("{s:s}", "x", "y");
  ok (tree_same (o, &took) && took, "no metadata: an empty one with resourceVersion first");
  json_decref (o);
  json_t *arr = json_array ();
  ok (store_encode_tree (arr, &(char *){ NULL }, &(size_t){ 0 }, &(size_t){ 0 }) == 0,
      "an array declines");
  json_decref (arr);

  unsigned seed = 777;
  int bad = 0, taken = 0;
  for (int i = 0; i < 3000 && bad < 3; i++)
    {
      json_t *r = random_value (&seed, 5);
      if (!json_is_object (r))
        {
          json_t *w = json_object ();
          json_object_set_new (w, "v", r);
          r = w;
        }
      if (rand_r (&seed) % 3)
        {
          json_t *m = random_value (&seed, 5);
          json_object_set_new (r, "metadata", json_is_object (m) ? m : json_object ());
          if (!json_is_object (m))
            json_decref (m);
          if (rand_r (&seed) % 2)
            json_object_set_new (json_object_get (r, "metadata"), "resourceVersion",
                                 json_string ("99"));
        }
      if (!tree_same (r, &took))
        bad++;
      taken += took;
      json_decref (r);
    }
  ok (bad == 0, "3000 random trees: the tree encoding equals the text path's byte for byte");
  ok (taken > 300, "the tree path takes ordinary trees (%d of 3000)", taken);
}

int
main (void)
{
  check ("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
         "\"namespace\":\"default\",\"resourceVersion\":\"42\",\"labels\":{\"x\":\"y\"}},"
         "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"args\":[\"-c\","
         "\"echo \\\"hi\\\"\"]}],\"priority\":-5,\"x\":[[],{},[1,2,[3]]],\"b\":true,"
         "\"n\":null,\"f\":false}}",
         1, "a pod: fast path, resourceVersion replaced, metadata first");
  check ("{\n  \"kind\" : \"Pod\",\n  \"metadata\" : {\n    \"name\" : \"a\"\n  }\n}\n", 1,
         "pretty-printed input is compacted");
  check ("{\"kind\":\"Node\"}", 1, "no metadata: one is added");
  check ("{\"metadata\":{}}", 1, "empty metadata");
  check ("{\"spec\":{\"metadata\":{\"resourceVersion\":\"7\"}},\"metadata\":{\"name\":\"n\"}}", 1,
         "a nested metadata.resourceVersion is left alone");
  check ("{\"metadata\":{\"name\":\"caf\\u00e9\",\"a\":\"\\n\\t\\/\\\\\"}}", 1,
         "escapes in values are kept");
  check ("{\"metadata\":{\"name\":\"caf\xc3\xa9\"}}", 0, "raw UTF-8: jansson validates it");
  check ("{\"metadata\":{\"name\":\"bad\xff\"}}", 0, "invalid UTF-8 is rejected by jansson");
  check ("{\"meta\\u0064ata\":{\"name\":\"x\"}}", 0, "an escaped top-level key goes to jansson");
  check ("{\"metadata\":{\"name\":\"a\"},\"metadata\":{\"name\":\"b\"}}", 0,
         "a duplicate metadata goes to jansson (last wins)");
  check ("{\"metadata\":{\"name\":\"a\",\"name\":\"b\"}}", 0, "duplicate metadata members");
  check ("{\"metadata\":{},\"r\":1.5}", 0, "reals are re-encoded by jansson");
  check ("{\"metadata\":{},\"big\":123456789012345678901234567890}", 0,
         "an integer beyond int64 is rejected by jansson");
  check ("{\"metadata\":\"nope\"}", 0, "metadata that is not an object is an error");
  check ("[1,2]", 0, "an array is an error");
  check ("{\"a\":1,}", 0, "a trailing comma is an error");
  check ("{\"a\" 1}", 0, "a missing colon is an error");
  check ("{\"a\":\"unterminated}", 0, "an unterminated string is an error");
  check ("{\"a\":1} x", 0, "garbage after the object is an error");
  check ("{\"a\":tru}", 0, "a bad literal is an error");
  check ("{\"a\":01}", 0, "a leading zero is an error");
  check ("{\"a\":\"ctl\x01\"}", 0, "a raw control character is an error");
  check ("{\"a\":\"\\x\"}", 0, "a bad escape is an error");
  check ("{\"a\":\"\\u00zz\"}", 0, "a bad \\u escape is an error");
  check ("{\"a\":\"\\u0000\"}", 0, "\\u0000 goes to jansson (which allows it)");
  char deep[400] = "{\"a\":";
  for (int i = 0; i < 80; i++)
    strcat (deep, "[");
  for (int i = 0; i < 80; i++)
    strcat (deep, "]");
  strcat (deep, "}");
  check (deep, 0, "deep nesting goes to jansson");

  unsigned seed = 12345;
  int bad = 0, fast = 0;
  for (int i = 0; i < 3000 && bad < 3; i++)
    {
      json_t *o = random_value (&seed, 5);
      if (!json_is_object (o))
        {
          json_t *w = json_object ();
          json_object_set_new (w, "v", o);
          o = w;
        }
      if (rand_r (&seed) % 3)
        {
          json_t *m = random_value (&seed, 5);
          json_object_set_new (o, "metadata", json_is_object (m) ? m : json_object ());
          if (!json_is_object (m))
            json_decref (m);
          if (rand_r (&seed) % 2)
            json_object_set_new (json_object_get (o, "metadata"), "resourceVersion",
                                 json_string ("99"));
        }
      size_t flags = rand_r (&seed) % 2 ? JSON_COMPACT : JSON_INDENT (rand_r (&seed) % 4);
      if (rand_r (&seed) % 2)
        flags |= JSON_ENSURE_ASCII;
      char *in = json_dumps (o, flags);
      char *enc = NULL;
      size_t len, off;
      if (store_encode_fast (in, &enc, &len, &off))
        {
          fast++;
          free (enc);
        }
      if (!check (in, -1, NULL))
        bad++;
      free (in);
      json_decref (o);
    }
  ok (bad == 0, "3000 random objects (compact and indented, some ASCII-escaped): the encoding "
                "means what jansson reads");
  ok (fast > 300, "the fast path handles ordinary objects (%d of 3000)", fast);
  tree_checks ();
  return tap_done ();
}
