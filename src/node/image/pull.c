/* Pulling an image: resolve the reference to a manifest (through an index for this
   platform), download config and layers in parallel, unpack each layer as soon as it is
   in the store, then record the reference. Every manifest and blob is verified. */
#include "config.h"

#include <errno.h>
#include <pthread.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/node/image/image-internal.h"

/* ---- unpack workers: layers are unpacked while others still download ----

   The config is the first descriptor fetched; layers queued before it arrived wait for
   its rootfs.diff_ids, against which each layer's uncompressed stream is verified. */

typedef struct unpack_pool
{
  image_store *s;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  const image_desc **queue;
  size_t n, head, cap;
  bool closing;
  pthread_t threads[4];
  int n_threads;
  husk_error *err;
  int ret;
  const image_manifest *m; /* the config digest is not a layer */
  const image_desc *base;  /* descs[0] is the config, descs[1 + i] layer i */
  char **diff_ids;         /* from the config; NULL until it is in the store */
} unpack_pool;

static void
pool_fail (unpack_pool *p, int ret, husk_error **e)
{
  if (p->ret == 0)
    {
      p->ret = ret;
      husk_error_move (&p->err, e);
    }
  husk_error_free (*e);
  *e = NULL;
}

static int
unpack_one (unpack_pool *p, const image_desc *d, husk_error **err)
{
  char *dir = NULL;
  const char *diff_id = p->diff_ids[d - p->base - 1];
  int ret = image_store_ensure_layer (p->s, d, diff_id, &dir, err);
  free (dir);
  return ret;
}

static void *
unpack_worker (void *arg)
{
  unpack_pool *p = arg;
  for (;;)
    {
      pthread_mutex_lock (&p->mu);
      while ((p->head == p->n || !p->diff_ids) && !p->closing)
        pthread_cond_wait (&p->cv, &p->mu);
      if (p->head == p->n || !p->diff_ids)
        {
          pthread_mutex_unlock (&p->mu);
          return NULL;
        }
      const image_desc *d = p->queue[p->head++];
      bool failed = p->ret < 0;
      pthread_mutex_unlock (&p->mu);
      if (failed)
        continue;
      husk_error *e = NULL;
      int ret = unpack_one (p, d, &e);
      if (ret < 0)
        {
          pthread_mutex_lock (&p->mu);
          pool_fail (p, ret, &e);
          pthread_mutex_unlock (&p->mu);
        }
    }
}

/* The config arrived: its diff_ids release the queued layers. */
static void
pool_config (unpack_pool *p)
{
  husk_error *e = NULL;
  char **ids = NULL;
  int ret = image_store_diff_ids (p->s, p->m, &ids, &e);
  pthread_mutex_lock (&p->mu);
  if (ret < 0)
    pool_fail (p, ret, &e);
  else
    p->diff_ids = ids;
  pthread_cond_broadcast (&p->cv);
  pthread_mutex_unlock (&p->mu);
}

static void
pool_push (void *ctx, const image_desc *d)
{
  unpack_pool *p = ctx;
  if (d == p->base)
    return pool_config (p);
  pthread_mutex_lock (&p->mu);
  if (p->n == p->cap)
    {
      p->cap = p->cap ? 2 * p->cap : 16;
      p->queue = xreallocarray (p->queue, p->cap, sizeof *p->queue);
    }
  p->queue[p->n++] = d;
  pthread_cond_signal (&p->cv);
  pthread_mutex_unlock (&p->mu);
}

static void
pool_start (unpack_pool *p, image_store *s, const image_manifest *m, const image_desc *base,
            int threads)
{
  memset (p, 0, sizeof *p);
  p->s = s;
  p->m = m;
  p->base = base;
  pthread_mutex_init (&p->mu, NULL);
  pthread_cond_init (&p->cv, NULL);
  if (threads > (int)ARRAY_SIZE (p->threads))
    threads = ARRAY_SIZE (p->threads);
  for (int i = 0; i < threads; i++)
    if (pthread_create (&p->threads[p->n_threads], NULL, unpack_worker, p) == 0)
      p->n_threads++;
}

/* Waits for the queue to drain; returns the first unpack error. */
static int
pool_finish (unpack_pool *p, husk_error **err)
{
  pthread_mutex_lock (&p->mu);
  p->closing = true;
  pthread_cond_broadcast (&p->cv);
  pthread_mutex_unlock (&p->mu);
  for (int i = 0; i < p->n_threads; i++)
    pthread_join (p->threads[i], NULL);
  /* no thread could start: unpack here */
  for (; p->n_threads == 0 && p->diff_ids && p->head < p->n && p->ret == 0; p->head++)
    p->ret = unpack_one (p, p->queue[p->head], &p->err);
  if (p->ret == 0 && p->head < p->n)
    p->ret = husk_err (&p->err, EIO, "%zu layers left unpacked (no image config)", p->n - p->head);
  int ret = p->ret;
  if (ret < 0)
    husk_error_move (err, &p->err);
  husk_error_free (p->err);
  strv_free (p->diff_ids);
  free (p->queue);
  pthread_mutex_destroy (&p->mu);
  pthread_cond_destroy (&p->cv);
  return ret;
}

/* ---- manifests ---- */

/* Fetches reference (tag or digest) and verifies it: against the digest when one is
   expected, against the registry's Docker-Content-Digest otherwise. Stores it. */
