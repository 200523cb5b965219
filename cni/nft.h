/* husk-cni: nftables rules (table `inet husk-cni`) through libnftnl batches over libmnl.
   Every rule carries the comment "<network>/<containerID>/<ifname>" of the attachment it
   serves, so DEL and GC find and remove exactly the rules of an attachment. */
#ifndef HUSK_CNI_NFT_H
#define HUSK_CNI_NFT_H

#include "cni/cni.h"

#define CNI_NFT_TABLE "husk-cni"
/* flocked around list-then-delete (rules of all network namespaces share it) */
#define CNI_NFT_LOCK "/run/husk-cni-nft.lock"

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
} cni_nft_pod;

/* Adds the attachment's rules in one transaction (creating table and chains as needed). */
int cni_nft_pod_add (const cni_nft_pod *pod, husk_error **err);
/* notrackCIDRs (cni/notrack.c): TCP and UDP between the pod and cidrs[] bypass conntrack,
   unless the pod has hostPorts (then its address is taken out of the untracked set) or a
   NetworkPolicy isolates one end. */
int cni_nft_notrack_add (const cni_nft_pod *pod, const cni_ip *cidrs, size_t ncidrs,
                         husk_error **err);
/* Removes every rule of (container_id, ifname); no table or no rules is not an error. */
int cni_nft_pod_del (const char *network, const char *container_id, const char *ifname,
                     husk_error **err);
/* Removes the rules of network's attachments not in valid[]; *removed counts rules. */
int cni_nft_gc (const char *network, const cni_attachment *valid, size_t nvalid, int *removed,
                husk_error **err);

#endif
