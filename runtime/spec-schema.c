/* husk runtime: the shape of config.json (runtime-spec v1.2, Linux). Every member of every
   object is listed with its type; anything else is an error naming its JSON path. */
#include "config.h"

#include <errno.h>

#include "runtime/internal.h"

typedef enum
{
  T_STR,
  T_INT,  /* any integer */
  T_UINT, /* integer >= 0 */
  T_BOOL,
  T_OBJ,  /* fields */
  T_ARR,  /* elements of elem (with fields when elem is T_OBJ) */
  T_MAP,  /* object with free keys, values of elem (with fields when T_OBJ) */
  T_ANY,
} ftype;

typedef struct field
{
  const char *key;
  ftype type;
  ftype elem;
  const struct field *fields;
} field;

#define F(k, t) {k, t, T_ANY, NULL}
#define O(k, f) {k, T_OBJ, T_ANY, f}
#define A(k, e) {k, T_ARR, e, NULL}
#define AO(k, f) {k, T_ARR, T_OBJ, f}
#define M(k, e) {k, T_MAP, e, NULL}
#define MO(k, f) {k, T_MAP, T_OBJ, f}
#define END {NULL, T_ANY, T_ANY, NULL}

static const field idmap[] = {F ("containerID", T_UINT), F ("hostID", T_UINT), F ("size", T_UINT),
                              END};
static const field mount_f[] = {F ("destination", T_STR), F ("source", T_STR), F ("type", T_STR),
                                A ("options", T_STR),     AO ("uidMappings", idmap),
                                AO ("gidMappings", idmap), END};
static const field console_size[] = {F ("height", T_UINT), F ("width", T_UINT), END};
static const field rlimit_f[] = {F ("type", T_STR), F ("soft", T_UINT), F ("hard", T_UINT), END};
static const field caps_f[] = {A ("bounding", T_STR),    A ("effective", T_STR),
                               A ("inheritable", T_STR), A ("permitted", T_STR),
                               A ("ambient", T_STR),     END};
static const field user_f[] = {F ("uid", T_UINT),        F ("gid", T_UINT), F ("umask", T_UINT),
                               A ("additionalGids", T_UINT), F ("username", T_STR), END};
static const field sched_f[] = {F ("policy", T_STR),  F ("nice", T_INT),      F ("priority", T_INT),
                                A ("flags", T_STR),   F ("runtime", T_UINT),  F ("deadline", T_UINT),
                                F ("period", T_UINT), END};
static const field ioprio_f[] = {F ("class", T_STR), F ("priority", T_INT), END};
static const field affinity_f[] = {F ("initial", T_STR), F ("final", T_STR), END};
static const field process_f[] = {F ("terminal", T_BOOL),
                                  O ("consoleSize", console_size),
                                  F ("cwd", T_STR),
                                  A ("env", T_STR),
                                  A ("args", T_STR),
                                  F ("commandLine", T_STR),
                                  AO ("rlimits", rlimit_f),
                                  F ("apparmorProfile", T_STR),
                                  O ("capabilities", caps_f),
                                  F ("noNewPrivileges", T_BOOL),
                                  F ("oomScoreAdj", T_INT),
                                  O ("scheduler", sched_f),
                                  F ("selinuxLabel", T_STR),
                                  O ("ioPriority", ioprio_f),
                                  O ("execCPUAffinity", affinity_f),
                                  O ("user", user_f),
                                  END};
static const field root_f[] = {F ("path", T_STR), F ("readonly", T_BOOL), END};
static const field hook_f[] = {F ("path", T_STR), A ("args", T_STR), A ("env", T_STR),
                               F ("timeout", T_INT), END};
static const field hooks_f[] = {AO ("prestart", hook_f),        AO ("createRuntime", hook_f),
                                AO ("createContainer", hook_f), AO ("startContainer", hook_f),
                                AO ("poststart", hook_f),       AO ("poststop", hook_f),
                                END};
static const field ns_f[] = {F ("type", T_STR), F ("path", T_STR), END};
static const field timeoff_f[] = {F ("secs", T_INT), F ("nanosecs", T_UINT), END};
static const field device_f[] = {F ("type", T_STR),     F ("path", T_STR), F ("major", T_INT),
                                 F ("minor", T_INT),    F ("fileMode", T_UINT), F ("uid", T_UINT),
                                 F ("gid", T_UINT),     END};
