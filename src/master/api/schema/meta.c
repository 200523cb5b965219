/* husk api: schema of meta.k8s.io/v1 types shared by every object. */
#include "config.h"

#include "src/master/api/schema.h"

const api_type_def api_schema_meta[] = {
  {"ObjectMeta", "Standard object's metadata.",
   "name:s generateName:s namespace:s selfLink:s uid:s resourceVersion:s generation:i "
   "creationTimestamp:t deletionTimestamp:t deletionGracePeriodSeconds:i labels:map "
   "annotations:map ownerReferences:[OwnerReference]~uid finalizers:[s]~ "
   "managedFields:[ManagedFieldsEntry]"},
  {"OwnerReference", "Information to identify an owning object in the same namespace.",
   "apiVersion:s! kind:s! name:s! uid:s! controller:b blockOwnerDeletion:b"},
  {"ManagedFieldsEntry", "Which fields a field manager manages.",
   "manager:s operation:s=Apply|Update apiVersion:s time:t fieldsType:s fieldsV1:obj "
   "subresource:s"},
  {"LabelSelector", "A label query over a set of resources.",
   "matchLabels:map matchExpressions:[LabelSelectorRequirement]"},
  {"LabelSelectorRequirement", "A selector requirement: key, operator and values.",
   "key:s! operator:s!=In|NotIn|Exists|DoesNotExist values:[s]"},
  {"ListMeta", "Metadata of synthetic resources (lists).",
   "selfLink:s resourceVersion:s continue:s remainingItemCount:i"},
  {"Condition", "One aspect of the current state of a resource.",
   "type:s! status:s!=True|False|Unknown observedGeneration:i lastTransitionTime:t! "
   "reason:s! message:s!"},
  {"DeleteOptions", "Options for a delete request.",
   "kind:s apiVersion:s gracePeriodSeconds:i preconditions:Preconditions orphanDependents:b "
   "propagationPolicy:s=Orphan|Background|Foreground dryRun:[s] "
   "ignoreStoreReadErrorWithClusterBreakingPotential:b"},
  {"Preconditions", "Must be fulfilled before an operation is carried out.",
   "uid:s resourceVersion:s"},
  {"Status", "The result of an operation that does not return an object.",
   "kind:s apiVersion:s metadata:ListMeta status:s message:s reason:s details:obj code:i"},
  {"ScaleSpec", "Desired state of a scale subresource.", "replicas:i"},
  {"ScaleStatus", "Observed state of a scale subresource.", "replicas:i! selector:s"},
  {"Scale", "Scaling request for a resource.",
   "apiVersion:s kind:s metadata:ObjectMeta spec:ScaleSpec status:ScaleStatus"},
  {NULL, NULL, NULL},
};
