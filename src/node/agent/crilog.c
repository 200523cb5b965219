/* husk node agent: CRI log files, writer and kubectl-logs reader (see crilog.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/path.h"
#include "src/node/agent/crilog.h"

static const char *const stream_names[] = { "stdout", "stderr" };

static bool
name_ok (const char *s)
{
  return s && *s && !strchr (s, '/') && !streq (s, ".") && !streq (s, "..");
}

int
agent_log_dir (const char *root, const char *ns, const char *pod, const char *uid,
               const char *container, char **out, husk_error **err)
{
  if (!name_ok (ns) || !name_ok (pod) || !name_ok (uid) || !name_ok (container))
    return husk_err (err, EINVAL, "log directory: bad name in %s_%s_%s/%s", ns ? ns : "",
                     pod ? pod : "", uid ? uid : "", container ? container : "");
  *out = xasprintf ("%s/%s_%s_%s/%s", root ? root : "/var/log/pods", ns, pod, uid, container);
  return 0;
}

char *
agent_log_path (const char *dir, unsigned restart)
{
  return xasprintf ("%s/%u.log", dir, restart);
}

void
agent_log_format_time (const struct timespec *t, char *buf, size_t size)
{
  struct tm tm;
  char date[32];
  gmtime_r (&t->tv_sec, &tm);
  strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf, size, "%.19s.%09ldZ", date, (long)(t->tv_nsec % 1000000000));
}

static int
digits (const char *s, size_t n, int *out)
{
  int v = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return -EINVAL;
      v = v * 10 + (s[i] - '0');
    }
  *out = v;
  return 0;
}

int
agent_log_parse_time (const char *s, size_t len, struct timespec *out)
{
  int Y, M, D, h, m, sec;
  long nsec = 0;
  size_t i = 19;
  if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':'
      || s[16] != ':')
    return -EINVAL;
  if (digits (s, 4, &Y) < 0 || digits (s + 5, 2, &M) < 0 || digits (s + 8, 2, &D) < 0
      || digits (s + 11, 2, &h) < 0 || digits (s + 14, 2, &m) < 0 || digits (s + 17, 2, &sec) < 0)
    return -EINVAL;
  if (s[i] == '.')
    {
      int nd = 0;
      for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
        if (nd < 9)
          nsec = nsec * 10 + (s[i] - '0');
      if (nd == 0)
        return -EINVAL;
      for (; nd < 9; nd++)
        nsec *= 10;
    }
  long off = 0;
  if (i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
    ;
  else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':')
    {
      int oh, om;
      if (digits (s + i + 1, 2, &oh) < 0 || digits (s + i + 4, 2, &om) < 0)
        return -EINVAL;
      off = (oh * 3600L + om * 60L) * (s[i] == '-' ? -1 : 1);
    }
  else
    return -EINVAL;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
    return -EINVAL;
  struct tm tm = {
    .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec
  };
  out->tv_sec = timegm (&tm) - off;
  out->tv_nsec = nsec;
  return 0;
}

/* ---- writer ---------------------------------------------------------------------- */

struct agent_log_writer
{
  char *dir;
  char *path;
  unsigned restart;
  int fd;
  uint64_t size;
  uint64_t max_size;
  int max_files;
  husk_buf pending[2];
  husk_buf batch; /* records of one feed, written with one write(2) */
  char ts[40];    /* the time stamped on this feed's records */
  void (*now) (struct timespec *);
};

static void
clock_realtime (struct timespec *t)
{
  clock_gettime (CLOCK_REALTIME, t);
}

