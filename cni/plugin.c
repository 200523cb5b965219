/* The plugin commands: ADD, DEL, CHECK, GC, STATUS, VERSION for a bridge network. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cni/cni.h"
#include "cni/netlink.h"
#include "cni/nft.h"
#include "lib/json.h"
#include "lib/path.h"

static bool
ipam_builtin (const cni_conf *c)
{
  return c->has_ipam && streq (c->ipam.type, "host-local");
}

/* The host side of an attachment is named from a hash of the attachment, so that DEL and
   CHECK can find it even when the pod's namespace is gone. */
static char *
host_veth_name (const char *container_id, const char *ifname)
{
  uint32_t h = 2166136261u;
  for (const char *p = container_id; *p; p++)
    h = (h ^ (uint8_t)*p) * 16777619u;
  h = (h ^ '/') * 16777619u;
  for (const char *p = ifname; *p; p++)
    h = (h ^ (uint8_t)*p) * 16777619u;
  return xasprintf ("veth%08x", h);
}

/* A netlink socket inside the namespace nsfd; the caller stays in its own namespace. */
static int
nl_open_in (int nsfd, const char *what, cni_nl **out, husk_error **err)
{
  _cleanup_close_ int self = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return husk_err_errno (err, "open /proc/self/ns/net");
  int r = cni_netns_enter (nsfd, what, err);
  if (r < 0)
    return r;
  r = cni_nl_open (out, err);
  husk_error *back_err = NULL;
  if (cni_netns_enter (self, "of husk-cni", &back_err) < 0)
    {
      /* Staying in the pod's namespace would program the host's side there: give up. */
      fprintf (stderr, "husk-cni: %s\n", back_err->msg);
      abort ();
    }
  return r;
}

static int
write_sysctl (const char *path, const char *value, husk_error **err)
{
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return husk_err_errno (err, "open %s", path);
  if (write (fd, value, strlen (value)) < 0)
    return husk_err_errno (err, "write %s", path);
  return 0;
}

static int
ensure_bridge (const cni_conf *c, cni_nl *nl, cni_link *br, husk_error **err)
{
  int r = cni_link_get (nl, c->bridge, 0, br, err);
  if (r < 0)
    return r;
  if (br->ifindex == 0)
    {
      uint8_t mac[6];
      if (getrandom (mac, sizeof mac, 0) != (ssize_t)sizeof mac)
        return husk_err_errno (err, "getrandom");
      mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
      r = cni_link_add_bridge (nl, c->bridge, c->mtu, mac, err);
      if (r < 0 && (*err)->errnum != EEXIST)
        return r;
      if (r < 0) /* another ADD created it meanwhile */
        {
          husk_error_free (*err);
          *err = NULL;
        }
      r = cni_link_get (nl, c->bridge, 0, br, err);
      if (r < 0)
        return r;
      if (br->ifindex == 0)
        return husk_err (err, ENODEV, "bridge %s vanished after creation", c->bridge);
    }
  if (!streq (br->kind, "bridge"))
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "bridge: %s exists and is not a bridge (%s)",
                    c->bridge, br->kind[0] ? br->kind : "no kind");
  if ((br->flags & IFF_UP) == 0 || (c->promisc_mode && (br->flags & IFF_PROMISC) == 0))
    {
      r = cni_link_modify (nl, br->ifindex, -1, 0, 1, c->promisc_mode ? 1 : -1, err);
      if (r < 0)
        return r;
    }
  return 0;
}

