/* husk-master: the master alone (API server, store, scheduler, controllers), what `husk
   master` execs when this program sits next to husk. Linked with --as-needed from the same
   component libraries as husk, it maps only the libraries the master uses (no libarchive and
   what it pulls in, no libseccomp, libcap, libmnl, libnftnl): an idle master's resident
   memory is mostly shared library pages (docs/api.md, "A lean master program"). Same flags,
   output and exit codes as `husk master`. */
#include "config.h"

#include "src/cli/commands.h"

int
main (int argc, char **argv)
{
  /* getopt names argv[0] in its messages: "master: unrecognized option", as in husk. The
     process's command line (/proc/PID/cmdline) keeps the name it was started with. */
  if (argc > 0)
    argv[0] = (char *) "master";
  return husk_cmd_master (argc, argv);
}
