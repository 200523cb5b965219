#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/path.h"

/* Splits path into components, dropping "" and "."; ".." pops unless it would go above
   the start, in which case *escaped is set. */
static char **
components (const char *path, bool *escaped)
{
  size_t n = 0, cap = 8;
  char **v = xcalloc (cap, sizeof *v);
  const char *p = path;
  while (*p)
    {
      while (*p == '/')
        p++;
      const char *end = strchrnul (p, '/');
      size_t len = (size_t) (end - p);
      if (len == 0 || (len == 1 && p[0] == '.'))
        ;
      else if (len == 2 && p[0] == '.' && p[1] == '.')
        {
          if (n > 0)
            free (v[--n]);
          else if (escaped)
            *escaped = true;
        }
      else
        {
          if (n + 2 > cap)
            v = xreallocarray (v, cap *= 2, sizeof *v);
          v[n++] = xstrndup (p, len);
        }
      p = end;
    }
  v[n] = NULL;
  return v;
}

static char *
join_components (const char *prefix, char **v)
{
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  husk_buf_puts (&b, prefix);
  for (size_t i = 0; v[i]; i++)
    {
      if (b.len == 0 || b.data[b.len - 1] != '/')
        husk_buf_putc (&b, '/');
      husk_buf_puts (&b, v[i]);
    }
  if (b.len == 0)
    husk_buf_putc (&b, '/');
  return husk_buf_steal (&b);
}

char *
husk_path_normalize (const char *path)
{
  bool abs = path[0] == '/';
  _cleanup_strv_ char **v = components (path, NULL);
  if (!abs && v[0] == NULL)
    return xstrdup (".");
  _cleanup_free_ char *s = join_components (abs ? "/" : "", v);
  return abs ? TAKE_PTR (s) : xstrdup (s + 1);
}

int
husk_path_join (const char *root, const char *rel, char **out, husk_error **err)
{
  bool escaped = false;
  _cleanup_strv_ char **v = components (rel, &escaped);
  if (escaped)
    return husk_err (err, EACCES, "path '%s' escapes its root '%s'", rel, root);
  _cleanup_free_ char *nroot = husk_path_normalize (root);
  *out = join_components (streq (nroot, "/") ? "" : nroot, v);
  return 0;
}

/* One symlink hop budget, as the kernel's MAXSYMLINKS. */
#define MAX_LINKS 40

int
husk_path_resolve_in_root (const char *root, const char *rel, char **out, husk_error **err)
{
  _cleanup_free_ char *nroot = husk_path_normalize (root);
  const char *base = streq (nroot, "/") ? "" : nroot;
  /* Components still to walk, in order; resolved ones are kept in `done`. */
  _cleanup_free_ char *todo = xstrdup (rel);
  _cleanup_strv_ char **done = xcalloc (1, sizeof (char *));
  size_t ndone = 0;
  int links = 0;
  char *p = todo;
  while (*p)
    {
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      char *end = strchrnul (p, '/');
      _cleanup_free_ char *comp = xstrndup (p, (size_t) (end - p));
      p = end;
      if (streq (comp, "."))
        continue;
      if (streq (comp, ".."))
        {
          if (ndone > 0)
            {
              free (done[--ndone]);
              done[ndone] = NULL;
            }
          continue; /* ".." at the root stays at the root, as chroot does */
        }
      done = xreallocarray (done, ndone + 2, sizeof *done);
      done[ndone++] = TAKE_PTR (comp);
      done[ndone] = NULL;
      _cleanup_free_ char *cur = join_components (base, done);
      char target[PATH_MAX];
      ssize_t n = readlink (cur, target, sizeof target - 1);
      if (n < 0)
        continue; /* not a symlink, or does not exist yet */
      target[n] = '\0';
      if (++links > MAX_LINKS)
        return husk_err_sys (err, ELOOP, "resolving '%s' under '%s'", rel, root);
      free (done[--ndone]);
      done[ndone] = NULL;
      if (target[0] == '/')
        {
          strv_free (done);
          done = xcalloc (1, sizeof (char *));
          ndone = 0;
        }
      char *rest = xasprintf ("%s/%s", target, p);
      free (todo);
      todo = rest;
      p = todo;
    }
  *out = join_components (base, done);
  return 0;
}

