/* husk-cni: NetworkPolicy (networking.k8s.io/v1) for the pods of one node.
   cni_np_compile is pure: policies + pods + namespaces (JSON objects as the API serves them)
   -> a rule model; cni_np_apply programs that model into the nftables table `inet husk-netpol`
   in one atomic batch (the previous content is replaced in the same transaction).

   The model: for each local pod isolated in a direction (selected by a policy whose
   policyTypes holds that direction) a chain of allow rules; each rule is one peer (any
   address, a CIDR minus exceptions, or a set of pod addresses) times one port (or any port).
   A packet leaving an egress-isolated pod must match a rule of that pod's egress chain, and
   a packet reaching an ingress-isolated pod a rule of its ingress chain; replies of allowed
   connections pass through conntrack. */
#ifndef HUSK_CNI_NETPOL_H
#define HUSK_CNI_NETPOL_H

#include "cni/cni.h"

#define CNI_NP_TABLE "husk-netpol"

typedef struct cni_np_port
{
  uint8_t proto;        /* IPPROTO_TCP, _UDP, _SCTP */
  uint16_t port, end;   /* port 0: every port of proto; end 0: port alone, else port..end */
} cni_np_port;

typedef struct cni_np_set
{
  int family;
  cni_ip *ips; /* sorted, unique */
  size_t n;
} cni_np_set;

typedef enum
{
  CNI_NP_ANY,  /* every address (of every family) */
  CNI_NP_CIDR, /* ipBlock: cidr, but none of except */
  CNI_NP_SET,  /* the addresses of sets[set] */
} cni_np_peer_kind;

typedef struct cni_np_rule
{
  cni_np_peer_kind kind;
  cni_ip cidr; /* CIDR */
  cni_ip *except;
  size_t nexcept;
  size_t set;  /* SET */
  bool any_port;
  cni_np_port port;
} cni_np_rule;

typedef struct cni_np_chain
{
  char *pod;   /* "namespace/name" */
  cni_ip *ips; /* the pod's addresses */
  size_t nips;
  cni_np_rule *rules; /* none: everything denied */
  size_t nrules;
} cni_np_chain;

typedef struct cni_np_model
{
  cni_np_chain *ingress, *egress;
  size_t ningress, negress;
  cni_np_set *sets;
  size_t nsets;
  char **warnings; /* invalid parts of policies ("policy ns/name: spec.ingress[0]...: ...") */
  size_t nwarnings;
} cni_np_model;

/* policies, pods, namespaces: arrays of API objects (NULL = empty). node: enforce for the
   pods with spec.nodeName == node (NULL: every pod). Pods without an address, with
   hostNetwork, or finished (Succeeded/Failed) are neither targets nor peers. A part of a
   policy that cannot be understood (bad selector operator, bad CIDR) matches nothing and is
   named in warnings: the pods the policy selects stay isolated (fail closed).
   Returns 0 (always, for well-formed arrays) or < 0 when an argument is not an array. */
int cni_np_compile (json_t *policies, json_t *pods, json_t *namespaces, const char *node,
                    cni_np_model **out, husk_error **err);
void cni_np_model_free (cni_np_model *m);
DEFINE_CLEANUP (cni_np_model *, cni_np_model_free)

/* The model as JSON, stable for tests and debugging:
   {"ingress": {"ns/pod": {"ips": [...], "rules": ["10.42.0.5 tcp/80", "any", "10.0.0.0/8
   except 10.1.0.0/16 udp/53-60", ...]}}, "egress": {...}}; set peers are spelled as their
   comma-separated addresses. */
json_t *cni_np_model_json (const cni_np_model *m);

/* A compact text that differs exactly when the programmed rules would (sets spelled once):
   what the node's loop compares to skip an unchanged apply. */
char *cni_np_model_digest (const cni_np_model *m);

/* Replaces the table `inet husk-netpol` with the model in one transaction; an empty model
   (nothing isolated) deletes the table. Also turns on bridge-nf-call-iptables/ip6tables in
   this network namespace so that pod-to-pod traffic bridged on one node passes the inet
   forward hook. */
int cni_np_apply (const cni_np_model *m, husk_error **err);
/* Deletes the table (missing is fine). */
int cni_np_flush (husk_error **err);

#endif
