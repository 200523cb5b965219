/* The pod-to-pod shortcut (husk-cni key fastPath, on by default): a netdev ingress chain on
   each pod's host veth forwards a frame addressed to another pod of this node straight to
   that pod's host veth, past the bridge, br_netfilter and conntrack.

   table netdev husk-fast {
     map ports4 { type ipv4_addr . ether_addr : iface_index }   pod address . pod MAC ->
     map ports6 { type ipv6_addr . ether_addr : iface_index }   its host veth (per ADD)
     set tracked4/tracked6 { type ipv4_addr/ipv6_addr }         pods a NetworkPolicy isolates
                                                                (filled by cni_np_apply)
     chain remote { }                    regular, never touched here: cross-node shortcuts
     chain fast4 {                       regular, rebuilt by every ADD
       ip saddr @tracked4 return
       ip daddr @tracked4 return
       fwd to ip daddr . ether daddr map @ports4
       jump remote }
     chain fast6 { the same for ip6 }
     chain veth<8 hex> { type filter hook ingress device "veth<8 hex>" priority 0;
       comment "<network>/<containerID>/<ifname>"
       meta protocol ip ip saddr <pod v4> goto fast4
       meta protocol ip6 ip6 saddr <pod v6> goto fast6 }
   }

   Why it is correct:
   - The key holds the destination MAC: only a frame the sender addressed to the peer pod's
     own MAC (same subnet, resolved by ARP/ND through the bridge) takes the shortcut, so what
     arrives is exactly what the bridge would have delivered. A frame for the gateway's MAC
     (a route via the gateway) takes the normal path.
   - Both directions of a flow take the same way: a pod with hostPorts (a DNAT target whose
     replies conntrack un-NATs) gets no chain and no element; an isolated pod is in
     tracked4/6, checked for source and destination.
   - Only the pod's own addresses as source: anything else (spoofed, link-local) takes the
     normal path, so a pod cannot dodge its policy by spoofing another pod's address.
   Elements and the pod's chain carry the attachment's comment: DEL and GC find them by it
   (cni_fast_collect). Nothing here ever flushes or deletes the table, `remote`, or chains
   without such a comment (another component's chains on the uplink survive). */
#include "config.h"

#include <errno.h>
#include <time.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "cni/fastpath-nft.h"
#include "cni/nft-internal.h"

enum
{
  TYPE_IPADDR = 7, /* nftables' datatype ids, as `nft list` shows them */
  TYPE_IP6ADDR = 8,
  TYPE_ETHERADDR = 9,
  TYPE_IFINDEX = 20,
  TYPE_BITS = 6, /* a concatenation's type: (t1 << TYPE_BITS) | t2 */
  FAST_ID0 = 1000, /* set ids inside a batch */
};

#define MAC_REG_V4 NFT_REG32_01 /* ip daddr in reg32 0, ether daddr after it */
#define MAC_REG_V6 NFT_REG32_04 /* ip6 daddr in reg32 0-3 */

static bool
v6 (int family)
{
  return family == AF_INET6;
}

static const char *
map_name (int family)
{
  return v6 (family) ? "ports6" : "ports4";
}

static const char *
tracked_name (int family)
{
  return v6 (family) ? "tracked6" : "tracked4";
}

static const char *
fast_chain (int family)
{
  return v6 (family) ? "fast6" : "fast4";
}

static uint32_t
map_id (int family)
{
  return FAST_ID0 + (v6 (family) ? 1 : 0);
}

static uint32_t
tracked_id (int family)
{
  return FAST_ID0 + 2 + (v6 (family) ? 1 : 0);
}

/* Key length of the map: address, then the MAC padded to a register (8 bytes). */
static uint32_t
map_key_len (int family)
{
  return (v6 (family) ? 16 : 4) + 8;
}

