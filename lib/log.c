#include "config.h"

#include <pthread.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/log.h"

static husk_log_level min_level = HUSK_LOG_INFO;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
husk_log_set_level (husk_log_level level)
{
  min_level = level;
}

husk_log_level
husk_log_get_level (void)
{
  return min_level;
}

void
husk_log_set_stream (FILE *f)
{
  log_stream = f;
}

int
husk_log_level_parse (const char *s)
{
  for (size_t i = 0; i < ARRAY_SIZE (level_names); i++)
    if (streq (s, level_names[i]))
      return (int) i;
  if (streq (s, "warning"))
    return HUSK_LOG_WARN;
  return -1;
}

static bool
needs_quotes (const char *v)
{
  if (*v == '\0')
    return true;
  for (const char *p = v; *p; p++)
    if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
      return true;
  return false;
}

void
husk_log_append_field (husk_buf *b, const char *key, const char *value)
{
  if (b->len)
    husk_buf_putc (b, ' ');
  husk_buf_puts (b, key);
  husk_buf_putc (b, '=');
  if (value == NULL)
    value = "";
  if (!needs_quotes (value))
    {
      husk_buf_puts (b, value);
      return;
    }
  husk_buf_putc (b, '"');
  for (const unsigned char *p = (const unsigned char *) value; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        husk_buf_printf (b, "\\%c", *p);
      else if (*p == '\n')
        husk_buf_puts (b, "\\n");
      else if (*p == '\t')
        husk_buf_puts (b, "\\t");
      else if (*p < ' ' || *p == 0x7f)
        husk_buf_printf (b, "\\x%02x", *p);
      else
        husk_buf_putc (b, (char) *p);
    }
  husk_buf_putc (b, '"');
}

static void
append_time (husk_buf *b)
{
  struct timespec ts;
  struct tm tm;
  char stamp[32];
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  husk_buf_printf (b, "time=%s.%03ldZ", stamp, ts.tv_nsec / 1000000);
}

void
husk_log_kv (husk_log_level level, const char *msg, ...)
{
  if (level < min_level)
    return;
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  append_time (&b);
  husk_log_append_field (&b, "level", level_names[level]);
  husk_log_append_field (&b, "msg", msg);
  va_list ap;
  va_start (ap, msg);
  const char *key;
  while ((key = va_arg (ap, const char *)) != NULL)
    husk_log_append_field (&b, key, va_arg (ap, const char *));
  va_end (ap);
  husk_buf_putc (&b, '\n');
  pthread_mutex_lock (&log_lock);
  FILE *f = log_stream ? log_stream : stderr;
  fwrite (b.data, 1, b.len, f);
  fflush (f);
  pthread_mutex_unlock (&log_lock);
}
