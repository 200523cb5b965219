/* Test driver for cni_hostgw_sync / cni_vxlan_sync (what the node agent calls), each followed
   by cni_fast_remote_sync on bridge husk0 as the agent does (--no-fast: routes only):
     cni-route-helper host-gw [--no-fast] [--pod-cidr OWN_PODCIDR] [PODCIDR=NODEIP...]
     cni-route-helper vxlan [--no-fast] LOCAL_IP OWN_PODCIDR [PODCIDR=NODEIP...]
     cni-route-helper gso IFNAME SIZE
   Runs in the calling network namespace; prints the error and exits 1 on failure. */
#include "config.h"

#include <errno.h>

#include "cni/crossnode.h"
#include "cni/netlink.h"

/* gso IFNAME SIZE: the GSO/GRO sizes of a link (the benchmark's BIG TCP underlay and peer;
   iproute2 before 6.3 cannot set the IPv4 ones). */
static int
set_gso (const char *ifname, const char *size, husk_error **err)
{
  _cleanup_ (cni_nl_closep) cni_nl *nl = NULL;
  cni_link l;
  int r = cni_nl_open (&nl, err);
  if (r == 0)
    r = cni_link_get (nl, ifname, 0, &l, err);
  if (r == 0 && l.ifindex == 0)
    r = husk_err (err, ENODEV, "%s: no such link", ifname);
  if (r == 0)
    r = cni_link_set_gso (nl, l.ifindex, atoi (size), err);
  return r;
}

static int
parse_peers (char **argv, int argc, cni_peer **out, size_t *n, husk_error **err)
{
  cni_peer *p = xcalloc ((size_t)argc + 1, sizeof *p);
  for (int i = 0; i < argc; i++)
    {
      _cleanup_free_ char *a = xstrdup (argv[i]);
      char *eq = strchr (a, '=');
      if (eq == NULL)
        return husk_err (err, 22, "%s: expected PODCIDR=NODEIP", argv[i]);
      *eq = '\0';
      if (cni_ip_parse (a, &p[i].pod_cidr, err) < 0
          || cni_ip_parse (eq + 1, &p[i].node_ip, err) < 0)
        return -1;
    }
  *out = p;
  *n = (size_t)argc;
  return 0;
}

int
main (int argc, char **argv)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ cni_peer *peers = NULL;
  size_t n = 0;
  int r = -1;
  bool fast = true;
  cni_ip own = { 0 };
  if (argc >= 3 && streq (argv[2], "--no-fast"))
    {
      fast = false;
      memmove (argv + 2, argv + 3, (size_t)(argc - 2) * sizeof *argv);
      argc--;
    }
  if (argc >= 2 && streq (argv[1], "host-gw"))
    {
      int first = 2;
      r = 0;
      if (argc >= 4 && streq (argv[2], "--pod-cidr"))
        {
          r = cni_ip_parse (argv[3], &own, &err);
          first = 4;
        }
      if (r == 0)
        r = parse_peers (argv + first, argc - first, &peers, &n, &err);
      if (r == 0)
        r = cni_hostgw_sync (peers, n, &err);
      if (r == 0 && fast)
        r = cni_fast_remote_sync ("husk0", own.family ? &own : NULL, NULL, peers, n, &err);
    }
  else if (argc >= 4 && streq (argv[1], "vxlan"))
    {
      cni_vxlan_conf vc = { .vni = 42 };
      r = cni_ip_parse (argv[2], &vc.local, &err);
      if (r == 0)
        r = cni_ip_parse (argv[3], &vc.pod_cidr, &err);
      if (r == 0)
        r = parse_peers (argv + 4, argc - 4, &peers, &n, &err);
      if (r == 0)
        r = cni_vxlan_sync (&vc, peers, n, &err);
      if (r == 0 && fast)
        r = cni_fast_remote_sync ("husk0", &vc.pod_cidr, CNI_VXLAN_DEV, peers, n, &err);
    }
  else if (argc == 4 && streq (argv[1], "gso"))
    r = set_gso (argv[2], argv[3], &err);
  else
    {
      fprintf (stderr, "usage: cni-route-helper host-gw|vxlan|gso ...\n");
      return 2;
    }
  if (r < 0)
    {
      fprintf (stderr, "cni-route-helper: %s\n", err ? err->msg : "failed");
      return 1;
    }
  return 0;
}
