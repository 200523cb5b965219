/* husk api benchmark: concurrent HTTPS clients (libcurl, keep-alive) against a running master.
     api-bench URL TOKEN MODE [CLIENTS] [COUNT]
   MODE get:    CLIENTS connections GET one configmap COUNT times in total; latency percentiles
                (one epoll thread with GnuTLS, getloop.c; API_BENCH_CURL=1 for the old libcurl
                threads, whose own CPU per request exceeded the master's). As fast as the
                server answers, or API_BENCH_GET_RATE=N GETs per second in all (paced)
        create: CLIENTS connections POST COUNT configmaps; creates per second (the same
                epoll client; API_BENCH_CURL=1 for libcurl threads)
        fill:   CLIENTS threads POST COUNT pods (for list)
        list:   GET all pods as JSON and as Table, 5 times each; median milliseconds
        records PATH: TLS records the server uses for one reply to GET PATH
        watch:  CLIENTS watchers of configmaps, then COUNT updates of one configmap; every
                watcher must receive every event. Watchers resume like client-go's reflector
                (reasons on stderr); API_BENCH_WATCH_TIMEOUT=S asks the server to end each
                stream after S seconds (600), API_BENCH_WATCH_GRACE=S how long watchers may
                still be short after the last update (300), API_BENCH_WATCH_DELAY=S waits S
                seconds between the watchers' connecting and the first update */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/bench/api/getloop.h"

static const char *base, *token, *mode;
static int clients = 64;
static long count = 20000;
static atomic_long next_i;
static double *lat;
static atomic_long errors;
static pthread_barrier_t ready;
static double t_start;

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t
sink (char *p, size_t s, size_t n, void *u)
{
  size_t *total = u;
  if (total)
    *total += s * n;
  return s * n;
}

static CURL *
handle (struct curl_slist **h, const char *accept)
{
  CURL *c = curl_easy_init ();
  char auth[256];
  snprintf (auth, sizeof auth, "Authorization: Bearer %s", token);
  *h = curl_slist_append (NULL, auth);
  *h = curl_slist_append (*h, "Content-Type: application/json");
  if (accept)
    *h = curl_slist_append (*h, accept);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, *h);
  curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, NULL);
  curl_easy_setopt (c, CURLOPT_BUFFERSIZE, 512L * 1024);
  return c;
}

static void *
worker (void *arg)
{
  struct curl_slist *h;
  CURL *c = handle (&h, NULL);
  char url[512], body[1024];
  long i;
  /* Connections (TLS handshakes) are set up before the clock starts. */
  snprintf (url, sizeof url, "%s/version", base);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_perform (c);
  if (pthread_barrier_wait (&ready) == PTHREAD_BARRIER_SERIAL_THREAD)
    t_start = now ();
  while ((i = atomic_fetch_add (&next_i, 1)) < count)
    {
      if (strcmp (mode, "get") == 0)
        {
          snprintf (url, sizeof url, "%s/api/v1/namespaces/default/configmaps/bench-get", base);
          curl_easy_setopt (c, CURLOPT_HTTPGET, 1L);
        }
      else if (strcmp (mode, "create") == 0)
        {
          snprintf (url, sizeof url, "%s/api/v1/namespaces/default/configmaps", base);
          snprintf (body, sizeof body,
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                    "\"bench-%ld\"},\"data\":{\"k\":\"v\"}}",
                    i);
          curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
        }
      else
        {
          snprintf (url, sizeof url, "%s/api/v1/namespaces/default/pods", base);
          snprintf (body, sizeof body,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-%ld\","
                    "\"labels\":{\"app\":\"bench\",\"n\":\"%ld\"}},\"spec\":{\"nodeName\":\"n%ld\","
                    "\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1.36\",\"command\":"
                    "[\"sleep\",\"3600\"],\"ports\":[{\"containerPort\":80}]}]},\"status\":"
                    "{\"phase\":\"Running\",\"podIP\":\"10.42.%ld.%ld\"}}",
                    i, i, i % 10, (i / 250) % 250, i % 250);
          curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
        }
      curl_easy_setopt (c, CURLOPT_URL, url);
      double t0 = now ();
      CURLcode rc = curl_easy_perform (c);
      long code = 0;
      curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code);
      lat[i] = now () - t0;
      if (rc != CURLE_OK || code >= 300)
        atomic_fetch_add (&errors, 1);
    }
  curl_slist_free_all (h);
  curl_easy_cleanup (c);
  return NULL;
}

