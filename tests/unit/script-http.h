/* husk: a scripted HTTP server on 127.0.0.1 for unit tests of API clients (libmicrohttpd,
   a thread per connection). The test supplies the handler; these helpers do the parts every
   handler repeats: skipping the header and upload calls, replying with a JSON body, and
   starting the server on a free port. */
#ifndef HUSK_SCRIPT_HTTP_H
#define HUSK_SCRIPT_HTTP_H

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True while libmicrohttpd is still delivering the request (the first call, then each upload
   chunk, which is dropped): the handler returns MHD_YES at once. */
static inline bool
script_request_pending (void **state, size_t *upload_size)
{
  if (*state == NULL)
    {
      *state = (void *) 1;
      return true;
    }
  if (*upload_size)
    {
      *upload_size = 0;
      return true;
    }
  return false;
}

static inline enum MHD_Result
script_reply (struct MHD_Connection *c, unsigned code, const char *body)
{
  struct MHD_Response *r
      = MHD_create_response_from_buffer (strlen (body), (void *) body, MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header (r, "Content-Type", "application/json");
  enum MHD_Result ret = MHD_queue_response (c, code, r);
  MHD_destroy_response (r);
  return ret;
}

/* Starts the server on an ephemeral port of 127.0.0.1 and stores the port; a machine that
   cannot listen skips the whole test (exit 77, automake's SKIP). */
static inline struct MHD_Daemon *
script_server_start (MHD_AccessHandlerCallback handler, int *port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  struct MHD_Daemon *d = MHD_start_daemon (
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler,
      NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
  if (d == NULL)
    {
      printf ("1..0 # SKIP cannot start an HTTP server\n");
      exit (77);
    }
  *port = MHD_get_daemon_info (d, MHD_DAEMON_INFO_BIND_PORT)->port;
  return d;
}

#endif
