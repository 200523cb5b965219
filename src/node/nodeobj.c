/* husk node: the Node object (registration, capacity, addresses, nodeInfo, conditions,
   podCIDR) and the Lease in kube-node-lease that says the node is alive. Status is PATCHed
   when it changes (and every 5 minutes), the Lease renewed every 10 s: an idle node
   writes one small object per 10 s. */
#include "config.h"

#include <errno.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "lib/path.h"
#include "src/node/agent/node.h"
#include "src/node/node-internal.h"

#define NODE_STATUS_MAX_SILENCE_MS (5 * 60 * 1000)
#define KUBELET_VERSION "v1.32.0-husk"

static char *
rfc3339_now (bool micro)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return micro ? xasprintf ("%s.%06ldZ", buf, ts.tv_nsec / 1000) : xasprintf ("%sZ", buf);
}

static char *
read_trimmed (const char *path)
{
  char *s = NULL;
  if (husk_read_file (path, &s, NULL, NULL) < 0)
    return xstrdup ("");
  s[strcspn (s, "\n")] = '\0';
  return s;
}

/* "key: value kB" from /proc/meminfo, in bytes; -1 when absent. */
static int64_t
meminfo (const char *key)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/meminfo", "re");
  char line[256];
  size_t kl = strlen (key);
  while (f && fgets (line, sizeof line, f))
    if (strncmp (line, key, kl) == 0 && line[kl] == ':')
      return strtoll (line + kl + 1, NULL, 10) * 1024;
  return -1;
}

static const char *
goarch (const char *m)
{
  if (streq (m, "x86_64"))
    return "amd64";
  if (streq (m, "aarch64"))
    return "arm64";
  if (strncmp (m, "armv7", 5) == 0)
    return "arm";
  return m;
}

static char *
os_image (void)
{
  _cleanup_free_ char *text = NULL;
  if (husk_read_file ("/etc/os-release", &text, NULL, NULL) == 0)
    {
      char *p = strstr (text, "PRETTY_NAME=");
      if (p)
        {
          p += 12;
          if (*p == '"')
            p++;
          size_t n = strcspn (p, "\"\n");
          return xstrndup (p, n);
        }
    }
  return xstrdup ("Linux");
}

static json_t *
resources (node_agent *a)
{
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  int64_t mem = meminfo ("MemTotal");
  struct statvfs vfs;
  int64_t disk = statvfs (a->data_dir, &vfs) == 0 ? (int64_t) vfs.f_blocks * (int64_t) vfs.f_frsize : 0;
  char c[32], m[32], d[32], p[16];
  snprintf (c, sizeof c, "%ld", cpus > 0 ? cpus : 1);
  snprintf (m, sizeof m, "%lldKi", (long long) (mem > 0 ? mem / 1024 : 0));
  snprintf (d, sizeof d, "%lldKi", (long long) (disk / 1024));
  snprintf (p, sizeof p, "%d", NODE_MAX_PODS);
  return json_pack ("{s:s, s:s, s:s, s:s}", "cpu", c, "memory", m, "pods", p,
                    "ephemeral-storage", d);
}

/* Pressure signals, measured cheaply. */
static bool
memory_pressure (void)
{
  int64_t avail = meminfo ("MemAvailable");
  return avail >= 0 && avail < 100 * 1024 * 1024;
}

static bool
disk_pressure (node_agent *a)
{
  struct statvfs v;
  if (statvfs (a->data_dir, &v) < 0 || v.f_blocks == 0)
    return false;
  return (double) v.f_bavail / (double) v.f_blocks < 0.10;
}

static bool
pid_pressure (void)
{
  _cleanup_free_ char *max = read_trimmed ("/proc/sys/kernel/pid_max");
  _cleanup_free_ char *la = read_trimmed ("/proc/loadavg");
  const char *slash = strchr (la, '/');
  long procs = slash ? strtol (slash + 1, NULL, 10) : 0;
  long m = strtol (max, NULL, 10);
  return m > 0 && procs > m * 9 / 10;
}

/* Current condition values: type -> (status, reason, message). Transition times are kept
   across calls. */
static struct
{
  char *status;
  char *since;
} cond_state[5];

