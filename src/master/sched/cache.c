/* The node-info cache: nodes with their allocatable resources, taints and images, and the
   pods bound to them with requests summed per node (upstream's NodeInfo). */
#include "config.h"

#include <errno.h>

#include "src/master/sched/sched-internal.h"

sched_cache *
sched_cache_new (void)
{
  sched_cache *c = xzalloc (sizeof *c);
  c->node_by_name = sched_map_new ();
  c->pods = sched_map_new ();
  c->image_nodes = sched_map_new ();
  c->rng = 0x9e3779b97f4a7c15ull;
  return c;
}

static void
node_free (sched_node *n)
{
  if (!n)
    return;
  free (n->name);
  json_decref (n->obj);
  sched_res_free (&n->alloc);
  sched_res_free (&n->req);
  for (size_t i = 0; i < n->n_taints; i++)
    {
      free (n->taints[i].key);
      free (n->taints[i].value);
    }
  free (n->taints);
  free (n->pods);
  for (size_t i = 0; i < n->n_images; i++)
    free (n->images[i].name);
  free (n->images);
  free (n);
}

static void
pod_free_v (void *p)
{
  sched_pod_free (p);
}

void
sched_cache_free (sched_cache *c)
{
  if (!c)
    return;
  for (size_t i = 0; i < c->n_nodes; i++)
    node_free (c->nodes[i]);
  free (c->nodes);
  sched_map_free (c->node_by_name, NULL);
  sched_map_free (c->pods, pod_free_v);
  sched_map_free (c->image_nodes, NULL);
  sched_cache_free_storage (c);
  free (c);
}

/* "nginx" -> "docker.io/library/nginx:latest", as the container runtime reports names. */
char *
sched_image_normalize (const char *ref)
{
  const char *slash = strchr (ref, '/');
  const char *last = strrchr (ref, '/');
  const char *tail = last ? last + 1 : ref;
  bool tagged = strchr (tail, ':') || strchr (ref, '@');
  const char *prefix = "";
  if (!slash)
    prefix = "docker.io/library/";
  else
    {
      size_t n = (size_t)(slash - ref);
      bool host = memchr (ref, '.', n) || memchr (ref, ':', n)
                  || (n == 9 && !strncmp (ref, "localhost", 9));
      if (!host)
        prefix = "docker.io/";
    }
  return xasprintf ("%s%s%s", prefix, ref, tagged ? "" : ":latest");
}

static void
add_taint (sched_node *n, const char *key, const char *value, int effect)
{
  for (size_t i = 0; i < n->n_taints; i++)
    if (streq (n->taints[i].key, key) && n->taints[i].effect == effect)
      return;
  n->taints = xreallocarray (n->taints, n->n_taints + 1, sizeof *n->taints);
  n->taints[n->n_taints++] = (sched_taint){ xstrdup (key), xstrdup (value ? value : ""), effect };
}

/* Conditions become the taints the node lifecycle controller would add
   (TaintNodesByCondition), so that a user sees upstream's explanation. */
static void
condition_taints (sched_node *n, json_t *conditions)
{
  json_t *c;
  size_t i;
  json_array_foreach (conditions, i, c)
  {
    const char *type = json_string_value (json_object_get (c, "type"));
    const char *status = json_string_value (json_object_get (c, "status"));
    if (!type || !status)
      continue;
    if (streq (type, "Ready") && streq (status, "False"))
      add_taint (n, "node.kubernetes.io/not-ready", "", SCHED_NO_SCHEDULE);
    else if (streq (type, "Ready") && !streq (status, "True"))
      add_taint (n, "node.kubernetes.io/unreachable", "", SCHED_NO_SCHEDULE);
    else if (streq (status, "True"))
      {
        const char *k = streq (type, "MemoryPressure") ? "node.kubernetes.io/memory-pressure"
                        : streq (type, "DiskPressure") ? "node.kubernetes.io/disk-pressure"
                        : streq (type, "PIDPressure")  ? "node.kubernetes.io/pid-pressure"
                        : streq (type, "NetworkUnavailable")
                            ? "node.kubernetes.io/network-unavailable"
                            : NULL;
        if (k)
          add_taint (n, k, "", SCHED_NO_SCHEDULE);
      }
  }
}

