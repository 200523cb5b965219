/* Built-in host-local IPAM, on-disk compatible with the standard host-local plugin:
   <dataDir>/<network>/<ip> holds "<containerID>\r\n<ifname>", last_reserved_ip.<set>
   remembers where the round-robin stopped, and "lock" is flocked around every change. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "cni/cni.h"
#include "lib/path.h"

char *
cni_ipam_dir (const cni_ipam_conf *ipam, const char *network)
{
  return xasprintf ("%s/%s", ipam->data_dir ? ipam->data_dir : "/var/lib/cni/networks", network);
}

/* Opens (creating) the network's directory and takes its lock. Returns the lock fd. */
static int
ipam_lock (const char *dir, husk_error **err)
{
  int r = husk_mkdir_p (dir, 0755, err);
  if (r < 0)
    return husk_err_wrap (err, "ipam");
  _cleanup_free_ char *lp = xasprintf ("%s/lock", dir);
  _cleanup_close_ int fd = open (lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return husk_err_errno (err, "ipam: open %s", lp);
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return husk_err_errno (err, "ipam: lock %s", lp);
  return TAKE_FD (fd);
}

static bool
is_state_file (const char *name)
{
  return name[0] != '.' && !streq (name, "lock") && strncmp (name, "last_reserved_ip", 16) != 0
         && strstr (name, ".tmp") == NULL;
}

/* Reads the holder of an address file: id and ifname (ifname "" for old single-line files). */
static int
read_holder (int dirfd, const char *name, char **id, char **ifname)
{
  _cleanup_close_ int fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  char buf[512];
  ssize_t n = read (fd, buf, sizeof buf - 1);
  if (n < 0)
    return -errno;
  buf[n] = '\0';
  char *nl = strpbrk (buf, "\r\n");
  char *ifn = "";
  if (nl)
    {
      *nl++ = '\0';
      nl += strspn (nl, "\r\n");
      ifn = nl;
      ifn[strcspn (ifn, "\r\n")] = '\0';
    }
  *id = xstrdup (buf);
  *ifname = xstrdup (ifn);
  return 0;
}

static bool
holder_matches (const char *hid, const char *hifn, const char *id, const char *ifname)
{
  return streq (hid, id) && (*hifn == '\0' || streq (hifn, ifname));
}

typedef int (*holder_fn) (int dirfd, const char *name, const char *hid, const char *hifn,
                          void *data);

/* Calls fn for each address file in dir. fn returns <0 to stop with that value. */
static int
for_each_holder (const char *dir, holder_fn fn, void *data, husk_error **err)
{
  DIR *d = opendir (dir);
  if (d == NULL)
    {
      if (errno == ENOENT)
        return 0;
      return husk_err_errno (err, "ipam: open %s", dir);
    }
  int ret = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (!is_state_file (de->d_name))
        continue;
      _cleanup_free_ char *hid = NULL, *hifn = NULL;
      if (read_holder (dirfd (d), de->d_name, &hid, &hifn) < 0)
        continue;
      ret = fn (dirfd (d), de->d_name, hid, hifn, data);
      if (ret < 0)
        break;
    }
  closedir (d);
  return ret;
}

static bool
ip_in_set (const cni_ip *ip, const cni_rangeset *set)
{
  for (size_t i = 0; i < set->n; i++)
    if (ip->family == set->ranges[i].start.family && cni_ip_cmp (ip, &set->ranges[i].start) >= 0
        && cni_ip_cmp (ip, &set->ranges[i].end) <= 0)
      return true;
  return false;
}

struct find_ctx
{
  const char *id, *ifname;
  const cni_rangeset *set;
  cni_ip *found;
  cni_ip **list;
  size_t *nlist;
};

static int
find_cb (int dirfd, const char *name, const char *hid, const char *hifn, void *data)
{
  struct find_ctx *c = data;
  cni_ip ip;
  if (!holder_matches (hid, hifn, c->id, c->ifname) || cni_ip_parse (name, &ip, NULL) < 0)
    return 0;
  if (c->list)
    {
      *c->list = xreallocarray (*c->list, *c->nlist + 1, sizeof (cni_ip));
      (*c->list)[(*c->nlist)++] = ip;
      return 0;
    }
  if (!ip_in_set (&ip, c->set))
    return 0;
  *c->found = ip;
  return -1; /* found: stop */
}

