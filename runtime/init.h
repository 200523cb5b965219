/* husk runtime: the container's setup processes (init.c) and the runtime side that drives
   them (create.c). */
#ifndef HUSK_RUNTIME_INIT_H
#define HUSK_RUNTIME_INIT_H

#include "runtime/internal.h"

typedef struct rt_init_args
{
  int sync;           /* child end of the SOCK_SEQPACKET pair */
  int console_socket; /* -1 or the --console-socket connection */
  int fifo_fd;        /* O_PATH fd of <state>/exec.fifo, opened by the runtime */
  bool no_pivot;
  int preserve_fds;
  int stdio[3];       /* the caller's fds for 0/1/2, -1: inherit */
  bool run;           /* create + start: no READY, no exec.fifo; exec closes the sync socket */
  bool want_state;    /* hooks need the state: the init waits for GO carrying it */
  unsigned short rows, cols; /* the pty's window size, 0: process.consoleSize */
} rt_init_args;

/* The setup process when namespaces are joined or a user ns is made: it forks the init. */
_noreturn_ void rt_init_stage1 (const rt_spec *spec, rt_init_args *a);
/* The init cloned straight into its namespaces and cgroup (rt_clone_container). */
_noreturn_ void rt_init_direct (const rt_spec *spec, rt_init_args *a);

#endif
