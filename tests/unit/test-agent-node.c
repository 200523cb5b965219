/* Node capacity/allocatable from a fake /proc, reserved parsing, pressure, conditions,
   eviction order. */
#include "lib/json.h"
#include "lib/path.h"
#include "src/node/agent/node.h"
#include "tests/unit/tap.h"

static char tmp[] = "/tmp/test-agent-node.XXXXXX";

static void
put (const char *rel, const char *text)
{
  husk_error *err = NULL;
  char *p = xasprintf ("%s/%s", tmp, rel);
  char *d = xstrdup (p);
  *strrchr (d, '/') = 0;
  husk_mkdir_p (d, 0755, &err);
  husk_write_file_atomic (p, text, strlen (text), 0644, &err);
  husk_error_free (err);
  free (p);
  free (d);
}

static const char *
cond (json_t *a, const char *type, const char *field)
{
  size_t i;
  json_t *c;
  json_array_foreach (a, i,
                      c) if (streq (json_string_value (json_object_get (c, "type")),
                                    type)) return json_string_value (json_object_get (c, field));
  return NULL;
}

int
main (void)
{
  if (!mkdtemp (tmp))
    return 99;
  put ("meminfo",
       "MemTotal:       16318464 kB\nMemFree:         1000000 kB\nMemAvailable:      51200 kB\n");
  put ("stat", "cpu  1 2 3\ncpu0 1 2 3\ncpu1 1 2 3\ncpu2 1 2 3\ncpu3 1 2 3\nintr 0\n");
  put ("sys/kernel/pid_max", "4194304\n");
  put ("loadavg", "0.00 0.01 0.05 1/123 4567\n");
  husk_error *err = NULL;
  agent_node_resources cap, res;
  ok (agent_node_capacity (tmp, tmp, 0, &cap, &err) == 0, "capacity measured");
  is_int (cap.cpu_milli, 4000, "4 online CPUs");
  is_int (cap.memory, 16318464LL * 1024, "MemTotal");
  is_int (cap.pods, 110, "110 pods by default");
  ok (cap.ephemeral_storage > 0, "ephemeral storage is the data dir's filesystem");
  json_t *j = agent_node_resources_json (&cap);
  is_str (json_string_value (json_object_get (j, "cpu")), "4", "cpu formatted as cores");
  is_str (json_string_value (json_object_get (j, "memory")), "16318464Ki",
          "memory in Ki as kubelet");
  is_str (json_string_value (json_object_get (j, "pods")), "110", "pods");
  json_decref (j);

  ok (agent_node_parse_reserved ("cpu=250m,memory=512Mi,ephemeral-storage=1Gi", &res, &err) == 0,
      "reserved parses");
  agent_node_resources a = agent_node_allocatable (&cap, &res);
  is_int (a.cpu_milli, 3750, "allocatable cpu = capacity - reserved");
  is_int (a.memory, 16318464LL * 1024 - 612LL * 1024 * 1024,
          "allocatable memory also keeps the 100Mi eviction threshold");
  j = agent_node_resources_json (&a);
  is_str (json_string_value (json_object_get (j, "cpu")), "3750m", "fractional cpu in millicores");
  json_decref (j);
  ok (agent_node_parse_reserved ("gpu=1", &res, &err) < 0, "unknown reserved resource refused");
  husk_error_free (err);
  err = NULL;

  agent_node_signals s;
  ok (agent_node_measure (tmp, tmp, &s, &err) == 0, "signals measured");
  is_int (s.memory_available, 51200LL * 1024, "memory.available from MemAvailable");
  is_int (s.pids_available, 4194304 - 123, "pid.available = pid_max - tasks (loadavg 1/123)");
  agent_node_pressure p = agent_node_pressure_of (&s);
  ok (p.memory, "50 MiB available: memory pressure");
  ok (!p.pid, "no PID pressure");
  s.nodefs_size = 1000;
  s.nodefs_available = 50;
  p = agent_node_pressure_of (&s);
  ok (p.disk, "5 %% of the disk free: disk pressure");

  json_t *c1 = agent_node_conditions (&p, NULL, NULL, 1795756200);
  is_str (cond (c1, "MemoryPressure", "status"), "True", "MemoryPressure True");
  is_str (cond (c1, "MemoryPressure", "reason"), "KubeletHasInsufficientMemory",
          "kubelet's reason");
  is_str (cond (c1, "Ready", "reason"), "KubeletReady", "Ready");
  is_str (cond (c1, "Ready", "message"), "kubelet is posting ready status", "Ready message");
  agent_node_pressure calm = { 0 };
  json_t *c2 = agent_node_conditions (&calm, "container runtime network not ready", c1, 1795756260);
  is_str (cond (c2, "MemoryPressure", "lastTransitionTime"), "2026-11-27T05:11:00Z",
          "changed: new transition time");
  is_str (cond (c2, "PIDPressure", "lastTransitionTime"), "2026-11-27T05:10:00Z",
          "unchanged: transition time kept");
  is_str (cond (c2, "PIDPressure", "lastHeartbeatTime"), "2026-11-27T05:11:00Z",
          "heartbeat is now");
  is_str (cond (c2, "Ready", "status"), "False", "not ready with a message");
  json_decref (c1);
  json_decref (c2);

  /* eviction order: BestEffort user, then burstable over its request, then the rest */
  agent_evict_candidate cand[] = {
    { .usage = 100, .requests = 200, .priority = 0 },    /* 0: under request */
    { .usage = 50, .requests = 0, .priority = 0 },       /* 1: BestEffort using 50 */
    { .usage = 300, .requests = 100, .priority = 0 },    /* 2: 200 over */
    { .usage = 500, .requests = 100, .priority = 1000 }, /* 3: over, but high priority */
    { .usage = 10, .requests = 100, .priority = -5 },    /* 4: under, low priority */
  };
  size_t idx[5];
  agent_eviction_rank (cand, 5, idx);
  char order[16];
  for (int i = 0; i < 5; i++)
    order[i] = '0' + idx[i];
  order[5] = 0;
  is_str (order, "21340",
          "over-request first (by priority, then excess), then under-request by priority");

  /* the Node object and its Lease */
  put ("machine-id", "0123456789abcdef0123456789abcdef\n");
  put ("os-release", "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
  put ("sys/kernel/random/boot_id", "b0b0b0b0-0000-4000-8000-000000000001\n");
  agent_node_info info = { .name = "node-1",
                           .internal_ip = "192.0.2.10",
                           .pod_cidr = "10.42.1.0/24",
                           .version = "0.1.0",
                           .proc_root = tmp,
                           .etc_root = tmp };
  json_t *node = agent_node_object (&info, &cap, &a);
  json_t *labels = husk_json_path (node, "metadata.labels");
  is_str (json_string_value (json_object_get (labels, "kubernetes.io/hostname")), "node-1",
          "hostname label");
  is_str (json_string_value (json_object_get (labels, "kubernetes.io/os")), "linux", "os label");
  ok (json_string_value (json_object_get (labels, "kubernetes.io/arch")) != NULL, "arch label");
  is_str (husk_json_path_str (node, "spec.podCIDR"), "10.42.1.0/24", "podCIDR");
  is_str (husk_json_path_str (node, "status.addresses.0.type"), "InternalIP", "InternalIP first");
  is_str (husk_json_path_str (node, "status.addresses.0.address"), "192.0.2.10", "its address");
  is_str (husk_json_path_str (node, "status.addresses.1.type"), "Hostname", "then Hostname");
  is_str (husk_json_path_str (node, "status.nodeInfo.machineID"),
          "0123456789abcdef0123456789abcdef", "machineID");
  is_str (husk_json_path_str (node, "status.nodeInfo.bootID"),
          "b0b0b0b0-0000-4000-8000-000000000001", "bootID");
  is_str (husk_json_path_str (node, "status.nodeInfo.osImage"), "Debian GNU/Linux 12 (bookworm)",
          "osImage from os-release");
  is_str (husk_json_path_str (node, "status.nodeInfo.containerRuntimeVersion"), "husk://0.1.0",
          "runtime version");
  is_str (husk_json_path_str (node, "status.nodeInfo.kubeletVersion"), "v1.32.0-husk.0.1.0",
          "kubelet version");
  is_str (husk_json_path_str (node, "status.allocatable.cpu"), "3750m", "allocatable in status");
  is_int (json_integer_value (husk_json_path (node, "status.daemonEndpoints.kubeletEndpoint.Port")),
          10250, "kubelet endpoint port");
  json_decref (node);
  json_t *lease = agent_node_lease ("node-1", "n-uid", 1795756200123456LL);
  is_str (husk_json_path_str (lease, "metadata.namespace"), "kube-node-lease", "lease namespace");
  is_str (husk_json_path_str (lease, "spec.holderIdentity"), "node-1", "holder");
  is_str (husk_json_path_str (lease, "spec.renewTime"), "2026-11-27T05:10:00.123456Z",
          "renewTime with microseconds");
  is_int (json_integer_value (husk_json_path (lease, "spec.leaseDurationSeconds")), 40, "40 s");
  is_str (husk_json_path_str (lease, "metadata.ownerReferences.0.uid"), "n-uid",
          "owned by the Node");
  json_decref (lease);
  husk_rm_rf (tmp, &err);
  return tap_done ();
}
