/* Cross-node pod routing: host-gw routes and a VXLAN overlay (see crossnode.h). */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <sys/socket.h>

#include "cni/crossnode.h"
#include "cni/netlink.h"

void
cni_vtep_mac (const cni_ip *node_ip, uint8_t mac[6])
{
  int len = cni_ip_len (node_ip);
  mac[0] = 0x0a;
  mac[1] = 0x58;
  memcpy (mac + 2, node_ip->addr + len - 4, 4);
}

cni_ip
cni_vtep_ip (const cni_ip *pod_cidr)
{
  cni_ip ip = cni_ip_network (pod_cidr, pod_cidr->prefix);
  ip.prefix = cni_ip_len (&ip) * 8;
  return ip;
}

static bool
wanted (const cni_peer *peers, size_t n, const cni_ip *dst)
{
  for (size_t i = 0; i < n; i++)
    if (peers[i].pod_cidr.prefix == dst->prefix && cni_ip_cmp (&peers[i].pod_cidr, dst) == 0)
      return true;
  return false;
}

/* Deletes our routes (protocol CNI_RTPROT_HUSK) to destinations no peer owns any more. */
static int
prune_routes (cni_nl *nl, const cni_peer *peers, size_t n, husk_error **err)
{
  int fams[] = { AF_INET, AF_INET6 };
  for (size_t f = 0; f < ARRAY_SIZE (fams); f++)
    {
      _cleanup_free_ cni_route_entry *routes = NULL;
      size_t nroutes = 0;
      int r = cni_route_list (nl, fams[f], &routes, &nroutes, err);
      if (r < 0)
        return r;
      for (size_t i = 0; i < nroutes; i++)
        {
          if (routes[i].protocol != CNI_RTPROT_HUSK || wanted (peers, n, &routes[i].route.dst))
            continue;
          r = cni_route_del (nl, &routes[i].route, routes[i].oif, err);
          if (r < 0 && (*err)->errnum != ESRCH)
            return r;
          if (r < 0)
            {
              husk_error_free (*err);
              *err = NULL;
            }
        }
    }
  return 0;
}

static cni_ip
normalize_cidr (const cni_ip *c)
{
  return cni_ip_network (c, c->prefix >= 0 ? c->prefix : cni_ip_len (c) * 8);
}

int
cni_hostgw_sync (const cni_peer *peers, size_t n, husk_error **err)
{
  _cleanup_ (cni_nl_closep) cni_nl *nl = NULL;
  int r = cni_nl_open (&nl, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < n; i++)
    {
      cni_route rt = { .dst = normalize_cidr (&peers[i].pod_cidr), .gw = peers[i].node_ip };
      r = cni_route_add_proto (nl, &rt, 0, true, false, CNI_RTPROT_HUSK, err);
      if (r < 0)
        return husk_err_wrap (err, "host-gw");
    }
  r = prune_routes (nl, peers, n, err);
  return r < 0 ? husk_err_wrap (err, "host-gw") : 0;
}

static int
ensure_vxlan (cni_nl *nl, const cni_vxlan_conf *vc, const char *dev, cni_link *link,
              husk_error **err)
{
  int r = cni_link_get (nl, dev, 0, link, err);
  if (r < 0)
    return r;
  if (link->ifindex == 0)
    {
      uint8_t mac[6];
      cni_vtep_mac (&vc->local, mac);
      r = cni_link_add_vxlan (nl, dev, vc->vni ? vc->vni : 1, vc->port ? vc->port : 4789,
                              &vc->local, vc->underlay_ifindex, vc->mtu ? vc->mtu : 1450, mac, err);
      if (r < 0 && (*err)->errnum != EEXIST)
        return r;
      if (r < 0)
        {
          husk_error_free (*err);
          *err = NULL;
        }
      r = cni_link_get (nl, dev, 0, link, err);
      if (r < 0)
        return r;
    }
  if (link->ifindex == 0 || !streq (link->kind, "vxlan"))
    return husk_err (err, EEXIST, "%s exists and is not a vxlan device", dev);
  if ((link->flags & IFF_UP) == 0)
    {
      r = cni_link_modify (nl, link->ifindex, -1, 0, 1, -1, err);
      if (r < 0)
        return r;
    }
  cni_ip vtep = cni_vtep_ip (&vc->pod_cidr);
  r = cni_addr_add (nl, link->ifindex, &vtep, true, err);
  if (r < 0 && (*err)->errnum == EEXIST)
    {
      husk_error_free (*err);
      *err = NULL;
      r = 0;
    }
  return r;
}

