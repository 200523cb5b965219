/* husk node: containers outlive the agent. Each start records what a restarted agent needs
   in <pod dir>/containers/<name>/state.json (shim and init pids, restart count, times,
   image, last state); husk-shim (pod/shim.c) holds the stdio pipes and writes the init's
   wait status to <bundle>/exit. A restarted agent reads them back: a running container
   gets its pipes reopened through /proc/<shim>/fd/3 and 4 and its log appended to, one
   that exited meanwhile is reported with its exit code. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "lib/log.h"
#include "lib/path.h"
#include "runtime/runtime.h"
#include "src/node/node-internal.h"

static char *
bundle_file (const node_pod *p, const node_ctr *c, const char *name)
{
  return xasprintf ("%s/containers/%s/%s", p->dir, c->name, name);
}

void
pod_ctr_save (node_pod *p, node_ctr *c)
{
  _cleanup_json_ json_t *st = json_pack (
      "{s:i, s:i, s:i, s:I, s:s?, s:s?, s:b, s:i, s:s?, s:I, s:I}", "shim", (int) c->shim_pid,
      "pid", (int) c->pid, "restartCount", c->restart_count, "startedAt",
      (json_int_t) c->started_at, "imageRef", c->image_ref, "imageID", c->image_id, "hasLast",
      c->has_last, "lastExit", c->last_exit, "lastReason", c->last_reason, "lastStarted",
      (json_int_t) c->last_started, "lastFinished", (json_int_t) c->last_finished);
  _cleanup_free_ char *text = husk_json_dump (st);
  _cleanup_free_ char *path = bundle_file (p, c, "state.json");
  _cleanup_error_ husk_error *e = NULL;
  /* Replaced without fsync, as every file under pods/<uid>/: it matters to an agent restarted
     on the same boot (the page cache has it), and the containers it describes do not outlive
     the machine. An fsync here stalled the main thread on the disk at every container start
     (the start's main-thread step took 2 ms p50 but up to 22 ms in serial runs under load). */
  if (pod_write_file (path, text, 0600, &e) < 0)
    log_warn ("saving container state", "pod", p->name, "container", c->name, "error", e->msg);
}

/* The file behind terminationMessagePath; with FallbackToLogsOnError and a failure, the
   log's tail when the file is empty (kubelet's rule). NULL: no message. */
static char *
termination_message (node_ctr *c)
{
  char *msg = NULL;
  if (c->term_file)
    agent_termination_message_file (c->term_file, &msg, NULL);
  if (msg && *msg)
    return msg;
  free (msg);
  msg = NULL;
  const char *pol = json_string_value (json_object_get (c->spec, "terminationMessagePolicy"));
  if (c->exit_code != 0 && pol && streq (pol, "FallbackToLogsOnError") && c->log_path)
    agent_termination_message_logs (c->log_path, &msg, NULL);
  if (msg && *msg)
    return msg;
  free (msg);
  return NULL;
}

/* The container's cgroup (<cgroup2>/husk/pod-<uid>/<name>, as container.c's cgroupsPath
   under node.c's "husk") counted an OOM kill during this run. */
static bool
oom_killed (const node_pod *p, const node_ctr *c)
{
  const char *mnt = NULL;
  if (rt_cgroup_mountpoint (&mnt, NULL) < 0)
    return false;
  _cleanup_free_ char *dir = xasprintf ("%s/husk/pod-%s/%s", mnt, p->uid, c->name);
  return agent_cgroup_oom_killed (dir);
}

void
pod_ctr_exited (node_pod *p, node_ctr *c, int wait_status)
{
  c->pid = 0;
  c->shim_pid = 0;
  c->adopted = false;
  pod_probes_stop (c);
  c->kill_at_ms = 0;
  c->ready = false;
  c->state = AGENT_CTR_TERMINATED;
  /* No status: the shim died without one (kubelet's ContainerStatusUnknown is 137). */
  c->exit_code = wait_status >= 0 ? agent_exit_code_from_status (wait_status) : 137;
  free (c->reason);
  c->reason = xstrdup (wait_status >= 0 ? agent_terminated_reason (c->exit_code, oom_killed (p, c))
                                        : "ContainerStatusUnknown");
  if (c->finished_ms == 0 || c->finished_ms < c->started_at * 1000)
    c->finished_ms = node_now_ms ();
  c->finished_at = c->finished_ms / 1000;
  free (c->message);
  c->message = termination_message (c);
  char code[16];
  snprintf (code, sizeof code, "%d", c->exit_code);
  log_info ("container exited", "pod", p->name, "ns", p->ns, "container", c->name, "exitCode",
            code);
}

