/* husk api benchmark: the GET phase's client. CLIENTS keep-alive HTTPS connections driven by
   one thread with epoll and GnuTLS (no libcurl): each connection sends the next GET as soon as
   the last reply is complete (a closed loop), so the client's own cost per request is a TLS
   record out, a record in and a share of one epoll_wait. The figure measures the server, not
   the client: libcurl's easy interface spent ~140 us of CPU per request, more than the master. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/api/getloop.h"

typedef struct conn
{
  int fd;
  gnutls_session_t tls;
  char buf[65536]; /* a whole reply (GETs are small; records mode reads a LIST) */
  size_t len;
  double t0;
  long idx;
  double due; /* paced mode: when the next request is to be sent */
  bool busy;  /* a request is in flight */
  char req[2048]; /* creates: the request being sent (its body names object idx) */
  /* Read-ahead for GnuTLS, which asks for a record's 5-byte header and then its body: one
     recv per reply instead of two. */
  char rbuf[32768];
  size_t roff, rlen;
  /* TLS records received (counted on the raw stream): header bytes seen of the next record,
     and the bytes left of the current one. */
  long records;
  size_t hdr_have, rec_left;
  unsigned char hdr[5];
} conn;

static void
count_records (conn *c, const unsigned char *p, size_t n)
{
  while (n > 0)
    {
      if (c->rec_left > 0)
        {
          size_t k = n < c->rec_left ? n : c->rec_left;
          c->rec_left -= k, p += k, n -= k;
          continue;
        }
      c->hdr[c->hdr_have++] = *p++, n--;
      if (c->hdr_have == 5)
        {
          c->records++;
          c->rec_left = (size_t) c->hdr[3] << 8 | c->hdr[4];
          c->hdr_have = 0;
        }
    }
}