static const field devrule_f[] = {F ("allow", T_BOOL), F ("type", T_STR),   F ("major", T_INT),
                                  F ("minor", T_INT),  F ("access", T_STR), END};
static const field memory_f[] = {F ("limit", T_INT),           F ("reservation", T_INT),
                                 F ("swap", T_INT),            F ("kernel", T_INT),
                                 F ("kernelTCP", T_INT),       F ("swappiness", T_UINT),
                                 F ("disableOOMKiller", T_BOOL), F ("useHierarchy", T_BOOL),
                                 F ("checkBeforeUpdate", T_BOOL), END};
static const field cpu_f[] = {F ("shares", T_UINT),        F ("quota", T_INT),
                              F ("burst", T_UINT),         F ("period", T_UINT),
                              F ("realtimeRuntime", T_INT), F ("realtimePeriod", T_UINT),
                              F ("cpus", T_STR),           F ("mems", T_STR),
                              F ("idle", T_INT),           END};
static const field wdev_f[] = {F ("major", T_INT), F ("minor", T_INT), F ("weight", T_UINT),
                               F ("leafWeight", T_UINT), END};
static const field tdev_f[] = {F ("major", T_INT), F ("minor", T_INT), F ("rate", T_UINT), END};
static const field blkio_f[] = {F ("weight", T_UINT),
                                F ("leafWeight", T_UINT),
                                AO ("weightDevice", wdev_f),
                                AO ("throttleReadBpsDevice", tdev_f),
                                AO ("throttleWriteBpsDevice", tdev_f),
                                AO ("throttleReadIOPSDevice", tdev_f),
                                AO ("throttleWriteIOPSDevice", tdev_f),
                                END};
static const field hugepage_f[] = {F ("pageSize", T_STR), F ("limit", T_UINT), END};
static const field prio_f[] = {F ("name", T_STR), F ("priority", T_UINT), END};
static const field network_f[] = {F ("classID", T_UINT), AO ("priorities", prio_f), END};
static const field pids_f[] = {F ("limit", T_INT), END};
static const field rdma_f[] = {F ("hcaHandles", T_UINT), F ("hcaObjects", T_UINT), END};
static const field resources_f[] = {AO ("devices", devrule_f),
                                    O ("memory", memory_f),
                                    O ("cpu", cpu_f),
                                    O ("blockIO", blkio_f),
                                    AO ("hugepageLimits", hugepage_f),
                                    O ("network", network_f),
                                    O ("pids", pids_f),
                                    MO ("rdma", rdma_f),
                                    M ("unified", T_STR),
                                    END};
static const field scarg_f[] = {F ("index", T_UINT), F ("value", T_UINT), F ("valueTwo", T_UINT),
                                F ("op", T_STR), END};
static const field syscall_f[] = {A ("names", T_STR), F ("action", T_STR), F ("errnoRet", T_UINT),
                                  AO ("args", scarg_f), END};
static const field seccomp_f[] = {F ("defaultAction", T_STR),  F ("defaultErrnoRet", T_UINT),
                                  A ("architectures", T_STR),  A ("flags", T_STR),
                                  F ("listenerPath", T_STR),   F ("listenerMetadata", T_STR),
                                  AO ("syscalls", syscall_f),  END};
static const field personality_f[] = {F ("domain", T_STR), A ("flags", T_STR), END};
static const field netdev_f[] = {F ("name", T_STR), END};
static const field mempol_f[] = {F ("mode", T_STR), F ("nodes", T_STR), A ("flags", T_STR), END};
static const field linux_f[] = {AO ("namespaces", ns_f),
                                AO ("uidMappings", idmap),
                                AO ("gidMappings", idmap),
                                MO ("timeOffsets", timeoff_f),
                                AO ("devices", device_f),
                                F ("cgroupsPath", T_STR),
                                F ("rootfsPropagation", T_STR),
                                O ("resources", resources_f),
                                F ("intelRdt", T_ANY),
                                M ("sysctl", T_STR),
                                O ("seccomp", seccomp_f),
                                A ("maskedPaths", T_STR),
                                A ("readonlyPaths", T_STR),
                                F ("mountLabel", T_STR),
                                O ("personality", personality_f),
                                MO ("netDevices", netdev_f),
                                O ("memoryPolicy", mempol_f),
                                END};
