/* husk store: the SQLite backend (docs/store.md).

   One writer thread owns the only writing connection. Callers queue requests; the writer
   takes all queued requests, applies each inside a SAVEPOINT (a failed compare rolls back
   that request only), and commits the batch with one fsync (group commit). Readers use
   pooled connections of their own; in WAL mode they neither block nor get blocked.
   Volatile resources live in an in-memory database guarded by mem_mu. */
#include <fcntl.h>
#include <inttypes.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <time.h>

#include "lib/path.h"
#include "src/master/store/store-internal.h"

#define RESERVE_BLOCK (INT64_C (1) << 20)
/* Reader connections kept for reuse: as many as the clients that read at once (64 in the
   benchmark); a connection opened beyond it prepares its statements again. */
#define POOL_KEEP     64
/* The writer wakes one caller per WAKE_GROUP requests of a batch; each woken caller wakes the
   next one of its group. */
#define WAKE_GROUP 8
/* How long the writer waits at most for the group of a group commit (linger). */
#define LINGER_US 1000
/* WAL frames (pages) between background checkpoints, and the WAL size at which the writer
   checkpoints itself so that the WAL can start over (docs/store.md). */
#define CKPT_FRAMES        1000
#define CKPT_INLINE_FRAMES 8000

typedef struct stmts
{
  sqlite3 *db;
  sqlite3_stmt *sel, *ins, *upd, *del, *setmeta, *list, *getmeta;
  sqlite3_stmt *savepoint, *release, *rollback_to; /* the writer's per-request SAVEPOINT */
  /* transaction control, prepared once: sqlite3_exec would parse the SQL on every use */
  sqlite3_stmt *begin, *begin_imm, *commit, *rollback;
} stmts;

typedef struct rconn
{
  stmts st;
  struct rconn *next;
} rconn;

typedef struct wreq
{
  store_prep *ops;
  size_t n;
  int64_t rev;
  int ret;
  husk_error *err;
  /* per op: its watch event, whose object is the one stored (delete: last state at rev);
     the caller copies its results from them */
  store_event_impl **evs;
  sem_t done;
  struct wreq *next;
  struct wreq *wake_next; /* the caller of this request wakes that one (wake_batch) */
  struct wreq *lead_next; /* the next request the writer wakes itself */
} wreq;

typedef struct sq
{
  char *path;
  int lock_fd;
  stmts w; /* writer connection (disk) */
  stmts m; /* in-memory volatile database, under mem_mu */
  pthread_mutex_t mem_mu;
  pthread_mutex_t pool_mu;
  rconn *pool;
  size_t pool_n;
  pthread_mutex_t q_mu;
  pthread_cond_t q_cond;
  wreq *q_head, *q_tail;
  size_t q_len;  /* requests queued */
  size_t q_want; /* the writer lingers until this many are queued (0: not lingering) */
  size_t last_n; /* writer thread only: requests in the last batch */
  bool stop;
  pthread_t writer;
  /* the checkpointer thread and its connection */
  sqlite3 *ck_db;
  pthread_t ckpt;
  bool ck_started, ck_want, ck_stop;
  pthread_mutex_t ck_mu;
  pthread_cond_t ck_cond;
  int ck_next; /* writer thread only: WAL frames at which to wake the checkpointer */
  atomic_int_fast64_t committed;
  int64_t open_rev;
  /* writer thread only */
  int64_t last_rev;
  int64_t reserved;
  bool in_w, in_m;
  time_t next_expiry;
  time_t expiry_every; /* seconds between expiry passes: min (30, ttl) */
} sq;

static const char schema[] =
    /* A rowid table: objects are ~1 KB, too big for WITHOUT ROWID's b-tree cells. */
    "CREATE TABLE IF NOT EXISTS kv (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, "
    "  rev INTEGER NOT NULL, value TEXT NOT NULL, rvoff INTEGER NOT NULL, "
    "  expires INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;";

