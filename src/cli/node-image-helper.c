/* husk node --image-helper: the image operations that need libarchive, run by the whole
   husk for husk-node, which is linked without libarchive (and its libxml2, ICU, libstdc++
   chain: about 2 MB of an idle agent's resident memory). src/cli/husk-node-image.c is the
   husk-node side. Internal: the command line may change with husk.

     husk node --image-helper diff-id BLOB              prints the layer's diff_id
     husk node --image-helper unpack-layer BLOB DIR     unpacks it, prints its diff_id
     husk node --image-helper import DATA_DIR PATH NAME OS ARCH VARIANT
                                                        imports, prints the references
   ("-" stands for an absent NAME, OS, ARCH or VARIANT). On failure the error's message goes
   to stderr and the exit code is its errno. */
#include "config.h"

#include "src/cli/nodeflags.h"
#include "src/node/image/image.h"

static const char *
arg (const char *a)
{
  return streq (a, "-") ? NULL : a;
}

static int
fail (husk_error *err)
{
  int code = err && err->errnum > 0 && err->errnum < 256 ? err->errnum : 1;
  fprintf (stderr, "%s\n", err ? err->msg : "failed");
  husk_error_free (err);
  return code;
}

static int
helper_import (char **argv)
{
  husk_error *err = NULL;
  image_store *st = NULL;
  image_platform p = {arg (argv[3]), arg (argv[4]), arg (argv[5])};
  char **refs = NULL;
  if (image_store_open (argv[0], &st, &err) < 0)
    return fail (err);
  int r = image_import (st, argv[1], arg (argv[2]), p.os ? &p : NULL, &refs, &err);
  for (char **ref = refs; ref && *ref; ref++)
    printf ("%s\n", *ref);
  strv_free (refs);
  image_store_free (st);
  return r < 0 ? fail (err) : 0;
}

int
node_image_helper (int argc, char **argv)
{
  husk_error *err = NULL;
  char diff_id[IMAGE_DIGEST_LEN + 1] = "";
  if (argc == 2 && streq (argv[0], "diff-id"))
    {
      if (image_layer_diff_id_file (argv[1], diff_id, &err) < 0)
        return fail (err);
    }
  else if (argc == 3 && streq (argv[0], "unpack-layer"))
    {
      if (image_unpack_layer_file (argv[1], argv[2], diff_id, &err) < 0)
        return fail (err);
    }
  else if (argc == 7 && streq (argv[0], "import"))
    return helper_import (argv + 1);
  else
    {
      fprintf (stderr, "husk node --image-helper: bad arguments\n");
      return 2;
    }
  printf ("%s\n", diff_id);
  return 0;
}
