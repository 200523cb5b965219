/* File-backed volumes: payloads from ConfigMaps/Secrets/downward API/projected, the
   atomic writer's layout and updates (with a concurrent reader), hostPath type checks,
   subPath containment, emptyDir on disk. Mounts are in tests/integration/agent. */
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "lib/json.h"
#include "lib/path.h"
#include "src/node/agent/volume.h"
#include "tests/unit/tap.h"

static char tmp[] = "/tmp/test-agent-volume.XXXXXX";
static json_t *objects;

static json_t *
J (const char *s)
{
  json_error_t e;
  json_t *j = json_loads (s, 0, &e);
  if (!j)
    {
      printf ("# bad test JSON: %s: %s\n", e.text, s);
      exit (99);
    }
  return j;
}

static int
get_cm (void *ud, const char *name, json_t **out, husk_error **err)
{
  json_t *o = json_object_get (json_object_get (objects, "configmaps"), name);
  *out = o ? json_incref (o) : NULL;
  return 0;
}

static int
get_secret (void *ud, const char *name, json_t **out, husk_error **err)
{
  json_t *o = json_object_get (json_object_get (objects, "secrets"), name);
  *out = o ? json_incref (o) : NULL;
  return 0;
}

static int
get_token (void *ud, const char *aud, int64_t exp, char **out, husk_error **err)
{
  *out = xasprintf ("token-for-%s-%lld", aud ? aud : "api", (long long)exp);
  return 0;
}

static int
get_pvc (void *ud, const char *name, json_t **out, husk_error **err)
{
  json_t *o = json_object_get (json_object_get (objects, "pvcs"), name);
  *out = o ? json_incref (o) : NULL;
  return 0;
}

static int
get_pv (void *ud, const char *name, json_t **out, husk_error **err)
{
  json_t *o = json_object_get (json_object_get (objects, "pvs"), name);
  *out = o ? json_incref (o) : NULL;
  return 0;
}

static json_t *pod;
static agent_vol_ctx ctx = { .get_configmap = get_cm,
                             .get_secret = get_secret,
                             .get_token = get_token,
                             .get_pvc = get_pvc,
                             .get_pv = get_pv };

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

static const agent_vol_file *
find (const agent_vol_payload *p, const char *path)
{
  for (size_t i = 0; i < p->n; i++)
    if (streq (p->files[i].path, path))
      return &p->files[i];
  return NULL;
}

static agent_vol_payload *
payload (const char *vol, char **errmsg)
{
  json_t *v = J (vol);
  agent_vol_payload *p = NULL;
  husk_error *err = NULL;
  if (agent_vol_payload_for (&ctx, v, &p, &err) < 0)
    {
      *errmsg = xstrdup (err->msg);
      husk_error_free (err);
    }
  json_decref (v);
  return p;
}

