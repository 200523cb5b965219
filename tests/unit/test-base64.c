#include "config.h"

#include <errno.h>

#include "lib/base64.h"
#include "lib/util.h"
#include "tests/unit/tap.h"

static char *
dec (const char *s)
{
  char *out = NULL;
  size_t len = 0;
  if (husk_base64_decode (s, strlen (s), &out, &len) < 0)
    return xstrdup ("(invalid)");
  return out;
}

#define DEC(in, want, name)                                                                        \
  do                                                                                               \
    {                                                                                              \
      _cleanup_free_ char *v_ = dec (in);                                                          \
      is_str (v_, want, name);                                                                     \
    }                                                                                              \
  while (0)

int
main (void)
{
  _cleanup_free_ char *e0 = husk_base64_encode ("", 0);
  _cleanup_free_ char *e1 = husk_base64_encode ("f", 1);
  _cleanup_free_ char *e3 = husk_base64_encode ("foobar", 6);
  is_str (e0, "", "encode empty");
  is_str (e1, "Zg==", "encode pads");
  is_str (e3, "Zm9vYmFy", "encode whole quanta");

  DEC ("Zm9vYmFy", "foobar", "decode");
  DEC ("Zg==", "f", "decode with padding");
  DEC ("Zg", "f", "decode without padding");
  DEC ("Zm9v\nYmFy\n", "foobar", "whitespace ignored (kubeconfig data wraps)");
  DEC ("-_8=", "\xfb\xff", "URL-safe alphabet");
  DEC ("+/8=", "\xfb\xff", "standard alphabet");
  DEC ("Zm9v!mFy", "(invalid)", "a foreign character is refused");
  DEC ("Z", "(invalid)", "a lone character is refused");

  unsigned char bin[256];
  for (int i = 0; i < 256; i++)
    bin[i] = (unsigned char) i;
  _cleanup_free_ char *eb = husk_base64_encode (bin, sizeof bin);
  _cleanup_free_ char *back = NULL;
  size_t len = 0;
  ok (husk_base64_decode (eb, strlen (eb), &back, &len) == 0 && len == 256
          && memcmp (back, bin, 256) == 0,
      "binary round trip");
  return tap_done ();
}