static int
node_parse (json_t *obj, sched_node **out, husk_error **err)
{
  const char *name = husk_json_path_str (obj, "metadata.name");
  if (!name || !*name)
    return husk_err (err, EINVAL, "node: metadata.name is required");
  sched_node *n = xzalloc (sizeof *n);
  n->name = xstrdup (name);
  n->obj = json_incref (obj);
  n->labels = husk_json_path (obj, "metadata.labels");
  json_t *status = json_object_get (obj, "status");
  json_t *alloc = json_object_get (status, "allocatable");
  if (!alloc)
    alloc = json_object_get (status, "capacity");
  int ret = sched_res_parse (&n->alloc, alloc, "status.allocatable", err);
  if (ret < 0)
    {
      node_free (n);
      return husk_err_wrap (err, "node %s", name);
    }
  json_t *spec = json_object_get (obj, "spec");
  n->unschedulable = json_is_true (json_object_get (spec, "unschedulable"));
  json_t *t;
  size_t i;
  json_array_foreach (json_object_get (spec, "taints"), i, t)
  {
    const char *key = json_string_value (json_object_get (t, "key"));
    int effect = sched_taint_effect (json_string_value (json_object_get (t, "effect")));
    if (!key || effect <= 0)
      {
        node_free (n);
        return husk_err (err, EINVAL, "node %s: spec.taints[%zu]: key and effect are required",
                         name, i);
      }
    add_taint (n, key, json_string_value (json_object_get (t, "value")), effect);
  }
  condition_taints (n, json_object_get (status, "conditions"));
  json_t *img, *nm;
  size_t j;
  json_array_foreach (json_object_get (status, "images"), i, img)
  {
    int64_t size = json_integer_value (json_object_get (img, "sizeBytes"));
    json_array_foreach (json_object_get (img, "names"), j, nm)
    {
      if (!json_is_string (nm))
        continue;
      n->images = xreallocarray (n->images, n->n_images + 1, sizeof *n->images);
      n->images[n->n_images++]
          = (sched_image){ sched_image_normalize (json_string_value (nm)), size };
    }
  }
  *out = n;
  return 0;
}

static void
count_images (sched_cache *c, sched_node *n, intptr_t d)
{
  for (size_t i = 0; i < n->n_images; i++)
    {
      intptr_t v = (intptr_t)sched_map_get (c->image_nodes, n->images[i].name) + d;
      if (v > 0)
        sched_map_put (c->image_nodes, n->images[i].name, (void *)v);
      else
        sched_map_del (c->image_nodes, n->images[i].name);
    }
}

static void
node_add_pod (sched_node *n, sched_pod *p)
{
  if (n->n_pods == n->cap_pods)
    {
      n->cap_pods = n->cap_pods ? n->cap_pods * 2 : 16;
      n->pods = xreallocarray (n->pods, n->cap_pods, sizeof *n->pods);
    }
  n->pods[n->n_pods++] = p;
  sched_res_add (&n->req, &p->req, 1);
  n->nz_cpu = sched_sat_add (n->nz_cpu, p->nz_cpu);
  n->nz_mem = sched_sat_add (n->nz_mem, p->nz_mem);
  n->n_anti += p->has_required_anti;
  n->n_affinity += p->has_pod_affinity;
  n->n_port_pods += p->n_ports > 0;
}

static void
node_remove_pod (sched_node *n, sched_pod *p)
{
  for (size_t i = 0; i < n->n_pods; i++)
    if (n->pods[i] == p)
      {
        n->pods[i] = n->pods[--n->n_pods];
        sched_res_add (&n->req, &p->req, -1);
        n->nz_cpu = sched_sat_add (n->nz_cpu, -p->nz_cpu);
        n->nz_mem = sched_sat_add (n->nz_mem, -p->nz_mem);
        n->n_anti -= p->has_required_anti;
        n->n_affinity -= p->has_pod_affinity;
        n->n_port_pods -= p->n_ports > 0;
        return;
      }
}

