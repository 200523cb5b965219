/* Configuration lists: a chain of plugins run as the CNI spec's runtime section says. */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "cni/chain.h"
#include "lib/json.h"
#include "lib/path.h"

bool
cni_list_is_list (json_t *conf)
{
  return json_is_object (conf) && json_is_array (json_object_get (conf, "plugins"));
}

/* The version the list is run in: the newest of cniVersions (1.1) that husk speaks, else
   cniVersion. */
static int
list_version (json_t *conf, const char **out, husk_error **err)
{
  json_t *vs = json_object_get (conf, "cniVersions"), *v;
  size_t i;
  const char *best = NULL;
  json_array_foreach (vs, i, v)
  {
    const char *s = json_string_value (v);
    if (s && cni_version_supported (s) && (best == NULL || cni_version_cmp (s, best) > 0))
      best = s;
  }
  if (best == NULL)
    best = json_string_value (json_object_get (conf, "cniVersion"));
  if (best == NULL)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "cniVersion: required");
  if (!cni_version_supported (best))
    return cni_err (err, CNI_ERR_INCOMPATIBLE_VERSION,
                    "incompatible CNI version %s (supported: 0.3.0-1.1.0)", best);
  *out = best;
  return 0;
}

static char **
plugin_env (const cni_list_rt *rt, const char *command)
{
  char **env = xcalloc (8, sizeof *env);
  size_t n = 0;
  env[n++] = xasprintf ("CNI_COMMAND=%s", command);
  env[n++] = xasprintf ("CNI_CONTAINERID=%s", rt->container_id ? rt->container_id : "");
  env[n++] = xasprintf ("CNI_NETNS=%s", rt->netns ? rt->netns : "");
  env[n++] = xasprintf ("CNI_IFNAME=%s", rt->ifname ? rt->ifname : "");
  env[n++] = xasprintf ("CNI_ARGS=%s", rt->args ? rt->args : "");
  env[n++] = xasprintf ("CNI_PATH=%s", rt->cni_path ? rt->cni_path : "");
  env[n++] = xstrdup ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  return env;
}

/* What one plugin of the list reads on stdin. */
static json_t *
plugin_conf (json_t *plugin, const char *name, const char *version, json_t *caps_args,
             json_t *prev)
{
  json_t *c = json_deep_copy (plugin);
  json_object_set_new (c, "name", json_string (name));
  json_object_set_new (c, "cniVersion", json_string (version));
  json_object_del (c, "runtimeConfig");
  json_object_del (c, "prevResult");
  json_t *caps = json_object_get (plugin, "capabilities"), *on;
  const char *cap;
  json_t *rc = json_object ();
  json_object_foreach (caps, cap, on)
  {
    json_t *arg = json_object_get (caps_args, cap);
    if (json_is_true (on) && arg)
      json_object_set (rc, cap, arg);
  }
  if (json_object_size (rc))
    json_object_set_new (c, "runtimeConfig", rc);
  else
    json_decref (rc);
  if (prev)
    json_object_set (c, "prevResult", prev);
  return c;
}

/* Errors are the plugin's own (its CNI code kept); callers prefix plugins[i]. */
static int
run_one (json_t *plugin, const char *name, const char *version,
         const cni_list_rt *rt, const char *command, json_t *prev, json_t **out, husk_error **err)
{
  const char *type = json_string_value (json_object_get (plugin, "type"));
  if (!json_is_object (plugin) || type == NULL || *type == '\0')
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "type: required (a plugin name)");
  if (strchr (type, '/') || streq (type, ".") || streq (type, ".."))
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "type: \"%s\" is not a plugin name", type);
  _cleanup_free_ char *path = rt->husk_cni && streq (type, "husk-cni")
                                  ? xstrdup (rt->husk_cni)
                                  : cni_find_plugin (type, rt->cni_path);
  if (path == NULL)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "plugin \"%s\" not found in %s", type,
                    rt->cni_path ? rt->cni_path : "an empty CNI path");
  _cleanup_json_ json_t *c = plugin_conf (plugin, name, version, rt->capability_args, prev);
  _cleanup_strv_ char **env = plugin_env (rt, command);
  return cni_exec_file (path, type, command, env, rt->stderr_fd, c, out, err);
}

char *
cni_list_cache_path (const char *cache_dir, const char *network, const char *container_id,
                     const char *ifname)
{
  return xasprintf ("%s/%s-%s-%s", cache_dir, network, container_id, ifname);
}

static json_t *
cache_load (const cni_list_rt *rt, const char *name)
{
  if (rt->cache_dir == NULL || rt->container_id == NULL || rt->ifname == NULL)
    return NULL;
  _cleanup_free_ char *p = cni_list_cache_path (rt->cache_dir, name, rt->container_id, rt->ifname);
  json_t *j = NULL;
  if (husk_json_load_file (p, &j, NULL) < 0 || !json_is_object (j))
    {
      json_decref (j);
      return NULL;
    }
  return j;
}

