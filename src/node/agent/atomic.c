/* husk node agent: kubelet's atomic writer for configMap/secret/downwardAPI/projected
   volumes (see volume.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/path.h"
#include "src/node/agent/volume.h"

#define DATA_DIR "..data"
#define DATA_TMP "..data_tmp"

void
agent_vol_payload_add (agent_vol_payload *p, const char *path, const char *data, size_t len,
                       mode_t mode)
{
  agent_vol_file *f = NULL;
  for (size_t i = 0; i < p->n; i++)
    if (streq (p->files[i].path, path))
      {
        f = &p->files[i];
        free (f->data);
        break;
      }
  if (!f)
    {
      p->files = xreallocarray (p->files, p->n + 1, sizeof *p->files);
      f = &p->files[p->n++];
      f->path = xstrdup (path);
    }
  f->data = xmalloc (len + 1);
  memcpy (f->data, data, len);
  f->data[len] = '\0';
  f->len = len;
  f->mode = mode & 07777;
}

void
agent_vol_payload_free (agent_vol_payload *p)
{
  if (!p)
    return;
  for (size_t i = 0; i < p->n; i++)
    {
      free (p->files[i].path);
      free (p->files[i].data);
    }
  free (p->files);
  free (p);
}

int
agent_vol_path_valid (const char *path, husk_error **err)
{
  size_t n = path ? strlen (path) : 0;
  if (n == 0)
    return husk_err (err, EINVAL, "invalid path: must not be empty");
  if (n > 4096)
    return husk_err (err, EINVAL, "invalid path: must be less than or equal to 4096 characters");
  if (path[0] == '/')
    return husk_err (err, EINVAL, "invalid path: must be relative path: %s", path);
  if (strncmp (path, "..", 2) == 0)
    return husk_err (err, EINVAL, "invalid path: must not start with '..': %s", path);
  const char *p = path;
  while (*p)
    {
      size_t el = strcspn (p, "/");
      if (el > 255)
        return husk_err (err, EINVAL, "invalid path: element too long: %s", path);
      if (el == 2 && p[0] == '.' && p[1] == '.')
        return husk_err (err, EINVAL, "invalid path: must not contain '..': %s", path);
      p += el;
      if (*p == '/')
        p++;
    }
  return 0;
}

static char *
top_component (const char *path)
{
  return xstrndup (path, strcspn (path, "/"));
}

static mode_t
file_mode (mode_t mode, gid_t fs_group)
{
  return fs_group != (gid_t)-1 ? (mode | 0440) : mode;
}

/* Counts regular files under dir (recursively). */
static long
count_files (int dirfd)
{
  DIR *d = fdopendir (dirfd);
  long n = 0;
  struct dirent *de;
  if (!d)
    {
      close (dirfd);
      return -1;
    }
  while ((de = readdir (d)))
    {
      if (streq (de->d_name, ".") || streq (de->d_name, ".."))
        continue;
      struct stat st;
      if (fstatat (dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISREG (st.st_mode))
        n++;
      else if (S_ISDIR (st.st_mode))
        {
          int sub = openat (dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
          long m = sub >= 0 ? count_files (sub) : -1;
          if (m < 0)
            {
              closedir (d);
              return -1;
            }
          n += m;
        }
      else
        n++;
    }
  closedir (d);
  return n;
}

/* True when <dir>/..data holds exactly the payload (contents and modes). */
static bool
payload_same (const char *dir, const agent_vol_payload *p, gid_t fs_group)
{
  _cleanup_free_ char *data = xasprintf ("%s/" DATA_DIR, dir);
  for (size_t i = 0; i < p->n; i++)
    {
      _cleanup_free_ char *path = xasprintf ("%s/%s", data, p->files[i].path);
      struct stat st;
      if (lstat (path, &st) < 0 || !S_ISREG (st.st_mode) || (size_t)st.st_size != p->files[i].len
          || (st.st_mode & 07777) != file_mode (p->files[i].mode, fs_group))
        return false;
      _cleanup_free_ char *got = NULL;
      size_t len = 0;
      husk_error *err = NULL;
      if (husk_read_file (path, &got, &len, &err) < 0)
        {
          husk_error_free (err);
          return false;
        }
      if (len != p->files[i].len || memcmp (got, p->files[i].data, len) != 0)
        return false;
    }
  int fd = open (data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return fd >= 0 && count_files (fd) == (long)p->n;
}

static int
write_one (const char *ts, const agent_vol_file *f, gid_t fs_group, husk_error **err)
{
  _cleanup_free_ char *path = NULL;
  int ret = husk_path_join (ts, f->path, &path, err);
  if (ret < 0)
    return ret;
  _cleanup_free_ char *parent = xstrdup (path);
  *strrchr (parent, '/') = '\0';
  ret = husk_mkdir_p (parent, 0755, err);
  if (ret < 0)
    return ret;
  mode_t mode = file_mode (f->mode, fs_group);
  _cleanup_close_ int fd
      = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
  if (fd < 0)
    return husk_err_errno (err, "write %s", f->path);
  for (size_t off = 0; off < f->len;)
    {
      ssize_t n = write (fd, f->data + off, f->len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return husk_err_errno (err, "write %s", f->path);
      off += n;
    }
  if (fchmod (fd, mode) < 0)
    return husk_err_errno (err, "chmod %s", f->path);
  if (fs_group != (gid_t)-1 && fchown (fd, -1, fs_group) < 0)
    return husk_err_errno (err, "chown %s", f->path);
  return 0;
}

/* "..2026_11_27_05_10_00.XXXXXX" made under dir; *name = its base name. */
static int
new_ts_dir (const char *dir, char **name, husk_error **err)
{
  struct timespec now;
  struct tm tm;
  char stamp[64];
  clock_gettime (CLOCK_REALTIME, &now);
  gmtime_r (&now.tv_sec, &tm);
  strftime (stamp, sizeof stamp, "..%Y_%m_%d_%H_%M_%S.", &tm);
  char *path = xasprintf ("%s/%sXXXXXX", dir, stamp);
  if (!mkdtemp (path))
    {
      int ret = husk_err_errno (err, "create %s", path);
      free (path);
      return ret;
    }
  chmod (path, 0755);
  *name = xstrdup (strrchr (path, '/') + 1);
  free (path);
  return 0;
}

static bool
in_payload_top (const agent_vol_payload *p, const char *name)
{
  for (size_t i = 0; i < p->n; i++)
    {
      _cleanup_free_ char *top = top_component (p->files[i].path);
      if (streq (top, name))
        return true;
    }
  return false;
}

/* Makes "<top>" -> "..data/<top>" for every top-level name, removes the symlinks of
   names gone from the payload. */
static int
sync_user_links (const char *dir, const agent_vol_payload *p, husk_error **err)
{
  for (size_t i = 0; i < p->n; i++)
    {
      _cleanup_free_ char *top = top_component (p->files[i].path);
      _cleanup_free_ char *link = xasprintf ("%s/%s", dir, top);
      _cleanup_free_ char *target = xasprintf (DATA_DIR "/%s", top);
      struct stat st;
      if (lstat (link, &st) == 0)
        continue;
      if (symlink (target, link) < 0 && errno != EEXIST)
        return husk_err_errno (err, "symlink %s", link);
    }
  DIR *d = opendir (dir);
  if (!d)
    return husk_err_errno (err, "open %s", dir);
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (strncmp (de->d_name, "..", 2) == 0 || streq (de->d_name, "."))
        continue;
      if (in_payload_top (p, de->d_name))
        continue;
      struct stat st;
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
        unlinkat (dirfd (d), de->d_name, 0);
    }
  closedir (d);
  return 0;
}

int
agent_atomic_write (const char *dir, const agent_vol_payload *p, gid_t fs_group, bool *changed,
                    husk_error **err)
{
  int ret;
  for (size_t i = 0; i < p->n; i++)
    if ((ret = agent_vol_path_valid (p->files[i].path, err)) < 0)
      return ret;
  if ((ret = husk_mkdir_p (dir, 0755, err)) < 0)
    return ret;
  _cleanup_free_ char *data_link = xasprintf ("%s/" DATA_DIR, dir);
  char buf[4096];
  ssize_t n = readlink (data_link, buf, sizeof buf - 1);
  _cleanup_free_ char *old = n > 0 ? xstrndup (buf, n) : NULL;
  if (changed)
    *changed = false;
  if (old && payload_same (dir, p, fs_group))
    return sync_user_links (dir, p, err);

  _cleanup_free_ char *ts = NULL;
  if ((ret = new_ts_dir (dir, &ts, err)) < 0)
    return ret;
  _cleanup_free_ char *ts_path = xasprintf ("%s/%s", dir, ts);
  for (size_t i = 0; i < p->n; i++)
    if ((ret = write_one (ts_path, &p->files[i], fs_group, err)) < 0)
      {
        husk_error *e2 = NULL;
        husk_rm_rf (ts_path, &e2);
        husk_error_free (e2);
        return husk_err_wrap (err, "volume %s", dir);
      }
  _cleanup_free_ char *tmp_link = xasprintf ("%s/" DATA_TMP, dir);
  unlink (tmp_link);
  if (symlink (ts, tmp_link) < 0)
    return husk_err_errno (err, "symlink %s", tmp_link);
  if (rename (tmp_link, data_link) < 0)
    return husk_err_errno (err, "rename %s", tmp_link);
  if ((ret = sync_user_links (dir, p, err)) < 0)
    return ret;
  if (old && strncmp (old, "..", 2) == 0 && !strchr (old, '/') && !streq (old, ts))
    {
      _cleanup_free_ char *old_path = xasprintf ("%s/%s", dir, old);
      if ((ret = husk_rm_rf (old_path, err)) < 0)
        return ret;
    }
  if (changed)
    *changed = true;
  return 0;
}
