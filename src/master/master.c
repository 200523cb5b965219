/* husk master: the state store and the API server in one process (the scheduler and the
   controllers join here as they land). */
#include "config.h"

#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include "lib/log.h"
#include "lib/path.h"
#include "src/cli/commands.h"
#include "src/master/api/api.h"
#include "src/master/api/local.h"
#include "src/master/ctrl/cluster.h"
#include "src/master/ctrl/leader.h"
#include "src/master/ctrl/manager.h"
#include "src/master/sched/intern.h"
#include "src/master/sched/runner.h"
#include "src/master/store/store.h"

/* Implemented in src/master/api/bootstrap.c. */
int api_bootstrap (store *st, husk_error **err);

static void
usage (FILE *f)
{
  fprintf (f, "usage: husk master [options]\n\n"
              "  --data-dir DIR       state, certificates, tokens, admin.kubeconfig "
              "(default /var/lib/husk/master)\n"
              "  --bind ADDR[:PORT]   where the HTTPS API listens (default 0.0.0.0:6443; port 0 "
              "picks one)\n"
              "  --tls-cert FILE      serving certificate (PEM) instead of the generated one\n"
              "  --tls-key FILE       its key\n"
              "  --insecure-port N    also serve plain HTTP without auth on 127.0.0.1:N\n"
              "  --store URL          sqlite (default), sqlite:///path.db, etcd://h1:2379,...\n"
              "  --store-durable-volatile  keep Leases and Events on disk (default: memory)\n"
              "  --store-watch-history N   watch events kept per resource (default 10000)\n"
              "  --etcd-cafile FILE   CA of the etcd servers (PEM; implies https)\n"
              "  --etcd-certfile FILE client certificate for etcd (PEM)\n"
              "  --etcd-keyfile FILE  its key\n"
              "  --scheduler=false    do not run the scheduler\n"
              "  --scheduler-score S  LeastAllocated (spread, default) or MostAllocated (bin "
              "packing)\n"
              "  --controllers=false  do not run the controllers\n"
              "  --cluster-cidr CIDR  pod range cut into node podCIDRs (default 10.42.0.0/16)\n"
              "  --node-cidr-mask-size N  prefix of each node's podCIDR (default 24)\n"
              "  --leader-elect=BOOL  run the scheduler and controllers only while holding the "
              "Lease\n"
              "                       kube-system/husk-master (default: true with an etcd store)\n"
              "  --node-monitor-grace-period S  seconds without a node Lease renewal before the "
              "node\n"
              "                       is unreachable (default 40)\n"
              "  --log-level LEVEL    debug, info, warn, error\n");
}

/* The scheduler talks to this server with the admin token: over the local socket (local
   NULL: HTTPS on this host). */
static int
start_scheduler (const api_config *cfg, api_server *srv, const char *local,
                 sched_fit_strategy score, sched_runner **out, husk_error **err)
{
  const char *server = local ? "http://localhost" : api_server_url (srv);
  _cleanup_free_ char *tokfile = xasprintf ("%s/admin-token", cfg->data_dir);
  _cleanup_free_ char *ca = xasprintf ("%s/pki/ca.crt", cfg->data_dir);
  _cleanup_free_ char *token = NULL;
  if (husk_read_file (tokfile, &token, NULL, err) < 0)
    return husk_err_wrap (err, "scheduler");
  token[strcspn (token, "\r\n")] = '\0';
  sched_runner_config sc = {.server = server, .token = token,
                            .ca_file = cfg->tls_cert ? NULL : ca, .unix_socket = local,
                            .strategy = score};
  return sched_runner_start (&sc, out, err);
}

/* The in-process clients' listener when there are any; without it (the data dir's path too
   long for a socket) they use HTTPS on this host as before. */
static api_local *
start_local (api_server *srv, const api_config *cfg, bool wanted)
{
  _cleanup_error_ husk_error *err = NULL;
  api_local *l = NULL;
  if (wanted && api_local_start (srv, cfg->data_dir, &l, &err) < 0)
    log_warn ("in-process clients use HTTPS", "error", err->msg);
  return l;
}