static double
cpu_s (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec
         + ru.ru_stime.tv_usec / 1e6;
}

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "https://host:port" -> a connected TCP socket (blocking), or -1. */
static int
dial (const char *url)
{
  char host[256], port[16] = "443";
  const char *h = strstr (url, "://");
  h = h ? h + 3 : url;
  size_t hl = strcspn (h, ":/");
  if (hl >= sizeof host)
    return -1;
  memcpy (host, h, hl);
  host[hl] = '\0';
  if (h[hl] == ':')
    snprintf (port, sizeof port, "%.*s", (int) strcspn (h + hl + 1, "/"), h + hl + 1);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
  if (getaddrinfo (host, port, &hints, &ai) != 0)
    return -1;
  int fd = socket (ai->ai_family, SOCK_STREAM, 0);
  if (fd >= 0 && connect (fd, ai->ai_addr, ai->ai_addrlen) < 0)
    {
      close (fd);
      fd = -1;
    }
  freeaddrinfo (ai);
  int one = 1;
  if (fd >= 0)
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static ssize_t
pull (gnutls_transport_ptr_t p, void *data, size_t len)
{
  conn *c = p;
  if (c->roff == c->rlen)
    {
      ssize_t r = recv (c->fd, c->rbuf, sizeof c->rbuf, 0);
      if (r <= 0)
        {
          gnutls_transport_set_errno (c->tls, r < 0 ? errno : 0);
          return r;
        }
      c->roff = 0;
      c->rlen = (size_t) r;
      count_records (c, (const unsigned char *) c->rbuf, c->rlen);
    }
  size_t n = c->rlen - c->roff < len ? c->rlen - c->roff : len;
  memcpy (data, c->rbuf + c->roff, n);
  c->roff += n;
  return (ssize_t) n;
}

static ssize_t
push (gnutls_transport_ptr_t p, const void *data, size_t len)
{
  conn *c = p;
  ssize_t r = send (c->fd, data, len, MSG_NOSIGNAL);
  if (r < 0)
    gnutls_transport_set_errno (c->tls, errno);
  return r;
}

static int
conn_open (conn *c, const char *url, gnutls_certificate_credentials_t cred)
{
  c->fd = dial (url);
  if (c->fd < 0)
    return -1;
  if (gnutls_init (&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0
      || gnutls_set_default_priority (c->tls) < 0
      || gnutls_credentials_set (c->tls, GNUTLS_CRD_CERTIFICATE, cred) < 0)
    return -1;
  gnutls_transport_set_ptr (c->tls, c);
  gnutls_transport_set_pull_function (c->tls, pull);
  gnutls_transport_set_push_function (c->tls, push);
  int r;
  do
    r = gnutls_handshake (c->tls);
  while (r < 0 && !gnutls_error_is_fatal (r));
  if (r < 0)
    {
      fprintf (stderr, "getloop: TLS handshake: %s\n", gnutls_strerror (r));
      return -1;
    }
  fcntl (c->fd, F_SETFL, fcntl (c->fd, F_GETFL) | O_NONBLOCK);
  return 0;
}

static int
send_all (conn *c, const char *req, size_t n)
{
  size_t off = 0;
  while (off < n)
    {
      ssize_t w = gnutls_record_send (c->tls, req + off, n - off);
      if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
        continue; /* a few hundred bytes: the socket buffer is never full for long */
      if (w < 0)
        return -1;
      off += (size_t) w;
    }
  return 0;
}

/* 1 when c->buf holds a whole 2xx reply (headers + Content-Length bytes), 2 for a whole reply
   of another status, 0 if not yet, -1 if it cannot be framed (no Content-Length, too big). */
static int
reply_complete (conn *c)
{
  c->buf[c->len < sizeof c->buf ? c->len : sizeof c->buf - 1] = '\0';
  char *end = strstr (c->buf, "\r\n\r\n");
  if (end == NULL)
    return c->len + 1 >= sizeof c->buf ? -1 : 0;
  const char *cl = strcasestr (c->buf, "\r\ncontent-length:");
  if (cl == NULL || cl > end)
    return -1;
  size_t want = (size_t) (end + 4 - c->buf) + strtoul (cl + 17, NULL, 10);
  if (want >= sizeof c->buf)
    return -1;
  if (c->len < want)
    return 0;
  return strncmp (c->buf, "HTTP/1.1 2", 10) == 0 ? 1 : 2;
}

/* Sends the next request on c; paced, its latency counts from when it was due (a request
   that could not leave on time because the server was slow still pays for the wait). */
/* The request to send: the fixed one, or for creates (body_fmt set) a POST of the body with
   the request's index formatted into it, so that every object has a name of its own. */
static const char *body_fmt, *post_head;

static size_t
request_for (conn *c, const char *req, size_t n)
{
  if (body_fmt == NULL)
    return n;
  char body[1024];
  const char *at = strstr (body_fmt, "%ld");
  int b = snprintf (body, sizeof body, "%.*s%ld%s", (int) (at - body_fmt), body_fmt, c->idx,
                    at + 3);
  int m = snprintf (c->req, sizeof c->req, "%sContent-Length: %d\r\n\r\n%s", post_head, b, body);
  return (size_t) m;
}

static int
launch (conn *c, long *next, const char *req, size_t n, double rate)
{
  c->idx = (*next)++;
  size_t len = request_for (c, req, n);
  c->t0 = rate > 0 ? c->due : now_s ();
  c->busy = true;
  return send_all (c, body_fmt ? c->req : req, len);
}

/* Paced mode: sends what is due on idle connections; returns the epoll timeout (ms) to the
   next due request. */
static int
launch_due (conn *cs, int clients, long *next, long count, const char *req, size_t n,
            double rate, double interval)
{
  double now = now_s (), first = now + 10;
  for (int k = 0; k < clients && *next < count; k++)
    {
      if (cs[k].busy)
        continue;
      if (cs[k].due <= now)
        {
          if (launch (&cs[k], next, req, n, rate) < 0)
            return -2;
          cs[k].due += interval;
        }
      else if (cs[k].due < first)
        first = cs[k].due;
    }
  return first <= now ? 0 : (int) ((first - now) * 1000) + 1;
}

/* A GET's whole request, or a create's head up to its Content-Length (post_head points at
   it); returns its length. */
static int
request_head (char *req, size_t size, const char *url, const char *token, const char *path)
{
  const char *h = strstr (url, "://");
  h = h ? h + 3 : url;
  post_head = req;
  return snprintf (req, size,
                   "%s %s HTTP/1.1\r\nHost: %.*s\r\nUser-Agent: api-bench\r\n"
                   "Accept: application/json\r\nAuthorization: Bearer %s\r\n%s",
                   body_fmt ? "POST" : "GET", path, (int) strcspn (h, "/"), h, token,
                   body_fmt ? "Content-Type: application/json\r\n" : "\r\n");
}

int
getloop_run (const char *url, const char *token, const char *path, int clients, long count,
             double rate, double *lat, double *elapsed, double *cpu, long *errors)
{
  char req[2048];
  int n = request_head (req, sizeof req, url, token, path);
  gnutls_certificate_credentials_t cred;
  gnutls_global_init ();
  gnutls_certificate_allocate_credentials (&cred);
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t) clients + 64)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
  conn *cs = calloc ((size_t) clients, sizeof *cs);
  int ep = epoll_create1 (0);
  for (int k = 0; k < clients; k++)
    {
      if (conn_open (&cs[k], url, cred) < 0)
        {
          fprintf (stderr, "getloop: cannot connect to %s\n", url);
          return -1;
        }
      struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[k]};
      epoll_ctl (ep, EPOLL_CTL_ADD, cs[k].fd, &ev);
    }
  long next = 0, done = 0;
  *errors = 0;
  double t_start = now_s (), c_start = cpu_s ();
  /* Paced: connection k sends at t_start + (k / clients + j) x interval, j = 0, 1, ... */
  double interval = rate > 0 ? clients / rate : 0;
  for (int k = 0; k < clients; k++)
    cs[k].due = t_start + interval * k / clients;
  for (int k = 0; rate <= 0 && k < clients && next < count; k++)
    if (launch (&cs[k], &next, req, (size_t) n, rate) < 0)
      return -1;
  struct epoll_event evs[256];
  double last_reply = now_s ();
  while (done < count)
    {
      int timeout = 1000;
      if (rate > 0 && (timeout = launch_due (cs, clients, &next, count, req, (size_t) n, rate,
                                             interval))
                          < -1)
        return -1;
      int m = epoll_wait (ep, evs, 256, timeout);
      if (m > 0)
        last_reply = now_s ();
      if (m == 0 && now_s () - last_reply > 10)
        {
          fprintf (stderr, "getloop: no reply for 10 s (%ld of %ld done)\n", done, count);
          return -1;
        }
      if (m < 0)
        m = 0;
      for (int e = 0; e < m; e++)
        {
          conn *c = evs[e].data.ptr;
          int st = 0;
          do
            {
              ssize_t r = gnutls_record_recv (c->tls, c->buf + c->len, sizeof c->buf - 1 - c->len);
              if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
                break;
              if (r <= 0)
                {
                  fprintf (stderr, "getloop: connection closed: %s\n",
                           r ? gnutls_strerror ((int) r) : "EOF");
                  return -1;
                }
              c->len += (size_t) r;
              st = reply_complete (c);
            }
          while (st == 0 && (gnutls_record_check_pending (c->tls) > 0 || c->roff < c->rlen));
          if (st == 0)
            continue;
          lat[c->idx] = now_s () - c->t0;
          if (st < 0)
            {
              fprintf (stderr, "getloop: cannot frame the reply: %.200s\n", c->buf);
              return -1;
            }
          if (st == 2)
            {
              if (*errors == 0)
                fprintf (stderr, "getloop: bad reply: %.200s\n", c->buf);
              (*errors)++;
            }
          c->len = 0;
          c->busy = false;
          done++;
          if (rate <= 0 && next < count && launch (c, &next, req, (size_t) n, rate) < 0)
            return -1;
        }
    }
  *elapsed = now_s () - t_start;
  *cpu = cpu_s () - c_start;
  for (int k = 0; k < clients; k++)
    {
      gnutls_bye (cs[k].tls, GNUTLS_SHUT_WR);
      gnutls_deinit (cs[k].tls);
      close (cs[k].fd);
    }
  close (ep);
  free (cs);
  gnutls_certificate_free_credentials (cred);
  return 0;
}

