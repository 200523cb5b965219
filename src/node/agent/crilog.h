/* husk node agent: container logs in the CRI format, as kubelet and containerd keep them.

   /var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log holds one record per line:
     2026-11-27T05:10:00.123456789Z stdout F a complete line
     2026-11-27T05:10:00.123456789Z stderr P first 16 KiB of a longer line
   F closes a line, P is a piece of a line that continues in the next record of the stream.
   The writer rotates <restart>.log to <restart>.log.<UTC stamp> past max_size and keeps
   max_files files in all. The reader gives `kubectl logs` its semantics. */
#ifndef HUSK_AGENT_CRILOG_H
#define HUSK_AGENT_CRILOG_H

#include <stdint.h>
#include <time.h>

#include "lib/error.h"

/* containerd's bufio size: a line longer than this is split into P records. */
#define AGENT_LOG_MAX_LINE          16384
#define AGENT_LOG_DEFAULT_MAX_SIZE  (10 * 1024 * 1024) /* kubelet containerLogMaxSize */
#define AGENT_LOG_DEFAULT_MAX_FILES 5                  /* kubelet containerLogMaxFiles */

typedef enum agent_log_stream
{
  AGENT_LOG_STDOUT = 0,
  AGENT_LOG_STDERR = 1,
} agent_log_stream;

/* "/var/log/pods/<ns>_<pod>_<uid>/<container>" under root (root NULL = "/var/log/pods").
   The names come from the API: one holding '/' or equal to "." or ".." is refused. */
int agent_log_dir (const char *root, const char *ns, const char *pod, const char *uid,
                   const char *container, char **out, husk_error **err);
/* "<dir>/<restart>.log" */
char *agent_log_path (const char *dir, unsigned restart);

/* Formats t as 2026-11-27T05:10:00.123456789Z into buf (at least 31 bytes). */
void agent_log_format_time (const struct timespec *t, char *buf, size_t size);
/* Parses RFC 3339 with optional fraction (1..9 digits) and Z or +hh:mm; 0 or -EINVAL. */
int agent_log_parse_time (const char *s, size_t len, struct timespec *out);

/* ---- writer ---------------------------------------------------------------------- */

typedef struct agent_log_writer agent_log_writer;

/* Opens (creates, appends to) <dir>/<restart>.log, creating dir. max_size 0 = default,
   max_files < 2 = default. */
int agent_log_writer_open (const char *dir, unsigned restart, uint64_t max_size, int max_files,
                           agent_log_writer **out, husk_error **err);
/* Raw bytes read from the container's stream. Complete lines are written at once as F
   records; an unfinished line waits for its end, and is written as P records in
   AGENT_LOG_MAX_LINE pieces when it grows past that. */
int agent_log_writer_feed (agent_log_writer *w, agent_log_stream s, const char *data, size_t len,
                           husk_error **err);
/* The stream ended: its unfinished line, if any, is written as an F record (containerd). */
int agent_log_writer_eof (agent_log_writer *w, agent_log_stream s, husk_error **err);
/* Testing and clocks: the writer stamps records with this function (default
   clock_gettime(CLOCK_REALTIME)). */
void agent_log_writer_set_clock (agent_log_writer *w, void (*now) (struct timespec *));
const char *agent_log_writer_path (const agent_log_writer *w);
/* Flushes nothing (records are written with one write(2) each) and closes. */
void agent_log_writer_close (agent_log_writer *w);

/* ---- reader (kubectl logs) -------------------------------------------------------- */

typedef struct agent_log_opts
{
  int64_t tail_lines;  /* < 0: all; counts records, as kubelet does */
  int64_t limit_bytes; /* <= 0: unlimited; output is cut at that many bytes */
  bool timestamps;     /* prefix each record with its time and a space */
  bool follow;         /* keep reading until stop() says so */
  bool since_set;      /* skip records older than since (sinceSeconds/sinceTime) */
  struct timespec since;
  int streams; /* bit mask of 1 << agent_log_stream; 0 = both */
  /* For follow: polled between waits; returning true ends the read once the file has
     been read to its end (kubelet stops following when the container is gone). */
  bool (*stop) (void *ud);
  void *stop_ud;
  int stop_fd; /* also ends following when readable; -1 if unused */
} agent_log_opts;

#define AGENT_LOG_OPTS_INIT                                                                        \
  {                                                                                                \
    .tail_lines = -1, .stop_fd = -1                                                                \
  }

/* Parses the query of GET /containerLogs/<ns>/<pod>/<container> (the node API) or of
   pods/<name>/log: follow, previous, timestamps, tailLines, limitBytes, sinceSeconds,
   sinceTime (RFC 3339, URL-encoded), stream ("Stdout"/"Stderr"/"All"), container.
   *previous and *container (may be NULL if not wanted) are set when given. Validation as
   the API server's PodLogOptions: negative tailLines, limitBytes/sinceSeconds below 1, and
   both since forms together are refused with its message. */
int agent_log_opts_from_query (const char *query, agent_log_opts *o, bool *previous,
                               char **container, husk_error **err);

/* Fills opts->since from sinceSeconds relative to now. */
void agent_log_opts_since_seconds (agent_log_opts *o, int64_t seconds);

/* Writes what `kubectl logs` shows for the file at path through out(ud, data, len)
   (out returns < 0 to stop: the client left). Following survives rotation: when the
   file is renamed away, the new file at path is opened and read from its start.
   Returns 0, or < 0 with err set (a missing file is ENOENT). */
int agent_log_read (const char *path, const agent_log_opts *opts,
                    int (*out) (void *ud, const char *data, size_t len), void *ud,
                    husk_error **err);

/* ---- termination messages -------------------------------------------------------------- */

#define AGENT_TERMINATION_MESSAGE_MAX 4096 /* bytes of terminationMessagePath read */
#define AGENT_TERMINATION_LOG_LINES   80   /* FallbackToLogsOnError: last lines ... */
#define AGENT_TERMINATION_LOG_BYTES   2048 /* ... and at most these many bytes of them */

/* The container's terminationMessagePath file as seen on the host: its last 4096 bytes.
   A missing file gives "" (0). */
int agent_termination_message_file (const char *host_path, char **out, husk_error **err);
/* terminationMessagePolicy FallbackToLogsOnError: the last 80 lines of the log at path,
   cut to its last 2048 bytes. kubelet uses it when the container failed (exit != 0) and
   left no message. */
int agent_termination_message_logs (const char *log_path, char **out, husk_error **err);

/* ---- pump: container pipes -> writers, one epoll set, no thread per container ----- */

typedef struct agent_log_pump agent_log_pump;

int agent_log_pump_new (agent_log_pump **out, husk_error **err);
/* Hands over the read ends of a container's stdout and stderr pipes (either may be -1;
   a tty container has one) and its writer. The pump owns them from here on: when both
   reach end of file the writer is closed, then done(ud) is called. */
int agent_log_pump_add (agent_log_pump *p, int stdout_fd, int stderr_fd, agent_log_writer *w,
                        void (*done) (void *ud), void *ud, husk_error **err);
/* An fd for the daemon's main loop: readable when agent_log_pump_run has work. */
int agent_log_pump_fd (const agent_log_pump *p);
/* Handles ready pipes, waiting up to timeout_ms (-1 forever, 0 not at all).
   Returns the number of containers still attached. */
int agent_log_pump_run (agent_log_pump *p, int timeout_ms, husk_error **err);
/* Number of containers attached. */
int agent_log_pump_count (const agent_log_pump *p);
/* Closes everything still attached (their writers too, without calling done). */
void agent_log_pump_free (agent_log_pump *p);

#endif
