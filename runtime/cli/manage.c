/* husk-runtime kill, delete, pause, resume, update. */
#include "config.h"

#include <errno.h>
#include <signal.h>

#include "runtime/cli/cli.h"

int
cmd_kill (int argc, char **argv)
{
  static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
  _cleanup_error_ husk_error *err = NULL;
  bool all = false;
  int c;
  while ((c = getopt_long (argc, argv, "+a", opts, NULL)) != -1)
    if (c == 'a')
      all = true;
    else
      return cli_usage ("kill", "[--all] <container-id> [signal]");
  if (optind >= argc || argc - optind > 2)
    return cli_usage ("kill", "[--all] <container-id> [signal]");
  int sig = SIGTERM;
  if (argc - optind == 2 && (sig = rt_signal_parse (argv[optind + 1])) < 0)
    return cli_failf ("unknown signal \"%s\"", argv[optind + 1]);
  if (rt_container_kill (cli.root, argv[optind], sig, all, &err) < 0)
    return cli_fail (err);
  return 0;
}

int
cmd_delete (int argc, char **argv)
{
  static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
  _cleanup_error_ husk_error *err = NULL;
  bool force = false;
  int c;
  while ((c = getopt_long (argc, argv, "+f", opts, NULL)) != -1)
    if (c == 'f')
      force = true;
    else
      return cli_usage ("delete", "[--force] <container-id>");
  if (optind != argc - 1)
    return cli_usage ("delete", "[--force] <container-id>");
  if (rt_container_delete (cli.root, argv[optind], force, &err) < 0)
    {
      /* runc: deleting a missing container with --force is not an error. */
      if (force && err->errnum == ENOENT)
        return 0;
      return cli_fail (err);
    }
  return 0;
}

int
cmd_pause (int argc, char **argv)
{
  _cleanup_error_ husk_error *err = NULL;
  if (argc != 2)
    return cli_usage ("pause", "<container-id>");
  if (rt_container_pause (cli.root, argv[1], &err) < 0)
    return cli_fail (err);
  return 0;
}

int
cmd_resume (int argc, char **argv)
{
  _cleanup_error_ husk_error *err = NULL;
  if (argc != 2)
    return cli_usage ("resume", "<container-id>");
  if (rt_container_resume (cli.root, argv[1], &err) < 0)
    return cli_fail (err);
  return 0;
}

/* runc's update flags, each a path into linux.resources. */
static const struct
{
  const char *flag;
  const char *obj, *key;
  bool is_string;
} update_flags[] = {
  {"memory", "memory", "limit", false},
  {"memory-reservation", "memory", "reservation", false},
  {"memory-swap", "memory", "swap", false},
  {"cpu-shares", "cpu", "shares", false},
  {"cpu-period", "cpu", "period", false},
  {"cpu-quota", "cpu", "quota", false},
  {"cpu-rt-period", "cpu", "realtimePeriod", false},
  {"cpu-rt-runtime", "cpu", "realtimeRuntime", false},
  {"cpuset-cpus", "cpu", "cpus", true},
  {"cpuset-mems", "cpu", "mems", true},
  {"pids-limit", "pids", "limit", false},
  {"blkio-weight", "blockIO", "weight", false},
};

/* "512M", "1g", "-1", "1024" -> bytes. */
static int
parse_size (const char *s, json_int_t *out)
{
  char *end;
  long long v = strtoll (s, &end, 10);
  long long mul = 1;
  switch (*end)
    {
    case 'k': case 'K': mul = 1LL << 10; end++; break;
    case 'm': case 'M': mul = 1LL << 20; end++; break;
    case 'g': case 'G': mul = 1LL << 30; end++; break;
    case 't': case 'T': mul = 1LL << 40; end++; break;
    default: break;
    }
  if (*end == 'b' || *end == 'B')
    end++;
  if (end == s || *end)
    return -1;
  *out = v < 0 ? v : v * mul;
  return 0;
}

int
cmd_update (int argc, char **argv)
{
  _cleanup_error_ husk_error *err = NULL;
  struct option opts[ARRAY_SIZE (update_flags) + 2];
  for (size_t i = 0; i < ARRAY_SIZE (update_flags); i++)
    opts[i] = (struct option){update_flags[i].flag, required_argument, NULL, 256 + (int) i};
  opts[ARRAY_SIZE (update_flags)] = (struct option){"resources", required_argument, NULL, 'r'};
  opts[ARRAY_SIZE (update_flags) + 1] = (struct option){NULL, 0, NULL, 0};
  _cleanup_json_ json_t *res = json_object ();
  int c;
  while ((c = getopt_long (argc, argv, "+r:", opts, NULL)) != -1)
    {
      if (c == 'r')
        {
          json_t *file = NULL;
          json_error_t je;
          int r;
          if (streq (optarg, "-"))
            {
              file = json_loadf (stdin, 0, &je);
              r = file ? 0 : husk_err (&err, EINVAL, "resources from stdin: %s", je.text);
            }
          else
            r = husk_json_load_file (optarg, &file, &err);
          if (r < 0)
            return cli_fail (err);
          json_object_update_recursive (res, file);
          json_decref (file);
          continue;
        }
      if (c < 256 || c >= 256 + (int) ARRAY_SIZE (update_flags))
        return cli_usage ("update", "[--resources FILE] [--memory N] [--cpu-quota N] ... <id>");
      size_t i = (size_t) (c - 256);
      json_t *o = json_object_get (res, update_flags[i].obj);
      if (o == NULL)
        json_object_set_new (res, update_flags[i].obj, o = json_object ());
      json_int_t v;
      if (update_flags[i].is_string)
        json_object_set_new (o, update_flags[i].key, json_string (optarg));
      else if (parse_size (optarg, &v) == 0)
        json_object_set_new (o, update_flags[i].key, json_integer (v));
      else
        return cli_failf ("--%s: invalid value \"%s\"", update_flags[i].flag, optarg);
    }
  if (optind != argc - 1)
    return cli_usage ("update", "[--resources FILE] [--memory N] [--cpu-quota N] ... <id>");
  if (rt_container_update (cli.root, argv[optind], res, cli.skip_limits, &err) < 0)
    return cli_fail (err);
  return 0;
}
