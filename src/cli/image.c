/* husk image: pull | ls | inspect | rm | import | export | prune | gc | mount | unmount */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "lib/path.h"
#include "src/cli/commands.h"
#include "src/node/image/image.h"

#define DEFAULT_DATA_DIR "/var/lib/husk"

typedef struct image_cli
{
  const char *data_dir;
  const char *output;
  const char *name;
  const char *snapshot;
  char *platform_str;
  image_pull_opts pull;
  char **insecure;
  size_t n_insecure;
  bool remove;
  image_gc_policy gc;
  char **keep;
  size_t n_keep;
} image_cli;

static void
usage (FILE *f)
{
  fprintf (
      f,
      "usage: husk image <command> [options]\n\n"
      "commands:\n"
      "  pull REF            download REF from its registry and unpack its layers\n"
      "  ls                  list images (-o json)\n"
      "  inspect REF         show an image's record, manifest and config as JSON\n"
      "  rm REF...           remove images, then free what nothing references\n"
      "  import FILE|DIR     import an OCI layout (dir or tar) or a `docker save` tar\n"
      "  export REF FILE     write REF as a tar that is an OCI layout and `docker load`able\n"
      "  prune               remove blobs and layers no image or snapshot references\n"
      "  gc                  when the disk is --high-threshold %% full, remove least recently\n"
      "                      used images (not --keep REF, not used in --min-age SECS) until\n"
      "                      it is --low-threshold %% full (defaults 85, 80, 120, as kubelet)\n"
      "  mount REF DIR       mount REF's root filesystem read-only at DIR (overlayfs);\n"
      "                      --snapshot ID: writable, changes kept in snapshot ID\n"
      "  unmount DIR         undo mount (--remove: also delete its snapshot's changes)\n\n"
      "options:\n"
      "  --data-dir DIR      node data directory (default $HUSK_DATA_DIR or " DEFAULT_DATA_DIR ")\n"
      "  --platform OS/ARCH[/VARIANT]   platform to pull or import (default: this host)\n"
      "  --authfile FILE     docker config.json with registry credentials\n"
      "  --username USER --password PASS   registry credentials\n"
      "  --ca-file FILE      CA bundle for registry TLS\n"
      "  --insecure-registry HOST[:PORT]   allow plain HTTP (always allowed for 127.0.0.0/8)\n"
      "  --parallel N        concurrent layer downloads (default 4)\n"
      "  --progress / --no-progress   force or suppress the progress bar\n"
      "  --name REF          name for an imported image whose archive names only a tag\n"
      "  -q, --quiet         print only results\n"
      "  -o json             machine-readable output (ls, pull)\n");
}

static int
fail (husk_error *err)
{
  fprintf (stderr, "husk image: %s\n", err ? err->msg : "failed");
  husk_error_free (err);
  return 1;
}

static int
cmd_pull (image_store *st, image_cli *c, char **args, int n)
{
  if (n != 1)
    {
      fprintf (stderr, "usage: husk image pull REF\n");
      return 2;
    }
  husk_error *err = NULL;
  image_record r = { 0 };
  if (image_pull (st, args[0], &c->pull, &r, &err) < 0)
    return fail (err);
  if (c->output && streq (c->output, "json"))
    printf ("{\"ref\":\"%s\",\"digest\":\"%s\",\"manifest\":\"%s\"}\n", r.ref, r.digest,
            r.manifest);
  else
    printf ("%s %s\n", r.ref, r.digest);
  image_record_clear (&r);
  return 0;
}

static int
cmd_ls (image_store *st, image_cli *c, char **args, int n)
{
  husk_error *err = NULL;
  image_record *recs = NULL;
  size_t nr = 0;
  if (image_store_list (st, &recs, &nr, &err) < 0)
    return fail (err);
  bool json = c->output && streq (c->output, "json");
  _cleanup_json_ json_t *arr = json_array ();
  if (!json && !c->pull.quiet)
    printf ("%-56s %-19s %9s  %s\n", "REFERENCE", "MANIFEST", "SIZE", "CREATED");
  for (size_t i = 0; i < nr; i++)
    {
      uint64_t size = 0;
      image_store_image_size (st, recs[i].manifest, &size, NULL);
      if (json)
        json_array_append_new (arr,
                               json_pack ("{s:s, s:s, s:s, s:s, s:I}", "ref", recs[i].ref, "digest",
                                          recs[i].digest, "manifest", recs[i].manifest, "created",
                                          recs[i].created, "size", (json_int_t)size));
      else if (c->pull.quiet)
        printf ("%s\n", recs[i].ref);
      else
        printf ("%-56s %.19s %7.1fMB  %s\n", recs[i].ref, recs[i].manifest, size / 1e6,
                recs[i].created);
      image_record_clear (&recs[i]);
    }
  free (recs);
  if (json)
    {
      _cleanup_free_ char *s = json_dumps (arr, JSON_INDENT (2));
      puts (s);
    }
  return 0;
}

