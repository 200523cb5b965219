/* husk node: seccompProfile and sysctl admission (pod/seccontext.c). pod_sysctl_admit and
   pod_sysctl_json are declared in node-internal.h, where the sandbox and sync code find them. */
#ifndef HUSK_NODE_SECCONTEXT_H
#define HUSK_NODE_SECCONTEXT_H

#include "src/node/node-internal.h"

/* seccompProfile, the container's else the pod's, into lin's "seccomp": RuntimeDefault
   (docker's profile for the effective capabilities in proc), Localhost (a file under the
   node's seccomp root, checked by the runtime's parser), Unconfined or none (nothing).
   Returns 0, or -EINVAL with err naming the profile's path. */
int pod_seccomp_apply (node_agent *a, node_pod *p, node_ctr *c, json_t *proc, json_t *lin,
                       husk_error **err);

#endif
