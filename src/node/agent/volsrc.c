/* husk node agent: payloads of configMap, secret, downwardAPI and projected volumes,
   as kubelet's MakePayload / CollectData (see volume.h). */
#include <errno.h>

#include "lib/base64.h"
#include "lib/json.h"
#include "src/node/agent/agent-internal.h"
#include "src/node/agent/podspec.h"
#include "src/node/agent/volume.h"

#define DEFAULT_MODE 0644

static int
mode_of (json_t *obj, const char *key, mode_t dflt, mode_t *out, husk_error **err)
{
  json_t *m = json_object_get (obj, key);
  if (!m)
    {
      *out = dflt;
      return 0;
    }
  if (!json_is_integer (m) || json_integer_value (m) < 0 || json_integer_value (m) > 0777)
    return husk_err (err, EINVAL, "%s: must be a number between 0 and 0777 (octal), both inclusive",
                     key);
  *out = json_integer_value (m);
  return 0;
}

/* Fetches the ConfigMap or Secret named in src; *out NULL when absent and optional. */
static int
fetch (const agent_vol_ctx *ctx, bool secret, const char *name, bool optional, json_t **out,
       husk_error **err)
{
  int (*get) (void *, const char *, json_t **, husk_error **)
      = secret ? ctx->get_secret : ctx->get_configmap;
  json_t *obj = NULL;
  if (!name || !*name)
    return husk_err (err, EINVAL, "%s volume without a name", secret ? "secret" : "configMap");
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

/* The bytes of key in obj (data, or binaryData for ConfigMaps); false when absent. */
static int
key_bytes (json_t *obj, bool secret, const char *key, char **data, size_t *len, bool *found)
{
  json_t *v = json_object_get (json_object_get (obj, "data"), key);
  *found = false;
  if (json_is_string (v) && !secret)
    {
      *data = xstrdup (json_string_value (v));
      *len = strlen (*data);
      *found = true;
      return 0;
    }
  if (!json_is_string (v) && !secret)
    v = json_object_get (json_object_get (obj, "binaryData"), key);
  if (!json_is_string (v))
    return 0;
  *found = true;
  return husk_base64_decode (json_string_value (v), strlen (json_string_value (v)), data, len);
}

/* configMap/secret source (volume or projection) into p. */
static int
keyed_source (const agent_vol_ctx *ctx, json_t *src, bool secret, mode_t default_mode,
              agent_vol_payload *p, husk_error **err)
{
  const char *name = json_string_value (json_object_get (src, secret ? "secretName" : "name"));
  if (!name && secret)
    name = json_string_value (json_object_get (src, "name")); /* projected secret */
  bool optional = json_is_true (json_object_get (src, "optional"));
  _cleanup_json_ json_t *obj = NULL;
  int ret = fetch (ctx, secret, name, optional, &obj, err);
  if (ret < 0 || !obj)
    return ret;
  json_t *items = json_object_get (src, "items");
  if (json_array_size (items) == 0)
    {
      static const char *const maps[] = { "data", "binaryData" };
      for (size_t m = 0; m < (secret ? 1 : 2); m++)
        {
          const char *key;
          json_t *v;
          json_object_foreach (json_object_get (obj, maps[m]), key, v)
          {
            _cleanup_free_ char *data = NULL;
            size_t len = 0;
            bool found;
            if ((ret = agent_vol_path_valid (key, err)) < 0)
              return ret;
            if (m == 1)
              {
                found = json_is_string (v);
                if (found && husk_base64_decode (json_string_value (v), strlen (json_string_value (v)), &data, &len) < 0)
                  return husk_err (err, EINVAL, "configmap \"%s\": key %s: bad base64", name, key);
              }
            else if (key_bytes (obj, secret, key, &data, &len, &found) < 0)
              return husk_err (err, EINVAL, "%s \"%s\": key %s: bad base64",
                               secret ? "secret" : "configmap", name, key);
            if (found)
              agent_vol_payload_add (p, key, data, len, default_mode);
          }
        }
      return 0;
    }
  size_t i;
  json_t *it;
  json_array_foreach (items, i, it)
  {
    const char *key = json_string_value (json_object_get (it, "key"));
    const char *path = json_string_value (json_object_get (it, "path"));
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    bool found = false;
    mode_t mode;
    if ((ret = mode_of (it, "mode", default_mode, &mode, err)) < 0)
      return husk_err_wrap (err, "items[%zu]", i);
    if ((ret = agent_vol_path_valid (path, err)) < 0)
      return husk_err_wrap (err, "items[%zu].path", i);
    if (key && key_bytes (obj, secret, key, &data, &len, &found) < 0)
      return husk_err (err, EINVAL, "%s \"%s\": key %s: bad base64",
                       secret ? "secret" : "configmap", name, key);
    if (!found)
      {
        if (optional)
          continue;
        return husk_err (err, ENOENT, "%s references non-existent %s key: %s",
                         secret ? "secret" : "configmap", secret ? "secret" : "config",
                         key ? key : "");
      }
    agent_vol_payload_add (p, path, data, len, mode);
  }
  return 0;
}

static int
downward_source (const agent_vol_ctx *ctx, json_t *src, mode_t default_mode, agent_vol_payload *p,
                 husk_error **err)
{
  size_t i;
  json_t *it;
  int ret;
  json_array_foreach (json_object_get (src, "items"), i, it)
  {
    const char *path = json_string_value (json_object_get (it, "path"));
    json_t *fr = json_object_get (it, "fieldRef"), *rr = json_object_get (it, "resourceFieldRef");
    _cleanup_free_ char *val = NULL;
    mode_t mode;
    if ((ret = mode_of (it, "mode", default_mode, &mode, err)) < 0
        || (ret = agent_vol_path_valid (path, err)) < 0)
      return husk_err_wrap (err, "downwardAPI items[%zu]", i);
    if (fr)
      ret = agent_field_ref (ctx->pod, json_string_value (json_object_get (fr, "fieldPath")), true,
                             &val, err);
    else if (rr)
      ret = agent_resource_field_ref (
          ctx->pod, json_string_value (json_object_get (rr, "containerName")),
          json_string_value (json_object_get (rr, "resource")), json_object_get (rr, "divisor"),
          ctx->node_allocatable, &val, err);
    else
      ret = husk_err (err, EINVAL, "neither fieldRef nor resourceFieldRef");
    if (ret < 0)
      return husk_err_wrap (err, "downwardAPI items[%zu]", i);
    agent_vol_payload_add (p, path, val, strlen (val), mode);
  }
  return 0;
}

static int
token_source (const agent_vol_ctx *ctx, json_t *src, mode_t mode, agent_vol_payload *p,
              husk_error **err)
{
  const char *path = json_string_value (json_object_get (src, "path"));
  const char *aud = json_string_value (json_object_get (src, "audience"));
  json_t *exp = json_object_get (src, "expirationSeconds");
  _cleanup_free_ char *tok = NULL;
  int ret = agent_vol_path_valid (path, err);
  if (ret < 0)
    return husk_err_wrap (err, "serviceAccountToken");
  if (!ctx->get_token)
    return husk_err (err, ENOTSUP, "serviceAccountToken: no token source on this node");
  ret = ctx->get_token (ctx->ud, aud, exp ? json_integer_value (exp) : 3607, &tok, err);
  if (ret < 0)
    return husk_err_wrap (err, "serviceAccountToken");
  agent_vol_payload_add (p, path, tok, strlen (tok), mode);
  return 0;
}

agent_vol_kind
agent_vol_kind_of (json_t *v)
{
  if (json_object_get (v, "configMap"))
    return AGENT_VOL_CONFIGMAP;
  if (json_object_get (v, "secret"))
    return AGENT_VOL_SECRET;
  if (json_object_get (v, "downwardAPI"))
    return AGENT_VOL_DOWNWARD_API;
  if (json_object_get (v, "projected"))
    return AGENT_VOL_PROJECTED;
  if (json_object_get (v, "emptyDir"))
    return AGENT_VOL_EMPTY_DIR;
  if (json_object_get (v, "hostPath"))
    return AGENT_VOL_HOST_PATH;
  if (json_object_get (v, "persistentVolumeClaim"))
    return AGENT_VOL_PVC;
  return AGENT_VOL_UNKNOWN;
}

const char *
agent_vol_plugin_dir (agent_vol_kind k)
{
  switch (k)
    {
    case AGENT_VOL_CONFIGMAP:
      return "kubernetes.io~configmap";
    case AGENT_VOL_SECRET:
      return "kubernetes.io~secret";
    case AGENT_VOL_DOWNWARD_API:
      return "kubernetes.io~downward-api";
    case AGENT_VOL_PROJECTED:
      return "kubernetes.io~projected";
    case AGENT_VOL_EMPTY_DIR:
      return "kubernetes.io~empty-dir";
    case AGENT_VOL_HOST_PATH:
      return "kubernetes.io~host-path";
    case AGENT_VOL_PVC:
      return "kubernetes.io~local-volume";
    default:
      return NULL;
    }
}

static int
projected (const agent_vol_ctx *ctx, json_t *src, agent_vol_payload *p, husk_error **err)
{
  mode_t dm;
  int ret = mode_of (src, "defaultMode", DEFAULT_MODE, &dm, err);
  if (ret < 0)
    return ret;
  size_t i;
  json_t *s, *x;
  json_array_foreach (json_object_get (src, "sources"), i, s)
  {
    if ((x = json_object_get (s, "configMap")))
      ret = keyed_source (ctx, x, false, dm, p, err);
    else if ((x = json_object_get (s, "secret")))
      ret = keyed_source (ctx, x, true, dm, p, err);
    else if ((x = json_object_get (s, "downwardAPI")))
      ret = downward_source (ctx, x, dm, p, err);
    else if ((x = json_object_get (s, "serviceAccountToken")))
      ret = token_source (ctx, x, dm, p, err);
    else
      ret = husk_err (err, ENOTSUP, "projected sources[%zu]: unsupported source", i);
    if (ret < 0)
      return ret;
  }
  return 0;
}

int
agent_vol_payload_for (const agent_vol_ctx *ctx, json_t *volume, agent_vol_payload **out,
                       husk_error **err)
{
  agent_vol_payload *p = xzalloc (sizeof *p);
  agent_vol_kind k = agent_vol_kind_of (volume);
  const char *key = k == AGENT_VOL_CONFIGMAP      ? "configMap"
                    : k == AGENT_VOL_SECRET       ? "secret"
                    : k == AGENT_VOL_DOWNWARD_API ? "downwardAPI"
                                                  : "projected";
  json_t *src = json_object_get (volume, key);
  mode_t dm = DEFAULT_MODE;
  int ret = 0;
  if (k != AGENT_VOL_PROJECTED && k != AGENT_VOL_UNKNOWN)
    ret = mode_of (src, "defaultMode", DEFAULT_MODE, &dm, err);
  if (ret >= 0)
    switch (k)
      {
      case AGENT_VOL_CONFIGMAP:
        ret = keyed_source (ctx, src, false, dm, p, err);
        break;
      case AGENT_VOL_SECRET:
        ret = keyed_source (ctx, src, true, dm, p, err);
        break;
      case AGENT_VOL_DOWNWARD_API:
        ret = downward_source (ctx, src, dm, p, err);
        break;
      case AGENT_VOL_PROJECTED:
        ret = projected (ctx, src, p, err);
        break;
      default:
        ret = husk_err (err, EINVAL, "volume is not made of files");
      }
  if (ret < 0)
    {
      agent_vol_payload_free (p);
      const char *name = json_string_value (json_object_get (volume, "name"));
      return husk_err_wrap (err, "MountVolume.SetUp failed for volume \"%s\" ", name ? name : "");
    }
  *out = p;
  return 0;
}
