/* husk node: the flag values of static pods, image GC and eviction (extras.h), parsed
   with errors that name the flag. Pure: tests/unit/test-node-extras.c links it alone. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/quantity.h"
#include "src/node/pod/extras.h"

int
extras_parse_percent (const char *flag, const char *text, int *out, husk_error **err)
{
  char *end = NULL;
  errno = 0;
  long v = strtol (text, &end, 10);
  if (errno || end == text || (*end != '\0' && !streq (end, "%")) || v < 0 || v > 100)
    return husk_err (err, EINVAL, "%s: \"%s\" is not a percentage from 0 to 100", flag, text);
  *out = (int) v;
  return 0;
}

int
extras_parse_duration (const char *flag, const char *text, int64_t *seconds, husk_error **err)
{
  /* Go durations as kubelet's flags take them: 90s, 2m, 1h30m (whole seconds). */
  const char *s = text;
  int64_t total = 0;
  if (*s == '\0')
    return husk_err (err, EINVAL, "%s: empty duration", flag);
  while (*s)
    {
      char *end = NULL;
      errno = 0;
      long long v = strtoll (s, &end, 10);
      if (errno || end == s || v < 0)
        return husk_err (err, EINVAL, "%s: \"%s\" is not a duration (90s, 2m, 1h)", flag, text);
      int64_t unit = *end == 'h' ? 3600 : *end == 'm' ? 60 : *end == 's' ? 1 : 0;
      if (unit == 0 || (end[0] == 'm' && end[1] == 's'))
        return husk_err (err, EINVAL, "%s: \"%s\" is not a duration (90s, 2m, 1h)", flag, text);
      total += (int64_t) v * unit;
      s = end + 1;
    }
  *seconds = total;
  return 0;
}

int
extras_parse_pids (const char *flag, const char *text, int64_t *out, husk_error **err)
{
  char *end = NULL;
  errno = 0;
  long long v = strtoll (text, &end, 10);
  if (errno || end == text || *end != '\0')
    return husk_err (err, EINVAL, "%s: \"%s\" is not an integer (-1 for no limit)", flag, text);
  *out = v > 0 ? (int64_t) v : -1;
  return 0;
}

static const struct
{
  const char *name;
  evict_signal sig;
} signals[] = {
  {"memory.available", EVICT_MEMORY_AVAILABLE},   {"nodefs.available", EVICT_NODEFS_AVAILABLE},
  {"nodefs.inodesFree", EVICT_NODEFS_INODES_FREE}, {"imagefs.available", EVICT_NODEFS_AVAILABLE},
  {"imagefs.inodesFree", EVICT_NODEFS_INODES_FREE},
};

static int
parse_one (const char *item, evict_threshold *t, husk_error **err)
{
  const char *lt = strchr (item, '<');
  if (lt == NULL)
    return husk_err (err, EINVAL, "--eviction-hard: \"%s\" is not SIGNAL<QUANTITY (only < is allowed)", item);
  _cleanup_free_ char *name = xstrndup (item, (size_t) (lt - item));
  const char *val = lt + 1;
  size_t i;
  for (i = 0; i < ARRAY_SIZE (signals); i++)
    if (streq (signals[i].name, name))
      break;
  if (i == ARRAY_SIZE (signals))
    return husk_err (err, EINVAL,
                     "--eviction-hard: unknown signal \"%s\" (memory.available, nodefs.available, "
                     "nodefs.inodesFree, imagefs.available, imagefs.inodesFree)", name);
  t->signal = signals[i].sig;
  size_t len = strlen (val);
  if (len > 0 && val[len - 1] == '%')
    {
      char *end = NULL;
      double pct = strtod (val, &end);
      if (end != val + len - 1 || pct < 0 || pct > 100)
        return husk_err (err, EINVAL, "--eviction-hard: %s: \"%s\" is not a percentage", name, val);
      t->pct = true;
      t->value = (int64_t) (pct * 100 + 0.5);
    }
  else
    {
      _cleanup_error_ husk_error *e = NULL;
      if (husk_quantity_parse (val, 1, &t->value, &e) < 0 || t->value < 0)
        return husk_err (err, EINVAL, "--eviction-hard: %s: %s", name, e ? e->msg : "negative");
      t->pct = false;
    }
  t->text = xstrdup (val);
  return 0;
}

int
evict_parse (const char *text, evict_threshold *th, size_t max, size_t *n, husk_error **err)
{
  _cleanup_free_ char *copy = xstrdup (text);
  char *save = NULL;
  *n = 0;
  for (char *it = strtok_r (copy, ",", &save); it; it = strtok_r (NULL, ",", &save))
    {
      if (*n == max)
        return husk_err (err, EINVAL, "--eviction-hard: more than %zu thresholds", max);
      int r = parse_one (it, &th[*n], err);
      if (r < 0)
        return r;
      (*n)++;
    }
  return 0;
}

