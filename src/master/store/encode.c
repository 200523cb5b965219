/* husk store: the fast path of store_encode_object. A single pass over the caller's JSON
   that checks its syntax, drops insignificant whitespace and notes where the top-level
   members and the members of "metadata" are, so that the re-encoded object (metadata
   first, resourceVersion first in it) is put together by copying bytes, without building a
   jansson tree. Anything out of the ordinary — non-ASCII bytes, escapes in the keys that
   matter, duplicate top-level or metadata keys, huge integers, deep nesting, any syntax
   error — makes it give up, and the caller falls back to jansson (which also words the
   error messages). */
#include <jansson.h>

#include "lib/buf.h"
#include "src/master/store/store-internal.h"

#define MAX_DEPTH   64
#define MAX_MEMBERS 64

typedef struct span
{
  size_t key, key_len; /* in the compacted copy: the key without quotes */
  size_t start, end;   /* the whole member "key":value */
} span;

typedef struct scan
{
  const char *p, *end;
  husk_buf out; /* compacted copy */
  span top[MAX_MEMBERS];
  size_t n_top;
  span meta[MAX_MEMBERS];
  size_t n_meta;
  int meta_member; /* index in top of "metadata", -1 if none */
  int depth;
  bool bad; /* give up */
} scan;

static void
skip_ws (scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

/* Copies a string token. *had_escape tells whether it contained a backslash. */
static void
copy_string (scan *s, bool *had_escape)
{
  const char *start = s->p;
  if (s->p >= s->end || *s->p != '"')
    {
      s->bad = true;
      return;
    }
  s->p++;
  bool esc = false;
  while (s->p < s->end)
    {
      unsigned char c = (unsigned char)*s->p;
      if (c == '"')
        break;
      if (c < 0x20 || c >= 0x80) /* control characters are errors; UTF-8 left to jansson */
        {
          s->bad = true;
          return;
        }
      if (c == '\\')
        {
          esc = true;
          s->p++;
          if (s->p >= s->end)
            break;
          c = (unsigned char)*s->p;
          if (c == 'u')
            {
              for (int i = 1; i <= 4; i++)
                if (s->p + i >= s->end || !strchr ("0123456789abcdefABCDEF", s->p[i]) || !s->p[i])
                  {
                    s->bad = true;
                    return;
                  }
              /* \u0000 and surrogates: leave to jansson */
              if (strncmp (s->p + 1, "0000", 4) == 0 || s->p[1] == 'd' || s->p[1] == 'D')
                {
                  s->bad = true;
                  return;
                }
              s->p += 4;
            }
          else if (!strchr ("\"\\/bfnrt", c) || !c)
            {
              s->bad = true;
              return;
            }
        }
      s->p++;
    }
  if (s->p >= s->end)
    {
      s->bad = true;
      return;
    }
  s->p++;
  husk_buf_append (&s->out, start, (size_t)(s->p - start));
  if (had_escape)
    *had_escape = esc;
}

static void
copy_number (scan *s)
{
  const char *start = s->p;
  if (s->p < s->end && *s->p == '-')
    s->p++;
  const char *int_start = s->p;
  if (s->p < s->end && *s->p == '0')
    s->p++;
  else if (s->p < s->end && *s->p >= '1' && *s->p <= '9')
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
      s->p++;
  else
    {
      s->bad = true;
      return;
    }
  bool integer = true;
  if (s->p - int_start > 15)
    integer = false;
  if (s->p < s->end && *s->p == '.')
    {
      integer = false;
      s->p++;
      if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        {
          s->bad = true;
          return;
        }
      while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
    {
      integer = false;
      s->p++;
      if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
        s->p++;
      if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        {
          s->bad = true;
          return;
        }
      while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    }
  /* Reals and long integers: jansson re-encodes or range-checks them; leave them to it. */
  if (!integer)
    {
      s->bad = true;
      return;
    }
  husk_buf_append (&s->out, start, (size_t)(s->p - start));
}

static void copy_value (scan *s, int role);

/* role: 0 nested, 1 the top-level object, 2 the metadata object */
static void
copy_object (scan *s, int role)
{
  if (++s->depth > MAX_DEPTH)
    {
      s->bad = true;
      return;
    }
  s->p++; /* { */
  husk_buf_putc (&s->out, '{');
  skip_ws (s);
  if (s->p < s->end && *s->p == '}')
    {
      s->p++;
      husk_buf_putc (&s->out, '}');
      s->depth--;
      return;
    }
  for (;;)
    {
      skip_ws (s);
      size_t mstart = s->out.len;
      bool esc = false;
      copy_string (s, &esc);
      if (s->bad)
        return;
      size_t key = mstart + 1, key_len = s->out.len - mstart - 2;
      skip_ws (s);
      if (s->p >= s->end || *s->p != ':')
        {
          s->bad = true;
          return;
        }
      s->p++;
      husk_buf_putc (&s->out, ':');
      skip_ws (s);
      bool is_meta = false;
      if (role)
        {
          span *list = role == 1 ? s->top : s->meta;
          size_t *n = role == 1 ? &s->n_top : &s->n_meta;
          if (esc || *n == MAX_MEMBERS)
            {
              s->bad = true; /* escaped keys could hide "metadata": let jansson decide */
              return;
            }
          for (size_t i = 0; i < *n; i++)
            if (list[i].key_len == key_len
                && memcmp (s->out.data + list[i].key, s->out.data + key, key_len) == 0)
              {
                s->bad = true; /* duplicate key: jansson keeps the last one */
                return;
              }
          is_meta = role == 1 && key_len == 8 && memcmp (s->out.data + key, "metadata", 8) == 0;
          if (is_meta)
            s->meta_member = (int)*n;
        }
      if (is_meta && (s->p >= s->end || *s->p != '{'))
        {
          s->bad = true; /* metadata that is not an object: jansson words the error */
          return;
        }
      copy_value (s, is_meta ? 2 : 0);
      if (s->bad)
        return;
      if (role)
        {
          span *list = role == 1 ? s->top : s->meta;
          size_t *n = role == 1 ? &s->n_top : &s->n_meta;
          list[(*n)++] = (span){ key, key_len, mstart, s->out.len };
        }
      skip_ws (s);
      if (s->p < s->end && *s->p == ',')
        {
          s->p++;
          husk_buf_putc (&s->out, ',');
          continue;
        }
      if (s->p < s->end && *s->p == '}')
        {
          s->p++;
          husk_buf_putc (&s->out, '}');
          s->depth--;
          return;
        }
      s->bad = true;
      return;
    }
}

static void
copy_array (scan *s)
{
  if (++s->depth > MAX_DEPTH)
    {
      s->bad = true;
      return;
    }
  s->p++;
  husk_buf_putc (&s->out, '[');
  skip_ws (s);
  if (s->p < s->end && *s->p == ']')
    {
      s->p++;
      husk_buf_putc (&s->out, ']');
      s->depth--;
      return;
    }
  for (;;)
    {
      skip_ws (s);
      copy_value (s, 0);
      if (s->bad)
        return;
      skip_ws (s);
      if (s->p < s->end && *s->p == ',')
        {
          s->p++;
          husk_buf_putc (&s->out, ',');
          continue;
        }
      if (s->p < s->end && *s->p == ']')
        {
          s->p++;
          husk_buf_putc (&s->out, ']');
          s->depth--;
          return;
        }
      s->bad = true;
      return;
    }
}

static void
copy_literal (scan *s, const char *lit)
{
  size_t n = strlen (lit);
  if ((size_t)(s->end - s->p) < n || memcmp (s->p, lit, n) != 0)
    {
      s->bad = true;
      return;
    }
  s->p += n;
  husk_buf_append (&s->out, lit, n);
}

static void
copy_value (scan *s, int role)
{
  if (s->p >= s->end)
    {
      s->bad = true;
      return;
    }
  switch (*s->p)
    {
    case '{':
      copy_object (s, role);
      break;
    case '[':
      copy_array (s);
      break;
    case '"':
      copy_string (s, NULL);
      break;
    case 't':
      copy_literal (s, "true");
      break;
    case 'f':
      copy_literal (s, "false");
      break;
    case 'n':
      copy_literal (s, "null");
      break;
    default:
      copy_number (s);
    }
}

/* Returns 1 with the encoding, 0 when the input needs the jansson path. */
int
store_encode_fast (const char *json, char **enc, size_t *enc_len, size_t *rv_off)
{
  size_t len = strlen (json);
  scan s = { .p = json, .end = json + len, .meta_member = -1, .out = HUSK_BUF_INIT };
  husk_buf_reserve (&s.out, len + 1); /* the compact copy is never longer: no regrowth */
  skip_ws (&s);
  if (s.p >= s.end || *s.p != '{')
    s.bad = true;
  if (!s.bad)
    copy_object (&s, 1);
  skip_ws (&s);
  if (s.bad || s.p != s.end)
    {
      husk_buf_free (&s.out);
      return 0;
    }
  const char *c = s.out.data;
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_reserve (&b, s.out.len + 40);
  husk_buf_puts (&b, STORE_RV_PREFIX "\"");
  for (size_t i = 0; i < s.n_meta; i++)
    {
      span *m = &s.meta[i];
      if (m->key_len == 15 && memcmp (c + m->key, "resourceVersion", 15) == 0)
        continue;
      husk_buf_putc (&b, ',');
      husk_buf_append (&b, c + m->start, m->end - m->start);
    }
  husk_buf_putc (&b, '}');
  for (size_t i = 0; i < s.n_top; i++)
    {
      if ((int)i == s.meta_member)
        continue;
      husk_buf_putc (&b, ',');
      husk_buf_append (&b, c + s.top[i].start, s.top[i].end - s.top[i].start);
    }
  husk_buf_putc (&b, '}');
  husk_buf_free (&s.out);
  *enc_len = b.len;
  *enc = husk_buf_steal (&b);
  *rv_off = strlen (STORE_RV_PREFIX);
  return 1;
}

/* ---- from a jansson tree: the bytes jansson's compact dump would give, reordered as
   store_encode_object does, without the text in between. Reals (their %.17g spelling),
   control characters other than \b \f \n \r \t, and deep nesting go to the text path. ---- */

#define TREE_MAX_DEPTH 128

/* Appends without the NUL husk_buf keeps after every append (put back at the end) and
   without a call per byte: the encoder writes a byte or a few at a time. */
static inline void
out_mem (husk_buf *b, const char *p, size_t n)
{
  if (b->len + n + 1 > b->cap)
    husk_buf_reserve (b, n);
  memcpy (b->data + b->len, p, n);
  b->len += n;
}

static inline void
out_byte (husk_buf *b, char c)
{
  if (b->len + 2 > b->cap)
    husk_buf_reserve (b, 1);
  b->data[b->len++] = c;
}

#define out_lit(b, s) out_mem ((b), (s), sizeof (s) - 1)

static bool tree_value (husk_buf *b, const json_t *v, int depth);

static bool
tree_string (husk_buf *b, const char *str, size_t len)
{
  out_byte (b, '"');
  const char *run = str;
  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char)str[i];
      if (c >= 0x20 && c != '"' && c != '\\')
        continue;
      out_mem (b, run, (size_t)(str + i - run));
      run = str + i + 1;
      switch (c)
        {
        case '"':
          out_lit (b, "\\\"");
          break;
        case '\\':
          out_lit (b, "\\\\");
          break;
        case '\b':
          out_lit (b, "\\b");
          break;
        case '\f':
          out_lit (b, "\\f");
          break;
        case '\n':
          out_lit (b, "\\n");
          break;
        case '\r':
          out_lit (b, "\\r");
          break;
        case '\t':
          out_lit (b, "\\t");
          break;
        default:
          return false;
        }
    }
  out_mem (b, run, (size_t)(str + len - run));
  out_byte (b, '"');
  return true;
}