/* ---- watch fan-out ----
   Each watcher behaves like client-go's reflector: it watches from the list's revision, and
   when its stream ends (closed, a curl error, an HTTP error, an ERROR event) it watches again
   from the last resourceVersion it saw; after a 410 it re-reads the object and goes on from
   its revision (the events in between are lost, and counted as such). Every update carries
   its number (data.n), so a watcher counts each event exactly once and sees any gap. */

static char watch_rv[32];
static atomic_long watch_events, watchers_ready, watch_resumed, watch_expired;
static atomic_bool watch_stop;
static _Atomic double last_delivery;

typedef struct watcher_st
{
  int id;
  long got;             /* distinct updates received */
  long dups;            /* updates received again (after a resume) */
  unsigned char *seen;  /* count bytes: update n received */
  char rv[32];          /* last resourceVersion seen: where a resume starts */
  char *line;           /* the partial line being received */
  size_t len, cap;
  int resumes;          /* streams opened after the first */
  long lost;            /* updates announced lost by a 410 */
  int gone;             /* this stream ended with a 410 (ERROR event or HTTP status) */
  int connected;        /* its first stream answered 200 (counted in watchers_ready) */
  char why[200];        /* why the last stream ended early */
} watcher_st;

static void
watch_line (watcher_st *w, const char *l)
{
  const char *p;
  if (strncmp (l, "{\"type\":\"ERROR\"", 15) == 0)
    {
      long code = 0;
      if ((p = strstr (l, "\"code\":")) != NULL)
        code = atol (p + 7);
      if (code == 410)
        w->gone = 1;
      p = strstr (l, "\"message\":\"");
      snprintf (w->why, sizeof w->why, "ERROR event %ld: %.120s", code, p ? p + 11 : l);
      return;
    }
  if (strncmp (l, "{\"kind\":\"Status\"", 17) == 0)
    {
      /* an HTTP error's body (the status code is taken from the reply) */
      p = strstr (l, "\"message\":\"");
      snprintf (w->why, sizeof w->why, "%.120s", p ? p + 11 : l);
      return;
    }
  if ((p = strstr (l, "\"resourceVersion\":\"")) != NULL)
    sscanf (p + 19, "%31[0-9]", w->rv);
  if (strncmp (l, "{\"type\":\"BOOKMARK\"", 18) == 0 || (p = strstr (l, "\"n\":\"")) == NULL)
    return;
  long n = atol (p + 5);
  if (n < 0 || n >= count)
    return;
  if (w->seen[n])
    {
      w->dups++;
      return;
    }
  w->seen[n] = 1;
  w->got++;
  atomic_fetch_add (&watch_events, 1);
  if (w->got == count)
    {
      double t = now (), prev = atomic_load (&last_delivery);
      while (t > prev && !atomic_compare_exchange_weak (&last_delivery, &prev, t))
        ;
    }
}

static size_t
watch_data (char *p, size_t s, size_t n, void *u)
{
  watcher_st *w = u;
  for (size_t i = 0; i < s * n; i++)
    {
      if (w->len + 1 >= w->cap)
        {
          w->cap = w->cap ? 2 * w->cap : 4096;
          w->line = realloc (w->line, w->cap);
        }
      if (p[i] != '\n')
        {
          w->line[w->len++] = p[i];
          continue;
        }
      w->line[w->len] = '\0';
      watch_line (w, w->line);
      w->len = 0;
    }
  return s * n;
}

/* A watcher is ready once its first stream's 200 arrived (the server registered it). */
static size_t
watch_header (char *p, size_t s, size_t n, void *u)
{
  watcher_st *w = u;
  if (!w->connected && s * n > 12 && strncmp (p, "HTTP/", 5) == 0 && strstr (p, " 200"))
    {
      w->connected = 1;
      atomic_fetch_add (&watchers_ready, 1);
    }
  return s * n;
}

static int
watch_progress (void *u, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
  watcher_st *w = u;
  return w->got >= count || atomic_load (&watch_stop); /* abort once everything arrived */
}

