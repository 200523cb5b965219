/* Static pods from a manifest directory: defaults, stable UIDs, skipped files. */
#include "lib/json.h"
#include "lib/path.h"
#include "src/node/agent/static.h"
#include "tests/unit/tap.h"

static char tmp[] = "/tmp/test-agent-static.XXXXXX";

static void
put (const char *name, const char *text)
{
  husk_error *err = NULL;
  char *p = xasprintf ("%s/%s", tmp, name);
  husk_write_file_atomic (p, text, strlen (text), 0644, &err);
  husk_error_free (err);
  free (p);
}

static json_t *
load (char ***errors)
{
  json_t *pods = NULL;
  husk_error *err = NULL;
  if (agent_static_pods_load (tmp, "Node-1", 1795756200, &pods, errors, &err) < 0)
    {
      printf ("# %s\n", err->msg);
      husk_error_free (err);
    }
  return pods;
}

int
main (void)
{
  if (!mkdtemp (tmp))
    return 99;
  put ("etcd.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\n"
                    "spec:\n  containers:\n  - name: etcd\n    image: etcd:3.5\n");
  put ("web.json", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"},"
                   "\"spec\":{\"tolerations\":[{\"key\":\"a\",\"operator\":\"Exists\"}],"
                   "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}");
  put (".hidden.yaml", "kind: Pod\nmetadata:\n  name: hidden\n");
  put ("broken.yaml", "kind: Pod\nmetadata: [unclosed\n");
  put ("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n");
  char **errors = NULL;
  json_t *pods = load (&errors);
  is_int (json_array_size (pods), 2, "two pods loaded (hidden, broken and non-Pod skipped)");
  int nerr = 0;
  while (errors && errors[nerr])
    nerr++;
  is_int (nerr, 2, "the broken file and the Service are reported");
  ok (errors && strstr (errors[0], "broken.yaml") && strstr (errors[1], "svc.yaml"),
      "errors name the files");
  strv_free (errors);
  json_t *etcd = json_array_get (pods, 0), *web = json_array_get (pods, 1);
  is_str (husk_json_path_str (etcd, "metadata.name"), "etcd-node-1",
          "name gets -<node> (lowercased)");
  is_str (husk_json_path_str (etcd, "metadata.namespace"), "kube-system", "namespace kept");
  is_str (husk_json_path_str (web, "metadata.namespace"), "default",
          "namespace defaults to default");
  is_str (husk_json_path_str (web, "spec.nodeName"), "node-1", "bound to this node");
  const char *uid = husk_json_path_str (web, "metadata.uid");
  ok (uid && strlen (uid) == 32, "a 32-hex UID");
  json_t *ann = husk_json_path (web, "metadata.annotations");
  is_str (json_string_value (json_object_get (ann, "kubernetes.io/config.hash")), uid,
          "config.hash is the UID");
  is_str (json_string_value (json_object_get (ann, "kubernetes.io/config.source")), "file",
          "config.source file");
  is_str (json_string_value (json_object_get (ann, "kubernetes.io/config.seen")),
          "2026-11-27T05:10:00Z", "config.seen");
  json_t *tol = husk_json_path (web, "spec.tolerations");
  ok (json_array_size (tol) == 2
          && streq (json_string_value (json_object_get (json_array_get (tol, 1), "effect")),
                    "NoExecute"),
      "NoExecute toleration added after the pod's own");
  char *uid1 = xstrdup (uid);
  json_decref (pods);

  pods = load (NULL);
  is_str (husk_json_path_str (json_array_get (pods, 1), "metadata.uid"), uid1,
          "same file: same UID (re-adoption)");
  json_decref (pods);
  put ("web.json", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"},"
                   "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.27\"}]}}");
  pods = load (NULL);
  ok (!streq (husk_json_path_str (json_array_get (pods, 1), "metadata.uid"), uid1),
      "edited file: new UID");
  json_decref (pods);
  free (uid1);

  json_t *none = NULL;
  husk_error *err = NULL;
  ok (agent_static_pods_load ("/nonexistent-dir", "n", 0, &none, NULL, &err) < 0,
      "missing directory is an error");
  husk_error_free (err);
  husk_rm_rf (tmp, &err);
  return tap_done ();
}
