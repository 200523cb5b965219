/* husk node: what the agent does beside the pods the API gives it (pod/extras.c): static
   pods from a manifest directory (pod/staticpods.c), periodic image GC (pod/imagegc.c) and
   eviction under memory and disk pressure (pod/evict.c). Main thread only. */
#ifndef HUSK_NODE_EXTRAS_H
#define HUSK_NODE_EXTRAS_H

#include "src/node/node-internal.h"

typedef enum
{
  EVICT_MEMORY_AVAILABLE,
  EVICT_NODEFS_AVAILABLE,
  EVICT_NODEFS_INODES_FREE,
} evict_signal;

typedef struct evict_threshold
{
  evict_signal signal;
  char *text;      /* the value as given: "100Mi", "10%" */
  int64_t value;   /* bytes or inodes; with pct: hundredths of a percent */
  bool pct;
} evict_threshold;

typedef struct static_mirror
{
  struct static_mirror *next;
  char *uid, *ns, *name;
  int64_t check_ms; /* when the mirror pod is looked at next */
} static_mirror;

typedef struct node_extras
{
  /* static pods */
  char *manifest_dir;
  int64_t next_static_ms;
  static_mirror *mirrors; /* static pods in the table, and their mirror pods */
  char *last_load_errors;  /* what was last logged about bad files */
  /* image GC */
  int gc_high, gc_low;
  int64_t gc_min_age_s, gc_period_ms, next_gc_ms;
  bool gc_failed_before;
  /* eviction */
  evict_threshold th[8];
  size_t nth;
  int64_t next_evict_ms;
  bool measured, mem_pressure, disk_pressure;
  int taints_applied; /* bit 0 memory, bit 1 disk; -1: not known yet */
} node_extras;

/* Parses "85" or "2m" style flag values; errors name the flag. */
int extras_parse_percent (const char *flag, const char *text, int *out, husk_error **err);
int extras_parse_duration (const char *flag, const char *text, int64_t *seconds, husk_error **err);
/* kubelet's --pod-max-pids: an integer; <= 0 means no limit (stored as -1). */
int extras_parse_pids (const char *flag, const char *text, int64_t *out, husk_error **err);

/* An Event about the Node (kubelet's nodeRef: namespace default, uid = the node's name). */
void extras_node_event (node_agent *a, const char *type, const char *reason, const char *fmt, ...)
    _printf_ (4, 5);

int static_pods_setup (node_agent *a, node_extras *x, husk_error **err);
void static_pods_tick (node_agent *a, node_extras *x, int64_t now_ms);
void static_pods_free (node_extras *x);

int imagegc_setup (node_agent *a, node_extras *x, husk_error **err);
void imagegc_tick (node_agent *a, node_extras *x, int64_t now_ms);

/* Parses --eviction-hard: "memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%"
   (imagefs.* are accepted as nodefs.*: images live on the node's filesystem). */
int evict_parse (const char *text, evict_threshold *th, size_t max, size_t *n, husk_error **err);
int evict_setup (node_agent *a, node_extras *x, husk_error **err);
void evict_tick (node_agent *a, node_extras *x, int64_t now_ms);
void evict_free (node_extras *x);

#endif