static json_t *
conditions (node_agent *a, const char *now)
{
  bool mem = memory_pressure (), disk = disk_pressure (a), pid = pid_pressure ();
  node_evict_pressure (a, &mem, &disk);
  struct
  {
    const char *type, *status, *reason, *message;
  } c[5] = {
    {"MemoryPressure", mem ? "True" : "False",
     mem ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
     mem ? "kubelet has insufficient memory available" : "kubelet has sufficient memory available"},
    {"DiskPressure", disk ? "True" : "False", disk ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
     disk ? "kubelet has disk pressure" : "kubelet has no disk pressure"},
    {"PIDPressure", pid ? "True" : "False", pid ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID",
     pid ? "kubelet has insufficient PID available" : "kubelet has sufficient PID available"},
    {"Ready", "True", "KubeletReady", "husk node agent is posting ready status"},
    {"CgroupLimitsEnforced", a->limits_enforced ? "True" : "False",
     a->limits_enforced ? "ControllersAvailable" : "NoControllers",
     a->limits_enforced ? "cpu, memory and pids limits are applied through cgroup v2"
                        : "cgroup v2 has no controllers on this host: resource limits are not "
                          "enforced (pods are tracked and killed through cgroups)"},
  };
  json_t *arr = json_array ();
  for (size_t i = 0; i < ARRAY_SIZE (c); i++)
    {
      if (cond_state[i].status == NULL || !streq (cond_state[i].status, c[i].status))
        {
          free (cond_state[i].status);
          free (cond_state[i].since);
          cond_state[i].status = xstrdup (c[i].status);
          cond_state[i].since = xstrdup (now);
        }
      json_array_append_new (arr, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", c[i].type,
                                             "status", c[i].status, "reason", c[i].reason,
                                             "message", c[i].message, "lastHeartbeatTime", now,
                                             "lastTransitionTime", cond_state[i].since));
    }
  return arr;
}

static json_t *
node_info (void)
{
  struct utsname u;
  uname (&u);
  _cleanup_free_ char *mid = read_trimmed ("/etc/machine-id");
  _cleanup_free_ char *boot = read_trimmed ("/proc/sys/kernel/random/boot_id");
  _cleanup_free_ char *os = os_image ();
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "machineID", mid,
                    "systemUUID", mid, "bootID", boot, "kernelVersion", u.release, "osImage", os,
                    "containerRuntimeVersion", "husk://" PACKAGE_VERSION, "kubeletVersion",
                    KUBELET_VERSION, "kubeProxyVersion", KUBELET_VERSION, "operatingSystem",
                    "linux", "architecture", goarch (u.machine));
}

/* The status without its timestamps (to see whether anything changed), and with them. */
/* capacity - --reserved - the hard eviction thresholds, as kubelet; the capacity itself when
   it cannot be measured. */
static json_t *
allocatable (node_agent *a, json_t *capacity)
{
  agent_node_resources cap;
  if (agent_node_capacity ("/proc", a->data_dir, NODE_MAX_PODS, &cap, NULL) < 0)
    return json_deep_copy (capacity);
  agent_node_resources alloc = agent_node_allocatable (&cap, &a->reserved);
  return agent_node_resources_json (&alloc);
}

static json_t *
build_status (node_agent *a, const char *now)
{
  json_t *res = resources (a);
  json_t *alloc = allocatable (a, res);
  json_decref (a->allocatable);
  a->allocatable = json_incref (alloc);
  return json_pack ("{s:o, s:o, s:o, s:[{s:s, s:s}, {s:s, s:s}], s:o, s:{s:{s:i}}}", "capacity",
                    res, "allocatable", alloc, "conditions", conditions (a, now), "addresses",
                    "type", "InternalIP", "address", a->node_ip, "type", "Hostname", "address",
                    a->hostname, "nodeInfo", node_info (), "daemonEndpoints", "kubeletEndpoint",
                    "Port", a->api_port);
}

static char *
signature (json_t *status)
{
  json_t *copy = json_deep_copy (status);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (copy, "conditions"), i, c)
  {
    json_object_del (c, "lastHeartbeatTime");
    json_object_del (c, "lastTransitionTime");
  }
  char *s = husk_json_dump (copy);
  json_decref (copy);
  return s;
}

int
node_status_update (node_agent *a, bool force, husk_error **err)
{
  _cleanup_free_ char *now = rfc3339_now (false);
  _cleanup_json_ json_t *status = build_status (a, now);
  _cleanup_free_ char *sig = signature (status);
  int64_t t = node_now_ms ();
  if (!force && a->last_node_status && streq (sig, a->last_node_status)
      && t - a->last_node_status_ms < NODE_STATUS_MAX_SILENCE_MS)
    return 0;
  _cleanup_free_ char *path = xasprintf ("/api/v1/nodes/%s/status", a->name);
  _cleanup_json_ json_t *patch = json_pack ("{s:O}", "status", status);
  int r = kclient_json (a->kc, "PATCH", path, "application/merge-patch+json", patch, NULL, NULL,
                        err);
  if (r < 0)
    return r;
  free (a->last_node_status);
  a->last_node_status = TAKE_PTR (sig);
  a->last_node_status_ms = t;
  return 0;
}

static json_t *
node_object (node_agent *a)
{
  struct utsname u;
  uname (&u);
  json_t *labels = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "kubernetes.io/hostname", a->name,
                              "kubernetes.io/os", "linux", "kubernetes.io/arch", goarch (u.machine),
                              "beta.kubernetes.io/os", "linux", "beta.kubernetes.io/arch",
                              goarch (u.machine));
  json_t *ann = json_object ();
  json_object_set_new (ann, "husk.dev/cgroup-limits",
                       json_string (a->limits_enforced ? "enforced" : "not-enforced"));
  json_t *spec = json_object ();
  if (a->cfg->pod_cidr)
    {
      json_object_set_new (spec, "podCIDR", json_string (a->cfg->pod_cidr));
      json_object_set_new (spec, "podCIDRs", json_pack ("[s]", a->cfg->pod_cidr));
    }
  return json_pack ("{s:s, s:s, s:{s:s, s:o, s:o}, s:o}", "apiVersion", "v1", "kind", "Node",
                    "metadata", "name", a->name, "labels", labels, "annotations", ann, "spec",
                    spec);
}

