/* husk: subcommands of the husk binary. Each returns the process exit code. */
#ifndef HUSK_CLI_COMMANDS_H
#define HUSK_CLI_COMMANDS_H

typedef struct husk_command
{
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv); /* argv[0] is the subcommand name */
} husk_command;

int husk_cmd_version (int argc, char **argv);
int husk_cmd_master (int argc, char **argv); /* the master in this process (src/master/master.c) */
/* `husk master`: execs husk-master next to husk, else husk_cmd_master (src/cli/master-exec.c). */
int husk_cli_master (int argc, char **argv);
int husk_cmd_image (int argc, char **argv);
int husk_cmd_node (int argc, char **argv);
int husk_cmd_up (int argc, char **argv);

#endif
