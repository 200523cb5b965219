/* husk api: the local listener of the in-process clients (local.h).

   The scheduler, the controllers and leader election used to reach the API over loopback
   HTTPS: per connection a GnuTLS session on both ends, a trust list parsed from the CA file,
   curl's TLS buffers. Here they reach the same handlers over a Unix socket without TLS. What
   a request may do does not change: it still presents the admin token (the identity these
   clients had on the HTTPS port) and goes through the same authentication, admission and
   handlers. The socket is for this process only: the file is 0600 in the 0700 data dir, and a
   peer whose pid is not ours is dropped before its first request is handled. */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "lib/log.h"
#include "src/master/api/api-internal.h"
#include "src/master/api/local.h"

struct api_local
{
  api_server *srv;
  struct MHD_Daemon *daemon;
  int fd;
  char *path;
};

/* The peer of conn is this process (pid and effective uid). */
static bool
peer_is_self (struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *fi
      = MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (fi == NULL || getsockopt (fi->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    return false;
  return cred.pid == getpid () && cred.uid == geteuid ();
}

static enum MHD_Result
on_local_request (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                  const char *version, const char *upload_data, size_t *upload_data_size,
                  void **con_cls)
{
  api_local *l = cls;
  if (*con_cls == NULL && !peer_is_self (conn))
    {
      log_warn ("api: local socket: a client other than this process, closed", "path", l->path);
      return MHD_NO;
    }
  return api_server_on_request (l->srv, conn, url, method, version, upload_data,
                                upload_data_size, con_cls);
}

static void
on_local_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
  api_local *l = cls;
  api_server_on_completed (l->srv, conn, con_cls, toe);
}

/* A listening AF_UNIX socket at path, mode 0600. Between bind and chmod the file has the
   umask's mode, inside the data dir the master makes 0700; a peer that got in then would still
   be dropped by peer_is_self and need the token. */
static int
listen_unix (const char *path, int *out, husk_error **err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof sa.sun_path)
    return husk_err (err, ENAMETOOLONG, "local socket %s: path longer than %zu bytes", path,
                     sizeof sa.sun_path - 1);
  strcpy (sa.sun_path, path);
  if (unlink (path) < 0 && errno != ENOENT)
    return husk_err_sys (err, errno, "local socket %s: remove the old one", path);
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return husk_err_sys (err, errno, "local socket %s", path);
  if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    return husk_err_sys (err, errno, "local socket %s: bind", path);
  if (chmod (path, 0600) < 0 || listen (fd, 64) < 0)
    {
      int e = errno;
      unlink (path);
      return husk_err_sys (err, e, "local socket %s", path);
    }
  *out = TAKE_FD (fd);
  return 0;
}

/* Thread per connection as the HTTPS daemon (handlers block: watches, group commit). 8 KiB
   connection pools (16 on the HTTPS port): our own clients send small headers, bodies are
   read through the pool in pieces (a 75 KB Deployment's ReplicaSet and pods written fine),
   and 25 idle connections keep 0.2 MB less. */
static struct MHD_Daemon *
start_daemon (api_local *l)
{
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD
                   | MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
  return MHD_start_daemon (flags, 0, NULL, NULL, on_local_request, l, MHD_OPTION_LISTEN_SOCKET,
                           l->fd, MHD_OPTION_NOTIFY_COMPLETED, on_local_completed, l,
                           MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 600,
                           MHD_OPTION_THREAD_STACK_SIZE, (size_t) (512 * 1024),
                           MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) (8 * 1024),
                           MHD_OPTION_CONNECTION_LIMIT, (unsigned) 256, MHD_OPTION_END);
}

int
api_local_start (api_server *srv, const char *data_dir, api_local **out, husk_error **err)
{
  api_local *l = xzalloc (sizeof *l);
  l->srv = srv;
  l->fd = -1;
  l->path = xasprintf ("%s/api.sock", data_dir);
  int ret = listen_unix (l->path, &l->fd, err);
  if (ret < 0)
    {
      api_local_stop (l);
      return ret;
    }
  l->daemon = start_daemon (l);
  if (l->daemon == NULL)
    {
      api_local_stop (l);
      return husk_err (err, EIO, "local socket %s: cannot start serving", l->path);
    }
  log_info ("api server listening for in-process clients", "socket", l->path);
  *out = l;
  return 0;
}

const char *
api_local_path (const api_local *l)
{
  return l->path;
}

void
api_local_stop (api_local *l)
{
  if (l == NULL)
    return;
  /* libmicrohttpd closes a listening socket it was given. */
  if (l->daemon)
    MHD_stop_daemon (l->daemon);
  else if (l->fd >= 0)
    close (l->fd);
  if (l->fd >= 0)
    unlink (l->path);
  free (l->path);
  free (l);
}
