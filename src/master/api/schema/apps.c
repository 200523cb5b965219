/* husk api: schema of apps/v1 and batch/v1 types (Kubernetes API reference, v1.32). */
#include "config.h"

#include "src/master/api/schema.h"

#define TOP "apiVersion:s kind:s metadata:ObjectMeta "

const api_type_def api_schema_apps[] = {
  {"Deployment", "Declarative updates for Pods and ReplicaSets.",
   TOP "spec:DeploymentSpec status:DeploymentStatus"},
  {"DeploymentSpec", "Desired behavior of the Deployment.",
   "replicas:i selector:LabelSelector! template:PodTemplateSpec! strategy:DeploymentStrategy "
   "minReadySeconds:i revisionHistoryLimit:i paused:b progressDeadlineSeconds:i"},
  {"DeploymentStrategy", "How to replace existing pods with new ones.",
   "type:s=Recreate|RollingUpdate rollingUpdate:obj"},
  {"DeploymentStatus", "Most recently observed status of the Deployment.",
   "observedGeneration:i replicas:i updatedReplicas:i readyReplicas:i availableReplicas:i "
   "unavailableReplicas:i terminatingReplicas:i conditions:[obj]~type collisionCount:i"},
  {"ReplicaSet", "Ensures that a specified number of pod replicas are running.",
   TOP "spec:ReplicaSetSpec status:ReplicaSetStatus"},
  {"ReplicaSetSpec", "Specification of a ReplicaSet.",
   "replicas:i minReadySeconds:i selector:LabelSelector! template:PodTemplateSpec"},
  {"ReplicaSetStatus", "Most recently observed status of a ReplicaSet.",
   "replicas:i fullyLabeledReplicas:i readyReplicas:i availableReplicas:i "
   "terminatingReplicas:i observedGeneration:i conditions:[obj]~type"},
  {"DaemonSet", "Runs a copy of a pod on every eligible node.",
   TOP "spec:DaemonSetSpec status:obj"},
  {"DaemonSetSpec", "Specification of a daemon set.",
   "selector:LabelSelector! template:PodTemplateSpec! updateStrategy:obj minReadySeconds:i "
   "revisionHistoryLimit:i"},
  {"StatefulSet", "Pods with consistent identities.", TOP "spec:StatefulSetSpec status:obj"},
  {"StatefulSetSpec", "Specification of a StatefulSet.",
   "replicas:i selector:LabelSelector! template:PodTemplateSpec! volumeClaimTemplates:[obj] "
   "serviceName:s podManagementPolicy:s=OrderedReady|Parallel updateStrategy:obj "
   "revisionHistoryLimit:i minReadySeconds:i persistentVolumeClaimRetentionPolicy:obj "
   "ordinals:obj"},
  {"ControllerRevision", "An immutable snapshot of state data.",
   TOP "data:any revision:i!"},
  {"Job", "The configuration of a single job.", TOP "spec:JobSpec status:obj"},
  {"JobSpec", "Description of a job.",
   "parallelism:i completions:i activeDeadlineSeconds:i podFailurePolicy:obj "
   "successPolicy:obj backoffLimit:i backoffLimitPerIndex:i maxFailedIndexes:i "
   "selector:LabelSelector manualSelector:b template:PodTemplateSpec! "
   "ttlSecondsAfterFinished:i completionMode:s=NonIndexed|Indexed suspend:b "
   "podReplacementPolicy:s managedBy:s"},
  {"JobTemplateSpec", "The Job to create from a CronJob.", "metadata:ObjectMeta spec:JobSpec"},
  {"CronJob", "A single cron job.", TOP "spec:CronJobSpec status:obj"},
  {"CronJobSpec", "Schedule and template of a cron job.",
   "schedule:s! timeZone:s startingDeadlineSeconds:i concurrencyPolicy:s=Allow|Forbid|Replace "
   "suspend:b jobTemplate:JobTemplateSpec! successfulJobsHistoryLimit:i "
   "failedJobsHistoryLimit:i"},
  {NULL, NULL, NULL},
};
