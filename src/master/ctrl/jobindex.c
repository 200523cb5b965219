/* Indexed Jobs: the completion index of a pod, status.completedIndexes and failedIndexes in
   upstream's compressed interval list ("1,3-5,7"), the per-index failure counts of
   backoffLimitPerIndex and spec.successPolicy. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "src/master/ctrl/logic.h"

int64_t
ctrl_job_pod_index (const json_t *pod)
{
  json_t *ann = husk_json_path (pod, "metadata.annotations");
  const char *s = json_string_value (json_object_get (ann, CTRL_JOB_INDEX_KEY));
  if (!s)
    s = json_string_value (
        json_object_get (husk_json_path (pod, "metadata.labels"), CTRL_JOB_INDEX_KEY));
  if (!s || *s < '0' || *s > '9')
    return -1;
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  return *end || errno || v > INT32_MAX ? -1 : v;
}

int
ctrl_job_parse_indexes (const char *s, bool *done, int64_t n, husk_error **err)
{
  const char *p = s ? s : "";
  while (*p)
    {
      char *end;
      long long a = strtoll (p, &end, 10), b = a;
      if (end == p || a < 0)
        return husk_err (err, EINVAL, "completedIndexes \"%s\": bad interval at \"%s\"", s, p);
      p = end;
      if (*p == '-')
        {
          b = strtoll (p + 1, &end, 10);
          if (end == p + 1 || b < a)
            return husk_err (err, EINVAL, "completedIndexes \"%s\": bad interval at \"%s\"",
                             s, p);
          p = end;
        }
      for (long long i = a; i <= b && i < n; i++)
        done[i] = true;
      if (*p == ',')
        p++;
      else if (*p)
        return husk_err (err, EINVAL, "completedIndexes \"%s\": unexpected \"%c\"", s, *p);
    }
  return 0;
}

char *
ctrl_job_format_indexes (const bool *done, int64_t n)
{
  husk_buf b = HUSK_BUF_INIT;
  for (int64_t i = 0; i < n; i++)
    {
      if (!done[i])
        continue;
      int64_t j = i;
      while (j + 1 < n && done[j + 1])
        j++;
      if (b.len)
        husk_buf_puts (&b, ",");
      if (j == i)
        husk_buf_printf (&b, "%lld", (long long)i);
      else
        husk_buf_printf (&b, "%lld-%lld", (long long)i, (long long)j);
      i = j;
    }
  char *out = husk_buf_steal (&b);
  return out ? out : xstrdup ("");
}

int64_t
ctrl_job_pod_count (const json_t *pod, const char *key)
{
  const char *s
      = json_string_value (json_object_get (husk_json_path (pod, "metadata.annotations"), key));
  if (!s || *s < '0' || *s > '9')
    return 0;
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  return *end || errno || v > INT32_MAX ? 0 : v;
}

/* Whether one successPolicy rule is met. */
static bool
rule_met (const json_t *rule, const bool *done, int64_t n)
{
  const char *listed = json_string_value (json_object_get (rule, "succeededIndexes"));
  json_t *count = json_object_get (rule, "succeededCount");
  if (!listed && !json_is_integer (count))
    return false;
  _cleanup_free_ bool *in = calloc ((size_t)n + 1, sizeof *in);
  if (listed && ctrl_job_parse_indexes (listed, in, n, NULL) < 0)
    return false;
  int64_t hits = 0, wanted = 0;
  for (int64_t i = 0; i < n; i++)
    {
      bool counts = !listed || in[i];
      wanted += counts;
      hits += counts && done[i];
    }
  if (wanted == 0)
    return false;
  if (!json_is_integer (count))
    return hits == wanted;
  return hits >= json_integer_value (count);
}

int
ctrl_job_success_rule (const json_t *policy, const bool *done, int64_t n)
{
  json_t *rule;
  size_t i;
  json_array_foreach (json_object_get (policy, "rules"), i, rule)
  {
    if (rule_met (rule, done, n))
      return (int)i;
  }
  return -1;
}
