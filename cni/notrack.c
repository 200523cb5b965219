/* Pod-to-pod traffic without conntrack (husk-cni key notrackCIDRs), in table inet husk-cni:

     set notrack4/notrack6 { type ipv4_addr/ipv6_addr }  pods that opted in (elements per ADD)
     set tracked4/tracked6 { ... }  pods a NetworkPolicy isolates (filled by cni_np_apply)
     chain raw { type filter hook prerouting priority raw; policy accept;
       ip saddr @tracked4 return; ip daddr @tracked4 return       (and ip6 / tracked6)
       ip saddr @notrack4 ip daddr @notrack4 meta l4proto tcp|udp notrack
       ip saddr @notrack4 ip daddr <cidr> ip daddr != <pod network> meta l4proto tcp|udp notrack
       ip daddr @notrack4 ip saddr <cidr> ip saddr != <pod network> meta l4proto tcp|udp notrack }

   Conntrack is what masquerade, hostPort DNAT and NetworkPolicy's "established" need; a TCP
   or UDP packet between a pod of this node and the cluster's pods touches none of them:
   - masquerade excludes the cluster (ipMasqExclude), DNAT rewrites only packets addressed to
     the node (hostPort), never to a pod address;
   - the reply of a DNATed flow comes from the DNAT target, a pod with a hostPort: such pods
     are never in notrack4/6 (their ADD removes a stale element of their address), and
     between two pods of this node both must be in the set, so their replies are tracked and
     un-NATed (a pod of another node is un-NATed on its own node);
   - an isolated pod's replies pass its policy by ct state: tracked4/6 keep them tracked.
   The chain's rules are rebuilt (flush + add, one transaction) by every ADD that sets the
   key, so the last ADD's CIDRs are the chain's. DEL leaves a pod's element: an address
   without a pod carries no traffic, and it is overwritten by the next ADD that takes it. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "cni/nft-internal.h"

#define RAW_CHAIN "raw"

enum
{
  TYPE_IPADDR = 7, /* nftables' datatype ids */
  TYPE_IP6ADDR = 8,
  SET_ID0 = 900,   /* set ids inside a batch */
};

static const char *
set_name (bool tracked, int family)
{
  if (tracked)
    return family == AF_INET6 ? "tracked6" : "tracked4";
  return family == AF_INET6 ? "notrack6" : "notrack4";
}

static uint32_t
set_id (bool tracked, int family)
{
  return SET_ID0 + (tracked ? 2 : 0) + (family == AF_INET6 ? 1 : 0);
}

static struct nftnl_set *
set_new (bool tracked, int family)
{
  struct nftnl_set *s = nftnl_set_alloc ();
  nftnl_set_set_u32 (s, NFTNL_SET_FAMILY, NFPROTO_INET);
  nftnl_set_set_str (s, NFTNL_SET_TABLE, CNI_NFT_TABLE);
  nftnl_set_set_str (s, NFTNL_SET_NAME, set_name (tracked, family));
  nftnl_set_set_u32 (s, NFTNL_SET_ID, set_id (tracked, family));
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_TYPE, family == AF_INET6 ? TYPE_IP6ADDR : TYPE_IPADDR);
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_LEN, family == AF_INET6 ? 16 : 4);
  return s;
}

static void
set_elems (struct nftnl_set *s, const cni_ip *ips, size_t n, int family)
{
  for (size_t i = 0; i < n; i++)
    if (ips[i].family == family)
      {
        struct nftnl_set_elem *e = nftnl_set_elem_alloc ();
        nftnl_set_elem_set (e, NFTNL_SET_ELEM_KEY, ips[i].addr, (uint32_t) cni_ip_len (&ips[i]));
        nftnl_set_elem_add (s, e);
      }
}

/* The table and the four sets, created when missing. */
static void
batch_sets (nft_batch *nb)
{
  cni_nftb_table (nb, CNI_NFT_TABLE, NFT_MSG_NEWTABLE, NLM_F_CREATE);
  for (int t = 0; t < 2; t++)
    for (int f = 0; f < 2; f++)
      {
        struct nftnl_set *s = set_new (t, f ? AF_INET6 : AF_INET);
        nftnl_set_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWSET, NLM_F_CREATE), s);
        cni_nftb_next (nb);
        nftnl_set_free (s);
      }
}

/* One message adding (NEWSETELEM) or removing (DELSETELEM) ips of family to/from a set. */
static void
elems_msg (nft_batch *nb, int type, bool tracked, int family, const cni_ip *ips, size_t n)
{
  struct nftnl_set *s = set_new (tracked, family);
  set_elems (s, ips, n, family);
  int flags = type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0;
  nftnl_set_elems_nlmsg_build_payload (cni_nftb_msg (nb, type, flags), s);
  cni_nftb_next (nb);
  nftnl_set_free (s);
}

