/* husk controllers: the controller manager inside `husk master`. */
#ifndef HUSK_CTRL_MANAGER_H
#define HUSK_CTRL_MANAGER_H

#include "lib/error.h"

typedef struct ctrl_manager ctrl_manager;

/* Starts the controllers in threads. They act through the master's own API with the token
   of data_dir/admin.kubeconfig: over local_socket (api/local.c, plain HTTP on a Unix socket)
   when given, else over HTTPS with the kubeconfig's server and CA (written by
   api_server_start: the bound address, or 127.0.0.1 when bound to every address). */
int ctrl_manager_start (const char *data_dir, const char *local_socket, ctrl_manager **out,
                        husk_error **err);
/* Stops and joins every thread. */
void ctrl_manager_stop (ctrl_manager *m);

#endif
