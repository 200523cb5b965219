/* husk-runtime state, list, ps, features, spec. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/path.h"
#include "runtime/cli/cli.h"

int
cmd_state (int argc, char **argv)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_json_ json_t *st = NULL;
  if (argc != 2)
    return cli_usage ("state", "<container-id>");
  if (rt_container_state (cli.root, argv[1], &st, &err) < 0)
    return cli_fail (err);
  cli_print_json (st);
  return 0;
}

int
cmd_list (int argc, char **argv)
{
  static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'},
                                       {"format", required_argument, NULL, 'f'},
                                       {NULL, 0, NULL, 0}};
  _cleanup_error_ husk_error *err = NULL;
  bool quiet = false, json = false;
  int c;
  while ((c = getopt_long (argc, argv, "+qf:", opts, NULL)) != -1)
    if (c == 'q')
      quiet = true;
    else if (c == 'f' && (streq (optarg, "json") || streq (optarg, "table")))
      json = streq (optarg, "json");
    else
      return cli_usage ("list", "[-q] [--format table|json]");
  _cleanup_json_ json_t *all = NULL;
  if (rt_container_list (cli.root, &all, &err) < 0)
    return cli_fail (err);
  size_t i;
  json_t *s;
  if (quiet)
    {
      json_array_foreach (all, i, s) printf ("%s\n", json_string_value (json_object_get (s, "id")));
      return 0;
    }
  if (json)
    {
      _cleanup_free_ char *d = husk_json_dump (all);
      printf ("%s\n", d);
      return 0;
    }
  printf ("%-12s %-10s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
          "OWNER");
  json_array_foreach (all, i, s)
  {
    printf ("%-12s %-10lld %-10s %-40s %-30s %s\n", json_string_value (json_object_get (s, "id")),
            (long long) json_integer_value (json_object_get (s, "pid")),
            json_string_value (json_object_get (s, "status")),
            json_string_value (json_object_get (s, "bundle")),
            json_string_value (json_object_get (s, "created")),
            json_string_value (json_object_get (s, "owner")));
  }
  return 0;
}

static bool
in_set (pid_t p, const pid_t *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (v[i] == p)
      return true;
  return false;
}

/* Table format: runs ps(1) with the given options and keeps the header and the lines of
   the container's processes, as runc does. */
static int
ps_table (const pid_t *pids, size_t n, char **ps_args)
{
  int p[2];
  if (pipe (p) < 0)
    return cli_failf ("pipe: %s", strerror (errno));
  pid_t child = fork ();
  if (child == 0)
    {
      dup2 (p[1], 1);
      close (p[0]);
      close (p[1]);
      size_t na = 0;
      while (ps_args[na])
        na++;
      char **argv = xcalloc (na + 3, sizeof *argv);
      argv[0] = (char *) "ps";
      for (size_t i = 0; i < na; i++)
        argv[i + 1] = ps_args[i];
      if (na == 0)
        argv[1] = (char *) "-ef";
      execvp ("ps", argv);
      _exit (127);
    }
  close (p[1]);
  FILE *f = fdopen (p[0], "r");
  char *line = NULL;
  size_t cap = 0;
  int pid_col = -1;
  bool header = true;
  while (getline (&line, &cap, f) > 0)
    {
      if (header)
        {
          fputs (line, stdout);
          _cleanup_free_ char *copy = xstrdup (line);
          int col = 0;
          for (char *t = strtok (copy, " \t\n"); t; t = strtok (NULL, " \t\n"), col++)
            if (streq (t, "PID"))
              pid_col = col;
          header = false;
          continue;
        }
      _cleanup_free_ char *copy = xstrdup (line);
      int col = 0;
      for (char *t = strtok (copy, " \t\n"); t; t = strtok (NULL, " \t\n"), col++)
        if (col == pid_col && in_set ((pid_t) atoi (t), pids, n))
          fputs (line, stdout);
    }
  free (line);
  fclose (f);
  int status;
  waitpid (child, &status, 0);
  if (pid_col < 0)
    return cli_failf ("ps: no PID column in the output of ps");
  return 0;
}

