/* Indexed Jobs: pod completion index and completedIndexes parse/format. */
#include "config.h"

#include "lib/json.h"
#include "src/master/ctrl/logic.h"
#include "tests/unit/tap.h"

int
main (void)
{
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
