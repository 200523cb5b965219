/* husk scheduler: private declarations shared by the files of src/master/sched. */
#ifndef HUSK_SCHED_INTERNAL_H
#define HUSK_SCHED_INTERNAL_H

#include "lib/json.h"
#include "lib/quantity.h"
#include "src/master/sched/sched.h"

#define SCHED_MAX_SCORE         100
#define SCHED_DEFAULT_MILLI_CPU 100                   /* non-zero request used in scoring */
#define SCHED_DEFAULT_MEMORY    (200LL * 1024 * 1024) /* idem */

/* ---- a string-keyed hash map (open addressing) ---- */
typedef struct sched_map sched_map;
sched_map *sched_map_new (void);
void sched_map_free (sched_map *m, void (*free_value) (void *));
void *sched_map_get (const sched_map *m, const char *key);
/* Sets key (copied) to value; returns the previous value or NULL. */
void *sched_map_put (sched_map *m, const char *key, void *value);
void *sched_map_del (sched_map *m, const char *key);
size_t sched_map_size (const sched_map *m);
/* Iteration: i from 0; returns false at the end. */
bool sched_map_next (const sched_map *m, size_t *i, const char **key, void **value);

/* ---- resources ---- */
typedef struct sched_scalar
{
  char *name;
  int64_t v;
} sched_scalar;

typedef struct sched_res
{
  int64_t milli_cpu, memory, ephemeral, pods;
  size_t n_scalar;
  sched_scalar *scalar; /* extended resources (example.com/gpu, hugepages-2Mi, ...) */
} sched_res;