static int
fetch_manifest (image_registry *reg, image_store *s, const char *reference, const char *want,
                int64_t want_size, json_t **doc_out, char **mt_out,
                char digest[IMAGE_DIGEST_LEN + 1], husk_error **err)
{
  _cleanup_free_ char *body = NULL, *mt = NULL, *dh = NULL;
  size_t len = 0;
  int ret = image_registry_get_manifest (reg, reference, &body, &len, &mt, &dh, err);
  if (ret < 0)
    return ret;
  image_digest_of (body, len, digest);
  if (want && !streq (want, digest))
    return husk_err (err, EBADMSG, "manifest %s: digest mismatch: content hashes to %s", want,
                     digest);
  if (want_size >= 0 && (size_t)want_size != len)
    return husk_err (err, EBADMSG, "manifest %s: size mismatch: got %zu bytes, want %lld", want,
                     len, (long long)want_size);
  if (!want && dh && image_digest_valid (dh) && !streq (dh, digest))
    return husk_err (err, EBADMSG,
                     "manifest %s: digest mismatch: registry says %s, content hashes to %s",
                     reference, dh, digest);
  if ((ret = husk_json_parse (body, len, doc_out, err)) < 0)
    return husk_err_wrap (err, "manifest %s", digest);
  if ((ret = image_store_put_blob (s, body, len, digest, -1, NULL, err)) < 0)
    return ret;
  *mt_out = TAKE_PTR (mt);
  return 0;
}

static int
resolve (image_registry *reg, image_store *s, const image_ref *ref, const image_platform *plat,
         char top[IMAGE_DIGEST_LEN + 1], char man[IMAGE_DIGEST_LEN + 1], image_manifest **out,
         husk_error **err)
{
  _cleanup_json_ json_t *doc = NULL;
  _cleanup_free_ char *mt = NULL;
  const char *reference = ref->digest ? ref->digest : ref->tag;
  int ret = fetch_manifest (reg, s, reference, ref->digest, -1, &doc, &mt, top, err);
  if (ret < 0)
    return ret;
  memcpy (man, top, IMAGE_DIGEST_LEN + 1);
  if (image_manifest_is_index (mt, doc))
    {
      image_desc d = { 0 };
      if ((ret = image_index_select (doc, plat, &d, err)) < 0)
        return husk_err_wrap (err, "index %s", top);
      json_decref (doc);
      doc = NULL;
      free (mt);
      mt = NULL;
      ret = fetch_manifest (reg, s, d.digest, d.digest, d.size, &doc, &mt, man, err);
      image_desc_clear (&d);
      if (ret < 0)
        return ret;
      if (image_manifest_is_index (mt, doc))
        return husk_err (err, EINVAL, "index %s: platform entry %s is another index", top, man);
    }
  if ((ret = image_manifest_parse (doc, mt, out, err)) < 0)
    return husk_err_wrap (err, "manifest %s", man);
  return 0;
}

static int
pull_locked (image_store *s, const image_ref *ref, const image_pull_opts *o,
             image_record *record_out, husk_error **err)
{
  _cleanup_ (image_registry_freep) image_registry *reg = NULL;
  int ret = image_registry_open (ref, o, &reg, err);
  if (ret < 0)
    return ret;
  char top[IMAGE_DIGEST_LEN + 1], man[IMAGE_DIGEST_LEN + 1];
  _cleanup_ (image_manifest_freep) image_manifest *m = NULL;
  if ((ret = resolve (reg, s, ref, &o->platform, top, man, &m, err)) < 0)
    return ret;

  /* config first, then the layers: one descriptor array for the downloader */
  _cleanup_free_ image_desc *descs = xcalloc (m->n_layers + 1, sizeof *descs);
  descs[0] = m->config;
  for (size_t i = 0; i < m->n_layers; i++)
    descs[i + 1] = m->layers[i];
  unpack_pool pool;
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  pool_start (&pool, s, m, descs, cpus > 1 ? (int)cpus : 1);
  _cleanup_error_ husk_error *fetch_err = NULL, *unpack_err = NULL;
  int fret
      = image_registry_fetch_blobs (reg, s, descs, m->n_layers + 1, pool_push, &pool, &fetch_err);
  ret = pool_finish (&pool, &unpack_err);
  /* a download failure explains more than the unpack that did not happen */
  if (fret < 0 || ret < 0)
    {
      if (err)
        husk_error_move (err, fret < 0 ? &fetch_err : &unpack_err);
      return fret < 0 ? fret : ret;
    }
  _cleanup_json_ json_t *config = NULL;
  if ((ret = image_store_load_json (s, m->config.digest, &config, err)) < 0)
    return husk_err_wrap (err, "config");
  if ((ret = image_store_set_ref (s, ref->full, top, man, err)) < 0)
    return ret;
  if (record_out)
    ret = image_store_get (s, ref->full, record_out, err);
  return ret;
}

int
image_pull (image_store *s, const char *name, const image_pull_opts *o, image_record *record_out,
            husk_error **err)
{
  _cleanup_ (image_ref_freep) image_ref *ref = NULL;
  int ret = image_ref_parse (name, &ref, err);
  if (ret < 0)
    return ret;
  _cleanup_close_ int gfd = -1;
  if ((ret = image_store_lock_gc (s, false, &gfd, err)) < 0)
    return ret;
  if ((ret = pull_locked (s, ref, o, record_out, err)) < 0)
    return husk_err_wrap (err, "pull %s", ref->full);
  return 0;
}
