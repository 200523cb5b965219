/* Scheduler throughput in-process, scheduler_perf's SchedulingBasic shape: 1,000 hollow
   nodes (4 cpu, 16Gi, 110 pods) and 30,000 pods requesting 100m cpu and 500Mi memory, each
   scheduled and then assumed onto its node. Prints pods/s, the peak RSS, and the ratio to
   the target (3,000 pods/s) and upstream's floor at 5,000 nodes (270 pods/s).
   Usage: sched-bench [nodes] [pods] [percentageOfNodesToScore] */
#include "config.h"

#include <time.h>

#include "src/master/sched/sched.h"

static double
clock_s (clockid_t id)
{
  struct timespec ts;
  clock_gettime (id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
status_kb (const char *field)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  if (!f)
    return -1;
  while (fgets (line, sizeof line, f))
    if (!strncmp (line, field, strlen (field)))
      kb = atol (line + strlen (field) + 1);
  fclose (f);
  return kb;
}

static json_t *
hollow_node (int i)
{
  char name[32], zone[16];
  snprintf (name, sizeof name, "hollow-node-%04d", i);
  snprintf (zone, sizeof zone, "zone-%d", i % 3);
  return json_pack ("{s{ss s{ss ss}} s{s{ss ss ss} s[{ss ss}]}}", "metadata", "name", name,
                    "labels", "kubernetes.io/hostname", name, "topology.kubernetes.io/zone", zone,
                    "status", "allocatable", "cpu", "4", "memory", "16Gi", "pods", "110",
                    "conditions", "type", "Ready", "status", "True");
}

static json_t *
basic_pod (int i)
{
  char name[32];
  snprintf (name, sizeof name, "pod-%05d", i);
  return json_pack ("{s{ss ss s{ss}} s{s[{ss ss s{s{ss ss}}}]}}", "metadata", "name", name,
                    "namespace", "sched-0", "labels", "app", "basic", "spec", "containers", "name",
                    "pause", "image", "registry.k8s.io/pause:3.10", "resources", "requests", "cpu",
                    "100m", "memory", "500Mi");
}

int
main (int argc, char **argv)
{
  int n_nodes = argc > 1 ? atoi (argv[1]) : 1000;
  int n_pods = argc > 2 ? atoi (argv[2]) : 30000;
  sched_config cfg = { .percentage_of_nodes_to_score = argc > 3 ? atoi (argv[3]) : 0, .seed = 1 };
  husk_error *err = NULL;

  sched_cache *c = sched_cache_new ();
  for (int i = 0; i < n_nodes; i++)
    {
      json_t *n = hollow_node (i);
      if (sched_cache_set_node (c, n, &err) < 0)
        return fprintf (stderr, "%s\n", err->msg), 1;
      json_decref (n);
    }
  json_t **pods = calloc ((size_t)n_pods, sizeof *pods);
  for (int i = 0; i < n_pods; i++)
    pods[i] = basic_pod (i);
  long rss0 = status_kb ("VmRSS:");

  int failed = 0;
  double t0 = clock_s (CLOCK_MONOTONIC), c0 = clock_s (CLOCK_PROCESS_CPUTIME_ID);
  for (int i = 0; i < n_pods; i++)
    {
      sched_result r;
      if (sched_schedule (c, &cfg, pods[i], &r, &err) < 0)
        return fprintf (stderr, "%s\n", err->msg), 1;
      if (r.node)
        {
          if (sched_cache_assume_pod (c, pods[i], r.node, &err) < 0)
            return fprintf (stderr, "%s\n", err->msg), 1;
        }
      else
        failed++;
      sched_result_clear (&r);
    }
  double dt = clock_s (CLOCK_MONOTONIC) - t0, cpu = clock_s (CLOCK_PROCESS_CPUTIME_ID) - c0;
  /* One scheduling thread: CPU time is what it costs on an idle core; wall time shows how
     the shared machine treated it. */
  double rate = n_pods / cpu;

  printf ("nodes %d, pods %d, percentageOfNodesToScore %s\n", n_nodes, n_pods,
          cfg.percentage_of_nodes_to_score ? argv[3] : "adaptive");
  printf ("scheduled %d, unschedulable %d in %.3f s CPU (%.3f s wall): %.0f pods/s per CPU "
          "second (%.0f pods/s wall)\n",
          n_pods - failed, failed, cpu, dt, rate, n_pods / dt);
  printf ("ratio to the target 3000 pods/s: %.2f; to upstream's floor 270 pods/s: %.1f\n",
          rate / 3000, rate / 270);
  printf ("RSS: %ld kB before scheduling, %ld kB after, peak %ld kB\n", rss0, status_kb ("VmRSS:"),
          status_kb ("VmHWM:"));

  for (int i = 0; i < n_pods; i++)
    json_decref (pods[i]);
  free (pods);
  sched_cache_free (c);
  return failed ? 1 : 0;
}
