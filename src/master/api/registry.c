/* husk api: the served resources. */
#include "config.h"

#include <pthread.h>

#include "lib/util.h"
#include "src/master/api/defaults.h"
#include "src/master/api/handlers.h"
#include "src/master/api/pods.h"
#include "src/master/api/registry.h"
#include "src/master/api/table.h"

#define END {NULL, NULL, NULL, 0, NULL, NULL}

static const api_column pod_cols[]
    = {{"Ready", "string", "", 0, api_cell_pod_ready, NULL},
       {"Status", "string", "", 0, api_cell_pod_status, NULL},
       {"Restarts", "string", "", 0, api_cell_pod_restarts, NULL},
       {"Age", "string", "", 0, NULL, NULL},
       {"IP", "string", "", 1, NULL, "status.podIP"},
       {"Node", "string", "", 1, NULL, "spec.nodeName"},
       {"Nominated Node", "string", "", 1, NULL, "status.nominatedNodeName"},
       {"Readiness Gates", "string", "", 1, api_cell_pod_gates, NULL},
       END};
static const api_column ns_cols[] = {{"Status", "string", "", 0, NULL, "status.phase"},
                                     {"Age", "string", "", 0, NULL, NULL},
                                     END};
static const api_column node_cols[]
    = {{"Status", "string", "", 0, api_cell_node_status, NULL},
       {"Roles", "string", "", 0, api_cell_node_roles, NULL},
       {"Age", "string", "", 0, NULL, NULL},
       {"Version", "string", "", 0, NULL, "status.nodeInfo.kubeletVersion"},
       {"Internal-IP", "string", "", 1, api_cell_node_internal_ip, NULL},
       {"External-IP", "string", "", 1, api_cell_node_external_ip, NULL},
       {"OS-Image", "string", "", 1, NULL, "status.nodeInfo.osImage"},
       {"Kernel-Version", "string", "", 1, NULL, "status.nodeInfo.kernelVersion"},
       {"Container-Runtime", "string", "", 1, NULL, "status.nodeInfo.containerRuntimeVersion"},
       END};
static const api_column svc_cols[] = {{"Type", "string", "", 0, NULL, "spec.type"},
                                      {"Cluster-IP", "string", "", 0, NULL, "spec.clusterIP"},
                                      {"External-IP", "string", "", 0, api_cell_svc_external_ip, NULL},
                                      {"Port(s)", "string", "", 0, api_cell_svc_ports, NULL},
                                      {"Age", "string", "", 0, NULL, NULL},
                                      {"Selector", "string", "", 1, api_cell_selector_map, NULL},
                                      END};
static const api_column pc_cols[]
    = {{"Value", "integer", "", 0, api_cell_pc_value, NULL},
       {"Global-Default", "boolean", "", 0, api_cell_pc_default, NULL},
       {"Age", "string", "", 0, NULL, NULL},
       {"PreemptionPolicy", "string", "", 0, NULL, "preemptionPolicy"},
       {NULL, NULL, NULL, 0, NULL, NULL}};
static const api_column cm_cols[] = {{"Data", "integer", "", 0, api_cell_data_count, NULL},
                                     {"Age", "string", "", 0, NULL, NULL},
                                     END};
static const api_column secret_cols[] = {{"Type", "string", "", 0, NULL, "type"},
                                         {"Data", "integer", "", 0, api_cell_data_count, NULL},
                                         {"Age", "string", "", 0, NULL, NULL},
                                         END};
static const api_column deploy_cols[]
    = {{"Ready", "string", "", 0, api_cell_deploy_ready, NULL},
       {"Up-to-date", "integer", "", 0, api_cell_updated_replicas, NULL},
       {"Available", "integer", "", 0, api_cell_available_replicas, NULL},
       {"Age", "string", "", 0, NULL, NULL},
       {"Containers", "string", "", 1, api_cell_containers, NULL},
       {"Images", "string", "", 1, api_cell_images, NULL},
       {"Selector", "string", "", 1, api_cell_label_selector, NULL},
       END};
