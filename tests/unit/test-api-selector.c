/* Label and field selectors of the API server. */
#include "config.h"

#include "lib/json.h"
#include "src/master/api/selector.h"
#include "tests/unit/tap.h"

static json_t *pod;

static int
label_match (const char *sel)
{
  api_selector *s = NULL;
  husk_error *err = NULL;
  if (api_label_selector_parse (sel, &s, &err) < 0)
    {
      husk_error_free (err);
      return -1;
    }
  int m = api_selector_matches (s, pod);
  api_selector_free (s);
  return m;
}

static int
field_match (const char *sel)
{
  static const char *const allowed[] = {"spec.nodeName", "status.phase", "spec.hostNetwork", NULL};
  api_selector *s = NULL;
  husk_error *err = NULL;
  if (api_field_selector_parse (sel, allowed, &s, &err) < 0)
    {
      husk_error_free (err);
      return -1;
    }
  int m = api_selector_matches (s, pod);
  api_selector_free (s);
  return m;
}

int
main (void)
{
  pod = json_loads ("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"labels\":{\"app\":\"web\","
                    "\"tier\":\"front\",\"example.com/x\":\"1\"}},\"spec\":{\"nodeName\":\"n1\"},"
                    "\"status\":{\"phase\":\"Running\"}}",
                    0, NULL);
  is_int (label_match (""), 1, "empty selector matches everything");
  is_int (label_match ("app=web"), 1, "=");
  is_int (label_match ("app==web"), 1, "==");
  is_int (label_match ("app=db"), 0, "= with another value");
  is_int (label_match ("app!=db"), 1, "!= other value");
  is_int (label_match ("app!=web"), 0, "!= same value");
  is_int (label_match ("missing!=x"), 1, "!= on an absent label matches");
  is_int (label_match ("app in (db, web)"), 1, "in");
  is_int (label_match ("app notin (db,web)"), 0, "notin");
  is_int (label_match ("missing notin (a)"), 1, "notin on an absent label matches");
  is_int (label_match ("tier"), 1, "exists");
  is_int (label_match ("!tier"), 0, "!exists");
  is_int (label_match ("!nope"), 1, "!exists of an absent label");
  is_int (label_match ("app=web,tier in (front),example.com/x"), 1, "conjunction with prefix key");
  is_int (label_match ("app=web,tier=back"), 0, "conjunction fails on one term");
  is_int (label_match ("app in (web"), -1, "unclosed set is an error");
  is_int (label_match ("app foo (x)"), -1, "unknown operator is an error");
  is_int (label_match ("a=b c"), -1, "a space in a value is an error");
  /* fuzzer find: a bad value after the set array grew freed an unterminated array */
  is_int (label_match ("a in (n,f,ff,fff,\xe9" "b)"), -1, "a bad value late in a long set is an error");

  is_int (field_match ("metadata.name=p"), 1, "field metadata.name");
  is_int (field_match ("metadata.namespace!=ns"), 0, "field metadata.namespace !=");
  is_int (field_match ("spec.nodeName=n1,status.phase=Running"), 1, "two fields");
  is_int (field_match ("spec.nodeName="), 0, "empty value does not match a set field");
  is_int (field_match ("spec.hostNetwork=false"), 0, "absent bool field is empty, not false");
  is_int (field_match ("spec.bogus=1"), -1, "unsupported field is an error");

  api_selector *s = NULL;
  api_field_selector_parse ("metadata.name=x,spec.nodeName=n", NULL, &s, NULL);
  ok (s == NULL, "fields outside the allowed list are refused");
  api_field_selector_parse ("metadata.name=x", NULL, &s, NULL);
  is_str (api_selector_equals (s, "metadata.name"), "x", "the name a field selector pins");
  api_selector_free (s);

  json_t *ls = json_loads ("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":"
                           "\"tier\",\"operator\":\"In\",\"values\":[\"front\",\"back\"]}]}",
                           0, NULL);
  api_label_selector_from_json (ls, &s, NULL);
  ok (api_selector_matches (s, pod), "LabelSelector object matches");
  api_selector_free (s);
  json_decref (ls);
  json_decref (pod);
  return tap_done ();
}
