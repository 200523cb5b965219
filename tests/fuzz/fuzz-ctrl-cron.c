/* libFuzzer target: CronJob schedules (users write them): parse, then walk a few
   activations in UTC and in a POSIX-rule zone. Input: "<schedule>" or "<schedule>\n<posix TZ>". */
#include "config.h"

#include <stdint.h>

#include "src/master/ctrl/logic.h"
#include "src/master/ctrl/tz-internal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  _cleanup_free_ char *s = xstrndup ((const char *)data, size);
  char *nl = strchr (s, '\n');
  if (nl)
    *nl = '\0';
  ctrl_cron *c = NULL;
  husk_error *err = NULL;
  /* no tzdata lookups from fuzz input: zones come only from the POSIX line below */
  if (strstr (s, "TZ=") || ctrl_cron_parse (s, NULL, &c, &err) < 0)
    {
      husk_error_free (err);
      return 0;
    }
  int64_t t = 1700000000;
  for (int i = 0; i < 3 && t; i++)
    t = ctrl_cron_next (c, t);
  int64_t mr;
  ctrl_missed m;
  ctrl_cron_most_recent (c, 1700000000, 1700000000 + 86400 * 3, -1, &mr, &m, NULL);
  ctrl_cron_free (c);
  if (nl)
    {
      ctrl_tz *tz = NULL;
      ctrl_tz_load ("", &tz, NULL);
      if (ctrl_tz_parse_posix (tz, nl + 1) == 0)
        for (int64_t u = -4000000000LL; u < 8000000000LL; u += 86400 * 97)
          (void)ctrl_tz_offset (tz, u);
      ctrl_tz_free (tz);
    }
  return 0;
}
