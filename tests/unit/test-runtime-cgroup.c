/* runtime: linux.resources -> cgroup v2 files, as runc and crun map them. */
#include "config.h"

#include "runtime/internal.h"
#include "tests/unit/tap.h"

static json_t *plan;

static const char *
map (const char *resources)
{
  static char msg[512];
  json_decref (plan);
  plan = NULL;
  json_t *j = json_loads (resources, 0, NULL);
  husk_error *err = NULL;
  int r = rt_cgroup_plan_json (j, &plan, &err);
  json_decref (j);
  if (r < 0)
    {
      snprintf (msg, sizeof msg, "error: %s", err->msg);
      husk_error_free (err);
      return msg;
    }
  return NULL;
}

static const char *
file (const char *name)
{
  return json_string_value (json_object_get (plan, name));
}

int
main (void)
{
  ok (map ("{\"memory\":{\"limit\":1048576,\"reservation\":524288,\"swap\":3145728}}") == NULL,
      "memory maps");
  is_str (file ("memory.max"), "1048576", "memory.limit -> memory.max");
  is_str (file ("memory.low"), "524288", "memory.reservation -> memory.low");
  is_str (file ("memory.swap.max"), "2097152", "memory.swap (memory+swap) -> memory.swap.max (swap only)");
  map ("{\"memory\":{\"limit\":-1,\"swap\":-1}}");
  is_str (file ("memory.max"), "max", "limit -1 -> max");
  is_str (file ("memory.swap.max"), "max", "swap -1 -> max");
  ok (map ("{\"memory\":{\"limit\":2048,\"swap\":1024}}") != NULL, "swap below limit is an error");

  map ("{\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"cpus\":\"0-1\",\"mems\":\"0\","
       "\"burst\":1000,\"idle\":1}}");
  is_str (file ("cpu.weight"), "39", "cpu.shares 1024 -> cpu.weight 39 (runc's formula)");
  is_str (file ("cpu.max"), "50000 100000", "quota/period -> cpu.max");
  is_str (file ("cpuset.cpus"), "0-1", "cpus -> cpuset.cpus");
  is_str (file ("cpuset.mems"), "0", "mems -> cpuset.mems");
  is_str (file ("cpu.max.burst"), "1000", "burst -> cpu.max.burst");
  is_str (file ("cpu.idle"), "1", "idle -> cpu.idle");
  map ("{\"cpu\":{\"shares\":2}}");
  is_str (file ("cpu.weight"), "1", "cpu.shares 2 -> cpu.weight 1");
  map ("{\"cpu\":{\"shares\":262144}}");
  is_str (file ("cpu.weight"), "10000", "cpu.shares 262144 -> cpu.weight 10000");
  map ("{\"cpu\":{\"quota\":-1}}");
  is_str (file ("cpu.max"), "max 100000", "quota -1 -> max with the default period");

  map ("{\"pids\":{\"limit\":100}}");
  is_str (file ("pids.max"), "100", "pids.limit -> pids.max");
  map ("{\"pids\":{\"limit\":0}}");
  is_str (file ("pids.max"), "max", "pids.limit 0 -> max");

  map ("{\"blockIO\":{\"weight\":500,\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":10}],"
       "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1000}],"
       "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":50}]}}");
  is_str (file ("io.weight"), "default 4950\n8:0 1", "blkio weights -> io.weight (runc: 1 + (w-10)*9999/990)");
  is_str (file ("io.max"), "8:0 rbps=1000\n8:16 wiops=50", "throttles -> io.max lines");
  ok (map ("{\"blockIO\":{\"weight\":5}}") != NULL, "blkio weight below 10 is an error");

  map ("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
       "\"unified\":{\"memory.high\":\"max\",\"io.latency\":\"8:0 target=10\"}}");
  is_str (file ("hugetlb.2MB.max"), "4194304", "hugepageLimits -> hugetlb.<size>.max");
  is_str (file ("memory.high"), "max", "unified keys are written as given");
  is_str (file ("io.latency"), "8:0 target=10", "unified values are written as given");
  ok (map ("{\"unified\":{\"../../etc/passwd\":\"x\"}}") != NULL, "a unified key with a path is refused");
  ok (map ("{\"cpu\":{\"realtimeRuntime\":1000}}") != NULL, "realtime limits are refused (no v2 equivalent)");
  ok (map ("{\"devices\":[{\"allow\":false,\"type\":\"q\",\"access\":\"rwm\"}]}") != NULL,
      "an unknown device type is refused");
  ok (map ("{\"devices\":[{\"allow\":true,\"type\":\"c\",\"access\":\"rwx\"}]}") != NULL,
      "an unknown device access letter is refused");
  json_decref (plan);
  return tap_done ();
}
