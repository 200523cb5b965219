/* husk node: the agent daemon. One main thread owns every pod and container (it creates
   them, reaps them, reports them); one thread keeps the pod watch open and hands events
   over through a queue and an eventfd. Slow steps run beside it: sandbox and container
   creations as forked jobs whose pipes wake the loop (pod/job.c), status PATCHes and Events
   on two sender threads (pod/apiq.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/json.h"
#include "lib/log.h"
#include "lib/path.h"
#include "runtime/runtime.h"
#include "src/node/agent/events.h"
#include "src/node/net/net.h"
#include "src/node/node-internal.h"
#include "src/node/nodeapi/nodeapi.h"

static int g_wake_fd = -1;
static atomic_int *g_stop;

static void
wake (int fd)
{
  uint64_t one = 1;
  ssize_t n = write (fd, &one, sizeof one);
  (void) n;
}

static void
on_signal (int sig)
{
  int e = errno;
  if ((sig == SIGTERM || sig == SIGINT) && g_stop)
    atomic_store (g_stop, 1);
  if (g_wake_fd >= 0)
    wake (g_wake_fd);
  errno = e;
}

int64_t
node_mono_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
node_step_done (const char *step, const char *pod, int64_t *t0_us)
{
  int64_t now = node_mono_us ();
  if (husk_log_get_level () <= HUSK_LOG_DEBUG)
    {
      char us[32];
      snprintf (us, sizeof us, "%lld", (long long) (now - *t0_us));
      log_debug ("step", "step", step, "pod", pod, "us", us);
    }
  *t0_us = now;
}

/* ---- locating helpers and the host --------------------------------------------------- */

/* name next to the running executable, else on PATH; NULL when nowhere. */
static char *
find_helper (const char *name)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n > 0)
    {
      self[n] = '\0';
      char *slash = strrchr (self, '/');
      if (slash)
        {
          *slash = '\0';
          char *p = xasprintf ("%s/%s", self, name);
          if (access (p, X_OK) == 0)
            return p;
          free (p);
        }
    }
  const char *path = getenv ("PATH");
  _cleanup_free_ char *copy = xstrdup (path ? path : "/usr/local/bin:/usr/bin:/bin");
  char *save = NULL;
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      char *p = xasprintf ("%s/%s", d, name);
      if (access (p, X_OK) == 0)
        return p;
      free (p);
    }
  return NULL;
}

static char *
first_ipv4 (void)
{
  struct ifaddrs *ifs = NULL, *i;
  char *found = NULL;
  if (getifaddrs (&ifs) < 0)
    return NULL;
  for (i = ifs; i && !found; i = i->ifa_next)
    {
      if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
        continue;
      if (strcmp (i->ifa_name, "lo") == 0 || strncmp (i->ifa_name, "husk", 4) == 0
          || strncmp (i->ifa_name, "veth", 4) == 0)
        continue;
      char buf[INET_ADDRSTRLEN];
      inet_ntop (AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, buf, sizeof buf);
      found = xstrdup (buf);
    }
  freeifaddrs (ifs);
  return found ? found : xstrdup ("127.0.0.1");
}