/* The master's node IPAM controller sets spec.podCIDR soon after the Node is created: wait
   for it a few seconds before falling back to a default (a master without controllers). */
static char *
await_pod_cidr (node_agent *a, const char *path)
{
  for (int i = 0; i < 50; i++)
    {
      _cleanup_json_ json_t *node = NULL;
      _cleanup_error_ husk_error *e = NULL;
      if (kclient_json (a->kc, "GET", path, NULL, NULL, &node, NULL, &e) == 0)
        {
          const char *cidr = husk_json_path_str (node, "spec.podCIDR");
          if (cidr)
            return xstrdup (cidr);
        }
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep (&ts, NULL);
    }
  log_warn ("no podCIDR from the master: using a default", "node", a->name);
  return NULL;
}

int
node_register (node_agent *a, husk_error **err)
{
  _cleanup_json_ json_t *obj = node_object (a);
  _cleanup_json_ json_t *got = NULL;
  long status = 0;
  _cleanup_error_ husk_error *e = NULL;
  int r = kclient_json (a->kc, "POST", "/api/v1/nodes", NULL, obj, &got, &status, &e);
  _cleanup_free_ char *path = xasprintf ("/api/v1/nodes/%s", a->name);
  if (r < 0 && status == 409)
    {
      /* Already registered (a restart): keep the object, refresh labels and annotations. */
      json_t *meta = json_object_get (obj, "metadata");
      _cleanup_json_ json_t *patch = json_pack ("{s:{s:O, s:O}}", "metadata", "labels",
                                                json_object_get (meta, "labels"), "annotations",
                                                json_object_get (meta, "annotations"));
      r = kclient_json (a->kc, "PATCH", path, "application/merge-patch+json", patch, &got, NULL,
                        err);
    }
  else if (r < 0)
    {
      husk_error_move (err, &e);
      return r;
    }
  if (r < 0)
    return r;
  free (a->node_uid);
  const char *uid = husk_json_path_str (got, "metadata.uid");
  a->node_uid = uid ? xstrdup (uid) : NULL;
  const char *cidr = husk_json_path_str (got, "spec.podCIDR");
  _cleanup_free_ char *allocated = cidr || a->cfg->pod_cidr ? NULL : await_pod_cidr (a, path);
  free (a->pod_cidr);
  if (cidr || allocated)
    a->pod_cidr = xstrdup (cidr ? cidr : allocated);
  else
    {
      a->pod_cidr = xstrdup (a->cfg->pod_cidr ? a->cfg->pod_cidr : "10.42.0.0/24");
      _cleanup_json_ json_t *patch = json_pack ("{s:{s:s, s:[s]}}", "spec", "podCIDR", a->pod_cidr,
                                                "podCIDRs", a->pod_cidr);
      if ((r = kclient_json (a->kc, "PATCH", path, "application/merge-patch+json", patch, NULL,
                             NULL, err))
          < 0)
        return r;
    }
  if ((r = node_status_update (a, true, err)) < 0)
    return r;
  a->next_lease_ms = 0;
  return node_lease_renew (a, err);
}

int
node_lease_renew (node_agent *a, husk_error **err)
{
  _cleanup_free_ char *now = rfc3339_now (true);
  _cleanup_free_ char *path
      = xasprintf ("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", a->name);
  _cleanup_json_ json_t *patch = json_pack ("{s:{s:s, s:i, s:s}}", "spec", "holderIdentity",
                                            a->name, "leaseDurationSeconds", NODE_LEASE_SECONDS,
                                            "renewTime", now);
  long status = 0;
  _cleanup_error_ husk_error *e = NULL;
  int r = kclient_json (a->kc, "PATCH", path, "application/merge-patch+json", patch, NULL, &status,
                        &e);
  if (r == 0 || status != 404)
    {
      husk_error_move (err, &e);
      return r;
    }
  _cleanup_json_ json_t *lease = json_pack (
      "{s:s, s:s, s:{s:s, s:s}, s:O}", "apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
      "metadata", "name", a->name, "namespace", "kube-node-lease", "spec",
      json_object_get (patch, "spec"));
  if (a->node_uid)
    json_object_set_new (json_object_get (lease, "metadata"), "ownerReferences",
                         json_pack ("[{s:s, s:s, s:s, s:s}]", "apiVersion", "v1", "kind", "Node",
                                    "name", a->name, "uid", a->node_uid));
  return kclient_json (a->kc, "POST",
                       "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", NULL,
                       lease, NULL, NULL, err);
}
