/* nftables through libnftnl: one batch per change, every ACK read and checked. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cni/nft-internal.h"

#define NFT_BUFSZ (1 << 20)


void
cni_nftb_start_sized (nft_batch *nb, size_t limit, size_t max_msg)
{
  /* libmnl builds each message in place and only then checks it against the limit: the
     buffer holds the limit plus the largest message. */
  nb->buf = xmalloc (limit + max_msg + MNL_SOCKET_BUFFER_SIZE);
  nb->b = mnl_nlmsg_batch_start (nb->buf, limit);
  nb->seq = (uint32_t)time (NULL);
  nb->nmsgs = 0;
  nb->overflow = false;
  nftnl_batch_begin (mnl_nlmsg_batch_current (nb->b), nb->seq++);
  mnl_nlmsg_batch_next (nb->b);
}

void
cni_nftb_start (nft_batch *nb)
{
  cni_nftb_start_sized (nb, NFT_BUFSZ, NFT_BUFSZ);
}

void
cni_nftb_free (nft_batch *nb)
{
  if (nb->b)
    mnl_nlmsg_batch_stop (nb->b);
  free (nb->buf);
}

struct nlmsghdr *
cni_nftb_msg_family (nft_batch *nb, int type, int family, int flags)
{
  nb->nmsgs++;
  return nftnl_nlmsg_build_hdr (mnl_nlmsg_batch_current (nb->b), (uint16_t)type,
                                (uint16_t)family, (uint16_t)(flags | NLM_F_ACK), nb->seq++);
}

struct nlmsghdr *
cni_nftb_msg (nft_batch *nb, int type, int flags)
{
  return cni_nftb_msg_family (nb, type, NFPROTO_INET, flags);
}

void
cni_nftb_next (nft_batch *nb)
{
  if (!mnl_nlmsg_batch_next (nb->b))
    nb->overflow = true;
}

/* Socket buffers large enough for one batch and its ACKs (root may exceed the sysctl
   limits with the FORCE options; others get what the limits allow). */
static void
size_buffers (struct mnl_socket *s, size_t batch, int nmsgs)
{
  int fd = mnl_socket_get_fd (s);
  /* an ACK costs a whole skb (about 1 KiB of truesize) of the receive buffer */
  int snd = (int)batch + 4096, rcv = nmsgs * 2048 + 65536;
  if (snd > 200000 && setsockopt (fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) < 0)
    setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  if (rcv > 200000 && setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
    setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
}

void
cni_nftb_table (nft_batch *nb, const char *name, int type, int flags)
{
  struct nftnl_table *t = nftnl_table_alloc ();
  nftnl_table_set_u32 (t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
  nftnl_table_set_str (t, NFTNL_TABLE_NAME, name);
  nftnl_table_nlmsg_build_payload (cni_nftb_msg (nb, type, flags), t);
  cni_nftb_next (nb);
  nftnl_table_free (t);
}

int
cni_nftb_socket_open (struct mnl_socket **out, husk_error **err)
{
  struct mnl_socket *s = mnl_socket_open2 (NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (s == NULL)
    return husk_err_errno (err, "nftables: open netlink");
  if (mnl_socket_bind (s, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      int e = errno;
      mnl_socket_close (s);
      return husk_err_sys (err, e, "nftables: bind netlink");
    }
  *out = s;
  return 0;
}

/* Closes every descriptor but a and b (a < b). */
static void
close_all_but (int a, int b)
{
  if (a > 0)
    close_range (0, (unsigned) a - 1, 0);
  if (b > a + 1)
    close_range ((unsigned) a + 1, (unsigned) b - 1, 0);
  close_range ((unsigned) b + 1, ~0U, 0);
}

void
cni_nftb_socket_close_detached (struct mnl_socket *s)
{
  int fd = mnl_socket_get_fd (s), p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    {
      mnl_socket_close (s);
      return;
    }
  fflush (NULL);
  pid_t child = fork ();
  if (child == 0)
    {
      /* Only async-signal-safe calls from here on. */
      setsid ();
      if (fork () != 0)
        _exit (0);
      close_all_but (fd < p[0] ? fd : p[0], fd < p[0] ? p[0] : fd);
      char c;
      while (read (p[0], &c, 1) < 0 && errno == EINTR)
        ;
      close (fd); /* the last reference: the release waits here, in the background */
      _exit (0);
    }
  close (p[0]);
  if (child > 0)
    while (waitpid (child, NULL, 0) < 0 && errno == EINTR)
      ;
  mnl_socket_close (s); /* not the last reference when the grandchild holds one */
  close (p[1]);         /* EOF: the grandchild closes its copy now */
}

/* Sends the batch and reads one ACK per message; the first error fails the transaction
   (the kernel then applied nothing). Returns 0 or -errno. */
int
cni_nftb_send (struct mnl_socket *s, nft_batch *nb)
{
  nftnl_batch_end (mnl_nlmsg_batch_current (nb->b), nb->seq++);
  cni_nftb_next (nb);
  if (nb->overflow)
    return -E2BIG;
  size_buffers (s, mnl_nlmsg_batch_size (nb->b), nb->nmsgs);
  if (mnl_socket_sendto (s, mnl_nlmsg_batch_head (nb->b), mnl_nlmsg_batch_size (nb->b)) < 0)
    return -errno;
  _cleanup_free_ char *buf = xmalloc (MNL_SOCKET_BUFFER_SIZE * 4);
  int acks = 0;
  while (acks < nb->nmsgs)
    {
      ssize_t n = mnl_socket_recvfrom (s, buf, MNL_SOCKET_BUFFER_SIZE * 4);
      if (n < 0)
        return -errno;
      int len = (int)n;
      for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok (nlh, len);
           nlh = mnl_nlmsg_next (nlh, &len))
        {
          if (nlh->nlmsg_type != NLMSG_ERROR)
            continue;
          struct nlmsgerr *e = mnl_nlmsg_get_payload (nlh);
          if (e->error != 0)
            return e->error;
          acks++;
        }
    }
  return 0;
}

/* ---- expressions ---- */

void
cni_nftb_add_expr (struct nftnl_rule *r, struct nftnl_expr *e)
{
  nftnl_rule_add_expr (r, e);
}

void
cni_nftb_e_meta (struct nftnl_rule *r, uint32_t key)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("meta");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_META_DREG, NFT_REG_1);
  cni_nftb_add_expr (r, e);
}

void
cni_nftb_e_cmp (struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("cmp");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set (e, NFTNL_EXPR_CMP_DATA, data, len);
  cni_nftb_add_expr (r, e);
}

void
cni_nftb_e_payload (struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("payload");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_LEN, len);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  cni_nftb_add_expr (r, e);
}

