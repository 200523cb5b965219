/* The plugin process: stdin and CNI_* in, a result or a spec error object out. */
#include "config.h"

#include <errno.h>

#include "cni/cni.h"
#include "lib/buf.h"
#include "lib/json.h"

static int
read_all (FILE *in, husk_buf *b, husk_error **err)
{
  char chunk[8192];
  size_t n;
  while ((n = fread (chunk, 1, sizeof chunk, in)) > 0)
    husk_buf_append (b, chunk, n);
  if (ferror (in))
    return cni_err (err, CNI_ERR_IO, "read network configuration from stdin: %s", strerror (errno));
  return 0;
}

static void
print_json (FILE *out, json_t *j)
{
  char *s = json_dumps (j, JSON_INDENT (4) | JSON_PRESERVE_ORDER);
  fprintf (out, "%s\n", s);
  free (s);
  fflush (out);
}

/* The version to answer in: the configuration's when it names a supported one. */
static const char *
reply_version (json_t *raw)
{
  const char *v = json_string_value (json_object_get (raw, "cniVersion"));
  return v && cni_version_supported (v) ? v : CNI_VERSION_LATEST;
}

static int
dispatch (const cni_env *env, const husk_buf *input, json_t **out, json_t **raw_out,
          husk_error **err)
{
  if (streq (env->command, "VERSION"))
    {
      _cleanup_json_ json_t *raw = json_loadb (husk_buf_str (input), input->len, 0, NULL);
      *out = cni_cmd_version (json_string_value (json_object_get (raw, "cniVersion")));
      return 0;
    }
  _cleanup_ (cni_conf_freep) cni_conf *c = NULL;
  int r = cni_conf_parse (husk_buf_str (input), input->len, &c, err);
  if (r < 0)
    return r;
  *raw_out = json_incref (c->raw);
  if (streq (env->command, "ADD"))
    return cni_cmd_add (c, env, out, err);
  if (streq (env->command, "DEL"))
    return cni_cmd_del (c, env, err);
  if (streq (env->command, "CHECK"))
    return cni_cmd_check (c, env, err);
  if (cni_version_cmp (c->cni_version, "1.1.0") < 0)
    return cni_err (err, CNI_ERR_INCOMPATIBLE_VERSION, "%s needs cniVersion 1.1.0 or later",
                    env->command);
  if (streq (env->command, "GC"))
    return cni_cmd_gc (c, env, err);
  return cni_cmd_status (c, env, err);
}

int
cni_plugin_main (FILE *in, FILE *out)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_json_ json_t *result = NULL, *raw = NULL;
  _cleanup_buf_ husk_buf input = HUSK_BUF_INIT;
  cni_env env = { 0 };
  int r = cni_env_load (&env, &err);
  if (r == 0 && !(env.command && streq (env.command, "VERSION") && isatty (fileno (in))))
    r = read_all (in, &input, &err);
  if (r == 0)
    r = dispatch (&env, &input, &result, &raw, &err);
  if (r < 0)
    {
      if (raw == NULL)
        raw = json_loadb (husk_buf_str (&input), input.len, 0, NULL);
      _cleanup_free_ char *details
          = env.command ? xasprintf ("husk-cni %s: container %s, netns %s, ifname %s", env.command,
                                     env.container_id ? env.container_id : "-",
                                     env.netns ? env.netns : "-", env.ifname ? env.ifname : "-")
                        : NULL;
      _cleanup_json_ json_t *e = cni_error_to_json (err, reply_version (raw), details);
      print_json (out, e);
      return 1;
    }
  if (result)
    print_json (out, result);
  return 0;
}
