/* husk master: hash-consing of JSON trees (issue 6, master memory). Equal subtrees of the
   objects the scheduler and the controllers cache (a Deployment's pods share labels, owner
   references, container resources, tolerations, status; every pod of a namespace the
   namespace string) are kept once: sched_intern_tree returns a tree built of canonical,
   shared, READ-ONLY nodes. Nobody may change a node of an interned tree (json_deep_copy it
   first); jansson's reference counts are atomic, so interned trees may be shared between
   threads. A node the table alone holds is freed at the next sweep (when the table has
   doubled since the last one). */
#ifndef HUSK_SCHED_INTERN_H
#define HUSK_SCHED_INTERN_H

#include <jansson.h>
#include <stddef.h>

typedef struct sched_intern sched_intern;

sched_intern *sched_intern_new (void);
/* Frees the table (interned nodes others still hold stay valid). */
void sched_intern_free (sched_intern *t);
/* The process-wide table the scheduler's and the controllers' caches share. */
sched_intern *sched_intern_shared (void);
/* A second process-wide table for short-lived copies (the items of a paged list being
   gathered): its nodes never end up among the caches' long-lived ones, so that freeing
   them leaves no holes between the caches' nodes for the heap to keep. */
sched_intern *sched_intern_transient (void);

/* A new reference to the canonical tree equal to v (v is not changed nor kept). The root is
   a new node of its own (not shared, not in the table); so are the root's members named in
   fresh (NULL-terminated, may be NULL): per-object containers such as "metadata", whose
   members are unique to the object, are not worth a table entry. */
json_t *sched_intern_tree (sched_intern *t, json_t *v, const char *const *fresh);
/* A new reference to the canonical node equal to v itself (the root shared too): for a
   part kept alone, such as a pod's labels. NULL for NULL. */
json_t *sched_intern_value (sched_intern *t, json_t *v);
/* Frees the nodes only the table holds now; returns how many remain. */
size_t sched_intern_sweep (sched_intern *t);
/* Nodes in the table. */
size_t sched_intern_size (sched_intern *t);

#endif
