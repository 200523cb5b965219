/* lib/sockio: the socket and TLS byte loops of upgraded connections, over a non-blocking
   socketpair (so that every "not ready yet" path is taken) with and without a GnuTLS session
   (anonymous credentials: the loops do not care how the peer was authenticated). */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/sockio.h"
#include "lib/util.h"
#include "tests/unit/tap.h"

#define BIG (3 * 1024 * 1024 + 17) /* far more than a socket buffer holds */

typedef struct end
{
  int fd;
  gnutls_session_t tls;
  const unsigned char *data; /* what the writer sends */
  int ret;
} end;

static void *
writer (void *arg)
{
  end *e = arg;
  e->ret = husk_sockio_write_all (e->fd, e->tls, e->data, BIG);
  if (e->tls)
    gnutls_bye (e->tls, GNUTLS_SHUT_WR);
  else
    shutdown (e->fd, SHUT_WR);
  return NULL;
}

/* Reads until the end of the stream; returns how many bytes matched want, -1 on an error. */
static long
read_all (end *e, const unsigned char *want)
{
  unsigned char buf[7000];
  long got = 0;
  for (;;)
    {
      ssize_t n = husk_sockio_read (e->fd, e->tls, buf, sizeof buf);
      if (n < 0)
        return -1;
      if (n == 0)
        return got;
      if (got + n > BIG || memcmp (buf, want + got, (size_t) n) != 0)
        return -1;
      got += n;
    }
}

static void
nonblocking_pair (int sv[2])
{
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    abort ();
  for (int i = 0; i < 2; i++)
    fcntl (sv[i], F_SETFL, fcntl (sv[i], F_GETFL) | O_NONBLOCK);
}

static void
plain (const unsigned char *data)
{
  int sv[2];
  nonblocking_pair (sv);
  end w = { .fd = sv[0], .data = data }, r = { .fd = sv[1] };
  pthread_t th;
  pthread_create (&th, NULL, writer, &w);
  long got = read_all (&r, data);
  pthread_join (th, NULL);
  is_int (w.ret, 0, "plain: the writer got everything out of a full non-blocking socket");
  is_int (got, BIG, "plain: the reader got every byte in order, then 0 at the end");
  close (sv[0]);
  ok (husk_sockio_write_all (sv[1], NULL, "x", 1) < 0, "plain: writing to a closed peer fails");
  close (sv[1]);
}

typedef struct tls_pair
{
  gnutls_session_t s[2];
  gnutls_anon_server_credentials_t sc;
  gnutls_anon_client_credentials_t cc;
} tls_pair;

static void *
handshake (void *arg)
{
  gnutls_session_t s = arg;
  int rc;
  do
    rc = gnutls_handshake (s);
  while (rc < 0 && !gnutls_error_is_fatal (rc));
  return (void *) (intptr_t) rc;
}

static int
tls_setup (tls_pair *p, int sv[2])
{
  gnutls_anon_allocate_server_credentials (&p->sc);
  gnutls_anon_allocate_client_credentials (&p->cc);
  gnutls_init (&p->s[0], GNUTLS_SERVER | GNUTLS_NONBLOCK);
  gnutls_init (&p->s[1], GNUTLS_CLIENT | GNUTLS_NONBLOCK);
  for (int i = 0; i < 2; i++)
    {
      gnutls_priority_set_direct (p->s[i], "NORMAL:-VERS-TLS1.3:+ANON-ECDH", NULL);
      gnutls_transport_set_int (p->s[i], sv[i]);
    }
  gnutls_credentials_set (p->s[0], GNUTLS_CRD_ANON, p->sc);
  gnutls_credentials_set (p->s[1], GNUTLS_CRD_ANON, p->cc);
  pthread_t th;
  void *srv = NULL;
  pthread_create (&th, NULL, handshake, p->s[0]);
  intptr_t cli = (intptr_t) handshake (p->s[1]);
  pthread_join (th, &srv);
  return cli < 0 || (intptr_t) srv < 0 ? -1 : 0;
}

static void
tls (const unsigned char *data)
{
  int sv[2];
  nonblocking_pair (sv);
  tls_pair p = { 0 };
  if (!ok (tls_setup (&p, sv) == 0, "tls: anonymous handshake over the socketpair"))
    return;
  end w = { .fd = sv[0], .tls = p.s[0], .data = data }, r = { .fd = sv[1], .tls = p.s[1] };
  pthread_t th;
  pthread_create (&th, NULL, writer, &w);
  long got = read_all (&r, data);
  pthread_join (th, NULL);
  is_int (w.ret, 0, "tls: the writer got everything out through the session");
  is_int (got, BIG, "tls: the reader got every byte in order, then 0 at close_notify");

  /* One record, read a byte at a time: the rest waits in the session, unseen by poll. */
  ok (!husk_sockio_pending (p.s[0]) && !husk_sockio_pending (NULL), "nothing pending at rest");
  husk_sockio_write_all (sv[1], p.s[1], "hello", 5);
  char c = 0;
  ok (husk_sockio_read (sv[0], p.s[0], &c, 1) == 1 && c == 'h' && husk_sockio_pending (p.s[0]),
      "tls: the rest of a record is pending after a short read");

  /* The peer's socket closes without close_notify: an end of stream, not an error. */
  char rest[8];
  husk_sockio_read (sv[0], p.s[0], rest, sizeof rest);
  close (sv[1]);
  is_int (husk_sockio_read (sv[0], p.s[0], rest, sizeof rest), 0,
          "tls: a peer gone without close_notify reads as the end");
  for (int i = 0; i < 2; i++)
    gnutls_deinit (p.s[i]);
  gnutls_anon_free_server_credentials (p.sc);
  gnutls_anon_free_client_credentials (p.cc);
  close (sv[0]);
}

int
main (void)
{
  signal (SIGPIPE, SIG_IGN); /* as the daemons do: a gone peer is an error return */
  unsigned char *data = xmalloc (BIG);
  for (size_t i = 0; i < BIG; i++)
    data[i] = (unsigned char) (i * 131 + i / 977);
  plain (data);
  tls (data);
  free (data);
  return tap_done ();
}
