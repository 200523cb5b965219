/* husk controllers: the cluster-level controllers (node lifecycle, PV binding and the
   local-path provisioner, ResourceQuota status) and their settings. */
#ifndef HUSK_CTRL_CLUSTER_H
#define HUSK_CTRL_CLUSTER_H

#include "src/master/ctrl/ctrl-internal.h"

/* Seconds without a renewal of a node's Lease before the node counts as unreachable
   (--node-monitor-grace-period, default 40). A Lease that announces a longer
   leaseDurationSeconds is trusted for that long. */
void ctrl_nodelifecycle_set_grace (int seconds);

/* Node IPAM (nodeipam.c): the cluster range and the block size (--cluster-cidr,
   --node-cidr-mask-size); NULL keeps the range (10.42.0.0/16). */
int ctrl_nodeipam_configure (const char *cluster_cidr, int mask_size, husk_error **err);
int ctrl_nodeipam_sync (ctrl_ctx *c, husk_error **err);

int ctrl_nodelifecycle_sync (ctrl_ctx *c, husk_error **err);
int ctrl_pvbinder_sync (ctrl_ctx *c, husk_error **err);
int ctrl_localpath_sync (ctrl_ctx *c, husk_error **err);
int ctrl_quota_sync (ctrl_ctx *c, husk_error **err);
/* Before a released local-path PV is deleted: a helper pod on its node removes its directory
   (as k3s's provisioner does). No-op for other PVs. */
int ctrl_localpath_reclaim (ctrl_ctx *c, const json_t *pv, husk_error **err);

#endif
