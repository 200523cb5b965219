/* husk: cleanup macros and allocators that abort on exhaustion (STYLE.md). */
#ifndef HUSK_UTIL_H
#define HUSK_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__ ((cleanup (f)))
#define _unused_ __attribute__ ((unused))
#define _printf_(a, b) __attribute__ ((format (printf, a, b)))
#define _noreturn_ __attribute__ ((noreturn))

#define DEFINE_CLEANUP(type, fn)                                                                   \
  static inline void fn##p (type *p)                                                               \
  {                                                                                                \
    if (*p)                                                                                        \
      fn (*p);                                                                                     \
  }

#define TAKE_PTR(p)                                                                                \
  ({                                                                                               \
    __typeof__ (p) t_ = (p);                                                                       \
    (p) = NULL;                                                                                    \
    t_;                                                                                            \
  })
#define TAKE_FD(fd)                                                                                \
  ({                                                                                               \
    int t_ = (fd);                                                                                 \
    (fd) = -1;                                                                                     \
    t_;                                                                                            \
  })

#define ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))
#define streq(a, b) (strcmp ((a), (b)) == 0)

static inline void
freep (void *p)
{
  free (*(void **) p);
}
#define _cleanup_free_ _cleanup_ (freep)

static inline void
closep (int *fd)
{
  if (*fd >= 0)
    close (*fd);
}
#define _cleanup_close_ _cleanup_ (closep)

static inline void
fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}
#define _cleanup_fclose_ _cleanup_ (fclosep)

/* Frees a NULL-terminated array of strings and the array. */
void strv_free (char **v);
static inline void
strv_freep (char ***v)
{
  strv_free (*v);
}
#define _cleanup_strv_ _cleanup_ (strv_freep)

_noreturn_ void husk_oom (void);
void *xmalloc (size_t n);
void *xzalloc (size_t n);
void *xcalloc (size_t nmemb, size_t size);
void *xrealloc (void *p, size_t n);
void *xreallocarray (void *p, size_t nmemb, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) _printf_ (1, 2);
char *xvasprintf (const char *fmt, va_list ap) _printf_ (1, 0);

#endif