/* After a 410: the object's current revision (a reflector's re-list). */
static void
watch_relist (watcher_st *w)
{
  struct curl_slist *h;
  CURL *c = handle (&h, NULL);
  char url[512], resp[8192] = "";
  snprintf (url, sizeof url, "%s/api/v1/namespaces/default/configmaps/bench-watch", base);
  FILE *f = fmemopen (resp, sizeof resp - 1, "w");
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, NULL);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, f);
  curl_easy_perform (c);
  fclose (f);
  const char *p = strstr (resp, "\"resourceVersion\":\"");
  if (p)
    sscanf (p + 19, "%31[0-9]", w->rv);
  long n = -1;
  if ((p = strstr (resp, "\"n\":\"")) != NULL)
    n = atol (p + 5);
  /* The listed state stands for the updates up to n; those not received are lost. */
  for (long i = 0; i <= n && i < count; i++)
    if (!w->seen[i])
      {
        w->seen[i] = 2;
        w->lost++;
      }
  curl_slist_free_all (h);
  curl_easy_cleanup (c);
}

/* One stream: returns true when the watcher is done (everything received or told to stop). */
static bool
watch_stream (watcher_st *w, CURL *c)
{
  char url[512];
  const char *to = getenv ("API_BENCH_WATCH_TIMEOUT");
  snprintf (url, sizeof url,
            "%s/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=%s"
            "&fieldSelector=metadata.name%%3Dbench-watch&timeoutSeconds=%s",
            base, w->rv, to ? to : "600");
  curl_easy_setopt (c, CURLOPT_URL, url);
  w->len = 0;
  w->gone = 0;
  w->why[0] = '\0';
  long before = w->got;
  CURLcode rc = curl_easy_perform (c);
  if (w->got >= count || atomic_load (&watch_stop))
    return true;
  long code = 0;
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200 && code != 0)
    {
      if (code == 410)
        w->gone = 1;
      char msg[sizeof w->why];
      snprintf (msg, sizeof msg, "%s", w->why);
      snprintf (w->why, sizeof w->why, "HTTP %ld: %.120s", code, msg);
    }
  else if (rc != CURLE_OK)
    snprintf (w->why + strlen (w->why), sizeof w->why - strlen (w->why), "%scurl: %s",
              w->why[0] ? "; " : "", curl_easy_strerror (rc));
  else if (w->why[0] == '\0')
    snprintf (w->why, sizeof w->why, "stream closed after %ld events", w->got - before);
  if (w->gone)
    watch_relist (w);
  if (w->resumes < 3 || w->gone)
    fprintf (stderr, "watcher %d: resumes from %s at %ld of %ld: %s\n", w->id, w->rv, w->got,
             count, w->why);
  return false;
}

static void *
watcher (void *arg)
{
  watcher_st *w = arg;
  struct curl_slist *h;
  CURL *c = handle (&h, NULL);
  snprintf (w->rv, sizeof w->rv, "%s", watch_rv);
  w->seen = calloc ((size_t) count, 1);
  w->cap = 4096;
  w->line = malloc (w->cap);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, watch_data);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, w);
  curl_easy_setopt (c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (c, CURLOPT_XFERINFOFUNCTION, watch_progress);
  curl_easy_setopt (c, CURLOPT_XFERINFODATA, w);
  curl_easy_setopt (c, CURLOPT_BUFFERSIZE, 16L * 1024);
  /* Verification is off: without this libcurl still loads the CA bundle for each handshake,
     which made 1,000 watchers take a minute to connect. */
  curl_easy_setopt (c, CURLOPT_CAINFO, NULL);
  curl_easy_setopt (c, CURLOPT_CAPATH, NULL);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, watch_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, w);
  for (int k = 0; !watch_stream (w, c); k++)
    {
      if (k == 0)
        atomic_fetch_add (&watch_resumed, 1);
      if (w->gone)
        atomic_fetch_add (&watch_expired, 1);
      w->resumes++;
      struct timespec ts = {0, (k < 10 ? k + 1 : 10) * 100000000L}; /* 0.1 .. 1 s backoff */
      nanosleep (&ts, NULL);
    }
  curl_slist_free_all (h);
  curl_easy_cleanup (c);
  if (w->got < count)
    fprintf (stderr, "watcher %d: %ld of %ld events (%ld lost after 410s, %ld duplicates), "
             "%d resumes, last: %s\n", w->id, w->got, count, w->lost, w->dups, w->resumes,
             w->why[0] ? w->why : "stopped");
  free (w->line);
  free (w->seen);
  return NULL;
}

