/* husk up: a one-node cluster in one process: the master (store, API server) on threads,
   the node agent on the main thread, and the admin kubeconfig where kubectl finds it. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/path.h"
#include "src/cli/commands.h"
#include "src/cli/nodeflags.h"
#include "src/master/api/api.h"
#include "src/master/sched/runner.h"
#include "src/master/store/store.h"
#include "src/node/node.h"

/* src/master/api/bootstrap.c */
int api_bootstrap (store *st, husk_error **err);

static void
usage (FILE *f)
{
  fprintf (f, "usage: husk up [options]\n\n"
              "Runs a one-node cluster here: the master and a node in one process.\n\n"
              "  --data-dir DIR     state (DIR/master), images and pods (DIR/node) "
              "(default /var/lib/husk)\n"
              "  --bind ADDR:PORT   API server address (default 127.0.0.1:6443)\n"
              "  --name N           Node name (default: the host name)\n"
              "  --node-ip IP       the node's InternalIP\n"
              "  --pod-cidr CIDR    pod subnet (default 10.42.0.0/24)\n"
              "  --log-dir DIR      container logs (default /var/log/pods)\n"
              "  --kubeconfig FILE  where to write the admin kubeconfig "
              "(default ~/.kube/config when absent)\n"
              "  --no-scheduler     run no scheduler: bind every pending pod to this node\n"
              "  --no-bind          with --no-scheduler: do not bind pending pods either\n"
              NODE_EXTRA_FLAGS_HELP
              "  --log-level LEVEL  debug, info, warn, error\n");
}

typedef struct binder_args
{
  char *server, *token, *ca, *node;
  atomic_int *stop;
} binder_args;

static void *
binder_main (void *ud)
{
  binder_args *b = ud;
  sigset_t all;
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, NULL);
  _cleanup_error_ husk_error *err = NULL;
  if (node_binder_run (b->server, b->token, b->ca, b->node, b->stop, &err) < 0)
    log_error ("binder stopped", "error", err->msg);
  return NULL;
}

/* Copies the admin kubeconfig to ~/.kube/config unless one exists there (or to an explicit
   path); says where it is either way. */
static void
publish_kubeconfig (const char *src, const char *dst_opt)
{
  _cleanup_free_ char *dst = NULL;
  const char *home = getenv ("HOME");
  if (dst_opt)
    dst = xstrdup (dst_opt);
  else if (home && *home)
    dst = xasprintf ("%s/.kube/config", home);
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  if (dst && (dst_opt || access (dst, F_OK) != 0) && husk_read_file (src, &text, &len, NULL) == 0)
    {
      _cleanup_free_ char *dir = xstrdup (dst);
      char *slash = strrchr (dir, '/');
      if (slash)
        {
          *slash = '\0';
          husk_mkdir_p (dir, 0700, NULL);
        }
      if (husk_write_file_atomic (dst, text, len, 0600, NULL) == 0)
        {
          fprintf (stderr, "husk up: kubeconfig written to %s: try `kubectl get nodes`\n", dst);
          return;
        }
    }
  fprintf (stderr,
           "husk up: %s exists and was left alone; use this cluster with:\n"
           "  export KUBECONFIG=%s\n",
           dst ? dst : "~/.kube/config", src);
}

