/* husk runtime: the file descriptors of a freshly forked setup process. The caller's stdio
   fds go onto 0/1/2; the runtime's own fds (sync socket, exec.fifo, console socket, namespace
   fds) are moved out of the way; every other inherited fd is closed at once, so that a
   container being built never holds another container's pipes (callers create containers
   from several threads). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>

#include "runtime/internal.h"

static int
cmp_int (const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

/* Moves each kept fd below floor to a number >= floor (close-on-exec). */
static int
lift_kept (int floor, int *const *keep, size_t nkeep, husk_error **err)
{
  for (size_t i = 0; i < nkeep; i++)
    {
      int fd = *keep[i];
      if (fd < 0 || fd >= floor)
        continue;
      int n = fcntl (fd, F_DUPFD_CLOEXEC, floor);
      if (n < 0)
        return husk_err_errno (err, "move fd %d", fd);
      close (fd);
      *keep[i] = n;
    }
  return 0;
}

/* dup2 through a copy above floor: handles stdio[i] == i (dup2 onto itself would keep
   close-on-exec) and one fd on several slots. */
static int
place_stdio (const int stdio[3], int floor, husk_error **err)
{
  int tmp[3] = {-1, -1, -1};
  int r = 0;
  for (int i = 0; i < 3 && r == 0; i++)
    if (stdio[i] >= 0 && (tmp[i] = fcntl (stdio[i], F_DUPFD_CLOEXEC, floor)) < 0)
      r = husk_err_errno (err, "stdio fd %d", stdio[i]);
  for (int i = 0; i < 3 && r == 0; i++)
    if (tmp[i] >= 0 && dup2 (tmp[i], i) < 0)
      r = husk_err_errno (err, "dup2 stdio fd %d onto %d", stdio[i], i);
  for (int i = 0; i < 3; i++)
    if (tmp[i] >= 0)
      close (tmp[i]);
  return r;
}

static void
close_gaps (int floor, int *const *keep, size_t nkeep)
{
  int *v = xcalloc (nkeep + 1, sizeof *v);
  size_t n = 0;
  for (size_t i = 0; i < nkeep; i++)
    if (*keep[i] >= floor)
      v[n++] = *keep[i];
  qsort (v, n, sizeof *v, cmp_int);
  unsigned lo = (unsigned) floor;
  for (size_t i = 0; i < n; i++)
    {
      if ((unsigned) v[i] > lo)
        syscall (SYS_close_range, lo, (unsigned) v[i] - 1, 0);
      lo = (unsigned) v[i] + 1;
    }
  syscall (SYS_close_range, lo, ~0U, 0);
  free (v);
}

int
rt_child_fds (const int stdio[3], int preserve_fds, int *const *keep, size_t nkeep,
              husk_error **err)
{
  int floor = 3 + (preserve_fds > 0 ? preserve_fds : 0);
  int r = lift_kept (floor, keep, nkeep, err);
  if (r < 0 || (r = place_stdio (stdio, floor, err)) < 0)
    return r;
  close_gaps (floor, keep, nkeep);
  return 0;
}
