/* husk runtime: cgroup v2. Every container gets its cgroup (tracking, kill, freeze) even
   where no controller is available; a limit needing a missing controller is an error
   unless the caller asked to skip limits. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/path.h"
#include "runtime/internal.h"

static int
read_mountpoint (char **out, husk_error **err)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/mountinfo", "re");
  if (f == NULL)
    return husk_err_errno (err, "open /proc/self/mountinfo");
  char *line = NULL, *mnt = NULL;
  size_t cap = 0;
  while (getline (&line, &cap, f) > 0)
    {
      /* id parent maj:min root mountpoint opts... - fstype source superopts */
      char *sep = strstr (line, " - ");
      if (sep == NULL || strncmp (sep + 3, "cgroup2 ", 8) != 0)
        continue;
      char *save = NULL, *tok = strtok_r (line, " ", &save);
      for (int i = 0; tok && i < 4; i++)
        tok = strtok_r (NULL, " ", &save);
      if (tok)
        mnt = xstrdup (tok);
      break;
    }
  free (line);
  if (mnt == NULL)
    return husk_err (err, ENOENT, "cgroup v2 is not mounted");
  *out = mnt;
  return 0;
}

/* Thread-safe: the first caller to finish publishes the path; a loser frees its copy. */
int
rt_cgroup_mountpoint (const char **out, husk_error **err)
{
  static char *mnt;
  char *cur = __atomic_load_n (&mnt, __ATOMIC_ACQUIRE);
  if (cur == NULL)
    {
      char *found = NULL, *expected = NULL;
      int r = read_mountpoint (&found, err);
      if (r < 0)
        return r;
      if (__atomic_compare_exchange_n (&mnt, &expected, found, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE))
        cur = found;
      else
        {
          free (found);
          cur = expected;
        }
    }
  *out = cur;
  return 0;
}

void
rt_cgroup_clear (rt_cgroup *cg)
{
  free (cg->path);
  free (cg->rel);
  free (cg->created);
  memset (cg, 0, sizeof *cg);
}

