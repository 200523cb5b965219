/* Every filter, with the explanation a user sees when a pod fits nowhere (upstream's words),
   and preemption. */
#include "config.h"

#include "src/master/sched/sched.h"
#include "tests/unit/tap.h"
#include "tests/unit/sched-util.h"

static sched_config cfg = { .percentage_of_nodes_to_score = 100, .seed = 42 };

#define expect(c, pod, want, name)                                                                 \
  do                                                                                               \
    {                                                                                              \
      char *got_ = sched_str ((c), &cfg, (pod));                                                   \
      is_str (got_, (want), (name));                                                               \
      free (got_);                                                                                 \
    }                                                                                              \
  while (0)

static sched_cache *
three_nodes (void)
{
  sched_cache *c = sched_cache_new ();
  add_node (c, mknode ("n1", "1", "4Gi", 110, NULL));
  add_node (c, mknode ("n2", "1", "4Gi", 110, NULL));
  add_node (c, mknode ("n3", "1", "4Gi", 110, NULL));
  return c;
}

static void
test_resources (void)
{
  sched_cache *c = three_nodes ();
  expect (c, mkpod ("big", "2", NULL, NULL),
          "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
          "3 No preemption victims found for incoming pod.",
          "NodeResourcesFit: Insufficient cpu on every node, no victims");
  expect (c, mkpod ("big2", "2", "8Gi", NULL),
          "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory. preemption: 0/3 "
          "nodes are available: 3 No preemption victims found for incoming pod.",
          "NodeResourcesFit: every insufficient resource is a reason");
  bind_pod (c, mkpod ("a", "600m", NULL, NULL), "n1");
  bind_pod (c, mkpod ("b", "600m", NULL, NULL), "n2");
  expect (c, mkpod ("p", "500m", NULL, NULL), "n3", "requests of bound pods count");
  bind_pod (c, mkpod ("c", "600m", NULL, NULL), "n3");
  expect (c, mkpod ("p", "500m", NULL, NULL),
          "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 "
          "No preemption victims found for incoming pod.",
          "full cluster: equal priority pods are not victims");
  sched_cache_remove_pod (c, "default", "b");
  expect (c, mkpod ("p", "500m", NULL, NULL), "n2", "a removed pod frees its node");
  int64_t cpu = 0, mem = 0, pods = 0;
  sched_cache_node_requested (c, "n1", &cpu, &mem, &pods);
  ok (cpu == 600 && pods == 1, "node n1 requested 600m, 1 pod");
  sched_cache_free (c);

  c = sched_cache_new ();
  add_node (c, mknode ("small", "4", "4Gi", 1, NULL));
  bind_pod (c, mkpod ("x", NULL, NULL, NULL), "small");
  expect (c, mkpod ("p", NULL, NULL, NULL),
          "0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No "
          "preemption victims found for incoming pod.",
          "pods capacity: Too many pods");
  add_node (c,
            mknode ("gpu", "4", "4Gi", 10, "{'status':{'allocatable':{'example.com/gpu':'1'}}}"));
  expect (c,
          mkpod ("g", NULL, NULL,
                 "{'spec':{'containers':[{'name':'c','resources':{'requests':{'example.com/"
                 "gpu':'1'}}}]}}"),
          "gpu", "extended resource fits where offered");
  bind_pod (c,
            mkpod ("g0", NULL, NULL,
                   "{'spec':{'containers':[{'name':'c','resources':{'requests':{'example.com/"
                   "gpu':'1'}}}]}}"),
            "gpu");
  expect (c,
          mkpod ("g2", NULL, NULL,
                 "{'spec':{'containers':[{'name':'c','resources':{'requests':{'example.com/"
                 "gpu':'1'}}}]}}"),
          "0/2 nodes are available: 1 Too many pods, 2 Insufficient example.com/gpu. preemption: "
          "0/2 nodes are available: 2 No preemption victims found for incoming pod.",
          "Insufficient <extended resource>");
  expect (c,
          mkpod ("init", "500m", NULL,
                 "{'spec':{'initContainers':[{'name':'i','resources':{'requests':{'cpu':'5'}}}]}}"),
          "0/2 nodes are available: 1 Too many pods, 2 Insufficient cpu. preemption: 0/2 nodes "
          "are available: 2 No preemption victims found for incoming pod.",
          "an init container's request counts");
  sched_cache_free (c);
}

