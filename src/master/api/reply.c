/* husk api: building and queueing HTTP responses. */
#include "config.h"

#include "src/master/api/api-internal.h"
#include "src/master/api/cork.h"

const char *
api_query (api_req *r, const char *key)
{
  return MHD_lookup_connection_value (r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *
api_header (api_req *r, const char *key)
{
  return MHD_lookup_connection_value (r->conn, MHD_HEADER_KIND, key);
}

bool
api_query_bool (api_req *r, const char *key)
{
  /* Go's strconv.ParseBool, as upstream parses query booleans. */
  const char *v = api_query (r, key);
  return v && (streq (v, "1") || streq (v, "t") || streq (v, "T") || streq (v, "true")
               || streq (v, "TRUE") || streq (v, "True"));
}

void
api_warn (api_req *r, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  if (r->warnings == NULL)
    r->warnings = json_array ();
  json_array_append_new (r->warnings, json_string (msg));
}

static void
add_warnings (api_req *r, struct MHD_Response *resp)
{
  size_t i;
  json_t *w;
  json_array_foreach (r->warnings, i, w)
  {
    husk_buf b = HUSK_BUF_INIT;
    husk_buf_puts (&b, "299 - \"");
    for (const char *p = json_string_value (w); *p; p++)
      {
        if (*p == '"' || *p == '\\')
          husk_buf_putc (&b, '\\');
        husk_buf_putc (&b, (*p == '\n' || *p == '\r') ? ' ' : *p);
      }
    husk_buf_putc (&b, '"');
    MHD_add_response_header (resp, "Warning", husk_buf_str (&b));
    husk_buf_free (&b);
  }
}

enum MHD_Result
api_reply_raw (api_req *r, unsigned code, const char *ctype, char *body, size_t len)
{
  struct MHD_Response *resp
      = MHD_create_response_from_buffer (len, body, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL)
    {
      free (body);
      return MHD_NO;
    }
  MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  MHD_add_response_header (resp, "Cache-Control", "no-cache, private");
  add_warnings (r, resp);
  enum MHD_Result ret = MHD_queue_response (r->conn, code, resp);
  MHD_destroy_response (resp);
  if (ret == MHD_YES)
    api_cork_reply (r, len);
  return ret;
}

enum MHD_Result
api_reply_shared (api_req *r, unsigned code, struct MHD_Response *resp, size_t len)
{
  enum MHD_Result ret = MHD_queue_response (r->conn, code, resp);
  if (ret == MHD_YES)
    api_cork_reply (r, len);
  return ret;
}

enum MHD_Result
api_reply_json_ct (api_req *r, unsigned code, const char *ctype, json_t *j)
{
  char *s = json_dumps (j, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref (j);
  if (s == NULL)
    husk_oom ();
  size_t n = strlen (s);
  s[n] = '\0';
  /* A trailing newline as upstream writes; the buffer has room for it after realloc. */
  s = xrealloc (s, n + 2);
  s[n] = '\n';
  s[n + 1] = '\0';
  return api_reply_raw (r, code, ctype, s, n + 1);
}

enum MHD_Result
api_reply_json (api_req *r, unsigned code, json_t *j)
{
  return api_reply_json_ct (r, code, "application/json", j);
}
