/* husk node: declarations shared by the daemon (node.c, nodeobj.c) and the pod lifecycle
   (pod/sandbox.c, pod/container.c, pod/sync.c, pod/status.c). Everything here runs on the
   agent's main thread unless said otherwise. */
#ifndef HUSK_NODE_INTERNAL_H
#define HUSK_NODE_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/kclient.h"
#include "src/node/agent/crilog.h"
#include "src/node/agent/node.h"
#include "src/node/agent/probe.h"
#include "src/node/agent/restart.h"
#include "src/node/image/image.h"
#include "src/node/node.h"

#define NODE_LEASE_SECONDS 40
#define NODE_LEASE_RENEW_MS 10000
#define NODE_MAX_PODS 110
/* Sandbox and container creations running at once (pod/job.c). */
#define NODE_JOBS_MAX 12
/* Tags of the main loop's epoll set. */
#define NODE_EP_WAKE 1
#define NODE_EP_PUMP 2
#define NODE_EP_JOB 3

/* A forked child reporting on a pipe (pod/job.c). */
typedef struct node_job
{
  pid_t pid;
  int fd;       /* the report pipe's read end (non-blocking, in the epoll set); -1 once done */
  husk_buf out; /* what the child wrote */
  bool done;    /* EOF seen */
  int64_t t0_us; /* started (node_mono_us) */
} node_job;

typedef struct node_apiq node_apiq;
typedef struct node_apiq_failure
{
  struct node_apiq_failure *next;
  char *uid;
  uint64_t seq;
} node_apiq_failure;

typedef struct node_ctr
{
  char *name;
  json_t *spec;      /* the container object as last started (own reference) */
  bool init, sidecar;
  agent_ctr_state state;
  char *reason;      /* waiting reason, or terminated reason */
  char *message;
  int exit_code;
  int64_t started_at, finished_at; /* unix seconds */
  int64_t finished_ms;             /* CLOCK_REALTIME ms of the last exit */
  bool has_last;
  int last_exit;
  char *last_reason;
  int64_t last_started, last_finished;
  char *last_id;
  int restart_count;
  bool created;      /* a runtime container exists (running or exited, not deleted) */
  pid_t pid;         /* > 0 while running */
  pid_t shim_pid;    /* husk-shim holding its stdio and waiting for it (pod/shim.c) */
  bool adopted;      /* running since an earlier agent: its shim is not our child */
  char *term_file;   /* host file behind terminationMessagePath */
  char *log_path;    /* the CRI log of the current run (FallbackToLogsOnError) */
  char *image_ref;   /* canonical reference resolved */
  char *image_id;    /* "docker.io/library/busybox@sha256:..." */
  agent_backoff backoff;
  int64_t retry_ms;  /* a failed start is tried again from then */
  int failures;      /* consecutive failed starts */
  /* probes (indexed by agent_probe_kind) */
  agent_probe_spec *probe_spec[3];
  agent_prober prober[3];
  bool ready;        /* readiness published Success (or no readiness probe) */
  bool started_ok;   /* startup probe passed (or none) */
  int64_t kill_at_ms; /* a probe asked for a kill: SIGKILL from then */
  node_job *start_job; /* its create and start are running (the shim's fork) */
  void *start_log;     /* the log writer waiting for the start's outcome */
  int start_fds[2];    /* the read ends of stdout/stderr until then */
  bool early_exit;     /* the shim exited before the start's report was read */
  int early_status;
} node_ctr;

typedef struct node_pod
{
  struct node_pod *next;
  char *uid, *ns, *name;
  json_t *obj;       /* latest Pod from the API; NULL once deleted there */
  bool api_gone;     /* DELETED seen (or missing from a relist) */
  /* sandbox */
  bool sandbox_ready;
  bool sandbox_failed;
  char *sandbox_error;
  pid_t pause_pid;
  char *pod_ip;
  bool net_added;    /* CNI ADD done, DEL owed */
  bool host_network;
  char *dir;         /* <data>/pods/<uid> */
  /* containers, init ones first */
  node_ctr *ctrs;
  size_t nctrs, ninit;
  int64_t start_time;
  /* termination */
  bool terminating;
  int64_t kill_deadline_ms;
  bool sigkill_sent;
  bool torn_down;
  bool initialized;
  bool adopt_tried;  /* what an earlier agent left running was looked for */
  int64_t retry_ms;  /* sandbox retry */
  /* reporting */
  char *last_status;  /* the status JSON last PATCHed */
  char *phase;
  int64_t created_ms; /* when the agent first saw it (startup figures) */
  uint64_t status_seq; /* of the last status queued (pod/apiq.c) */
  node_job *sandbox_job; /* pause and CNI ADD running */
  bool dirty;          /* something happened to it since its last sync (pod/sync.c) */
  bool wants_slot;     /* a creation waits for a free job slot */
  bool static_pod;     /* from --pod-manifest-path: not in the API (its mirror pod is) */
  char *evict_message; /* evicted under pressure: phase Failed, reason Evicted, this message */
  const char *reject_reason; /* with evict_message: rejected at admission (static string) */
} node_pod;

