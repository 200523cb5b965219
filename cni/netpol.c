/* NetworkPolicy compiler, part 2: policies -> per-pod chains of allow rules. Pure: no
   system calls, so every selector kind is unit-tested (tests/unit/test-cni-netpol.c). */
#include "config.h"

#include <netinet/in.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "cni/netpol-internal.h"
#include "lib/buf.h"
#include "lib/json.h"

/* ---- warnings and sets ---- */

static void _printf_ (2, 3)
warn (np_ctx *c, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *what = NULL;
  if (vasprintf (&what, fmt, ap) < 0)
    abort ();
  va_end (ap);
  char *msg = xasprintf ("%s: %s", c->where, what);
  cni_np_model *m = c->m;
  for (size_t i = 0; i < m->nwarnings; i++)
    if (streq (m->warnings[i], msg))
      {
        free (msg);
        return;
      }
  m->warnings = xreallocarray (m->warnings, m->nwarnings + 1, sizeof *m->warnings);
  m->warnings[m->nwarnings++] = msg;
}

static int
ip_qcmp (const void *a, const void *b)
{
  return cni_ip_cmp (a, b);
}

/* The index of the set holding exactly ips[] (sorted and made unique here; taken). */
static size_t
set_intern (cni_np_model *m, int family, cni_ip *ips, size_t n)
{
  qsort (ips, n, sizeof *ips, ip_qcmp);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (u == 0 || cni_ip_cmp (&ips[u - 1], &ips[i]) != 0)
      ips[u++] = ips[i];
  for (size_t s = 0; s < m->nsets; s++)
    if (m->sets[s].family == family && m->sets[s].n == u
        && memcmp (m->sets[s].ips, ips, u * sizeof *ips) == 0)
      {
        free (ips);
        return s;
      }
  m->sets = xreallocarray (m->sets, m->nsets + 1, sizeof *m->sets);
  m->sets[m->nsets] = (cni_np_set) {.family = family, .ips = ips, .n = u};
  return m->nsets++;
}

static void
chain_add (cni_np_chain *ch, const cni_np_rule *r)
{
  ch->rules = xreallocarray (ch->rules, ch->nrules + 1, sizeof *ch->rules);
  cni_np_rule *dst = &ch->rules[ch->nrules++];
  *dst = *r;
  if (r->nexcept)
    {
      dst->except = np_memdup (r->except, r->nexcept * sizeof *r->except);
    }
}

/* ---- one peer ---- */


static void
peer_clear (np_peer *p)
{
  free (p->except);
  free (p->pods);
}

static bool
in_block (const np_peer *p, const cni_ip *ip)
{
  if (ip->family != p->cidr.family || !cni_ip_in_subnet (ip, &p->cidr))
    return false;
  for (size_t i = 0; i < p->nexcept; i++)
    if (ip->family == p->except[i].family && cni_ip_in_subnet (ip, &p->except[i]))
      return false;
  return true;
}

/* "10.0.0.0/8" -> its network address with the prefix; -1 without a prefix. */
static int
parse_cidr (const char *s, cni_ip *out)
{
  cni_ip ip;
  if (s == NULL || cni_ip_parse (s, &ip, NULL) < 0 || ip.prefix < 0)
    return -1;
  *out = cni_ip_network (&ip, ip.prefix);
  out->prefix = ip.prefix;
  return 0;
}

/* ipBlock {cidr, except}: a bad one matches nothing (kind SET with no pods). */
static void
peer_ipblock (np_ctx *c, json_t *blk, const char *path, np_peer *out)
{
  out->kind = CNI_NP_SET;
  const char *cidr = husk_json_path_str (blk, "cidr");
  if (parse_cidr (cidr, &out->cidr) < 0)
    {
      warn (c, "%s.ipBlock.cidr: \"%s\" is not a CIDR", path, cidr ? cidr : "");
      return;
    }
  size_t i;
  json_t *x;
  json_array_foreach (json_object_get (blk, "except"), i, x)
    {
      cni_ip e;
      const char *s = json_string_value (x);
      if (parse_cidr (s, &e) < 0 || e.family != out->cidr.family)
        {
          warn (c, "%s.ipBlock.except[%zu]: \"%s\" is not a CIDR of the block's family", path,
                i, s ? s : "");
          return;
        }
      out->except = xreallocarray (out->except, out->nexcept + 1, sizeof *out->except);
      out->except[out->nexcept++] = e;
    }
  out->kind = CNI_NP_CIDR;
}

