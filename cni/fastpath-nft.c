/* Message builders shared by cni/fastpath.c and cni/fastpath-remote.c: table netdev
   husk-fast, its sets, chains and rules. */
#include "config.h"

#include <netinet/in.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "cni/fastpath-nft.h"

struct nlmsghdr *
cni_fast_msg (nft_batch *nb, int type, int flags)
{
  return cni_nftb_msg_family (nb, type, NFPROTO_NETDEV, flags);
}

void
cni_fast_table_msg (nft_batch *nb)
{
  struct nftnl_table *t = nftnl_table_alloc ();
  nftnl_table_set_u32 (t, NFTNL_TABLE_FAMILY, NFPROTO_NETDEV);
  nftnl_table_set_str (t, NFTNL_TABLE_NAME, CNI_FAST_TABLE);
  nftnl_table_nlmsg_build_payload (cni_fast_msg (nb, NFT_MSG_NEWTABLE, NLM_F_CREATE), t);
  cni_nftb_next (nb);
  nftnl_table_free (t);
}

struct nftnl_set *
cni_fast_set_new (const char *name, uint32_t id)
{
  struct nftnl_set *s = nftnl_set_alloc ();
  nftnl_set_set_u32 (s, NFTNL_SET_FAMILY, NFPROTO_NETDEV);
  nftnl_set_set_str (s, NFTNL_SET_TABLE, CNI_FAST_TABLE);
  nftnl_set_set_str (s, NFTNL_SET_NAME, name);
  nftnl_set_set_u32 (s, NFTNL_SET_ID, id);
  return s;
}

void
cni_fast_set_msg (nft_batch *nb, int type, int flags, struct nftnl_set *s)
{
  if (type == NFT_MSG_NEWSET)
    nftnl_set_nlmsg_build_payload (cni_fast_msg (nb, type, flags), s);
  else
    nftnl_set_elems_nlmsg_build_payload (cni_fast_msg (nb, type, flags), s);
  cni_nftb_next (nb);
  nftnl_set_free (s);
}

/* A regular chain (dev NULL) or the ingress chain of dev, created when missing. */
void
cni_fast_chain_msg (nft_batch *nb, const char *name, const char *dev, const char *comment)
{
  struct nftnl_chain *c = nftnl_chain_alloc ();
  nftnl_chain_set_u32 (c, NFTNL_CHAIN_FAMILY, NFPROTO_NETDEV);
  nftnl_chain_set_str (c, NFTNL_CHAIN_TABLE, CNI_FAST_TABLE);
  nftnl_chain_set_str (c, NFTNL_CHAIN_NAME, name);
  if (dev)
    {
      nftnl_chain_set_str (c, NFTNL_CHAIN_TYPE, "filter");
      nftnl_chain_set_u32 (c, NFTNL_CHAIN_HOOKNUM, NF_NETDEV_INGRESS);
      nftnl_chain_set_s32 (c, NFTNL_CHAIN_PRIO, 0);
      nftnl_chain_set_u32 (c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
      nftnl_chain_set_str (c, NFTNL_CHAIN_DEV, dev);
    }
  if (comment)
    {
      struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc (NFT_USERDATA_MAXLEN);
      nftnl_udata_put_strz (ud, NFTNL_UDATA_CHAIN_COMMENT, comment);
      nftnl_chain_set_data (c, NFTNL_CHAIN_USERDATA, nftnl_udata_buf_data (ud),
                            nftnl_udata_buf_len (ud));
      nftnl_udata_buf_free (ud);
    }
  nftnl_chain_nlmsg_build_payload (cni_fast_msg (nb, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
  cni_nftb_next (nb);
  nftnl_chain_free (c);
}

void
cni_fast_del_chain_msg (nft_batch *nb, const char *name)
{
  struct nftnl_chain *c = nftnl_chain_alloc ();
  nftnl_chain_set_u32 (c, NFTNL_CHAIN_FAMILY, NFPROTO_NETDEV);
  nftnl_chain_set_str (c, NFTNL_CHAIN_TABLE, CNI_FAST_TABLE);
  nftnl_chain_set_str (c, NFTNL_CHAIN_NAME, name);
  nftnl_chain_nlmsg_build_payload (cni_fast_msg (nb, NFT_MSG_DELCHAIN, 0), c);
  cni_nftb_next (nb);
  nftnl_chain_free (c);
}

struct nftnl_rule *
cni_fast_rule_new (const char *chain)
{
  struct nftnl_rule *r = nftnl_rule_alloc ();
  nftnl_rule_set_u32 (r, NFTNL_RULE_FAMILY, NFPROTO_NETDEV);
  nftnl_rule_set_str (r, NFTNL_RULE_TABLE, CNI_FAST_TABLE);
  nftnl_rule_set_str (r, NFTNL_RULE_CHAIN, chain);
  return r;
}

void
cni_fast_rule_send (nft_batch *nb, struct nftnl_rule *r)
{
  nftnl_rule_nlmsg_build_payload (cni_fast_msg (nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
  cni_nftb_next (nb);
  nftnl_rule_free (r);
}

/* Every rule of chain goes (the chain stays). */
void
cni_fast_flush_msg (nft_batch *nb, const char *chain)
{
  struct nftnl_rule *r = cni_fast_rule_new (chain);
  nftnl_rule_nlmsg_build_payload (cni_fast_msg (nb, NFT_MSG_DELRULE, 0), r);
  cni_nftb_next (nb);
  nftnl_rule_free (r);
}

/* verdict [chain] */
void
cni_fast_e_verdict (struct nftnl_rule *r, int verdict, const char *chain)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("immediate");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_IMM_VERDICT, (uint32_t) verdict);
  if (chain)
    nftnl_expr_set_str (e, NFTNL_EXPR_IMM_CHAIN, chain);
  cni_nftb_add_expr (r, e);
}
