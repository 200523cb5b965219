/* husk api: Table output and the cells of upstream kubectl's columns. */
#include "config.h"

#include <time.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "src/master/api/handlers.h"
#include "src/master/api/slim.h"
#include "src/master/api/table.h"

static const char *
str_at (const json_t *o, const char *path)
{
  return husk_json_path_str (o, path);
}

static json_int_t
int_at (const json_t *o, const char *path)
{
  return json_integer_value (husk_json_path (o, path));
}

static json_t *
s_or_none (const char *s)
{
  return json_string (s && *s ? s : "<none>");
}

char *
api_age (const char *ts)
{
  struct tm tm = {0};
  if (ts == NULL || strptime (ts, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return xstrdup ("<unknown>");
  time_t t = timegm (&tm);
  long long d = (long long) (time (NULL) - t);
  if (d < 0)
    d = 0;
  /* duration.HumanDuration */
  if (d < 120)
    return xasprintf ("%llds", d);
  long long m = d / 60, h = d / 3600, days = h / 24, y = days / 365;
  if (m < 10)
    return d % 60 ? xasprintf ("%lldm%llds", m, d % 60) : xasprintf ("%lldm", m);
  if (m < 180)
    return xasprintf ("%lldm", m);
  if (h < 8)
    return m % 60 ? xasprintf ("%lldh%lldm", h, m % 60) : xasprintf ("%lldh", h);
  if (h < 48)
    return xasprintf ("%lldh", h);
  if (h < 192)
    return h % 24 ? xasprintf ("%lldd%lldh", days, h % 24) : xasprintf ("%lldd", days);
  if (y < 2)
    return xasprintf ("%lldd", days);
  if (y < 8)
    return days % 365 ? xasprintf ("%lldy%lldd", y, days % 365) : xasprintf ("%lldy", y);
  return xasprintf ("%lldy", y);
}

/* ---- pods ---- */

json_t *
api_cell_pod_ready (const json_t *o)
{
  json_t *specs = husk_json_path (o, "spec.containers");
  json_t *sts = husk_json_path (o, "status.containerStatuses");
  size_t ready = 0, i;
  json_t *c;
  json_array_foreach (sts, i, c) ready += json_is_true (json_object_get (c, "ready"));
  return json_sprintf ("%zu/%zu", ready, json_array_size (specs));
}

json_t *
api_cell_pod_status (const json_t *o)
{
  const char *reason = str_at (o, "status.reason");
  const char *phase = str_at (o, "status.phase");
  const char *st = reason ? reason : phase ? phase : "Pending";
  size_t i;
  json_t *c;
  json_array_foreach (husk_json_path (o, "status.containerStatuses"), i, c)
  {
    const char *w = husk_json_path_str (c, "state.waiting.reason");
    const char *t = husk_json_path_str (c, "state.terminated.reason");
    if (w && *w)
      st = w;
    else if (t && *t && !(phase && streq (phase, "Running")))
      st = t;
  }
  if (husk_json_path (o, "metadata.deletionTimestamp"))
    st = "Terminating";
  return json_string (st);
}

json_t *
api_cell_pod_restarts (const json_t *o)
{
  json_int_t n = 0;
  size_t i;
  json_t *c;
  json_array_foreach (husk_json_path (o, "status.containerStatuses"), i, c)
      n += json_integer_value (json_object_get (c, "restartCount"));
  return json_integer (n);
}

json_t *
api_cell_pod_gates (const json_t *o)
{
  json_t *g = husk_json_path (o, "spec.readinessGates");
  if (json_array_size (g) == 0)
    return json_string ("<none>");
  size_t ok = 0, i;
  json_t *x;
  json_array_foreach (g, i, x)
  {
    const char *type = json_string_value (json_object_get (x, "conditionType"));
    size_t j;
    json_t *c;
    json_array_foreach (husk_json_path (o, "status.conditions"), j, c)
    {
      const char *ct = json_string_value (json_object_get (c, "type"));
      const char *cs = json_string_value (json_object_get (c, "status"));
      if (type && ct && cs && streq (ct, type) && streq (cs, "True"))
        ok++;
    }
  }
  return json_sprintf ("%zu/%zu", ok, json_array_size (g));
}

/* ---- nodes ---- */

json_t *
api_cell_node_status (const json_t *o)
{
  const char *st = "Unknown";
  size_t i;
  json_t *c;
  json_array_foreach (husk_json_path (o, "status.conditions"), i, c)
  {
    const char *t = json_string_value (json_object_get (c, "type"));
    const char *s = json_string_value (json_object_get (c, "status"));
    if (t && s && streq (t, "Ready"))
      st = streq (s, "True") ? "Ready" : "NotReady";
  }
  if (json_is_true (husk_json_path (o, "spec.unschedulable")))
    return json_sprintf ("%s,SchedulingDisabled", st);
  return json_string (st);
}

json_t *
api_cell_node_roles (const json_t *o)
{
  husk_buf b = HUSK_BUF_INIT;
  const char *k;
  json_t *v;
  json_object_foreach (husk_json_path (o, "metadata.labels"), k, v)
  {
    const char *pre = "node-role.kubernetes.io/";
    if (strncmp (k, pre, strlen (pre)) == 0 && k[strlen (pre)])
      husk_buf_printf (&b, "%s%s", b.len ? "," : "", k + strlen (pre));
  }
  json_t *r = s_or_none (husk_buf_str (&b));
  husk_buf_free (&b);
  return r;
}

static json_t *
node_addr (const json_t *o, const char *type)
{
  size_t i;
  json_t *a;
  json_array_foreach (husk_json_path (o, "status.addresses"), i, a)
  {
    const char *t = json_string_value (json_object_get (a, "type"));
    if (t && streq (t, type))
      return s_or_none (json_string_value (json_object_get (a, "address")));
  }
  return json_string ("<none>");
}

json_t *
api_cell_node_internal_ip (const json_t *o)
{
  return node_addr (o, "InternalIP");
}

json_t *
api_cell_node_external_ip (const json_t *o)
{
  return node_addr (o, "ExternalIP");
}

/* ---- services ---- */

json_t *
api_cell_svc_external_ip (const json_t *o)
{
  const char *type = str_at (o, "spec.type");
  if (type && streq (type, "ExternalName"))
    return s_or_none (str_at (o, "spec.externalName"));
  husk_buf b = HUSK_BUF_INIT;
  size_t i;
  json_t *x;
  json_array_foreach (husk_json_path (o, "spec.externalIPs"), i, x)
      husk_buf_printf (&b, "%s%s", b.len ? "," : "", json_string_value (x));
  json_array_foreach (husk_json_path (o, "status.loadBalancer.ingress"), i, x)
  {
    const char *ip = json_string_value (json_object_get (x, "ip"));
    if (ip)
      husk_buf_printf (&b, "%s%s", b.len ? "," : "", ip);
  }
  json_t *r = json_string (b.len ? husk_buf_str (&b)
                                 : (type && streq (type, "LoadBalancer")) ? "<pending>"
                                                                          : "<none>");
  husk_buf_free (&b);
  return r;
}

json_t *
api_cell_svc_ports (const json_t *o)
{
  husk_buf b = HUSK_BUF_INIT;
  size_t i;
  json_t *p;
  json_array_foreach (husk_json_path (o, "spec.ports"), i, p)
  {
    const char *proto = json_string_value (json_object_get (p, "protocol"));
    json_int_t np = json_integer_value (json_object_get (p, "nodePort"));
    husk_buf_printf (&b, "%s%lld", b.len ? "," : "",
                     (long long) json_integer_value (json_object_get (p, "port")));
    if (np)
      husk_buf_printf (&b, ":%lld", (long long) np);
    husk_buf_printf (&b, "/%s", proto ? proto : "TCP");
  }
  json_t *r = s_or_none (husk_buf_str (&b));
  husk_buf_free (&b);
  return r;
}

static json_t *
map_string (const json_t *m)
{
  husk_buf b = HUSK_BUF_INIT;
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *) m, k, v)
      husk_buf_printf (&b, "%s%s=%s", b.len ? "," : "", k, json_string_value (v));
  json_t *r = s_or_none (husk_buf_str (&b));
  husk_buf_free (&b);
  return r;
}

