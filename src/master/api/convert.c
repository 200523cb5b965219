/* husk api: conversion between served versions sharing one storage version. HPAs are stored
   as autoscaling/v2; autoscaling/v1's targetCPUUtilizationPercentage is the v2 metric
   {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization}}}. */
#include "config.h"

#include "lib/json.h"
#include "src/master/api/handlers.h"

void
api_hpa_v1_to_v2 (json_t *o)
{
  json_object_set_new (o, "apiVersion", json_string ("autoscaling/v2"));
  json_t *spec = json_object_get (o, "spec");
  json_t *cpu = json_object_get (spec, "targetCPUUtilizationPercentage");
  if (json_is_integer (cpu))
    json_object_set_new (spec, "metrics",
                         json_pack ("[{s:s, s:{s:s, s:{s:s, s:I}}}]", "type", "Resource",
                                    "resource", "name", "cpu", "target", "type", "Utilization",
                                    "averageUtilization", json_integer_value (cpu)));
  json_object_del (spec, "targetCPUUtilizationPercentage");
  json_t *st = json_object_get (o, "status");
  json_t *cur = json_object_get (st, "currentCPUUtilizationPercentage");
  if (json_is_integer (cur))
    json_object_set_new (st, "currentMetrics",
                         json_pack ("[{s:s, s:{s:s, s:{s:I}}}]", "type", "Resource", "resource",
                                    "name", "cpu", "current", "averageUtilization",
                                    json_integer_value (cur)));
  json_object_del (st, "currentCPUUtilizationPercentage");
}

void
api_hpa_v2_to_v1 (json_t *o)
{
  json_object_set_new (o, "apiVersion", json_string ("autoscaling/v1"));
  json_t *spec = json_object_get (o, "spec");
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (spec, "metrics"), i, m)
  {
    const char *name = husk_json_path_str (m, "resource.name");
    json_t *u = husk_json_path (m, "resource.target.averageUtilization");
    if (name && streq (name, "cpu") && json_is_integer (u))
      json_object_set (spec, "targetCPUUtilizationPercentage", u);
  }
  json_object_del (spec, "metrics");
  json_object_del (spec, "behavior");
  json_t *st = json_object_get (o, "status");
  json_array_foreach (json_object_get (st, "currentMetrics"), i, m)
  {
    json_t *u = husk_json_path (m, "resource.current.averageUtilization");
    if (json_is_integer (u))
      json_object_set (st, "currentCPUUtilizationPercentage", u);
  }
  json_object_del (st, "currentMetrics");
  json_object_del (st, "conditions");
}

/* events.k8s.io/v1 Events are stored as core/v1 Events (one list for `kubectl get events`,
   `kubectl events` and describe). Field pairs: {core name, events.k8s.io name}. */
static const char *const event_fields[][2] = {
  {"involvedObject", "regarding"},
  {"message", "note"},
  {"reportingComponent", "reportingController"},
  {"source", "deprecatedSource"},
  {"firstTimestamp", "deprecatedFirstTimestamp"},
  {"lastTimestamp", "deprecatedLastTimestamp"},
  {"count", "deprecatedCount"},
};

static void
rename_fields (json_t *o, int from, int to)
{
  for (size_t i = 0; i < ARRAY_SIZE (event_fields); i++)
    {
      json_t *v = json_object_get (o, event_fields[i][from]);
      if (v)
        {
          json_object_set (o, event_fields[i][to], v);
          json_object_del (o, event_fields[i][from]);
        }
    }
}

void
api_event_v1_to_core (json_t *o)
{
  rename_fields (o, 1, 0);
  json_object_set_new (o, "apiVersion", json_string ("v1"));
  const char *instance = json_string_value (json_object_get (o, "reportingInstance"));
  const char *component = json_string_value (json_object_get (o, "reportingComponent"));
  if (json_object_get (o, "source") == NULL && (component || instance))
    {
      json_t *src = json_object ();
      if (component)
        json_object_set_new (src, "component", json_string (component));
      if (instance)
        json_object_set_new (src, "host", json_string (instance));
      json_object_set_new (o, "source", src);
    }
}

void
api_event_core_to_v1 (json_t *o)
{
  rename_fields (o, 0, 1);
  json_object_set_new (o, "apiVersion", json_string ("events.k8s.io/v1"));
  if (json_object_get (o, "reportingController") == NULL)
    {
      const char *c = husk_json_path_str (o, "deprecatedSource.component");
      if (c)
        json_object_set_new (o, "reportingController", json_string (c));
    }
  if (json_object_get (o, "reportingInstance") == NULL)
    {
      const char *h = husk_json_path_str (o, "deprecatedSource.host");
      if (h)
        json_object_set_new (o, "reportingInstance", json_string (h));
    }
  if (json_object_get (o, "eventTime") == NULL || json_is_null (json_object_get (o, "eventTime")))
    {
      json_t *t = json_object_get (o, "deprecatedFirstTimestamp");
      if (t == NULL)
        t = husk_json_path (o, "metadata.creationTimestamp");
      if (json_is_string (t))
        json_object_set_new (o, "eventTime",
                             json_sprintf ("%.19s.000000Z", json_string_value (t)));
    }
}

char *
api_storage_text (const api_resource *res, const json_t *obj)
{
  if (res->to_storage == NULL)
    return husk_json_dump (obj);
  json_t *c = json_deep_copy (obj);
  res->to_storage (c);
  char *s = husk_json_dump (c);
  json_decref (c);
  return s;
}

char *
api_served_text (const api_resource *res, const char *json)
{
  json_t *o = NULL;
  if (res->from_storage == NULL || husk_json_parse (json, strlen (json), &o, NULL) < 0)
    return xstrdup (json);
  res->from_storage (o);
  char *s = husk_json_dump (o);
  json_decref (o);
  return s;
}
