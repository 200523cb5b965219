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