static const api_column rs_cols[] = {{"Desired", "integer", "", 0, api_cell_replicas, NULL},
                                     {"Current", "integer", "", 0, api_cell_status_replicas, NULL},
                                     {"Ready", "integer", "", 0, api_cell_ready_replicas, NULL},
                                     {"Age", "string", "", 0, NULL, NULL},
                                     {"Containers", "string", "", 1, api_cell_containers, NULL},
                                     {"Images", "string", "", 1, api_cell_images, NULL},
                                     {"Selector", "string", "", 1, api_cell_label_selector, NULL},
                                     END};
static const api_column ds_cols[]
    = {{"Desired", "integer", "", 0, api_cell_ds_desired, NULL},
       {"Current", "integer", "", 0, api_cell_ds_current, NULL},
       {"Ready", "integer", "", 0, api_cell_ds_ready, NULL},
       {"Up-to-date", "integer", "", 0, api_cell_ds_updated, NULL},
       {"Available", "integer", "", 0, api_cell_ds_available, NULL},
       {"Node Selector", "string", "", 0, api_cell_node_selector, NULL},
       {"Age", "string", "", 0, NULL, NULL},
       {"Containers", "string", "", 1, api_cell_containers, NULL},
       {"Images", "string", "", 1, api_cell_images, NULL},
       {"Selector", "string", "", 1, api_cell_label_selector, NULL},
       END};
static const api_column sts_cols[] = {{"Ready", "string", "", 0, api_cell_sts_ready, NULL},
                                      {"Age", "string", "", 0, NULL, NULL},
                                      {"Containers", "string", "", 1, api_cell_containers, NULL},
                                      {"Images", "string", "", 1, api_cell_images, NULL},
                                      END};
static const api_column job_cols[]
    = {{"Status", "string", "", 0, api_cell_job_status, NULL},
       {"Completions", "string", "", 0, api_cell_job_completions, NULL},
       {"Age", "string", "", 0, NULL, NULL},
       {"Containers", "string", "", 1, api_cell_containers, NULL},
       {"Images", "string", "", 1, api_cell_images, NULL},
       {"Selector", "string", "", 1, api_cell_label_selector, NULL},
       END};
static const api_column cronjob_cols[]
    = {{"Schedule", "string", "", 0, NULL, "spec.schedule"},
       {"Timezone", "string", "", 0, NULL, "spec.timeZone"},
       {"Suspend", "boolean", "", 0, api_cell_bool_suspend, NULL},
       {"Active", "integer", "", 0, api_cell_cronjob_active, NULL},
       {"Last Schedule", "string", "", 0, api_cell_cronjob_last, NULL},
       {"Age", "string", "", 0, NULL, NULL},
       END};
static const api_column ep_cols[] = {{"Endpoints", "string", "", 0, api_cell_endpoints, NULL},
                                     {"Age", "string", "", 0, NULL, NULL},
                                     END};
static const api_column sa_cols[] = {{"Secrets", "integer", "", 0, api_cell_sa_secrets, NULL},
                                     {"Age", "string", "", 0, NULL, NULL},
                                     END};
static const api_column event_cols[]
    = {{"Last Seen", "string", "", 0, api_cell_event_last_seen, NULL},
       {"Type", "string", "", 0, NULL, "type"},
       {"Reason", "string", "", 0, NULL, "reason"},
       {"Object", "string", "", 0, api_cell_event_object, NULL},
       {"Subobject", "string", "", 1, NULL, "involvedObject.fieldPath"},
       {"Source", "string", "", 1, api_cell_event_source, NULL},
       {"Message", "string", "", 0, NULL, "message"},
       {"First Seen", "string", "", 1, api_cell_event_first_seen, NULL},
       {"Count", "string", "", 1, api_cell_event_count, NULL},
       {"Name", "string", "name", 1, NULL, "metadata.name"},
       END};
