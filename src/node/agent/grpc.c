/* husk node agent: the gRPC health probe. One unary call grpc.health.v1.Health/Check over
   HTTP/2 cleartext (prior knowledge), through libcurl: the request is a length-prefixed
   HealthCheckRequest{service}, the answer a HealthCheckResponse{status} and the
   grpc-status trailer. kubelet's messages (pkg/probe/grpc). */
#include <curl/curl.h>
#include <errno.h>
#include <time.h>

#include "lib/buf.h"
#include "src/node/agent/probe-internal.h"

typedef struct grpc_reply
{
  husk_buf body;
  int status;    /* grpc-status, -1 until seen */
  char *message; /* grpc-message */
} grpc_reply;

static size_t
on_body (char *data, size_t size, size_t nmemb, void *ud)
{
  grpc_reply *r = ud;
  size_t n = size * nmemb;
  if (r->body.len < 65536)
    husk_buf_append (&r->body, data, n);
  return n;
}

/* Headers and trailers both arrive here. */
static size_t
on_header (char *data, size_t size, size_t nmemb, void *ud)
{
  grpc_reply *r = ud;
  size_t n = size * nmemb;
  _cleanup_free_ char *line = xstrndup (data, n);
  line[strcspn (line, "\r\n")] = '\0';
  if (strncasecmp (line, "grpc-status:", 12) == 0)
    r->status = atoi (line + 12);
  else if (strncasecmp (line, "grpc-message:", 13) == 0)
    {
      free (r->message);
      const char *v = line + 13;
      while (*v == ' ')
        v++;
      r->message = xstrdup (v);
    }
  return n;
}

static const char *const status_names[]
    = { "UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" };
static const char *const code_names[]
    = { "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
        "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
        "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
        "DataLoss", "Unauthenticated" };

/* HealthCheckResponse.status (field 1, varint) from the first length-prefixed message. */
static int
response_status (const husk_buf *b)
{
  const unsigned char *p = (const unsigned char *)b->data;
  if (b->len < 5 || p[0] != 0)
    return -1;
  size_t len = (size_t)p[1] << 24 | p[2] << 16 | p[3] << 8 | p[4];
  if (len > b->len - 5)
    return -1;
  const unsigned char *m = p + 5, *end = m + len;
  int status = 0; /* proto3 default: UNKNOWN */
  while (m < end)
    {
      unsigned tag = *m++;
      if (tag == 0x08 && m < end)
        {
          uint64_t v = 0;
          int shift = 0;
          while (m < end && shift < 64)
            {
              v |= (uint64_t)(*m & 0x7f) << shift;
              shift += 7;
              if (!(*m++ & 0x80))
                break;
            }
          status = (int)v;
        }
      else
        break; /* unknown fields: keep what we have */
    }
  return status;
}

agent_probe_result
agent_probe_run_grpc (const agent_probe_spec *s, const agent_probe_target *t, char **msg)
{
  agent_probe_curl_init ();
  curl_version_info_data *vi = curl_version_info (CURLVERSION_NOW);
  if (!(vi->features & CURL_VERSION_HTTP2))
    {
      *msg = xstrdup ("error: this node's libcurl has no HTTP/2: grpc probes cannot run");
      return AGENT_PROBE_FAILURE;
    }
  const char *host = s->host ? s->host : t && t->pod_ip && *t->pod_ip ? t->pod_ip : "127.0.0.1";
  _cleanup_free_ char *url
      = strchr (host, ':') ? xasprintf ("http://[%s]:%d/grpc.health.v1.Health/Check", host, s->port)
                           : xasprintf ("http://%s:%d/grpc.health.v1.Health/Check", host, s->port);
  const char *svc = s->grpc_service ? s->grpc_service : "";
  size_t sl = strlen (svc);
  if (sl > 16383)
    sl = 16383;
  husk_buf req = HUSK_BUF_INIT;
  size_t mlen = sl ? 1 + (sl < 128 ? 1 : 2) + sl : 0;
  unsigned char hdr[5]
      = { 0, (mlen >> 24) & 0xff, (mlen >> 16) & 0xff, (mlen >> 8) & 0xff, mlen & 0xff };
  husk_buf_append (&req, hdr, 5);
  if (sl)
    {
      husk_buf_putc (&req, 0x0a);
      if (sl < 128)
        husk_buf_putc (&req, (char)sl);
      else
        {
          husk_buf_putc (&req, (char)(0x80 | (sl & 0x7f)));
          husk_buf_putc (&req, (char)(sl >> 7));
        }
      husk_buf_append (&req, svc, sl);
    }
  struct curl_slist *headers = NULL;
  headers = curl_slist_append (headers, "Content-Type: application/grpc");
  headers = curl_slist_append (headers, "TE: trailers");
  headers = curl_slist_append (headers, "User-Agent: " AGENT_PROBE_USER_AGENT);
  headers = curl_slist_append (headers, "Expect:");
  grpc_reply r = { .status = -1 };
  char errbuf[CURL_ERROR_SIZE] = "";
  CURL *c = curl_easy_init ();
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
  curl_easy_setopt (c, CURLOPT_POST, 1L);
  curl_easy_setopt (c, CURLOPT_POSTFIELDS, req.data);
  curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, (long)req.len);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, s->timeout * 1000L);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_PROXY, "");
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform (c);
  long http = 0;
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &http);
  curl_easy_cleanup (c);
  curl_slist_free_all (headers);
  husk_buf_free (&req);
  agent_probe_result res = AGENT_PROBE_FAILURE;
  /* A trailers-only answer may be followed by RST_STREAM while the request's end is in
     flight; libcurl reports the reset, but the status had arrived. */
  if (rc != CURLE_OK && rc != CURLE_OPERATION_TIMEDOUT && r.status > 0)
    {
      rc = CURLE_OK;
      http = 200;
    }
  if (rc == CURLE_OPERATION_TIMEDOUT)
    *msg = xasprintf ("timeout: health rpc did not complete within %ds", s->timeout);
  else if (rc != CURLE_OK)
    *msg = xasprintf ("timeout: failed to connect service \"%s:%d\" within %ds: %s", host, s->port,
                      s->timeout, *errbuf ? errbuf : curl_easy_strerror (rc));
  else if (http != 200)
    *msg = xasprintf ("error: health rpc probe failed: HTTP status %ld", http);
  else if (r.status == 12)
    *msg = xasprintf ("timeout: this server doesn't implement the grpc health protocol "
                      "(grpc.health.v1.Health): %s",
                      r.message ? r.message : "");
  else if (r.status != 0)
    *msg = xasprintf ("error: health rpc probe failed: rpc error: code = %s desc = %s",
                      r.status > 0 && r.status < (int)ARRAY_SIZE (code_names) ? code_names[r.status]
                                                                              : "Unknown",
                      r.message ? r.message : "");
  else
    {
      int st = response_status (&r.body);
      if (st == 1)
        {
          res = AGENT_PROBE_SUCCESS;
          *msg = xstrdup ("");
        }
      else
        *msg = xasprintf ("service unhealthy (responded with \"%s\")",
                          st >= 0 && st < (int)ARRAY_SIZE (status_names) ? status_names[st]
                                                                         : "UNKNOWN");
    }
  husk_buf_free (&r.body);
  free (r.message);
  return res;
}