/* The pod cgroup parent, and whether limits can be enforced there. */
static int
setup_cgroups (node_agent *a, husk_error **err)
{
  const char *mnt = NULL;
  int r = rt_cgroup_mountpoint (&mnt, err);
  if (r < 0)
    return husk_err_wrap (err, "the node agent needs cgroup v2");
  a->cgroup_rel = xstrdup ("husk");
  a->cgroup_root = xasprintf ("%s/husk", mnt);
  if (mkdir (a->cgroup_root, 0755) < 0 && errno != EEXIST)
    return husk_err_errno (err, "create cgroup %s", a->cgroup_root);
  _cleanup_free_ char *ctl = NULL;
  _cleanup_free_ char *f = xasprintf ("%s/cgroup.controllers", mnt);
  husk_read_file (f, &ctl, NULL, NULL);
  a->limits_enforced = ctl && strstr (ctl, "memory") && strstr (ctl, "pids");
  if (!a->limits_enforced)
    log_warn ("cgroup v2 has no memory/pids controllers here: pod resource limits are NOT "
              "enforced (pods are still tracked and killed through their cgroups)",
              "cgroup", mnt);
  else
    {
      /* Delegate the controllers down to the pod cgroups. */
      _cleanup_free_ char *sub = xasprintf ("%s/cgroup.subtree_control", mnt);
      _cleanup_free_ char *sub2 = xasprintf ("%s/cgroup.subtree_control", a->cgroup_root);
      const char *want = "+cpu +memory +pids";
      for (int i = 0; i < 2; i++)
        {
          int fd = open (i ? sub2 : sub, O_WRONLY | O_CLOEXEC);
          if (fd >= 0)
            {
              if (write (fd, want, strlen (want)) < 0)
                log_warn ("cannot enable cgroup controllers", "file", i ? sub2 : sub,
                          "error", strerror (errno));
              close (fd);
            }
        }
    }
  return 0;
}

static int
copy_file (const char *from, const char *to, mode_t mode, husk_error **err)
{
  _cleanup_free_ char *data = NULL;
  size_t len = 0;
  int r = husk_read_file (from, &data, &len, err);
  if (r < 0)
    return r;
  return husk_write_file_atomic (to, data, len, mode, err);
}

/* A tiny root filesystem holding only husk-pause, shared by every sandbox. */
static int
setup_pause_rootfs (node_agent *a, husk_error **err)
{
  a->pause_rootfs = xasprintf ("%s/pause-rootfs", a->data_dir);
  static const char *const dirs[] = {"proc", "dev", "sys", "etc", "tmp"};
  int r;
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    {
      _cleanup_free_ char *d = xasprintf ("%s/%s", a->pause_rootfs, dirs[i]);
      if ((r = husk_mkdir_p (d, 0755, err)) < 0)
        return r;
    }
  _cleanup_free_ char *dst = xasprintf ("%s/pause", a->pause_rootfs);
  return copy_file (a->pause_bin, dst, 0755, err);
}

static void
default_cni_conf (node_agent *a, husk_error **err)
{
  _cleanup_free_ char *dir = xasprintf ("%s/cni", a->data_dir);
  husk_mkdir_p (dir, 0700, NULL);
  json_t *conf = json_pack (
      "{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:[s,s], s:b, s:{s:s, s:s, s:[[{s:s}]], s:[{s:s}]}}",
      "cniVersion", "1.0.0", "name", "husk", "type", "husk-cni", "bridge", "husk0", "isGateway",
      1, "isDefaultGateway", 1, "ipMasq", 1, "ipMasqExclude", "10.42.0.0/16", "10.43.0.0/16",
      "hairpinMode", 1, "ipam", "type", "host-local",
      "dataDir", dir, "ranges", "subnet", a->pod_cidr, "routes", "dst", "0.0.0.0/0");
  /* hostPort: the agent passes runtimeConfig.portMappings (pod/sandbox.c). */
  json_object_set_new (conf, "capabilities", json_pack ("{s:b}", "portMappings", 1));
  if (a->cfg->overlay && streq (a->cfg->overlay, "vxlan")) /* 50 bytes of VXLAN header */
    json_object_set_new (conf, "mtu", json_integer (1450));
  int gso = node_net_pod_gso (a->node_ip, a->cfg->overlay); /* BIG TCP when the uplink has it */
  if (gso > 0)
    json_object_set_new (conf, "gsoMaxSize", json_integer (gso));
  _cleanup_free_ char *text = husk_json_dump (conf);
  json_decref (conf);
  free (a->cni_conf);
  a->cni_conf = xasprintf ("%s/husk.conf", dir);
  husk_write_file_atomic (a->cni_conf, text, strlen (text), 0600, err);
}

/* ---- the watch thread ---------------------------------------------------------------- */