/* The raw wait status in <bundle>/exit and when it was written; -1 when absent. */
static int
read_exit (node_pod *p, node_ctr *c, int64_t *when_ms)
{
  _cleanup_free_ char *path = bundle_file (p, c, "exit");
  _cleanup_free_ char *text = NULL;
  if (husk_read_file (path, &text, NULL, NULL) < 0 || text == NULL)
    return -1;
  struct stat sb;
  if (when_ms && stat (path, &sb) == 0)
    *when_ms = (int64_t) sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
  return atoi (text);
}

bool
pod_ctr_poll_exit (node_pod *p, node_ctr *c)
{
  int64_t when = 0;
  int st = read_exit (p, c, &when);
  if (st < 0)
    {
      if (c->shim_pid > 0 && kill (c->shim_pid, 0) < 0 && errno == ESRCH)
        {
          /* The shim may have written the file just before exiting: look once more. */
          if ((st = read_exit (p, c, &when)) < 0)
            {
              pod_ctr_exited (p, c, -1);
              return true;
            }
        }
      else
        return false;
    }
  c->finished_ms = when;
  pod_ctr_exited (p, c, st);
  return true;
}

/* The shim's pid names a live husk-shim (and not a recycled pid). */
static bool
shim_alive (pid_t pid)
{
  if (pid <= 0)
    return false;
  _cleanup_free_ char *path = xasprintf ("/proc/%d/cmdline", (int) pid);
  _cleanup_free_ char *cmd = NULL;
  size_t len = 0;
  if (husk_read_file (path, &cmd, &len, NULL) < 0 || cmd == NULL)
    return false;
  return strstr (cmd, "husk-shim") != NULL;
}

static int
reattach_logs (node_agent *a, node_pod *p, node_ctr *c, husk_error **err)
{
  int fds[2] = {-1, -1};
  for (int i = 0; i < 2; i++)
    {
      _cleanup_free_ char *path = xasprintf ("/proc/%d/fd/%d", (int) c->shim_pid, 3 + i);
      fds[i] = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (fds[i] < 0)
        {
          int r = husk_err_errno (err, "reopen %s", path);
          if (i)
            close (fds[0]);
          return r;
        }
    }
  _cleanup_free_ char *ldir = NULL;
  agent_log_writer *w = NULL;
  int r;
  if ((r = agent_log_dir (a->log_dir, p->ns, p->name, p->uid, c->name, &ldir, err)) < 0
      || (r = agent_log_writer_open (ldir, (unsigned) c->restart_count, 0, 0, &w, err)) < 0)
    {
      close (fds[0]), close (fds[1]);
      return r;
    }
  free (c->log_path);
  c->log_path = agent_log_path (ldir, (unsigned) c->restart_count);
  return agent_log_pump_add (a->pump, fds[0], fds[1], w, NULL, NULL, err);
}

static void
restore (node_ctr *c, json_t *st)
{
  c->restart_count = (int) json_integer_value (json_object_get (st, "restartCount"));
  c->started_at = json_integer_value (json_object_get (st, "startedAt"));
  const char *s;
  if ((s = json_string_value (json_object_get (st, "imageRef"))))
    free (c->image_ref), c->image_ref = xstrdup (s);
  if ((s = json_string_value (json_object_get (st, "imageID"))))
    free (c->image_id), c->image_id = xstrdup (s);
  c->has_last = json_is_true (json_object_get (st, "hasLast"));
  c->last_exit = (int) json_integer_value (json_object_get (st, "lastExit"));
  if ((s = json_string_value (json_object_get (st, "lastReason"))))
    free (c->last_reason), c->last_reason = xstrdup (s);
  c->last_started = json_integer_value (json_object_get (st, "lastStarted"));
  c->last_finished = json_integer_value (json_object_get (st, "lastFinished"));
}

