/* husk-cni: reaching the pods of other nodes. Each node owns a podCIDR; the node agent
   hands the full list of peers to one of these and calls it again whenever it changes
   (each call converges: missing entries are added, entries for departed peers removed).
   - host-gw: a route per peer podCIDR via the peer's node IP (nodes share an L2 segment).
   - vxlan: a VXLAN device; a route per peer podCIDR via the peer's VTEP address over it,
     with static neighbour and FDB entries, so no flooding and no learning are needed.
   Routes carry rtm_protocol CNI_RTPROT_HUSK: only those are ever removed. */
#ifndef HUSK_CNI_CROSSNODE_H
#define HUSK_CNI_CROSSNODE_H

#include "cni/cni.h"

#define CNI_RTPROT_HUSK 77
#define CNI_VXLAN_DEV   "husk-vxlan"

typedef struct cni_peer
{
  cni_ip node_ip;  /* the peer's node (underlay) address */
  cni_ip pod_cidr; /* with prefix */
} cni_peer;

typedef struct cni_vxlan_conf
{
  const char *dev;      /* NULL = CNI_VXLAN_DEV */
  uint32_t vni;         /* 0 = 1 */
  int port;             /* 0 = 4789 */
  cni_ip local;         /* this node's address (required) */
  cni_ip pod_cidr;      /* this node's podCIDR (required) */
  int mtu;              /* 0 = 1450 */
  int underlay_ifindex; /* 0 = any */
} cni_vxlan_conf;

/* The VTEP MAC every node derives for a node address: 0a:58 + the address's last 4 bytes. */
void cni_vtep_mac (const cni_ip *node_ip, uint8_t mac[6]);
/* The VTEP address of a node: its podCIDR's network address, as a host address. */
cni_ip cni_vtep_ip (const cni_ip *pod_cidr);

/* Programs host-gw routes to peers (in the calling thread's network namespace). */
int cni_hostgw_sync (const cni_peer *peers, size_t n, husk_error **err);
/* Creates the VXLAN device if needed and programs routes, neighbours and FDB to peers. */
int cni_vxlan_sync (const cni_vxlan_conf *vc, const cni_peer *peers, size_t n, husk_error **err);
/* Table inet husk-vxlan: the node's VXLAN traffic (UDP to port, from/to local) bypasses
   conntrack (cni/vxlan-nft.c). cni_vxlan_sync calls it. */
int cni_vxlan_notrack (const cni_ip *local, int port, husk_error **err);

/* ---- the cross-node shortcut (cni/fastpath-remote.c) ----
   Pod-to-pod packets between nodes skip the bridge, br_netfilter, routing and conntrack on
   both nodes: netdev ingress chains in husk-cni's table husk-fast (cni/fastpath.c) forward a
   local pod's packet for a peer's podCIDR straight to the next hop's device, and a peer pod's
   packet arriving on the uplink (or the VXLAN device) straight to the bridge. IPv4 only. */
#define CNI_FAST_REMOTE_COMMENT "husk:cross-node"

typedef struct cni_fast_hop
{
  cni_ip pod_cidr; /* a peer's podCIDR, with prefix */
  cni_ip via;      /* host-gw: the peer's node address; vxlan: its VTEP address */
  int ifindex;     /* the device towards it */
} cni_fast_hop;

typedef struct cni_fast_remote
{
  const cni_fast_hop *hops;
  size_t nhops;
  /* the receiver side, off when bridge_ifindex is 0 or pod_cidr unset */
  cni_ip pod_cidr;          /* this node's podCIDR */
  int bridge_ifindex;       /* the pods' bridge */
  const char *const *rx_dev; /* the devices peers' packets arrive on */
  size_t nrx;
  const cni_ip *local; /* addresses never forwarded to the bridge (this node's own in
                          pod_cidr: gateway, VTEP; the network and broadcast addresses) */
  size_t nlocal;
} cni_fast_remote;

/* Converges the shortcut's part of table netdev husk-fast to fr, in one transaction. */
int cni_fast_remote_apply (const cni_fast_remote *fr, husk_error **err);
/* Resolves fr from this namespace after cni_hostgw_sync (vxlan_dev NULL: each peer's next
   hop and device from our route to its podCIDR) or cni_vxlan_sync (vxlan_dev: the peers'
   VTEPs on it), the bridge and this node's addresses in pod_cidr (NULL: no receiver side),
   and applies it. */
int cni_fast_remote_sync (const char *bridge, const cni_ip *pod_cidr, const char *vxlan_dev,
                          const cni_peer *peers, size_t n, husk_error **err);

#endif
