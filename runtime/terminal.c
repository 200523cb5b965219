/* husk runtime: the container's terminal: a pty from the container's devpts whose master
   goes to the caller's --console-socket and whose slave becomes stdio and /dev/console. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>

#include "runtime/internal.h"

int
rt_terminal_setup (int console_socket, unsigned short rows, unsigned short cols,
                   bool mount_console, husk_error **err)
{
  if (console_socket < 0)
    return husk_err (err, EINVAL, "process.terminal: needs --console-socket");
  _cleanup_close_ int master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return husk_err_errno (err, "process.terminal: open /dev/ptmx");
  if (unlockpt (master) < 0)
    return husk_err_errno (err, "process.terminal: unlockpt");
  char name[64];
  if (ptsname_r (master, name, sizeof name) != 0)
    return husk_err_errno (err, "process.terminal: ptsname");
  _cleanup_close_ int slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return husk_err_errno (err, "process.terminal: open %s", name);
  if (rows || cols)
    {
      struct winsize ws = {.ws_row = rows, .ws_col = cols};
      ioctl (slave, TIOCSWINSZ, &ws);
    }
  if (mount_console)
    {
      _cleanup_close_ int fd = open ("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
      if (fd >= 0 && mount (name, "/dev/console", NULL, MS_BIND, NULL) < 0)
        return husk_err_errno (err, "process.terminal: bind %s on /dev/console", name);
    }
  int r = rt_sync_send_fd (console_socket, master);
  if (r < 0)
    return husk_err_sys (err, -r, "process.terminal: send the pty master to the console socket");
  if (setsid () < 0 && errno != EPERM)
    return husk_err_errno (err, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return husk_err_errno (err, "process.terminal: TIOCSCTTY");
  for (int i = 0; i < 3; i++)
    if (dup2 (slave, i) < 0)
      return husk_err_errno (err, "process.terminal: dup2");
  return 0;
}
