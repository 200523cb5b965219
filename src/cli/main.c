/* husk: the one binary for daemons and the command line; dispatches to subcommands. */
#include "config.h"

#include "lib/util.h"
#include "src/cli/commands.h"

static const husk_command commands[] = {
  {"version", "print the version, git commit and compiled-in features", husk_cmd_version},
  {"master", "run the API server and state store (the control plane)", husk_cli_master},
  {"image", "pull, import, export, list, mount and remove container images", husk_cmd_image},
  {"node", "run the node agent: register a Node and run the pods bound to it", husk_cmd_node},
  {"up", "run a one-node cluster here (master and node in one process)", husk_cmd_up},
};

static void
usage (FILE *f)
{
  fprintf (f, "usage: husk <command> [options]\n\n"
              "husk is a Kubernetes-compatible orchestrator for minimal hosts.\n\ncommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    fprintf (f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (f, "\nRun 'husk <command> --help' for a command's options.\n");
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  const char *name = argv[1];
  if (streq (name, "--help") || streq (name, "-h") || streq (name, "help"))
    {
      usage (stdout);
      return 0;
    }
  if (streq (name, "--version"))
    name = "version";
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (streq (name, commands[i].name))
      return commands[i].run (argc - 1, argv + 1);
  fprintf (stderr, "husk: unknown command '%s'\n", name);
  usage (stderr);
  return 2;
}
