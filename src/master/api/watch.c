/* husk api: watch streams (one JSON event per line, chunked), with initial events for an
   unset or "0" resourceVersion, bookmarks, timeoutSeconds and 410 Gone as an ERROR event. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

#include "lib/log.h"
#include "src/master/api/handlers.h"
#include "src/master/api/table.h"

#define BOOKMARK_MS 15000
/* The reply's block, which libmicrohttpd allocates with every watch reply (at 64 KiB the
   master's own 24 watches held 1.5 MB of them); 16 KiB is a full TLS record. */
#define WATCH_BLOCK (16 * 1024)

typedef struct watch_state
{
  store_watch *w;
  const api_resource *res;
  api_selector *ls, *fs;
  bool table;
  bool table_columns_sent;
  char *include_object;
  bool bookmarks;
  bool done;
  int sock;
  int64_t deadline_ms; /* monotonic */
  int64_t next_bookmark_ms;
  husk_buf out;
  size_t off;
  /* With selectors: "ns/name" of the objects the client was last told match, so that an
     object that stops matching is sent as DELETED and one that starts as ADDED. */
  json_t *matched;
} watch_state;

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
free_state (void *cls)
{
  watch_state *s = cls;
  if (s->w)
    store_watch_close (s->w);
  api_selector_free (s->ls);
  api_selector_free (s->fs);
  free (s->include_object);
  json_decref (s->matched);
  husk_buf_free (&s->out);
  free (s);
}

/* Appends one event line for an object given as JSON text. */
static void
emit (watch_state *s, const char *type, const char *json)
{
  _cleanup_free_ char *served = NULL;
  if (s->res->from_storage)
    json = served = api_served_text (s->res, json);
  if (!s->table && s->ls == NULL && s->fs == NULL)
    {
      husk_buf_printf (&s->out, "{\"type\":\"%s\",\"object\":", type);
      husk_buf_puts (&s->out, json);
      husk_buf_puts (&s->out, "}\n");
      return;
    }
  json_t *o = NULL;
  if (husk_json_parse (json, strlen (json), &o, NULL) < 0)
    return;
  bool match = api_selector_matches (s->ls, o) && api_selector_matches (s->fs, o);
  if (s->matched && (s->ls || s->fs))
    {
      const char *ns = husk_json_path_str (o, "metadata.namespace");
      const char *name = husk_json_path_str (o, "metadata.name");
      _cleanup_free_ char *key = xasprintf ("%s/%s", ns ? ns : "", name ? name : "");
      bool was = json_object_get (s->matched, key) != NULL;
      if (match && !streq (type, "DELETED"))
        json_object_set_new (s->matched, key, json_true ());
      else
        json_object_del (s->matched, key);
      if (!match && was && streq (type, "MODIFIED"))
        type = "DELETED", match = true;
      else if (match && !was && streq (type, "MODIFIED"))
        type = "ADDED";
    }
  if (!match)
    {
      json_decref (o);
      return;
    }
  json_t *ev;
  if (s->table)
    {
      json_t *items = json_pack ("[o]", o);
      json_t *t = api_table_build (s->res, items, husk_json_path_str (o, "metadata.resourceVersion"),
                                   NULL, s->include_object, !s->table_columns_sent);
      s->table_columns_sent = true;
      json_decref (items);
      ev = json_pack ("{s:s, s:o}", "type", type, "object", t);
    }
  else
    ev = json_pack ("{s:s, s:o}", "type", type, "object", o);
  _cleanup_free_ char *line = husk_json_dump (ev);
  json_decref (ev);
  husk_buf_puts (&s->out, line);
  husk_buf_putc (&s->out, '\n');
}

static void
emit_bookmark (watch_state *s, int64_t rev, bool initial_end)
{
  char gv[96];
  json_t *meta = json_object ();
  json_object_set_new (meta, "resourceVersion", json_sprintf ("%lld", (long long) rev));
  if (initial_end)
    json_object_set_new (meta, "annotations",
                         json_pack ("{s:s}", "k8s.io/initial-events-end", "true"));
  json_t *ev = json_pack ("{s:s, s:{s:s, s:s, s:o}}", "type", "BOOKMARK", "object", "kind",
                          s->res->kind, "apiVersion",
                          api_resource_api_version (s->res, gv, sizeof gv), "metadata", meta);
  _cleanup_free_ char *line = husk_json_dump (ev);
  json_decref (ev);
  husk_buf_puts (&s->out, line);
  husk_buf_putc (&s->out, '\n');
}

