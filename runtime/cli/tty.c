/* husk-runtime: a terminal in the foreground without --console-socket, as runc does for
   `run` and `exec -t`: the runtime keeps one end of a socket pair as the console socket,
   takes the pty master from it and relays it to its own stdin/stdout until the process
   exits. stdin goes to raw mode when it is a terminal (restored at the end), its window
   size is copied to the pty (again on SIGWINCH), other signals are forwarded. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>

#include "runtime/cli/cli.h"

int
cli_tty_socketpair (int sv[2])
{
  return socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

void
cli_tty_winsize (unsigned short *rows, unsigned short *cols)
{
  struct winsize ws;
  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
    {
      *rows = ws.ws_row;
      *cols = ws.ws_col;
    }
}

/* The pty master if the container's init (or exec) sent one; it did before the call that
   returned, so nothing is waited for. -1 when there is none. */
int
cli_tty_take_master (int sock)
{
  char data;
  struct iovec iov = {&data, 1};
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
  if (recvmsg (sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
    return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  if (c == NULL || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN (sizeof (int)))
    return -1;
  int fd;
  memcpy (&fd, CMSG_DATA (c), sizeof fd);
  return fd;
}

typedef struct relay
{
  int master, sigfd, pidfd;
  bool in_open, out_open, exited;
  char pending[4096]; /* stdin bytes not yet taken by the pty */
  size_t npending;
} relay;

static void
copy_winsize (int master)
{
  struct winsize ws;
  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
    ioctl (master, TIOCSWINSZ, &ws);
}

static bool
write_all (int fd, const char *p, size_t n)
{
  while (n > 0)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return false;
      p += w;
      n -= (size_t) w;
    }
  return true;
}

/* stdin EOF: a canonical-mode reader in the container sees end of file (VEOF). */
static void
send_eof (relay *r)
{
  struct termios t;
  if (tcgetattr (r->master, &t) == 0 && (t.c_lflag & ICANON) && r->npending < sizeof r->pending)
    r->pending[r->npending++] = (char) t.c_cc[VEOF];
}

static void
on_stdin (relay *r)
{
  ssize_t n = read (STDIN_FILENO, r->pending, sizeof r->pending);
  if (n > 0)
    r->npending = (size_t) n;
  else if (n == 0 || errno != EINTR)
    {
      r->in_open = false;
      send_eof (r);
    }
}

static void
on_master_writable (relay *r)
{
  ssize_t w = write (r->master, r->pending, r->npending);
  if (w > 0)
    {
      memmove (r->pending, r->pending + w, r->npending - (size_t) w);
      r->npending -= (size_t) w;
    }
  else if (w < 0 && errno != EAGAIN && errno != EINTR)
    r->npending = 0, r->in_open = false;
}

static void
on_master_readable (relay *r)
{
  char buf[8192];
  ssize_t n = read (r->master, buf, sizeof buf);
  if (n > 0)
    {
      if (!write_all (STDOUT_FILENO, buf, (size_t) n))
        r->out_open = false;
    }
  else if (n == 0 || (errno != EAGAIN && errno != EINTR))
    r->out_open = false; /* EIO: every slave fd is closed */
}

static void
on_signal (relay *r, pid_t pid)
{
  struct signalfd_siginfo si;
  while (read (r->sigfd, &si, sizeof si) == (ssize_t) sizeof si)
    {
      if ((int) si.ssi_signo == SIGWINCH)
        copy_winsize (r->master);
      else
        kill (pid, (int) si.ssi_signo);
    }
}

static void
relay_loop (relay *r, pid_t pid)
{
  while (r->out_open)
    {
      struct pollfd p[4] = {
        {r->in_open && r->npending == 0 ? STDIN_FILENO : -1, POLLIN, 0},
        {r->master, (short) (POLLIN | (r->npending ? POLLOUT : 0)), 0},
        {r->sigfd, POLLIN, 0},
        {r->exited ? -1 : r->pidfd, POLLIN, 0},
      };
      /* After the exit, only what the pty still holds is read (bounded wait). */
      int n = poll (p, 4, r->exited ? 200 : -1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      if (p[2].revents) /* first: a resize lands before the input that follows it */
        on_signal (r, pid);
      if (p[0].revents)
        on_stdin (r);
      if (p[1].revents & POLLOUT)
        on_master_writable (r);
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
        on_master_readable (r);
      if (p[3].revents)
        r->exited = true;
    }
}

static int
shell_status (pid_t pid)
{
  int ws = 0;
  pid_t w;
  do
    w = waitpid (pid, &ws, __WALL);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return 255;
  if (WIFEXITED (ws))
    return WEXITSTATUS (ws);
  return WIFSIGNALED (ws) ? 128 + WTERMSIG (ws) : 255;
}

int
cli_tty_relay (int master, pid_t pid)
{
  static const int sigs[] = {SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  sigset_t set, old;
  sigemptyset (&set);
  for (size_t i = 0; i < ARRAY_SIZE (sigs); i++)
    sigaddset (&set, sigs[i]);
  sigprocmask (SIG_BLOCK, &set, &old);
  relay r = {.master = master, .in_open = true, .out_open = true};
  r.sigfd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  r.pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  fcntl (master, F_SETFL, fcntl (master, F_GETFL) | O_NONBLOCK);
  struct termios saved;
  bool raw = isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0;
  if (raw)
    {
      struct termios t = saved;
      cfmakeraw (&t);
      tcsetattr (STDIN_FILENO, TCSANOW, &t);
      copy_winsize (master);
    }
  relay_loop (&r, pid);
  if (raw)
    tcsetattr (STDIN_FILENO, TCSANOW, &saved);
  int status = shell_status (pid);
  if (r.pidfd >= 0)
    close (r.pidfd);
  if (r.sigfd >= 0)
    close (r.sigfd);
  close (master);
  sigprocmask (SIG_SETMASK, &old, NULL);
  return status;
}
