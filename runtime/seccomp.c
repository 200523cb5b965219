/* husk runtime: linux.seccomp -> a libseccomp filter, built before anything is created
   (so a bad profile fails early) and loaded in the container process just before exec. */
#include "config.h"

#include <errno.h>
#include <strings.h>

#include "runtime/internal.h"

struct rt_seccomp
{
  scmp_filter_ctx ctx;
};

static int
parse_action (const char *name, json_t *errno_ret, uint32_t *out)
{
  uint16_t e = errno_ret ? (uint16_t) json_integer_value (errno_ret) : EPERM;
  if (streq (name, "SCMP_ACT_KILL") || streq (name, "SCMP_ACT_KILL_THREAD"))
    *out = SCMP_ACT_KILL_THREAD;
  else if (streq (name, "SCMP_ACT_KILL_PROCESS"))
    *out = SCMP_ACT_KILL_PROCESS;
  else if (streq (name, "SCMP_ACT_TRAP"))
    *out = SCMP_ACT_TRAP;
  else if (streq (name, "SCMP_ACT_ERRNO"))
    *out = SCMP_ACT_ERRNO (e);
  else if (streq (name, "SCMP_ACT_TRACE"))
    *out = SCMP_ACT_TRACE (e);
  else if (streq (name, "SCMP_ACT_ALLOW"))
    *out = SCMP_ACT_ALLOW;
  else if (streq (name, "SCMP_ACT_LOG"))
    *out = SCMP_ACT_LOG;
  else
    return -1;
  return 0;
}

static int
parse_op (const char *name, enum scmp_compare *out)
{
  static const struct
  {
    const char *name;
    enum scmp_compare op;
  } ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (size_t i = 0; i < ARRAY_SIZE (ops); i++)
    if (streq (ops[i].name, name))
      {
        *out = ops[i].op;
        return 0;
      }
  return -1;
}

static int
add_arches (scmp_filter_ctx ctx, json_t *arr, const char *where, husk_error **err)
{
  size_t i;
  json_t *a;
  json_array_foreach (arr, i, a)
  {
    const char *name = json_string_value (a);
    if (strncmp (name, "SCMP_ARCH_", 10) != 0)
      return husk_err (err, EINVAL, "%s.architectures[%zu]: unknown architecture \"%s\"", where,
                       i, name);
    _cleanup_free_ char *lower = xstrdup (name + 10);
    for (char *p = lower; *p; p++)
      if (*p >= 'A' && *p <= 'Z')
        *p = (char) (*p - 'A' + 'a');
    uint32_t arch = seccomp_arch_resolve_name (lower);
    if (arch == 0)
      return husk_err (err, EINVAL, "%s.architectures[%zu]: unknown architecture \"%s\"", where,
                       i, name);
    int r = seccomp_arch_add (ctx, arch);
    if (r < 0 && r != -EEXIST)
      return husk_err_sys (err, -r, "%s.architectures[%zu]: %s", where, i, name);
  }
  return 0;
}

static int
set_flags (scmp_filter_ctx ctx, json_t *arr, const char *where, husk_error **err)
{
  size_t i;
  json_t *f;
  json_array_foreach (arr, i, f)
  {
    const char *name = json_string_value (f);
    int r;
    if (streq (name, "SECCOMP_FILTER_FLAG_TSYNC"))
      r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    else if (streq (name, "SECCOMP_FILTER_FLAG_LOG"))
      r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_LOG, 1);
    else if (streq (name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
      r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_SSB, 1);
    else
      return husk_err (err, EINVAL, "%s.flags[%zu]: unsupported flag \"%s\"", where, i, name);
    if (r < 0)
      return husk_err_sys (err, -r, "%s.flags[%zu]: %s", where, i, name);
  }
  return 0;
}

