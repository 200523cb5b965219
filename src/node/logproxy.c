/* husk node: pods/<name>/log answered from this node's CRI log files, for a master that
   shares the host with its node (`husk up`): the API server's pod_proxy hook. Query
   parameters as kubelet takes them: container, follow, previous, tailLines, sinceSeconds,
   sinceTime, timestamps, limitBytes. A follow streams through a pipe fed by a thread
   until the client leaves. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "src/node/agent/crilog.h"
#include "src/node/nodeapi/reply.h"
#include "src/node/node.h"

static int
to_buf (void *ud, const char *data, size_t len)
{
  husk_buf_append (ud, data, len);
  return 0;
}

typedef struct follow
{
  char *path;
  agent_log_opts opts;
  int fd;
} follow;

static int
to_pipe (void *ud, const char *data, size_t len)
{
  follow *f = ud;
  while (len > 0)
    {
      ssize_t n = write (f->fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1; /* the client left */
      data += n;
      len -= (size_t) n;
    }
  return 0;
}

static void *
follow_main (void *ud)
{
  follow *f = ud;
  agent_log_read (f->path, &f->opts, to_pipe, f, NULL);
  close (f->fd);
  free (f->path);
  free (f);
  return NULL;
}

/* The status entry of container name (regular or init), or NULL. */
static json_t *
ctr_status (json_t *pod, const char *name)
{
  static const char *const lists[] = {"status.containerStatuses", "status.initContainerStatuses"};
  for (size_t l = 0; l < 2; l++)
    {
      size_t i;
      json_t *s;
      json_array_foreach (husk_json_path (pod, lists[l]), i, s)
      {
        const char *n = json_string_value (json_object_get (s, "name"));
        if (n && streq (n, name))
          return s;
      }
    }
  return NULL;
}

int
node_pod_log_proxy (void *cls, struct MHD_Connection *conn, const char *method, const char *ns,
                    const char *pod, const char *subresource, const char *pod_json)
{
  const char *log_dir = cls;
  if (!streq (subresource, "log"))
    return nodeapi_reply_status (conn, 501, "NotImplemented",
                                 "pods/%s is not implemented by this node yet", subresource);
  if (!streq (method, "GET"))
    return nodeapi_reply_status (conn, 405, "MethodNotAllowed", "pods/log takes GET");
  _cleanup_json_ json_t *p = json_loads (pod_json, 0, NULL);
  const char *uid = husk_json_path_str (p, "metadata.uid");
  const char *ctr = nodeapi_arg (conn, "container");
  json_t *ctrs = husk_json_path (p, "spec.containers");
  if (ctr == NULL || *ctr == '\0')
    {
      if (json_array_size (ctrs) != 1)
        {
          husk_buf names = HUSK_BUF_INIT;
          size_t i;
          json_t *c;
          json_array_foreach (ctrs, i, c)
          husk_buf_printf (&names, "%s%s", i ? " " : "",
                           json_string_value (json_object_get (c, "name")));
          enum MHD_Result r = nodeapi_reply_status (
              conn, 400, "BadRequest",
              "a container name must be specified for pod %s, choose one of: [%s]", pod,
              husk_buf_str (&names));
          husk_buf_free (&names);
          return r;
        }
      ctr = husk_json_path_str (json_array_get (ctrs, 0), "name");
    }
  json_t *st = ctr ? ctr_status (p, ctr) : NULL;
  if (uid == NULL || st == NULL)
    return nodeapi_reply_status (
        conn, 400, "BadRequest",
        "container \"%s\" in pod \"%s\" is waiting to start: ContainerCreating", ctr ? ctr : "",
        pod);
  json_int_t restarts = json_integer_value (json_object_get (st, "restartCount"));
  if (nodeapi_arg_true (conn, "previous"))
    {
      if (restarts == 0)
        return nodeapi_reply_status (conn, 400, "BadRequest",
                                     "previous terminated container \"%s\" in pod \"%s\" not found",
                                     ctr, pod);
      restarts--;
    }
  _cleanup_free_ char *dir = NULL;
  if (agent_log_dir (log_dir, ns, pod, uid, ctr, &dir, NULL) < 0)
    return nodeapi_reply_status (conn, 400, "BadRequest", "bad container name");
  _cleanup_free_ char *path = agent_log_path (dir, (unsigned) restarts);
  agent_log_opts o = AGENT_LOG_OPTS_INIT;
  const char *v;
  if ((v = nodeapi_arg (conn, "tailLines")))
    o.tail_lines = atoll (v);
  if ((v = nodeapi_arg (conn, "limitBytes")))
    o.limit_bytes = atoll (v);
  o.timestamps = nodeapi_arg_true (conn, "timestamps");
  if ((v = nodeapi_arg (conn, "sinceSeconds")))
    agent_log_opts_since_seconds (&o, atoll (v));
  if ((v = nodeapi_arg (conn, "sinceTime")) && agent_log_parse_time (v, strlen (v), &o.since) == 0)
    o.since_set = true;
  if (nodeapi_arg_true (conn, "follow"))
    {
      int fds[2];
      if (pipe2 (fds, O_CLOEXEC) < 0)
        return nodeapi_reply_status (conn, 500, "InternalError", "pipe: %s", strerror (errno));
      follow *f = xzalloc (sizeof *f);
      f->path = xstrdup (path);
      f->opts = o;
      f->opts.follow = true;
      f->fd = fds[1];
      pthread_t t;
      if (pthread_create (&t, NULL, follow_main, f) != 0)
        {
          close (fds[0]), close (fds[1]);
          free (f->path), free (f);
          return nodeapi_reply_status (conn, 500, "InternalError", "cannot start the log reader");
        }
      pthread_detach (t);
      struct MHD_Response *r = MHD_create_response_from_pipe (fds[0]);
      MHD_add_response_header (r, "Content-Type", "text/plain");
      enum MHD_Result ret = MHD_queue_response (conn, 200, r);
      MHD_destroy_response (r);
      return ret;
    }
  husk_buf out = HUSK_BUF_INIT;
  _cleanup_error_ husk_error *err = NULL;
  if (agent_log_read (path, &o, to_buf, &out, &err) < 0)
    {
      husk_buf_free (&out);
      if (err->errnum == ENOENT)
        return nodeapi_reply_status (conn, 404, "NotFound",
                                     "no logs for container \"%s\" in pod \"%s\"", ctr, pod);
      return nodeapi_reply_status (conn, 500, "InternalError", "%s", err->msg);
    }
  size_t len = out.len;
  char *body = husk_buf_steal (&out);
  return nodeapi_reply (conn, 200, "text/plain", body, len);
}
