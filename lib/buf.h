/* husk: a growable byte buffer, always NUL-terminated. */
#ifndef HUSK_BUF_H
#define HUSK_BUF_H

#include "lib/util.h"

typedef struct husk_buf
{
  char *data; /* NUL-terminated; NULL until the first append */
  size_t len;
  size_t cap;
} husk_buf;

#define HUSK_BUF_INIT {NULL, 0, 0}

void husk_buf_reserve (husk_buf *b, size_t extra);
void husk_buf_append (husk_buf *b, const void *data, size_t len);
void husk_buf_puts (husk_buf *b, const char *s);
void husk_buf_putc (husk_buf *b, char c);
void husk_buf_printf (husk_buf *b, const char *fmt, ...) _printf_ (2, 3);
/* Appends s percent-encoded for a URL query (RFC 3986 unreserved characters kept). */
void husk_buf_put_urlencoded (husk_buf *b, const char *s);
void husk_buf_reset (husk_buf *b);
/* Hands the data to the caller ("" when empty) and resets the buffer. */
char *husk_buf_steal (husk_buf *b);
void husk_buf_free (husk_buf *b);
static inline const char *
husk_buf_str (const husk_buf *b)
{
  return b->data ? b->data : "";
}
#define _cleanup_buf_ _cleanup_ (husk_buf_free)

#endif
