/* Store benchmarks (driven by tests/bench/store/run). One measurement per invocation; prints
   one line of key=value results.

     store-bench create URL DIR WRITERS TOTAL     creates of pod-sized objects
     store-bench rawput ENDPOINT WRITERS TOTAL    raw etcd puts over the JSON gateway (peer;
                                                  RAW_TXN=1: each put inside /v3/kv/txn;
                                                  RAW_TXN=cmp: and with the compare of a
                                                  create)
     store-bench list URL DIR N                   list of N pods (median of 5)
     store-bench fanout URL DIR WATCHERS EVENTS   16 writers, WATCHERS watchers
     store-bench idle DIR OBJECTS SECONDS         write_bytes of this process while idle
     store-bench fsync DIR                        latency of a 4 KB write + fdatasync in DIR

   URL: "sqlite" or "etcd://a,b,c". */
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <time.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "src/master/store/store.h"

static store *S;
static char **pregen; /* when set: object i, made before the clock started */
static atomic_long next_op;
static long total_ops;
static char run_ns[48];

static double
now_ms (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* A pod of about 1 KB, the shape the API server stores. */
static char *
pod_json (const char *ns, const char *name)
{
  return xasprintf (
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
      "\"uid\":\"6f1c2b9e-9a0e-4c55-8a51-%012d\",\"creationTimestamp\":\"2026-11-27T05:00:00Z\","
      "\"labels\":{\"app\":\"web\",\"tier\":\"frontend\",\"pod-template-hash\":\"5d8f7c9b4\"},"
      "\"ownerReferences\":[{\"apiVersion\":\"apps/"
      "v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-5d8f7c9b4\","
      "\"uid\":\"0b9b3c62-3c2e-4f0a-b7de-2f8d6f1e7a11\",\"controller\":true,\"blockOwnerDeletion\":"
      "true}]},"
      "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"registry.local/web:1.25.3\","
      "\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}],\"resources\":{\"requests\":{"
      "\"cpu\":"
      "\"100m\",\"memory\":\"64Mi\"},\"limits\":{\"memory\":\"128Mi\"}},\"env\":[{\"name\":"
      "\"MODE\","
      "\"value\":\"production\"}],\"terminationMessagePath\":\"/dev/termination-log\","
      "\"imagePullPolicy\":\"IfNotPresent\"}],\"restartPolicy\":\"Always\",\"dnsPolicy\":"
      "\"ClusterFirst\","
      "\"serviceAccountName\":\"default\",\"nodeName\":\"node-3\",\"schedulerName\":\"default-"
      "scheduler\","
      "\"tolerations\":[{\"key\":\"node.kubernetes.io/"
      "not-ready\",\"operator\":\"Exists\",\"effect\":"
      "\"NoExecute\",\"tolerationSeconds\":300}]},\"status\":{\"phase\":\"Running\",\"podIP\":"
      "\"10.42.3.17\",\"hostIP\":\"10.0.0.13\",\"qosClass\":\"Burstable\"}}",
      name, ns, (int)(strlen (name) * 7919 % 1000000));
}

static void
die (const char *what, husk_error *err)
{
  fprintf (stderr, "store-bench: %s: %s\n", what, err ? err->msg : "failed");
  exit (1);
}

static void
open_store (const char *url, const char *dir)
{
  store_options o
      = { .url = streq (url, "sqlite") ? NULL : url, .data_dir = dir, .watch_ring = 200000 };
  husk_error *err = NULL;
  if (store_open (&o, &S, &err) < 0)
    die ("open", err);
}

/* ---- create throughput ---- */

typedef struct lat
{
  double *v;
  size_t n, cap;
} lat;

static void *
create_worker (void *arg)
{
  lat *l = arg;
  for (;;)
    {
      long i = atomic_fetch_add (&next_op, 1);
      if (i >= total_ops)
        break;
      char name[32];
      snprintf (name, sizeof name, "pod-%ld", i);
      _cleanup_free_ char *made = pregen ? NULL : pod_json (run_ns, name);
      const char *json = pregen ? pregen[i] : made;
      husk_error *err = NULL;
      double t0 = now_ms ();
      if (store_create (S, "pods", run_ns, name, json, NULL, NULL, &err) < 0)
        die ("create", err);
      if (l->n == l->cap)
        {
          l->cap = l->cap ? l->cap * 2 : 1024;
          l->v = xreallocarray (l->v, l->cap, sizeof *l->v);
        }
      l->v[l->n++] = now_ms () - t0;
    }
  return NULL;
}

static void
report_latency (const char *what, const char *backend, int writers, lat *ls, double wall)
{
  size_t n = 0;
  for (int i = 0; i < writers; i++)
    n += ls[i].n;
  double *all = xcalloc (n ? n : 1, sizeof *all);
  size_t k = 0;
  for (int i = 0; i < writers; i++)
    {
      memcpy (all + k, ls[i].v, ls[i].n * sizeof *all);
      k += ls[i].n;
      free (ls[i].v);
    }
  qsort (all, n, sizeof *all, cmp_double);
  printf ("%s backend=%s writers=%d n=%zu ops_per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n", what, backend,
          writers, n, (double)n / (wall / 1e3), n ? all[n / 2] : 0.0,
          n ? all[(size_t)((double)n * 0.99)] : 0.0);
  free (all);
}

/* The objects of a create run, made up front so that the clock and the CPU figures cover
   the store (or the raw etcd client), not the bench's sprintf. */
static void
pregenerate (long total)
{
  pregen = xcalloc ((size_t)total, sizeof *pregen);
  for (long i = 0; i < total; i++)
    {
      char name[32];
      snprintf (name, sizeof name, "pod-%ld", i);
      pregen[i] = pod_json (run_ns, name);
    }
}

static void
pregen_free (long total)
{
  for (long i = 0; pregen && i < total; i++)
    free (pregen[i]);
  free (pregen);
  pregen = NULL;
}

/* CPU seconds used so far by the threads named `comm` (all threads when NULL): a figure that
   depends far less on what else runs on the machine than throughput does. */
static double
cpu_seconds (const char *comm)
{
  if (!comm)
    {
      struct rusage ru;
      getrusage (RUSAGE_SELF, &ru);
      return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6
             + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    }
  double sum = 0;
  DIR *d = opendir ("/proc/self/task");
  struct dirent *de;
  while (d && (de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      char path[320], name[64] = "", buf[1024];
      snprintf (path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
      FILE *f = fopen (path, "r");
      if (f && fgets (name, sizeof name, f))
        name[strcspn (name, "\n")] = '\0';
      if (f)
        fclose (f);
      if (!streq (name, comm))
        continue;
      snprintf (path, sizeof path, "/proc/self/task/%s/stat", de->d_name);
      f = fopen (path, "r");
      unsigned long ut = 0, st = 0;
      if (f && fgets (buf, sizeof buf, f))
        {
          const char *p = strrchr (buf, ')'); /* fields after the command name */
          if (p
              && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st)
                     == 2)
            sum += (double)(ut + st) / (double)sysconf (_SC_CLK_TCK);
        }
      if (f)
        fclose (f);
    }
  if (d)
    closedir (d);
  return sum;
}

static int
cmd_create (const char *url, const char *dir, int writers, long total)
{
  open_store (url, dir);
  total_ops = total;
  pregenerate (total);
  lat *ls = xcalloc ((size_t)writers, sizeof *ls);
  pthread_t *th = xcalloc ((size_t)writers, sizeof *th);
  double cpu0 = cpu_seconds (NULL), wcpu0 = cpu_seconds ("store-writer");
  double t0 = now_ms ();
  for (int i = 0; i < writers; i++)
    pthread_create (&th[i], NULL, create_worker, &ls[i]);
  for (int i = 0; i < writers; i++)
    pthread_join (th[i], NULL);
  double wall = now_ms () - t0;
  double cpu = cpu_seconds (NULL) - cpu0, wcpu = cpu_seconds ("store-writer") - wcpu0;
  report_latency ("create", store_backend_name (S), writers, ls, wall);
  /* per-op CPU: whole process (writers included), and the SQLite writer thread alone */
  printf ("cpu backend=%s writers=%d cpu_us_per_op=%.1f writer_cpu_us_per_op=%.1f\n",
          store_backend_name (S), writers, cpu * 1e6 / (double)total, wcpu * 1e6 / (double)total);
  store_close (S);
  pregen_free (total);
  free (ls);
  free (th);
  return 0;
}

/* ---- raw etcd puts (the peer) ---- */

static const char *raw_ep;

static size_t
sink (char *p, size_t s, size_t n, void *u)
{
  return s * n;
}

static void *
rawput_worker (void *arg)
{
  lat *l = arg;
  CURL *c = curl_easy_init ();
  struct curl_slist *h = curl_slist_append (NULL, "Content-Type: application/json");
  h = curl_slist_append (h, "Expect:");
  _cleanup_free_ char *url
      = xasprintf ("http://%s/v3/kv/%s", raw_ep, getenv ("RAW_TXN") ? "txn" : "put");
  for (;;)
    {
      long i = atomic_fetch_add (&next_op, 1);
      if (i >= total_ops)
        break;
      char name[32], key[128];
      snprintf (name, sizeof name, "pod-%ld", i);
      snprintf (key, sizeof key, "/bench-raw/%s/%s", run_ns, name);
      const char *json = pregen[i];
      /* same payload size as the store writes: base64 of key and value */
      _cleanup_free_ char *k64 = husk_base64_encode (key, strlen (key));
      _cleanup_free_ char *v64 = husk_base64_encode (json, strlen (json));
      husk_buf b = HUSK_BUF_INIT;
      const char *mode = getenv ("RAW_TXN");
      if (!mode)
        husk_buf_printf (&b, "{\"key\":\"%s\",\"value\":\"%s\"}", k64, v64);
      else if (streq (mode, "cmp")) /* what a create needs: put if create_revision == 0 */
        husk_buf_printf (&b,
                         "{\"compare\":[{\"key\":\"%s\",\"target\":\"CREATE\",\"result\":"
                         "\"EQUAL\",\"create_revision\":\"0\"}],\"success\":[{\"request_put\":{"
                         "\"key\":\"%s\",\"value\":\"%s\"}}]}",
                         k64, k64, v64);
      else
        husk_buf_printf (&b, "{\"success\":[{\"request_put\":{\"key\":\"%s\",\"value\":\"%s\"}}]}",
                         k64, v64);
      curl_easy_setopt (c, CURLOPT_URL, url);
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, husk_buf_str (&b));
      curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
      curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, sink);
      curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
      double t0 = now_ms ();
      CURLcode rc = curl_easy_perform (c);
      long code = 0;
      curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code);
      if (rc != CURLE_OK || code != 200)
        {
          fprintf (stderr, "store-bench: raw put: %s (HTTP %ld)\n", curl_easy_strerror (rc), code);
          exit (1);
        }
      if (l->n == l->cap)
        {
          l->cap = l->cap ? l->cap * 2 : 1024;
          l->v = xreallocarray (l->v, l->cap, sizeof *l->v);
        }
      l->v[l->n++] = now_ms () - t0;
      husk_buf_free (&b);
    }
  curl_slist_free_all (h);
  curl_easy_cleanup (c);
  return NULL;
}

