/* husk api: validation beyond the schema (names, cross-field rules), upstream's messages. */
#include "config.h"

#include <ctype.h>

#include "lib/json.h"
#include "src/master/api/defaults.h"
#include "src/master/api/selector.h"

void
api_validate_name (const char *name, const char *field, bool label, api_problems *p)
{
  size_t n = strlen (name);
  bool ok = n > 0 && n <= (label ? 63u : 253u);
  for (size_t i = 0; ok && i < n; i++)
    {
      char c = name[i];
      bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (!alnum && c != '-' && (label || c != '.'))
        ok = false;
      if ((i == 0 || i == n - 1) && !alnum)
        ok = false;
    }
  if (!ok)
    api_problem_invalid (
        p, field, "FieldValueInvalid",
        "Invalid value: \"%s\": a lowercase RFC 1123 %s must consist of lower case alphanumeric "
        "characters, '-'%s, and must start and end with an alphanumeric character",
        name, label ? "label" : "subdomain", label ? "" : " or '.'");
}

static void
validate_containers (json_t *cs, const char *path, bool required, api_problems *p)
{
  if (required && json_array_size (cs) == 0)
    {
      api_problem_invalid (p, path, "FieldValueRequired", "Required value");
      return;
    }
  size_t i;
  json_t *c;
  json_array_foreach (cs, i, c)
  {
    const char *name = json_string_value (json_object_get (c, "name"));
    _cleanup_free_ char *np = xasprintf ("%s[%zu].name", path, i);
    if (name && *name)
      api_validate_name (name, np, true, p);
    const char *image = json_string_value (json_object_get (c, "image"));
    if (image == NULL || !*image)
      {
        _cleanup_free_ char *ip = xasprintf ("%s[%zu].image", path, i);
        api_problem_invalid (p, ip, "FieldValueRequired", "Required value");
      }
    for (size_t j = 0; j < i && name; j++)
      {
        const char *other = json_string_value (json_object_get (json_array_get (cs, j), "name"));
        if (other && streq (other, name))
          api_problem_invalid (p, np, "FieldValueDuplicate", "Duplicate value: \"%s\"", name);
      }
  }
}

static void
validate_pod_spec (json_t *spec, const char *path, api_problems *p)
{
  if (!json_is_object (spec))
    return;
  _cleanup_free_ char *cp = xasprintf ("%s.containers", path);
  validate_containers (json_object_get (spec, "containers"), cp, true, p);
  _cleanup_free_ char *ip = xasprintf ("%s.initContainers", path);
  validate_containers (json_object_get (spec, "initContainers"), ip, false, p);
}

/* A copy of a pod spec without the fields an update may change. */
static json_t *
pod_spec_fixed_part (const json_t *spec)
{
  json_t *c = json_deep_copy (spec);
  static const char *const mutable_fields[] = {"activeDeadlineSeconds", "tolerations",
                                               "terminationGracePeriodSeconds", "schedulingGates"};
  for (size_t i = 0; i < ARRAY_SIZE (mutable_fields); i++)
    json_object_del (c, mutable_fields[i]);
  static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};
  for (size_t i = 0; i < ARRAY_SIZE (lists); i++)
    {
      size_t j;
      json_t *ct;
      json_array_foreach (json_object_get (c, lists[i]), j, ct) json_object_del (ct, "image");
    }
  return c;
}

void
api_validate_pod (const json_t *o, const json_t *old, api_problems *p)
{
  json_t *spec = json_object_get (o, "spec");
  if (spec == NULL)
    {
      api_problem_invalid (p, "spec.containers", "FieldValueRequired", "Required value");
      return;
    }
  validate_pod_spec (spec, "spec", p);
  json_t *old_spec = json_object_get (old, "spec");
  if (old_spec)
    {
      json_t *a = pod_spec_fixed_part (spec), *b = pod_spec_fixed_part (old_spec);
      if (!json_equal (a, b))
        api_problem_invalid (p, "spec", "FieldValueForbidden",
                             "Forbidden: pod updates may not change fields other than "
                             "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                             "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
                             "to existing tolerations),`spec.terminationGracePeriodSeconds` "
                             "(allow it to be set to 1 if it was previously negative)");
      json_decref (a);
      json_decref (b);
    }
}

