/* Scores: LeastAllocated, MostAllocated, BalancedAllocation, ImageLocality, preferred node
   affinity, PreferNoSchedule taints, preferred pod affinity, soft topology spread; their
   values (upstream's formulas) and the node they make the scheduler pick. */
#include "config.h"

#include "src/master/sched/sched-internal.h"
#include "tests/unit/tap.h"
#include "tests/unit/sched-util.h"

static sched_config spread_cfg = { .percentage_of_nodes_to_score = 100, .seed = 7 };
static sched_config pack_cfg
    = { .strategy = SCHED_MOST_ALLOCATED, .percentage_of_nodes_to_score = 100, .seed = 7 };

static sched_pod *
parsed (json_t *obj)
{
  sched_pod *p = NULL;
  if (sched_pod_parse (obj, &p, NULL) < 0)
    {
      printf ("Bail out! pod parse\n");
      exit (2);
    }
  json_decref (obj);
  return p;
}

static sched_node *
node_of (sched_cache *c, const char *name)
{
  return sched_map_get (c->node_by_name, name);
}

#define pick(c, cfg, pod, want, name)                                                              \
  do                                                                                               \
    {                                                                                              \
      char *got_ = sched_str ((c), (cfg), (pod));                                                  \
      is_str (got_, (want), (name));                                                               \
      free (got_);                                                                                 \
    }                                                                                              \
  while (0)

static void
test_resources (void)
{
  sched_cache *c = sched_cache_new ();
  add_node (c, mknode ("empty", "4", "16Gi", 110, NULL));
  add_node (c, mknode ("half", "4", "16Gi", 110, NULL));
  bind_pod (c, mkpod ("x", "2", "8Gi", NULL), "half");
  sched_pod *p = parsed (mkpod ("p", "1", "4Gi", NULL));
  is_int (sched_score_resources (&spread_cfg, p, node_of (c, "empty")), 75,
          "LeastAllocated: (4-1)/4 cpu and (16-4)/16 memory = 75");
  is_int (sched_score_resources (&spread_cfg, p, node_of (c, "half")), 25,
          "LeastAllocated on a half-full node = 25");
  is_int (sched_score_resources (&pack_cfg, p, node_of (c, "empty")), 25, "MostAllocated = 25");
  is_int (sched_score_resources (&pack_cfg, p, node_of (c, "half")), 75,
          "MostAllocated half-full = 75");
  sched_pod_free (p);
  pick (c, &spread_cfg, mkpod ("p", "1", "4Gi", NULL), "empty", "spread picks the emptier node");
  pick (c, &pack_cfg, mkpod ("p", "1", "4Gi", NULL), "half", "bin packing picks the fuller node");

  /* Pods without requests score with 100m / 200Mi (non-zero defaults). */
  sched_pod *z = parsed (mkpod ("z", NULL, NULL, NULL));
  ok (z->nz_cpu == 100 && z->nz_mem == 200LL << 20, "non-zero defaults 100m and 200Mi");
  is_int (sched_score_resources (&pack_cfg, z, node_of (c, "empty")),
          (100 * 100 / 4000 + (200LL << 20) * 100 / (16LL << 30)) / 2,
          "MostAllocated counts the non-zero defaults");
  sched_pod_free (z);

  sched_pod *b = parsed (mkpod ("b", "2", "4Gi", NULL));
  is_int (sched_score_balanced (b, node_of (c, "empty")), 87,
          "BalancedAllocation: cpu 0.5, memory 0.25 -> (1 - 0.125) * 100");
  is_int (sched_score_balanced (b, node_of (c, "half")), 87,
          "BalancedAllocation on the half node: cpu 1.0, memory 0.75 -> 87");
  sched_pod_free (b);
  sched_pod *even = parsed (mkpod ("e", "1", "4Gi", NULL));
  is_int (sched_score_balanced (even, node_of (c, "empty")), 100, "balanced use scores 100");
  sched_pod_free (even);
  sched_cache_free (c);

  /* Bin packing across three nodes fills one before the next. */
  c = sched_cache_new ();
  add_node (c, mknode ("a", "4", "16Gi", 110, NULL));
  add_node (c, mknode ("b", "4", "16Gi", 110, NULL));
  add_node (c, mknode ("c", "4", "16Gi", 110, NULL));
  bind_pod (c, mkpod ("seed", "1", "1Gi", NULL), "b");
  int on_b = 0;
  for (int i = 0; i < 3; i++)
    {
      char name[16];
      snprintf (name, sizeof name, "p%d", i);
      char *got = sched_str (c, &pack_cfg, mkpod (name, "1", "1Gi", NULL));
      on_b += streq (got, "b");
      bind_pod (c, mkpod (name, "1", "1Gi", NULL), got);
      free (got);
    }
  is_int (on_b, 3, "MostAllocated puts every pod on the fullest node that fits");
  sched_cache_free (c);
}

