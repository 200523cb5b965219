/* Kubernetes quantities: <sign><digits>[.<digits>][suffix], suffix one of the binary SI
   (Ki Mi Gi Ti Pi Ei), decimal SI (n u m "" k M G T P E) or an exponent (e3, E-2).
   Computed exactly in 128-bit integers, rounded up like resource.Quantity. */
#include "config.h"

#include <errno.h>

#include "lib/json.h"
#include "lib/quantity.h"

typedef unsigned __int128 u128;

#define U128_MAX (~(u128)0)

static int
mul_ok (u128 *v, u128 m)
{
  if (*v != 0 && m > U128_MAX / *v)
    return 0;
  *v *= m;
  return 1;
}

static int
suffix (const char *p, int *e10, int *e2)
{
  static const struct
  {
    const char *s;
    int e10, e2;
  } tab[] = {
    { "Ki", 0, 10 }, { "Mi", 0, 20 }, { "Gi", 0, 30 }, { "Ti", 0, 40 },
    { "Pi", 0, 50 }, { "Ei", 0, 60 }, { "n", -9, 0 },  { "u", -6, 0 },
    { "m", -3, 0 },  { "", 0, 0 },    { "k", 3, 0 },   { "M", 6, 0 },
    { "G", 9, 0 },   { "T", 12, 0 },  { "P", 15, 0 },  { "E", 18, 0 },
  };
  for (size_t i = 0; i < ARRAY_SIZE (tab); i++)
    if (streq (p, tab[i].s))
      {
        *e10 = tab[i].e10;
        *e2 = tab[i].e2;
        return 0;
      }
  if (*p == 'e' || *p == 'E')
    {
      char *end;
      errno = 0;
      long e = strtol (p + 1, &end, 10);
      if (p[1] == '\0' || *end || errno || e < -1000 || e > 1000)
        return -1;
      *e10 = (int)e;
      *e2 = 0;
      return 0;
    }
  return -1;
}

int
husk_quantity_parse (const char *s, int64_t scale, int64_t *out, husk_error **err)
{
  const char *p = s;
  bool neg = false;
  u128 m = 0;
  int after = 0, digits = 0, e10, e2;
  bool point = false;

  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (!(*p >= '0' && *p <= '9') && !(*p == '.' && p[1] >= '0' && p[1] <= '9'))
    return husk_err (err, EINVAL, "quantity \"%s\": expected a number", s);
  for (; (*p >= '0' && *p <= '9') || *p == '.'; p++)
    {
      if (*p == '.')
        {
          if (point)
            return husk_err (err, EINVAL, "quantity \"%s\": two decimal points", s);
          point = true;
          continue;
        }
      if (point)
        after++;
      if (m == 0 && *p == '0')
        continue;
      if (++digits > 36)
        return husk_err (err, ERANGE, "quantity \"%s\": too many digits", s);
      m = m * 10 + (u128)(*p - '0');
    }
  if (suffix (p, &e10, &e2) < 0)
    return husk_err (err, EINVAL, "quantity \"%s\": unknown suffix \"%s\"", s, p);

  int exp = e10 - after;
  for (int64_t sc = scale; sc > 1; sc /= 10)
    exp++;
  if (!mul_ok (&m, (u128)1 << e2))
    return husk_err (err, ERANGE, "quantity \"%s\": too large", s);
  for (; exp > 0; exp--)
    if (!mul_ok (&m, 10))
      return husk_err (err, ERANGE, "quantity \"%s\": too large", s);
  if (exp < 0)
    {
      bool rem = false;
      for (; exp < 0 && m; exp++)
        {
          rem |= m % 10 != 0;
          m /= 10;
        }
      /* Round away from zero: upstream's Value() and MilliValue() round up. */
      if (rem && !neg)
        m += 1; /* a negative value's ceiling truncates toward zero */
    }
  if (m > (u128)INT64_MAX)
    return husk_err (err, ERANGE, "quantity \"%s\": too large", s);
  *out = neg ? -(int64_t)m : (int64_t)m;
  return 0;
}

static int
husk_quantity_json_unwrapped (const json_t *v, int64_t scale, int64_t *out, husk_error **err)
{
  if (json_is_string (v))
    return husk_quantity_parse (json_string_value (v), scale, out, err);
  if (json_is_integer (v))
    {
      json_int_t i = json_integer_value (v);
      if (i > INT64_MAX / scale || i < INT64_MIN / scale)
        return husk_err (err, ERANGE, "quantity %lld: too large", (long long)i);
      *out = (int64_t)i * scale;
      return 0;
    }
  if (json_is_real (v))
    {
      _cleanup_free_ char *t = xasprintf ("%.17g", json_real_value (v));
      return husk_quantity_parse (t, scale, out, err);
    }
  return husk_err (err, EINVAL, "expected a quantity, got %s",
                   v ? husk_json_type_name (v) : "nothing");
}

int
husk_quantity_json (const json_t *v, int64_t scale, const char *where, int64_t *out,
                    husk_error **err)
{
  int r = husk_quantity_json_unwrapped (v, scale, out, err);
  if (r < 0 && where)
    return husk_err_wrap (err, "%s", where);
  return r;
}