/* podSelector and/or namespaceSelector: the pods they pick (policy_ns: the policy's). */
static void
peer_pods (np_ctx *c, json_t *peer, const char *policy_ns, const char *path, np_peer *out)
{
  out->kind = CNI_NP_SET;
  json_t *psel = json_object_get (peer, "podSelector");
  json_t *nsel = json_object_get (peer, "namespaceSelector");
  for (size_t i = 0; i < c->npods; i++)
    {
      const np_pod *p = &c->pods[i];
      char *bad = NULL;
      bool ok;
      if (nsel)
        ok = np_selector_match (nsel, np_ns_labels (c, p->ns), &bad);
      else
        ok = streq (p->ns, policy_ns);
      if (bad)
        {
          warn (c, "%s.namespaceSelector: %s", path, bad);
          free (bad);
          out->npods = 0;
          return;
        }
      if (ok && psel)
        ok = np_selector_match (psel, p->labels, &bad);
      if (bad)
        {
          warn (c, "%s.podSelector: %s", path, bad);
          free (bad);
          out->npods = 0;
          return;
        }
      if (!ok)
        continue;
      out->pods = xreallocarray (out->pods, out->npods + 1, sizeof *out->pods);
      out->pods[out->npods++] = p;
    }
}

static void
peer_resolve (np_ctx *c, json_t *peer, const char *policy_ns, const char *path, np_peer *out)
{
  *out = (np_peer) {.kind = CNI_NP_ANY};
  if (peer == NULL)
    return;
  json_t *blk = json_object_get (peer, "ipBlock");
  if (blk)
    peer_ipblock (c, blk, path, out);
  else if (json_object_get (peer, "podSelector") || json_object_get (peer, "namespaceSelector"))
    peer_pods (c, peer, policy_ns, path, out);
  else
    {
      warn (c, "%s: needs podSelector, namespaceSelector or ipBlock", path);
      out->kind = CNI_NP_SET; /* matches nothing */
    }
}

/* ---- rules from one peer and one port ---- */

/* The sets (one per family; SIZE_MAX: no address of that family) of pods[]. */
static void
pods_sets (np_ctx *c, const np_pod *const *pods, size_t n, size_t sets[2])
{
  static const int families[] = {AF_INET, AF_INET6};
  for (size_t f = 0; f < ARRAY_SIZE (families); f++)
    {
      cni_ip *ips = NULL;
      size_t nips = 0;
      for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < pods[i]->nips; k++)
          if (pods[i]->ips[k].family == families[f])
            {
              ips = xreallocarray (ips, nips + 1, sizeof *ips);
              ips[nips++] = pods[i]->ips[k];
            }
      sets[f] = nips ? set_intern (c->m, families[f], ips, nips) : SIZE_MAX;
      if (nips == 0)
        free (ips);
    }
}

static void
emit_sets (cni_np_chain *ch, const size_t sets[2], bool any_port, cni_np_port port)
{
  for (size_t f = 0; f < 2; f++)
    if (sets[f] != SIZE_MAX)
      {
        cni_np_rule r = {.kind = CNI_NP_SET, .any_port = any_port, .port = port, .set = sets[f]};
        chain_add (ch, &r);
      }
}

/* A rule per family for the addresses of pods[] (with port). */
static void
emit_pods (np_ctx *c, cni_np_chain *ch, const np_pod *const *pods, size_t n, bool any_port,
           cni_np_port port)
{
  size_t sets[2];
  pods_sets (c, pods, n, sets);
  emit_sets (ch, sets, any_port, port);
}

