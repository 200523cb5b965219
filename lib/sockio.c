#include "config.h"

#include "lib/sockio.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

/* Waits (at most a second, then the caller tries again) until fd is ready for events. */
static void
wait_fd (int fd, short events)
{
  struct pollfd pf = { fd, events, 0 };
  poll (&pf, 1, 1000);
}

/* Did the last call only fail for now (interrupted, or a non-blocking socket not ready)? */
static bool
again (gnutls_session_t tls, ssize_t n)
{
  if (tls)
    return n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED;
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
}

int
husk_sockio_write_all (int fd, gnutls_session_t tls, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t n = tls ? gnutls_record_send (tls, p, len) : write (fd, p, len);
      if (again (tls, n))
        {
          wait_fd (fd, POLLOUT);
          continue;
        }
      if (n <= 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

ssize_t
husk_sockio_read (int fd, gnutls_session_t tls, void *buf, size_t len)
{
  for (;;)
    {
      ssize_t n = tls ? gnutls_record_recv (tls, buf, len) : read (fd, buf, len);
      if (again (tls, n))
        {
          wait_fd (fd, POLLIN);
          continue;
        }
      if (tls && n == GNUTLS_E_PREMATURE_TERMINATION)
        return 0;
      return n < 0 ? -1 : n;
    }
}

bool
husk_sockio_pending (gnutls_session_t tls)
{
  return tls && gnutls_record_check_pending (tls) > 0;
}