int
getloop_create (const char *url, const char *token, const char *path, const char *fmt,
                int clients, long count, double *lat, double *elapsed, double *cpu,
                long *errors)
{
  body_fmt = fmt;
  int ret = getloop_run (url, token, path, clients, count, 0, lat, elapsed, cpu, errors);
  body_fmt = NULL;
  return ret;
}

/* Reads one whole reply on c (blocking socket). 1 for 2xx, 2 other, -1 on error. */
static int
read_reply (conn *c)
{
  int st = 0;
  c->len = 0;
  while (st == 0)
    {
      ssize_t r = gnutls_record_recv (c->tls, c->buf + c->len, sizeof c->buf - 1 - c->len);
      if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
        {
          struct pollfd p = {c->fd, POLLIN, 0};
          if (poll (&p, 1, 10000) <= 0)
            return -1;
          continue;
        }
      if (r <= 0)
        return -1;
      c->len += (size_t) r;
      st = reply_complete (c);
    }
  return st;
}

long
getloop_records (const char *url, const char *token, const char *path)
{
  char req[2048];
  int n = request_head (req, sizeof req, url, token, path);
  gnutls_certificate_credentials_t cred;
  gnutls_global_init ();
  gnutls_certificate_allocate_credentials (&cred);
  conn *c = calloc (1, sizeof *c);
  long per = -1;
  if (conn_open (c, url, cred) < 0)
    return -1;
  /* The first replies also carry TLS 1.3 session tickets: count from the third on. */
  for (int i = 0; i < 3; i++)
    {
      long before = c->records;
      if (send_all (c, req, (size_t) n) < 0 || read_reply (c) != 1)
        {
          fprintf (stderr, "getloop: GET %s failed: %.200s\n", path, c->buf);
          return -1;
        }
      per = c->records - before;
    }
  gnutls_bye (c->tls, GNUTLS_SHUT_WR);
  gnutls_deinit (c->tls);
  close (c->fd);
  free (c);
  gnutls_certificate_free_credentials (cred);
  return per;
}