json_t *
api_cell_selector_map (const json_t *o)
{
  return map_string (husk_json_path (o, "spec.selector"));
}

json_t *
api_cell_node_selector (const json_t *o)
{
  return map_string (husk_json_path (o, "spec.template.spec.nodeSelector"));
}

json_t *
api_cell_label_selector (const json_t *o)
{
  json_t *ls = husk_json_path (o, "spec.selector");
  husk_buf b = HUSK_BUF_INIT;
  const char *k;
  json_t *v;
  json_object_foreach (json_object_get (ls, "matchLabels"), k, v)
      husk_buf_printf (&b, "%s%s=%s", b.len ? "," : "", k, json_string_value (v));
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get (ls, "matchExpressions"), i, e)
  {
    const char *key = json_string_value (json_object_get (e, "key"));
    const char *op = json_string_value (json_object_get (e, "operator"));
    if (!key || !op)
      continue;
    if (streq (op, "Exists"))
      husk_buf_printf (&b, "%s%s", b.len ? "," : "", key);
    else if (streq (op, "DoesNotExist"))
      husk_buf_printf (&b, "%s!%s", b.len ? "," : "", key);
    else
      {
        husk_buf_printf (&b, "%s%s %s (", b.len ? "," : "", key,
                         streq (op, "In") ? "in" : "notin");
        size_t j;
        json_t *x;
        json_array_foreach (json_object_get (e, "values"), j, x)
            husk_buf_printf (&b, "%s%s", j ? "," : "", json_string_value (x));
        husk_buf_puts (&b, ")");
      }
  }
  json_t *r = s_or_none (husk_buf_str (&b));
  husk_buf_free (&b);
  return r;
}

