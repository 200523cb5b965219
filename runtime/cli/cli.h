/* husk-runtime: runc's command line over the runtime library. */
#ifndef HUSK_RUNTIME_CLI_H
#define HUSK_RUNTIME_CLI_H

#include <getopt.h>

#include "lib/error.h"
#include "lib/json.h"
#include "runtime/runtime.h"

typedef struct cli_global
{
  const char *root;
  const char *log_path;
  bool log_json;
  bool debug;
  bool skip_limits;
} cli_global;

extern cli_global cli;

/* Reports err on stderr and in the --log file (JSON lines when --log-format json, as
   containerd's shim reads them) and returns exit status 1. */
int cli_fail (husk_error *err);
int cli_failf (const char *fmt, ...) _printf_ (1, 2);
/* Usage error: message and exit status 1 (runc's behaviour for bad arguments). */
int cli_usage (const char *cmd, const char *synopsis);
/* Prints JSON indented like runc (two spaces). */
void cli_print_json (json_t *j);
/* log.c: the library's log lines go to --log (JSON lines with --log-format json). */
void cli_log_redirect (void);
/* Connects to a --console-socket path; -1 with errno on failure. */
int cli_connect_console (const char *path);

/* tty.c: a foreground terminal without --console-socket. cli_tty_socketpair makes the
   pair (sv[1] goes to the library as the console socket); cli_tty_take_master returns the
   pty master the container sent, or -1 (no terminal); cli_tty_relay copies between the pty
   and our stdin/stdout until pid exits and returns its status as a shell would. */
int cli_tty_socketpair (int sv[2]);
int cli_tty_take_master (int sock);
int cli_tty_relay (int master, pid_t pid);
/* Our stdin's window size, when it is a terminal (else untouched). */
void cli_tty_winsize (unsigned short *rows, unsigned short *cols);

int cmd_create (int argc, char **argv);
int cmd_run (int argc, char **argv);
int cmd_start (int argc, char **argv);
int cmd_exec (int argc, char **argv);
int cmd_state (int argc, char **argv);
int cmd_kill (int argc, char **argv);
int cmd_delete (int argc, char **argv);
int cmd_list (int argc, char **argv);
int cmd_ps (int argc, char **argv);
int cmd_pause (int argc, char **argv);
int cmd_resume (int argc, char **argv);
int cmd_update (int argc, char **argv);
int cmd_features (int argc, char **argv);
int cmd_spec (int argc, char **argv);
int cmd_events (int argc, char **argv);

#endif