/* What runs only in the leader: the scheduler and the controllers. */
typedef struct components
{
  const api_config *cfg;
  api_server *srv;
  const char *local; /* the in-process clients' socket (api/local.c), or NULL */
  sched_fit_strategy score;
  bool run_scheduler, run_controllers;
  sched_runner *sched;
  ctrl_manager *ctrl;
} components;

static void
components_stop (components *c)
{
  ctrl_manager_stop (TAKE_PTR (c->ctrl));
  sched_runner_stop (TAKE_PTR (c->sched));
}

static int
components_start (components *c, husk_error **err)
{
  int ret = 0;
  if (c->run_scheduler)
    ret = start_scheduler (c->cfg, c->srv, c->local, c->score, &c->sched, err);
  if (ret == 0 && c->run_controllers)
    ret = ctrl_manager_start (c->cfg->data_dir, c->local, &c->ctrl, err);
  if (ret < 0)
    components_stop (c);
  return ret;
}

static void
on_leading (void *ud)
{
  _cleanup_error_ husk_error *err = NULL;
  if (components_start (ud, &err) < 0)
    log_warn ("leader: cannot start the scheduler and controllers", "error", err->msg);
}

static void
on_not_leading (void *ud)
{
  components_stop (ud);
}

int
husk_cmd_master (int argc, char **argv)
{
  static const struct option opts[] = {{"data-dir", required_argument, NULL, 'd'},
                                       {"bind", required_argument, NULL, 'b'},
                                       {"tls-cert", required_argument, NULL, 'c'},
                                       {"tls-key", required_argument, NULL, 'k'},
                                       {"insecure-port", required_argument, NULL, 'p'},
                                       {"store", required_argument, NULL, 's'},
                                       {"store-durable-volatile", no_argument, NULL, 'V'},
                                       {"store-watch-history", required_argument, NULL, 'H'},
                                       {"etcd-cafile", required_argument, NULL, 'A'},
                                       {"etcd-certfile", required_argument, NULL, 'E'},
                                       {"etcd-keyfile", required_argument, NULL, 'K'},
                                       {"log-level", required_argument, NULL, 'l'},
                                       {"scheduler", required_argument, NULL, 'S'},
                                       {"scheduler-score", required_argument, NULL, 'P'},
                                       {"controllers", required_argument, NULL, 'C'},
                                       {"leader-elect", required_argument, NULL, 'L'},
                                       {"node-monitor-grace-period", required_argument, NULL,
                                        'G'},
                                       {"cluster-cidr", required_argument, NULL, 'I'},
                                       {"node-cidr-mask-size", required_argument, NULL, 'M'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  api_config cfg = {.data_dir = "/var/lib/husk/master", .bind = "0.0.0.0:6443"};
  store_options so = {0};
  char *end = NULL;
  long hist;
  bool run_scheduler = true;
  sched_fit_strategy score = SCHED_LEAST_ALLOCATED;
  bool run_controllers = true;
  int leader_elect = -1;
  int c, lvl;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'd':
        cfg.data_dir = optarg;
        break;
      case 'b':
        cfg.bind = optarg;
        break;
      case 'c':
        cfg.tls_cert = optarg;
        break;
      case 'k':
        cfg.tls_key = optarg;
        break;
      case 'p':
        cfg.insecure_port = atoi (optarg);
        break;
      case 's':
        so.url = optarg;
        break;
      case 'V':
        so.durable_volatile = true;
        break;
      case 'H':
        errno = 0;
        hist = strtol (optarg, &end, 10);
        if (errno || end == optarg || *end || hist < 1 || hist > 100000000)
          {
            fprintf (stderr, "husk master: bad --store-watch-history %s (1-100000000)\n", optarg);
            return 2;
          }
        so.watch_ring = (uint32_t) hist;
        break;
      case 'A':
        so.tls_ca = optarg;
        break;
      case 'E':
        so.tls_cert = optarg;
        break;
      case 'K':
        so.tls_key = optarg;
        break;
      case 'S':
        run_scheduler = !streq (optarg, "false");
        break;
      case 'P':
        if (sched_runner_parse_strategy (optarg, &score) < 0)
          {
            fprintf (stderr, "husk master: bad --scheduler-score %s\n", optarg);
            return 2;
          }
        break;
      case 'C':
        run_controllers = !streq (optarg, "false");
        break;
      case 'L':
        leader_elect = !streq (optarg, "false");
        break;
      case 'G':
        if (atoi (optarg) <= 0)
          {
            fprintf (stderr, "husk master: bad --node-monitor-grace-period %s\n", optarg);
            return 2;
          }
        ctrl_nodelifecycle_set_grace (atoi (optarg));
        break;
      case 'I':
      case 'M':
        {
          _cleanup_error_ husk_error *e = NULL;
          if (ctrl_nodeipam_configure (c == 'I' ? optarg : NULL, c == 'M' ? atoi (optarg) : -1,
                                       &e)
              < 0)
            {
              fprintf (stderr, "husk master: %s\n", e->msg);
              return 2;
            }
        }
        break;
      case 'l':
        lvl = husk_log_level_parse (optarg);
        if (lvl < 0)
          {
            fprintf (stderr, "husk master: bad --log-level %s\n", optarg);
            return 2;
          }
        husk_log_set_level ((husk_log_level) lvl);
        break;
      case 'h':
        usage (stdout);
        return 0;
      default:
        usage (stderr);
        return 2;
      }
  if (!!cfg.tls_cert != !!cfg.tls_key)
    {
      fprintf (stderr, "husk master: --tls-cert and --tls-key go together\n");
      return 2;
    }
  if (!!so.tls_cert != !!so.tls_key)
    {
      fprintf (stderr, "husk master: --etcd-certfile and --etcd-keyfile go together\n");
      return 2;
    }
  /* Every watcher holds a socket and an event descriptor: use all the descriptors allowed. */
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
  /* One malloc arena per connection thread would keep freed memory of every past request. */
  mallopt (M_ARENA_MAX, 4);
  signal (SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  pthread_sigmask (SIG_BLOCK, &set, NULL);

  _cleanup_error_ husk_error *err = NULL;
  if (husk_mkdir_p (cfg.data_dir, 0700, &err) < 0)
    {
      fprintf (stderr, "husk master: %s\n", err->msg);
      return 1;
    }
  so.data_dir = cfg.data_dir;
  store *st = NULL;
  if (store_open (&so, &st, &err) < 0 || api_bootstrap (st, &err) < 0)
    {
      fprintf (stderr, "husk master: store: %s\n", err->msg);
      if (st)
        store_close (st);
      return 1;
    }
  cfg.store = st;
  api_server *srv = NULL;
  if (api_server_start (&cfg, &srv, &err) < 0)
    {
      fprintf (stderr, "husk master: %s\n", err->msg);
      store_close (st);
      return 1;
    }
  api_local *local = start_local (srv, &cfg, run_scheduler || run_controllers);
  components comp = {.cfg = &cfg, .srv = srv, .local = local ? api_local_path (local) : NULL,
                     .score = score, .run_scheduler = run_scheduler,
                     .run_controllers = run_controllers};
  if (leader_elect < 0)
    leader_elect = so.url && strncmp (so.url, "etcd://", 7) == 0;
  ctrl_leader *leader = NULL;
  ctrl_leader_config lc = {.data_dir = cfg.data_dir, .local_socket = comp.local,
                           .started = on_leading, .stopped = on_not_leading, .ud = &comp};
  int ret = 0;
  if (leader_elect && (run_scheduler || run_controllers))
    ret = ctrl_leader_start (&lc, &leader, &err);
  else
    ret = components_start (&comp, &err);
  if (ret < 0)
    {
      fprintf (stderr, "husk master: %s\n", err->msg);
      api_local_stop (local);
      api_server_stop (srv);
      store_close (st);
      return 1;
    }
  /* Memory of finished requests (large lists) goes back to the system every few seconds. */
  int sig = -1;
  while (sig < 0)
    {
      struct timespec ts = {5, 0};
      sig = sigtimedwait (&set, NULL, &ts);
      if (sig < 0)
        {
          sched_intern_sweep (sched_intern_shared ());
          sched_intern_sweep (sched_intern_transient ());
          malloc_trim (0);
        }
    }
  log_info ("stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
  ctrl_leader_stop (leader);
  components_stop (&comp);
  api_local_stop (local);
  api_server_stop (srv);
  store_close (st);
  return 0;
}
