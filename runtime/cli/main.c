/* husk-runtime: an OCI runtime with runc's command line (global options, commands, state
   JSON, exit codes), for podman, containerd's runc shim and the OCI conformance tests. */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "lib/log.h"
#include "runtime/cli/cli.h"

cli_global cli = {.root = RT_DEFAULT_ROOT};

static void
log_line (const char *level, const char *msg)
{
  if (cli.log_path == NULL)
    return;
  FILE *f = fopen (cli.log_path, "ae");
  if (f == NULL)
    return;
  char ts[64];
  time_t now = time (NULL);
  struct tm tm;
  gmtime_r (&now, &tm);
  strftime (ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (cli.log_json)
    {
      _cleanup_json_ json_t *j = json_pack ("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", ts);
      _cleanup_free_ char *s = husk_json_dump (j);
      fprintf (f, "%s\n", s);
    }
  else
    fprintf (f, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, msg);
  fclose (f);
}

int
cli_fail (husk_error *err)
{
  const char *msg = err && err->msg ? err->msg : "unknown error";
  fprintf (stderr, "husk-runtime: %s\n", msg);
  log_line ("error", msg);
  return 1;
}

int
cli_failf (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  husk_error e = {0, msg};
  return cli_fail (&e);
}

int
cli_usage (const char *cmd, const char *synopsis)
{
  fprintf (stderr, "usage: husk-runtime %s %s\n", cmd, synopsis);
  return 1;
}

void
cli_print_json (json_t *j)
{
  char *s = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  if (s)
    printf ("%s\n", s);
  free (s);
}

int
cli_connect_console (const char *path)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen (path) >= sizeof sa.sun_path)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  strcpy (sa.sun_path, path);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      int e = errno;
      close (fd);
      errno = e;
      return -1;
    }
  return fd;
}

static const struct
{
  const char *name;
  int (*run) (int, char **);
  const char *summary;
} commands[] = {
  {"create", cmd_create, "create a container"},
  {"start", cmd_start, "execute the user process of a created container"},
  {"run", cmd_run, "create and start a container"},
  {"exec", cmd_exec, "execute a new process inside a container"},
  {"state", cmd_state, "output the state of a container"},
  {"kill", cmd_kill, "send a signal to the container's init (or every) process"},
  {"delete", cmd_delete, "delete a container"},
  {"list", cmd_list, "list containers"},
  {"ps", cmd_ps, "list the processes running inside a container"},
  {"pause", cmd_pause, "suspend every process of a container"},
  {"resume", cmd_resume, "resume a paused container"},
  {"update", cmd_update, "update a container's resource limits"},
  {"events", cmd_events, "print the container's cgroup statistics (--stats: once)"},
  {"features", cmd_features, "show the enabled features"},
  {"spec", cmd_spec, "create a new specification file"},
};

static void
usage (FILE *f)
{
  fprintf (f, "usage: husk-runtime [global options] <command> [options] [arguments]\n\n"
              "global options:\n"
              "  --root DIR          state directory (default " RT_DEFAULT_ROOT ")\n"
              "  --log FILE          log file\n"
              "  --log-format FMT    text or json\n"
              "  --debug             debug logging\n"
              "  --skip-limits       run when a resource limit cannot be applied\n\n"
              "commands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    fprintf (f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

static const struct option global_opts[] = {
  {"root", required_argument, NULL, 'r'},
  {"log", required_argument, NULL, 'l'},
  {"log-format", required_argument, NULL, 'f'},
  {"debug", no_argument, NULL, 'd'},
  {"skip-limits", no_argument, NULL, 'k'},
  {"systemd-cgroup", no_argument, NULL, 's'},
  {"rootless", required_argument, NULL, 'R'},
  {"criu", required_argument, NULL, 'c'},
  {"help", no_argument, NULL, 'h'},
  {"version", no_argument, NULL, 'v'},
  {NULL, 0, NULL, 0},
};

int
main (int argc, char **argv)
{
  int c;
  while ((c = getopt_long (argc, argv, "+hv", global_opts, NULL)) != -1)
    switch (c)
      {
      case 'r':
        cli.root = optarg;
        break;
      case 'l':
        cli.log_path = optarg;
        break;
      case 'f':
        if (!streq (optarg, "json") && !streq (optarg, "text"))
          return cli_failf ("invalid log format \"%s\"", optarg);
        cli.log_json = streq (optarg, "json");
        break;
      case 'd':
        cli.debug = true;
        husk_log_set_level (HUSK_LOG_DEBUG);
        break;
      case 'k':
        cli.skip_limits = true;
        break;
      case 's':
      case 'R':
      case 'c':
        break;
      case 'h':
        usage (stdout);
        return 0;
      case 'v':
        printf ("husk-runtime version %s\ncommit: %s\nspec: %s\n", PACKAGE_VERSION,
                HUSK_GIT_COMMIT, RT_OCI_VERSION);
        return 0;
      default:
        usage (stderr);
        return 1;
      }
  if (optind >= argc)
    {
      usage (stderr);
      return 1;
    }
  cli_log_redirect ();
  int idx = optind;
  const char *name = argv[idx];
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (streq (name, commands[i].name))
      {
        optind = 0; /* full getopt reset for the command's own options */
        return commands[i].run (argc - idx, argv + idx);
      }
  return cli_failf ("unknown command \"%s\"", name);
}
