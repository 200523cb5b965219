/* husk: the one error object (STYLE.md). Library code returns errors, only the top reports. */
#ifndef HUSK_ERROR_H
#define HUSK_ERROR_H

#include "lib/util.h"

typedef struct husk_error
{
  int errnum; /* errno value, 0 when the failure has none */
  char *msg;  /* full message, context prefixes included */
} husk_error;

/* Sets *err (if err is not NULL and *err is NULL) and returns -errnum-1 (always < 0).
   errnum classifies the failure (EINVAL for bad input, ENOENT, EEXIST, ...); the message
   is exactly the formatted text. */
int husk_err (husk_error **err, int errnum, const char *fmt, ...) _printf_ (3, 4);

/* For failed system calls: like husk_err, the message ending ": strerror(errnum)". */
int husk_err_sys (husk_error **err, int errnum, const char *fmt, ...) _printf_ (3, 4);

/* husk_err_sys with errno. */
int husk_err_errno (husk_error **err, const char *fmt, ...) _printf_ (2, 3);

/* Prefixes "<context>: " to the message of *err and returns its -errnum-1. */
int husk_err_wrap (husk_error **err, const char *fmt, ...) _printf_ (2, 3);

/* Returns the return code husk_err gave for *err (-1 when err is NULL or empty). */
int husk_err_code (husk_error *err);

void husk_error_free (husk_error *err);
DEFINE_CLEANUP (husk_error *, husk_error_free)
#define _cleanup_error_ _cleanup_ (husk_error_freep)

/* Moves the error out: *dst takes it, *src becomes NULL. */
void husk_error_move (husk_error **dst, husk_error **src);

#endif
