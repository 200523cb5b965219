/* husk controllers: leader election through a coordination.k8s.io Lease, as client-go's
   leaderelection: several masters share one store; the one holding the Lease runs the
   scheduler and the controllers. */
#ifndef HUSK_CTRL_LEADER_H
#define HUSK_CTRL_LEADER_H

#include <stdbool.h>

#include "lib/error.h"

typedef struct ctrl_leader ctrl_leader;

typedef struct ctrl_leader_config
{
  const char *data_dir;  /* admin.kubeconfig of the local API server */
  const char *local_socket; /* its in-process socket (api/local.c); NULL: the kubeconfig's URL */
  const char *ns, *name; /* the Lease: kube-system/husk-master */
  const char *identity;  /* holderIdentity; NULL: <hostname>_<random> */
  int lease_seconds;     /* leaseDurationSeconds (15) */
  int renew_seconds;     /* renew deadline: leadership ends without a renewal this long (10) */
  int retry_seconds;     /* between attempts (2) */
  /* Called from the election thread when this master becomes the leader and when it stops
     being one (also at ctrl_leader_stop while leading). */
  void (*started) (void *ud);
  void (*stopped) (void *ud);
  void *ud;
} ctrl_leader_config;

/* Starts campaigning in a thread. Zero durations take the defaults above. */
int ctrl_leader_start (const ctrl_leader_config *cfg, ctrl_leader **out, husk_error **err);
/* Stops campaigning; a leader calls stopped, then releases the Lease (holderIdentity
   emptied) so that another master takes over at once. */
void ctrl_leader_stop (ctrl_leader *l);
bool ctrl_leader_is_leader (const ctrl_leader *l);

#endif
