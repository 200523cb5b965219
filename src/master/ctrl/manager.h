/* husk controllers: the controller manager inside `husk master`. */
#ifndef HUSK_CTRL_MANAGER_H
#define HUSK_CTRL_MANAGER_H

#include "lib/error.h"

typedef struct ctrl_manager ctrl_manager;

/* Starts the controllers in threads. They act through the master's own HTTPS API with the
   server, token and CA of data_dir/admin.kubeconfig (written by api_server_start: the bound
   address, or 127.0.0.1 when bound to every address). */
int ctrl_manager_start (const char *data_dir, ctrl_manager **out, husk_error **err);
/* Stops and joins every thread. */
void ctrl_manager_stop (ctrl_manager *m);

#endif
