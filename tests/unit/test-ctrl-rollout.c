/* Deployment rolling-update arithmetic, pod-template-hash, Job back-off. */
#include "config.h"

#include "src/master/ctrl/logic.h"
#include "tests/unit/tap.h"

static void
fence (const char *surge_json, const char *unav_json, int32_t desired, int32_t ws, int32_t wu)
{
  json_t *s = surge_json ? json_loads (surge_json, JSON_DECODE_ANY, NULL) : NULL;
  json_t *u = unav_json ? json_loads (unav_json, JSON_DECODE_ANY, NULL) : NULL;
  int32_t gs = -1, gu = -1;
  husk_error *err = NULL;
  int ret = ctrl_rollout_fenceposts (s, u, desired, &gs, &gu, &err);
  ok (ret == 0 && gs == ws && gu == wu,
      "maxSurge %s maxUnavailable %s of %d: surge %d unavailable %d (got %d %d)",
      surge_json ? surge_json : "default", unav_json ? unav_json : "default", desired, ws, wu, gs,
      gu);
  json_decref (s);
  json_decref (u);
  husk_error_free (err);
}

static void
fence_bad (const char *surge_json, const char *want)
{
  json_t *s = json_loads (surge_json, JSON_DECODE_ANY, NULL);
  int32_t a, b;
  husk_error *err = NULL;
  int ret = ctrl_rollout_fenceposts (s, NULL, 10, &a, &b, &err);
  ok (ret < 0 && err && streq (err->msg, want), "maxSurge %s: %s", surge_json,
      err ? err->msg : "(accepted)");
  json_decref (s);
  husk_error_free (err);
}

/* A whole rollout, pods becoming available right after each step: never more than
   desired + surge pods, never fewer than desired - unavailable available. */
static void
simulate (int32_t desired, const char *surge_json, const char *unav_json, int expect_steps)
{
  json_t *s = json_loads (surge_json, JSON_DECODE_ANY, NULL);
  json_t *u = json_loads (unav_json, JSON_DECODE_ANY, NULL);
  int32_t surge, unav;
  ctrl_rollout_fenceposts (s, u, desired, &surge, &unav, NULL);
  ctrl_rs old = { desired, desired, 1 }, nw = { 0, 0, 2 };
  int steps = 0, max_total = 0, min_avail = desired;
  while ((nw.available < desired || old.replicas > 0) && steps < 100)
    {
      steps++;
      nw.replicas
          = ctrl_rollout_new_replicas (desired, surge, old.replicas + nw.replicas, nw.replicas);
      max_total = old.replicas + nw.replicas > max_total ? old.replicas + nw.replicas : max_total;
      ctrl_rollout_scale_down_old (desired, unav, &old, 1, &nw);
      old.available = old.available < old.replicas ? old.available : old.replicas;
      min_avail
          = old.available + nw.available < min_avail ? old.available + nw.available : min_avail;
      nw.available = nw.replicas; /* the new pods become ready */
    }
  ok (steps == expect_steps && max_total <= desired + surge && min_avail >= desired - unav,
      "rollout of %d with %s/%s: %d steps (want %d), at most %d pods (<= %d), at least %d "
      "available (>= %d)",
      desired, surge_json, unav_json, steps, expect_steps, max_total, desired + surge, min_avail,
      desired - unav);
  json_decref (s);
  json_decref (u);
}

