#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include "lib/path.h"
#include "tests/unit/tap.h"

static char *
join (const char *root, const char *rel)
{
  _cleanup_error_ husk_error *err = NULL;
  char *out = NULL;
  if (husk_path_join (root, rel, &out, &err) < 0)
    return xasprintf ("ERROR %s", err->msg);
  return out;
}

static char *
resolve (const char *root, const char *rel)
{
  _cleanup_error_ husk_error *err = NULL;
  char *out = NULL;
  if (husk_path_resolve_in_root (root, rel, &out, &err) < 0)
    return xasprintf ("ERROR %s", err->msg);
  return out;
}

#define IS(expr, want, name)                                                                       \
  do                                                                                               \
    {                                                                                              \
      _cleanup_free_ char *v_ = (expr);                                                            \
      is_str (v_, want, name);                                                                     \
    }                                                                                              \
  while (0)

int
main (void)
{
  IS (husk_path_normalize ("/a//b/./c/../d/"), "/a/b/d", "normalize");
  IS (husk_path_normalize ("a/.."), ".", "normalize relative to dot");
  IS (join ("/root", "etc/passwd"), "/root/etc/passwd", "join relative");
  IS (join ("/root/", "/etc/../etc/hosts"), "/root/etc/hosts", "absolute rel taken under root");
  IS (join ("/root", "a/../../etc"), "ERROR path 'a/../../etc' escapes its root '/root'",
      "join refuses .. escape");
  IS (join ("/", "x"), "/x", "root slash");

  char tmpl[] = "/tmp/husk-test-path-XXXXXX";
  char *dir = mkdtemp (tmpl);
  ok (dir != NULL, "temp dir");
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *sub = xasprintf ("%s/a/b/c", dir);
  ok (husk_mkdir_p (sub, 0755, &err) == 0, "mkdir -p");
  struct stat st;
  ok (stat (sub, &st) == 0 && S_ISDIR (st.st_mode), "mkdir -p made the tree");

  _cleanup_free_ char *l1 = xasprintf ("%s/a/up", dir);
  _cleanup_free_ char *l2 = xasprintf ("%s/a/abs", dir);
  _cleanup_free_ char *l3 = xasprintf ("%s/a/loop", dir);
  ok (symlink ("../../../../../etc", l1) == 0 && symlink ("/etc", l2) == 0
          && symlink ("loop", l3) == 0,
      "symlinks made");
  _cleanup_free_ char *want_etc = xasprintf ("%s/etc/passwd", dir);
  IS (resolve (dir, "a/up/passwd"), want_etc, "relative symlink cannot climb out of root");
  IS (resolve (dir, "a/abs/passwd"), want_etc, "absolute symlink resolved inside root");
  _cleanup_free_ char *want_b = xasprintf ("%s/a/b/new", dir);
  IS (resolve (dir, "a/./b/new"), want_b, "missing components appended");
  _cleanup_free_ char *r = resolve (dir, "a/loop/x");
  ok (strncmp (r, "ERROR", 5) == 0 && strstr (r, "Too many levels of symbolic links"),
      "symlink loop refused: %s", r);

  _cleanup_free_ char *f = xasprintf ("%s/a/file", dir);
  ok (husk_write_file_atomic (f, "hello", 5, 0600, &err) == 0, "atomic write");
  _cleanup_free_ char *data = NULL;
  size_t len = 0;
  ok (husk_read_file (f, &data, &len, &err) == 0 && len == 5 && streq (data, "hello"),
      "read back");
  ok (stat (f, &st) == 0 && (st.st_mode & 0777) == 0600, "mode applied");
  _cleanup_free_ char *again = NULL;
  ok (husk_write_file_replace (f, "bye", 3, 0644, &err) == 0
          && husk_read_file (f, &again, &len, &err) == 0 && len == 3 && streq (again, "bye")
          && stat (f, &st) == 0 && (st.st_mode & 0777) == 0644,
      "replace (no fsync) writes over the file with its own mode");

  _cleanup_free_ char *empty_path = xasprintf ("%s/a/empty", dir);
  _cleanup_free_ char *empty = NULL;
  ok (husk_write_file_atomic (empty_path, "", 0, 0600, &err) == 0
          && husk_read_file (empty_path, &empty, &len, &err) == 0 && len == 0 && empty[0] == '\0',
      "an empty file reads as an empty string");

  _cleanup_free_ char *nodata = NULL;
  _cleanup_free_ char *missing = xasprintf ("%s/none", dir);
  ok (husk_read_file (missing, &nodata, NULL, &err) < 0 && err->errnum == ENOENT,
      "missing file is ENOENT");
  ok (strstr (err->msg, "none: No such file") != NULL, "error names the file");
  husk_error_free (TAKE_PTR (err));

  ok (husk_rm_rf (dir, &err) == 0, "rm -rf");
  ok (stat (dir, &st) < 0 && errno == ENOENT, "tree removed");
  ok (stat ("/etc/passwd", &st) == 0, "rm -rf did not follow symlinks out");
  ok (husk_rm_rf (dir, &err) == 0, "rm -rf of missing path is fine");
  return tap_done ();
}
