/* BIG TCP for pods (docs/cni.md "BIG TCP"): pods get the GSO size of the node's uplink. */
#include "config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <string.h>

#include "cni/netlink.h"
#include "lib/log.h"
#include "src/node/net/net.h"

/* The name of the link holding addr (IPv4 text), into name; false when none does. */
static bool
uplink_name (const char *addr, char name[IFNAMSIZ])
{
  struct in_addr want;
  struct ifaddrs *all = NULL;
  if (addr == NULL || inet_pton (AF_INET, addr, &want) != 1 || getifaddrs (&all) < 0)
    return false;
  bool found = false;
  for (struct ifaddrs *i = all; i && !found; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET
        && ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == want.s_addr)
      {
        snprintf (name, IFNAMSIZ, "%s", i->ifa_name);
        found = true;
      }
  freeifaddrs (all);
  return found;
}

int
node_net_pod_gso (const char *node_ip, const char *overlay)
{
  if (overlay && streq (overlay, "vxlan")) /* a UDP tunnel carries at most 64 KiB */
    return 0;
  char name[IFNAMSIZ];
  if (!uplink_name (node_ip, name))
    return 0;
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_ (cni_nl_closep) cni_nl *nl = NULL;
  cni_link l;
  if (cni_nl_open (&nl, &err) < 0 || cni_link_get (nl, name, 0, &l, &err) < 0)
    {
      log_warn ("pod GSO size: cannot read the uplink", "link", name, "error", err->msg);
      return 0;
    }
  if (l.gso_ipv4_max <= CNI_GSO_LEGACY_MAX)
    return 0;
  int gso = l.gso_ipv4_max > CNI_GSO_MAX ? CNI_GSO_MAX : l.gso_ipv4_max;
  char s[16];
  snprintf (s, sizeof s, "%d", gso);
  log_info ("pods get BIG TCP: the uplink takes it", "link", name, "gsoMaxSize", s);
  return gso;
}
