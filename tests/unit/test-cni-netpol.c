/* husk-cni: the NetworkPolicy compiler (policies + pods + namespaces -> per-pod rule chains):
   every selector kind, policyTypes defaulting, ports (named, ranges, protocols), ipBlock
   with except, node filtering, pods that do not count, invalid policies failing closed. */
#include "config.h"

#include "cni/netpol.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "tests/unit/tap.h"

#define BAIL_OUT(...) (printf ("Bail out! " __VA_ARGS__), printf ("\n"), exit (1))

static json_t *pods, *namespaces;

static void
add_pod (const char *ns, const char *name, const char *node, const char *ip, const char *labels,
         const char *ports)
{
  _cleanup_free_ char *s = xasprintf (
      "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"labels\":%s},"
      "\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\",\"ports\":%s}]},"
      "\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\",\"podIPs\":[{\"ip\":\"%s\"}]}}",
      ns, name, labels ? labels : "{}", node, ports ? ports : "[]", ip, ip);
  json_t *o = json_loads (s, 0, NULL);
  if (o == NULL)
    BAIL_OUT ("bad pod json %s", s);
  json_array_append_new (pods, o);
}

static void
add_ns (const char *name, const char *labels)
{
  _cleanup_free_ char *s
      = xasprintf ("{\"metadata\":{\"name\":\"%s\",\"labels\":%s}}", name, labels);
  json_array_append_new (namespaces, json_loads (s, 0, NULL));
}

static void
setup (void)
{
  pods = json_array ();
  namespaces = json_array ();
  add_ns ("default", "{}");
  add_ns ("prod", "{\"team\":\"a\"}");
  add_ns ("dev", "{\"team\":\"b\"}");
  add_pod ("default", "web", "n1", "10.42.1.10", "{\"app\":\"web\",\"tier\":\"fe\"}",
           "[{\"name\":\"http\",\"containerPort\":8080},"
           "{\"name\":\"dns\",\"containerPort\":5353,\"protocol\":\"UDP\"}]");
  add_pod ("default", "db", "n1", "10.42.1.11", "{\"app\":\"db\"}",
           "[{\"name\":\"http\",\"containerPort\":9090}]");
  add_pod ("default", "client", "n2", "10.42.2.10", "{\"app\":\"client\",\"tier\":\"fe\"}", NULL);
  add_pod ("prod", "api", "n2", "10.42.2.11", "{\"app\":\"api\"}",
           "[{\"name\":\"http\",\"containerPort\":8080}]");
  add_pod ("dev", "api", "n1", "10.42.1.12", "{\"app\":\"api\"}",
           "[{\"name\":\"http\",\"containerPort\":7070}]");
}

/* Compiles policies (a JSON array text) for node; returns the model's JSON, warnings in
   *warnings (joined by "; ") when not NULL. */
static json_t *
compile (const char *policies, const char *node, char **warnings)
{
  json_error_t jerr;
  _cleanup_ (json_decrefp) json_t *pol = json_loads (policies, 0, &jerr);
  if (pol == NULL)
    BAIL_OUT ("bad policy json: %s", jerr.text);
  _cleanup_ (cni_np_model_freep) cni_np_model *m = NULL;
  husk_error *err = NULL;
  if (cni_np_compile (pol, pods, namespaces, node, &m, &err) < 0)
    BAIL_OUT ("compile: %s", err->msg);
  if (warnings)
    {
      husk_buf b = {0};
      for (size_t i = 0; i < m->nwarnings; i++)
        husk_buf_printf (&b, "%s%s", i ? "; " : "", m->warnings[i]);
      *warnings = husk_buf_steal (&b);
      if (*warnings == NULL)
        *warnings = xstrdup ("");
    }
  return cni_np_model_json (m);
}