static void
test_payloads (void)
{
  char *msg = NULL;
  agent_vol_payload *p = payload ("{\"name\":\"cfg\",\"configMap\":{\"name\":\"app\"}}", &msg);
  ok (p && p->n == 3, "configMap: every key of data and binaryData");
  const agent_vol_file *f = p ? find (p, "app.conf") : NULL;
  ok (f && streq (f->data, "port=80\n") && f->mode == 0644, "data key with mode 0644");
  f = p ? find (p, "blob") : NULL;
  ok (f && f->len == 3 && memcmp (f->data, "\x01\x02\x03", 3) == 0, "binaryData decoded");
  agent_vol_payload_free (p);

  p = payload ("{\"name\":\"cfg\",\"configMap\":{\"name\":\"app\",\"defaultMode\":256,"
               "\"items\":[{\"key\":\"app.conf\",\"path\":\"etc/app/app.conf\",\"mode\":384},"
               "{\"key\":\"log.level\",\"path\":\"level\"}]}}",
               &msg);
  ok (p && p->n == 2, "items select keys");
  f = p ? find (p, "etc/app/app.conf") : NULL;
  ok (f && f->mode == 0600, "item path and mode (384 = 0600)");
  f = p ? find (p, "level") : NULL;
  ok (f && f->mode == 0400 && streq (f->data, "debug"),
      "defaultMode (256 = 0400) for items without mode");
  agent_vol_payload_free (p);

  msg = NULL;
  p = payload ("{\"name\":\"cfg\",\"configMap\":{\"name\":\"app\",\"items\":[{\"key\":\"nokey\","
               "\"path\":\"x\"}]}}",
               &msg);
  ok (!p && msg && strstr (msg, "configmap references non-existent config key: nokey")
          && strstr (msg, "volume \"cfg\""),
      "missing key: kubelet's message (%s)", msg ? msg : "");
  free (msg);
  msg = NULL;
  p = payload ("{\"name\":\"cfg\",\"configMap\":{\"name\":\"app\",\"optional\":true,\"items\":[{"
               "\"key\":\"nokey\",\"path\":\"x\"}]}}",
               &msg);
  ok (p && p->n == 0, "optional: a missing key is skipped");
  agent_vol_payload_free (p);
  p = payload ("{\"name\":\"cfg\",\"configMap\":{\"name\":\"gone\"}}", &msg);
  ok (!p && msg && strstr (msg, "configmap \"gone\" not found"), "missing ConfigMap refused");
  free (msg);
  msg = NULL;
  p = payload ("{\"name\":\"cfg\",\"configMap\":{\"name\":\"gone\",\"optional\":true}}", &msg);
  ok (p && p->n == 0, "optional missing ConfigMap: empty volume");
  agent_vol_payload_free (p);

  p = payload ("{\"name\":\"cfg\",\"configMap\":{\"name\":\"app\",\"items\":[{\"key\":\"app.conf\","
               "\"path\":\"../escape\"}]}}",
               &msg);
  ok (!p && msg && strstr (msg, ".."), "item path with '..' refused");
  free (msg);
  msg = NULL;
  p = payload ("{\"name\":\"cfg\",\"configMap\":{\"name\":\"app\",\"items\":[{\"key\":\"app.conf\","
               "\"path\":\"/etc/passwd\"}]}}",
               &msg);
  ok (!p && msg && strstr (msg, "relative"), "absolute item path refused");
  free (msg);
  msg = NULL;
  p = payload ("{\"name\":\"cfg\",\"configMap\":{\"name\":\"app\",\"items\":[{\"key\":\"app.conf\","
               "\"path\":\"a/../../b\"}]}}",
               &msg);
  ok (!p && msg, "'..' inside a path refused");
  free (msg);
  msg = NULL;

  p = payload ("{\"name\":\"s\",\"secret\":{\"secretName\":\"db\",\"defaultMode\":288}}", &msg);
  f = p ? find (p, "password") : NULL;
  ok (f && streq (f->data, "s3cr3t") && f->mode == 0440, "secret decoded with defaultMode 0440");
  agent_vol_payload_free (p);
  p = payload ("{\"name\":\"s\",\"secret\":{\"secretName\":\"db\",\"items\":[{\"key\":\"nope\","
               "\"path\":\"x\"}]}}",
               &msg);
  ok (!p && msg && strstr (msg, "secret references non-existent secret key: nope"),
      "secret missing key");
  free (msg);
  msg = NULL;

  p = payload ("{\"name\":\"d\",\"downwardAPI\":{\"items\":["
               "{\"path\":\"labels\",\"fieldRef\":{\"fieldPath\":\"metadata.labels\"}},"
               "{\"path\":\"name\",\"fieldRef\":{\"fieldPath\":\"metadata.name\"}},"
               "{\"path\":\"mem\",\"resourceFieldRef\":{\"containerName\":\"c\",\"resource\":"
               "\"limits.memory\",\"divisor\":\"1Mi\"}}]}}",
               &msg);
  f = p ? find (p, "labels") : NULL;
  ok (f && streq (f->data, "app=\"web\"\nzone=\"a\""), "downwardAPI labels file");
  f = p ? find (p, "name") : NULL;
  ok (f && streq (f->data, "web-1"), "downwardAPI name file");
  f = p ? find (p, "mem") : NULL;
  ok (f && streq (f->data, "64"), "downwardAPI resourceFieldRef file");
  agent_vol_payload_free (p);

  p = payload ("{\"name\":\"all\",\"projected\":{\"defaultMode\":420,\"sources\":["
               "{\"configMap\":{\"name\":\"app\",\"items\":[{\"key\":\"app.conf\",\"path\":\"cfg/"
               "app.conf\"}]}},"
               "{\"secret\":{\"name\":\"db\",\"items\":[{\"key\":\"password\",\"path\":\"secret/"
               "pw\",\"mode\":256}]}},"
               "{\"downwardAPI\":{\"items\":[{\"path\":\"ns\",\"fieldRef\":{\"fieldPath\":"
               "\"metadata.namespace\"}}]}},"
               "{\"serviceAccountToken\":{\"path\":\"token\",\"audience\":\"vault\","
               "\"expirationSeconds\":600}}]}}",
               &msg);
  ok (p && p->n == 4, "projected: four sources in one volume%s%s", msg ? ": " : "", msg ? msg : "");
  f = p ? find (p, "secret/pw") : NULL;
  ok (f && streq (f->data, "s3cr3t") && f->mode == 0400, "projected secret item");
  f = p ? find (p, "token") : NULL;
  ok (f && streq (f->data, "token-for-vault-600"), "projected token from the callback");
  f = p ? find (p, "ns") : NULL;
  ok (f && streq (f->data, "prod"), "projected downwardAPI");
  agent_vol_payload_free (p);
}

