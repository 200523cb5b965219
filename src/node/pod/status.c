/* husk node: the pod's status as kubelet reports it (phase, conditions, IPs, startTime,
   container statuses, QoS class), PATCHed to pods/<name>/status only when it changed. */
#include "config.h"

#include <errno.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/node/agent/podspec.h"
#include "src/node/agent/status.h"
#include "src/node/node-internal.h"

static void
fill_status (node_pod *p, node_ctr *c, agent_ctr_status *s, char **ids)
{
  memset (s, 0, sizeof *s);
  s->name = c->name;
  s->image = json_string_value (json_object_get (c->spec, "image")) ?: "";
  s->image_id = c->image_id ? c->image_id : "";
  char *id = NULL;
  if (c->created || c->state != AGENT_CTR_WAITING)
    {
      _cleanup_free_ char *rid = pod_ctr_runtime_id (p, c);
      id = xasprintf ("husk://%s", rid);
    }
  ids[0] = id;
  s->container_id = id;
  s->state = c->state;
  s->restart_count = c->restart_count;
  s->init = c->init;
  s->sidecar = c->sidecar;
  switch (c->state)
    {
    case AGENT_CTR_WAITING:
      s->waiting_reason = c->reason;
      s->waiting_message = c->message;
      break;
    case AGENT_CTR_RUNNING:
      s->started_at = c->started_at;
      s->ready = (!c->init || c->sidecar) && c->ready;
      s->started = c->started_ok ? 1 : 0;
      break;
    case AGENT_CTR_TERMINATED:
      s->term.exit_code = c->exit_code;
      s->term.reason = c->reason;
      s->term.message = c->message;
      s->term.started_at = c->started_at;
      s->term.finished_at = c->finished_at;
      s->term.container_id = id;
      s->started = 0;
      break;
    default:
      break;
    }
  if (c->state != AGENT_CTR_RUNNING && !c->init)
    s->started = 0;
  if (c->has_last)
    {
      s->has_last = true;
      s->last.exit_code = c->last_exit;
      s->last.reason = c->last_reason;
      s->last.started_at = c->last_started;
      s->last.finished_at = c->last_finished;
      _cleanup_free_ char *lid = c->last_id ? xasprintf ("husk://%s", c->last_id) : NULL;
      ids[1] = TAKE_PTR (lid);
      s->last.container_id = ids[1];
    }
}

static json_t *
build (node_agent *a, node_pod *p)
{
  size_t n = p->nctrs;
  agent_ctr_status *st = xcalloc (n ? n : 1, sizeof *st);
  char **ids = xcalloc (2 * (n ? n : 1), sizeof *ids);
  agent_ctr_phase_input *in = xcalloc (n ? n : 1, sizeof *in);
  for (size_t i = 0; i < n; i++)
    {
      fill_status (p, &p->ctrs[i], &st[i], &ids[2 * i]);
      in[i] = agent_ctr_status_phase_input (&st[i]);
      /* A container not created yet has no status as far as the phase goes. */
      if (st[i].state == AGENT_CTR_WAITING && !p->ctrs[i].has_last)
        in[i].state = AGENT_CTR_UNKNOWN;
    }
  agent_restart_policy pol = AGENT_RESTART_ALWAYS;
  agent_restart_policy_parse (husk_json_path_str (p->obj, "spec.restartPolicy"), &pol, NULL);
  const char *phase = p->evict_message ? "Failed" : agent_pod_phase (pol, in, n, p->initialized);
  free (p->phase);
  p->phase = xstrdup (phase);
  json_t *status = json_object ();
  json_object_set_new (status, "phase", json_string (phase));
  json_object_set_new (status, "conditions",
                       agent_pod_conditions (p->obj, st, n, phase, p->sandbox_ready,
                                             husk_json_path (p->obj, "status.conditions"),
                                             node_now_ms () / 1000));
  json_object_set_new (status, "hostIP", json_string (a->node_ip));
  json_object_set_new (status, "hostIPs", json_pack ("[{s:s}]", "ip", a->node_ip));
  if (p->pod_ip)
    {
      json_object_set_new (status, "podIP", json_string (p->pod_ip));
      json_object_set_new (status, "podIPs", json_pack ("[{s:s}]", "ip", p->pod_ip));
    }
  if (p->start_time)
    {
      _cleanup_free_ char *t = agent_format_time (p->start_time);
      json_object_set_new (status, "startTime", json_string (t));
    }
  json_t *inits = json_array (), *ctrs = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (st[i].init ? inits : ctrs, agent_ctr_status_json (&st[i]));
  if (p->ninit)
    json_object_set_new (status, "initContainerStatuses", inits);
  else
    json_decref (inits);
  json_object_set_new (status, "containerStatuses", ctrs);
  agent_qos q;
  if (agent_pod_qos (json_object_get (p->obj, "spec"), &q, NULL) == 0)
    json_object_set_new (status, "qosClass", json_string (agent_qos_name (q)));
  if (p->sandbox_error)
    json_object_set_new (status, "message", json_string (p->sandbox_error));
  if (p->evict_message)
    {
      json_object_set_new (status, "reason", json_string (p->reject_reason ? p->reject_reason : "Evicted"));
      json_object_set_new (status, "message", json_string (p->evict_message));
    }
  for (size_t i = 0; i < 2 * n; i++)
    free (ids[i]);
  free (ids);
  free (st);
  free (in);
  return status;
}

int
pod_status_report (node_agent *a, node_pod *p, husk_error **err)
{
  /* A static pod run before the Node is registered has no mirror pod to report to yet. */
  if (p->static_pod && a->node_uid == NULL)
    return 0;
  _cleanup_json_ json_t *status = build (a, p);
  _cleanup_free_ char *text = husk_json_dump (status);
  if (p->last_status && streq (p->last_status, text))
    return 0;
  _cleanup_json_ json_t *patch = json_pack ("{s:O}", "status", status);
  int64_t running_since = 0;
  if (p->phase && streq (p->phase, "Running") && p->created_ms)
    {
      running_since = p->created_ms;
      p->created_ms = 0;
    }
  if (a->apiq == NULL)
    {
      /* No sender threads (they failed to start): the PATCH is made here. */
      _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/pods/%s/status", p->ns, p->name);
      long code = 0;
      int r = kclient_json (a->kc, "PATCH", path, "application/merge-patch+json", patch, NULL,
                            &code, err);
      if (r < 0)
        return code == 404 ? 0 : r;
    }
  else
    node_apiq_status (a->apiq, p, husk_json_dump (patch), ++p->status_seq, running_since);
  /* What was queued counts as sent; a failure hands it back (pod_sync_all resends). */
  free (p->last_status);
  p->last_status = TAKE_PTR (text);
  return 0;
}
