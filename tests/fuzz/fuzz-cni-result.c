/* libFuzzer target: what husk-cni reads back from a plugin it delegates to (an IPAM plugin,
   cni/exec.c): its stdout as a result on success, or as a CNI error object on failure; the
   decoded result is then printed in every version the plugin answers in. */
#include "config.h"

#include <stdint.h>
#include <sys/wait.h>

#include "cni/cni.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  _cleanup_free_ char *text = xstrndup ((const char *)data, size);
  /* A plugin exiting 0 (W_EXITCODE (0, 0)), then 1 and killed by a signal. */
  const int statuses[] = { 0, 1 << 8, 9 };
  for (size_t s = 0; s < sizeof statuses / sizeof statuses[0]; s++)
    {
      husk_error *err = NULL;
      json_t *j = NULL;
      if (cni_exec_decode ("fuzz-ipam", "ADD", statuses[s], text, &j, &err) < 0)
        {
          json_t *e = cni_error_to_json (err, NULL, "details");
          json_decref (e);
          husk_error_free (err);
          continue;
        }
      cni_result *r = NULL;
      if (j && cni_result_from_json (j, &r, &err) == 0)
        for (size_t v = 0; cni_supported_versions[v]; v++)
          json_decref (cni_result_to_json (r, cni_supported_versions[v]));
      cni_result_free (r);
      husk_error_free (err);
      json_decref (j);
    }
  return 0;
}
