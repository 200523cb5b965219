/* husk node: eviction under pressure, as kubelet's eviction manager with hard thresholds.
   Every EVICT_PERIOD_MS the agent measures memory.available (MemAvailable) and
   nodefs.available / nodefs.inodesFree (statvfs of the data dir) against --eviction-hard;
   the MemoryPressure / DiskPressure conditions follow, and so do the Node's taints
   node.kubernetes.io/memory-pressure and disk-pressure (NoSchedule). Under pressure one pod
   per period is evicted, ranked as kubelet does (agent_eviction_rank: pods using more than
   they request first, so BestEffort ones; then lower priority; then usage above requests,
   which leaves Guaranteed pods last). Static pods are critical and never evicted. An
   evicted pod's containers are killed at once and its sandbox torn down; the pod stays,
   phase Failed, reason Evicted, with kubelet's message. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "lib/log.h"
#include "lib/path.h"
#include "lib/quantity.h"
#include "src/node/agent/node.h"
#include "src/node/pod/extras.h"

#define EVICT_PERIOD_MS 10000
#define EVICT_DEFAULT "memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%"

int
evict_setup (node_agent *a, node_extras *x, husk_error **err)
{
  const char *text = a->cfg->eviction_hard ? a->cfg->eviction_hard : EVICT_DEFAULT;
  x->next_evict_ms = 0;
  return evict_parse (text, x->th, ARRAY_SIZE (x->th), &x->nth, err);
}

void
evict_free (node_extras *x)
{
  for (size_t i = 0; i < x->nth; i++)
    free (x->th[i].text);
  x->nth = 0;
}

/* ---- measuring ------------------------------------------------------------------------ */

typedef struct crossed
{
  const evict_threshold *t;
  int64_t threshold, available; /* bytes or inodes */
} crossed;

static bool
check (const evict_threshold *t, const agent_node_signals *s, crossed *out)
{
  int64_t avail, cap;
  switch (t->signal)
    {
    case EVICT_MEMORY_AVAILABLE: avail = s->memory_available, cap = 0; break;
    case EVICT_NODEFS_AVAILABLE: avail = s->nodefs_available, cap = s->nodefs_size; break;
    default: avail = s->nodefs_inodes_free, cap = s->nodefs_inodes; break;
    }
  if (t->pct && t->signal == EVICT_MEMORY_AVAILABLE)
    {
      int64_t total = 0;
      _cleanup_free_ char *mi = NULL;
      if (husk_read_file ("/proc/meminfo", &mi, NULL, NULL) == 0 && strstr (mi, "MemTotal:"))
        total = strtoll (strstr (mi, "MemTotal:") + 9, NULL, 10) * 1024;
      cap = total;
    }
  int64_t th = t->pct ? (int64_t) ((double) cap * (double) t->value / 10000.0) : t->value;
  if (avail < 0 || avail >= th)
    return false;
  *out = (crossed) {t, th, avail};
  return true;
}

static int64_t
read_int_file (const char *path)
{
  _cleanup_free_ char *text = NULL;
  if (husk_read_file (path, &text, NULL, NULL) < 0 || text == NULL)
    return -1;
  return strtoll (text, NULL, 10);
}

/* Resident memory of the processes in cgroup dir and its children (without a memory
   controller there is no memory.current). */
static int64_t
rss_of_cgroup (const char *dir)
{
  int64_t sum = 0;
  _cleanup_free_ char *procs = xasprintf ("%s/cgroup.procs", dir);
  _cleanup_free_ char *text = NULL;
  if (husk_read_file (procs, &text, NULL, NULL) == 0 && text)
    for (char *line = text, *nl; *line; line = nl + 1)
      {
        nl = strchrnul (line, '\n');
        long pid = strtol (line, NULL, 10);
        if (pid > 0)
          {
            _cleanup_free_ char *sp = xasprintf ("/proc/%ld/status", pid);
            _cleanup_free_ char *st = NULL;
            const char *rss;
            if (husk_read_file (sp, &st, NULL, NULL) == 0 && st && (rss = strstr (st, "VmRSS:")))
              sum += strtoll (rss + 6, NULL, 10) * 1024;
          }
        if (*nl == '\0')
          break;
      }
  DIR *d = opendir (dir);
  struct dirent *de;
  while (d && (de = readdir (d)))
    if (de->d_type == DT_DIR && de->d_name[0] != '.')
      {
        _cleanup_free_ char *sub = xasprintf ("%s/%s", dir, de->d_name);
        sum += rss_of_cgroup (sub);
      }
  if (d)
    closedir (d);
  return sum;
}

static int64_t
pod_memory (node_agent *a, node_pod *p)
{
  _cleanup_free_ char *cg = xasprintf ("%s/pod-%s", a->cgroup_root, p->uid);
  _cleanup_free_ char *cur = xasprintf ("%s/memory.current", cg);
  int64_t v = read_int_file (cur);
  return v >= 0 ? v : rss_of_cgroup (cg);
}