/* The address after ip within set, wrapping from a range's end to the next range's start. */
static cni_ip
set_next (const cni_rangeset *set, const cni_ip *ip)
{
  for (size_t i = 0; i < set->n; i++)
    {
      const cni_range *rg = &set->ranges[i];
      if (cni_ip_cmp (ip, &rg->start) >= 0 && cni_ip_cmp (ip, &rg->end) < 0)
        return cni_ip_add (ip, 1);
      if (cni_ip_cmp (ip, &rg->end) == 0)
        return set->ranges[(i + 1) % set->n].start;
    }
  return set->ranges[0].start;
}

static const cni_range *
range_of (const cni_rangeset *set, const cni_ip *ip)
{
  for (size_t i = 0; i < set->n; i++)
    if (cni_ip_cmp (ip, &set->ranges[i].start) >= 0 && cni_ip_cmp (ip, &set->ranges[i].end) <= 0)
      return &set->ranges[i];
  return &set->ranges[0];
}

static bool
is_gateway (const cni_rangeset *set, const cni_ip *ip)
{
  for (size_t i = 0; i < set->n; i++)
    if (cni_ip_cmp (ip, &set->ranges[i].gateway) == 0)
      return true;
  return false;
}

static int
write_file_at (int dirfd, const char *name, const char *data, int flags)
{
  _cleanup_close_ int fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
  if (fd < 0)
    return -errno;
  size_t len = strlen (data);
  if (write (fd, data, len) != (ssize_t)len)
    return errno ? -errno : -EIO;
  return 0;
}

/* Reserves a fresh address of set for id/ifname; caller holds the lock. */
static int
reserve_in_set (int dirfd, const cni_rangeset *set, size_t idx, const char *id, const char *ifname,
                cni_ip *out, husk_error **err)
{
  _cleanup_free_ char *lastname = xasprintf ("last_reserved_ip.%zu", idx);
  _cleanup_free_ char *holder = xasprintf ("%s\r\n%s", id, ifname);
  cni_ip cur = set->ranges[0].start;
  char buf[64];
  _cleanup_close_ int lfd = openat (dirfd, lastname, O_RDONLY | O_CLOEXEC);
  ssize_t n = lfd >= 0 ? read (lfd, buf, sizeof buf - 1) : -1;
  if (n > 0)
    {
      buf[n] = '\0';
      buf[strcspn (buf, "\r\n ")] = '\0';
      cni_ip last;
      if (cni_ip_parse (buf, &last, NULL) == 0 && ip_in_set (&last, set))
        cur = set_next (set, &last);
    }
  cni_ip first = cur;
  do
    {
      if (!is_gateway (set, &cur))
        {
          _cleanup_free_ char *name = cni_ip_format (&cur, false);
          int r = write_file_at (dirfd, name, holder, O_EXCL);
          if (r == 0)
            {
              int w = write_file_at (dirfd, lastname, name, O_TRUNC);
              if (w < 0)
                {
                  unlinkat (dirfd, name, 0);
                  return husk_err_sys (err, -w, "ipam: write %s", lastname);
                }
              *out = cur;
              return 0;
            }
          if (r != -EEXIST)
            return husk_err_sys (err, -r, "ipam: reserve %s", name);
        }
      cur = set_next (set, &cur);
    }
  while (cni_ip_cmp (&cur, &first) != 0);
  _cleanup_free_ char *s = cni_ip_format (&set->ranges[0].subnet, true);
  return cni_err (err, CNI_ERR_NO_ADDRESSES, "ipam: no free address left in range %s", s);
}

static int
unlink_cb (int dirfd, const char *name, const char *hid, const char *hifn, void *data)
{
  const char **who = data;
  if (holder_matches (hid, hifn, who[0], who[1]))
    unlinkat (dirfd, name, 0);
  return 0;
}

