/* CronJob schedules with the semantics of robfig/cron v3's standard parser (what the
   CronJob controller uses): five fields, lists, ranges, steps, month and weekday names,
   descriptors, CRON_TZ=/TZ= prefixes; next activation walked in the schedule's zone as
   SpecSchedule.Next does (a time in a DST gap is skipped that day; a repeated wall-clock
   time fires in both offsets). */
#include "config.h"

#include <errno.h>
#include <strings.h>

#include "src/master/ctrl/logic.h"
#include "src/master/ctrl/tz-internal.h"

#define STAR_BIT (1ULL << 63)

struct ctrl_cron
{
  uint64_t minute, hour, dom, month, dow;
  ctrl_tz *tz;
};

typedef struct bounds
{
  int min, max;
  const char *const *names; /* index = value - names_base */
  int names_base;
  const char *what;
} bounds;

static const char *const month_names[]
    = { "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const bounds B_MINUTE = { 0, 59, NULL, 0, "minute" };
static const bounds B_HOUR = { 0, 23, NULL, 0, "hour" };
static const bounds B_DOM = { 1, 31, NULL, 0, "day of month" };
static const bounds B_MONTH = { 1, 12, month_names, 1, "month" };
static const bounds B_DOW = { 0, 6, dow_names, 0, "day of week" };

void
ctrl_cron_free (ctrl_cron *c)
{
  if (!c)
    return;
  ctrl_tz_free (c->tz);
  free (c);
}

static int
parse_value (const char *s, size_t n, const bounds *b, int *out, husk_error **err)
{
  if (b->names)
    for (int i = 0; b->names[i]; i++)
      if (n == 3 && !strncasecmp (s, b->names[i], 3))
        {
          *out = i + b->names_base;
          return 0;
        }
  if (n == 0 || n > 9)
    return husk_err (err, EINVAL, "failed to parse int from %.*s: invalid syntax", (int)n, s);
  int v = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return husk_err (err, EINVAL, "failed to parse int from %.*s: invalid syntax", (int)n, s);
      v = v * 10 + (s[i] - '0');
    }
  *out = v;
  return 0;
}

/* One range: "*", "?", "a", "a-b", each with an optional "/step". */
static int
parse_range (const char *expr, size_t len, const bounds *b, uint64_t *bits, husk_error **err)
{
  _cleanup_free_ char *e = xstrndup (expr, len);
  char *slash = strchr (e, '/');
  char *dash;
  int start, end, step = 1, ret;
  uint64_t extra = 0;
  bool single = false;

  if (slash)
    *slash = '\0';
  if (streq (e, "*") || streq (e, "?"))
    {
      start = b->min, end = b->max;
      extra = STAR_BIT;
    }
  else
    {
      dash = strchr (e, '-');
      ret = parse_value (e, dash ? (size_t)(dash - e) : strlen (e), b, &start, err);
      if (ret < 0)
        return ret;
      if (dash)
        {
          ret = parse_value (dash + 1, strlen (dash + 1), b, &end, err);
          if (ret < 0)
            return ret;
        }
      else
        end = start, single = true;
    }
  if (slash)
    {
      ret = parse_value (slash + 1, strlen (slash + 1), &(bounds){ 0, 0, NULL, 0, "" }, &step, err);
      if (ret < 0)
        return ret;
      if (single) /* "N/step" means "N-max/step" */
        end = b->max;
      if (step > 1)
        extra = 0;
    }
  _cleanup_free_ char *whole = xstrndup (expr, len);
  if (start < b->min)
    return husk_err (err, EINVAL, "beginning of range (%d) below minimum (%d): %s", start, b->min,
                     whole);
  if (end > b->max)
    return husk_err (err, EINVAL, "end of range (%d) above maximum (%d): %s", end, b->max, whole);
  if (start > end)
    return husk_err (err, EINVAL, "beginning of range (%d) beyond end of range (%d): %s", start,
                     end, whole);
  if (step == 0)
    return husk_err (err, EINVAL, "step of range should be a positive number: %s", whole);
  for (int i = start; i <= end; i += step)
    *bits |= 1ULL << i;
  *bits |= extra;
  return 0;
}