static int
sql_err (husk_error **err, sqlite3 *db, int rc, const char *what)
{
  int errnum = rc == SQLITE_FULL ? ENOSPC : EIO;
  return husk_err (err, errnum, "store: sqlite: %s: %s", what,
                   db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
}

static int
exec (sqlite3 *db, const char *sql, husk_error **err)
{
  int rc;
  for (;;)
    {
      rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
        break;
      usleep (1000);
    }
  if (rc != SQLITE_OK)
    return sql_err (err, db, rc, sql);
  return 0;
}

/* sqlite3_step that waits out SQLITE_BUSY (which busy_timeout already mostly absorbs). */
static int
step (sqlite3_stmt *st)
{
  int rc;
  for (;;)
    {
      rc = sqlite3_step (st);
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
        return rc;
      sqlite3_reset (st);
      usleep (1000);
    }
}

static void
stmts_finalize (stmts *st)
{
  sqlite3_finalize (st->sel);
  sqlite3_finalize (st->ins);
  sqlite3_finalize (st->upd);
  sqlite3_finalize (st->del);
  sqlite3_finalize (st->setmeta);
  sqlite3_finalize (st->list);
  sqlite3_finalize (st->getmeta);
  sqlite3_finalize (st->savepoint);
  sqlite3_finalize (st->release);
  sqlite3_finalize (st->rollback_to);
  sqlite3_finalize (st->begin);
  sqlite3_finalize (st->begin_imm);
  sqlite3_finalize (st->commit);
  sqlite3_finalize (st->rollback);
  sqlite3_close (st->db);
  memset (st, 0, sizeof *st);
}

static int
stmts_prepare (stmts *st, husk_error **err)
{
  static const struct
  {
    size_t off;
    const char *sql;
  } defs[] = {
    { offsetof (stmts, sel), "SELECT rev, value, rvoff FROM kv WHERE key = ?1" },
    { offsetof (stmts, ins),
      "INSERT INTO kv (key, rev, value, rvoff, expires) VALUES (?1, ?2, ?3, ?4, ?5)" },
    { offsetof (stmts, upd),
      "UPDATE kv SET rev = ?2, value = ?3, rvoff = ?4, expires = ?5 WHERE key = ?1" },
    { offsetof (stmts, del), "DELETE FROM kv WHERE key = ?1" },
    { offsetof (stmts, setmeta), "INSERT OR REPLACE INTO meta (k, v) VALUES (?1, ?2)" },
    { offsetof (stmts, list),
      "SELECT key, value FROM kv WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3" },
    { offsetof (stmts, getmeta), "SELECT v FROM meta WHERE k = ?1" },
    { offsetof (stmts, savepoint), "SAVEPOINT r" },
    { offsetof (stmts, release), "RELEASE r" },
    { offsetof (stmts, rollback_to), "ROLLBACK TO r" },
    { offsetof (stmts, begin), "BEGIN" },
    { offsetof (stmts, begin_imm), "BEGIN IMMEDIATE" },
    { offsetof (stmts, commit), "COMMIT" },
    { offsetof (stmts, rollback), "ROLLBACK" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (defs); i++)
    {
      sqlite3_stmt **slot = (sqlite3_stmt **)((char *)st + defs[i].off);
      int rc = sqlite3_prepare_v3 (st->db, defs[i].sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
      if (rc != SQLITE_OK)
        return sql_err (err, st->db, rc, "prepare");
    }
  return 0;
}

static int
conn_open (const char *path, bool memory, stmts *st, husk_error **err)
{
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2 (memory ? ":memory:" : path, &st->db, flags, NULL);
  if (rc != SQLITE_OK)
    {
      int r = husk_err (err, EIO, "store: sqlite: open %s: %s", path,
                        st->db ? sqlite3_errmsg (st->db) : sqlite3_errstr (rc));
      sqlite3_close (st->db);
      st->db = NULL;
      return r;
    }
  sqlite3_busy_timeout (st->db, 10000);
  /* No mmap: the pages of the file a LIST touched would stay mapped and count in the
     master's RSS (20 MB for 10,000 pods); the kernel's page cache keeps the file anyway.
     Small private caches (256 KiB; the writer sets its own): 64 pooled readers may each fill
     theirs on a large LIST. */
  int ret = exec (st->db,
                  memory ? "PRAGMA journal_mode=MEMORY"
                         : "PRAGMA synchronous=FULL; PRAGMA mmap_size=0; PRAGMA cache_size=-256",
                  err);
  if (ret >= 0)
    ret = exec (st->db, schema, err);
  if (ret >= 0)
    ret = stmts_prepare (st, err);
  if (ret < 0)
    stmts_finalize (st);
  return ret;
}

/* Runs a prepared statement that returns no rows. */
static int
run (stmts *st, sqlite3_stmt *stmt, husk_error **err)
{
  int rc = step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return sql_err (err, st->db, rc, sqlite3_sql (stmt));
  return 0;
}

static int64_t
meta_get (stmts *st, const char *k)
{
  int64_t v = 0;
  sqlite3_bind_text (st->getmeta, 1, k, -1, SQLITE_STATIC);
  if (step (st->getmeta) == SQLITE_ROW)
    v = sqlite3_column_int64 (st->getmeta, 0);
  sqlite3_reset (st->getmeta);
  return v;
}

static int
meta_set (stmts *st, const char *k, int64_t v, husk_error **err)
{
  sqlite3_bind_text (st->setmeta, 1, k, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st->setmeta, 2, v);
  int rc = step (st->setmeta);
  sqlite3_reset (st->setmeta);
  if (rc != SQLITE_DONE)
    return sql_err (err, st->db, rc, "write meta");
  return 0;
}

/* A copy of len bytes plus a NUL (xstrndup would scan for a NUL first). */
static char *
text_dup (const void *p, size_t len)
{
  char *out = xmalloc (len + 1);
  memcpy (out, p, len);
  out[len] = '\0';
  return out;
}

/* ---- reader pool ---- */

static rconn *
pool_take (sq *q, husk_error **err)
{
  pthread_mutex_lock (&q->pool_mu);
  rconn *c = q->pool;
  if (c)
    {
      q->pool = c->next;
      q->pool_n--;
    }
  pthread_mutex_unlock (&q->pool_mu);
  if (c)
    return c;
  c = xzalloc (sizeof *c);
  if (conn_open (q->path, false, &c->st, err) < 0)
    {
      free (c);
      return NULL;
    }
  return c;
}

static void
pool_give (sq *q, rconn *c)
{
  pthread_mutex_lock (&q->pool_mu);
  if (q->pool_n < POOL_KEEP)
    {
      c->next = q->pool;
      q->pool = c;
      q->pool_n++;
      c = NULL;
    }
  pthread_mutex_unlock (&q->pool_mu);
  if (c)
    {
      stmts_finalize (&c->st);
      free (c);
    }
}

/* ---- reads ---- */

static int
read_get (stmts *st, const char *key, char **json, int64_t *rev, husk_error **err)
{
  sqlite3_bind_text (st->sel, 1, key, -1, SQLITE_STATIC);
  int rc = step (st->sel);
  int ret = 0;
  if (rc == SQLITE_ROW)
    {
      *rev = sqlite3_column_int64 (st->sel, 0);
      *json
          = text_dup (sqlite3_column_text (st->sel, 1), (size_t)sqlite3_column_bytes (st->sel, 1));
    }
  else if (rc == SQLITE_DONE)
    ret = husk_err (err, STORE_ENOTFOUND, "%s: not found", key + strlen ("/registry/"));
  else
    ret = sql_err (err, st->db, rc, "get");
  sqlite3_reset (st->sel);
  return ret;
}

static int
sq_get (store *s, const char *key, bool is_volatile, char **json, int64_t *rev, husk_error **err)
{
  sq *q = s->be;
  if (is_volatile)
    {
      pthread_mutex_lock (&q->mem_mu);
      int ret = read_get (&q->m, key, json, rev, err);
      pthread_mutex_unlock (&q->mem_mu);
      return ret;
    }
  rconn *c = pool_take (q, err);
  if (!c)
    return husk_err_code (*err);
  int ret = read_get (&c->st, key, json, rev, err);
  pool_give (q, c);
  return ret;
}

static int
read_list (stmts *st, const char *prefix, const char *after, size_t limit, store_list_page *out,
           husk_error **err)
{
  _cleanup_free_ char *end = xstrdup (prefix);
  end[strlen (end) - 1] = '0'; /* '/' + 1: the first key past the prefix */
  sqlite3_bind_text (st->list, 1, after, -1, SQLITE_STATIC);
  sqlite3_bind_text (st->list, 2, end, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st->list, 3, limit ? (int64_t)limit + 1 : -1);
  size_t cap = 0;
  int rc;
  while ((rc = step (st->list)) == SQLITE_ROW)
    {
      if (limit && out->n == limit)
        {
          out->more = true;
          break;
        }
      if (out->n == cap)
        {
          cap = cap ? cap * 2 : 64;
          out->items = xreallocarray (out->items, cap, sizeof *out->items);
        }
      out->items[out->n++] = text_dup (sqlite3_column_text (st->list, 1),
                                       (size_t)sqlite3_column_bytes (st->list, 1));
      if (limit && out->n == limit)
        {
          free (out->last_key);
          out->last_key = xstrdup ((const char *)sqlite3_column_text (st->list, 0));
        }
    }
  sqlite3_reset (st->list);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      for (size_t i = 0; i < out->n; i++)
        free (out->items[i]);
      free (out->items);
      free (out->last_key);
      memset (out, 0, sizeof *out);
      return sql_err (err, st->db, rc, "list");
    }
  return 0;
}

static int
sq_list (store *s, const char *prefix, const char *after, size_t limit, int64_t snapshot_rev,
         bool is_volatile, store_list_page *out, husk_error **err)
{
  sq *q = s->be;
  int ret;
  if (is_volatile)
    {
      pthread_mutex_lock (&q->mem_mu);
      out->revision = atomic_load (&q->committed);
      ret = read_list (&q->m, prefix, after, limit, out, err);
      pthread_mutex_unlock (&q->mem_mu);
      return ret;
    }
  rconn *c = pool_take (q, err);
  if (!c)
    return husk_err_code (*err);
  /* One read transaction: the revision in meta and the rows come from the same snapshot. */
  ret = run (&c->st, c->st.begin, err);
  if (ret >= 0)
    {
      out->revision = meta_get (&c->st, "rev");
      ret = read_list (&c->st, prefix, after, limit, out, err);
      run (&c->st, c->st.commit, NULL);
    }
  pool_give (q, c);
  return ret;
}

static int
sq_current_revision (store *s, int64_t *out, husk_error **err)
{
  sq *q = s->be;
  *out = atomic_load (&q->committed);
  return 0;
}

static int
sq_watch_hub (store *s, const char *resource, int64_t from_rev, store_hub **out, husk_error **err)
{
  sq *q = s->be;
  /* Every write since open went through its resource's hub, so history starts at open. */
  *out = store_hub_get (s, resource, q->open_rev, NULL);
  return 0;
}

/* ---- the writer ---- */

static int
begin_w (sq *q, husk_error **err)
{
  if (q->in_w)
    return 0;
  int ret = run (&q->w, q->w.begin_imm, err);
  if (ret >= 0)
    q->in_w = true;
  return ret;
}

static int
begin_m (sq *q, husk_error **err)
{
  if (q->in_m)
    return 0;
  pthread_mutex_lock (&q->mem_mu);
  int ret = run (&q->m, q->m.begin, err);
  if (ret < 0)
    {
      pthread_mutex_unlock (&q->mem_mu);
      return ret;
    }
  q->in_m = true;
  return 0;
}

static int
digits (int64_t v)
{
  int n = 1;
  while (v >= 10)
    {
      v /= 10;
      n++;
    }
  return n;
}

static int
write_row (stmts *st, sqlite3_stmt *stmt, const store_prep *p, int64_t rev, const char *val,
           size_t len, husk_error **err)
{
  sqlite3_bind_text (stmt, 1, p->key, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, rev);
  sqlite3_bind_text (stmt, 3, val, (int)len, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, (int64_t)p->rv_off);
  sqlite3_bind_int64 (stmt, 5, p->expires);
  int rc = step (stmt);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) /* the UNIQUE key of an insert */
    return husk_err (err, STORE_EEXIST, "%s: already exists", p->key + strlen ("/registry/"));
  if (rc != SQLITE_DONE)
    return sql_err (err, st->db, rc, p->key);
  return 0;
}

static const store_event_type event_types[] = {
  [STORE_OP_CREATE] = STORE_ADDED,
  [STORE_OP_UPDATE] = STORE_MODIFIED,
  [STORE_OP_DELETE] = STORE_DELETED,
};

/* The event of a create or update: the object rendered at rev, straight into the event. */
static store_event_impl *
render_event (const store_prep *p, int64_t rev)
{
  const store_op *op = p->op;
  return store_event_splice (event_types[op->type], rev, op->resource, p->ns, op->name, p->enc,
                             p->enc_len, p->rv_off, 0);
}

/* Stores the object of a create or update at rev. */
static int
put_op (stmts *st, sqlite3_stmt *stmt, const store_prep *p, int64_t rev, store_event_impl **ev,
        husk_error **err)
{
  store_event_impl *e = render_event (p, rev);
  int ret = write_row (st, stmt, p, rev, e->pub.json, e->pub.json_len, err);
  if (ret < 0)
    {
      store_event_unref (&e->pub);
      return ret;
    }
  *ev = e;
  return 0;
}

/* Applies one op at rev. *ev: its event (delete: the last state at rev). */
static int
apply_op (stmts *st, const store_prep *p, int64_t rev, store_event_impl **ev, husk_error **err)
{
  const char *what = p->key + strlen ("/registry/");
  store_op *op = p->op;
  if (op->type == STORE_OP_CREATE) /* no lookup: the UNIQUE key makes a duplicate fail */
    return put_op (st, st->ins, p, rev, ev, err);
  sqlite3_bind_text (st->sel, 1, p->key, -1, SQLITE_STATIC);
  int rc = step (st->sel);
  if (rc != SQLITE_ROW)
    {
      sqlite3_reset (st->sel);
      if (rc == SQLITE_DONE)
        return husk_err (err, STORE_ENOTFOUND, "%s: not found", what);
      return sql_err (err, st->db, rc, p->key);
    }
  int64_t cur = sqlite3_column_int64 (st->sel, 0);
  if (op->expect_rev && op->expect_rev != cur)
    {
      sqlite3_reset (st->sel);
      return husk_err (err, STORE_ECONFLICT,
                       "%s: the object has been modified (revision %" PRId64 ", expected %" PRId64
                       ")",
                       what, cur, op->expect_rev);
    }
  op->prev_rev = cur;
  if (op->type == STORE_OP_UPDATE)
    {
      sqlite3_reset (st->sel);
      return put_op (st, st->upd, p, rev, ev, err);
    }
  /* delete: the event carries the last state, read before the row goes */
  store_event_impl *e = store_event_splice (
      STORE_DELETED, rev, op->resource, p->ns, op->name,
      (const char *)sqlite3_column_text (st->sel, 1), (size_t)sqlite3_column_bytes (st->sel, 1),
      (size_t)sqlite3_column_int64 (st->sel, 2), (size_t)digits (cur));
  sqlite3_reset (st->sel);
  sqlite3_bind_text (st->del, 1, p->key, -1, SQLITE_STATIC);
  rc = step (st->del);
  sqlite3_reset (st->del);
  if (rc != SQLITE_DONE)
    {
      store_event_unref (&e->pub);
      return sql_err (err, st->db, rc, p->key);
    }
  *ev = e;
  return 0;
}

static void
req_drop_events (wreq *r)
{
  if (!r->evs)
    return;
  for (size_t i = 0; i < r->n; i++)
    store_event_unref (r->evs[i] ? &r->evs[i]->pub : NULL);
  free (r->evs);
  r->evs = NULL;
}

/* Applies a request inside SAVEPOINTs at revision rev. */
static int
apply_req (sq *q, wreq *r, int64_t rev, husk_error **err)
{
  bool need_w = false, need_m = false;
  for (size_t i = 0; i < r->n; i++)
    {
      if (r->ops[i].is_volatile)
        need_m = true;
      else
        need_w = true;
    }
  int ret = 0;
  if (need_w || (need_m && rev > q->reserved))
    ret = begin_w (q, err);
  if (ret >= 0 && need_m)
    ret = begin_m (q, err);
  if (ret >= 0 && need_m && rev > q->reserved)
    {
      ret = meta_set (&q->w, "reserved", rev + RESERVE_BLOCK, err);
      if (ret >= 0)
        q->reserved = rev + RESERVE_BLOCK;
    }
  /* A savepoint lets a request of several ops fail without undoing the rest of the batch. A
     single op needs none: a failed statement undoes its own changes, and an update or delete
     fails its checks before it writes. */
  bool sp = r->n > 1;
  if (ret >= 0 && sp && need_w)
    ret = run (&q->w, q->w.savepoint, err);
  if (ret >= 0 && sp && need_m)
    ret = run (&q->m, q->m.savepoint, err);
  if (ret < 0)
    return ret;

  r->evs = xcalloc (r->n, sizeof *r->evs);
  for (size_t i = 0; i < r->n && ret >= 0; i++)
    ret = apply_op (r->ops[i].is_volatile ? &q->m : &q->w, &r->ops[i], rev, &r->evs[i], err);
  if (ret < 0)
    {
      req_drop_events (r);
      if (sp && need_w)
        run (&q->w, q->w.rollback_to, NULL);
      if (sp && need_m)
        run (&q->m, q->m.rollback_to, NULL);
    }
  if (sp && need_w)
    run (&q->w, q->w.release, NULL);
  if (sp && need_m)
    run (&q->m, q->m.release, NULL);
  return ret;
}

static int
commit_batch (sq *q, husk_error **err)
{
  int ret = 0;
  if (q->in_w)
    {
      ret = meta_set (&q->w, "rev", q->last_rev, err);
      if (ret >= 0)
        ret = run (&q->w, q->w.commit, err);
      if (ret < 0)
        run (&q->w, q->w.rollback, NULL);
      q->in_w = false;
    }
  if (q->in_m)
    run (&q->m, ret < 0 ? q->m.rollback : q->m.commit, NULL);
  return ret;
}

/* Appends a committed request's events to their hubs; the request keeps a reference for its
   caller. */
static void
publish (store *s, wreq *r)
{
  sq *q = s->be;
  store_hub *h = NULL;
  const char *h_res = NULL;
  for (size_t i = 0; i < r->n; i++)
    {
      store_event_impl *ev = r->evs[i];
      if (!h_res || !streq (h_res, ev->pub.resource))
        {
          h = store_hub_get (s, ev->pub.resource, q->open_rev, NULL);
          h_res = ev->pub.resource;
        }
      store_event_ref (ev);
      store_hub_append (h, ev);
    }
}

/* Wakes the callers of a batch. A wake-up costs the waker a syscall and a pass through the
   scheduler; the writer wakes the first request of every WAKE_GROUP and each woken caller
   wakes the next one (sq_txn), so the writer gets to the next batch sooner. The links are all
   set before the first wake-up: a request lives on its caller's stack and is gone as soon as
   the caller has returned. */
static void
wake_batch (wreq *batch)
{
  wreq *lead = NULL;
  size_t i = 0;
  for (wreq *r = batch; r; r = r->next, i++)
    {
      if (i % WAKE_GROUP == 0)
        {
          if (lead)
            lead->lead_next = r;
          lead = r;
          r->lead_next = NULL;
        }
      r->wake_next = (i + 1) % WAKE_GROUP && r->next ? r->next : NULL;
    }
  for (wreq *r = batch, *next; r; r = next)
    {
      next = r->lead_next;
      sem_post (&r->done);
    }
}

static void
run_batch (store *s, wreq *batch)
{
  sq *q = s->be;
  int64_t base = q->last_rev;
  int64_t base_reserved = q->reserved;
  for (wreq *r = batch; r; r = r->next)
    {
      r->ret = apply_req (q, r, q->last_rev + 1, &r->err);
      if (r->ret >= 0)
        r->rev = ++q->last_rev;
    }
  husk_error *cerr = NULL;
  int ret = commit_batch (q, &cerr);
  if (ret < 0)
    {
      q->last_rev = base;
      q->reserved = base_reserved;
      for (wreq *r = batch; r; r = r->next)
        if (r->ret >= 0)
          {
            req_drop_events (r);
            r->ret = husk_err (&r->err, cerr->errnum, "%s", cerr->msg);
          }
      husk_error_free (cerr);
    }
  else
    {
      for (wreq *r = batch; r; r = r->next)
        if (r->ret >= 0)
          publish (s, r);
      atomic_store (&q->committed, q->last_rev);
      if (q->last_rev > base)
        store_hubs_advance (s, q->last_rev);
    }
  if (q->in_m)
    {
      q->in_m = false;
      pthread_mutex_unlock (&q->mem_mu);
    }
  wake_batch (batch);
}

/* Deletes events whose TTL passed, as ordinary deletes (watchers see DELETED). */
static void
expire_events (store *s)
{
  sq *q = s->be;
  stmts *st = s->durable_volatile ? &q->w : &q->m;
  bool vol = !s->durable_volatile;
  size_t n = 0, cap = 0;
  char **keys = NULL;
  int64_t *revs = NULL;
  int64_t now = (int64_t)time (NULL);
  if (vol)
    pthread_mutex_lock (&q->mem_mu);
  sqlite3_stmt *sel = NULL;
  if (sqlite3_prepare_v2 (st->db,
                          "SELECT key, rev FROM kv WHERE key > '/registry/events/' AND "
                          "key < '/registry/events0' AND expires > 0 AND expires <= ?1 LIMIT 10000",
                          -1, &sel, NULL)
      == SQLITE_OK)
    {
      sqlite3_bind_int64 (sel, 1, now);
      while (step (sel) == SQLITE_ROW)
        {
          if (n == cap)
            {
              cap = cap ? cap * 2 : 16;
              keys = xreallocarray (keys, cap, sizeof *keys);
              revs = xreallocarray (revs, cap, sizeof *revs);
            }
          keys[n] = xstrdup ((const char *)sqlite3_column_text (sel, 0));
          revs[n++] = sqlite3_column_int64 (sel, 1);
        }
    }
  sqlite3_finalize (sel);
  if (vol)
    pthread_mutex_unlock (&q->mem_mu);

  /* One batch (one commit) for all of them; each delete compares on the revision seen, so
     an event rewritten meanwhile survives. */
  store_op *ops = xcalloc (n, sizeof *ops);
  store_prep *preps = xcalloc (n, sizeof *preps);
  wreq *reqs = xcalloc (n, sizeof *reqs);
  char **parts = xcalloc (3 * n, sizeof *parts);
  for (size_t i = 0; i < n; i++)
    {
      store_key_split (keys[i], &parts[3 * i], &parts[3 * i + 1], &parts[3 * i + 2]);
      ops[i] = (store_op){ .type = STORE_OP_DELETE,
                           .resource = parts[3 * i],
                           .ns = parts[3 * i + 1],
                           .name = parts[3 * i + 2],
                           .expect_rev = revs[i] };
      preps[i] = (store_prep){
        .op = &ops[i], .key = keys[i], .ns = parts[3 * i + 1], .is_volatile = vol
      };
      reqs[i] = (wreq){ .ops = &preps[i], .n = 1, .next = i + 1 < n ? &reqs[i + 1] : NULL };
      sem_init (&reqs[i].done, 0, 0);
    }
  if (n)
    run_batch (s, reqs);
  for (size_t i = 0; i < n; i++)
    {
      sem_destroy (&reqs[i].done);
      husk_error_free (reqs[i].err);
      req_drop_events (&reqs[i]);
      free (keys[i]);
      free (parts[3 * i]);
      free (parts[3 * i + 1]);
      free (parts[3 * i + 2]);
    }
  free (ops);
  free (preps);
  free (reqs);
  free (parts);
  free (keys);
  free (revs);
}

/* Group commit that waits for the group (under q_mu, with requests queued). The callers of
   the last batch were just woken and most will be back with their next write within a
   moment: committing the few that are queued now would cost a whole fsync for them, and
   the rest would wait for the next one. So while fewer are queued than the last batch plus
   those queued since, the writer waits for them, at most LINGER_US. A lone writer never
   waits (its last batch was 1). */
static void
linger (sq *q)
{
  size_t want = q->last_n + q->q_len;
  if (q->last_n < 2 || q->q_len >= want)
    return;
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  ts.tv_nsec += LINGER_US * 1000L;
  ts.tv_sec += ts.tv_nsec / 1000000000;
  ts.tv_nsec %= 1000000000;
  q->q_want = want;
  while (q->q_len < want && !q->stop)
    if (pthread_cond_timedwait (&q->q_cond, &q->q_mu, &ts) == ETIMEDOUT)
      break;
  q->q_want = 0;
}

static void *
writer_main (void *arg)
{
  store *s = arg;
  sq *q = s->be;
  pthread_setname_np (pthread_self (), "store-writer");
  for (;;)
    {
      pthread_mutex_lock (&q->q_mu);
      while (!q->q_head && !q->stop)
        {
          struct timespec ts;
          clock_gettime (CLOCK_REALTIME, &ts);
          if (ts.tv_sec >= q->next_expiry)
            break;
          ts.tv_sec = q->next_expiry;
          ts.tv_nsec = 0;
          pthread_cond_timedwait (&q->q_cond, &q->q_mu, &ts);
        }
      if (q->q_head && !q->stop)
        linger (q);
      wreq *batch = q->q_head;
      q->q_head = q->q_tail = NULL;
      q->last_n = q->q_len;
      q->q_len = 0;
      bool stop = q->stop;
      pthread_mutex_unlock (&q->q_mu);
      if (batch)
        run_batch (s, batch);
      else if (stop)
        break;
      if (time (NULL) >= q->next_expiry)
        {
          expire_events (s);
          q->next_expiry = time (NULL) + q->expiry_every;
        }
    }
  return NULL;
}

static int
sq_txn (store *s, store_prep *ops, size_t n, int64_t *rev, husk_error **err)
{
  sq *q = s->be;
  wreq r = { .ops = ops, .n = n };
  sem_init (&r.done, 0, 0);
  pthread_mutex_lock (&q->q_mu);
  if (q->q_tail)
    q->q_tail->next = &r;
  else
    q->q_head = &r;
  q->q_tail = &r;
  q->q_len++;
  /* the writer waits for a first request, or lingers for a group */
  if (q->q_len == 1 || (q->q_want && q->q_len >= q->q_want))
    pthread_cond_signal (&q->q_cond);
  pthread_mutex_unlock (&q->q_mu);
  while (sem_wait (&r.done) < 0)
    ;
  if (r.wake_next)
    sem_post (&r.wake_next->done);
  sem_destroy (&r.done);
  if (r.ret < 0)
    {
      int ret = r.ret;
      husk_error_move (err, &r.err);
      husk_error_free (r.err);
      return ret;
    }
  /* The results are copies of the events' objects, made here rather than by the writer. */
  for (size_t i = 0; i < n; i++)
    ops[i].op->result = text_dup (r.evs[i]->pub.json, r.evs[i]->pub.json_len);
  req_drop_events (&r);
  *rev = r.rev;
  return 0;
}

/* ---- checkpoints ----
   SQLite's automatic checkpoint runs inside the committing thread: the writer would copy
   pages into the database file and fsync it while every caller waits. Instead a thread of
   its own checkpoints (PASSIVE: never blocks the writer) every CKPT_FRAMES frames. Under
   steady writes that checkpoint never quite catches up (frames keep coming), and the WAL
   can only start over once all of it is in the database; so when it reaches
   CKPT_INLINE_FRAMES the writer checkpoints itself between two batches, which by then copies
   little. */

static int
wal_hook (void *arg, sqlite3 *db, const char *name, int frames)
{
  sq *q = arg;
  if (frames < q->ck_next - CKPT_FRAMES) /* the WAL started over */
    q->ck_next = CKPT_FRAMES;
  if (frames >= CKPT_INLINE_FRAMES)
    {
      sqlite3_wal_checkpoint_v2 (db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      q->ck_next = CKPT_FRAMES;
    }
  else if (frames >= q->ck_next && q->ck_started)
    {
      pthread_mutex_lock (&q->ck_mu);
      q->ck_want = true;
      pthread_cond_signal (&q->ck_cond);
      pthread_mutex_unlock (&q->ck_mu);
      q->ck_next = frames + CKPT_FRAMES;
    }
  return SQLITE_OK;
}

static void *
ckpt_main (void *arg)
{
  sq *q = arg;
  pthread_setname_np (pthread_self (), "store-ckpt");
  pthread_mutex_lock (&q->ck_mu);
  for (;;)
    {
      while (!q->ck_want && !q->ck_stop)
        pthread_cond_wait (&q->ck_cond, &q->ck_mu);
      if (q->ck_stop)
        break;
      q->ck_want = false;
      pthread_mutex_unlock (&q->ck_mu);
      sqlite3_wal_checkpoint_v2 (q->ck_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      pthread_mutex_lock (&q->ck_mu);
    }
  pthread_mutex_unlock (&q->ck_mu);
  return NULL;
}

/* Without the thread (it could not start), the writer's inline checkpoints still bound the
   WAL. */
static void
ckpt_start (sq *q)
{
  int rc = sqlite3_open_v2 (q->path, &q->ck_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_busy_timeout (q->ck_db, 10000);
      /* FULL: the database file is fsynced before the WAL may be overwritten */
      rc = sqlite3_exec (q->ck_db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    }
  if (rc == SQLITE_OK && pthread_create (&q->ckpt, NULL, ckpt_main, q) == 0)
    q->ck_started = true;
  else
    {
      sqlite3_close (q->ck_db);
      q->ck_db = NULL;
    }
}

static void
ckpt_stop (sq *q)
{
  if (q->ck_started)
    {
      pthread_mutex_lock (&q->ck_mu);
      q->ck_stop = true;
      pthread_cond_signal (&q->ck_cond);
      pthread_mutex_unlock (&q->ck_mu);
      pthread_join (q->ckpt, NULL);
      q->ck_started = false;
    }
  sqlite3_close (q->ck_db);
  q->ck_db = NULL;
}

/* ---- open/close ---- */

static int
resolve_path (const store_options *opts, char **out, husk_error **err)
{
  const char *url = opts->url;
  if (url && strncmp (url, "sqlite://", 9) == 0 && url[9])
    {
      *out = xstrdup (url + 9);
      return 0;
    }
  if (!opts->data_dir)
    return husk_err (err, STORE_EINVAL, "store: no data directory for the SQLite store");
  int ret = husk_mkdir_p (opts->data_dir, 0700, err);
  if (ret < 0)
    return ret;
  *out = xasprintf ("%s/state.db", opts->data_dir);
  return 0;
}

static int
sq_open_db (sq *q, husk_error **err)
{
  _cleanup_free_ char *lock = xasprintf ("%s.lock", q->path);
  q->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (q->lock_fd < 0)
    return husk_err_errno (err, "store: open %s", lock);
  if (flock (q->lock_fd, LOCK_EX | LOCK_NB) < 0)
    return husk_err (err, EBUSY, "store: %s is in use by another process", q->path);
  int ret = conn_open (q->path, false, &q->w, err);
  if (ret < 0)
    return ret;
  sqlite3 *db = q->w.db;
  char *mode = NULL;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK
      && step (st) == SQLITE_ROW)
    mode = xstrdup ((const char *)sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  bool wal = mode && streq (mode, "wal");
  free (mode);
  if (!wal)
    return husk_err (err, EIO, "store: %s: cannot enable WAL journal", q->path);
  /* The writer keeps the hot pages (index, last table pages) in its cache instead of reading
     them back from the WAL: 2 MiB hold them for 100,000 objects (16 MiB filled up with
     pages written once and counted in the master's RSS). */
  ret = exec (db, "PRAGMA journal_size_limit=67108864; PRAGMA cache_size=-2048", err);
  if (ret < 0)
    return ret;
  q->ck_next = CKPT_FRAMES;
  sqlite3_wal_hook (db, wal_hook, q); /* replaces the automatic checkpoint */
  ret = conn_open (NULL, true, &q->m, err);
  if (ret < 0)
    return ret;

  int64_t rev = meta_get (&q->w, "rev");
  q->reserved = meta_get (&q->w, "reserved");
  /* Volatile writes may have used revisions up to `reserved` before a restart. */
  if (q->reserved > rev)
    {
      rev = q->reserved;
      ret = exec (db, "BEGIN IMMEDIATE", err);
      if (ret >= 0)
        ret = meta_set (&q->w, "rev", rev, err);
      if (ret >= 0)
        ret = exec (db, "COMMIT", err);
      if (ret < 0)
        return ret;
    }
  q->last_rev = rev;
  q->open_rev = rev;
  atomic_store (&q->committed, rev);
  return 0;
}

static void
sq_free (sq *q)
{
  ckpt_stop (q);
  stmts_finalize (&q->w);
  stmts_finalize (&q->m);
  while (q->pool)
    {
      rconn *c = q->pool;
      q->pool = c->next;
      stmts_finalize (&c->st);
      free (c);
    }
  if (q->lock_fd >= 0)
    close (q->lock_fd);
  pthread_mutex_destroy (&q->mem_mu);
  pthread_mutex_destroy (&q->pool_mu);
  pthread_mutex_destroy (&q->q_mu);
  pthread_cond_destroy (&q->q_cond);
  pthread_mutex_destroy (&q->ck_mu);
  pthread_cond_destroy (&q->ck_cond);
  free (q->path);
  free (q);
}

static int
sq_open (store *s, const store_options *opts, husk_error **err)
{
  sq *q = xzalloc (sizeof *q);
  q->lock_fd = -1;
  pthread_mutex_init (&q->mem_mu, NULL);
  pthread_mutex_init (&q->pool_mu, NULL);
  pthread_mutex_init (&q->q_mu, NULL);
  pthread_cond_init (&q->q_cond, NULL);
  pthread_mutex_init (&q->ck_mu, NULL);
  pthread_cond_init (&q->ck_cond, NULL);
  int ret = resolve_path (opts, &q->path, err);
  if (ret >= 0)
    ret = sq_open_db (q, err);
  if (ret < 0)
    {
      sq_free (q);
      return ret;
    }
  ckpt_start (q);
  q->expiry_every = s->event_ttl_sec < 30 ? s->event_ttl_sec : 30;
  q->next_expiry = time (NULL) + q->expiry_every;
  s->be = q;
  int rc = pthread_create (&q->writer, NULL, writer_main, s);
  if (rc != 0)
    {
      s->be = NULL;
      sq_free (q);
      return husk_err_sys (err, rc, "store: start writer thread");
    }
  return 0;
}

static void
sq_close (store *s)
{
  sq *q = s->be;
  pthread_mutex_lock (&q->q_mu);
  q->stop = true;
  pthread_cond_signal (&q->q_cond);
  pthread_mutex_unlock (&q->q_mu);
  pthread_join (q->writer, NULL);
  sq_free (q);
  s->be = NULL;
}

const store_backend_ops store_sqlite_ops = {
  .name = "sqlite",
  .open = sq_open,
  .close = sq_close,
  .current_revision = sq_current_revision,
  .get = sq_get,
  .list = sq_list,
  .txn = sq_txn,
  .watch_hub = sq_watch_hub,
};
