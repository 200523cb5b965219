/* pod-template-hash: FNV-32a of the pod template plus the collision count, rendered with
   upstream's rand.SafeEncodeString alphabet (no vowels, no confusable digits).
   Upstream hashes a spew dump of the Go struct, which JSON cannot reproduce; husk hashes
   the template's canonical JSON instead (sorted keys, compact), so values differ from a Go
   controller's but are stable across restarts and masters (docs/scheduler.md). */
#include "config.h"

#include "lib/json.h"
#include "src/master/ctrl/logic.h"

static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

char *
ctrl_safe_encode (const char *s)
{
  size_t n = strlen (s);
  char *out = xmalloc (n + 1);
  for (size_t i = 0; i < n; i++)
    out[i] = alphabet[(unsigned char)s[i] % (sizeof alphabet - 1)];
  out[n] = '\0';
  return out;
}

static uint32_t
fnv32a (uint32_t h, const void *data, size_t n)
{
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

char *
ctrl_pod_template_hash (const json_t *template, int64_t collision_count)
{
  _cleanup_free_ char *canon
      = json_dumps (template, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
  uint32_t h = fnv32a (2166136261u, canon ? canon : "", canon ? strlen (canon) : 0);
  if (collision_count >= 0)
    {
      uint32_t c = (uint32_t)collision_count;
      unsigned char b[8]
          = { c & 0xff, (c >> 8) & 0xff, (c >> 16) & 0xff, (c >> 24) & 0xff, 0, 0, 0, 0 };
      h = fnv32a (h, b, sizeof b);
    }
  char num[16];
  snprintf (num, sizeof num, "%u", h);
  return ctrl_safe_encode (num);
}