static int
watch_bench (void)
{
  struct curl_slist *h;
  CURL *c = handle (&h, NULL);
  char url[512], body[256];
  snprintf (url, sizeof url, "%s/api/v1/namespaces/default/configmaps", base);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_POSTFIELDS,
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                    "\"bench-watch\"}}");
  char resp[4096] = "";
  curl_easy_perform (c);
  /* the list revision to watch from */
  curl_easy_setopt (c, CURLOPT_HTTPGET, 1L);
  FILE *f = fmemopen (resp, sizeof resp - 1, "w");
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, NULL);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, f);
  snprintf (url, sizeof url, "%s/api/v1/namespaces/default/configmaps?limit=1", base);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_perform (c);
  fclose (f);
  const char *rv = strstr (resp, "\"resourceVersion\":\"");
  if (rv == NULL)
    return 1;
  sscanf (rv + 19, "%31[0-9]", watch_rv);
  double tb = now ();
  watcher_st *per = calloc ((size_t) clients, sizeof *per);
  pthread_t *th = calloc ((size_t) clients, sizeof *th);
  pthread_attr_t attr;
  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, 256 * 1024);
  for (int k = 0; k < clients; k++)
    {
      per[k].id = k;
      pthread_create (&th[k], &attr, watcher, &per[k]);
    }
  /* Updates start once every watcher's stream is open (or after 300 s: those late say why). */
  double tc = now ();
  fprintf (stderr, "watch: %d watcher threads started at %.1f s\n", clients, tc - tb);
  while (atomic_load (&watchers_ready) < clients && now () - tc < 300)
    {
      struct timespec ts = {0, 10000000};
      nanosleep (&ts, NULL);
    }
  double t_conn = now () - tc;
  long connected = atomic_load (&watchers_ready);
  const char *delay = getenv ("API_BENCH_WATCH_DELAY"); /* tests: streams end before updates */
  if (delay)
    {
      struct timespec ts = {atoi (delay), 0};
      nanosleep (&ts, NULL);
    }
  double t0 = now ();
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, NULL);
  snprintf (url, sizeof url, "%s/api/v1/namespaces/default/configmaps/bench-watch", base);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, "PATCH");
  curl_slist_free_all (h);
  char auth[256];
  snprintf (auth, sizeof auth, "Authorization: Bearer %s", token);
  h = curl_slist_append (NULL, auth);
  h = curl_slist_append (h, "Content-Type: application/merge-patch+json");
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
  long failed = 0;
  for (long i = 0; i < count; i++)
    {
      snprintf (body, sizeof body, "{\"data\":{\"n\":\"%ld\"}}", i);
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
      long code = 0;
      /* An update that failed is retried: every number 0..count-1 must be written once. */
      for (int tries = 0; tries < 20 && code != 200; tries++)
        {
          if (curl_easy_perform (c) == CURLE_OK)
            curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code);
        }
      failed += code != 200;
    }
  double t_upd = now () - t0;
  /* Watchers still short this long after the last update give up (and say why). */
  const char *g = getenv ("API_BENCH_WATCH_GRACE");
  double grace = g ? atof (g) : 300;
  while (now () - t0 - t_upd < grace)
    {
      long settled = 0; /* every update received or announced lost (racy reads: a bench) */
      for (int k = 0; k < clients; k++)
        settled += per[k].got + per[k].lost;
      if (settled >= (long) clients * count)
        break;
      struct timespec ts = {0, 100000000};
      nanosleep (&ts, NULL);
    }
  atomic_store (&watch_stop, true);
  double tj = now ();
  for (int k = 0; k < clients; k++)
    pthread_join (th[k], NULL);
  fprintf (stderr, "watch: stopped at %.1f s, joined after %.1f s more\n", tj - t0, now () - tj);
  double t_all = atomic_load (&last_delivery) - t0;
  long min = count, total = 0, lost = 0;
  for (int k = 0; k < clients; k++)
    {
      total += per[k].got;
      lost += per[k].lost;
      if (per[k].got < min)
        min = per[k].got;
    }
  printf ("watch: %ld of %d watchers connected in %.1f s\n", connected, clients, t_conn);
  printf ("watch: %d watchers x %ld updates: updates took %.2f s, all delivered after %.2f s, "
          "%ld events delivered (%.0f/s), fewest received by one watcher %ld of %ld\n",
          clients, count, t_upd, t_all, total, total / t_all, min, count);
  printf ("  watchers that resumed from their last resourceVersion: %ld (of them after a 410: "
          "%ld, %ld events lost); updates that failed: %ld; reasons on stderr\n",
          (long) atomic_load (&watch_resumed), (long) atomic_load (&watch_expired), lost, failed);
  curl_slist_free_all (h);
  curl_easy_cleanup (c);
  return min == count && failed == 0 ? 0 : 1;
}

