/* NetworkPolicy applier: the rule model -> table `inet husk-netpol`, rebuilt in one batch
   (delete + create inside one transaction: packets see the old rules or the new, never none).

   table inet husk-netpol {
     set s<i>  { type ipv4_addr|ipv6_addr; elements = { pod addresses of a selector } }
     map egr4/egr6/ing4/ing6 { type ip(v6)_addr : verdict; elements = { <pod ip> : jump <chain> } }
     chain forward { type filter hook forward priority filter; policy accept;
       ct state established,related accept; icmpv6 neighbour/router discovery accept
       ip saddr vmap @egr4; ip6 saddr vmap @egr6; ip daddr vmap @ing4; ip6 daddr vmap @ing6 }
     chain input { ... the egress maps only: a pod reaching the node itself }
     chain egr-<n> / ing-<n> { <peer> <port> return; ...; drop }
   }
   An allow rule returns to the base chain, so a packet between two isolated pods passes the
   source's egress chain and then the destination's ingress chain. Traffic from the node to
   its pods (probes) is never filtered, as upstream. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>

#include "cni/netpol.h"
#include "cni/nft-internal.h"

enum
{
  NP_TYPE_IPADDR = 7, /* nftables' datatype ids, as `nft list` shows them */
  NP_TYPE_IP6ADDR = 8,
  NP_SETS_ID0 = 100, /* set ids inside the batch: the four maps, then model sets */
};

static const struct
{
  const char *name;
  bool ingress;
  int family;
} maps[] = {
  {"egr4", false, AF_INET},
  {"egr6", false, AF_INET6},
  {"ing4", true, AF_INET},
  {"ing6", true, AF_INET6},
};

/* A base chain (hook >= 0) or a regular one. */
static void
chain_msg (nft_batch *nb, const char *name, int hook)
{
  struct nftnl_chain *c = nftnl_chain_alloc ();
  nftnl_chain_set_u32 (c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
  nftnl_chain_set_str (c, NFTNL_CHAIN_TABLE, CNI_NP_TABLE);
  nftnl_chain_set_str (c, NFTNL_CHAIN_NAME, name);
  if (hook >= 0)
    {
      nftnl_chain_set_str (c, NFTNL_CHAIN_TYPE, "filter");
      nftnl_chain_set_u32 (c, NFTNL_CHAIN_HOOKNUM, (uint32_t) hook);
      nftnl_chain_set_s32 (c, NFTNL_CHAIN_PRIO, 0);
      nftnl_chain_set_u32 (c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
    }
  nftnl_chain_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
  cni_nftb_next (nb);
  nftnl_chain_free (c);
}

static struct nftnl_set *
set_new (const char *name, uint32_t id, int family)
{
  struct nftnl_set *s = nftnl_set_alloc ();
  nftnl_set_set_u32 (s, NFTNL_SET_FAMILY, NFPROTO_INET);
  nftnl_set_set_str (s, NFTNL_SET_TABLE, CNI_NP_TABLE);
  nftnl_set_set_str (s, NFTNL_SET_NAME, name);
  nftnl_set_set_u32 (s, NFTNL_SET_ID, id);
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_TYPE, family == AF_INET6 ? NP_TYPE_IP6ADDR : NP_TYPE_IPADDR);
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_LEN, family == AF_INET6 ? 16 : 4);
  return s;
}

/* The set (or map) itself, then its elements in one message when there are any. */
static void
set_msgs (nft_batch *nb, struct nftnl_set *s, bool has_elems)
{
  nftnl_set_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWSET, NLM_F_CREATE), s);
  cni_nftb_next (nb);
  if (has_elems)
    {
      nftnl_set_elems_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWSETELEM, NLM_F_CREATE), s);
      cni_nftb_next (nb);
    }
  nftnl_set_free (s);
}

static void
model_set_msgs (nft_batch *nb, const cni_np_set *set, size_t idx)
{
  char name[32];
  snprintf (name, sizeof name, "s%zu", idx);
  struct nftnl_set *s = set_new (name, NP_SETS_ID0 + (uint32_t) idx, set->family);
  for (size_t i = 0; i < set->n; i++)
    {
      struct nftnl_set_elem *e = nftnl_set_elem_alloc ();
      nftnl_set_elem_set (e, NFTNL_SET_ELEM_KEY, set->ips[i].addr, (uint32_t) cni_ip_len (&set->ips[i]));
      nftnl_set_elem_add (s, e);
    }
  set_msgs (nb, s, set->n > 0);
}

static void
chain_name (char *buf, size_t len, bool ingress, size_t i)
{
  snprintf (buf, len, "%s-%zu", ingress ? "ing" : "egr", i);
}

