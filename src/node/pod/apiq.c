/* husk node: API writes that do not hold up the main loop. Pod status PATCHes and Events
   go to two sender threads, each with its own API connection, so that a slow master never
   delays a pod's creation:
   - status: a PATCH queued for a pod replaces the one still waiting for that pod (only the
     newest status matters; this coalesces a burst's many passes into few writes). A failed
     PATCH is handed back (node_apiq_failed) and the main loop sends the status again.
   - events: sent in order (a count PATCH follows the POST it refers to), best effort as
     kubelet's recorder: past NODE_APIQ_EVENTS_MAX queued, new ones are dropped.
   Threads own nothing of the pod table: items carry copies of what they need. */
#include "config.h"

#include <errno.h>
#include <signal.h>

#include "lib/log.h"
#include "src/node/node-internal.h"

#define NODE_APIQ_EVENTS_MAX 1000
#define NODE_APIQ_STACK (256 * 1024)

typedef struct apiq_item
{
  struct apiq_item *next;
  char *uid; /* status: the pod's uid, the coalescing key; NULL for events */
  char *method, *path, *ctype, *body;
  uint64_t seq;
  char *pod_name, *pod_ns; /* status: for the "pod running" log line */
  int64_t running_since_ms; /* > 0: this PATCH reports Running first; log the latency */
} apiq_item;

typedef struct apiq_lane
{
  struct node_apiq *q;
  const char *what;
  kclient *kc;
  pthread_t thread;
  bool started;
  apiq_item *head, *tail;
  size_t len;
  pthread_cond_t cond;
} apiq_lane;

struct node_apiq
{
  pthread_mutex_t lock;
  bool stop;
  apiq_lane status, events;
  node_apiq_failure *failed; /* status PATCHes to send again */
};

static void
item_free (apiq_item *it)
{
  free (it->uid), free (it->method), free (it->path), free (it->ctype), free (it->body);
  free (it->pod_name), free (it->pod_ns);
  free (it);
}

static void
log_running (const apiq_item *it)
{
  char ms[32];
  snprintf (ms, sizeof ms, "%lld", (long long) (node_now_ms () - it->running_since_ms));
  log_info ("pod running", "pod", it->pod_name, "ns", it->pod_ns, "ms", ms);
}

/* Sends one item; a failed status PATCH goes on the failed list. */
static void
send_item (apiq_lane *l, apiq_item *it)
{
  long code = 0;
  _cleanup_free_ char *resp = NULL;
  _cleanup_error_ husk_error *err = NULL;
  int r = kclient_request (l->kc, it->method, it->path, it->ctype, it->body, &code, &resp, &err);
  bool ok = r == 0 && (code < 400 || (it->uid && code == 404)); /* 404: the pod is gone */
  if (!ok)
    {
      _cleanup_free_ char *msg = r == 0 ? kclient_status_message (resp) : NULL;
      char c[16];
      snprintf (c, sizeof c, "%ld", code);
      if (it->uid)
        log_warn ("pod status update failed", "pod", it->pod_name, "ns", it->pod_ns, "code", c,
                  "error", err ? err->msg : (msg ? msg : ""));
      else
        log_debug ("event not recorded", "path", it->path, "code", c, "error",
                   err ? err->msg : (msg ? msg : ""));
    }
  if (ok && it->uid && it->running_since_ms > 0 && code < 400)
    log_running (it);
  if (ok || it->uid == NULL)
    return;
  node_apiq_failure *f = xzalloc (sizeof *f);
  f->uid = xstrdup (it->uid);
  f->seq = it->seq;
  pthread_mutex_lock (&l->q->lock);
  f->next = l->q->failed;
  l->q->failed = f;
  pthread_mutex_unlock (&l->q->lock);
}

static void *
lane_main (void *ud)
{
  apiq_lane *l = ud;
  sigset_t all;
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, NULL);
  pthread_mutex_lock (&l->q->lock);
  for (;;)
    {
      while (l->head == NULL && !l->q->stop)
        pthread_cond_wait (&l->cond, &l->q->lock);
      if (l->q->stop)
        break;
      apiq_item *it = l->head;
      l->head = it->next;
      if (l->head == NULL)
        l->tail = NULL;
      l->len--;
      pthread_mutex_unlock (&l->q->lock);
      send_item (l, it);
      item_free (it);
      pthread_mutex_lock (&l->q->lock);
    }
  pthread_mutex_unlock (&l->q->lock);
  return NULL;
}