void
cni_nftb_e_bitwise (struct nftnl_rule *r, const void *mask, uint32_t len)
{
  static const uint8_t zero[16];
  struct nftnl_expr *e = nftnl_expr_alloc ("bitwise");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_BITWISE_LEN, len);
  nftnl_expr_set (e, NFTNL_EXPR_BITWISE_MASK, mask, len);
  nftnl_expr_set (e, NFTNL_EXPR_BITWISE_XOR, zero, len);
  cni_nftb_add_expr (r, e);
}

void
cni_nftb_e_immediate (struct nftnl_rule *r, uint32_t reg, const void *data, uint32_t len)
{
  struct nftnl_expr *e = nftnl_expr_alloc ("immediate");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_IMM_DREG, reg);
  nftnl_expr_set (e, NFTNL_EXPR_IMM_DATA, data, len);
  cni_nftb_add_expr (r, e);
}

/* meta nfproto <family> */
void
cni_nftb_m_nfproto (struct nftnl_rule *r, int family)
{
  uint8_t p = family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
  cni_nftb_e_meta (r, NFT_META_NFPROTO);
  cni_nftb_e_cmp (r, NFT_CMP_EQ, &p, 1);
}

/* ip saddr/daddr (op) addr, masked to prefix when prefix is shorter than the address */
void
cni_nftb_m_addr (struct nftnl_rule *r, bool src, uint32_t op, const cni_ip *ip, int prefix)
{
  int len = cni_ip_len (ip);
  uint32_t off = ip->family == AF_INET6 ? (src ? 8 : 24) : (src ? 12 : 16);
  cni_nftb_e_payload (r, NFT_PAYLOAD_NETWORK_HEADER, off, (uint32_t)len);
  cni_ip v = *ip;
  if (prefix >= 0 && prefix < len * 8)
    {
      cni_ip mask = { .family = ip->family };
      mask = cni_ip_last (&mask, 0); /* all ones */
      mask = cni_ip_network (&mask, prefix);
      cni_nftb_e_bitwise (r, mask.addr, (uint32_t)len);
      v = cni_ip_network (ip, prefix);
    }
  cni_nftb_e_cmp (r, op, v.addr, (uint32_t)len);
}

