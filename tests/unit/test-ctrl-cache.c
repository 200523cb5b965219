/* The controllers' shared informer cache (src/master/ctrl/cache.c): a list fills it, watch
   events apply in order (replays older than the held object are ignored), a relist (what
   kclient_watch does after 410 Gone) replaces everything, items come sorted as a LIST and
   filtered by namespace, handed-out objects stay valid and unchanged across updates, pods
   are projections, and a reader waits for a resourceVersion it wrote. */
#include "config.h"

#include <pthread.h>
#include <unistd.h>

#include "lib/json.h"
#include "src/master/ctrl/cache.h"
#include "tests/unit/tap.h"

static json_t *
obj (const char *ns, const char *name, const char *rv, const char *extra)
{
  json_t *o = json_pack ("{s:{s:s, s:s}}", "metadata", "name", name, "resourceVersion", rv);
  if (ns)
    json_object_set_new (json_object_get (o, "metadata"), "namespace", json_string (ns));
  if (extra)
    {
      json_t *x = json_loads (extra, 0, NULL);
      if (!x)
        {
          printf ("Bail out! bad JSON %s\n", extra);
          exit (2);
        }
      json_object_update_recursive (o, x);
      json_decref (x);
    }
  return o;
}

/* "ns/name ns/name ..." of items. */
static char *
names (json_t *items)
{
  static char buf[512];
  buf[0] = '\0';
  json_t *o;
  size_t i;
  json_array_foreach (items, i, o)
  {
    const char *ns = husk_json_path_str (o, "metadata.namespace");
    snprintf (buf + strlen (buf), sizeof buf - strlen (buf), "%s%s/%s", i ? " " : "",
              ns ? ns : "", husk_json_path_str (o, "metadata.name"));
  }
  return buf;
}

static void
apply_new (ctrl_cache *c, const char *type, json_t *o)
{
  ctrl_cache_apply (c, type, o);
  json_decref (o);
}

static void
test_events (void)
{
  ctrl_cache *c = ctrl_cache_new (NULL);
  ok (!ctrl_cache_wait (c, 0, 50), "not synced before the first list");
  json_t *items = json_pack ("[o, o, o]", obj ("b", "x", "5", NULL), obj ("a-b", "y", "3", NULL),
                             obj ("a", "z", "4", NULL));
  ctrl_cache_replace (c, items, "7");
  json_decref (items);
  ok (ctrl_cache_wait (c, 0, 50), "synced after the list");
  is_int (ctrl_cache_rv (c), 7, "the list's resourceVersion");
  json_t *got = ctrl_cache_items (c, NULL);
  is_str (names (got), "a-b/y a/z b/x", "sorted by namespace then name, as the store's keys");
  json_decref (got);

  apply_new (c, "ADDED", obj ("a", "w", "8", "{\"spec\":{\"v\":1}}"));
  apply_new (c, "MODIFIED", obj ("a", "w", "9", "{\"spec\":{\"v\":2}}"));
  apply_new (c, "DELETED", obj ("b", "x", "10", NULL));
  got = ctrl_cache_items (c, "a");
  is_str (names (got), "a/w a/z", "namespace filter; an added object, a deleted one gone");
  is_int (husk_json_path_int (json_array_get (got, 0), "spec.v", 0), 2,
          "MODIFIED after ADDED: the newer object");
  is_int (ctrl_cache_rv (c), 10, "resourceVersion follows the events");

  /* A replayed (older) event changes nothing. */
  json_decref (got);
  ok (!ctrl_cache_apply (c, "MODIFIED", got = obj ("a", "w", "8", "{\"spec\":{\"v\":1}}")),
      "an event older than the held object is ignored");
  json_decref (got);
  got = ctrl_cache_items (c, "a");
  is_int (husk_json_path_int (json_array_get (got, 0), "spec.v", 0), 2, "still the newer one");

  /* Shared objects survive updates unchanged. */
  json_t *held = json_incref (json_array_get (got, 0));
  json_decref (got);
  apply_new (c, "MODIFIED", obj ("a", "w", "11", "{\"spec\":{\"v\":3}}"));
  is_int (husk_json_path_int (held, "spec.v", 0), 2, "a held object is not changed by an update");
  got = ctrl_cache_items (c, "a");
  is_int (husk_json_path_int (json_array_get (got, 0), "spec.v", 0), 3, "the cache has the update");
  json_decref (got);
  apply_new (c, "DELETED", obj ("a", "w", "12", NULL));
  is_str (husk_json_path_str (held, "metadata.name"), "w", "a held object outlives its deletion");
  json_decref (held);

  /* Relist after 410 Gone: objects deleted during the gap go, changed ones are replaced. */
  items = json_pack ("[o, o]", obj ("a", "z", "20", "{\"spec\":{\"v\":9}}"),
                     obj ("c", "n", "21", NULL));
  ctrl_cache_replace (c, items, "22");
  json_decref (items);
  got = ctrl_cache_items (c, NULL);
  is_str (names (got), "a/z c/n", "a relist replaces the contents");
  is_int (husk_json_path_int (json_array_get (got, 0), "spec.v", 0), 9, "with the listed objects");
  json_decref (got);
  is_int (ctrl_cache_lists (c), 2, "two lists taken");
  is_int (ctrl_cache_size (c), 2, "two objects");
  apply_new (c, "ADDED", obj ("c", "m", "23", NULL));
  got = ctrl_cache_items (c, "c");
  is_str (names (got), "c/m c/n", "events after the relist apply");
  json_decref (got);
  ok (!ctrl_cache_apply (c, "BOOKMARK", got = obj ("c", "q", "24", NULL)), "other types ignored");
  json_decref (got);
  apply_new (c, "ADDED", obj (NULL, "node-1", "25", NULL));
  got = ctrl_cache_items (c, NULL);
  is_str (names (got), "/node-1 a/z c/m c/n", "cluster-scoped objects first");
  json_decref (got);
  ctrl_cache_free (c);
}