/* Verdict map k: every pod address of that direction and family -> jump to its chain. */
static void
map_msgs (nft_batch *nb, const cni_np_model *m, size_t k)
{
  struct nftnl_set *s = set_new (maps[k].name, (uint32_t) k + 1, maps[k].family);
  nftnl_set_set_u32 (s, NFTNL_SET_FLAGS, NFT_SET_MAP);
  nftnl_set_set_u32 (s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
  const cni_np_chain *chains = maps[k].ingress ? m->ingress : m->egress;
  size_t n = maps[k].ingress ? m->ningress : m->negress;
  bool any = false;
  for (size_t i = 0; i < n; i++)
    for (size_t a = 0; a < chains[i].nips; a++)
      {
        const cni_ip *ip = &chains[i].ips[a];
        if (ip->family != maps[k].family)
          continue;
        char cname[32];
        chain_name (cname, sizeof cname, maps[k].ingress, i);
        struct nftnl_set_elem *e = nftnl_set_elem_alloc ();
        nftnl_set_elem_set (e, NFTNL_SET_ELEM_KEY, ip->addr, (uint32_t) cni_ip_len (ip));
        nftnl_set_elem_set_u32 (e, NFTNL_SET_ELEM_VERDICT, (uint32_t) NFT_JUMP);
        nftnl_set_elem_set_str (e, NFTNL_SET_ELEM_CHAIN, cname);
        nftnl_set_elem_add (s, e);
        any = true;
      }
  set_msgs (nb, s, any);
}

/* ---- rules ---- */

static struct nftnl_rule *
rule_new (const char *chain)
{
  struct nftnl_rule *r = nftnl_rule_alloc ();
  nftnl_rule_set_u32 (r, NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str (r, NFTNL_RULE_TABLE, CNI_NP_TABLE);
  nftnl_rule_set_str (r, NFTNL_RULE_CHAIN, chain);
  return r;
}

static void
rule_verdict (nft_batch *nb, struct nftnl_rule *r, int verdict)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("immediate");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_IMM_VERDICT, (uint32_t) verdict);
  cni_nftb_add_expr (r, e);
  nftnl_rule_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
  cni_nftb_next (nb);
  nftnl_rule_free (r);
}

static void
e_lookup (struct nftnl_rule *r, const char *set, uint32_t id, bool vmap)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("lookup");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
  nftnl_expr_set_str (e, NFTNL_EXPR_LOOKUP_SET, set);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_SET_ID, id);
  if (vmap)
    nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
  cni_nftb_add_expr (r, e);
}

/* ct state established,related accept */
static void
rule_established (nft_batch *nb, const char *chain)
{
  struct nftnl_rule *r = rule_new (chain);
  struct nftnl_expr *e = nftnl_expr_alloc ("ct");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  cni_nftb_add_expr (r, e);
  uint32_t mask = NF_CT_STATE_BIT (IP_CT_ESTABLISHED) | NF_CT_STATE_BIT (IP_CT_RELATED), zero = 0;
  cni_nftb_e_bitwise (r, &mask, 4);
  cni_nftb_e_cmp (r, NFT_CMP_NEQ, &zero, 4);
  rule_verdict (nb, r, NF_ACCEPT);
}

/* meta l4proto ipv6-icmp icmpv6 type 133-137 accept: router and neighbour discovery (a
   neighbour solicitation may carry the pod's global address) is never policy's business,
   as ARP is not for IPv4. */
