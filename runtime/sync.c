/* husk runtime: messages between the runtime and the container's setup processes over a
   SOCK_SEQPACKET pair (one datagram = one message: type byte + payload). */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>

#include "runtime/internal.h"

int
rt_sync_send (int fd, int type, const char *payload, size_t len)
{
  _cleanup_free_ char *buf = xmalloc (len + 1);
  buf[0] = (char) type;
  if (len)
    memcpy (buf + 1, payload, len);
  ssize_t w;
  do
    w = send (fd, buf, len + 1, MSG_NOSIGNAL);
  while (w < 0 && errno == EINTR);
  return w == (ssize_t) (len + 1) ? 0 : -errno;
}

int
rt_sync_recv (int fd, char **payload)
{
  char peek;
  ssize_t n;
  do
    n = recv (fd, &peek, 1, MSG_PEEK | MSG_TRUNC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  if (n == 0)
    return 0;
  char *buf = xmalloc ((size_t) n + 1);
  do
    n = recv (fd, buf, (size_t) n, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    {
      free (buf);
      return n == 0 ? 0 : -errno;
    }
  int type = (unsigned char) buf[0];
  memmove (buf, buf + 1, (size_t) n - 1);
  buf[n - 1] = '\0';
  if (payload)
    *payload = buf;
  else
    free (buf);
  return type;
}

int
rt_sync_send_fd (int sock, int fd)
{
  char data = 0;
  struct iovec iov = {&data, 1};
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof fd);
  return sendmsg (sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

void
rt_child_fail (int sync_fd, husk_error *err)
{
  const char *msg = err && err->msg ? err->msg : "container setup failed";
  rt_sync_send (sync_fd, RT_MSG_ERROR, msg, strlen (msg));
  _exit (1);
}
