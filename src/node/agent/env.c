/* husk node agent: container environment, $(VAR) expansion, fieldRef and
   resourceFieldRef (see podspec.h). */
#include <errno.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "src/node/agent/agent-internal.h"
#include "src/node/agent/podspec.h"

/* ---- expansion (k8s.io/kubernetes third_party/forked/golang/expansion) --------------- */

char *
agent_expand (const char *in, const char *(*lookup) (void *ud, const char *name), void *ud)
{
  husk_buf b = HUSK_BUF_INIT;
  size_t n = strlen (in), checkpoint = 0;
  husk_buf_puts (&b, "");
  for (size_t cur = 0; cur < n; cur++)
    {
      if (in[cur] != '$' || cur + 1 >= n)
        continue;
      husk_buf_append (&b, in + checkpoint, cur - checkpoint);
      const char *rest = in + cur + 1;
      size_t advance = 1;
      if (rest[0] == '$')
        husk_buf_putc (&b, '$');
      else if (rest[0] == '(')
        {
          const char *close = strchr (rest + 1, ')');
          if (close)
            {
              _cleanup_free_ char *name = xstrndup (rest + 1, close - rest - 1);
              const char *v = lookup ? lookup (ud, name) : NULL;
              if (v)
                husk_buf_puts (&b, v);
              else
                husk_buf_printf (&b, "$(%s)", name);
              advance = close - rest + 1;
            }
          else
            husk_buf_puts (&b, "$(");
        }
      else
        {
          husk_buf_putc (&b, '$');
          husk_buf_putc (&b, rest[0]);
        }
      cur += advance;
      checkpoint = cur + 1;
    }
  if (checkpoint < n)
    husk_buf_puts (&b, in + checkpoint);
  return husk_buf_steal (&b);
}

/* ---- the environment being built --------------------------------------------------- */

static void
env_set (agent_env *e, const char *name, const char *value)
{
  for (size_t i = 0; i < e->n; i++)
    if (streq (e->names[i], name))
      {
        free (e->values[i]);
        e->values[i] = xstrdup (value);
        return;
      }
  e->names = xreallocarray (e->names, e->n + 1, sizeof *e->names);
  e->values = xreallocarray (e->values, e->n + 1, sizeof *e->values);
  e->names[e->n] = xstrdup (name);
  e->values[e->n] = xstrdup (value);
  e->n++;
}

const char *
agent_env_get (const agent_env *e, const char *name)
{
  for (size_t i = 0; i < e->n; i++)
    if (streq (e->names[i], name))
      return e->values[i];
  return NULL;
}

static const char *
env_lookup (void *ud, const char *name)
{
  return agent_env_get (ud, name);
}

char **
agent_env_strv (const agent_env *e)
{
  char **v = xcalloc (e->n + 1, sizeof *v);
  for (size_t i = 0; i < e->n; i++)
    v[i] = xasprintf ("%s=%s", e->names[i], e->values[i]);
  return v;
}

void
agent_env_free (agent_env *e)
{
  if (!e)
    return;
  for (size_t i = 0; i < e->n; i++)
    {
      free (e->names[i]);
      free (e->values[i]);
    }
  free (e->names);
  free (e->values);
  strv_free (e->invalid);
  free (e);
}

static void
add_invalid (agent_env *e, const char *name)
{
  size_t n = 0;
  while (e->invalid && e->invalid[n])
    n++;
  e->invalid = xreallocarray (e->invalid, n + 2, sizeof *e->invalid);
  e->invalid[n] = xstrdup (name);
  e->invalid[n + 1] = NULL;
}

/* ---- sources ----------------------------------------------------------------------- */

static const char *
pod_ns (json_t *pod)
{
  const char *ns = husk_json_path_str (pod, "metadata.namespace");
  return ns ? ns : "default";
}

/* Fetches a ConfigMap (secret=false) or Secret; *out NULL when missing and optional. */
static int
get_source (const agent_env_ctx *ctx, bool secret, const char *name, bool optional, json_t **out,
            husk_error **err)
{
  json_t *obj = NULL;
  int (*get) (void *, const char *, json_t **, husk_error **)
      = secret ? ctx->get_secret : ctx->get_configmap;
  if (!name || !*name)
    return husk_err (err, EINVAL, "%s reference without a name", secret ? "secret" : "configmap");
  if (get)
    {
      int ret = get (ctx->ud, name, &obj, err);
      if (ret < 0)
        return ret;
    }
  if (!obj && !optional)
    return husk_err (err, ENOENT, "%s \"%s\" not found", secret ? "secret" : "configmap", name);
  *out = obj;
  return 0;
}