/* Gateway addresses on the bridge (isGateway) and forwarding on. */
static int
bridge_gateways (const cni_conf *c, cni_nl *nl, const cni_link *br, const cni_result *res,
                 husk_error **err)
{
  if (!c->is_gateway)
    return 0;
  for (size_t i = 0; i < res->nips; i++)
    {
      const cni_result_ip *ip = &res->ips[i];
      if (ip->gateway.family == 0)
        continue;
      cni_ip gw = ip->gateway;
      gw.prefix = ip->address.prefix;
      int r = cni_addr_add (nl, br->ifindex, &gw, true, err);
      if (r < 0 && (*err)->errnum != EEXIST)
        return husk_err_wrap (err, "bridge %s", c->bridge);
      if (r < 0)
        {
          husk_error_free (*err);
          *err = NULL;
        }
      r = write_sysctl (gw.family == AF_INET6 ? "/proc/sys/net/ipv6/conf/all/forwarding"
                                              : "/proc/sys/net/ipv4/ip_forward",
                        "1", err);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
run_ipam_add (const cni_conf *c, const cni_env *env, cni_result **out, husk_error **err)
{
  _cleanup_ (cni_result_freep) cni_result *res = xzalloc (sizeof *res);
  if (!c->has_ipam)
    {
      *out = TAKE_PTR (res);
      return 0;
    }
  if (ipam_builtin (c))
    {
      int r = cni_ipam_alloc (&c->ipam, c->name, env->container_id, env->ifname, res, err);
      if (r < 0)
        return r;
      *out = TAKE_PTR (res);
      return 0;
    }
  _cleanup_json_ json_t *j = NULL;
  int r = cni_exec_plugin (c->ipam.type, env->path, "ADD", c->raw, &j, err);
  if (r < 0)
    return r;
  if (j == NULL)
    return cni_err (err, CNI_ERR_DECODE, "ipam plugin %s: empty result", c->ipam.type);
  cni_result_free (res);
  res = NULL;
  r = cni_result_from_json (j, &res, err);
  if (r < 0)
    return husk_err_wrap (err, "ipam plugin %s", c->ipam.type);
  for (size_t i = 0; i < res->nips; i++)
    res->ips[i].interface = -1;
  *out = TAKE_PTR (res);
  return 0;
}

static int
run_ipam (const cni_conf *c, const cni_env *env, const char *command, husk_error **err)
{
  if (!c->has_ipam)
    return 0;
  if (ipam_builtin (c))
    {
      if (streq (command, "DEL"))
        return cni_ipam_release (&c->ipam, c->name, env->container_id, env->ifname, err);
      if (streq (command, "GC"))
        return cni_ipam_gc (&c->ipam, c->name, c->valid_attachments, c->nvalid_attachments, NULL,
                            err);
      return 0;
    }
  return cni_exec_plugin (c->ipam.type, env->path, command, c->raw, NULL, err);
}

/* The routes the pod gets: IPAM's, plus a default route per family for isDefaultGateway. */
static void
add_default_routes (const cni_conf *c, cni_result *res)
{
  if (!c->is_default_gateway)
    return;
  int fams[] = { AF_INET, AF_INET6 };
  for (size_t f = 0; f < 2; f++)
    {
      const cni_result_ip *ip = NULL;
      for (size_t i = 0; i < res->nips && !ip; i++)
        if (res->ips[i].address.family == fams[f] && res->ips[i].gateway.family)
          ip = &res->ips[i];
      if (ip == NULL)
        continue;
      bool have = false;
      for (size_t i = 0; i < res->nroutes; i++)
        if (res->routes[i].dst.family == fams[f] && res->routes[i].dst.prefix == 0)
          have = true;
      if (have)
        continue;
      res->routes = xreallocarray (res->routes, res->nroutes + 1, sizeof *res->routes);
      cni_route rt = { .dst = { .family = fams[f], .prefix = 0 }, .gw = ip->gateway };
      res->routes[res->nroutes++] = rt;
    }
}

static const cni_ip *
family_gateway (const cni_result *res, int family)
{
  for (size_t i = 0; i < res->nips; i++)
    if (res->ips[i].address.family == family && res->ips[i].gateway.family)
      return &res->ips[i].gateway;
  return NULL;
}

/* Inside the pod: link up, addresses, routes. */
static int
configure_pod_side (cni_nl *cnl, const cni_env *env, cni_result *res, cni_link *link,
                    husk_error **err)
{
  int r = cni_link_get (cnl, env->ifname, 0, link, err);
  if (r < 0)
    return r;
  if (link->ifindex == 0)
    return husk_err (err, ENODEV, "%s missing in the pod after creation", env->ifname);
  r = cni_link_modify (cnl, link->ifindex, -1, 0, 1, -1, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < res->nips; i++)
    {
      r = cni_addr_add (cnl, link->ifindex, &res->ips[i].address, true, err);
      if (r < 0)
        return r;
    }
  for (size_t i = 0; i < res->nroutes; i++)
    {
      cni_route rt = res->routes[i];
      if (rt.gw.family == 0)
        {
          const cni_ip *gw = family_gateway (res, rt.dst.family);
          if (gw)
            rt.gw = *gw;
        }
      r = cni_route_add (cnl, &rt, link->ifindex, true, false, err);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
add_attachment (const cni_conf *c, const cni_env *env, int nsfd, cni_nl *nl, cni_nl *cnl,
                cni_result *res, husk_error **err)
{
  cni_link br, host, pod;
  int r = ensure_bridge (c, nl, &br, err);
  if (r < 0)
    return r;
  r = bridge_gateways (c, nl, &br, res, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *hname = host_veth_name (env->container_id, env->ifname);
  r = cni_link_add_veth (nl, hname, env->ifname, nsfd, c->mtu, c->gso_max_size, err);
  if (r < 0 && (*err)->errnum == EEXIST)
    {
      /* A host side left behind by an interrupted ADD: remove it and try once more. */
      cni_link stale;
      if (cni_link_get (nl, hname, 0, &stale, NULL) == 0 && stale.ifindex > 0)
        {
          cni_link_del (nl, stale.ifindex, NULL);
          husk_error_free (*err);
          *err = NULL;
          r = cni_link_add_veth (nl, hname, env->ifname, nsfd, c->mtu, c->gso_max_size, err);
        }
    }
  if (r < 0)
    return r;
  r = cni_link_get (nl, hname, 0, &host, err);
  if (r < 0)
    return r;
  r = cni_link_modify (nl, host.ifindex, br.ifindex, 0, 1, -1, err);
  if (r < 0)
    return r;
  if (c->gso_max_size > 0) /* routed traffic into the bridge passes its GSO check too */
    {
      r = cni_link_set_gso (nl, br.ifindex, c->gso_max_size, err);
      if (r < 0)
        return r;
    }
  if (c->hairpin_mode)
    {
      r = cni_link_set_hairpin (nl, host.ifindex, true, err);
      if (r < 0)
        return r;
    }
  add_default_routes (c, res);
  r = configure_pod_side (cnl, env, res, &pod, err);
  if (r < 0)
    return husk_err_wrap (err, "pod %s", env->netns);
  cni_nft_pod np = {
    .network = c->name,
    .container_id = env->container_id,
    .ifname = env->ifname,
    .ips = res->ips,
    .nips = res->nips,
    .masq = c->ip_masq,
    .masq_exclude = c->masq_exclude,
    .nmasq_exclude = c->nmasq_exclude,
    .ports = c->port_mappings,
    .nports = c->nport_mappings,
    .fast = c->fast_path && pod.has_mac,
    .host_veth = hname,
    .host_ifindex = host.ifindex,
    .pod_mac = pod.mac,
  };
  r = cni_nft_pod_add (&np, err);
  if (r < 0)
    return r;
  if (c->nnotrack > 0)
    {
      r = cni_nft_notrack_add (&np, c->notrack, c->nnotrack, err);
      if (r < 0)
        return r;
    }

  _cleanup_free_ char *brmac = cni_link_mac_str (&br), *hmac = cni_link_mac_str (&host),
                      *pmac = cni_link_mac_str (&pod);
  cni_result_add_iface (res, c->bridge, brmac, NULL);
  cni_result_add_iface (res, hname, hmac, NULL);
  int k = cni_result_add_iface (res, env->ifname, pmac, env->netns);
  res->ifaces[k].mtu = pod.mtu;
  for (size_t i = 0; i < res->nips; i++)
    res->ips[i].interface = k;
  return 0;
}

/* Undoes a failed ADD as far as it got; failures here are secondary and dropped. */
static void
rollback_add (const cni_conf *c, const cni_env *env, cni_nl *nl)
{
  _cleanup_free_ char *hname = host_veth_name (env->container_id, env->ifname);
  cni_link host;
  if (nl && cni_link_get (nl, hname, 0, &host, NULL) == 0 && host.ifindex > 0)
    cni_link_del (nl, host.ifindex, NULL);
  cni_nft_pod_del (c->name, env->container_id, env->ifname, NULL);
  run_ipam (c, env, "DEL", NULL);
}

int
cni_cmd_add (const cni_conf *c, const cni_env *env, json_t **out, husk_error **err)
{
  _cleanup_close_ int nsfd = -1;
  int r = cni_netns_open (env->netns, &nsfd, err);
  if (r < 0)
    {
      (*err)->errnum = CNI_ERRNUM (CNI_ERR_UNKNOWN_CONTAINER);
      return r;
    }
  _cleanup_ (cni_nl_closep) cni_nl *nl = NULL, *cnl = NULL;
  r = cni_nl_open (&nl, err);
  if (r < 0)
    return r;
  r = nl_open_in (nsfd, env->netns, &cnl, err);
  if (r < 0)
    return r;
  /* A second ADD of a live attachment must fail before touching it: the rollback below
     would otherwise tear down the first one. */
  cni_link existing;
  r = cni_link_get (cnl, env->ifname, 0, &existing, err);
  if (r < 0)
    return r;
  if (existing.ifindex > 0)
    return cni_err (err, CNI_ERR_INTERNAL, "interface %s already exists in %s", env->ifname,
                    env->netns);
  _cleanup_ (cni_result_freep) cni_result *res = NULL;
  r = run_ipam_add (c, env, &res, err);
  if (r < 0)
    return r;
  r = add_attachment (c, env, nsfd, nl, cnl, res, err);
  if (r < 0)
    {
      rollback_add (c, env, nl);
      return r;
    }
  json_t *dns = json_object_get (c->raw, "dns");
  if (res->dns == NULL && json_is_object (dns))
    res->dns = json_incref (dns);
  *out = cni_result_to_json (res, c->cni_version);
  return 0;
}

/* The pod's interface is detached at once (down, renamed to a tombstone name, so a new
   attachment may take its name right away) and deleted by a detached grandchild: deleting a
   veth waits for an RCU grace period inside RTM_DELLINK (20-60 ms) that nothing of DEL's
   contract needs to wait for. The addresses and rules are already released; the interface
   is down and carries no address. Returns 0 when the deletion was handed over, < 0 when
   the caller must delete it itself. */
static int
del_link_detached (cni_nl *cnl, const cni_link *pod)
{
  uint32_t rnd = 0;
  if (getrandom (&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
    rnd = (uint32_t) getpid () ^ (uint32_t) time (NULL);
  char tomb[IFNAMSIZ];
  snprintf (tomb, sizeof tomb, "hkdel%08x", rnd);
  if (cni_link_modify (cnl, pod->ifindex, -1, 0, 0, -1, NULL) < 0
      || cni_link_rename (cnl, pod->ifindex, tomb, NULL) < 0)
    return -1;
  fflush (NULL);
  pid_t child = fork ();
  if (child < 0)
    return -1;
  if (child == 0)
    {
      setsid ();
      if (fork () != 0)
        _exit (0);
      /* Nothing of the caller's is held: not its stdout pipe (a runtime reads it to EOF),
         not a lock. Only the netlink socket of the pod's namespace stays. */
      int nfd = cni_nl_fd (cnl);
      int dn = open ("/dev/null", O_RDWR | O_CLOEXEC);
      for (int fd = 0; fd < 3; fd++)
        if (dn >= 0 && fd != nfd)
          dup2 (dn, fd);
      if (nfd > 3)
        close_range (3, (unsigned) nfd - 1, 0);
      close_range ((unsigned) nfd + 1, ~0U, 0);
      cni_link l;
      if (cni_link_get (cnl, tomb, 0, &l, NULL) == 0 && l.ifindex > 0)
        cni_link_del (cnl, l.ifindex, NULL);
      _exit (0);
    }
  while (waitpid (child, NULL, 0) < 0 && errno == EINTR)
    ;
  return 0;
}

/* The pod side of the attachment, when its namespace still exists. *handed: its deletion
   went to the background (the host end goes with it). */
static int
del_pod_side (const cni_env *env, bool *handed, husk_error **err)
{
  *handed = false;
  _cleanup_close_ int nsfd = -1;
  if (env->netns)
    nsfd = open (env->netns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    return 0;
  _cleanup_ (cni_nl_closep) cni_nl *cnl = NULL;
  int r = nl_open_in (nsfd, env->netns, &cnl, err);
  if (r < 0)
    return r;
  cni_link pod;
  r = cni_link_get (cnl, env->ifname, 0, &pod, err);
  if (r < 0)
    return r;
  if (pod.ifindex <= 0 || !streq (pod.kind, "veth"))
    return 0;
  if (del_link_detached (cnl, &pod) == 0)
    {
      *handed = true;
      return 0;
    }
  r = cni_link_del (cnl, pod.ifindex, err);
  if (r < 0 && (*err)->errnum != ENODEV)
    return husk_err_wrap (err, "pod %s", env->netns);
  if (r < 0)
    {
      husk_error_free (*err);
      *err = NULL;
    }
  return 0;
}

int
cni_cmd_del (const cni_conf *c, const cni_env *env, husk_error **err)
{
  int r = run_ipam (c, env, "DEL", err);
  if (r < 0)
    return r;
  r = cni_nft_pod_del (c->name, env->container_id, env->ifname, err);
  if (r < 0)
    return r;
  bool handed = false;
  r = del_pod_side (env, &handed, err);
  if (r < 0 || handed)
    return r;
  _cleanup_ (cni_nl_closep) cni_nl *nl = NULL;
  r = cni_nl_open (&nl, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *hname = host_veth_name (env->container_id, env->ifname);
  cni_link host;
  r = cni_link_get (nl, hname, 0, &host, err);
  if (r < 0)
    return r;
  if (host.ifindex > 0 && cni_link_del (nl, host.ifindex, err) < 0)
    {
      if ((*err)->errnum != ENODEV)
        return -1;
      husk_error_free (*err);
      *err = NULL;
    }
  return 0;
}

#define check_fail(err, fmt, ...) cni_err (err, CNI_ERR_CHECK_FAILED, fmt, __VA_ARGS__)

static bool
has_addr (const cni_ip *list, size_t n, const cni_ip *ip, bool prefix)
{
  for (size_t i = 0; i < n; i++)
    if (cni_ip_cmp (&list[i], ip) == 0 && (!prefix || list[i].prefix == ip->prefix))
      return true;
  return false;
}

static int
check_pod_side (const cni_env *env, const cni_result *prev, int nsfd, husk_error **err)
{
  _cleanup_ (cni_nl_closep) cni_nl *cnl = NULL;
  int r = nl_open_in (nsfd, env->netns, &cnl, err);
  if (r < 0)
    return r;
  cni_link pod;
  r = cni_link_get (cnl, env->ifname, 0, &pod, err);
  if (r < 0)
    return r;
  if (pod.ifindex == 0)
    return check_fail (err, "interface %s not found in %s", env->ifname, env->netns);
  _cleanup_free_ cni_ip *addrs = NULL;
  size_t naddrs = 0;
  r = cni_addr_list (cnl, pod.ifindex, 0, &addrs, &naddrs, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < prev->nips; i++)
    if (!has_addr (addrs, naddrs, &prev->ips[i].address, true))
      {
        _cleanup_free_ char *s = cni_ip_format (&prev->ips[i].address, true);
        return check_fail (err, "address %s missing on %s", s, env->ifname);
      }
  for (size_t i = 0; i < prev->nroutes; i++)
    {
      const cni_route *want = &prev->routes[i];
      _cleanup_free_ cni_route_entry *routes = NULL;
      size_t nroutes = 0;
      r = cni_route_list (cnl, want->dst.family, &routes, &nroutes, err);
      if (r < 0)
        return r;
      bool found = false;
      for (size_t k = 0; k < nroutes && !found; k++)
        found = routes[k].route.dst.prefix == want->dst.prefix
                && cni_ip_cmp (&routes[k].route.dst, &want->dst) == 0
                && (want->gw.family == 0 || cni_ip_cmp (&routes[k].route.gw, &want->gw) == 0);
      if (!found)
        {
          _cleanup_free_ char *s = cni_ip_format (&want->dst, true);
          return check_fail (err, "route to %s missing in %s", s, env->netns);
        }
    }
  return 0;
}

int
cni_cmd_check (const cni_conf *c, const cni_env *env, husk_error **err)
{
  if (cni_version_cmp (c->cni_version, "0.4.0") < 0)
    return cni_err (err, CNI_ERR_INCOMPATIBLE_VERSION, "CHECK needs cniVersion 0.4.0 or later");
  if (c->prev_result == NULL)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "CHECK: prevResult is required");
  _cleanup_ (cni_result_freep) cni_result *prev = NULL;
  int r = cni_result_from_json (c->prev_result, &prev, err);
  if (r < 0)
    return husk_err_wrap (err, "prevResult");
  if (c->has_ipam && !ipam_builtin (c))
    {
      r = run_ipam (c, env, "CHECK", err);
      if (r < 0)
        return r;
    }
  else if (c->has_ipam)
    {
      _cleanup_free_ cni_ip *held = NULL;
      size_t nheld = 0;
      r = cni_ipam_held (&c->ipam, c->name, env->container_id, env->ifname, &held, &nheld, err);
      if (r < 0)
        return r;
      for (size_t i = 0; i < prev->nips; i++)
        if (!has_addr (held, nheld, &prev->ips[i].address, false))
          {
            _cleanup_free_ char *s = cni_ip_format (&prev->ips[i].address, false);
            return check_fail (err, "address %s is not reserved for %s", s, env->container_id);
          }
    }
  _cleanup_close_ int nsfd = -1;
  r = cni_netns_open (env->netns, &nsfd, err);
  if (r < 0)
    {
      (*err)->errnum = CNI_ERRNUM (CNI_ERR_UNKNOWN_CONTAINER);
      return r;
    }
  r = check_pod_side (env, prev, nsfd, err);
  if (r < 0)
    return r;
  _cleanup_ (cni_nl_closep) cni_nl *nl = NULL;
  r = cni_nl_open (&nl, err);
  if (r < 0)
    return r;
  cni_link br, host;
  r = cni_link_get (nl, c->bridge, 0, &br, err);
  if (r < 0)
    return r;
  if (br.ifindex == 0 || !streq (br.kind, "bridge"))
    return check_fail (err, "bridge %s missing", c->bridge);
  _cleanup_free_ char *hname = host_veth_name (env->container_id, env->ifname);
  r = cni_link_get (nl, hname, 0, &host, err);
  if (r < 0)
    return r;
  if (host.ifindex == 0)
    return check_fail (err, "host interface %s missing", hname);
  if (host.master != br.ifindex)
    return check_fail (err, "host interface %s is not attached to %s", hname, c->bridge);
  return 0;
}

int
cni_cmd_gc (const cni_conf *c, const cni_env *env, husk_error **err)
{
  int r = run_ipam (c, env, "GC", err);
  if (r < 0)
    return r;
  return cni_nft_gc (c->name, c->valid_attachments, c->nvalid_attachments, NULL, err);
}

int
cni_cmd_status (const cni_conf *c, const cni_env *env, husk_error **err)
{
  if (!c->has_ipam)
    return 0;
  if (!ipam_builtin (c))
    return run_ipam (c, env, "STATUS", err);
  _cleanup_free_ char *dir = cni_ipam_dir (&c->ipam, c->name);
  husk_error *e = NULL;
  if (husk_mkdir_p (dir, 0755, &e) < 0 || access (dir, W_OK) < 0)
    {
      int rr = cni_err (err, CNI_ERR_PLUGIN_NOT_AVAILABLE, "ipam state directory %s: %s", dir,
                        e ? e->msg : strerror (errno));
      husk_error_free (e);
      return rr;
    }
  return cni_ipam_check_free (&c->ipam, c->name, err);
}

json_t *
cni_cmd_version (const char *requested)
{
  json_t *o = json_object ();
  json_object_set_new (o, "cniVersion",
                       json_string (requested && cni_version_supported (requested)
                                        ? requested
                                        : CNI_VERSION_LATEST));
  json_t *a = json_array ();
  for (size_t i = 0; cni_supported_versions[i]; i++)
    json_array_append_new (a, json_string (cni_supported_versions[i]));
  json_object_set_new (o, "supportedVersions", a);
  return o;
}
