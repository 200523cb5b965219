/* Job pod-failure back-off: upstream's DefaultJobPodFailureBackOff (10 s) doubled per
   consecutive failure, capped at MaxJobPodFailureBackOff (6 min). */
#include "config.h"

#include "src/master/ctrl/logic.h"

#define BACKOFF_BASE 10
#define BACKOFF_MAX  360

int64_t
ctrl_job_backoff (int32_t failures)
{
  if (failures <= 0)
    return 0;
  int64_t d = BACKOFF_BASE;
  for (int32_t i = 1; i < failures && d < BACKOFF_MAX; i++)
    d *= 2;
  return d > BACKOFF_MAX ? BACKOFF_MAX : d;
}

int64_t
ctrl_job_backoff_remaining (int32_t failures, int64_t last_failure, int64_t now)
{
  int64_t left = last_failure + ctrl_job_backoff (failures) - now;
  return left > 0 ? left : 0;
}
