/* husk controllers: node IPAM, as kube-controller-manager's range allocator. The cluster
   range (--cluster-cidr, default 10.42.0.0/16) is cut into blocks of --node-cidr-mask-size
   bits (default /24); every Node without spec.podCIDR gets the lowest free block in
   spec.podCIDR and spec.podCIDRs (a merge patch of the Node). The allocations are the
   podCIDRs of the Nodes listed on each pass, so they are rebuilt at start and a deleted
   Node's block is free again on the next pass. When no block is left, the Node gets the Event
   CIDRNotAvailable (once per Node until it has a range). IPv4 only. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/cluster.h"

static uint32_t net_base = 0x0a2a0000; /* 10.42.0.0 */
static int net_prefix = 16, node_mask = 24;
static json_t *reported; /* node name -> true: CIDRNotAvailable already recorded */

static int
parse_cidr (const char *s, uint32_t *base, int *prefix)
{
  char ip[INET_ADDRSTRLEN];
  const char *slash = strchr (s, '/');
  if (slash == NULL || (size_t)(slash - s) >= sizeof ip)
    return -1;
  memcpy (ip, s, (size_t)(slash - s));
  ip[slash - s] = '\0';
  struct in_addr a;
  char *end = NULL;
  errno = 0;
  long p = strtol (slash + 1, &end, 10);
  if (inet_pton (AF_INET, ip, &a) != 1 || errno || end == slash + 1 || *end || p < 0 || p > 32)
    return -1;
  *prefix = (int)p;
  uint32_t m = p == 0 ? 0 : 0xffffffffu << (32 - p);
  *base = ntohl (a.s_addr) & m;
  return 0;
}

int
ctrl_nodeipam_configure (const char *cluster_cidr, int mask_size, husk_error **err)
{
  uint32_t base;
  int prefix;
  if (cluster_cidr && parse_cidr (cluster_cidr, &base, &prefix) < 0)
    return husk_err (err, EINVAL, "--cluster-cidr %s: not an IPv4 CIDR (a.b.c.d/n)",
                     cluster_cidr);
  if (!cluster_cidr)
    base = net_base, prefix = net_prefix;
  /* Only the range given: keep the block size, or make it the whole range when larger. */
  if (mask_size < 0)
    mask_size = node_mask < prefix ? prefix : node_mask;
  if (mask_size < prefix || mask_size > 32 || mask_size - prefix > 20)
    return husk_err (err, EINVAL,
                     "--node-cidr-mask-size %d: must be between the cluster prefix /%d and 32, "
                     "with at most 2^20 blocks",
                     mask_size, prefix);
  net_base = base;
  net_prefix = prefix;
  node_mask = mask_size;
  return 0;
}

static size_t
n_blocks (void)
{
  return (size_t)1 << (node_mask - net_prefix);
}

static char *
block_text (size_t i)
{
  struct in_addr a = { .s_addr = htonl (net_base + (uint32_t)(i << (32 - node_mask))) };
  char ip[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &a, ip, sizeof ip);
  return xasprintf ("%s/%d", ip, node_mask);
}

/* The block index of a node's podCIDR, or -1 when it is not one of ours. */
static long
block_of (const char *cidr)
{
  uint32_t base;
  int prefix;
  if (cidr == NULL || parse_cidr (cidr, &base, &prefix) < 0 || prefix != node_mask)
    return -1;
  uint32_t m = net_prefix == 0 ? 0 : 0xffffffffu << (32 - net_prefix);
  if ((base & m) != net_base)
    return -1;
  return (long)((base - net_base) >> (32 - node_mask));
}

static void
record_not_available (ctrl_ctx *c, const json_t *node)
{
  const char *name = husk_json_path_str (node, "metadata.name");
  if (reported == NULL)
    reported = json_object ();
  if (json_object_get (reported, name))
    return;
  log_warn ("node IPAM: no pod CIDR left", "node", name);
  _cleanup_free_ char *now = ctrl_time_now ();
  _cleanup_free_ char *msg = xasprintf ("Node %s status is now: CIDRNotAvailable", name);
  _cleanup_free_ char *ename = xasprintf ("%s.cidrnotavailable", name);
  _cleanup_json_ json_t *ev = json_pack (
      "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s}, s:s, s:s, s:i}",
      "apiVersion", "v1", "kind", "Event", "metadata", "name", ename, "namespace", "default",
      "involvedObject", "apiVersion", "v1", "kind", "Node", "name", name, "uid",
      husk_json_path_str (node, "metadata.uid") ?: "", "reason", "CIDRNotAvailable", "message",
      msg, "type", "Normal", "source", "component", "cidrAllocator", "firstTimestamp", now,
      "lastTimestamp", now, "count", 1);
  _cleanup_error_ husk_error *e = NULL;
  long code = 0;
  if (ctrl_write (c, "POST", "/api/v1/namespaces/default/events", NULL, ev, NULL, &code, &e)
          < 0
      && code != 409)
    {
      log_warn ("node IPAM: cannot record event", "node", name, "error", e->msg);
      return;
    }
  json_object_set_new (reported, name, json_true ());
}

static int
assign (ctrl_ctx *c, const json_t *node, size_t i, husk_error **err)
{
  const char *name = husk_json_path_str (node, "metadata.name");
  _cleanup_free_ char *cidr = block_text (i);
  _cleanup_free_ char *path = xasprintf ("/api/v1/nodes/%s", name);
  _cleanup_json_ json_t *patch
      = json_pack ("{s:{s:s, s:[s]}}", "spec", "podCIDR", cidr, "podCIDRs", cidr);
  long code = 0;
  int ret = ctrl_write (c, "PATCH", path, "application/merge-patch+json", patch, NULL,
                          &code, err);
  if (ret == 0)
    {
      log_info ("node IPAM: pod CIDR assigned", "node", name, "podCIDR", cidr);
      if (reported)
        json_object_del (reported, name);
    }
  return ctrl_tolerate_stale (ret, code, err);
}

int
ctrl_nodeipam_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *nodes = NULL;
  int ret = ctrl_list (c, "/api/v1/nodes", &nodes, err);
  if (ret < 0)
    return ret;
  size_t n = n_blocks (), next = 0, i;
  _cleanup_free_ unsigned char *used = calloc (n, 1);
  if (used == NULL)
    return husk_err (err, ENOMEM, "node IPAM: %zu blocks", n);
  json_t *node;
  bool pending = false;
  json_array_foreach (nodes, i, node)
  {
    long b = block_of (husk_json_path_str (node, "spec.podCIDR"));
    if (b >= 0 && (size_t)b < n)
      used[b] = 1;
    pending |= husk_json_path_str (node, "spec.podCIDR") == NULL;
  }
  if (!pending)
    return 0;
  json_array_foreach (nodes, i, node)
  {
    if (husk_json_path_str (node, "spec.podCIDR") || ctrl_terminating (node))
      continue;
    while (next < n && used[next])
      next++;
    if (next == n)
      {
        record_not_available (c, node);
        continue;
      }
    _cleanup_error_ husk_error *e = NULL;
    if (assign (c, node, next, &e) < 0)
      {
        log_warn ("node IPAM", "node", husk_json_path_str (node, "metadata.name"), "error",
                  e->msg);
        continue;
      }
    used[next] = 1;
  }
  return 0;
}
