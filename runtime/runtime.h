/* husk runtime: the OCI runtime library (runtime-spec v1.2, Linux). The node agent links it
   in-process; husk-runtime puts it behind runc's command line. Every call returns 0 or a
   negative code with *err set (lib/error.h); nothing is printed. */
#ifndef HUSK_RUNTIME_H
#define HUSK_RUNTIME_H

#include <sys/types.h>

#include <jansson.h>

#include "lib/error.h"

#define RT_OCI_VERSION "1.2.0"
#define RT_DEFAULT_ROOT "/run/husk-runtime"

typedef struct rt_spec rt_spec;

/* Decodes and checks a config.json document. Unknown or wrongly typed fields, unknown
   names (namespaces, capabilities, rlimits, syscalls, mount options) and paths that leave
   the rootfs are errors naming the JSON path. bundle makes root.path absolute. */
int rt_spec_parse (json_t *config, const char *bundle, rt_spec **out, husk_error **err);
/* Loads <bundle>/config.json. */
int rt_spec_load (const char *bundle, rt_spec **out, husk_error **err);
void rt_spec_free (rt_spec *spec);
DEFINE_CLEANUP (rt_spec *, rt_spec_free)

/* The config.json `husk-runtime spec` writes (runc's shape); rootless adds a user ns. */
json_t *rt_spec_default (bool rootless);
/* Docker's default capability set (Kubernetes RuntimeDefault), NULL-terminated. */
const char *const *rt_default_capabilities (void);
/* Docker's default seccomp profile in OCI linux.seccomp form, resolved for the given
   capability names (rules gated on a capability apply when it is in caps). */
json_t *rt_default_seccomp (const char *const *caps);

typedef struct rt_create_opts
{
  int console_socket_fd; /* -1: none; receives the pty master (SCM_RIGHTS) */
  const char *pid_file;  /* written with the container's pid; may be NULL */
  bool no_pivot;         /* MS_MOVE + chroot instead of pivot_root */
  bool skip_limits;      /* a resource limit that cannot be applied is logged, not an error */
  int preserve_fds;      /* fds 3 .. 3+n-1 stay open in the container; the rest are closed */
  /* The container's stdio: dup'ed onto 0/1/2 in the container (the caller's own fds are
     untouched, so several threads may create containers at once); -1: inherit the
     caller's. The caller may close them once create returns. A terminal overrides all three. */
  int stdin_fd, stdout_fd, stderr_fd;
  /* The pty's window size when non-zero (else process.consoleSize): a caller relaying the
     terminal passes its own, so that it is right before the process starts. */
  unsigned short console_rows, console_cols;
} rt_create_opts;
#define RT_CREATE_OPTS_INIT {-1, NULL, false, false, 0, -1, -1, -1, 0, 0}

/* Environment variable equivalent of skip_limits for callers that cannot pass flags. */
#define RT_ENV_SKIP_LIMITS "HUSK_RUNTIME_SKIP_LIMITS"

/* Creates container id from the bundle: namespaces, cgroup, rootfs, process set up and
   waiting for start. On error nothing is left (no state, cgroup or process). */
int rt_container_create (const char *root, const char *id, const char *bundle,
                         const rt_create_opts *opts, husk_error **err);
/* create + start in one step, without exec.fifo (`husk-runtime run`): returns once
   process.args was exec'd and the poststart hooks ran; *pid_out (may be NULL) gets the
   container's pid. A failure up to and including the execve undoes everything. */
int rt_container_run (const char *root, const char *id, const char *bundle,
                      const rt_create_opts *opts, pid_t *pid_out, husk_error **err);
/* Lets a created container's process run (execve of process.args); runs poststart hooks. */
int rt_container_start (const char *root, const char *id, husk_error **err);
/* State document as runc prints it (ociVersion, id, pid, status, bundle, rootfs, created,
   owner, annotations). */
int rt_container_state (const char *root, const char *id, json_t **out, husk_error **err);
/* Signals the init process, or every process of the cgroup when all. */
int rt_container_kill (const char *root, const char *id, int sig, bool all, husk_error **err);
/* Removes a stopped (or created) container; force kills a running one first. */
int rt_container_delete (const char *root, const char *id, bool force, husk_error **err);
/* Array of state documents of every container under root. */
int rt_container_list (const char *root, json_t **out, husk_error **err);
int rt_container_pause (const char *root, const char *id, husk_error **err);
int rt_container_resume (const char *root, const char *id, husk_error **err);
/* Applies a linux.resources object to the live cgroup. */
int rt_container_update (const char *root, const char *id, json_t *resources, bool skip_limits,
                         husk_error **err);
/* The pids in the container's cgroup (host namespace). */
int rt_container_pids (const char *root, const char *id, pid_t **out, size_t *n,
                       husk_error **err);
/* cgroup statistics: cpu.stat, memory.current/stat, pids.current, io.stat as JSON. */
int rt_container_stats (const char *root, const char *id, json_t **out, husk_error **err);
/* Waits for the init process (which must be a child or reparented to the caller as a
   subreaper) and returns its status as a shell would (code, or 128+signal). */
int rt_container_wait (const char *root, const char *id, int *status, husk_error **err);

typedef struct rt_exec_opts
{
  int console_socket_fd;
  const char *pid_file;
  bool detach;
  int stdin_fd, stdout_fd, stderr_fd; /* as in rt_create_opts; -1: inherit */
  int preserve_fds;                   /* as in rt_create_opts */
  unsigned short console_rows, console_cols; /* as in rt_create_opts */
} rt_exec_opts;
#define RT_EXEC_OPTS_INIT {-1, NULL, false, -1, -1, -1, 0, 0, 0}

/* Runs process (an OCI process object) inside a running container: all its namespaces,
   its cgroup, its seccomp profile. *pid_out gets the host pid. */
int rt_container_exec (const char *root, const char *id, json_t *process, const rt_exec_opts *opts,
                       pid_t *pid_out, husk_error **err);

/* The OCI features document (husk-runtime features). */
json_t *rt_features (void);

/* Waits for pid (a child) forwarding SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/2 to it;
   returns its status as a shell would. */
int rt_wait_forward (pid_t pid);

/* Where cgroup v2 is mounted (read once from /proc/self/mountinfo; ENOENT when it is not). */
int rt_cgroup_mountpoint (const char **out, husk_error **err);

/* Parses "KILL", "SIGKILL", "9". Returns the number or -1. */
int rt_signal_parse (const char *s);

#endif