void
api_validate_service (const json_t *o, const json_t *old, api_problems *p)
{
  json_t *spec = json_object_get (o, "spec");
  const char *type = husk_json_path_str (o, "spec.type");
  const char *cip = husk_json_path_str (o, "spec.clusterIP");
  bool headless = cip && streq (cip, "None");
  if ((type == NULL || !streq (type, "ExternalName")) && !headless
      && json_array_size (json_object_get (spec, "ports")) == 0)
    api_problem_invalid (p, "spec.ports", "FieldValueRequired", "Required value");
  size_t i;
  json_t *port;
  json_array_foreach (json_object_get (spec, "ports"), i, port)
  {
    json_int_t n = json_integer_value (json_object_get (port, "port"));
    if (json_object_get (port, "port") && (n < 1 || n > 65535))
      {
        _cleanup_free_ char *f = xasprintf ("spec.ports[%zu].port", i);
        api_problem_invalid (p, f, "FieldValueInvalid",
                             "Invalid value: %lld: must be between 1 and 65535, inclusive",
                             (long long) n);
      }
    if (json_array_size (json_object_get (spec, "ports")) > 1
        && json_object_get (port, "name") == NULL)
      {
        _cleanup_free_ char *f = xasprintf ("spec.ports[%zu].name", i);
        api_problem_invalid (p, f, "FieldValueRequired", "Required value");
      }
  }
  if (old)
    {
      const char *old_ip = husk_json_path_str (old, "spec.clusterIP");
      if (cip && old_ip && !streq (cip, old_ip) && !(type && streq (type, "ExternalName")))
        api_problem_invalid (p, "spec.clusterIPs[0]", "FieldValueInvalid",
                             "Invalid value: []string{\"%s\"}: may not change once set", cip);
    }
}

/* The selector must select the template's labels (Deployment, ReplicaSet, ...). */
void
api_validate_workload (const json_t *o, const json_t *old, api_problems *p)
{
  json_t *spec = json_object_get (o, "spec");
  if (!json_is_object (spec))
    return;
  json_t *r = json_object_get (spec, "replicas");
  if (r && json_integer_value (r) < 0)
    api_problem_invalid (p, "spec.replicas", "FieldValueInvalid",
                         "Invalid value: %lld: must be greater than or equal to 0",
                         (long long) json_integer_value (r));
  json_t *tmpl = json_object_get (spec, "template");
  json_t *sel = json_object_get (spec, "selector");
  if (json_is_object (sel) && json_is_object (tmpl))
    {
      if (json_object_size (json_object_get (sel, "matchLabels")) == 0
          && json_array_size (json_object_get (sel, "matchExpressions")) == 0)
        api_problem_invalid (p, "spec.selector", "FieldValueInvalid",
                             "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
                             "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty "
                             "selector is invalid for deployment");
      _cleanup_ (api_selector_freep) api_selector *s = NULL;
      if (api_label_selector_from_json (sel, &s, NULL) == 0 && !api_selector_matches (s, tmpl))
        api_problem_invalid (p, "spec.template.metadata.labels", "FieldValueInvalid",
                             "Invalid value: %s: `selector` does not match template `labels`",
                             "map[string]string{...}");
    }
  validate_pod_spec (husk_json_path (spec, "template.spec"), "spec.template.spec", p);
}

void
api_validate_configmap (const json_t *o, const json_t *old, api_problems *p)
{
  const char *fields[] = {"data", "binaryData"};
  for (size_t f = 0; f < 2; f++)
    {
      const char *k;
      json_t *v;
      json_object_foreach (json_object_get (o, fields[f]), k, v)
      {
        bool ok = *k && strlen (k) <= 253;
        for (const char *c = k; ok && *c; c++)
          ok = isalnum ((unsigned char) *c) || *c == '-' || *c == '_' || *c == '.';
        if (!ok)
          {
            _cleanup_free_ char *fp = xasprintf ("%s[%s]", fields[f], k);
            api_problem_invalid (p, fp, "FieldValueInvalid",
                                 "Invalid value: \"%s\": a valid config key must consist of "
                                 "alphanumeric characters, '-', '_' or '.'",
                                 k);
          }
      }
    }
  if (old && json_is_true (json_object_get (old, "immutable")))
    {
      json_t *a = json_object_get (o, "data"), *b = json_object_get (old, "data");
      if (!json_equal (a ? a : json_null (), b ? b : json_null ()))
        api_problem_invalid (p, "data", "FieldForbidden",
                             "Forbidden: field is immutable when `immutable` is set");
    }
}