/* a + b, saturating at the int64 limits (requests come from users). */
static inline int64_t
sched_sat_add (int64_t a, int64_t b)
{
  int64_t r;
  if (__builtin_add_overflow (a, b, &r))
    return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

void sched_res_free (sched_res *r);
int64_t sched_res_scalar (const sched_res *r, const char *name);
void sched_res_add (sched_res *dst, const sched_res *src, int sign);
/* Parses a ResourceList object (requests, allocatable) into r (adding to it). */
int sched_res_parse (sched_res *r, json_t *list, const char *where, husk_error **err);

/* ---- taints and tolerations ---- */
enum
{
  SCHED_EFFECT_ALL = 0, /* a toleration with no effect */
  SCHED_NO_SCHEDULE,
  SCHED_PREFER_NO_SCHEDULE,
  SCHED_NO_EXECUTE,
};

typedef struct sched_taint
{
  char *key, *value;
  int effect;
} sched_taint;

int sched_taint_effect (const char *e); /* -1 when unknown */
/* "nginx" -> "docker.io/library/nginx:latest", as runtimes report image names. */
char *sched_image_normalize (const char *ref);
bool sched_tolerates (json_t *tolerations, const char *key, const char *value, int effect);

/* ---- label selectors ---- */
/* metav1.LabelSelector against labels; NULL selector matches nothing, {} everything. */
bool sched_label_selector_matches (json_t *selector, json_t *labels);
/* v1.NodeSelectorTerm list (ORed) against a node. */
bool sched_node_selector_terms_match (json_t *terms, json_t *labels, const char *node_name);
bool sched_node_selector_term_matches (json_t *term, json_t *labels, const char *node_name);

/* ---- pods ---- */
typedef struct sched_port
{
  char *ip;
  int proto; /* 0 TCP, 1 UDP, 2 SCTP */
  int port;
} sched_port;

typedef struct sched_pod
{
  char *key; /* namespace/name */
  char *ns, *name;
  char *node; /* bound node or NULL */
  /* The whole object while the pod is being scheduled; NULL once it sits in the cache
     (sched_pod_slim): a cached pod keeps only its labels, and its affinity when it has pod
     (anti-)affinity terms, the only parts other pods' cycles read. */
  json_t *obj;
  json_t *labels, *tolerations, *affinity; /* own references (NULL when absent or slim) */
  json_t *pref_node_terms;                 /* nodeAffinity preferred terms, borrowed */
  sched_res req;
  int64_t nz_cpu, nz_mem; /* requests with upstream's non-zero defaults (scoring) */
  int32_t priority;
  bool preempt_never, terminating, has_required_anti;
  bool has_pod_affinity; /* any podAffinity or podAntiAffinity */
  size_t n_ports;
  sched_port *ports;
  size_t n_images;
  char **images; /* normalized (docker.io/library/x:latest) */
  int64_t start; /* order of arrival in the cache (tie-break between victims) */
} sched_pod;

int sched_pod_parse (json_t *obj, sched_pod **out, husk_error **err);
void sched_pod_free (sched_pod *p);
/* Drops what only the pod's own scheduling cycle reads (the object, tolerations, node
   affinity): called when the pod enters the cache. */
void sched_pod_slim (sched_pod *p);

/* ---- nodes ---- */
typedef struct sched_image
{
  char *name;
  int64_t size;
} sched_image;

typedef struct sched_node
{
  char *name;
  json_t *obj;
  json_t *labels; /* borrowed */
  sched_res alloc;
  sched_res req;
  int64_t nz_cpu, nz_mem;
  size_t n_taints;
  sched_taint *taints; /* spec.taints plus taints implied by conditions */
  bool unschedulable;
  size_t n_pods, cap_pods;
  sched_pod **pods;
  size_t n_anti;      /* pods with required anti-affinity */
  size_t n_affinity;  /* pods with any pod (anti-)affinity */
  size_t n_port_pods; /* pods with host ports */
  size_t n_images;
  sched_image *images;
} sched_node;

struct sched_cache
{
  sched_map *node_by_name;
  size_t n_nodes, cap_nodes;
  sched_node **nodes;
  sched_map *pods;        /* key -> sched_pod */
  sched_map *image_nodes; /* image name -> (intptr_t) nodes holding it */
  int64_t pod_seq;
  size_t next_start; /* round-robin start of the node walk */
  uint64_t rng, seed;
  /* storage (volume.c): json objects by key; created on first use */
  sched_map *pvcs, *pvs, *classes;
};

/* ---- filters ---- */
enum
{
  SCHED_OK = 0,
  SCHED_UNSCHEDULABLE, /* preemption may help */
  SCHED_UNRESOLVABLE,  /* UnschedulableAndUnresolvable */
};

#define SCHED_MAX_REASONS 8
typedef struct sched_status
{
  int code;
  size_t n;
  const char *reasons[SCHED_MAX_REASONS];
  char *owned; /* a reason built at run time (reasons[] may point into it) */
} sched_status;

void sched_status_clear (sched_status *s);

/* Cycle state computed once per pod (PreFilter). */
typedef struct sched_cycle
{
  sched_cache *cache;
  sched_pod *pod;
  json_t *node_selector, *required_terms; /* borrowed */
  bool required_present;                  /* required node affinity given (no terms: no node) */
  /* inter-pod affinity */
  bool has_affinity, has_anti;
  json_t *aff_terms, *anti_terms; /* required terms of the incoming pod */
  sched_map *aff_counts;          /* "i\x1fvalue" -> matching pods in that domain, per term */
  sched_map *anti_counts;
  sched_map *existing_anti; /* "key\x1fvalue" -> existing pods whose anti-affinity the pod hits */
  bool aff_none_anywhere, aff_self_match;
  /* topology spread */
  size_t n_spread;
  struct sched_spread *spread;
  /* Preemption's what-if: pods treated as gone, and their summed requests. */
  sched_pod **removed;
  size_t n_removed;
  const sched_res *freed;
  bool inter_state; /* inter-pod or spread state exists: what-ifs must recompute it */
  /* VolumeBinding: node selector term lists of bound PVs, and unbound claims of classes
     without a provisioner (static PVs must be found per node). */
  size_t n_pv_terms, n_static;
  json_t **pv_terms;
  json_t **static_claims;
  char *prefilter_msg; /* a PreFilter failure (missing or unbound immediate claim) */
} sched_cycle;

typedef struct sched_spread
{
  const char *key;
  int64_t max_skew, min_domains;
  bool hard;
  json_t *selector;  /* owned: labelSelector with matchLabelKeys folded in */
  sched_map *counts; /* topology value -> matching pods */
  int64_t min;       /* smallest count among eligible domains */
  bool self_match;
  double weight; /* scoring: log(domains + 2) */
} sched_spread;

int sched_cycle_init (sched_cycle *cy, sched_cache *c, sched_pod *pod, husk_error **err);
void sched_cycle_clear (sched_cycle *cy);
/* Frees and recomputes the PreFilter state (after changing cy->removed). */
int sched_cycle_refresh (sched_cycle *cy, husk_error **err);
bool sched_pod_in (sched_pod *const *set, size_t n, const sched_pod *p);

/* Node-local filters in upstream's order; the first failure wins. `removed` pods (may be
   NULL) are treated as gone (preemption). */
void sched_filter_node (sched_cycle *cy, sched_node *n, sched_status *st);
bool sched_fits_resources (const sched_pod *pod, const sched_node *n, const sched_res *freed,
                           sched_status *st);
bool sched_ports_free (const sched_pod *pod, const sched_node *n, sched_pod *const *removed,
                       size_t n_removed);
bool sched_node_matches_pod_affinity_selector (const sched_cycle *cy, const sched_node *n);
const char *sched_node_label (const sched_node *n, const char *key);

/* volumes (volume.c) */
int sched_volume_prefilter (sched_cycle *cy);
void sched_volume_filter (sched_cycle *cy, sched_node *n, sched_status *st);
void sched_volume_clear (sched_cycle *cy);
void sched_cache_free_storage (sched_cache *c);

/* inter-pod affinity and topology spread */
int sched_interpod_prefilter (sched_cycle *cy, husk_error **err);
void sched_interpod_filter (sched_cycle *cy, sched_node *n, sched_status *st);
void sched_spread_filter (sched_cycle *cy, sched_node *n, sched_status *st);
bool sched_pod_matches_term (const sched_pod *existing, json_t *term, const char *pod_ns);

/* ---- scores: raw per-node values, normalized to 0..100 in place ---- */
int64_t sched_score_resources (const sched_config *cfg, const sched_pod *pod, const sched_node *n);
int64_t sched_score_balanced (const sched_pod *pod, const sched_node *n);
int64_t sched_score_image_locality (const sched_cache *c, const sched_pod *pod,
                                    const sched_node *n);
int64_t sched_score_node_affinity_raw (const sched_pod *pod, const sched_node *n);
int64_t sched_score_taint_raw (const sched_pod *pod, const sched_node *n);
void sched_score_normalize_default (int64_t *s, size_t n, bool reverse);
void sched_score_interpod (sched_cycle *cy, sched_node **nodes, size_t n, int64_t *out);
void sched_score_spread (sched_cycle *cy, sched_node **nodes, size_t n, int64_t *out);

/* ---- preemption ---- */
typedef struct sched_preemption
{
  sched_node *node;
  sched_pod **victims;
  size_t n_victims;
  char *message; /* "preemption: 0/3 nodes are available: ..." when no node qualifies */
} sched_preemption;

/* nodes[i] failed with statuses[i] (i < n); n_all is the number of nodes in the cluster. */
void sched_preempt (sched_cycle *cy, sched_node **nodes, sched_status *statuses, size_t n,
                    size_t n_all, sched_preemption *out);

/* "0/N nodes are available: <count> <reason>, ...." (upstream's FitError histogram). */
char *sched_fit_error_text (size_t n_nodes, sched_status *statuses, size_t n);

#endif
