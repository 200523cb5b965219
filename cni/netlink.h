/* husk-cni: rtnetlink through libmnl (links, addresses, routes, bridge ports, FDB).
   A cni_nl socket talks to the network namespace it was opened in. Every function
   returns 0 or < 0 with *err set; errors keep the kernel's errno (EEXIST, ENODEV...). */
#ifndef HUSK_CNI_NETLINK_H
#define HUSK_CNI_NETLINK_H

#include <net/if.h>

#include "cni/cni.h"

typedef struct cni_nl cni_nl;

int cni_nl_open (cni_nl **out, husk_error **err);
void cni_nl_close (cni_nl *nl);
DEFINE_CLEANUP (cni_nl *, cni_nl_close)

typedef struct cni_link
{
  int ifindex; /* 0 when the link does not exist */
  char name[IFNAMSIZ];
  char kind[32]; /* IFLA_INFO_KIND, "" for none */
  int mtu;
  int master; /* ifindex of the master, 0 for none */
  unsigned flags;
  uint8_t mac[6];
  bool has_mac;
  int gso_ipv4_max; /* IFLA_GSO_IPV4_MAX_SIZE, 0 when the kernel does not report it */
} cni_link;

/* Looks a link up by name (ifindex 0 selects by name) or by index. A missing link is
   not an error: out->ifindex is 0. */
int cni_link_get (cni_nl *nl, const char *name, int ifindex, cni_link *out, husk_error **err);
char *cni_link_mac_str (const cni_link *l);

/* mac (NULL = kernel's choice) is set explicitly so that the bridge keeps it: a bridge with
   a kernel-chosen address takes the lowest port's address, which changes as pods come and
   go and leaves the pods' neighbour entries for the gateway stale. */
int cni_link_add_bridge (cni_nl *nl, const char *name, int mtu, const uint8_t *mac,
                         husk_error **err);
/* Creates a veth pair: `name` here, `peer` created directly in the namespace peer_nsfd
   (-1 = here). mtu 0 keeps the default; gso > 0 gives both ends that GSO/GRO size for IPv4
   and IPv6 (BIG TCP), 0 keeps the kernel's. */
int cni_link_add_veth (cni_nl *nl, const char *name, const char *peer, int peer_nsfd, int mtu,
                       int gso, husk_error **err);
/* Sets the GSO and GRO maximum sizes (IPv4 and IPv6) of a link. */
int cni_link_set_gso (cni_nl *nl, int ifindex, int gso, husk_error **err);
/* A VXLAN device: vni, UDP port, local address (family 0 = any), underlay device (0 = any).
   Learning is off: FDB entries are programmed with cni_fdb_add_flood. */
int cni_link_add_vxlan (cni_nl *nl, const char *name, uint32_t vni, int port, const cni_ip *local,
                        int dev_ifindex, int mtu, const uint8_t *mac, husk_error **err);
/* Changes what is asked: master < 0, mtu 0, up < 0, promisc < 0 leave that setting. */
int cni_link_modify (cni_nl *nl, int ifindex, int master, int mtu, int up, int promisc,
                     husk_error **err);
int cni_link_set_hairpin (cni_nl *nl, int ifindex, bool on, husk_error **err);
int cni_link_del (cni_nl *nl, int ifindex, husk_error **err);
/* Renames a link (it must be down). */
int cni_link_rename (cni_nl *nl, int ifindex, const char *name, husk_error **err);
/* The fd of the socket (to keep it across a fork). */
int cni_nl_fd (const cni_nl *nl);

/* ip carries its prefix. nodad skips IPv6 duplicate address detection. */
int cni_addr_add (cni_nl *nl, int ifindex, const cni_ip *ip, bool nodad, husk_error **err);
/* Addresses on ifindex of family (0 = both), each with its prefix. */
int cni_addr_list (cni_nl *nl, int ifindex, int family, cni_ip **out, size_t *n, husk_error **err);

/* A route in the main table: rt->dst with prefix, rt->gw (family 0 = on-link via ifindex).
   replace: NLM_F_REPLACE instead of failing with EEXIST. onlink: the gateway is taken as
   reachable on ifindex (RTNH_F_ONLINK). */
int cni_route_add (cni_nl *nl, const cni_route *rt, int ifindex, bool replace, bool onlink,
                   husk_error **err);
/* cni_route_add with an explicit rtm_protocol (the owner mark that cni_route_list reports). */
int cni_route_add_proto (cni_nl *nl, const cni_route *rt, int ifindex, bool replace, bool onlink,
                         int protocol, husk_error **err);
int cni_route_del (cni_nl *nl, const cni_route *rt, int ifindex, husk_error **err);

typedef struct cni_route_entry
{
  cni_route route;
  int oif;
  int protocol;
} cni_route_entry;
/* Routes of the main table for family (AF_INET or AF_INET6). */
int cni_route_list (cni_nl *nl, int family, cni_route_entry **out, size_t *n, husk_error **err);

/* A permanent FDB entry on a VXLAN device: frames for mac go to remote (an all-zeros mac
   floods broadcasts there). Replaces an existing entry for mac. */
int cni_fdb_set (cni_nl *nl, int ifindex, const uint8_t mac[6], const cni_ip *remote,
                 husk_error **err);
int cni_fdb_del (cni_nl *nl, int ifindex, const uint8_t mac[6], const cni_ip *remote,
                 husk_error **err);
/* A permanent neighbour (ARP/NDP) entry ip -> mac on ifindex, replacing any other. */
int cni_neigh_set (cni_nl *nl, int ifindex, const cni_ip *ip, const uint8_t mac[6],
                   husk_error **err);

/* Enters the network namespace of fd (setns); cni_netns_open opens a path. */
int cni_netns_open (const char *path, int *fd, husk_error **err);
int cni_netns_enter (int fd, const char *what, husk_error **err);

#endif
