/* Routes to the other nodes' pods: every Node but this one with a podCIDR and an
   InternalIP becomes a peer; host-gw routes (default) or the VXLAN overlay are converged to
   exactly that list (cni/crossnode.c), again whenever a Node appears, changes or leaves. */
#include "config.h"

#include <errno.h>
#include <net/if.h>

#include "cni/crossnode.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "src/node/net/net-internal.h"

static const char *
internal_ip (json_t *node)
{
  size_t i;
  json_t *a;
  json_array_foreach (husk_json_path (node, "status.addresses"), i, a)
    {
      const char *type = husk_json_path_str (a, "type");
      if (type && streq (type, "InternalIP"))
        return husk_json_path_str (a, "address");
    }
  return NULL;
}

json_t *
net_strip_node (json_t *obj)
{
  const char *name = husk_json_path_str (obj, "metadata.name");
  const char *cidr = husk_json_path_str (obj, "spec.podCIDR");
  const char *ip = internal_ip (obj);
  return json_pack ("{s:{s:s?}, s:s?, s:s?}", "metadata", "name", name, "podCIDR", cidr,
                    "ip", ip);
}

/* The peers in nodes[] (stripped), skipping this node and incomplete ones. */
static size_t
peers_of (node_net *n, json_t *nodes, cni_peer **out, husk_buf *desc)
{
  cni_peer *p = xcalloc (json_array_size (nodes) + 1, sizeof *p);
  size_t np = 0, i;
  json_t *node;
  json_array_foreach (nodes, i, node)
    {
      const char *name = husk_json_path_str (node, "metadata.name");
      const char *cidr = husk_json_path_str (node, "podCIDR");
      const char *ip = husk_json_path_str (node, "ip");
      if (name == NULL || streq (name, n->node) || cidr == NULL || ip == NULL)
        continue;
      if (cni_ip_parse (cidr, &p[np].pod_cidr, NULL) < 0 || p[np].pod_cidr.prefix < 0
          || cni_ip_parse (ip, &p[np].node_ip, NULL) < 0)
        {
          log_warn ("pod network: node with a bad podCIDR or InternalIP ignored", "node", name,
                    "podCIDR", cidr, "ip", ip);
          continue;
        }
      husk_buf_printf (desc, "%s=%s ", cidr, ip);
      np++;
    }
  *out = p;
  return np;
}

static int
vxlan_sync (node_net *n, const cni_peer *peers, size_t np, husk_error **err)
{
  cni_vxlan_conf vc = {0};
  if (n->node_ip == NULL || cni_ip_parse (n->node_ip, &vc.local, err) < 0)
    return husk_err_wrap (err, "vxlan: this node's address");
  if (n->pod_cidr == NULL || cni_ip_parse (n->pod_cidr, &vc.pod_cidr, err) < 0)
    return husk_err_wrap (err, "vxlan: this node's podCIDR");
  return cni_vxlan_sync (&vc, peers, np, err);
}

/* The cross-node shortcut (cni/fastpath-remote.c) to the peers last synced, reapplied when
   they or the pods' bridge changed: the bridge and its gateway address appear with the first
   pod, so the worker calls this after pod changes too. */
int
net_fast_sync (node_net *n, husk_error **err)
{
  bool none = streq (n->overlay, "none");
  if (!none && n->routes_last == NULL)
    return 0;
  /* overlay none: emptied once (a shortcut left by an earlier run would bypass the routes) */
  _cleanup_free_ char *digest
      = none ? xstrdup ("none")
             : xasprintf ("%s|%s|%u", n->routes_last, n->pod_cidr ? n->pod_cidr : "",
                          if_nametoindex (NET_BRIDGE));
  if (n->fast_last && streq (n->fast_last, digest))
    return 0;
  cni_ip own = {0};
  bool have_own = n->pod_cidr && cni_ip_parse (n->pod_cidr, &own, NULL) == 0 && own.prefix >= 0;
  int r = cni_fast_remote_sync (none ? NULL : NET_BRIDGE, have_own ? &own : NULL,
                                streq (n->overlay, "vxlan") ? CNI_VXLAN_DEV : NULL, n->peers,
                                none ? 0 : n->npeers, err);
  if (r < 0 && (*err)->errnum != ENOENT && (*err)->errnum != EOPNOTSUPP)
    return r;
  if (r < 0) /* no netdev family or nft_fwd_netdev: the normal path, not retried */
    {
      log_warn ("cross-node shortcut not available: pods take the normal path", "error",
                (*err)->msg);
      husk_error_free (*err);
      *err = NULL;
    }
  else
    log_info ("cross-node shortcut synced", "mode", n->overlay, "bridge", NET_BRIDGE);
  free (n->fast_last);
  n->fast_last = TAKE_PTR (digest);
  return 0;
}

int
net_routes_sync (node_net *n, json_t *nodes, husk_error **err)
{
  if (streq (n->overlay, "none"))
    return net_fast_sync (n, err);
  husk_buf desc = {0};
  _cleanup_free_ cni_peer *peers = NULL;
  size_t np = peers_of (n, nodes, &peers, &desc);
  _cleanup_free_ char *text = husk_buf_steal (&desc);
  if (text == NULL)
    text = xstrdup ("");
  if (n->routes_last == NULL || !streq (n->routes_last, text))
    {
      int r = streq (n->overlay, "vxlan") ? vxlan_sync (n, peers, np, err)
                                          : cni_hostgw_sync (peers, np, err);
      if (r < 0)
        return husk_err_wrap (err, "%s routes to other nodes", n->overlay);
      char cnt[16];
      snprintf (cnt, sizeof cnt, "%zu", np);
      log_info ("routes to other nodes' pods synced", "mode", n->overlay, "peers", cnt);
      free (n->routes_last);
      n->routes_last = TAKE_PTR (text);
      free (n->peers);
      n->peers = TAKE_PTR (peers);
      n->npeers = np;
    }
  return net_fast_sync (n, err);
}