/* The rules of pod in direction, joined by " | "; "-" when the pod is not isolated. */
static char *
rules_of (json_t *model, const char *dir, const char *pod)
{
  json_t *ch = json_object_get (json_object_get (model, dir), pod);
  if (ch == NULL)
    return xstrdup ("-");
  husk_buf b = {0};
  size_t i;
  json_t *r;
  json_array_foreach (json_object_get (ch, "rules"), i, r)
    husk_buf_printf (&b, "%s%s", i ? " | " : "", json_string_value (r));
  char *s = husk_buf_steal (&b);
  return s ? s : xstrdup ("");
}

#define POL(ns, name, spec) \
  "{\"metadata\":{\"namespace\":\"" ns "\",\"name\":\"" name "\"},\"spec\":" spec "}"

static void
check (const char *policies, const char *node, const char *dir, const char *pod,
       const char *want, const char *name)
{
  _cleanup_ (json_decrefp) json_t *m = compile (policies, node, NULL);
  _cleanup_free_ char *got = rules_of (m, dir, pod);
  is_str (got, want, name);
}

static void
test_basics (void)
{
  check ("[]", NULL, "ingress", "default/web", "-", "no policy: not isolated");
  const char *deny = "[" POL ("default", "deny", "{\"podSelector\":{}}") "]";
  check (deny, NULL, "ingress", "default/web", "", "empty podSelector, no rules: ingress denied");
  check (deny, NULL, "ingress", "default/db", "", "... for every pod of the namespace");
  check (deny, NULL, "egress", "default/web", "-", "policyTypes default to Ingress only");
  check (deny, NULL, "ingress", "prod/api", "-", "other namespaces untouched");
  const char *all = "[" POL ("default", "all", "{\"podSelector\":{},\"ingress\":[{}]}") "]";
  check (all, NULL, "ingress", "default/web", "any", "ingress: [{}] allows everything");
  const char *eg = "[" POL ("default", "eg", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
                                             "\"egress\":[{\"ports\":[{\"port\":53,\"protocol\":\"UDP\"}]}]}") "]";
  check (eg, NULL, "egress", "default/web", "any udp/53", "egress rules imply policyType Egress");
  check (eg, NULL, "ingress", "default/web", "", "... and Ingress is still implied (deny)");
  check (eg, NULL, "egress", "default/db", "-", "matchLabels: other pods not selected");
  const char *only_eg = "[" POL ("default", "oe", "{\"podSelector\":{},\"policyTypes\":[\"Egress\"]}") "]";
  check (only_eg, NULL, "egress", "default/web", "", "policyTypes [Egress] without rules: egress denied");
  check (only_eg, NULL, "ingress", "default/web", "-", "... ingress open");
  const char *two = "[" POL ("default", "a", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80}]}]}") ","
                   POL ("default", "b", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"ports\":[{\"port\":443}]}]}") "]";
  check (two, NULL, "ingress", "default/web", "any tcp/80 | any tcp/443", "policies add up");
  check (two, NULL, "ingress", "default/db", "any tcp/80", "... per selected pod");
}

