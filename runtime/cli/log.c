/* husk-runtime: the library's log lines (warnings such as a skipped limit) go to --log,
   never to stderr: under conmon or containerd's shim the runtime's stderr is the
   container's, and a warning there would end up in the container's log. With
   --log-format json each line becomes a JSON object {"level","msg","time"} as runc writes
   them (containerd's shim decodes the file line by line). */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "runtime/cli/cli.h"

typedef struct json_log
{
  FILE *out;
  husk_buf line;
} json_log;

/* "level=warn" in a logfmt line -> runc's level names. */
static const char *
level_of (const char *line)
{
  const char *l = strstr (line, "level=");
  if (l == NULL)
    return "info";
  l += 6;
  if (strncmp (l, "warn", 4) == 0)
    return "warning";
  if (strncmp (l, "error", 5) == 0)
    return "error";
  if (strncmp (l, "debug", 5) == 0)
    return "debug";
  return "info";
}

static void
flush_line (json_log *j)
{
  char ts[64];
  time_t now = time (NULL);
  struct tm tm;
  gmtime_r (&now, &tm);
  strftime (ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const char *text = husk_buf_str (&j->line);
  _cleanup_json_ json_t *o = json_pack ("{s:s, s:s, s:s}", "level", level_of (text), "msg", text,
                                        "time", ts);
  _cleanup_free_ char *s = o ? husk_json_dump (o) : NULL;
  if (s)
    fprintf (j->out, "%s\n", s);
  fflush (j->out);
  j->line.len = 0;
}

static ssize_t
json_write (void *cookie, const char *buf, size_t n)
{
  json_log *j = cookie;
  for (size_t i = 0; i < n; i++)
    if (buf[i] == '\n')
      flush_line (j);
    else
      husk_buf_append (&j->line, buf + i, 1);
  return (ssize_t) n;
}

static int
json_close (void *cookie)
{
  json_log *j = cookie;
  if (j->line.len)
    flush_line (j);
  husk_buf_free (&j->line);
  int r = fclose (j->out);
  free (j);
  return r;
}

void
cli_log_redirect (void)
{
  if (cli.log_path == NULL)
    return;
  FILE *f = fopen (cli.log_path, "ae");
  if (f == NULL)
    return; /* the library's warnings then stay on stderr */
  setvbuf (f, NULL, _IOLBF, 0);
  if (cli.log_json)
    {
      json_log *j = xcalloc (1, sizeof *j);
      j->out = f;
      cookie_io_functions_t io = {.write = json_write, .close = json_close};
      FILE *w = fopencookie (j, "w", io);
      if (w == NULL)
        {
          fclose (f);
          free (j);
          return;
        }
      setvbuf (w, NULL, _IOLBF, 0);
      f = w;
    }
  husk_log_set_stream (f);
}