static void
push_event (node_agent *a, const char *type, json_t *obj)
{
  node_event *e = xzalloc (sizeof *e);
  e->type = xstrdup (type);
  e->obj = json_incref (obj);
  pthread_mutex_lock (&a->ev_lock);
  if (a->ev_tail)
    a->ev_tail->next = e;
  else
    a->ev_head = e;
  a->ev_tail = e;
  pthread_mutex_unlock (&a->ev_lock);
  wake (a->wake_fd);
}

static int
watch_on_list (void *ud, json_t *items, const char *rv)
{
  (void) rv;
  push_event (ud, "LIST", items);
  return 0;
}

static int
watch_on_event (void *ud, const char *type, json_t *obj)
{
  push_event (ud, type, obj);
  return 0;
}

static void
watch_on_state (void *ud, bool connected, const char *error)
{
  (void) ud;
  if (connected)
    log_info ("watching pods");
  else
    log_warn ("pod watch failing, retrying with backoff", "error", error);
}

static void *
watch_main (void *ud)
{
  node_agent *a = ud;
  sigset_t all;
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, NULL);
  _cleanup_free_ char *sel = xasprintf ("spec.nodeName=%s", a->name);
  _cleanup_free_ char *esc = kclient_escape (sel);
  _cleanup_free_ char *q = xasprintf ("fieldSelector=%s", esc);
  kclient_watch_opts o = {.query = q};
  kclient_watch_ops ops = {watch_on_list, watch_on_event, watch_on_state, a};
  _cleanup_error_ husk_error *err = NULL;
  if (kclient_watch (a->kc, "/api/v1/pods", &o, &ops, &a->watch_stop, &err) < 0)
    log_error ("pod watch ended", "error", err ? err->msg : "");
  return NULL;
}

static void
drain_events (node_agent *a)
{
  pthread_mutex_lock (&a->ev_lock);
  node_event *e = a->ev_head;
  a->ev_head = a->ev_tail = NULL;
  pthread_mutex_unlock (&a->ev_lock);
  while (e)
    {
      node_event *next = e->next;
      if (streq (e->type, "LIST"))
        pod_apply_list (a, e->obj);
      else
        pod_apply_event (a, e->type, e->obj);
      json_decref (e->obj);
      free (e->type);
      free (e);
      e = next;
    }
}

/* ---- setup and the loop ---------------------------------------------------------------- */

static int
client_from_config (node_agent *a, husk_error **err)
{
  const node_config *c = a->cfg;
  kclient_config kc = {0};
  kc.server = c->server ? xstrdup (c->server) : NULL;
  kc.token = c->token ? xstrdup (c->token) : NULL;
  kc.ca_file = c->ca_file ? xstrdup (c->ca_file) : NULL;
  kc.insecure = c->insecure;
  int r = 0;
  if (c->kubeconfig)
    r = kclient_config_from_kubeconfig (c->kubeconfig, &kc, err);
  if (r == 0 && kc.ca_file == NULL && kc.ca_pem == NULL && !kc.insecure)
    {
      /* No CA given: trust on first use is not offered; the master's CA may sit in our
         data dir (husk up) or the connection is verified against the system store. */
      _cleanup_free_ char *ca = xasprintf ("%s/ca.crt", a->data_dir);
      if (access (ca, R_OK) == 0)
        kc.ca_file = TAKE_PTR (ca);
      else
        kc.insecure = true;
    }
  if (r == 0)
    r = kclient_new (&kc, &a->kc, err);
  if (r == 0)
    r = node_apiq_new (&kc, &a->apiq, err);
  kclient_config_clear (&kc);
  return r;
}

/* Appliance images baked into the host (<data-dir>/images.d, docs/images.md); a bad
   archive is reported and the node starts anyway. */
static void
preload_images (node_agent *a)
{
  _cleanup_free_ char *dir = xasprintf ("%s/images.d", a->data_dir);
  _cleanup_error_ husk_error *e = NULL;
  if (image_preload (a->images, dir, NULL, NULL, &e) < 0)
    log_warn ("preloading images failed", "dir", dir, "error", e->msg);
}

