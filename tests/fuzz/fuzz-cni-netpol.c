/* libFuzzer target: the NetworkPolicy compiler on API objects (policies, pods, namespaces
   come from the API server, i.e. from any user who may create them). Input: a JSON object
   {"policies": [...], "pods": [...], "namespaces": [...]}, compiled for every node and for
   node "n1", and rendered. */
#include "config.h"

#include <stdint.h>

#include "cni/netpol.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  json_t *in = json_loadb ((const char *) data, size, 0, NULL);
  if (in == NULL)
    return 0;
  static const char *const nodes[] = {NULL, "n1"};
  for (size_t i = 0; i < 2; i++)
    {
      cni_np_model *m = NULL;
      husk_error *err = NULL;
      if (cni_np_compile (json_object_get (in, "policies"), json_object_get (in, "pods"),
                          json_object_get (in, "namespaces"), nodes[i], &m, &err)
          == 0)
        {
          json_t *j = cni_np_model_json (m);
          json_decref (j);
          cni_np_model_free (m);
        }
      husk_error_free (err);
    }
  json_decref (in);
  return 0;
}