/* "slice:prefix:name" (systemd driver syntax) becomes /slice/prefix-name.scope. */
int
rt_cgroup_resolve (const char *cgroups_path, const char *id, rt_cgroup *out, husk_error **err)
{
  const char *mnt;
  int r = rt_cgroup_mountpoint (&mnt, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *rel = NULL;
  if (cgroups_path == NULL)
    rel = xasprintf ("/%s", id);
  else if (cgroups_path[0] != '/' && strchr (cgroups_path, ':'))
    {
      _cleanup_free_ char *copy = xstrdup (cgroups_path);
      char *slice = copy, *prefix = strchr (copy, ':'), *name;
      *prefix++ = '\0';
      name = strchr (prefix, ':');
      if (name == NULL)
        return husk_err (err, EINVAL, "linux.cgroupsPath: \"%s\" is not slice:prefix:name",
                         cgroups_path);
      *name++ = '\0';
      rel = xasprintf ("/%s/%s%s%s.scope", *slice ? slice : "husk.slice", prefix,
                       *prefix ? "-" : "", name);
    }
  else
    rel = xasprintf ("/%s", cgroups_path);
  _cleanup_free_ char *path = NULL;
  if (husk_path_join (mnt, rel, &path, err) < 0)
    return husk_err_wrap (err, "linux.cgroupsPath");
  if (streq (path, mnt))
    return husk_err (err, EINVAL, "linux.cgroupsPath: \"%s\" is the cgroup root",
                     cgroups_path ? cgroups_path : "");
  out->rel = xstrdup (path + strlen (mnt));
  out->path = TAKE_PTR (path);
  out->created = NULL;
  return 0;
}

int
rt_cgroup_create (rt_cgroup *cg, husk_error **err)
{
  const char *mnt;
  int r = rt_cgroup_mountpoint (&mnt, err);
  if (r < 0)
    return r;
  size_t base = strlen (mnt);
  _cleanup_free_ char *p = xstrdup (cg->path);
  for (char *s = p + base + 1;; s++)
    {
      bool end = *s == '\0';
      if (*s == '/' || end)
        {
          *s = '\0';
          if (mkdir (p, 0755) == 0)
            {
              if (cg->created == NULL)
                cg->created = xstrdup (p);
            }
          else if (errno != EEXIST)
            return husk_err_errno (err, "create cgroup %s", p);
          if (end)
            break;
          *s = '/';
        }
    }
  if (cg->created == NULL)
    {
      /* Reusing an existing cgroup is fine only when nothing runs in it. */
      pid_t *pids = NULL;
      size_t n = 0;
      if (rt_cgroup_pids (cg, &pids, &n, NULL) == 0 && n > 0)
        {
          free (pids);
          return husk_err (err, EBUSY, "cgroup %s is in use by %zu process(es)", cg->path, n);
        }
      free (pids);
    }
  return 0;
}

int
rt_cgroup_enter (const rt_cgroup *cg, pid_t pid, husk_error **err)
{
  _cleanup_free_ char *f = xasprintf ("%s/cgroup.procs", cg->path);
  char v[16];
  snprintf (v, sizeof v, "%d", (int) pid);
  return rt_write_file (f, v, err);
}

/* ---- resources -> files --------------------------------------------------------------- */

typedef struct cg_write
{
  char *file, *value;
} cg_write;

typedef struct cg_plan
{
  cg_write *v;
  size_t n;
} cg_plan;

static void
plan_add (cg_plan *p, const char *file, char *value)
{
  p->v = xreallocarray (p->v, p->n + 1, sizeof *p->v);
  p->v[p->n].file = xstrdup (file);
  p->v[p->n].value = value;
  p->n++;
}

static void
plan_free (cg_plan *p)
{
  for (size_t i = 0; i < p->n; i++)
    {
      free (p->v[i].file);
      free (p->v[i].value);
    }
  free (p->v);
}

#define GET(obj, key) json_object_get ((obj), (key))
#define INT(obj, key) json_integer_value (json_object_get ((obj), (key)))

static char *
max_or (json_int_t v)
{
  return v < 0 ? xstrdup ("max") : xasprintf ("%lld", (long long) v);
}

static int
plan_memory (cg_plan *p, json_t *m, const char *where, husk_error **err)
{
  if (m == NULL)
    return 0;
  if (GET (m, "limit"))
    plan_add (p, "memory.max", max_or (INT (m, "limit")));
  if (GET (m, "reservation"))
    plan_add (p, "memory.low", max_or (INT (m, "reservation")));
  if (GET (m, "swap"))
    {
      json_int_t swap = INT (m, "swap"), lim = INT (m, "limit");
      if (swap < 0)
        plan_add (p, "memory.swap.max", xstrdup ("max"));
      else if (GET (m, "limit") == NULL || lim < 0)
        return husk_err (err, EINVAL, "%s.memory.swap: needs memory.limit", where);
      else if (swap < lim)
        return husk_err (err, EINVAL, "%s.memory.swap: %lld is below memory.limit %lld", where,
                         (long long) swap, (long long) lim);
      else
        plan_add (p, "memory.swap.max", xasprintf ("%lld", (long long) (swap - lim)));
    }
  return 0;
}

static int
plan_cpu (cg_plan *p, json_t *c, const char *where, husk_error **err)
{
  if (c == NULL)
    return 0;
  if (GET (c, "realtimeRuntime") || GET (c, "realtimePeriod"))
    return husk_err (err, EINVAL, "%s.cpu: realtime limits do not exist in cgroup v2", where);
  if (GET (c, "shares") && INT (c, "shares") > 0)
    {
      json_int_t s = INT (c, "shares");
      if (s < 2)
        s = 2;
      if (s > 262144)
        s = 262144;
      plan_add (p, "cpu.weight", xasprintf ("%lld", (long long) (1 + ((s - 2) * 9999) / 262142)));
    }
  if (GET (c, "quota") || GET (c, "period"))
    {
      json_int_t q = GET (c, "quota") ? INT (c, "quota") : -1;
      json_int_t per = GET (c, "period") && INT (c, "period") ? INT (c, "period") : 100000;
      plan_add (p, "cpu.max",
                q > 0 ? xasprintf ("%lld %lld", (long long) q, (long long) per)
                      : xasprintf ("max %lld", (long long) per));
    }
  if (GET (c, "burst"))
    plan_add (p, "cpu.max.burst", xasprintf ("%lld", (long long) INT (c, "burst")));
  if (GET (c, "idle"))
    plan_add (p, "cpu.idle", xasprintf ("%lld", (long long) INT (c, "idle")));
  const char *cpus = json_string_value (GET (c, "cpus"));
  const char *mems = json_string_value (GET (c, "mems"));
  if (cpus && *cpus)
    plan_add (p, "cpuset.cpus", xstrdup (cpus));
  if (mems && *mems)
    plan_add (p, "cpuset.mems", xstrdup (mems));
  return 0;
}

static void
plan_throttle (cg_plan *p, json_t *arr, const char *key)
{
  size_t i;
  json_t *d;
  json_array_foreach (arr, i, d)
  {
    json_int_t rate = INT (d, "rate");
    _cleanup_free_ char *rs = rate ? xasprintf ("%lld", (long long) rate) : xstrdup ("max");
    plan_add (p, "io.max",
              xasprintf ("%lld:%lld %s=%s", (long long) INT (d, "major"),
                         (long long) INT (d, "minor"), key, rs));
  }
}

static json_int_t
io_weight (json_int_t w)
{
  return 1 + (w - 10) * 9999 / 990;
}

static int
plan_io (cg_plan *p, json_t *b, const char *where, husk_error **err)
{
  if (b == NULL)
    return 0;
  if (GET (b, "weight") && INT (b, "weight"))
    {
      json_int_t w = INT (b, "weight");
      if (w < 10 || w > 1000)
        return husk_err (err, EINVAL, "%s.blockIO.weight: %lld is outside 10..1000", where,
                         (long long) w);
      plan_add (p, "io.weight", xasprintf ("default %lld", (long long) io_weight (w)));
    }
  size_t i;
  json_t *d;
  json_array_foreach (GET (b, "weightDevice"), i, d)
  {
    if (GET (d, "weight"))
      plan_add (p, "io.weight",
                xasprintf ("%lld:%lld %lld", (long long) INT (d, "major"),
                           (long long) INT (d, "minor"), (long long) io_weight (INT (d, "weight"))));
  }
  plan_throttle (p, GET (b, "throttleReadBpsDevice"), "rbps");
  plan_throttle (p, GET (b, "throttleWriteBpsDevice"), "wbps");
  plan_throttle (p, GET (b, "throttleReadIOPSDevice"), "riops");
  plan_throttle (p, GET (b, "throttleWriteIOPSDevice"), "wiops");
  return 0;
}

static int
plan_rest (cg_plan *p, json_t *res, const char *where, husk_error **err)
{
  size_t i;
  json_t *h, *v;
  json_array_foreach (GET (res, "hugepageLimits"), i, h)
  {
    const char *size = json_string_value (GET (h, "pageSize"));
    if (size == NULL || !*size || strchr (size, '/') || strchr (size, '.'))
      return husk_err (err, EINVAL, "%s.hugepageLimits[%zu].pageSize: invalid", where, i);
    _cleanup_free_ char *file = xasprintf ("hugetlb.%s.max", size);
    plan_add (p, file, xasprintf ("%lld", (long long) INT (h, "limit")));
  }
  json_t *pids = GET (res, "pids");
  if (pids && GET (pids, "limit"))
    plan_add (p, "pids.max", INT (pids, "limit") > 0 ? xasprintf ("%lld", (long long) INT (pids, "limit"))
                                                      : xstrdup ("max"));
  if (GET (res, "network") || GET (res, "rdma"))
    return husk_err (err, EINVAL, "%s: network and rdma limits are not supported", where);
  const char *k;
  json_object_foreach (GET (res, "unified"), k, v)
  {
    if (strchr (k, '/') || !strchr (k, '.') || k[0] == '.')
      return husk_err (err, EINVAL, "%s.unified.%s: not a cgroup file name", where, k);
    plan_add (p, k, xstrdup (json_string_value (v)));
  }
  json_array_foreach (GET (res, "devices"), i, h)
  {
    const char *t = json_string_value (GET (h, "type"));
    const char *a = json_string_value (GET (h, "access"));
    if (t && (strlen (t) != 1 || !strchr ("acb", t[0])))
      return husk_err (err, EINVAL, "%s.devices[%zu].type: \"%s\" is not a, c or b", where, i, t);
    if (a && strspn (a, "rwm") != strlen (a))
      return husk_err (err, EINVAL, "%s.devices[%zu].access: \"%s\" is not made of r, w, m",
                       where, i, a);
  }
  return 0;
}

static int
make_plan (json_t *res, const char *where, cg_plan *p, husk_error **err)
{
  int r;
  if ((r = plan_memory (p, GET (res, "memory"), where, err)) < 0
      || (r = plan_cpu (p, GET (res, "cpu"), where, err)) < 0
      || (r = plan_io (p, GET (res, "blockIO"), where, err)) < 0
      || (r = plan_rest (p, res, where, err)) < 0)
    return r;
  return 0;
}

int
rt_cgroup_plan_json (json_t *resources, json_t **out, husk_error **err)
{
  cg_plan p = {0};
  int r = make_plan (resources, "linux.resources", &p, err);
  if (r == 0)
    {
      /* io.max and io.weight may be written several times: values are joined with '\n'. */
      json_t *o = json_object ();
      for (size_t i = 0; i < p.n; i++)
        {
          const char *prev = json_string_value (json_object_get (o, p.v[i].file));
          _cleanup_free_ char *v = prev ? xasprintf ("%s\n%s", prev, p.v[i].value)
                                        : xstrdup (p.v[i].value);
          json_object_set_new (o, p.v[i].file, json_string (v));
        }
      *out = o;
    }
  plan_free (&p);
  return r;
}

int
rt_cgroup_check_resources (json_t *resources, const char *where, husk_error **err)
{
  cg_plan p = {0};
  int r = make_plan (resources, where, &p, err);
  plan_free (&p);
  return r;
}

static bool
controller_in (const char *file, const char *ctrl)
{
  _cleanup_free_ char *data = NULL;
  if (husk_read_file (file, &data, NULL, NULL) < 0 || data == NULL)
    return false;
  size_t n = strlen (ctrl);
  char *save = NULL;
  for (char *s = strtok_r (data, " \n", &save); s; s = strtok_r (NULL, " \n", &save))
    if (strlen (s) == n && strncmp (s, ctrl, n) == 0)
      return true;
  return false;
}

/* Enables ctrl in every ancestor's subtree_control down to cg's parent. 1: available. */
static int
enable_controller (const rt_cgroup *cg, const char *ctrl, husk_error **err)
{
  const char *mnt;
  if (rt_cgroup_mountpoint (&mnt, err) < 0)
    return -1;
  _cleanup_free_ char *rootc = xasprintf ("%s/cgroup.controllers", mnt);
  if (!controller_in (rootc, ctrl))
    return 0;
  if (cg == NULL)
    return 1;
  _cleanup_free_ char *p = xstrdup (cg->path);
  size_t base = strlen (mnt);
  char *last = strrchr (p, '/');
  for (char *s = p + base;; s = strchr (s + 1, '/'))
    {
      char save = *s;
      *s = '\0';
      _cleanup_free_ char *sc = xasprintf ("%s/cgroup.subtree_control", p);
      *s = save;
      if (!controller_in (sc, ctrl))
        {
          _cleanup_free_ char *v = xasprintf ("+%s", ctrl);
          if (rt_write_file (sc, v, err) < 0)
            return husk_err_wrap (err, "enable cgroup controller %s", ctrl);
        }
      if (s == last)
        break;
    }
  return 1;
}

/* "max" or "max <period>" (cpu.max): the default, i.e. no limit. */
static bool
is_unlimited (const char *v)
{
  return strncmp (v, "max", 3) == 0 && (v[3] == '\0' || v[3] == ' ' || v[3] == '\n');
}

int
rt_cgroup_apply (const rt_cgroup *cg, json_t *resources, bool skip_limits, husk_error **err)
{
  if (resources == NULL)
    return 0;
  cg_plan p = {0};
  int r = make_plan (resources, "linux.resources", &p, err);
  const char *mnt = NULL;
  if (r == 0)
    r = rt_cgroup_mountpoint (&mnt, err);
  for (size_t i = 0; i < p.n && r >= 0; i++)
    {
      _cleanup_free_ char *ctrl = xstrndup (p.v[i].file, strcspn (p.v[i].file, "."));
      int avail = streq (ctrl, "cgroup") ? 1 : enable_controller (cg, ctrl, err);
      if (avail < 0)
        r = avail;
      else if (avail == 0 && is_unlimited (p.v[i].value))
        continue; /* "max" asks for no limit: nothing to apply, nothing lost */
      else if (avail == 0 && skip_limits)
        {
          if (cg) /* once, when applying (not when checking the config) */
            log_warn ("cgroup controller unavailable, limit skipped", "file", p.v[i].file,
                      "value", p.v[i].value, "cgroup_root", mnt);
        }
      else if (avail == 0)
        r = husk_err (err, EOPNOTSUPP,
                      "linux.resources: cannot set %s=%s: the cgroup v2 controller \"%s\" is "
                      "not available at %s (set %s=1 or --skip-limits to run without limits)",
                      p.v[i].file, p.v[i].value, ctrl, mnt, RT_ENV_SKIP_LIMITS);
      else if (cg)
        {
          _cleanup_free_ char *f = xasprintf ("%s/%s", cg->path, p.v[i].file);
          r = rt_write_file (f, p.v[i].value, err);
          if (r < 0)
            husk_err_wrap (err, "linux.resources");
        }
    }
  plan_free (&p);
  return r;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static int
read_key (const char *file, const char *key, long long *out)
{
  _cleanup_free_ char *data = NULL;
  if (husk_read_file (file, &data, NULL, NULL) < 0)
    return -1;
  size_t n = strlen (key);
  char *save = NULL;
  if (data == NULL)
    return -1;
  for (char *line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (strncmp (line, key, n) == 0 && line[n] == ' ')
      {
        *out = atoll (line + n + 1);
        return 0;
      }
  return -1;
}

/* Polls cgroup.events until key has value (up to ~5 s). */
static int
wait_event (const rt_cgroup *cg, const char *key, long long want)
{
  _cleanup_free_ char *f = xasprintf ("%s/cgroup.events", cg->path);
  for (int i = 0; i < 5000; i++)
    {
      long long v;
      if (read_key (f, key, &v) < 0)
        return -1;
      if (v == want)
        return 0;
      usleep (i < 100 ? 100 : 1000);
    }
  return -1;
}

int
rt_cgroup_kill (const rt_cgroup *cg, husk_error **err)
{
  _cleanup_free_ char *f = xasprintf ("%s/cgroup.kill", cg->path);
  if (access (cg->path, F_OK) < 0)
    return 0;
  int r = rt_write_file (f, "1", err);
  if (r < 0)
    return r;
  if (wait_event (cg, "populated", 0) < 0)
    return husk_err (err, EBUSY, "cgroup %s: processes remain after cgroup.kill", cg->path);
  return 0;
}

int
rt_cgroup_destroy (const rt_cgroup *cg, husk_error **err)
{
  if (rmdir (cg->path) < 0 && errno != ENOENT)
    {
      /* A process may still be exiting. */
      if (errno != EBUSY || wait_event (cg, "populated", 0) < 0 || rmdir (cg->path) < 0)
        return husk_err_errno (err, "remove cgroup %s", cg->path);
    }
  if (cg->created == NULL)
    return 0;
  _cleanup_free_ char *p = xstrdup (cg->path);
  for (char *s = strrchr (p, '/'); s && strlen (p) > strlen (cg->created); s = strrchr (p, '/'))
    {
      *s = '\0';
      if (rmdir (p) < 0)
        break; /* shared with someone else */
    }
  return 0;
}

int
rt_cgroup_freeze (const rt_cgroup *cg, bool frozen, husk_error **err)
{
  _cleanup_free_ char *f = xasprintf ("%s/cgroup.freeze", cg->path);
  int r = rt_write_file (f, frozen ? "1" : "0", err);
  if (r < 0)
    return r;
  if (wait_event (cg, "frozen", frozen ? 1 : 0) < 0)
    return husk_err (err, EBUSY, "cgroup %s did not %s", cg->path, frozen ? "freeze" : "thaw");
  return 0;
}

int
rt_cgroup_is_frozen (const rt_cgroup *cg)
{
  _cleanup_free_ char *f = xasprintf ("%s/cgroup.freeze", cg->path);
  _cleanup_free_ char *data = NULL;
  if (husk_read_file (f, &data, NULL, NULL) < 0)
    return 0;
  return data[0] == '1';
}

int
rt_cgroup_pids (const rt_cgroup *cg, pid_t **out, size_t *n, husk_error **err)
{
  _cleanup_free_ char *f = xasprintf ("%s/cgroup.procs", cg->path);
  _cleanup_free_ char *data = NULL;
  int r = husk_read_file (f, &data, NULL, err);
  if (r < 0)
    return r;
  pid_t *v = NULL;
  size_t cnt = 0;
  char *save = NULL;
  for (char *s = data ? strtok_r (data, "\n", &save) : NULL; s; s = strtok_r (NULL, "\n", &save))
    {
      v = xreallocarray (v, cnt + 1, sizeof *v);
      v[cnt++] = (pid_t) atoi (s);
    }
  *out = v;
  *n = cnt;
  return 0;
}

static json_t *
flat_keyed (const char *file)
{
  _cleanup_free_ char *data = NULL;
  if (husk_read_file (file, &data, NULL, NULL) < 0)
    return NULL;
  json_t *o = json_object ();
  char *save = NULL;
  for (char *line = data ? strtok_r (data, "\n", &save) : NULL; line;
       line = strtok_r (NULL, "\n", &save))
    {
      char *sp = strchr (line, ' ');
      if (sp == NULL)
        {
          json_decref (o);
          return json_integer (atoll (line));
        }
      *sp = '\0';
      char *end;
      long long n = strtoll (sp + 1, &end, 10);
      json_object_set_new (o, line, *end ? json_string (sp + 1) : json_integer (n));
    }
  return o;
}

int
rt_cgroup_stats (const rt_cgroup *cg, json_t **out, husk_error **err)
{
  static const char *const files[] = {"cpu.stat",    "memory.current", "memory.max",
                                      "memory.stat", "memory.events",  "pids.current",
                                      "pids.max",    "io.stat"};
  if (access (cg->path, F_OK) < 0)
    return husk_err_errno (err, "cgroup %s", cg->path);
  json_t *o = json_object ();
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      _cleanup_free_ char *f = xasprintf ("%s/%s", cg->path, files[i]);
      json_t *v = flat_keyed (f);
      if (v)
        json_object_set_new (o, files[i], v);
    }
  *out = o;
  return 0;
}
