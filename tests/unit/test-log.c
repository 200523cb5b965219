#include "config.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "tests/unit/tap.h"

static char *
capture (void (*fn) (void))
{
  char *data = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&data, &len);
  husk_log_set_stream (f);
  fn ();
  husk_log_set_stream (NULL);
  fclose (f);
  return data;
}

static void
emit_info (void)
{
  log_info ("pod started", "pod", "default/web", "note", "two words", "q", "a\"b");
}

static void
emit_debug (void)
{
  log_debug ("hidden", "k", "v");
}

int
main (void)
{
  _cleanup_free_ char *line = capture (emit_info);
  ok (strncmp (line, "time=", 5) == 0, "line starts with time=");
  ok (strstr (line, " level=info msg=\"pod started\" pod=default/web note=\"two words\" q=\"a\\\"b\"\n")
          != NULL,
      "logfmt fields, quoting and escaping: %s", line);

  husk_log_set_level (HUSK_LOG_INFO);
  _cleanup_free_ char *none = capture (emit_debug);
  is_str (none, "", "debug suppressed at info level");
  husk_log_set_level (HUSK_LOG_DEBUG);
  _cleanup_free_ char *some = capture (emit_debug);
  ok (strstr (some, "level=debug msg=hidden k=v") != NULL, "debug shown at debug level");

  is_int (husk_log_level_parse ("warning"), HUSK_LOG_WARN, "parse warning");
  is_int (husk_log_level_parse ("error"), HUSK_LOG_ERROR, "parse error");
  is_int (husk_log_level_parse ("loud"), -1, "unknown level refused");

  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  husk_log_append_field (&b, "empty", "");
  husk_log_append_field (&b, "nl", "a\nb");
  husk_log_append_field (&b, "ctl", "\x01");
  is_str (husk_buf_str (&b), "empty=\"\" nl=\"a\\nb\" ctl=\"\\x01\"", "control characters escaped");
  return tap_done ();
}