static int
parse_args (json_t *args, const char *where, struct scmp_arg_cmp *cmp, size_t *n, bool *dup,
            husk_error **err)
{
  size_t i;
  json_t *a;
  unsigned seen = 0;
  if (json_array_size (args) > 6)
    return husk_err (err, EINVAL, "%s.args: at most 6 conditions", where);
  json_array_foreach (args, i, a)
  {
    const char *op = json_string_value (json_object_get (a, "op"));
    json_t *idx = json_object_get (a, "index");
    if (op == NULL || idx == NULL)
      return husk_err (err, EINVAL, "%s.args[%zu]: index and op are required", where, i);
    if (json_integer_value (idx) > 5)
      return husk_err (err, EINVAL, "%s.args[%zu].index: %lld is above 5", where, i,
                       (long long) json_integer_value (idx));
    if (parse_op (op, &cmp[i].op) < 0)
      return husk_err (err, EINVAL, "%s.args[%zu].op: unknown operator \"%s\"", where, i, op);
    cmp[i].arg = (unsigned) json_integer_value (idx);
    cmp[i].datum_a = (scmp_datum_t) json_integer_value (json_object_get (a, "value"));
    cmp[i].datum_b = (scmp_datum_t) json_integer_value (json_object_get (a, "valueTwo"));
    if (seen & (1u << cmp[i].arg))
      *dup = true;
    seen |= 1u << cmp[i].arg;
  }
  *n = json_array_size (args);
  return 0;
}

static int
add_rule (scmp_filter_ctx ctx, uint32_t def, json_t *rule, const char *where, husk_error **err)
{
  const char *an = json_string_value (json_object_get (rule, "action"));
  uint32_t action;
  if (an == NULL)
    return husk_err (err, EINVAL, "%s.action: required field missing", where);
  if (parse_action (an, json_object_get (rule, "errnoRet"), &action) < 0)
    return husk_err (err, EINVAL, "%s.action: unknown action \"%s\"", where, an);
  struct scmp_arg_cmp cmp[6];
  size_t ncmp = 0;
  bool dup = false;
  int r = parse_args (json_object_get (rule, "args"), where, cmp, &ncmp, &dup, err);
  if (r < 0)
    return r;
  if (action == def)
    return 0; /* libseccomp refuses rules that repeat the default */
  size_t i;
  json_t *n;
  json_array_foreach (json_object_get (rule, "names"), i, n)
  {
    int nr = seccomp_syscall_resolve_name (json_string_value (n));
    if (nr == __NR_SCMP_ERROR)
      continue; /* profiles name syscalls of other architectures and kernels */
    if (!dup)
      r = seccomp_rule_add_array (ctx, action, nr, (unsigned) ncmp, cmp);
    else /* several conditions on one argument: each is its own rule (they OR) */
      for (size_t k = 0; k < ncmp && r >= 0; k++)
        r = seccomp_rule_add_array (ctx, action, nr, 1, &cmp[k]);
    if (r < 0)
      return husk_err_sys (err, -r, "%s.names[%zu]: add rule for %s", where, i,
                           json_string_value (n));
  }
  return 0;
}

int
rt_seccomp_build (json_t *j, const char *where, rt_seccomp **out, husk_error **err)
{
  const char *dn = json_string_value (json_object_get (j, "defaultAction"));
  uint32_t def;
  if (dn == NULL)
    return husk_err (err, EINVAL, "%s.defaultAction: required field missing", where);
  if (parse_action (dn, json_object_get (j, "defaultErrnoRet"), &def) < 0)
    return husk_err (err, EINVAL, "%s.defaultAction: unknown action \"%s\"", where, dn);
  if (json_object_get (j, "listenerPath"))
    return husk_err (err, EINVAL, "%s.listenerPath: seccomp notify is not supported", where);
  scmp_filter_ctx ctx = seccomp_init (def);
  if (ctx == NULL)
    return husk_err (err, EINVAL, "%s: seccomp_init failed", where);
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  int r = add_arches (ctx, json_object_get (j, "architectures"), where, err);
  if (r == 0)
    r = set_flags (ctx, json_object_get (j, "flags"), where, err);
  size_t i;
  json_t *rule;
  json_array_foreach (json_object_get (j, "syscalls"), i, rule)
  {
    if (r < 0)
      break;
    _cleanup_free_ char *w = xasprintf ("%s.syscalls[%zu]", where, i);
    r = add_rule (ctx, def, rule, w, err);
  }
  if (r < 0)
    {
      seccomp_release (ctx);
      return r;
    }
  rt_seccomp *sc = xzalloc (sizeof *sc);
  sc->ctx = ctx;
  *out = sc;
  return 0;
}

int
rt_seccomp_load (rt_seccomp *sc, husk_error **err)
{
  int r = seccomp_load (sc->ctx);
  if (r < 0)
    return husk_err_sys (err, -r, "linux.seccomp: load filter");
  return 0;
}

void
rt_seccomp_free (rt_seccomp *sc)
{
  if (sc == NULL)
    return;
  seccomp_release (sc->ctx);
  free (sc);
}
