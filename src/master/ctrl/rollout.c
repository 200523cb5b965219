/* Deployment rolling-update arithmetic, as upstream's deployment util computes it:
   fenceposts from maxSurge/maxUnavailable, the new ReplicaSet's step up, and the old
   ReplicaSets' step down. */
#include "config.h"

#include <errno.h>

#include "lib/json.h"
#include "src/master/ctrl/logic.h"

int
ctrl_intstr_scaled (const json_t *v, int32_t total, bool round_up, int32_t *out, husk_error **err)
{
  if (!v || json_is_null (v))
    return husk_err (err, EINVAL, "nil value for IntOrString");
  if (json_is_integer (v))
    {
      *out = (int32_t)json_integer_value (v);
      return 0;
    }
  if (!json_is_string (v))
    return husk_err (err, EINVAL,
                     "invalid value for IntOrString: invalid type: not an int or string");
  const char *s = json_string_value (v);
  size_t n = strlen (s);
  if (n == 0 || s[n - 1] != '%')
    return husk_err (err, EINVAL,
                     "invalid value for IntOrString: invalid type: string is not a percentage");
  char *end;
  errno = 0;
  long pct = strtol (s, &end, 10);
  if (end != s + n - 1 || end == s || errno || pct < INT32_MIN || pct > INT32_MAX)
    return husk_err (err, EINVAL, "invalid value for IntOrString: invalid value \"%s\"", s);
  int64_t x = (int64_t)pct * total;
  /* math.Ceil / math.Floor of x / 100 */
  int64_t q = x / 100, r = x % 100;
  if (r != 0 && round_up && x > 0)
    q++;
  else if (r != 0 && !round_up && x < 0)
    q--;
  *out = (int32_t)q;
  return 0;
}

int
ctrl_rollout_fenceposts (const json_t *max_surge, const json_t *max_unavailable, int32_t desired,
                         int32_t *surge, int32_t *unavailable, husk_error **err)
{
  _cleanup_json_ json_t *def = json_string ("25%");
  int32_t s, u;
  int ret = ctrl_intstr_scaled (max_surge ? max_surge : def, desired, true, &s, err);
  if (ret < 0)
    return husk_err_wrap (err, "maxSurge");
  ret = ctrl_intstr_scaled (max_unavailable ? max_unavailable : def, desired, false, &u, err);
  if (ret < 0)
    return husk_err_wrap (err, "maxUnavailable");
  /* Both zero would deadlock the rollout: upstream lets one pod be unavailable. */
  if (s == 0 && u == 0)
    u = 1;
  *surge = s;
  *unavailable = u;
  return 0;
}

int32_t
ctrl_rollout_new_replicas (int32_t desired, int32_t surge, int32_t total, int32_t new_replicas)
{
  int32_t max_total = desired + surge;
  if (total >= max_total)
    return new_replicas;
  int32_t up = max_total - total;
  if (desired - new_replicas < up)
    up = desired - new_replicas;
  return new_replicas + up;
}

static int
cmp_created (const void *a, const void *b)
{
  const ctrl_rs *x = *(ctrl_rs *const *)a, *y = *(ctrl_rs *const *)b;
  return x->created < y->created ? -1 : x->created > y->created;
}

/* MaxUnavailable(deployment) caps the value at the replica count. */
static int32_t
capped_unavailable (int32_t desired, int32_t unavailable)
{
  if (desired == 0)
    return 0;
  return unavailable > desired ? desired : unavailable;
}

