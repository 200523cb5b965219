/* Appliance images baked into the host: at node start every archive in a directory (OCI
   layout dirs or tars, `docker save` tars) is imported, so that pods run without a
   registry. An archive imported before is skipped while its size and mtime are unchanged
   and the images it gave are still in the store (<store>/preload.json remembers them), so
   that a restart does not hash hundreds of megabytes again. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "lib/log.h"
#include "lib/path.h"
#include "src/node/image/image-internal.h"

static json_t *
state_load (image_store *s)
{
  _cleanup_free_ char *p = xasprintf ("%s/preload.json", image_store_root (s));
  json_t *j = NULL;
  if (husk_json_load_file (p, &j, NULL) < 0 || !json_is_object (j))
    {
      json_decref (j);
      j = json_object ();
    }
  return j;
}

static int
state_save (image_store *s, json_t *j, husk_error **err)
{
  _cleanup_free_ char *p = xasprintf ("%s/preload.json", image_store_root (s));
  _cleanup_free_ char *text = json_dumps (j, JSON_INDENT (1) | JSON_SORT_KEYS);
  return husk_write_file_atomic (p, text, strlen (text), 0600, err);
}

/* true when path was imported as it is now and its images are all still stored */
static bool
unchanged (image_store *s, json_t *seen, const char *path, const struct stat *st)
{
  json_t *e = json_object_get (seen, path);
  if (!e || json_integer_value (json_object_get (e, "size")) != st->st_size
      || json_integer_value (json_object_get (e, "mtime")) != st->st_mtime)
    return false;
  size_t i;
  json_t *r;
  json_array_foreach (json_object_get (e, "refs"), i, r)
  {
    image_record rec = { 0 };
    int ret = image_store_get (s, json_string_value (r), &rec, NULL);
    image_record_clear (&rec);
    if (ret < 0)
      return false;
  }
  return true;
}

static int
preload_one (image_store *s, json_t *seen, const char *path, const image_platform *p, char ***all,
             size_t *n_all, husk_error **err)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return husk_err_errno (err, "preload %s", path);
  if (unchanged (s, seen, path, &st))
    return 0;
  _cleanup_strv_ char **refs = NULL;
  int ret = image_import (s, path, NULL, p, &refs, err);
  if (ret < 0)
    return ret;
  json_t *arr = json_array ();
  for (char **r = refs; r && *r; r++)
    {
      log_info ("preloaded image", "ref", *r, "archive", path);
      json_array_append_new (arr, json_string (*r));
      *all = xreallocarray (*all, *n_all + 2, sizeof **all);
      (*all)[(*n_all)++] = xstrdup (*r);
      (*all)[*n_all] = NULL;
    }
  json_object_set_new (seen, path,
                       json_pack ("{s:I, s:I, s:o}", "size", (json_int_t)st.st_size, "mtime",
                                  (json_int_t)st.st_mtime, "refs", arr));
  return 0;
}

int
image_preload (image_store *s, const char *dir, const image_platform *p, char ***refs_out,
               husk_error **err)
{
  DIR *d = opendir (dir);
  if (!d)
    return errno == ENOENT ? 0 : husk_err_errno (err, "preload images from %s", dir);
  _cleanup_json_ json_t *seen = state_load (s);
  char **all = xcalloc (1, sizeof *all);
  size_t n_all = 0;
  int first = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      _cleanup_free_ char *path = xasprintf ("%s/%s", dir, de->d_name);
      _cleanup_error_ husk_error *e = NULL;
      int ret = preload_one (s, seen, path, p, &all, &n_all, &e);
      if (ret < 0 && first == 0)
        {
          first = ret;
          if (err)
            husk_error_move (err, &e);
        }
    }
  closedir (d);
  int ret = state_save (s, seen, first == 0 ? err : NULL);
  if (first == 0)
    first = ret;
  if (refs_out)
    *refs_out = all;
  else
    strv_free (all);
  return first;
}
