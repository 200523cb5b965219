/* husk: a tiny TAP producer for unit tests (automake's tap-driver reads it).
   Plan is printed at the end; exit status is non-zero when any test failed. */
#ifndef HUSK_TAP_H
#define HUSK_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int
tap_ok (int cond, const char *file, int line, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));
static inline int
tap_ok (int cond, const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  printf ("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  printf ("\n");
  if (!cond)
    {
      tap_failed++;
      printf ("#   failed at %s:%d\n", file, line);
    }
  fflush (stdout);
  return cond;
}

#define ok(cond, ...) tap_ok (!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, name)                                                                    \
  do                                                                                               \
    {                                                                                              \
      const char *g_ = (got), *w_ = (want);                                                        \
      if (!ok (g_ && w_ ? strcmp (g_, w_) == 0 : g_ == w_, "%s", name))                            \
        printf ("#   got:      '%s'\n#   expected: '%s'\n", g_ ? g_ : "(null)",                    \
                w_ ? w_ : "(null)");                                                               \
    }                                                                                              \
  while (0)
#define is_int(got, want, name)                                                                    \
  do                                                                                               \
    {                                                                                              \
      long long g_ = (long long) (got), w_ = (long long) (want);                                   \
      if (!ok (g_ == w_, "%s", name))                                                              \
        printf ("#   got: %lld expected: %lld\n", g_, w_);                                         \
    }                                                                                              \
  while (0)

static inline void
tap_skip_all (const char *why)
{
  printf ("1..0 # SKIP %s\n", why);
  exit (77);
}

static inline int
tap_done (void)
{
  printf ("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}

#endif
