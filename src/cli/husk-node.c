/* husk-node: the node agent alone, what `husk node` execs when this program sits next to
   husk. Linked with --as-needed from the same component libraries as husk, it maps only the
   libraries the node uses (no SQLite, no master): the idle agent's resident memory is
   mostly shared library pages (docs/node.md, "Idle RSS"). Same flags as `husk node`. */
#include "config.h"

#include "src/cli/nodeflags.h"

int
main (int argc, char **argv)
{
  return husk_node_main (argc, argv);
}
