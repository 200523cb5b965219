/* lib/kclient: requests, Status errors, kubeconfig reading and the list+watch loop
   (resume from the last resourceVersion and bookmarks, 410 Gone relists, backoff after
   errors) against a scripted HTTP server on 127.0.0.1. */
#include "config.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>

#include "lib/json.h"
#include "lib/kclient.h"
#include "lib/path.h"
#include "tests/unit/script-http.h"
#include "tests/unit/tap.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char watch_rvs[256]; /* resourceVersions asked by watches, space separated */
static int lists, fails_left = 1, saw_bad_auth;

/* kclient_watch_many: the watch of "a" is answered only once the watch of "b" has been asked
   for (both open at once, from the one thread of the client), within 5 s. */
static atomic_int b_watching, a_waited_ms = -1;

static enum MHD_Result
many_reply (struct MHD_Connection *c, const char *what)
{
  const char *watch = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "watch");
  const char *rv = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "resourceVersion");
  if (watch == NULL)
    return script_reply (c, 200, "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}");
  if (rv == NULL || strcmp (rv, "1") != 0)
    return script_reply (c, 200, "");
  if (strcmp (what, "b") == 0)
    {
      atomic_store (&b_watching, 1);
      return script_reply (c, 200, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"b1\","
                                   "\"resourceVersion\":\"2\"}}}\n");
    }
  int ms = 0;
  for (; ms < 5000 && !atomic_load (&b_watching); ms += 10)
    usleep (10 * 1000);
  atomic_store (&a_waited_ms, ms);
  return script_reply (c, 200, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a1\","
                               "\"resourceVersion\":\"2\"}}}\n");
}

typedef struct many_seen
{
  char log[128];
  atomic_int *stop;
  atomic_int *events;
} many_seen;

static int
many_on_list (void *ud, json_t *items, const char *rv)
{
  (void) ud, (void) items, (void) rv;
  return 0;
}

static int
many_on_event (void *ud, const char *type, json_t *obj)
{
  many_seen *s = ud;
  snprintf (s->log + strlen (s->log), sizeof s->log - strlen (s->log), "%s:%s ", type,
            husk_json_path_str (obj, "metadata.name"));
  if (atomic_fetch_add (s->events, 1) + 1 == 2)
    atomic_store (s->stop, 1);
  return 0;
}

static void
test_watch_many (kclient *k)
{
  atomic_int stop = 0, events = 0;
  many_seen sa = {.stop = &stop, .events = &events}, sb = sa;
  kclient_watch_ops oa = {many_on_list, many_on_event, NULL, &sa};
  kclient_watch_ops ob = {many_on_list, many_on_event, NULL, &sb};
  kclient_watch_opts wo = {.backoff_initial_ms = 50};
  kclient_watch_spec specs[] = {{"/apis/t/v1/a", &wo, &oa}, {"/apis/t/v1/b", &wo, &ob}};
  _cleanup_error_ husk_error *err = NULL;
  int r = kclient_watch_many (k, specs, 2, &stop, &err);
  ok (r == 0, "kclient_watch_many ended when stopped%s%s", err ? ": " : "", err ? err->msg : "");
  is_str (sa.log, "ADDED:a1 ", "the first watch got its event");
  is_str (sb.log, "ADDED:b1 ", "the second watch got its event");
  int waited = atomic_load (&a_waited_ms);
  ok (waited >= 0 && waited < 5000, "both watches were open at once from one thread (%d ms)",
      waited);
}

