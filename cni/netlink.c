/* rtnetlink through libmnl: one request, its ACK (or dump) read and traced back by seq. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>

#include "cni/netlink.h"

struct cni_nl
{
  struct mnl_socket *sock;
  uint32_t seq;
  uint32_t portid;
};

#define NL_BUFSZ 32768

int
cni_nl_open (cni_nl **out, husk_error **err)
{
  struct mnl_socket *s = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  if (s == NULL)
    return husk_err_errno (err, "netlink: open");
  if (mnl_socket_bind (s, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      int e = errno;
      mnl_socket_close (s);
      return husk_err_sys (err, e, "netlink: bind");
    }
  int one = 1;
  mnl_socket_setsockopt (s, NETLINK_EXT_ACK, &one, sizeof one);
  cni_nl *nl = xzalloc (sizeof *nl);
  nl->sock = s;
  nl->portid = mnl_socket_get_portid (s);
  nl->seq = (uint32_t)time (NULL);
  *out = nl;
  return 0;
}

int
cni_nl_fd (const cni_nl *nl)
{
  return mnl_socket_get_fd (nl->sock);
}

void
cni_nl_close (cni_nl *nl)
{
  if (nl == NULL)
    return;
  mnl_socket_close (nl->sock);
  free (nl);
}

static struct nlmsghdr *
nl_msg (cni_nl *nl, char *buf, int type, int flags)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = ++nl->seq;
  return nlh;
}

/* Sends nlh and reads replies until the ACK or the end of the dump. Returns 0 or -errno
   (no error object: callers add what they were doing). */
static int
nl_talk (cni_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
  if (mnl_socket_sendto (nl->sock, nlh, nlh->nlmsg_len) < 0)
    return -errno;
  _cleanup_free_ char *buf = xmalloc (NL_BUFSZ);
  uint32_t seq = nlh->nlmsg_seq;
  for (;;)
    {
      ssize_t n = mnl_socket_recvfrom (nl->sock, buf, NL_BUFSZ);
      if (n < 0)
        return -errno;
      int r = mnl_cb_run (buf, n, seq, nl->portid, cb, data);
      if (r < 0)
        return errno ? -errno : -EIO;
      if (r == MNL_CB_STOP)
        return 0;
    }
}

/* ---- links ---- */

struct link_ctx
{
  cni_link *link;
};

static int
linkinfo_cb (const struct nlattr *a, void *data)
{
  cni_link *l = data;
  if (mnl_attr_get_type (a) == IFLA_INFO_KIND)
    snprintf (l->kind, sizeof l->kind, "%s", mnl_attr_get_str (a));
  return MNL_CB_OK;
}

/* IFLA_GSO_IPV4_MAX_SIZE and IFLA_GRO_IPV4_MAX_SIZE (Linux 6.3) are newer than some build
   hosts' headers; older kernels ignore attributes they do not know. */
#ifndef IFLA_GSO_IPV4_MAX_SIZE
#define IFLA_GSO_IPV4_MAX_SIZE 63
#define IFLA_GRO_IPV4_MAX_SIZE 64
#endif

static int
link_attr_cb (const struct nlattr *a, void *data)
{
  cni_link *l = data;
  switch (mnl_attr_get_type (a))
    {
    case IFLA_IFNAME:
      snprintf (l->name, sizeof l->name, "%s", mnl_attr_get_str (a));
      break;
    case IFLA_MTU:
      l->mtu = (int)mnl_attr_get_u32 (a);
      break;
    case IFLA_MASTER:
      l->master = (int)mnl_attr_get_u32 (a);
      break;
    case IFLA_GSO_IPV4_MAX_SIZE:
      if (mnl_attr_get_payload_len (a) == 4)
        l->gso_ipv4_max = (int)mnl_attr_get_u32 (a);
      break;
    case IFLA_ADDRESS:
      if (mnl_attr_get_payload_len (a) == 6)
        {
          memcpy (l->mac, mnl_attr_get_payload (a), 6);
          l->has_mac = true;
        }
      break;
    case IFLA_LINKINFO:
      mnl_attr_parse_nested (a, linkinfo_cb, l);
      break;
    }
  return MNL_CB_OK;
}

static int
link_cb (const struct nlmsghdr *nlh, void *data)
{
  cni_link *l = data;
  struct ifinfomsg *ifi = mnl_nlmsg_get_payload (nlh);
  memset (l, 0, sizeof *l);
  l->ifindex = ifi->ifi_index;
  l->flags = ifi->ifi_flags;
  mnl_attr_parse (nlh, sizeof *ifi, link_attr_cb, l);
  return MNL_CB_OK;
}