static int
writer_open_fd (agent_log_writer *w, husk_error **err)
{
  struct stat st;
  w->fd = open (w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (w->fd < 0)
    return husk_err_errno (err, "open %s", w->path);
  if (fstat (w->fd, &st) < 0)
    return husk_err_errno (err, "stat %s", w->path);
  w->size = st.st_size;
  return 0;
}

int
agent_log_writer_open (const char *dir, unsigned restart, uint64_t max_size, int max_files,
                       agent_log_writer **out, husk_error **err)
{
  int ret = husk_mkdir_p (dir, 0755, err);
  if (ret < 0)
    return ret;
  agent_log_writer *w = xzalloc (sizeof *w);
  w->dir = xstrdup (dir);
  w->path = agent_log_path (dir, restart);
  w->restart = restart;
  w->max_size = max_size ? max_size : AGENT_LOG_DEFAULT_MAX_SIZE;
  w->max_files = max_files >= 2 ? max_files : AGENT_LOG_DEFAULT_MAX_FILES;
  w->now = clock_realtime;
  ret = writer_open_fd (w, err);
  if (ret < 0)
    {
      agent_log_writer_close (w);
      return ret;
    }
  *out = w;
  return 0;
}

void
agent_log_writer_set_clock (agent_log_writer *w, void (*now) (struct timespec *))
{
  w->now = now ? now : clock_realtime;
}

const char *
agent_log_writer_path (const agent_log_writer *w)
{
  return w->path;
}

void
agent_log_writer_close (agent_log_writer *w)
{
  if (!w)
    return;
  if (w->fd >= 0)
    close (w->fd);
  husk_buf_free (&w->pending[0]);
  husk_buf_free (&w->pending[1]);
  husk_buf_free (&w->batch);
  free (w->dir);
  free (w->path);
  free (w);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* Deletes the oldest "<restart>.log.*" files so that max_files - 1 rotated ones remain. */
static void
writer_prune (agent_log_writer *w)
{
  _cleanup_free_ char *prefix = xasprintf ("%u.log.", w->restart);
  size_t plen = strlen (prefix), n = 0, cap = 0;
  char **names = NULL;
  DIR *d = opendir (w->dir);
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir (d)))
    if (strncmp (de->d_name, prefix, plen) == 0)
      {
        if (n == cap)
          names = xreallocarray (names, cap = cap ? cap * 2 : 8, sizeof *names);
        names[n++] = xstrdup (de->d_name);
      }
  closedir (d);
  if (n)
    qsort (names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++)
    {
      if (n - i > (size_t)(w->max_files - 1))
        {
          _cleanup_free_ char *old = xasprintf ("%s/%s", w->dir, names[i]);
          unlink (old);
        }
      free (names[i]);
    }
  free (names);
}