int
husk_cmd_up (int argc, char **argv)
{
  static const struct option opts[] = {
    {"data-dir", required_argument, NULL, 'd'}, {"bind", required_argument, NULL, 'b'},
    {"name", required_argument, NULL, 'n'},     {"node-ip", required_argument, NULL, 'I'},
    {"pod-cidr", required_argument, NULL, 'p'}, {"log-dir", required_argument, NULL, 'L'},
    {"kubeconfig", required_argument, NULL, 'k'}, {"no-bind", no_argument, NULL, 'B'},
    {"no-scheduler", no_argument, NULL, 'S'},
    NODE_EXTRA_OPTIONS,
    {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  const char *data = "/var/lib/husk", *kubeconfig = NULL;
  bool bind_pods = true, run_scheduler = true;
  node_config nc = {.pod_cidr = "10.42.0.0/24"};
  api_config ac = {.bind = "127.0.0.1:6443"};
  int c, lvl;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'd': data = optarg; break;
      case 'b': ac.bind = optarg; break;
      case 'n': nc.name = optarg; break;
      case 'I': nc.node_ip = optarg; break;
      case 'p': nc.pod_cidr = optarg; break;
      case 'L': nc.log_dir = optarg; break;
      case 'k': kubeconfig = optarg; break;
      case 'B': bind_pods = false; break;
      case 'S': run_scheduler = false; break;
      case 'l':
        lvl = husk_log_level_parse (optarg);
        if (lvl < 0)
          {
            fprintf (stderr, "husk up: bad --log-level %s\n", optarg);
            return 2;
          }
        husk_log_set_level ((husk_log_level) lvl);
        break;
      case 'h': usage (stdout); return 0;
      default:
        if (node_extra_flag (c, optarg, &nc))
          break;
        usage (stderr);
        return 2;
      }
  if (getuid () != 0)
    {
      fprintf (stderr, "husk up: must run as root (namespaces, cgroups, mounts)\n");
      return 1;
    }
  _cleanup_free_ char *mdir = xasprintf ("%s/master", data);
  _cleanup_free_ char *ndir = xasprintf ("%s/node", data);
  _cleanup_error_ husk_error *err = NULL;
  if (husk_mkdir_p (mdir, 0700, &err) < 0 || husk_mkdir_p (ndir, 0700, &err) < 0)
    {
      fprintf (stderr, "husk up: %s\n", err->msg);
      return 1;
    }
  signal (SIGPIPE, SIG_IGN);
  store_options so = {.data_dir = mdir};
  store *st = NULL;
  if (store_open (&so, &st, &err) < 0 || api_bootstrap (st, &err) < 0)
    {
      fprintf (stderr, "husk up: store: %s\n", err->msg);
      if (st)
        store_close (st);
      return 1;
    }
  ac.data_dir = mdir;
  ac.store = st;
  ac.pod_proxy = node_pod_log_proxy;
  ac.pod_proxy_cls = (void *) nc.log_dir;
  api_server *srv = NULL;
  if (api_server_start (&ac, &srv, &err) < 0)
    {
      fprintf (stderr, "husk up: %s\n", err->msg);
      store_close (st);
      return 1;
    }
  _cleanup_free_ char *admin = xasprintf ("%s/admin.kubeconfig", mdir);
  publish_kubeconfig (admin, kubeconfig);

  _cleanup_free_ char *server = xasprintf ("https://127.0.0.1:%d", api_server_port (srv));
  _cleanup_free_ char *ca = xasprintf ("%s/pki/ca.crt", mdir);
  _cleanup_free_ char *tokfile = xasprintf ("%s/node-token", mdir);
  _cleanup_free_ char *token = NULL;
  if (husk_read_file (tokfile, &token, NULL, &err) < 0)
    {
      fprintf (stderr, "husk up: %s\n", err->msg);
      api_server_stop (srv);
      store_close (st);
      return 1;
    }
  token[strcspn (token, "\r\n")] = '\0';
  char host[256] = "";
  gethostname (host, sizeof host - 1);
  nc.server = server;
  nc.token = token;
  nc.ca_file = ca;
  nc.data_dir = ndir;
  if (nc.name == NULL)
    nc.name = host;

  /* The master's scheduler binds pods; the one-node binder stands in only without it. */
  sched_runner *sched = NULL;
  _cleanup_free_ char *admin_tokfile = xasprintf ("%s/admin-token", mdir);
  _cleanup_free_ char *admin_token = NULL;
  if (run_scheduler && husk_read_file (admin_tokfile, &admin_token, NULL, &err) == 0)
    {
      admin_token[strcspn (admin_token, "\r\n")] = '\0';
      sched_runner_config sc = {.server = server, .token = admin_token, .ca_file = ca};
      if (sched_runner_start (&sc, &sched, &err) < 0)
        log_warn ("scheduler not started, binding pods to this node", "error", err->msg);
    }
  husk_error_free (TAKE_PTR (err));

  atomic_int stop = 0;
  pthread_t binder;
  bool binder_started = false;
  binder_args ba = {server, token, ca, (char *) nc.name, &stop};
  if (bind_pods && !sched && pthread_create (&binder, NULL, binder_main, &ba) == 0)
    binder_started = true;
  int ret = 0;
  if (node_run (&nc, &stop, true, &err) < 0)
    {
      fprintf (stderr, "husk up: node: %s\n", err->msg);
      ret = 1;
    }
  atomic_store (&stop, 1);
  if (binder_started)
    pthread_join (binder, NULL);
  log_info ("stopping");
  sched_runner_stop (sched);
  api_server_stop (srv);
  store_close (st);
  return ret;
}
