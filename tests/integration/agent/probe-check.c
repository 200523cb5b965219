/* Driver for t-probes.sh: probe-check PROBE-JSON [POD-IP] runs one liveness check and
   prints "success|failure: message"; exits 0 on success, 1 on failure, 2 on a bad spec. */
#include "lib/json.h"
#include "src/node/agent/probe.h"

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: probe-check PROBE-JSON [POD-IP]\n");
      return 2;
    }
  json_error_t je;
  json_t *probe = json_loads (argv[1], 0, &je);
  json_t *ctr = json_object ();
  agent_probe_spec *s = NULL;
  husk_error *err = NULL;
  if (!probe || agent_probe_spec_parse (probe, ctr, AGENT_PROBE_LIVENESS, &s, &err) < 0)
    {
      fprintf (stderr, "probe-check: %s\n", err ? err->msg : je.text);
      return 2;
    }
  agent_probe_target t = { .pod_ip = argc > 2 ? argv[2] : "127.0.0.1" };
  char *msg = NULL;
  agent_probe_result r = agent_probe_run (s, &t, &msg);
  printf ("%s: %s\n", r == AGENT_PROBE_SUCCESS ? "success" : "failure", msg ? msg : "");
  free (msg);
  agent_probe_spec_free (s);
  json_decref (probe);
  json_decref (ctr);
  return r == AGENT_PROBE_SUCCESS ? 0 : 1;
}