static struct nftnl_rule *
rule_new (const char *chain, const char *comment)
{
  struct nftnl_rule *r = nftnl_rule_alloc ();
  nftnl_rule_set_u32 (r, NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str (r, NFTNL_RULE_TABLE, CNI_NFT_TABLE);
  nftnl_rule_set_str (r, NFTNL_RULE_CHAIN, chain);
  struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc (256);
  nftnl_udata_put_strz (ud, NFTNL_UDATA_RULE_COMMENT, comment);
  nftnl_rule_set_data (r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data (ud), nftnl_udata_buf_len (ud));
  nftnl_udata_buf_free (ud);
  return r;
}

static void
batch_rule (nft_batch *nb, struct nftnl_rule *r)
{
  struct nlmsghdr *nlh = cni_nftb_msg (nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
  nftnl_rule_nlmsg_build_payload (nlh, r);
  cni_nftb_next (nb);
  nftnl_rule_free (r);
}

/* Table and chains, created when missing (no NLM_F_EXCL: existing ones are kept). */
static void
batch_skeleton (nft_batch *nb)
{
  struct nftnl_table *t = nftnl_table_alloc ();
  nftnl_table_set_u32 (t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
  nftnl_table_set_str (t, NFTNL_TABLE_NAME, CNI_NFT_TABLE);
  nftnl_table_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWTABLE, NLM_F_CREATE), t);
  cni_nftb_next (nb);
  nftnl_table_free (t);
  static const struct
  {
    const char *name;
    uint32_t hook;
    int prio;
  } chains[] = {
    { "prerouting", NF_INET_PRE_ROUTING, -100 },
    { "output", NF_INET_LOCAL_OUT, -100 },
    { "postrouting", NF_INET_POST_ROUTING, 100 },
  };
  for (size_t i = 0; i < ARRAY_SIZE (chains); i++)
    {
      struct nftnl_chain *c = nftnl_chain_alloc ();
      nftnl_chain_set_u32 (c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
      nftnl_chain_set_str (c, NFTNL_CHAIN_TABLE, CNI_NFT_TABLE);
      nftnl_chain_set_str (c, NFTNL_CHAIN_NAME, chains[i].name);
      nftnl_chain_set_str (c, NFTNL_CHAIN_TYPE, "nat");
      nftnl_chain_set_u32 (c, NFTNL_CHAIN_HOOKNUM, chains[i].hook);
      nftnl_chain_set_s32 (c, NFTNL_CHAIN_PRIO, chains[i].prio);
      nftnl_chain_set_u32 (c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
      nftnl_chain_nlmsg_build_payload (cni_nftb_msg (nb, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
      cni_nftb_next (nb);
      nftnl_chain_free (c);
    }
}

/* ip saddr <pod> ip daddr != <pod network> [ip daddr != 224.0.0.0/4] masquerade */
static void
rule_masq (nft_batch *nb, const cni_nft_pod *pod, const cni_result_ip *ip, const char *comment)
{
  struct nftnl_rule *r = rule_new ("postrouting", comment);
  cni_nftb_m_nfproto (r, ip->address.family);
  cni_nftb_m_addr (r, true, NFT_CMP_EQ, &ip->address, -1);
  cni_nftb_m_addr (r, false, NFT_CMP_NEQ, &ip->address, ip->address.prefix);
  for (size_t i = 0; i < pod->nmasq_exclude; i++)
    if (pod->masq_exclude[i].family == ip->address.family)
      cni_nftb_m_addr (r, false, NFT_CMP_NEQ, &pod->masq_exclude[i], pod->masq_exclude[i].prefix);
  if (ip->address.family == AF_INET)
    {
      cni_ip mc;
      cni_ip_parse ("224.0.0.0", &mc, NULL);
      cni_nftb_m_addr (r, false, NFT_CMP_NEQ, &mc, 4);
    }
  else
    {
      cni_ip mc;
      cni_ip_parse ("ff00::", &mc, NULL);
      cni_nftb_m_addr (r, false, NFT_CMP_NEQ, &mc, 8);
    }
  cni_nftb_add_expr (r, nftnl_expr_alloc ("masq"));
  batch_rule (nb, r);
}

static uint8_t
l4proto (const char *p)
{
  return streq (p, "udp") ? IPPROTO_UDP : streq (p, "sctp") ? IPPROTO_SCTP : IPPROTO_TCP;
}

/* [ip daddr <hostIP>] fib daddr type local <proto> dport <hp> dnat to <pod>:<cp> */
static void
rule_dnat (nft_batch *nb, const char *chain, const cni_port_mapping *m, const cni_ip *pod,
           const char *comment)
{
  struct nftnl_rule *r = rule_new (chain, comment);
  cni_nftb_m_nfproto (r, pod->family);
  if (m->host_ip.family)
    cni_nftb_m_addr (r, false, NFT_CMP_EQ, &m->host_ip, -1);
  struct nftnl_expr *e = nftnl_expr_alloc ("fib");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
  cni_nftb_add_expr (r, e);
  uint32_t local = RTN_LOCAL;
  cni_nftb_e_cmp (r, NFT_CMP_EQ, &local, sizeof local);
  uint8_t proto = l4proto (m->protocol);
  cni_nftb_e_meta (r, NFT_META_L4PROTO);
  cni_nftb_e_cmp (r, NFT_CMP_EQ, &proto, 1);
  uint16_t hp = htons ((uint16_t)m->host_port), cp = htons ((uint16_t)m->container_port);
  cni_nftb_e_payload (r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
  cni_nftb_e_cmp (r, NFT_CMP_EQ, &hp, 2);
  cni_nftb_e_immediate (r, NFT_REG_1, pod->addr, (uint32_t)cni_ip_len (pod));
  cni_nftb_e_immediate (r, NFT_REG_2, &cp, 2);
  e = nftnl_expr_alloc ("nat");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_NAT_FAMILY,
                      pod->family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
  cni_nftb_add_expr (r, e);
  batch_rule (nb, r);
}

/* Hairpin: a pod of the network reaching a hostPort that lands on this pod must see the
   reply come from the address it dialled, so such DNATed flows are masqueraded.
   ip saddr <pod network> ip daddr <pod> ct status dnat masquerade */
static void
rule_hairpin (nft_batch *nb, const cni_result_ip *ip, const char *comment)
{
  struct nftnl_rule *r = rule_new ("postrouting", comment);
  cni_nftb_m_nfproto (r, ip->address.family);
  cni_nftb_m_addr (r, true, NFT_CMP_EQ, &ip->address, ip->address.prefix);
  cni_nftb_m_addr (r, false, NFT_CMP_EQ, &ip->address, -1);
  struct nftnl_expr *e = nftnl_expr_alloc ("ct");
  nftnl_expr_set_u32 (e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
  nftnl_expr_set_u32 (e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  cni_nftb_add_expr (r, e);
  uint32_t mask = IPS_DST_NAT, zero = 0;
  cni_nftb_e_bitwise (r, &mask, 4);
  cni_nftb_e_cmp (r, NFT_CMP_NEQ, &zero, 4);
  cni_nftb_add_expr (r, nftnl_expr_alloc ("masq"));
  batch_rule (nb, r);
}

static char *
comment_of (const char *network, const char *container_id, const char *ifname)
{
  return xasprintf ("%s/%s/%s", network, container_id, ifname);
}

static int send_pod_batch (const cni_nft_pod *pod, const char *comment, bool fast,
                           husk_error **err);

int
cni_nft_pod_add (const cni_nft_pod *pod, husk_error **err)
{
  bool fast = pod->fast && pod->nports == 0 && pod->nips > 0;
  if (!pod->masq && pod->nports == 0 && !fast)
    return 0;
  _cleanup_free_ char *comment = comment_of (pod->network, pod->container_id, pod->ifname);
  int r = send_pod_batch (pod, comment, fast, err);
  if (r < 0 && fast
      && ((*err)->errnum == ENOENT || (*err)->errnum == EOPNOTSUPP
          || (*err)->errnum == EAFNOSUPPORT))
    {
      /* A kernel without the netdev family or nft_fwd_netdev: the pod takes the normal
         path (the failed transaction applied nothing). */
      husk_error_free (*err);
      *err = NULL;
      r = send_pod_batch (pod, comment, false, err);
    }
  return r;
}

/* The attachment's rules (and its shortcut when fast) in one transaction; 0 or -errno. */
static int
send_pod_batch (const cni_nft_pod *pod, const char *comment, bool fast, husk_error **err)
{
  if (!fast && !pod->masq && pod->nports == 0)
    return 0;
  struct mnl_socket *s = NULL;
  int r = cni_nftb_socket_open (&s, err);
  if (r < 0)
    return r;
  nft_batch nb = { 0 };
  cni_nftb_start (&nb);
  if (fast)
    cni_fast_add_msgs (&nb, pod, comment);
  if (pod->masq || pod->nports > 0)
    batch_skeleton (&nb);
  for (size_t i = 0; i < pod->nips; i++)
    {
      const cni_result_ip *ip = &pod->ips[i];
      if (pod->masq)
        rule_masq (&nb, pod, ip, comment);
      bool any = false;
      for (size_t k = 0; k < pod->nports; k++)
        {
          const cni_port_mapping *m = &pod->ports[k];
          if (m->host_ip.family && m->host_ip.family != ip->address.family)
            continue;
          rule_dnat (&nb, "prerouting", m, &ip->address, comment);
          rule_dnat (&nb, "output", m, &ip->address, comment);
          any = true;
        }
      if (any)
        rule_hairpin (&nb, ip, comment);
    }
  r = cni_nftb_send (s, &nb);
  cni_nftb_free (&nb);
  if (r < 0)
    {
      mnl_socket_close (s);
      return husk_err_sys (err, -r, "nftables: add rules for %s", comment);
    }
  cni_nftb_socket_close_detached (s);
  return 0;
}

/* ---- listing and deleting by comment ---- */

typedef struct nft_rule_ref
{
  char *chain, *comment;
  uint64_t handle;
} nft_rule_ref;

struct dump_ctx
{
  nft_rule_ref *list;
  size_t n;
};

static int
udata_cb (const struct nftnl_udata *attr, void *data)
{
  const char **out = data;
  if (nftnl_udata_type (attr) == NFTNL_UDATA_RULE_COMMENT)
    *out = nftnl_udata_get (attr);
  return 0;
}

static int
dump_cb (const struct nlmsghdr *nlh, void *data)
{
  struct dump_ctx *c = data;
  struct nftnl_rule *r = nftnl_rule_alloc ();
  if (nftnl_rule_nlmsg_parse (nlh, r) < 0)
    {
      nftnl_rule_free (r);
      return MNL_CB_OK;
    }
  uint32_t len = 0;
  const void *ud = nftnl_rule_get_data (r, NFTNL_RULE_USERDATA, &len);
  const char *comment = NULL;
  if (ud)
    nftnl_udata_parse (ud, len, udata_cb, &comment);
  if (comment)
    {
      c->list = xreallocarray (c->list, c->n + 1, sizeof *c->list);
      c->list[c->n++] = (nft_rule_ref){
        .chain = xstrdup (nftnl_rule_get_str (r, NFTNL_RULE_CHAIN)),
        .comment = xstrdup (comment),
        .handle = nftnl_rule_get_u64 (r, NFTNL_RULE_HANDLE),
      };
    }
  nftnl_rule_free (r);
  return MNL_CB_OK;
}

static void
refs_free (struct dump_ctx *c)
{
  for (size_t i = 0; i < c->n; i++)
    {
      free (c->list[i].chain);
      free (c->list[i].comment);
    }
  free (c->list);
  c->list = NULL;
  c->n = 0;
}

/* Lists the table's rules; a missing table gives none. Returns 0 or -errno. */
static int
dump_rules (struct mnl_socket *s, struct dump_ctx *c)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  uint32_t seq = (uint32_t)time (NULL);
  struct nlmsghdr *nlh
      = nftnl_nlmsg_build_hdr (buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, seq);
  struct nftnl_rule *r = nftnl_rule_alloc ();
  nftnl_rule_set_str (r, NFTNL_RULE_TABLE, CNI_NFT_TABLE);
  nftnl_rule_nlmsg_build_payload (nlh, r);
  nftnl_rule_free (r);
  if (mnl_socket_sendto (s, nlh, nlh->nlmsg_len) < 0)
    return -errno;
  _cleanup_free_ char *rbuf = xmalloc (NFT_BUFSZ / 4);
  uint32_t portid = mnl_socket_get_portid (s);
  for (;;)
    {
      ssize_t n = mnl_socket_recvfrom (s, rbuf, NFT_BUFSZ / 4);
      if (n < 0)
        return -errno;
      errno = 0;
      int ret = mnl_cb_run (rbuf, n, seq, portid, dump_cb, c);
      if (ret < 0)
        return errno == ENOENT ? 0 : -(errno ? errno : EIO);
      if (ret == MNL_CB_STOP)
        return 0;
    }
}

typedef cni_fast_pred rule_pred;

/* Deletes the rules whose comment satisfies pred, in one batch. A rule removed meanwhile by
   someone else makes the batch fail with ENOENT: the listing is then retried. */
static int
delete_matching (rule_pred pred, void *data, int *removed, husk_error **err)
{
  struct mnl_socket *s = NULL;
  int r = cni_nftb_socket_open (&s, err);
  if (r < 0)
    return r;
  /* husk-cni processes serialise their list-then-delete: a dump that races with another
     writer comes back interrupted (EINTR), and retries under contention would starve. */
  _cleanup_close_ int lock = open (CNI_NFT_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock >= 0)
    while (flock (lock, LOCK_EX) < 0 && errno == EINTR)
      ;
  bool committed = false;
  for (int attempt = 0; attempt < 20; attempt++)
    {
      struct dump_ctx c = { 0 };
      r = dump_rules (s, &c);
      if (r == -EINTR)
        {
          refs_free (&c);
          continue;
        }
      if (r < 0)
        {
          refs_free (&c);
          break;
        }
      cni_fast_items fast = { 0 };
      r = cni_fast_collect (s, pred, data, &fast);
      if (r < 0)
        {
          refs_free (&c);
          cni_fast_items_free (&fast);
          if (r == -EINTR)
            continue;
          break;
        }
      nft_batch nb = { 0 };
      cni_nftb_start (&nb);
      int nfast = cni_fast_del_msgs (&nb, &fast);
      cni_fast_items_free (&fast);
      int cnt = 0;
      for (size_t i = 0; i < c.n; i++)
        {
          if (!pred (c.list[i].comment, data))
            continue;
          struct nftnl_rule *rule = nftnl_rule_alloc ();
          nftnl_rule_set_u32 (rule, NFTNL_RULE_FAMILY, NFPROTO_INET);
          nftnl_rule_set_str (rule, NFTNL_RULE_TABLE, CNI_NFT_TABLE);
          nftnl_rule_set_str (rule, NFTNL_RULE_CHAIN, c.list[i].chain);
          nftnl_rule_set_u64 (rule, NFTNL_RULE_HANDLE, c.list[i].handle);
          nftnl_rule_nlmsg_build_payload (cni_nftb_msg (&nb, NFT_MSG_DELRULE, 0), rule);
          cni_nftb_next (&nb);
          nftnl_rule_free (rule);
          cnt++;
        }
      refs_free (&c);
      r = cnt + nfast ? cni_nftb_send (s, &nb) : 0;
      cni_nftb_free (&nb);
      if (r == -ENOENT || r == -EINTR || r == -EBUSY)
        continue;
      if (r == 0 && removed)
        *removed = cnt;
      committed = r == 0 && cnt + nfast > 0;
      break;
    }
  if (lock >= 0)
    flock (lock, LOCK_UN); /* a detached grandchild may hold a copy of the descriptor */
  if (committed)
    cni_nftb_socket_close_detached (s);
  else
    mnl_socket_close (s);
  if (r < 0)
    return husk_err_sys (err, -r, "nftables: delete rules");
  return 0;
}

static bool
pred_equal (const char *comment, void *data)
{
  return streq (comment, (const char *)data);
}

int
cni_nft_pod_del (const char *network, const char *container_id, const char *ifname,
                 husk_error **err)
{
  _cleanup_free_ char *comment = comment_of (network, container_id, ifname);
  int r = delete_matching (pred_equal, comment, NULL, err);
  if (r < 0)
    return husk_err_wrap (err, "%s", comment);
  return 0;
}

struct gc_ctx
{
  const char *network;
  const cni_attachment *valid;
  size_t nvalid;
};

static bool
pred_not_valid (const char *comment, void *data)
{
  struct gc_ctx *g = data;
  size_t nl = strlen (g->network);
  if (strncmp (comment, g->network, nl) != 0 || comment[nl] != '/')
    return false; /* another network's rule */
  for (size_t i = 0; i < g->nvalid; i++)
    {
      _cleanup_free_ char *c
          = comment_of (g->network, g->valid[i].container_id, g->valid[i].ifname);
      if (streq (c, comment))
        return false;
    }
  return true;
}

int
cni_nft_gc (const char *network, const cni_attachment *valid, size_t nvalid, int *removed,
            husk_error **err)
{
  struct gc_ctx g = { network, valid, nvalid };
  return delete_matching (pred_not_valid, &g, removed, err);
}