int
sched_cache_set_node (sched_cache *c, json_t *obj, husk_error **err)
{
  sched_node *n = NULL;
  int ret = node_parse (obj, &n, err);
  if (ret < 0)
    return ret;
  sched_node *old = sched_map_get (c->node_by_name, n->name);
  if (old)
    {
      /* Keep the pods and their sums; swap everything that comes from the Node object. */
      count_images (c, old, -1);
      sched_node tmp = *old;
      old->obj = n->obj, old->labels = n->labels, old->alloc = n->alloc;
      old->taints = n->taints, old->n_taints = n->n_taints;
      old->unschedulable = n->unschedulable;
      old->images = n->images, old->n_images = n->n_images;
      n->obj = tmp.obj, n->alloc = tmp.alloc, n->taints = tmp.taints, n->n_taints = tmp.n_taints;
      n->images = tmp.images, n->n_images = tmp.n_images;
      count_images (c, old, 1);
      node_free (n);
      return 0;
    }
  if (c->n_nodes == c->cap_nodes)
    {
      c->cap_nodes = c->cap_nodes ? c->cap_nodes * 2 : 64;
      c->nodes = xreallocarray (c->nodes, c->cap_nodes, sizeof *c->nodes);
    }
  c->nodes[c->n_nodes++] = n;
  sched_map_put (c->node_by_name, n->name, n);
  count_images (c, n, 1);
  /* Pods that arrived before their node. */
  size_t it = 0;
  const char *k;
  void *v;
  while (sched_map_next (c->pods, &it, &k, &v))
    {
      sched_pod *p = v;
      if (p->node && streq (p->node, n->name))
        node_add_pod (n, p);
    }
  return 0;
}

int
sched_cache_remove_node (sched_cache *c, const char *name)
{
  sched_node *n = sched_map_del (c->node_by_name, name);
  if (!n)
    return -ENOENT;
  for (size_t i = 0; i < c->n_nodes; i++)
    if (c->nodes[i] == n)
      {
        c->nodes[i] = c->nodes[--c->n_nodes];
        break;
      }
  count_images (c, n, -1);
  node_free (n);
  return 0;
}

static void
drop_pod (sched_cache *c, const char *key)
{
  sched_pod *p = sched_map_del (c->pods, key);
  if (!p)
    return;
  sched_node *n = p->node ? sched_map_get (c->node_by_name, p->node) : NULL;
  if (n)
    node_remove_pod (n, p);
  sched_pod_free (p);
}

static int
put_pod (sched_cache *c, json_t *obj, const char *node, husk_error **err)
{
  sched_pod *p;
  int ret = sched_pod_parse (obj, &p, err);
  if (ret < 0)
    return ret;
  drop_pod (c, p->key);
  if (node)
    {
      free (p->node);
      p->node = xstrdup (node);
    }
  const char *phase = husk_json_path_str (obj, "status.phase");
  if (!p->node || (phase && (streq (phase, "Succeeded") || streq (phase, "Failed"))))
    {
      sched_pod_free (p);
      return 0;
    }
  sched_pod_slim (p);
  p->start = c->pod_seq++;
  sched_map_put (c->pods, p->key, p);
  sched_node *n = sched_map_get (c->node_by_name, p->node);
  if (n)
    node_add_pod (n, p);
  return 0;
}

int
sched_cache_set_pod (sched_cache *c, json_t *pod, husk_error **err)
{
  return put_pod (c, pod, NULL, err);
}

int
sched_cache_assume_pod (sched_cache *c, json_t *pod, const char *node, husk_error **err)
{
  return put_pod (c, pod, node, err);
}

int
sched_cache_remove_pod (sched_cache *c, const char *ns, const char *name)
{
  _cleanup_free_ char *key = xasprintf ("%s/%s", ns && *ns ? ns : "default", name);
  if (!sched_map_get (c->pods, key))
    return -ENOENT;
  drop_pod (c, key);
  return 0;
}

size_t
sched_cache_node_count (const sched_cache *c)
{
  return c->n_nodes;
}

size_t
sched_cache_pod_count (const sched_cache *c)
{
  return sched_map_size (c->pods);
}

int
sched_cache_node_requested (const sched_cache *c, const char *node, int64_t *milli_cpu,
                            int64_t *memory, int64_t *pods)
{
  sched_node *n = sched_map_get (c->node_by_name, node);
  if (!n)
    return -ENOENT;
  *milli_cpu = n->req.milli_cpu;
  *memory = n->req.memory;
  *pods = (int64_t)n->n_pods;
  return 0;
}

const char *
sched_node_label (const sched_node *n, const char *key)
{
  return json_string_value (json_object_get (n->labels, key));
}