static json_t *
load_blob_json (image_store *st, const char *digest)
{
  _cleanup_free_ char *data = NULL;
  size_t len = 0;
  json_t *j = NULL;
  if (image_store_read_blob (st, digest, IMAGE_MANIFEST_MAX, &data, &len, NULL) < 0
      || husk_json_parse (data, len, &j, NULL) < 0)
    return json_null ();
  return j;
}

static int
cmd_inspect (image_store *st, image_cli *c, char **args, int n)
{
  if (n < 1)
    {
      fprintf (stderr, "usage: husk image inspect REF...\n");
      return 2;
    }
  _cleanup_json_ json_t *out = json_array ();
  for (int i = 0; i < n; i++)
    {
      husk_error *err = NULL;
      image_record r = { 0 };
      if (image_store_get (st, args[i], &r, &err) < 0)
        return fail (err);
      json_t *man = load_blob_json (st, r.manifest);
      const char *cfg_digest = husk_json_path_str (man, "config.digest");
      json_t *layers = json_array ();
      size_t k;
      json_t *l;
      uint64_t total = 0;
      json_array_foreach (json_object_get (man, "layers"), k, l)
      {
        const char *d = json_string_value (json_object_get (l, "digest"));
        _cleanup_free_ char *dir
            = d && image_digest_valid (d) ? image_store_layer_path (st, d) : NULL;
        struct stat sb;
        json_t *o = json_deep_copy (l);
        json_object_set_new (o, "unpacked", json_boolean (dir && stat (dir, &sb) == 0));
        json_object_set_new (o, "path", dir ? json_string (dir) : json_null ());
        json_array_append_new (layers, o);
        total += json_integer_value (json_object_get (l, "size"));
      }
      json_array_append_new (
          out, json_pack ("{s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:o}", "ref", r.ref, "digest",
                          r.digest, "manifest", r.manifest, "created", r.created, "size",
                          (json_int_t)total, "layers", layers, "config",
                          cfg_digest ? load_blob_json (st, cfg_digest) : json_null (),
                          "manifestDocument", man));
      image_record_clear (&r);
    }
  _cleanup_free_ char *s = json_dumps (out, JSON_INDENT (2));
  puts (s);
  return 0;
}

static void
print_prune (const image_prune_stats *ps, bool quiet)
{
  if (!quiet)
    printf ("removed %zu blobs and %zu layers, %.1f MB freed\n", ps->blobs_removed,
            ps->layers_removed, ps->bytes_freed / 1e6);
}

static int
cmd_rm (image_store *st, image_cli *c, char **args, int n)
{
  if (n < 1)
    {
      fprintf (stderr, "usage: husk image rm REF...\n");
      return 2;
    }
  husk_error *err = NULL;
  for (int i = 0; i < n; i++)
    {
      if (image_store_remove_ref (st, args[i], &err) < 0)
        return fail (err);
      if (!c->pull.quiet)
        printf ("removed %s\n", args[i]);
    }
  image_prune_stats ps;
  if (image_store_prune (st, &ps, &err) < 0)
    return fail (err);
  print_prune (&ps, c->pull.quiet);
  return 0;
}

static int
cmd_prune (image_store *st, image_cli *c, char **args, int n)
{
  husk_error *err = NULL;
  image_prune_stats ps;
  if (image_store_prune (st, &ps, &err) < 0)
    return fail (err);
  print_prune (&ps, false);
  return 0;
}

static int
cmd_gc (image_store *st, image_cli *c, char **args, int n)
{
  if (n != 0)
    {
      fprintf (stderr, "usage: husk image gc [--high-threshold PCT] [--low-threshold PCT] "
                       "[--min-age SECS] [--keep REF]...\n");
      return 2;
    }
  husk_error *err = NULL;
  image_gc_stats gs;
  c->gc.in_use = (const char *const *)c->keep;
  int ret = image_gc_by_usage (st, &c->gc, &gs, &err);
  for (size_t i = 0; i < gs.images_removed; i++)
    printf ("removed %s\n", gs.removed[i]);
  if (!c->pull.quiet)
    printf ("disk %d%% full before, %d%% after; %zu images removed, %.1f MB freed\n",
            gs.usage_before_pct, gs.usage_after_pct, gs.images_removed, gs.bytes_freed / 1e6);
  image_gc_stats_clear (&gs);
  return ret < 0 ? fail (err) : 0;
}