static int
cache_store (const cni_list_rt *rt, const char *name, json_t *result, husk_error **err)
{
  if (rt->cache_dir == NULL)
    return 0;
  int r = husk_mkdir_p (rt->cache_dir, 0700, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *p = cni_list_cache_path (rt->cache_dir, name, rt->container_id, rt->ifname);
  _cleanup_free_ char *text = husk_json_dump (result);
  return husk_write_file_atomic (p, text, strlen (text), 0600, err);
}

static void
cache_drop (const cni_list_rt *rt, const char *name)
{
  if (rt->cache_dir == NULL)
    return;
  _cleanup_free_ char *p = cni_list_cache_path (rt->cache_dir, name, rt->container_id, rt->ifname);
  unlink (p);
}

/* DEL of plugins [0, upto) in reverse; the first failure is kept in err, the rest dropped. */
static int
del_reverse (json_t *plugins, size_t upto, const char *name, const char *version,
             const cni_list_rt *rt, json_t *prev, husk_error **err)
{
  int ret = 0;
  for (size_t i = upto; i-- > 0;)
    {
      husk_error *e = NULL;
      if (run_one (json_array_get (plugins, i), name, version, rt, "DEL", prev, NULL, &e) < 0)
        {
          husk_err_wrap (&e, "plugins[%zu]", i);
          if (ret == 0 && err && *err == NULL)
            *err = TAKE_PTR (e);
          ret = -1;
        }
      husk_error_free (e);
    }
  return ret;
}

static int
list_add (json_t *plugins, const char *name, const char *version, const cni_list_rt *rt,
          json_t **out, husk_error **err)
{
  _cleanup_json_ json_t *prev = NULL;
  size_t n = json_array_size (plugins);
  for (size_t i = 0; i < n; i++)
    {
      json_t *res = NULL;
      int r = run_one (json_array_get (plugins, i), name, version, rt, "ADD", prev, &res, err);
      if (r == 0 && res == NULL)
        r = cni_err (err, CNI_ERR_DECODE, "plugins[%zu] ADD: empty result", i);
      if (r < 0)
        {
          /* The failing plugin cleans up after itself (spec); it gets a DEL all the same, as a
             runtime sends one for a failed ADD. */
          del_reverse (plugins, i + 1, name, version, rt, prev, NULL);
          return husk_err_wrap (err, "network %s: plugins[%zu]", name, i);
        }
      json_decref (prev);
      prev = res;
    }
  if (prev == NULL)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "network %s: plugins: empty", name);
  int r = cache_store (rt, name, prev, err);
  if (r < 0)
    {
      del_reverse (plugins, n, name, version, rt, prev, NULL);
      return r;
    }
  *out = TAKE_PTR (prev);
  return 0;
}

int
cni_list_run (json_t *conf, const cni_list_rt *rt, const char *command, json_t **out,
              husk_error **err)
{
  if (!json_is_object (conf))
    return cni_err (err, CNI_ERR_DECODE, "network configuration: expected a JSON object");
  const char *name = json_string_value (json_object_get (conf, "name")), *version = NULL;
  if (name == NULL || *name == '\0' || strchr (name, '/'))
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "name: required (a network name)");
  int r = list_version (conf, &version, err);
  if (r < 0)
    return r;
  _cleanup_json_ json_t *plugins = NULL;
  if (cni_list_is_list (conf))
    plugins = json_incref (json_object_get (conf, "plugins"));
  else
    plugins = json_pack ("[O]", conf); /* a single configuration is a list of one */
  size_t n = json_array_size (plugins);
  if (streq (command, "ADD"))
    return list_add (plugins, name, version, rt, out, err);
  _cleanup_json_ json_t *cached = cache_load (rt, name);
  if (streq (command, "DEL"))
    {
      r = del_reverse (plugins, n, name, version, rt, cached, err);
      if (r < 0)
        return husk_err_wrap (err, "network %s", name);
      cache_drop (rt, name);
      return 0;
    }
  if (streq (command, "CHECK") && json_is_true (json_object_get (conf, "disableCheck")))
    return 0;
  if (!streq (command, "CHECK") && !streq (command, "GC") && !streq (command, "STATUS"))
    return cni_err (err, CNI_ERR_INVALID_ENV, "unknown command \"%s\"", command);
  const char *need = streq (command, "CHECK") ? "0.4.0" : "1.1.0";
  if (cni_version_cmp (version, need) < 0)
    return cni_err (err, CNI_ERR_INCOMPATIBLE_VERSION, "%s needs cniVersion %s or later",
                    command, need);
  if (streq (command, "CHECK") && cached == NULL)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "network %s: CHECK: no cached result for %s/%s",
                    name, rt->container_id, rt->ifname);
  for (size_t i = 0; i < n; i++)
    {
      r = run_one (json_array_get (plugins, i), name, version, rt, command,
                   streq (command, "CHECK") ? cached : NULL, NULL, err);
      if (r < 0)
        return husk_err_wrap (err, "network %s: plugins[%zu]", name, i);
    }
  return 0;
}