/* The stream's last event: an ERROR carrying a Status, as upstream ends a watch it cannot
   continue; the client watches again from its last resourceVersion (or re-lists on 410). */
static void
emit_error (watch_state *s, unsigned code, const char *reason, const char *msg)
{
  json_t *st = api_status_new (code, reason, msg);
  json_t *ev = json_pack ("{s:s, s:o}", "type", "ERROR", "object", st);
  _cleanup_free_ char *line = husk_json_dump (ev);
  json_decref (ev);
  husk_buf_puts (&s->out, line);
  husk_buf_putc (&s->out, '\n');
  s->done = true;
}

static void
emit_gone (watch_state *s, const char *msg)
{
  emit_error (s, 410, "Expired", msg);
}

/* The store ended this watcher's stream: never silently. A watcher that fell behind the ring
   gets 410 Expired (its events were dropped: it must re-list); any other failure its Status
   (a retry from the last resourceVersion gets the rest). Only a cancel (shutdown) just ends. */
static void
end_on_error (watch_state *s, husk_error *err)
{
  s->done = true;
  if (err->errnum == ECANCELED)
    return;
  log_warn ("api: watch ended with an ERROR event", "resource", s->res->plural, "error",
            err->msg);
  if (err->errnum == STORE_ETOOOLD)
    {
      _cleanup_free_ char *msg = xasprintf ("too old resource version: %s", err->msg);
      emit_gone (s, msg);
      return;
    }
  unsigned code;
  const char *reason;
  api_errno_status (err->errnum, &code, &reason);
  emit_error (s, code, reason, err->msg);
}

