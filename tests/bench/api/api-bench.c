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
                watcher must receive every event */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* ---- watch fan-out ---- */

static char watch_rv[32];
static atomic_long watch_events, watchers_ready;
static _Atomic double last_delivery;

static size_t
count_lines (char *p, size_t s, size_t n, void *u)
{
  long *mine = u;
  for (size_t i = 0; i < s * n; i++)
    if (p[i] == '\n')
      {
        (*mine)++;
        atomic_fetch_add (&watch_events, 1);
        if (*mine == count)
          {
            double t = now (), prev = atomic_load (&last_delivery);
            while (t > prev && !atomic_compare_exchange_weak (&last_delivery, &prev, t))
              ;
          }
      }
  return s * n;
}

static int
watch_progress (void *u, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
  long *mine = u;
  return *mine >= count; /* abort the transfer once everything arrived */
}

static void *
watcher (void *arg)
{
  struct curl_slist *h;
  CURL *c = handle (&h, NULL);
  char url[512];
  long mine = 0;
  snprintf (url, sizeof url,
            "%s/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=%s"
            "&fieldSelector=metadata.name%%3Dbench-watch&timeoutSeconds=600",
            base, watch_rv);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, count_lines);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &mine);
  curl_easy_setopt (c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (c, CURLOPT_XFERINFOFUNCTION, watch_progress);
  curl_easy_setopt (c, CURLOPT_XFERINFODATA, &mine);
  atomic_fetch_add (&watchers_ready, 1);
  CURLcode rc = curl_easy_perform (c);
  long code = 0;
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code);
  if (mine < count)
    fprintf (stderr, "watcher: %ld events, curl %d (%s), http %ld\n", mine, (int) rc,
             curl_easy_strerror (rc), code);
  curl_slist_free_all (h);
  curl_easy_cleanup (c);
  *(long *) arg = mine;
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
  size_t got = 0;
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
  (void) got;
  const char *rv = strstr (resp, "\"resourceVersion\":\"");
  if (rv == NULL)
    return 1;
  sscanf (rv + 19, "%31[0-9]", watch_rv);
  long *per = calloc ((size_t) clients, sizeof *per);
  pthread_t *th = calloc ((size_t) clients, sizeof *th);
  pthread_attr_t attr;
  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, 256 * 1024);
  for (int k = 0; k < clients; k++)
    pthread_create (&th[k], &attr, watcher, &per[k]);
  while (atomic_load (&watchers_ready) < clients)
    {
      struct timespec ts = {0, 10000000};
      nanosleep (&ts, NULL);
    }
  struct timespec settle = {2, 0};
  nanosleep (&settle, NULL);
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
  for (long i = 0; i < count; i++)
    {
      snprintf (body, sizeof body, "{\"data\":{\"n\":\"%ld\"}}", i);
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
      curl_easy_perform (c);
    }
  double t_upd = now () - t0;
  for (int k = 0; k < clients; k++)
    pthread_join (th[k], NULL);
  double t_all = atomic_load (&last_delivery) - t0;
  long min = count, total = 0;
  for (int k = 0; k < clients; k++)
    {
      total += per[k];
      if (per[k] < min)
        min = per[k];
    }
  printf ("watch: %d watchers x %ld updates: updates took %.2f s, all delivered after %.2f s, "
          "%ld events delivered (%.0f/s), fewest received by one watcher %ld of %ld\n",
          clients, count, t_upd, t_all, total, total / t_all, min, count);
  return min == count ? 0 : 1;
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
