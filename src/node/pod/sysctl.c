/* husk node: sysctl names, namespaces and the --allowed-unsafe-sysctls list (sysctl.h),
   after kubelet's pkg/kubelet/sysctl and k8s.io/component-helpers/node/util/sysctl. */
#include "config.h"

#include <errno.h>
#include <regex.h>
#include <string.h>

#include "src/node/pod/sysctl.h"

#define SYSCTL_MAX_LENGTH 253
/* policy validation's SysctlContainSlashPatternFmt, anchored */
#define SYSCTL_PATTERN "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]$"

static const char *const safe_sysctls[] = {
  "kernel.shm_rmid_forced",         "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",        "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",    "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",   "net.ipv4.tcp_keepalive_probes",
};

char *
sysctl_normalize (const char *name)
{
  char *out = xstrdup (name);
  size_t first = strcspn (out, "./");
  if (out[first] != '/')
    return out;
  for (char *p = out; *p; p++)
    *p = *p == '.' ? '/' : *p == '/' ? '.' : *p;
  return out;
}

const char *
sysctl_namespace (const char *name)
{
  if (strncmp (name, "net.", 4) == 0)
    return "net";
  if (strncmp (name, "kernel.shm", 10) == 0 || strncmp (name, "kernel.msg", 10) == 0
      || streq (name, "kernel.sem") || strncmp (name, "fs.mqueue.", 10) == 0)
    return "ipc";
  return NULL;
}

bool
sysctl_is_safe (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (safe_sysctls); i++)
    if (streq (safe_sysctls[i], name))
      return true;
  return false;
}

static int
check_item (const regex_t *re, const char *item, husk_error **err)
{
  if (strlen (item) > SYSCTL_MAX_LENGTH || regexec (re, item, 0, NULL, 0) != 0)
    return husk_err (err, EINVAL,
                     "--allowed-unsafe-sysctls: sysctl \"%s\" must have at most %d characters "
                     "and match regex %s",
                     item, SYSCTL_MAX_LENGTH, SYSCTL_PATTERN);
  _cleanup_free_ char *norm = sysctl_normalize (item);
  size_t n = strlen (norm);
  bool prefix = norm[n - 1] == '*';
  if (prefix)
    norm[n - 1] = '\0';
  if (sysctl_namespace (norm) == NULL)
    return husk_err (err, EINVAL,
                     "--allowed-unsafe-sysctls: the sysctl%s \"%s\" %s not known to be namespaced "
                     "(namespaced: net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)",
                     prefix ? "s" : "", item, prefix ? "are" : "is");
  return 0;
}

int
sysctl_allowlist_check (const char *list, husk_error **err)
{
  if (list == NULL || *list == '\0')
    return 0;
  regex_t re;
  if (regcomp (&re, SYSCTL_PATTERN, REG_EXTENDED | REG_NOSUB) != 0)
    return husk_err (err, EINVAL, "--allowed-unsafe-sysctls: cannot compile the sysctl pattern");
  int r = 0;
  for (const char *s = list; r == 0;)
    {
      size_t n = strcspn (s, ",");
      _cleanup_free_ char *item = xstrndup (s, n);
      r = check_item (&re, item, err);
      if (s[n] == '\0')
        break;
      s += n + 1;
    }
  regfree (&re);
  return r;
}

bool
sysctl_allowlist_match (const char *list, const char *name)
{
  for (const char *s = list; s && *s;)
    {
      size_t n = strcspn (s, ",");
      _cleanup_free_ char *item = xstrndup (s, n);
      _cleanup_free_ char *norm = sysctl_normalize (item);
      size_t m = strlen (norm);
      if (m > 0 && norm[m - 1] == '*' ? strncmp (norm, name, m - 1) == 0 : streq (norm, name))
        return true;
      s += n + (s[n] == ',');
    }
  return false;
}
