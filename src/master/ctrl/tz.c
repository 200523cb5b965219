/* Time zones from tzdata's TZif files (RFC 8536): the 64-bit transition table, and the
   footer's POSIX TZ rule for instants after the last transition (tzdata's "slim" files
   rely on it from 2007 on). Thread-safe, unlike setenv("TZ") + localtime. */
#include "config.h"

#include <errno.h>

#include "lib/path.h"
#include "src/master/ctrl/logic.h"
#include "src/master/ctrl/tz-internal.h"

typedef struct rule
{
  char kind; /* 'M', 'J' or 'n' */
  int m, w, d;
  int32_t time; /* seconds after local midnight */
} rule;

struct ctrl_tz
{
  char *name;
  size_t n;
  int64_t *at;
  int32_t *off; /* offset in effect from at[i] on */
  int32_t first_off;
  bool has_rule, has_dst;
  int32_t std_off, dst_off;
  rule start, end;
};

void
ctrl_tz_free (ctrl_tz *tz)
{
  if (!tz)
    return;
  free (tz->name);
  free (tz->at);
  free (tz->off);
  free (tz);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm); month
   may be any integer (normalized here), day may overflow. */
int64_t
ctrl_days_from_civil (int64_t y, int64_t m, int64_t d)
{
  y += (m - 1) >= 0 ? (m - 1) / 12 : -((12 - m) / 12);
  m = ((m - 1) % 12 + 12) % 12 + 1;
  int64_t dd = d - 1;
  d = 1;
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468 + dd;
}