static const api_column lease_cols[] = {{"Holder", "string", "", 0, NULL, "spec.holderIdentity"},
                                        {"Age", "string", "", 0, NULL, NULL},
                                        END};
static const api_column binding_cols[] = {{"Role", "string", "", 0, api_cell_role_ref, NULL},
                                          {"Age", "string", "", 0, NULL, NULL},
                                          END};
static const api_column hpa_cols[]
    = {{"Reference", "string", "", 0, api_cell_hpa_reference, NULL},
       {"Targets", "string", "", 0, api_cell_hpa_targets, NULL},
       {"MinPods", "string", "", 0, api_cell_hpa_min, NULL},
       {"MaxPods", "integer", "", 0, api_cell_hpa_max, NULL},
       {"Replicas", "integer", "", 0, api_cell_hpa_replicas, NULL},
       {"Age", "string", "", 0, NULL, NULL},
       END};
static const api_column age_cols[] = {{"Age", "string", "", 0, NULL, NULL}, END};

static const char *const pod_fields[]
    = {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
       "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName", NULL};
static const char *const node_fields[] = {"spec.unschedulable", NULL};
static const char *const ns_fields[] = {"status.phase", NULL};
static const char *const secret_fields[] = {"type", NULL};
static const char *const event_fields[]
    = {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
       "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
       "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type", NULL};
static const char *const rs_fields[] = {"status.replicas", NULL};
static const char *const job_fields[] = {"status.successful", NULL};

#define SC API_SUB_STATUS
#define SS (API_SUB_STATUS | API_SUB_SCALE)