static void
emit (np_ctx *c, cni_np_chain *ch, np_peer *peer, bool any_port, cni_np_port port)
{
  if (peer->kind == CNI_NP_SET)
    {
      if (!peer->sets_done)
        pods_sets (c, peer->pods, peer->npods, peer->sets);
      peer->sets_done = true;
      emit_sets (ch, peer->sets, any_port, port);
      return;
    }
  cni_np_rule r = {.kind = peer->kind, .any_port = any_port, .port = port};
  if (peer->kind == CNI_NP_CIDR)
    {
      r.cidr = peer->cidr;
      r.except = peer->except;
      r.nexcept = peer->nexcept;
    }
  chain_add (ch, &r);
}

/* Egress to a named port: the port is the destination pod's, so the peer shrinks to the
   pods that name it, grouped by the number they give it. */
static void
emit_egress_named (np_ctx *c, cni_np_chain *ch, const np_peer *peer, const char *name,
                   uint8_t proto)
{
  size_t n = 0;
  const np_pod **cand = NULL;
  if (peer->kind == CNI_NP_SET)
    {
      cand = np_memdup (peer->pods, peer->npods * sizeof *cand);
      n = peer->npods;
    }
  else
    for (size_t i = 0; i < c->npods; i++)
      {
        bool ok = peer->kind == CNI_NP_ANY;
        for (size_t k = 0; !ok && k < c->pods[i].nips; k++)
          ok = in_block (peer, &c->pods[i].ips[k]);
        if (!ok)
          continue;
        cand = xreallocarray (cand, n + 1, sizeof *cand);
        cand[n++] = &c->pods[i];
      }
  int *num = xcalloc (n + 1, sizeof *num);
  for (size_t i = 0; i < n; i++)
    num[i] = np_named_port (cand[i], name, proto);
  for (size_t i = 0; i < n; i++)
    {
      if (num[i] == 0)
        continue;
      int want = num[i];
      const np_pod **group = xcalloc (n, sizeof *group);
      size_t g = 0;
      for (size_t j = i; j < n; j++)
        if (num[j] == want)
          {
            group[g++] = cand[j];
            num[j] = 0;
          }
      cni_np_port port = {.proto = proto, .port = (uint16_t) want};
      emit_pods (c, ch, group, g, false, port);
      free (group);
    }
  free (num);
  free (cand);
}

/* One entry of ports[] against one peer. */
static void
emit_port (np_ctx *c, cni_np_chain *ch, const np_pod *target, bool ingress, np_peer *peer,
           json_t *pj, const char *path)
{
  const char *pname = husk_json_path_str (pj, "protocol");
  cni_np_port port = {.proto = np_proto (pname)};
  if (port.proto == 0)
    {
      warn (c, "%s.protocol: \"%s\" is not TCP, UDP or SCTP", path, pname);
      return;
    }
  json_t *pv = json_object_get (pj, "port");
  json_t *ev = json_object_get (pj, "endPort");
  if (json_is_string (pv))
    {
      const char *name = json_string_value (pv);
      if (!ingress)
        {
          emit_egress_named (c, ch, peer, name, port.proto);
          return;
        }
      int n = np_named_port (target, name, port.proto);
      if (n > 0)
        emit (c, ch, peer, false, (cni_np_port) {.proto = port.proto, .port = (uint16_t) n});
      return;
    }
  if (pv && !json_is_integer (pv))
    {
      warn (c, "%s.port: not a number or a name", path);
      return;
    }
  json_int_t p = pv ? json_integer_value (pv) : 0;
  json_int_t e = json_is_integer (ev) ? json_integer_value (ev) : 0;
  if ((pv && (p < 1 || p > 65535)) || (ev && (!pv || e < p || e > 65535)))
    {
      warn (c, "%s: port %lld endPort %lld out of range", path, (long long) p, (long long) e);
      return;
    }
  port.port = (uint16_t) p;
  port.end = e > p ? (uint16_t) e : 0;
  emit (c, ch, peer, false, port);
}

/* A rule's result does not depend on the target pod unless it is an ingress rule naming a
   port (resolved against the target). */
static bool
target_dependent (bool ingress, json_t *ports)
{
  size_t k;
  json_t *pj;
  json_array_foreach (ports, k, pj)
    if (ingress && json_is_string (json_object_get (pj, "port")))
      return true;
  return false;
}