static void
rule_nd (nft_batch *nb, const char *chain)
{
  struct nftnl_rule *r = rule_new (chain);
  uint8_t icmp6 = IPPROTO_ICMPV6, lo = 133, hi = 137;
  cni_nftb_m_nfproto (r, AF_INET6);
  cni_nftb_e_meta (r, NFT_META_L4PROTO);
  cni_nftb_e_cmp (r, NFT_CMP_EQ, &icmp6, 1);
  cni_nftb_e_payload (r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
  cni_nftb_e_cmp (r, NFT_CMP_GTE, &lo, 1);
  cni_nftb_e_cmp (r, NFT_CMP_LTE, &hi, 1);
  rule_verdict (nb, r, NF_ACCEPT);
}

/* ip saddr vmap @egr4 (and the others); the verdict is the map's */
static void
rule_dispatch (nft_batch *nb, const char *chain, size_t k)
{
  struct nftnl_rule *r = rule_new (chain);
  const cni_ip probe = {.family = maps[k].family};
  cni_nftb_m_nfproto (r, maps[k].family);
  bool src = !maps[k].ingress;
  uint32_t len = (uint32_t) cni_ip_len (&probe);
  uint32_t off = maps[k].family == AF_INET6 ? (src ? 8 : 24) : (src ? 12 : 16);
  cni_nftb_e_payload (r, NFT_PAYLOAD_NETWORK_HEADER, off, len);
  e_lookup (r, maps[k].name, (uint32_t) k + 1, true);
  nftnl_rule_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
  cni_nftb_next (nb);
  nftnl_rule_free (r);
}

/* meta l4proto <p> [th dport <port> | th dport <port>-<end>] */
static void
m_port (struct nftnl_rule *r, const cni_np_port *p)
{
  cni_nftb_e_meta (r, NFT_META_L4PROTO);
  cni_nftb_e_cmp (r, NFT_CMP_EQ, &p->proto, 1);
  if (p->port == 0)
    return;
  uint16_t lo = htons (p->port), hi = htons (p->end);
  cni_nftb_e_payload (r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
  if (p->end == 0)
    cni_nftb_e_cmp (r, NFT_CMP_EQ, &lo, 2);
  else
    {
      cni_nftb_e_cmp (r, NFT_CMP_GTE, &lo, 2);
      cni_nftb_e_cmp (r, NFT_CMP_LTE, &hi, 2);
    }
}

/* The peer is the source for ingress, the destination for egress. */
static void
rule_allow (nft_batch *nb, const char *chain, bool ingress, const cni_np_model *m,
            const cni_np_rule *rule)
{
  struct nftnl_rule *r = rule_new (chain);
  bool src = ingress;
  if (rule->kind == CNI_NP_CIDR)
    {
      cni_nftb_m_nfproto (r, rule->cidr.family);
      cni_nftb_m_addr (r, src, NFT_CMP_EQ, &rule->cidr, rule->cidr.prefix);
      for (size_t i = 0; i < rule->nexcept; i++)
        cni_nftb_m_addr (r, src, NFT_CMP_NEQ, &rule->except[i], rule->except[i].prefix);
    }
  else if (rule->kind == CNI_NP_SET)
    {
      const cni_np_set *set = &m->sets[rule->set];
      const cni_ip probe = {.family = set->family};
      uint32_t len = (uint32_t) cni_ip_len (&probe);
      uint32_t off = set->family == AF_INET6 ? (src ? 8 : 24) : (src ? 12 : 16);
      char name[32];
      snprintf (name, sizeof name, "s%zu", rule->set);
      cni_nftb_m_nfproto (r, set->family);
      cni_nftb_e_payload (r, NFT_PAYLOAD_NETWORK_HEADER, off, len);
      e_lookup (r, name, NP_SETS_ID0 + (uint32_t) rule->set, false);
    }
  if (!rule->any_port)
    m_port (r, &rule->port);
  rule_verdict (nb, r, NFT_RETURN);
}

static void
pod_chains (nft_batch *nb, const cni_np_model *m, bool ingress)
{
  const cni_np_chain *chains = ingress ? m->ingress : m->egress;
  size_t n = ingress ? m->ningress : m->negress;
  for (size_t i = 0; i < n; i++)
    {
      char cname[32];
      chain_name (cname, sizeof cname, ingress, i);
      chain_msg (nb, cname, -1);
      for (size_t k = 0; k < chains[i].nrules; k++)
        rule_allow (nb, cname, ingress, m, &chains[i].rules[k]);
      rule_verdict (nb, rule_new (cname), NF_DROP);
    }
}

/* Isolated pods stay tracked when husk-cni's notrackCIDRs is on (cni/notrack.c): their
   replies pass by ct state; and they never take the pod-to-pod shortcut (cni/fastpath.c),
   in either direction. NULL: none isolated. */
static void
tracked_msgs (nft_batch *nb, const cni_np_model *m)
{
  size_t n = 0;
  _cleanup_free_ cni_ip *ips = NULL;
  for (int d = 0; m && d < 2; d++)
    {
      const cni_np_chain *ch = d ? m->egress : m->ingress;
      size_t nch = d ? m->negress : m->ningress;
      for (size_t i = 0; i < nch; i++)
        for (size_t k = 0; k < ch[i].nips; k++)
          {
            ips = xreallocarray (ips, n + 1, sizeof *ips);
            ips[n++] = ch[i].ips[k];
          }
    }
  cni_nft_tracked_msgs (nb, ips, n);
  cni_fast_tracked_msgs (nb, ips, n);
}

static void
batch_model (nft_batch *nb, const cni_np_model *m)
{
  cni_nftb_table (nb, CNI_NP_TABLE, NFT_MSG_NEWTABLE, NLM_F_CREATE);
  cni_nftb_table (nb, CNI_NP_TABLE, NFT_MSG_DELTABLE, 0);
  cni_nftb_table (nb, CNI_NP_TABLE, NFT_MSG_NEWTABLE, NLM_F_CREATE);
  for (size_t i = 0; i < m->nsets; i++)
    model_set_msgs (nb, &m->sets[i], i);
  pod_chains (nb, m, true);
  pod_chains (nb, m, false);
  for (size_t k = 0; k < ARRAY_SIZE (maps); k++)
    map_msgs (nb, m, k);
  chain_msg (nb, "forward", NF_INET_FORWARD);
  chain_msg (nb, "input", NF_INET_LOCAL_IN);
  rule_established (nb, "forward");
  rule_established (nb, "input");
  rule_nd (nb, "forward");
  rule_nd (nb, "input");
  tracked_msgs (nb, m);
  for (size_t k = 0; k < ARRAY_SIZE (maps); k++)
    {
      rule_dispatch (nb, "forward", k);
      if (!maps[k].ingress)
        rule_dispatch (nb, "input", k);
    }
}

/* Bridged IPv4/IPv6 between two pods of one node must pass the inet hooks. */
static int
bridge_nf_on (husk_error **err)
{
  static const char *const files[] = {"/proc/sys/net/bridge/bridge-nf-call-iptables",
                                      "/proc/sys/net/bridge/bridge-nf-call-ip6tables"};
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      _cleanup_close_ int fd = open (files[i], O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write (fd, "1", 1) != 1)
        return husk_err_errno (err, "%s (NetworkPolicy between pods of one bridge needs "
                                    "br_netfilter)", files[i]);
    }
  return 0;
}

/* Upper bounds of the batch and of its largest message (a set's or a map's elements). */
static void
model_size (const cni_np_model *m, size_t *limit, size_t *max_msg)
{
  enum { PER_ELEM = 96, PER_RULE = 640, PER_OBJ = 512, SLACK = 65536 };
  size_t total = SLACK, biggest = SLACK, maps_elems[2] = {0, 0};
  for (size_t i = 0; m && i < m->nsets; i++)
    {
      size_t sz = m->sets[i].n * PER_ELEM + PER_OBJ;
      total += sz;
      biggest = sz > biggest ? sz : biggest;
    }
  for (int d = 0; m && d < 2; d++)
    {
      const cni_np_chain *ch = d ? m->egress : m->ingress;
      size_t n = d ? m->negress : m->ningress;
      for (size_t i = 0; i < n; i++)
        {
          total += PER_OBJ + (ch[i].nrules + 1) * PER_RULE;
          maps_elems[d] += ch[i].nips;
          total += 2 * ch[i].nips * PER_ELEM; /* tracked4/6 (cni/notrack.c, cni/fastpath.c) */
        }
    }
  for (int d = 0; d < 2; d++)
    {
      size_t sz = maps_elems[d] * PER_ELEM + PER_OBJ;
      total += sz;
      biggest = sz > biggest ? sz : biggest;
    }
  size_t tracked = (maps_elems[0] + maps_elems[1]) * PER_ELEM + PER_OBJ;
  biggest = tracked > biggest ? tracked : biggest;
  *limit = total;
  *max_msg = biggest;
}

static int
send_batch (void (*fill) (nft_batch *, const cni_np_model *), const cni_np_model *m,
            const char *what, husk_error **err)
{
  struct mnl_socket *s = NULL;
  int r = cni_nftb_socket_open (&s, err);
  if (r < 0)
    return r;
  nft_batch nb = {0};
  size_t limit, max_msg;
  model_size (m, &limit, &max_msg);
  cni_nftb_start_sized (&nb, limit, max_msg);
  fill (&nb, m);
  r = cni_nftb_send (s, &nb);
  cni_nftb_free (&nb);
  mnl_socket_close (s);
  if (r < 0)
    return husk_err_sys (err, -r, "nftables: %s table inet %s", what, CNI_NP_TABLE);
  return 0;
}

static void
batch_delete (nft_batch *nb, const cni_np_model *m)
{
  cni_nftb_table (nb, CNI_NP_TABLE, NFT_MSG_NEWTABLE, NLM_F_CREATE);
  cni_nftb_table (nb, CNI_NP_TABLE, NFT_MSG_DELTABLE, 0);
  tracked_msgs (nb, m);
}

int
cni_np_flush (husk_error **err)
{
  return send_batch (batch_delete, NULL, "delete", err);
}

int
cni_np_apply (const cni_np_model *m, husk_error **err)
{
  if (m->ningress == 0 && m->negress == 0)
    return cni_np_flush (err);
  int r = bridge_nf_on (err);
  if (r < 0)
    return r;
  return send_batch (batch_model, m, "load", err);
}