int
main (void)
{
  fence (NULL, NULL, 10, 3, 2);
  fence ("\"25%\"", "\"25%\"", 4, 1, 1);
  fence ("\"25%\"", "\"25%\"", 1, 1, 0);
  fence ("0", "0", 10, 0, 1);
  fence ("\"0%\"", "\"0%\"", 3, 0, 1);
  fence ("1", "\"50%\"", 3, 1, 1);
  fence ("\"30%\"", "\"30%\"", 1, 1, 0);
  fence ("\"100%\"", "0", 5, 5, 0);
  fence ("2", "3", 0, 2, 3);
  fence_bad ("\"25\"",
             "maxSurge: invalid value for IntOrString: invalid type: string is not a percentage");
  fence_bad ("\"abc%\"", "maxSurge: invalid value for IntOrString: invalid value \"abc%\"");
  fence_bad ("true", "maxSurge: invalid value for IntOrString: invalid type: not an int or string");

  is_int (ctrl_rollout_new_replicas (10, 3, 10, 0), 3, "scale up the new RS by the surge");
  is_int (ctrl_rollout_new_replicas (10, 3, 13, 3), 3, "at desired+surge: no scale up");
  is_int (ctrl_rollout_new_replicas (10, 3, 11, 8), 10, "never above desired");

  ctrl_rs old[2] = { { 10, 10, 1 } }, nw = { 3, 0, 2 };
  is_int (ctrl_rollout_scale_down_old (10, 2, old, 1, &nw), 2, "scale old down by 2");
  is_int (old[0].replicas, 8, "old RS to 8 (13 - 8 min available - 3 new unavailable)");
  ctrl_rs unhealthy[2] = { { 5, 3, 1 }, { 5, 5, 2 } };
  ctrl_rs none = { 0, 0, 3 };
  is_int (ctrl_rollout_scale_down_old (10, 2, unhealthy, 2, &none), 2,
          "unavailable old pods go first");
  ok (unhealthy[0].replicas == 3 && unhealthy[1].replicas == 5,
      "only the unhealthy RS shrinks (%d %d)", unhealthy[0].replicas, unhealthy[1].replicas);
  ctrl_rs two[2] = { { 4, 4, 20 }, { 4, 4, 10 } };
  ctrl_rs nw2 = { 4, 4, 30 };
  ctrl_rollout_scale_down_old (8, 2, two, 2, &nw2);
  ok (two[1].replicas == 0 && two[0].replicas == 2, "oldest RS first (%d %d)", two[0].replicas,
      two[1].replicas);

  /* Steps of this loop (each pass scales the new RS, then the old one): */
  simulate (10, "\"25%\"", "\"25%\"", 4);
  simulate (10, "0", "1", 20);
  simulate (10, "1", "0", 20);
  simulate (3, "\"100%\"", "0", 2);
  simulate (100, "\"10%\"", "\"10%\"", 10);

  /* proportional scaling mid-rollout (10 -> 20 replicas, maxSurge 25%) */
  ctrl_rs_scale ps[2] = { { 8, 1, 13 }, { 5, 2, 13 } };
  ctrl_rollout_proportional (20, 5, 13, ps, 2);
  ok (ps[0].replicas == 15 && ps[1].replicas == 10, "scale up 13 -> 25 shared 15/10 (%d %d)",
      ps[0].replicas, ps[1].replicas);
  ctrl_rs_scale down[2] = { { 15, 1, 25 }, { 10, 2, 25 } };
  ctrl_rollout_proportional (10, 3, 25, down, 2);
  ok (down[0].replicas + down[1].replicas == 13 && down[0].replicas == 8 && down[1].replicas == 5,
      "scale down 25 -> 13 shared 8/5 (%d %d)", down[0].replicas, down[1].replicas);
  ctrl_rs_scale tie[2] = { { 3, 1, 0 }, { 3, 2, 0 } };
  ctrl_rollout_proportional (7, 1, 6, tie, 2);
  ok (tie[1].replicas == 4 && tie[0].replicas == 4, "equal sizes, adding: newer first (%d %d)",
      tie[0].replicas, tie[1].replicas);
  ctrl_rs_scale tie2[2] = { { 3, 1, 0 }, { 3, 2, 0 } };
  ctrl_rollout_proportional (4, 1, 6, tie2, 2);
  ok (tie2[0].replicas == 2 && tie2[1].replicas == 3, "equal sizes, removing: older first (%d %d)",
      tie2[0].replicas, tie2[1].replicas);
  ctrl_rs_scale zero[2] = { { 3, 1, 0 }, { 0, 2, 0 } };
  ctrl_rollout_proportional (0, 0, 3, zero, 2);
  ok (zero[0].replicas == 0 && zero[1].replicas == 0, "scaled to zero");

  /* pod-template-hash */
  char *e = ctrl_safe_encode ("123");
  is_str (e, "567", "SafeEncodeString maps digits into bcdfghjklmnpqrstvwxz2456789");
  free (e);
  json_t *t1 = json_loads ("{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":["
                           "{\"name\":\"c\",\"image\":\"nginx\"}]}}",
                           0, NULL);
  json_t *t2 = json_loads ("{\"spec\":{\"containers\":[{\"image\":\"nginx\",\"name\":\"c\"}]},"
                           "\"metadata\":{\"labels\":{\"app\":\"web\"}}}",
                           0, NULL);
  json_t *t3 = json_loads ("{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":["
                           "{\"name\":\"c\",\"image\":\"nginx:2\"}]}}",
                           0, NULL);
  char *h1 = ctrl_pod_template_hash (t1, -1), *h2 = ctrl_pod_template_hash (t2, -1);
  char *h3 = ctrl_pod_template_hash (t3, -1), *h4 = ctrl_pod_template_hash (t1, 1);
  is_str (h1, h2, "the hash ignores key order");
  ok (!streq (h1, h3), "another image, another hash (%s %s)", h1, h3);
  ok (!streq (h1, h4), "collisionCount changes the hash (%s %s)", h1, h4);
  ok (strspn (h1, "bcdfghjklmnpqrstvwxz2456789") == strlen (h1) && strlen (h1) >= 1
          && strlen (h1) <= 10,
      "only safe characters, at most 10 (%s)", h1);
  json_t *sa = json_string ("a");
  char *ha = ctrl_pod_template_hash (sa, -1);
  char *want = ctrl_safe_encode ("1637994474"); /* FNV-32a of the 3 bytes "a" with quotes */
  is_str (ha, want, "FNV-32a over the canonical JSON");
  free (ha);
  free (want);
  json_decref (sa);
  free (h1), free (h2), free (h3), free (h4);
  json_decref (t1), json_decref (t2), json_decref (t3);

  /* Job podFailurePolicy */
  json_t *pol = json_loads (
      "{\"rules\":["
      "{\"action\":\"FailJob\",\"onExitCodes\":{\"containerName\":\"main\",\"operator\":\"In\","
      "\"values\":[42]}},"
      "{\"action\":\"Ignore\",\"onPodConditions\":[{\"type\":\"DisruptionTarget\"}]},"
      "{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"NotIn\",\"values\":[1]}}]}",
      0, NULL);
  static const struct
  {
    const char *status;
    ctrl_pfp_action want;
    const char *msg, *name;
  } pf[] = {
    { "{\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"terminated\":{\"exitCode\":42}}}]}",
      CTRL_PFP_FAIL_JOB,
      "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0",
      "exit code 42 in main: FailJob" },
    { "{\"containerStatuses\":[{\"name\":\"side\",\"state\":{\"terminated\":{\"exitCode\":42}}}]}",
      CTRL_PFP_COUNT, NULL, "exit 42 in another container: the NotIn [1] rule counts it" },
    { "{\"conditions\":[{\"type\":\"DisruptionTarget\",\"status\":\"True\"}],"
      "\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"terminated\":{\"exitCode\":137}}}]}",
      CTRL_PFP_IGNORE, NULL, "disruption: Ignore" },
    { "{\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"terminated\":{\"exitCode\":1}}}]}",
      CTRL_PFP_COUNT, NULL, "no rule matches: Count" },
    { "{\"initContainerStatuses\":[{\"name\":\"main\",\"state\":{\"terminated\":{\"exitCode\":42}}}"
      "]}",
      CTRL_PFP_FAIL_JOB,
      "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0",
      "init containers are looked at too" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (pf); i++)
    {
      json_t *pod = json_pack ("{s{ss ss}so}", "metadata", "name", "p", "namespace", "ns", "status",
                               json_loads (pf[i].status, 0, NULL));
      char *msg = NULL;
      ctrl_pfp_action got = ctrl_job_pod_failure_policy (pol, pod, &msg);
      ok (got == pf[i].want && (pf[i].msg ? msg && streq (msg, pf[i].msg) : msg == NULL),
          "podFailurePolicy: %s (%d, %s)", pf[i].name, got, msg ? msg : "-");
      free (msg);
      json_decref (pod);
    }
  json_decref (pol);

  /* ReplicaSet scale-down order */
  const char *pj[] = {
    /* 0 */ "{\"metadata\":{\"name\":\"running-old\",\"uid\":\"a\",\"creationTimestamp\":\"2024-01-"
            "01T00:00:00Z\"},"
            "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\",\"conditions\":[{"
            "\"type\":\"Ready\","
            "\"status\":\"True\",\"lastTransitionTime\":\"2024-01-01T00:01:00Z\"}]}}",
    /* 1 */
    "{\"metadata\":{\"name\":\"pending\",\"uid\":\"b\"},\"spec\":{\"nodeName\":\"n2\"},\"status\":{"
    "\"phase\":\"Pending\"}}",
    /* 2 */
    "{\"metadata\":{\"name\":\"unscheduled\",\"uid\":\"c\"},\"spec\":{},\"status\":{\"phase\":"
    "\"Pending\"}}",
    /* 3 */
    "{\"metadata\":{\"name\":\"not-ready\",\"uid\":\"d\"},\"spec\":{\"nodeName\":\"n2\"},"
    "\"status\":"
    "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}",
    /* 4 */
    "{\"metadata\":{\"name\":\"running-new\",\"uid\":\"e\",\"creationTimestamp\":\"2024-03-01T00:"
    "00:00Z\"},"
    "\"spec\":{\"nodeName\":\"n3\"},\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":"
    "\"Ready\","
    "\"status\":\"True\",\"lastTransitionTime\":\"2024-03-01T00:01:00Z\"}]}}",
    /* 5 */
    "{\"metadata\":{\"name\":\"cheap\",\"uid\":\"f\",\"creationTimestamp\":\"2023-01-01T00:00:"
    "00Z\","
    "\"annotations\":{\"controller.kubernetes.io/pod-deletion-cost\":\"-100\"}},"
    "\"spec\":{\"nodeName\":\"n4\"},\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":"
    "\"Ready\","
    "\"status\":\"True\",\"lastTransitionTime\":\"2023-01-01T00:01:00Z\"}]}}",
  };
  json_t *pods[6];
  for (int i = 0; i < 6; i++)
    pods[i] = json_loads (pj[i], 0, NULL);
  ctrl_rank_pods_for_deletion (pods, 6, 1711929600 /* 2024-04-01 */);
  const char *order[]
      = { "unscheduled", "pending", "not-ready", "cheap", "running-new", "running-old" };
  bool same = true;
  char got_order[256] = "";
  for (int i = 0; i < 6; i++)
    {
      const char *nm
          = json_string_value (json_object_get (json_object_get (pods[i], "metadata"), "name"));
      same &= streq (nm, order[i]);
      strncat (got_order, nm, sizeof got_order - strlen (got_order) - 2);
      strcat (got_order, " ");
    }
  ok (same,
      "scale-down order: unscheduled, pending, not ready, low deletion cost, ready for less time "
      "(%s)",
      got_order);
  for (int i = 0; i < 6; i++)
    json_decref (pods[i]);

  /* Job back-off */
  static const int64_t want_b[] = { 0, 10, 20, 40, 80, 160, 320, 360, 360 };
  for (int i = 0; i < 9; i++)
    is_int (ctrl_job_backoff (i), want_b[i], "back-off after failures");
  is_int (ctrl_job_backoff (1000), 360, "capped at 6 minutes");
  is_int (ctrl_job_backoff_remaining (3, 1000, 1010), 30, "40 s back-off, 10 s gone: 30 s left");
  is_int (ctrl_job_backoff_remaining (3, 1000, 1050), 0, "back-off over");
  return tap_done ();
}
