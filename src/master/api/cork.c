/* husk api: a small buffered reply goes out as one TLS record.

   libmicrohttpd writes a reply's header and its body with two gnutls_record_send calls: two
   TLS records, two encryptions, two sendmsg (and the client decrypts two records). For a
   GET that is a fifth of the work per request. While the GnuTLS session is corked, both
   writes only append to GnuTLS's buffer (and report success), so the reply leaves in one
   record when the completion callback uncorks it. That callback runs in the connection's
   thread right after libmicrohttpd thinks the reply went out and before it reads the next
   request (thread per connection), so the client never waits on a held reply. Large replies
   (LISTs) are not corked: they are records of 16 KiB anyway, and a corked buffer would hold
   the whole body. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "src/master/api/cork.h"

#define CORK_MAX_BODY ((size_t) 12 * 1024) /* header + body fit in one 16 KiB record */

static gnutls_session_t
session_of (api_req *r)
{
  const union MHD_ConnectionInfo *ci
      = MHD_get_connection_info (r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  return ci ? (gnutls_session_t) ci->tls_session : NULL;
}

void
api_cork_reply (api_req *r, size_t len)
{
  if (r->plain || len > CORK_MAX_BODY)
    return;
  gnutls_session_t s = session_of (r);
  if (s == NULL)
    return;
  gnutls_record_cork (s);
  r->corked = true;
}

void
api_cork_flush (api_req *r)
{
  if (!r->corked)
    return;
  r->corked = false;
  gnutls_session_t s = session_of (r);
  const union MHD_ConnectionInfo *fi
      = MHD_get_connection_info (r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (s == NULL || fi == NULL)
    return;
  int fd = fi->connect_fd;
  /* The socket is non-blocking: wait for room (a few KiB into an idle socket: rarely) but
     never for long; a client that stops reading is dropped by the connection timeout. */
  int ret;
  for (int tries = 0; tries < 30; tries++)
    {
      ret = gnutls_record_uncork (s, 0);
      if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED)
        break;
      struct pollfd p = {fd, POLLOUT, 0};
      poll (&p, 1, 1000);
    }
  /* libmicrohttpd sets TCP_CORK before the first reply of a connection and from then on
     believes it set (it pushes with TCP_NODELAY after its writes, which came before this
     one): turn it off once, which pushes the record out, and the socket sends at once from
     then on. A thread serves one connection (thread per connection), so a thread-local
     remembers it. */
  static __thread int uncorked_fd = -1;
  if (uncorked_fd != fd)
    {
      int off = 0;
      setsockopt (fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
      uncorked_fd = fd;
    }
}