bool
pod_ctr_adopt (node_agent *a, node_pod *p, node_ctr *c)
{
  _cleanup_free_ char *path = bundle_file (p, c, "state.json");
  _cleanup_json_ json_t *st = NULL;
  if (husk_json_load_file (path, &st, NULL) < 0)
    return false;
  restore (c, st);
  free (c->term_file);
  c->term_file = bundle_file (p, c, "termination-log");
  c->created = true;
  c->shim_pid = (pid_t) json_integer_value (json_object_get (st, "shim"));
  c->pid = (pid_t) json_integer_value (json_object_get (st, "pid"));
  c->adopted = true;
  c->state = AGENT_CTR_RUNNING;
  if (pod_ctr_poll_exit (p, c))
    {
      log_info ("adopted an exited container", "pod", p->name, "container", c->name);
      return true;
    }
  _cleanup_error_ husk_error *e = NULL;
  if (!shim_alive (c->shim_pid) || reattach_logs (a, p, c, &e) < 0)
    {
      log_warn ("container left by the previous agent lost its shim", "pod", p->name,
                "container", c->name, "error", e ? e->msg : "no shim");
      pod_ctr_exited (p, c, -1);
      return true;
    }
  pod_probes_start (a, p, c, node_now_ms ());
  log_info ("adopted a running container", "pod", p->name, "container", c->name);
  return true;
}

/* ---- sandboxes whose pod is gone ------------------------------------------------------ */

/* "<ns>_<name>" of the log directory "<ns>_<name>_<uid>" under the log dir: the pod's
   namespace and name, which the pod dir does not record. False when there is none. */
static bool
orphan_names (node_agent *a, const char *uid, char **ns, char **name)
{
  DIR *d = opendir (a->log_dir);
  if (d == NULL)
    return false;
  size_t ul = strlen (uid);
  struct dirent *de;
  bool found = false;
  while (!found && (de = readdir (d)))
    {
      size_t l = strlen (de->d_name);
      const char *sep = strchr (de->d_name, '_');
      if (l <= ul + 1 || !streq (de->d_name + l - ul, uid) || de->d_name[l - ul - 1] != '_'
          || sep == NULL || sep >= de->d_name + l - ul - 1)
        continue;
      *ns = xstrndup (de->d_name, (size_t) (sep - de->d_name));
      *name = xstrndup (sep + 1, (size_t) (de->d_name + l - ul - 1 - (sep + 1)));
      found = true;
    }
  closedir (d);
  return found;
}

/* The names of the containers an earlier agent made in pod dir. */
static json_t *
orphan_containers (const char *dir)
{
  json_t *arr = json_array ();
  _cleanup_free_ char *cdir = xasprintf ("%s/containers", dir);
  DIR *d = opendir (cdir);
  if (d == NULL)
    return arr;
  struct dirent *de;
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      json_array_append_new (arr, json_pack ("{s:s}", "name", de->d_name));
  closedir (d);
  return arr;
}

/* Takes the sandbox of uid into the pod table as a pod deleted from the API: the next pass
   kills its containers (no grace period: the pod is gone) and tears everything down. */
static void
orphan_take (node_agent *a, const char *uid)
{
  _cleanup_free_ char *dir = xasprintf ("%s/%s", a->pods_dir, uid);
  _cleanup_free_ char *ns = NULL, *name = NULL;
  if (!orphan_names (a, uid, &ns, &name))
    ns = xstrdup ("default"), name = xstrdup (uid);
  _cleanup_json_ json_t *obj = json_pack ("{s:{s:s, s:s, s:s}, s:{s:o, s:i}}", "metadata", "uid",
                                          uid, "namespace", ns, "name", name, "spec",
                                          "containers", orphan_containers (dir),
                                          "terminationGracePeriodSeconds", 0);
  pod_apply_event (a, "ADDED", obj);
  node_pod *p = pod_find (a, uid);
  if (p == NULL)
    return;
  p->api_gone = true;
  p->adopt_tried = true;
  if (!pod_sandbox_adopt (a, p))
    {
      /* The pause process is gone (a reboot, or killed): the address may still be held. */
      _cleanup_free_ char *path = xasprintf ("%s/sandbox.json", p->dir);
      _cleanup_json_ json_t *saved = NULL;
      if (husk_json_load_file (path, &saved, NULL) == 0)
        p->net_added = !json_is_true (json_object_get (saved, "hostNetwork"));
    }
  /* Containers are adopted even without their sandbox: they may still run. */
  for (size_t i = 0; i < p->nctrs; i++)
    pod_ctr_adopt (a, p, &p->ctrs[i]);
  log_info ("tearing down a pod deleted while the agent was away", "pod", name, "ns", ns,
            "uid", uid);
}

void
pod_adopt_orphans (node_agent *a)
{
  DIR *d = opendir (a->pods_dir);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.' || de->d_type != DT_DIR || pod_find (a, de->d_name))
        continue;
      orphan_take (a, de->d_name);
    }
  closedir (d);
}
