/* husk node API: GET /containerLogs/{ns}/{pod}/{container} (and .../{pod}/{uid}/{container})
   from the CRI log files: follow, tailLines, sinceSeconds, sinceTime, timestamps, previous,
   limitBytes, stream. A follow streams through a pipe fed by a thread until the client
   leaves or the container stops. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>

#include "lib/json.h"
#include "runtime/runtime.h"
#include "src/node/agent/crilog.h"
#include "src/node/nodeapi/nodeapi-internal.h"

static enum MHD_Result
add_arg (void *ud, enum MHD_ValueKind kind, const char *key, const char *value)
{
  (void) kind;
  husk_buf *b = ud;
  if (b->len)
    husk_buf_putc (b, '&');
  husk_buf_put_urlencoded (b, key);
  husk_buf_putc (b, '=');
  husk_buf_put_urlencoded (b, value ? value : "");
  return MHD_YES;
}

int
nodeapi_log_restarts (const char *dir, long *cur, long *prev)
{
  DIR *d = opendir (dir);
  *cur = *prev = -1;
  if (d == NULL)
    return -1;
  struct dirent *e;
  while ((e = readdir (d)))
    {
      char *end;
      long n = strtol (e->d_name, &end, 10);
      if (end == e->d_name || !streq (end, ".log") || n < 0)
        continue;
      if (n > *cur)
        *prev = *cur, *cur = n;
      else if (n > *prev && n != *cur)
        *prev = n;
    }
  closedir (d);
  return 0;
}

typedef struct follow
{
  char *path, *rt_root, *ctr_id;
  agent_log_opts opts;
  int fd;
} follow;

static bool
ctr_gone (void *ud)
{
  follow *f = ud;
  _cleanup_json_ json_t *st = NULL;
  if (rt_container_state (f->rt_root, f->ctr_id, &st, NULL) < 0)
    return true;
  const char *s = husk_json_path_str (st, "status");
  return s == NULL || !streq (s, "running");
}

static int
to_pipe (void *ud, const char *data, size_t len)
{
  follow *f = ud;
  return nodeapi_write_all (f->fd, data, len);
}

static void *
follow_main (void *ud)
{
  follow *f = ud;
  agent_log_read (f->path, &f->opts, to_pipe, f, NULL);
  close (f->fd);
  free (f->path), free (f->rt_root), free (f->ctr_id);
  free (f);
  return NULL;
}

static enum MHD_Result
stream_follow (nodeapi *s, struct MHD_Connection *c, const char *path, const char *uid,
               const char *ctr, const agent_log_opts *o)
{
  int fds[2];
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return nodeapi_reply_status (c, 500, "InternalError", "pipe: %s", strerror (errno));
  follow *f = xzalloc (sizeof *f);
  f->path = xstrdup (path);
  f->rt_root = xstrdup (s->rt_root);
  f->ctr_id = xasprintf ("%s-%s", uid, ctr);
  f->opts = *o;
  f->opts.stop = ctr_gone;
  f->opts.stop_ud = f;
  f->fd = fds[1];
  pthread_t t;
  if (pthread_create (&t, NULL, follow_main, f) != 0)
    {
      close (fds[0]), close (fds[1]);
      free (f->path), free (f->rt_root), free (f->ctr_id), free (f);
      return nodeapi_reply_status (c, 500, "InternalError", "cannot start the log reader");
    }
  pthread_detach (t);
  struct MHD_Response *r = MHD_create_response_from_pipe (fds[0]);
  MHD_add_response_header (r, "Content-Type", "text/plain");
  enum MHD_Result ret = MHD_queue_response (c, 200, r);
  MHD_destroy_response (r);
  return ret;
}

static int
to_buf (void *ud, const char *data, size_t len)
{
  husk_buf_append (ud, data, len);
  return 0;
}

enum MHD_Result
nodeapi_logs (nodeapi *s, struct MHD_Connection *c, char **parts, size_t n)
{
  if (n != 4 && n != 5)
    return nodeapi_reply_status (c, 404, "NotFound",
                                 "use /containerLogs/{namespace}/{pod}/{container}");
  const char *ns = parts[1], *pod = parts[2], *ctr = parts[n - 1];
  const char *want_uid = n == 5 ? parts[3] : NULL;
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *uid = NULL, *dir = NULL, *container = NULL;
  _cleanup_buf_ husk_buf q = HUSK_BUF_INIT;
  MHD_get_connection_values (c, MHD_GET_ARGUMENT_KIND, add_arg, &q);
  agent_log_opts o = AGENT_LOG_OPTS_INIT;
  bool previous = false;
  if (agent_log_opts_from_query (husk_buf_str (&q), &o, &previous, &container, &err) < 0
      || nodeapi_pod_uid (s, ns, pod, want_uid, &uid, &err) < 0
      || agent_log_dir (s->log_dir, ns, pod, uid, ctr, &dir, &err) < 0)
    return nodeapi_reply_error (c, err);
  long cur, prev;
  if (nodeapi_log_restarts (dir, &cur, &prev) < 0 || cur < 0)
    return nodeapi_reply_status (c, 404, "NotFound",
                                 "container \"%s\" in pod \"%s\" has no logs on this node", ctr,
                                 pod);
  if (previous && prev < 0)
    return nodeapi_reply_status (c, 400, "BadRequest",
                                 "previous terminated container \"%s\" in pod \"%s\" not found",
                                 ctr, pod);
  _cleanup_free_ char *path = agent_log_path (dir, (unsigned) (previous ? prev : cur));
  if (o.follow && !previous)
    return stream_follow (s, c, path, uid, ctr, &o);
  o.follow = false;
  husk_buf out = HUSK_BUF_INIT;
  if (agent_log_read (path, &o, to_buf, &out, &err) < 0)
    {
      husk_buf_free (&out);
      return nodeapi_reply_error (c, err);
    }
  size_t len = out.len;
  return nodeapi_reply (c, 200, "text/plain", husk_buf_steal (&out), len);
}
