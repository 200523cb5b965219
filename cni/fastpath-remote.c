/* The cross-node shortcut: pod-to-pod packets between nodes skip the bridge, br_netfilter,
   routing and conntrack on both nodes. It lives in husk-cni's table netdev husk-fast
   (cni/fastpath.c), whose per-veth ingress chains send every IPv4 packet of a local pod that
   is not for another local pod to the regular chain `remote`:

   table netdev husk-fast {
     set peers4 { type ipv4_addr; flags interval }        the peers' podCIDRs
     map hop4 { type ipv4_addr : ipv4_addr; flags interval }
         peer podCIDR -> next hop (host-gw: the peer's node address; vxlan: its VTEP address)
     map hopdev4 { type ipv4_addr : iface_index; flags interval }
         peer podCIDR -> the device towards it (the uplink; the VXLAN device)
     chain remote {                                       sender side (filled here)
       fwd ip to ip daddr map @hop4 device ip daddr map @hopdev4 }  (neighbour, TTL - 1)
     chain remote-in {                                    receiver side
       ip daddr @tracked4 return; ip saddr @tracked4 return
       ip daddr <each of this node's own addresses in its podCIDR, network, broadcast> return
       fwd ip to ip daddr device "<bridge>" }               as the node itself would send it
     chain in-<dev> { type filter hook ingress device "<dev>" priority 0;
       comment "husk:cross-node"                          each device peers' packets arrive on
       ip daddr <own podCIDR> ip saddr @peers4 goto remote-in }
   }

   Why it is correct:
   - Only between pods: the sender forwards only what a pod addresses to a peer's podCIDR
     (cnifast's chains reach `remote` only from a pod's own address, never for a pod with
     hostPorts, never for an isolated pod); the receiver takes only packets from a peer's
     podCIDR to its own: traffic from or to outside the cluster keeps the normal path, where
     masquerade, hostPort DNAT and conntrack see both of its directions.
   - Both directions of a flow take the same way on each node: an isolated pod (tracked4,
     filled by the NetworkPolicy applier) is skipped as source by the sender and as
     destination by the receiver, so its node's conntrack and policy chains see every packet.
   - The gateway, VTEP, network and broadcast addresses are the node's own business: never
     forwarded to the bridge.
   Everything here is rebuilt in one transaction by each sync (peers, devices or addresses
   changed): chain `remote`, the map and the chains carrying our comment. Nothing else of the
   table is flushed or deleted. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "cni/crossnode.h"
#include "cni/fastpath-nft.h"
#include "cni/nft-internal.h"
#include "cni/nft.h"

#define PEERS "peers4"
#define HOP_MAP "hop4"
#define HOPDEV_MAP "hopdev4"
#define REMOTE_IN "remote-in"
#define TRACKED "tracked4" /* cni/fastpath.c's, same definition */

enum
{
  TYPE_IPADDR = 7, /* nftables' datatype ids, as `nft list` shows them */
  TYPE_IFINDEX = 20,
  TYPE_BITS = 6,
  PEERS_ID = 2000, /* set ids inside a batch */
  HOP_ID = 2001,
  HOPDEV_ID = 2002,
  TRACKED_ID = 2003,
};

/* tracked4 exactly as cni/fastpath.c defines it (a different definition is EEXIST) */
static struct nftnl_set *
tracked_new (void)
{
  struct nftnl_set *s = cni_fast_set_new (TRACKED, TRACKED_ID);
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_TYPE, TYPE_IPADDR);
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_LEN, 4);
  return s;
}

/* peers4 (data_type 0), hop4 (TYPE_IPADDR) or hopdev4 (TYPE_IFINDEX): interval sets on the
   destination address */