int
husk_mkdir_p (const char *path, mode_t mode, husk_error **err)
{
  _cleanup_free_ char *p = xstrdup (path);
  for (char *s = p + 1; *s; s++)
    {
      if (*s != '/')
        continue;
      *s = '\0';
      if (mkdir (p, mode) < 0 && errno != EEXIST)
        return husk_err_errno (err, "mkdir %s", p);
      *s = '/';
    }
  if (mkdir (p, mode) < 0 && errno != EEXIST)
    return husk_err_errno (err, "mkdir %s", p);
  struct stat st;
  if (stat (p, &st) < 0)
    return husk_err_errno (err, "stat %s", p);
  if (!S_ISDIR (st.st_mode))
    return husk_err_sys (err, ENOTDIR, "mkdir %s", p);
  return 0;
}

int
husk_read_file (const char *path, char **out, size_t *len_out, husk_error **err)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return husk_err_errno (err, "open %s", path);
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  for (;;)
    {
      husk_buf_reserve (&b, 65536);
      ssize_t n = read (fd, b.data + b.len, b.cap - b.len - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return husk_err_errno (err, "read %s", path);
      if (n == 0)
        break;
      b.len += (size_t) n;
      b.data[b.len] = '\0';
    }
  if (len_out)
    *len_out = b.len;
  *out = husk_buf_steal (&b);
  return 0;
}

static int
write_all (int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

static int
write_replace (const char *path, const void *data, size_t len, mode_t mode, bool sync,
               husk_error **err)
{
  _cleanup_free_ char *tmp = xasprintf ("%s.tmpXXXXXX", path);
  _cleanup_close_ int fd = mkostemp (tmp, O_CLOEXEC);
  if (fd < 0)
    return husk_err_errno (err, "create %s", tmp);
  if (fchmod (fd, mode) < 0 || write_all (fd, data, len) < 0 || (sync && fsync (fd) < 0))
    {
      int r = husk_err_errno (err, "write %s", path);
      unlink (tmp);
      return r;
    }
  if (rename (tmp, path) < 0)
    {
      int r = husk_err_errno (err, "rename %s to %s", tmp, path);
      unlink (tmp);
      return r;
    }
  return 0;
}

int
husk_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode,
                        husk_error **err)
{
  return write_replace (path, data, len, mode, true, err);
}

int
husk_write_file_replace (const char *path, const void *data, size_t len, mode_t mode,
                         husk_error **err)
{
  return write_replace (path, data, len, mode, false, err);
}

static int
rm_rf_at (int parent, const char *name, const char *shown, husk_error **err)
{
  if (unlinkat (parent, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return husk_err_errno (err, "remove %s", shown);
  _cleanup_close_ int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return husk_err_errno (err, "open %s", shown);
  DIR *d = fdopendir (fd);
  if (d == NULL)
    return husk_err_errno (err, "opendir %s", shown);
  fd = -1; /* owned by d now */
  struct dirent *de;
  int r = 0;
  while (r == 0 && (de = readdir (d)) != NULL)
    {
      if (streq (de->d_name, ".") || streq (de->d_name, ".."))
        continue;
      _cleanup_free_ char *child = xasprintf ("%s/%s", shown, de->d_name);
      r = rm_rf_at (dirfd (d), de->d_name, child, err);
    }
  closedir (d);
  if (r < 0)
    return r;
  if (unlinkat (parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return husk_err_errno (err, "rmdir %s", shown);
  return 0;
}

int
husk_rm_rf (const char *path, husk_error **err)
{
  return rm_rf_at (AT_FDCWD, path, path, err);
}

char *
husk_program_beside_self (const char *name)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return NULL;
  self[n] = '\0';
  char *slash = strrchr (self, '/');
  if (slash == NULL || strcmp (slash + 1, name) == 0)
    return NULL;
  *slash = '\0';
  char *p = xasprintf ("%s/%s", self, name);
  if (access (p, X_OK) == 0)
    return p;
  free (p);
  return NULL;
}
