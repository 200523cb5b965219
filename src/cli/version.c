#include "config.h"

#include <getopt.h>
#include <jansson.h>

#include "lib/json.h"
#include "src/cli/commands.h"

/* Features compiled into this binary; later components append theirs. */
static const char *const features[] = {
  "seccomp", "libcap", "nftables", "sqlite", "libarchive", "gnutls",
#ifdef HUSK_ASAN
  "asan",
#endif
  NULL,
};

static void
print_json (void)
{
  _cleanup_json_ json_t *feat = json_array ();
  for (size_t i = 0; features[i]; i++)
    json_array_append_new (feat, json_string (features[i]));
  _cleanup_json_ json_t *v = json_pack ("{s:s, s:s, s:s, s:O}", "program", "husk", "version",
                                        PACKAGE_VERSION, "gitCommit", HUSK_GIT_COMMIT, "features", feat);
  _cleanup_free_ char *s = husk_json_dump (v);
  puts (s);
}

int
husk_cmd_version (int argc, char **argv)
{
  static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *output = NULL;
  int c;
  while ((c = getopt_long (argc, argv, "o:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'o':
        output = optarg;
        break;
      case 'h':
        puts ("usage: husk version [-o json]");
        return 0;
      default:
        return 2;
      }
  if (output && streq (output, "json"))
    {
      print_json ();
      return 0;
    }
  if (output)
    {
      fprintf (stderr, "husk version: unknown output format '%s' (want json)\n", output);
      return 2;
    }
  printf ("husk %s\ncommit: %s\nfeatures:", PACKAGE_VERSION, HUSK_GIT_COMMIT);
  for (size_t i = 0; features[i]; i++)
    printf (" %s", features[i]);
  putchar ('\n');
  return 0;
}