/* ---- atomic writer ------------------------------------------------------------------ */

typedef struct reader_ctx
{
  const char *dir;
  volatile bool stop;
  long reads, torn;
} reader_ctx;

/* Reads two files through the user-visible links; they always carry the same version. */
static void *
reader (void *ud)
{
  reader_ctx *r = ud;
  _cleanup_free_ char *a = xasprintf ("%s/a", r->dir), *b = xasprintf ("%s/sub/b", r->dir);
  while (!r->stop)
    {
      /* Open through ..data once, as a process that opened the directory would. */
      _cleanup_free_ char *data = xasprintf ("%s/..data", r->dir);
      char target[256];
      ssize_t n = readlink (data, target, sizeof target - 1);
      if (n <= 0)
        continue;
      target[n] = 0;
      _cleanup_free_ char *pa = xasprintf ("%s/%s/a", r->dir, target);
      _cleanup_free_ char *pb = xasprintf ("%s/%s/sub/b", r->dir, target);
      FILE *fa = fopen (pa, "r"), *fb = fopen (pb, "r");
      char va[64] = "", vb[64] = "";
      if (fa && fb && fgets (va, sizeof va, fa) && fgets (vb, sizeof vb, fb))
        {
          r->reads++;
          if (!streq (va, vb))
            r->torn++;
        }
      if (fa)
        fclose (fa);
      if (fb)
        fclose (fb);
    }
  return NULL;
}

