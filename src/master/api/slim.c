/* husk api: cutting a pod's stored JSON down for a Table row. A LIST of 10,000 pods as a
   Table otherwise parses every spec (containers, tolerations, volumes: most of a pod) into a
   jansson tree only to read four fields of it. The scanner here only skips values: strings
   (with escapes), nested objects and arrays, scalars. Input is the store's own compact JSON,
   but nothing is assumed that a malformed text could turn into a read past its end. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "lib/buf.h"
#include "src/master/api/slim.h"

typedef struct scan
{
  const char *p, *end;
} scan;

static void
ws (scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r'))
    s->p++;
}

/* At '"': moves past the closing quote. */
static bool
skip_string (scan *s)
{
  const char *from = s->p + 1;
  while (from < s->end)
    {
      const char *q = memchr (from, '"', (size_t) (s->end - from));
      if (q == NULL)
        return false;
      size_t bs = 0; /* an even run of backslashes before it: the quote ends the string */
      while (q - bs > s->p + 1 && q[-1 - (ptrdiff_t) bs] == '\\')
        bs++;
      from = q + 1;
      if (bs % 2 == 0)
        {
          s->p = from;
          return true;
        }
    }
  return false;
}

static bool
skip_value (scan *s)
{
  ws (s);
  if (s->p >= s->end)
    return false;
  if (*s->p == '"')
    return skip_string (s);
  if (*s->p == '{' || *s->p == '[')
    {
      int depth = 0;
      while (s->p < s->end)
        {
          char c = *s->p;
          if (c == '"')
            {
              if (!skip_string (s))
                return false;
              continue;
            }
          if (c == '{' || c == '[')
            depth++;
          else if (c == '}' || c == ']')
            depth--;
          s->p++;
          if (depth == 0)
            return true;
        }
      return false;
    }
  while (s->p < s->end && *s->p != ',' && *s->p != '}' && *s->p != ']' && *s->p != ' '
         && *s->p != '\n')
    s->p++;
  return true;
}

/* Iterates an object's members: at '{' or ','. Sets key (with quotes) and value ranges. */
typedef struct member
{
  const char *k;
  size_t kl;
  const char *v, *ve;
} member;

static int
next_member (scan *s, member *m)
{
  ws (s);
  if (s->p >= s->end)
    return -1;
  if (*s->p == '}')
    {
      s->p++;
      return 0;
    }
  if (*s->p != '{' && *s->p != ',')
    return -1;
  s->p++;
  ws (s);
  if (s->p < s->end && *s->p == '}')
    {
      s->p++;
      return 0;
    }
  if (s->p >= s->end || *s->p != '"')
    return -1;
  m->k = s->p;
  if (!skip_string (s))
    return -1;
  m->kl = (size_t) (s->p - m->k);
  ws (s);
  if (s->p >= s->end || *s->p != ':')
    return -1;
  s->p++;
  ws (s);
  m->v = s->p;
  if (!skip_value (s))
    return -1;
  m->ve = s->p;
  return 1;
}

static bool
key_is (const member *m, const char *k)
{
  size_t n = strlen (k);
  return m->kl == n + 2 && memcmp (m->k + 1, k, n) == 0;
}

static void
put_member (husk_buf *b, bool *first, const member *m)
{
  if (!*first)
    husk_buf_putc (b, ',');
  *first = false;
  husk_buf_append (b, m->k, m->kl);
  husk_buf_putc (b, ':');
  husk_buf_append (b, m->v, (size_t) (m->ve - m->v));
}

/* Copies the object at m's value, minus managedFields. */
static bool
put_metadata (husk_buf *b, const member *m)
{
  scan s = {m->v, m->ve};
  member x;
  bool first = true;
  int r;
  husk_buf_putc (b, '{');
  while ((r = next_member (&s, &x)) > 0)
    if (!key_is (&x, "managedFields"))
      put_member (b, &first, &x);
  husk_buf_putc (b, '}');
  return r == 0;
}

/* The spec fields the pod columns read; containers become as many empty objects. */
static bool
put_spec (husk_buf *b, const member *m)
{
  scan s = {m->v, m->ve};
  member x;
  bool first = true;
  int r;
  husk_buf_putc (b, '{');
  while ((r = next_member (&s, &x)) > 0)
    {
      if (key_is (&x, "nodeName") || key_is (&x, "readinessGates"))
        put_member (b, &first, &x);
      else if (key_is (&x, "containers"))
        {
          scan a = {x.v, x.ve};
          if (a.p >= a.end || *a.p != '[')
            return false;
          a.p++;
          if (!first)
            husk_buf_putc (b, ',');
          first = false;
          husk_buf_puts (b, "\"containers\":[");
          for (size_t n = 0;; n++)
            {
              ws (&a);
              if (a.p < a.end && *a.p == ']')
                break;
              if (!skip_value (&a))
                return false;
              husk_buf_puts (b, n ? ",{}" : "{}");
              ws (&a);
              if (a.p < a.end && *a.p == ',')
                a.p++;
              else if (a.p >= a.end || *a.p != ']')
                return false;
            }
          husk_buf_putc (b, ']');
        }
    }
  husk_buf_putc (b, '}');
  return r == 0;
}

char *
api_slim_pod (const char *json, size_t len)
{
  scan s = {json, json + len};
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_reserve (&b, len / 2);
  member m;
  bool first = true, ok = true;
  int r = 0;
  husk_buf_putc (&b, '{');
  while (ok && (r = next_member (&s, &m)) > 0)
    {
      if (key_is (&m, "metadata") || key_is (&m, "spec"))
        {
          if (!first)
            husk_buf_putc (&b, ',');
          first = false;
          husk_buf_append (&b, m.k, m.kl);
          husk_buf_putc (&b, ':');
          ok = key_is (&m, "spec") ? put_spec (&b, &m) : put_metadata (&b, &m);
        }
      else
        put_member (&b, &first, &m);
    }
  if (!ok || r < 0)
    {
      husk_buf_free (&b);
      return NULL;
    }
  husk_buf_putc (&b, '}');
  return husk_buf_steal (&b);
}