json_t *
api_cell_data_count (const json_t *o)
{
  return json_integer ((json_int_t) (json_object_size (json_object_get (o, "data"))
                                     + json_object_size (json_object_get (o, "binaryData"))));
}

/* ---- workloads ---- */

json_t *
api_cell_deploy_ready (const json_t *o)
{
  return json_sprintf ("%lld/%lld", (long long) int_at (o, "status.readyReplicas"),
                       (long long) int_at (o, "spec.replicas"));
}

json_t *
api_cell_sts_ready (const json_t *o)
{
  return api_cell_deploy_ready (o);
}

static json_t *
template_list (const json_t *o, const char *key)
{
  json_t *cs = husk_json_path (o, "spec.template.spec.containers");
  if (cs == NULL)
    cs = husk_json_path (o, "spec.jobTemplate.spec.template.spec.containers");
  husk_buf b = HUSK_BUF_INIT;
  size_t i;
  json_t *c;
  json_array_foreach (cs, i, c)
  {
    const char *v = json_string_value (json_object_get (c, key));
    husk_buf_printf (&b, "%s%s", i ? "," : "", v ? v : "");
  }
  json_t *r = s_or_none (husk_buf_str (&b));
  husk_buf_free (&b);
  return r;
}

json_t *
api_cell_containers (const json_t *o)
{
  return template_list (o, "name");
}

json_t *
api_cell_images (const json_t *o)
{
  return template_list (o, "image");
}

json_t *
api_cell_replicas (const json_t *o)
{
  return json_integer (int_at (o, "spec.replicas"));
}

json_t *
api_cell_status_replicas (const json_t *o)
{
  return json_integer (int_at (o, "status.replicas"));
}

json_t *
api_cell_ready_replicas (const json_t *o)
{
  return json_integer (int_at (o, "status.readyReplicas"));
}