static int
writer_rotate (agent_log_writer *w, husk_error **err)
{
  struct timespec now;
  struct tm tm;
  char stamp[32];
  w->now (&now);
  gmtime_r (&now.tv_sec, &tm);
  strftime (stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  _cleanup_free_ char *dst = xasprintf ("%s.%s", w->path, stamp);
  for (int i = 1; access (dst, F_OK) == 0; i++)
    {
      free (dst);
      dst = xasprintf ("%s.%s.%03d", w->path, stamp, i);
    }
  if (rename (w->path, dst) < 0)
    return husk_err_errno (err, "rotate %s", w->path);
  close (w->fd);
  w->fd = -1;
  writer_prune (w);
  return writer_open_fd (w, err);
}

static int
flush_batch (agent_log_writer *w, husk_error **err)
{
  size_t off = 0;
  while (off < w->batch.len)
    {
      ssize_t n = write (w->fd, w->batch.data + off, w->batch.len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          husk_buf_reset (&w->batch);
          return husk_err_errno (err, "write %s", w->path);
        }
      off += n;
    }
  w->size += w->batch.len;
  husk_buf_reset (&w->batch);
  return 0;
}

static void
stamp (agent_log_writer *w)
{
  struct timespec now;
  w->now (&now);
  agent_log_format_time (&now, w->ts, sizeof w->ts);
}

/* Appends one record to the batch; the batch goes out first when this record would take
   the file past max_size, and the file is rotated. Records never straddle two files. */
static int
write_record (agent_log_writer *w, agent_log_stream s, char tag, const char *data, size_t len,
              husk_error **err)
{
  size_t rec_len = strlen (w->ts) + 1 + strlen (stream_names[s]) + 3 + len + 1;
  uint64_t used = w->size + w->batch.len;
  if (used > 0 && used + rec_len > w->max_size)
    {
      int ret = flush_batch (w, err);
      if (ret < 0)
        return ret;
      ret = writer_rotate (w, err);
      if (ret < 0)
        return ret;
    }
  husk_buf_printf (&w->batch, "%s %s %c ", w->ts, stream_names[s], tag);
  husk_buf_append (&w->batch, data, len);
  husk_buf_putc (&w->batch, '\n');
  return 0;
}

/* Writes P records while the pending line holds a full piece; the rest stays pending. */
static int
flush_pieces (agent_log_writer *w, agent_log_stream s, husk_error **err)
{
  husk_buf *p = &w->pending[s];
  size_t off = 0;
  while (p->len - off >= AGENT_LOG_MAX_LINE)
    {
      int ret = write_record (w, s, 'P', p->data + off, AGENT_LOG_MAX_LINE, err);
      if (ret < 0)
        return ret;
      off += AGENT_LOG_MAX_LINE;
    }
  if (off)
    {
      memmove (p->data, p->data + off, p->len - off);
      p->len -= off;
      p->data[p->len] = '\0';
    }
  return 0;
}

static int feed_records (agent_log_writer *w, agent_log_stream s, const char *data, size_t len,
                         husk_error **err);

int
agent_log_writer_feed (agent_log_writer *w, agent_log_stream s, const char *data, size_t len,
                       husk_error **err)
{
  stamp (w);
  int ret = feed_records (w, s, data, len, err);
  int ret2 = flush_batch (w, ret < 0 ? NULL : err);
  return ret < 0 ? ret : ret2;
}

static int
feed_records (agent_log_writer *w, agent_log_stream s, const char *data, size_t len,
              husk_error **err)
{
  husk_buf *p = &w->pending[s];
  while (len > 0)
    {
      const char *nl = memchr (data, '\n', len);
      size_t take = nl ? (size_t)(nl - data) : len;
      husk_buf_append (p, data, take);
      int ret = flush_pieces (w, s, err);
      if (ret < 0)
        return ret;
      if (!nl)
        break;
      ret = write_record (w, s, 'F', p->data ? p->data : "", p->len, err);
      husk_buf_reset (p);
      if (ret < 0)
        return ret;
      data += take + 1;
      len -= take + 1;
    }
  return 0;
}

int
agent_log_writer_eof (agent_log_writer *w, agent_log_stream s, husk_error **err)
{
  husk_buf *p = &w->pending[s];
  if (p->len == 0)
    return 0;
  stamp (w);
  int ret = write_record (w, s, 'F', p->data, p->len, err);
  husk_buf_reset (p);
  int ret2 = flush_batch (w, ret < 0 ? NULL : err);
  return ret < 0 ? ret : ret2;
}

/* ---- reader ---------------------------------------------------------------------- */

static char *
url_decode (const char *s, size_t n)
{
  char *out = xmalloc (n + 1), *o = out;
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] == '+')
        *o++ = ' ';
      else if (s[i] == '%' && i + 2 < n && isxdigit ((unsigned char)s[i + 1])
               && isxdigit ((unsigned char)s[i + 2]))
        {
          char hex[3] = { s[i + 1], s[i + 2], 0 };
          *o++ = (char)strtol (hex, NULL, 16);
          i += 2;
        }
      else
        *o++ = s[i];
    }
  *o = '\0';
  return out;
}

static int
query_bool (const char *key, const char *v, bool *out, husk_error **err)
{
  if (!*v || streq (v, "true") || streq (v, "1"))
    *out = true;
  else if (streq (v, "false") || streq (v, "0"))
    *out = false;
  else
    return husk_err (err, EINVAL, "%s: invalid boolean \"%s\"", key, v);
  return 0;
}

static int
query_int (const char *key, const char *v, int64_t min, int64_t *out, husk_error **err)
{
  char *end;
  errno = 0;
  long long x = strtoll (v, &end, 10);
  if (!*v || *end || errno)
    return husk_err (err, EINVAL, "%s: invalid integer \"%s\"", key, v);
  if (x < min)
    return husk_err (err, EINVAL, "%s: Invalid value: %lld: must be greater than %s0", key, x,
                     min == 0 ? "or equal to " : "");
  *out = x;
  return 0;
}