int
cni_vxlan_sync (const cni_vxlan_conf *vc, const cni_peer *peers, size_t n, husk_error **err)
{
  const char *dev = vc->dev ? vc->dev : CNI_VXLAN_DEV;
  if (vc->local.family == 0 || vc->pod_cidr.family == 0)
    return husk_err (err, EINVAL, "vxlan: the node address and podCIDR are required");
  _cleanup_ (cni_nl_closep) cni_nl *nl = NULL;
  int r = cni_nl_open (&nl, err);
  if (r < 0)
    return r;
  cni_link vx;
  r = ensure_vxlan (nl, vc, dev, &vx, err);
  if (r < 0)
    return husk_err_wrap (err, "vxlan %s", dev);
  r = cni_vxlan_notrack (&vc->local, vc->port ? vc->port : 4789, err);
  if (r < 0)
    return husk_err_wrap (err, "vxlan %s", dev);
  for (size_t i = 0; i < n; i++)
    {
      uint8_t mac[6];
      cni_vtep_mac (&peers[i].node_ip, mac);
      cni_ip vtep = cni_vtep_ip (&peers[i].pod_cidr);
      cni_route rt = { .dst = normalize_cidr (&peers[i].pod_cidr), .gw = vtep };
      rt.gw.prefix = -1;
      if ((r = cni_neigh_set (nl, vx.ifindex, &vtep, mac, err)) < 0
          || (r = cni_fdb_set (nl, vx.ifindex, mac, &peers[i].node_ip, err)) < 0
          || (r = cni_route_add_proto (nl, &rt, vx.ifindex, true, true, CNI_RTPROT_HUSK, err)) < 0)
        {
          _cleanup_free_ char *s = cni_ip_format (&peers[i].node_ip, false);
          return husk_err_wrap (err, "vxlan %s: peer %s", dev, s);
        }
    }
  r = prune_routes (nl, peers, n, err);
  return r < 0 ? husk_err_wrap (err, "vxlan %s", dev) : 0;
}

/* ---- the cross-node shortcut: what cni_fast_remote_apply needs, read from the kernel ---- */

typedef struct fast_state
{
  cni_fast_hop *hops;
  size_t nhops;
  char **rx_dev;
  size_t nrx;
  cni_ip *local;
  size_t nlocal;
} fast_state;

static void
fast_state_free (fast_state *st)
{
  free (st->hops);
  for (size_t i = 0; i < st->nrx; i++)
    free (st->rx_dev[i]);
  free (st->rx_dev);
  free (st->local);
}

/* host-gw: the next hop and device of our route to each peer's podCIDR. */
static int
hostgw_hops (cni_nl *nl, const cni_peer *peers, size_t n, fast_state *st, husk_error **err)
{
  _cleanup_free_ cni_route_entry *routes = NULL;
  size_t nroutes = 0;
  int r = cni_route_list (nl, AF_INET, &routes, &nroutes, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < n; i++)
    {
      cni_ip dst = normalize_cidr (&peers[i].pod_cidr);
      for (size_t j = 0; j < nroutes; j++)
        if (routes[j].protocol == CNI_RTPROT_HUSK && routes[j].oif > 0
            && routes[j].route.dst.prefix == dst.prefix
            && cni_ip_cmp (&routes[j].route.dst, &dst) == 0
            && routes[j].route.gw.family == AF_INET)
          {
            st->hops[st->nhops++] = (cni_fast_hop){ dst, routes[j].route.gw, routes[j].oif };
            break;
          }
    }
  return 0;
}