static void
test_atomic (void)
{
  husk_error *err = NULL;
  _cleanup_free_ char *dir = xasprintf ("%s/vol", tmp);
  agent_vol_payload p = { 0 };
  agent_vol_payload_add (&p, "a", "v1", 2, 0644);
  agent_vol_payload_add (&p, "sub/b", "v1", 2, 0600);
  agent_vol_payload_add (&p, "gone", "x", 1, 0644);
  bool changed = false;
  ok (agent_atomic_write (dir, &p, (gid_t)-1, &changed, &err) == 0 && changed, "first write");
  _cleanup_free_ char *data = xasprintf ("%s/..data", dir);
  char target[256];
  ssize_t n = readlink (data, target, sizeof target - 1);
  target[n > 0 ? n : 0] = 0;
  ok (n > 0 && strncmp (target, "..20", 4) == 0 && !strchr (target, '/'),
      "..data points at a timestamped dir (%s)", target);
  _cleanup_free_ char *a = xasprintf ("%s/a", dir);
  n = readlink (a, target, sizeof target - 1);
  target[n > 0 ? n : 0] = 0;
  is_str (target, "..data/a", "user-visible name is a symlink into ..data");
  _cleanup_free_ char *sub = xasprintf ("%s/sub", dir);
  n = readlink (sub, target, sizeof target - 1);
  target[n > 0 ? n : 0] = 0;
  is_str (target, "..data/sub", "nested path: the top directory is linked");
  _cleanup_free_ char *b = xasprintf ("%s/sub/b", dir);
  _cleanup_free_ char *vb = slurp (b);
  is_str (vb, "v1", "nested file readable through the link");
  struct stat st;
  ok (stat (b, &st) == 0 && (st.st_mode & 0777) == 0600, "file mode applied (0600)");

  ok (agent_atomic_write (dir, &p, (gid_t)-1, &changed, &err) == 0 && !changed,
      "same payload: nothing written");

  /* Update: a concurrent reader never sees a mix of versions. */
  reader_ctx r = { .dir = dir };
  pthread_t th;
  pthread_create (&th, NULL, reader, &r);
  agent_vol_payload q = { 0 };
  for (int v = 2; v <= 200; v++)
    {
      char val[16];
      snprintf (val, sizeof val, "v%d", v);
      agent_vol_payload_add (&q, "a", val, strlen (val), 0644);
      agent_vol_payload_add (&q, "sub/b", val, strlen (val), 0600);
      if (agent_atomic_write (dir, &q, (gid_t)-1, &changed, &err) < 0)
        {
          ok (0, "update %d: %s", v, err->msg);
          break;
        }
    }
  r.stop = true;
  pthread_join (th, NULL);
  ok (r.reads > 0, "reader read %ld times during 199 updates", r.reads);
  is_int (r.torn, 0, "never a mix of two versions");
  _cleanup_free_ char *va = slurp (a);
  is_str (va, "v200", "the last update is visible");
  _cleanup_free_ char *gone = xasprintf ("%s/gone", dir);
  ok (lstat (gone, &st) < 0 && errno == ENOENT, "a key dropped from the payload disappears");
  int dirs = 0;
  _cleanup_free_ char *cmd = xasprintf ("ls -a %s | grep -c '^\\.\\.20'", dir);
  FILE *f = popen (cmd, "r");
  if (f && fscanf (f, "%d", &dirs) != 1)
    dirs = -1;
  if (f)
    pclose (f);
  is_int (dirs, 1, "old timestamped dirs are removed");
  _cleanup_free_ char *tmpl = xasprintf ("%s/..data_tmp", dir);
  ok (lstat (tmpl, &st) < 0, "no ..data_tmp left behind");

  agent_vol_payload bad = { 0 };
  agent_vol_payload_add (&bad, "../x", "x", 1, 0644);
  ok (agent_atomic_write (dir, &bad, (gid_t)-1, NULL, &err) < 0, "writer refuses '..'");
  husk_error_free (err);
  err = NULL;
  for (size_t i = 0; i < p.n; i++)
    free (p.files[i].path), free (p.files[i].data);
  for (size_t i = 0; i < q.n; i++)
    free (q.files[i].path), free (q.files[i].data);
  for (size_t i = 0; i < bad.n; i++)
    free (bad.files[i].path), free (bad.files[i].data);
  free (p.files);
  free (q.files);
  free (bad.files);
}

/* ---- hostPath, subPath, emptyDir --------------------------------------------------------- */

static char *
host_path (const char *path, const char *type)
{
  json_t *hp = json_pack ("{s:s, s:s}", "path", path, "type", type);
  char *out = NULL;
  husk_error *err = NULL;
  int ret = agent_vol_host_path (hp, &out, &err);
  json_decref (hp);
  if (ret < 0)
    {
      out = xasprintf ("error: %s", err->msg);
      husk_error_free (err);
    }
  return out;
}

