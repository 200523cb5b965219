/* husk controllers: which PersistentVolume a claim binds to (upstream's
   findMatchingVolume, reduced: storage class, access modes, capacity, matchLabels
   selector, pre-binding through claimRef; the smallest fit wins). */
#include "config.h"

#include "lib/json.h"
#include "lib/quantity.h"
#include "src/master/ctrl/cluster-logic.h"

static const char *
cls_of (const json_t *o, const char *path)
{
  const char *s = husk_json_path_str (o, path);
  return s ? s : "";
}

bool
pvmatch_claimref_is (const json_t *pv, const json_t *claim)
{
  json_t *ref = husk_json_path (pv, "spec.claimRef");
  const char *ns = json_string_value (json_object_get (ref, "namespace"));
  const char *name = json_string_value (json_object_get (ref, "name"));
  const char *uid = json_string_value (json_object_get (ref, "uid"));
  const char *cuid = husk_json_path_str (claim, "metadata.uid");
  if (!ns || !name || !streq (ns, cls_of (claim, "metadata.namespace"))
      || !streq (name, cls_of (claim, "metadata.name")))
    return false;
  return !uid || !*uid || !cuid || streq (uid, cuid);
}

static bool
modes_offered (const json_t *pv, const json_t *claim)
{
  json_t *want = husk_json_path (claim, "spec.accessModes"),
         *have = husk_json_path (pv, "spec.accessModes");
  size_t i, j;
  json_t *w, *h;
  json_array_foreach (want, i, w)
  {
    bool found = false;
    json_array_foreach (have, j, h) if (json_equal (w, h)) found = true;
    if (!found)
      return false;
  }
  return true;
}

static bool
labels_match (const json_t *pv, const json_t *claim)
{
  json_t *ml = husk_json_path (claim, "spec.selector.matchLabels");
  json_t *labels = husk_json_path (pv, "metadata.labels");
  const char *k;
  json_t *v;
  json_object_foreach (ml, k, v) if (!json_equal (json_object_get (labels, k), v)) return false;
  return true;
}

int
pvmatch_find (const json_t *claim, const json_t *pvs)
{
  int64_t want = 0, best_cap = -1;
  int best = -1;
  json_t *rq = husk_json_path (claim, "spec.resources.requests.storage");
  if (rq && husk_quantity_json (rq, 1, NULL, &want, NULL) < 0)
    return -1;
  size_t i;
  json_t *pv;
  json_array_foreach ((json_t *)pvs, i, pv)
  {
    const char *phase = cls_of (pv, "status.phase");
    if (husk_json_path_str (pv, "metadata.deletionTimestamp"))
      continue;
    int64_t cap = 0;
    json_t *c = husk_json_path (pv, "spec.capacity.storage");
    if (!c || husk_quantity_json (c, 1, NULL, &cap, NULL) < 0 || cap < want)
      continue;
    if (!streq (cls_of (pv, "spec.storageClassName"), cls_of (claim, "spec.storageClassName"))
        || !modes_offered (pv, claim))
      continue;
    if (husk_json_path (pv, "spec.claimRef"))
      {
        if (pvmatch_claimref_is (pv, claim))
          return (int)i;
        continue;
      }
    if (*phase && !streq (phase, "Available"))
      continue;
    if (!labels_match (pv, claim))
      continue;
    if (best < 0 || cap < best_cap)
      best = (int)i, best_cap = cap;
  }
  return best;
}