/* The name of each distinct device of the hops (a device gone meanwhile is left out). */
static void
rx_devices (cni_nl *nl, fast_state *st)
{
  st->rx_dev = xcalloc (st->nhops + 1, sizeof *st->rx_dev);
  for (size_t i = 0; i < st->nhops; i++)
    {
      bool seen = false;
      for (size_t j = 0; j < i; j++)
        seen = seen || st->hops[j].ifindex == st->hops[i].ifindex;
      cni_link l;
      _cleanup_error_ husk_error *err = NULL;
      if (seen || cni_link_get (nl, NULL, st->hops[i].ifindex, &l, &err) < 0 || l.ifindex == 0)
        continue;
      st->rx_dev[st->nrx++] = xstrdup (l.name);
    }
}

/* This node's addresses inside pod_cidr, and the network and broadcast addresses. */
static int
local_addrs (cni_nl *nl, const cni_ip *pod_cidr, fast_state *st, husk_error **err)
{
  _cleanup_free_ cni_ip *addrs = NULL;
  size_t n = 0;
  int r = cni_addr_list (nl, 0, AF_INET, &addrs, &n, err);
  if (r < 0)
    return r;
  st->local = xcalloc (n + 2, sizeof *st->local);
  st->local[st->nlocal++] = cni_ip_network (pod_cidr, pod_cidr->prefix);
  st->local[st->nlocal++] = cni_ip_last (pod_cidr, pod_cidr->prefix);
  for (size_t i = 0; i < n; i++)
    if (cni_ip_in_subnet (&addrs[i], pod_cidr))
      st->local[st->nlocal++] = addrs[i];
  return 0;
}

static int
fast_resolve (cni_nl *nl, const char *bridge, const cni_ip *pod_cidr, const char *vxlan_dev,
              const cni_peer *peers, size_t n, fast_state *st, int *bridge_ifindex,
              husk_error **err)
{
  st->hops = xcalloc (n + 1, sizeof *st->hops);
  int r = 0;
  if (vxlan_dev == NULL)
    r = hostgw_hops (nl, peers, n, st, err);
  else
    {
      cni_link vx;
      r = cni_link_get (nl, vxlan_dev, 0, &vx, err);
      for (size_t i = 0; r == 0 && vx.ifindex > 0 && i < n; i++)
        if (peers[i].pod_cidr.family == AF_INET)
          st->hops[st->nhops++] = (cni_fast_hop){ normalize_cidr (&peers[i].pod_cidr),
                                                  cni_vtep_ip (&peers[i].pod_cidr), vx.ifindex };
    }
  if (r < 0)
    return r;
  rx_devices (nl, st);
  *bridge_ifindex = 0;
  if (bridge == NULL || pod_cidr == NULL || pod_cidr->family != AF_INET || pod_cidr->prefix < 0)
    return 0;
  cni_link br;
  r = cni_link_get (nl, bridge, 0, &br, err);
  if (r < 0)
    return r;
  *bridge_ifindex = br.ifindex;
  return br.ifindex > 0 ? local_addrs (nl, pod_cidr, st, err) : 0;
}

int
cni_fast_remote_sync (const char *bridge, const cni_ip *pod_cidr, const char *vxlan_dev,
                      const cni_peer *peers, size_t n, husk_error **err)
{
  _cleanup_ (cni_nl_closep) cni_nl *nl = NULL;
  int r = cni_nl_open (&nl, err);
  if (r < 0)
    return r;
  fast_state st = { 0 };
  int bridge_ifindex = 0;
  r = fast_resolve (nl, bridge, pod_cidr, vxlan_dev, peers, n, &st, &bridge_ifindex, err);
  if (r == 0)
    {
      cni_fast_remote fr = { .hops = st.hops, .nhops = st.nhops,
                             .bridge_ifindex = bridge_ifindex,
                             .rx_dev = (const char *const *)st.rx_dev, .nrx = st.nrx,
                             .local = st.local, .nlocal = st.nlocal };
      if (pod_cidr)
        fr.pod_cidr = normalize_cidr (pod_cidr);
      r = cni_fast_remote_apply (&fr, err);
    }
  fast_state_free (&st);
  return r < 0 ? husk_err_wrap (err, "cross-node shortcut") : 0;
}