/* The peers of a rule, resolved once per compile; and, when the result does not depend on
   the target, the rules it yields (built into a scratch chain). */
static np_rule_cache *
rule_cache (np_ctx *c, bool ingress, json_t *rule, const char *policy_ns, const char *path)
{
  for (size_t i = 0; i < c->ncache; i++)
    if (c->cache[i].rule == rule && c->cache[i].ingress == ingress)
      return &c->cache[i];
  c->cache = xreallocarray (c->cache, c->ncache + 1, sizeof *c->cache);
  np_rule_cache *e = &c->cache[c->ncache++];
  *e = (np_rule_cache) {.rule = rule, .ingress = ingress};
  json_t *peers = json_object_get (rule, ingress ? "from" : "to");
  json_t *ports = json_object_get (rule, "ports");
  size_t npeers = json_array_size (peers);
  e->npeers = npeers ? npeers : 1;
  e->peers = xcalloc (e->npeers, sizeof *e->peers);
  for (size_t i = 0; i < e->npeers; i++)
    {
      _cleanup_free_ char *pp = npeers ? xasprintf ("%s.%s[%zu]", path, ingress ? "from" : "to", i)
                                       : xstrdup (path);
      peer_resolve (c, npeers ? json_array_get (peers, i) : NULL, policy_ns, pp, &e->peers[i]);
    }
  e->per_target = target_dependent (ingress, ports);
  return e;
}

static void
emit_rule (np_ctx *c, cni_np_chain *ch, const np_pod *target, bool ingress, json_t *rule,
           np_rule_cache *e, const char *path)
{
  json_t *ports = json_object_get (rule, "ports");
  for (size_t i = 0; i < e->npeers; i++)
    {
      if (json_array_size (ports) == 0)
        emit (c, ch, &e->peers[i], true, (cni_np_port) {0});
      size_t k;
      json_t *pj;
      json_array_foreach (ports, k, pj)
        {
          _cleanup_free_ char *pt = xasprintf ("%s.ports[%zu]", path, k);
          emit_port (c, ch, target, ingress, &e->peers[i], pj, pt);
        }
    }
}

/* One ingress/egress rule of a policy: (peers) x (ports). */
static void
compile_rule (np_ctx *c, cni_np_chain *ch, const np_pod *target, bool ingress, json_t *rule,
              const char *policy_ns, const char *path)
{
  np_rule_cache *e = rule_cache (c, ingress, rule, policy_ns, path);
  if (e->per_target)
    {
      emit_rule (c, ch, target, ingress, rule, e, path);
      return;
    }
  if (!e->built)
    {
      emit_rule (c, &e->out, target, ingress, rule, e, path);
      e->built = true;
    }
  for (size_t i = 0; i < e->out.nrules; i++)
    chain_add (ch, &e->out.rules[i]);
}

void
np_cache_free (np_ctx *c)
{
  for (size_t i = 0; i < c->ncache; i++)
    {
      np_rule_cache *e = &c->cache[i];
      for (size_t k = 0; k < e->npeers; k++)
        peer_clear (&e->peers[k]);
      free (e->peers);
      for (size_t k = 0; k < e->out.nrules; k++)
        free (e->out.rules[k].except);
      free (e->out.rules);
    }
  free (c->cache);
}

/* ---- policies ---- */

static bool
policy_has_type (json_t *spec, const char *type)
{
  json_t *types = json_object_get (spec, "policyTypes");
  if (json_array_size (types) == 0)
    {
      /* upstream defaulting: Ingress, plus Egress when there are egress rules */
      if (streq (type, "Ingress"))
        return true;
      return json_array_size (json_object_get (spec, "egress")) > 0;
    }
  size_t i;
  json_t *t;
  json_array_foreach (types, i, t)
    if (json_is_string (t) && streq (json_string_value (t), type))
      return true;
  return false;
}