static struct nftnl_set *
map_new (int family)
{
  struct nftnl_set *s = cni_fast_set_new (map_name (family), map_id (family));
  uint32_t ktype = ((v6 (family) ? TYPE_IP6ADDR : TYPE_IPADDR) << TYPE_BITS) | TYPE_ETHERADDR;
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_TYPE, ktype);
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_LEN, map_key_len (family));
  nftnl_set_set_u32 (s, NFTNL_SET_FLAGS, NFT_SET_MAP);
  nftnl_set_set_u32 (s, NFTNL_SET_DATA_TYPE, TYPE_IFINDEX);
  nftnl_set_set_u32 (s, NFTNL_SET_DATA_LEN, sizeof (uint32_t));
  /* for `nft list`: the interface index is in host byte order (nft's BYTEORDER_HOST_ENDIAN) */
  struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc (64);
  nftnl_udata_put_u32 (ud, NFTNL_UDATA_SET_DATABYTEORDER, 1);
  nftnl_set_set_data (s, NFTNL_SET_USERDATA, nftnl_udata_buf_data (ud), nftnl_udata_buf_len (ud));
  nftnl_udata_buf_free (ud);
  return s;
}

static struct nftnl_set *
tracked_new (int family)
{
  struct nftnl_set *s = cni_fast_set_new (tracked_name (family), tracked_id (family));
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_TYPE, v6 (family) ? TYPE_IP6ADDR : TYPE_IPADDR);
  nftnl_set_set_u32 (s, NFTNL_SET_KEY_LEN, v6 (family) ? 16 : 4);
  return s;
}

static void
e_payload (struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("payload");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_LEN, len);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
  cni_nftb_add_expr (r, e);
}

/* ip(6) saddr|daddr -> reg 1 */
static void
e_addr (struct nftnl_rule *r, bool src, int family)
{
  uint32_t off = v6 (family) ? (src ? 8 : 24) : (src ? 12 : 16);
  e_payload (r, NFT_PAYLOAD_NETWORK_HEADER, off, v6 (family) ? 16 : 4, NFT_REG_1);
}

static void
e_lookup (struct nftnl_rule *r, const char *set, uint32_t id, bool map)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("lookup");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
  nftnl_expr_set_str (e, NFTNL_EXPR_LOOKUP_SET, set);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_SET_ID, id);
  if (map)
    nftnl_expr_set_u32 (e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
  cni_nftb_add_expr (r, e);
}

/* chain fast4/fast6, flushed and filled (its rules are fixed: rebuilding them is idempotent) */
static void
fast_chain_msgs (nft_batch *nb, int family)
{
  const char *name = fast_chain (family);
  cni_fast_chain_msg (nb, name, NULL, NULL);
  cni_fast_flush_msg (nb, name);
  for (int src = 1; src >= 0; src--) /* ip saddr|daddr @tracked return */
    {
      struct nftnl_rule *r = cni_fast_rule_new (name);
      e_addr (r, src, family);
      e_lookup (r, tracked_name (family), tracked_id (family), false);
      cni_fast_e_verdict (r, NFT_RETURN, NULL);
      cni_fast_rule_send (nb, r);
    }
  struct nftnl_rule *r = cni_fast_rule_new (name); /* fwd to ip daddr . ether daddr map @ports */
  e_addr (r, false, family);
  e_payload (r, NFT_PAYLOAD_LL_HEADER, 0, ETH_ALEN, v6 (family) ? MAC_REG_V6 : MAC_REG_V4);
  e_lookup (r, map_name (family), map_id (family), true);
  struct nftnl_expr *e = nftnl_expr_alloc ("fwd");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_FWD_SREG_DEV, NFT_REG_1);
  cni_nftb_add_expr (r, e);
  cni_fast_rule_send (nb, r);
  r = cni_fast_rule_new (name); /* jump remote */
  cni_fast_e_verdict (r, NFT_JUMP, CNI_FAST_REMOTE);
  cni_fast_rule_send (nb, r);
}