static const field top_f[] = {F ("ociVersion", T_STR),
                              O ("root", root_f),
                              AO ("mounts", mount_f),
                              O ("process", process_f),
                              F ("hostname", T_STR),
                              F ("domainname", T_STR),
                              O ("hooks", hooks_f),
                              M ("annotations", T_STR),
                              O ("linux", linux_f),
                              F ("solaris", T_ANY),
                              F ("windows", T_ANY),
                              F ("vm", T_ANY),
                              F ("zos", T_ANY),
                              END};

static const char *
type_name (ftype t)
{
  static const char *const names[] = {"string", "integer", "non-negative integer", "boolean",
                                      "object", "array",   "object",               "any"};
  return names[t];
}

static bool
type_ok (json_t *v, ftype t)
{
  switch (t)
    {
    case T_STR:
      return json_is_string (v);
    case T_INT:
      return json_is_integer (v);
    case T_UINT:
      return json_is_integer (v) && json_integer_value (v) >= 0;
    case T_BOOL:
      return json_is_boolean (v);
    case T_OBJ:
    case T_MAP:
      return json_is_object (v);
    case T_ARR:
      return json_is_array (v);
    case T_ANY:
      return true;
    }
  return false;
}

static int check_obj (json_t *obj, const field *fields, husk_buf *path, husk_error **err);

static int
bad_type (json_t *v, ftype t, husk_buf *path, husk_error **err)
{
  if (t == T_UINT && json_is_integer (v))
    return husk_err (err, EINVAL, "%s: expected %s, got %lld", husk_buf_str (path), type_name (t),
                     (long long) json_integer_value (v));
  return husk_err (err, EINVAL, "%s: expected %s, got %s", husk_buf_str (path), type_name (t),
                   husk_json_type_name (v));
}

/* Checks v against one descriptor (type t, element type elem, object fields). */
static int
check_value (json_t *v, ftype t, ftype elem, const field *fields, husk_buf *path, husk_error **err)
{
  if (!type_ok (v, t))
    return bad_type (v, t, path, err);
  size_t mark = path->len;
  int r = 0;
  if (t == T_OBJ)
    return check_obj (v, fields, path, err);
  if (t == T_ARR)
    {
      size_t i;
      json_t *e;
      json_array_foreach (v, i, e)
      {
        husk_buf_printf (path, "[%zu]", i);
        r = check_value (e, elem, T_ANY, fields, path, err);
        path->len = mark;
        path->data[mark] = '\0';
        if (r < 0)
          return r;
      }
    }
  if (t == T_MAP)
    {
      const char *k;
      json_t *e;
      json_object_foreach (v, k, e)
      {
        husk_buf_printf (path, ".%s", k);
        r = check_value (e, elem, T_ANY, fields, path, err);
        path->len = mark;
        path->data[mark] = '\0';
        if (r < 0)
          return r;
      }
    }
  return 0;
}

static int
check_obj (json_t *obj, const field *fields, husk_buf *path, husk_error **err)
{
  const char *k;
  json_t *v;
  size_t mark = path->len;
  json_object_foreach (obj, k, v)
  {
    const field *f = fields;
    while (f->key && !streq (f->key, k))
      f++;
    if (mark)
      husk_buf_putc (path, '.');
    husk_buf_puts (path, k);
    int r = f->key ? check_value (v, f->type, f->elem, f->fields, path, err)
                   : husk_err (err, EINVAL, "%s: unknown field", husk_buf_str (path));
    path->len = mark;
    if (path->data)
      path->data[mark] = '\0';
    if (r < 0)
      return r;
  }
  return 0;
}

static int
check_at (json_t *j, const field *fields, const char *where, husk_error **err)
{
  _cleanup_buf_ husk_buf path = HUSK_BUF_INIT;
  husk_buf_puts (&path, where);
  if (!json_is_object (j))
    return husk_err (err, EINVAL, "%s: expected object, got %s", *where ? where : "config",
                     husk_json_type_name (j));
  return check_obj (j, fields, &path, err);
}

int
rt_schema_check (json_t *config, husk_error **err)
{
  int r = check_at (config, top_f, "", err);
  if (r < 0)
    return r;
  if (!json_is_string (json_object_get (config, "ociVersion")))
    return husk_err (err, EINVAL, "ociVersion: required field missing");
  return 0;
}

int
rt_schema_check_process (json_t *process, const char *where, husk_error **err)
{
  return check_at (process, process_f, where, err);
}

int
rt_schema_check_resources (json_t *resources, const char *where, husk_error **err)
{
  return check_at (resources, resources_f, where, err);
}
