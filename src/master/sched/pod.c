/* Resource lists and the scheduler's parsed view of a pod (requests as upstream's
   PodRequests computes them, host ports, priority, images). */
#include "config.h"

#include <errno.h>

#include "src/master/sched/intern.h"
#include "src/master/sched/sched-internal.h"

void
sched_res_free (sched_res *r)
{
  for (size_t i = 0; i < r->n_scalar; i++)
    free (r->scalar[i].name);
  free (r->scalar);
  r->scalar = NULL;
  r->n_scalar = 0;
}

static int64_t *
scalar_slot (sched_res *r, const char *name)
{
  for (size_t i = 0; i < r->n_scalar; i++)
    if (streq (r->scalar[i].name, name))
      return &r->scalar[i].v;
  r->scalar = xreallocarray (r->scalar, r->n_scalar + 1, sizeof *r->scalar);
  r->scalar[r->n_scalar] = (sched_scalar){ xstrdup (name), 0 };
  return &r->scalar[r->n_scalar++].v;
}

int64_t
sched_res_scalar (const sched_res *r, const char *name)
{
  for (size_t i = 0; i < r->n_scalar; i++)
    if (streq (r->scalar[i].name, name))
      return r->scalar[i].v;
  return 0;
}

void
sched_res_add (sched_res *dst, const sched_res *src, int sign)
{
  dst->milli_cpu = sched_sat_add (dst->milli_cpu, sign * src->milli_cpu);
  dst->memory = sched_sat_add (dst->memory, sign * src->memory);
  dst->ephemeral = sched_sat_add (dst->ephemeral, sign * src->ephemeral);
  dst->pods = sched_sat_add (dst->pods, sign * src->pods);
  for (size_t i = 0; i < src->n_scalar; i++)
    {
      int64_t *v = scalar_slot (dst, src->scalar[i].name);
      *v = sched_sat_add (*v, sign * src->scalar[i].v);
    }
}

static void
res_max (sched_res *dst, const sched_res *src)
{
#define MAXF(f) dst->f = dst->f > src->f ? dst->f : src->f
  MAXF (milli_cpu);
  MAXF (memory);
  MAXF (ephemeral);
  MAXF (pods);
#undef MAXF
  for (size_t i = 0; i < src->n_scalar; i++)
    {
      int64_t *v = scalar_slot (dst, src->scalar[i].name);
      if (src->scalar[i].v > *v)
        *v = src->scalar[i].v;
    }
}

static void
res_copy (sched_res *dst, const sched_res *src)
{
  sched_res_free (dst);
  *dst = (sched_res){ src->milli_cpu, src->memory, src->ephemeral, src->pods, 0, NULL };
  for (size_t i = 0; i < src->n_scalar; i++)
    *scalar_slot (dst, src->scalar[i].name) = src->scalar[i].v;
}

int
sched_res_parse (sched_res *r, json_t *list, const char *where, husk_error **err)
{
  const char *k;
  json_t *v;
  if (!list || json_is_null (list))
    return 0;
  if (!json_is_object (list))
    return husk_err (err, EINVAL, "%s: expected object", where);
  json_object_foreach (list, k, v)
  {
    int64_t q;
    int ret = husk_quantity_json (v, streq (k, "cpu") ? 1000 : 1, NULL, &q, err);
    if (ret < 0)
      return husk_err_wrap (err, "%s.%s", where, k);
    /* Negative quantities are refused by API validation; never let one add capacity. */
    if (q < 0)
      return husk_err (err, EINVAL, "%s.%s: must be greater than or equal to 0", where, k);
    int64_t *slot = streq (k, "cpu")                 ? &r->milli_cpu
                    : streq (k, "memory")            ? &r->memory
                    : streq (k, "ephemeral-storage") ? &r->ephemeral
                    : streq (k, "pods")              ? &r->pods
                                                     : scalar_slot (r, k);
    *slot = sched_sat_add (*slot, q);
  }
  return 0;
}

/* One container's requests: requests, with limits standing in for missing requests (the API
   server's defaulting), and the non-zero values scoring uses. */
static int
container_requests (json_t *c, const char *where, sched_res *r, int64_t *nz_cpu, int64_t *nz_mem,
                    husk_error **err)
{
  json_t *res = json_object_get (c, "resources");
  json_t *req = json_object_get (res, "requests");
  json_t *lim = json_object_get (res, "limits");
  _cleanup_free_ char *w = xasprintf ("%s.resources.requests", where);
  int ret = sched_res_parse (r, req, w, err);
  if (ret < 0)
    return ret;
  if (json_is_object (lim))
    {
      const char *k;
      json_t *v;
      json_object_foreach (lim, k, v)
      {
        if (json_object_get (req, k))
          continue;
        _cleanup_json_ json_t *one = json_pack ("{sO}", k, v);
        _cleanup_free_ char *lw = xasprintf ("%s.resources.limits", where);
        ret = sched_res_parse (r, one, lw, err);
        if (ret < 0)
          return ret;
      }
    }
  bool has_cpu = json_object_get (req, "cpu") || json_object_get (lim, "cpu");
  bool has_mem = json_object_get (req, "memory") || json_object_get (lim, "memory");
  *nz_cpu = has_cpu ? r->milli_cpu : SCHED_DEFAULT_MILLI_CPU;
  *nz_mem = has_mem ? r->memory : SCHED_DEFAULT_MEMORY;
  return 0;
}

