/* husk-runtime exec: a process from -p process.json, or from the command line on top of the
   container's own process (env, user, capabilities), as runc does. */
#include "config.h"

#include <errno.h>

#include "runtime/cli/cli.h"
#include "runtime/internal.h"

typedef struct exec_args
{
  const char *process, *console, *cwd, *user, *id;
  bool tty, detach, nnp;
  char **env, **caps, **gids;
  size_t nenv, ncaps, ngids;
  rt_exec_opts opts;
} exec_args;

enum
{
  OPT_CONSOLE = 256,
  OPT_PIDFILE,
  OPT_CWD,
  OPT_NNP,
  OPT_PRESERVE,
  OPT_IGNORED,
};

static const struct option exec_opts[] = {
  {"console-socket", required_argument, NULL, OPT_CONSOLE},
  {"pid-file", required_argument, NULL, OPT_PIDFILE},
  {"cwd", required_argument, NULL, OPT_CWD},
  {"env", required_argument, NULL, 'e'},
  {"tty", no_argument, NULL, 't'},
  {"user", required_argument, NULL, 'u'},
  {"additional-gids", required_argument, NULL, 'g'},
  {"process", required_argument, NULL, 'p'},
  {"detach", no_argument, NULL, 'd'},
  {"cap", required_argument, NULL, 'c'},
  {"no-new-privs", no_argument, NULL, OPT_NNP},
  {"apparmor", required_argument, NULL, OPT_IGNORED},
  {"process-label", required_argument, NULL, OPT_IGNORED},
  {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
  {"ignore-paused", no_argument, NULL, OPT_IGNORED},
  {NULL, 0, NULL, 0},
};

static void
push (char ***v, size_t *n, const char *s)
{
  *v = xreallocarray (*v, *n + 2, sizeof **v);
  (*v)[(*n)++] = (char *) s;
  (*v)[*n] = NULL;
}

static int
parse (int argc, char **argv, exec_args *a)
{
  int c;
  a->opts = (rt_exec_opts) RT_EXEC_OPTS_INIT;
  while ((c = getopt_long (argc, argv, "+e:tu:g:p:dc:", exec_opts, NULL)) != -1)
    switch (c)
      {
      case OPT_CONSOLE:
        a->console = optarg;
        break;
      case OPT_PIDFILE:
        a->opts.pid_file = optarg;
        break;
      case OPT_CWD:
        a->cwd = optarg;
        break;
      case 'e':
        push (&a->env, &a->nenv, optarg);
        break;
      case 't':
        a->tty = true;
        break;
      case 'u':
        a->user = optarg;
        break;
      case 'g':
        push (&a->gids, &a->ngids, optarg);
        break;
      case 'p':
        a->process = optarg;
        break;
      case 'd':
        a->detach = true;
        break;
      case 'c':
        push (&a->caps, &a->ncaps, optarg);
        break;
      case OPT_NNP:
        a->nnp = true;
        break;
      case OPT_PRESERVE:
        a->opts.preserve_fds = atoi (optarg);
        break;
      case OPT_IGNORED:
        break;
      default:
        return -1;
      }
  if (optind >= argc)
    return -1;
  a->id = argv[optind++];
  if (a->process == NULL && optind >= argc)
    return -1;
  return 0;
}

/* Command-line exec: the container's process with args and the flags applied. */
static int
process_from_args (exec_args *a, char **args, json_t **out, husk_error **err)
{
  json_t *cfg_proc = NULL;
  json_t *state = NULL;
  rt_state st;
  int r = rt_state_load (cli.root, a->id, &st, err);
  if (r < 0)
    return r;
  state = st.config;
  cfg_proc = json_object_get (state, "process");
  json_t *p = cfg_proc ? json_deep_copy (cfg_proc) : json_object ();
  rt_state_clear (&st);
  json_t *argv = json_array ();
  for (size_t i = 0; args[i]; i++)
    json_array_append_new (argv, json_string (args[i]));
  json_object_set_new (p, "args", argv);
  json_object_set_new (p, "terminal", json_boolean (a->tty));
  if (a->cwd)
    json_object_set_new (p, "cwd", json_string (a->cwd));
  json_t *env = json_object_get (p, "env");
  if (env == NULL)
    json_object_set_new (p, "env", env = json_array ());
  for (size_t i = 0; i < a->nenv; i++)
    json_array_append_new (env, json_string (a->env[i]));
  if (a->user || a->ngids)
    {
      json_t *u = json_object_get (p, "user");
      if (u == NULL)
        json_object_set_new (p, "user", u = json_object ());
      if (a->user)
        {
          unsigned uid = 0, gid = 0;
          int n = sscanf (a->user, "%u:%u", &uid, &gid);
          if (n < 1)
            {
              json_decref (p);
              return husk_err (err, EINVAL, "--user %s: expected UID[:GID]", a->user);
            }
          json_object_set_new (u, "uid", json_integer (uid));
          json_object_set_new (u, "gid", json_integer (n == 2 ? gid : 0));
        }
      json_t *g = json_array ();
      for (size_t i = 0; i < a->ngids; i++)
        json_array_append_new (g, json_integer (atoi (a->gids[i])));
      json_object_set_new (u, "additionalGids", g);
    }
  if (a->nnp)
    json_object_set_new (p, "noNewPrivileges", json_true ());
  json_t *caps = json_object_get (p, "capabilities");
  for (size_t i = 0; i < a->ncaps && caps; i++)
    {
      static const char *const sets[] = {"bounding", "effective", "permitted", "ambient"};
      for (size_t k = 0; k < ARRAY_SIZE (sets); k++)
        {
          json_t *s = json_object_get (caps, sets[k]);
          if (s)
            json_array_append_new (s, json_string (a->caps[i]));
        }
    }
  *out = p;
  return 0;
}

int
cmd_exec (int argc, char **argv)
{
  _cleanup_error_ husk_error *err = NULL;
  exec_args a = {0};
  if (parse (argc, argv, &a) < 0)
    {
      free (a.env);
      free (a.caps);
      free (a.gids);
      return cli_usage ("exec", "[options] <container-id> <command> [args...] | -p process.json "
                                "<container-id>");
    }
  _cleanup_json_ json_t *process = NULL;
  int r = a.process ? husk_json_load_file (a.process, &process, &err)
                    : process_from_args (&a, argv + optind, &process, &err);
  free (a.env);
  free (a.caps);
  free (a.gids);
  if (r < 0)
    return cli_fail (err);
  if (a.tty)
    json_object_set_new (process, "terminal", json_true ());
  _cleanup_close_ int console = -1, own = -1;
  if (a.console)
    {
      console = cli_connect_console (a.console);
      if (console < 0)
        return cli_failf ("--console-socket %s: %s", a.console, strerror (errno));
      a.opts.console_socket_fd = console;
    }
  else if (!a.detach && json_is_true (json_object_get (process, "terminal")))
    {
      /* Foreground -t without --console-socket: relay the pty ourselves, as runc. */
      int sv[2];
      if (cli_tty_socketpair (sv) < 0)
        return cli_failf ("console socket pair: %s", strerror (errno));
      own = sv[0];
      console = a.opts.console_socket_fd = sv[1];
      cli_tty_winsize (&a.opts.console_rows, &a.opts.console_cols);
    }
  a.opts.detach = a.detach;
  pid_t pid = 0;
  if (rt_container_exec (cli.root, a.id, process, &a.opts, &pid, &err) < 0)
    return cli_fail (err);
  if (a.detach)
    return 0;
  int master = own >= 0 ? cli_tty_take_master (own) : -1;
  return master >= 0 ? cli_tty_relay (master, pid) : rt_wait_forward (pid);
}