static size_t
count_family (const cni_ip *ips, size_t n, int family)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += ips[i].family == family;
  return k;
}

void
cni_nft_tracked_msgs (nft_batch *nb, const cni_ip *ips, size_t n)
{
  batch_sets (nb);
  for (int f = 0; f < 2; f++)
    {
      int family = f ? AF_INET6 : AF_INET;
      elems_msg (nb, NFT_MSG_DELSETELEM, true, family, NULL, 0); /* no elements: flush */
      if (count_family (ips, n, family) > 0)
        elems_msg (nb, NFT_MSG_NEWSETELEM, true, family, ips, n);
    }
}

static struct nftnl_rule *
rule_new (int family)
{
  struct nftnl_rule *r = nftnl_rule_alloc ();
  nftnl_rule_set_u32 (r, NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str (r, NFTNL_RULE_TABLE, CNI_NFT_TABLE);
  nftnl_rule_set_str (r, NFTNL_RULE_CHAIN, RAW_CHAIN);
  cni_nftb_m_nfproto (r, family);
  return r;
}

static void
rule_send (nft_batch *nb, struct nftnl_rule *r)
{
  nftnl_rule_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
  cni_nftb_next (nb);
  nftnl_rule_free (r);
}

/* ip(6) saddr|daddr @set */
static void
m_in_set (struct nftnl_rule *r, bool src, bool tracked, int family)
{
  bool v6 = family == AF_INET6;
  uint32_t off = v6 ? (src ? 8 : 24) : (src ? 12 : 16);
  cni_nftb_e_payload (r, NFT_PAYLOAD_NETWORK_HEADER, off, v6 ? 16 : 4);
  struct nftnl_expr *e = nftnl_expr_alloc ("lookup");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
  nftnl_expr_set_str (e, NFTNL_EXPR_LOOKUP_SET, set_name (tracked, family));
  nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_SET_ID, set_id (tracked, family));
  cni_nftb_add_expr (r, e);
}

/* ip saddr|daddr @tracked return */
static void
rule_keep_tracked (nft_batch *nb, bool src, int family)
{
  struct nftnl_rule *r = rule_new (family);
  m_in_set (r, src, true, family);
  int v = NFT_RETURN;
  struct nftnl_expr *e = nftnl_expr_alloc ("immediate");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_IMM_VERDICT, (uint32_t) v);
  cni_nftb_add_expr (r, e);
  rule_send (nb, r);
}

/* Between two pods of this node both must be in @notrack: a pod outside it (hostPort) is
   a DNAT target whose replies to its peers are un-NATed here.
     both: ip saddr @notrack ip daddr @notrack meta l4proto <proto> notrack
     else: ip saddr @notrack ip daddr <cidr> ip daddr != <local> meta l4proto <proto> notrack
           (pod_src), or the same reversed: the other end is a pod of another node */
static void
rule_notrack (nft_batch *nb, bool both, bool pod_src, const cni_ip *cidr, const cni_ip *local,
              uint8_t proto)
{
  struct nftnl_rule *r = rule_new (cidr->family);
  m_in_set (r, pod_src, false, cidr->family);
  if (both)
    m_in_set (r, !pod_src, false, cidr->family);
  else
    {
      cni_nftb_m_addr (r, !pod_src, NFT_CMP_EQ, cidr, cidr->prefix);
      if (local)
        cni_nftb_m_addr (r, !pod_src, NFT_CMP_NEQ, local, local->prefix);
    }
  cni_nftb_e_meta (r, NFT_META_L4PROTO);
  cni_nftb_e_cmp (r, NFT_CMP_EQ, &proto, 1);
  cni_nftb_add_expr (r, nftnl_expr_alloc ("notrack"));
  rule_send (nb, r);
}

/* The pod network of family among the pod's addresses (NULL: none). */
static const cni_ip *
local_net (const cni_ip *nets, size_t n, int family)
{
  for (size_t i = 0; i < n; i++)
    if (nets[i].family == family)
      return &nets[i];
  return NULL;
}