static int
cmd_rawput (const char *ep, int writers, long total)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
  raw_ep = ep;
  total_ops = total;
  pregenerate (total);
  lat *ls = xcalloc ((size_t)writers, sizeof *ls);
  pthread_t *th = xcalloc ((size_t)writers, sizeof *th);
  double cpu0 = cpu_seconds (NULL);
  double t0 = now_ms ();
  for (int i = 0; i < writers; i++)
    pthread_create (&th[i], NULL, rawput_worker, &ls[i]);
  for (int i = 0; i < writers; i++)
    pthread_join (th[i], NULL);
  report_latency ("rawput", "etcd-gateway", writers, ls, now_ms () - t0);
  printf ("cpu backend=etcd-gateway writers=%d cpu_us_per_op=%.1f\n", writers,
          (cpu_seconds (NULL) - cpu0) * 1e6 / (double)total);
  pregen_free (total);
  free (ls);
  free (th);
  return 0;
}

/* ---- list ---- */

static int
cmd_list (const char *url, const char *dir, long n)
{
  open_store (url, dir);
  total_ops = n;
  lat ls[8] = { 0 };
  pthread_t th[8];
  for (int i = 0; i < 8; i++)
    pthread_create (&th[i], NULL, create_worker, &ls[i]);
  for (int i = 0; i < 8; i++)
    {
      pthread_join (th[i], NULL);
      free (ls[i].v);
    }
  double runs[5], cpu[5];
  size_t got = 0;
  for (int r = 0; r < 5; r++)
    {
      store_list_result res = { 0 };
      husk_error *err = NULL;
      struct timespec c0, c1;
      clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c0);
      double t0 = now_ms ();
      if (store_list (S, "pods", run_ns, 0, NULL, &res, &err) < 0)
        die ("list", err);
      runs[r] = now_ms () - t0;
      clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c1);
      cpu[r] = (double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
      got = res.n;
      store_list_result_free (&res);
    }
  qsort (runs, 5, sizeof *runs, cmp_double);
  qsort (cpu, 5, sizeof *cpu, cmp_double);
  /* cpu: the listing thread's own CPU time (the part that does not depend on other load) */
  printf ("list backend=%s n=%zu median_ms=%.1f min_ms=%.1f cpu_median_ms=%.1f\n",
          store_backend_name (S), got, runs[2], runs[0], cpu[2]);
  store_close (S);
  return 0;
}

