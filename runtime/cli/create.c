/* husk-runtime create, run, start. */
#include "config.h"

#include <errno.h>

#include "runtime/cli/cli.h"

typedef struct create_args
{
  const char *bundle, *console, *id;
  rt_create_opts opts;
  bool detach, keep;
} create_args;

enum
{
  OPT_BUNDLE = 'b',
  OPT_DETACH = 'd',
  OPT_CONSOLE = 256,
  OPT_PIDFILE,
  OPT_NOPIVOT,
  OPT_KEEP,
  OPT_PRESERVE,
  OPT_IGNORED,
};

static const struct option create_opts[] = {
  {"bundle", required_argument, NULL, OPT_BUNDLE},
  {"console-socket", required_argument, NULL, OPT_CONSOLE},
  {"pid-file", required_argument, NULL, OPT_PIDFILE},
  {"no-pivot", no_argument, NULL, OPT_NOPIVOT},
  {"detach", no_argument, NULL, OPT_DETACH},
  {"keep", no_argument, NULL, OPT_KEEP},
  {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
  {"no-new-keyring", no_argument, NULL, OPT_IGNORED},
  {"no-subreaper", no_argument, NULL, OPT_IGNORED},
  {NULL, 0, NULL, 0},
};

static int
parse (int argc, char **argv, bool is_run, create_args *a)
{
  int c;
  a->bundle = ".";
  a->opts = (rt_create_opts) RT_CREATE_OPTS_INIT;
  while ((c = getopt_long (argc, argv, is_run ? "+b:d" : "+b:", create_opts, NULL)) != -1)
    switch (c)
      {
      case OPT_BUNDLE:
        a->bundle = optarg;
        break;
      case OPT_CONSOLE:
        a->console = optarg;
        break;
      case OPT_PIDFILE:
        a->opts.pid_file = optarg;
        break;
      case OPT_NOPIVOT:
        a->opts.no_pivot = true;
        break;
      case OPT_DETACH:
        a->detach = true;
        break;
      case OPT_KEEP:
        a->keep = true;
        break;
      case OPT_PRESERVE:
        a->opts.preserve_fds = atoi (optarg);
        break;
      case OPT_IGNORED:
        break;
      default:
        return -1;
      }
  if (optind != argc - 1)
    return -1;
  a->id = argv[optind];
  a->opts.skip_limits = cli.skip_limits;
  return 0;
}

static int
do_create (create_args *a)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_close_ int console = -1;
  if (a->console)
    {
      console = cli_connect_console (a->console);
      if (console < 0)
        return cli_failf ("--console-socket %s: %s", a->console, strerror (errno));
      a->opts.console_socket_fd = console;
    }
  if (rt_container_create (cli.root, a->id, a->bundle, &a->opts, &err) < 0)
    return cli_fail (err);
  return 0;
}

int
cmd_create (int argc, char **argv)
{
  create_args a = {0};
  if (parse (argc, argv, false, &a) < 0)
    return cli_usage ("create", "[--bundle DIR] [--console-socket PATH] [--pid-file PATH] "
                                "[--no-pivot] [--preserve-fds N] <container-id>");
  return do_create (&a);
}

int
cmd_start (int argc, char **argv)
{
  _cleanup_error_ husk_error *err = NULL;
  if (argc != 2)
    return cli_usage ("start", "<container-id>");
  if (rt_container_start (cli.root, argv[1], &err) < 0)
    return cli_fail (err);
  return 0;
}

/* Foreground without --console-socket: our own console socket, in case process.terminal
   asks for a pty (runc's behaviour); *keep gets our end. */
static int
own_console (create_args *a, int *keep)
{
  int sv[2];
  if (cli_tty_socketpair (sv) < 0)
    return cli_failf ("console socket pair: %s", strerror (errno));
  *keep = sv[0];
  a->opts.console_socket_fd = sv[1];
  cli_tty_winsize (&a->opts.console_rows, &a->opts.console_cols);
  return 0;
}

int
cmd_run (int argc, char **argv)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_close_ int console = -1, own = -1;
  create_args a = {0};
  if (parse (argc, argv, true, &a) < 0)
    return cli_usage ("run", "[--bundle DIR] [-d] [--console-socket PATH] [--pid-file PATH] "
                             "[--no-pivot] [--keep] <container-id>");
  if (a.console)
    {
      console = cli_connect_console (a.console);
      if (console < 0)
        return cli_failf ("--console-socket %s: %s", a.console, strerror (errno));
      a.opts.console_socket_fd = console;
    }
  else if (!a.detach && own_console (&a, &own) != 0)
    return 1;
  if (own >= 0)
    console = a.opts.console_socket_fd;
  pid_t pid = 0;
  if (rt_container_run (cli.root, a.id, a.bundle, &a.opts, &pid, &err) < 0)
    return cli_fail (err);
  if (a.detach)
    return 0;
  int master = own >= 0 ? cli_tty_take_master (own) : -1;
  int status = master >= 0 ? cli_tty_relay (master, pid) : rt_wait_forward (pid);
  if (!a.keep && rt_container_delete (cli.root, a.id, true, &err) < 0)
    return cli_fail (err);
  return status;
}
