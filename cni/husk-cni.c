/* husk-cni: the CNI plugin executable (DESIGN.md 1). */
#include "config.h"

#include "cni/cni.h"

int
main (int argc, char **argv)
{
  if (argc > 1 && (streq (argv[1], "--version") || streq (argv[1], "version")))
    {
      printf ("husk-cni %s (CNI spec up to %s)\n", PACKAGE_VERSION, CNI_VERSION_LATEST);
      return 0;
    }
  return cni_plugin_main (stdin, stdout);
}
