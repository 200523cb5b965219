#include "config.h"

#include "lib/buf.h"

#include <string.h>

void
husk_buf_reserve (husk_buf *b, size_t extra)
{
  if (extra > SIZE_MAX - b->len - 1)
    husk_oom ();
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  b->data = xrealloc (b->data, cap);
  b->data[b->len] = '\0'; /* a fresh allocation reads as the empty string too */
  b->cap = cap;
}

void
husk_buf_append (husk_buf *b, const void *data, size_t len)
{
  husk_buf_reserve (b, len);
  if (len)
    memcpy (b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void
husk_buf_puts (husk_buf *b, const char *s)
{
  husk_buf_append (b, s, strlen (s));
}

void
husk_buf_putc (husk_buf *b, char c)
{
  husk_buf_append (b, &c, 1);
}

void
husk_buf_put_urlencoded (husk_buf *b, const char *s)
{
  for (; *s; s++)
    {
      unsigned char ch = (unsigned char) *s;
      if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
          || strchr ("-_.~", ch))
        husk_buf_putc (b, (char) ch);
      else
        husk_buf_printf (b, "%%%02X", ch);
    }
}

void
husk_buf_printf (husk_buf *b, const char *fmt, ...)
{
  va_list ap, ap2;
  va_start (ap, fmt);
  va_copy (ap2, ap);
  int n = vsnprintf (NULL, 0, fmt, ap);
  va_end (ap);
  if (n < 0)
    {
      va_end (ap2);
      return;
    }
  husk_buf_reserve (b, (size_t) n);
  vsnprintf (b->data + b->len, (size_t) n + 1, fmt, ap2);
  va_end (ap2);
  b->len += (size_t) n;
}

void
husk_buf_reset (husk_buf *b)
{
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

char *
husk_buf_steal (husk_buf *b)
{
  char *d = b->data ? b->data : xstrdup ("");
  b->data = NULL;
  b->len = b->cap = 0;
  return d;
}

void
husk_buf_free (husk_buf *b)
{
  free (b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
