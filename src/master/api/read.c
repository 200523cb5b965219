/* husk api: get and list. */
#include "config.h"

#include <errno.h>

#include "src/master/api/fieldset.h"
#include "src/master/api/getcache.h"
#include "src/master/api/handlers.h"
#include "src/master/api/selector.h"
#include "src/master/api/table.h"

enum MHD_Result
api_do_get (api_req *r, const api_route *rt)
{
  _cleanup_error_ husk_error *err = NULL;
  api_getcache_entry *e = NULL;
  int ret = api_getcache_hold (r->srv->getcache, r->srv->store, api_resource_storage (rt->res),
                               rt->ns, rt->name, &e, &err);
  if (ret < 0)
    return api_reply_store_error (r, rt, err);
  size_t len;
  const char *text = api_getcache_json (e, &len);
  enum MHD_Result m;
  /* The object as stored, as JSON: the entry's own reply, shared by every such GET. */
  if (!rt->res->from_storage && rt->sub == NULL && r->warnings == NULL && !api_wants_table (r))
    m = api_reply_shared (r, 200, api_getcache_response (e), len + 1);
  else
    {
      _cleanup_free_ char *json = xstrndup (text, len);
      m = api_reply_object (r, rt, 200, json);
    }
  api_getcache_release (e);
  return m;
}

/* Parses labelSelector/fieldSelector; replies 400 and returns false on bad input. */
bool
api_parse_selectors (api_req *r, const api_route *rt, api_selector **ls, api_selector **fs)
{
  _cleanup_error_ husk_error *err = NULL;
  const char *l = api_query (r, "labelSelector");
  const char *f = api_query (r, "fieldSelector");
  if (l && *l && api_label_selector_parse (l, ls, &err) < 0)
    {
      api_reply_error (r, 400, "BadRequest", "%s", err->msg);
      return false;
    }
  if (f && *f && api_field_selector_parse (f, rt->res->field_selectors, fs, &err) < 0)
    {
      api_reply_error (r, 400, "BadRequest", "%s", err->msg);
      return false;
    }
  return true;
}

int
api_parse_without_managed (const char *json, json_t **out)
{
  size_t a, b;
  size_t len = strlen (json);
  if (!api_fs_skip_managed (json, &a, &b))
    return husk_json_parse (json, len, out, NULL);
  _cleanup_free_ char *cut = xmalloc (len - (b - a) + 1);
  memcpy (cut, json, a);
  memcpy (cut + a, json + b, len - b + 1);
  return husk_json_parse (cut, len - (b - a), out, NULL);
}

static bool
matches (const char *json, api_selector *ls, api_selector *fs, json_t **parsed)
{
  *parsed = NULL;
  if (ls == NULL && fs == NULL)
    return true;
  json_t *o = NULL;
  if (api_parse_without_managed (json, &o) < 0)
    return false;
  bool ok = api_selector_matches (ls, o) && api_selector_matches (fs, o);
  if (ok)
    *parsed = o;
  else
    json_decref (o);
  return ok;
}

int
api_list_matching (api_req *r, const api_route *rt, api_selector *ls, api_selector *fs,
                   size_t limit, const char *cont, store_list_result *res, husk_error **err)
{
  const char *storage = api_resource_storage (rt->res);
  const char *want = api_selector_equals (fs, "metadata.name");
  if (want && cont == NULL)
    {
      /* Informers watch one object by name: one get instead of a scan. */
      memset (res, 0, sizeof *res);
      const char *ns = rt->ns ? rt->ns : api_selector_equals (fs, "metadata.namespace");
      char *json = NULL;
      int ret = store_current_revision (r->srv->store, &res->revision, err);
      if (ret < 0)
        return ret;
      if (rt->res->namespaced && ns == NULL)
        goto scan;
      ret = store_get (r->srv->store, storage, ns, want, &json, NULL, err);
      if (ret < 0 && (*err)->errnum == STORE_ENOTFOUND)
        {
          husk_error_free (*err);
          *err = NULL;
          return 0;
        }
      if (ret < 0)
        return ret;
      res->items = xcalloc (1, sizeof *res->items);
      res->items[0] = json;
      res->n = 1;
      json_t *o = NULL;
      if (!matches (json, ls, fs, &o))
        store_list_result_free (res), res->n = 0;
      json_decref (o);
      return 0;
    }
scan:;
  int ret = store_list (r->srv->store, storage, rt->ns, limit, cont, res, err);
  if (ret < 0 || (ls == NULL && fs == NULL))
    return ret;
  size_t k = 0;
  for (size_t i = 0; i < res->n; i++)
    {
      json_t *o = NULL;
      if (matches (res->items[i], ls, fs, &o))
        res->items[k++] = res->items[i];
      else
        free (res->items[i]);
      json_decref (o);
    }
  res->n = k;
  return 0;
}