/* ---- watch fan-out ---- */

typedef struct fan
{
  store_watch *w;
  long want;
  long got;
  double *lag;
} fan;

static double *sent_at; /* per event index */

static void *
fan_worker (void *arg)
{
  fan *f = arg;
  while (f->got < f->want)
    {
      const store_event *ev = NULL;
      husk_error *err = NULL;
      int ret = store_watch_next (f->w, 10000, &ev, &err);
      if (ret <= 0)
        die ("watch", err);
      long i = strtol (ev->name + 2, NULL, 10);
      f->lag[f->got++] = now_ms () - sent_at[i];
      store_event_unref (ev);
    }
  return NULL;
}

#define FAN_PRODUCERS 16

static void *
fan_producer (void *arg)
{
  for (;;)
    {
      long i = atomic_fetch_add (&next_op, 1);
      if (i >= total_ops)
        break;
      char name[32];
      snprintf (name, sizeof name, "f-%ld", i);
      _cleanup_free_ char *json = pod_json (run_ns, name);
      husk_error *err = NULL;
      sent_at[i] = now_ms ();
      if (store_create (S, "pods", run_ns, name, json, NULL, NULL, &err) < 0)
        die ("create", err);
    }
  return NULL;
}

static int
cmd_fanout (const char *url, const char *dir, int watchers, long events)
{
  open_store (url, dir);
  int64_t from = 0;
  husk_error *err = NULL;
  store_current_revision (S, &from, &err);
  fan *fs = xcalloc ((size_t)watchers, sizeof *fs);
  pthread_t *th = xcalloc ((size_t)watchers, sizeof *th);
  sent_at = xcalloc ((size_t)events, sizeof *sent_at);
  for (int i = 0; i < watchers; i++)
    {
      fs[i].want = events;
      fs[i].lag = xcalloc ((size_t)events, sizeof (double));
      if (store_watch_open (S, "pods", run_ns, from, &fs[i].w, &err) < 0)
        die ("watch open", err);
      pthread_create (&th[i], NULL, fan_worker, &fs[i]);
    }
  /* FAN_PRODUCERS writers create the events, so that the fan-out and not one writer's
     fsync rate is what is measured. */
  double t0 = now_ms ();
  total_ops = events;
  atomic_store (&next_op, 0);
  pthread_t prod[FAN_PRODUCERS];
  for (int i = 0; i < FAN_PRODUCERS; i++)
    pthread_create (&prod[i], NULL, fan_producer, NULL);
  for (int i = 0; i < FAN_PRODUCERS; i++)
    pthread_join (prod[i], NULL);
  for (int i = 0; i < watchers; i++)
    pthread_join (th[i], NULL);
  double wall = now_ms () - t0;
  size_t n = (size_t)watchers * (size_t)events, k = 0;
  double *all = xcalloc (n, sizeof *all);
  for (int i = 0; i < watchers; i++)
    {
      memcpy (all + k, fs[i].lag, (size_t)events * sizeof *all);
      k += (size_t)events;
      free (fs[i].lag);
      store_watch_close (fs[i].w);
    }
  qsort (all, n, sizeof *all, cmp_double);
  printf ("fanout backend=%s watchers=%d events=%ld deliveries=%zu wall_ms=%.0f "
          "deliveries_per_s=%.0f lag_p50_ms=%.2f lag_p99_ms=%.2f\n",
          store_backend_name (S), watchers, events, n, wall, (double)n / (wall / 1e3), all[n / 2],
          all[(size_t)((double)n * 0.99)]);
  free (all);
  free (fs);
  free (th);
  store_close (S);
  return 0;
}