json_t *
api_cell_updated_replicas (const json_t *o)
{
  return json_integer (int_at (o, "status.updatedReplicas"));
}

json_t *
api_cell_available_replicas (const json_t *o)
{
  return json_integer (int_at (o, "status.availableReplicas"));
}

json_t *
api_cell_ds_desired (const json_t *o)
{
  return json_integer (int_at (o, "status.desiredNumberScheduled"));
}

json_t *
api_cell_ds_current (const json_t *o)
{
  return json_integer (int_at (o, "status.currentNumberScheduled"));
}

json_t *
api_cell_ds_ready (const json_t *o)
{
  return json_integer (int_at (o, "status.numberReady"));
}

json_t *
api_cell_ds_updated (const json_t *o)
{
  return json_integer (int_at (o, "status.updatedNumberScheduled"));
}

json_t *
api_cell_ds_available (const json_t *o)
{
  return json_integer (int_at (o, "status.numberAvailable"));
}

static bool
has_condition (const json_t *o, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach (husk_json_path (o, "status.conditions"), i, c)
  {
    const char *t = json_string_value (json_object_get (c, "type"));
    const char *s = json_string_value (json_object_get (c, "status"));
    if (t && s && streq (t, type) && streq (s, "True"))
      return true;
  }
  return false;
}

json_t *
api_cell_job_status (const json_t *o)
{
  if (has_condition (o, "Complete"))
    return json_string ("Complete");
  if (has_condition (o, "Failed"))
    return json_string ("Failed");
  if (husk_json_path (o, "metadata.deletionTimestamp"))
    return json_string ("Terminating");
  if (has_condition (o, "Suspended"))
    return json_string ("Suspended");
  return json_string ("Running");
}

json_t *
api_cell_job_completions (const json_t *o)
{
  json_t *c = husk_json_path (o, "spec.completions");
  long long done = (long long) int_at (o, "status.succeeded");
  if (c)
    return json_sprintf ("%lld/%lld", done, (long long) json_integer_value (c));
  return json_sprintf ("%lld/1 of %lld", done, (long long) int_at (o, "spec.parallelism"));
}

json_t *
api_cell_cronjob_last (const json_t *o)
{
  const char *t = str_at (o, "status.lastScheduleTime");
  if (t == NULL)
    return json_string ("<none>");
  _cleanup_free_ char *a = api_age (t);
  return json_string (a);
}

json_t *
api_cell_cronjob_active (const json_t *o)
{
  return json_integer ((json_int_t) json_array_size (husk_json_path (o, "status.active")));
}

json_t *
api_cell_bool_suspend (const json_t *o)
{
  return json_boolean (json_is_true (husk_json_path (o, "spec.suspend")));
}

/* ---- HPAs (v2 shape: the table is built from the stored version) ---- */

json_t *
api_cell_hpa_reference (const json_t *o)
{
  const char *k = str_at (o, "spec.scaleTargetRef.kind");
  const char *n = str_at (o, "spec.scaleTargetRef.name");
  return json_sprintf ("%s/%s", k ? k : "", n ? n : "");
}

json_t *
api_cell_hpa_targets (const json_t *o)
{
  husk_buf b = HUSK_BUF_INIT;
  size_t i;
  json_t *m;
  json_array_foreach (husk_json_path (o, "spec.metrics"), i, m)
  {
    const char *name = husk_json_path_str (m, "resource.name");
    json_t *u = husk_json_path (m, "resource.target.averageUtilization");
    json_t *cur = NULL;
    size_t j;
    json_t *c;
    json_array_foreach (husk_json_path (o, "status.currentMetrics"), j, c)
    {
      const char *cn = husk_json_path_str (c, "resource.name");
      if (cn && name && streq (cn, name))
        cur = husk_json_path (c, "resource.current.averageUtilization");
    }
    if (name && json_is_integer (u))
      {
        _cleanup_free_ char *now = cur ? xasprintf ("%lld%%", (long long) json_integer_value (cur))
                                       : xstrdup ("<unknown>");
        husk_buf_printf (&b, "%s%s: %s/%lld%%", b.len ? ", " : "", name, now,
                         (long long) json_integer_value (u));
      }
  }
  json_t *r = s_or_none (husk_buf_str (&b));
  husk_buf_free (&b);
  return r;
}

