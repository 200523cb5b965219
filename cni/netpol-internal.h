/* NetworkPolicy compiler internals (cni/netpol.c, cni/netpol-select.c). */
#ifndef HUSK_CNI_NETPOL_INTERNAL_H
#define HUSK_CNI_NETPOL_INTERNAL_H

#include <string.h>

#include "cni/netpol.h"

typedef struct np_pod
{
  json_t *obj; /* borrowed */
  const char *ns, *name, *node;
  json_t *labels;
  cni_ip *ips;
  size_t nips;
} np_pod;

typedef struct np_ctx
{
  np_pod *pods;
  size_t npods;
  json_t *ns_labels; /* namespace -> labels */
  cni_np_model *m;
  char *where; /* "policy ns/name" while one is compiled */
} np_ctx;

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