/* The value of key in a ConfigMap's data or a Secret's data (decoded); NULL if absent. */
static int
source_value (json_t *obj, bool secret, const char *key, char **out)
{
  json_t *v = json_object_get (json_object_get (obj, "data"), key);
  *out = NULL;
  if (!json_is_string (v))
    return 0;
  if (!secret)
    {
      *out = xstrdup (json_string_value (v));
      return 0;
    }
  return husk_base64_decode (json_string_value (v), strlen (json_string_value (v)), out, NULL);
}

static int
env_from (const agent_env_ctx *ctx, agent_env *e, json_t *src, size_t idx, husk_error **err)
{
  json_t *ref = json_object_get (src, "configMapRef");
  bool secret = false;
  if (!ref)
    {
      ref = json_object_get (src, "secretRef");
      secret = true;
    }
  if (!ref)
    return husk_err (err, EINVAL, "envFrom[%zu]: neither configMapRef nor secretRef", idx);
  const char *name = json_string_value (json_object_get (ref, "name"));
  bool optional = json_is_true (json_object_get (ref, "optional"));
  const char *prefix = json_string_value (json_object_get (src, "prefix"));
  _cleanup_json_ json_t *obj = NULL;
  int ret = get_source (ctx, secret, name, optional, &obj, err);
  if (ret < 0 || !obj)
    return ret;
  const char *key;
  json_t *v;
  json_object_foreach (json_object_get (obj, "data"), key, v)
  {
    _cleanup_free_ char *full = xasprintf ("%s%s", prefix ? prefix : "", key);
    _cleanup_free_ char *val = NULL;
    if (!agent_env_name_valid (full))
      {
        add_invalid (e, full);
        continue;
      }
    if (source_value (obj, secret, key, &val) < 0)
      return husk_err (err, EINVAL, "secret \"%s\": key %s: bad base64", name, key);
    env_set (e, full, val ? val : "");
  }
  return 0;
}

static int
key_ref (const agent_env_ctx *ctx, json_t *ref, bool secret, char **out, husk_error **err)
{
  const char *name = json_string_value (json_object_get (ref, "name"));
  const char *key = json_string_value (json_object_get (ref, "key"));
  bool optional = json_is_true (json_object_get (ref, "optional"));
  _cleanup_json_ json_t *obj = NULL;
  int ret = get_source (ctx, secret, name, optional, &obj, err);
  *out = NULL;
  if (ret < 0 || !obj)
    return ret;
  if (source_value (obj, secret, key ? key : "", out) < 0)
    return husk_err (err, EINVAL, "secret \"%s\": key %s: bad base64", name, key);
  if (!*out && !optional)
    return husk_err (err, ENOENT, "couldn't find key %s in %s %s/%s", key ? key : "",
                     secret ? "Secret" : "ConfigMap", pod_ns (ctx->pod), name);
  return 0;
}

/* Sets *out to the variable's value, or NULL when an optional source is missing. */
static int
env_value_from (const agent_env_ctx *ctx, json_t *container, json_t *from, char **out,
                husk_error **err)
{
  json_t *r;
  *out = NULL;
  if ((r = json_object_get (from, "configMapKeyRef")))
    return key_ref (ctx, r, false, out, err);
  if ((r = json_object_get (from, "secretKeyRef")))
    return key_ref (ctx, r, true, out, err);
  if ((r = json_object_get (from, "fieldRef")))
    return agent_field_ref (ctx->pod, json_string_value (json_object_get (r, "fieldPath")), false,
                            out, err);
  if ((r = json_object_get (from, "resourceFieldRef")))
    {
      const char *cname = json_string_value (json_object_get (r, "containerName"));
      if (!cname || !*cname)
        cname = json_string_value (json_object_get (container, "name"));
      return agent_resource_field_ref (
          ctx->pod, cname, json_string_value (json_object_get (r, "resource")),
          json_object_get (r, "divisor"), ctx->node_allocatable, out, err);
    }
  return husk_err (err, EINVAL, "valueFrom: no known source");
}

