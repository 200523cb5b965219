/* Driver for t-volumes.sh: runs as root inside a private mount namespace and checks the
   mounts the agent makes for volumes (TAP). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "lib/json.h"
#include "lib/path.h"
#include "src/node/agent/volume.h"
#include "tests/unit/tap.h"

static json_t *objects;

static int
get_obj (const char *kind, const char *name, json_t **out)
{
  json_t *o = json_object_get (json_object_get (objects, kind), name);
  *out = o ? json_incref (o) : NULL;
  return 0;
}
static int
get_cm (void *ud, const char *name, json_t **out, husk_error **err)
{
  return get_obj ("configmaps", name, out);
}
static int
get_secret (void *ud, const char *name, json_t **out, husk_error **err)
{
  return get_obj ("secrets", name, out);
}

/* How many mounts sit exactly on path. */
static int
mounts_on (const char *path)
{
  FILE *f = fopen ("/proc/self/mountinfo", "r");
  char line[4096];
  int n = 0;
  while (f && fgets (line, sizeof line, f))
    {
      char mp[4096];
      if (sscanf (line, "%*s %*s %*s %*s %4095s", mp) == 1 && streq (mp, path))
        n++;
    }
  if (f)
    fclose (f);
  return n;
}

static int
mounts_under (const char *prefix)
{
  FILE *f = fopen ("/proc/self/mountinfo", "r");
  char line[4096];
  int n = 0;
  while (f && fgets (line, sizeof line, f))
    {
      char mp[4096];
      if (sscanf (line, "%*s %*s %*s %*s %4095s", mp) == 1
          && strncmp (mp, prefix, strlen (prefix)) == 0)
        n++;
    }
  if (f)
    fclose (f);
  return n;
}

static char *
slurp (const char *path)
{
  char *s = NULL;
  husk_error *err = NULL;
  if (husk_read_file (path, &s, NULL, &err) < 0)
    {
      husk_error_free (err);
      return xstrdup ("(missing)");
    }
  return s;
}