static enum MHD_Result
reply_json_list (api_req *r, const api_route *rt, store_list_result *res)
{
  husk_buf b = HUSK_BUF_INIT;
  char gv[96];
  husk_buf_printf (&b, "{\"kind\":\"%sList\",\"apiVersion\":\"%s\",\"metadata\":{"
                   "\"resourceVersion\":\"%lld\"",
                   rt->res->kind, api_resource_api_version (rt->res, gv, sizeof gv),
                   (long long) res->revision);
  if (res->continue_token)
    {
      json_t *s = json_string (res->continue_token);
      _cleanup_free_ char *q = husk_json_dump (s);
      json_decref (s);
      husk_buf_printf (&b, ",\"continue\":%s", q);
    }
  husk_buf_puts (&b, "},\"items\":[");
  for (size_t i = 0; i < res->n; i++)
    {
      if (i)
        husk_buf_putc (&b, ',');
      if (rt->res->from_storage)
        {
          _cleanup_free_ char *t = api_served_text (rt->res, res->items[i]);
          husk_buf_puts (&b, t);
        }
      else
        husk_buf_puts (&b, res->items[i]);
    }
  husk_buf_puts (&b, "]}\n");
  size_t len = b.len;
  return api_reply_raw (r, 200, "application/json", husk_buf_steal (&b), len);
}

static enum MHD_Result
reply_table_list (api_req *r, const api_route *rt, store_list_result *res)
{
  char rv[32];
  snprintf (rv, sizeof rv, "%lld", (long long) res->revision);
  json_t *t = api_table_new (rt->res, rv, res->continue_token, true);
  const char *io = api_query (r, "includeObject");
  /* The head ends with the empty "rows" (inserted last): each row is written after it as it
     is made and freed at once, so that no tree of 10,000 rows is ever built. */
  _cleanup_free_ char *head = husk_json_dump (t);
  json_decref (t);
  size_t hl = strlen (head);
  if (hl < 3 || !streq (head + hl - 3, "[]}"))
    return api_reply_error (r, 500, "InternalError", "table head without rows");
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_append (&b, head, hl - 2);
  for (size_t i = 0, rows = 0; i < res->n; i++)
    {
      if (rows)
        husk_buf_putc (&b, ',');
      if (api_table_put_row (rt->res, res->items[i], io, &b))
        rows++;
      else if (rows)
        b.data[--b.len] = '\0';
      free (res->items[i]);
      res->items[i] = NULL;
    }
  husk_buf_puts (&b, "]}\n");
  size_t len = b.len;
  return api_reply_raw (r, 200, "application/json", husk_buf_steal (&b), len);
}

enum MHD_Result
api_do_list (api_req *r, const api_route *rt)
{
  _cleanup_ (api_selector_freep) api_selector *ls = NULL;
  _cleanup_ (api_selector_freep) api_selector *fs = NULL;
  if (!api_parse_selectors (r, rt, &ls, &fs))
    return MHD_YES;
  const char *lim = api_query (r, "limit");
  const char *cont = api_query (r, "continue");
  size_t limit = lim ? strtoull (lim, NULL, 10) : 0;
  store_list_result res = {0};
  _cleanup_error_ husk_error *err = NULL;
  int ret = api_list_matching (r, rt, ls, fs, limit, cont && *cont ? cont : NULL, &res, &err);
  if (ret < 0)
    {
      if (err->errnum == STORE_EINVAL || err->errnum == STORE_ETOOOLD)
        return api_reply_error (r, 410, "Expired",
                                "The provided continue parameter is too old to display a "
                                "consistent list result. You can start a new list without the "
                                "continue parameter.");
      return api_reply_store_error (r, rt, err);
    }
  enum MHD_Result m = api_wants_table (r) ? reply_table_list (r, rt, &res)
                                          : reply_json_list (r, rt, &res);
  store_list_result_free (&res);
  return m;
}
