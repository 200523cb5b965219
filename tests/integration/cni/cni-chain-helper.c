/* Test driver for cni_list_run (what the node agent calls with a configuration list):
     cni-chain-helper COMMAND CONF_FILE CONTAINER_ID NETNS_PATH [CAPABILITY_ARGS_JSON]
   CNI_PATH, HUSK_CNI (the husk-cni executable) and CNI_CACHE_DIR come from the environment.
   Prints the final result (ADD) or the CNI error object on stdout; exits 1 on failure. */
#include "config.h"

#include "cni/chain.h"
#include "lib/json.h"

int
main (int argc, char **argv)
{
  if (argc < 5)
    {
      fprintf (stderr, "usage: cni-chain-helper COMMAND CONF CONTAINER_ID NETNS [CAPS_JSON]\n");
      return 2;
    }
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_json_ json_t *conf = NULL, *caps = NULL, *out = NULL;
  if (argc > 5)
    caps = json_loads (argv[5], 0, NULL);
  int r = husk_json_load_file (argv[2], &conf, &err);
  cni_list_rt rt = {
    .container_id = argv[3],
    .netns = *argv[4] ? argv[4] : NULL,
    .ifname = "eth0",
    .cni_path = getenv ("CNI_PATH"),
    .husk_cni = getenv ("HUSK_CNI"),
    .capability_args = caps,
    .cache_dir = getenv ("CNI_CACHE_DIR"),
    .stderr_fd = -1,
  };
  if (r == 0)
    r = cni_list_run (conf, &rt, argv[1], &out, &err);
  if (r < 0)
    {
      _cleanup_json_ json_t *e = cni_error_to_json (err, NULL, NULL);
      _cleanup_free_ char *s = husk_json_dump (e);
      printf ("%s\n", s);
      return 1;
    }
  if (out)
    {
      _cleanup_free_ char *s = husk_json_dump (out);
      printf ("%s\n", s);
    }
  return 0;
}
