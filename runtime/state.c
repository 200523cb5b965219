/* husk runtime: container state under <root>/<id>/ (state.json, exec.fifo), so that any
   process can find, signal and delete containers it did not start. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>

#include "lib/path.h"
#include "runtime/internal.h"

int
rt_state_check_id (const char *id, husk_error **err)
{
  size_t n = strlen (id);
  if (n == 0 || n > 1024 || streq (id, ".") || streq (id, ".."))
    return husk_err (err, EINVAL, "invalid container id \"%s\"", id);
  for (const char *p = id; *p; p++)
    if (!isalnum ((unsigned char) *p) && !strchr ("_+-.", *p))
      return husk_err (err, EINVAL, "invalid container id \"%s\"", id);
  return 0;
}

int
rt_state_dir (const char *root, const char *id, char **out, husk_error **err)
{
  int r = rt_state_check_id (id, err);
  if (r < 0)
    return r;
  *out = xasprintf ("%s/%s", root, id);
  return 0;
}

int
rt_state_save (const rt_state *st, husk_error **err)
{
  _cleanup_json_ json_t *j = json_pack (
    "{s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s?}, s:O}", "id", st->id, "pid",
    (int) st->pid, "start_time", (json_int_t) st->start_time, "bundle", st->bundle, "rootfs",
    st->rootfs, "created", st->created, "owner", st->owner ? st->owner : "", "cgroup", "path",
    st->cg.path, "rel", st->cg.rel, "created", st->cg.created, "config", st->config);
  if (j == NULL)
    return husk_err (err, EINVAL, "state of %s: cannot encode", st->id);
  _cleanup_free_ char *data = husk_json_dump (j);
  _cleanup_free_ char *path = xasprintf ("%s/state.json", st->dir);
  return rt_write_file_atomic (path, data, 0600, err);
}

static char *
dup_str (json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? xstrdup (s) : NULL;
}

int
rt_state_load (const char *root, const char *id, rt_state *st, husk_error **err)
{
  _cleanup_free_ char *dir = NULL;
  int r = rt_state_dir (root, id, &dir, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *path = xasprintf ("%s/state.json", dir);
  if (access (path, F_OK) < 0)
    return husk_err (err, ENOENT, "container \"%s\" does not exist", id);
  _cleanup_json_ json_t *j = NULL;
  if ((r = husk_json_load_file (path, &j, err)) < 0)
    return r;
  memset (st, 0, sizeof *st);
  st->id = xstrdup (id);
  st->dir = TAKE_PTR (dir);
  st->pid = (pid_t) json_integer_value (json_object_get (j, "pid"));
  st->start_time = (unsigned long long) json_integer_value (json_object_get (j, "start_time"));
  st->bundle = dup_str (j, "bundle");
  st->rootfs = dup_str (j, "rootfs");
  st->created = dup_str (j, "created");
  st->owner = dup_str (j, "owner");
  json_t *cg = json_object_get (j, "cgroup");
  st->cg.path = dup_str (cg, "path");
  st->cg.rel = dup_str (cg, "rel");
  st->cg.created = dup_str (cg, "created");
  st->config = json_incref (json_object_get (j, "config"));
  st->annotations = json_incref (json_object_get (st->config, "annotations"));
  if (st->cg.path == NULL || st->config == NULL)
    {
      rt_state_clear (st);
      return husk_err (err, EINVAL, "%s: incomplete state", path);
    }
  return 0;
}

void
rt_state_clear (rt_state *st)
{
  free (st->id);
  free (st->bundle);
  free (st->rootfs);
  free (st->created);
  free (st->owner);
  free (st->dir);
  rt_cgroup_clear (&st->cg);
  json_decref (st->config);
  json_decref (st->annotations);
  memset (st, 0, sizeof *st);
}

/* Field 22 of /proc/pid/stat; 0 when the process is gone or a zombie. */
unsigned long long
rt_proc_start_time (pid_t pid)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  _cleanup_free_ char *data = NULL;
  if (husk_read_file (path, &data, NULL, NULL) < 0)
    return 0;
  char *p = strrchr (data, ')');
  if (p == NULL || p[1] == '\0')
    return 0;
  p += 2;
  if (*p == 'Z' || *p == 'X')
    return 0;
  for (int field = 3; field < 22 && p; field++)
    {
      p = strchr (p, ' ');
      if (p)
        p++;
    }
  return p ? strtoull (p, NULL, 10) : 0;
}

bool
rt_state_alive (const rt_state *st)
{
  return st->pid > 0 && rt_proc_start_time (st->pid) == st->start_time;
}

const char *
rt_state_status (const rt_state *st)
{
  if (!rt_state_alive (st))
    return "stopped";
  _cleanup_free_ char *fifo = xasprintf ("%s/exec.fifo", st->dir);
  if (access (fifo, F_OK) == 0)
    return "created";
  if (rt_cgroup_is_frozen (&st->cg))
    return "paused";
  return "running";
}

json_t *
rt_state_to_json (const rt_state *st, const char *status)
{
  json_t *j = json_object ();
  json_object_set_new (j, "ociVersion", json_string (RT_OCI_VERSION));
  json_object_set_new (j, "id", json_string (st->id));
  json_object_set_new (j, "pid", json_integer (streq (status, "stopped") ? 0 : st->pid));
  json_object_set_new (j, "status", json_string (status));
  json_object_set_new (j, "bundle", json_string (st->bundle ? st->bundle : ""));
  json_object_set_new (j, "rootfs", json_string (st->rootfs ? st->rootfs : ""));
  json_object_set_new (j, "created", json_string (st->created ? st->created : ""));
  if (st->annotations && json_object_size (st->annotations))
    json_object_set (j, "annotations", st->annotations);
  json_object_set_new (j, "owner", json_string (st->owner ? st->owner : ""));
  return j;
}