/* The table, its maps, sets and shared chains, created when missing. */
static void
skeleton_msgs (nft_batch *nb)
{
  cni_fast_table_msg (nb);
  for (int f = 0; f < 2; f++)
    {
      int family = f ? AF_INET6 : AF_INET;
      cni_fast_set_msg (nb, NFT_MSG_NEWSET, NLM_F_CREATE, map_new (family));
      cni_fast_set_msg (nb, NFT_MSG_NEWSET, NLM_F_CREATE, tracked_new (family));
    }
  cni_fast_chain_msg (nb, CNI_FAST_REMOTE, NULL, NULL);
  fast_chain_msgs (nb, AF_INET);
  fast_chain_msgs (nb, AF_INET6);
}

/* meta protocol <ip|ip6> ip(6) saddr <pod> goto fast4|fast6 */
static void
pod_rule_msg (nft_batch *nb, const char *chain, const cni_ip *ip)
{
  struct nftnl_rule *r = cni_fast_rule_new (chain);
  uint16_t proto = htons (v6 (ip->family) ? ETH_P_IPV6 : ETH_P_IP);
  cni_nftb_e_meta (r, NFT_META_PROTOCOL);
  cni_nftb_e_cmp (r, NFT_CMP_EQ, &proto, sizeof proto);
  e_addr (r, true, ip->family);
  cni_nftb_e_cmp (r, NFT_CMP_EQ, ip->addr, (uint32_t) cni_ip_len (ip));
  cni_fast_e_verdict (r, NFT_GOTO, fast_chain (ip->family));
  cni_fast_rule_send (nb, r);
}

/* { <ip> . <mac> : <ifindex> } in ports4/ports6, commented with the attachment */
static void
elem_msg (nft_batch *nb, const cni_ip *ip, const uint8_t mac[6], uint32_t ifindex,
          const char *comment)
{
  struct nftnl_set *s = map_new (ip->family);
  uint8_t key[24] = { 0 };
  int alen = cni_ip_len (ip);
  memcpy (key, ip->addr, (size_t) alen);
  memcpy (key + alen, mac, ETH_ALEN);
  struct nftnl_set_elem *e = nftnl_set_elem_alloc ();
  nftnl_set_elem_set (e, NFTNL_SET_ELEM_KEY, key, map_key_len (ip->family));
  nftnl_set_elem_set (e, NFTNL_SET_ELEM_DATA, &ifindex, sizeof ifindex);
  struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc (NFT_USERDATA_MAXLEN);
  nftnl_udata_put_strz (ud, NFTNL_UDATA_SET_ELEM_COMMENT, comment);
  nftnl_set_elem_set (e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data (ud),
                      nftnl_udata_buf_len (ud));
  nftnl_udata_buf_free (ud);
  nftnl_set_elem_add (s, e);
  cni_fast_set_msg (nb, NFT_MSG_NEWSETELEM, NLM_F_CREATE, s);
}

void
cni_fast_add_msgs (nft_batch *nb, const cni_nft_pod *pod, const char *comment)
{
  if (!pod->fast || pod->nports > 0 || pod->nips == 0)
    return;
  skeleton_msgs (nb);
  /* the chain of a veth that had this name before (an ADD after a crash) is rebuilt */
  cni_fast_chain_msg (nb, pod->host_veth, pod->host_veth, comment);
  cni_fast_flush_msg (nb, pod->host_veth);
  for (size_t i = 0; i < pod->nips; i++)
    pod_rule_msg (nb, pod->host_veth, &pod->ips[i].address);
  for (size_t i = 0; i < pod->nips; i++)
    elem_msg (nb, &pod->ips[i].address, pod->pod_mac, (uint32_t) pod->host_ifindex, comment);
}

