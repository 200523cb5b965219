/* husk-node: the image operations that need libarchive, run by the whole husk next to
   husk-node (`husk node --image-helper`, src/cli/node-image-helper.c). Linked into husk-node
   only: these definitions stand in for src/node/image/unpack.c and archive.c, so that
   libarchive and its dependencies (libxml2, ICU, libstdc++, about 2 MB resident) are not
   mapped by the idle agent. A layer is unpacked when an image is pulled or first used, an
   archive imported at start (<data-dir>/images.d): one exec each. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>

#include "lib/buf.h"
#include "src/node/image/image.h"

/* husk next to this program. */
static char *
husk_program (husk_error **err)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return husk_err_errno (err, "readlink /proc/self/exe"), NULL;
  self[n] = '\0';
  char *slash = strrchr (self, '/');
  if (slash)
    *slash = '\0';
  char *p = xasprintf ("%s/husk", slash ? self : ".");
  if (access (p, X_OK) == 0)
    return p;
  husk_err (err, ENOENT, "%s not found: husk-node runs image unpacking through it", p);
  free (p);
  return NULL;
}

static void
read_all (int fd, husk_buf *b)
{
  char chunk[4096];
  ssize_t n;
  while ((n = read (fd, chunk, sizeof chunk)) != 0)
    if (n > 0)
      husk_buf_append (b, chunk, n);
    else if (errno != EINTR)
      break;
}

static void
chomp (husk_buf *b)
{
  while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
    b->data[--b->len] = '\0';
}

/* Runs `husk node --image-helper ARGS...`: its stdout into *out; its stderr line is the
   error, its exit code the errno. */
static int
run_helper (const char *const *args, husk_buf *out, husk_error **err)
{
  _cleanup_free_ char *husk = husk_program (err);
  if (husk == NULL)
    return -ENOENT - 1;
  const char *argv[16] = {"husk", "node", "--image-helper"};
  size_t n = 3;
  for (; args[n - 3] && n < ARRAY_SIZE (argv) - 1; n++)
    argv[n] = args[n - 3];
  argv[n] = NULL;
  int po[2], pe[2];
  if (pipe2 (po, O_CLOEXEC) < 0)
    return husk_err_errno (err, "pipe");
  if (pipe2 (pe, O_CLOEXEC) < 0)
    {
      close (po[0]), close (po[1]);
      return husk_err_errno (err, "pipe");
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      sigset_t none; /* forked from a thread that may block every signal */
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      dup2 (po[1], STDOUT_FILENO);
      dup2 (pe[1], STDERR_FILENO);
      execv (husk, (char **) argv);
      dprintf (pe[1], "exec %s: %s\n", husk, strerror (errno));
      _exit (127);
    }
  close (po[1]), close (pe[1]);
  if (pid > 0)
    read_all (po[0], out);
  _cleanup_buf_ husk_buf msg = HUSK_BUF_INIT;
  if (pid > 0)
    read_all (pe[0], &msg);
  close (po[0]), close (pe[0]);
  if (pid < 0)
    return husk_err_errno (err, "fork");
  int st = 0;
  while (waitpid (pid, &st, 0) < 0)
    if (errno != EINTR)
      return husk_err_errno (err, "waitpid %s --image-helper", husk);
  chomp (out);
  chomp (&msg);
  if (WIFEXITED (st) && WEXITSTATUS (st) == 0)
    return 0;
  int code = WIFEXITED (st) ? WEXITSTATUS (st) : EIO;
  return husk_err (err, code, "%s", msg.len ? msg.data : "husk --image-helper failed");
}

static int
diff_id_from (husk_buf *out, char diff_id[IMAGE_DIGEST_LEN + 1], husk_error **err)
{
  if (out->len != IMAGE_DIGEST_LEN)
    return husk_err (err, EIO, "husk --image-helper: bad diff_id \"%s\"", husk_buf_str (out));
  if (diff_id)
    memcpy (diff_id, out->data, IMAGE_DIGEST_LEN + 1);
  return 0;
}

int
image_layer_diff_id_file (const char *path, char diff_id[IMAGE_DIGEST_LEN + 1], husk_error **err)
{
  _cleanup_buf_ husk_buf out = HUSK_BUF_INIT;
  int r = run_helper ((const char *[]) {"diff-id", path, NULL}, &out, err);
  return r < 0 ? r : diff_id_from (&out, diff_id, err);
}

int
image_unpack_layer_file (const char *path, const char *dir, char diff_id[IMAGE_DIGEST_LEN + 1],
                         husk_error **err)
{
  _cleanup_buf_ husk_buf out = HUSK_BUF_INIT;
  int r = run_helper ((const char *[]) {"unpack-layer", path, dir, NULL}, &out, err);
  return r < 0 ? r : diff_id_from (&out, diff_id, err);
}

int
image_import (image_store *s, const char *path, const char *name, const image_platform *platform,
              char ***refs_out, husk_error **err)
{
  /* The store's root is <data-dir>/images. */
  _cleanup_free_ char *data_dir = xstrdup (image_store_root (s));
  char *slash = strrchr (data_dir, '/');
  if (slash)
    *slash = '\0';
  const image_platform none = {0}, *p = platform ? platform : &none;
  _cleanup_buf_ husk_buf out = HUSK_BUF_INIT;
  int r = run_helper ((const char *[]) {"import", data_dir, path, name ?: "-", p->os ?: "-",
                                        p->architecture ?: "-", p->variant ?: "-", NULL},
                      &out, err);
  if (r < 0)
    return r;
  char **refs = xcalloc (1, sizeof *refs);
  size_t n = 0;
  char *save = NULL;
  for (char *line = strtok_r (out.len ? out.data : (char[]) {""}, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      refs = xreallocarray (refs, n + 2, sizeof *refs);
      refs[n++] = xstrdup (line);
      refs[n] = NULL;
    }
  if (refs_out)
    *refs_out = refs;
  else
    strv_free (refs);
  return 0;
}