static void
tree_integer (husk_buf *b, json_int_t v)
{
  char tmp[24], *p = tmp + sizeof tmp;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do
    *--p = (char)('0' + u % 10);
  while ((u /= 10) > 0);
  if (v < 0)
    *--p = '-';
  out_mem (b, p, (size_t)(tmp + sizeof tmp - p));
}

/* The members of object o but skip, after a comma when *first is false. */
static bool
tree_members (husk_buf *b, const json_t *o, const char *skip, bool *first, int depth)
{
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)o, k, v)
  {
    if (skip && streq (k, skip))
      continue;
    if (!*first)
      out_byte (b, ',');
    *first = false;
    if (!tree_string (b, k, strlen (k)))
      return false;
    out_byte (b, ':');
    if (!tree_value (b, v, depth + 1))
      return false;
  }
  return true;
}

static bool
tree_value (husk_buf *b, const json_t *v, int depth)
{
  if (depth > TREE_MAX_DEPTH)
    return false;
  switch (json_typeof (v))
    {
    case JSON_OBJECT:
      {
        bool first = true;
        out_byte (b, '{');
        if (!tree_members (b, v, NULL, &first, depth))
          return false;
        out_byte (b, '}');
        return true;
      }
    case JSON_ARRAY:
      out_byte (b, '[');
      for (size_t i = 0; i < json_array_size (v); i++)
        {
          if (i)
            out_byte (b, ',');
          if (!tree_value (b, json_array_get (v, i), depth + 1))
            return false;
        }
      out_byte (b, ']');
      return true;
    case JSON_STRING:
      return tree_string (b, json_string_value (v), json_string_length (v));
    case JSON_INTEGER:
      tree_integer (b, json_integer_value (v));
      return true;
    case JSON_TRUE:
      out_lit (b, "true");
      return true;
    case JSON_FALSE:
      out_lit (b, "false");
      return true;
    case JSON_NULL:
      out_lit (b, "null");
      return true;
    default: /* JSON_REAL */
      return false;
    }
}

int
store_encode_tree (const json_t *obj, char **enc, size_t *enc_len, size_t *rv_off)
{
  const json_t *meta = json_object_get (obj, "metadata");
  if (!json_is_object (obj) || (meta && !json_is_object (meta)))
    return 0;
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_reserve (&b, 500); /* 512 bytes: within malloc's small bins; bigger objects grow it */
  out_lit (&b, STORE_RV_PREFIX "\"");
  bool first = false;
  bool ok = !meta || tree_members (&b, meta, "resourceVersion", &first, 1);
  out_byte (&b, '}');
  first = false;
  ok = ok && tree_members (&b, obj, "metadata", &first, 0);
  out_byte (&b, '}');
  if (!ok)
    {
      husk_buf_free (&b);
      return 0;
    }
  b.data[b.len] = '\0';
  *enc_len = b.len;
  *enc = husk_buf_steal (&b);
  *rv_off = strlen (STORE_RV_PREFIX);
  return 1;
}
