#include "config.h"

#include <errno.h>

#include "lib/error.h"
#include "tests/unit/tap.h"

static int
inner (husk_error **err)
{
  return husk_err_sys (err, ENOENT, "open %s", "/nope");
}

static int
outer (husk_error **err)
{
  int r = inner (err);
  if (r < 0)
    return husk_err_wrap (err, "pod %s", "default/web");
  return 0;
}

int
main (void)
{
  _cleanup_error_ husk_error *err = NULL;
  int r = outer (&err);
  ok (r < 0, "error path returns negative");
  is_int (r, -ENOENT - 1, "return code is -errnum-1");
  is_str (err ? err->msg : NULL, "pod default/web: open /nope: No such file or directory",
          "wrap prefixes context and keeps strerror");
  is_int (err ? err->errnum : 0, ENOENT, "errnum kept");
  is_int (husk_err_code (err), -ENOENT - 1, "husk_err_code");

  /* the first error wins: a second husk_err does not overwrite */
  husk_err (&err, EINVAL, "second");
  is_str (err->msg, "pod default/web: open /nope: No such file or directory", "first error kept");

  _cleanup_error_ husk_error *plain = NULL;
  r = husk_err (&plain, 0, "bad value %d", 7);
  is_int (r, -1, "errnum 0 returns -1");
  is_str (plain->msg, "bad value 7", "husk_err keeps the message as given");
  _cleanup_error_ husk_error *inval = NULL;
  is_int (husk_err (&inval, EINVAL, "bad"), -EINVAL - 1, "EINVAL code");
  is_str (inval->msg, "bad", "no strerror for validation errors");

  is_int (husk_err (NULL, EIO, "ignored"), -EIO - 1, "NULL err pointer is allowed");

  _cleanup_error_ husk_error *moved = NULL;
  husk_error_move (&moved, &plain);
  ok (plain == NULL && moved && streq (moved->msg, "bad value 7"), "move hands over");

  errno = EACCES;
  _cleanup_error_ husk_error *e2 = NULL;
  husk_err_errno (&e2, "write %s", "x");
  is_str (e2->msg, "write x: Permission denied", "husk_err_errno uses errno");
  return tap_done ();
}