/* Bytes of the files under path on its own filesystem (mounts inside are not counted). */
static int64_t
du (const char *path, dev_t dev)
{
  struct stat st;
  if (lstat (path, &st) < 0 || (dev && st.st_dev != dev))
    return 0;
  if (!S_ISDIR (st.st_mode))
    return (int64_t) st.st_blocks * 512;
  int64_t sum = (int64_t) st.st_blocks * 512;
  DIR *d = opendir (path);
  struct dirent *de;
  while (d && (de = readdir (d)))
    if (!streq (de->d_name, ".") && !streq (de->d_name, ".."))
      {
        _cleanup_free_ char *sub = xasprintf ("%s/%s", path, de->d_name);
        sum += du (sub, st.st_dev);
      }
  if (d)
    closedir (d);
  return sum;
}

static int64_t
pod_disk (node_agent *a, node_pod *p)
{
  _cleanup_free_ char *logs = xasprintf ("%s/%s_%s_%s", a->log_dir, p->ns, p->name, p->uid);
  return (p->dir ? du (p->dir, 0) : 0) + du (logs, 0);
}

static int64_t
pod_requests (node_pod *p, const char *resource)
{
  int64_t sum = 0;
  size_t i;
  json_t *c;
  json_array_foreach (husk_json_path (p->obj, "spec.containers"), i, c)
  {
    int64_t v = 0;
    json_t *q = json_object_get (husk_json_path (c, "resources.requests"), resource);
    if (q && husk_quantity_json (q, 1, NULL, &v, NULL) == 0)
      sum += v;
  }
  return sum;
}

/* ---- evicting ---------------------------------------------------------------------------- */

static bool
evictable (node_pod *p)
{
  return !p->static_pod && !p->api_gone && !p->evict_message && p->sandbox_ready
         && husk_json_path (p->obj, "metadata.deletionTimestamp") == NULL
         && !(p->phase && (streq (p->phase, "Succeeded") || streq (p->phase, "Failed")));
}

static char *
format_ki (int64_t v, bool inodes)
{
  return inodes ? xasprintf ("%lld", (long long) v) : xasprintf ("%lldKi", (long long) (v / 1024));
}

static void
evict_one (node_agent *a, const crossed *cr)
{
  bool mem = cr->t->signal == EVICT_MEMORY_AVAILABLE;
  bool inodes = cr->t->signal == EVICT_NODEFS_INODES_FREE;
  const char *resource = mem ? "memory" : inodes ? "inodes" : "ephemeral-storage";
  size_t n = 0;
  for (node_pod *p = a->pods; p; p = p->next)
    n += evictable (p);
  if (n == 0)
    return;
  node_pod **pods = xcalloc (n, sizeof *pods);
  agent_evict_candidate *c = xcalloc (n, sizeof *c);
  size_t *idx = xcalloc (n, sizeof *idx), k = 0;
  for (node_pod *p = a->pods; p; p = p->next)
    if (evictable (p))
      {
        pods[k] = p;
        c[k].usage = mem ? pod_memory (a, p) : pod_disk (a, p);
        c[k].requests = inodes ? 0 : pod_requests (p, resource);
        c[k].priority = (int32_t) json_integer_value (husk_json_path (p->obj, "spec.priority"));
        k++;
      }
  agent_eviction_rank (c, n, idx);
  node_pod *victim = pods[idx[0]];
  _cleanup_free_ char *th = format_ki (cr->threshold, inodes);
  _cleanup_free_ char *av = format_ki (cr->available, inodes);
  _cleanup_free_ char *use = format_ki (c[idx[0]].usage, inodes);
  _cleanup_free_ char *req = format_ki (c[idx[0]].requests, inodes);
  const char *first = victim->nctrs > victim->ninit ? victim->ctrs[victim->ninit].name : "";
  /* kubelet's evictionMessageFmt and containerMessageFmt (pod usage told against the first
     container: the agent measures pods, not containers). */
  victim->evict_message = xasprintf (
      "The node was low on resource: %s. Threshold quantity: %s, available: %s. Container %s "
      "was using %s, request is %s, has larger consumption of %s. ",
      resource, th, av, first, use, c[idx[0]].requests ? req : "0", resource);
  log_warn ("evicting pod", "pod", victim->name, "ns", victim->ns, "resource", resource,
            "available", av, "threshold", th);
  pod_event (a, victim, NULL, "Warning", "Evicted", "%s", victim->evict_message);
  free (pods), free (c), free (idx);
}