static int
lane_start (node_apiq *q, apiq_lane *l, const char *what, const kclient_config *kc,
            husk_error **err)
{
  l->q = q;
  l->what = what;
  pthread_cond_init (&l->cond, NULL);
  int r = kclient_new (kc, &l->kc, err);
  if (r < 0)
    return husk_err_wrap (err, "API client for %s", what);
  pthread_attr_t attr;
  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, NODE_APIQ_STACK);
  r = pthread_create (&l->thread, &attr, lane_main, l);
  pthread_attr_destroy (&attr);
  if (r != 0)
    return husk_err_sys (err, r, "start the %s sender thread", what);
  l->started = true;
  return 0;
}

int
node_apiq_new (const kclient_config *kc, node_apiq **out, husk_error **err)
{
  node_apiq *q = xzalloc (sizeof *q);
  pthread_mutex_init (&q->lock, NULL);
  int r = lane_start (q, &q->status, "pod status", kc, err);
  if (r == 0)
    r = lane_start (q, &q->events, "events", kc, err);
  if (r < 0)
    {
      node_apiq_free (q);
      return r;
    }
  *out = q;
  return 0;
}

static void
lane_stop (apiq_lane *l)
{
  if (l->started)
    pthread_join (l->thread, NULL);
  while (l->head)
    {
      apiq_item *it = l->head;
      l->head = it->next;
      item_free (it);
    }
  kclient_free (l->kc);
  pthread_cond_destroy (&l->cond);
}

void
node_apiq_free (node_apiq *q)
{
  if (q == NULL)
    return;
  pthread_mutex_lock (&q->lock);
  q->stop = true;
  pthread_cond_broadcast (&q->status.cond);
  pthread_cond_broadcast (&q->events.cond);
  pthread_mutex_unlock (&q->lock);
  lane_stop (&q->status);
  lane_stop (&q->events);
  node_apiq_failures_free (q->failed);
  pthread_mutex_destroy (&q->lock);
  free (q);
}

static void
lane_push (apiq_lane *l, apiq_item *it)
{
  if (l->tail)
    l->tail->next = it;
  else
    l->head = it;
  l->tail = it;
  l->len++;
  pthread_cond_signal (&l->cond);
}

void
node_apiq_status (node_apiq *q, const node_pod *p, char *body, uint64_t seq,
                  int64_t running_since_ms)
{
  pthread_mutex_lock (&q->lock);
  for (apiq_item *it = q->status.head; it; it = it->next)
    if (streq (it->uid, p->uid))
      {
        free (it->body);
        it->body = body;
        it->seq = seq;
        if (running_since_ms > 0)
          it->running_since_ms = running_since_ms;
        pthread_mutex_unlock (&q->lock);
        return;
      }
  apiq_item *it = xzalloc (sizeof *it);
  it->uid = xstrdup (p->uid);
  it->method = xstrdup ("PATCH");
  it->path = xasprintf ("/api/v1/namespaces/%s/pods/%s/status", p->ns, p->name);
  it->ctype = xstrdup ("application/merge-patch+json");
  it->body = body;
  it->seq = seq;
  it->pod_name = xstrdup (p->name);
  it->pod_ns = xstrdup (p->ns);
  it->running_since_ms = running_since_ms;
  lane_push (&q->status, it);
  pthread_mutex_unlock (&q->lock);
}

void
node_apiq_event (node_apiq *q, const char *method, const char *path, const char *ctype,
                 char *body)
{
  pthread_mutex_lock (&q->lock);
  if (q->events.len >= NODE_APIQ_EVENTS_MAX)
    {
      pthread_mutex_unlock (&q->lock);
      log_debug ("event dropped: too many queued", "path", path);
      free (body);
      return;
    }
  apiq_item *it = xzalloc (sizeof *it);
  it->method = xstrdup (method);
  it->path = xstrdup (path);
  it->ctype = xstrdup (ctype);
  it->body = body;
  lane_push (&q->events, it);
  pthread_mutex_unlock (&q->lock);
}

node_apiq_failure *
node_apiq_failed (node_apiq *q)
{
  pthread_mutex_lock (&q->lock);
  node_apiq_failure *f = q->failed;
  q->failed = NULL;
  pthread_mutex_unlock (&q->lock);
  return f;
}

void
node_apiq_failures_free (node_apiq_failure *f)
{
  while (f)
    {
      node_apiq_failure *next = f->next;
      free (f->uid);
      free (f);
      f = next;
    }
}
