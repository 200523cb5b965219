/* NetworkPolicy compiler internals (cni/netpol.c, cni/netpol-select.c). */
#ifndef HUSK_CNI_NETPOL_INTERNAL_H
#define HUSK_CNI_NETPOL_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "cni/netpol.h"

typedef struct np_named
{
  const char *name; /* borrowed from the pod object */
  uint8_t proto;
  int port;
} np_named;

typedef struct np_pod
{
  json_t *obj; /* borrowed */
  const char *ns, *name, *node;
  json_t *labels;
  cni_ip *ips;
  size_t nips;
  np_named *ports; /* named container ports */
  size_t nports;
} np_pod;

/* A resolved peer: ANY, CIDR, or SET meaning "the pods in pods[]". */
typedef struct np_peer
{
  cni_np_peer_kind kind;
  cni_ip cidr;
  cni_ip *except;
  size_t nexcept;
  const np_pod **pods;
  size_t npods;
  bool sets_done; /* sets[] computed: per family, SIZE_MAX when no address */
  size_t sets[2];
} np_peer;

/* One ingress/egress rule of a policy, compiled once per cni_np_compile. */
typedef struct np_rule_cache
{
  json_t *rule; /* identity */
  bool ingress;
  np_peer *peers;
  size_t npeers;
  bool per_target; /* an ingress named port: emitted per target pod */
  bool built;
  cni_np_chain out; /* the rules, when !per_target */
} np_rule_cache;

typedef struct np_ctx
{
  np_pod *pods;
  size_t npods;
  json_t *ns_labels; /* namespace -> labels */
  cni_np_model *m;
  char *where; /* "policy ns/name" while one is compiled */
  np_rule_cache *cache;
  size_t ncache;
} np_ctx;

void np_cache_free (np_ctx *c);

static inline void *
np_memdup (const void *p, size_t n)
{
  void *d = xmalloc (n ? n : 1);
  if (n)
    memcpy (d, p, n);
  return d;
}

/* Whether labels satisfy a LabelSelector (NULL/null: everything). An invalid selector
   matches nothing and sets *bad (caller frees). */
bool np_selector_match (json_t *sel, json_t *labels, char **bad);
void np_pods_load (json_t *pods, np_ctx *c);
void np_namespaces_load (json_t *namespaces, np_ctx *c);
json_t *np_ns_labels (np_ctx *c, const char *ns);
int np_named_port (const np_pod *p, const char *name, uint8_t proto);
uint8_t np_proto (const char *name);

#endif