/* chain raw, flushed and filled */
static void
batch_chain (nft_batch *nb, const cni_ip *cidrs, size_t ncidrs, const cni_ip *nets, size_t nnets)
{
  struct nftnl_chain *c = nftnl_chain_alloc ();
  nftnl_chain_set_u32 (c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
  nftnl_chain_set_str (c, NFTNL_CHAIN_TABLE, CNI_NFT_TABLE);
  nftnl_chain_set_str (c, NFTNL_CHAIN_NAME, RAW_CHAIN);
  nftnl_chain_set_str (c, NFTNL_CHAIN_TYPE, "filter");
  nftnl_chain_set_u32 (c, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
  nftnl_chain_set_s32 (c, NFTNL_CHAIN_PRIO, -300); /* raw: before conntrack (-200) */
  nftnl_chain_set_u32 (c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
  nftnl_chain_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
  cni_nftb_next (nb);
  nftnl_chain_free (c);
  struct nftnl_rule *flush = nftnl_rule_alloc ();
  nftnl_rule_set_u32 (flush, NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str (flush, NFTNL_RULE_TABLE, CNI_NFT_TABLE);
  nftnl_rule_set_str (flush, NFTNL_RULE_CHAIN, RAW_CHAIN);
  nftnl_rule_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_DELRULE, 0), flush);
  cni_nftb_next (nb);
  nftnl_rule_free (flush);
  for (int f = 0; f < 2; f++)
    {
      rule_keep_tracked (nb, true, f ? AF_INET6 : AF_INET);
      rule_keep_tracked (nb, false, f ? AF_INET6 : AF_INET);
    }
  static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
  for (size_t k = 0; k < ARRAY_SIZE (protos); k++)
    {
      for (int f = 0; f < 2; f++)
        {
          const cni_ip *l = local_net (nets, nnets, f ? AF_INET6 : AF_INET);
          if (l)
            rule_notrack (nb, true, true, l, NULL, protos[k]);
        }
      for (size_t i = 0; i < ncidrs; i++)
        {
          const cni_ip *l = local_net (nets, nnets, cidrs[i].family);
          rule_notrack (nb, false, true, &cidrs[i], l, protos[k]);
          rule_notrack (nb, false, false, &cidrs[i], l, protos[k]);
        }
    }
}

static int
send_nb (nft_batch *nb, const char *what, const char *comment, husk_error **err)
{
  struct mnl_socket *s = NULL;
  int r = cni_nftb_socket_open (&s, err);
  if (r < 0)
    return r;
  r = cni_nftb_send (s, nb);
  mnl_socket_close (s);
  if (r < 0)
    return husk_err_sys (err, -r, "nftables: %s for %s", what, comment);
  return 0;
}

/* A pod with hostPorts stays tracked: a stale element of its address (a DEL leaves them)
   goes. Missing elements or sets are not an error. */
static int
drop_elems (const cni_ip *ips, size_t n, const char *comment, husk_error **err)
{
  for (int f = 0; f < 2; f++)
    {
      int family = f ? AF_INET6 : AF_INET;
      for (size_t i = 0; i < n; i++)
        {
          if (ips[i].family != family)
            continue;
          nft_batch nb = { 0 };
          cni_nftb_start (&nb);
          elems_msg (&nb, NFT_MSG_DELSETELEM, false, family, &ips[i], 1);
          husk_error *e = NULL;
          int r = send_nb (&nb, "untracked pods", comment, &e);
          cni_nftb_free (&nb);
          if (r < 0 && e->errnum != ENOENT)
            {
              *err = e;
              return r;
            }
          husk_error_free (e);
        }
    }
  return 0;
}

int
cni_nft_notrack_add (const cni_nft_pod *pod, const cni_ip *cidrs, size_t ncidrs,
                     husk_error **err)
{
  _cleanup_free_ char *comment = xasprintf ("%s/%s/%s", pod->network, pod->container_id,
                                            pod->ifname);
  _cleanup_free_ cni_ip *ips = xcalloc (pod->nips + 1, sizeof *ips);
  _cleanup_free_ cni_ip *nets = xcalloc (pod->nips + 1, sizeof *nets);
  for (size_t i = 0; i < pod->nips; i++)
    {
      ips[i] = pod->ips[i].address;
      nets[i] = cni_ip_network (&ips[i], ips[i].prefix);
    }
  if (pod->nports > 0)
    return drop_elems (ips, pod->nips, comment, err);
  nft_batch nb = { 0 };
  cni_nftb_start (&nb);
  batch_sets (&nb);
  batch_chain (&nb, cidrs, ncidrs, nets, pod->nips);
  for (int f = 0; f < 2; f++)
    if (count_family (ips, pod->nips, f ? AF_INET6 : AF_INET) > 0)
      elems_msg (&nb, NFT_MSG_NEWSETELEM, false, f ? AF_INET6 : AF_INET, ips, pod->nips);
  int r = send_nb (&nb, "untracked pod traffic", comment, err);
  cni_nftb_free (&nb);
  return r;
}