/* Requests plus their non-zero variants (scoring), accumulated together. */
typedef struct acc
{
  sched_res r;
  int64_t nc, nm;
} acc;

static void
acc_free (acc *a)
{
  sched_res_free (&a->r);
}

static void
acc_add (acc *d, const acc *s)
{
  sched_res_add (&d->r, &s->r, 1);
  d->nc = sched_sat_add (d->nc, s->nc);
  d->nm = sched_sat_add (d->nm, s->nm);
}

static void
acc_max (acc *d, const acc *s)
{
  res_max (&d->r, &s->r);
  d->nc = s->nc > d->nc ? s->nc : d->nc;
  d->nm = s->nm > d->nm ? s->nm : d->nm;
}

static int
container_acc (json_t *c, const char *list, size_t i, acc *out, husk_error **err)
{
  _cleanup_free_ char *w = xasprintf ("spec.%s[%zu]", list, i);
  return container_requests (c, w, &out->r, &out->nc, &out->nm, err);
}

static int
sum_containers (json_t *spec, acc *sum, husk_error **err)
{
  json_t *c;
  size_t i;
  json_array_foreach (json_object_get (spec, "containers"), i, c)
  {
    acc one = { 0 };
    int ret = container_acc (c, "containers", i, &one, err);
    if (ret == 0)
      acc_add (sum, &one);
    acc_free (&one);
    if (ret < 0)
      return ret;
  }
  return 0;
}

/* Sidecars (restartPolicy Always) add to the sum and to every later init container; the pod
   needs at least the largest init container step. */
static int
fold_init_containers (json_t *spec, acc *sum, husk_error **err)
{
  acc side = { 0 }, init_max = { 0 };
  json_t *c;
  size_t i;
  int ret = 0;
  json_array_foreach (json_object_get (spec, "initContainers"), i, c)
  {
    acc one = { 0 };
    ret = container_acc (c, "initContainers", i, &one, err);
    if (ret < 0)
      {
        acc_free (&one);
        break;
      }
    const char *rp = json_string_value (json_object_get (c, "restartPolicy"));
    if (rp && streq (rp, "Always"))
      {
        acc_add (sum, &one);
        acc_add (&side, &one);
        res_copy (&one.r, &side.r);
        one.nc = side.nc, one.nm = side.nm;
      }
    else
      acc_add (&one, &side);
    acc_max (&init_max, &one);
    acc_free (&one);
  }
  if (ret == 0)
    acc_max (sum, &init_max);
  acc_free (&side);
  acc_free (&init_max);
  return ret;
}

/* upstream PodRequests: max(app containers + sidecars, largest init step) + spec.overhead. */
static int
pod_requests (json_t *spec, sched_res *out, int64_t *nz_cpu, int64_t *nz_mem, husk_error **err)
{
  acc sum = { 0 }, over = { 0 };
  int ret = sum_containers (spec, &sum, err);
  if (ret == 0)
    ret = fold_init_containers (spec, &sum, err);
  if (ret == 0)
    ret = sched_res_parse (&over.r, json_object_get (spec, "overhead"), "spec.overhead", err);
  if (ret == 0)
    {
      over.nc = over.r.milli_cpu;
      over.nm = over.r.memory;
      acc_add (&sum, &over);
      sum.r.pods = 1;
      *out = sum.r;
      sum.r = (sched_res){ 0 };
      *nz_cpu = sum.nc;
      *nz_mem = sum.nm;
    }
  acc_free (&sum);
  acc_free (&over);
  return ret;
}

int
sched_pod_requests (json_t *pod, int64_t *milli_cpu, int64_t *memory, int64_t *ephemeral,
                    husk_error **err)
{
  sched_res r = { 0 };
  int64_t nc, nm;
  int ret = pod_requests (json_object_get (pod, "spec"), &r, &nc, &nm, err);
  if (ret < 0)
    return ret;
  *milli_cpu = r.milli_cpu;
  *memory = r.memory;
  *ephemeral = r.ephemeral;
  sched_res_free (&r);
  return 0;
}

