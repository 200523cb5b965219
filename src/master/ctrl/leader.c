/* husk controllers: leader election (client-go's leaderelection with a Lease lock). A
   candidate reads the Lease every retry period; it takes it when nobody holds it or when
   the holder's record has not changed for leaseDurationSeconds -- timed on this master's
   monotonic clock from when the record was seen changing, so clocks need not agree --
   and the store's optimistic concurrency (resourceVersion) makes one taker win. The leader
   renews every retry period and steps down when no renewal succeeded within the renew
   deadline, before any other master may consider the lease expired. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/kclient.h"
#include "lib/log.h"
#include "src/master/ctrl/leader.h"

struct ctrl_leader
{
  ctrl_leader_config cfg;
  char *identity, *path, *ns_path;
  kclient *k;
  pthread_t th;
  atomic_int stop;
  atomic_bool leading;
  /* The record last seen (holder + renewTime + transitions) and when (monotonic). */
  char *observed;
  double observed_at;
  double last_renew;
  json_int_t transitions;
};

static double
mono_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *
micro_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r (&ts.tv_sec, &tm);
  char date[32];
  strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  return xasprintf ("%s.%06ldZ", date, ts.tv_nsec / 1000);
}

static char *
default_identity (void)
{
  char host[256] = "husk";
  gethostname (host, sizeof host - 1);
  unsigned char r[4] = { 0 };
  if (getrandom (r, sizeof r, 0) != (ssize_t)sizeof r)
    {
      unsigned v = (unsigned)getpid () ^ (unsigned)time (NULL);
      memcpy (r, &v, sizeof r);
    }
  return xasprintf ("%s_%02x%02x%02x%02x", host, r[0], r[1], r[2], r[3]);
}

static json_t *
new_lease (ctrl_leader *l, const char *now)
{
  return json_pack ("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s, s:s, s:i}}", "apiVersion",
                    "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", l->cfg.name,
                    "namespace", l->cfg.ns, "spec", "holderIdentity", l->identity,
                    "leaseDurationSeconds", l->cfg.lease_seconds, "acquireTime", now, "renewTime",
                    now, "leaseTransitions", 0);
}

/* Notes the record of lease when it changed. */
static void
observe (ctrl_leader *l, const json_t *lease, double now)
{
  json_t *spec = json_object_get (lease, "spec");
  _cleanup_free_ char *rec
      = xasprintf ("%s|%s|%lld", json_string_value (json_object_get (spec, "holderIdentity")) ?: "",
                   json_string_value (json_object_get (spec, "renewTime")) ?: "",
                   (long long)json_integer_value (json_object_get (spec, "leaseTransitions")));
  if (!l->observed || !streq (l->observed, rec))
    {
      free (l->observed);
      l->observed = TAKE_PTR (rec);
      l->observed_at = now;
    }
}

/* One attempt to acquire or renew. Returns 1 when this master holds the lease, 0 when
   another does, 2 when a concurrent write won (undecided: try again), < 0 on errors. */
static int
try_acquire_or_renew (ctrl_leader *l, husk_error **err)
{
  _cleanup_json_ json_t *lease = NULL;
  _cleanup_free_ char *now = micro_now ();
  double mono = mono_now ();
  long code = 0;
  int ret = kclient_json (l->k, "GET", l->path, NULL, NULL, &lease, &code, err);
  if (ret < 0 && code == 404)
    {
      husk_error_free (*err);
      *err = NULL;
      _cleanup_json_ json_t *body = new_lease (l, now);
      ret = kclient_json (l->k, "POST", l->ns_path, NULL, body, NULL, &code, err);
      if (ret < 0 && code == 409)
        {
          husk_error_free (*err);
          *err = NULL;
          return 2;
        }
      return ret < 0 ? ret : 1;
    }
  if (ret < 0)
    return ret;
  observe (l, lease, mono);
  json_t *spec = json_object_get (lease, "spec");
  if (!json_is_object (spec))
    {
      spec = json_object ();
      json_object_set_new (lease, "spec", spec);
    }
  const char *holder = json_string_value (json_object_get (spec, "holderIdentity"));
  bool mine = holder && streq (holder, l->identity);
  json_int_t dur = json_integer_value (json_object_get (spec, "leaseDurationSeconds"));
  if (dur <= 0)
    dur = l->cfg.lease_seconds;
  if (!mine && holder && *holder && l->observed_at + (double)dur > mono)
    return 0;
  if (!mine)
    {
      json_object_set_new (spec, "acquireTime", json_string (now));
      json_object_set_new (
          spec, "leaseTransitions",
          json_integer (json_integer_value (json_object_get (spec, "leaseTransitions"))
                        + (holder && *holder ? 1 : 0)));
    }
  json_object_set_new (spec, "holderIdentity", json_string (l->identity));
  json_object_set_new (spec, "leaseDurationSeconds", json_integer (l->cfg.lease_seconds));
  json_object_set_new (spec, "renewTime", json_string (now));
  ret = kclient_json (l->k, "PUT", l->path, NULL, lease, NULL, &code, err);
  if (ret < 0 && (code == 409 || code == 404))
    {
      husk_error_free (*err);
      *err = NULL;
      return 2;
    }
  return ret < 0 ? ret : 1;
}