static enum MHD_Result
on_request (void *cls, struct MHD_Connection *c, const char *url, const char *method,
            const char *version, const char *upload, size_t *upload_size, void **state)
{
  (void) cls, (void) version, (void) upload;
  if (script_request_pending (state, upload_size))
    return MHD_YES;
  const char *auth = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Authorization");
  if (auth == NULL || strcmp (auth, "Bearer s3cret") != 0)
    {
      saw_bad_auth = 1;
      return script_reply (c, 401, "{\"kind\":\"Status\",\"message\":\"Unauthorized\",\"code\":401}");
    }
  if (strcmp (url, "/api/v1/namespaces/default/pods/nope") == 0)
    return script_reply (c, 404,
                  "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"pods \\\"nope\\\" "
                  "not found\",\"reason\":\"NotFound\",\"code\":404}");
  if (strcmp (url, "/api/v1/namespaces/default/pods/echo") == 0)
    return script_reply (c, 200, strcmp (method, "PATCH") == 0 ? "{\"patched\":true}" : "{}");
  if (strncmp (url, "/apis/t/v1/", 11) == 0)
    return many_reply (c, url + 11);
  if (strcmp (url, "/api/v1/pods") != 0)
    return script_reply (c, 404, "{}");
  const char *fs = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "fieldSelector");
  if (fs == NULL || strcmp (fs, "spec.nodeName=n1") != 0)
    return script_reply (c, 400, "{\"message\":\"missing fieldSelector\"}");
  const char *watch = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "watch");
  pthread_mutex_lock (&mu);
  if (fails_left > 0)
    {
      fails_left--;
      pthread_mutex_unlock (&mu);
      return script_reply (c, 503, "{\"message\":\"starting\"}");
    }
  if (watch == NULL)
    {
      lists++;
      int n = lists;
      pthread_mutex_unlock (&mu);
      if (n == 1)
        return script_reply (c, 200,
                      "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"10\"},\"items\":["
                      "{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"}}]}");
      return script_reply (c, 200,
                    "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"20\"},\"items\":["
                    "{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":\"b\"}},"
                    "{\"metadata\":{\"name\":\"c\"}}]}");
    }
  const char *rv = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "resourceVersion");
  strncat (watch_rvs, rv ? rv : "?", sizeof watch_rvs - strlen (watch_rvs) - 2);
  strcat (watch_rvs, " ");
  pthread_mutex_unlock (&mu);
  if (rv && strcmp (rv, "10") == 0)
    return script_reply (c, 200,
                  "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"b\","
                  "\"resourceVersion\":\"11\"}}}\n");
  if (rv && strcmp (rv, "11") == 0)
    return script_reply (c, 410,
                  "{\"kind\":\"Status\",\"message\":\"too old resource version\",\"code\":410}");
  if (rv && strcmp (rv, "20") == 0)
    return script_reply (c, 200,
                  "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"c\","
                  "\"resourceVersion\":\"21\"}}}\n"
                  "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"25\"}}}"
                  "\n");
  if (rv && strcmp (rv, "25") == 0)
    return script_reply (c, 200,
                  "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\","
                  "\"resourceVersion\":\"26\"}}}\n");
  return script_reply (c, 200, "");
}

typedef struct seen
{
  char log[512];
  atomic_int *stop;
  int states;
} seen;

static int
on_list (void *ud, json_t *items, const char *rv)
{
  seen *s = ud;
  char b[64];
  snprintf (b, sizeof b, "list(%zu@%s) ", json_array_size (items), rv);
  strcat (s->log, b);
  return 0;
}

static int
on_event (void *ud, const char *type, json_t *obj)
{
  seen *s = ud;
  char b[64];
  snprintf (b, sizeof b, "%s:%s ", type, husk_json_path_str (obj, "metadata.name"));
  strcat (s->log, b);
  if (strcmp (type, "DELETED") == 0)
    atomic_store (s->stop, 1);
  return 0;
}

static void
on_state (void *ud, bool connected, const char *error)
{
  (void) connected, (void) error;
  ((seen *) ud)->states++;
}

