/* husk: blocking byte-stream I/O on a socket, through a GnuTLS session when there is one:
   the read/write loops of both ends of an upgraded connection (exec, attach, port-forward)
   in the master's node proxy and in the node API. */
#ifndef HUSK_SOCKIO_H
#define HUSK_SOCKIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>

/* Writes all len bytes to fd, or through tls when it is not NULL (fd is then the session's
   socket). A non-blocking socket that is full is waited for. Returns 0, or -1 when the
   peer is gone or the session failed. */
int husk_sockio_write_all (int fd, gnutls_session_t tls, const void *data, size_t len);

/* Reads what is there, waiting when nothing is yet. Returns > 0 bytes, 0 at end of stream
   (a TLS peer that closes without close_notify counts as an end), -1 on an error. */
ssize_t husk_sockio_read (int fd, gnutls_session_t tls, void *buf, size_t len);

/* Bytes the session has already decrypted: poll() on the socket does not see them. False
   without a session. */
bool husk_sockio_pending (gnutls_session_t tls);

#endif
