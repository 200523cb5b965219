/* The flag values of static pods, image GC and eviction (src/node/pod/extras-parse.c). */
#include "src/node/pod/extras.h"
#include "tests/unit/tap.h"

static void
percent (const char *text, int want)
{
  int v = -1;
  husk_error *err = NULL;
  int r = extras_parse_percent ("--image-gc-high-threshold", text, &v, &err);
  if (want < 0)
    {
      ok (r < 0 && err && strstr (err->msg, "--image-gc-high-threshold")
                  && strstr (err->msg, text),
              "percent \"%s\" refused naming the flag and the value", text);
    }
  else
    ok (r == 0 && v == want, "percent \"%s\" = %d (got %d)", text, want, v);
  husk_error_free (err);
}

static void
duration (const char *text, int64_t want)
{
  int64_t v = -1;
  husk_error *err = NULL;
  int r = extras_parse_duration ("--image-minimum-gc-age", text, &v, &err);
  if (want < 0)
    ok (r < 0 && err && strstr (err->msg, "--image-minimum-gc-age"),
            "duration \"%s\" refused naming the flag", text);
  else
    ok (r == 0 && v == want, "duration \"%s\" = %llds (got %lld)", text, (long long) want,
            (long long) v);
  husk_error_free (err);
}

static void
clear (evict_threshold *th, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (th[i].text);
}

static void
evict_bad (const char *text, const char *want)
{
  evict_threshold th[8] = {0};
  size_t n = 0;
  husk_error *err = NULL;
  int r = evict_parse (text, th, 8, &n, &err);
  ok (r < 0 && err && strstr (err->msg, "--eviction-hard") && strstr (err->msg, want),
          "--eviction-hard %s refused: %s", text, err ? err->msg : "(accepted)");
  clear (th, n);
  husk_error_free (err);
}

static void
pids (const char *text, int64_t want)
{
  int64_t v = 0;
  husk_error *err = NULL;
  int r = extras_parse_pids ("--pod-max-pids", text, &v, &err);
  if (want == 0)
    ok (r < 0 && err && strstr (err->msg, "--pod-max-pids") && strstr (err->msg, text),
        "--pod-max-pids \"%s\" refused naming the flag and the value", text);
  else
    ok (r == 0 && v == want, "--pod-max-pids \"%s\" = %lld (got %lld)", text, (long long) want,
        (long long) v);
  husk_error_free (err);
}

int
main (void)
{
  pids ("1024", 1024);
  pids ("-1", -1);
  pids ("0", -1);
  pids ("", 0);
  pids ("12x", 0);
  pids ("ten", 0);
  percent ("85", 85);
  percent ("80%", 80);
  percent ("0", 0);
  percent ("100", 100);
  percent ("101", -1);
  percent ("-1", -1);
  percent ("high", -1);
  percent ("85.5", -1);

  duration ("2m", 120);
  duration ("90s", 90);
  duration ("1h30m", 5400);
  duration ("0s", 0);
  duration ("5", -1);
  duration ("2ms", -1);
  duration ("", -1);
  duration ("m", -1);

  evict_threshold th[8] = {0};
  size_t n = 0;
  husk_error *err = NULL;
  int r = evict_parse ("memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,"
                       "imagefs.available<15%",
                       th, 8, &n, &err);
  ok (r == 0 && n == 4, "kubelet's thresholds parse (%zu)", n);
  ok (th[0].signal == EVICT_MEMORY_AVAILABLE && !th[0].pct && th[0].value == 100 << 20
              && streq (th[0].text, "100Mi"),
          "memory.available<100Mi is 104857600 bytes");
  ok (th[1].signal == EVICT_NODEFS_AVAILABLE && th[1].pct && th[1].value == 1000,
          "nodefs.available<10%% is 10.00 %%");
  ok (th[2].signal == EVICT_NODEFS_INODES_FREE && th[2].pct && th[2].value == 500,
          "nodefs.inodesFree<5%%");
  ok (th[3].signal == EVICT_NODEFS_AVAILABLE && th[3].value == 1500,
          "imagefs.available is taken as nodefs.available");
  clear (th, n);
  husk_error_free (err);
  err = NULL;
  r = evict_parse ("memory.available<1.5Gi", th, 8, &n, &err);
  ok (r == 0 && n == 1 && th[0].value == 1610612736, "decimal quantities");
  clear (th, n);

  evict_bad ("memory.free<1Gi", "unknown signal \"memory.free\"");
  evict_bad ("memory.available>1Gi", "memory.available>1Gi");
  evict_bad ("memory.available<lots", "memory.available");
  evict_bad ("nodefs.available<120%", "not a percentage");
  evict_bad ("nodefs.available<x%", "not a percentage");
  evict_bad ("a<1,b<2,c<3,d<4,e<5,f<6,g<7,h<8,i<9", "unknown signal");
  return tap_done ();
}
