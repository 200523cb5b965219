/* husk api: upstream's defaults for the built-in types (the fields kubectl shows). */
#include "config.h"

#include <gnutls/gnutls.h>

#include "lib/json.h"
#include "src/master/api/defaults.h"

static json_t *
obj_at (json_t *o, const char *key)
{
  json_t *v = json_object_get (o, key);
  if (!json_is_object (v))
    {
      v = json_object ();
      json_object_set_new (o, key, v);
    }
  return v;
}

static void
set_default (json_t *o, const char *key, json_t *v)
{
  if (json_object_get (o, key) == NULL || json_is_null (json_object_get (o, key)))
    json_object_set_new (o, key, v);
  else
    json_decref (v);
}

static void
default_container (json_t *c)
{
  const char *image = json_string_value (json_object_get (c, "image"));
  if (image)
    {
      const char *slash = strrchr (image, '/');
      const char *last = slash ? slash + 1 : image;
      bool latest = strchr (image, '@') == NULL
                    && (strchr (last, ':') == NULL || strstr (last, ":latest") != NULL);
      set_default (c, "imagePullPolicy", json_string (latest ? "Always" : "IfNotPresent"));
    }
  set_default (c, "terminationMessagePath", json_string ("/dev/termination-log"));
  set_default (c, "terminationMessagePolicy", json_string ("File"));
  set_default (c, "resources", json_object ());
  /* upstream: a limit without a request makes the request equal to the limit */
  json_t *res = json_object_get (c, "resources");
  json_t *lim = json_object_get (res, "limits");
  if (json_is_object (res) && json_object_size (lim) > 0)
    {
      json_t *req = json_object_get (res, "requests");
      if (!json_is_object (req))
        json_object_set_new (res, "requests", req = json_object ());
      const char *k;
      json_t *v;
      json_object_foreach (lim, k, v) if (json_object_get (req, k) == NULL)
        json_object_set (req, k, v);
    }
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get (c, "ports"), i, p)
  if (json_is_object (p))
    set_default (p, "protocol", json_string ("TCP"));
}

void
api_default_pod_spec (json_t *spec)
{
  if (!json_is_object (spec))
    return;
  set_default (spec, "restartPolicy", json_string ("Always"));
  set_default (spec, "terminationGracePeriodSeconds", json_integer (30));
  set_default (spec, "dnsPolicy", json_string ("ClusterFirst"));
  set_default (spec, "securityContext", json_object ());
  set_default (spec, "schedulerName", json_string ("default-scheduler"));
  set_default (spec, "enableServiceLinks", json_true ());
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (spec, "containers"), i, c)
  if (json_is_object (c))
    default_container (c);
  json_array_foreach (json_object_get (spec, "initContainers"), i, c)
  if (json_is_object (c))
    default_container (c);
}

void
api_default_pod (json_t *o)
{
  json_t *spec = json_object_get (o, "spec");
  api_default_pod_spec (spec);
  if (json_is_object (spec) && json_object_get (spec, "serviceAccountName") == NULL)
    {
      const char *sa = json_string_value (json_object_get (spec, "serviceAccount"));
      json_object_set_new (spec, "serviceAccountName", json_string (sa ? sa : "default"));
    }
  json_t *st = obj_at (o, "status");
  set_default (st, "phase", json_string ("Pending"));
}

void
api_default_service (json_t *o)
{
  json_t *spec = obj_at (o, "spec");
  set_default (spec, "type", json_string ("ClusterIP"));
  const char *type = json_string_value (json_object_get (spec, "type"));
  if (type && streq (type, "ExternalName"))
    return;
  set_default (spec, "sessionAffinity", json_string ("None"));
  set_default (spec, "internalTrafficPolicy", json_string ("Cluster"));
  set_default (spec, "ipFamilyPolicy", json_string ("SingleStack"));
  set_default (spec, "ipFamilies", json_pack ("[s]", "IPv4"));
  if (type && (streq (type, "NodePort") || streq (type, "LoadBalancer")))
    set_default (spec, "externalTrafficPolicy", json_string ("Cluster"));
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get (spec, "ports"), i, p)
  {
    if (!json_is_object (p))
      continue;
    set_default (p, "protocol", json_string ("TCP"));
    json_t *port = json_object_get (p, "port");
    if (port)
      set_default (p, "targetPort", json_incref (port));
  }
  set_default (obj_at (o, "status"), "loadBalancer", json_object ());
}

static void
default_template (json_t *spec)
{
  api_default_pod_spec (husk_json_path (spec, "template.spec"));
}

void
api_default_deployment (json_t *o)
{
  json_t *spec = obj_at (o, "spec");
  set_default (spec, "replicas", json_integer (1));
  set_default (spec, "revisionHistoryLimit", json_integer (10));
  set_default (spec, "progressDeadlineSeconds", json_integer (600));
  json_t *strat = obj_at (spec, "strategy");
  set_default (strat, "type", json_string ("RollingUpdate"));
  const char *t = json_string_value (json_object_get (strat, "type"));
  if (t && streq (t, "RollingUpdate"))
    {
      json_t *ru = obj_at (strat, "rollingUpdate");
      set_default (ru, "maxUnavailable", json_string ("25%"));
      set_default (ru, "maxSurge", json_string ("25%"));
    }
  default_template (spec);
}