static int
cmd_import (image_store *st, image_cli *c, char **args, int n)
{
  if (n != 1)
    {
      fprintf (stderr, "usage: husk image import [--name REF] FILE|DIR\n");
      return 2;
    }
  husk_error *err = NULL;
  char **refs = NULL;
  struct stat sb;
  _cleanup_free_ char *idx = xasprintf ("%s/index.json", args[0]);
  _cleanup_free_ char *man = xasprintf ("%s/manifest.json", args[0]);
  int ret;
  if (stat (args[0], &sb) == 0 && S_ISDIR (sb.st_mode) && access (idx, F_OK) < 0
      && access (man, F_OK) < 0)
    ret = image_import_dir (st, args[0], &c->pull.platform, &refs, &err);
  else
    ret = image_import (st, args[0], c->name, &c->pull.platform, &refs, &err);
  for (char **r = refs; r && *r; r++)
    printf ("imported %s\n", *r);
  strv_free (refs);
  if (ret < 0)
    return fail (err);
  return 0;
}

static int
cmd_export (image_store *st, image_cli *c, char **args, int n)
{
  if (n != 2)
    {
      fprintf (stderr, "usage: husk image export REF FILE\n");
      return 2;
    }
  husk_error *err = NULL;
  if (image_export (st, args[0], args[1], &err) < 0)
    return fail (err);
  return 0;
}

static int
cmd_mount (image_store *st, image_cli *c, char **args, int n)
{
  if (n != 2)
    {
      fprintf (stderr, "usage: husk image mount REF DIR\n");
      return 2;
    }
  husk_error *err = NULL;
  if (image_snapshot_mount (st, args[0], c->snapshot, args[1], &err) < 0)
    return fail (err);
  return 0;
}

static int
cmd_unmount (image_store *st, image_cli *c, char **args, int n)
{
  if (n != 1)
    {
      fprintf (stderr, "usage: husk image unmount DIR\n");
      return 2;
    }
  husk_error *err = NULL;
  if (image_snapshot_unmount (st, args[0], c->remove, &err) < 0)
    return fail (err);
  return 0;
}

static const struct
{
  const char *name;
  int (*run) (image_store *, image_cli *, char **, int);
} subcommands[] = {
  { "pull", cmd_pull },       { "ls", cmd_ls },           { "list", cmd_ls },
  { "inspect", cmd_inspect }, { "rm", cmd_rm },           { "import", cmd_import },
  { "export", cmd_export },   { "prune", cmd_prune },     { "gc", cmd_gc },
  { "mount", cmd_mount },     { "unmount", cmd_unmount }, { "umount", cmd_unmount },
};

enum
{
  OPT_DATA_DIR = 256,
  OPT_PLATFORM,
  OPT_AUTHFILE,
  OPT_USERNAME,
  OPT_PASSWORD,
  OPT_CA_FILE,
  OPT_INSECURE,
  OPT_PARALLEL,
  OPT_PROGRESS,
  OPT_NO_PROGRESS,
  OPT_NAME,
  OPT_REMOVE,
  OPT_SNAPSHOT,
  OPT_HIGH,
  OPT_LOW,
  OPT_MIN_AGE,
  OPT_KEEP,
};

/* a whole number in [lo, hi], or -1 */
static long
number (const char *s, long lo, long hi)
{
  char *end;
  errno = 0;
  long v = strtol (s, &end, 10);
  return errno || end == s || *end || v < lo || v > hi ? -1 : v;
}