void
cni_fast_tracked_msgs (nft_batch *nb, const cni_ip *ips, size_t n)
{
  cni_fast_table_msg (nb);
  for (int f = 0; f < 2; f++)
    {
      int family = f ? AF_INET6 : AF_INET;
      cni_fast_set_msg (nb, NFT_MSG_NEWSET, NLM_F_CREATE, tracked_new (family));
      cni_fast_set_msg (nb, NFT_MSG_DELSETELEM, 0, tracked_new (family)); /* no elements: flush */
      struct nftnl_set *s = tracked_new (family);
      bool any = false;
      for (size_t i = 0; i < n; i++)
        if (ips[i].family == family)
          {
            struct nftnl_set_elem *e = nftnl_set_elem_alloc ();
            nftnl_set_elem_set (e, NFTNL_SET_ELEM_KEY, ips[i].addr, (uint32_t) cni_ip_len (&ips[i]));
            nftnl_set_elem_add (s, e);
            any = true;
          }
      if (any)
        cni_fast_set_msg (nb, NFT_MSG_NEWSETELEM, NLM_F_CREATE, s);
      else
        nftnl_set_free (s);
    }
}

/* ---- DEL and GC: what carries an attachment's comment ---- */

static int
comment_cb (const struct nftnl_udata *attr, void *data)
{
  const char **out = data;
  if (nftnl_udata_type (attr) == 0) /* NFTNL_UDATA_{CHAIN,SET_ELEM}_COMMENT */
    *out = nftnl_udata_get (attr);
  return 0;
}

static const char *
comment_of_udata (const void *ud, uint32_t len)
{
  const char *c = NULL;
  if (ud && len > 0)
    nftnl_udata_parse (ud, len, comment_cb, &c);
  return c;
}

struct collect_ctx
{
  cni_fast_items *items;
  cni_fast_pred pred;
  void *data;
  int family; /* of the map being dumped */
};

static int
chain_cb (const struct nlmsghdr *nlh, void *data)
{
  struct collect_ctx *c = data;
  struct nftnl_chain *ch = nftnl_chain_alloc ();
  if (nftnl_chain_nlmsg_parse (nlh, ch) == 0
      && streq (nftnl_chain_get_str (ch, NFTNL_CHAIN_TABLE), CNI_FAST_TABLE))
    {
      uint32_t len = 0;
      const void *ud = nftnl_chain_get_data (ch, NFTNL_CHAIN_USERDATA, &len);
      const char *comment = comment_of_udata (ud, len);
      if (comment && c->pred (comment, c->data))
        {
          cni_fast_items *it = c->items;
          it->chains = xreallocarray (it->chains, it->nchains + 1, sizeof *it->chains);
          it->chains[it->nchains++] = xstrdup (nftnl_chain_get_str (ch, NFTNL_CHAIN_NAME));
        }
    }
  nftnl_chain_free (ch);
  return MNL_CB_OK;
}

static int
elem_cb (const struct nlmsghdr *nlh, void *data)
{
  struct collect_ctx *c = data;
  struct nftnl_set *s = nftnl_set_alloc ();
  if (nftnl_set_elems_nlmsg_parse (nlh, s) == 0)
    {
      struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create (s);
      for (struct nftnl_set_elem *e = nftnl_set_elems_iter_next (it); e;
           e = nftnl_set_elems_iter_next (it))
        {
          uint32_t len = 0, klen = 0;
          const void *ud = nftnl_set_elem_get (e, NFTNL_SET_ELEM_USERDATA, &len);
          const char *comment = comment_of_udata (ud, len);
          const void *key = nftnl_set_elem_get (e, NFTNL_SET_ELEM_KEY, &klen);
          if (!comment || !key || klen != map_key_len (c->family) || !c->pred (comment, c->data))
            continue;
          cni_fast_items *items = c->items;
          items->elems = xreallocarray (items->elems, items->nelems + 1, sizeof *items->elems);
          cni_fast_elem *fe = &items->elems[items->nelems++];
          fe->family = c->family;
          memcpy (fe->key, key, klen);
        }
      nftnl_set_elems_iter_destroy (it);
    }
  nftnl_set_free (s);
  return MNL_CB_OK;
}