/* Whether policy selects target in the direction; adds its rules to ch when so. */
static bool
compile_policy (np_ctx *c, json_t *pol, const np_pod *target, bool ingress, cni_np_chain *ch)
{
  const char *ns = husk_json_path_str (pol, "metadata.namespace");
  const char *name = husk_json_path_str (pol, "metadata.name");
  json_t *spec = json_object_get (pol, "spec");
  if (!streq (ns ? ns : "default", target->ns) || !json_is_object (spec))
    return false;
  if (!policy_has_type (spec, ingress ? "Ingress" : "Egress"))
    return false;
  free (c->where);
  c->where = xasprintf ("policy %s/%s", ns ? ns : "default", name ? name : "");
  char *bad = NULL;
  bool sel = np_selector_match (json_object_get (spec, "podSelector"), target->labels, &bad);
  if (bad)
    {
      warn (c, "spec.podSelector: %s", bad);
      free (bad);
      return false;
    }
  if (!sel)
    return false;
  const char *dir = ingress ? "ingress" : "egress";
  size_t i;
  json_t *rule;
  json_array_foreach (json_object_get (spec, dir), i, rule)
    {
      _cleanup_free_ char *path = xasprintf ("spec.%s[%zu]", dir, i);
      compile_rule (c, ch, target, ingress, rule, ns ? ns : "default", path);
    }
  return true;
}

static void
compile_target (np_ctx *c, json_t *policies, const np_pod *t, bool ingress)
{
  cni_np_chain ch = {0};
  bool isolated = false;
  size_t i;
  json_t *pol;
  json_array_foreach (policies, i, pol)
    isolated |= compile_policy (c, pol, t, ingress, &ch);
  if (!isolated)
    return;
  ch.pod = xasprintf ("%s/%s", t->ns, t->name);
  ch.ips = np_memdup (t->ips, t->nips * sizeof *t->ips);
  ch.nips = t->nips;
  cni_np_model *m = c->m;
  cni_np_chain **list = ingress ? &m->ingress : &m->egress;
  size_t *n = ingress ? &m->ningress : &m->negress;
  *list = xreallocarray (*list, *n + 1, sizeof **list);
  (*list)[(*n)++] = ch;
}

int
cni_np_compile (json_t *policies, json_t *pods, json_t *namespaces, const char *node,
                cni_np_model **out, husk_error **err)
{
  if ((policies && !json_is_array (policies)) || (pods && !json_is_array (pods))
      || (namespaces && !json_is_array (namespaces)))
    return husk_err (err, EINVAL, "networkpolicy: policies, pods and namespaces must be lists");
  np_ctx c = {.m = xzalloc (sizeof (cni_np_model))};
  np_namespaces_load (namespaces, &c);
  np_pods_load (pods, &c);
  for (size_t i = 0; i < c.npods; i++)
    {
      const np_pod *t = &c.pods[i];
      if (node && !(t->node && streq (t->node, node)))
        continue;
      compile_target (&c, policies, t, true);
      compile_target (&c, policies, t, false);
    }
  np_cache_free (&c);
  for (size_t i = 0; i < c.npods; i++)
    {
      free (c.pods[i].ips);
      free (c.pods[i].ports);
    }
  free (c.pods);
  free (c.where);
  json_decref (c.ns_labels);
  *out = c.m;
  return 0;
}

static void
chains_free (cni_np_chain *chains, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      for (size_t k = 0; k < chains[i].nrules; k++)
        free (chains[i].rules[k].except);
      free (chains[i].rules);
      free (chains[i].ips);
      free (chains[i].pod);
    }
  free (chains);
}

void
cni_np_model_free (cni_np_model *m)
{
  if (m == NULL)
    return;
  chains_free (m->ingress, m->ningress);
  chains_free (m->egress, m->negress);
  for (size_t i = 0; i < m->nsets; i++)
    free (m->sets[i].ips);
  free (m->sets);
  for (size_t i = 0; i < m->nwarnings; i++)
    free (m->warnings[i]);
  free (m->warnings);
  free (m);
}

/* ---- JSON rendering ---- */

static void
buf_ip (husk_buf *b, const cni_ip *ip, bool prefix)
{
  _cleanup_free_ char *s = cni_ip_format (ip, prefix);
  husk_buf_append (b, s, strlen (s));
}

