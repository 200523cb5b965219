/* containerStatuses entries and pod conditions as kubelet reports them. */
#include "lib/json.h"
#include "src/node/agent/events.h"
#include "src/node/agent/status.h"
#include "tests/unit/tap.h"

static json_t *
J (const char *s)
{
  json_error_t e;
  json_t *j = json_loads (s, 0, &e);
  if (!j)
    {
      printf ("# bad test JSON: %s: %s\n", e.text, s);
      exit (99);
    }
  return j;
}

static char *
dump (json_t *j)
{
  return json_dumps (j, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

static const char *
cond (json_t *conds, const char *type, const char *field)
{
  size_t i;
  json_t *c;
  json_array_foreach (conds, i,
                      c) if (streq (json_string_value (json_object_get (c, "type")),
                                    type)) return json_string_value (json_object_get (c, field));
  return NULL;
}

static void
test_ctr_status (void)
{
  const int64_t t0 = 1795756200; /* 2026-11-27T05:10:00Z */
  agent_ctr_status s
      = { .name = "web",
          .image = "busybox:1.36",
          .image_id = "sha256:abc",
          .container_id = "husk://c2",
          .state = AGENT_CTR_WAITING,
          .waiting_reason = AGENT_REASON_CRASH_LOOP,
          .waiting_message = "back-off 20s restarting failed container=web pod=p_default(u)",
          .has_last = true,
          .last = { .exit_code = 137,
                    .signal = 9,
                    .reason = "OOMKilled",
                    .started_at = t0,
                    .finished_at = t0 + 5,
                    .container_id = "husk://c1" },
          .restart_count = 2,
          .started = 0 };
  json_t *j = agent_ctr_status_json (&s);
  char *d = dump (j);
  is_str (
      d,
      "{\"name\":\"web\",\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\",\"message\":"
      "\"back-off 20s "
      "restarting failed container=web "
      "pod=p_default(u)\"}},\"lastState\":{\"terminated\":{\"exitCode\":137,"
      "\"signal\":9,\"reason\":\"OOMKilled\",\"startedAt\":\"2026-11-27T05:10:00Z\",\"finishedAt\":"
      "\"2026-11-27T05:10:05Z\",\"containerID\":\"husk://c1\"}},\"ready\":false,\"restartCount\":2,"
      "\"image\":\"busybox:1.36\",\"imageID\":\"sha256:abc\",\"containerID\":\"husk://"
      "c2\",\"started\":false}",
      "CrashLoopBackOff status with lastState OOMKilled");
  free (d);
  json_decref (j);
  agent_ctr_phase_input in = agent_ctr_status_phase_input (&s);
  ok (in.state == AGENT_CTR_WAITING && in.last_terminated && in.exit_code == 137,
      "phase input from status");

  agent_ctr_status r = {
    .name = "web", .state = AGENT_CTR_RUNNING, .started_at = t0, .ready = true, .started = -1
  };
  j = agent_ctr_status_json (&r);
  is_str (husk_json_path_str (j, "state.running.startedAt"), "2026-11-27T05:10:00Z",
          "running since");
  ok (json_object_get (j, "started") == NULL
          && json_object_size (json_object_get (j, "lastState")) == 0,
      "started omitted when not reported, empty lastState");
  json_decref (j);
  agent_ctr_status t = { .name = "job",
                         .state = AGENT_CTR_TERMINATED,
                         .term = { .exit_code = 0, .finished_at = t0 } };
  j = agent_ctr_status_json (&t);
  is_str (husk_json_path_str (j, "state.terminated.reason"), "Completed", "exit 0: Completed");
  json_decref (j);
  agent_ctr_status w = { .name = "new", .state = AGENT_CTR_WAITING };
  j = agent_ctr_status_json (&w);
  is_str (husk_json_path_str (j, "state.waiting.reason"), "ContainerCreating",
          "default waiting reason");
  json_decref (j);
}

static void
test_conditions (void)
{
  const int64_t now = 1795756200;
  json_t *pod = J ("{\"spec\":{\"initContainers\":[{\"name\":\"init\"},{\"name\":\"side\","
                   "\"restartPolicy\":\"Always\"}],"
                   "\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
                   "\"readinessGates\":[{\"conditionType\":\"example.com/lb\"}]},"
                   "\"status\":{\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\","
                   "\"lastTransitionTime\":\"2026-11-27T05:00:00Z\"}]}}");
  json_t *old = json_object_get (json_object_get (pod, "status"), "conditions");

  /* init still running */
  agent_ctr_status s1[]
      = { { .name = "init", .init = true, .state = AGENT_CTR_RUNNING, .started = -1 },
          { .name = "a", .state = AGENT_CTR_WAITING, .waiting_reason = "PodInitializing" },
          { .name = "b", .state = AGENT_CTR_WAITING, .waiting_reason = "PodInitializing" } };
  json_t *c = agent_pod_conditions (pod, s1, 3, "Pending", true, old, now);
  is_str (cond (c, "PodReadyToStartContainers", "status"), "True", "sandbox ready");
  is_str (cond (c, "Initialized", "status"), "False", "init running: not Initialized");
  is_str (cond (c, "Initialized", "reason"), "ContainersNotInitialized",
          "reason ContainersNotInitialized");
  is_str (cond (c, "Initialized", "message"),
          "containers with unknown status: [side], containers with incomplete status: [init]",
          "message lists unknown then incomplete containers");
  is_str (cond (c, "ContainersReady", "message"),
          "containers with unknown status: [side], containers with unready status: [a b]",
          "ContainersReady message");
  is_str (cond (c, "Ready", "reason"), "ContainersNotReady", "Ready follows ContainersReady");
  is_str (cond (c, "PodScheduled", "lastTransitionTime"), "2026-11-27T05:00:00Z",
          "PodScheduled kept from old");
  is_str (cond (c, "Initialized", "lastTransitionTime"), "2026-11-27T05:10:00Z",
          "new condition stamped now");
  char *d = dump (json_array_get (c, 0));
  ok (strstr (d, "\"lastProbeTime\":null") != NULL, "lastProbeTime null as kubelet sends it");
  free (d);

  /* everything ready, but the readiness gate is missing */
  agent_ctr_status s2[] = {
    { .name = "init", .init = true, .state = AGENT_CTR_TERMINATED, .term = { .exit_code = 0 } },
    { .name = "side",
      .init = true,
      .sidecar = true,
      .state = AGENT_CTR_RUNNING,
      .started = 1,
      .ready = true },
    { .name = "a", .state = AGENT_CTR_RUNNING, .ready = true },
    { .name = "b", .state = AGENT_CTR_RUNNING, .ready = true }
  };
  json_t *c2 = agent_pod_conditions (pod, s2, 4, "Running", true, c, now + 60);
  is_str (cond (c2, "Initialized", "status"), "True", "init done, sidecar started: Initialized");
  is_str (cond (c2, "ContainersReady", "status"), "True", "all ready: ContainersReady");
  is_str (cond (c2, "Ready", "status"), "False", "readiness gate missing: not Ready");
  is_str (cond (c2, "Ready", "reason"), "ReadinessGatesNotReady", "reason ReadinessGatesNotReady");
  is_str (cond (c2, "Ready", "message"),
          "corresponding condition of pod readiness gate \"example.com/lb\" does not exist.",
          "gate message as kubelet's");
  is_str (cond (c2, "PodReadyToStartContainers", "lastTransitionTime"), "2026-11-27T05:10:00Z",
          "unchanged condition keeps its transition time");
  is_str (cond (c2, "Initialized", "lastTransitionTime"), "2026-11-27T05:11:00Z",
          "changed condition gets now");

  /* the gate turns True */
  json_array_append_new (old, J ("{\"type\":\"example.com/lb\",\"status\":\"True\"}"));
  json_t *c3 = agent_pod_conditions (pod, s2, 4, "Running", true, c2, now + 120);
  is_str (cond (c3, "Ready", "status"), "True", "gate True: Ready");

  /* completed pod */
  agent_ctr_status s4[]
      = { { .name = "init", .init = true, .state = AGENT_CTR_TERMINATED },
          { .name = "side", .init = true, .sidecar = true, .state = AGENT_CTR_TERMINATED },
          { .name = "a", .state = AGENT_CTR_TERMINATED },
          { .name = "b", .state = AGENT_CTR_TERMINATED } };
  json_t *c4 = agent_pod_conditions (pod, s4, 4, "Succeeded", false, c3, now + 180);
  is_str (cond (c4, "ContainersReady", "reason"), "PodCompleted", "Succeeded pod: PodCompleted");
  is_str (cond (c4, "Initialized", "reason"), "PodCompleted",
          "Succeeded pod: Initialized PodCompleted");
  is_str (cond (c4, "PodReadyToStartContainers", "status"), "False",
          "sandbox gone: PodReadyToStartContainers False");
  json_decref (c);
  json_decref (c2);
  json_decref (c3);
  json_decref (c4);
  json_decref (pod);
}

static void
test_events (void)
{
  json_t *pod = J ("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"prod\",\"uid\":\"u1\","
                   "\"resourceVersion\":\"42\"}}");
  const int64_t t0 = 1795756200LL * 1000000000LL;
  json_t *ev = agent_event_new (pod, "web", false, "Warning", AGENT_EV_BACKOFF,
                                "Back-off restarting failed container web in pod web-1_prod(u1)",
                                "node-1", t0);
  is_str (husk_json_path_str (ev, "metadata.name"), "web-1.18ebcebfe4349000",
          "event name is <pod>.<hex ns>");
  is_str (husk_json_path_str (ev, "metadata.namespace"), "prod", "in the pod's namespace");
  is_str (husk_json_path_str (ev, "involvedObject.fieldPath"), "spec.containers{web}",
          "fieldPath names the container");
  is_str (husk_json_path_str (ev, "involvedObject.resourceVersion"), "42",
          "involvedObject carries the pod's version");
  is_str (husk_json_path_str (ev, "source.component"), "kubelet", "source component kubelet");
  is_str (husk_json_path_str (ev, "firstTimestamp"), "2026-11-27T05:10:00Z", "timestamps");
  is_int (json_integer_value (json_object_get (ev, "count")), 1, "count 1");
  json_t *init_ev = agent_event_new (pod, "setup", true, "Normal", AGENT_EV_STARTED,
                                     "Started container setup", "node-1", t0);
  is_str (husk_json_path_str (init_ev, "involvedObject.fieldPath"), "spec.initContainers{setup}",
          "init container fieldPath");
  json_decref (init_ev);

  agent_event_cache *c = agent_event_cache_new ();
  json_t *patch = NULL;
  const char *name = NULL;
  ok (agent_event_correlate (c, ev, t0, &patch, &name) && !patch, "first event: create it");
  json_t *again = agent_event_new (pod, "web", false, "Warning", AGENT_EV_BACKOFF,
                                   "Back-off restarting failed container web in pod web-1_prod(u1)",
                                   "node-1", t0 + 10000000000LL);
  ok (!agent_event_correlate (c, again, t0 + 10000000000LL, &patch, &name),
      "same event 10 s later: a repeat");
  is_str (name, "web-1.18ebcebfe4349000", "repeat patches the first event");
  char *d = json_dumps (patch, JSON_COMPACT | JSON_SORT_KEYS);
  is_str (d, "{\"count\":2,\"lastTimestamp\":\"2026-11-27T05:10:10Z\"}",
          "patch bumps count and lastTimestamp");
  free (d);
  json_decref (patch);
  json_t *other = agent_event_new (pod, "web", false, "Warning", AGENT_EV_UNHEALTHY,
                                   "Liveness probe failed", "node-1", t0);
  ok (agent_event_correlate (c, other, t0 + 11000000000LL, &patch, &name),
      "another reason: a new event");
  ok (agent_event_correlate (c, again, t0 + 700000000000LL, &patch, &name),
      "after 10 quiet minutes: new again");
  agent_event_cache_free (c);
  json_decref (ev);
  json_decref (again);
  json_decref (other);
  json_decref (pod);
}

int
main (void)
{
  test_ctr_status ();
  test_conditions ();
  test_events ();
  return tap_done ();
}