int
cni_ipam_alloc (const cni_ipam_conf *ipam, const char *network, const char *container_id,
                const char *ifname, cni_result *r, husk_error **err)
{
  _cleanup_free_ char *dir = cni_ipam_dir (ipam, network);
  _cleanup_close_ int lock = ipam_lock (dir, err);
  if (lock < 0)
    return lock;
  _cleanup_close_ int dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return husk_err_errno (err, "ipam: open %s", dir);
  r->ips = xreallocarray (r->ips, r->nips + ipam->nsets + 1, sizeof *r->ips);
  for (size_t i = 0; i < ipam->nsets; i++)
    {
      const cni_rangeset *set = &ipam->sets[i];
      cni_ip ip = { 0 };
      struct find_ctx fc = { .id = container_id, .ifname = ifname, .set = set, .found = &ip };
      int ret = for_each_holder (dir, find_cb, &fc, err);
      if (ret < 0 && ip.family == 0)
        return ret;
      if (ip.family == 0)
        {
          ret = reserve_in_set (dirfd, set, i, container_id, ifname, &ip, err);
          if (ret < 0)
            {
              const char *who[2] = { container_id, ifname };
              for_each_holder (dir, unlink_cb, who, NULL); /* undo earlier sets */
              return ret;
            }
        }
      const cni_range *rg = range_of (set, &ip);
      ip.prefix = rg->subnet.prefix;
      r->ips[r->nips++] = (cni_result_ip){ .address = ip, .gateway = rg->gateway, .interface = -1 };
    }
  r->routes = xreallocarray (r->routes, r->nroutes + ipam->nroutes + 1, sizeof *r->routes);
  for (size_t i = 0; i < ipam->nroutes; i++)
    r->routes[r->nroutes++] = ipam->routes[i];
  return 0;
}

int
cni_ipam_release (const cni_ipam_conf *ipam, const char *network, const char *container_id,
                  const char *ifname, husk_error **err)
{
  _cleanup_free_ char *dir = cni_ipam_dir (ipam, network);
  if (access (dir, F_OK) < 0 && errno == ENOENT)
    return 0;
  _cleanup_close_ int lock = ipam_lock (dir, err);
  if (lock < 0)
    return lock;
  const char *who[2] = { container_id, ifname };
  return for_each_holder (dir, unlink_cb, (void *)who, err);
}

struct gc_ctx
{
  const cni_attachment *valid;
  size_t nvalid;
  int released;
};

static int
gc_cb (int dirfd, const char *name, const char *hid, const char *hifn, void *data)
{
  struct gc_ctx *g = data;
  for (size_t i = 0; i < g->nvalid; i++)
    if (holder_matches (hid, hifn, g->valid[i].container_id, g->valid[i].ifname))
      return 0;
  if (unlinkat (dirfd, name, 0) == 0)
    g->released++;
  return 0;
}

int
cni_ipam_gc (const cni_ipam_conf *ipam, const char *network, const cni_attachment *valid,
             size_t nvalid, int *released, husk_error **err)
{
  _cleanup_free_ char *dir = cni_ipam_dir (ipam, network);
  if (access (dir, F_OK) < 0 && errno == ENOENT)
    return 0;
  _cleanup_close_ int lock = ipam_lock (dir, err);
  if (lock < 0)
    return lock;
  struct gc_ctx g = { .valid = valid, .nvalid = nvalid };
  int r = for_each_holder (dir, gc_cb, &g, err);
  if (released)
    *released = g.released;
  return r;
}

int
cni_ipam_held (const cni_ipam_conf *ipam, const char *network, const char *container_id,
               const char *ifname, cni_ip **out, size_t *n, husk_error **err)
{
  _cleanup_free_ char *dir = cni_ipam_dir (ipam, network);
  cni_ip *list = NULL;
  size_t cnt = 0;
  struct find_ctx fc = { .id = container_id, .ifname = ifname, .list = &list, .nlist = &cnt };
  int r = for_each_holder (dir, find_cb, &fc, err);
  if (r < 0)
    {
      free (list);
      return r;
    }
  *out = list;
  *n = cnt;
  return 0;
}

int
cni_ipam_check_free (const cni_ipam_conf *ipam, const char *network, husk_error **err)
{
  _cleanup_free_ char *dir = cni_ipam_dir (ipam, network);
  _cleanup_close_ int dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0 && errno != ENOENT)
    return husk_err_errno (err, "ipam: open %s", dir);
  for (size_t i = 0; i < ipam->nsets && dirfd >= 0; i++)
    {
      const cni_rangeset *set = &ipam->sets[i];
      cni_ip cur = set->ranges[0].start, first = cur;
      bool found = false;
      do
        {
          _cleanup_free_ char *name = cni_ip_format (&cur, false);
          if (!is_gateway (set, &cur) && faccessat (dirfd, name, F_OK, 0) < 0 && errno == ENOENT)
            found = true;
          cur = set_next (set, &cur);
        }
      while (!found && cni_ip_cmp (&cur, &first) != 0);
      if (!found)
        {
          _cleanup_free_ char *s = cni_ip_format (&set->ranges[0].subnet, true);
          return cni_err (err, CNI_ERR_PLUGIN_NOT_AVAILABLE,
                          "ipam: no free address left in range %s", s);
        }
    }
  return 0;
}