int
agent_log_opts_from_query (const char *query, agent_log_opts *o, bool *previous, char **container,
                           husk_error **err)
{
  _cleanup_free_ char *q = xstrdup (query ? query : "");
  bool seconds = false, time_given = false, prev = false;
  int ret = 0;
  char *save = NULL;
  for (char *kv = strtok_r (q, "&", &save); kv && ret >= 0; kv = strtok_r (NULL, "&", &save))
    {
      char *eq = strchr (kv, '=');
      _cleanup_free_ char *key = url_decode (kv, eq ? (size_t)(eq - kv) : strlen (kv));
      _cleanup_free_ char *val = eq ? url_decode (eq + 1, strlen (eq + 1)) : xstrdup ("");
      int64_t n;
      if (streq (key, "follow"))
        ret = query_bool (key, val, &o->follow, err);
      else if (streq (key, "previous"))
        ret = query_bool (key, val, &prev, err);
      else if (streq (key, "timestamps"))
        ret = query_bool (key, val, &o->timestamps, err);
      else if (streq (key, "tailLines"))
        ret = query_int (key, val, 0, &o->tail_lines, err);
      else if (streq (key, "limitBytes"))
        ret = query_int (key, val, 1, &o->limit_bytes, err);
      else if (streq (key, "sinceSeconds"))
        {
          ret = query_int (key, val, 1, &n, err);
          if (ret >= 0)
            {
              agent_log_opts_since_seconds (o, n);
              seconds = true;
            }
        }
      else if (streq (key, "sinceTime"))
        {
          if (agent_log_parse_time (val, strlen (val), &o->since) < 0)
            ret = husk_err (err, EINVAL, "sinceTime: invalid RFC 3339 time \"%s\"", val);
          o->since_set = true;
          time_given = true;
        }
      else if (streq (key, "stream"))
        {
          if (streq (val, "Stdout"))
            o->streams = 1 << AGENT_LOG_STDOUT;
          else if (streq (val, "Stderr"))
            o->streams = 1 << AGENT_LOG_STDERR;
          else if (streq (val, "All") || !*val)
            o->streams = 0;
          else
            ret = husk_err (err, EINVAL,
                            "stream: Unsupported value: \"%s\": supported values: \"All\", "
                            "\"Stdout\", \"Stderr\"",
                            val);
        }
      else if (streq (key, "container"))
        {
          if (container)
            {
              free (*container);
              *container = xstrdup (val);
            }
        }
      /* other keys (pretty, insecureSkipTLSVerifyBackend) do not change what is read */
    }
  if (ret < 0)
    return ret;
  if (seconds && time_given)
    return husk_err (
        err, EINVAL,
        "sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified");
  if (previous)
    *previous = prev;
  return 0;
}

void
agent_log_opts_since_seconds (agent_log_opts *o, int64_t seconds)
{
  clock_gettime (CLOCK_REALTIME, &o->since);
  o->since.tv_sec -= seconds;
  o->since_set = true;
}

typedef struct reader
{
  const agent_log_opts *o;
  int (*out) (void *, const char *, size_t);
  void *ud;
  int64_t written;
  bool done; /* limit reached or client gone */
} reader;

static int
emit (reader *r, const char *data, size_t len)
{
  if (r->o->limit_bytes > 0 && r->written + (int64_t)len >= r->o->limit_bytes)
    {
      len = r->o->limit_bytes - r->written;
      r->done = true;
    }
  if (len == 0)
    return 0;
  r->written += len;
  if (r->out (r->ud, data, len) < 0)
    r->done = true;
  return 0;
}