static struct nftnl_set *
interval_new (const char *name, uint32_t id, uint32_t data_type)
{
  struct nftnl_set *s = cni_fast_set_new (name, id);
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_TYPE, TYPE_IPADDR);
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_LEN, 4);
  nftnl_set_set_u32 (s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL | (data_type ? NFT_SET_MAP : 0));
  if (data_type)
    {
      nftnl_set_set_u32 (s, NFTNL_SET_DATA_TYPE, data_type);
      nftnl_set_set_u32 (s, NFTNL_SET_DATA_LEN, 4);
    }
  if (data_type == TYPE_IFINDEX) /* for `nft list`: host byte order, shown as a name */
    {
      struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc (64);
      nftnl_udata_put_u32 (ud, NFTNL_UDATA_SET_DATABYTEORDER, 1);
      nftnl_set_set_data (s, NFTNL_SET_USERDATA, nftnl_udata_buf_data (ud),
                          nftnl_udata_buf_len (ud));
      nftnl_udata_buf_free (ud);
    }
  return s;
}

static struct nftnl_set *
peers_new (void)
{
  return interval_new (PEERS, PEERS_ID, 0);
}

static struct nftnl_set *
hop_new (void)
{
  return interval_new (HOP_MAP, HOP_ID, TYPE_IPADDR);
}

static struct nftnl_set *
hopdev_new (void)
{
  return interval_new (HOPDEV_MAP, HOPDEV_ID, TYPE_IFINDEX);
}

/* ip saddr|daddr -> reg */
static void
e_addr (struct nftnl_rule *r, bool src, uint32_t reg)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("payload");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_OFFSET, src ? 12 : 16);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_LEN, 4);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_DREG, reg);
  cni_nftb_add_expr (r, e);
}

/* lookup of reg in set; dreg 0: membership only, else the map's data replaces reg */
static void
e_lookup (struct nftnl_rule *r, const char *set, uint32_t id, uint32_t reg, bool map)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("lookup");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_SREG, reg);
  nftnl_expr_set_str (e, NFTNL_EXPR_LOOKUP_SET, set);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_SET_ID, id);
  if (map)
    nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_DREG, reg);
  cni_nftb_add_expr (r, e);
}

/* fwd ip to <reg 2> device <reg 1> (the registers nft itself uses) */
static void
e_fwd_neigh (struct nftnl_rule *r)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("fwd");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_FWD_SREG_DEV, NFT_REG_1);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_FWD_SREG_ADDR, NFT_REG_2);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_FWD_NFPROTO, NFPROTO_IPV4);
  cni_nftb_add_expr (r, e);
}

static void
m_proto_ip (struct nftnl_rule *r)
{
  uint16_t proto = htons (ETH_P_IP);
  cni_nftb_e_meta (r, NFT_META_PROTOCOL);
  cni_nftb_e_cmp (r, NFT_CMP_EQ, &proto, sizeof proto);
}

static void
interval_elem (struct nftnl_set *s, const uint8_t key[4], const void *data, uint32_t flags)
{
  struct nftnl_set_elem *e = nftnl_set_elem_alloc ();
  nftnl_set_elem_set (e, NFTNL_SET_ELEM_KEY, key, 4);
  if (data)
    nftnl_set_elem_set (e, NFTNL_SET_ELEM_DATA, data, 4);
  if (flags)
    nftnl_set_elem_set_u32 (e, NFTNL_SET_ELEM_FLAGS, flags);
  nftnl_set_elem_add (s, e);
}

/* One interval per hop, [podCIDR start, end + 1), with what = 0 (peers4: none), 1 (hop4: the
   next hop) or 2 (hopdev4: the device); first, as nft does, the end of an interval at 0.0.0.0
   (nothing below the first podCIDR matches). */
