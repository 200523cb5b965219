/* husk-cni benchmark helper.
     cni-bench lat PLUGIN CONF NETNS_PATH N   ADD+DEL latency of a CNI plugin: N pairs, one
                                             netns; prints "p50 p99 mean add_p50 del_p50" (us)
     cni-bench recv PORT                      accepts one TCP connection, drains it;
                                              prints "BYTES CPU_US" (its own user+system)
     cni-bench send HOST PORT SECONDS         streams to HOST:PORT; prints
                                              "MBIT/S BYTES CPU_US"
   Run inside the node netns (lat) or the pod netns (recv/send). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/util.h"

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time this process used (user + system), in microseconds. */
static long long
cpu_us (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000
         + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int
run_plugin (const char *plugin, const char *conf, const char *netns, const char *cmd,
            const char *id)
{
  pid_t pid = fork ();
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      int in = open (conf, O_RDONLY);
      int out = open ("/dev/null", O_WRONLY);
      if (in < 0 || out < 0)
        _exit (126);
      dup2 (in, 0);
      dup2 (out, 1);
      setenv ("CNI_COMMAND", cmd, 1);
      setenv ("CNI_CONTAINERID", id, 1);
      setenv ("CNI_NETNS", netns, 1);
      setenv ("CNI_IFNAME", "eth0", 1);
      execl (plugin, plugin, (char *)NULL);
      _exit (127);
    }
  int st;
  while (waitpid (pid, &st, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int
cmd_lat (const char *plugin, const char *conf, const char *netns, int n)
{
  double *t = xcalloc ((size_t)n, sizeof *t), sum = 0;
  double *ta = xcalloc ((size_t)n, sizeof *ta), *td = xcalloc ((size_t)n, sizeof *td);
  for (int i = -3; i < n; i++) /* three warm-up rounds */
    {
      char id[64];
      snprintf (id, sizeof id, "bench-%d", i + 3);
      double t0 = now ();
      if (run_plugin (plugin, conf, netns, "ADD", id) != 0)
        {
          fprintf (stderr, "cni-bench: %s ADD failed at round %d\n", plugin, i);
          return 1;
        }
      double t1 = now ();
      if (run_plugin (plugin, conf, netns, "DEL", id) != 0)
        {
          fprintf (stderr, "cni-bench: %s DEL failed at round %d\n", plugin, i);
          return 1;
        }
      if (i >= 0)
        {
          double t2 = now ();
          t[i] = (t2 - t0) * 1e6;
          ta[i] = (t1 - t0) * 1e6;
          td[i] = (t2 - t1) * 1e6;
          sum += t[i];
        }
    }
  qsort (t, (size_t)n, sizeof *t, cmp_double);
  qsort (ta, (size_t)n, sizeof *ta, cmp_double);
  qsort (td, (size_t)n, sizeof *td, cmp_double);
  printf ("%.0f %.0f %.0f %.0f %.0f\n", t[n / 2], t[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100],
          sum / n, ta[n / 2], td[n / 2]);
  free (t);
  free (ta);
  free (td);
  return 0;
}

static int
cmd_recv (int port)
{
  int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  setsockopt (s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
  if (bind (s, (struct sockaddr *)&a, sizeof a) < 0 || listen (s, 1) < 0)
    {
      perror ("cni-bench recv");
      return 1;
    }
  int c = accept (s, NULL, NULL);
  if (c < 0)
    return 1;
  static char buf[1 << 17];
  long long total = 0;
  ssize_t r;
  while ((r = read (c, buf, sizeof buf)) > 0)
    total += r;
  close (c);
  close (s);
  printf ("%lld %lld\n", total, cpu_us ());
  return 0;
}

static int
cmd_send (const char *host, int port, double secs)
{
  int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
  inet_pton (AF_INET, host, &a.sin_addr);
  for (int i = 0; connect (s, (struct sockaddr *)&a, sizeof a) < 0; i++)
    {
      if (i > 50)
        {
          perror ("cni-bench send: connect");
          return 1;
        }
      close (s);
      s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      usleep (100000);
    }
  static char buf[1 << 17];
  memset (buf, 'x', sizeof buf);
  long long total = 0;
  double t0 = now (), t;
  while ((t = now ()) - t0 < secs)
    {
      ssize_t w = write (s, buf, sizeof buf);
      if (w < 0)
        {
          perror ("cni-bench send: write");
          return 1;
        }
      total += w;
    }
  shutdown (s, SHUT_WR);
  char c;
  while (read (s, &c, 1) > 0) /* the receiver closes once it has read everything */
    ;
  t = now () - t0;
  printf ("%.0f %lld %lld\n", (double)total * 8 / t / 1e6, total, cpu_us ());
  close (s);
  return 0;
}

/* udp-recv PORT: counts datagrams until 1 s without one (after the first); prints
   "count cpu_us". */
static int
cmd_udp_recv (int port)
{
  int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), big = 8 << 20;
  setsockopt (s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
  if (bind (s, (struct sockaddr *)&a, sizeof a) < 0)
    {
      perror ("cni-bench udp-recv");
      return 1;
    }
  struct timeval tv = { .tv_sec = 5 };
  setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  static char buf[2048];
  long long n = 0;
  while (recv (s, buf, sizeof buf, 0) >= 0)
    {
      if (n++ == 0)
        {
          tv.tv_sec = 1;
          setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        }
    }
  printf ("%lld %lld\n", n, cpu_us ());
  return 0;
}

/* udp-send HOST PORT COUNT SIZE: COUNT datagrams of SIZE bytes as fast as send() goes
   (the forward path runs in this process's softirq); prints "kpps count cpu_us". */
static int
cmd_udp_send (const char *host, int port, long long count, int size)
{
  int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
  inet_pton (AF_INET, host, &a.sin_addr);
  if (connect (s, (struct sockaddr *)&a, sizeof a) < 0)
    {
      perror ("cni-bench udp-send: connect");
      return 1;
    }
  static char buf[2048];
  if (size < 1 || size > (int)sizeof buf)
    size = 64;
  usleep (200000); /* the receiver binds */
  double t0 = now ();
  long long cpu0 = cpu_us (), sent = 0;
  for (long long i = 0; i < count; i++)
    if (send (s, buf, (size_t)size, 0) == size)
      sent++;
  double t = now () - t0;
  printf ("%.0f %lld %lld\n", (double)sent / t / 1e3, sent, cpu_us () - cpu0);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 6 && streq (argv[1], "lat"))
    return cmd_lat (argv[2], argv[3], argv[4], atoi (argv[5]));
  if (argc == 3 && streq (argv[1], "recv"))
    return cmd_recv (atoi (argv[2]));
  if (argc == 3 && streq (argv[1], "udp-recv"))
    return cmd_udp_recv (atoi (argv[2]));
  if (argc == 6 && streq (argv[1], "udp-send"))
    return cmd_udp_send (argv[2], atoi (argv[3]), atoll (argv[4]), atoi (argv[5]));
  if (argc == 5 && streq (argv[1], "send"))
    return cmd_send (argv[2], atoi (argv[3]), atof (argv[4]));
  fprintf (stderr, "usage: cni-bench lat PLUGIN CONF NETNS N | recv PORT | send HOST PORT SECS\n");
  return 2;
}
