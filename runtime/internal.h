/* husk runtime: private declarations shared by the runtime's files. */
#ifndef HUSK_RUNTIME_INTERNAL_H
#define HUSK_RUNTIME_INTERNAL_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <seccomp.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/json.h"
#include "runtime/runtime.h"

/* ---- decoded config.json ------------------------------------------------------------ */

enum
{
  RT_NS_USER,
  RT_NS_MOUNT,
  RT_NS_PID,
  RT_NS_NET,
  RT_NS_IPC,
  RT_NS_UTS,
  RT_NS_CGROUP,
  RT_NS_TIME,
  RT_NS_COUNT
};

typedef struct rt_ns
{
  bool present; /* listed in linux.namespaces */
  char *path;   /* join this one; NULL: create a new one */
} rt_ns;

typedef struct rt_idmap
{
  uint32_t container, host, size;
} rt_idmap;

typedef struct rt_mount
{
  char *dest;   /* absolute, normalised, inside the container */
  char *source; /* may be NULL */
  char *type;   /* may be NULL (bind) */
  unsigned long flags;
  unsigned long propagation; /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE [|MS_REC] */
  bool bind, rec;
  uint64_t attr_set, attr_clr; /* recursive attributes ("rro", "rnosuid", ...) */
  char *data;  /* filesystem options joined by ',' */
} rt_mount;

typedef struct rt_rlimit
{
  int resource;
  rlim_t soft, hard;
} rt_rlimit;

typedef struct rt_device
{
  char *path;
  char type; /* 'c', 'b', 'p' ('u' is 'c') */
  int64_t major, minor;
  mode_t mode;
  uid_t uid;
  gid_t gid;
} rt_device;

typedef struct rt_hook
{
  char *path;
  char **args;
  char **env;
  int timeout; /* seconds, 0: none */
} rt_hook;

typedef struct rt_hooks
{
  rt_hook *v;
  size_t n;
} rt_hooks;

enum
{
  RT_HOOK_PRESTART,
  RT_HOOK_CREATE_RUNTIME,
  RT_HOOK_CREATE_CONTAINER,
  RT_HOOK_START_CONTAINER,
  RT_HOOK_POSTSTART,
  RT_HOOK_POSTSTOP,
  RT_HOOK_COUNT
};

enum
{
  RT_CAP_BOUNDING,
  RT_CAP_EFFECTIVE,
  RT_CAP_INHERITABLE,
  RT_CAP_PERMITTED,
  RT_CAP_AMBIENT,
  RT_CAP_SETS
};

typedef struct rt_process
{
  bool terminal;
  unsigned short rows, cols;
  char **args;
  char **env;
  char *cwd;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  bool has_umask;
  mode_t umask;
  bool has_caps;
  uint64_t caps[RT_CAP_SETS];
  rt_rlimit *rlimits;
  size_t nrlimits;
  bool no_new_privs;
  bool has_oom;
  int oom_score_adj;
} rt_process;

typedef struct rt_seccomp rt_seccomp;

typedef struct rt_sysctl
{
  char *key, *value;
} rt_sysctl;

struct rt_spec
{
  json_t *json;     /* the whole document (kept for state and hooks) */
  char *bundle;     /* absolute */
  char *rootfs;     /* absolute */
  bool root_readonly;
  char *hostname, *domainname;
  rt_process proc;
  rt_ns ns[RT_NS_COUNT];
  rt_idmap *uid_maps, *gid_maps;
  size_t n_uid_maps, n_gid_maps;
  rt_mount *mounts;
  size_t nmounts;
  rt_device *devices;
  size_t ndevices;
  char **masked, **readonly;
  rt_sysctl *sysctl;
  size_t nsysctl;
  unsigned long rootfs_propagation;
  char *cgroups_path; /* as written; NULL when absent */
  json_t *resources;  /* borrowed from json; may be NULL */
  rt_hooks hooks[RT_HOOK_COUNT];
  bool has_personality;
  unsigned long personality;
  rt_seccomp *seccomp; /* NULL: none */
  json_t *time_offsets;
};

/* spec-schema.c: structural check of the whole document (fields and their types). */
int rt_schema_check (json_t *config, husk_error **err);
int rt_schema_check_process (json_t *process, const char *where, husk_error **err);
int rt_schema_check_resources (json_t *resources, const char *where, husk_error **err);

