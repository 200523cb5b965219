/* husk-cni: host-local IPAM on disk (allocation order, reuse, release, GC, exhaustion,
   concurrent allocation from many processes). */
#include "config.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "cni/cni.h"
#include "lib/path.h"
#include "tests/unit/tap.h"

static cni_conf *
conf_for (const char *dir, const char *ipam_extra)
{
  _cleanup_free_ char *s = xasprintf ("{\"cniVersion\":\"1.1.0\",\"name\":\"t\",\"ipam\":{"
                                      "\"type\":\"host-local\",\"dataDir\":\"%s\",%s}}",
                                      dir, ipam_extra);
  cni_conf *c = NULL;
  husk_error *err = NULL;
  if (cni_conf_parse (s, strlen (s), &c, &err) < 0)
    {
      printf ("# %s\n", err->msg);
      husk_error_free (err);
    }
  return c;
}

static char *
alloc (cni_conf *c, const char *id, husk_error **err)
{
  _cleanup_ (cni_result_freep) cni_result *r = xzalloc (sizeof *r);
  if (cni_ipam_alloc (&c->ipam, c->name, id, "eth0", r, err) < 0)
    return NULL;
  return cni_ip_format (&r->ips[0].address, true);
}

static char *
read_state (const char *dir, const char *file)
{
  _cleanup_free_ char *p = xasprintf ("%s/t/%s", dir, file);
  char *s = NULL;
  if (husk_read_file (p, &s, NULL, NULL) < 0)
    return NULL;
  return s;
}

static int
count_files (const char *dir)
{
  _cleanup_free_ char *p = xasprintf ("%s/t", dir);
  DIR *d = opendir (p);
  int n = 0;
  struct dirent *de;
  while (d && (de = readdir (d)))
    if ((de->d_name[0] >= '0' && de->d_name[0] <= '9') || strchr (de->d_name, ':'))
      n++;
  if (d)
    closedir (d);
  return n;
}

int
main (void)
{
  char tmpl[] = "/tmp/test-cni-ipam-XXXXXX";
  char *dir = mkdtemp (tmpl);
  ok (dir != NULL, "temp dir");
  cni_conf *c = conf_for (dir, "\"subnet\":\"10.9.0.0/29\"");
  ok (c != NULL, "config");
  _cleanup_error_ husk_error *err = NULL;

  _cleanup_free_ char *a = alloc (c, "ctr-a", &err);
  is_str (a, "10.9.0.2/29", "first address skips network and gateway");
  _cleanup_free_ char *holder = read_state (dir, "10.9.0.2");
  is_str (holder, "ctr-a\r\neth0", "file holds container id and ifname like host-local");
  _cleanup_free_ char *last = read_state (dir, "last_reserved_ip.0");
  is_str (last, "10.9.0.2", "last_reserved_ip.0");
  _cleanup_free_ char *a2 = alloc (c, "ctr-a", &err);
  is_str (a2, "10.9.0.2/29", "same attachment gets the same address back");
  _cleanup_free_ char *b = alloc (c, "ctr-b", &err);
  is_str (b, "10.9.0.3/29", "next address for another container");
  ok (cni_ipam_release (&c->ipam, c->name, "ctr-a", "eth0", &err) == 0, "release");
  _cleanup_free_ char *gone = read_state (dir, "10.9.0.2");
  ok (gone == NULL, "released address file removed");
  ok (cni_ipam_release (&c->ipam, c->name, "nobody", "eth0", &err) == 0,
      "releasing an unknown container succeeds");
  _cleanup_free_ char *d = alloc (c, "ctr-d", &err);
  is_str (d, "10.9.0.4/29", "round robin continues after last reserved");
  _cleanup_free_ char *e = alloc (c, "ctr-e", &err);
  _cleanup_free_ char *f = alloc (c, "ctr-f", &err);
  _cleanup_free_ char *g = alloc (c, "ctr-g", &err);
  is_str (f, "10.9.0.6/29", "up to the end of the range");
  is_str (g, "10.9.0.2/29", "wraps to a released address");
  _cleanup_free_ char *h = alloc (c, "ctr-h", &err);
  ok (h == NULL && err && cni_error_code (err) == CNI_ERR_NO_ADDRESSES
          && strstr (err->msg, "no free address"),
      "exhausted range reports code %d", CNI_ERR_NO_ADDRESSES);
  husk_error_free (err);
  err = NULL;
  ok (cni_ipam_check_free (&c->ipam, c->name, &err) < 0 && err
          && cni_error_code (err) == CNI_ERR_PLUGIN_NOT_AVAILABLE,
      "STATUS check: an exhausted range is code 50");
  husk_error_free (err);
  err = NULL;

  cni_attachment valid[] = { { "ctr-b", "eth0" }, { "ctr-g", "eth0" } };
  int released = 0;
  ok (cni_ipam_gc (&c->ipam, c->name, valid, 2, &released, &err) == 0, "gc");
  is_int (released, 3, "gc released the three leaked addresses");
  is_int (count_files (dir), 2, "two addresses remain");
  ok (cni_ipam_check_free (&c->ipam, c->name, &err) == 0, "STATUS check: free addresses again");
  cni_conf_free (c);

  /* Concurrency: 20 processes x 10 allocations in one /24, all distinct. */
  c = conf_for (dir, "\"ranges\":[[{\"subnet\":\"10.8.0.0/24\"}],[{\"subnet\":\"fd08::/120\"}]]");
  for (int p = 0; p < 20; p++)
    if (fork () == 0)
      {
        for (int i = 0; i < 10; i++)
          {
            _cleanup_free_ char *id = xasprintf ("p%d-%d", p, i);
            husk_error *e2 = NULL;
            _cleanup_free_ char *x = alloc (c, id, &e2);
            if (!x)
              _exit (1);
          }
        _exit (0);
      }
  int failed = 0, st;
  while (wait (&st) > 0)
    failed += !WIFEXITED (st) || WEXITSTATUS (st) != 0;
  is_int (failed, 0, "200 concurrent allocations succeed");
  /* 2 old files + 200 v4 + 200 v6 */
  is_int (count_files (dir), 402, "every allocation got its own file (v4 and v6)");
  cni_conf_free (c);
  husk_rm_rf (dir, NULL);
  return tap_done ();
}
