/* sysctl names and --allowed-unsafe-sysctls as kubelet reads them (src/node/pod/sysctl.c),
   and the /proc/sys path the runtime writes them to (runtime/mount.c rt_sysctl_path). */
#include "runtime/internal.h"
#include "src/node/pod/sysctl.h"
#include "tests/unit/tap.h"

/* A pod's sysctl name, normalized by the agent, then written by the runtime. */
static void
written_to (const char *pod_name, const char *want)
{
  _cleanup_free_ char *norm = sysctl_normalize (pod_name);
  _cleanup_free_ char *got = rt_sysctl_path (norm);
  ok (got && streq (got, want), "pod sysctl \"%s\" (runtime key \"%s\") written to /proc/sys/%s (got %s)",
      pod_name, norm, want, got ? got : "NULL");
}

static void
bad_key (const char *key)
{
  _cleanup_free_ char *got = rt_sysctl_path (key);
  ok (got == NULL, "runtime key \"%s\" refused (got %s)", key, got ? got : "NULL");
}

static void
normalized (const char *in, const char *want)
{
  _cleanup_free_ char *got = sysctl_normalize (in);
  ok (streq (got, want), "normalize \"%s\" = \"%s\" (got \"%s\")", in, want, got);
}

static void
list_ok (const char *list)
{
  husk_error *err = NULL;
  int r = sysctl_allowlist_check (list, &err);
  ok (r == 0, "allowlist \"%s\" accepted%s%s", list, err ? ": " : "", err ? err->msg : "");
  husk_error_free (err);
}

static void
list_bad (const char *list, const char *item, const char *why)
{
  husk_error *err = NULL;
  int r = sysctl_allowlist_check (list, &err);
  ok (r < 0 && err && strstr (err->msg, "--allowed-unsafe-sysctls") && strstr (err->msg, item)
          && strstr (err->msg, why),
      "allowlist \"%s\" refused naming the flag, \"%s\" and \"%s\" (%s)", list, item, why,
      err ? err->msg : "no error");
  husk_error_free (err);
}

int
main (void)
{
  /* The runtime's path: '.' and '/' swap when '.' comes first; a '/' key is the path. */
  written_to ("net.ipv4.conf.eth0/100.forwarding", "net/ipv4/conf/eth0.100/forwarding");
  written_to ("net/ipv4/conf/eth0.100/forwarding", "net/ipv4/conf/eth0.100/forwarding");
  written_to ("net/ipv4/conf/eth0.100.200/rp_filter", "net/ipv4/conf/eth0.100.200/rp_filter");
  written_to ("net.ipv4.ip_local_port_range", "net/ipv4/ip_local_port_range");
  written_to ("kernel/msgmnb", "kernel/msgmnb");
  written_to ("kernel.shm_rmid_forced", "kernel/shm_rmid_forced");
  {
    _cleanup_free_ char *p = rt_sysctl_path ("net/ipv4/conf/eth0.100/forwarding");
    ok (p && streq (p, "net/ipv4/conf/eth0.100/forwarding"),
        "a runtime key with '/' first is the path as it is");
  }
  bad_key ("");
  bad_key ("net..ipv4");
  bad_key (".net.ipv4");
  bad_key ("net.ipv4.");
  bad_key ("net/../kernel/panic");
  bad_key ("net/ipv4/conf/./forwarding");
  bad_key ("net.ipv4.conf./...forwarding");
  /* NormalizeName: only a name whose first separator is '/' is converted */
  normalized ("net.ipv4.ip_local_port_range", "net.ipv4.ip_local_port_range");
  normalized ("net/ipv4/ip_local_port_range", "net.ipv4.ip_local_port_range");
  normalized ("net/ipv4/conf/eth0.100/forwarding", "net.ipv4.conf.eth0/100.forwarding");
  normalized ("net.ipv4.conf.eth0/100.forwarding", "net.ipv4.conf.eth0/100.forwarding");
  normalized ("kernel/msg*", "kernel.msg*");
  normalized ("kernel", "kernel");
  normalized ("", "");

  ok (sysctl_namespace ("net.core.somaxconn") && streq (sysctl_namespace ("net.core.somaxconn"), "net"),
      "net.* is in the net namespace");
  ok (streq (sysctl_namespace ("kernel.msgmax"), "ipc") && streq (sysctl_namespace ("kernel.sem"), "ipc")
          && streq (sysctl_namespace ("fs.mqueue.msg_max"), "ipc")
          && streq (sysctl_namespace ("kernel.shmmax"), "ipc"),
      "kernel.msg*, kernel.sem, fs.mqueue.*, kernel.shm* are ipc");
  ok (sysctl_namespace ("kernel.panic") == NULL && sysctl_namespace ("vm.swappiness") == NULL
          && sysctl_namespace ("kernel.semx") == NULL,
      "kernel.panic, vm.swappiness, kernel.semx are not namespaced");
  ok (sysctl_is_safe ("net.ipv4.ip_unprivileged_port_start") && !sysctl_is_safe ("kernel.msgmax"),
      "the safe set");

  list_ok ("");
  list_ok ("kernel.msg*,net.core.somaxconn");
  list_ok ("net.*");
  list_ok ("kernel.sem,fs.mqueue.*,kernel.shm*");
  list_ok ("net/ipv4/conf/eth0.100/forwarding");
  list_ok ("net.ipv4.conf.eth0/100.forwarding");
  list_ok ("kernel/msg*");
  list_bad ("kernel.panic", "\"kernel.panic\"", "not known to be namespaced");
  list_bad ("net.core.somaxconn,vm.swappiness", "\"vm.swappiness\"", "not known to be namespaced");
  list_bad ("kernel.*", "\"kernel.*\"", "not known to be namespaced");
  list_bad ("*", "\"*\"", "not known to be namespaced");
  list_bad ("net*", "\"net*\"", "not known to be namespaced");
  list_bad ("Net.core.somaxconn", "\"Net.core.somaxconn\"", "must have at most 253 characters");
  list_bad ("net.*.foo", "\"net.*.foo\"", "match regex");
  list_bad ("net..core", "\"net..core\"", "match regex");
  list_bad ("net.core.somaxconn,", "\"\"", "match regex");
  list_bad ("net.core somaxconn", "\"net.core somaxconn\"", "match regex");
  char longname[300];
  memset (longname, 'a', sizeof longname - 1);
  memcpy (longname, "net.", 4);
  longname[sizeof longname - 1] = '\0';
  list_bad (longname, "at most 253 characters", "net.aaa");

  ok (sysctl_allowlist_match ("kernel.msg*,net.core.somaxconn", "kernel.msgmax"), "kernel.msg* matches kernel.msgmax");
  ok (sysctl_allowlist_match ("kernel.msg*,net.core.somaxconn", "net.core.somaxconn"), "an exact name matches");
  ok (!sysctl_allowlist_match ("kernel.msg*,net.core.somaxconn", "net.core.somaxconn2"), "only the exact name");
  ok (!sysctl_allowlist_match ("kernel.msg*", "kernel.shmmax"), "another prefix does not match");
  ok (sysctl_allowlist_match ("kernel/msg*", "kernel.msgmax"), "a '/' pattern matches the dotted name");
  ok (sysctl_allowlist_match ("net/ipv4/conf/eth0.100/forwarding", "net.ipv4.conf.eth0/100.forwarding"),
      "a '/' name with a dotted interface matches its normalized form");
  ok (!sysctl_allowlist_match (NULL, "kernel.msgmax") && !sysctl_allowlist_match ("", "kernel.msgmax"),
      "an empty list matches nothing");
  return tap_done ();
}