/* One record without its '\n'. Malformed records are skipped, as kubelet does. */
static void
reader_record (reader *r, const char *line, size_t len)
{
  const char *end = line + len;
  const char *sp1 = memchr (line, ' ', len);
  if (!sp1)
    return;
  const char *sp2 = memchr (sp1 + 1, ' ', end - sp1 - 1);
  if (!sp2)
    return;
  const char *sp3 = memchr (sp2 + 1, ' ', end - sp2 - 1);
  const char *tag = sp2 + 1;
  size_t taglen = sp3 ? (size_t)(sp3 - tag) : (size_t)(end - tag);
  const char *msg = sp3 ? sp3 + 1 : end;
  struct timespec ts;
  if (agent_log_parse_time (line, sp1 - line, &ts) < 0)
    return;
  size_t slen = sp2 - sp1 - 1;
  int stream;
  if (slen == 6 && memcmp (sp1 + 1, "stdout", 6) == 0)
    stream = AGENT_LOG_STDOUT;
  else if (slen == 6 && memcmp (sp1 + 1, "stderr", 6) == 0)
    stream = AGENT_LOG_STDERR;
  else
    return;
  if (r->o->streams && !(r->o->streams & (1 << stream)))
    return;
  if (r->o->since_set
      && (ts.tv_sec < r->o->since.tv_sec
          || (ts.tv_sec == r->o->since.tv_sec && ts.tv_nsec < r->o->since.tv_nsec)))
    return;
  bool full = !(taglen >= 1 && tag[0] == 'P');
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  if (r->o->timestamps)
    {
      /* kubelet reformats with Go's RFC3339Nano: trailing zeros of the fraction go. */
      char t[40];
      agent_log_format_time (&ts, t, sizeof t);
      char *z = strchr (t, 'Z');
      char *q = z - 1;
      while (*q == '0')
        q--;
      if (*q == '.')
        q--;
      memmove (q + 1, z, 2);
      husk_buf_puts (&b, t);
      husk_buf_putc (&b, ' ');
    }
  husk_buf_append (&b, msg, end - msg);
  if (full)
    husk_buf_putc (&b, '\n');
  emit (r, b.data, b.len);
}

/* Offset where the last n records begin (kubelet's tail.FindTailLineStartIndex). */
static off_t
tail_offset (int fd, int64_t n)
{
  struct stat st;
  char buf[65536];
  int64_t count = 0;
  if (fstat (fd, &st) < 0)
    return 0;
  if (n == 0)
    return st.st_size;
  off_t pos = st.st_size;
  while (pos > 0)
    {
      size_t chunk = pos > (off_t)sizeof buf ? sizeof buf : (size_t)pos;
      pos -= chunk;
      if (pread (fd, buf, chunk, pos) != (ssize_t)chunk)
        return 0;
      for (size_t i = chunk; i-- > 0;)
        if (buf[i] == '\n' && pos + (off_t)i != st.st_size - 1 && ++count == n)
          return pos + i + 1;
    }
  return 0;
}

/* Reads fd to its current end, handing out complete records; an unterminated last
   record stays in acc. */
static int
reader_drain (reader *r, int fd, husk_buf *acc, const char *path, husk_error **err)
{
  char buf[65536];
  while (!r->done)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return husk_err_errno (err, "read %s", path);
      if (n == 0)
        return 0;
      husk_buf_append (acc, buf, n);
      size_t start = 0;
      for (;;)
        {
          char *nl = memchr (acc->data + start, '\n', acc->len - start);
          if (!nl)
            break;
          reader_record (r, acc->data + start, nl - (acc->data + start));
          start = nl - acc->data + 1;
          if (r->done)
            return 0;
        }
      memmove (acc->data, acc->data + start, acc->len - start);
      acc->len -= start;
      acc->data[acc->len] = '\0';
    }
  return 0;
}

static bool
should_stop (const agent_log_opts *o)
{
  if (o->stop && o->stop (o->stop_ud))
    return true;
  if (o->stop_fd >= 0)
    {
      struct pollfd p = { .fd = o->stop_fd, .events = POLLIN };
      if (poll (&p, 1, 0) > 0)
        return true;
    }
  return false;
}

