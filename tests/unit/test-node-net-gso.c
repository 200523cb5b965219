/* node_net_pod_gso: pods get the uplink's BIG TCP size (src/node/net/gso.c). Needs root: it
   runs in a network namespace of its own with a veth carrying the "node address". */
#include "config.h"

#include <sched.h>
#include <unistd.h>

#include "cni/netlink.h"
#include "src/node/net/net.h"
#include "tests/unit/tap.h"

int
main (void)
{
  if (geteuid () != 0 || unshare (CLONE_NEWNET) < 0)
    tap_skip_all ("needs root (a network namespace of its own)");
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_ (cni_nl_closep) cni_nl *nl = NULL;
  cni_link l;
  cni_ip addr;
  if (cni_nl_open (&nl, &err) < 0 || cni_link_add_veth (nl, "up0", "up1", -1, 0, 0, &err) < 0
      || cni_link_get (nl, "up0", 0, &l, &err) < 0 || cni_ip_parse ("192.0.2.1/24", &addr, &err) < 0
      || cni_addr_add (nl, l.ifindex, &addr, true, &err) < 0)
    {
      printf ("Bail out! setup: %s\n", err ? err->msg : "?");
      return 1;
    }
  is_int (node_net_pod_gso ("192.0.2.1", NULL), 0, "an uplink at the kernel's 64 KiB: no gsoMaxSize");
  ok (cni_link_set_gso (nl, l.ifindex, 196608, &err) == 0, "uplink set to 196608");
  ok (cni_link_get (nl, "up0", 0, &l, &err) == 0 && l.gso_ipv4_max == 196608,
      "cni_link_get reads the IPv4 GSO size back");
  is_int (node_net_pod_gso ("192.0.2.1", NULL), 196608, "host-gw (default): the uplink's size");
  is_int (node_net_pod_gso ("192.0.2.1", "none"), 196608, "overlay none: the uplink's size");
  is_int (node_net_pod_gso ("192.0.2.1", "vxlan"), 0, "vxlan: never (a UDP tunnel carries 64 KiB)");
  is_int (node_net_pod_gso ("192.0.2.9", NULL), 0, "an address no link holds: 0");
  is_int (node_net_pod_gso (NULL, NULL), 0, "no node address: 0");
  return tap_done ();
}
