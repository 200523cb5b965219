/* husk api: a small buffered reply goes out as one TLS record. */
#pragma once

#include "src/master/api/api-internal.h"

/* After a buffered reply of len body bytes was queued on a TLS connection: holds what
   libmicrohttpd writes for it (its header record and its body record) in GnuTLS. */
void api_cork_reply (api_req *r, size_t len);
/* From the completion callback: sends what was held as one record and pushes it out. */
void api_cork_flush (api_req *r);
