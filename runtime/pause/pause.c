/* husk-pause: the pod sandbox's first process. Holds the pod's namespaces, reaps zombies
   (it is pid 1 of the pod's pid ns when processes are shared), exits 0 on SIGTERM/SIGINT.
   Freestanding: no libc at all, raw system calls and a signalfd (no signal handlers, so
   no sigreturn trampoline), which keeps the static binary a few KB. */
#include <sys/syscall.h>

#if defined(__x86_64__)
__asm__ (".text\n.global _start\n_start:\n xor %rbp, %rbp\n mov %rsp, %rdi\n"
         " and $-16, %rsp\n call pause_main\n hlt\n");

static long
sys4 (long n, long a, long b, long c, long d)
{
  long ret;
  register long r10 __asm__ ("r10") = d;
  __asm__ volatile ("syscall"
                    : "=a"(ret)
                    : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                    : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
__asm__ (".text\n.global _start\n_start:\n mov x29, #0\n mov x0, sp\n bl pause_main\n");

static long
sys4 (long n, long a, long b, long c, long d)
{
  register long x8 __asm__ ("x8") = n;
  register long x0 __asm__ ("x0") = a;
  register long x1 __asm__ ("x1") = b;
  register long x2 __asm__ ("x2") = c;
  register long x3 __asm__ ("x3") = d;
  __asm__ volatile ("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
#else
#error "husk-pause: add the system call convention of this architecture"
#endif

#define SIG_INT 2
#define SIG_TERM 15
#define SIG_CHLD 17
#define BIT(s) (1UL << ((s) - 1))
#define WNOHANG_ 1
#define SFD_CLOEXEC_ 02000000

static unsigned long
len (const char *s)
{
  unsigned long n = 0;
  while (s[n])
    n++;
  return n;
}

static void
say (int fd, const char *s)
{
  sys4 (SYS_write, fd, (long) s, (long) len (s), 0);
}

static _Noreturn void
quit (int code)
{
  for (;;)
    sys4 (SYS_exit_group, code, 0, 0, 0);
}

static int
streq_ (const char *a, const char *b)
{
  while (*a && *a == *b)
    a++, b++;
  return *a == *b;
}

void pause_main (long *sp);

void
pause_main (long *sp)
{
  long argc = sp[0];
  char **argv = (char **) (sp + 1);
  if (argc > 1 && (streq_ (argv[1], "-v") || streq_ (argv[1], "--version")))
    {
      say (1, "husk-pause\n");
      quit (0);
    }
  if (sys4 (SYS_getpid, 0, 0, 0, 0) != 1)
    say (2, "husk-pause: warning: not running as pid 1\n");
  unsigned long mask = BIT (SIG_INT) | BIT (SIG_TERM) | BIT (SIG_CHLD);
  if (sys4 (SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, (long) &mask, 0, 8) < 0)
    quit (1);
  long fd = sys4 (SYS_signalfd4, -1, (long) &mask, 8, SFD_CLOEXEC_);
  if (fd < 0)
    quit (1);
  for (;;)
    {
      unsigned int info[32]; /* struct signalfd_siginfo: 128 bytes, ssi_signo first */
      long n = sys4 (SYS_read, fd, (long) info, sizeof info, 0);
      if (n < (long) sizeof info)
        continue; /* EINTR */
      if (info[0] == SIG_INT || info[0] == SIG_TERM)
        quit (0);
      while (sys4 (SYS_wait4, -1, 0, WNOHANG_, 0) > 0)
        ;
    }
}
