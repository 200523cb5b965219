#include "config.h"

#include "lib/buf.h"
#include "tests/unit/tap.h"

int
main (void)
{
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  is_str (husk_buf_str (&b), "", "empty buffer reads as empty string");
  husk_buf_reserve (&b, 100);
  ok (b.data && b.data[0] == '\0', "reserve alone leaves a terminated empty string");
  husk_buf_puts (&b, "hello");
  husk_buf_putc (&b, ' ');
  husk_buf_printf (&b, "%s %d", "world", 42);
  is_str (b.data, "hello world 42", "puts, putc, printf");
  is_int (b.len, 14, "length tracked");

  for (int i = 0; i < 10000; i++)
    husk_buf_printf (&b, "%04d", i % 10000);
  is_int (b.len, 14 + 40000, "grows over many appends");
  ok (b.data[b.len] == '\0', "always NUL-terminated");
  ok (memcmp (b.data + 14, "00000001", 8) == 0, "contents kept across growth");

  husk_buf_append (&b, "\0x", 2);
  is_int (b.len, 40016, "binary append keeps NULs");

  husk_buf_reset (&b);
  is_int (b.len, 0, "reset empties");
  husk_buf_puts (&b, "abc");
  _cleanup_free_ char *s = husk_buf_steal (&b);
  is_str (s, "abc", "steal hands over data");
  ok (b.data == NULL && b.len == 0, "steal resets the buffer");
  _cleanup_free_ char *e = husk_buf_steal (&b);
  is_str (e, "", "steal of empty buffer gives empty string");

  husk_buf_put_urlencoded (&b, "sh -c 'exit 3'/a_b.c~é&=");
  is_str (husk_buf_str (&b), "sh%20-c%20%27exit%203%27%2Fa_b.c~%C3%A9%26%3D",
          "put_urlencoded keeps unreserved characters and percent-encodes the rest");
  husk_buf_free (&b);
  return tap_done ();
}
