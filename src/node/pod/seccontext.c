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
#include "src/node/pod/sysctl.h"

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

/* kubelet's sysctl admission: the message of its SysctlForbidden rejection. Names are
   normalized first ('/' as the separator is accepted, as kubelet does). */
int
pod_sysctl_admit (node_agent *a, node_pod *p, char **message)
{
  bool host_ipc = json_is_true (husk_json_path (p->obj, "spec.hostIPC"));
  size_t i;
  json_t *v;
  json_array_foreach (husk_json_path (p->obj, "spec.securityContext.sysctls"), i, v)
  {
    const char *name = json_string_value (json_object_get (v, "name"));
    _cleanup_free_ char *k = sysctl_normalize (name ? name : "");
    const char *ns = sysctl_namespace (k);
    if (!sysctl_is_safe (k) && (ns == NULL || !sysctl_allowlist_match (a->cfg->allowed_unsafe_sysctls, k)))
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
      {
        _cleanup_free_ char *dotted = sysctl_normalize (k);
        json_object_set_new (out, dotted, json_string (val));
      }
  }
  return out;
}
