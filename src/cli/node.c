/* husk node: command line of the node agent daemon (src/node/node.c). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>

#include "lib/log.h"
#include "lib/path.h"
#include "src/cli/commands.h"
#include "src/cli/nodeflags.h"
#include "src/node/node.h"

static void
usage (FILE *f)
{
  fprintf (f,
           "usage: husk node --server URL --token T [options]\n\n"
           "Runs the node agent: registers this host as a Node and runs the pods bound to it.\n\n"
           "  --server URL        API server (https://master:6443)\n"
           "  --token T           bearer token (the master's <data-dir>/node-token)\n"
           "  --token-file F      read the token from a file\n"
           "  --kubeconfig F      take server, CA and token from a kubeconfig instead\n"
           "  --ca-file F         CA certificate of the API server (PEM)\n"
           "  --insecure          do not verify the API server's certificate\n"
           "  --name N            Node name (default: the host name)\n"
           "  --data-dir D        images, pods, runtime state (default /var/lib/husk)\n"
           "  --node-ip IP        the node's InternalIP (default: first IPv4 address)\n"
           "  --pod-cidr CIDR     pod subnet when the master allocates none (default 10.42.0.0/24)\n"
           "  --log-dir D         container logs (default /var/log/pods)\n"
           "  --cni-conf F        a CNI network configuration or list (default: husk-cni on husk0)\n"
           "  --overlay MODE      routes to other nodes' pods: host-gw (default), vxlan, none\n"
           "  --node-api-port P   node API port for logs/exec/port-forward (default 10250, 0: off)\n"
           "  --node-api-bind A   node API listen address (default 0.0.0.0)\n"
           "  --reserved LIST     kept from allocatable for the system: cpu=250m,memory=512Mi,...\n"
           NODE_EXTRA_FLAGS_HELP
           "  --log-level LEVEL   debug, info, warn, error\n");
}

int
husk_cmd_node (int argc, char **argv)
{
  if (argc >= 2 && streq (argv[1], "--image-helper"))
    return node_image_helper (argc - 2, argv + 2);
  /* Same process (exec), same flags; HUSK_NODE_INPROCESS=1 keeps the agent in husk. */
  const char *inproc = getenv ("HUSK_NODE_INPROCESS");
  bool keep = inproc && *inproc && !streq (inproc, "0");
  _cleanup_free_ char *lean = keep ? NULL : husk_program_beside_self ("husk-node");
  if (lean)
    {
      argv[0] = (char *) "husk-node";
      execv (lean, argv);
      fprintf (stderr, "husk node: exec %s: %s (running in-process)\n", lean, strerror (errno));
      argv[0] = (char *) "node";
    }
  return husk_node_main (argc, argv);
}

int
husk_node_main (int argc, char **argv)
{
  static const struct option opts[] = {
    {"server", required_argument, NULL, 's'},    {"token", required_argument, NULL, 't'},
    {"token-file", required_argument, NULL, 'T'}, {"kubeconfig", required_argument, NULL, 'k'},
    {"ca-file", required_argument, NULL, 'c'},   {"insecure", no_argument, NULL, 'i'},
    {"name", required_argument, NULL, 'n'},      {"data-dir", required_argument, NULL, 'd'},
    {"node-ip", required_argument, NULL, 'I'},   {"pod-cidr", required_argument, NULL, 'p'},
    {"log-dir", required_argument, NULL, 'L'},   {"cni-conf", required_argument, NULL, 'C'},
    {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
    {"overlay", required_argument, NULL, 'O'},
    {"node-api-port", required_argument, NULL, 'P'}, {"node-api-bind", required_argument, NULL, 'B'},
    {"reserved", required_argument, NULL, 'R'},
    NODE_EXTRA_OPTIONS,
    {NULL, 0, NULL, 0}};
  node_config cfg = {0};
  _cleanup_free_ char *token = NULL;
  _cleanup_error_ husk_error *err = NULL;
  int c, lvl;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 's': cfg.server = optarg; break;
      case 't': cfg.token = optarg; break;
      case 'T':
        free (token);
        token = NULL;
        if (husk_read_file (optarg, &token, NULL, &err) < 0)
          {
            fprintf (stderr, "husk node: %s\n", err->msg);
            return 2;
          }
        token[strcspn (token, "\r\n")] = '\0';
        cfg.token = token;
        break;
      case 'k': cfg.kubeconfig = optarg; break;
      case 'c': cfg.ca_file = optarg; break;
      case 'i': cfg.insecure = true; break;
      case 'n': cfg.name = optarg; break;
      case 'd': cfg.data_dir = optarg; break;
      case 'I': cfg.node_ip = optarg; break;
      case 'p': cfg.pod_cidr = optarg; break;
      case 'L': cfg.log_dir = optarg; break;
      case 'C': cfg.cni_conf = optarg; break;
      case 'O': cfg.overlay = optarg; break;
      case 'P': cfg.api_port = atoi (optarg) > 0 ? atoi (optarg) : -1; break;
      case 'B': cfg.api_bind = optarg; break;
      case 'R': cfg.reserved = optarg; break;
      case 'l':
        lvl = husk_log_level_parse (optarg);
        if (lvl < 0)
          {
            fprintf (stderr, "husk node: bad --log-level %s\n", optarg);
            return 2;
          }
        husk_log_set_level ((husk_log_level) lvl);
        break;
      case 'h': usage (stdout); return 0;
      default:
        if (node_extra_flag (c, optarg, &cfg))
          break;
        usage (stderr);
        return 2;
      }
  if (optind < argc || (cfg.server == NULL && cfg.kubeconfig == NULL))
    {
      fprintf (stderr, "husk node: --server (or --kubeconfig) is required\n");
      usage (stderr);
      return 2;
    }
  if (getuid () != 0)
    {
      fprintf (stderr, "husk node: must run as root (namespaces, cgroups, mounts)\n");
      return 1;
    }
  atomic_int stop = 0;
  if (node_run (&cfg, &stop, true, &err) < 0)
    {
      fprintf (stderr, "husk node: %s\n", err->msg);
      return 1;
    }
  return 0;
}