const api_resource api_resources[] = {
  /* core/v1 */
  {"", "v1", "Pod", "pods", "pod", "po", true, true, SC | API_SUB_BINDING | API_SUB_EVICTION | API_SUB_STREAMS,
   "Pod", NULL, pod_cols, pod_fields, api_default_pod, api_validate_pod, NULL},
  {"", "v1", "Namespace", "namespaces", "namespace", "ns", false, false, SC, "Namespace", NULL,
   ns_cols, ns_fields, api_default_namespace, NULL, NULL},
  {"", "v1", "Node", "nodes", "node", "no", false, false, SC, "Node", NULL, node_cols,
   node_fields, NULL, NULL, NULL},
  {"", "v1", "Service", "services", "service", "svc", true, true, SC, "Service", NULL, svc_cols,
   NULL, api_default_service, api_validate_service, NULL},
  {"", "v1", "Endpoints", "endpoints", "endpoints", "ep", false, true, 0, "Endpoints", NULL,
   ep_cols, NULL, NULL, NULL, NULL},
  {"", "v1", "ConfigMap", "configmaps", "configmap", "cm", false, true, 0, "ConfigMap", NULL,
   cm_cols, NULL, NULL, api_validate_configmap, NULL},
  {"", "v1", "Secret", "secrets", "secret", NULL, false, true, 0, "Secret", NULL, secret_cols,
   secret_fields, api_default_secret, api_validate_configmap, NULL},
  {"", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", "sa", false, true,
   API_SUB_TOKEN,
   "ServiceAccount", NULL, sa_cols, NULL, NULL, NULL, NULL},
  {"", "v1", "Event", "events", "event", "ev", false, true, 0, "Event", NULL, event_cols,
   event_fields, NULL, NULL, NULL, false, NULL, NULL, true},
  {"", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", "pv", false, false,
   SC, "PersistentVolume", NULL, age_cols, NULL, NULL, NULL, NULL},
  {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", "pvc",
   false, true, SC, "PersistentVolumeClaim", NULL, age_cols, NULL, NULL, NULL, NULL},
  {"", "v1", "ResourceQuota", "resourcequotas", "resourcequota", "quota", false, true, SC,
   "ResourceQuota", NULL, age_cols, NULL, NULL, NULL, NULL},
  {"", "v1", "LimitRange", "limitranges", "limitrange", "limits", false, true, 0, "LimitRange",
   NULL, age_cols, NULL, NULL, NULL, NULL},
  /* apps/v1 */
  {"apps", "v1", "Deployment", "deployments", "deployment", "deploy", true, true, SS,
   "Deployment", "spec.replicas", deploy_cols, NULL, api_default_deployment,
   api_validate_workload, NULL},
  {"apps", "v1", "ReplicaSet", "replicasets", "replicaset", "rs", true, true, SS, "ReplicaSet",
   "spec.replicas", rs_cols, rs_fields, api_default_replicaset, api_validate_workload, NULL},
  {"apps", "v1", "DaemonSet", "daemonsets", "daemonset", "ds", true, true, SC, "DaemonSet",
   NULL, ds_cols, NULL, api_default_daemonset, api_validate_workload, NULL},
  {"apps", "v1", "StatefulSet", "statefulsets", "statefulset", "sts", true, true, SS,
   "StatefulSet", "spec.replicas", sts_cols, NULL, api_default_statefulset,
   api_validate_workload, NULL},
  {"apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", NULL, false,
   true, 0, "ControllerRevision", NULL, age_cols, NULL, NULL, NULL, NULL},
  /* batch/v1 */
  {"batch", "v1", "Job", "jobs", "job", NULL, true, true, SC, "Job", NULL, job_cols, job_fields,
   api_default_job, api_validate_workload, NULL},
  {"batch", "v1", "CronJob", "cronjobs", "cronjob", "cj", true, true, SC, "CronJob", NULL,
   cronjob_cols, NULL, api_default_cronjob, NULL, NULL},
  /* networking.k8s.io/v1 */
  {"networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", "ing", false, true, SC,
   "Ingress", NULL, age_cols, NULL, NULL, NULL, NULL},
  {"networking.k8s.io", "v1", "IngressClass", "ingressclasses", "ingressclass", NULL, false,
   false, 0, "IngressClass", NULL, age_cols, NULL, NULL, NULL, NULL},
  {"networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", "netpol",
   false, true, 0, "NetworkPolicy", NULL, age_cols, NULL, NULL, NULL, NULL},
  /* discovery.k8s.io/v1 */
  {"discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", NULL, false,
   true, 0, "EndpointSlice", NULL, age_cols, NULL, NULL, NULL, NULL},
  /* coordination.k8s.io/v1 */
  {"coordination.k8s.io", "v1", "Lease", "leases", "lease", NULL, false, true, 0, "Lease", NULL,
   lease_cols, NULL, NULL, NULL, NULL},
  /* autoscaling */
  {"autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
   "horizontalpodautoscaler", "hpa", true, true, SC, "HorizontalPodAutoscaler", NULL, hpa_cols,
   NULL, NULL, NULL, NULL},
  {"autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
   "horizontalpodautoscaler", "hpa", true, true, SC, "HorizontalPodAutoscalerV1", NULL,
   hpa_cols, NULL, NULL, NULL, NULL, false, api_hpa_v1_to_v2, api_hpa_v2_to_v1},
  /* storage.k8s.io/v1 */
  {"storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", "sc", false, false,
   0, "StorageClass", NULL, age_cols, NULL, NULL, NULL, NULL},
  /* rbac.authorization.k8s.io/v1 */
  {"rbac.authorization.k8s.io", "v1", "Role", "roles", "role", NULL, false, true, 0, "Role",
   NULL, age_cols, NULL, NULL, NULL, NULL},
  {"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", NULL, false,
   false, 0, "ClusterRole", NULL, age_cols, NULL, NULL, NULL, NULL},
  {"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", NULL, false,
   true, 0, "RoleBinding", NULL, binding_cols, NULL, NULL, NULL, NULL},
  {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings",
   "clusterrolebinding", NULL, false, false, 0, "ClusterRoleBinding", NULL, binding_cols, NULL,
   NULL, NULL, NULL},
  /* events.k8s.io/v1 shares storage with core events */
  {"events.k8s.io", "v1", "Event", "events", "event", "ev", false, true, 0, "EventsV1Event",
   NULL, event_cols, event_fields, NULL, NULL, NULL, false, api_event_v1_to_core,
   api_event_core_to_v1, true},
  /* scheduling, policy */
  {"scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", "pc", false,
   false, 0, "PriorityClass", NULL, pc_cols, NULL, api_default_priorityclass,
   api_validate_priorityclass, NULL},
  {"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", "pdb",
   false, true, SC, "PodDisruptionBudget", NULL, age_cols, NULL, NULL, NULL, NULL},
  /* authorization.k8s.io/v1: every authenticated user may do everything (no RBAC yet) */
  {"authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
   "selfsubjectaccessreview", NULL, false, false, 0, "SelfSubjectAccessReview", NULL, age_cols,
   NULL, NULL, NULL, NULL, true},
  {"authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews",
   "subjectaccessreview", NULL, false, false, 0, "SubjectAccessReview", NULL, age_cols, NULL,
   NULL, NULL, NULL, true},
  {"authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews",
   "selfsubjectrulesreview", NULL, false, false, 0, "SelfSubjectRulesReview", NULL, age_cols,
   NULL, NULL, NULL, NULL, true},
  /* authentication.k8s.io/v1: `kubectl auth whoami` */
  {"authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", "selfsubjectreview",
   NULL, false, false, 0, "SelfSubjectReview", NULL, age_cols, NULL, NULL, NULL, NULL, true},
  {NULL, NULL, NULL, NULL, NULL, NULL, false, false, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   false},
};

