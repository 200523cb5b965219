/* husk runtime: the default config.json (`spec`), Docker's default capability set and the
   OCI features document. */
#include "config.h"

#include "runtime/internal.h"

static const char *const default_caps[] = {
  "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",   "CAP_MKNOD",
  "CAP_NET_RAW", "CAP_SETGID",       "CAP_SETUID",           "CAP_SETFCAP",  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",      "CAP_AUDIT_WRITE", NULL,
};

const char *const *
rt_default_capabilities (void)
{
  return default_caps;
}

static json_t *
strs (const char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

static json_t *
mount (const char *dest, const char *type, const char *src, const char *const *opts)
{
  json_t *m = json_pack ("{s:s, s:s, s:s}", "destination", dest, "type", type, "source", src);
  if (opts)
    json_object_set_new (m, "options", strs (opts));
  return m;
}

json_t *
rt_spec_default (bool rootless)
{
  static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};
  static const char *const env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL};
  static const char *const dev_o[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
  static const char *const pts_o[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                      "mode=0620", "gid=5", NULL};
  static const char *const shm_o[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k",
                                      NULL};
  static const char *const mq_o[] = {"nosuid", "noexec", "nodev", NULL};
  static const char *const sys_o[] = {"nosuid", "noexec", "nodev", "ro", NULL};
  static const char *const cg_o[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
  static const char *const masked[] = {
    "/proc/acpi",         "/proc/asound",     "/proc/kcore",       "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/sys/firmware",      "/proc/scsi",       NULL};
  static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                   "/proc/sysrq-trigger", NULL};
  json_t *capobj = json_pack ("{s:o, s:o, s:o, s:o}", "bounding", strs (caps), "effective",
                              strs (caps), "permitted", strs (caps), "ambient", strs (caps));
  json_t *process = json_pack (
    "{s:b, s:{s:i, s:i}, s:[s], s:o, s:s, s:o, s:[{s:s, s:i, s:i}], s:b}", "terminal", 1, "user",
    "uid", 0, "gid", 0, "args", "sh", "env", strs (env), "cwd", "/", "capabilities", capobj,
    "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
  json_t *mounts = json_array ();
  json_array_append_new (mounts, mount ("/proc", "proc", "proc", NULL));
  json_array_append_new (mounts, mount ("/dev", "tmpfs", "tmpfs", dev_o));
  json_array_append_new (mounts, mount ("/dev/pts", "devpts", "devpts", pts_o));
  json_array_append_new (mounts, mount ("/dev/shm", "tmpfs", "shm", shm_o));
  json_array_append_new (mounts, mount ("/dev/mqueue", "mqueue", "mqueue", mq_o));
  json_array_append_new (mounts, mount ("/sys", "sysfs", "sysfs", sys_o));
  json_array_append_new (mounts, mount ("/sys/fs/cgroup", "cgroup", "cgroup", cg_o));
  json_t *ns = json_pack ("[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}]", "type", "pid", "type", "network",
                          "type", "ipc", "type", "uts", "type", "mount");
  json_t *lin = json_pack ("{s:{s:[{s:b, s:s}]}, s:o, s:o, s:o}", "resources", "devices", "allow",
                           0, "access", "rwm", "namespaces", ns, "maskedPaths", strs (masked),
                           "readonlyPaths", strs (ro));
  if (rootless)
    {
      json_array_append_new (ns, json_pack ("{s:s}", "type", "user"));
      json_object_set_new (lin, "uidMappings",
                           json_pack ("[{s:i, s:i, s:i}]", "containerID", 0, "hostID",
                                      (int) getuid (), "size", 1));
      json_object_set_new (lin, "gidMappings",
                           json_pack ("[{s:i, s:i, s:i}]", "containerID", 0, "hostID",
                                      (int) getgid (), "size", 1));
      json_object_del (lin, "resources");
    }
  return json_pack ("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", RT_OCI_VERSION,
                    "process", process, "root", "path", "rootfs", "readonly", 1, "hostname",
                    "husk", "mounts", mounts, "linux", lin);
}

json_t *
rt_features (void)
{
  static const char *const hooks[] = {"prestart",       "createRuntime", "createContainer",
                                      "startContainer", "poststart",     "poststop", NULL};
  static const char *const mount_opts[] = {
    "async",    "atime",       "bind",       "defaults",   "dev",         "diratime",
    "dirsync",  "exec",        "iversion",   "lazytime",   "loud",        "mand",
    "noatime",  "nodev",       "nodiratime", "noexec",     "noiversion",  "nolazytime",
    "nomand",   "norelatime",  "nostrictatime", "nosuid",  "nosymfollow", "private",
    "rbind",    "rdev",        "rdiratime",  "relatime",   "remount",     "rexec",
    "rnoatime", "rnodev",      "rnodiratime", "rnoexec",   "rnosuid",     "ro",
    "rprivate", "rrelatime",   "rro",        "rrw",        "rshared",     "rslave",
    "rstrictatime", "rsuid",   "runbindable", "rw",        "shared",      "silent",
    "slave",    "strictatime", "suid",       "symfollow",  "sync",        "unbindable",
    NULL};
  static const char *const ns[] = {"cgroup", "ipc", "mount", "network", "pid", "time",
                                   "user", "uts", NULL};
  static const char *const actions[] = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                        "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                        "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", NULL};
  static const char *const ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                                    "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL};
  static const char *const flags[] = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                      "SECCOMP_FILTER_FLAG_TSYNC", NULL};
  static const char *const arches[] = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_X32",
                                       "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", NULL};
  json_t *caps = json_array ();
  for (int c = 0; c <= rt_cap_last (); c++)
    json_array_append_new (caps, json_string (rt_cap_name (c)));
  json_t *lin = json_pack (
    "{s:o, s:o, s:{s:b, s:b, s:b}, s:{s:b, s:o, s:o, s:o, s:o, s:o}, s:{s:b}, s:{s:b}}",
    "namespaces", strs (ns), "capabilities", caps, "cgroup", "v1", 0, "v2", 1, "systemd", 0,
    "seccomp", "enabled", 1, "actions", strs (actions), "operators", strs (ops), "archs",
    strs (arches), "knownFlags", strs (flags), "supportedFlags", strs (flags), "apparmor",
    "enabled", 0, "selinux", "enabled", 0);
  json_object_set_new (json_object_get (lin, "seccomp"), "archs", strs (arches));
  return json_pack ("{s:s, s:s, s:o, s:o, s:o, s:{s:s}}", "ociVersionMin", "1.0.0",
                    "ociVersionMax", RT_OCI_VERSION, "hooks", strs (hooks), "mountOptions",
                    strs (mount_opts), "linux", lin, "annotations",
                    "org.opencontainers.runc.checkpoint.enabled", "false");
}