/* The client closed the connection (or sent something, which a watcher never does). */
static bool
client_gone (watch_state *s)
{
  if (s->sock < 0)
    return false;
  struct pollfd p = {s->sock, POLLIN | POLLRDHUP, 0};
  return poll (&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Waits for the next event(s) until there is output, the deadline, or the client leaves. */
static void
fill (watch_state *s)
{
  while (s->out.len == s->off && !s->done)
    {
      int64_t now = now_ms ();
      if (s->deadline_ms && now >= s->deadline_ms)
        {
          s->done = true;
          return;
        }
      if (client_gone (s))
        {
          s->done = true;
          return;
        }
      int64_t wait = 1000;
      if (s->deadline_ms && s->deadline_ms - now < wait)
        wait = s->deadline_ms - now;
      const store_event *ev = NULL;
      _cleanup_error_ husk_error *err = NULL;
      int ret = store_watch_next (s->w, (int) wait, &ev, &err);
      /* Under load several events are waiting: send them in one write (one TLS record). */
      while (ret == 1)
        {
          emit (s, ev->type == STORE_ADDED      ? "ADDED"
                   : ev->type == STORE_MODIFIED ? "MODIFIED"
                                                : "DELETED",
                ev->json);
          store_event_unref (ev);
          ev = NULL;
          if (s->out.len - s->off >= 64 * 1024)
            return;
          ret = store_watch_next (s->w, 0, &ev, &err);
        }
      if (ret < 0)
        {
          end_on_error (s, err);
          return;
        }
      if (s->out.len > s->off)
        return;
      if (s->bookmarks && now_ms () >= s->next_bookmark_ms)
        {
          emit_bookmark (s, store_watch_progress (s->w), false);
          s->next_bookmark_ms = now_ms () + BOOKMARK_MS;
        }
    }
}

static ssize_t
reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  watch_state *s = cls;
  fill (s);
  if (s->out.len == s->off)
    return MHD_CONTENT_READER_END_OF_STREAM;
  size_t n = s->out.len - s->off;
  if (n > max)
    n = max;
  memcpy (buf, s->out.data + s->off, n);
  s->off += n;
  if (s->off == s->out.len)
    {
      husk_buf_reset (&s->out);
      s->off = 0;
    }
  return (ssize_t) n;
}

static void
mark_matched (watch_state *s, const char *json)
{
  json_t *o = NULL;
  if (api_parse_without_managed (json, &o) < 0)
    return;
  const char *ns = husk_json_path_str (o, "metadata.namespace");
  const char *name = husk_json_path_str (o, "metadata.name");
  _cleanup_free_ char *key = xasprintf ("%s/%s", ns ? ns : "", name ? name : "");
  json_object_set_new (s->matched, key, json_true ());
  json_decref (o);
}

/* A watch from a given revision with selectors: what matches now is taken as what the client
   holds (it listed at a revision shortly before). */
static int
seed_matched (api_req *r, const api_route *rt, watch_state *s, husk_error **err)
{
  if (s->matched == NULL)
    return 0;
  store_list_result res = {0};
  int ret = api_list_matching (r, rt, s->ls, s->fs, 0, NULL, &res, err);
  if (ret < 0)
    return ret;
  for (size_t i = 0; i < res.n; i++)
    mark_matched (s, res.items[i]);
  store_list_result_free (&res);
  return 0;
}

/* Initial ADDED events (resourceVersion unset or "0"): a list, then watch from its revision. */
static int
initial_events (api_req *r, const api_route *rt, watch_state *s, int64_t *from,
                husk_error **err)
{
  store_list_result res = {0};
  int ret = api_list_matching (r, rt, s->ls, s->fs, 0, NULL, &res, err);
  if (ret < 0)
    return ret;
  for (size_t i = 0; i < res.n; i++)
    emit (s, "ADDED", res.items[i]);
  if (s->matched)
    json_object_clear (s->matched); /* the ADDED events above filled it */
  for (size_t i = 0; s->matched && i < res.n; i++)
    mark_matched (s, res.items[i]);
  *from = res.revision;
  store_list_result_free (&res);
  return 0;
}

enum MHD_Result
api_do_watch (api_req *r, const api_route *rt)
{
  watch_state *s = xzalloc (sizeof *s);
  s->res = rt->res;
  s->sock = -1;
  if (!api_parse_selectors (r, rt, &s->ls, &s->fs))
    {
      free_state (s);
      return MHD_YES;
    }
  if (s->ls || s->fs)
    s->matched = json_object ();
  s->table = api_wants_table (r);
  const char *io = api_query (r, "includeObject");
  s->include_object = io ? xstrdup (io) : NULL;
  s->bookmarks = api_query_bool (r, "allowWatchBookmarks");
  /* The first bookmark comes soon (clients learn the revision early), then every 15 s. */
  s->next_bookmark_ms = now_ms () + 1000;
  const char *to = api_query (r, "timeoutSeconds");
  if (to && atoll (to) > 0)
    s->deadline_ms = now_ms () + atoll (to) * 1000;
  const char *rv = api_query (r, "resourceVersion");
  int64_t from = 0;
  _cleanup_error_ husk_error *err = NULL;
  int ret = 0;
  if (rv == NULL || *rv == '\0' || streq (rv, "0"))
    ret = initial_events (r, rt, s, &from, &err);
  else
    {
      char *end;
      from = strtoll (rv, &end, 10);
      if (*end || from < 0)
        {
          free_state (s);
          return api_reply_error (r, 400, "BadRequest", "invalid resource version: %s", rv);
        }
      ret = seed_matched (r, rt, s, &err);
    }
  if (ret == 0)
    ret = store_watch_open (r->srv->store, api_resource_storage (rt->res), rt->ns, from, &s->w,
                            &err);
  if (ret < 0 && err->errnum == STORE_ETOOOLD)
    {
      _cleanup_free_ char *msg = xasprintf ("too old resource version: %s", rv ? rv : "");
      emit_gone (s, msg);
    }
  else if (ret < 0)
    {
      free_state (s);
      return api_reply_store_error (r, rt, err);
    }
  const union MHD_ConnectionInfo *ci
      = MHD_get_connection_info (r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci)
    s->sock = ci->connect_fd;
  struct MHD_Response *resp
      = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, WATCH_BLOCK, reader, s, free_state);
  MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  MHD_add_response_header (resp, "Cache-Control", "no-cache, private");
  enum MHD_Result m = MHD_queue_response (r->conn, 200, resp);
  MHD_destroy_response (resp);
  return m;
}
