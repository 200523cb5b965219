/* husk node agent: node capacity, allocatable, pressure, eviction order (see node.h). */
#include <errno.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/path.h"
#include "src/node/agent/node.h"
#include "src/node/agent/podspec.h"
#include "src/node/agent/status.h"

#define MIB (1024LL * 1024)

static int
meminfo (const char *proc_root, const char *key, int64_t *out, husk_error **err)
{
  _cleanup_free_ char *path = xasprintf ("%s/meminfo", proc_root);
  _cleanup_free_ char *text = NULL;
  int ret = husk_read_file (path, &text, NULL, err);
  if (ret < 0)
    return ret;
  size_t kl = strlen (key);
  for (char *l = text; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
    if (strncmp (l, key, kl) == 0 && l[kl] == ':')
      {
        *out = strtoll (l + kl + 1, NULL, 10) * 1024;
        return 0;
      }
  return husk_err (err, ENOENT, "%s: no %s", path, key);
}

static int64_t
online_cpus (const char *proc_root)
{
  /* /proc/stat lists cpuN lines for online CPUs; fall back to sysconf */
  _cleanup_free_ char *path = xasprintf ("%s/stat", proc_root);
  _cleanup_free_ char *text = NULL;
  husk_error *err = NULL;
  int64_t n = 0;
  if (husk_read_file (path, &text, NULL, &err) == 0)
    for (char *l = text; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
      if (strncmp (l, "cpu", 3) == 0 && l[3] >= '0' && l[3] <= '9')
        n++;
  husk_error_free (err);
  return n > 0 ? n : sysconf (_SC_NPROCESSORS_ONLN);
}

int
agent_node_capacity (const char *proc_root, const char *data_dir, int64_t max_pods,
                     agent_node_resources *out, husk_error **err)
{
  struct statvfs vfs;
  agent_node_resources r = { 0 };
  int ret = meminfo (proc_root, "MemTotal", &r.memory, err);
  if (ret < 0)
    return ret;
  if (statvfs (data_dir, &vfs) < 0)
    return husk_err_errno (err, "statvfs %s", data_dir);
  r.cpu_milli = online_cpus (proc_root) * 1000;
  r.ephemeral_storage = (int64_t)vfs.f_blocks * vfs.f_frsize;
  r.pods = max_pods > 0 ? max_pods : 110;
  *out = r;
  return 0;
}

int
agent_node_parse_reserved (const char *text, agent_node_resources *r, husk_error **err)
{
  *r = (agent_node_resources){ 0 };
  _cleanup_free_ char *copy = xstrdup (text ? text : "");
  char *save = NULL;
  for (char *kv = strtok_r (copy, ",", &save); kv; kv = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (kv, '=');
      if (!eq)
        return husk_err (err, EINVAL, "--reserved: \"%s\" is not name=quantity", kv);
      *eq = '\0';
      int ret;
      if (streq (kv, "cpu"))
        ret = husk_quantity_parse (eq + 1, 1000, &r->cpu_milli, err);
      else if (streq (kv, "memory"))
        ret = husk_quantity_parse (eq + 1, 1, &r->memory, err);
      else if (streq (kv, "ephemeral-storage"))
        ret = husk_quantity_parse (eq + 1, 1, &r->ephemeral_storage, err);
      else if (streq (kv, "pid"))
        ret = 0;
      else
        return husk_err (err, EINVAL, "--reserved: unknown resource \"%s\"", kv);
      if (ret < 0)
        return husk_err_wrap (err, "--reserved %s", kv);
    }
  return 0;
}

static int64_t
sub0 (int64_t a, int64_t b)
{
  return a > b ? a - b : 0;
}

agent_node_resources
agent_node_allocatable (const agent_node_resources *cap, const agent_node_resources *res)
{
  agent_node_resources a = *cap;
  a.cpu_milli = sub0 (cap->cpu_milli, res->cpu_milli);
  a.memory = sub0 (cap->memory, res->memory + 100 * MIB);
  a.ephemeral_storage
      = sub0 (cap->ephemeral_storage, res->ephemeral_storage + cap->ephemeral_storage / 10);
  return a;
}

json_t *
agent_node_resources_json (const agent_node_resources *r)
{
  json_t *o = json_object ();
  char *cpu = r->cpu_milli % 1000 == 0 ? xasprintf ("%lld", (long long)(r->cpu_milli / 1000))
                                       : xasprintf ("%lldm", (long long)r->cpu_milli);
  char *mem = r->memory % 1024 == 0 ? xasprintf ("%lldKi", (long long)(r->memory / 1024))
                                    : xasprintf ("%lld", (long long)r->memory);
  char *eph = r->ephemeral_storage % 1024 == 0
                  ? xasprintf ("%lldKi", (long long)(r->ephemeral_storage / 1024))
                  : xasprintf ("%lld", (long long)r->ephemeral_storage);
  char *pods = xasprintf ("%lld", (long long)r->pods);
  json_object_set_new (o, "cpu", json_string (cpu));
  json_object_set_new (o, "ephemeral-storage", json_string (eph));
  json_object_set_new (o, "hugepages-1Gi", json_string ("0"));
  json_object_set_new (o, "hugepages-2Mi", json_string ("0"));
  json_object_set_new (o, "memory", json_string (mem));
  json_object_set_new (o, "pods", json_string (pods));
  free (cpu);
  free (mem);
  free (eph);
  free (pods);
  return o;
}

int
agent_node_measure (const char *proc_root, const char *data_dir, agent_node_signals *out,
                    husk_error **err)
{
  agent_node_signals s = { .pids_available = -1 };
  struct statvfs vfs;
  int ret = meminfo (proc_root, "MemAvailable", &s.memory_available, err);
  if (ret < 0)
    return ret;
  if (statvfs (data_dir, &vfs) < 0)
    return husk_err_errno (err, "statvfs %s", data_dir);
  s.nodefs_available = (int64_t)vfs.f_bavail * vfs.f_frsize;
  s.nodefs_size = (int64_t)vfs.f_blocks * vfs.f_frsize;
  s.nodefs_inodes_free = vfs.f_favail;
  s.nodefs_inodes = vfs.f_files;
  _cleanup_free_ char *pm = xasprintf ("%s/sys/kernel/pid_max", proc_root);
  _cleanup_free_ char *la = xasprintf ("%s/loadavg", proc_root);
  _cleanup_free_ char *pmt = NULL, *lat = NULL;
  husk_error *e2 = NULL;
  if (husk_read_file (pm, &pmt, NULL, &e2) == 0 && husk_read_file (la, &lat, NULL, &e2) == 0)
    {
      /* loadavg: "0.00 0.01 0.05 1/123 4567": running/total tasks */
      char *slash = strchr (lat, '/');
      s.pids_max = strtoll (pmt, NULL, 10);
      if (slash)
        s.pids_available = s.pids_max - strtoll (slash + 1, NULL, 10);
    }
  husk_error_free (e2);
  *out = s;
  return 0;
}

agent_node_pressure
agent_node_pressure_of (const agent_node_signals *s)
{
  agent_node_pressure p = { 0 };
  p.memory = s->memory_available < 100 * MIB;
  p.disk = (s->nodefs_size > 0 && s->nodefs_available < s->nodefs_size / 10)
           || (s->nodefs_inodes > 0 && s->nodefs_inodes_free < s->nodefs_inodes / 20);
  p.pid = s->pids_available >= 0 && s->pids_max > 0 && s->pids_available < s->pids_max / 10;
  return p;
}

static json_t *
node_condition (const char *type, bool status, const char *reason, const char *message, json_t *old,
                int64_t now)
{
  json_t *c = json_object ();
  const char *st = status ? "True" : "False";
  _cleanup_free_ char *t = agent_format_time (now);
  json_t *keep = NULL, *o;
  size_t i;
  json_array_foreach (old, i, o)
  {
    const char *ot = json_string_value (json_object_get (o, "type"));
    const char *os = json_string_value (json_object_get (o, "status"));
    if (ot && os && streq (ot, type) && streq (os, st))
      keep = json_object_get (o, "lastTransitionTime");
  }
  json_object_set_new (c, "type", json_string (type));
  json_object_set_new (c, "status", json_string (st));
  json_object_set_new (c, "lastHeartbeatTime", json_string (t));
  if (json_is_string (keep))
    json_object_set (c, "lastTransitionTime", keep);
  else
    json_object_set_new (c, "lastTransitionTime", json_string (t));
  json_object_set_new (c, "reason", json_string (reason));
  json_object_set_new (c, "message", json_string (message));
  return c;
}

json_t *
agent_node_conditions (const agent_node_pressure *p, const char *not_ready_message, json_t *old,
                       int64_t now)
{
  json_t *a = json_array ();
  json_array_append_new (
      a, node_condition ("MemoryPressure", p->memory,
                         p->memory ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
                         p->memory ? "kubelet has insufficient memory available"
                                   : "kubelet has sufficient memory available",
                         old, now));
  json_array_append_new (
      a, node_condition ("DiskPressure", p->disk,
                         p->disk ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
                         p->disk ? "kubelet has disk pressure" : "kubelet has no disk pressure",
                         old, now));
  json_array_append_new (
      a, node_condition ("PIDPressure", p->pid,
                         p->pid ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID",
                         p->pid ? "kubelet has insufficient PID available"
                                : "kubelet has sufficient PID available",
                         old, now));
  json_array_append_new (
      a, node_condition (
             "Ready", !not_ready_message, not_ready_message ? "KubeletNotReady" : "KubeletReady",
             not_ready_message ? not_ready_message : "kubelet is posting ready status", old, now));
  return a;
}

static int
rank_cmp (const void *pa, const void *pb, void *ud)
{
  const agent_evict_candidate *c = ud;
  const agent_evict_candidate *a = &c[*(const size_t *)pa], *b = &c[*(const size_t *)pb];
  bool ea = a->usage > a->requests, eb = b->usage > b->requests;
  if (ea != eb)
    return ea ? -1 : 1;
  if (a->priority != b->priority)
    return a->priority < b->priority ? -1 : 1;
  int64_t oa = a->usage - a->requests, ob = b->usage - b->requests;
  if (oa != ob)
    return oa > ob ? -1 : 1;
  return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
}

void
agent_eviction_rank (const agent_evict_candidate *c, size_t n, size_t *idx)
{
  for (size_t i = 0; i < n; i++)
    idx[i] = i;
  qsort_r (idx, n, sizeof *idx, rank_cmp, (void *)c);
}

/* ---- Node object and Lease ----------------------------------------------------------- */

static char *
first_line (const char *path)
{
  char *text = NULL;
  husk_error *err = NULL;
  if (husk_read_file (path, &text, NULL, &err) < 0)
    {
      husk_error_free (err);
      return xstrdup ("");
    }
  text[strcspn (text, "\n")] = '\0';
  return text;
}

static char *
os_image (const char *etc_root)
{
  _cleanup_free_ char *path = xasprintf ("%s/os-release", etc_root);
  _cleanup_free_ char *text = NULL;
  husk_error *err = NULL;
  if (husk_read_file (path, &text, NULL, &err) < 0)
    {
      husk_error_free (err);
      return xstrdup ("Linux");
    }
  for (char *l = text; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
    if (strncmp (l, "PRETTY_NAME=", 12) == 0)
      {
        char *v = l + 12;
        size_t n = strcspn (v, "\n");
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
          return xstrndup (v + 1, n - 2);
        return xstrndup (v, n);
      }
  return xstrdup ("Linux");
}

static const char *
go_arch (const char *machine)
{
  if (streq (machine, "x86_64"))
    return "amd64";
  if (streq (machine, "aarch64"))
    return "arm64";
  if (strncmp (machine, "armv", 4) == 0)
    return "arm";
  return machine; /* ppc64le, s390x, riscv64 read the same in Go */
}

json_t *
agent_node_object (const agent_node_info *in, const agent_node_resources *cap,
                   const agent_node_resources *alloc)
{
  struct utsname u;
  uname (&u);
  const char *proc = in->proc_root ? in->proc_root : "/proc";
  const char *etc = in->etc_root ? in->etc_root : "/etc";
  _cleanup_free_ char *mid_path = xasprintf ("%s/machine-id", etc);
  _cleanup_free_ char *boot_path = xasprintf ("%s/sys/kernel/random/boot_id", proc);
  _cleanup_free_ char *machine_id = first_line (mid_path);
  _cleanup_free_ char *boot_id = first_line (boot_path);
  _cleanup_free_ char *uuid = first_line ("/sys/class/dmi/id/product_uuid");
  _cleanup_free_ char *image = os_image (etc);
  _cleanup_free_ char *rt = xasprintf ("husk://%s", in->version ? in->version : "0");
  _cleanup_free_ char *kv = xasprintf ("v1.32.0-husk.%s", in->version ? in->version : "0");
  const char *arch = go_arch (u.machine);
  json_t *addrs = json_array ();
  if (in->internal_ip)
    json_array_append_new (
        addrs, json_pack ("{s:s, s:s}", "type", "InternalIP", "address", in->internal_ip));
  json_array_append_new (addrs, json_pack ("{s:s, s:s}", "type", "Hostname", "address", in->name));
  json_t *node = json_pack (
      "{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}}, s:{}, s:{s:o, s:o, s:o, s:{s:{s:i}}, s:{s:s, s:s, "
      "s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}}}",
      "kind", "Node", "apiVersion", "v1", "metadata", "name", in->name, "labels",
      "kubernetes.io/hostname", in->name, "kubernetes.io/os", "linux", "kubernetes.io/arch", arch,
      "spec", "status", "capacity", agent_node_resources_json (cap), "allocatable",
      agent_node_resources_json (alloc), "addresses", addrs, "daemonEndpoints", "kubeletEndpoint",
      "Port", in->kubelet_port > 0 ? in->kubelet_port : 10250, "nodeInfo", "machineID", machine_id,
      "systemUUID", *uuid ? uuid : machine_id, "bootID", boot_id, "kernelVersion", u.release,
      "osImage", image, "containerRuntimeVersion", rt, "kubeletVersion", kv, "kubeProxyVersion", kv,
      "operatingSystem", "linux", "architecture", arch);
  if (in->pod_cidr)
    {
      json_t *spec = json_object_get (node, "spec");
      json_object_set_new (spec, "podCIDR", json_string (in->pod_cidr));
      json_object_set_new (spec, "podCIDRs", json_pack ("[s]", in->pod_cidr));
    }
  return node;
}

json_t *
agent_node_lease (const char *node, const char *node_uid, int64_t now_us)
{
  struct tm tm;
  time_t t = now_us / 1000000;
  char date[32];
  gmtime_r (&t, &tm);
  strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  _cleanup_free_ char *renew = xasprintf ("%s.%06lldZ", date, (long long)(now_us % 1000000));
  json_t *lease = json_pack ("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s}}", "kind", "Lease",
                             "apiVersion", "coordination.k8s.io/v1", "metadata", "name", node,
                             "namespace", "kube-node-lease", "spec", "holderIdentity", node,
                             "leaseDurationSeconds", 40, "renewTime", renew);
  if (node_uid)
    json_object_set_new (json_object_get (lease, "metadata"), "ownerReferences",
                         json_pack ("[{s:s, s:s, s:s, s:s}]", "apiVersion", "v1", "kind", "Node",
                                    "name", node, "uid", node_uid));
  return lease;
}