static int
parse_opts (int argc, char **argv, image_cli *c)
{
  static const struct option opts[] = {
    { "data-dir", required_argument, NULL, OPT_DATA_DIR },
    { "platform", required_argument, NULL, OPT_PLATFORM },
    { "authfile", required_argument, NULL, OPT_AUTHFILE },
    { "username", required_argument, NULL, OPT_USERNAME },
    { "password", required_argument, NULL, OPT_PASSWORD },
    { "ca-file", required_argument, NULL, OPT_CA_FILE },
    { "insecure-registry", required_argument, NULL, OPT_INSECURE },
    { "parallel", required_argument, NULL, OPT_PARALLEL },
    { "progress", no_argument, NULL, OPT_PROGRESS },
    { "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
    { "name", required_argument, NULL, OPT_NAME },
    { "remove", no_argument, NULL, OPT_REMOVE },
    { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
    { "high-threshold", required_argument, NULL, OPT_HIGH },
    { "low-threshold", required_argument, NULL, OPT_LOW },
    { "min-age", required_argument, NULL, OPT_MIN_AGE },
    { "keep", required_argument, NULL, OPT_KEEP },
    { "quiet", no_argument, NULL, 'q' },
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int ch;
  while ((ch = getopt_long (argc, argv, "qo:h", opts, NULL)) != -1)
    switch (ch)
      {
      case OPT_DATA_DIR:
        c->data_dir = optarg;
        break;
      case OPT_PLATFORM:
        c->platform_str = optarg;
        break;
      case OPT_AUTHFILE:
        c->pull.auth_file = optarg;
        break;
      case OPT_USERNAME:
        c->pull.username = optarg;
        break;
      case OPT_PASSWORD:
        c->pull.password = optarg;
        break;
      case OPT_CA_FILE:
        c->pull.ca_file = optarg;
        break;
      case OPT_INSECURE:
        c->insecure = xreallocarray (c->insecure, c->n_insecure + 2, sizeof *c->insecure);
        c->insecure[c->n_insecure++] = optarg;
        c->insecure[c->n_insecure] = NULL;
        break;
      case OPT_PARALLEL:
        c->pull.parallel = atoi (optarg);
        break;
      case OPT_PROGRESS:
        c->pull.progress = 1;
        break;
      case OPT_NO_PROGRESS:
        c->pull.progress = 0;
        break;
      case OPT_NAME:
        c->name = optarg;
        break;
      case OPT_REMOVE:
        c->remove = true;
        break;
      case OPT_SNAPSHOT:
        c->snapshot = optarg;
        break;
      case OPT_HIGH:
      case OPT_LOW:
      case OPT_MIN_AGE:
        {
          long v = number (optarg, 0, ch == OPT_MIN_AGE ? 100L * 365 * 86400 : 100);
          if (v < 0)
            {
              fprintf (stderr, "husk image: --%s: '%s' is not a number in range\n",
                       ch == OPT_HIGH  ? "high-threshold"
                       : ch == OPT_LOW ? "low-threshold"
                                       : "min-age",
                       optarg);
              return -1;
            }
          if (ch == OPT_HIGH)
            c->gc.high_pct = (int)v;
          else if (ch == OPT_LOW)
            c->gc.low_pct = (int)v;
          else
            c->gc.min_age_s = v;
        }
        break;
      case OPT_KEEP:
        c->keep = xreallocarray (c->keep, c->n_keep + 2, sizeof *c->keep);
        c->keep[c->n_keep++] = optarg;
        c->keep[c->n_keep] = NULL;
        break;
      case 'q':
        c->pull.quiet = true;
        break;
      case 'o':
        c->output = optarg;
        break;
      case 'h':
        usage (stdout);
        exit (0);
      default:
        return -1;
      }
  return 0;
}

int
husk_cmd_image (int argc, char **argv)
{
  image_cli c = { .data_dir = getenv ("HUSK_DATA_DIR"),
                  .gc = { .high_pct = 85, .low_pct = 80, .min_age_s = 120 } };
  c.pull.progress = -1;
  if (!c.data_dir || !*c.data_dir)
    c.data_dir = DEFAULT_DATA_DIR;
  image_platform_host (&c.pull.platform);
  if (parse_opts (argc, argv, &c) < 0)
    {
      usage (stderr);
      return 2;
    }
  char **args = argv + optind;
  int n = argc - optind;
  if (n < 1)
    {
      usage (stderr);
      return 2;
    }
  husk_error *err = NULL;
  if (c.platform_str && image_platform_parse (c.platform_str, &c.pull.platform, &err) < 0)
    return fail (err);
  c.pull.insecure = c.insecure;
  if (c.output && !streq (c.output, "json"))
    {
      fprintf (stderr, "husk image: unknown output format '%s' (want json)\n", c.output);
      return 2;
    }
  for (size_t i = 0; i < ARRAY_SIZE (subcommands); i++)
    if (streq (args[0], subcommands[i].name))
      {
        _cleanup_ (image_store_freep) image_store *st = NULL;
        if (image_store_open (c.data_dir, &st, &err) < 0)
          return fail (err);
        int rc = subcommands[i].run (st, &c, args + 1, n - 1);
        free (c.insecure);
        free (c.keep);
        return rc;
      }
  fprintf (stderr, "husk image: unknown command '%s'\n", args[0]);
  usage (stderr);
  free (c.insecure);
  free (c.keep);
  return 2;
}
