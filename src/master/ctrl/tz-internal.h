/* husk controllers: calendar helpers shared by tz.c and cron.c. */
#ifndef HUSK_CTRL_TZ_INTERNAL_H
#define HUSK_CTRL_TZ_INTERNAL_H

#include <stdint.h>

#include "src/master/ctrl/logic.h"

/* Days since 1970-01-01; month and day may overflow (normalized like Go's time.Date). */
int64_t ctrl_days_from_civil (int64_t y, int64_t m, int64_t d);
void ctrl_civil_from_days (int64_t days, int64_t *y, int *m, int *d);
/* Sets a zone's rule from a POSIX TZ string (the TZif footer). 0 or -1. */
int ctrl_tz_parse_posix (ctrl_tz *tz, const char *s);

#endif
