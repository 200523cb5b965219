/* husk node: the pod's securityContext that the agent admits or checks itself, beside
   the container's OCI config: sysctls (kubelet's sysctl admission: the safe set and
   --allowed-unsafe-sysctls) and seccompProfile (RuntimeDefault, Localhost files). */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "runtime/runtime.h"
#include "src/node/node-internal.h"
#include "src/node/pod/seccontext.h"

/* ---- seccompProfile ---------------------------------------------------------------------- */

/* A Localhost profile: <seccomp root>/<rel>, an OCI linux.seccomp document checked as the
   runtime will (unknown actions or syscalls are errors naming the JSON path). */
static int
localhost_seccomp (node_agent *a, const char *rel, json_t **out, husk_error **err)
{
  if (rel == NULL || *rel == '\0')
    return husk_err (err, EINVAL, "seccompProfile: type Localhost needs localhostProfile");
  _cleanup_free_ char *root = a->cfg->seccomp_profile_root ? xstrdup (a->cfg->seccomp_profile_root)
                                                           : xasprintf ("%s/seccomp", a->data_dir);
  _cleanup_free_ char *path = xasprintf ("%s/%s", root, rel);
  if (rel[0] == '/' || strstr (rel, ".."))
    return husk_err (err, EINVAL, "seccomp profile %s: localhostProfile must be relative to %s, without ..",
                     rel, root);
  struct stat st;
  if (stat (path, &st) < 0)
    return husk_err_errno (err, "seccomp profile %s", path);
  json_error_t je;
  _cleanup_json_ json_t *prof = json_load_file (path, 0, &je);
  if (prof == NULL)
    return husk_err (err, EINVAL, "seccomp profile %s: line %d: %s", path, je.line, je.text);
  if (!json_is_string (json_object_get (prof, "defaultAction")))
    return husk_err (err, EINVAL, "seccomp profile %s: defaultAction: required string missing", path);
  _cleanup_json_ json_t *check = rt_spec_default (false);
  json_object_set_new (check, "root", json_pack ("{s:s}", "path", "/"));
  json_object_set (json_object_get (check, "linux"), "seccomp", prof);
  rt_spec *parsed = NULL;
  _cleanup_error_ husk_error *e = NULL;
  if (rt_spec_parse (check, "/", &parsed, &e) < 0)
    return husk_err (err, EINVAL, "seccomp profile %s: %s", path, e->msg);
  rt_spec_free (parsed);
  *out = json_incref (prof);
  return 0;
}

/* seccompProfile, the container's else the pod's: RuntimeDefault (docker's profile for the
   container's capabilities), Localhost (a node file), Unconfined or none (no filter). */
int
pod_seccomp_apply (node_agent *a, node_pod *p, node_ctr *c, json_t *proc, json_t *lin, husk_error **err)
{
  json_t *prof = husk_json_path (c->spec, "securityContext.seccompProfile");
  if (prof == NULL)
    prof = husk_json_path (p->obj, "spec.securityContext.seccompProfile");
  const char *type = json_string_value (json_object_get (prof, "type"));
  if (type && streq (type, "Localhost"))
    {
      json_t *sc = NULL;
      if (localhost_seccomp (a, json_string_value (json_object_get (prof, "localhostProfile")), &sc, err) < 0)
        return -EINVAL;
      json_object_set_new (lin, "seccomp", sc);
    }
  else if (type && streq (type, "RuntimeDefault"))
    {
      json_t *caps = json_object_get (json_object_get (proc, "capabilities"), "effective");
      size_t n = json_array_size (caps), i;
      const char **names = xcalloc (n + 1, sizeof *names);
      for (i = 0; i < n; i++)
        names[i] = json_string_value (json_array_get (caps, i));
      json_object_set_new (lin, "seccomp", rt_default_seccomp (names));
      free (names);
    }
  return 0;
}

/* ---- sysctls (pod securityContext.sysctls) -------------------------------------------- */

/* kubelet 1.32's safe set: allowed on every node. */
static const char *const safe_sysctls[] = {
  "kernel.shm_rmid_forced",         "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",        "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",    "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",   "net.ipv4.tcp_keepalive_probes",
};

/* The kernel namespace a sysctl lives in: "net", "ipc", or NULL (not namespaced). */
static const char *
sysctl_ns (const char *k)
{
  if (strncmp (k, "net.", 4) == 0)
    return "net";
  if (strncmp (k, "kernel.shm", 10) == 0 || strncmp (k, "kernel.msg", 10) == 0
      || streq (k, "kernel.sem") || strncmp (k, "fs.mqueue.", 10) == 0)
    return "ipc";
  return NULL;
}

/* k matches one of the comma-separated --allowed-unsafe-sysctls (a trailing * is a prefix). */
static bool
sysctl_unsafe_allowed (const char *list, const char *k)
{
  for (const char *s = list; s && *s;)
    {
      size_t n = strcspn (s, ",");
      if (n > 0 && s[n - 1] == '*' ? strncmp (s, k, n - 1) == 0 : strlen (k) == n && strncmp (s, k, n) == 0)
        return true;
      s += n + (s[n] == ',');
    }
  return false;
}

static bool
sysctl_safe (const char *k)
{
  for (size_t i = 0; i < ARRAY_SIZE (safe_sysctls); i++)
    if (streq (safe_sysctls[i], k))
      return true;
  return false;
}

/* kubelet's sysctl admission: the message of its SysctlForbidden rejection. */
int
pod_sysctl_admit (node_agent *a, node_pod *p, char **message)
{
  bool host_ipc = json_is_true (husk_json_path (p->obj, "spec.hostIPC"));
  size_t i;
  json_t *v;
  json_array_foreach (husk_json_path (p->obj, "spec.securityContext.sysctls"), i, v)
  {
    const char *k = json_string_value (json_object_get (v, "name"));
    if (k == NULL)
      k = "";
    const char *ns = sysctl_ns (k);
    if (!sysctl_safe (k) && (ns == NULL || !sysctl_unsafe_allowed (a->cfg->allowed_unsafe_sysctls, k)))
      *message = xasprintf ("Pod forbidden sysctl: \"%s\" not allowlisted", k);
    else if (ns && streq (ns, "net") && p->host_network)
      *message = xasprintf ("Pod forbidden sysctl: \"%s\" not allowed with host net enabled", k);
    else if (ns && streq (ns, "ipc") && host_ipc)
      *message = xasprintf ("Pod forbidden sysctl: \"%s\" not allowed with host ipc enabled", k);
    else
      continue;
    return -EPERM;
  }
  return 0;
}

json_t *
pod_sysctl_json (node_pod *p)
{
  json_t *sys = husk_json_path (p->obj, "spec.securityContext.sysctls");
  if (json_array_size (sys) == 0)
    return NULL;
  json_t *out = json_object ();
  size_t i;
  json_t *v;
  json_array_foreach (sys, i, v)
  {
    const char *k = json_string_value (json_object_get (v, "name"));
    const char *val = json_string_value (json_object_get (v, "value"));
    if (k && val)
      json_object_set_new (out, k, json_string (val));
  }
  return out;
}