/* ---- the disk: how long one small fdatasync takes right now ---- */

/* 200 x (a 4 KB pwrite + fdatasync) in DIR: with W writers each waiting for its own write to
   be on disk, no store can ack more than W / fsync-latency writes per second. */
static int
cmd_fsync (const char *dir)
{
  _cleanup_free_ char *path = xasprintf ("%s/fsync-probe", dir);
  int fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      perror (path);
      return 1;
    }
  char page[4096];
  memset (page, 'x', sizeof page);
  double v[200];
  for (int i = 0; i < 200; i++)
    {
      double t0 = now_ms ();
      if (pwrite (fd, page, sizeof page, (off_t)(i % 16) * 4096) != (ssize_t)sizeof page
          || fdatasync (fd) < 0)
        {
          perror (path);
          return 1;
        }
      v[i] = now_ms () - t0;
    }
  close (fd);
  unlink (path);
  qsort (v, 200, sizeof *v, cmp_double);
  printf ("fsync n=200 p50_ms=%.2f p99_ms=%.2f\n", v[100], v[198]);
  return 0;
}

/* ---- idle writes ---- */

static long long
write_bytes (void)
{
  FILE *f = fopen ("/proc/self/io", "r");
  char line[128];
  long long v = -1;
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "write_bytes: %lld", &v) == 1)
      break;
  if (f)
    fclose (f);
  return v;
}