void
pod_evict_sync (node_agent *a, node_pod *p, int64_t now_ms)
{
  (void) now_ms;
  bool running = false;
  for (size_t i = 0; i < p->nctrs; i++)
    if (p->ctrs[i].pid > 0)
      {
        running = true;
        if (!p->sigkill_sent)
          {
            pod_event (a, p, &p->ctrs[i], "Normal", "Killing", "Stopping container %s",
                       p->ctrs[i].name);
            pod_ctr_signal (a, p, &p->ctrs[i], SIGKILL);
          }
      }
  p->sigkill_sent |= running;
  if (!running && !p->torn_down)
    {
      for (size_t i = 0; i < p->nctrs; i++)
        if (p->ctrs[i].created)
          pod_ctr_remove (a, p, &p->ctrs[i]);
      _cleanup_error_ husk_error *err = NULL;
      if (pod_sandbox_teardown (a, p, &err) < 0)
        log_warn ("evicted pod's teardown incomplete, retrying", "pod", p->name, "error", err->msg);
      else
        p->torn_down = true;
    }
  _cleanup_error_ husk_error *err = NULL;
  if (pod_status_report (a, p, &err) < 0)
    log_warn ("pod status update failed", "pod", p->name, "ns", p->ns, "error", err->msg);
}

/* ---- the Node's taints -------------------------------------------------------------------- */

static const char *const taint_keys[] = {"node.kubernetes.io/memory-pressure",
                                         "node.kubernetes.io/disk-pressure"};

static int
apply_taints (node_agent *a, int want, husk_error **err)
{
  _cleanup_free_ char *path = xasprintf ("/api/v1/nodes/%s", a->name);
  _cleanup_json_ json_t *node = NULL;
  int r = kclient_json (a->kc, "GET", path, NULL, NULL, &node, NULL, err);
  if (r < 0)
    return r;
  json_t *spec = json_object_get (node, "spec");
  if (!json_is_object (spec))
    json_object_set_new (node, "spec", spec = json_object ());
  json_t *old = json_object_get (spec, "taints"), *taints = json_array ();
  size_t i;
  json_t *t;
  int have = 0;
  json_array_foreach (old, i, t)
  {
    const char *key = json_string_value (json_object_get (t, "key")) ?: "";
    int bit = streq (key, taint_keys[0]) ? 1 : streq (key, taint_keys[1]) ? 2 : 0;
    have |= bit;
    if (bit == 0 || (want & bit))
      json_array_append (taints, t);
  }
  for (int b = 0; b < 2; b++)
    if ((want & (1 << b)) && !(have & (1 << b)))
      json_array_append_new (taints, json_pack ("{s:s, s:s}", "key", taint_keys[b], "effect",
                                                "NoSchedule"));
  if (have == want)
    {
      json_decref (taints);
      return 0;
    }
  json_object_set_new (spec, "taints", taints);
  return kclient_json (a->kc, "PUT", path, NULL, node, NULL, NULL, err);
}

void
node_evict_pressure (node_agent *a, bool *memory, bool *disk)
{
  node_extras *x = a->extras;
  if (x == NULL || !x->measured)
    return;
  *memory = x->mem_pressure;
  *disk = x->disk_pressure;
}

void
evict_tick (node_agent *a, node_extras *x, int64_t now_ms)
{
  if (now_ms < x->next_evict_ms || a->node_uid == NULL)
    return;
  x->next_evict_ms = now_ms + EVICT_PERIOD_MS;
  agent_node_signals s;
  _cleanup_error_ husk_error *err = NULL;
  if (agent_node_measure ("/proc", a->data_dir, &s, &err) < 0)
    {
      log_warn ("eviction signals not measured", "error", err->msg);
      return;
    }
  crossed mem = {0}, disk = {0}, cr;
  for (size_t i = 0; i < x->nth; i++)
    if (check (&x->th[i], &s, &cr))
      {
        crossed *slot = x->th[i].signal == EVICT_MEMORY_AVAILABLE ? &mem : &disk;
        if (slot->t == NULL)
          *slot = cr;
      }
  bool changed = !x->measured || x->mem_pressure != (mem.t != NULL)
                 || x->disk_pressure != (disk.t != NULL);
  x->measured = true;
  x->mem_pressure = mem.t != NULL;
  x->disk_pressure = disk.t != NULL;
  int want = (x->mem_pressure ? 1 : 0) | (x->disk_pressure ? 2 : 0);
  if (changed)
    {
      log_info ("node pressure", "memory", x->mem_pressure ? "true" : "false", "disk",
                x->disk_pressure ? "true" : "false");
      node_status_update (a, true, NULL);
    }
  if (want != x->taints_applied)
    {
      if (apply_taints (a, want, &err) == 0)
        x->taints_applied = want;
      else
        log_warn ("node pressure taints not updated", "error", err->msg);
    }
  /* One pod per period, memory first (kubelet picks the signal with the most pressure). */
  if (mem.t)
    evict_one (a, &mem);
  else if (disk.t)
    evict_one (a, &disk);
}