/* process.c */
int rt_process_decode (json_t *p, const char *where, rt_process *out, husk_error **err);
void rt_process_clear (rt_process *p);
/* In the container, after pivot_root: rlimits, oom score, umask, cwd, then the identity,
   capabilities, no_new_privs and seccomp; execs args[0]. Returns only on failure. */
int rt_process_setup_limits (const rt_process *p, husk_error **err);
int rt_process_finalize (const rt_process *p, rt_seccomp *sc, husk_error **err);
/* Looks args[0] up along PATH of the process env; *out absolute or relative path. */
int rt_process_find_exe (const rt_process *p, char **out, husk_error **err);
/* Returns only on failure, with -errno. */
int rt_process_exec (const rt_process *p, const char *exe);

/* caps.c */
int rt_caps_parse (json_t *arr, const char *where, uint64_t *out, husk_error **err);
int rt_caps_bounding (const rt_process *p, husk_error **err);
int rt_caps_apply (const rt_process *p, husk_error **err);
int rt_cap_from_name (const char *name);
const char *rt_cap_name (int cap);
int rt_cap_last (void);

/* seccomp.c */
int rt_seccomp_build (json_t *j, const char *where, rt_seccomp **out, husk_error **err);
int rt_seccomp_load (rt_seccomp *sc, husk_error **err);
void rt_seccomp_free (rt_seccomp *sc);

/* namespaces.c */
int rt_ns_type_from_name (const char *name);
const char *rt_ns_name (int type);     /* OCI name: "network" */
const char *rt_ns_proc_name (int type); /* /proc/pid/ns name: "net" */
int rt_ns_clone_flag (int type);
/* In a child: joins every namespace with a path (user first); errors name the path. */
int rt_ns_join_paths (const rt_spec *spec, husk_error **err);
/* Flags for unshare of the namespaces to create, user excluded. */
int rt_ns_unshare_flags (const rt_spec *spec);
int rt_ns_write_idmaps (pid_t pid, const rt_spec *spec, husk_error **err);

/* mount.c */
int rt_mount_parse_options (json_t *options, const char *where, rt_mount *m, husk_error **err);
int rt_mount_setup_rootfs (const rt_spec *spec, husk_error **err);
int rt_mount_do_pivot (const rt_spec *spec, bool no_pivot, husk_error **err);
int rt_mount_finish (const rt_spec *spec, husk_error **err);
/* The path under /proc/sys of a linux.sysctl key (k8s NormalizeName, systemd's
   sysctl_normalize): when the first separator is '.', '.' and '/' swap
   (net.ipv4.conf.eth0/100.forwarding -> net/ipv4/conf/eth0.100/forwarding); when it is '/',
   the key is the path. NULL when a component is empty, "." or "..". */
char *rt_sysctl_path (const char *key);

/* devices.c */
int rt_devices_create (const rt_spec *spec, bool in_userns, husk_error **err);
int rt_devices_symlinks (const rt_spec *spec, husk_error **err);
/* devices-bpf.c: attaches the device filter for resources.devices (+ defaults and
   spec->devices when spec is given) to the cgroup, replacing an older one. */
struct rt_cgroup;
int rt_devices_cgroup (const struct rt_cgroup *cg, json_t *resources, const rt_spec *spec,
                       husk_error **err);

/* cgroup.c */
typedef struct rt_cgroup
{
  char *path;     /* absolute under the cgroup2 mount */
  char *rel;      /* relative to the mount, leading '/' */
  char *created;  /* topmost directory this runtime created (removed on delete); may be NULL */
} rt_cgroup;
int rt_cgroup_resolve (const char *cgroups_path, const char *id, rt_cgroup *out,
                       husk_error **err);
int rt_cgroup_create (rt_cgroup *cg, husk_error **err);
int rt_cgroup_apply (const rt_cgroup *cg, json_t *resources, bool skip_limits, husk_error **err);
int rt_cgroup_enter (const rt_cgroup *cg, pid_t pid, husk_error **err);
int rt_cgroup_kill (const rt_cgroup *cg, husk_error **err);
int rt_cgroup_destroy (const rt_cgroup *cg, husk_error **err);
int rt_cgroup_freeze (const rt_cgroup *cg, bool frozen, husk_error **err);
int rt_cgroup_is_frozen (const rt_cgroup *cg);
int rt_cgroup_pids (const rt_cgroup *cg, pid_t **out, size_t *n, husk_error **err);
int rt_cgroup_stats (const rt_cgroup *cg, json_t **out, husk_error **err);
int rt_cgroup_check_resources (json_t *resources, const char *where, husk_error **err);
/* The cgroup v2 files and values linux.resources maps to, as {"file": "value"} (tests). */
int rt_cgroup_plan_json (json_t *resources, json_t **out, husk_error **err);
void rt_cgroup_clear (rt_cgroup *cg);

