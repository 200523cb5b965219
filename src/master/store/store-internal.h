/* husk store: what the front end (store.c), the watch hub (watch.c) and the backends
   (sqlite.c, etcd.c) share. Not for use outside src/master/store. */
#ifndef HUSK_STORE_INTERNAL_H
#define HUSK_STORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "src/master/store/store.h"

/* An op checked and encoded by the front end before it reaches a backend. */
typedef struct store_prep
{
  store_op *op;
  char *key;        /* /registry/<resource>/[<ns>/]<name> */
  const char *ns;   /* "" for cluster-scoped */
  bool is_volatile; /* leases/events kept in memory (SQLite) */
  int64_t expires;  /* unix seconds, 0 = never (events) */
  /* create/update: the compact JSON with metadata.resourceVersion's value cut out:
     object = enc[0, rv_off) + "<rev>" + enc[rv_off, enc_len). */
  char *enc;
  size_t enc_len;
  size_t rv_off;
} store_prep;

/* Builds the object for a revision from a prep (malloc'd, *len_out may be NULL). */
char *store_prep_render (const store_prep *p, int64_t rev, size_t *len_out);
/* Renders a stored text whose resourceVersion value starts at rv_off and is rv_len long
   with another revision. */
char *store_splice_rev (const char *text, size_t len, size_t rv_off, size_t rv_len, int64_t rev,
                        size_t *len_out);

/* Every encoded object starts with this; the revision's digits follow. */
#define STORE_RV_PREFIX "{\"metadata\":{\"resourceVersion\":\""

/* Parses a JSON object and re-encodes it compact with metadata first and
   metadata.resourceVersion first in it, its value cut out (see store_prep). */
int store_encode_object (const char *json, char **enc, size_t *enc_len, size_t *rv_off,
                         husk_error **err);
/* Its fast path (encode.c): 1 with the encoding, 0 when the input needs jansson. */
int store_encode_fast (const char *json, char **enc, size_t *enc_len, size_t *rv_off);

/* The same encoding from a jansson tree (encode.c): 1 with it, 0 when the tree needs the
   text path (reals, rare control characters, deep nesting, not an object). */
int store_encode_tree (const struct json_t *obj, char **enc, size_t *enc_len, size_t *rv_off);

/* Key helpers. */
char *store_key (const char *resource, const char *ns, const char *name);
/* Prefix of a list: "/registry/<resource>/" or "/registry/<resource>/<ns>/". */
char *store_list_prefix (const char *resource, const char *ns);
/* Splits a key into namespace and name (both malloc'd; ns "" for cluster-scoped). */
void store_key_split (const char *key, char **resource, char **ns, char **name);
bool store_is_volatile_resource (const char *resource);

/* Continue tokens: base64 of "<rev>\n<last key>". */
char *store_continue_encode (int64_t rev, const char *last_key);
int store_continue_decode (const char *token, const char *prefix, int64_t *rev, char **last_key,
                           husk_error **err);

/* ---- watch hub: one ring of events per resource ---- */

typedef struct store_event_impl
{
  store_event pub;
  atomic_int refs;
} store_event_impl;

/* A new event holding copies of the strings; refs = 1. */
store_event_impl *store_event_new (store_event_type type, int64_t rev, const char *resource,
                                   const char *ns, const char *name, const char *json,
                                   size_t json_len);
/* A new event whose object is text (len bytes) with the rv_len bytes at rv_off (the
   resourceVersion's value) replaced by rev; refs = 1. */
store_event_impl *store_event_splice (store_event_type type, int64_t rev, const char *resource,
                                      const char *ns, const char *name, const char *text,
                                      size_t len, size_t rv_off, size_t rv_len);
void store_event_ref (store_event_impl *e);

typedef struct store_hub store_hub;

/* Finds or creates the hub of a resource. A new hub's history starts at start_rev
   (watchers need from_rev >= start_rev). *created (may be NULL) tells whether it is new. */
store_hub *store_hub_get (store *s, const char *resource, int64_t start_rev, bool *created);
store_hub *store_hub_find (store *s, const char *resource);
/* The revision of the newest event ever appended to resource's hub, 0 without one. */
int64_t store_hub_write_rev (store *s, const char *resource);
/* Appends an event (takes the reference). Events must come in revision order. */
void store_hub_append (store_hub *h, store_event_impl *ev);
/* Declares every revision <= rev complete for this hub and wakes its watchers. */
void store_hub_advance (store_hub *h, int64_t rev);
/* Calls store_hub_advance on every hub. */
void store_hubs_advance (store *s, int64_t rev);
/* Marks a hub broken (its feed ended for good): watchers get err's class. */
void store_hub_fail (store_hub *h, int errnum, const char *msg);
/* Drops the history and restarts it at start_rev: open watchers get STORE_ETOOOLD. */
void store_hub_reset (store_hub *h, int64_t start_rev);
int64_t store_hub_start_rev (store_hub *h);
void store_hubs_free (store *s);
const char *store_hub_resource (store_hub *h);
void *store_hub_backend_data (store_hub *h);
void store_hub_set_backend_data (store_hub *h, void *data);

/* ---- backends ---- */

typedef struct store_list_page
{
  char **items;
  size_t n;
  char *last_key; /* key of items[n-1] */
  bool more;      /* keys remain after last_key */
  int64_t revision;
} store_list_page;

typedef struct store_backend_ops
{
  const char *name;
  int (*open) (store *s, const store_options *opts, husk_error **err);
  void (*close) (store *s);
  int (*current_revision) (store *s, int64_t *out, husk_error **err);
  int (*get) (store *s, const char *key, bool is_volatile, char **json, int64_t *rev,
              husk_error **err);
  /* Keys in (after, end) of prefix, at most limit (0 = all). snapshot_rev: 0 for a first
     page, else the revision of the first page. */
  int (*list) (store *s, const char *prefix, const char *after, size_t limit, int64_t snapshot_rev,
               bool is_volatile, store_list_page *out, husk_error **err);
  /* All or nothing; sets ops' result/prev_rev and *rev; publishes watch events. */
  int (*txn) (store *s, store_prep *ops, size_t n, int64_t *rev, husk_error **err);
  /* Makes sure the hub of a resource is fed from a revision <= from_rev (etcd starts its
     stream here). Returns the hub. */
  int (*watch_hub) (store *s, const char *resource, int64_t from_rev, store_hub **out,
                    husk_error **err);
} store_backend_ops;

extern const store_backend_ops store_sqlite_ops;
extern const store_backend_ops store_etcd_ops;

struct store
{
  const store_backend_ops *ops;
  void *be; /* backend state */
  uint32_t watch_ring;
  size_t watch_ring_bytes;
  uint32_t event_ttl_sec;
  bool durable_volatile;
  pthread_mutex_t hubs_mu;
  store_hub *hubs;
};

#endif