static void
test_node_name_selector_affinity (void)
{
  sched_cache *c = sched_cache_new ();
  add_node (c, mknode ("a", "4", "8Gi", 110,
                       "{'metadata':{'labels':{'disk':'ssd','zone':'z1','gen':'5'}}}"));
  add_node (c, mknode ("b", "4", "8Gi", 110,
                       "{'metadata':{'labels':{'disk':'hdd','zone':'z2','gen':'3'}}}"));
  expect (c, mkpod ("p", NULL, NULL, "{'spec':{'nodeName':'zz'}}"),
          "0/2 nodes are available: 2 node(s) didn't match the requested node name. preemption: "
          "0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
          "NodeName: no such node");
  expect (c, mkpod ("p", NULL, NULL, "{'spec':{'nodeSelector':{'disk':'hdd'}}}"), "b",
          "nodeSelector picks the labelled node");
  expect (c, mkpod ("p", NULL, NULL, "{'spec':{'nodeSelector':{'disk':'nvme'}}}"),
          "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. "
          "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
          "nodeSelector: no match, upstream's message");
  static const struct
  {
    const char *expr, *want, *name;
  } cases[] = {
    { "{'key':'zone','operator':'In','values':['z2','z9']}", "b", "In" },
    { "{'key':'zone','operator':'NotIn','values':['z2']}", "a", "NotIn" },
    { "{'key':'disk','operator':'Exists'}", NULL, "Exists (both: any)" },
    { "{'key':'disk','operator':'DoesNotExist'}", "", "DoesNotExist (none)" },
    { "{'key':'gen','operator':'Gt','values':['4']}", "a", "Gt" },
    { "{'key':'gen','operator':'Lt','values':['4']}", "b", "Lt" },
    { "{'key':'gen','operator':'Gt','values':['x']}", "", "Gt with a non-integer matches nothing" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char buf[512];
      snprintf (
          buf, sizeof buf,
          "{'spec':{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
          "{'nodeSelectorTerms':[{'matchExpressions':[%s]}]}}}}}",
          cases[i].expr);
      char *got = sched_str (c, &cfg, mkpod ("p", NULL, NULL, buf));
      if (!cases[i].want)
        ok (streq (got, "a") || streq (got, "b"), "node affinity %s: %s", cases[i].name, got);
      else if (!*cases[i].want)
        ok (strstr (got, "2 node(s) didn't match Pod's node affinity/selector") != NULL,
            "node affinity %s: %s", cases[i].name, got);
      else
        is_str (got, cases[i].want, cases[i].name);
      free (got);
    }
  expect (
      c,
      mkpod (
          "p", NULL, NULL,
          "{'spec':{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
          "{'nodeSelectorTerms':[{'matchFields':[{'key':'metadata.name','operator':'In','values':['"
          "b']}]}]}}}}}"),
      "b", "matchFields metadata.name");
  expect (
      c,
      mkpod (
          "p", NULL, NULL,
          "{'spec':{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
          "{'nodeSelectorTerms':[{'matchExpressions':[{'key':'zone','operator':'In','values':['z9']"
          "}]},"
          "{'matchExpressions':[{'key':'disk','operator':'In','values':['ssd']}]}]}}}}}"),
      "a", "terms are ORed");
  expect (c,
          mkpod ("p", NULL, NULL,
                 "{'spec':{'nodeSelector':{'disk':'ssd'},'affinity':{'nodeAffinity':{'"
                 "requiredDuringSchedulingIgnoredDuringExecution':"
                 "{'nodeSelectorTerms':[{'matchExpressions':[{'key':'zone','operator':'In','values'"
                 ":['z2']}]}]}}}}}"),
          "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. "
          "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
          "nodeSelector and affinity are ANDed");
  sched_cache_free (c);
}

static void
test_taints (void)
{
  sched_cache *c = three_nodes ();
  add_node (c, mknode ("n1", "1", "4Gi", 110,
                       "{'spec':{'taints':[{'key':'node-role.kubernetes.io/"
                       "control-plane','effect':'NoSchedule'}]}}"));
  add_node (
      c, mknode ("n2", "1", "4Gi", 110,
                 "{'spec':{'taints':[{'key':'dedicated','value':'gpu','effect':'NoExecute'}]}}"));
  add_node (
      c, mknode ("n3", "1", "4Gi", 110,
                 "{'spec':{'taints':[{'key':'soft','value':'x','effect':'PreferNoSchedule'}]}}"));
  expect (c, mkpod ("p", NULL, NULL, NULL), "n3", "PreferNoSchedule does not filter");
  add_node (
      c, mknode ("n3", "1", "4Gi", 110, "{'spec':{'taints':[{'key':'a','effect':'NoSchedule'}]}}"));
  expect (c, mkpod ("p", NULL, NULL, NULL),
          "0/3 nodes are available: 1 node(s) had untolerated taint {a: }, 1 node(s) had "
          "untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint "
          "{node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 3 "
          "Preemption is not helpful for scheduling.",
          "untolerated taints, NoExecute too, in upstream's words");
  expect (c,
          mkpod ("p", NULL, NULL,
                 "{'spec':{'tolerations':[{'key':'dedicated','operator':'Equal','value':'gpu','"
                 "effect':'NoExecute'}]}}"),
          "n2", "Equal toleration with value");
  expect (c,
          mkpod ("p", NULL, NULL,
                 "{'spec':{'tolerations':[{'key':'dedicated','operator':'Equal','value':'cpu'}]}}"),
          "0/3 nodes are available: 1 node(s) had untolerated taint {a: }, 1 node(s) had "
          "untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint "
          "{node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 3 "
          "Preemption is not helpful for scheduling.",
          "Equal toleration with another value does not tolerate");
  expect (c,
          mkpod ("p", NULL, NULL,
                 "{'spec':{'tolerations':[{'key':'dedicated','operator':'Exists','effect':'"
                 "NoSchedule'}]}}"),
          "0/3 nodes are available: 1 node(s) had untolerated taint {a: }, 1 node(s) had "
          "untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint "
          "{node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 3 "
          "Preemption is not helpful for scheduling.",
          "a toleration for another effect does not tolerate");
  expect (c,
          mkpod ("p", NULL, NULL,
                 "{'spec':{'tolerations':[{'key':'node-role.kubernetes.io/"
                 "control-plane','operator':'Exists'}]}}"),
          "n1", "Exists toleration without effect");
  char *got = sched_str (
      c, &cfg, mkpod ("p", NULL, NULL, "{'spec':{'tolerations':[{'operator':'Exists'}]}}"));
  ok (streq (got, "n1") || streq (got, "n2") || streq (got, "n3"),
      "empty key with Exists tolerates everything (%s)", got);
  free (got);
  sched_cache_free (c);
}

static void
test_ports_cordon_conditions (void)
{
  sched_cache *c = sched_cache_new ();
  add_node (c, mknode ("a", "4", "8Gi", 110, NULL));
  const char *hp
      = "{'spec':{'containers':[{'name':'c','ports':[{'containerPort':80,'hostPort':8080}]}]}}";
  bind_pod (c, mkpod ("web1", NULL, NULL, hp), "a");
  expect (c, mkpod ("web2", NULL, NULL, hp),
          "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. "
          "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
          "NodePorts: host port taken");
  expect (c,
          mkpod ("udp", NULL, NULL,
                 "{'spec':{'containers':[{'name':'c','ports':[{'containerPort':80,'hostPort':8080,'"
                 "protocol':'UDP'}]}]}}"),
          "a", "same port, other protocol");
  bind_pod (c,
            mkpod ("ip1", NULL, NULL,
                   "{'spec':{'containers':[{'name':'c','ports':[{'containerPort':1,'hostPort':9000,"
                   "'hostIP':'127.0.0.1'}]}]}}"),
            "a");
  expect (c,
          mkpod ("ip2", NULL, NULL,
                 "{'spec':{'containers':[{'name':'c','ports':[{'containerPort':1,'hostPort':9000,'"
                 "hostIP':'127.0.0.2'}]}]}}"),
          "a", "same port on another host IP");
  expect (
      c,
      mkpod (
          "ip3", NULL, NULL,
          "{'spec':{'containers':[{'name':'c','ports':[{'containerPort':1,'hostPort':9000}]}]}}"),
      "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. "
      "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
      "0.0.0.0 conflicts with a specific IP");

  add_node (c, mknode ("a", "4", "8Gi", 110, "{'spec':{'unschedulable':true}}"));
  expect (c, mkpod ("p", NULL, NULL, NULL),
          "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are "
          "available: 1 Preemption is not helpful for scheduling.",
          "cordoned node");
  expect (c,
          mkpod ("p", NULL, NULL,
                 "{'spec':{'tolerations':[{'key':'node.kubernetes.io/"
                 "unschedulable','operator':'Exists','effect':'NoSchedule'}]}}"),
          "a", "the unschedulable toleration passes a cordon");
  add_node (c, mknode ("a", "4", "8Gi", 110,
                       "{'status':{'conditions':[{'type':'Ready','status':'False'}]}}"));
  expect (
      c, mkpod ("p", NULL, NULL, NULL),
      "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. "
      "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
      "Ready=False node");
  add_node (c, mknode ("a", "4", "8Gi", 110,
                       "{'status':{'conditions':[{'type':'Ready','status':'Unknown'}]}}"));
  expect (c, mkpod ("p", NULL, NULL, NULL),
          "0/1 nodes are available: 1 node(s) had untolerated taint "
          "{node.kubernetes.io/unreachable: }. "
          "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
          "Ready=Unknown node");
  expect (c,
          mkpod ("p", NULL, NULL,
                 "{'spec':{'tolerations':[{'key':'node.kubernetes.io/"
                 "unreachable','operator':'Exists'}]}}"),
          "a", "tolerating unreachable");
  int64_t cpu = 0, mem = 0, pods = 0;
  ok (sched_cache_node_requested (c, "a", &cpu, &mem, &pods) == 0 && pods == 2,
      "updating a node keeps its pods (%lld)", (long long)pods);
  sched_cache_remove_node (c, "a");
  expect (c, mkpod ("p", NULL, NULL, NULL), "no nodes available to schedule pods", "no nodes");
  sched_cache_free (c);
}

static sched_cache *
zones (void)
{
  sched_cache *c = sched_cache_new ();
  add_node (c, mknode ("a1", "4", "8Gi", 110, "{'metadata':{'labels':{'zone':'a'}}}"));
  add_node (c, mknode ("a2", "4", "8Gi", 110, "{'metadata':{'labels':{'zone':'a'}}}"));
  add_node (c, mknode ("b1", "4", "8Gi", 110, "{'metadata':{'labels':{'zone':'b'}}}"));
  return c;
}

static void
test_pod_affinity (void)
{
  sched_cache *c = zones ();
  const char *aff = "{'metadata':{'labels':{'app':'web'}},'spec':{'affinity':{'podAffinity':{'"
                    "requiredDuringSchedulingIgnoredDuringExecution':"
                    "[{'labelSelector':{'matchLabels':{'app':'db'}},'topologyKey':'zone'}]}}}}";
  expect (c, mkpod ("w", NULL, NULL, aff),
          "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. preemption: 0/3 "
          "nodes are available: 3 Preemption is not helpful for scheduling.",
          "pod affinity with no matching pod anywhere");
  bind_pod (c, mkpod ("db", NULL, NULL, "{'metadata':{'labels':{'app':'db'}}}"), "b1");
  expect (c, mkpod ("w", NULL, NULL, aff), "b1", "pod affinity follows the db's zone");
  bind_pod (c, mkpod ("other", NULL, NULL, "{'metadata':{'namespace':'x','labels':{'app':'db'}}}"),
            "a1");
  expect (c, mkpod ("w", NULL, NULL, aff), "b1", "pods of other namespaces do not count");
  const char *self = "{'metadata':{'labels':{'app':'cache'}},'spec':{'affinity':{'podAffinity':{'"
                     "requiredDuringSchedulingIgnoredDuringExecution':"
                     "[{'labelSelector':{'matchLabels':{'app':'cache'}},'topologyKey':'zone'}]}}}}";
  char *got = sched_str (c, &cfg, mkpod ("c1", NULL, NULL, self));
  ok (!strncmp (got, "a", 1) || !strncmp (got, "b", 1),
      "first pod of a self-affine group goes anywhere (%s)", got);
  free (got);

  const char *anti = "{'metadata':{'labels':{'app':'web'}},'spec':{'affinity':{'podAntiAffinity':{'"
                     "requiredDuringSchedulingIgnoredDuringExecution':"
                     "[{'labelSelector':{'matchLabels':{'app':'web'}},'topologyKey':'kubernetes.io/"
                     "hostname'}]}}}}";
  bind_pod (c, mkpod ("w1", NULL, NULL, anti), "a1");
  bind_pod (c, mkpod ("w2", NULL, NULL, anti), "a2");
  expect (c, mkpod ("w3", NULL, NULL, anti), "b1", "anti-affinity spreads over hostnames");
  bind_pod (c, mkpod ("w3", NULL, NULL, anti), "b1");
  expect (c, mkpod ("w4", NULL, NULL, anti),
          "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: "
          "0/3 nodes are available: 3 No preemption victims found for incoming pod.",
          "anti-affinity: every host taken");
  expect (c, mkpod ("plain", NULL, NULL, "{'metadata':{'labels':{'app':'web'}}}"),
          "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules. "
          "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
          "existing pods' anti-affinity keeps a matching pod away");
  got = sched_str (c, &cfg, mkpod ("plain2", NULL, NULL, "{'metadata':{'labels':{'app':'api'}}}"));
  ok (got[0] == 'a' || got[0] == 'b', "a pod the anti-affinity does not select schedules (%s)",
      got);
  free (got);
  sched_cache_free (c);
}

static void
test_spread (void)
{
  sched_cache *c = zones ();
  add_node (c, mknode ("nolabel", "4", "8Gi", 110, NULL));
  const char *sp
      = "{'metadata':{'labels':{'app':'s'}},'spec':{'topologySpreadConstraints':[{'maxSkew':1,'"
        "topologyKey':'zone',"
        "'whenUnsatisfiable':'DoNotSchedule','labelSelector':{'matchLabels':{'app':'s'}}}]}}";
  bind_pod (c, mkpod ("s1", NULL, NULL, "{'metadata':{'labels':{'app':'s'}}}"), "a1");
  bind_pod (c, mkpod ("s2", NULL, NULL, "{'metadata':{'labels':{'app':'s'}}}"), "a2");
  bind_pod (c, mkpod ("s3", NULL, NULL, "{'metadata':{'labels':{'app':'s'}}}"), "b1");
  expect (c, mkpod ("s4", NULL, NULL, sp), "b1", "zone b has fewer pods: skew 1 allows only b");
  bind_pod (c, mkpod ("s4", NULL, NULL, "{'metadata':{'labels':{'app':'s'}}}"), "b1");
  bind_pod (c, mkpod ("s5", NULL, NULL, "{'metadata':{'labels':{'app':'s'}}}"), "b1");
  char *got = sched_str (c, &cfg, mkpod ("s6", NULL, NULL, sp));
  ok (got[0] == 'a', "then zone a (%s)", got);
  free (got);
  const char *sp0
      = "{'metadata':{'labels':{'app':'s'}},'spec':{'nodeSelector':{'zone':'b'},'"
        "topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone',"
        "'whenUnsatisfiable':'DoNotSchedule','labelSelector':{'matchLabels':{'app':'s'}}}]}}";
  bind_pod (c, mkpod ("s6", NULL, NULL, "{'metadata':{'labels':{'app':'s'}}}"), "a1");
  bind_pod (c, mkpod ("s7", NULL, NULL, "{'metadata':{'labels':{'app':'s'}}}"), "a2");
  /* a: 4, b: 3 -> b is allowed (3+1-3 = 1); with nodeSelector zone=b only b counts: skew 1 */
  expect (c, mkpod ("s8", NULL, NULL, sp0), "b1", "nodeSelector narrows the domains (Honor)");
  bind_pod (c, mkpod ("s8", NULL, NULL, "{'metadata':{'labels':{'app':'s'}}}"), "b1");
  bind_pod (c, mkpod ("s9", NULL, NULL, "{'metadata':{'labels':{'app':'s'}}}"), "a1");
  /* a: 5, b: 4; b1 is tainted but still counts as a domain (nodeTaintsPolicy Ignore) */
  add_node (c, mknode ("b1", "4", "8Gi", 110,
                       "{'metadata':{'labels':{'zone':'b'}},'spec':{'taints':[{'key':'t','effect':'"
                       "NoSchedule'}]}}"));
  expect (c, mkpod ("s10", NULL, NULL, sp),
          "0/4 nodes are available: 1 node(s) didn't match pod topology spread constraints "
          "(missing required label), 1 node(s) had untolerated taint {t: }, 2 node(s) didn't match "
          "pod topology spread constraints. preemption: 0/4 nodes are available: 2 No preemption "
          "victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
          "topology spread: skew and missing label, in upstream's words");
  const char *soft
      = "{'metadata':{'labels':{'app':'s'}},'spec':{'topologySpreadConstraints':[{'maxSkew':1,'"
        "topologyKey':'zone',"
        "'whenUnsatisfiable':'ScheduleAnyway','labelSelector':{'matchLabels':{'app':'s'}}}]}}";
  got = sched_str (c, &cfg, mkpod ("s11", NULL, NULL, soft));
  ok (streq (got, "a1") || streq (got, "a2") || streq (got, "nolabel"),
      "ScheduleAnyway does not filter (%s)", got);
  free (got);
  sched_cache_free (c);
}

static void
test_preemption (void)
{
  sched_cache *c = sched_cache_new ();
  add_node (c, mknode ("a", "4", "8Gi", 110, NULL));
  add_node (c, mknode ("b", "4", "8Gi", 110, NULL));
  bind_pod (c, mkpod ("a-high", "2", NULL, "{'spec':{'priority':5}}"), "a");
  bind_pod (c, mkpod ("a-low", "2", NULL, "{'spec':{'priority':5}}"), "a");
  bind_pod (c, mkpod ("b-1", "2", NULL, "{'spec':{'priority':1}}"), "b");
  bind_pod (c, mkpod ("b-2", "1", NULL, "{'spec':{'priority':0}}"), "b");
  bind_pod (c, mkpod ("b-3", "1", NULL, "{'spec':{'priority':0}}"), "b");
  sched_result r;
  json_t *p = mkpod ("vip", "1", NULL, "{'spec':{'priority':10}}");
  ok (sched_schedule (c, &cfg, p, &r, NULL) == 0 && !r.node, "a full cluster: no node");
  is_str (r.nominated_node, "b",
          "preemption picks the node whose victims have the lowest priority");
  ok (r.n_victims == 1 && streq (r.victims[0], "default/b-3"),
      "one victim: the least important pod that makes room (%zu: %s)", r.n_victims,
      r.n_victims ? r.victims[0] : "-");
  is_str (r.message, "0/2 nodes are available: 2 Insufficient cpu.",
          "the FitError still explains the failed cycle");
  sched_result_clear (&r);
  json_decref (p);

  p = mkpod ("vip2", "3", NULL, "{'spec':{'priority':10}}");
  ok (sched_schedule (c, &cfg, p, &r, NULL) == 0 && r.nominated_node
          && streq (r.nominated_node, "b") && r.n_victims == 2,
      "a larger pod needs two victims (%zu)", r.n_victims);
  ok (r.n_victims == 2 && strstr (r.victims[0], "b-") && strstr (r.victims[1], "b-")
          && !(streq (r.victims[0], "default/b-1") && streq (r.victims[1], "default/b-1")),
      "victims: %s %s", r.n_victims > 0 ? r.victims[0] : "-", r.n_victims > 1 ? r.victims[1] : "-");
  sched_result_clear (&r);
  json_decref (p);

  /* After the victim is gone, the nominated pod returns to its node even if another node
     would score higher. */
  sched_cache_remove_pod (c, "default", "b-3");
  add_node (c, mknode ("empty", "4", "8Gi", 110, NULL));
  expect (c,
          mkpod ("vip", "1", NULL, "{'spec':{'priority':10},'status':{'nominatedNodeName':'b'}}"),
          "b", "a nominated pod goes to its nominated node once it fits");
  expect (c, mkpod ("vip", "1", NULL, "{'spec':{'priority':10}}"), "empty",
          "without the nomination the emptiest node wins");
  sched_cache_remove_node (c, "empty");
  bind_pod (c, mkpod ("b-3", "1", NULL, "{'spec':{'priority':0}}"), "b");
  expect (c, mkpod ("never", "1", NULL, "{'spec':{'priority':10,'preemptionPolicy':'Never'}}"),
          "0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to "
          "preemptionPolicy=Never.",
          "preemptionPolicy Never");
  expect (c, mkpod ("huge", "6", NULL, "{'spec':{'priority':10}}"),
          "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 "
          "Insufficient cpu.",
          "removing every lower-priority pod is not enough");
  sched_cache_free (c);

  /* Victims that block by anti-affinity, not by resources. */
  c = sched_cache_new ();
  add_node (c, mknode ("a", "4", "8Gi", 110, NULL));
  bind_pod (
      c,
      mkpod ("web-low", NULL, NULL, "{'metadata':{'labels':{'app':'web'}},'spec':{'priority':1}}"),
      "a");
  bind_pod (
      c, mkpod ("other", NULL, NULL, "{'metadata':{'labels':{'app':'x'}},'spec':{'priority':1}}"),
      "a");
  p = mkpod (
      "web-high", NULL, NULL,
      "{'metadata':{'labels':{'app':'web'}},'spec':{'priority':100,'affinity':{'podAntiAffinity':"
      "{'requiredDuringSchedulingIgnoredDuringExecution':[{'labelSelector':{'matchLabels':{'app':'"
      "web'}},"
      "'topologyKey':'kubernetes.io/hostname'}]}}}}");
  ok (sched_schedule (c, &cfg, p, &r, NULL) == 0 && r.nominated_node
          && streq (r.nominated_node, "a") && r.n_victims == 1
          && streq (r.victims[0], "default/web-low"),
      "anti-affinity: the conflicting lower-priority pod is the only victim (%zu: %s)", r.n_victims,
      r.n_victims ? r.victims[0] : r.message);
  sched_result_clear (&r);
  json_decref (p);
  bind_pod (c,
            mkpod ("guard", NULL, NULL,
                   "{'spec':{'priority':1,'affinity':{'podAntiAffinity':{'"
                   "requiredDuringSchedulingIgnoredDuringExecution':"
                   "[{'labelSelector':{'matchLabels':{'tier':'db'}},'topologyKey':'kubernetes.io/"
                   "hostname'}]}}}}"),
            "a");
  p = mkpod ("db", NULL, NULL, "{'metadata':{'labels':{'tier':'db'}},'spec':{'priority':100}}");
  ok (sched_schedule (c, &cfg, p, &r, NULL) == 0 && r.nominated_node && r.n_victims == 1
          && streq (r.victims[0], "default/guard"),
      "existing pod's anti-affinity: that pod is the victim (%zu: %s)", r.n_victims,
      r.n_victims ? r.victims[0] : r.message);
  sched_result_clear (&r);
  json_decref (p);
  sched_cache_free (c);

  c = sched_cache_new ();
  add_node (c, mknode ("cp", "4", "8Gi", 110,
                       "{'spec':{'taints':[{'key':'node-role.kubernetes.io/"
                       "control-plane','effect':'NoSchedule'}]}}"));
  add_node (c, mknode ("w1", "1", "8Gi", 110, NULL));
  add_node (c, mknode ("w2", "1", "8Gi", 110, NULL));
  expect (
      c, mkpod ("p", "2", NULL, NULL),
      "0/3 nodes are available: 1 node(s) had untolerated taint "
      "{node-role.kubernetes.io/control-plane: }, "
      "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
      "scheduling, 2 No preemption victims found for incoming pod.",
      "the issue's example: reasons sorted with counts, preemption summary");
  sched_cache_free (c);
}

static void
test_volumes (void)
{
  sched_cache *c = sched_cache_new ();
  add_node (c, mknode ("n1", "4", "8Gi", 110, NULL));
  add_node (c, mknode ("n2", "4", "8Gi", 110, NULL));
  add_node (c, mknode ("n3", "4", "8Gi", 110, NULL));
  const char *vol
      = "{'spec':{'volumes':[{'name':'v','persistentVolumeClaim':{'claimName':'data'}}]}}";
  expect (
      c, mkpod ("p", NULL, NULL, vol),
      "0/3 nodes are available: persistentvolumeclaim \"data\" not found. preemption: 0/3 nodes "
      "are available: 3 Preemption is not helpful for scheduling.",
      "VolumeBinding: a missing claim, upstream's PreFilter message");
  json_t *x = J ("{'metadata':{'name':'local-path'},'provisioner':'husk.io/"
                 "local-path','volumeBindingMode':'WaitForFirstConsumer'}");
  sched_cache_set_storage_class (c, x, NULL);
  json_decref (x);
  x = J ("{'metadata':{'name':'slow'},'provisioner':'x.io/nfs','volumeBindingMode':'Immediate'}");
  sched_cache_set_storage_class (c, x, NULL);
  json_decref (x);
  x = J ("{'metadata':{'name':'data','namespace':'default'},'spec':{'storageClassName':'slow'}}");
  sched_cache_set_pvc (c, x, NULL);
  json_decref (x);
  expect (
      c, mkpod ("p", NULL, NULL, vol),
      "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 "
      "nodes are available: 3 Preemption is not helpful for scheduling.",
      "an unbound Immediate claim blocks scheduling");
  x = J ("{'metadata':{'name':'data','namespace':'default'},'spec':{'storageClassName':'local-path'"
         "}}");
  sched_cache_set_pvc (c, x, NULL);
  json_decref (x);
  char *got = sched_str (c, &cfg, mkpod ("p", NULL, NULL, vol));
  ok (got[0] == 'n', "WaitForFirstConsumer with a provisioner: any node (%s)", got);
  free (got);
  x = J ("{'metadata':{'name':'data','namespace':'default'},'spec':{'storageClassName':'local-path'"
         ",'volumeName':'pv-1'}}");
  sched_cache_set_pvc (c, x, NULL);
  json_decref (x);
  expect (
      c, mkpod ("p", NULL, NULL, vol),
      "0/3 nodes are available: 3 node(s) unavailable due to one or more pvc(s) bound to "
      "non-existent pv(s). preemption: 0/3 nodes are available: 3 Preemption is not helpful for "
      "scheduling.",
      "a claim bound to a missing PV");
  x = J ("{'metadata':{'name':'pv-1'},'spec':{'nodeAffinity':{'required':{'nodeSelectorTerms':[{'"
         "matchExpressions':"
         "[{'key':'kubernetes.io/hostname','operator':'In','values':['n2']}]}]}}}}");
  sched_cache_set_pv (c, x, NULL);
  json_decref (x);
  expect (c, mkpod ("p", NULL, NULL, vol), "n2", "a local PV pins the pod to its node");
  add_node (c, mknode ("n2", "4", "8Gi", 110, "{'spec':{'unschedulable':true}}"));
  expect (
      c, mkpod ("p", NULL, NULL, vol),
      "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had volume node affinity "
      "conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
      "volume node affinity conflict, upstream's words");
  sched_cache_remove_pv (c, "pv-1");

  /* no provisioner: a static PV on the node, big enough, with the access mode */
  x = J ("{'metadata':{'name':'local'},'provisioner':'kubernetes.io/"
         "no-provisioner','volumeBindingMode':'WaitForFirstConsumer'}");
  sched_cache_set_storage_class (c, x, NULL);
  json_decref (x);
  x = J ("{'metadata':{'name':'data','namespace':'default'},'spec':{'storageClassName':'local','"
         "accessModes':['ReadWriteOnce'],"
         "'resources':{'requests':{'storage':'5Gi'}}}}");
  sched_cache_set_pvc (c, x, NULL);
  json_decref (x);
  x = J ("{'metadata':{'name':'small-on-n1'},'spec':{'storageClassName':'local','capacity':{'"
         "storage':'1Gi'},'accessModes':['ReadWriteOnce'],"
         "'nodeAffinity':{'required':{'nodeSelectorTerms':[{'matchFields':[{'key':'metadata.name','"
         "operator':'In','values':['n1']}]}]}}},"
         "'status':{'phase':'Available'}}");
  sched_cache_set_pv (c, x, NULL);
  json_decref (x);
  x = J ("{'metadata':{'name':'big-on-n3'},'spec':{'storageClassName':'local','capacity':{'storage'"
         ":'10Gi'},'accessModes':['ReadWriteOnce'],"
         "'nodeAffinity':{'required':{'nodeSelectorTerms':[{'matchFields':[{'key':'metadata.name','"
         "operator':'In','values':['n3']}]}]}}},"
         "'status':{'phase':'Available'}}");
  sched_cache_set_pv (c, x, NULL);
  json_decref (x);
  expect (c, mkpod ("p", NULL, NULL, vol), "n3", "a static PV large enough decides the node");
  sched_cache_remove_pv (c, "big-on-n3");
  expect (c, mkpod ("p", NULL, NULL, vol),
          "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't find available "
          "persistent volumes to bind. preemption: 0/3 nodes are available: 3 Preemption is not "
          "helpful for scheduling.",
          "no suitable static PV");
  sched_cache_free (c);
}

static void
daemon_is (const char *node_extra, const char *pod_extra, bool run, bool cont, const char *name)
{
  json_t *n = mknode ("d", "1", "1Gi", 10, node_extra);
  json_t *p = mkpod ("ds-pod", NULL, NULL, pod_extra);
  bool r = !run, k = !cont;
  int ret = sched_daemon_fits (n, p, &r, &k, NULL);
  ok (ret == 0 && r == run && k == cont, "DaemonSet: %s (run %d continue %d)", name, r, k);
  json_decref (n);
  json_decref (p);
}

static void
test_daemon (void)
{
  daemon_is (NULL, NULL, true, true, "a plain node runs it");
  daemon_is ("{'status':{'allocatable':{'cpu':'0'}}}",
             "{'spec':{'containers':[{'name':'c','resources':{'requests':{'cpu':'2'}}}]}}", true,
             true, "resources are not considered");
  daemon_is (NULL, "{'spec':{'nodeSelector':{'role':'edge'}}}", false, false,
             "nodeSelector mismatch");
  daemon_is ("{'metadata':{'labels':{'role':'edge'}}}", "{'spec':{'nodeSelector':{'role':'edge'}}}",
             true, true, "nodeSelector match");
  daemon_is (
      "{'spec':{'taints':[{'key':'node-role.kubernetes.io/control-plane','effect':'NoSchedule'}]}}",
      NULL, false, true, "NoSchedule taint: no new pod, a running one stays");
  daemon_is ("{'spec':{'taints':[{'key':'gone','effect':'NoExecute'}]}}", NULL, false, false,
             "NoExecute taint: evicted");
  daemon_is ("{'spec':{'taints':[{'key':'node.kubernetes.io/"
             "unreachable','effect':'NoExecute'}],'unschedulable':true}}",
             NULL, true, true, "daemon pods tolerate unreachable and cordons");
  daemon_is ("{'spec':{'taints':[{'key':'node.kubernetes.io/"
             "network-unavailable','effect':'NoSchedule'}]}}",
             NULL, false, true, "network-unavailable: only hostNetwork pods");
  daemon_is ("{'spec':{'taints':[{'key':'node.kubernetes.io/"
             "network-unavailable','effect':'NoSchedule'}]}}",
             "{'spec':{'hostNetwork':true}}", true, true, "network-unavailable with hostNetwork");
  daemon_is ("{'spec':{'taints':[{'key':'gpu','value':'yes','effect':'NoSchedule'}]}}",
             "{'spec':{'tolerations':[{'key':'gpu','operator':'Equal','value':'yes'}]}}", true,
             true, "the template's own tolerations");
}

int
main (void)
{
  test_daemon ();
  test_volumes ();
  test_resources ();
  test_node_name_selector_affinity ();
  test_taints ();
  test_ports_cordon_conditions ();
  test_pod_affinity ();
  test_spread ();
  test_preemption ();
  return tap_done ();
}