int
agent_env_resolve (const agent_env_ctx *ctx, json_t *container, agent_env **out, husk_error **err)
{
  agent_env *e = xzalloc (sizeof *e);
  e->invalid = xcalloc (1, sizeof *e->invalid);
  size_t i;
  json_t *item;
  int ret = 0;
  for (char *const *b = ctx->base; b && *b; b++)
    {
      const char *eq = strchr (*b, '=');
      _cleanup_free_ char *name = eq ? xstrndup (*b, eq - *b) : xstrdup (*b);
      env_set (e, name, eq ? eq + 1 : "");
    }
  json_array_foreach (json_object_get (container, "envFrom"), i, item)
  {
    ret = env_from (ctx, e, item, i, err);
    if (ret < 0)
      goto out;
  }
  json_array_foreach (json_object_get (container, "env"), i, item)
  {
    const char *name = json_string_value (json_object_get (item, "name"));
    json_t *from = json_object_get (item, "valueFrom");
    _cleanup_free_ char *val = NULL;
    if (!name)
      {
        ret = husk_err (err, EINVAL, "env[%zu]: no name", i);
        goto out;
      }
    if (from)
      {
        /* kubelet's text exactly (the CreateContainerConfigError message) */
        ret = env_value_from (ctx, container, from, &val, err);
        if (ret < 0)
          goto out;
        if (!val)
          continue; /* optional source missing: the variable is not set */
      }
    else
      {
        const char *v = json_string_value (json_object_get (item, "value"));
        val = agent_expand (v ? v : "", env_lookup, e);
      }
    env_set (e, name, val);
  }
out:
  if (ret < 0)
    {
      agent_env_free (e);
      return ret;
    }
  *out = e;
  return 0;
}

static void
strv_push (char ***v, size_t *n, char *s)
{
  *v = xreallocarray (*v, *n + 2, sizeof **v);
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
}

char **
agent_container_argv (json_t *container, const agent_env *env, char *const *image_entrypoint,
                      char *const *image_cmd)
{
  char **v = xcalloc (1, sizeof *v);
  size_t n = 0, i;
  json_t *cmd = json_object_get (container, "command"), *args = json_object_get (container, "args");
  json_t *s;
  bool has_cmd = json_array_size (cmd) > 0, has_args = json_array_size (args) > 0;
  if (has_cmd)
    json_array_foreach (cmd, i, s) strv_push (
        &v, &n,
        agent_expand (json_string_value (s) ? json_string_value (s) : "", env_lookup, (void *)env));
  else
    for (char *const *p = image_entrypoint; p && *p; p++)
      strv_push (&v, &n, xstrdup (*p));
  if (has_args)
    json_array_foreach (args, i, s) strv_push (
        &v, &n,
        agent_expand (json_string_value (s) ? json_string_value (s) : "", env_lookup, (void *)env));
  else if (!has_cmd)
    for (char *const *p = image_cmd; p && *p; p++)
      strv_push (&v, &n, xstrdup (*p));
  return v;
}

/* ---- fieldRef ------------------------------------------------------------------------ */