static void
add_ports (sched_pod *p, json_t *containers)
{
  json_t *c, *port;
  size_t i, j;
  json_array_foreach (containers, i, c) json_array_foreach (json_object_get (c, "ports"), j, port)
  {
    json_int_t hp = json_integer_value (json_object_get (port, "hostPort"));
    if (hp <= 0)
      continue;
    const char *ip = json_string_value (json_object_get (port, "hostIP"));
    const char *proto = json_string_value (json_object_get (port, "protocol"));
    p->ports = xreallocarray (p->ports, p->n_ports + 1, sizeof *p->ports);
    p->ports[p->n_ports++] = (sched_port){
      xstrdup (ip && *ip ? ip : "0.0.0.0"),
      !proto || streq (proto, "TCP") ? 0
      : streq (proto, "UDP")         ? 1
                                     : 2,
      (int)hp,
    };
  }
}

static void
add_images (sched_pod *p, json_t *containers)
{
  json_t *c;
  size_t i;
  json_array_foreach (containers, i, c)
  {
    const char *img = json_string_value (json_object_get (c, "image"));
    if (!img)
      continue;
    p->images = xreallocarray (p->images, p->n_images + 1, sizeof *p->images);
    p->images[p->n_images++] = sched_image_normalize (img);
  }
}

void
sched_pod_free (sched_pod *p)
{
  if (!p)
    return;
  free (p->key);
  free (p->ns);
  free (p->name);
  free (p->node);
  json_decref (p->obj);
  json_decref (p->labels);
  json_decref (p->tolerations);
  json_decref (p->affinity);
  sched_res_free (&p->req);
  for (size_t i = 0; i < p->n_ports; i++)
    free (p->ports[i].ip);
  free (p->ports);
  for (size_t i = 0; i < p->n_images; i++)
    free (p->images[i]);
  free (p->images);
  free (p);
}

void
sched_pod_slim (sched_pod *p)
{
  json_decref (p->obj);
  json_decref (p->tolerations);
  p->obj = p->tolerations = NULL;
  p->pref_node_terms = NULL;
  /* What stays is interned (intern.h): pods of one template share one labels object, and
     no part of the parsed event or list (freed) stays pinned in the heap. */
  json_t *labels = p->labels, *affinity = p->affinity;
  p->labels = sched_intern_value (sched_intern_shared (), labels);
  p->affinity = p->has_pod_affinity ? sched_intern_value (sched_intern_shared (), affinity) : NULL;
  json_decref (labels);
  json_decref (affinity);
}

int
sched_pod_parse (json_t *obj, sched_pod **out, husk_error **err)
{
  json_t *meta = json_object_get (obj, "metadata");
  json_t *spec = json_object_get (obj, "spec");
  const char *name = json_string_value (json_object_get (meta, "name"));
  const char *ns = json_string_value (json_object_get (meta, "namespace"));
  if (!name || !json_is_object (spec))
    return husk_err (err, EINVAL, "pod: metadata.name and spec are required");
  if (!ns || !*ns)
    ns = "default";

  sched_pod *p = xzalloc (sizeof *p);
  p->ns = xstrdup (ns);
  p->name = xstrdup (name);
  p->key = xasprintf ("%s/%s", ns, name);
  p->obj = json_incref (obj);
  p->labels = json_incref (json_object_get (meta, "labels"));
  p->tolerations = json_incref (json_object_get (spec, "tolerations"));
  p->affinity = json_incref (json_object_get (spec, "affinity"));
  p->pref_node_terms = husk_json_path (
      p->affinity, "nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution");
  p->priority = (int32_t)json_integer_value (json_object_get (spec, "priority"));
  const char *pp = json_string_value (json_object_get (spec, "preemptionPolicy"));
  p->preempt_never = pp && streq (pp, "Never");
  p->terminating = json_object_get (meta, "deletionTimestamp") != NULL
                   && !json_is_null (json_object_get (meta, "deletionTimestamp"));
  json_t *anti = husk_json_path (p->affinity, "podAntiAffinity");
  p->has_required_anti
      = json_array_size (json_object_get (anti, "requiredDuringSchedulingIgnoredDuringExecution"))
        > 0;
  p->has_pod_affinity = json_object_size (json_object_get (p->affinity, "podAffinity")) > 0
                        || json_object_size (anti) > 0;
  const char *node = json_string_value (json_object_get (spec, "nodeName"));
  if (node && *node)
    p->node = xstrdup (node);
  add_ports (p, json_object_get (spec, "containers"));
  add_images (p, json_object_get (spec, "initContainers"));
  add_images (p, json_object_get (spec, "containers"));

  int ret = pod_requests (spec, &p->req, &p->nz_cpu, &p->nz_mem, err);
  if (ret < 0)
    {
      sched_pod_free (p);
      return husk_err_wrap (err, "pod %s/%s", ns, name);
    }
  *out = p;
  return 0;
}