static int
agent_setup (node_agent *a, husk_error **err)
{
  const node_config *c = a->cfg;
  int r;
  char host[256] = "";
  gethostname (host, sizeof host - 1);
  a->hostname = xstrdup (host);
  a->name = xstrdup (c->name ? c->name : host);
  a->data_dir = xstrdup (c->data_dir ? c->data_dir : "/var/lib/husk");
  a->pods_dir = xasprintf ("%s/pods", a->data_dir);
  a->rt_root = xasprintf ("%s/runtime", a->data_dir);
  a->log_dir = xstrdup (c->log_dir ? c->log_dir : "/var/log/pods");
  a->node_ip = c->node_ip ? xstrdup (c->node_ip) : first_ipv4 ();
  if ((r = husk_mkdir_p (a->pods_dir, 0700, err)) < 0 || (r = husk_mkdir_p (a->rt_root, 0700, err)) < 0
      || (r = husk_mkdir_p (a->log_dir, 0755, err)) < 0)
    return r;
  a->pause_bin = c->pause ? xstrdup (c->pause) : find_helper ("husk-pause");
  if (a->pause_bin == NULL)
    return husk_err (err, ENOENT, "husk-pause not found next to husk or on PATH");
  if (c->reserved && (r = agent_node_parse_reserved (c->reserved, &a->reserved, err)) < 0)
    return r;
  a->shim_bin = find_helper ("husk-shim");
  if (a->shim_bin == NULL)
    return husk_err (err, ENOENT, "husk-shim not found next to husk or on PATH");
  if (c->cni_conf == NULL)
    {
      a->cni_bin = find_helper ("husk-cni");
      if (a->cni_bin == NULL)
        return husk_err (err, ENOENT, "husk-cni not found next to husk or on PATH");
    }
  else
    a->cni_conf = xstrdup (c->cni_conf);
  if ((r = setup_pause_rootfs (a, err)) < 0 || (r = setup_cgroups (a, err)) < 0
      || (r = client_from_config (a, err)) < 0 || (r = image_store_open (a->data_dir, &a->images, err)) < 0
      || (r = agent_log_pump_new (&a->pump, err)) < 0)
    return r;
  preload_images (a);
  if ((r = node_extras_setup (a, err)) < 0)
    return r;
  a->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (a->wake_fd < 0)
    return husk_err_errno (err, "eventfd");
  a->ep = epoll_create1 (EPOLL_CLOEXEC);
  if (a->ep < 0)
    return husk_err_errno (err, "epoll_create1");
  pthread_mutex_init (&a->ev_lock, NULL);
  return 0;
}

static void
reap_children (node_agent *a)
{
  int st;
  pid_t pid;
  while ((pid = waitpid (-1, &st, WNOHANG | __WALL)) > 0)
    pod_child_exited (a, pid, st);
}

static void
on_timers (node_agent *a, bool registered, int64_t now)
{
  _cleanup_error_ husk_error *err = NULL;
  if (registered && now >= a->next_lease_ms)
    {
      if (node_lease_renew (a, &err) < 0)
        {
          log_warn ("lease renewal failed", "error", err->msg);
          husk_error_free (err);
          err = NULL;
        }
      a->next_lease_ms = now + NODE_LEASE_RENEW_MS;
    }
  if (registered && now >= a->next_status_ms)
    {
      if (node_status_update (a, false, &err) < 0)
        log_warn ("node status update failed", "error", err->msg);
      a->next_status_ms = now + NODE_LEASE_RENEW_MS;
    }
  node_extras_tick (a, now);
}

