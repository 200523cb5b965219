/* husk node agent: Kubernetes resource quantities (see podspec.h). */
#include <errno.h>

#include "lib/json.h"
#include "src/node/agent/podspec.h"

typedef __int128 i128;

/* Parses s into ceil(value * mult). */
static int
quantity_scaled (const char *s, int64_t mult, int64_t *out, husk_error **err)
{
  const char *p = s;
  bool neg = false;
  i128 mant = 0;
  int e10 = 0, e2 = 0, ndig = 0;
  if (!s || !*s)
    return husk_err (err, EINVAL, "quantity \"\": empty");
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  for (; *p >= '0' && *p <= '9'; p++, ndig++)
    if (mant < (i128)1e30)
      mant = mant * 10 + (*p - '0');
    else
      e10++;
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++, ndig++)
      if (mant < (i128)1e30)
        {
          mant = mant * 10 + (*p - '0');
          e10--;
        }
  if (ndig == 0)
    return husk_err (err, EINVAL, "quantity \"%s\": no digits", s);
  static const struct
  {
    const char *suffix;
    int e10, e2;
  } suffixes[] = { { "Ki", 0, 10 }, { "Mi", 0, 20 }, { "Gi", 0, 30 }, { "Ti", 0, 40 },
                   { "Pi", 0, 50 }, { "Ei", 0, 60 }, { "n", -9, 0 },  { "u", -6, 0 },
                   { "m", -3, 0 },  { "", 0, 0 },    { "k", 3, 0 },   { "M", 6, 0 },
                   { "G", 9, 0 },   { "T", 12, 0 },  { "P", 15, 0 },  { "E", 18, 0 } };
  bool found = false;
  for (size_t i = 0; i < ARRAY_SIZE (suffixes); i++)
    if (streq (p, suffixes[i].suffix))
      {
        e10 += suffixes[i].e10;
        e2 = suffixes[i].e2;
        found = true;
        break;
      }
  if (!found && (*p == 'e' || *p == 'E'))
    {
      char *end;
      errno = 0;
      long x = strtol (p + 1, &end, 10);
      if (p[1] && !*end && errno == 0 && x > -100 && x < 100)
        {
          e10 += x;
          found = true;
        }
    }
  if (!found)
    return husk_err (err, EINVAL,
                     "quantity \"%s\": quantities must match the regular expression "
                     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                     s);
  i128 num = mant * mult, den = 1;
  const i128 limit = (i128)INT64_MAX * 1000000;
  for (; e2 > 0; e2--)
    if ((num *= 2) > limit)
      return husk_err (err, ERANGE, "quantity \"%s\": too large", s);
  for (; e10 > 0; e10--)
    if ((num *= 10) > limit)
      return husk_err (err, ERANGE, "quantity \"%s\": too large", s);
  for (; e10 < 0; e10++)
    {
      if (den > limit)
        {
          num = num > 0 ? 1 : 0; /* vanishingly small: rounds up to 1 or stays 0 */
          den = 1;
          break;
        }
      den *= 10;
    }
  i128 v = (num + den - 1) / den;
  if (v > INT64_MAX)
    return husk_err (err, ERANGE, "quantity \"%s\": too large", s);
  *out = neg ? -(int64_t)((num) / den) : (int64_t)v;
  return 0;
}

int
agent_quantity_milli (const char *s, int64_t *out, husk_error **err)
{
  return quantity_scaled (s, 1000, out, err);
}

int
agent_quantity_value (const char *s, int64_t *out, husk_error **err)
{
  return quantity_scaled (s, 1, out, err);
}

static int
quantity_json (const json_t *q, const char *where, int64_t mult, int64_t *out, husk_error **err)
{
  int ret;
  if (json_is_string (q))
    ret = quantity_scaled (json_string_value (q), mult, out, err);
  else if (json_is_integer (q))
    {
      _cleanup_free_ char *s = xasprintf ("%lld", (long long)json_integer_value (q));
      ret = quantity_scaled (s, mult, out, err);
    }
  else if (json_is_real (q))
    {
      _cleanup_free_ char *s = xasprintf ("%.9f", json_real_value (q));
      ret = quantity_scaled (s, mult, out, err);
    }
  else
    return husk_err (err, EINVAL, "%s: expected a quantity, got %s", where,
                     husk_json_type_name (q));
  if (ret < 0)
    return husk_err_wrap (err, "%s", where);
  return 0;
}

int
agent_quantity_json_milli (const json_t *q, const char *where, int64_t *out, husk_error **err)
{
  return quantity_json (q, where, 1000, out, err);
}

int
agent_quantity_json_value (const json_t *q, const char *where, int64_t *out, husk_error **err)
{
  return quantity_json (q, where, 1, out, err);
}