int
cni_link_get (cni_nl *nl, const char *name, int ifindex, cni_link *out, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = nl_msg (nl, buf, RTM_GETLINK, NLM_F_ACK);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  if (ifindex == 0)
    mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  mnl_attr_put_u32 (nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  cni_link l = { 0 };
  int r = nl_talk (nl, nlh, link_cb, &l);
  if (r == -ENODEV || r == -ENOENT)
    {
      memset (out, 0, sizeof *out);
      return 0;
    }
  if (r < 0)
    return husk_err_sys (err, -r, "netlink: get link %s", ifindex ? "by index" : name);
  *out = l;
  return 0;
}

char *
cni_link_mac_str (const cni_link *l)
{
  if (!l->has_mac)
    return NULL;
  return xasprintf ("%02x:%02x:%02x:%02x:%02x:%02x", l->mac[0], l->mac[1], l->mac[2], l->mac[3],
                    l->mac[4], l->mac[5]);
}

static struct nlmsghdr *
newlink_msg (cni_nl *nl, char *buf, const char *name, int mtu)
{
  struct nlmsghdr *nlh = nl_msg (nl, buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  if (mtu > 0)
    mnl_attr_put_u32 (nlh, IFLA_MTU, (uint32_t)mtu);
  return nlh;
}

int
cni_link_add_bridge (cni_nl *nl, const char *name, int mtu, const uint8_t *mac, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = newlink_msg (nl, buf, name, mtu);
  if (mac)
    mnl_attr_put (nlh, IFLA_ADDRESS, 6, mac);
  struct nlattr *li = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end (nlh, li);
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    return husk_err_sys (err, -r, "netlink: create bridge %s", name);
  return 0;
}

static void
put_gso (struct nlmsghdr *nlh, int gso)
{
  if (gso <= 0)
    return;
  mnl_attr_put_u32 (nlh, IFLA_GSO_MAX_SIZE, (uint32_t)gso);
  mnl_attr_put_u32 (nlh, IFLA_GRO_MAX_SIZE, (uint32_t)gso);
  mnl_attr_put_u32 (nlh, IFLA_GSO_IPV4_MAX_SIZE, (uint32_t)gso);
  mnl_attr_put_u32 (nlh, IFLA_GRO_IPV4_MAX_SIZE, (uint32_t)gso);
}

int
cni_link_set_gso (cni_nl *nl, int ifindex, int gso, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = nl_msg (nl, buf, RTM_NEWLINK, NLM_F_ACK);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  put_gso (nlh, gso);
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    return husk_err_sys (err, -r, "netlink: set GSO/GRO size %d on link %d", gso, ifindex);
  return 0;
}

int
cni_link_add_veth (cni_nl *nl, const char *name, const char *peer, int peer_nsfd, int mtu,
                   int gso, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = newlink_msg (nl, buf, name, mtu);
  put_gso (nlh, gso);
  struct nlattr *li = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "veth");
  struct nlattr *data = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  struct nlattr *pi = mnl_attr_nest_start (nlh, VETH_INFO_PEER);
  struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header (nlh, sizeof *pifi);
  pifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, peer);
  if (peer_nsfd >= 0)
    mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (uint32_t)peer_nsfd);
  if (mtu > 0)
    mnl_attr_put_u32 (nlh, IFLA_MTU, (uint32_t)mtu);
  put_gso (nlh, gso);
  mnl_attr_nest_end (nlh, pi);
  mnl_attr_nest_end (nlh, data);
  mnl_attr_nest_end (nlh, li);
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    return husk_err_sys (err, -r, "netlink: create veth %s (peer %s)", name, peer);
  return 0;
}

int
cni_link_add_vxlan (cni_nl *nl, const char *name, uint32_t vni, int port, const cni_ip *local,
                    int dev_ifindex, int mtu, const uint8_t *mac, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = newlink_msg (nl, buf, name, mtu);
  if (mac)
    mnl_attr_put (nlh, IFLA_ADDRESS, 6, mac);
  struct nlattr *li = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "vxlan");
  struct nlattr *data = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  mnl_attr_put_u32 (nlh, IFLA_VXLAN_ID, vni);
  mnl_attr_put_u16 (nlh, IFLA_VXLAN_PORT, htons ((uint16_t)port));
  mnl_attr_put_u8 (nlh, IFLA_VXLAN_LEARNING, 0);
  /* no outer UDP checksum over IPv4 (RFC 7348: SHOULD be zero; the inner TCP has its own):
     the kernel's default computes one per packet */
  mnl_attr_put_u8 (nlh, IFLA_VXLAN_UDP_CSUM, 0);
  if (local && local->family == AF_INET)
    mnl_attr_put (nlh, IFLA_VXLAN_LOCAL, 4, local->addr);
  else if (local && local->family == AF_INET6)
    mnl_attr_put (nlh, IFLA_VXLAN_LOCAL6, 16, local->addr);
  if (dev_ifindex > 0)
    mnl_attr_put_u32 (nlh, IFLA_VXLAN_LINK, (uint32_t)dev_ifindex);
  mnl_attr_nest_end (nlh, data);
  mnl_attr_nest_end (nlh, li);
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    return husk_err_sys (err, -r, "netlink: create vxlan %s (vni %u)", name, vni);
  return 0;
}

