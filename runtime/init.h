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
} rt_init_args;

_noreturn_ void rt_init_stage1 (const rt_spec *spec, rt_init_args *a);
_noreturn_ void rt_init_stage2 (const rt_spec *spec, const rt_init_args *a);

#endif
