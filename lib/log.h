/* husk: logging to stderr as logfmt lines:
     time=2026-11-27T05:10:00.123Z level=info msg="pod started" pod=default/web uid=...
   Fields are key/value string pairs; values are quoted when they need it. */
#ifndef HUSK_LOG_H
#define HUSK_LOG_H

#include "lib/util.h"

typedef enum husk_log_level
{
  HUSK_LOG_DEBUG = 0,
  HUSK_LOG_INFO,
  HUSK_LOG_WARN,
  HUSK_LOG_ERROR,
} husk_log_level;

void husk_log_set_level (husk_log_level level);
husk_log_level husk_log_get_level (void);
/* Parses "debug", "info", "warn"/"warning", "error"; returns -1 on anything else. */
int husk_log_level_parse (const char *s);
/* Where lines go (default stderr); for tests. */
void husk_log_set_stream (FILE *f);

/* key/value pairs follow msg, terminated by NULL; a NULL value prints as key="" . */
void husk_log_kv (husk_log_level level, const char *msg, ...) __attribute__ ((sentinel));

#define log_debug(msg, ...) husk_log_kv (HUSK_LOG_DEBUG, msg, ##__VA_ARGS__, NULL)
#define log_info(msg, ...) husk_log_kv (HUSK_LOG_INFO, msg, ##__VA_ARGS__, NULL)
#define log_warn(msg, ...) husk_log_kv (HUSK_LOG_WARN, msg, ##__VA_ARGS__, NULL)
#define log_error(msg, ...) husk_log_kv (HUSK_LOG_ERROR, msg, ##__VA_ARGS__, NULL)

/* Appends key=value to a logfmt line held in a buffer; exposed for tests. */
struct husk_buf;
void husk_log_append_field (struct husk_buf *b, const char *key, const char *value);

#endif
