/* libFuzzer target: the OCI config.json decoder (runtime/spec.c and everything it calls:
   schema, namespaces, mounts, process, capabilities, rlimits, seccomp, hooks, resources),
   and the process decoder used by `exec -p`. Input: a config.json document. */
#include "config.h"

#include <stdint.h>
#include <sys/stat.h>

#include "runtime/internal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *
bundle (void)
{
  static char dir[] = "/tmp/fuzz-oci-config-XXXXXX";
  static bool made;
  if (!made)
    {
      if (mkdtemp (dir) == NULL)
        abort ();
      char rootfs[64];
      snprintf (rootfs, sizeof rootfs, "%s/rootfs", dir);
      mkdir (rootfs, 0755);
      made = true;
    }
  return dir;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  json_t *cfg = json_loadb ((const char *) data, size, 0, NULL);
  if (cfg == NULL)
    return 0;
  husk_error *err = NULL;
  rt_spec *spec = NULL;
  if (rt_spec_parse (cfg, bundle (), &spec, &err) == 0)
    rt_spec_free (spec);
  husk_error_free (err);
  err = NULL;
  json_t *proc = json_object_get (cfg, "process");
  if (proc && rt_schema_check_process (proc, "process", &err) == 0)
    {
      rt_process p;
      if (rt_process_decode (proc, "process", &p, &err) == 0)
        rt_process_clear (&p);
    }
  husk_error_free (err);
  json_decref (cfg);
  return 0;
}