static void
test_host_path (void)
{
  _cleanup_free_ char *d = xasprintf ("%s/hp", tmp), *file = xasprintf ("%s/hp/file", tmp);
  _cleanup_free_ char *sock = xasprintf ("%s/hp/sock", tmp),
                      *newd = xasprintf ("%s/hp/new/dir", tmp);
  _cleanup_free_ char *newf = xasprintf ("%s/hp/newfile", tmp);
  husk_error *err = NULL;
  husk_mkdir_p (d, 0755, &err);
  husk_write_file_atomic (file, "x", 1, 0644, &err);
  int s = socket (AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "%s", sock);
  bind (s, (struct sockaddr *)&sa, sizeof sa);
  struct
  {
    const char *path, *type;
    bool good;
    const char *name;
  } cases[] = {
    { d, "Directory", true, "Directory on a directory" },
    { file, "Directory", false, "Directory on a file" },
    { file, "File", true, "File on a file" },
    { d, "File", false, "File on a directory" },
    { sock, "Socket", true, "Socket on a socket" },
    { file, "Socket", false, "Socket on a file" },
    { "/dev/null", "CharDevice", true, "CharDevice on /dev/null" },
    { "/dev/null", "BlockDevice", false, "BlockDevice on a char device" },
    { file, "CharDevice", false, "CharDevice on a file" },
    { "/nonexistent/x", "Directory", false, "Directory that does not exist" },
    { "/nonexistent/x", "", true, "no type: no check" },
    { newd, "DirectoryOrCreate", true, "DirectoryOrCreate creates" },
    { file, "DirectoryOrCreate", false, "DirectoryOrCreate on a file" },
    { newf, "FileOrCreate", true, "FileOrCreate creates" },
    { d, "FileOrCreate", false, "FileOrCreate on a directory" },
    { d, "Weird", false, "unknown type refused" },
    { "relative", "", false, "relative path refused" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *got = host_path (cases[i].path, cases[i].type);
      bool good = strncmp (got, "error: ", 7) != 0;
      ok (good == cases[i].good, "hostPath %s (%s)", cases[i].name, got);
      free (got);
    }
  struct stat st;
  ok (stat (newd, &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 0777) == 0755,
      "DirectoryOrCreate made a 0755 directory");
  ok (stat (newf, &st) == 0 && S_ISREG (st.st_mode) && st.st_size == 0,
      "FileOrCreate made an empty file");
  char *msg = host_path (file, "Directory");
  ok (strstr (msg, "hostPath type check failed: ") && strstr (msg, "is not a directory"),
      "type check message as kubelet's");
  free (msg);
  close (s);

  /* subPath */
  _cleanup_free_ char *vol = xasprintf ("%s/sp", tmp), *inner = xasprintf ("%s/sp/conf", tmp);
  _cleanup_free_ char *esc = xasprintf ("%s/sp/escape", tmp);
  husk_mkdir_p (inner, 0755, &err);
  if (symlink ("/etc", esc) < 0)
    ok (0, "symlink");
  char *out = NULL;
  ok (agent_vol_subpath (vol, "conf", &out, &err) == 0 && streq (out, inner), "subPath inside");
  free (out);
  out = NULL;
  ok (agent_vol_subpath (vol, "../x", &out, &err) < 0, "subPath '..' refused");
  husk_error_free (err);
  err = NULL;
  ok (agent_vol_subpath (vol, "/etc", &out, &err) < 0, "absolute subPath refused");
  husk_error_free (err);
  err = NULL;
  int sp = agent_vol_subpath (vol, "escape/passwd", &out, &err);
  ok (sp == 0 && strncmp (out, vol, strlen (vol)) == 0,
      "a symlink to /etc is resolved inside the volume (%s)", out ? out : "");
  free (out);

  /* emptyDir on disk */
  _cleanup_free_ char *ed = xasprintf ("%s/ed", tmp);
  json_t *e = J ("{}");
  ok (agent_vol_empty_dir (e, ed, &err) == 0 && stat (ed, &st) == 0 && (st.st_mode & 0777) == 0777,
      "emptyDir: a 0777 directory");
  json_decref (e);
  e = J ("{\"medium\":\"HugePages\"}");
  ok (agent_vol_empty_dir (e, ed, &err) < 0, "unsupported medium refused");
  husk_error_free (err);
  json_decref (e);
}

static char *
pvc_path (const char *claim)
{
  json_t *v
      = json_pack ("{s:s, s:{s:s}}", "name", "data", "persistentVolumeClaim", "claimName", claim);
  char *out = NULL;
  husk_error *err = NULL;
  if (agent_vol_setup (&ctx, tmp, v, (gid_t)-1, &out, &err) < 0)
    {
      out = xasprintf ("error: %s", err->msg);
      husk_error_free (err);
    }
  json_decref (v);
  return out;
}

static void
test_pvc (void)
{
  _cleanup_free_ char *hp = xasprintf ("%s/pv-host", tmp), *lp = xasprintf ("%s/pv-local", tmp);
  husk_error *err = NULL;
  husk_mkdir_p (lp, 0755, &err);
  json_object_set_new (objects, "pvcs",
                       json_pack ("{s:{s:{s:s},s:{s:s}}, s:{s:{s:s},s:{s:s}}, s:{s:{},s:{s:s}}}",
                                  "claim-host", "spec", "volumeName", "pv-host", "status", "phase",
                                  "Bound", "claim-local", "spec", "volumeName", "pv-local",
                                  "status", "phase", "Bound", "claim-pending", "spec", "status",
                                  "phase", "Pending"));
  json_object_set_new (objects, "pvs",
                       json_pack ("{s:{s:{s:{s:s,s:s}}}, s:{s:{s:{s:s}}}}", "pv-host", "spec",
                                  "hostPath", "path", hp, "type", "DirectoryOrCreate", "pv-local",
                                  "spec", "local", "path", lp));
  char *p = pvc_path ("claim-host");
  is_str (p, hp, "PVC bound to a hostPath PV: its path (created)");
  free (p);
  struct stat st;
  ok (stat (hp, &st) == 0 && S_ISDIR (st.st_mode), "DirectoryOrCreate applied to the PV's path");
  p = pvc_path ("claim-local");
  is_str (p, lp, "PVC bound to a local PV");
  free (p);
  p = pvc_path ("claim-pending");
  ok (strstr (p, "persistentvolumeclaim \"claim-pending\" is not bound") != NULL,
      "unbound claim refused (%s)", p);
  free (p);
  p = pvc_path ("nope");
  ok (strstr (p, "persistentvolumeclaim \"nope\" not found") != NULL, "missing claim refused");
  free (p);
}

int
main (void)
{
  if (!mkdtemp (tmp))
    return 99;
  objects = J (
      "{\"configmaps\":{\"app\":{\"data\":{\"app.conf\":\"port=80\\n\",\"log.level\":\"debug\"},"
      "\"binaryData\":{\"blob\":\"AQID\"}}},"
      "\"secrets\":{\"db\":{\"data\":{\"password\":\"czNjcjN0\",\"user\":\"YWRtaW4=\"}}}}");
  pod = J ("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"prod\",\"uid\":\"u1\",\"labels\":{"
           "\"zone\":\"a\",\"app\":\"web\"}},"
           "\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"memory\":"
           "\"64Mi\"}}}]}}");
  ctx.pod = pod;
  test_payloads ();
  test_atomic ();
  test_host_path ();
  test_pvc ();
  husk_error *err = NULL;
  husk_rm_rf (tmp, &err);
  json_decref (objects);
  json_decref (pod);
  return tap_done ();
}