json_t *
api_cell_hpa_min (const json_t *o)
{
  json_t *m = husk_json_path (o, "spec.minReplicas");
  return json_sprintf ("%lld", (long long) (m ? json_integer_value (m) : 1));
}

json_t *
api_cell_hpa_max (const json_t *o)
{
  return json_integer (int_at (o, "spec.maxReplicas"));
}

json_t *
api_cell_hpa_replicas (const json_t *o)
{
  return json_integer (int_at (o, "status.currentReplicas"));
}

/* ---- misc ---- */

json_t *
api_cell_endpoints (const json_t *o)
{
  husk_buf b = HUSK_BUF_INIT;
  size_t i, n = 0;
  json_t *s;
  json_array_foreach (json_object_get (o, "subsets"), i, s)
  {
    size_t j, k;
    json_t *a, *p;
    json_array_foreach (json_object_get (s, "addresses"), j, a)
    {
      json_t *ports = json_object_get (s, "ports");
      if (json_array_size (ports) == 0 && n++ < 3)
        husk_buf_printf (&b, "%s%s", b.len ? "," : "",
                         json_string_value (json_object_get (a, "ip")));
      json_array_foreach (ports, k, p) if (n++ < 3) husk_buf_printf (
          &b, "%s%s:%lld", b.len ? "," : "", json_string_value (json_object_get (a, "ip")),
          (long long) json_integer_value (json_object_get (p, "port")));
    }
  }
  if (n > 3)
    husk_buf_printf (&b, " + %zu more...", n - 3);
  json_t *r = s_or_none (husk_buf_str (&b));
  husk_buf_free (&b);
  return r;
}

json_t *
api_cell_sa_secrets (const json_t *o)
{
  return json_integer ((json_int_t) json_array_size (json_object_get (o, "secrets")));
}

json_t *
api_cell_event_object (const json_t *o)
{
  const char *k = str_at (o, "involvedObject.kind");
  const char *n = str_at (o, "involvedObject.name");
  return json_sprintf ("%s/%s", k ? k : "", n ? n : "");
}

json_t *
api_cell_event_last_seen (const json_t *o)
{
  const char *t = str_at (o, "lastTimestamp");
  if (t == NULL)
    t = str_at (o, "eventTime");
  if (t == NULL)
    t = str_at (o, "metadata.creationTimestamp");
  _cleanup_free_ char *a = api_age (t);
  return json_string (a);
}

json_t *
api_cell_event_source (const json_t *o)
{
  const char *c = str_at (o, "source.component");
  const char *h = str_at (o, "source.host");
  if (c == NULL)
    c = str_at (o, "reportingComponent");
  if (c && h)
    return json_sprintf ("%s, %s", c, h);
  return s_or_none (c);
}

json_t *
api_cell_event_first_seen (const json_t *o)
{
  const char *t = str_at (o, "firstTimestamp");
  if (t == NULL)
    t = str_at (o, "eventTime");
  _cleanup_free_ char *a = api_age (t);
  return json_string (a);
}

json_t *
api_cell_event_count (const json_t *o)
{
  json_int_t n = int_at (o, "count");
  return json_sprintf ("%lld", (long long) (n ? n : 1));
}

json_t *
api_cell_role_ref (const json_t *o)
{
  const char *k = str_at (o, "roleRef.kind");
  const char *n = str_at (o, "roleRef.name");
  return json_sprintf ("%s/%s", k ? k : "", n ? n : "");
}

/* ---- the Table ---- */

