/* husk api: schema of networking, discovery, coordination, autoscaling, storage, rbac and
   events types (Kubernetes API reference, v1.32). */
#include "config.h"

#include "src/master/api/schema.h"

#define TOP "apiVersion:s kind:s metadata:ObjectMeta "

const api_type_def api_schema_other[] = {
  {"Ingress", "Rules for external access to services.", TOP "spec:obj status:obj"},
  {"IngressClass", "The class of an Ingress, naming its controller.", TOP "spec:obj"},
  {"NetworkPolicy", "Which network traffic pods may send and receive.", TOP "spec:obj"},
  {"EndpointSlice", "A subset of the endpoints that implement a service.",
   TOP "addressType:s!=IPv4|IPv6|FQDN endpoints:[obj]! ports:[obj]"},
  {"Lease", "A lease concept.", TOP "spec:LeaseSpec"},
  {"LeaseSpec", "Specification of a Lease.",
   "holderIdentity:s leaseDurationSeconds:i acquireTime:t renewTime:t leaseTransitions:i "
   "strategy:s preferredHolder:s"},
  {"HorizontalPodAutoscaler", "Automatically scales the replicas of a workload.",
   TOP "spec:HorizontalPodAutoscalerSpec status:obj"},
  {"HorizontalPodAutoscalerSpec", "What to scale, between which bounds, on which metrics.",
   "scaleTargetRef:CrossVersionObjectReference! minReplicas:i maxReplicas:i! metrics:[obj] "
   "behavior:obj"},
  {"CrossVersionObjectReference", "Identifies the object to scale.",
   "kind:s! name:s! apiVersion:s"},
  {"HorizontalPodAutoscalerV1", "Automatically scales the replicas of a workload (v1).",
   TOP "spec:HorizontalPodAutoscalerSpecV1 status:obj"},
  {"HorizontalPodAutoscalerSpecV1", "What to scale, between which bounds, at which CPU use.",
   "scaleTargetRef:CrossVersionObjectReference! minReplicas:i maxReplicas:i! "
   "targetCPUUtilizationPercentage:i"},
  {"StorageClass", "A class of storage that can be dynamically provisioned.",
   TOP "provisioner:s! parameters:map reclaimPolicy:s mountOptions:[s] "
   "allowVolumeExpansion:b volumeBindingMode:s allowedTopologies:[obj]"},
  {"PolicyRule", "Actions allowed on resources.",
   "verbs:[s]! apiGroups:[s] resources:[s] resourceNames:[s] nonResourceURLs:[s]"},
  {"Subject", "A user, group or service account.",
   "kind:s! apiGroup:s name:s! namespace:s"},
  {"RoleRef", "The role a binding refers to.", "apiGroup:s! kind:s! name:s!"},
  {"Role", "A namespaced set of PolicyRules.", TOP "rules:[PolicyRule]"},
  {"ClusterRole", "A cluster-wide set of PolicyRules.",
   TOP "rules:[PolicyRule] aggregationRule:obj"},
  {"RoleBinding", "Grants a Role's permissions to subjects in a namespace.",
   TOP "subjects:[Subject] roleRef:RoleRef!"},
  {"ClusterRoleBinding", "Grants a ClusterRole's permissions cluster-wide.",
   TOP "subjects:[Subject] roleRef:RoleRef!"},
  {"EventsV1Event", "A report of an event somewhere in the cluster (events.k8s.io).",
   TOP "eventTime:t! series:obj reportingController:s reportingInstance:s action:s reason:s "
   "regarding:ObjectReference related:ObjectReference note:s type:s deprecatedSource:obj "
   "deprecatedFirstTimestamp:t deprecatedLastTimestamp:t deprecatedCount:i"},
  {"PriorityClass", "Maps a priority class name to a priority value.",
   TOP "value:i! globalDefault:b description:s preemptionPolicy:s"},
  {"PodDisruptionBudget", "The maximum disruption that can be caused to a set of pods.",
   TOP "spec:obj status:obj"},
  {"CustomResourceDefinition", "Defines a custom resource type.", TOP "spec:obj status:obj"},
  {"SelfSubjectAccessReview", "Checks whether the current user can perform an action.",
   TOP "spec:obj! status:obj"},
  {"SubjectAccessReview", "Checks whether a user or group can perform an action.",
   TOP "spec:obj! status:obj"},
  {"SelfSubjectRulesReview", "Lists the actions the current user can perform in a namespace.",
   TOP "spec:obj! status:obj"},
  {"SelfSubjectReview", "Returns the user attributes the server sees for the request.",
   TOP "status:obj"},
  {"TokenRequest", "Requests a token for a given service account.", TOP "spec:obj! status:obj"},
  {NULL, NULL, NULL},
};
