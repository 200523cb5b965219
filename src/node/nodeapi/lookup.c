/* husk node API: which pod and container a request names, from what the agent leaves on
   disk: the CRI log directory <log_dir>/<ns>_<pod>_<uid> and the runtime's state
   (sandbox "pod-<uid>", containers "<uid>-<name>"). No state is shared with the agent's
   loop. */
#include "config.h"

#include <dirent.h>
#include <errno.h>

#include "lib/json.h"
#include "runtime/runtime.h"
#include "src/node/nodeapi/nodeapi-internal.h"

static bool
is_running (nodeapi *s, const char *id)
{
  _cleanup_json_ json_t *st = NULL;
  if (rt_container_state (s->rt_root, id, &st, NULL) < 0)
    return false;
  const char *status = husk_json_path_str (st, "status");
  return status && streq (status, "running");
}

static bool
bad_name (const char *s)
{
  return s == NULL || *s == '\0' || strchr (s, '/') || strchr (s, '_') || streq (s, ".")
         || streq (s, "..");
}

int
nodeapi_pod_uid (nodeapi *s, const char *ns, const char *name, const char *uid, char **out,
                 husk_error **err)
{
  if (bad_name (ns) || bad_name (name) || (uid && (*uid == '\0' || strchr (uid, '/'))))
    return husk_err (err, EINVAL, "bad pod name %s/%s", ns ? ns : "", name ? name : "");
  _cleanup_free_ char *prefix = xasprintf ("%s_%s_", ns, name);
  size_t pl = strlen (prefix);
  DIR *d = opendir (s->log_dir);
  if (d == NULL)
    return husk_err (err, ENOENT, "pod %s/%s not found on this node", ns, name);
  char *found = NULL;
  struct dirent *e;
  while ((e = readdir (d)))
    {
      if (strncmp (e->d_name, prefix, pl) != 0)
        continue;
      const char *u = e->d_name + pl;
      if (uid && !streq (u, uid))
        continue;
      _cleanup_free_ char *sandbox = xasprintf ("pod-%s", u);
      bool running = is_running (s, sandbox);
      if (found == NULL || running)
        {
          free (found);
          found = xstrdup (u);
        }
      if (running)
        break;
    }
  closedir (d);
  if (found == NULL)
    return husk_err (err, ENOENT, "pod %s/%s not found on this node", ns, name);
  *out = found;
  return 0;
}

int
nodeapi_ctr_id (nodeapi *s, const char *uid, const char *ctr, char **out, husk_error **err)
{
  if (bad_name (ctr))
    return husk_err (err, EINVAL, "bad container name");
  char *id = xasprintf ("%s-%s", uid, ctr);
  if (!is_running (s, id))
    {
      free (id);
      return husk_err (err, ENOENT, "container not found (\"%s\")", ctr);
    }
  *out = id;
  return 0;
}

void
nodeapi_count (nodeapi *s, int *pods, int *ctrs)
{
  _cleanup_json_ json_t *list = NULL;
  *pods = *ctrs = 0;
  if (rt_container_list (s->rt_root, &list, NULL) < 0)
    return;
  size_t i;
  json_t *c;
  json_array_foreach (list, i, c)
  {
    const char *id = husk_json_path_str (c, "id");
    const char *st = husk_json_path_str (c, "status");
    if (id == NULL || st == NULL || !streq (st, "running"))
      continue;
    if (strncmp (id, "pod-", 4) == 0)
      (*pods)++;
    else
      (*ctrs)++;
  }
}