/* hooks.c */
int rt_hooks_decode (json_t *hooks, rt_hooks out[RT_HOOK_COUNT], husk_error **err);
void rt_hooks_clear (rt_hooks h[RT_HOOK_COUNT]);
/* Runs every hook of one kind in order with state on stdin. */
int rt_hooks_run (const rt_hooks *h, const char *kind, const char *state, husk_error **err);

/* sync.c: the parent <-> child protocol over a SOCK_SEQPACKET pair. */
enum
{
  RT_MSG_GO = 1,      /* parent -> child: proceed; payload: state JSON (hooks) */
  RT_MSG_USERMAP,     /* child -> parent: write my uid/gid maps */
  RT_MSG_PID,         /* stage1 -> parent: payload: the container's pid (decimal) */
  RT_MSG_HOOKS,       /* init -> parent: run prestart + createRuntime hooks */
  RT_MSG_READY,       /* init -> parent: created, waiting on exec.fifo */
  RT_MSG_ERROR,       /* child -> parent: payload: message */
};
int rt_sync_send (int fd, int type, const char *payload, size_t len);
/* Receives one message; *payload (NUL-terminated, may be NULL) owned by caller.
   Returns the type, 0 on EOF, or -errno. */
int rt_sync_recv (int fd, char **payload);
int rt_sync_send_fd (int sock, int fd);
_noreturn_ void rt_child_fail (int sync_fd, husk_error *err);

/* fds.c: first thing in a forked setup process. stdio[i] >= 0 is dup'ed onto fd i; the fds
   in *keep[] (the runtime's own) are moved above 2 + preserve_fds (the pointers updated);
   every other fd from 3 + preserve_fds up is closed. */
int rt_child_fds (const int stdio[3], int preserve_fds, int *const *keep, size_t nkeep,
                  husk_error **err);

/* state.c */
typedef struct rt_state
{
  char *id, *bundle, *rootfs, *created, *owner;
  pid_t pid;
  unsigned long long start_time;
  rt_cgroup cg;
  json_t *config;      /* the config.json the container was created from */
  json_t *annotations; /* may be NULL */
  char *dir;           /* <root>/<id> */
} rt_state;
int rt_state_dir (const char *root, const char *id, char **out, husk_error **err);
int rt_state_check_id (const char *id, husk_error **err);
int rt_state_save (const rt_state *st, husk_error **err);
int rt_state_load (const char *root, const char *id, rt_state *out, husk_error **err);
void rt_state_clear (rt_state *st);
/* "creating", "created", "running", "paused", "stopped". */
const char *rt_state_status (const rt_state *st);
json_t *rt_state_to_json (const rt_state *st, const char *status);
unsigned long long rt_proc_start_time (pid_t pid);
bool rt_state_alive (const rt_state *st);

/* terminal.c */
int rt_terminal_setup (int console_socket, unsigned short rows, unsigned short cols,
                       bool mount_console, husk_error **err);

/* util */
int rt_write_file (const char *path, const char *data, husk_error **err);
int rt_write_file_atomic (const char *path, const char *data, mode_t mode, husk_error **err);
int rt_write_pid_file (const char *path, pid_t pid, husk_error **err);
bool rt_skip_limits_env (void);
/* husk_mkdir_p that tries the path itself first (one syscall when only the leaf is new or
   it exists). */
int rt_mkdir_p (const char *path, mode_t mode, husk_error **err);
/* fork(), landing the child directly in cgroup_path (clone3 CLONE_INTO_CGROUP: no costly
   migration) when the caller is single-threaded; *entered says whether it did. */
pid_t rt_fork_into_cgroup (const char *cgroup_path, bool *entered);
/* One clone3 that creates the namespaces of ns_flags (no user or time ns) and lands the
   child in cgroup_path: the container's init in one step. -1 (EAGAIN) when the caller has
   other threads (the child could inherit a held libc lock), or clone3's error. */
pid_t rt_clone_container (const char *cgroup_path, int ns_flags);

#endif
