/* husk node agent: QoS class and cgroup v2 values from requests and limits (see podspec.h). */
#include <errno.h>

#include "lib/json.h"
#include "src/node/agent/podspec.h"

typedef struct ctr_res
{
  bool has_req_cpu, has_req_mem, has_lim_cpu, has_lim_mem;
  int64_t req_cpu, req_mem, lim_cpu, lim_mem; /* millicores, bytes */
} ctr_res;

static int
res_get (json_t *list, const char *name, bool cpu, bool *has, int64_t *v, husk_error **err)
{
  json_t *q = json_object_get (list, name);
  *has = false;
  *v = 0;
  if (!q)
    return 0;
  int ret = cpu ? husk_quantity_json (q, 1000, name, v, err)
                : husk_quantity_json (q, 1, name, v, err);
  if (ret < 0)
    return ret;
  *has = *v > 0; /* upstream ignores zero quantities */
  return 0;
}

/* A container's requests and limits, requests defaulted from limits as the API does. */
static int
ctr_res_get (json_t *c, ctr_res *r, husk_error **err)
{
  json_t *res = json_object_get (c, "resources");
  json_t *req = json_object_get (res, "requests"), *lim = json_object_get (res, "limits");
  const char *name = json_string_value (json_object_get (c, "name"));
  int ret;
  if ((ret = res_get (req, "cpu", true, &r->has_req_cpu, &r->req_cpu, err)) < 0
      || (ret = res_get (req, "memory", false, &r->has_req_mem, &r->req_mem, err)) < 0
      || (ret = res_get (lim, "cpu", true, &r->has_lim_cpu, &r->lim_cpu, err)) < 0
      || (ret = res_get (lim, "memory", false, &r->has_lim_mem, &r->lim_mem, err)) < 0)
    return husk_err_wrap (err, "container %s: resources", name ? name : "?");
  if (!json_object_get (req, "cpu") && r->has_lim_cpu)
    {
      r->has_req_cpu = true;
      r->req_cpu = r->lim_cpu;
    }
  if (!json_object_get (req, "memory") && r->has_lim_mem)
    {
      r->has_req_mem = true;
      r->req_mem = r->lim_mem;
    }
  return 0;
}

static json_t *
spec_of (json_t *pod_spec)
{
  json_t *s = json_object_get (pod_spec, "spec");
  return s ? s : pod_spec;
}

int
agent_pod_qos (json_t *pod_spec, agent_qos *out, husk_error **err)
{
  static const char *const lists[] = { "initContainers", "containers" };
  json_t *spec = spec_of (pod_spec);
  int64_t req_cpu = 0, req_mem = 0, lim_cpu = 0, lim_mem = 0;
  bool any_req_cpu = false, any_req_mem = false, any_lim_cpu = false, any_lim_mem = false;
  bool guaranteed = true;
  for (size_t l = 0; l < ARRAY_SIZE (lists); l++)
    {
      size_t i;
      json_t *c;
      json_array_foreach (json_object_get (spec, lists[l]), i, c)
      {
        ctr_res r = { 0 };
        int ret = ctr_res_get (c, &r, err);
        if (ret < 0)
          return ret;
        if (r.has_req_cpu)
          any_req_cpu = true, req_cpu += r.req_cpu;
        if (r.has_req_mem)
          any_req_mem = true, req_mem += r.req_mem;
        if (r.has_lim_cpu)
          any_lim_cpu = true, lim_cpu += r.lim_cpu;
        if (r.has_lim_mem)
          any_lim_mem = true, lim_mem += r.lim_mem;
        if (!r.has_lim_cpu || !r.has_lim_mem)
          guaranteed = false;
      }
    }
  if (!any_req_cpu && !any_req_mem && !any_lim_cpu && !any_lim_mem)
    {
      *out = AGENT_QOS_BEST_EFFORT;
      return 0;
    }
  if (guaranteed
      && (any_req_cpu != any_lim_cpu || any_req_mem != any_lim_mem || req_cpu != lim_cpu
          || req_mem != lim_mem))
    guaranteed = false;
  *out = guaranteed ? AGENT_QOS_GUARANTEED : AGENT_QOS_BURSTABLE;
  return 0;
}

const char *
agent_qos_name (agent_qos q)
{
  switch (q)
    {
    case AGENT_QOS_GUARANTEED:
      return "Guaranteed";
    case AGENT_QOS_BURSTABLE:
      return "Burstable";
    default:
      return "BestEffort";
    }
}

uint64_t
agent_cpu_shares (int64_t milli)
{
  if (milli <= 0)
    return 2;
  uint64_t shares = (uint64_t)milli * 1024 / 1000;
  if (shares < 2)
    return 2;
  if (shares > 262144)
    return 262144;
  return shares;
}