const api_resource *
api_registry_find (const char *group, const char *version, const char *plural)
{
  for (const api_resource *r = api_resources; r->plural; r++)
    if (streq (r->group, group) && streq (r->version, version) && streq (r->plural, plural))
      return r;
  return NULL;
}

const char *const *
api_registry_group_versions (void)
{
  static const char *gv[64];
  static char bufs[64][96];
  static int done;
  if (__atomic_load_n (&done, __ATOMIC_ACQUIRE))
    return gv;
  static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock (&m);
  if (!done)
    {
      size_t n = 0;
      for (const api_resource *r = api_resources; r->plural; r++)
        {
          char b[96];
          api_resource_api_version (r, b, sizeof b);
          bool seen = false;
          for (size_t i = 0; i < n && !seen; i++)
            seen = streq (gv[i], b);
          if (!seen && n + 1 < ARRAY_SIZE (gv))
            {
              snprintf (bufs[n], sizeof bufs[n], "%s", b);
              gv[n] = bufs[n];
              n++;
            }
        }
      gv[n] = NULL;
      __atomic_store_n (&done, 1, __ATOMIC_RELEASE);
    }
  pthread_mutex_unlock (&m);
  return gv;
}

const char *
api_resource_api_version (const api_resource *res, char *buf, size_t len)
{
  /* Without snprintf: three calls on every create. */
  size_t g = strlen (res->group), v = strlen (res->version);
  if (len == 0)
    return buf;
  if (g == 0 || g + 1 + v >= len)
    {
      if (g == 0 && v < len)
        memcpy (buf, res->version, v + 1);
      else
        snprintf (buf, len, "%s%s%s", res->group, g ? "/" : "", res->version);
      return buf;
    }
  memcpy (buf, res->group, g);
  buf[g] = '/';
  memcpy (buf + g + 1, res->version, v + 1);
  return buf;
}

/* The store key prefix: one per group+plural, so autoscaling v1 and v2 share objects. */
const char *
api_resource_storage (const api_resource *res)
{
  return res->storage ? res->storage : res->plural;
}
