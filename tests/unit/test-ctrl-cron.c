/* Cron schedules (robfig/cron standard syntax as the CronJob controller uses it), time
   zones from tzdata, next activation, missed schedules. */
#include "config.h"

#include <time.h>

#include "src/master/ctrl/logic.h"
#include "src/master/ctrl/tz-internal.h"
#include "tests/unit/tap.h"

static int64_t
T (const char *iso) /* "2024-01-05T16:31:00Z" */
{
  struct tm tm = { 0 };
  if (!strptime (iso, "%Y-%m-%dT%H:%M:%SZ", &tm))
    {
      printf ("Bail out! bad time %s\n", iso);
      exit (2);
    }
  return (int64_t)timegm (&tm);
}

static char *
iso (int64_t t)
{
  static char buf[4][32];
  static int k;
  char *b = buf[k++ % 4];
  if (t == 0)
    return strcpy (b, "never");
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r (&tt, &tm);
  strftime (b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

static void
next_is (const char *spec, const char *zone, const char *after, const char *want)
{
  ctrl_cron *c = NULL;
  husk_error *err = NULL;
  if (ctrl_cron_parse (spec, zone, &c, &err) < 0)
    {
      ok (0, "%s: %s", spec, err->msg);
      husk_error_free (err);
      return;
    }
  int64_t got = ctrl_cron_next (c, T (after));
  is_str (iso (got), want ? iso (T (want)) : "never", spec);
  ctrl_cron_free (c);
}

static void
bad (const char *spec, const char *zone, const char *want)
{
  ctrl_cron *c = NULL;
  husk_error *err = NULL;
  int ret = ctrl_cron_parse (spec, zone, &c, &err);
  ok (ret < 0 && c == NULL && err && streq (err->msg, want), "\"%s\" rejected: %s", spec,
      err ? err->msg : "(accepted)");
  ctrl_cron_free (c);
  husk_error_free (err);
}

static bool
have_tzdata (void)
{
  return access ("/usr/share/zoneinfo/Europe/Paris", R_OK) == 0;
}

int
main (void)
{
  next_is ("*/15 * * * *", NULL, "2024-01-01T00:07:00Z", "2024-01-01T00:15:00Z");
  next_is ("0 * * * *", NULL, "2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z");
  next_is ("30 6-16/4 * * 1-5", NULL, "2024-01-05T16:31:00Z", "2024-01-08T06:30:00Z");
  next_is ("0 0 1,15 * *", NULL, "2024-01-02T00:00:00Z", "2024-01-15T00:00:00Z");
  next_is ("0 0 * * MON", NULL, "2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z");
  next_is ("0 0 * * tue-wed", NULL, "2024-01-03T00:00:00Z", "2024-01-09T00:00:00Z");
  next_is ("0 12 * JAN,jul *", NULL, "2024-02-01T00:00:00Z", "2024-07-01T12:00:00Z");
  next_is ("0 0 13 * FRI", NULL, "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"); /* dom OR dow */
  next_is ("0 0 13 * *", NULL, "2024-01-01T00:00:00Z", "2024-01-13T00:00:00Z");
  next_is ("0 0 ? * 0", NULL, "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z");
  next_is ("5/20 * * * *", NULL, "2024-01-01T00:26:00Z", "2024-01-01T00:45:00Z");
  next_is ("0 0 29 2 *", NULL, "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z");
  next_is ("0 0 30 2 *", NULL, "2024-01-01T00:00:00Z", NULL);
  next_is ("@yearly", NULL, "2024-03-01T00:00:00Z", "2025-01-01T00:00:00Z");
  next_is ("@annually", NULL, "2024-03-01T00:00:00Z", "2025-01-01T00:00:00Z");
  next_is ("@monthly", NULL, "2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z");
  next_is ("@weekly", NULL, "2024-03-01T00:00:00Z", "2024-03-03T00:00:00Z");
  next_is ("@daily", NULL, "2024-03-01T10:00:00Z", "2024-03-02T00:00:00Z");
  next_is ("@midnight", NULL, "2024-03-01T10:00:00Z", "2024-03-02T00:00:00Z");
  next_is ("@hourly", NULL, "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z");
  next_is ("59 23 31 12 *", NULL, "2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z");

  bad ("60 * * * *", NULL, "end of range (60) above maximum (59): 60");
  bad ("0 0 * * 7", NULL, "end of range (7) above maximum (6): 7");
  bad ("0 0 0 * *", NULL, "beginning of range (0) below minimum (1): 0");
  bad ("5-1 * * * *", NULL, "beginning of range (5) beyond end of range (1): 5-1");
  bad ("*/0 * * * *", NULL, "step of range should be a positive number: */0");
  bad ("* * *", NULL, "expected exactly 5 fields, found 3: * * *");
  bad ("0 0 * * * *", NULL, "expected exactly 5 fields, found 6: 0 0 * * * *");
  bad ("FOO * * * *", NULL, "failed to parse int from FOO: invalid syntax");
  bad ("@every 1h", NULL, "unrecognized descriptor: @every");
  bad ("", NULL, "empty spec string");
  bad ("0 0 * * *", "Mars/Base", "unknown time zone Mars/Base");
  bad ("0 0 * * *", "../../etc/passwd", "unknown time zone ../../etc/passwd");
  bad ("CRON_TZ=UTC 0 0 * * *", "Europe/Paris",
       "cannot use both timeZone field and TZ or CRON_TZ in schedule");

  /* POSIX rules alone (the TZif footer), no tzdata needed. */
  ctrl_tz *cet = NULL;
  ctrl_tz_load ("UTC", &cet, NULL);
  ok (ctrl_tz_parse_posix (cet, "CET-1CEST,M3.5.0,M10.5.0/3") == 0, "POSIX rule parses");
  is_int (ctrl_tz_offset (cet, T ("2024-03-31T00:59:59Z")), 3600, "CET before the switch");
  is_int (ctrl_tz_offset (cet, T ("2024-03-31T01:00:00Z")), 7200,
          "CEST from 01:00Z on the last Sunday of March");
  is_int (ctrl_tz_offset (cet, T ("2024-10-27T00:59:59Z")), 7200,
          "CEST until 01:00Z on the last Sunday of October");
  is_int (ctrl_tz_offset (cet, T ("2024-10-27T01:00:00Z")), 3600, "then CET");
  ctrl_tz_free (cet);
  ctrl_tz *ist = NULL;
  ctrl_tz_load ("", &ist, NULL);
  ok (ctrl_tz_parse_posix (ist, "<+0330>-3:30") == 0 && ctrl_tz_offset (ist, 0) == 12600,
      "<+0330>-3:30 is 3.5 hours east");
  ctrl_tz_free (ist);
  ctrl_tz *junk = NULL;
  ctrl_tz_load ("", &junk, NULL);
  ok (ctrl_tz_parse_posix (junk, "AEST-0000010000010AEDT,M20,M2.1.0,M3") < 0
          && ctrl_tz_parse_posix (junk, "XYZ-200") < 0
          && ctrl_tz_parse_posix (junk, "CET-1:60") < 0,
      "out-of-range POSIX TZ fields are refused (fuzzer find: int overflow)");
  ctrl_tz_free (junk);
  ctrl_tz *syd = NULL;
  ctrl_tz_load ("", &syd, NULL);
  ctrl_tz_parse_posix (syd, "AEST-10AEDT,M10.1.0,M4.1.0/3");
  ok (ctrl_tz_offset (syd, T ("2040-01-15T00:00:00Z")) == 39600
          && ctrl_tz_offset (syd, T ("2040-07-15T00:00:00Z")) == 36000,
      "southern hemisphere rule (DST across the new year)");
  ctrl_tz_free (syd);

  if (!have_tzdata ())
    {
      printf ("# tzdata missing: zone tests skipped\n");
      return tap_done ();
    }
  ctrl_tz *tz = NULL;
  ok (ctrl_tz_load ("Europe/Paris", &tz, NULL) == 0, "Europe/Paris from tzdata");
  is_int (ctrl_tz_offset (tz, T ("2024-01-15T12:00:00Z")), 3600, "Paris winter");
  is_int (ctrl_tz_offset (tz, T ("2024-07-15T12:00:00Z")), 7200, "Paris summer");
  is_int (ctrl_tz_offset (tz, T ("2090-07-15T12:00:00Z")), 7200, "Paris summer 2090 (footer rule)");
  is_int (ctrl_tz_offset (tz, T ("1900-01-01T00:00:00Z")), 561, "Paris 1900: local mean time");
  ctrl_tz_free (tz);
  ok (ctrl_tz_load ("Asia/Kolkata", &tz, NULL) == 0
          && ctrl_tz_offset (tz, T ("2024-01-01T00:00:00Z")) == 19800,
      "Asia/Kolkata +05:30");
  ctrl_tz_free (tz);

  next_is ("CRON_TZ=Asia/Tokyo 0 9 * * *", NULL, "2023-12-31T12:00:00Z", "2024-01-01T00:00:00Z");
  next_is ("TZ=Asia/Tokyo 0 9 * * *", NULL, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z");
  next_is ("0 9 * * *", "Asia/Tokyo", "2023-12-31T12:00:00Z", "2024-01-01T00:00:00Z");
  next_is ("0 9 * * *", "America/New_York", "2024-07-01T00:00:00Z", "2024-07-01T13:00:00Z");
  next_is ("0 9 * * *", "America/New_York", "2024-12-01T00:00:00Z", "2024-12-01T14:00:00Z");
  /* 02:00 does not exist in New York on 2024-03-10: that day is skipped (robfig). */
  next_is ("0 2 * * *", "America/New_York", "2024-03-09T07:00:00Z", "2024-03-11T06:00:00Z");
  next_is ("30 1 * * *", "America/New_York", "2024-11-03T04:00:00Z", "2024-11-03T05:30:00Z");
  /* 01:30 happens twice on 2024-11-03: robfig fires at both (EDT, then EST) */
  next_is ("30 1 * * *", "America/New_York", "2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z");
  next_is ("0 0 1 * *", "Australia/Sydney", "2024-03-15T00:00:00Z", "2024-03-31T13:00:00Z");

  /* missed schedules (CronJob controller's mostRecentScheduleTime) */
  ctrl_cron *h = NULL;
  ctrl_cron_parse ("0 * * * *", NULL, &h, NULL);
  int64_t mr;
  ctrl_missed m;
  ctrl_cron_most_recent (h, T ("2024-01-01T10:00:00Z"), T ("2024-01-01T10:30:00Z"), -1, &mr, &m,
                         NULL);
  ok (mr == 0 && m == CTRL_NONE_MISSED, "nothing due yet");
  ctrl_cron_most_recent (h, T ("2024-01-01T10:00:00Z"), T ("2024-01-01T11:05:00Z"), -1, &mr, &m,
                         NULL);
  ok (mr == T ("2024-01-01T11:00:00Z") && m == CTRL_NONE_MISSED, "one due: %s", iso (mr));
  ctrl_cron_most_recent (h, T ("2024-01-01T10:00:00Z"), T ("2024-01-01T13:05:00Z"), -1, &mr, &m,
                         NULL);
  ok (mr == T ("2024-01-01T13:00:00Z") && m == CTRL_FEW_MISSED,
      "three due: the latest, few missed (%s)", iso (mr));
  ctrl_cron_most_recent (h, T ("2023-12-01T10:00:00Z"), T ("2024-01-01T13:05:00Z"), -1, &mr, &m,
                         NULL);
  ok (mr == T ("2024-01-01T13:00:00Z") && m == CTRL_MANY_MISSED, "a month down: many missed (%s)",
      iso (mr));
  ctrl_cron_most_recent (h, T ("2023-12-01T10:00:00Z"), T ("2024-01-01T13:05:00Z"), 600, &mr, &m,
                         NULL);
  ok (mr == T ("2024-01-01T13:00:00Z") && m == CTRL_NONE_MISSED,
      "startingDeadlineSeconds bounds the look-back");
  ctrl_cron_most_recent (h, T ("2023-12-01T10:00:00Z"), T ("2024-01-01T13:05:00Z"), 60, &mr, &m,
                         NULL);
  ok (mr == 0, "deadline passed for the 13:00 start");
  ctrl_cron_free (h);
  ctrl_cron *irr = NULL;
  ctrl_cron_parse ("30 6-16/4 * * 1-5", NULL, &irr, NULL);
  ctrl_cron_most_recent (irr, T ("2024-01-05T06:00:00Z"), T ("2024-01-08T07:00:00Z"), -1, &mr, &m,
                         NULL);
  ok (mr == T ("2024-01-08T06:30:00Z") && m != CTRL_NONE_MISSED,
      "irregular schedule over a weekend: %s", iso (mr));
  ctrl_cron_free (irr);
  return tap_done ();
}