typedef struct node_event
{
  struct node_event *next;
  char *type; /* ADDED, MODIFIED, DELETED, or LIST (obj = items array) */
  json_t *obj;
} node_event;

typedef struct node_agent
{
  const node_config *cfg;
  char *name, *node_ip, *pod_cidr, *hostname;
  char *data_dir, *pods_dir, *rt_root, *log_dir, *pause_bin, *pause_rootfs, *cni_bin,
      *cni_path, *cni_conf;
  char *cgroup_root;      /* <cgroup2 mount>/husk */
  char *cgroup_rel;       /* "husk" relative to the mount */
  bool limits_enforced;   /* cgroup v2 controllers available */
  int64_t pod_max_pids;   /* --pod-max-pids: the pod cgroup's pids.max; <= 0: max */
  kclient *kc;
  image_store *images;
  agent_log_pump *pump;
  json_t *allocatable;
  char *node_uid;
  char *last_node_status;
  int64_t last_node_status_ms, next_lease_ms, next_status_ms;
  char *lease_rv;
  /* watch thread -> main loop */
  pthread_t watch_thread;
  bool watch_started;
  pthread_mutex_t ev_lock;
  node_event *ev_head, *ev_tail;
  int wake_fd; /* eventfd */
  atomic_int *stop;
  atomic_int watch_stop;
  node_pod *pods;
  int log_fd; /* the daemon's own stderr, kept while fds 1/2 are lent to containers */
  struct agent_event_cache *events;
  int api_port; /* the node API's port (daemonEndpoints), 0 when it is not serving */
  char *shim_bin; /* husk-shim */
  int ep;         /* the main loop's epoll set (jobs' pipes join it) */
  int jobs;       /* jobs running */
  int64_t last_full_ms; /* the last pass over every pod (others take only the dirty ones) */
  node_apiq *apiq; /* status PATCHes and Events sent off the main thread */
  json_t *image_configs; /* image config digest -> its config.config (pod/container.c) */
  agent_node_resources reserved; /* --reserved */
  struct node_extras *extras;    /* pod/extras.c: static pods, image GC, eviction */
} node_agent;

static inline int64_t
node_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Logs (debug) how long a step took since *t0_us and restarts the clock. */
void node_step_done (const char *step, const char *pod, int64_t *t0_us);
int64_t node_mono_us (void);

/* ---- nodeobj.c: the Node object and its Lease ---- */
int node_register (node_agent *a, husk_error **err);
/* PATCHes the Node's status when it changed (or every 5 minutes). */
int node_status_update (node_agent *a, bool force, husk_error **err);
int node_lease_renew (node_agent *a, husk_error **err);

/* ---- pod/job.c ---- */
/* Forks child (ud, report_fd), which writes its report and exits or execs; the report's pipe
   joins the main loop's epoll set. */
int node_job_start (node_agent *a, node_job **out, void (*child) (void *ud, int report_fd),
                    void *ud, husk_error **err);
/* Reads what the child wrote so far without blocking; true once it is complete. */
bool node_job_poll (node_agent *a, node_job *j);
void node_job_free (node_agent *a, node_job *j);
/* Room for one more job. */
bool node_job_slot (const node_agent *a);

/* ---- pod/apiq.c ---- */
int node_apiq_new (const kclient_config *kc, node_apiq **out, husk_error **err);
/* Stops the senders (what is still queued is dropped). */
void node_apiq_free (node_apiq *q);
/* Queues p's status PATCH (body taken: the merge patch), replacing one still queued for
   p. running_since_ms > 0: log the pod's startup latency once it is sent. */
