/* Quantities as resource.Quantity parses them, and pod requests as upstream sums them. */
#include "config.h"

#include "lib/quantity.h"
#include "src/master/sched/sched.h"
#include "tests/unit/tap.h"
#include "tests/unit/sched-util.h"

static void
q (const char *s, int64_t scale, int64_t want)
{
  int64_t v = -12345;
  husk_error *err = NULL;
  int ret = husk_quantity_parse (s, scale, &v, &err);
  if (ret < 0)
    printf ("# %s\n", err->msg);
  ok (ret == 0 && v == want, "\"%s\" x%lld = %lld (got %lld)", s, (long long)scale, (long long)want,
      (long long)v);
  husk_error_free (err);
}

static void
bad (const char *s, const char *want_msg)
{
  int64_t v = 7;
  husk_error *err = NULL;
  int ret = husk_quantity_parse (s, 1, &v, &err);
  ok (ret < 0 && v == 7 && err && strstr (err->msg, want_msg), "\"%s\" rejected: %s", s,
      err ? err->msg : "(accepted)");
  husk_error_free (err);
}

static void
requests (const char *extra, int64_t cpu, int64_t mem, const char *name)
{
  json_t *p = mkpod ("p", NULL, NULL, extra);
  int64_t c = -1, m = -1, e = -1;
  husk_error *err = NULL;
  int ret = sched_pod_requests (p, &c, &m, &e, &err);
  ok (ret == 0 && c == cpu && m == mem, "%s: cpu %lldm memory %lld (got %lldm %lld)", name,
      (long long)cpu, (long long)mem, (long long)c, (long long)m);
  json_decref (p);
  husk_error_free (err);
}

int
main (void)
{
  q ("100m", 1000, 100);
  q ("1.5", 1000, 1500);
  q ("2", 1000, 2000);
  q ("0.1", 1000, 100);
  q ("1m", 1, 1); /* Value() rounds 0.001 up to 1 */
  q ("1.0001", 1000, 1001);
  q ("128Mi", 1, 128LL << 20);
  q ("1Gi", 1, 1LL << 30);
  q ("1.5Gi", 1, 3LL << 29);
  q ("1G", 1, 1000000000);
  q ("1k", 1, 1000);
  q ("1e3", 1, 1000);
  q ("1E3", 1000, 1000000);
  q ("5e-3", 1000, 5);
  q ("100n", 1000, 1);
  q ("250u", 1000, 1);
  q ("0", 1000, 0);
  q ("0.000", 1, 0);
  q ("+4", 1, 4);
  q ("-100m", 1000, -100);
  q ("1Ei", 1, 1LL << 60);
  q (".5", 1000, 500);
  q ("007", 1, 7);
  bad ("", "expected a number");
  bad ("abc", "expected a number");
  bad ("1.2.3", "two decimal points");
  bad ("12Q", "unknown suffix");
  bad ("1Zi", "unknown suffix");
  bad ("16Ei", "too large");
  bad ("1e", "unknown suffix");

  json_t *num = json_integer (2);
  int64_t v = 0;
  ok (husk_quantity_json (num, 1000, NULL, &v, NULL) == 0 && v == 2000, "JSON number 2 cpu = 2000m");
  json_decref (num);

  requests (NULL, 0, 0, "no requests");
  requests (
      "{'spec':{'containers':[{'name':'a','resources':{'requests':{'cpu':'100m','memory':'1Mi'}}},"
      "{'name':'b','resources':{'requests':{'cpu':'200m','memory':'2Mi'}}}]}}",
      300, 3 << 20, "containers add up");
  requests (
      "{'spec':{'containers':[{'name':'a','resources':{'limits':{'cpu':'1','memory':'1Gi'}}}]}}",
      1000, 1 << 30, "limits stand in for missing requests");
  requests (
      "{'spec':{'containers':[{'name':'a','resources':{'requests':{'cpu':'500m','memory':'1Mi'}}}],"
      "'initContainers':[{'name':'i','resources':{'requests':{'cpu':'2','memory':'1Mi'}}}]}}",
      2000, 1 << 20, "init container larger than the app: max wins");
  requests ("{'spec':{'containers':[{'name':'a','resources':{'requests':{'cpu':'500m'}}}],"
            "'initContainers':[{'name':'side','restartPolicy':'Always','resources':{'requests':{'"
            "cpu':'300m'}}},"
            "{'name':'i','resources':{'requests':{'cpu':'600m'}}}]}}",
            900, 0, "sidecar adds to the sum and to later init containers (max(800, 900))");
  requests (
      "{'spec':{'containers':[{'name':'a','resources':{'requests':{'cpu':'1','memory':'64Mi'}}}],"
      "'overhead':{'cpu':'250m','memory':'120Mi'}}}",
      1250, 184 << 20, "overhead is added");

  json_t *badpod = mkpod ("p", "1x", NULL, NULL);
  husk_error *err = NULL;
  int64_t a = 0, b = 0, c = 0;
  ok (sched_pod_requests (badpod, &a, &b, &c, &err) < 0 && err
          && strstr (err->msg, "spec.containers[0].resources.requests.cpu")
          && strstr (err->msg, "\"1x\""),
      "a bad request names its path: %s", err ? err->msg : "(accepted)");
  husk_error_free (err);
  err = NULL;
  json_decref (badpod);
  json_t *neg = mkpod ("p", "-1", NULL, NULL);
  ok (sched_pod_requests (neg, &a, &b, &c, &err) < 0 && err
          && strstr (
              err->msg,
              "spec.containers[0].resources.requests.cpu: must be greater than or equal to 0"),
      "a negative request is refused: %s", err ? err->msg : "(accepted)");
  husk_error_free (err);
  err = NULL;
  json_decref (neg);
  json_t *huge = mkpod ("p", "9e15", "9E",
                        "{'spec':{'overhead':{'cpu':'9e15','memory':'9E'},'initContainers':[{'name'"
                        ":'i','resources':{'requests':{'cpu':'9e15'}}}]}}");
  ok (sched_pod_requests (huge, &a, &b, &c, &err) == 0 && a == INT64_MAX && b == INT64_MAX,
      "sums saturate instead of wrapping (%lld)", (long long)a);
  json_decref (huge);
  return tap_done ();
}
