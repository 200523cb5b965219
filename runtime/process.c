/* husk runtime: the container process: decode, limits, identity, exec. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "runtime/internal.h"

static const struct
{
  const char *name;
  int res;
} rlimit_names[] = {
  {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
  {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
  {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
  {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
  {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
  {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
  {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

static int
decode_rlimits (json_t *arr, const char *where, rt_process *p, husk_error **err)
{
  size_t i;
  json_t *e;
  p->rlimits = xcalloc (json_array_size (arr) + 1, sizeof *p->rlimits);
  json_array_foreach (arr, i, e)
  {
    const char *type = json_string_value (json_object_get (e, "type"));
    json_t *soft = json_object_get (e, "soft"), *hard = json_object_get (e, "hard");
    if (!type || !soft || !hard)
      return husk_err (err, EINVAL, "%s.rlimits[%zu]: type, soft and hard are required", where, i);
    int res = -1;
    for (size_t k = 0; k < ARRAY_SIZE (rlimit_names); k++)
      if (streq (rlimit_names[k].name, type))
        res = rlimit_names[k].res;
    if (res < 0)
      return husk_err (err, EINVAL, "%s.rlimits[%zu].type: unknown rlimit \"%s\"", where, i, type);
    for (size_t k = 0; k < p->nrlimits; k++)
      if (p->rlimits[k].resource == res)
        return husk_err (err, EINVAL, "%s.rlimits[%zu].type: duplicate rlimit \"%s\"", where, i,
                         type);
    rt_rlimit *rl = &p->rlimits[p->nrlimits++];
    rl->resource = res;
    rl->soft = (rlim_t) json_integer_value (soft);
    rl->hard = (rlim_t) json_integer_value (hard);
    if (rl->soft > rl->hard)
      return husk_err (err, EINVAL, "%s.rlimits[%zu]: soft limit above hard limit", where, i);
  }
  return 0;
}

static int
decode_caps (json_t *caps, const char *where, rt_process *p, husk_error **err)
{
  static const char *const sets[RT_CAP_SETS] = {
    [RT_CAP_BOUNDING] = "bounding",       [RT_CAP_EFFECTIVE] = "effective",
    [RT_CAP_INHERITABLE] = "inheritable", [RT_CAP_PERMITTED] = "permitted",
    [RT_CAP_AMBIENT] = "ambient",
  };
  if (caps == NULL)
    return 0;
  p->has_caps = true;
  for (int i = 0; i < RT_CAP_SETS; i++)
    {
      _cleanup_free_ char *w = xasprintf ("%s.capabilities.%s", where, sets[i]);
      int r = rt_caps_parse (json_object_get (caps, sets[i]), w, &p->caps[i], err);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
decode_user (json_t *user, const char *where, rt_process *p, husk_error **err)
{
  if (user == NULL)
    return 0;
  p->uid = (uid_t) json_integer_value (json_object_get (user, "uid"));
  p->gid = (gid_t) json_integer_value (json_object_get (user, "gid"));
  json_t *um = json_object_get (user, "umask");
  if (um)
    {
      p->has_umask = true;
      p->umask = (mode_t) json_integer_value (um) & 0777;
    }
  json_t *g = json_object_get (user, "additionalGids"), *e;
  size_t i;
  p->ngroups = json_array_size (g);
  p->groups = xcalloc (p->ngroups + 1, sizeof *p->groups);
  json_array_foreach (g, i, e) p->groups[i] = (gid_t) json_integer_value (e);
  if (json_object_get (user, "username"))
    return husk_err (err, EINVAL, "%s.user.username: only for Windows", where);
  return 0;
}

static int
decode_process (json_t *j, const char *where, rt_process *p, husk_error **err)
{
  int r;
  p->terminal = json_is_true (json_object_get (j, "terminal"));
  json_t *cs = json_object_get (j, "consoleSize");
  if (cs)
    {
      p->rows = (unsigned short) json_integer_value (json_object_get (cs, "height"));
      p->cols = (unsigned short) json_integer_value (json_object_get (cs, "width"));
    }
  if ((r = husk_json_get_strv (j, "args", where, &p->args, err)) < 0
      || (r = husk_json_get_strv (j, "env", where, &p->env, err)) < 0)
    return r;
  if (p->env == NULL)
    p->env = xcalloc (1, sizeof (char *));
  for (size_t i = 0; p->env[i]; i++)
    if (strchr (p->env[i], '=') == NULL)
      return husk_err (err, EINVAL, "%s.env[%zu]: \"%s\" is not NAME=VALUE", where, i, p->env[i]);
  const char *cwd = json_string_value (json_object_get (j, "cwd"));
  if (cwd == NULL)
    cwd = "/";
  if (cwd[0] != '/')
    return husk_err (err, EINVAL, "%s.cwd: \"%s\" is not an absolute path", where, cwd);
  p->cwd = xstrdup (cwd);
  if (json_object_get (j, "commandLine"))
    return husk_err (err, EINVAL, "%s.commandLine: only for Windows", where);
  if ((r = decode_user (json_object_get (j, "user"), where, p, err)) < 0
      || (r = decode_caps (json_object_get (j, "capabilities"), where, p, err)) < 0
      || (r = decode_rlimits (json_object_get (j, "rlimits"), where, p, err)) < 0)
    return r;
  p->no_new_privs = json_is_true (json_object_get (j, "noNewPrivileges"));
  json_t *oom = json_object_get (j, "oomScoreAdj");
  if (oom)
    {
      p->has_oom = true;
      p->oom_score_adj = (int) json_integer_value (oom);
      if (p->oom_score_adj < -1000 || p->oom_score_adj > 1000)
        return husk_err (err, EINVAL, "%s.oomScoreAdj: %d is outside -1000..1000", where,
                         p->oom_score_adj);
    }
  if (json_object_get (j, "scheduler") || json_object_get (j, "ioPriority")
      || json_object_get (j, "execCPUAffinity"))
    return husk_err (err, EINVAL, "%s: scheduler, ioPriority and execCPUAffinity are not supported",
                     where);
  return 0;
}

/* On failure *p holds nothing (no allocation is left behind). */
int
rt_process_decode (json_t *j, const char *where, rt_process *p, husk_error **err)
{
  memset (p, 0, sizeof *p);
  int r = decode_process (j, where, p, err);
  if (r < 0)
    rt_process_clear (p);
  return r;
}