void node_apiq_status (node_apiq *q, const node_pod *p, char *body, uint64_t seq,
                       int64_t running_since_ms);
/* Queues an Event write (body taken). */
void node_apiq_event (node_apiq *q, const char *method, const char *path, const char *ctype,
                      char *body);
/* The status PATCHes that failed since the last call (to be sent again). */
node_apiq_failure *node_apiq_failed (node_apiq *q);
void node_apiq_failures_free (node_apiq_failure *f);

/* ---- pod/sandbox.c ---- */
/* Starts the sandbox (files, cgroup, then pause + CNI ADD as a job); 0 with the job running
   or the sandbox ready. */
int pod_sandbox_ensure (node_agent *a, node_pod *p, husk_error **err);
/* The sandbox job finished: the sandbox is ready, or an error. */
int pod_sandbox_finish (node_agent *a, node_pod *p, husk_error **err);
/* Writes a pod file (tmp + rename, no fsync: pod files die with the machine's processes). */
int pod_write_file (const char *path, const char *text, mode_t mode, husk_error **err);
/* The sandbox an earlier agent left running (pause alive, address recorded): kept. */
bool pod_sandbox_adopt (node_agent *a, node_pod *p);
/* CNI DEL, pause stopped, runtime state, cgroup and pod dirs removed. Idempotent. */
int pod_sandbox_teardown (node_agent *a, node_pod *p, husk_error **err);
/* The pod's cgroup relative to the cgroup2 mount: "husk/pod-<uid>". */
char *pod_cgroup_rel (node_agent *a, const node_pod *p);
/* ---- pod/podcgroup.c ---- */
/* Writes the pod cgroup dir's memory.low, memory.max, cpu.weight, cpu.max and pids.max
   (kubelet's ResourceConfigForPod, --pod-max-pids) before anything runs in it; nothing
   without controllers. A controller missing from dir is a warning, not an error. */
int pod_cgroup_limits (node_agent *a, node_pod *p, const char *dir, husk_error **err);
/* Runs fn with fds 0/1/2 replaced by in/out/errfd (-1: /dev/null), restoring them after. */
int pod_with_stdio (node_agent *a, int in, int out, int errfd,
                    int (*fn) (void *ud, husk_error **err), void *ud, husk_error **err);

/* ---- pod/container.c ---- */
/* Pulls as imagePullPolicy says, makes the rootfs, bundle and log pipes, and starts the job
   that creates and starts container c (c->start_job). Errors carry the waiting reason in
   *reason (static string). */
int pod_ctr_start (node_agent *a, node_pod *p, node_ctr *c, const char **reason,
                   husk_error **err);
/* c's start job completed: the container runs (c->pid), or an error with *reason. */
int pod_ctr_start_finish (node_agent *a, node_pod *p, node_ctr *c, const char **reason,
                          husk_error **err);
/* Forgets c's start job (the agent is stopping). */
void pod_ctr_start_abandon (node_agent *a, node_ctr *c);
/* Admission of the pod's securityContext.sysctls (kubelet's safe set, --allowed-unsafe-sysctls):
   0, or -EPERM with *message (SysctlForbidden). */
int pod_sysctl_admit (node_agent *a, node_pod *p, char **message);
/* The pod's sysctls as the OCI linux.sysctl object (the sandbox's), NULL when none. */
json_t *pod_sysctl_json (node_pod *p);
/* Records what a restarted agent needs to re-adopt c (<bundle>/state.json). */
void pod_ctr_save (node_pod *p, node_ctr *c);
/* Takes over c from an earlier agent: running (stdio reopened from its shim, log appended
   to) or exited meanwhile (exit code from the shim's exit file). False: nothing to adopt. */
bool pod_ctr_adopt (node_agent *a, node_pod *p, node_ctr *c);
/* An adopted container's shim is not our child: true (and the exit recorded) once its exit
   file is there. */
bool pod_ctr_poll_exit (node_pod *p, node_ctr *c);
/* The container's init exited with the raw wait status (or its shim died: status < 0). */
void pod_ctr_exited (node_pod *p, node_ctr *c, int wait_status);
/* Sends sig to the container's processes. */
void pod_ctr_signal (node_agent *a, node_pod *p, node_ctr *c, int sig);
/* Deletes the runtime container and its rootfs (an exited one, or force). */
void pod_ctr_remove (node_agent *a, node_pod *p, node_ctr *c);
char *pod_ctr_runtime_id (const node_pod *p, const node_ctr *c);

