/* husk node: the pod sandbox. husk-pause holds the pod's net, ipc and uts namespaces in
   its own leaf of the pod cgroup (<root>/husk/pod-<uid>/pause); the network comes from a
   CNI ADD into its netns; resolv.conf, hosts and hostname files are shared by the pod's
   containers. Teardown runs the other way and is idempotent. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cni/chain.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/path.h"
#include "runtime/runtime.h"
#include "src/node/agent/podspec.h"
#include "src/node/agent/volume.h"
#include "src/node/node-internal.h"
#include "src/node/net/cnilist.h"

char *
pod_cgroup_rel (node_agent *a, const node_pod *p)
{
  return xasprintf ("%s/pod-%s", a->cgroup_rel, p->uid);
}

static char *
sandbox_id (const node_pod *p)
{
  return xasprintf ("pod-%s", p->uid);
}

int
pod_with_stdio (node_agent *a, int in, int out, int errfd, int (*fn) (void *ud, husk_error **err),
                void *ud, husk_error **err)
{
  (void) a;
  int saved[3], want[3] = {in, out, errfd};
  _cleanup_close_ int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0)
    return husk_err_errno (err, "open /dev/null");
  for (int i = 0; i < 3; i++)
    saved[i] = fcntl (i, F_DUPFD_CLOEXEC, 3);
  for (int i = 0; i < 3; i++)
    dup2 (want[i] >= 0 ? want[i] : null, i);
  int r = fn (ud, err);
  for (int i = 0; i < 3; i++)
    {
      if (saved[i] >= 0)
        {
          dup2 (saved[i], i);
          close (saved[i]);
        }
      else
        close (i);
    }
  return r;
}

/* ---- CNI ----------------------------------------------------------------------------- */

/* The plugin named by the configuration's "type", found on the CNI path. */
static char *
cni_plugin (node_agent *a, json_t *conf)
{
  const char *type = json_string_value (json_object_get (conf, "type"));
  if (type == NULL)
    return NULL;
  if (a->cni_bin && streq (type, "husk-cni"))
    return xstrdup (a->cni_bin);
  _cleanup_free_ char *copy = xstrdup (a->cni_path);
  char *save = NULL;
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      char *p = xasprintf ("%s/%s", d, type);
      if (access (p, X_OK) == 0)
        return p;
      free (p);
    }
  return NULL;
}

/* Starts plugin with env, its stdin and stdout on in and out, stderr on the agent's log.
   posix_spawn (clone with CLONE_VM|CLONE_VFORK in glibc), not fork: the caller is the
   agent or a job forked from it, whose address space a fork would copy (page tables,
   copy-on-write faults) only for exec to throw it away (a burst of 100 pods: the jobs' CPU
   went from 16 to 13 ms per pod). */
static int
plugin_spawn (node_agent *a, const char *plugin, char **env, int in, int out, pid_t *pid,
              husk_error **err)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init (&fa);
  posix_spawnattr_init (&at);
  posix_spawn_file_actions_adddup2 (&fa, in, 0);
  posix_spawn_file_actions_adddup2 (&fa, out, 1);
  if (a->log_fd >= 0)
    posix_spawn_file_actions_adddup2 (&fa, a->log_fd, 2);
  /* The plugin starts with no signal blocked or ignored, whatever the calling thread has. */
  sigset_t none, all;
  sigemptyset (&none);
  sigfillset (&all);
  posix_spawnattr_setsigmask (&at, &none);
  posix_spawnattr_setsigdefault (&at, &all);
  posix_spawnattr_setflags (&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int e = posix_spawn (pid, plugin, &fa, &at, (char *[]){(char *) plugin, NULL}, env);
  posix_spawn_file_actions_destroy (&fa);
  posix_spawnattr_destroy (&at);
  if (e != 0)
    return husk_err_sys (err, e, "run %s", plugin);
  return 0;
}

/* Runs plugin with env, text on its stdin; *out gets its stdout and *status its wait
   status. */
