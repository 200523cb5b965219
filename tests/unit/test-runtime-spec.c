/* runtime: config.json decoding: every bad field is an error naming its JSON path. */
#include "config.h"

#include <sys/stat.h>

#include "lib/json.h"
#include "runtime/runtime.h"
#include "tests/unit/tap.h"

static char bundle[] = "/tmp/test-runtime-spec-XXXXXX";

static const char *base = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
                          "\"process\":{\"args\":[\"/bin/true\"],\"cwd\":\"/\"},"
                          "\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\"}]}}";

/* Applies a JSON merge patch to the base config and decodes it; returns the error message
   (static) or NULL on success. */
static const char *
decode (const char *patch)
{
  static char msg[1024];
  json_t *cfg = json_loads (base, 0, NULL);
  json_t *p = json_loads (patch, 0, NULL);
  if (p == NULL)
    {
      snprintf (msg, sizeof msg, "bad test patch %s", patch);
      return msg;
    }
  json_object_update_recursive (cfg, p);
  husk_error *err = NULL;
  rt_spec *spec = NULL;
  int r = rt_spec_parse (cfg, bundle, &spec, &err);
  json_decref (cfg);
  json_decref (p);
  if (r == 0)
    {
      rt_spec_free (spec);
      return NULL;
    }
  snprintf (msg, sizeof msg, "%s", err->msg);
  husk_error_free (err);
  return msg;
}

static void
bad (const char *patch, const char *want)
{
  const char *got = decode (patch);
  ok (got && strstr (got, want), "%s -> error containing '%s'", patch, want);
  if (!got || !strstr (got, want))
    printf ("#   got: %s\n", got ? got : "(success)");
}

int
main (void)
{
  if (mkdtemp (bundle) == NULL)
    return 1;
  char rootfs[128];
  snprintf (rootfs, sizeof rootfs, "%s/rootfs", bundle);
  mkdir (rootfs, 0755);

  ok (decode ("{}") == NULL, "the minimal config decodes");
  ok (decode ("{\"hostname\":\"h\",\"linux\":{\"namespaces\":[{\"type\":\"mount\"},"
              "{\"type\":\"uts\"}]}}")
        == NULL,
      "hostname with a uts namespace decodes");
  bad ("{\"bogus\":1}", "bogus: unknown field");
  bad ("{\"process\":{\"argz\":[]}}", "process.argz: unknown field");
  bad ("{\"process\":{\"args\":\"sh\"}}", "process.args: expected array, got string");
  bad ("{\"process\":{\"args\":[\"sh\",3]}}", "process.args[1]: expected string, got integer");
  bad ("{\"process\":{\"user\":{\"uid\":-1}}}", "process.user.uid: expected non-negative integer");
  bad ("{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_NOPE\"]}}}",
       "process.capabilities.bounding[0]: unknown capability \"CAP_NOPE\"");
  bad ("{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]}}",
       "process.rlimits[0].type: unknown rlimit");
  bad ("{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":9,\"hard\":1}]}}",
       "soft limit above hard limit");
  bad ("{\"process\":{\"args\":[]}}", "process.args: at least one argument");
  bad ("{\"process\":{\"cwd\":\"relative\"}}", "process.cwd");
  bad ("{\"process\":{\"env\":[\"NOEQUALS\"]}}", "process.env[0]");
  bad ("{\"root\":{\"path\":\"missing\"}}", "root.path: missing");
  bad ("{\"ociVersion\":7}", "ociVersion: expected string, got integer");
  bad ("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"bogus\"}]}}",
       "linux.namespaces[1].type: unknown namespace type \"bogus\"");
  bad ("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}", "a mount namespace is required");
  bad ("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"mount\"}]}}",
       "duplicate namespace");
  bad ("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"network\","
       "\"path\":\"/nonexistent/ns\"}]}}",
       "linux.namespaces[1].path: /nonexistent/ns");
  bad ("{\"hostname\":\"h\"}", "hostname: needs a new uts namespace");
  bad ("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"user\"}]}}",
       "needs uid and gid mappings");
  bad ("{\"mounts\":[{\"destination\":\"/../../etc\",\"type\":\"tmpfs\",\"source\":\"t\"}]}",
       "mounts[0].destination");
  bad ("{\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\"}]}", "a bind mount needs a source");
  bad ("{\"mounts\":[{\"destination\":\"/x\",\"options\":[\"ro\"]}]}", "mounts[0].type: required");
  bad ("{\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"options\":[\"idmap\"]}]}",
       "mounts[0].options[0]: \"idmap\" is not supported");
  bad ("{\"linux\":{\"maskedPaths\":[\"/../../../etc/passwd\"]}}", "linux.maskedPaths[0]");
  bad ("{\"linux\":{\"sysctl\":{\"kernel.panic\":\"1\"}}}",
       "linux.sysctl.kernel.panic: not a namespaced sysctl");
  bad ("{\"linux\":{\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}", "needs a new network namespace");
  bad ("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOPE\"}}}",
       "linux.seccomp.defaultAction: unknown action");
  bad ("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
       "[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,"
       "\"op\":\"SCMP_CMP_WHAT\"}]}]}}}",
       "linux.seccomp.syscalls[0].args[0].op: unknown operator");
  bad ("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
       "[\"SCMP_ARCH_VAX\"]}}}",
       "linux.seccomp.architectures[0]: unknown architecture");
  bad ("{\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1G\"}}}}",
       "linux.resources.memory.limit: expected integer, got string");
  bad ("{\"linux\":{\"resources\":{\"cpu\":{\"realtimeRuntime\":5}}}}", "realtime limits");
  bad ("{\"linux\":{\"resources\":{\"unified\":{\"../x\":\"1\"}}}}", "not a cgroup file name");
  bad ("{\"linux\":{\"rootfsPropagation\":\"sideways\"}}", "linux.rootfsPropagation: unknown");
  bad ("{\"hooks\":{\"prestart\":[{\"path\":\"relative\"}]}}",
       "hooks.prestart[0].path: an absolute path is required");
  bad ("{\"hooks\":{\"poststart\":[{\"path\":\"/bin/true\",\"timeout\":0}]}}",
       "hooks.poststart[0].timeout");
  bad ("{\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"q\",\"major\":1,\"minor\":1}]}}",
       "linux.devices[0].type");
  bad ("{\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}}",
       "mappings need a new user namespace");

  /* The default spec and the RuntimeDefault profile decode through the same checks. */
  json_t *def = rt_spec_default (false);
  json_t *lin = json_object_get (def, "linux");
  json_object_set_new (lin, "seccomp", rt_default_seccomp (rt_default_capabilities ()));
  husk_error *err = NULL;
  rt_spec *spec = NULL;
  int r = rt_spec_parse (def, bundle, &spec, &err);
  ok (r == 0, "rt_spec_default + rt_default_seccomp decode (%s)", err ? err->msg : "ok");
  rt_spec_free (spec);
  husk_error_free (err);
  json_decref (def);

  rmdir (rootfs);
  rmdir (bundle);
  return tap_done ();
}
