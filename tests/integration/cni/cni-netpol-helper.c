/* Test driver for the NetworkPolicy compiler and applier (what src/node/net/netpol.c calls):
     cni-netpol-helper apply FILE [NODE]   FILE: {"policies": [...], "pods": [...],
                                           "namespaces": [...]}; prints the model's JSON
     cni-netpol-helper flush
   Runs in the calling network namespace; prints the error and exits 1 on failure. */
#include "config.h"

#include <errno.h>

#include "cni/netpol.h"
#include "lib/json.h"

static int
apply (const char *file, const char *node, husk_error **err)
{
  json_error_t jerr;
  _cleanup_ (json_decrefp) json_t *in = json_load_file (file, 0, &jerr);
  if (in == NULL)
    return husk_err (err, EINVAL, "%s:%d: %s", file, jerr.line, jerr.text);
  _cleanup_ (cni_np_model_freep) cni_np_model *m = NULL;
  int r = cni_np_compile (json_object_get (in, "policies"), json_object_get (in, "pods"),
                          json_object_get (in, "namespaces"), node, &m, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < m->nwarnings; i++)
    fprintf (stderr, "warning: %s\n", m->warnings[i]);
  _cleanup_ (json_decrefp) json_t *j = cni_np_model_json (m);
  _cleanup_free_ char *text = husk_json_dump (j);
  printf ("%s\n", text);
  return cni_np_apply (m, err);
}

int
main (int argc, char **argv)
{
  _cleanup_error_ husk_error *err = NULL;
  int r = -1;
  if (argc >= 3 && streq (argv[1], "apply"))
    r = apply (argv[2], argc > 3 ? argv[3] : NULL, &err);
  else if (argc == 2 && streq (argv[1], "flush"))
    r = cni_np_flush (&err);
  else
    {
      fprintf (stderr, "usage: cni-netpol-helper apply FILE [NODE] | flush\n");
      return 2;
    }
  if (r < 0)
    {
      fprintf (stderr, "cni-netpol-helper: %s\n", err ? err->msg : "failed");
      return 1;
    }
  return 0;
}
