/* husk api: the local listener of the master's in-process clients (scheduler, controllers,
   leader election): plain HTTP on a Unix socket in the data dir, served by the same handlers
   as the HTTPS port, no TLS on either end. */
#ifndef HUSK_API_LOCAL_H
#define HUSK_API_LOCAL_H

#include "lib/error.h"
#include "src/master/api/api.h"

typedef struct api_local api_local;

/* Listens on <data_dir>/api.sock (mode 0600; a stale socket is replaced). Requests still
   authenticate with a bearer token, exactly as on the HTTPS port; on top, a connection whose
   peer is not this very process (SO_PEERCRED pid and uid) is closed before any request. */
int api_local_start (api_server *srv, const char *data_dir, api_local **out, husk_error **err);
/* The socket's path; valid until api_local_stop. */
const char *api_local_path (const api_local *l);
/* Stops the daemon, removes the socket. NULL is fine. */
void api_local_stop (api_local *l);

#endif
