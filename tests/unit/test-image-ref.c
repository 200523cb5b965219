#include "config.h"

#include "src/node/image/image.h"
#include "tests/unit/tap.h"

static void
check (const char *in, const char *full, const char *domain, const char *path, const char *tag,
       const char *digest)
{
  image_ref *r = NULL;
  husk_error *err = NULL;
  int ret = image_ref_parse (in, &r, &err);
  if (!ok (ret == 0, "parse %s", in))
    {
      printf ("#   %s\n", err ? err->msg : "?");
      husk_error_free (err);
      return;
    }
  is_str (r->full, full, "full");
  is_str (r->domain, domain, "domain");
  is_str (r->path, path, "path");
  is_str (r->tag, tag, "tag");
  is_str (r->digest, digest, "digest");
  image_ref_free (r);
}

static void
bad (const char *in, const char *want_substr)
{
  image_ref *r = NULL;
  husk_error *err = NULL;
  int ret = image_ref_parse (in, &r, &err);
  ok (ret < 0 && r == NULL, "refuse '%s'", in);
  ok (err && strstr (err->msg, want_substr), "error for '%s' says '%s' (%s)", in, want_substr,
      err ? err->msg : "none");
  husk_error_free (err);
}

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

int
main (void)
{
  check ("busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest",
         NULL);
  check ("library/busybox:1.36", "docker.io/library/busybox:1.36", "docker.io", "library/busybox",
         "1.36", NULL);
  check ("docker.io/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox",
         "latest", NULL);
  check ("index.docker.io/user/app:v1", "docker.io/user/app:v1", "docker.io", "user/app", "v1",
         NULL);
  check ("127.0.0.1:5000/ns/name:tag", "127.0.0.1:5000/ns/name:tag", "127.0.0.1:5000", "ns/name",
         "tag", NULL);
  check ("localhost/app", "localhost/app:latest", "localhost", "app", "latest", NULL);
  check ("localhost:5000/a/b/c", "localhost:5000/a/b/c:latest", "localhost:5000", "a/b/c", "latest",
         NULL);
  check ("quay.io/coreos/etcd:v3.5.0", "quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd",
         "v3.5.0", NULL);
  check ("busybox@" D, "docker.io/library/busybox@" D, "docker.io", "library/busybox", NULL, D);
  check ("busybox:1.36@" D, "docker.io/library/busybox:1.36@" D, "docker.io", "library/busybox",
         "1.36", D);
  check ("reg.example:443/a-b/c__d.e:T_1-2.3", "reg.example:443/a-b/c__d.e:T_1-2.3",
         "reg.example:443", "a-b/c__d.e", "T_1-2.3", NULL);
  check ("[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000", "x", "latest", NULL);

  bad ("", "empty");
  bad ("BusyBox", "lowercase");
  bad ("busybox:", "bad tag");
  bad ("busybox:a/b", "bad registry host");
  bad ("busybox@sha256:abc", "bad digest");
  bad ("busybox@md5:0123", "bad digest");
  bad ("a//b", "bad path component");
  bad ("a/", "trailing");
  bad ("-x", "bad path component");
  bad ("host:99x/y", "bad registry host");
  bad (":tag", "missing repository name");

  image_ref *r = NULL;
  ok (image_ref_parse ("busybox", &r, NULL) == 0, "parse busybox");
  is_str (image_ref_registry_host (r), "registry-1.docker.io", "docker hub host");
  char *repo = image_ref_repo (r);
  is_str (repo, "docker.io/library/busybox", "repo");
  free (repo);
  image_ref_free (r);

  ok (image_digest_valid (D), "valid digest");
  ok (!image_digest_valid (
          "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"),
      "uppercase hex refused");
  char d[IMAGE_DIGEST_LEN + 1];
  image_digest_of ("", 0, d);
  is_str (d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
          "sha256 of empty");
  return tap_done ();
}