static int
cmp (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
list_ms (const char *accept, size_t *bytes)
{
  struct curl_slist *h;
  CURL *c = handle (&h, accept);
  char url[512];
  snprintf (url, sizeof url, "%s/api/v1/namespaces/default/pods", base);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, bytes);
  double t[5];
  curl_easy_perform (c); /* connection set up */
  for (int k = 0; k < 5; k++)
    {
      *bytes = 0;
      double t0 = now ();
      curl_easy_perform (c);
      t[k] = (now () - t0) * 1000;
    }
  qsort (t, 5, sizeof t[0], cmp);
  curl_slist_free_all (h);
  curl_easy_cleanup (c);
  return t[2];
}

static int report (double el);
static int report_loop (int ret, double el, double cpu, long errs);

int
main (int argc, char **argv)
{
  if (argc < 4)
    {
      fprintf (stderr, "usage: api-bench URL TOKEN get|create|fill|list [CLIENTS] [COUNT]\n");
      return 2;
    }
  base = argv[1], token = argv[2], mode = argv[3];
  if (argc > 4)
    clients = atoi (argv[4]);
  if (argc > 5)
    count = atol (argv[5]);
  curl_global_init (CURL_GLOBAL_ALL);
  if (strcmp (mode, "list") == 0)
    {
      size_t jb = 0, tb = 0;
      double j = list_ms ("Accept: application/json", &jb);
      double t = list_ms ("Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
                          &tb);
      printf ("list json: %.1f ms (%zu bytes)\nlist table: %.1f ms (%zu bytes)\n", j, jb, t, tb);
      return 0;
    }
  if (strcmp (mode, "watch") == 0)
    return watch_bench ();
  if (strcmp (mode, "records") == 0)
    {
      /* records PATH: TLS records per reply (tests/integration/api/t-get-records.sh) */
      long k = getloop_records (base, token, argc > 4 ? argv[4] : "/version");
      printf ("records per reply: %ld\n", k);
      return k < 0;
    }
  lat = calloc ((size_t) count, sizeof *lat);
  double el = 0, cpu = 0;
  long errs = 0;
  if (strcmp (mode, "get") == 0 && getenv ("API_BENCH_CURL") == NULL)
    {
      const char *rate = getenv ("API_BENCH_GET_RATE");
      int ret = getloop_run (base, token, "/api/v1/namespaces/default/configmaps/bench-get",
                             clients, count, rate ? atof (rate) : 0, lat, &el, &cpu, &errs);
      return report_loop (ret, el, cpu, errs);
    }
  if (strcmp (mode, "create") == 0 && getenv ("API_BENCH_CURL") == NULL)
    {
      int ret = getloop_create (base, token, "/api/v1/namespaces/default/configmaps",
                                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                                "{\"name\":\"bench-%ld\"},\"data\":{\"k\":\"v\"}}",
                                clients, count, lat, &el, &cpu, &errs);
      return report_loop (ret, el, cpu, errs);
    }
  pthread_t th[1024];
  if (clients > 1024)
    clients = 1024;
  pthread_barrier_init (&ready, NULL, (unsigned) clients);
  for (int k = 0; k < clients && k < 1024; k++)
    pthread_create (&th[k], NULL, worker, NULL);
  for (int k = 0; k < clients && k < 1024; k++)
    pthread_join (th[k], NULL);
  el = now () - t_start;
  return report (el);
}

static int
report (double el)
{
  qsort (lat, (size_t) count, sizeof *lat, cmp);
  printf ("%s: %ld requests, %d clients, %.2f s, %.0f req/s, p50 %.2f ms, p99 %.2f ms, "
          "max %.2f ms, errors %ld\n",
          mode, count, clients, el, count / el, lat[count / 2] * 1000,
          lat[(long) (count * 0.99)] * 1000, lat[count - 1] * 1000, (long) errors);
  return errors ? 1 : 0;
}

/* The report of a run of the epoll client (getloop.c), with its own CPU per request. */
static int
report_loop (int ret, double el, double cpu, long errs)
{
  if (ret < 0)
    return 1;
  errors = errs;
  ret = report (el);
  printf ("  bench client CPU: %.1f us per request (one thread)\n", cpu * 1e6 / count);
  return ret;
}
