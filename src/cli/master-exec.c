/* husk master: runs the master as husk-master, the lean program installed next to husk
   (src/cli/husk-master.c), in this same process (exec); in husk itself without it. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "lib/util.h"
#include "src/cli/commands.h"

/* husk-master next to the running husk, NULL when there is none or this is it. */
static char *
lean_master (void)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return NULL;
  self[n] = '\0';
  char *slash = strrchr (self, '/');
  if (slash == NULL || streq (slash + 1, "husk-master"))
    return NULL;
  *slash = '\0';
  char *p = xasprintf ("%s/husk-master", self);
  if (access (p, X_OK) == 0)
    return p;
  free (p);
  return NULL;
}

/* Same pid, flags, output and exit codes: signals reach the master as before.
   HUSK_MASTER_INPROCESS=1 keeps the master in husk. */
int
husk_cli_master (int argc, char **argv)
{
  const char *inproc = getenv ("HUSK_MASTER_INPROCESS");
  _cleanup_free_ char *lean = inproc && *inproc && !streq (inproc, "0") ? NULL : lean_master ();
  if (lean)
    {
      argv[0] = (char *) "husk-master";
      execv (lean, argv);
      fprintf (stderr, "husk master: exec %s: %s (running in-process)\n", lean, strerror (errno));
      argv[0] = (char *) "master";
    }
  return husk_cmd_master (argc, argv);
}