static void
test_kubeconfig (void)
{
  char dir[] = "/tmp/husk-kc-XXXXXX";
  if (mkdtemp (dir) == NULL)
    return;
  _cleanup_free_ char *path = xasprintf ("%s/config", dir);
  _cleanup_free_ char *tok = xasprintf ("%s/tok", dir);
  husk_write_file_atomic (tok, "filetoken\n", 10, 0600, NULL);
  /* "-----PEM-----\n" in base64 */
  const char *doc = "apiVersion: v1\nkind: Config\n"
                    "clusters:\n- name: other\n  cluster: {server: https://10.0.0.1}\n"
                    "- name: c1\n  cluster:\n    server: https://127.0.0.1:6443/\n"
                    "    certificate-authority-data: LS0tLS1QRU0tLS0tLQo=\n"
                    "users:\n- name: u1\n  user:\n    tokenFile: tok\n"
                    "contexts:\n- name: x\n  context: {cluster: c1, user: u1}\n"
                    "current-context: x\n";
  husk_write_file_atomic (path, doc, strlen (doc), 0600, NULL);
  kclient_config cfg = {0};
  _cleanup_error_ husk_error *err = NULL;
  int r = kclient_config_from_kubeconfig (path, &cfg, &err);
  ok (r == 0, "kubeconfig parsed%s%s", err ? ": " : "", err ? err->msg : "");
  is_str (cfg.server, "https://127.0.0.1:6443/", "server of the current context's cluster");
  is_str (cfg.ca_pem, "-----PEM-----\n", "certificate-authority-data decoded");
  is_str (cfg.token, "filetoken", "tokenFile read relative to the kubeconfig");
  kclient_config_clear (&cfg);
  cfg.token = xstrdup ("flag");
  r = kclient_config_from_kubeconfig (path, &cfg, NULL);
  is_str (cfg.token, "flag", "a token given as a flag wins over the kubeconfig");
  kclient_config_clear (&cfg);
  husk_rm_rf (dir, NULL);
}

int
main (void)
{
  test_kubeconfig ();

  int port;
  struct MHD_Daemon *d = script_server_start (on_request, &port);
  _cleanup_free_ char *url = xasprintf ("http://127.0.0.1:%d/", port);
  kclient_config cfg = {.server = url, .token = "s3cret"};
  _cleanup_ (kclient_freep) kclient *k = NULL;
  _cleanup_error_ husk_error *err = NULL;
  ok (kclient_new (&cfg, &k, &err) == 0, "client created");
  _cleanup_free_ char *want = xasprintf ("http://127.0.0.1:%d", port);
  is_str (kclient_server (k), want, "server URL kept without its trailing slash");

  json_t *out = NULL;
  long status = 0;
  int r = kclient_json (k, "GET", "/api/v1/namespaces/default/pods/nope", NULL, NULL, &out,
                        &status, &err);
  ok (r < 0 && err && err->errnum == ENOENT, "404 is an ENOENT error");
  ok (status == 404, "status 404 reported");
  ok (err && strstr (err->msg, "pods \"nope\" not found") != NULL,
      "the error carries the Status message: %s", err ? err->msg : "");
  husk_error_free (err);
  err = NULL;

  json_t *patch = json_pack ("{s:{s:s}}", "status", "phase", "Running");
  r = kclient_json (k, "PATCH", "/api/v1/namespaces/default/pods/echo",
                    "application/merge-patch+json", patch, &out, &status, &err);
  json_decref (patch);
  ok (r == 0 && json_is_true (json_object_get (out, "patched")), "PATCH with a body answered");
  json_decref (out);

  atomic_int stop = 0;
  seen s = {.stop = &stop};
  kclient_watch_ops ops = {on_list, on_event, on_state, &s};
  kclient_watch_opts wo = {.query = "fieldSelector=spec.nodeName%3Dn1", .backoff_initial_ms = 50};
  r = kclient_watch (k, "/api/v1/pods", &wo, &ops, &stop, &err);
  ok (r == 0, "watch ended when stopped");
  is_str (s.log, "list(1@10) ADDED:b list(3@20) MODIFIED:c DELETED:a ",
          "list, events, relist after 410 Gone, events after the bookmark");
  is_str (watch_rvs, "10 11 20 25 ", "each watch resumed from the last resourceVersion seen");
  ok (fails_left == 0 && s.states >= 2, "a failing first list was retried after a backoff");
  ok (!saw_bad_auth, "every request carried the bearer token");

  test_watch_many (k);

  /* Unreachable server: errors are transport errors, not statuses. */
  kclient_config bad = {.server = "http://127.0.0.1:1", .token = "x", .timeout_ms = 2000};
  _cleanup_ (kclient_freep) kclient *kb = NULL;
  kclient_new (&bad, &kb, NULL);
  r = kclient_request (kb, "GET", "/api", NULL, NULL, &status, NULL, &err);
  ok (r < 0 && err && strstr (err->msg, "127.0.0.1:1") != NULL, "connection refused names the URL: %s",
      err ? err->msg : "");
  MHD_stop_daemon (d);
  return tap_done ();
}