static void
test_image_locality (void)
{
  sched_cache *c = sched_cache_new ();
  add_node (c, mknode ("has", "4", "16Gi", 110,
                       "{'status':{'images':[{'names':['docker.io/library/"
                       "nginx:1.25'],'sizeBytes':524288000}]}}"));
  add_node (c, mknode ("not", "4", "16Gi", 110, NULL));
  sched_pod *p = parsed (
      mkpod ("p", NULL, NULL, "{'spec':{'containers':[{'name':'c','image':'nginx:1.25'}]}}"));
  /* 500 MiB x (1 of 2 nodes) = 250 MiB; (250 - 23) * 100 / (1000 - 23) = 23 */
  is_int (sched_score_image_locality (c, p, node_of (c, "has")), 23,
          "ImageLocality: size scaled by spread, thresholds 23 MB..1000 MB");
  is_int (sched_score_image_locality (c, p, node_of (c, "not")), 0, "no image, no score");
  sched_pod_free (p);
  pick (c, &spread_cfg,
        mkpod ("p", NULL, NULL, "{'spec':{'containers':[{'name':'c','image':'nginx:1.25'}]}}"),
        "has", "the node holding the image wins a tie");
  sched_cache_free (c);
}

static void
test_affinity_taints (void)
{
  sched_cache *c = sched_cache_new ();
  add_node (c, mknode ("ssd", "4", "16Gi", 110, "{'metadata':{'labels':{'disk':'ssd'}}}"));
  add_node (c, mknode ("hdd", "4", "16Gi", 110, "{'metadata':{'labels':{'disk':'hdd'}}}"));
  add_node (
      c, mknode ("soft", "4", "16Gi", 110,
                 "{'spec':{'taints':[{'key':'spot','value':'yes','effect':'PreferNoSchedule'}]}}"));
  const char *pref
      = "{'spec':{'affinity':{'nodeAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':["
        "{'weight':80,'preference':{'matchExpressions':[{'key':'disk','operator':'In','values':['"
        "ssd']}]}},"
        "{'weight':20,'preference':{'matchExpressions':[{'key':'disk','operator':'Exists'}]}}]}}}}";
  sched_pod *p = parsed (mkpod ("p", NULL, NULL, pref));
  is_int (sched_score_node_affinity_raw (p, node_of (c, "ssd")), 100,
          "preferred weights add up (80+20)");
  is_int (sched_score_node_affinity_raw (p, node_of (c, "hdd")), 20, "one preference matched");
  int64_t s[3] = { 100, 20, 0 };
  sched_score_normalize_default (s, 3, false);
  ok (s[0] == 100 && s[1] == 20 && s[2] == 0, "DefaultNormalizeScore scales to the max");
  sched_pod_free (p);
  pick (c, &spread_cfg, mkpod ("p", NULL, NULL, pref), "ssd", "preferred node affinity picks ssd");

  sched_pod *q = parsed (mkpod ("q", NULL, NULL, NULL));
  is_int (sched_score_taint_raw (q, node_of (c, "soft")), 1,
          "one untolerated PreferNoSchedule taint");
  sched_pod_free (q);
  sched_pod *t = parsed (mkpod (
      "t", NULL, NULL,
      "{'spec':{'tolerations':[{'key':'spot','operator':'Exists','effect':'PreferNoSchedule'}]}}"));
  is_int (sched_score_taint_raw (t, node_of (c, "soft")), 0, "tolerated PreferNoSchedule taint");
  sched_pod_free (t);
  int64_t r[2] = { 1, 0 };
  sched_score_normalize_default (r, 2, true);
  ok (r[0] == 0 && r[1] == 100, "reverse normalization: fewer taints score higher");
  /* Avoiding "soft": with 2 of 3 nodes fine, run a few pods and never land on soft. */
  int on_soft = 0;
  for (int i = 0; i < 6; i++)
    {
      char *got = sched_str (c, &spread_cfg, mkpod ("x", NULL, NULL, NULL));
      on_soft += streq (got, "soft");
      free (got);
    }
  is_int (on_soft, 0, "PreferNoSchedule taint keeps pods away while other nodes are as good");
  int64_t with, without;
  json_t *y = mkpod ("y", NULL, NULL, NULL);
  ok (sched_score_node (c, &spread_cfg, y, "soft", &with, NULL) == 0
          && sched_score_node (c, &spread_cfg, y, "hdd", &without, NULL) == 0
          && without - with == 3 * 100,
      "TaintToleration weighs 3 (hdd %lld, soft %lld)", (long long)without, (long long)with);
  json_decref (y);
  sched_cache_free (c);
}

