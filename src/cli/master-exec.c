/* husk master: runs the master as husk-master, the lean program installed next to husk
   (src/cli/husk-master.c), in this same process (exec); in husk itself without it. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "lib/path.h"
#include "lib/util.h"
#include "src/cli/commands.h"

/* Same pid, flags, output and exit codes: signals reach the master as before.
   HUSK_MASTER_INPROCESS=1 keeps the master in husk. */
int
husk_cli_master (int argc, char **argv)
{
  const char *inproc = getenv ("HUSK_MASTER_INPROCESS");
  bool keep = inproc && *inproc && !streq (inproc, "0");
  _cleanup_free_ char *lean = keep ? NULL : husk_program_beside_self ("husk-master");
  if (lean)
    {
      argv[0] = (char *) "husk-master";
      execv (lean, argv);
      fprintf (stderr, "husk master: exec %s: %s (running in-process)\n", lean, strerror (errno));
      argv[0] = (char *) "master";
    }
  return husk_cmd_master (argc, argv);
}