static void
test_selectors (void)
{
  const char *pods_sel = "[" POL ("default", "p", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
                                                  "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"tier\":\"fe\"}}}]}]}") "]";
  check (pods_sel, NULL, "ingress", "default/web", "10.42.1.10,10.42.2.10",
         "peer podSelector: pods of the policy's namespace (any node)");
  const char *ns_sel = "[" POL ("default", "n", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
                                                "\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"a\"}}}]}]}") "]";
  check (ns_sel, NULL, "ingress", "default/web", "10.42.2.11", "peer namespaceSelector: all pods of those namespaces");
  const char *both = "[" POL ("default", "b", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
                                              "\"ingress\":[{\"from\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":{\"app\":\"api\"}}}]}]}") "]";
  check (both, NULL, "ingress", "default/web", "10.42.1.12,10.42.2.11",
         "namespaceSelector {} + podSelector: matching pods of every namespace");
  const char *meta = "[" POL ("default", "m", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
                                              "\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"dev\"}}}]}]}") "]";
  check (meta, NULL, "ingress", "default/web", "10.42.1.12", "kubernetes.io/metadata.name is always a namespace label");
  const char *in = "[" POL ("default", "e", "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"web\",\"db\"]}]},"
                                            "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Exists\"}]}}]}]}") "]";
  check (in, NULL, "ingress", "default/db", "10.42.1.10,10.42.2.10", "matchExpressions In / Exists");
  const char *notin = "[" POL ("default", "e", "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"NotIn\",\"values\":[\"web\"]}]},"
                                               "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"DoesNotExist\"}]}}]}]}") "]";
  check (notin, NULL, "ingress", "default/db", "10.42.1.11", "matchExpressions NotIn / DoesNotExist");
  check (notin, NULL, "ingress", "default/web", "-", "NotIn excludes the pod");
  const char *two_peers = "[" POL ("default", "t", "{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},"
                                                   "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}},"
                                                   "{\"ipBlock\":{\"cidr\":\"192.168.0.0/16\",\"except\":[\"192.168.1.0/24\",\"192.168.2.0/24\"]}}],"
                                                   "\"ports\":[{\"port\":5432}]}]}") "]";
  check (two_peers, NULL, "ingress", "default/db",
         "10.42.1.10 tcp/5432 | 192.168.0.0/16 except 192.168.1.0/24,192.168.2.0/24 tcp/5432",
         "peers x ports; ipBlock with except");
}

static void
test_ports (void)
{
  const char *named = "[" POL ("default", "n", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"http\"}]}]}") "]";
  check (named, NULL, "ingress", "default/web", "any tcp/8080", "ingress named port: the target's number");
  check (named, NULL, "ingress", "default/db", "any tcp/9090", "... per target pod");
  const char *udp = "[" POL ("default", "u", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"dns\",\"protocol\":\"UDP\"},{\"port\":\"dns\"}]}]}") "]";
  check (udp, NULL, "ingress", "default/web", "any udp/5353", "named port matches name and protocol");
  const char *range = "[" POL ("default", "r", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":32000,\"endPort\":32768},{\"protocol\":\"SCTP\"}]}]}") "]";
  check (range, NULL, "ingress", "default/web", "any tcp/32000-32768 | any sctp", "endPort range; protocol without port");
  const char *egn = "[" POL ("default", "e", "{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}},\"policyTypes\":[\"Egress\"],"
                                             "\"egress\":[{\"to\":[{\"namespaceSelector\":{}}],\"ports\":[{\"port\":\"http\"}]}]}") "]";
  check (egn, NULL, "egress", "default/client", "10.42.1.10,10.42.2.11 tcp/8080 | 10.42.1.11 tcp/9090 | 10.42.1.12 tcp/7070",
         "egress named port: the destination pods' numbers, grouped");
  const char *egb = "[" POL ("default", "e", "{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}},\"policyTypes\":[\"Egress\"],"
                                             "\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.42.1.0/24\",\"except\":[\"10.42.1.12/32\"]}}],\"ports\":[{\"port\":\"http\"}]}]}") "]";
  check (egb, NULL, "egress", "default/client", "10.42.1.10 tcp/8080 | 10.42.1.11 tcp/9090",
         "egress named port to an ipBlock: the pods inside it");
}

static void
test_node_and_pods (void)
{
  const char *deny = "[" POL ("default", "d", "{\"podSelector\":{}}") "]";
  _cleanup_ (json_decrefp) json_t *m = compile (deny, "n1", NULL);
  ok (json_object_get (json_object_get (m, "ingress"), "default/web") != NULL, "node n1: its pod web is a target");
  ok (json_object_get (json_object_get (m, "ingress"), "default/client") == NULL, "node n1: client (on n2) is not");
  json_t *ips = husk_json_path (json_object_get (json_object_get (m, "ingress"), "default/web"), "ips");
  is_str (json_string_value (json_array_get (ips, 0)), "10.42.1.10", "chain keyed by the pod's address");

  add_pod ("default", "done", "n1", "10.42.1.20", "{\"app\":\"web\"}", NULL);
  json_object_set_new (husk_json_path (json_array_get (pods, json_array_size (pods) - 1), "status"), "phase",
                       json_string ("Succeeded"));
  add_pod ("default", "host", "n1", "10.0.0.1", "{\"app\":\"web\"}", NULL);
  json_object_set_new (husk_json_path (json_array_get (pods, json_array_size (pods) - 1), "spec"), "hostNetwork",
                       json_true ());
  add_pod ("default", "pending", "n1", "", "{\"app\":\"web\"}", NULL);
  const char *web = "[" POL ("default", "w", "{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},"
                                             "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]}]}") "]";
  check (web, NULL, "ingress", "default/db", "10.42.1.10", "finished, hostNetwork and address-less pods are not peers");
  check (deny, NULL, "ingress", "default/done", "-", "... nor targets");
  json_array_remove (pods, json_array_size (pods) - 1);
  json_array_remove (pods, json_array_size (pods) - 1);
  json_array_remove (pods, json_array_size (pods) - 1);
}

static void
test_dual_stack (void)
{
  json_t *p = json_array_get (pods, 1); /* db */
  json_array_append_new (husk_json_path (p, "status.podIPs"), json_pack ("{s:s}", "ip", "fd42::11"));
  const char *pol = "[" POL ("default", "d", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
                                             "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}}}]}]}") "]";
  check (pol, NULL, "ingress", "default/web", "10.42.1.11 | fd42::11", "a set per address family");
  json_array_remove (husk_json_path (p, "status.podIPs"), 1);
}

static void
test_invalid (void)
{
  const char *bad = "[" POL ("default", "bad", "{\"podSelector\":{},\"ingress\":[{\"from\":["
                                               "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Near\"}]}},"
                                               "{\"ipBlock\":{\"cidr\":\"10.1.0.0\"}}]}]}") "]";
  _cleanup_free_ char *w = NULL;
  _cleanup_ (json_decrefp) json_t *m = compile (bad, NULL, &w);
  _cleanup_free_ char *got = rules_of (m, "ingress", "default/web");
  is_str (got, "", "invalid peers match nothing: the pod stays isolated (fail closed)");
  ok (strstr (w, "policy default/bad: spec.ingress[0].from[0].podSelector: matchExpressions[0]: unknown operator \"Near\"") != NULL,
      "warning names the policy, the path and the operator: %s", w);
  ok (strstr (w, "spec.ingress[0].from[1].ipBlock.cidr: \"10.1.0.0\" is not a CIDR") != NULL,
      "warning names a bad CIDR");
  const char *badports = "[" POL ("default", "bp", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":70000},{\"protocol\":\"ICMP\"},{\"port\":90,\"endPort\":80}]}]}") "]";
  _cleanup_free_ char *w2 = NULL;
  _cleanup_ (json_decrefp) json_t *m2 = compile (badports, NULL, &w2);
  _cleanup_free_ char *got2 = rules_of (m2, "ingress", "default/web");
  is_str (got2, "", "invalid ports match nothing");
  ok (strstr (w2, "spec.ingress[0].ports[1].protocol: \"ICMP\"") != NULL, "warning names a bad protocol: %s", w2);
  husk_error *err = NULL;
  cni_np_model *mm = NULL;
  _cleanup_ (json_decrefp) json_t *notlist = json_object ();
  ok (cni_np_compile (notlist, NULL, NULL, NULL, &mm, &err) < 0 && err, "policies not a list: an error");
  husk_error_free (err);
}

int
main (void)
{
  setup ();
  test_basics ();
  test_selectors ();
  test_ports ();
  test_node_and_pods ();
  test_dual_stack ();
  test_invalid ();
  json_decref (pods);
  json_decref (namespaces);
  return tap_done ();
}