void
api_default_replicaset (json_t *o)
{
  json_t *spec = obj_at (o, "spec");
  set_default (spec, "replicas", json_integer (1));
  default_template (spec);
}

void
api_default_daemonset (json_t *o)
{
  json_t *spec = obj_at (o, "spec");
  set_default (spec, "revisionHistoryLimit", json_integer (10));
  json_t *us = obj_at (spec, "updateStrategy");
  set_default (us, "type", json_string ("RollingUpdate"));
  const char *t = json_string_value (json_object_get (us, "type"));
  if (t && streq (t, "RollingUpdate"))
    {
      json_t *ru = obj_at (us, "rollingUpdate");
      set_default (ru, "maxUnavailable", json_integer (1));
      set_default (ru, "maxSurge", json_integer (0));
    }
  default_template (spec);
}

void
api_default_statefulset (json_t *o)
{
  json_t *spec = obj_at (o, "spec");
  set_default (spec, "replicas", json_integer (1));
  set_default (spec, "podManagementPolicy", json_string ("OrderedReady"));
  set_default (spec, "revisionHistoryLimit", json_integer (10));
  json_t *us = obj_at (spec, "updateStrategy");
  set_default (us, "type", json_string ("RollingUpdate"));
  const char *t = json_string_value (json_object_get (us, "type"));
  if (t && streq (t, "RollingUpdate"))
    set_default (obj_at (us, "rollingUpdate"), "partition", json_integer (0));
  json_t *rp = obj_at (spec, "persistentVolumeClaimRetentionPolicy");
  set_default (rp, "whenDeleted", json_string ("Retain"));
  set_default (rp, "whenScaled", json_string ("Retain"));
  default_template (spec);
}

/* Jobs select their pods by the job's uid, as upstream does without manualSelector. */
static void
job_selector (json_t *o, json_t *spec)
{
  const char *uid = husk_json_path_str (o, "metadata.uid");
  const char *name = husk_json_path_str (o, "metadata.name");
  if (uid == NULL || json_is_true (json_object_get (spec, "manualSelector"))
      || json_object_get (spec, "selector"))
    return;
  json_object_set_new (spec, "selector",
                       json_pack ("{s:{s:s}}", "matchLabels", "batch.kubernetes.io/controller-uid",
                                  uid));
  json_t *labels = obj_at (obj_at (obj_at (spec, "template"), "metadata"), "labels");
  json_object_set_new (labels, "batch.kubernetes.io/controller-uid", json_string (uid));
  json_object_set_new (labels, "controller-uid", json_string (uid));
  if (name)
    {
      json_object_set_new (labels, "batch.kubernetes.io/job-name", json_string (name));
      json_object_set_new (labels, "job-name", json_string (name));
    }
}

void
api_default_job (json_t *o)
{
  json_t *spec = obj_at (o, "spec");
  if (json_object_get (spec, "completions") == NULL && json_object_get (spec, "parallelism") == NULL)
    {
      json_object_set_new (spec, "completions", json_integer (1));
      json_object_set_new (spec, "parallelism", json_integer (1));
    }
  set_default (spec, "parallelism", json_integer (1));
  /* As upstream: with backoffLimitPerIndex the Job-wide limit defaults to MaxInt32. */
  set_default (spec, "backoffLimit",
               json_integer (json_object_get (spec, "backoffLimitPerIndex") ? 2147483647 : 6));
  set_default (spec, "completionMode", json_string ("NonIndexed"));
  set_default (spec, "suspend", json_false ());
  set_default (spec, "podReplacementPolicy", json_string ("TerminatingOrFailed"));
  job_selector (o, spec);
  default_template (spec);
}

void
api_default_cronjob (json_t *o)
{
  json_t *spec = obj_at (o, "spec");
  set_default (spec, "concurrencyPolicy", json_string ("Allow"));
  set_default (spec, "suspend", json_false ());
  set_default (spec, "successfulJobsHistoryLimit", json_integer (3));
  set_default (spec, "failedJobsHistoryLimit", json_integer (1));
  api_default_pod_spec (husk_json_path (spec, "jobTemplate.spec.template.spec"));
}

void
api_default_secret (json_t *o)
{
  set_default (o, "type", json_string ("Opaque"));
  json_t *sd = json_object_get (o, "stringData");
  if (!json_is_object (sd))
    return;
  json_t *data = obj_at (o, "data");
  const char *k;
  json_t *v;
  json_object_foreach (sd, k, v)
  {
    const char *s = json_string_value (v);
    if (s == NULL)
      continue;
    gnutls_datum_t in = {(unsigned char *) s, (unsigned) strlen (s)}, out;
    if (gnutls_base64_encode2 (&in, &out) < 0)
      husk_oom ();
    json_object_set_new (data, k, json_stringn ((const char *) out.data, out.size));
    gnutls_free (out.data);
  }
  json_object_del (o, "stringData");
}

void
api_default_namespace (json_t *o)
{
  const char *name = husk_json_path_str (o, "metadata.name");
  json_t *meta = obj_at (o, "metadata");
  if (name)
    json_object_set_new (obj_at (meta, "labels"), "kubernetes.io/metadata.name",
                         json_string (name));
  set_default (obj_at (o, "spec"), "finalizers", json_pack ("[s]", "kubernetes"));
  set_default (obj_at (o, "status"), "phase", json_string ("Active"));
}