/* One dump request; a missing table or set is an empty answer. Returns 0 or -errno. */
static int
dump (struct mnl_socket *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
  if (mnl_socket_sendto (s, nlh, nlh->nlmsg_len) < 0)
    return -errno;
  /* a dump message can be as large as the kernel's dump buffer (32 KiB and more): a smaller
     buffer truncates it (ENOSPC) */
  enum { DUMP_BUFSZ = 1 << 18 };
  _cleanup_free_ char *buf = xmalloc (DUMP_BUFSZ);
  uint32_t portid = mnl_socket_get_portid (s);
  for (;;)
    {
      ssize_t n = mnl_socket_recvfrom (s, buf, DUMP_BUFSZ);
      if (n < 0)
        return -errno;
      errno = 0;
      int ret = mnl_cb_run (buf, (size_t) n, nlh->nlmsg_seq, portid, cb, data);
      if (ret < 0)
        return errno == ENOENT ? 0 : -(errno ? errno : EIO);
      if (ret == MNL_CB_STOP)
        return 0;
    }
}

int
cni_fast_collect (struct mnl_socket *s, cni_fast_pred pred, void *data, cni_fast_items *out)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  uint32_t seq = (uint32_t) time (NULL);
  struct collect_ctx c = { .items = out, .pred = pred, .data = data };
  struct nlmsghdr *nlh
      = nftnl_nlmsg_build_hdr (buf, NFT_MSG_GETCHAIN, NFPROTO_NETDEV, NLM_F_DUMP, seq++);
  struct nftnl_chain *ch = nftnl_chain_alloc ();
  nftnl_chain_set_str (ch, NFTNL_CHAIN_TABLE, CNI_FAST_TABLE);
  nftnl_chain_nlmsg_build_payload (nlh, ch);
  nftnl_chain_free (ch);
  int r = dump (s, nlh, chain_cb, &c);
  for (int f = 0; r == 0 && f < 2; f++)
    {
      c.family = f ? AF_INET6 : AF_INET;
      nlh = nftnl_nlmsg_build_hdr (buf, NFT_MSG_GETSETELEM, NFPROTO_NETDEV, NLM_F_DUMP, seq++);
      struct nftnl_set *set = nftnl_set_alloc ();
      nftnl_set_set_str (set, NFTNL_SET_TABLE, CNI_FAST_TABLE);
      nftnl_set_set_str (set, NFTNL_SET_NAME, map_name (c.family));
      nftnl_set_elems_nlmsg_build_payload (nlh, set);
      nftnl_set_free (set);
      r = dump (s, nlh, elem_cb, &c);
    }
  return r;
}

int
cni_fast_del_msgs (nft_batch *nb, const cni_fast_items *items)
{
  for (size_t i = 0; i < items->nchains; i++)
    {
      struct nftnl_chain *c = nftnl_chain_alloc ();
      nftnl_chain_set_u32 (c, NFTNL_CHAIN_FAMILY, NFPROTO_NETDEV);
      nftnl_chain_set_str (c, NFTNL_CHAIN_TABLE, CNI_FAST_TABLE);
      nftnl_chain_set_str (c, NFTNL_CHAIN_NAME, items->chains[i]);
      nftnl_chain_nlmsg_build_payload (cni_fast_msg (nb, NFT_MSG_DELCHAIN, 0), c);
      cni_nftb_next (nb);
      nftnl_chain_free (c);
    }
  for (size_t i = 0; i < items->nelems; i++)
    {
      const cni_fast_elem *fe = &items->elems[i];
      struct nftnl_set *s = map_new (fe->family);
      struct nftnl_set_elem *e = nftnl_set_elem_alloc ();
      nftnl_set_elem_set (e, NFTNL_SET_ELEM_KEY, fe->key, map_key_len (fe->family));
      nftnl_set_elem_add (s, e);
      cni_fast_set_msg (nb, NFT_MSG_DELSETELEM, 0, s);
    }
  return (int) (items->nchains + items->nelems);
}

void
cni_fast_items_free (cni_fast_items *items)
{
  for (size_t i = 0; i < items->nchains; i++)
    free (items->chains[i]);
  free (items->chains);
  free (items->elems);
  *items = (cni_fast_items){ 0 };
}
