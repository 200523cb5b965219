#include "config.h"

#include <errno.h>

#include "lib/error.h"

static int
code_of (int errnum)
{
  return -errnum - 1;
}

static int
set_error (husk_error **err, int errnum, bool with_strerror, const char *fmt, va_list ap)
{
  if (err == NULL || *err != NULL)
    return code_of (errnum);
  _cleanup_free_ char *msg = xvasprintf (fmt, ap);
  husk_error *e = xzalloc (sizeof *e);
  e->errnum = errnum;
  e->msg = with_strerror ? xasprintf ("%s: %s", msg, strerror (errnum)) : TAKE_PTR (msg);
  *err = e;
  return code_of (errnum);
}

int
husk_err (husk_error **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  int r = set_error (err, errnum, false, fmt, ap);
  va_end (ap);
  return r;
}

int
husk_err_sys (husk_error **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  int r = set_error (err, errnum, true, fmt, ap);
  va_end (ap);
  return r;
}

int
husk_err_errno (husk_error **err, const char *fmt, ...)
{
  int errnum = errno;
  va_list ap;
  va_start (ap, fmt);
  int r = set_error (err, errnum, true, fmt, ap);
  va_end (ap);
  return r;
}

int
husk_err_wrap (husk_error **err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *ctx = xvasprintf (fmt, ap);
  va_end (ap);
  char *msg = xasprintf ("%s: %s", ctx, (*err)->msg);
  free ((*err)->msg);
  (*err)->msg = msg;
  return code_of ((*err)->errnum);
}

int
husk_err_code (husk_error *err)
{
  return err ? code_of (err->errnum) : -1;
}

void
husk_error_free (husk_error *err)
{
  if (err == NULL)
    return;
  free (err->msg);
  free (err);
}

void
husk_error_move (husk_error **dst, husk_error **src)
{
  husk_error_free (*dst);
  *dst = TAKE_PTR (*src);
}