int
cmd_ps (int argc, char **argv)
{
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                       {NULL, 0, NULL, 0}};
  _cleanup_error_ husk_error *err = NULL;
  bool json = false;
  int c;
  while ((c = getopt_long (argc, argv, "+f:", opts, NULL)) != -1)
    if (c == 'f' && (streq (optarg, "json") || streq (optarg, "table")))
      json = streq (optarg, "json");
    else
      return cli_usage ("ps", "[--format table|json] <container-id> [ps options]");
  if (optind >= argc)
    return cli_usage ("ps", "[--format table|json] <container-id> [ps options]");
  pid_t *pids = NULL;
  size_t n = 0;
  if (rt_container_pids (cli.root, argv[optind], &pids, &n, &err) < 0)
    return cli_fail (err);
  int r = 0;
  if (json)
    {
      printf ("[");
      for (size_t i = 0; i < n; i++)
        printf ("%s%d", i ? "," : "", (int) pids[i]);
      printf ("]\n");
    }
  else
    r = ps_table (pids, n, argv + optind + 1);
  free (pids);
  return r;
}

int
cmd_features (int argc, char **argv)
{
  _cleanup_json_ json_t *f = rt_features ();
  cli_print_json (f);
  return 0;
}

int
cmd_spec (int argc, char **argv)
{
  static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
                                       {"rootless", no_argument, NULL, 'r'},
                                       {"runtime-default", no_argument, NULL, 'd'},
                                       {NULL, 0, NULL, 0}};
  _cleanup_error_ husk_error *err = NULL;
  const char *bundle = ".";
  bool rootless = false, runtime_default = false;
  int c;
  while ((c = getopt_long (argc, argv, "+b:", opts, NULL)) != -1)
    if (c == 'b')
      bundle = optarg;
    else if (c == 'r')
      rootless = true;
    else if (c == 'd')
      runtime_default = true;
    else
      return cli_usage ("spec", "[--bundle DIR] [--rootless] [--runtime-default]");
  _cleanup_free_ char *path = xasprintf ("%s/config.json", bundle);
  if (access (path, F_OK) == 0)
    return cli_failf ("File %s exists. Remove it first", path);
  _cleanup_json_ json_t *spec = rt_spec_default (rootless);
  if (runtime_default)
    {
      /* Kubernetes' RuntimeDefault: Docker's capabilities and seccomp profile. */
      const char *const *caps = rt_default_capabilities ();
      json_t *set = json_array ();
      for (size_t i = 0; caps[i]; i++)
        json_array_append_new (set, json_string (caps[i]));
      json_t *pc = json_object_get (json_object_get (spec, "process"), "capabilities");
      json_object_set (pc, "bounding", set);
      json_object_set (pc, "effective", set);
      json_object_set (pc, "permitted", set);
      json_object_del (pc, "ambient");
      json_decref (set);
      json_object_set_new (json_object_get (spec, "linux"), "seccomp", rt_default_seccomp (caps));
    }
  _cleanup_free_ char *data = json_dumps (spec, JSON_INDENT (8) | JSON_PRESERVE_ORDER);
  if (husk_write_file_atomic (path, data, strlen (data), 0666, &err) < 0)
    return cli_fail (err);
  return 0;
}

/* runc's events: --stats prints one {"type":"stats","id":...,"data":{...}} document (the
   cgroup v2 files: cpu.stat, memory.*, pids.*, io.stat); without it, one per interval until
   the container stops. */
int
cmd_events (int argc, char **argv)
{
  static const struct option opts[] = {{"stats", no_argument, NULL, 's'},
                                       {"interval", required_argument, NULL, 'i'},
                                       {NULL, 0, NULL, 0}};
  _cleanup_error_ husk_error *err = NULL;
  bool once = false;
  double interval = 5;
  int c;
  while ((c = getopt_long (argc, argv, "+", opts, NULL)) != -1)
    if (c == 's')
      once = true;
    else if (c == 'i' && (interval = strtod (optarg, NULL)) > 0)
      ;
    else
      return cli_usage ("events", "[--stats] [--interval SECONDS] <container-id>");
  if (optind != argc - 1)
    return cli_usage ("events", "[--stats] [--interval SECONDS] <container-id>");
  const char *id = argv[optind];
  for (;;)
    {
      json_t *data = NULL;
      if (rt_container_stats (cli.root, id, &data, &err) < 0)
        return once ? cli_fail (err) : 0;
      _cleanup_json_ json_t *ev = json_pack ("{s:s, s:s, s:o}", "type", "stats", "id", id,
                                             "data", data);
      _cleanup_free_ char *s = husk_json_dump (ev);
      printf ("%s\n", s);
      fflush (stdout);
      if (once)
        return 0;
      usleep ((useconds_t) (interval * 1e6));
    }
}
