/* husk-cni: the libnftnl batch and expression helpers shared by cni/nft.c (the plugin's
   rules) and cni/netpol-nft.c (NetworkPolicy). Messages are built for NFPROTO_INET. */
#ifndef HUSK_CNI_NFT_INTERNAL_H
#define HUSK_CNI_NFT_INTERNAL_H

#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>

#include "cni/nft.h"

typedef struct nft_batch
{
  char *buf;
  struct mnl_nlmsg_batch *b;
  uint32_t seq;
  int nmsgs; /* messages that will be ACKed */
  bool overflow; /* a message did not fit: cni_nftb_send refuses (E2BIG) */
} nft_batch;

/* A batch of at most limit bytes whose largest message is at most max_msg bytes. */
void cni_nftb_start_sized (nft_batch *nb, size_t limit, size_t max_msg);
/* cni_nftb_start_sized (1 MiB, 1 MiB) */
void cni_nftb_start (nft_batch *nb);
void cni_nftb_free (nft_batch *nb);
/* The header of the next message (ACK requested); fill its payload, then cni_nftb_next. */
struct nlmsghdr *cni_nftb_msg (nft_batch *nb, int type, int flags);
void cni_nftb_next (nft_batch *nb);
/* The same for a message of another family (NFPROTO_NETDEV); one batch may mix them. */
struct nlmsghdr *cni_nftb_msg_family (nft_batch *nb, int type, int family, int flags);
/* One message of type TYPE (NFT_MSG_NEWTABLE, _DELTABLE) for the inet table NAME. */
void cni_nftb_table (nft_batch *nb, const char *name, int type, int flags);
int cni_nftb_socket_open (struct mnl_socket **out, husk_error **err);
/* Closes s after a committed transaction without waiting for its release: the kernel's
   netlink release notifier (nft_rcv_nl_event) flushes the transaction's deferred
   destruction first, an RCU grace period (10-20 ms here), although the rules took effect
   when the batch was ACKed. A detached grandchild holds the last reference and closes it in
   the background. For short-lived processes (the plugin); falls back to a plain close. */
void cni_nftb_socket_close_detached (struct mnl_socket *s);
/* Sends the batch and reads one ACK per message. Returns 0 or -errno of the first error
   (the kernel then applied nothing). */
int cni_nftb_send (struct mnl_socket *s, nft_batch *nb);

/* cni/notrack.c: table inet husk-cni's sets tracked4/tracked6 (created when missing)
   flushed and filled with ips: pods a NetworkPolicy isolates stay tracked. */
void cni_nft_tracked_msgs (nft_batch *nb, const cni_ip *ips, size_t n);

/* cni/fastpath.c: table netdev husk-fast (the pod-to-pod shortcut). */
/* The pod's chain, rules and map elements (and the table, maps, sets and shared chains when
   missing), appended to ADD's batch; nothing when pod->fast is off, the pod has hostPorts
   or no address. */
void cni_fast_add_msgs (nft_batch *nb, const cni_nft_pod *pod, const char *comment);
/* Sets tracked4/tracked6 (created when missing, with the table) flushed and filled with
   ips: pods a NetworkPolicy isolates never take the shortcut. */
void cni_fast_tracked_msgs (nft_batch *nb, const cni_ip *ips, size_t n);
typedef bool (*cni_fast_pred) (const char *comment, void *data);
typedef struct cni_fast_elem
{
  int family;
  uint8_t key[24];
} cni_fast_elem;
typedef struct cni_fast_items
{
  char **chains;
  size_t nchains;
  cni_fast_elem *elems;
  size_t nelems;
} cni_fast_items;
/* Lists the pod chains and map elements whose comment satisfies pred (a missing table is
   none). Returns 0 or -errno. */
int cni_fast_collect (struct mnl_socket *s, cni_fast_pred pred, void *data, cni_fast_items *out);
/* Deletion messages for what cni_fast_collect found; returns how many. */
int cni_fast_del_msgs (nft_batch *nb, const cni_fast_items *items);
void cni_fast_items_free (cni_fast_items *items);

void cni_nftb_add_expr (struct nftnl_rule *r, struct nftnl_expr *e);
/* meta <key> -> reg 1 */
void cni_nftb_e_meta (struct nftnl_rule *r, uint32_t key);
/* reg 1 <op> data */
void cni_nftb_e_cmp (struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len);
/* payload -> reg 1 */
void cni_nftb_e_payload (struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len);
/* reg 1 &= mask */
void cni_nftb_e_bitwise (struct nftnl_rule *r, const void *mask, uint32_t len);
void cni_nftb_e_immediate (struct nftnl_rule *r, uint32_t reg, const void *data, uint32_t len);
/* meta nfproto ipv4|ipv6 */
void cni_nftb_m_nfproto (struct nftnl_rule *r, int family);
/* ip saddr/daddr <op> ip[/prefix] (prefix < 0 or full: the whole address) */
void cni_nftb_m_addr (struct nftnl_rule *r, bool src, uint32_t op, const cni_ip *ip, int prefix);

#endif
