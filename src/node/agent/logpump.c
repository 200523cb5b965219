/* husk node agent: one epoll set moving every container's stdout/stderr into its CRI log
   writer. Level-triggered, one read of at most 64 KiB per ready pipe per round, so a
   chatty container cannot starve the others. */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>

#include "src/node/agent/crilog.h"

typedef struct pump_ctr pump_ctr;

typedef struct pump_src
{
  int fd;
  agent_log_stream stream;
  pump_ctr *ctr;
} pump_src;

struct pump_ctr
{
  pump_src src[2];
  int open;
  agent_log_writer *w;
  void (*done) (void *);
  void *ud;
  pump_ctr *prev, *next;
};

struct agent_log_pump
{
  int epfd;
  int count;
  pump_ctr *head;
};

int
agent_log_pump_new (agent_log_pump **out, husk_error **err)
{
  int fd = epoll_create1 (EPOLL_CLOEXEC);
  if (fd < 0)
    return husk_err_errno (err, "epoll_create1");
  agent_log_pump *p = xzalloc (sizeof *p);
  p->epfd = fd;
  *out = p;
  return 0;
}

int
agent_log_pump_fd (const agent_log_pump *p)
{
  return p->epfd;
}

int
agent_log_pump_count (const agent_log_pump *p)
{
  return p->count;
}

static void
ctr_unlink_free (agent_log_pump *p, pump_ctr *c)
{
  if (c->prev)
    c->prev->next = c->next;
  else
    p->head = c->next;
  if (c->next)
    c->next->prev = c->prev;
  p->count--;
  free (c);
}

static void
src_close (agent_log_pump *p, pump_src *s)
{
  if (s->fd < 0)
    return;
  epoll_ctl (p->epfd, EPOLL_CTL_DEL, s->fd, NULL);
  close (s->fd);
  s->fd = -1;
  s->ctr->open--;
}

int
agent_log_pump_add (agent_log_pump *p, int stdout_fd, int stderr_fd, agent_log_writer *w,
                    void (*done) (void *ud), void *ud, husk_error **err)
{
  pump_ctr *c = xzalloc (sizeof *c);
  int fds[2] = { stdout_fd, stderr_fd };
  c->w = w;
  c->done = done;
  c->ud = ud;
  c->next = p->head;
  if (p->head)
    p->head->prev = c;
  p->head = c;
  p->count++;
  for (int i = 0; i < 2; i++)
    c->src[i] = (pump_src){ .fd = -1, .stream = i, .ctr = c };
  for (int i = 0; i < 2; i++)
    {
      if (fds[i] < 0)
        continue;
      c->src[i].fd = fds[i];
      c->open++;
      int fl = fcntl (fds[i], F_GETFL);
      if (fl >= 0)
        fcntl (fds[i], F_SETFL, fl | O_NONBLOCK);
      struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->src[i] };
      if (epoll_ctl (p->epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0)
        {
          int ret = husk_err_errno (err, "epoll add %s", agent_log_writer_path (w));
          src_close (p, &c->src[0]);
          src_close (p, &c->src[1]);
          if (i == 0 && fds[1] >= 0)
            close (fds[1]);
          agent_log_writer_close (w);
          ctr_unlink_free (p, c);
          return ret;
        }
    }
  if (c->open == 0)
    {
      agent_log_writer_close (w);
      ctr_unlink_free (p, c);
      if (done)
        done (ud);
    }
  return 0;
}

/* Reads once from a ready pipe. Returns the first write error; the pipe is drained
   even when the disk refuses, so that the container never blocks on a full pipe. */
static int
src_handle (agent_log_pump *p, pump_src *s, husk_error **err)
{
  char buf[65536];
  pump_ctr *c = s->ctr;
  ssize_t n = read (s->fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (n > 0)
    return agent_log_writer_feed (c->w, s->stream, buf, n, err);
  int ret = agent_log_writer_eof (c->w, s->stream, err);
  src_close (p, s);
  if (c->open == 0)
    {
      void (*done) (void *) = c->done;
      void *ud = c->ud;
      agent_log_writer_close (c->w);
      ctr_unlink_free (p, c);
      if (done)
        done (ud);
    }
  return ret;
}

int
agent_log_pump_run (agent_log_pump *p, int timeout_ms, husk_error **err)
{
  struct epoll_event ev[64];
  int n = epoll_wait (p->epfd, ev, ARRAY_SIZE (ev), timeout_ms);
  if (n < 0 && errno != EINTR)
    return husk_err_errno (err, "epoll_wait");
  int first = 0;
  for (int i = 0; i < n; i++)
    {
      int ret = src_handle (p, ev[i].data.ptr, first < 0 ? NULL : err);
      if (ret < 0 && first == 0)
        first = ret;
    }
  return first < 0 ? first : p->count;
}

void
agent_log_pump_free (agent_log_pump *p)
{
  if (!p)
    return;
  while (p->head)
    {
      pump_ctr *c = p->head;
      src_close (p, &c->src[0]);
      src_close (p, &c->src[1]);
      agent_log_writer_close (c->w);
      ctr_unlink_free (p, c);
    }
  close (p->epfd);
  free (p);
}