static int
parse_field (const char *f, const bounds *b, uint64_t *bits, husk_error **err)
{
  *bits = 0;
  for (const char *p = f;;)
    {
      const char *comma = strchr (p, ',');
      size_t n = comma ? (size_t)(comma - p) : strlen (p);
      int ret = parse_range (p, n, b, bits, err);
      if (ret < 0)
        return ret;
      if (!comma)
        return 0;
      p = comma + 1;
    }
}

static const struct
{
  const char *name, *spec;
} descriptors[] = {
  { "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
  { "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
  { "@hourly", "0 * * * *" },
};

static int
parse_fields (ctrl_cron *c, const char *spec, husk_error **err)
{
  _cleanup_free_ char *copy = xstrdup (spec);
  char *fields[6], *save = NULL;
  int n = 0;
  for (char *t = strtok_r (copy, " \t", &save); t; t = strtok_r (NULL, " \t", &save))
    {
      if (n == 6)
        return husk_err (err, EINVAL, "expected exactly 5 fields, found more: %s", spec);
      fields[n++] = t;
    }
  if (n >= 1 && fields[0][0] == '@')
    {
      for (size_t i = 0; i < ARRAY_SIZE (descriptors); i++)
        if (streq (fields[0], descriptors[i].name))
          return parse_fields (c, descriptors[i].spec, err);
      return husk_err (err, EINVAL, "unrecognized descriptor: %s", fields[0]);
    }
  if (n != 5)
    return husk_err (err, EINVAL, "expected exactly 5 fields, found %d: %s", n, spec);
  int ret;
  if ((ret = parse_field (fields[0], &B_MINUTE, &c->minute, err)) < 0
      || (ret = parse_field (fields[1], &B_HOUR, &c->hour, err)) < 0
      || (ret = parse_field (fields[2], &B_DOM, &c->dom, err)) < 0
      || (ret = parse_field (fields[3], &B_MONTH, &c->month, err)) < 0
      || (ret = parse_field (fields[4], &B_DOW, &c->dow, err)) < 0)
    return ret;
  return 0;
}

int
ctrl_cron_parse (const char *schedule, const char *time_zone, ctrl_cron **out, husk_error **err)
{
  const char *spec = schedule;
  _cleanup_free_ char *zone = NULL;
  while (*spec == ' ' || *spec == '\t')
    spec++;
  if (!*spec)
    return husk_err (err, EINVAL, "empty spec string");
  if (!strncmp (spec, "CRON_TZ=", 8) || !strncmp (spec, "TZ=", 3))
    {
      const char *z = strchr (spec, '=') + 1;
      const char *sp = strpbrk (z, " \t");
      if (!sp)
        return husk_err (err, EINVAL, "provided bad location %s: missing schedule", z);
      if (time_zone && *time_zone)
        return husk_err (err, EINVAL,
                         "cannot use both timeZone field and TZ or CRON_TZ in schedule");
      zone = xstrndup (z, (size_t)(sp - z));
      spec = sp + 1;
    }
  else if (time_zone && *time_zone)
    zone = xstrdup (time_zone);

  ctrl_cron *c = xzalloc (sizeof *c);
  int ret = parse_fields (c, spec, err);
  if (ret == 0 && zone)
    ret = ctrl_tz_load (zone, &c->tz, err);
  if (ret < 0)
    {
      ctrl_cron_free (c);
      return ret;
    }
  *out = c;
  return 0;
}

/* ---- walking wall-clock time in the schedule's zone ---- */

typedef struct wall
{
  int64_t y;
  int mo, d, h, mi, s, wd;
} wall;

static int64_t
floor_div (int64_t a, int64_t b)
{
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static wall
to_wall (const ctrl_cron *c, int64_t t)
{
  wall w;
  int64_t local = t + ctrl_tz_offset (c->tz, t);
  int64_t days = floor_div (local, 86400), secs = local - days * 86400;
  ctrl_civil_from_days (days, &w.y, &w.mo, &w.d);
  w.h = (int)(secs / 3600), w.mi = (int)(secs / 60 % 60), w.s = (int)(secs % 60);
  w.wd = (int)(((days + 4) % 7 + 7) % 7);
  return w;
}

/* Go's time.Date: normalizes overflowing fields; in a DST gap or overlap picks the offset
   of the zone at (local - offset guess). */
static int64_t
from_wall (const ctrl_cron *c, int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s)
{
  int64_t local = ctrl_days_from_civil (y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  int32_t off = ctrl_tz_offset (c->tz, local);
  int64_t utc = local - off;
  int32_t off2 = ctrl_tz_offset (c->tz, utc);
  if (off2 != off)
    utc = local - off2;
  return utc;
}

static bool
day_matches (const ctrl_cron *c, const wall *w)
{
  bool dom = (c->dom >> w->d) & 1, dow = (c->dow >> w->wd) & 1;
  if ((c->dom & STAR_BIT) || (c->dow & STAR_BIT))
    return dom && dow;
  return dom || dow;
}

int64_t
ctrl_cron_next (const ctrl_cron *c, int64_t t)
{
  bool added = false;
  t += 1;
  wall w = to_wall (c, t);
  int64_t year_limit = w.y + 5;

wrap:
  w = to_wall (c, t);
  if (w.y > year_limit)
    return 0;
  while (!((c->month >> w.mo) & 1))
    {
      if (!added)
        {
          added = true;
          t = from_wall (c, w.y, w.mo, 1, 0, 0, 0);
          w = to_wall (c, t);
        }
      t = from_wall (c, w.y, w.mo + 1, w.d, w.h, w.mi, w.s);
      w = to_wall (c, t);
      if (w.mo == 1)
        goto wrap;
    }
  while (!day_matches (c, &w))
    {
      if (!added)
        {
          added = true;
          t = from_wall (c, w.y, w.mo, w.d, 0, 0, 0);
          w = to_wall (c, t);
        }
      t = from_wall (c, w.y, w.mo, w.d + 1, w.h, w.mi, w.s);
      w = to_wall (c, t);
      /* A DST change can leave the walk off midnight: go back to it. */
      if (w.h != 0)
        {
          t += w.h > 12 ? (int64_t)(24 - w.h) * 3600 : -(int64_t)w.h * 3600;
          w = to_wall (c, t);
        }
      if (w.d == 1)
        goto wrap;
    }
  while (!((c->hour >> w.h) & 1))
    {
      if (!added)
        {
          added = true;
          t = from_wall (c, w.y, w.mo, w.d, w.h, 0, 0);
        }
      t += 3600;
      w = to_wall (c, t);
      if (w.h == 0)
        goto wrap;
    }
  while (!((c->minute >> w.mi) & 1))
    {
      if (!added)
        {
          added = true;
          t -= ((t % 60) + 60) % 60; /* Truncate(time.Minute) */
        }
      t += 60;
      w = to_wall (c, t);
      if (w.mi == 0)
        goto wrap;
    }
  while (w.s != 0)
    {
      t += 1;
      w = to_wall (c, t);
      if (w.s == 0)
        goto wrap;
    }
  return t;
}

int
ctrl_cron_most_recent (const ctrl_cron *c, int64_t earliest, int64_t now, int64_t starting_deadline,
                       int64_t *most_recent, ctrl_missed *missed, husk_error **err)
{
  *most_recent = 0;
  *missed = CTRL_NONE_MISSED;
  if (starting_deadline >= 0 && now - starting_deadline > earliest)
    earliest = now - starting_deadline;
  int64_t t1 = ctrl_cron_next (c, earliest);
  int64_t t2 = t1 ? ctrl_cron_next (c, t1) : 0;
  if (!t1 || now < t1)
    return 0;
  if (!t2 || now < t2)
    {
      *most_recent = t1;
      return 0;
    }
  int64_t between = t2 - t1;
  if (between < 1)
    return husk_err (err, EINVAL, "time difference between two schedules is less than 1 second");
  int64_t n = (now - t1) / between + 1;
  /* Start one interval before the estimate and walk: exact for irregular schedules
     ("30 6-16/4 * * 1-5") as well. */
  int64_t t = t1 + (n - 2) * between;
  for (t = ctrl_cron_next (c, t); t && t <= now; t = ctrl_cron_next (c, t))
    *most_recent = t;
  *missed = n > 100 ? CTRL_MANY_MISSED : n > 1 ? CTRL_FEW_MISSED : CTRL_NONE_MISSED;
  return 0;
}
