/* Test driver for cni_hostgw_sync / cni_vxlan_sync (what the node agent will call):
     cni-route-helper host-gw [PODCIDR=NODEIP...]
     cni-route-helper vxlan LOCAL_IP OWN_PODCIDR [PODCIDR=NODEIP...]
   Runs in the calling network namespace; prints the error and exits 1 on failure. */
#include "config.h"

#include "cni/crossnode.h"

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
  if (argc >= 2 && streq (argv[1], "host-gw"))
    {
      r = parse_peers (argv + 2, argc - 2, &peers, &n, &err);
      if (r == 0)
        r = cni_hostgw_sync (peers, n, &err);
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
    }
  else
    {
      fprintf (stderr, "usage: cni-route-helper host-gw|vxlan ...\n");
      return 2;
    }
  if (r < 0)
    {
      fprintf (stderr, "cni-route-helper: %s\n", err ? err->msg : "failed");
      return 1;
    }
  return 0;
}
