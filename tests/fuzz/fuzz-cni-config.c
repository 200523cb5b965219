/* libFuzzer target: husk-cni's network configuration decoder (stdin of the plugin) and the
   result decoder it applies to prevResult and to delegated plugins' output. */
#include "config.h"

#include <stdint.h>

#include "cni/cni.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  _cleanup_error_ husk_error *err = NULL;
  cni_conf *c = NULL;
  if (cni_conf_parse ((const char *)data, size, &c, &err) < 0)
    {
      json_t *e = cni_error_to_json (err, NULL, NULL);
      json_decref (e);
      return 0;
    }
  if (c->prev_result)
    {
      cni_result *r = NULL;
      husk_error *rerr = NULL;
      if (cni_result_from_json (c->prev_result, &r, &rerr) == 0)
        {
          json_t *j = cni_result_to_json (r, c->cni_version);
          json_decref (j);
          cni_result_free (r);
        }
      husk_error_free (rerr);
    }
  cni_conf_free (c);
  return 0;
}