/* ---- pod/event.c ---- */
/* Records an Event about p (c: one of its containers, or NULL). */
void pod_event (node_agent *a, node_pod *p, node_ctr *c, const char *type, const char *reason,
                const char *fmt, ...) _printf_ (6, 7);

/* ---- pod/probe.c ---- */
typedef struct pod_exec_ctx
{
  node_agent *a;
  node_pod *p;
  node_ctr *c;
} pod_exec_ctx;
/* Runs argv in container ud->c (a pod_exec_ctx) through the runtime library, waiting up to
   timeout_ms: an agent_probe_exec_fn for exec probes and exec lifecycle hooks. */
int pod_exec_sync (void *ud, char *const argv[], int timeout_ms, int *exit_code, char **output,
                   husk_error **err);
/* The container just started: its probes begin. */
void pod_probes_start (node_agent *a, node_pod *p, node_ctr *c, int64_t now_ms);
void pod_probes_stop (node_ctr *c);
/* Runs the probes that are due; a failed liveness or startup probe stops the container
   (SIGTERM, then SIGKILL after its grace period). */
void pod_probes_run (node_agent *a, node_pod *p, node_ctr *c, int64_t now_ms);

/* ---- pod/hooks.c ---- */
/* Runs c's lifecycle.postStart, if any, right after it started (on the main thread, bounded
   by the pod's grace period). On failure: FailedPostStartHook event, the container killed;
   returns false. */
bool pod_hook_post_start (node_agent *a, node_pod *p, node_ctr *c);
/* Runs c's lifecycle.preStop, if any and c is running, bounded by grace_s; a failure is a
   FailedPreStopHook event. Returns how long it took in ms (0 without a hook). */
int64_t pod_hook_pre_stop (node_agent *a, node_pod *p, node_ctr *c, int64_t grace_s);

/* ---- pod/sync.c ---- */
node_pod *pod_find (node_agent *a, const char *uid);
/* Applies a watch event (or a list) to the pod table. */
void pod_apply_event (node_agent *a, const char *type, json_t *obj);
void pod_apply_list (node_agent *a, json_t *items);
void pod_table_free (node_agent *a);
/* A pass: start, restart, terminate, tear down, report. Once a second over every pod (timers:
   probes, back-offs, grace periods); otherwise over the pods something happened to (an
   event, a child's exit, a finished job, a free job slot). */
void pod_sync_all (node_agent *a);
/* A child exited: records it against the container it belongs to. */
void pod_child_exited (node_agent *a, pid_t pid, int wait_status);

/* ---- pod/adopt.c: sandboxes whose pod is gone from the API (deleted while the agent was
   down, or bound elsewhere) are taken into the table as deleted pods, to be torn down ---- */
void pod_adopt_orphans (node_agent *a);

/* ---- pod/extras.c, static.c, imagegc.c, evict.c ---- */
int node_extras_setup (node_agent *a, husk_error **err);
/* Static pods, image GC and eviction, each on its own period. */
void node_extras_tick (node_agent *a, int64_t now_ms);
void node_extras_free (node_agent *a);
/* A mirror pod (annotation kubernetes.io/config.mirror): the API's copy of a static pod,
   never run from the API. */
bool node_is_mirror_pod (json_t *obj);
/* The pressure conditions as the --eviction-hard thresholds judge them. */
void node_evict_pressure (node_agent *a, bool *memory, bool *disk);
/* An evicted pod: its containers killed and its sandbox torn down, the pod kept Failed. */
void pod_evict_sync (node_agent *a, node_pod *p, int64_t now_ms);

/* ---- pod/stdin.c ---- */
/* In the shim's fork: a pipe (fds, close-on-exec) for the stdin of container id when its
   spec asks for stdin (the fork's copy of the pod table tells), and <bundle>/stdin written
   for the node API. -1: no stdin (/dev/null). */
int pod_ctr_stdin_pipe (node_agent *a, const char *id, const char *bundle, int fds[2]);

/* ---- pod/status.c ---- */
/* PATCHes pods/<name>/status when what the agent knows changed. */
int pod_status_report (node_agent *a, node_pod *p, husk_error **err);

#endif