static void
hop_elems_msg (nft_batch *nb, const cni_fast_remote *fr, struct nftnl_set *s, int what)
{
  static const uint8_t zero[4];
  if (fr->nhops == 0)
    {
      nftnl_set_free (s);
      return;
    }
  interval_elem (s, zero, NULL, NFT_SET_ELEM_INTERVAL_END);
  for (size_t i = 0; i < fr->nhops; i++)
    {
      const cni_fast_hop *h = &fr->hops[i];
      cni_ip lo = cni_ip_network (&h->pod_cidr, h->pod_cidr.prefix);
      cni_ip last = cni_ip_last (&h->pod_cidr, h->pod_cidr.prefix);
      cni_ip end = cni_ip_add (&last, 1);
      uint32_t dev = (uint32_t)h->ifindex;
      interval_elem (s, lo.addr, what == 1 ? (const void *)h->via.addr : what == 2 ? &dev : NULL, 0);
      if (memcmp (end.addr, zero, 4) != 0) /* not the top of the address space */
        interval_elem (s, end.addr, NULL, NFT_SET_ELEM_INTERVAL_END);
    }
  cni_fast_set_msg (nb, NFT_MSG_NEWSETELEM, NLM_F_CREATE, s);
}

/* peers4, hop4, hopdev4: created when missing, emptied and refilled */
static void
hop_sets_msgs (nft_batch *nb, const cni_fast_remote *fr)
{
  struct nftnl_set *(*news[]) (void) = { peers_new, hop_new, hopdev_new };
  for (int i = 0; i < 3; i++)
    {
      cni_fast_set_msg (nb, NFT_MSG_NEWSET, NLM_F_CREATE, news[i] ());
      cni_fast_set_msg (nb, NFT_MSG_DELSETELEM, 0, news[i] ()); /* no elements: flush */
      hop_elems_msg (nb, fr, news[i] (), i);
    }
}

/* chain remote: fwd ip to ip daddr map @hop4 device ip daddr map @hopdev4 */
static void
sender_msgs (nft_batch *nb)
{
  cni_fast_chain_msg (nb, CNI_FAST_REMOTE, NULL, NULL);
  cni_fast_flush_msg (nb, CNI_FAST_REMOTE);
  struct nftnl_rule *r = cni_fast_rule_new (CNI_FAST_REMOTE);
  m_proto_ip (r);
  e_addr (r, false, NFT_REG_1);
  e_lookup (r, HOPDEV_MAP, HOPDEV_ID, NFT_REG_1, true);
  e_addr (r, false, NFT_REG_2);
  e_lookup (r, HOP_MAP, HOP_ID, NFT_REG_2, true);
  e_fwd_neigh (r);
  cni_fast_rule_send (nb, r);
}

/* ip saddr|daddr @tracked4 return */
static void
tracked_rule (nft_batch *nb, bool src)
{
  struct nftnl_rule *r = cni_fast_rule_new (REMOTE_IN);
  m_proto_ip (r);
  e_addr (r, src, NFT_REG_1);
  e_lookup (r, TRACKED, TRACKED_ID, NFT_REG_1, false);
  cni_fast_e_verdict (r, NFT_RETURN, NULL);
  cni_fast_rule_send (nb, r);
}

/* chain remote-in: the checks, then fwd ip to ip daddr device <bridge> */
static void
receiver_msgs (nft_batch *nb, const cni_fast_remote *fr)
{
  cni_fast_chain_msg (nb, REMOTE_IN, NULL, CNI_FAST_REMOTE_COMMENT);
  cni_fast_flush_msg (nb, REMOTE_IN);
  tracked_rule (nb, false);
  tracked_rule (nb, true);
  for (size_t i = 0; i < fr->nlocal; i++)
    {
      if (fr->local[i].family != AF_INET)
        continue;
      struct nftnl_rule *r = cni_fast_rule_new (REMOTE_IN);
      m_proto_ip (r);
      e_addr (r, false, NFT_REG_1);
      cni_nftb_e_cmp (r, NFT_CMP_EQ, fr->local[i].addr, 4);
      cni_fast_e_verdict (r, NFT_RETURN, NULL);
      cni_fast_rule_send (nb, r);
    }
  struct nftnl_rule *r = cni_fast_rule_new (REMOTE_IN);
  m_proto_ip (r);
  uint32_t dev = (uint32_t)fr->bridge_ifindex;
  cni_nftb_e_immediate (r, NFT_REG_1, &dev, sizeof dev);
  e_addr (r, false, NFT_REG_2);
  e_fwd_neigh (r);
  cni_fast_rule_send (nb, r);
}