int
cni_link_modify (cni_nl *nl, int ifindex, int master, int mtu, int up, int promisc,
                 husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = nl_msg (nl, buf, RTM_NEWLINK, NLM_F_ACK);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  if (up >= 0)
    {
      ifi->ifi_change |= IFF_UP;
      ifi->ifi_flags |= up ? IFF_UP : 0;
    }
  if (promisc >= 0)
    {
      ifi->ifi_change |= IFF_PROMISC;
      ifi->ifi_flags |= promisc ? IFF_PROMISC : 0;
    }
  if (master >= 0)
    mnl_attr_put_u32 (nlh, IFLA_MASTER, (uint32_t)master);
  if (mtu > 0)
    mnl_attr_put_u32 (nlh, IFLA_MTU, (uint32_t)mtu);
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    return husk_err_sys (err, -r, "netlink: set link %d", ifindex);
  return 0;
}

int
cni_link_set_hairpin (cni_nl *nl, int ifindex, bool on, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = nl_msg (nl, buf, RTM_SETLINK, NLM_F_ACK);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  ifi->ifi_family = AF_BRIDGE;
  ifi->ifi_index = ifindex;
  struct nlattr *p = mnl_attr_nest_start (nlh, IFLA_PROTINFO);
  mnl_attr_put_u8 (nlh, IFLA_BRPORT_MODE, on ? 1 : 0);
  mnl_attr_nest_end (nlh, p);
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    return husk_err_sys (err, -r, "netlink: set hairpin on link %d", ifindex);
  return 0;
}

int
cni_link_rename (cni_nl *nl, int ifindex, const char *name, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = nl_msg (nl, buf, RTM_NEWLINK, NLM_F_ACK);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    return husk_err_sys (err, -r, "netlink: rename link %d to %s", ifindex, name);
  return 0;
}

int
cni_link_del (cni_nl *nl, int ifindex, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = nl_msg (nl, buf, RTM_DELLINK, NLM_F_ACK);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    return husk_err_sys (err, -r, "netlink: delete link %d", ifindex);
  return 0;
}

/* ---- addresses ---- */

