/* The pod network loops: start, the worker, stop. The worker waits for a change, lets
   changes settle for NET_DEBOUNCE_MS (a Deployment scaling up is one apply, not fifty), then
   re-applies NetworkPolicy and/or routes; a failure is retried after NET_RETRY_MS. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

#include "lib/log.h"
#include "src/node/net/net-internal.h"

#define NET_DEBOUNCE_MS 100
#define NET_RETRY_MS 3000
#define NETPOL_BITS ((1u << NET_POLICIES) | (1u << NET_PODS) | (1u << NET_NAMESPACES))

static void
deadline_in (struct timespec *ts, long ms)
{
  clock_gettime (CLOCK_REALTIME, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (ms % 1000) * 1000000;
  if (ts->tv_nsec >= 1000000000)
    {
      ts->tv_sec++;
      ts->tv_nsec -= 1000000000;
    }
}

static bool
netpol_ready (node_net *n)
{
  return n->caches[NET_POLICIES].synced && n->caches[NET_PODS].synced
         && n->caches[NET_NAMESPACES].synced;
}

/* Takes the dirty bits whose inputs are complete, with copies of those inputs.
   Caller holds n->lock. */
static unsigned
take_work (node_net *n, json_t *in[NET_NCACHES])
{
  unsigned work = 0;
  if ((n->dirty & NETPOL_BITS) && netpol_ready (n))
    work |= NETPOL_BITS;
  if ((n->dirty & (1u << NET_NODES)) && n->caches[NET_NODES].synced)
    work |= 1u << NET_NODES;
  n->dirty &= ~work;
  for (int i = 0; i < NET_NCACHES; i++)
    in[i] = (work & (1u << i)) ? net_cache_items (&n->caches[i]) : NULL;
  return work;
}

/* Runs the work; returns the bits that failed (to be retried). */
static unsigned
do_work (node_net *n, unsigned work, json_t *in[NET_NCACHES])
{
  unsigned failed = 0;
  _cleanup_error_ husk_error *err = NULL;
  if ((work & NETPOL_BITS)
      && net_netpol_sync (n, in[NET_POLICIES], in[NET_PODS], in[NET_NAMESPACES], &err) < 0)
    {
      log_warn ("pod network: NetworkPolicy not applied, retrying", "error", err->msg);
      husk_error_free (err);
      err = NULL;
      failed |= NETPOL_BITS;
    }
  if ((work & (1u << NET_NODES)) && net_routes_sync (n, in[NET_NODES], &err) < 0)
    {
      log_warn ("pod network: routes not synced, retrying", "error", err->msg);
      husk_error_free (err);
      err = NULL;
      failed |= 1u << NET_NODES;
    }
  /* the pods' bridge appears with the first pod: the cross-node shortcut follows it */
  if ((work & (1u << NET_PODS)) && !(failed & (1u << NET_NODES)) && net_fast_sync (n, &err) < 0)
    {
      log_warn ("pod network: cross-node shortcut not synced, retrying", "error", err->msg);
      failed |= 1u << NET_NODES;
    }
  return failed;
}

static void *
worker_main (void *ud)
{
  node_net *n = ud;
  sigset_t all;
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, NULL);
  pthread_mutex_lock (&n->lock);
  while (!atomic_load (&n->stop))
    {
      struct timespec ts;
      deadline_in (&ts, 1000);
      if (n->dirty == 0)
        pthread_cond_timedwait (&n->cond, &n->lock, &ts);
      if (n->dirty == 0 || atomic_load (&n->stop))
        continue;
      /* let a burst of changes settle */
      deadline_in (&ts, NET_DEBOUNCE_MS);
      while (pthread_cond_timedwait (&n->cond, &n->lock, &ts) != ETIMEDOUT
             && !atomic_load (&n->stop))
        ;
      json_t *in[NET_NCACHES];
      unsigned work = take_work (n, in);
      if (work == 0)
        continue; /* waiting for a first list */
      pthread_mutex_unlock (&n->lock);
      unsigned failed = do_work (n, work, in);
      for (int i = 0; i < NET_NCACHES; i++)
        json_decref (in[i]);
      for (long t = 0; failed && t < NET_RETRY_MS && !atomic_load (&n->stop); t += 100)
        nanosleep (&(struct timespec) {0, 100000000}, NULL);
      pthread_mutex_lock (&n->lock);
      n->dirty |= failed;
    }
  pthread_mutex_unlock (&n->lock);
  return NULL;
}

static const struct
{
  int id;
  const char *path;
  json_t *(*strip) (json_t *);
} resources[] = {
  {NET_POLICIES, "/apis/networking.k8s.io/v1/networkpolicies", net_strip_policy},
  {NET_PODS, "/api/v1/pods", net_strip_pod},
  {NET_NAMESPACES, "/api/v1/namespaces", net_strip_namespace},
  {NET_NODES, "/api/v1/nodes", net_strip_node},
};

node_net *
node_net_start (const node_net_config *cfg)
{
  node_net *n = xzalloc (sizeof *n);
  n->kc = cfg->kc;
  n->node = xstrdup (cfg->node);
  n->node_ip = cfg->node_ip ? xstrdup (cfg->node_ip) : NULL;
  n->pod_cidr = cfg->pod_cidr ? xstrdup (cfg->pod_cidr) : NULL;
  n->overlay = xstrdup (cfg->overlay ? cfg->overlay : "host-gw");
  pthread_mutex_init (&n->lock, NULL);
  pthread_cond_init (&n->cond, NULL);
  if (!streq (n->overlay, "host-gw") && !streq (n->overlay, "vxlan") && !streq (n->overlay, "none"))
    {
      log_warn ("unknown --overlay (host-gw, vxlan, none): no routes to other nodes",
                "overlay", n->overlay);
      free (n->overlay);
      n->overlay = xstrdup ("none");
    }
  for (size_t i = 0; i < ARRAY_SIZE (resources); i++)
    net_cache_init (n, resources[i].id, resources[i].path, resources[i].strip);
  int r = pthread_create (&n->worker, NULL, worker_main, n);
  n->worker_started = r == 0;
  for (int i = 0; r == 0 && i < NET_NCACHES; i++)
    r = net_cache_start (&n->caches[i]);
  if (r != 0)
    log_error ("pod network loops not started", "error", strerror (r < 0 ? -r : r));
  return n;
}

void
node_net_stop (node_net *n)
{
  if (n == NULL)
    return;
  atomic_store (&n->stop, 1);
  pthread_mutex_lock (&n->lock);
  pthread_cond_broadcast (&n->cond);
  pthread_mutex_unlock (&n->lock);
  if (n->worker_started)
    pthread_join (n->worker, NULL);
  for (int i = 0; i < NET_NCACHES; i++)
    net_cache_free (&n->caches[i]);
  pthread_mutex_destroy (&n->lock);
  pthread_cond_destroy (&n->cond);
  free (n->node), free (n->node_ip), free (n->pod_cidr), free (n->overlay);
  free (n->netpol_last), free (n->routes_last), free (n->fast_last), free (n->peers);
  free (n);
}
