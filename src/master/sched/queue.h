/* husk scheduler: the queue of pending pods (keys "namespace/name"), times in ms from any
   monotonic clock the caller chooses. Not locked: the scheduling loop owns it. */
#ifndef HUSK_SCHED_QUEUE_H
#define HUSK_SCHED_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sched_queue sched_queue;

sched_queue *sched_queue_new (void);
void sched_queue_free (sched_queue *q);

/* A pending pod appeared or changed (priority from spec.priority). A pod that was waiting
   for a cluster change becomes active again. */
void sched_queue_add (sched_queue *q, const char *key, int32_t priority, int64_t now_ms);
/* The pod was bound, deleted, or got a nodeName from elsewhere. */
void sched_queue_remove (sched_queue *q, const char *key);

/* The next pod to try (malloc'ed key), or NULL: highest priority first, then the earliest
   arrival. The pod stays known ("in flight") until sched_queue_done or
   sched_queue_unschedulable. */
char *sched_queue_pop (sched_queue *q, int64_t now_ms);
void sched_queue_done (sched_queue *q, const char *key);
/* The attempt failed: the pod waits for a cluster change (or 5 minutes), then its back-off
   (1 s, 2 s, 4 s, 8 s, 10 s ... per attempt). */
void sched_queue_unschedulable (sched_queue *q, const char *key, int64_t now_ms);
/* The cluster changed (node added or updated, pod deleted): every unschedulable pod is
   retried once its back-off has passed. */
void sched_queue_move_all (sched_queue *q, int64_t now_ms);

/* How long the loop may sleep: 0 when a pod is ready, -1 when nothing waits. */
int64_t sched_queue_wait_ms (sched_queue *q, int64_t now_ms);
int64_t sched_queue_backoff_ms (int attempts);
void sched_queue_counts (const sched_queue *q, size_t *active, size_t *backoff,
                         size_t *unschedulable);

#endif