void
rt_process_clear (rt_process *p)
{
  strv_free (p->args);
  strv_free (p->env);
  free (p->cwd);
  free (p->groups);
  free (p->rlimits);
  memset (p, 0, sizeof *p);
}

int
rt_process_setup_limits (const rt_process *p, husk_error **err)
{
  for (size_t i = 0; i < p->nrlimits; i++)
    {
      struct rlimit rl = {p->rlimits[i].soft, p->rlimits[i].hard};
      if (setrlimit (p->rlimits[i].resource, &rl) < 0)
        return husk_err_errno (err, "process.rlimits[%zu]: setrlimit", i);
    }
  if (p->has_oom)
    {
      char v[16];
      snprintf (v, sizeof v, "%d", p->oom_score_adj);
      int r = rt_write_file ("/proc/self/oom_score_adj", v, err);
      if (r < 0)
        return husk_err_wrap (err, "process.oomScoreAdj");
    }
  return 0;
}

static const char *
env_get (char **env, const char *name)
{
  size_t n = strlen (name);
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], name, n) == 0 && env[i][n] == '=')
      return env[i] + n + 1;
  return NULL;
}

int
rt_process_find_exe (const rt_process *p, char **out, husk_error **err)
{
  const char *name = p->args[0];
  if (strchr (name, '/'))
    {
      if (access (name, X_OK) < 0)
        return husk_err_errno (err, "exec: \"%s\"", name);
      *out = xstrdup (name);
      return 0;
    }
  const char *path = env_get (p->env, "PATH");
  if (path == NULL)
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  _cleanup_free_ char *copy = xstrdup (path);
  char *save = NULL;
  for (char *dir = strtok_r (copy, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      _cleanup_free_ char *cand = xasprintf ("%s/%s", *dir ? dir : ".", name);
      struct stat st;
      if (stat (cand, &st) == 0 && S_ISREG (st.st_mode) && access (cand, X_OK) == 0)
        {
          *out = TAKE_PTR (cand);
          return 0;
        }
    }
  return husk_err (err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

static int
set_identity (const rt_process *p, husk_error **err)
{
  if (setgroups (p->ngroups, p->groups) < 0 && !(errno == EPERM && p->ngroups == 0))
    return husk_err_errno (err, "process.user.additionalGids: setgroups");
  if (setresgid (p->gid, p->gid, p->gid) < 0)
    return husk_err_errno (err, "process.user.gid: setgid %u", (unsigned) p->gid);
  if (setresuid (p->uid, p->uid, p->uid) < 0)
    return husk_err_errno (err, "process.user.uid: setuid %u", (unsigned) p->uid);
  return 0;
}

/* Order as runc: no_new_privs; seccomp before the identity change when no_new_privs is off
   (loading needs CAP_SYS_ADMIN then), else last; capabilities kept across setuid. */
int
rt_process_finalize (const rt_process *p, rt_seccomp *sc, husk_error **err)
{
  int r;
  if (p->has_umask)
    umask (p->umask);
  if (chdir (p->cwd) < 0)
    return husk_err_errno (err, "process.cwd: chdir %s", p->cwd);
  if (p->no_new_privs && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return husk_err_errno (err, "process.noNewPrivileges");
  if (sc && !p->no_new_privs && (r = rt_seccomp_load (sc, err)) < 0)
    return r;
  if (p->has_caps && (r = rt_caps_bounding (p, err)) < 0)
    return r;
  if (p->has_caps && prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return husk_err_errno (err, "prctl keepcaps");
  if ((r = set_identity (p, err)) < 0)
    return r;
  if (p->has_caps && (r = rt_caps_apply (p, err)) < 0)
    return r;
  if (sc && p->no_new_privs && (r = rt_seccomp_load (sc, err)) < 0)
    return r;
  return 0;
}

int
rt_process_exec (const rt_process *p, const char *exe)
{
  execve (exe, p->args, p->env);
  return -errno;
}