/* The CNI plugin path: next to husk-cni, then the usual directories. */
static void
cni_path_setup (node_agent *a)
{
  if (a->cni_path)
    return;
  _cleanup_free_ char *cnidir = a->cni_bin ? xstrdup (a->cni_bin) : NULL;
  if (cnidir && strrchr (cnidir, '/'))
    *strrchr (cnidir, '/') = '\0';
  a->cni_path = xasprintf ("%s:/usr/lib/cni:/opt/cni/bin", cnidir ? cnidir : "/usr/lib/cni");
}

/* Static pods run before the Node is registered (the master may be unreachable at boot, as
   with kubelet's standalone mode): on the default network of the podCIDR the master gave
   last time (its CNI configuration is kept in the data dir), else --pod-cidr or
   10.42.0.0/24. Registration rewrites the configuration with the Node's podCIDR. */
static void
cni_setup_unregistered (node_agent *a)
{
  _cleanup_free_ char *last = xasprintf ("%s/cni/husk.conf", a->data_dir);
  if (a->cfg->cni_conf == NULL && access (last, R_OK) == 0)
    a->cni_conf = TAKE_PTR (last);
  else if (a->cfg->cni_conf == NULL)
    {
      a->pod_cidr = xstrdup (a->cfg->pod_cidr ? a->cfg->pod_cidr : "10.42.0.0/24");
      default_cni_conf (a, NULL);
    }
  cni_path_setup (a);
}

typedef struct registration
{
  bool done;
  long backoff_ms;
  int64_t next_ms;
  node_net *net;
} registration;

/* The Node is registered: the pod network of its podCIDR, the pod watch, the routes and
   the service proxy. */
static void
on_registered (node_agent *a, registration *reg)
{
  if (a->cfg->cni_conf == NULL)
    default_cni_conf (a, NULL);
  cni_path_setup (a);
  log_info ("node registered", "node", a->name, "podCIDR", a->pod_cidr, "ip", a->node_ip,
            "limits", a->limits_enforced ? "enforced" : "not enforced");
  malloc_trim (0); /* what setup freed goes back to the system */
  if (pthread_create (&a->watch_thread, NULL, watch_main, a) == 0)
    a->watch_started = true;
  reg->net = node_net_start (
      &(node_net_config) {a->kc, a->name, a->node_ip, a->pod_cidr, a->cfg->overlay});
}

/* Registers the Node when its back-off allows (200 ms doubling to 10 s between tries); the
   loop runs meanwhile (static pods). */
static void
try_register (node_agent *a, registration *reg)
{
  if (reg->done || node_now_ms () < reg->next_ms)
    return;
  _cleanup_error_ husk_error *e = NULL;
  if (node_register (a, &e) == 0)
    {
      reg->done = true;
      on_registered (a, reg);
      return;
    }
  log_warn ("node registration failed, retrying", "error", e->msg);
  reg->next_ms = node_now_ms () + reg->backoff_ms;
  reg->backoff_ms = reg->backoff_ms * 2 > 10000 ? 10000 : reg->backoff_ms * 2;
}

static int
main_loop (node_agent *a, registration *reg)
{
  int ep = a->ep;
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = NODE_EP_WAKE};
  epoll_ctl (ep, EPOLL_CTL_ADD, a->wake_fd, &ev);
  ev.data.u32 = NODE_EP_PUMP;
  epoll_ctl (ep, EPOLL_CTL_ADD, agent_log_pump_fd (a->pump), &ev);
  int64_t last_sync = 0;
  while (!atomic_load (a->stop))
    {
      try_register (a, reg);
      int64_t until = reg->done ? 1000 : reg->next_ms - node_now_ms ();
      struct epoll_event got[16];
      int n = epoll_wait (ep, got, 16, until < 0 ? 0 : until > 1000 ? 1000 : (int) until);
      /* Log output alone does not make a pass over the pods: events, child exits, finished
         jobs and the once-a-second timer do. */
      bool woken = n <= 0;
      for (int i = 0; i < n; i++)
        if (got[i].data.u32 == NODE_EP_WAKE)
          {
            uint64_t v;
            while (read (a->wake_fd, &v, sizeof v) > 0)
              ;
            woken = true;
          }
        else if (got[i].data.u32 == NODE_EP_JOB)
          woken = true;
      _cleanup_error_ husk_error *err = NULL;
      if (agent_log_pump_count (a->pump) > 0 && agent_log_pump_run (a->pump, 0, &err) < 0)
        log_warn ("log pump", "error", err->msg);
      int64_t now = node_now_ms ();
      if (!woken && now - last_sync < 1000)
        continue;
      last_sync = now;
      int64_t t0 = node_mono_us ();
      reap_children (a);
      drain_events (a);
      pod_sync_all (a);
      reap_children (a);
      node_step_done ("pass", "-", &t0);
      on_timers (a, reg->done, node_now_ms ());
    }
  return 0;
}