int32_t
ctrl_rollout_scale_down_old (int32_t desired, int32_t unavailable, ctrl_rs *old, size_t n_old,
                             const ctrl_rs *new_rs)
{
  int32_t old_count = 0, all = new_rs->replicas, available = new_rs->available;
  for (size_t i = 0; i < n_old; i++)
    {
      old_count += old[i].replicas;
      all += old[i].replicas;
      available += old[i].available;
    }
  if (old_count == 0)
    return 0;
  int32_t min_available = desired - capped_unavailable (desired, unavailable);
  int32_t new_unavailable = new_rs->replicas - new_rs->available;
  int32_t max_scaled_down = all - min_available - new_unavailable;
  if (max_scaled_down <= 0)
    return 0;

  ctrl_rs **order = xcalloc (n_old + 1, sizeof *order);
  for (size_t i = 0; i < n_old; i++)
    order[i] = &old[i];
  qsort (order, n_old, sizeof *order, cmp_created);

  /* cleanupUnhealthyReplicas: unavailable old pods go first, up to max_scaled_down. */
  int32_t cleaned = 0;
  for (size_t i = 0; i < n_old && cleaned < max_scaled_down; i++)
    {
      ctrl_rs *rs = order[i];
      if (rs->replicas == 0 || rs->replicas <= rs->available)
        continue;
      int32_t d = rs->replicas - rs->available;
      if (d > max_scaled_down - cleaned)
        d = max_scaled_down - cleaned;
      rs->replicas -= d;
      cleaned += d;
    }

  /* scaleDownOldReplicaSetsForRollingUpdate: keep availability >= min_available. */
  int32_t scaled = 0;
  if (available > min_available)
    {
      int32_t want = available - min_available;
      for (size_t i = 0; i < n_old && scaled < want; i++)
        {
          ctrl_rs *rs = order[i];
          if (rs->replicas == 0)
            continue;
          int32_t d = rs->replicas < want - scaled ? rs->replicas : want - scaled;
          rs->replicas -= d;
          scaled += d;
        }
    }
  free (order);
  return cleaned + scaled;
}

/* ---- proportional scaling ---- */

static int
cmp_size (const void *a, const void *b, void *arg)
{
  int scale_dir = *(const int *)arg;
  const ctrl_rs_scale *x = *(ctrl_rs_scale *const *)a, *y = *(ctrl_rs_scale *const *)b;
  if (x->replicas != y->replicas)
    return x->replicas > y->replicas ? -1 : 1;
  if (x->created == y->created)
    return 0;
  /* adding: newer first (ReplicaSetsBySizeNewer); removing: older first */
  return (x->created > y->created) == (scale_dir > 0) ? -1 : 1;
}

static int32_t
round_half_away (double x)
{
  return (int32_t)(x < 0 ? x - 0.5 : x + 0.5);
}

static int32_t
fraction (const ctrl_rs_scale *rs, int32_t desired, int32_t surge, int32_t status_replicas)
{
  if (desired == 0)
    return -rs->replicas;
  int32_t total = desired + surge;
  int32_t annotated = rs->max_replicas > 0 ? rs->max_replicas : status_replicas;
  if (annotated <= 0)
    return 0;
  return round_half_away ((double)rs->replicas * total / annotated) - rs->replicas;
}

void
ctrl_rollout_proportional (int32_t desired, int32_t surge, int32_t status_replicas,
                           ctrl_rs_scale *rs, size_t n)
{
  ctrl_rs_scale **act = xcalloc (n + 1, sizeof *act);
  size_t k = 0;
  int32_t current = 0;
  for (size_t i = 0; i < n; i++)
    if (rs[i].replicas > 0)
      {
        act[k++] = &rs[i];
        current += rs[i].replicas;
      }
  int32_t allowed = desired > 0 ? desired + surge : 0;
  int32_t to_add = allowed - current, added = 0;
  if (to_add == 0 || k == 0)
    {
      free (act);
      return;
    }
  int dir = to_add > 0 ? 1 : -1;
  qsort_r (act, k, sizeof *act, cmp_size, &dir);
  int32_t *size = xcalloc (k, sizeof *size);
  for (size_t i = 0; i < k; i++)
    {
      int32_t p = 0;
      if (to_add != added)
        {
          int32_t f = fraction (act[i], desired, surge, status_replicas);
          int32_t left = to_add - added;
          p = to_add > 0 ? (f < left ? f : left) : (f > left ? f : left);
        }
      size[i] = act[i]->replicas + p;
      added += p;
    }
  size[0] += to_add - added;
  if (size[0] < 0)
    size[0] = 0;
  for (size_t i = 0; i < k; i++)
    act[i]->replicas = size[i];
  free (size);
  free (act);
}