/* True when path now names another file than the one open on fd. */
static bool
replaced (int fd, const char *path)
{
  struct stat a, b;
  if (fstat (fd, &a) < 0)
    return true;
  if (stat (path, &b) < 0)
    return false; /* renamed away, the new file not there yet */
  return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

static int
follow (reader *r, const char *path, int *fdp, husk_buf *acc, husk_error **err)
{
  _cleanup_close_ int ino = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  if (ino < 0)
    return husk_err_errno (err, "inotify for %s", path);
  _cleanup_free_ char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  if (slash)
    *slash = '\0';
  int wd = inotify_add_watch (ino, path, IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF);
  if (wd < 0 || inotify_add_watch (ino, slash ? dir : ".", IN_CREATE | IN_MOVED_TO) < 0)
    return husk_err_errno (err, "watch %s", path);
  while (!r->done)
    {
      int ret = reader_drain (r, *fdp, acc, path, err);
      if (ret < 0 || r->done)
        return ret;
      if (replaced (*fdp, path))
        {
          int nfd = open (path, O_RDONLY | O_CLOEXEC);
          if (nfd >= 0)
            {
              /* Rotation: finish the old file, continue with the new one. */
              ret = reader_drain (r, *fdp, acc, path, err);
              if (ret < 0)
                {
                  close (nfd);
                  return ret;
                }
              close (*fdp);
              *fdp = nfd;
              husk_buf_reset (acc);
              inotify_rm_watch (ino, wd);
              wd = inotify_add_watch (ino, path, IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF);
              continue;
            }
        }
      if (should_stop (r->o))
        {
          /* One last read: what the container wrote before it went. */
          return reader_drain (r, *fdp, acc, path, err);
        }
      struct pollfd p[2]
          = { { .fd = ino, .events = POLLIN }, { .fd = r->o->stop_fd, .events = POLLIN } };
      int n = poll (p, r->o->stop_fd >= 0 ? 2 : 1, 250);
      if (n < 0 && errno != EINTR)
        return husk_err_errno (err, "poll %s", path);
      if (n > 0 && (p[0].revents & POLLIN))
        {
          char ev[4096];
          while (read (ino, ev, sizeof ev) > 0)
            ;
        }
    }
  return 0;
}

int
agent_log_read (const char *path, const agent_log_opts *opts,
                int (*out) (void *ud, const char *data, size_t len), void *ud, husk_error **err)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return husk_err_errno (err, "open %s", path);
  reader r = { .o = opts, .out = out, .ud = ud };
  _cleanup_buf_ husk_buf acc = HUSK_BUF_INIT;
  if (opts->tail_lines >= 0)
    {
      off_t off = tail_offset (fd, opts->tail_lines);
      if (lseek (fd, off, SEEK_SET) < 0)
        return husk_err_errno (err, "seek %s", path);
    }
  if (!opts->follow)
    return reader_drain (&r, fd, &acc, path, err);
  return follow (&r, path, &fd, &acc, err);
}

/* ---- termination messages ------------------------------------------------------------- */

int
agent_termination_message_file (const char *host_path, char **out, husk_error **err)
{
  _cleanup_close_ int fd = open (host_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 && errno == ENOENT)
    {
      *out = xstrdup ("");
      return 0;
    }
  if (fd < 0 || fstat (fd, &st) < 0)
    return husk_err_errno (err, "Error on reading termination log %s", host_path);
  if (!S_ISREG (st.st_mode))
    return husk_err (err, EINVAL, "Error on reading termination log %s: not a regular file",
                     host_path);
  off_t off
      = st.st_size > AGENT_TERMINATION_MESSAGE_MAX ? st.st_size - AGENT_TERMINATION_MESSAGE_MAX : 0;
  char *buf = xmalloc (AGENT_TERMINATION_MESSAGE_MAX + 1);
  ssize_t n = pread (fd, buf, AGENT_TERMINATION_MESSAGE_MAX, off);
  if (n < 0)
    {
      free (buf);
      return husk_err_errno (err, "Error on reading termination log %s", host_path);
    }
  buf[n] = '\0';
  *out = buf;
  return 0;
}

static int
to_husk_buf (void *ud, const char *data, size_t len)
{
  husk_buf_append (ud, data, len);
  return 0;
}

int
agent_termination_message_logs (const char *log_path, char **out, husk_error **err)
{
  agent_log_opts o = AGENT_LOG_OPTS_INIT;
  o.tail_lines = AGENT_TERMINATION_LOG_LINES;
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  int ret = agent_log_read (log_path, &o, to_husk_buf, &b, err);
  if (ret < 0)
    return husk_err_wrap (err, "Error on reading termination message from logs");
  const char *s = husk_buf_str (&b);
  size_t len = b.len;
  if (len > AGENT_TERMINATION_LOG_BYTES)
    {
      s += len - AGENT_TERMINATION_LOG_BYTES;
      len = AGENT_TERMINATION_LOG_BYTES;
    }
  *out = xstrndup (s, len);
  return 0;
}