static int
plugin_exec (node_agent *a, const char *plugin, char **env, const char *text, husk_buf *out,
             int *status, husk_error **err)
{
  int inp[2], outp[2];
  if (pipe2 (inp, O_CLOEXEC) < 0)
    return husk_err_errno (err, "pipe");
  if (pipe2 (outp, O_CLOEXEC) < 0)
    {
      close (inp[0]), close (inp[1]);
      return husk_err_errno (err, "pipe");
    }
  pid_t pid = -1;
  int r = plugin_spawn (a, plugin, env, inp[0], outp[1], &pid, err);
  close (inp[0]), close (outp[1]);
  _cleanup_close_ int wfd = inp[1], rfd = outp[0];
  if (r < 0)
    return r;
  size_t len = strlen (text), off = 0;
  while (off < len)
    {
      ssize_t n = write (wfd, text + off, len - off);
      if (n <= 0)
        break;
      off += (size_t) n;
    }
  close (TAKE_FD (wfd));
  char buf[4096];
  ssize_t n;
  while ((n = read (rfd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      husk_buf_append (out, buf, (size_t) n);
  while (waitpid (pid, status, 0) < 0 && errno == EINTR)
    ;
  return 0;
}

/* runtimeConfig.portMappings: every containers[].ports[] entry with a hostPort (init
   containers' too, as kubelet does), protocol lower-cased as CNI's portmap expects. */
static json_t *
port_mappings (json_t *pod)
{
  json_t *pm = json_array ();
  static const char *const lists[] = {"spec.initContainers", "spec.containers"};
  for (size_t l = 0; l < ARRAY_SIZE (lists); l++)
    {
      size_t i, j;
      json_t *c, *port;
      json_array_foreach (husk_json_path (pod, lists[l]), i, c)
      json_array_foreach (json_object_get (c, "ports"), j, port)
      {
        json_int_t hp = json_integer_value (json_object_get (port, "hostPort"));
        json_int_t cp = json_integer_value (json_object_get (port, "containerPort"));
        if (hp <= 0 || cp <= 0)
          continue;
        const char *proto = json_string_value (json_object_get (port, "protocol"));
        _cleanup_free_ char *lower = xstrdup (proto && *proto ? proto : "TCP");
        for (char *q = lower; *q; q++)
          *q = (char) tolower ((unsigned char) *q);
        json_t *m = json_pack ("{s:I, s:I, s:s}", "hostPort", (json_int_t) hp, "containerPort",
                               (json_int_t) cp, "protocol", lower);
        const char *hip = json_string_value (json_object_get (port, "hostIP"));
        if (hip && *hip)
          json_object_set_new (m, "hostIP", json_string (hip));
        json_array_append_new (pm, m);
      }
    }
  return pm;
}

/* The runtime's part of the configuration, for the capabilities the plugin declares. */
static void
add_runtime_config (json_t *conf, json_t *pod)
{
  if (!json_is_true (husk_json_path (conf, "capabilities.portMappings")))
    return;
  json_t *pm = port_mappings (pod);
  if (json_array_size (pm) == 0)
    {
      json_decref (pm);
      return;
    }
  json_t *rc = json_object_get (conf, "runtimeConfig");
  if (!json_is_object (rc))
    json_object_set_new (conf, "runtimeConfig", rc = json_object ());
  json_object_set_new (rc, "portMappings", pm);
}

/* Runs the network plugin for command with the conf on stdin; *out gets its stdout JSON
   (ADD). A failure carries the plugin's CNI error message. */
static int
cni_run (node_agent *a, node_pod *p, const char *command, json_t **out, husk_error **err)
{
  _cleanup_json_ json_t *conf = NULL;
  int r = husk_json_load_file (a->cni_conf, &conf, err);
  if (r < 0)
    return r;
  if (cni_list_is_list (conf)) /* a chain (--cni-conf with "plugins"): src/node/net/cnilist.c */
    return node_net_cni_list (&(node_net_cni){a->cni_path, a->cni_bin, a->data_dir, a->log_fd, p->uid,
                                              p->ns, p->name, p->pause_pid},
                              conf, port_mappings (p->obj), command, out, err);
  _cleanup_free_ char *plugin = cni_plugin (a, conf);
  if (plugin == NULL)
    return husk_err (err, ENOENT, "CNI plugin of %s not found on %s", a->cni_conf, a->cni_path);
  _cleanup_free_ char *netns = NULL;
  if (p->pause_pid > 0 && kill (p->pause_pid, 0) == 0)
    netns = xasprintf ("/proc/%d/ns/net", (int) p->pause_pid);
  add_runtime_config (conf, p->obj);
  _cleanup_free_ char *text = husk_json_dump (conf);
  _cleanup_strv_ char **env = xcalloc (8, sizeof *env);
  env[0] = xasprintf ("CNI_COMMAND=%s", command);
  env[1] = xasprintf ("CNI_CONTAINERID=%s", p->uid);
  env[2] = xasprintf ("CNI_NETNS=%s", netns ? netns : "");
  env[3] = xstrdup ("CNI_IFNAME=eth0");
  env[4] = xasprintf ("CNI_PATH=%s", a->cni_path);
  env[5] = xasprintf ("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;K8S_POD_UID=%s",
                      p->ns, p->name, p->uid);
  env[6] = xstrdup ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  _cleanup_buf_ husk_buf res = HUSK_BUF_INIT;
  int st = 0;
  if ((r = plugin_exec (a, plugin, env, text, &res, &st, err)) < 0)
    return r;
  _cleanup_json_ json_t *j = res.len ? json_loadb (res.data, res.len, 0, NULL) : NULL;
  if (!WIFEXITED (st) || WEXITSTATUS (st) != 0)
    {
      const char *msg = json_string_value (json_object_get (j, "msg"));
      return husk_err (err, EIO, "CNI %s (%s): %s", command, plugin,
                       msg ? msg : (res.len ? res.data : "plugin failed"));
    }
  if (out)
    *out = TAKE_PTR (j);
  return 0;
}

/* ---- the pause container ------------------------------------------------------------ */

static json_t *
sandbox_spec (node_agent *a, node_pod *p, const char *hostname)
{
  json_t *spec = rt_spec_default (false);
  json_object_del (spec, "hostname"); /* set below only with a uts namespace of its own */
  json_object_set_new (spec, "root", json_pack ("{s:s, s:b}", "path", a->pause_rootfs, "readonly", 1));
  json_t *proc = json_object_get (spec, "process");
  json_object_set_new (proc, "terminal", json_false ());
  json_object_set_new (proc, "args", json_pack ("[s]", "/pause"));
  json_object_set_new (proc, "env", json_pack ("[s]", "PATH=/"));
  json_object_set_new (proc, "cwd", json_string ("/"));
  json_t *lin = json_object_get (spec, "linux");
  json_t *spec_pod = json_object_get (p->obj, "spec");
  bool host_pid = json_is_true (json_object_get (spec_pod, "hostPID"));
  bool host_ipc = json_is_true (json_object_get (spec_pod, "hostIPC"));
  json_t *ns = json_array ();
  json_array_append_new (ns, json_pack ("{s:s}", "type", "mount"));
  if (!host_pid)
    json_array_append_new (ns, json_pack ("{s:s}", "type", "pid"));
  if (!host_ipc)
    json_array_append_new (ns, json_pack ("{s:s}", "type", "ipc"));
  if (!p->host_network)
    {
      json_array_append_new (ns, json_pack ("{s:s}", "type", "network"));
      json_array_append_new (ns, json_pack ("{s:s}", "type", "uts"));
      json_object_set_new (spec, "hostname", json_string (hostname));
    }
  json_object_set_new (lin, "namespaces", ns);
  json_t *sysctl = pod_sysctl_json (p); /* admitted in pod/sync.c */
  if (sysctl)
    json_object_set_new (lin, "sysctl", sysctl);
  _cleanup_free_ char *cg = pod_cgroup_rel (a, p);
  _cleanup_free_ char *cgp = xasprintf ("%s/pause", cg);
  json_object_set_new (lin, "cgroupsPath", json_string (cgp));
  return spec;
}

typedef struct create_args
{
  node_agent *a;
  const char *id, *bundle;
} create_args;

static int
do_create (void *ud, husk_error **err)
{
  create_args *c = ud;
  rt_create_opts o = RT_CREATE_OPTS_INIT;
  o.skip_limits = !c->a->limits_enforced;
  return rt_container_create (c->a->rt_root, c->id, c->bundle, &o, err);
}

int
pod_write_file (const char *path, const char *text, mode_t mode, husk_error **err)
{
  return husk_write_file_replace (path, text, strlen (text), mode, err);
}

static int
write_pod_file (node_pod *p, const char *name, const char *text, husk_error **err)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", p->dir, name);
  return pod_write_file (path, text, 0644, err);
}

/* What the sandbox job writes before starting husk-pause: made on the main thread. */
typedef struct sandbox_files
{
  char *resolv, *hostname, *config;
} sandbox_files;

static void
sandbox_files_clear (sandbox_files *f)
{
  free (f->resolv), free (f->hostname), free (f->config);
}

/* In the sandbox job: the pod directory and cgroup, resolv.conf, hostname and the pause
   container's bundle. */
static int
sandbox_files_make (node_agent *a, node_pod *p, const sandbox_files *f, husk_error **err)
{
  int r = husk_mkdir_p (p->dir, 0755, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *cg = xasprintf ("%s/pod-%s", a->cgroup_root, p->uid);
  if (mkdir (cg, 0755) < 0 && errno != EEXIST)
    return husk_err_errno (err, "create cgroup %s", cg);
  if ((r = pod_cgroup_limits (a, p, cg, err)) < 0)
    return r;
  _cleanup_free_ char *bundle = xasprintf ("%s/sandbox", p->dir);
  _cleanup_free_ char *cfg = xasprintf ("%s/config.json", bundle);
  if ((r = write_pod_file (p, "resolv.conf", f->resolv, err)) < 0
      || (r = write_pod_file (p, "hostname", f->hostname, err)) < 0
      || (r = husk_mkdir_p (bundle, 0700, err)) < 0)
    return r;
  return pod_write_file (cfg, f->config, 0600, err);
}

/* In the sandbox job: husk-pause created and started. */
static int
start_pause (node_agent *a, node_pod *p, husk_error **err)
{
  _cleanup_free_ char *id = sandbox_id (p);
  _cleanup_free_ char *bundle = xasprintf ("%s/sandbox", p->dir);
  int r;
  /* A sandbox left by an earlier agent run is replaced; its network attachment (IP,
     host veth) is owed a DEL before the new ADD. */
  if (rt_container_delete (a->rt_root, id, true, NULL) == 0 && !p->host_network)
    p->net_added = true;
  create_args ca = {a, id, bundle};
  if ((r = pod_with_stdio (a, -1, -1, -1, do_create, &ca, err)) < 0
      || (r = rt_container_start (a->rt_root, id, err)) < 0)
    return husk_err_wrap (err, "sandbox");
  _cleanup_json_ json_t *st = NULL;
  if ((r = rt_container_state (a->rt_root, id, &st, err)) < 0)
    return r;
  p->pause_pid = (pid_t) json_integer_value (json_object_get (st, "pid"));
  return 0;
}

static int
network_add (node_agent *a, node_pod *p, husk_error **err)
{
  if (p->host_network)
    {
      free (p->pod_ip);
      p->pod_ip = xstrdup (a->node_ip);
      return 0;
    }
  if (p->net_added)
    {
      /* Without a netns: the old one went with the old pause process. */
      pid_t pause = p->pause_pid;
      p->pause_pid = 0;
      _cleanup_error_ husk_error *e = NULL;
      /* (No log here: this runs in the sandbox job, whose report carries the warning.) */
      if (cni_run (a, p, "DEL", NULL, &e) < 0)
        {
          free (p->sandbox_error);
          p->sandbox_error = xasprintf ("CNI DEL of the previous sandbox failed: %s", e->msg);
        }
      p->pause_pid = pause;
      p->net_added = false;
    }
  _cleanup_json_ json_t *res = NULL;
  int r = cni_run (a, p, "ADD", &res, err);
  if (r < 0)
    return r;
  p->net_added = true;
  const char *addr = husk_json_path_str (res, "ips.0.address");
  if (addr == NULL)
    return husk_err (err, EIO, "CNI ADD returned no address");
  free (p->pod_ip);
  p->pod_ip = xstrndup (addr, strcspn (addr, "/"));
  return 0;
}

/* <dir>/sandbox.json: what a restarted agent needs to keep the sandbox. */
static int
sandbox_save (node_pod *p, husk_error **err)
{
  _cleanup_json_ json_t *st = json_pack ("{s:s?, s:b, s:I}", "podIP", p->pod_ip, "hostNetwork",
                                         p->host_network, "startTime", (json_int_t) p->start_time);
  _cleanup_free_ char *text = husk_json_dump (st);
  return write_pod_file (p, "sandbox.json", text, err);
}

bool
pod_sandbox_adopt (node_agent *a, node_pod *p)
{
  free (p->dir);
  p->dir = xasprintf ("%s/%s", a->pods_dir, p->uid);
  _cleanup_free_ char *path = xasprintf ("%s/sandbox.json", p->dir);
  _cleanup_json_ json_t *saved = NULL;
  if (husk_json_load_file (path, &saved, NULL) < 0)
    return false;
  _cleanup_free_ char *id = sandbox_id (p);
  _cleanup_json_ json_t *st = NULL;
  if (rt_container_state (a->rt_root, id, &st, NULL) < 0)
    return false;
  const char *status = json_string_value (json_object_get (st, "status"));
  pid_t pid = (pid_t) json_integer_value (json_object_get (st, "pid"));
  const char *ip = json_string_value (json_object_get (saved, "podIP"));
  if (status == NULL || !streq (status, "running") || pid <= 0 || ip == NULL)
    return false;
  p->host_network = json_is_true (json_object_get (saved, "hostNetwork"));
  p->pause_pid = pid;
  free (p->pod_ip);
  p->pod_ip = xstrdup (ip);
  p->net_added = !p->host_network;
  p->start_time = json_integer_value (json_object_get (saved, "startTime"));
  p->sandbox_ready = true;
  log_info ("adopted the sandbox left running", "pod", p->name, "ns", p->ns, "ip", ip);
  return true;
}

/* In the sandbox job, once the pod IP is known: /etc/hosts and sandbox.json. */
static int
sandbox_net_files (node_agent *a, node_pod *p, husk_error **err)
{
  _cleanup_free_ char *hostname = NULL, *domain = NULL;
  int r = agent_pod_hostname (p->obj, NULL, &hostname, &domain, err);
  if (r < 0)
    return r;
  if (p->host_network)
    {
      free (hostname);
      hostname = xstrdup (a->hostname);
    }
  char *ips[] = {p->pod_ip, NULL};
  _cleanup_free_ char *hosts = agent_hosts_file (p->obj, ips, hostname, domain);
  if ((r = write_pod_file (p, "hosts", hosts, err)) < 0)
    return r;
  return sandbox_save (p, err);
}

/* The sandbox job (a fork of the agent): pause started, then CNI ADD; the report is
   {"pid", "ip", "netAdded", "errno", "error"}, with what was made even on failure so that
   the main loop can tear it down. */
static void
sandbox_job (void *ud, int fd)
{
  node_agent *a = ((void **) ud)[0];
  node_pod *p = ((void **) ud)[1];
  const sandbox_files *f = ((void **) ud)[2];
  husk_error *e = NULL;
  free (p->sandbox_error); /* (this fork's copy) now holds a warning for the report */
  p->sandbox_error = NULL;
  int r = sandbox_files_make (a, p, f, &e);
  int64_t t0 = node_mono_us ();
  if (r == 0)
    r = start_pause (a, p, &e);
  int64_t pause_us = node_mono_us () - t0;
  if (r == 0)
    r = network_add (a, p, &e);
  int64_t net_us = node_mono_us ();
  if (r == 0)
    r = sandbox_net_files (a, p, &e);
  json_t *rep = json_pack ("{s:i, s:s?, s:b, s:I, s:I}", "pid", (int) p->pause_pid, "ip",
                           p->pod_ip, "netAdded", p->net_added, "pauseUs", (json_int_t) pause_us,
                           "cniUs", (json_int_t) (net_us - t0 - pause_us));
  if (p->sandbox_error)
    json_object_set_new (rep, "warning", json_string (p->sandbox_error));
  if (r < 0)
    {
      json_object_set_new (rep, "errno", json_integer (e->errnum));
      json_object_set_new (rep, "error", json_string (e->msg));
    }
  char *text = husk_json_dump (rep);
  size_t len = strlen (text), off = 0;
  while (off < len)
    {
      ssize_t n = write (fd, text + off, len - off);
      if (n <= 0)
        break;
      off += (size_t) n;
    }
  _exit (r < 0 ? 1 : 0);
}

int
pod_sandbox_ensure (node_agent *a, node_pod *p, husk_error **err)
{
  if (p->sandbox_ready || p->sandbox_job)
    return 0;
  json_t *spec = json_object_get (p->obj, "spec");
  p->host_network = json_is_true (json_object_get (spec, "hostNetwork"));
  free (p->dir);
  p->dir = xasprintf ("%s/%s", a->pods_dir, p->uid);
  int r;
  _cleanup_free_ char *hostname = NULL, *domain = NULL;
  if ((r = agent_pod_hostname (p->obj, NULL, &hostname, &domain, err)) < 0)
    return r;
  if (p->host_network)
    {
      free (hostname);
      hostname = xstrdup (a->hostname);
    }
  _cleanup_free_ char *host_resolv = NULL;
  husk_read_file ("/etc/resolv.conf", &host_resolv, NULL, NULL);
  agent_dns_cluster dns = {.host_resolv = host_resolv ? host_resolv : ""};
  _cleanup_ (sandbox_files_clear) sandbox_files f = {0};
  if ((r = agent_resolv_conf (p->obj, &dns, &f.resolv, err)) < 0)
    return r;
  f.hostname = xasprintf ("%s\n", hostname);
  _cleanup_json_ json_t *pause_spec = sandbox_spec (a, p, hostname);
  f.config = husk_json_dump (pause_spec);
  void *ud[3] = {a, p, &f};
  if ((r = node_job_start (a, &p->sandbox_job, sandbox_job, ud, err)) < 0)
    return husk_err_wrap (err, "sandbox");
  return 0;
}

/* Takes the sandbox job's report into p. */
static int
sandbox_report (node_pod *p, node_job *j, husk_error **err)
{
  _cleanup_json_ json_t *rep = j->out.len ? json_loadb (j->out.data, j->out.len, 0, NULL) : NULL;
  if (!json_is_object (rep))
    return husk_err (err, EIO, "sandbox: the helper process died");
  pid_t pid = (pid_t) json_integer_value (json_object_get (rep, "pid"));
  if (pid > 0)
    p->pause_pid = pid;
  p->net_added = json_is_true (json_object_get (rep, "netAdded"));
  const char *ip = json_string_value (json_object_get (rep, "ip"));
  if (ip)
    {
      free (p->pod_ip);
      p->pod_ip = xstrdup (ip);
    }
  int64_t pause_us = json_integer_value (json_object_get (rep, "pauseUs"));
  int64_t cni_us = json_integer_value (json_object_get (rep, "cniUs"));
  node_step_done ("pause", p->name, &(int64_t) {node_mono_us () - pause_us});
  node_step_done ("cni-add", p->name, &(int64_t) {node_mono_us () - cni_us});
  const char *warning = json_string_value (json_object_get (rep, "warning"));
  if (warning)
    log_warn ("sandbox", "pod", p->name, "ns", p->ns, "warning", warning);
  const char *msg = json_string_value (json_object_get (rep, "error"));
  if (msg)
    return husk_err (err, (int) json_integer_value (json_object_get (rep, "errno")), "%s", msg);
  return 0;
}

int
pod_sandbox_finish (node_agent *a, node_pod *p, husk_error **err)
{
  node_job *j = TAKE_PTR (p->sandbox_job);
  node_step_done ("sandbox-job", p->name, &j->t0_us);
  int r = sandbox_report (p, j, err);
  node_job_free (a, j);
  if (r < 0)
    return r;
  p->sandbox_ready = true;
  log_info ("sandbox ready", "pod", p->name, "ns", p->ns, "ip", p->pod_ip);
  return 0;
}

int
pod_sandbox_teardown (node_agent *a, node_pod *p, husk_error **err)
{
  int ret = 0;
  _cleanup_error_ husk_error *e = NULL;
  if (p->net_added)
    {
      if (cni_run (a, p, "DEL", NULL, &e) < 0)
        {
          log_warn ("CNI DEL failed", "pod", p->name, "error", e->msg);
          husk_error_free (e);
          e = NULL;
        }
      else
        p->net_added = false;
    }
  _cleanup_free_ char *id = sandbox_id (p);
  if (rt_container_delete (a->rt_root, id, true, &e) < 0 && e->errnum != ENOENT)
    {
      ret = husk_err (err, e->errnum, "delete sandbox: %s", e->msg);
      husk_error_free (e);
      e = NULL;
    }
  husk_error_free (e);
  e = NULL;
  if (p->pause_pid > 0)
    {
      waitpid (p->pause_pid, NULL, WNOHANG);
      p->pause_pid = 0;
    }
  _cleanup_free_ char *cg = xasprintf ("%s/pod-%s", a->cgroup_root, p->uid);
  if (rmdir (cg) < 0 && errno != ENOENT && ret == 0)
    ret = husk_err_errno (err, "remove cgroup %s", cg);
  if (agent_vol_teardown_pod (a->pods_dir, p->uid, &e) < 0 && ret == 0)
    {
      ret = husk_err (err, e->errnum, "%s", e->msg);
    }
  if (p->dir && ret == 0)
    husk_rm_rf (p->dir, NULL);
  _cleanup_free_ char *logs = xasprintf ("%s/%s_%s_%s", a->log_dir, p->ns, p->name, p->uid);
  husk_rm_rf (logs, NULL);
  p->sandbox_ready = false;
  return ret;
}