static int
cmd_idle (const char *dir, long objects, int seconds)
{
  open_store ("sqlite", dir);
  total_ops = objects;
  lat ls[4] = { 0 };
  pthread_t th[4];
  for (int i = 0; i < 4; i++)
    pthread_create (&th[i], NULL, create_worker, &ls[i]);
  for (int i = 0; i < 4; i++)
    {
      pthread_join (th[i], NULL);
      free (ls[i].v);
    }
  /* Node heartbeats of an idle 3-node cluster: Lease renewals every 10 s (volatile). */
  husk_error *err = NULL;
  int64_t lrev[3] = { 0 };
  for (int i = 0; i < 3; i++)
    {
      char name[16];
      snprintf (name, sizeof name, "node-%d", i);
      _cleanup_free_ char *l = xasprintf ("{\"kind\":\"Lease\",\"metadata\":{\"name\":\"%s\"},"
                                          "\"spec\":{\"renewTime\":\"0\"}}",
                                          name);
      if (store_create (S, "leases", "kube-node-lease", name, l, NULL, &lrev[i], &err) < 0)
        die ("lease", err);
    }
  sleep (1); /* let the last commit's I/O be accounted */
  long long before = write_bytes ();
  int renewals = 0;
  for (int t = 0; t < seconds; t++)
    {
      sleep (1);
      if (t % 10 == 9)
        for (int i = 0; i < 3; i++)
          {
            char name[16];
            snprintf (name, sizeof name, "node-%d", i);
            _cleanup_free_ char *l
                = xasprintf ("{\"kind\":\"Lease\",\"metadata\":{\"name\":\"%s\"},"
                             "\"spec\":{\"renewTime\":\"%d\"}}",
                             name, t);
            if (store_update (S, "leases", "kube-node-lease", name, l, lrev[i], NULL, &lrev[i],
                              &err)
                < 0)
              die ("lease renew", err);
            renewals++;
          }
    }
  long long after = write_bytes ();
  printf ("idle objects=%ld seconds=%d lease_renewals=%d write_bytes=%lld\n", objects, seconds,
          renewals, after - before);
  store_close (S);
  return 0;
}

int
main (int argc, char **argv)
{
  snprintf (run_ns, sizeof run_ns, "bench-%ld-%d", (long)time (NULL), (int)getpid ());
  if (argc == 6 && streq (argv[1], "create"))
    return cmd_create (argv[2], argv[3], atoi (argv[4]), atol (argv[5]));
  if (argc == 5 && streq (argv[1], "rawput"))
    return cmd_rawput (argv[2], atoi (argv[3]), atol (argv[4]));
  if (argc == 5 && streq (argv[1], "list"))
    return cmd_list (argv[2], argv[3], atol (argv[4]));
  if (argc == 6 && streq (argv[1], "fanout"))
    return cmd_fanout (argv[2], argv[3], atoi (argv[4]), atol (argv[5]));
  if (argc == 3 && streq (argv[1], "fsync"))
    return cmd_fsync (argv[2]);
  if (argc == 5 && streq (argv[1], "idle"))
    return cmd_idle (argv[2], atol (argv[3]), atoi (argv[4]));
  fprintf (stderr, "usage: see the comment at the top of tests/bench/store/store-bench.c\n");
  return 2;
}