static void
test_projection (void)
{
  const char *pod_json
      = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"resourceVersion\":\"3\","
        "\"labels\":{\"app\":\"web\"},\"ownerReferences\":[{\"uid\":\"u1\",\"controller\":true}],"
        "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\",\"other\":\"1\","
        "\"controller.kubernetes.io/pod-deletion-cost\":\"5\",\"kubernetes.io/x\":\"y\","
        "\"notkubernetes.io/x\":\"z\"},"
        "\"managedFields\":[{\"manager\":\"kubectl\",\"fieldsV1\":{\"f:spec\":{}}}]},"
        "\"spec\":{\"nodeName\":\"n1\",\"tolerations\":[{\"operator\":\"Exists\"}],"
        "\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}],\"dnsPolicy\":\"ClusterFirst\","
        "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sleep\"],"
        "\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"readinessProbe\":{\"exec\":{}},"
        "\"resources\":{\"requests\":{\"cpu\":\"1\"}},\"ports\":[{\"name\":\"http\",\"containerPort\":80}]}],"
        "\"initContainers\":[{\"name\":\"i\",\"image\":\"x\",\"restartPolicy\":\"Always\"}]},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.0.5\","
        "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
        "\"containerStatuses\":[{\"name\":\"c\",\"state\":{\"terminated\":{\"exitCode\":3}}}]}}";
  json_t *pod = json_loads (pod_json, 0, NULL);
  json_t *before = json_deep_copy (pod);
  json_t *p = ctrl_cache_project_pod (pod);
  ok (json_equal (pod, before), "projection leaves its input alone");
  ok (husk_json_path (p, "metadata.managedFields") == NULL, "pod: no managedFields");
  ok (json_object_get (husk_json_path (p, "metadata.annotations"),
                       "kubectl.kubernetes.io/last-applied-configuration")
          == NULL,
      "pod: no last-applied annotation");
  json_t *ann = husk_json_path (p, "metadata.annotations");
  ok (json_object_size (ann) == 2 && json_object_get (ann, "controller.kubernetes.io/pod-deletion-cost")
          && json_object_get (ann, "kubernetes.io/x"),
      "pod: only Kubernetes' own annotations kept (deletion cost, ...)");
  is_str (husk_json_path_str (p, "metadata.labels.app"), "web", "pod: labels kept");
  ok (json_array_size (husk_json_path (p, "metadata.ownerReferences")) == 1, "pod: owners kept");
  json_t *ctr = json_array_get (husk_json_path (p, "spec.containers"), 0);
  ok (ctr && !json_object_get (ctr, "env") && !json_object_get (ctr, "command")
          && !json_object_get (ctr, "image") && !json_object_get (ctr, "readinessProbe"),
      "pod: container env, command, image and probes dropped");
  is_str (json_string_value (json_object_get (ctr, "name")), "c", "pod: container name kept");
  is_str (husk_json_path_str (ctr, "resources.requests.cpu"), "1", "pod: container resources kept");
  is_int (json_integer_value (json_object_get (json_array_get (json_object_get (ctr, "ports"), 0),
                                               "containerPort")),
          80, "pod: container ports kept (named targetPorts)");
  is_str (json_string_value (json_object_get (
              json_array_get (husk_json_path (p, "spec.initContainers"), 0), "restartPolicy")),
          "Always", "pod: sidecar restartPolicy kept");
  is_str (husk_json_path_str (p, "spec.nodeName"), "n1", "pod: nodeName kept");
  ok (json_array_size (husk_json_path (p, "spec.tolerations")) == 1, "pod: tolerations kept");
  ok (!husk_json_path (p, "spec.volumes") && !husk_json_path (p, "spec.dnsPolicy"),
      "pod: volumes and other spec fields no controller reads dropped");
  ok (json_equal (json_object_get (p, "status"), json_object_get (pod, "status")),
      "pod: status kept whole (phase, IPs, conditions, exit codes)");
  json_t *m = ctrl_cache_project_meta (pod);
  ok (husk_json_path (m, "metadata.managedFields") == NULL, "other types: no managedFields");
  ok (json_object_get (husk_json_path (m, "metadata.annotations"),
                       "kubectl.kubernetes.io/last-applied-configuration")
          != NULL
          && json_equal (json_object_get (m, "spec"), json_object_get (pod, "spec")),
      "other types: everything else kept");
  json_decref (m);
  json_decref (p);

  /* The cache applies its projection to lists and events. */
  ctrl_cache *c = ctrl_cache_new (ctrl_cache_project_pod);
  json_t *items = json_pack ("[O]", pod);
  ctrl_cache_replace (c, items, "3");
  json_decref (items);
  json_t *got = ctrl_cache_items (c, NULL);
  ok (husk_json_path (json_array_get (got, 0), "metadata.managedFields") == NULL,
      "listed pods are projected");
  json_decref (got);
  json_object_set_new (json_object_get (pod, "metadata"), "resourceVersion", json_string ("4"));
  ctrl_cache_apply (c, "MODIFIED", pod);
  got = ctrl_cache_items (c, NULL);
  ok (husk_json_path (json_array_get (got, 0), "metadata.managedFields") == NULL
          && streq (husk_json_path_str (json_array_get (got, 0), "metadata.resourceVersion"), "4"),
      "pods from events are projected");
  json_decref (got);
  ctrl_cache_free (c);
  json_decref (pod);
  json_decref (before);
}

static void *
later_event (void *p)
{
  usleep (100 * 1000);
  json_t *o = obj ("a", "late", "40", NULL);
  ctrl_cache_apply (p, "ADDED", o);
  json_decref (o);
  return NULL;
}

static void
test_wait (void)
{
  ctrl_cache *c = ctrl_cache_new (NULL);
  json_t *items = json_array ();
  ctrl_cache_replace (c, items, "30");
  json_decref (items);
  ok (ctrl_cache_wait (c, 30, 10), "a version already seen: no wait");
  ok (!ctrl_cache_wait (c, 40, 50), "a version not seen yet: times out");
  pthread_t th;
  pthread_create (&th, NULL, later_event, c);
  ok (ctrl_cache_wait (c, 40, 5000), "woken by the event carrying the version written");
  pthread_join (th, NULL);
  json_t *got = ctrl_cache_items (c, NULL);
  is_str (names (got), "a/late", "and it is in the cache");
  json_decref (got);
  ctrl_cache_free (c);
}

int
main (void)
{
  test_events ();
  test_projection ();
  test_wait ();
  return tap_done ();
}
