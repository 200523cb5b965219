/* husk node agent: static pods (see static.h). */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "lib/path.h"
#include "lib/yaml.h"
#include "src/node/agent/static.h"
#include "src/node/agent/status.h"

/* Two FNV-1a 64-bit hashes with different offsets: a 128-bit stable identifier. */
static char *
uid_of (const char *data, size_t len, const char *node, const char *path)
{
  uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };
  const char *parts[3] = { data, node, path };
  size_t lens[3] = { len, strlen (node), strlen (path) };
  for (int k = 0; k < 2; k++)
    for (int p = 0; p < 3; p++)
      {
        for (size_t i = 0; i < lens[p]; i++)
          {
            h[k] ^= (unsigned char)parts[p][i];
            h[k] *= 0x100000001b3ULL;
          }
        h[k] ^= 0xff; /* separator */
        h[k] *= 0x100000001b3ULL;
      }
  return xasprintf ("%016llx%016llx", (unsigned long long)h[0], (unsigned long long)h[1]);
}

static void
add_error (char ***errors, size_t *n, char *msg)
{
  *errors = xreallocarray (*errors, *n + 2, sizeof **errors);
  (*errors)[(*n)++] = msg;
  (*errors)[*n] = NULL;
}

static int
cmp_name (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static json_t *
obj (json_t *parent, const char *key)
{
  json_t *o = json_object_get (parent, key);
  if (!json_is_object (o))
    {
      o = json_object ();
      json_object_set_new (parent, key, o);
    }
  return o;
}

static char *
lower (const char *s)
{
  char *l = xstrdup (s);
  for (char *c = l; *c; c++)
    if (*c >= 'A' && *c <= 'Z')
      *c += 'a' - 'A';
  return l;
}

int
agent_static_pods_load (const char *dir, const char *node_name, int64_t now, json_t **out,
                        char ***errors, husk_error **err)
{
  DIR *d = opendir (dir);
  if (!d)
    return husk_err_errno (err, "static pod directory %s", dir);
  char **names = NULL;
  size_t n = 0, nerr = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      names = xreallocarray (names, n + 1, sizeof *names);
      names[n++] = xstrdup (de->d_name);
    }
  closedir (d);
  if (n)
    qsort (names, n, sizeof *names, cmp_name);
  json_t *pods = json_array ();
  char **errs = xcalloc (1, sizeof *errs);
  _cleanup_free_ char *node = lower (node_name ? node_name : "");
  _cleanup_free_ char *seen = agent_format_time (now);
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *path = xasprintf ("%s/%s", dir, names[i]);
      _cleanup_free_ char *data = NULL;
      size_t len = 0;
      husk_error *e = NULL;
      struct stat st;
      json_t *pod = NULL;
      if (stat (path, &st) < 0 || !S_ISREG (st.st_mode))
        continue;
      if (husk_read_file (path, &data, &len, &e) < 0
          || husk_yaml_to_json_one (data, len, &pod, &e) < 0)
        {
          add_error (&errs, &nerr, xasprintf ("%s: %s", path, e ? e->msg : "unreadable"));
          husk_error_free (e);
          continue;
        }
      const char *kind = json_string_value (json_object_get (pod, "kind"));
      const char *name = husk_json_path_str (pod, "metadata.name");
      if (!json_is_object (pod) || !kind || !streq (kind, "Pod") || !name || !*name)
        {
          add_error (&errs, &nerr, xasprintf ("%s: not a Pod with a metadata.name", path));
          json_decref (pod);
          continue;
        }
      json_t *meta = obj (pod, "metadata"), *spec = obj (pod, "spec");
      _cleanup_free_ char *uid = uid_of (data, len, node, path);
      _cleanup_free_ char *full = xasprintf ("%s-%s", name, node);
      json_object_set_new (meta, "name", json_string (full));
      if (!json_string_value (json_object_get (meta, "namespace"))
          || !*json_string_value (json_object_get (meta, "namespace")))
        json_object_set_new (meta, "namespace", json_string ("default"));
      if (!json_string_value (json_object_get (meta, "uid")))
        json_object_set_new (meta, "uid", json_string (uid));
      json_t *ann = obj (meta, "annotations");
      json_object_set_new (ann, "kubernetes.io/config.hash",
                           json_string (json_string_value (json_object_get (meta, "uid"))));
      json_object_set_new (ann, "kubernetes.io/config.source", json_string ("file"));
      json_object_set_new (ann, "kubernetes.io/config.seen", json_string (seen));
      json_object_set_new (spec, "nodeName", json_string (node));
      json_t *tol = json_object_get (spec, "tolerations");
      if (!json_is_array (tol))
        {
          tol = json_array ();
          json_object_set_new (spec, "tolerations", tol);
        }
      json_array_append_new (tol,
                             json_pack ("{s:s, s:s}", "operator", "Exists", "effect", "NoExecute"));
      json_array_append_new (pods, pod);
    }
  for (size_t i = 0; i < n; i++)
    free (names[i]);
  free (names);
  *out = pods;
  if (errors)
    *errors = errs;
  else
    strv_free (errs);
  return 0;
}
