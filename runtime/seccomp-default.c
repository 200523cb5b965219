/* husk runtime: the built-in RuntimeDefault seccomp profile: Docker's default profile
   (allow-list, default EPERM), in OCI linux.seccomp form. Syscalls that need a capability
   are allowed only when the process gets it, as Docker's profile does. */
#include "config.h"

#include <errno.h>

#include "runtime/internal.h"

static const char *const allowed[] = {
  "_llseek", "_newselect", "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk",
  "capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
  "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
  "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
  "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
  "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
  "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
  "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
  "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
  "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
  "ftruncate64", "futex", "futex_time64", "futimesat", "get_robust_list", "get_thread_area",
  "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32",
  "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
  "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
  "getresuid", "getresuid32", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt",
  "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
  "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents",
  "io_setup", "io_submit", "ioctl", "ioprio_get", "ioprio_set", "ipc", "kill",
  "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32",
  "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "lremovexattr", "lseek",
  "lsetxattr", "lstat", "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret",
  "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
  "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
  "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
  "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
  "nanosleep", "newfstatat", "open", "openat", "openat2", "pause", "pidfd_open",
  "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
  "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
  "process_mrelease", "process_vm_readv", "process_vm_writev", "pselect6", "pselect6_time64",
  "ptrace", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readdir", "readlink",
  "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
  "remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall",
  "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
  "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
  "rt_tgsigqueueinfo", "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity",
  "sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
  "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
  "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop",
  "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg",
  "sendto", "set_robust_list", "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32",
  "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
  "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
  "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid", "setsockopt", "setuid",
  "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaction",
  "sigaltstack", "signal", "signalfd", "signalfd4", "sigpending", "sigprocmask", "sigreturn",
  "sigsuspend", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64",
  "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "syscall", "sysinfo",
  "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
  "timer_gettime64", "timer_settime", "timer_settime64", "timerfd", "timerfd_create",
  "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
  "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
  "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "wait4", "waitid", "waitpid",
  "write", "writev",
  NULL,
};

static const struct
{
  const char *cap;
  const char *names; /* space separated */
} gated[] = {
  {"CAP_SYS_ADMIN", "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie "
                    "mount mount_setattr move_mount name_to_handle_at open_tree perf_event_open "
                    "quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 "
                    "unshare pivot_root"},
  {"CAP_SYS_BOOT", "reboot"},
  {"CAP_SYS_CHROOT", "chroot"},
  {"CAP_SYS_MODULE", "delete_module init_module finit_module"},
  {"CAP_SYS_PACCT", "acct"},
  {"CAP_SYS_PTRACE", "kcmp pidfd_getfd process_madvise"},
  {"CAP_SYS_RAWIO", "iopl ioperm"},
  {"CAP_SYS_TIME", "settimeofday stime clock_settime clock_settime64"},
  {"CAP_SYS_TTY_CONFIG", "vhangup"},
  {"CAP_SYS_NICE", "get_mempolicy mbind set_mempolicy set_mempolicy_home_node"},
  {"CAP_SYSLOG", "syslog"},
  {"CAP_BPF", "bpf"},
  {"CAP_PERFMON", "perf_event_open"},
  {"CAP_DAC_READ_SEARCH", "open_by_handle_at"},
};

static bool
has_cap (const char *const *caps, const char *name)
{
  for (size_t i = 0; caps && caps[i]; i++)
    if (streq (caps[i], name))
      return true;
  return false;
}

static json_t *
rule (json_t *names, const char *action)
{
  return json_pack ("{s:o, s:s}", "names", names, "action", action);
}

static json_t *
names_of (const char *spaced)
{
  json_t *a = json_array ();
  _cleanup_free_ char *copy = xstrdup (spaced);
  char *save = NULL;
  for (char *n = strtok_r (copy, " ", &save); n; n = strtok_r (NULL, " ", &save))
    json_array_append_new (a, json_string (n));
  return a;
}

static json_t *
arg_rule (const char *name, const char *action, int index, json_int_t value, json_int_t two,
          const char *op)
{
  json_t *r = rule (names_of (name), action);
  json_object_set_new (r, "args",
                       json_pack ("[{s:i, s:I, s:I, s:s}]", "index", index, "value", value,
                                  "valueTwo", two, "op", op));
  return r;
}

static json_t *
architectures (void)
{
#if defined(__x86_64__)
  return json_pack ("[s,s,s]", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
#elif defined(__aarch64__)
  return json_pack ("[s,s]", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
#else
  return json_array ();
#endif
}

json_t *
rt_default_seccomp (const char *const *caps)
{
  json_t *sys = json_array ();
  json_t *names = json_array ();
  for (size_t i = 0; allowed[i]; i++)
    json_array_append_new (names, json_string (allowed[i]));
  json_array_append_new (sys, rule (names, "SCMP_ACT_ALLOW"));
  static const json_int_t personas[] = {0, 8, 0x20000, 0x20008, 0xffffffff};
  for (size_t i = 0; i < ARRAY_SIZE (personas); i++)
    json_array_append_new (sys, arg_rule ("personality", "SCMP_ACT_ALLOW", 0, personas[i], 0,
                                          "SCMP_CMP_EQ"));
#if defined(__x86_64__)
  json_array_append_new (sys, rule (names_of ("arch_prctl modify_ldt"), "SCMP_ACT_ALLOW"));
#elif defined(__aarch64__)
  json_array_append_new (sys, rule (names_of ("arm_fadvise64_64 arm_sync_file_range breakpoint "
                                              "cacheflush set_tls sync_file_range2"),
                                    "SCMP_ACT_ALLOW"));
#endif
  for (size_t i = 0; i < ARRAY_SIZE (gated); i++)
    if (has_cap (caps, gated[i].cap))
      json_array_append_new (sys, rule (names_of (gated[i].names), "SCMP_ACT_ALLOW"));
  if (!has_cap (caps, "CAP_SYS_ADMIN"))
    {
      /* clone without namespace flags; clone3 cannot be inspected: ENOSYS makes libcs fall
         back to clone. */
      json_array_append_new (sys, arg_rule ("clone", "SCMP_ACT_ALLOW", 0, 0x7E020000, 0,
                                            "SCMP_CMP_MASKED_EQ"));
      json_t *c3 = rule (names_of ("clone3"), "SCMP_ACT_ERRNO");
      json_object_set_new (c3, "errnoRet", json_integer (ENOSYS));
      json_array_append_new (sys, c3);
    }
  return json_pack ("{s:s, s:i, s:o, s:o}", "defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet",
                    EPERM, "architectures", architectures (), "syscalls", sys);
}
