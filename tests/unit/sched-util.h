/* Helpers for the scheduler's unit tests: JSON written with single quotes, nodes and pods. */
#ifndef HUSK_SCHED_UTIL_H
#define HUSK_SCHED_UTIL_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/master/sched/sched.h"

/* JSON with ' for " (test readability). Exits on a typo. */
static inline json_t *
J (const char *s)
{
  char *t = strdup (s);
  json_error_t e;
  for (char *p = t; *p; p++)
    if (*p == '\'')
      *p = '"';
  json_t *j = json_loads (t, 0, &e);
  if (!j)
    {
      printf ("Bail out! bad test JSON %s: %s\n", s, e.text);
      exit (2);
    }
  free (t);
  return j;
}

/* A Ready node with allocatable cpu/memory/pods, labels kubernetes.io/hostname=name, and
   `extra` (JSON, may be NULL) merged in recursively. */
static inline json_t *
mknode (const char *name, const char *cpu, const char *mem, int pods, const char *extra)
{
  json_t *n
      = json_pack ("{s{ss s{ss}} s{s{ss ss si} s[{ss ss}]}}", "metadata", "name", name, "labels",
                   "kubernetes.io/hostname", name, "status", "allocatable", "cpu", cpu, "memory",
                   mem, "pods", pods, "conditions", "type", "Ready", "status", "True");
  if (extra)
    {
      json_t *x = J (extra);
      json_object_update_recursive (n, x);
      json_decref (x);
    }
  return n;
}

/* A pod in namespace default with one container requesting cpu/memory (NULL: none), and
   `extra` merged into the pod. */
static inline json_t *
mkpod (const char *name, const char *cpu, const char *mem, const char *extra)
{
  json_t *req = json_object ();
  if (cpu)
    json_object_set_new (req, "cpu", json_string (cpu));
  if (mem)
    json_object_set_new (req, "memory", json_string (mem));
  json_t *p = json_pack ("{s{ss ss} s{s[{ss ss s{so}}]}}", "metadata", "name", name, "namespace",
                         "default", "spec", "containers", "name", "c", "image", "busybox",
                         "resources", "requests", req);
  if (extra)
    {
      json_t *x = J (extra);
      json_object_update_recursive (p, x);
      json_decref (x);
    }
  return p;
}

static inline void
add_node (sched_cache *c, json_t *n)
{
  husk_error *err = NULL;
  if (sched_cache_set_node (c, n, &err) < 0)
    {
      printf ("Bail out! %s\n", err->msg);
      exit (2);
    }
  json_decref (n);
}

static inline void
bind_pod (sched_cache *c, json_t *p, const char *node)
{
  husk_error *err = NULL;
  if (sched_cache_assume_pod (c, p, node, &err) < 0)
    {
      printf ("Bail out! %s\n", err->msg);
      exit (2);
    }
  json_decref (p);
}

/* Schedules p (consumed) and returns the node name or the message, malloc'ed. */
static inline char *
sched_str (sched_cache *c, const sched_config *cfg, json_t *p)
{
  sched_result r;
  husk_error *err = NULL;
  char *out;
  if (sched_schedule (c, cfg, p, &r, &err) < 0)
    out = strdup (err->msg);
  else
    out = strdup (r.node ? r.node : r.message);
  sched_result_clear (&r);
  json_decref (p);
  return out;
}

#endif
