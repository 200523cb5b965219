/* Indexed Jobs: pod completion index and completedIndexes parse/format. */
#include "config.h"

#include "lib/json.h"
#include "src/master/ctrl/logic.h"
#include "tests/unit/tap.h"

/* spec.successPolicy rules (upstream's matchSuccessPolicy). */
static void
test_success_policy (void)
{
  json_t *pol = json_loads ("{\"rules\":[{\"succeededIndexes\":\"0,2-3\"},"
                            "{\"succeededIndexes\":\"4-7\",\"succeededCount\":2},"
                            "{\"succeededCount\":5}]}",
                            0, NULL);
  bool done[8] = { false };
  is_int (ctrl_job_success_rule (pol, done, 8), -1, "nothing succeeded: no rule met");
  done[0] = done[2] = true;
  is_int (ctrl_job_success_rule (pol, done, 8), -1, "0,2 of 0,2-3: not yet");
  done[3] = true;
  is_int (ctrl_job_success_rule (pol, done, 8), 0, "succeededIndexes only: all of them");
  done[0] = false;
  done[5] = true;
  is_int (ctrl_job_success_rule (pol, done, 8), -1, "one of 4-7 is not 2 of them");
  done[7] = true;
  is_int (ctrl_job_success_rule (pol, done, 8), 1, "both: 2 of the listed 4-7");
  done[5] = done[7] = false;
  done[1] = done[6] = done[0] = true; /* 0,1,2,3,6: one of 4-7 */
  is_int (ctrl_job_success_rule (pol, done, 8), 0, "the first rule met wins");
  done[2] = false; /* 0,1,3,6 */
  done[4] = true;  /* 0,1,3,4,6: two of 4-7 */
  is_int (ctrl_job_success_rule (pol, done, 8), 1, "rule 1 before rule 2");
  json_decref (pol);
  pol = json_loads ("{\"rules\":[{\"succeededCount\":5}]}", 0, NULL);
  is_int (ctrl_job_success_rule (pol, done, 8), 0, "succeededCount only: 5 of any");
  json_decref (pol);
  pol = json_loads ("{\"rules\":[{\"succeededIndexes\":\"x\"},{}]}", 0, NULL);
  is_int (ctrl_job_success_rule (pol, done, 8), -1, "a bad list and an empty rule never match");
  json_decref (pol);
}

/* backoffLimitPerIndex annotations. */
static void
test_counts (void)
{
  json_t *pod = json_loads ("{\"metadata\":{\"annotations\":{"
                            "\"batch.kubernetes.io/job-index-failure-count\":\"3\","
                            "\"batch.kubernetes.io/job-index-ignored-failure-count\":\"-1\"}}}",
                            0, NULL);
  is_int (ctrl_job_pod_count (pod, CTRL_JOB_FAILURES_KEY), 3, "failure count from the annotation");
  is_int (ctrl_job_pod_count (pod, CTRL_JOB_IGNORED_KEY), 0, "a malformed count is 0");
  json_decref (pod);
  is_int (ctrl_job_pod_count (NULL, CTRL_JOB_FAILURES_KEY), 0, "no annotation: 0");
}

int
main (void)
{
  test_success_policy ();
  test_counts ();
  bool done[10] = { false };
  husk_error *err = NULL;
  ok (ctrl_job_parse_indexes ("1,3-5,9", done, 10, &err) == 0, "parse 1,3-5,9");
  ok (!done[0] && done[1] && !done[2] && done[3] && done[4] && done[5] && !done[6] && done[9],
      "the listed indexes are marked");
  char *s = ctrl_job_format_indexes (done, 10);
  is_str (s, "1,3-5,9", "format gives the same list back");
  free (s);
  bool none[3] = { false };
  s = ctrl_job_format_indexes (none, 3);
  is_str (s, "", "no index done: empty");
  free (s);
  ok (ctrl_job_parse_indexes ("", none, 3, &err) == 0 && !none[0], "empty parses to none");
  ok (ctrl_job_parse_indexes ("0-7", none, 3, &err) == 0 && none[2], "indexes beyond completions are ignored");
  ok (ctrl_job_parse_indexes ("3-1", none, 3, &err) < 0, "a reversed interval is an error");
  ok (err && strstr (err->msg, "bad interval"), "... saying so: %s", err ? err->msg : "-");
  husk_error_free (err);
  err = NULL;
  ok (ctrl_job_parse_indexes ("1;2", none, 3, &err) < 0, "junk is an error");
  husk_error_free (err);
  json_t *pod = json_loads ("{\"metadata\":{\"annotations\":{\"batch.kubernetes.io/job-completion-index\":\"7\"}}}",
                            0, NULL);
  is_int (ctrl_job_pod_index (pod), 7, "the pod's index from its annotation");
  json_decref (pod);
  pod = json_loads ("{\"metadata\":{\"annotations\":{\"batch.kubernetes.io/job-completion-index\":\"x\"}}}", 0,
                    NULL);
  is_int (ctrl_job_pod_index (pod), -1, "a bad index is -1");
  json_decref (pod);
  return tap_done ();
}
