/* husk-cni: nftables rules (table `inet husk-cni`) through libnftnl batches over libmnl.
   Every rule carries the comment "<network>/<containerID>/<ifname>" of the attachment it
   serves, so DEL and GC find and remove exactly the rules of an attachment. */
#ifndef HUSK_CNI_NFT_H
#define HUSK_CNI_NFT_H

#include "cni/cni.h"

#define CNI_NFT_TABLE "husk-cni"
/* flocked around list-then-delete (rules of all network namespaces share it) */
#define CNI_NFT_LOCK "/run/husk-cni-nft.lock"
/* The pod-to-pod shortcut's netdev table (cni/fastpath.c) and its regular chain for
   packets of local pods to anything that is not a local pod (cross-node shortcuts: empty
   unless another component fills it; husk-cni never touches its contents). */
#define CNI_FAST_TABLE "husk-fast"
#define CNI_FAST_REMOTE "remote"

typedef struct cni_nft_pod
{
  const char *network, *container_id, *ifname;
  const cni_result_ip *ips; /* the pod's addresses, prefix = the pod network's */
  size_t nips;
  bool masq;                  /* masquerade traffic from the pod leaving its network */
  const cni_ip *masq_exclude; /* further destinations kept unmasqueraded (with prefix) */
  size_t nmasq_exclude;
  const cni_port_mapping *ports;
  size_t nports;
  bool fast;               /* fastPath: the pod-to-pod shortcut (cni/fastpath.c) */
  const char *host_veth;   /* the attachment's host end */
  int host_ifindex;
  const uint8_t *pod_mac;  /* the pod interface's MAC (6 bytes) */
} cni_nft_pod;

/* Adds the attachment's rules, and its shortcut (fast), in one transaction (creating
   tables and chains as needed). */
int cni_nft_pod_add (const cni_nft_pod *pod, husk_error **err);
/* notrackCIDRs (cni/notrack.c): TCP and UDP between the pod and cidrs[] bypass conntrack,
   unless the pod has hostPorts (then its address is taken out of the untracked set) or a
   NetworkPolicy isolates one end. */
int cni_nft_notrack_add (const cni_nft_pod *pod, const cni_ip *cidrs, size_t ncidrs,
                         husk_error **err);
/* Removes every rule, shortcut chain and map element of (container_id, ifname); no table
   or nothing there is not an error. */
int cni_nft_pod_del (const char *network, const char *container_id, const char *ifname,
                     husk_error **err);
/* Removes the rules (and shortcut chains and elements) of network's attachments not in
   valid[]; *removed counts rules. */
int cni_nft_gc (const char *network, const cni_attachment *valid, size_t nvalid, int *removed,
                husk_error **err);

#endif