uint64_t
agent_cpu_weight_from_shares (uint64_t shares)
{
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

int64_t
agent_cpu_quota (int64_t milli_limit)
{
  if (milli_limit <= 0)
    return -1;
  int64_t q = milli_limit * AGENT_CPU_PERIOD / 1000;
  return q < 1000 ? 1000 : q;
}

int
agent_container_cgroup (json_t *container, agent_cgroup_res *out, husk_error **err)
{
  ctr_res r = { 0 };
  int ret = ctr_res_get (container, &r, err);
  if (ret < 0)
    return ret;
  out->cpu_weight = agent_cpu_weight_from_shares (agent_cpu_shares (r.has_req_cpu ? r.req_cpu : 0));
  out->cpu_quota = r.has_lim_cpu ? agent_cpu_quota (r.lim_cpu) : -1;
  out->memory_max = r.has_lim_mem ? r.lim_mem : -1;
  out->memory_low = r.has_req_mem ? r.req_mem : 0;
  out->pids_max = -1;
  return 0;
}

static bool
is_sidecar (json_t *c)
{
  const char *p = json_string_value (json_object_get (c, "restartPolicy"));
  return p && streq (p, "Always");
}

int
agent_pod_cgroup (json_t *pod_spec, int64_t pids_limit, agent_cgroup_res *out, husk_error **err)
{
  json_t *spec = spec_of (pod_spec);
  agent_qos qos;
  int ret = agent_pod_qos (spec, &qos, err);
  if (ret < 0)
    return ret;
  /* kubelet's AggregateContainerRequests/Limits: the sum over regular containers and
     sidecars, or the largest init container when that is more (they run one at a time,
     before the others), counted with the sidecars started before it. */
  int64_t sum[4] = { 0 }, init_max[4] = { 0 }, side[4] = { 0 };
  bool all_cpu = true, all_mem = true;
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (spec, "initContainers"), i, c)
  {
    ctr_res r = { 0 };
    if ((ret = ctr_res_get (c, &r, err)) < 0)
      return ret;
    int64_t v[4] = { r.req_cpu, r.req_mem, r.lim_cpu, r.lim_mem };
    for (int k = 0; k < 4; k++)
      {
        int64_t eff = v[k] + side[k];
        if (is_sidecar (c))
          sum[k] += v[k], side[k] += v[k];
        if (eff > init_max[k])
          init_max[k] = eff;
      }
    if (!r.has_lim_cpu)
      all_cpu = false;
    if (!r.has_lim_mem)
      all_mem = false;
  }
  json_array_foreach (json_object_get (spec, "containers"), i, c)
  {
    ctr_res r = { 0 };
    if ((ret = ctr_res_get (c, &r, err)) < 0)
      return ret;
    int64_t v[4] = { r.req_cpu, r.req_mem, r.lim_cpu, r.lim_mem };
    for (int k = 0; k < 4; k++)
      sum[k] += v[k];
    if (!r.has_lim_cpu)
      all_cpu = false;
    if (!r.has_lim_mem)
      all_mem = false;
  }
  for (int k = 0; k < 4; k++)
    if (init_max[k] > sum[k])
      sum[k] = init_max[k];
  *out = (agent_cgroup_res){ .cpu_quota = -1, .memory_max = -1, .pids_max = -1 };
  out->pids_max = pids_limit > 0 ? pids_limit : -1;
  if (qos == AGENT_QOS_BEST_EFFORT)
    {
      out->cpu_weight = agent_cpu_weight_from_shares (2);
      return 0;
    }
  out->cpu_weight = agent_cpu_weight_from_shares (agent_cpu_shares (sum[0]));
  out->memory_low = sum[1];
  if (qos == AGENT_QOS_GUARANTEED || all_cpu)
    out->cpu_quota = agent_cpu_quota (sum[2]);
  if (qos == AGENT_QOS_GUARANTEED || all_mem)
    out->memory_max = sum[3] > 0 ? sum[3] : -1;
  return 0;
}

char *
agent_cgroup_value (const agent_cgroup_res *r, const char *file)
{
  if (streq (file, "cpu.weight"))
    return xasprintf ("%llu", (unsigned long long)r->cpu_weight);
  if (streq (file, "cpu.max"))
    return r->cpu_quota < 0 ? xasprintf ("max %d", AGENT_CPU_PERIOD)
                            : xasprintf ("%lld %d", (long long)r->cpu_quota, AGENT_CPU_PERIOD);
  if (streq (file, "memory.max"))
    return r->memory_max < 0 ? xstrdup ("max") : xasprintf ("%lld", (long long)r->memory_max);
  if (streq (file, "memory.low"))
    return xasprintf ("%lld", (long long)(r->memory_low > 0 ? r->memory_low : 0));
  if (streq (file, "pids.max"))
    return r->pids_max < 0 ? xstrdup ("max") : xasprintf ("%lld", (long long)r->pids_max);
  return NULL;
}