static void
agent_free (node_agent *a)
{
  node_apiq_free (TAKE_PTR (a->apiq)); /* before the pods: no status is queued after this */
  pod_table_free (a);
  drain_events (a);
  node_extras_free (a);
  if (a->pump)
    agent_log_pump_free (a->pump);
  if (a->events)
    agent_event_cache_free (a->events);
  if (a->images)
    image_store_free (a->images);
  kclient_free (a->kc);
  json_decref (a->allocatable);
  if (a->wake_fd >= 0)
    close (a->wake_fd);
  if (a->ep >= 0)
    close (a->ep);
  json_decref (a->image_configs);
  free (a->name), free (a->node_ip), free (a->pod_cidr), free (a->hostname), free (a->data_dir);
  free (a->pods_dir), free (a->rt_root), free (a->log_dir), free (a->pause_bin), free (a->shim_bin);
  free (a->pause_rootfs), free (a->cni_bin), free (a->cni_path), free (a->cni_conf);
  free (a->cgroup_root), free (a->cgroup_rel), free (a->node_uid), free (a->last_node_status);
  free (a->lease_rv);
}

int
node_run (const node_config *cfg, atomic_int *stop, bool handle_signals, husk_error **err)
{
  node_agent a = {.cfg = cfg, .wake_fd = -1, .ep = -1, .stop = stop, .log_fd = -1};
  /* One malloc arena: the watch thread's allocations are small and rare. */
  mallopt (M_ARENA_MAX, 1);
  int r = agent_setup (&a, err);
  if (r < 0)
    {
      agent_free (&a);
      return r;
    }
  /* Logs keep going to the daemon's stderr while fds 1 and 2 are lent to a container being
     created. */
  a.log_fd = fcntl (STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  FILE *logf = a.log_fd >= 0 ? fdopen (a.log_fd, "w") : NULL;
  if (logf)
    {
      setvbuf (logf, NULL, _IOLBF, 0);
      husk_log_set_stream (logf);
    }
  g_wake_fd = a.wake_fd;
  g_stop = stop;
  struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
  sigemptyset (&sa.sa_mask);
  sigaction (SIGCHLD, &sa, NULL);
  if (handle_signals)
    {
      sigaction (SIGTERM, &sa, NULL);
      sigaction (SIGINT, &sa, NULL);
    }
  signal (SIGPIPE, SIG_IGN);
  /* Sandboxes are started by jobs (forks that exit): their pause processes come back to us. */
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  nodeapi *napi = NULL;
  nodeapi_agent_start (&a, &napi);
  /* The Node is registered from the loop: its podCIDR decides the pod network, but static
     pods do not wait for it. */
  registration reg = {.backoff_ms = 200};
  if (cfg->pod_manifest_path && *cfg->pod_manifest_path)
    cni_setup_unregistered (&a);
  main_loop (&a, &reg);
  node_net_stop (reg.net);
  atomic_store (&a.watch_stop, 1);
  if (a.watch_started)
    pthread_join (a.watch_thread, NULL);
  if (logf)
    {
      husk_log_set_stream (stderr);
      fclose (logf);
    }
  g_wake_fd = -1;
  nodeapi_stop (napi);
  agent_free (&a);
  return 0;
}
