/* Deployment status: the counts `kubectl rollout status` reads and the Available /
   Progressing conditions, in upstream's reasons and messages. */
#include "config.h"

#include "lib/json.h"
#include "src/master/ctrl/logic.h"
#include "tests/unit/tap.h"

#define T0 1700000000LL

static json_t *
dep (const char *extra)
{
  json_t *d = json_loads (
      "{\"metadata\":{\"name\":\"web\",\"generation\":2},\"spec\":{\"replicas\":4}}", 0, NULL);
  if (extra)
    {
      json_t *x = json_loads (extra, 0, NULL);
      if (!x)
        {
          printf ("Bail out! bad JSON %s\n", extra);
          exit (2);
        }
      json_object_update_recursive (d, x);
      json_decref (x);
    }
  return d;
}

static json_t *
cond (json_t *st, const char *type)
{
  json_t *c;
  size_t i;
  json_array_foreach (
      json_object_get (st, "conditions"), i,
      c) if (streq (json_string_value (json_object_get (c, "type")), type)) return c;
  return NULL;
}

static void
cond_is (json_t *st, const char *type, const char *status, const char *reason, const char *msg,
         const char *name)
{
  json_t *c = cond (st, type);
  const char *s = json_string_value (json_object_get (c, "status"));
  const char *r = json_string_value (json_object_get (c, "reason"));
  const char *m = json_string_value (json_object_get (c, "message"));
  ok (c && s && r && m && streq (s, status) && streq (r, reason) && streq (m, msg),
      "%s: %s %s %s \"%s\"", name, type, s ? s : "-", r ? r : "-", m ? m : "-");
}

int
main (void)
{
  json_t *st = NULL;
  ctrl_rs_status done[] = { { "web-5d8b", 4, 4, 4, 4, true } };
  json_t *d = dep (NULL);
  ok (ctrl_deployment_status (d, done, 1, T0, &st, NULL) == 0, "status computed");
  ok (json_integer_value (json_object_get (st, "replicas")) == 4
          && json_integer_value (json_object_get (st, "updatedReplicas")) == 4
          && json_integer_value (json_object_get (st, "availableReplicas")) == 4
          && json_integer_value (json_object_get (st, "unavailableReplicas")) == 0
          && json_integer_value (json_object_get (st, "observedGeneration")) == 2,
      "counts of a finished rollout");
  cond_is (st, "Available", "True", "MinimumReplicasAvailable",
           "Deployment has minimum availability.", "done");
  cond_is (st, "Progressing", "True", "NewReplicaSetAvailable",
           "ReplicaSet \"web-5d8b\" has successfully progressed.", "done");
  json_decref (st);
  json_decref (d);

  /* mid-rollout: 2 new pods created, not ready yet; 3 old available */
  ctrl_rs_status mid[] = { { "web-new", 2, 2, 0, 0, true }, { "web-old", 3, 3, 3, 3, false } };
  d = dep ("{\"status\":{\"replicas\":4,\"updatedReplicas\":0,\"readyReplicas\":4,"
           "\"availableReplicas\":4,"
           "\"conditions\":[{\"type\":\"Progressing\",\"status\":\"True\",\"reason\":"
           "\"NewReplicaSetAvailable\","
           "\"message\":\"x\",\"lastUpdateTime\":\"2023-11-14T00:00:00Z\",\"lastTransitionTime\":"
           "\"2023-11-14T00:00:00Z\"}]}}");
  ctrl_deployment_status (d, mid, 2, T0, &st, NULL);
  ok (json_integer_value (json_object_get (st, "replicas")) == 5
          && json_integer_value (json_object_get (st, "updatedReplicas")) == 2
          && json_integer_value (json_object_get (st, "unavailableReplicas")) == 2,
      "mid-rollout counts: 5 pods, 2 updated, 2 unavailable");
  cond_is (st, "Available", "True", "MinimumReplicasAvailable",
           "Deployment has minimum availability.", "3 available >= 4 - 1");
  cond_is (st, "Progressing", "True", "ReplicaSetUpdated", "ReplicaSet \"web-new\" is progressing.",
           "mid-rollout");
  ok (streq (json_string_value (json_object_get (cond (st, "Progressing"), "lastTransitionTime")),
             "2023-11-14T00:00:00Z"),
      "True -> True keeps lastTransitionTime");
  json_t *mid_status = json_deep_copy (st);
  json_decref (st);
  json_decref (d);

  /* no progress for longer than progressDeadlineSeconds (default 600) */
  d = dep (NULL);
  json_object_set_new (d, "status", mid_status);
  ctrl_deployment_status (d, mid, 2, T0 + 300, &st, NULL);
  cond_is (st, "Progressing", "True", "ReplicaSetUpdated", "ReplicaSet \"web-new\" is progressing.",
           "300 s without progress: still within the deadline");
  json_decref (st);
  ctrl_deployment_status (d, mid, 2, T0 + 601, &st, NULL);
  cond_is (st, "Progressing", "False", "ProgressDeadlineExceeded",
           "ReplicaSet \"web-new\" has timed out progressing.", "601 s without progress");
  json_decref (st);
  json_decref (d);

  ctrl_rs_status down[] = { { "web-new", 4, 4, 1, 1, true } };
  d = dep (NULL);
  ctrl_deployment_status (d, down, 1, T0, &st, NULL);
  cond_is (st, "Available", "False", "MinimumReplicasUnavailable",
           "Deployment does not have minimum availability.", "1 available < 4 - 1");
  json_decref (st);
  json_decref (d);

  d = dep ("{\"spec\":{\"paused\":true}}");
  ctrl_deployment_status (d, mid, 2, T0, &st, NULL);
  cond_is (st, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", "paused");
  json_object_set_new (d, "status", st);
  json_object_set_new (json_object_get (d, "spec"), "paused", json_false ());
  ctrl_deployment_status (d, mid, 2, T0 + 5, &st, NULL);
  cond_is (st, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", "resumed");
  json_decref (st);
  json_decref (d);

  d = dep ("{\"spec\":{\"progressDeadlineSeconds\":2147483647}}");
  ctrl_deployment_status (d, mid, 2, T0, &st, NULL);
  ok (cond (st, "Progressing") == NULL, "no deadline: no Progressing condition");
  json_decref (st);
  json_decref (d);

  d = dep ("{\"spec\":{\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"x\"}}}}");
  husk_error *err = NULL;
  ok (ctrl_deployment_status (d, mid, 2, T0, &st, &err) < 0 && err
          && strstr (err->msg, "deployment web: spec.strategy.rollingUpdate: maxSurge:"),
      "a bad maxSurge is reported: %s", err ? err->msg : "(accepted)");
  husk_error_free (err);
  json_decref (d);
  return tap_done ();
}