static json_t *
column_defs (const api_resource *res)
{
  json_t *cols = json_array ();
  if (!res->name_wide)
    json_array_append_new (cols, json_pack ("{s:s, s:s, s:s, s:s, s:i}", "name", "Name", "type",
                                            "string", "format", "name", "description",
                                            "Name must be unique within a namespace.",
                                            "priority", 0));
  for (const api_column *c = res->columns; c && c->name; c++)
    json_array_append_new (cols, json_pack ("{s:s, s:s, s:s, s:s, s:i}", "name", c->name, "type",
                                            c->type, "format", c->format, "description", "",
                                            "priority", c->priority));
  return cols;
}

static json_t *
row_object (const json_t *obj, const char *include_object)
{
  if (include_object && streq (include_object, "None"))
    return json_null ();
  if (include_object && streq (include_object, "Object"))
    return json_incref ((json_t *) obj);
  json_t *meta = json_copy (json_object_get (obj, "metadata"));
  json_object_del (meta, "managedFields");
  return json_pack ("{s:s, s:s, s:o}", "kind", "PartialObjectMetadata", "apiVersion",
                    "meta.k8s.io/v1", "metadata", meta ? meta : json_object ());
}

static json_t *
row (const api_resource *res, const json_t *obj, const char *include_object)
{
  json_t *cells = json_array ();
  const char *name = husk_json_path_str (obj, "metadata.name");
  if (!res->name_wide)
    json_array_append_new (cells, json_string (name ? name : ""));
  for (const api_column *c = res->columns; c && c->name; c++)
    {
      json_t *v;
      if (c->cell)
        v = c->cell (obj);
      else if (c->path)
        v = s_or_none (husk_json_path_str (obj, c->path));
      else
        {
          _cleanup_free_ char *age = api_age (husk_json_path_str (obj, "metadata.creationTimestamp"));
          v = json_string (age);
        }
      json_array_append_new (cells, v);
    }
  return json_pack ("{s:o, s:o}", "cells", cells, "object", row_object (obj, include_object));
}

json_t *
api_table_new (const api_resource *res, const char *rv, const char *cont, bool with_columns)
{
  json_t *meta = json_pack ("{s:s}", "resourceVersion", rv ? rv : "");
  if (cont && *cont)
    json_object_set_new (meta, "continue", json_string (cont));
  json_t *t = json_pack ("{s:s, s:s, s:o}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                         "metadata", meta);
  if (with_columns)
    json_object_set_new (t, "columnDefinitions", column_defs (res));
  json_object_set_new (t, "rows", json_array ());
  return t;
}

void
api_table_add_row (json_t *table, const api_resource *res, const json_t *obj,
                   const char *include_object)
{
  json_array_append_new (json_object_get (table, "rows"), row (res, obj, include_object));
}

json_t *
api_table_build (const api_resource *res, json_t *items, const char *rv, const char *cont,
                 const char *include_object, bool with_columns)
{
  json_t *t = api_table_new (res, rv, cont, with_columns);
  size_t i;
  json_t *it;
  json_array_foreach (items, i, it) api_table_add_row (t, res, it, include_object);
  return t;
}

static int
dump_to_buf (const char *s, size_t n, void *data)
{
  husk_buf_append (data, s, n);
  return 0;
}

/* The pod columns, which api_slim_pod_row writes without a parse. */
static bool
pod_columns (const api_resource *res)
{
  return !res->name_wide && res->columns && res->columns[0].cell == api_cell_pod_ready;
}

bool
api_table_put_row (const api_resource *res, const char *json, const char *include_object,
                   husk_buf *out)
{
  size_t len = strlen (json);
  if (pod_columns (res) && api_slim_pod_row (json, len, include_object, out))
    return true;
  json_t *o = NULL;
  if (api_parse_without_managed (json, &o) < 0)
    return false;
  json_t *r = row (res, o, include_object);
  if (json_dump_callback (r, dump_to_buf, out, JSON_COMPACT) < 0)
    husk_oom ();
  json_decref (r);
  json_decref (o);
  return true;
}