static int
cmp_strp (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static char *
format_map (json_t *m)
{
  size_t n = json_object_size (m), i = 0;
  const char **keys = xcalloc (n + 1, sizeof *keys);
  const char *k;
  json_t *v;
  json_object_foreach (m, k, v) keys[i++] = k;
  qsort (keys, n, sizeof *keys, cmp_strp);
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_puts (&b, "");
  for (i = 0; i < n; i++)
    {
      const char *val = json_string_value (json_object_get (m, keys[i]));
      _cleanup_free_ char *q = agent_go_quote (val ? val : "");
      husk_buf_printf (&b, "%s%s=%s", i ? "\n" : "", keys[i], q);
    }
  free (keys);
  return husk_buf_steal (&b);
}

/* "metadata.labels['k']" -> "k" when path starts with prefix "metadata.labels" */
static char *
subscript (const char *path, const char *prefix)
{
  size_t pl = strlen (prefix), n = strlen (path);
  if (strncmp (path, prefix, pl) != 0 || n < pl + 4 || path[pl] != '[' || path[n - 1] != ']')
    return NULL;
  char q = path[pl + 1];
  if ((q != '\'' && q != '"') || path[n - 2] != q)
    return NULL;
  return xstrndup (path + pl + 2, n - pl - 4);
}

static char *
join_ips (json_t *arr)
{
  husk_buf b = HUSK_BUF_INIT;
  size_t i;
  json_t *ip;
  husk_buf_puts (&b, "");
  json_array_foreach (arr, i, ip) husk_buf_printf (
      &b, "%s%s", i ? "," : "", json_string_value (json_object_get (ip, "ip")) ?: "");
  return husk_buf_steal (&b);
}

int
agent_field_ref (json_t *pod, const char *path, bool whole_maps, char **out, husk_error **err)
{
  static const char *const direct[]
      = { "metadata.name",           "metadata.namespace", "metadata.uid", "spec.nodeName",
          "spec.serviceAccountName", "status.hostIP",      "status.podIP" };
  if (!path)
    return husk_err (err, EINVAL, "fieldRef without fieldPath");
  for (size_t i = 0; i < ARRAY_SIZE (direct); i++)
    if (streq (path, direct[i]))
      {
        const char *v = husk_json_path_str (pod, path);
        *out = xstrdup (v ? v : "");
        return 0;
      }
  if (streq (path, "status.podIPs"))
    {
      *out = join_ips (husk_json_path (pod, "status.podIPs"));
      return 0;
    }
  if (streq (path, "status.hostIPs"))
    {
      *out = join_ips (husk_json_path (pod, "status.hostIPs"));
      return 0;
    }
  static const char *const maps[] = { "metadata.labels", "metadata.annotations" };
  for (size_t i = 0; i < ARRAY_SIZE (maps); i++)
    {
      _cleanup_free_ char *key = subscript (path, maps[i]);
      if (key)
        {
          const char *v = json_string_value (json_object_get (husk_json_path (pod, maps[i]), key));
          *out = xstrdup (v ? v : "");
          return 0;
        }
      if (whole_maps && streq (path, maps[i]))
        {
          *out = format_map (husk_json_path (pod, maps[i]));
          return 0;
        }
    }
  return husk_err (err, EINVAL, "unsupported fieldPath: %s", path);
}

/* ---- resourceFieldRef ---------------------------------------------------------------- */

int
agent_resource_field_ref (json_t *pod, const char *container, const char *resource,
                          const json_t *divisor, json_t *node_allocatable, char **out,
                          husk_error **err)
{
  json_t *c = container ? agent_pod_container (pod, container) : NULL;
  if (!c)
    return husk_err (err, ENOENT, "resourceFieldRef: container \"%s\" not found",
                     container ? container : "");
  if (!resource)
    return husk_err (err, EINVAL, "resourceFieldRef without resource");
  const char *dot = strchr (resource, '.');
  if (!dot)
    return husk_err (err, EINVAL, "unsupported container resource: %s", resource);
  _cleanup_free_ char *kind = xstrndup (resource, dot - resource);
  const char *name = dot + 1;
  bool cpu = streq (name, "cpu");
  if (!(streq (kind, "limits") || streq (kind, "requests"))
      || !(cpu || streq (name, "memory") || streq (name, "ephemeral-storage")))
    return husk_err (err, EINVAL, "unsupported container resource: %s", resource);
  json_t *q = json_object_get (json_object_get (json_object_get (c, "resources"), kind), name);
  if (!q && streq (kind, "limits"))
    q = json_object_get (node_allocatable, name);
  int64_t v = 0, d = 1;
  int ret;
  if (q)
    {
      ret = cpu ? husk_quantity_json (q, 1000, resource, &v, err)
                : husk_quantity_json (q, 1, resource, &v, err);
      if (ret < 0)
        return ret;
    }
  if (divisor)
    {
      ret = cpu ? husk_quantity_json (divisor, 1000, "divisor", &d, err)
                : husk_quantity_json (divisor, 1, "divisor", &d, err);
      if (ret < 0)
        return ret;
    }
  else if (cpu)
    d = 1000;
  if (d <= 0)
    return husk_err (err, EINVAL, "resourceFieldRef %s: divisor must be positive", resource);
  *out = xasprintf ("%lld", (long long)((v + d - 1) / d));
  return 0;
}

/* ---- service links ------------------------------------------------------------------- */

static char *
env_name (const char *s)
{
  char *n = xstrdup (s);
  for (char *p = n; *p; p++)
    *p = *p == '-' ? '_' : (*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
  return n;
}

static int
cmp_svc (const void *a, const void *b)
{
  const char *na = husk_json_path_str (*(json_t *const *)a, "metadata.name");
  const char *nb = husk_json_path_str (*(json_t *const *)b, "metadata.name");
  return strcmp (na ? na : "", nb ? nb : "");
}

static void
push_kv (char ***v, size_t *n, const char *name, const char *value)
{
  strv_push (v, n, xasprintf ("%s=%s", name, value));
}

char **
agent_service_env (json_t *services, const char *ns, bool enable_links)
{
  size_t cnt = 0, i, j;
  json_t *svc;
  json_t **pick = xcalloc (json_array_size (services) + 1, sizeof *pick);
  json_array_foreach (services, i, svc)
  {
    const char *sns = husk_json_path_str (svc, "metadata.namespace");
    const char *name = husk_json_path_str (svc, "metadata.name");
    const char *ip = husk_json_path_str (svc, "spec.clusterIP");
    if (!name || !ip || !*ip || streq (ip, "None")
        || !json_array_size (husk_json_path (svc, "spec.ports")))
      continue;
    bool mine = sns && ns && streq (sns, ns) && enable_links;
    bool master = sns && streq (sns, "default") && streq (name, "kubernetes");
    if (!mine && !master)
      continue;
    /* a service of the pod's namespace wins over the master service of the same name */
    bool dup = false;
    for (j = 0; j < cnt; j++)
      if (streq (husk_json_path_str (pick[j], "metadata.name"), name))
        {
          dup = true;
          if (mine)
            pick[j] = svc;
        }
    if (!dup)
      pick[cnt++] = svc;
  }
  qsort (pick, cnt, sizeof *pick, cmp_svc);
  char **v = xcalloc (1, sizeof *v);
  size_t n = 0;
  for (i = 0; i < cnt; i++)
    {
      json_t *ports = husk_json_path (pick[i], "spec.ports"), *sp;
      const char *ip = husk_json_path_str (pick[i], "spec.clusterIP");
      _cleanup_free_ char *prefix = env_name (husk_json_path_str (pick[i], "metadata.name"));
      _cleanup_free_ char *host = xasprintf ("%s_SERVICE_HOST", prefix);
      _cleanup_free_ char *port = xasprintf ("%s_SERVICE_PORT", prefix);
      _cleanup_free_ char *p0 = xasprintf ("%lld", (long long)json_integer_value (json_object_get (
                                                       json_array_get (ports, 0), "port")));
      push_kv (&v, &n, host, ip);
      push_kv (&v, &n, port, p0);
      json_array_foreach (ports, j, sp)
      {
        const char *pn = json_string_value (json_object_get (sp, "name"));
        if (pn && *pn)
          {
            _cleanup_free_ char *u = env_name (pn);
            _cleanup_free_ char *k = xasprintf ("%s_%s", port, u);
            _cleanup_free_ char *val
                = xasprintf ("%lld", (long long)json_integer_value (json_object_get (sp, "port")));
            push_kv (&v, &n, k, val);
          }
      }
      json_array_foreach (ports, j, sp)
      {
        const char *proto = json_string_value (json_object_get (sp, "protocol"));
        long long pnum = json_integer_value (json_object_get (sp, "port"));
        _cleanup_free_ char *up = xstrdup (proto && *proto ? proto : "TCP");
        _cleanup_free_ char *low = xstrdup (up);
        for (char *c = low; *c; c++)
          if (*c >= 'A' && *c <= 'Z')
            *c += 'a' - 'A';
        _cleanup_free_ char *hp = strchr (ip, ':') ? xasprintf ("[%s]:%lld", ip, pnum)
                                                   : xasprintf ("%s:%lld", ip, pnum);
        _cleanup_free_ char *url = xasprintf ("%s://%s", low, hp);
        if (j == 0)
          {
            _cleanup_free_ char *k = xasprintf ("%s_PORT", prefix);
            push_kv (&v, &n, k, url);
          }
        _cleanup_free_ char *pp = xasprintf ("%s_PORT_%lld_%s", prefix, pnum, up);
        _cleanup_free_ char *k1 = xasprintf ("%s_PROTO", pp), *k2 = xasprintf ("%s_PORT", pp);
        _cleanup_free_ char *k3 = xasprintf ("%s_ADDR", pp), *pv = xasprintf ("%lld", pnum);
        push_kv (&v, &n, pp, url);
        push_kv (&v, &n, k1, low);
        push_kv (&v, &n, k2, pv);
        push_kv (&v, &n, k3, ip);
      }
    }
  free (pick);
  return v;
}
