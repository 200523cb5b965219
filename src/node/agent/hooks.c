/* husk node agent: lifecycle hooks and grace periods (see hooks.h). */
#include <errno.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "src/node/agent/agent-internal.h"
#include "src/node/agent/hooks.h"

static char *
pod_ref (json_t *pod)
{
  const char *n = husk_json_path_str (pod, "metadata.name");
  const char *ns = husk_json_path_str (pod, "metadata.namespace");
  const char *uid = husk_json_path_str (pod, "metadata.uid");
  return xasprintf ("%s_%s(%s)", n ? n : "", ns ? ns : "default", uid ? uid : "");
}

static char *
join_cmd (char **argv, const char *sep)
{
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_puts (&b, "");
  for (char **a = argv; a && *a; a++)
    husk_buf_printf (&b, "%s%s", a == argv ? "" : sep, *a);
  return husk_buf_steal (&b);
}

static int
hook_sleep (json_t *sleep_obj, int timeout_s, husk_error **err)
{
  json_t *sec = json_object_get (sleep_obj, "seconds");
  if (!json_is_integer (sec) || json_integer_value (sec) < 0)
    return husk_err (err, EINVAL, "sleep.seconds: must be a non-negative integer");
  int64_t s = json_integer_value (sec);
  if (timeout_s > 0 && s > timeout_s)
    s = timeout_s;
  struct timespec ts = { .tv_sec = s };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
  return 0;
}

int
agent_hook_run (json_t *pod, json_t *container, json_t *handler, const agent_probe_target *t,
                int timeout_s, husk_error **err)
{
  const char *cname = json_string_value (json_object_get (container, "name"));
  _cleanup_free_ char *pref = pod_ref (pod);
  if (!cname)
    cname = "";
  if (json_object_get (handler, "sleep"))
    return hook_sleep (json_object_get (handler, "sleep"), timeout_s, err);
  if (json_object_get (handler, "tcpSocket"))
    return husk_err (err, ENOTSUP,
                     "tcpSocket lifecycle hooks are not supported (Container \"%s\" in Pod \"%s\")",
                     cname, pref);
  json_t *x;
  if ((x = json_object_get (handler, "exec")))
    {
      _cleanup_strv_ char **argv = NULL;
      int ret = husk_json_get_strv (x, "command", "exec", &argv, err);
      if (ret < 0)
        return ret;
      if (!argv || !argv[0])
        return husk_err (err, EINVAL, "exec.command: Required value");
      if (!t || !t->exec)
        return husk_err (err, ENOTSUP, "exec lifecycle hooks need the container runtime");
      int code = -1;
      _cleanup_free_ char *out = NULL;
      husk_error *e2 = NULL;
      _cleanup_free_ char *list = join_cmd (argv, " ");
      ret = t->exec (t->exec_ud, argv, timeout_s > 0 ? timeout_s * 1000 : -1, &code, &out, &e2);
      if (ret >= 0 && code == 0)
        return 0;
      _cleanup_free_ char *why = ret < 0 ? xstrdup (e2 ? e2->msg : "exec failed")
                                         : xasprintf ("command '%s' exited with %d: ", list, code);
      _cleanup_free_ char *q = agent_go_quote (out ? out : "");
      husk_error_free (e2);
      return husk_err (
          err, EIO,
          "Exec lifecycle hook ([%s]) for Container \"%s\" in Pod \"%s\" failed - error: %s, "
          "message: %s",
          list, cname, pref, why, q);
    }
  if (!(x = json_object_get (handler, "httpGet")))
    return husk_err (err, EINVAL, "lifecycle handler: no exec, httpGet or sleep");
  _cleanup_json_ json_t *probe = json_object ();
  json_object_set (probe, "httpGet", x);
  json_object_set_new (probe, "timeoutSeconds", json_integer (timeout_s > 0 ? timeout_s : 1));
  agent_probe_spec *s = NULL;
  int ret = agent_probe_spec_parse (probe, container, AGENT_PROBE_READINESS, &s, err);
  if (ret < 0)
    return husk_err_wrap (err, "lifecycle hook for Container \"%s\" in Pod \"%s\"", cname, pref);
  _cleanup_free_ char *msg = NULL;
  agent_probe_result r = agent_probe_run (s, t, &msg);
  if (r != AGENT_PROBE_SUCCESS)
    ret = husk_err (
        err, EIO, "HTTP lifecycle hook (%s) for Container \"%s\" in Pod \"%s\" failed - error: %s",
        s->path, cname, pref, msg ? msg : "");
  agent_probe_spec_free (s);
  return ret < 0 ? ret : 0;
}

int64_t
agent_grace_seconds (json_t *pod, const agent_probe_spec *failed_probe)
{
  int64_t g = AGENT_DEFAULT_GRACE_SECONDS;
  json_t *d = husk_json_path (pod, "metadata.deletionGracePeriodSeconds");
  json_t *s = husk_json_path (pod, "spec.terminationGracePeriodSeconds");
  if (json_is_integer (d))
    g = json_integer_value (d);
  else
    {
      if (json_is_integer (s))
        g = json_integer_value (s);
      if (failed_probe && failed_probe->termination_grace >= 0)
        g = failed_probe->termination_grace;
    }
  return g < AGENT_MIN_GRACE_SECONDS ? AGENT_MIN_GRACE_SECONDS : g;
}

int64_t
agent_grace_after_hook (int64_t grace_s, int64_t hook_ms)
{
  int64_t left = grace_s - (hook_ms + 999) / 1000;
  return left < AGENT_MIN_GRACE_SECONDS ? AGENT_MIN_GRACE_SECONDS : left;
}