int
cni_addr_add (cni_nl *nl, int ifindex, const cni_ip *ip, bool nodad, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = nl_msg (nl, buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
  int len = cni_ip_len (ip);
  ifa->ifa_family = (uint8_t)ip->family;
  ifa->ifa_prefixlen = (uint8_t)(ip->prefix >= 0 ? ip->prefix : len * 8);
  ifa->ifa_index = (uint32_t)ifindex;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  mnl_attr_put (nlh, IFA_LOCAL, len, ip->addr);
  mnl_attr_put (nlh, IFA_ADDRESS, len, ip->addr);
  if (ip->family == AF_INET && ip->prefix >= 0 && ip->prefix < 31)
    {
      cni_ip bc = cni_ip_last (ip, ip->prefix);
      mnl_attr_put (nlh, IFA_BROADCAST, 4, bc.addr);
    }
  if (nodad && ip->family == AF_INET6)
    mnl_attr_put_u32 (nlh, IFA_FLAGS, IFA_F_NODAD);
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    {
      _cleanup_free_ char *s = cni_ip_format (ip, true);
      return husk_err_sys (err, -r, "netlink: add address %s", s);
    }
  return 0;
}

struct addr_ctx
{
  int ifindex, family;
  cni_ip *list;
  size_t n;
};

static int
addr_cb (const struct nlmsghdr *nlh, void *data)
{
  struct addr_ctx *c = data;
  struct ifaddrmsg *ifa = mnl_nlmsg_get_payload (nlh);
  if ((c->ifindex && (int)ifa->ifa_index != c->ifindex)
      || (c->family && ifa->ifa_family != c->family))
    return MNL_CB_OK;
  const struct nlattr *a;
  const void *addr = NULL;
  mnl_attr_for_each (a, nlh, sizeof *ifa)
  {
    int t = mnl_attr_get_type (a);
    if (t == IFA_LOCAL || (t == IFA_ADDRESS && addr == NULL))
      addr = mnl_attr_get_payload (a);
  }
  if (addr == NULL)
    return MNL_CB_OK;
  cni_ip ip = { .family = ifa->ifa_family, .prefix = ifa->ifa_prefixlen };
  memcpy (ip.addr, addr, ifa->ifa_family == AF_INET6 ? 16 : 4);
  c->list = xreallocarray (c->list, c->n + 1, sizeof *c->list);
  c->list[c->n++] = ip;
  return MNL_CB_OK;
}

int
cni_addr_list (cni_nl *nl, int ifindex, int family, cni_ip **out, size_t *n, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = nl_msg (nl, buf, RTM_GETADDR, NLM_F_DUMP);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
  ifa->ifa_family = (uint8_t)family;
  struct addr_ctx c = { .ifindex = ifindex, .family = family };
  int r = nl_talk (nl, nlh, addr_cb, &c);
  if (r < 0)
    {
      free (c.list);
      return husk_err_sys (err, -r, "netlink: list addresses");
    }
  *out = c.list;
  *n = c.n;
  return 0;
}

/* ---- routes ---- */

static struct nlmsghdr *
route_msg (cni_nl *nl, char *buf, int type, int flags, const cni_route *rt, int ifindex,
           int protocol)
{
  struct nlmsghdr *nlh = nl_msg (nl, buf, type, flags);
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header (nlh, sizeof *rtm);
  int len = cni_ip_len (&rt->dst);
  rtm->rtm_family = (uint8_t)rt->dst.family;
  rtm->rtm_dst_len = (uint8_t)(rt->dst.prefix >= 0 ? rt->dst.prefix : len * 8);
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = (uint8_t)protocol;
  rtm->rtm_type = RTN_UNICAST;
  rtm->rtm_scope = rt->gw.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  if (rtm->rtm_dst_len > 0)
    mnl_attr_put (nlh, RTA_DST, len, rt->dst.addr);
  if (rt->gw.family)
    mnl_attr_put (nlh, RTA_GATEWAY, len, rt->gw.addr);
  if (ifindex > 0)
    mnl_attr_put_u32 (nlh, RTA_OIF, (uint32_t)ifindex);
  return nlh;
}

int
cni_route_add (cni_nl *nl, const cni_route *rt, int ifindex, bool replace, bool onlink,
               husk_error **err)
{
  return cni_route_add_proto (nl, rt, ifindex, replace, onlink, RTPROT_BOOT, err);
}

int
cni_route_add_proto (cni_nl *nl, const cni_route *rt, int ifindex, bool replace, bool onlink,
                     int protocol, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  int flags = NLM_F_CREATE | NLM_F_ACK | (replace ? NLM_F_REPLACE : NLM_F_EXCL);
  struct nlmsghdr *nlh = route_msg (nl, buf, RTM_NEWROUTE, flags, rt, ifindex, protocol);
  if (onlink)
    ((struct rtmsg *)mnl_nlmsg_get_payload (nlh))->rtm_flags |= RTNH_F_ONLINK;
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    {
      _cleanup_free_ char *d = cni_ip_format (&rt->dst, true);
      _cleanup_free_ char *g = rt->gw.family ? cni_ip_format (&rt->gw, false) : xstrdup ("-");
      return husk_err_sys (err, -r, "netlink: add route %s via %s", d, g);
    }
  return 0;
}

int
cni_route_del (cni_nl *nl, const cni_route *rt, int ifindex, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = route_msg (nl, buf, RTM_DELROUTE, NLM_F_ACK, rt, ifindex, 0);
  ((struct rtmsg *)mnl_nlmsg_get_payload (nlh))->rtm_scope = RT_SCOPE_NOWHERE;
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    {
      _cleanup_free_ char *d = cni_ip_format (&rt->dst, true);
      return husk_err_sys (err, -r, "netlink: delete route %s", d);
    }
  return 0;
}

struct route_ctx
{
  int family;
  cni_route_entry *list;
  size_t n;
};

static int
route_cb (const struct nlmsghdr *nlh, void *data)
{
  struct route_ctx *c = data;
  struct rtmsg *rtm = mnl_nlmsg_get_payload (nlh);
  if (rtm->rtm_family != c->family || rtm->rtm_type != RTN_UNICAST)
    return MNL_CB_OK;
  cni_route_entry e = { .protocol = rtm->rtm_protocol };
  e.route.dst.family = rtm->rtm_family;
  e.route.dst.prefix = rtm->rtm_dst_len;
  uint32_t table = rtm->rtm_table;
  const struct nlattr *a;
  int len = rtm->rtm_family == AF_INET6 ? 16 : 4;
  mnl_attr_for_each (a, nlh, sizeof *rtm)
  {
    switch (mnl_attr_get_type (a))
      {
      case RTA_DST:
        memcpy (e.route.dst.addr, mnl_attr_get_payload (a), len);
        break;
      case RTA_GATEWAY:
        e.route.gw.family = rtm->rtm_family;
        e.route.gw.prefix = -1;
        memcpy (e.route.gw.addr, mnl_attr_get_payload (a), len);
        break;
      case RTA_OIF:
        e.oif = (int)mnl_attr_get_u32 (a);
        break;
      case RTA_TABLE:
        table = mnl_attr_get_u32 (a);
        break;
      }
  }
  if (table != RT_TABLE_MAIN)
    return MNL_CB_OK;
  c->list = xreallocarray (c->list, c->n + 1, sizeof *c->list);
  c->list[c->n++] = e;
  return MNL_CB_OK;
}

int
cni_route_list (cni_nl *nl, int family, cni_route_entry **out, size_t *n, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = nl_msg (nl, buf, RTM_GETROUTE, NLM_F_DUMP);
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header (nlh, sizeof *rtm);
  rtm->rtm_family = (uint8_t)family;
  struct route_ctx c = { .family = family };
  int r = nl_talk (nl, nlh, route_cb, &c);
  if (r < 0)
    {
      free (c.list);
      return husk_err_sys (err, -r, "netlink: list routes");
    }
  *out = c.list;
  *n = c.n;
  return 0;
}

/* ---- neighbours and VXLAN FDB ---- */

static int
neigh_msg (cni_nl *nl, int type, int family, int ifindex, const uint8_t mac[6], const cni_ip *ip,
           bool fdb, husk_error **err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  int flags = type == RTM_NEWNEIGH ? NLM_F_CREATE | NLM_F_REPLACE : 0;
  struct nlmsghdr *nlh = nl_msg (nl, buf, type, flags | NLM_F_ACK);
  struct ndmsg *ndm = mnl_nlmsg_put_extra_header (nlh, sizeof *ndm);
  ndm->ndm_family = (uint8_t)family;
  ndm->ndm_ifindex = ifindex;
  ndm->ndm_state = NUD_PERMANENT | (fdb ? NUD_NOARP : 0);
  ndm->ndm_flags = fdb ? NTF_SELF : 0;
  mnl_attr_put (nlh, NDA_LLADDR, 6, mac);
  mnl_attr_put (nlh, NDA_DST, cni_ip_len (ip), ip->addr);
  int r = nl_talk (nl, nlh, NULL, NULL);
  if (r < 0)
    {
      _cleanup_free_ char *s = cni_ip_format (ip, false);
      return husk_err_sys (err, -r, "netlink: %s %s entry for %s",
                           type == RTM_NEWNEIGH ? "set" : "delete", fdb ? "fdb" : "neighbour", s);
    }
  return 0;
}

int
cni_fdb_set (cni_nl *nl, int ifindex, const uint8_t mac[6], const cni_ip *remote, husk_error **err)
{
  return neigh_msg (nl, RTM_NEWNEIGH, AF_BRIDGE, ifindex, mac, remote, true, err);
}

int
cni_fdb_del (cni_nl *nl, int ifindex, const uint8_t mac[6], const cni_ip *remote, husk_error **err)
{
  return neigh_msg (nl, RTM_DELNEIGH, AF_BRIDGE, ifindex, mac, remote, true, err);
}

int
cni_neigh_set (cni_nl *nl, int ifindex, const cni_ip *ip, const uint8_t mac[6], husk_error **err)
{
  return neigh_msg (nl, RTM_NEWNEIGH, ip->family, ifindex, mac, ip, false, err);
}

/* ---- namespaces ---- */

int
cni_netns_open (const char *path, int *fd, husk_error **err)
{
  int f = open (path, O_RDONLY | O_CLOEXEC);
  if (f < 0)
    return husk_err_errno (err, "open network namespace %s", path);
  *fd = f;
  return 0;
}

int
cni_netns_enter (int fd, const char *what, husk_error **err)
{
  if (setns (fd, CLONE_NEWNET) < 0)
    return husk_err_errno (err, "enter network namespace %s", what);
  return 0;
}