void
ctrl_civil_from_days (int64_t z, int64_t *y, int *m, int *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static bool
is_leap (int64_t y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local midnight (as seconds since the epoch, zone-less) of the rule's day in year y. */
static int64_t
rule_day (const rule *r, int64_t y)
{
  if (r->kind == 'J') /* 1..365, February 29 never counted */
    return ctrl_days_from_civil (y, 1, 1) + r->d - 1 + (is_leap (y) && r->d >= 60);
  if (r->kind == 'n')
    return ctrl_days_from_civil (y, 1, 1) + r->d;
  /* Mm.w.d: day d (0 Sunday) of week w (5: the last) of month m */
  int64_t first = ctrl_days_from_civil (y, r->m, 1);
  int wd1 = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
  int64_t day = first + ((r->d - wd1 + 7) % 7) + 7 * (r->w - 1);
  int64_t next_month = ctrl_days_from_civil (y, r->m + 1, 1);
  while (day >= next_month)
    day -= 7;
  return day;
}

static int32_t
rule_offset (const ctrl_tz *tz, int64_t utc)
{
  if (!tz->has_dst)
    return tz->std_off;
  int64_t y;
  int m, d;
  ctrl_civil_from_days ((utc + tz->std_off) / 86400 - ((utc + tz->std_off) % 86400 < 0), &y, &m,
                        &d);
  int64_t start = rule_day (&tz->start, y) * 86400 + tz->start.time - tz->std_off;
  int64_t end = rule_day (&tz->end, y) * 86400 + tz->end.time - tz->dst_off;
  bool dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
  return dst ? tz->dst_off : tz->std_off;
}

int32_t
ctrl_tz_offset (const ctrl_tz *tz, int64_t utc)
{
  if (!tz)
    return 0;
  if (tz->n == 0 || utc < tz->at[0])
    return tz->n == 0 && tz->has_rule ? rule_offset (tz, utc) : tz->first_off;
  if (utc >= tz->at[tz->n - 1] && tz->has_rule)
    return rule_offset (tz, utc);
  size_t lo = 0, hi = tz->n; /* last i with at[i] <= utc */
  while (hi - lo > 1)
    {
      size_t mid = (lo + hi) / 2;
      if (tz->at[mid] <= utc)
        lo = mid;
      else
        hi = mid;
    }
  return tz->off[lo];
}

/* ---- POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3", "<+0330>-3:30") ---- */

static const char *
skip_name (const char *p)
{
  if (*p == '<')
    {
      const char *e = strchr (p, '>');
      return e ? e + 1 : NULL;
    }
  const char *s = p;
  while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
    p++;
  return p - s >= 3 ? p : NULL;
}

static const char *
parse_hms (const char *p, int32_t *out)
{
  int sign = 1;
  if (*p == '+' || *p == '-')
    sign = *p++ == '-' ? -1 : 1;
  if (!(*p >= '0' && *p <= '9'))
    return NULL;
  int32_t v[3] = { 0, 0, 0 };
  for (int i = 0; i < 3; i++)
    {
      if (!(*p >= '0' && *p <= '9'))
        return NULL;
      for (int n = 0; *p >= '0' && *p <= '9'; n++)
        {
          if (n == 3)
            return NULL;
          v[i] = v[i] * 10 + (*p++ - '0');
        }
      if (*p != ':')
        break;
      p++;
    }
  /* RFC 8536: hours up to 167 (rule times), minutes and seconds below 60 */
  if (v[0] > 167 || v[1] > 59 || v[2] > 59)
    return NULL;
  *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
  return p;
}

static const char *
parse_rule (const char *p, rule *r)
{
  r->time = 7200;
  if (*p == 'M')
    {
      char *e;
      r->kind = 'M';
      r->m = (int)strtol (p + 1, &e, 10);
      if (*e != '.')
        return NULL;
      r->w = (int)strtol (e + 1, &e, 10);
      if (*e != '.')
        return NULL;
      r->d = (int)strtol (e + 1, &e, 10);
      p = e;
      if (r->m < 1 || r->m > 12 || r->w < 1 || r->w > 5 || r->d < 0 || r->d > 6)
        return NULL;
    }
  else
    {
      char *e;
      r->kind = *p == 'J' ? 'J' : 'n';
      if (*p == 'J')
        p++;
      long d = strtol (p, &e, 10);
      if (e == p || d < (r->kind == 'J' ? 1 : 0) || d > 365)
        return NULL;
      r->d = (int)d;
      p = e;
    }
  if (*p == '/')
    p = parse_hms (p + 1, &r->time);
  return p;
}

int
ctrl_tz_parse_posix (ctrl_tz *tz, const char *s)
{
  int32_t off;
  const char *p = skip_name (s);
  if (!p || !(p = parse_hms (p, &off)))
    return -1;
  tz->has_rule = true;
  tz->std_off = -off;
  if (!*p)
    return 0;
  if (!(p = skip_name (p)))
    return -1;
  tz->has_dst = true;
  tz->dst_off = tz->std_off + 3600;
  if (*p && *p != ',')
    {
      if (!(p = parse_hms (p, &off)))
        return -1;
      tz->dst_off = -off;
    }
  if (*p != ',' || !(p = parse_rule (p + 1, &tz->start)) || *p != ','
      || !(p = parse_rule (p + 1, &tz->end)) || *p)
    return -1;
  return 0;
}

/* ---- TZif ---- */

static uint32_t
be32 (const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
parse_tzif (ctrl_tz *tz, const unsigned char *b, size_t len)
{
  if (len < 44 || memcmp (b, "TZif", 4))
    return -1;
  uint32_t c[6];
  for (int i = 0; i < 6; i++)
    c[i] = be32 (b + 20 + 4 * i);
  /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
  size_t v1 = (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
  bool v2 = b[4] >= '2';
  size_t tsize = 4;
  const unsigned char *p = b + 44;
  if (v2)
    {
      if (44 + v1 + 44 > len)
        return -1;
      p = b + 44 + v1;
      if (memcmp (p, "TZif", 4))
        return -1;
      for (int i = 0; i < 6; i++)
        c[i] = be32 (p + 20 + 4 * i);
      p += 44;
      tsize = 8;
    }
  size_t need = (size_t)c[3] * (tsize + 1) + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * (tsize + 4)
                + c[1] + c[0];
  if (c[4] == 0 || (size_t)(p - b) + need > len)
    return -1;
  const unsigned char *times = p, *idx = p + c[3] * tsize, *types = idx + c[3];
  tz->n = c[3];
  tz->at = xcalloc (tz->n + 1, sizeof *tz->at);
  tz->off = xcalloc (tz->n + 1, sizeof *tz->off);
  for (size_t i = 0; i < tz->n; i++)
    {
      int64_t t = tsize == 8
                      ? (int64_t)((uint64_t)be32 (times + 8 * i) << 32 | be32 (times + 8 * i + 4))
                      : (int64_t)(int32_t)be32 (times + 4 * i);
      if (idx[i] >= c[4])
        return -1;
      tz->at[i] = t;
      tz->off[i] = (int32_t)be32 (types + 6 * idx[i]);
    }
  /* Before the first transition: the first standard-time type (RFC 8536 3.2), else type 0. */
  tz->first_off = (int32_t)be32 (types);
  for (uint32_t i = 0; i < c[4]; i++)
    if (!types[6 * i + 4])
      {
        tz->first_off = (int32_t)be32 (types + 6 * i);
        break;
      }
  const unsigned char *foot = p + need;
  if (v2 && foot < b + len && *foot == '\n')
    {
      const unsigned char *e = memchr (foot + 1, '\n', (size_t)(b + len - foot - 1));
      if (e && e > foot + 1)
        {
          _cleanup_free_ char *s = xstrndup ((const char *)foot + 1, (size_t)(e - foot - 1));
          if (ctrl_tz_parse_posix (tz, s) < 0)
            return -1;
        }
    }
  return 0;
}

static bool
valid_name (const char *name)
{
  if (!*name || name[0] == '/' || strstr (name, ".."))
    return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
          || strchr ("/_-+", *p)))
      return false;
  return true;
}

int
ctrl_tz_load (const char *name, ctrl_tz **out, husk_error **err)
{
  ctrl_tz *tz = xzalloc (sizeof *tz);
  tz->name = xstrdup (name ? name : "");
  if (!name || !*name || streq (name, "UTC"))
    {
      *out = tz;
      return 0;
    }
  if (!valid_name (name))
    {
      ctrl_tz_free (tz);
      return husk_err (err, EINVAL, "unknown time zone %s", name);
    }
  const char *dir = getenv ("ZONEINFO");
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
  _cleanup_free_ char *data = NULL;
  size_t len = 0;
  int ret = husk_read_file (path, &data, &len, NULL);
  if (ret < 0 || parse_tzif (tz, (unsigned char *)data, len) < 0)
    {
      ctrl_tz_free (tz);
      return husk_err (err, ENOENT, "unknown time zone %s", name);
    }
  *out = tz;
  return 0;
}