static void
test_interpod_spread (void)
{
  sched_cache *c = sched_cache_new ();
  add_node (c, mknode ("a1", "4", "16Gi", 110, "{'metadata':{'labels':{'zone':'a'}}}"));
  add_node (c, mknode ("b1", "4", "16Gi", 110, "{'metadata':{'labels':{'zone':'b'}}}"));
  bind_pod (c, mkpod ("cache", NULL, NULL, "{'metadata':{'labels':{'app':'cache'}}}"), "b1");
  pick (
      c, &spread_cfg,
      mkpod (
          "w", NULL, NULL,
          "{'spec':{'affinity':{'podAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':["
          "{'weight':50,'podAffinityTerm':{'labelSelector':{'matchLabels':{'app':'cache'}},'"
          "topologyKey':'zone'}}]}}}}"),
      "b1", "preferred pod affinity: near the cache");
  pick (c, &spread_cfg,
        mkpod ("w", NULL, NULL,
               "{'spec':{'affinity':{'podAntiAffinity':{'"
               "preferredDuringSchedulingIgnoredDuringExecution':["
               "{'weight':50,'podAffinityTerm':{'labelSelector':{'matchLabels':{'app':'cache'}},'"
               "topologyKey':'zone'}}]}}}}"),
        "a1", "preferred pod anti-affinity: away from the cache");
  /* Existing pods' terms count too (symmetry): a pod that prefers web pods near it draws them,
     even to the busier node (a1 gets 1 cpu and 4Gi of ballast). */
  bind_pod (c, mkpod ("ballast", "1", "4Gi", NULL), "a1");
  bind_pod (
      c,
      mkpod (
          "lover", NULL, NULL,
          "{'spec':{'affinity':{'podAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':["
          "{'weight':100,'podAffinityTerm':{'labelSelector':{'matchLabels':{'app':'web'}},'"
          "topologyKey':'zone'}}]}}}}"),
      "a1");
  pick (c, &spread_cfg, mkpod ("web", NULL, NULL, "{'metadata':{'labels':{'app':'web'}}}"), "a1",
        "an existing pod's preferred affinity attracts the matching pod");
  sched_cache_remove_pod (c, "default", "lover");
  bind_pod (c,
            mkpod ("hater", NULL, NULL,
                   "{'spec':{'affinity':{'podAntiAffinity':{'"
                   "preferredDuringSchedulingIgnoredDuringExecution':["
                   "{'weight':100,'podAffinityTerm':{'labelSelector':{'matchLabels':{'app':'api'}},"
                   "'topologyKey':'zone'}}]}}}}"),
            "b1");
  pick (c, &spread_cfg, mkpod ("api", NULL, NULL, "{'metadata':{'labels':{'app':'api'}}}"), "a1",
        "an existing pod's preferred anti-affinity repels the matching pod");
  sched_cache_remove_pod (c, "default", "hater");
  sched_cache_remove_pod (c, "default", "ballast");
  bind_pod (c, mkpod ("s1", NULL, NULL, "{'metadata':{'labels':{'app':'s'}}}"), "a1");
  bind_pod (c, mkpod ("s2", NULL, NULL, "{'metadata':{'labels':{'app':'s'}}}"), "a1");
  pick (c, &spread_cfg,
        mkpod (
            "s3", NULL, NULL,
            "{'metadata':{'labels':{'app':'s'}},'spec':{'topologySpreadConstraints':[{'maxSkew':1,'"
            "topologyKey':'zone',"
            "'whenUnsatisfiable':'ScheduleAnyway','labelSelector':{'matchLabels':{'app':'s'}}}]}}"),
        "b1", "ScheduleAnyway spread prefers the emptier zone");
  sched_cache_free (c);
}

static void
test_window (void)
{
  sched_cache *c = sched_cache_new ();
  for (int i = 0; i < 300; i++)
    {
      char name[16];
      snprintf (name, sizeof name, "n%03d", i);
      add_node (c, mknode (name, "4", "16Gi", 110, NULL));
    }
  sched_config adaptive = { .seed = 1 };
  sched_result r;
  json_t *p = mkpod ("p", "100m", NULL, NULL);
  ok (sched_schedule (c, &adaptive, p, &r, NULL) == 0 && r.node, "300 nodes: scheduled");
  /* 50 - 300/125 = 48% of 300 = 144 nodes examined */
  is_int (r.feasible, 144, "percentageOfNodesToScore: upstream's adaptive window");
  sched_result_clear (&r);
  sched_config all = { .percentage_of_nodes_to_score = 100 };
  ok (sched_schedule (c, &all, p, &r, NULL) == 0 && r.feasible == 300, "100%%: every node");
  sched_result_clear (&r);
  json_decref (p);
  sched_cache_free (c);
}

int
main (void)
{
  test_resources ();
  test_image_locality ();
  test_affinity_taints ();
  test_interpod_spread ();
  test_window ();
  return tap_done ();
}