/* chain in-<dev>: ip daddr <own podCIDR> ip saddr @peers4 goto remote-in */
static void
rx_chain_msgs (nft_batch *nb, const char *chain, const char *dev, const cni_ip *pod_cidr)
{
  cni_fast_chain_msg (nb, chain, dev, CNI_FAST_REMOTE_COMMENT);
  cni_fast_flush_msg (nb, chain);
  struct nftnl_rule *r = cni_fast_rule_new (chain);
  m_proto_ip (r);
  cni_nftb_m_addr (r, false, NFT_CMP_EQ, pod_cidr, pod_cidr->prefix);
  e_addr (r, true, NFT_REG_1);
  e_lookup (r, PEERS, PEERS_ID, NFT_REG_1, false);
  cni_fast_e_verdict (r, NFT_GOTO, REMOTE_IN);
  cni_fast_rule_send (nb, r);
}

static bool
is_ours (const char *comment, void *data)
{
  (void)data;
  return streq (comment, CNI_FAST_REMOTE_COMMENT);
}

static bool
wanted_chain (const char *name, char **want, size_t nwant)
{
  for (size_t i = 0; i < nwant; i++)
    if (streq (name, want[i]))
      return true;
  return false;
}

static void
free_names (char **names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (names[i]);
  free (names);
}

/* The whole batch. want[] are the in-<dev> chains to keep; stale ones of ours go. */
static void
build (nft_batch *nb, const cni_fast_remote *fr, char **want, size_t nwant,
       const cni_fast_items *old)
{
  cni_fast_table_msg (nb);
  cni_fast_set_msg (nb, NFT_MSG_NEWSET, NLM_F_CREATE, tracked_new ());
  for (size_t i = 0; i < old->nchains; i++) /* rx chains first: they jump to remote-in */
    if (!streq (old->chains[i], REMOTE_IN) && !wanted_chain (old->chains[i], want, nwant))
      cni_fast_del_chain_msg (nb, old->chains[i]);
  hop_sets_msgs (nb, fr); /* before the rules that name them */
  sender_msgs (nb);
  if (nwant > 0)
    receiver_msgs (nb, fr); /* else unreachable: no in-<dev> chain jumps to it */
  for (size_t i = 0; i < nwant; i++)
    rx_chain_msgs (nb, want[i], want[i] + 3, &fr->pod_cidr);
}

int
cni_fast_remote_apply (const cni_fast_remote *fr, husk_error **err)
{
  for (size_t i = 0; i < fr->nhops; i++)
    if (fr->hops[i].pod_cidr.family != AF_INET || fr->hops[i].via.family != AF_INET)
      return husk_err (err, EAFNOSUPPORT, "cross-node shortcut: IPv4 peers only");
  bool rx = fr->bridge_ifindex > 0 && fr->pod_cidr.family == AF_INET && fr->pod_cidr.prefix >= 0;
  char **want = xcalloc (fr->nrx + 1, sizeof *want);
  size_t nwant = 0;
  for (size_t i = 0; rx && i < fr->nrx; i++)
    want[nwant++] = xasprintf ("in-%s", fr->rx_dev[i]);
  struct mnl_socket *s = NULL;
  int r = cni_nftb_socket_open (&s, err);
  if (r < 0)
    {
      free_names (want, nwant);
      return r;
    }
  cni_fast_items old = { 0 };
  r = cni_fast_collect (s, is_ours, NULL, &old);
  if (r == 0)
    {
      nft_batch nb = { 0 };
      cni_nftb_start (&nb);
      build (&nb, fr, want, nwant, &old);
      r = cni_nftb_send (s, &nb);
      cni_nftb_free (&nb);
    }
  mnl_socket_close (s);
  cni_fast_items_free (&old);
  free_names (want, nwant);
  if (r < 0)
    return husk_err_sys (err, -r, "nftables: table netdev %s: cross-node shortcut",
                         CNI_FAST_TABLE);
  return 0;
}