int
main (int argc, char **argv)
{
  if (getuid () != 0)
    tap_skip_all ("needs root");
  char tmp[] = "/tmp/agent-vol-check.XXXXXX";
  if (!mkdtemp (tmp))
    return 99;
  husk_error *err = NULL;
  json_error_t je;
  objects = json_loads ("{\"configmaps\":{\"app\":{\"data\":{\"k\":\"v1\"}}},"
                        "\"secrets\":{\"db\":{\"data\":{\"password\":\"czNjcjN0\"}}}}",
                        0, &je);
  json_t *pod = json_loads (
      "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"uid-1\"},\"spec\":{}}", 0,
      &je);
  agent_vol_ctx ctx = { .get_configmap = get_cm, .get_secret = get_secret, .pod = pod };
  _cleanup_free_ char *pods = xasprintf ("%s/pods", tmp);

  /* secret: tmpfs, never on disk */
  json_t *sv = json_loads ("{\"name\":\"creds\",\"secret\":{\"secretName\":\"db\"}}", 0, &je);
  char *sdir = NULL;
  ok (agent_vol_setup (&ctx, pods, sv, (gid_t)-1, &sdir, &err) == 0, "secret volume set up%s%s",
      err ? ": " : "", err ? err->msg : "");
  _cleanup_free_ char *want = xasprintf ("%s/uid-1/volumes/kubernetes.io~secret/creds", pods);
  is_str (sdir, want, "kubelet's directory layout");
  struct statfs fs;
  ok (sdir && statfs (sdir, &fs) == 0 && fs.f_type == TMPFS_MAGIC, "secret volume is a tmpfs");
  is_int (sdir ? mounts_on (sdir) : 0, 1, "one mount on the secret dir");
  _cleanup_free_ char *pw = xasprintf ("%s/password", sdir ? sdir : "");
  _cleanup_free_ char *v = slurp (pw);
  is_str (v, "s3cr3t", "secret file decoded");
  /* the Secret changes: the agent refreshes the volume */
  json_object_set_new (json_object_get (json_object_get (objects, "secrets"), "db"), "data",
                       json_pack ("{s:s}", "password", "bmV3"));
  char *sdir2 = NULL;
  ok (agent_vol_setup (&ctx, pods, sv, (gid_t)-1, &sdir2, &err) == 0, "secret volume refreshed");
  _cleanup_free_ char *v2 = slurp (pw);
  is_str (v2, "new", "updated secret visible at the same path");
  is_int (sdir ? mounts_on (sdir) : 0, 1, "refresh does not stack a second tmpfs");
  free (sdir2);

  /* fsGroup */
  json_t *gv = json_loads (
      "{\"name\":\"grp\",\"secret\":{\"secretName\":\"db\",\"defaultMode\":256}}", 0, &je);
  char *gdir = NULL;
  ok (agent_vol_setup (&ctx, pods, gv, 2000, &gdir, &err) == 0, "secret with fsGroup set up");
  _cleanup_free_ char *gpw = xasprintf ("%s/password", gdir ? gdir : "");
  struct stat st;
  ok (stat (gpw, &st) == 0 && st.st_gid == 2000 && (st.st_mode & 0777) == 0440,
      "fsGroup: group 2000, mode 0400|0440");
  free (gdir);
  json_decref (gv);

  /* configMap: on disk */
  json_t *cv = json_loads ("{\"name\":\"cfg\",\"configMap\":{\"name\":\"app\"}}", 0, &je);
  char *cdir = NULL;
  ok (agent_vol_setup (&ctx, pods, cv, (gid_t)-1, &cdir, &err) == 0, "configMap volume set up");
  ok (cdir && !agent_vol_is_tmpfs (cdir) && mounts_on (cdir) == 0,
      "configMap volume is not a mount");

  /* emptyDir Memory with sizeLimit */
  json_t *ev = json_loads (
      "{\"name\":\"cache\",\"emptyDir\":{\"medium\":\"Memory\",\"sizeLimit\":\"4Mi\"}}", 0, &je);
  char *edir = NULL;
  ok (agent_vol_setup (&ctx, pods, ev, (gid_t)-1, &edir, &err) == 0, "emptyDir Memory set up");
  ok (edir && statfs (edir, &fs) == 0 && fs.f_type == TMPFS_MAGIC, "emptyDir Memory is a tmpfs");
  is_int (edir ? (long long)fs.f_blocks * fs.f_bsize : 0, 4 * 1024 * 1024,
          "tmpfs size is sizeLimit");
  ok (edir && stat (edir, &st) == 0 && (st.st_mode & 0777) == 0777, "emptyDir is world-writable");
  _cleanup_free_ char *big = xasprintf ("%s/big", edir ? edir : "");
  int fd = open (big, O_WRONLY | O_CREAT, 0644);
  char buf[65536] = { 0 };
  int werr = 0;
  for (int i = 0; i < 80 && fd >= 0; i++)
    if (write (fd, buf, sizeof buf) < 0)
      {
        werr = errno;
        break;
      }
  if (fd >= 0)
    close (fd);
  is_int (werr, ENOSPC, "writing 5 MiB into a 4Mi emptyDir fails with ENOSPC");

  /* emptyDir Memory without sizeLimit: the pod's memory limit */
  json_t *lpod
      = json_loads ("{\"metadata\":{\"name\":\"q\",\"namespace\":\"default\",\"uid\":\"uid-2\"},"
                    "\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{"
                    "\"memory\":\"8Mi\"}}}]}}",
                    0, &je);
  json_t *alloc = json_pack ("{s:s}", "memory", "1Gi");
  agent_vol_ctx lctx = { .pod = lpod, .node_allocatable = alloc };
  json_t *mv = json_loads ("{\"name\":\"mem\",\"emptyDir\":{\"medium\":\"Memory\"}}", 0, &je);
  char *mdir = NULL;
  ok (agent_vol_setup (&lctx, pods, mv, (gid_t)-1, &mdir, &err) == 0 && statfs (mdir, &fs) == 0,
      "emptyDir Memory without sizeLimit set up");
  is_int (mdir ? (long long)fs.f_blocks * fs.f_bsize : 0, 8 * 1024 * 1024,
          "sized to the pod's memory limit (8Mi)");
  ok (agent_vol_teardown_pod (pods, "uid-2", &err) == 0, "second pod torn down");
  free (mdir);
  json_decref (mv);
  json_decref (alloc);
  json_decref (lpod);

  /* emptyDir on disk */
  json_t *dv = json_loads ("{\"name\":\"scratch\",\"emptyDir\":{}}", 0, &je);
  char *ddir = NULL;
  ok (agent_vol_setup (&ctx, pods, dv, (gid_t)-1, &ddir, &err) == 0 && !agent_vol_is_tmpfs (ddir),
      "emptyDir on disk is a plain directory");

  /* hostPath BlockDevice */
  if (access ("/dev/loop0", F_OK) == 0)
    {
      json_t *hv = json_loads (
          "{\"name\":\"dev\",\"hostPath\":{\"path\":\"/dev/loop0\",\"type\":\"BlockDevice\"}}", 0,
          &je);
      char *hdir = NULL;
      ok (agent_vol_setup (&ctx, pods, hv, (gid_t)-1, &hdir, &err) == 0
              && streq (hdir, "/dev/loop0"),
          "hostPath BlockDevice on /dev/loop0");
      free (hdir);
      json_decref (hv);
    }
  else
    printf ("ok %d - # SKIP no /dev/loop0\n", ++tap_n);

  /* teardown */
  _cleanup_free_ char *root = xasprintf ("%s/uid-1", pods);
  /* a hostPath volume's contents must survive the pod's teardown */
  _cleanup_free_ char *hp = xasprintf ("%s/host", tmp), *hpf = xasprintf ("%s/host/keep", tmp);
  _cleanup_free_ char *hpj = xasprintf (
      "{\"name\":\"h\",\"hostPath\":{\"path\":\"%s\",\"type\":\"DirectoryOrCreate\"}}", hp);
  json_t *hv2 = json_loads (hpj, 0, &je);
  char *hdir2 = NULL;
  ok (agent_vol_setup (&ctx, pods, hv2, (gid_t)-1, &hdir2, &err) == 0,
      "hostPath DirectoryOrCreate set up");
  husk_write_file_atomic (hpf, "x", 1, 0644, &err);
  free (hdir2);
  json_decref (hv2);
  is_int (mounts_under (root), 3, "three tmpfs mounts before teardown (two secrets, one emptyDir)");
  ok (agent_vol_teardown_pod (pods, "uid-1", &err) == 0, "teardown%s%s", err ? ": " : "",
      err ? err->msg : "");
  is_int (mounts_under (root), 0, "no mount left after teardown");
  _cleanup_free_ char *vols = xasprintf ("%s/volumes", root);
  ok (access (vols, F_OK) < 0, "volume tree removed");
  ok (access (hpf, F_OK) == 0, "hostPath contents left alone");

  free (sdir);
  free (cdir);
  free (edir);
  free (ddir);
  json_decref (sv);
  json_decref (cv);
  json_decref (ev);
  json_decref (dv);
  json_decref (pod);
  json_decref (objects);
  husk_rm_rf (tmp, &err);
  return tap_done ();
}