static void
set_leading (ctrl_leader *l, bool on)
{
  if (atomic_load (&l->leading) == on)
    return;
  atomic_store (&l->leading, on);
  log_info (on ? "became the leader" : "stopped leading", "identity", l->identity, "lease",
            l->cfg.name);
  if (on && l->cfg.started)
    l->cfg.started (l->cfg.ud);
  if (!on && l->cfg.stopped)
    l->cfg.stopped (l->cfg.ud);
}

/* Empties holderIdentity so that the next candidate need not wait for expiry. */
static void
release (ctrl_leader *l)
{
  _cleanup_json_ json_t *lease = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (kclient_json (l->k, "GET", l->path, NULL, NULL, &lease, NULL, &err) < 0)
    return;
  const char *holder = husk_json_path_str (lease, "spec.holderIdentity");
  if (!holder || !streq (holder, l->identity))
    return;
  _cleanup_free_ char *now = micro_now ();
  json_t *spec = json_object_get (lease, "spec");
  json_object_set_new (spec, "holderIdentity", json_string (""));
  json_object_set_new (spec, "leaseDurationSeconds", json_integer (1));
  json_object_set_new (spec, "renewTime", json_string (now));
  if (kclient_json (l->k, "PUT", l->path, NULL, lease, NULL, NULL, &err) < 0)
    log_warn ("could not release the leader lease", "error", err->msg);
}

static void
sleep_interruptible (ctrl_leader *l, double seconds)
{
  double until = mono_now () + seconds;
  while (!atomic_load (&l->stop) && mono_now () < until)
    {
      struct timespec ts = { 0, 100 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
}

static void *
leader_main (void *p)
{
  ctrl_leader *l = p;
  while (!atomic_load (&l->stop))
    {
      _cleanup_error_ husk_error *err = NULL;
      int ret = try_acquire_or_renew (l, &err);
      double now = mono_now ();
      if (ret == 1)
        {
          l->last_renew = now;
          set_leading (l, true);
        }
      else
        {
          if (ret < 0)
            log_warn ("leader election", "error", err->msg);
          if (atomic_load (&l->leading)
              && (ret == 0 || now - l->last_renew >= (double)l->cfg.renew_seconds))
            set_leading (l, false);
        }
      sleep_interruptible (l, (double)l->cfg.retry_seconds);
    }
  if (atomic_load (&l->leading))
    {
      set_leading (l, false);
      release (l);
    }
  return NULL;
}

static int
make_client (const char *data_dir, const char *local_socket, kclient **out, husk_error **err)
{
  _cleanup_free_ char *kc = xasprintf ("%s/admin.kubeconfig", data_dir);
  /* The kubeconfig's server is how this host reaches the API server (its bound address). */
  kclient_config cfg = { .timeout_ms = 5000 };
  if (local_socket)
    {
      cfg.server = xstrdup ("http://localhost");
      cfg.unix_socket = xstrdup (local_socket);
    }
  int ret = kclient_config_from_kubeconfig (kc, &cfg, err);
  if (ret == 0)
    {
      /* A connection to ourselves (see ctrl_manager_start). */
      if (cfg.ca_file == NULL && cfg.ca_pem == NULL)
        cfg.insecure = true;
      ret = kclient_new (&cfg, out, err);
    }
  kclient_config_clear (&cfg);
  return ret < 0 ? husk_err_wrap (err, "leader election") : 0;
}

int
ctrl_leader_start (const ctrl_leader_config *cfg, ctrl_leader **out, husk_error **err)
{
  ctrl_leader *l = xzalloc (sizeof *l);
  l->cfg = *cfg;
  if (!l->cfg.ns)
    l->cfg.ns = "kube-system";
  if (!l->cfg.name)
    l->cfg.name = "husk-master";
  if (l->cfg.lease_seconds <= 0)
    l->cfg.lease_seconds = 15;
  if (l->cfg.renew_seconds <= 0)
    l->cfg.renew_seconds = 10;
  if (l->cfg.retry_seconds <= 0)
    l->cfg.retry_seconds = 2;
  l->identity = cfg->identity ? xstrdup (cfg->identity) : default_identity ();
  l->ns_path = xasprintf ("/apis/coordination.k8s.io/v1/namespaces/%s/leases", l->cfg.ns);
  l->path = xasprintf ("%s/%s", l->ns_path, l->cfg.name);
  int ret = make_client (cfg->data_dir, cfg->local_socket, &l->k, err);
  if (ret == 0 && pthread_create (&l->th, NULL, leader_main, l) != 0)
    ret = husk_err (err, EAGAIN, "leader election: cannot start its thread");
  if (ret < 0)
    {
      kclient_free (l->k);
      free (l->identity), free (l->path), free (l->ns_path);
      free (l);
      return ret;
    }
  log_info ("campaigning for leadership", "identity", l->identity, "lease", l->cfg.name);
  *out = l;
  return 0;
}

void
ctrl_leader_stop (ctrl_leader *l)
{
  if (!l)
    return;
  atomic_store (&l->stop, 1);
  pthread_join (l->th, NULL);
  kclient_free (l->k);
  free (l->identity), free (l->path), free (l->ns_path), free (l->observed);
  free (l);
}

bool
ctrl_leader_is_leader (const ctrl_leader *l)
{
  return l && atomic_load (&l->leading);
}
