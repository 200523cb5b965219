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
