/* husk: allocators that abort on exhaustion, so error paths handle only real failures. */
#include "config.h"

#include <errno.h>

#include "lib/util.h"

void
husk_oom (void)
{
  static const char msg[] = "husk: out of memory\n";
  ssize_t r _unused_ = write (2, msg, sizeof msg - 1);
  abort ();
}

void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (p == NULL)
    husk_oom ();
  return p;
}

void *
xzalloc (size_t n)
{
  return xcalloc (1, n);
}

void *
xcalloc (size_t nmemb, size_t size)
{
  void *p = calloc (nmemb ? nmemb : 1, size ? size : 1);
  if (p == NULL)
    husk_oom ();
  return p;
}

void *
xrealloc (void *p, size_t n)
{
  void *q = realloc (p, n ? n : 1);
  if (q == NULL)
    husk_oom ();
  return q;
}

void *
xreallocarray (void *p, size_t nmemb, size_t size)
{
  if (size && nmemb > SIZE_MAX / size)
    husk_oom ();
  return xrealloc (p, nmemb * size);
}

char *
xstrdup (const char *s)
{
  char *p = strdup (s);
  if (p == NULL)
    husk_oom ();
  return p;
}

char *
xstrndup (const char *s, size_t n)
{
  char *p = strndup (s, n);
  if (p == NULL)
    husk_oom ();
  return p;
}

char *
xvasprintf (const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf (&s, fmt, ap) < 0)
    husk_oom ();
  return s;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *s = xvasprintf (fmt, ap);
  va_end (ap);
  return s;
}

void
strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **i = v; *i; i++)
    free (*i);
  free (v);
}
