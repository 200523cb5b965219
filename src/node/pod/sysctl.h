/* husk node: sysctl names as kubelet's sysctl admission reads them (pod/sysctl.c, pure:
   tests/unit/test-node-sysctl.c links it alone). */
#ifndef HUSK_NODE_SYSCTL_H
#define HUSK_NODE_SYSCTL_H

#include <stdbool.h>

#include "lib/error.h"

/* k8s.io/component-helpers NormalizeName: a name whose first separator is '/' has its
   '.' and '/' swapped ("net/ipv4/conf/eth0.100/rp_filter" is
   "net.ipv4.conf.eth0/100.rp_filter"); any other name is returned as it is. Allocated. */
char *sysctl_normalize (const char *name);

/* The kernel namespace a (dotted) sysctl or prefix lives in: "net", "ipc", or NULL. */
const char *sysctl_namespace (const char *name);

/* kubelet 1.32's safe set, allowed on every node. */
bool sysctl_is_safe (const char *name);

/* Checks --allowed-unsafe-sysctls as kubelet's NewAllowlist does: comma-separated names or
   prefixes ending in '*', each at most 253 characters of [a-z0-9] segments joined by '.' or
   '/', namespaced once normalized. Errors name the flag and the item. NULL or "" is fine. */
int sysctl_allowlist_check (const char *list, husk_error **err);

/* name (dotted) matches an item of a checked --allowed-unsafe-sysctls list. */
bool sysctl_allowlist_match (const char *list, const char *name);

#endif