/* by_ref: a set peer is spelled "@s<index>" instead of its addresses. */
static char *
rule_text (const cni_np_model *m, const cni_np_rule *r, bool by_ref)
{
  husk_buf b = {0};
  if (r->kind == CNI_NP_ANY)
    husk_buf_append (&b, "any", 3);
  else if (r->kind == CNI_NP_CIDR)
    {
      buf_ip (&b, &r->cidr, true);
      for (size_t i = 0; i < r->nexcept; i++)
        {
          husk_buf_append (&b, i ? "," : " except ", i ? 1 : 8);
          buf_ip (&b, &r->except[i], true);
        }
    }
  else if (by_ref)
    husk_buf_printf (&b, "@s%zu", r->set);
  else
    for (size_t i = 0; i < m->sets[r->set].n; i++)
      {
        if (i)
          husk_buf_append (&b, ",", 1);
        buf_ip (&b, &m->sets[r->set].ips[i], false);
      }
  if (!r->any_port)
    {
      const char *p = r->port.proto == IPPROTO_UDP ? "udp" : r->port.proto == IPPROTO_SCTP ? "sctp" : "tcp";
      char tail[48];
      if (r->port.port == 0)
        snprintf (tail, sizeof tail, " %s", p);
      else if (r->port.end)
        snprintf (tail, sizeof tail, " %s/%u-%u", p, r->port.port, r->port.end);
      else
        snprintf (tail, sizeof tail, " %s/%u", p, r->port.port);
      husk_buf_append (&b, tail, strlen (tail));
    }
  return husk_buf_steal (&b);
}

static json_t *
chains_json (const cni_np_model *m, const cni_np_chain *chains, size_t n)
{
  json_t *o = json_object ();
  for (size_t i = 0; i < n; i++)
    {
      json_t *ips = json_array (), *rules = json_array ();
      for (size_t k = 0; k < chains[i].nips; k++)
        {
          _cleanup_free_ char *a = cni_ip_format (&chains[i].ips[k], false);
          json_array_append_new (ips, json_string (a));
        }
      for (size_t k = 0; k < chains[i].nrules; k++)
        {
          char *t = rule_text (m, &chains[i].rules[k], false);
          json_array_append_new (rules, json_string (t));
          free (t);
        }
      json_object_set_new (o, chains[i].pod, json_pack ("{s:o, s:o}", "ips", ips, "rules", rules));
    }
  return o;
}

json_t *
cni_np_model_json (const cni_np_model *m)
{
  return json_pack ("{s:o, s:o}", "ingress", chains_json (m, m->ingress, m->ningress), "egress",
                    chains_json (m, m->egress, m->negress));
}

static void
digest_chains (husk_buf *b, const cni_np_model *m, const char *dir, const cni_np_chain *ch,
               size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      husk_buf_printf (b, "%s %s", dir, ch[i].pod);
      for (size_t k = 0; k < ch[i].nips; k++)
        {
          husk_buf_putc (b, ' ');
          buf_ip (b, &ch[i].ips[k], false);
        }
      for (size_t k = 0; k < ch[i].nrules; k++)
        {
          _cleanup_free_ char *t = rule_text (m, &ch[i].rules[k], true);
          husk_buf_printf (b, "|%s", t);
        }
      husk_buf_putc (b, '\n');
    }
}

char *
cni_np_model_digest (const cni_np_model *m)
{
  husk_buf b = {0};
  for (size_t i = 0; i < m->nsets; i++)
    {
      husk_buf_printf (&b, "s%zu", i);
      for (size_t k = 0; k < m->sets[i].n; k++)
        {
          husk_buf_putc (&b, ' ');
          buf_ip (&b, &m->sets[i].ips[k], false);
        }
      husk_buf_putc (&b, '\n');
    }
  digest_chains (&b, m, "in", m->ingress, m->ningress);
  digest_chains (&b, m, "eg", m->egress, m->negress);
  char *s = husk_buf_steal (&b);
  return s ? s : xstrdup ("");
}
