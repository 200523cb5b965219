/* husk runtime: small file helpers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>

#include "lib/path.h"
#include "runtime/internal.h"

int
rt_write_file (const char *path, const char *data, husk_error **err)
{
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC | O_TRUNC);
  if (fd < 0)
    return husk_err_errno (err, "open %s", path);
  size_t len = strlen (data);
  if (write (fd, data, len) != (ssize_t) len)
    return husk_err_errno (err, "write %s (\"%s\")", path, data);
  return 0;
}

int
rt_write_pid_file (const char *path, pid_t pid, husk_error **err)
{
  char v[16];
  snprintf (v, sizeof v, "%d", (int) pid);
  return husk_write_file_atomic (path, v, strlen (v), 0644, err);
}

bool
rt_skip_limits_env (void)
{
  const char *v = getenv (RT_ENV_SKIP_LIMITS);
  return v && *v && !streq (v, "0") && !streq (v, "false");
}

int
rt_read_file (const char *path, char **out, husk_error **err)
{
  char *data = NULL;
  size_t len = 0;
  int r = husk_read_file (path, &data, &len, err);
  if (r < 0)
    return r;
  /* An empty file: make sure the result is "" whatever the reader left in the buffer. */
  if (data == NULL || len == 0)
    {
      free (data);
      data = xstrdup ("");
    }
  *out = data;
  return 0;
}
