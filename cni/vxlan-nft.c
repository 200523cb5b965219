/* The VXLAN underlay without conntrack: table inet husk-vxlan, rebuilt whole by each sync.
     chain prerouting (filter hook prerouting priority raw)
         ip daddr <local> udp dport <port> notrack
     chain output (filter hook output priority raw)
         ip saddr <local> udp dport <port> notrack
   Nothing NATs or filters the encapsulation by connection state, and every packet between
   two nodes' pods otherwise pays two conntrack passes more (the outer UDP on the sending
   node's output and the receiving node's prerouting). */
#include "config.h"

#include <netinet/in.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "cni/crossnode.h"
#include "cni/nft-internal.h"

#define VXLAN_TABLE "husk-vxlan"

static void
chain_msg (nft_batch *nb, const char *name, uint32_t hook)
{
  struct nftnl_chain *c = nftnl_chain_alloc ();
  nftnl_chain_set_u32 (c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
  nftnl_chain_set_str (c, NFTNL_CHAIN_TABLE, VXLAN_TABLE);
  nftnl_chain_set_str (c, NFTNL_CHAIN_NAME, name);
  nftnl_chain_set_str (c, NFTNL_CHAIN_TYPE, "filter");
  nftnl_chain_set_u32 (c, NFTNL_CHAIN_HOOKNUM, hook);
  nftnl_chain_set_s32 (c, NFTNL_CHAIN_PRIO, -300); /* raw: before conntrack */
  nftnl_chain_set_u32 (c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
  nftnl_chain_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
  cni_nftb_next (nb);
  nftnl_chain_free (c);
}

/* ip daddr|saddr <local> udp dport <port> notrack */
static void
rule_notrack (nft_batch *nb, const char *chain, bool src, const cni_ip *local, int port)
{
  struct nftnl_rule *r = nftnl_rule_alloc ();
  nftnl_rule_set_u32 (r, NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str (r, NFTNL_RULE_TABLE, VXLAN_TABLE);
  nftnl_rule_set_str (r, NFTNL_RULE_CHAIN, chain);
  cni_nftb_m_nfproto (r, local->family);
  cni_nftb_m_addr (r, src, NFT_CMP_EQ, local, -1);
  uint8_t udp = IPPROTO_UDP;
  cni_nftb_e_meta (r, NFT_META_L4PROTO);
  cni_nftb_e_cmp (r, NFT_CMP_EQ, &udp, 1);
  uint16_t dport = htons ((uint16_t)port);
  cni_nftb_e_payload (r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
  cni_nftb_e_cmp (r, NFT_CMP_EQ, &dport, 2);
  cni_nftb_add_expr (r, nftnl_expr_alloc ("notrack"));
  nftnl_rule_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
  cni_nftb_next (nb);
  nftnl_rule_free (r);
}

int
cni_vxlan_notrack (const cni_ip *local, int port, husk_error **err)
{
  struct mnl_socket *s = NULL;
  int r = cni_nftb_socket_open (&s, err);
  if (r < 0)
    return r;
  nft_batch nb = { 0 };
  cni_nftb_start (&nb);
  /* create + delete + create: one transaction, no packet sees a half-built table */
  cni_nftb_table (&nb, VXLAN_TABLE, NFT_MSG_NEWTABLE, NLM_F_CREATE);
  cni_nftb_table (&nb, VXLAN_TABLE, NFT_MSG_DELTABLE, 0);
  cni_nftb_table (&nb, VXLAN_TABLE, NFT_MSG_NEWTABLE, NLM_F_CREATE);
  chain_msg (&nb, "prerouting", NF_INET_PRE_ROUTING);
  chain_msg (&nb, "output", NF_INET_LOCAL_OUT);
  rule_notrack (&nb, "prerouting", false, local, port);
  rule_notrack (&nb, "output", true, local, port);
  r = cni_nftb_send (s, &nb);
  cni_nftb_free (&nb);
  mnl_socket_close (s);
  if (r < 0)
    return husk_err_sys (err, -r, "nftables: load table inet %s", VXLAN_TABLE);
  return 0;
}
