/* husk api: schema of core/v1 types (from the Kubernetes API reference, v1.32). */
#include "config.h"

#include "src/master/api/schema.h"

#define TOP "apiVersion:s kind:s metadata:ObjectMeta "

const api_type_def api_schema_core[] = {
  /* ---- Pod ---- */
  {"Pod", "A collection of containers that can run on a host.",
   TOP "spec:PodSpec status:PodStatus"},
  {"PodTemplateSpec", "Describes the pods that will be created.",
   "metadata:ObjectMeta spec:PodSpec"},
  {"PodSpec", "Specification of the desired behavior of the pod.",
   "volumes:[Volume]~name initContainers:[Container]~name containers:[Container]!~name "
   "ephemeralContainers:[obj]~name restartPolicy:s=Always|OnFailure|Never "
   "terminationGracePeriodSeconds:i activeDeadlineSeconds:i "
   "dnsPolicy:s=ClusterFirstWithHostNet|ClusterFirst|Default|None nodeSelector:map "
   "serviceAccountName:s serviceAccount:s automountServiceAccountToken:b nodeName:s "
   "hostNetwork:b hostPID:b hostIPC:b shareProcessNamespace:b securityContext:obj "
   "imagePullSecrets:[LocalObjectReference]~name hostname:s subdomain:s affinity:obj "
   "schedulerName:s tolerations:[Toleration] hostAliases:[obj]~ip priorityClassName:s "
   "priority:i dnsConfig:obj readinessGates:[obj] runtimeClassName:s enableServiceLinks:b "
   "preemptionPolicy:s overhead:map<q> topologySpreadConstraints:[obj]~topologyKey "
   "setHostnameAsFQDN:b os:obj hostUsers:b schedulingGates:[obj]~name "
   "resourceClaims:[obj]~name resources:ResourceRequirements"},
  {"Container", "A single application container that you want to run within a pod.",
   "name:s! image:s command:[s] args:[s] workingDir:s ports:[ContainerPort]~containerPort "
   "envFrom:[obj] env:[EnvVar]~name resources:ResourceRequirements resizePolicy:[obj] "
   "restartPolicy:s volumeMounts:[VolumeMount]~mountPath volumeDevices:[obj]~devicePath "
   "livenessProbe:Probe readinessProbe:Probe startupProbe:Probe lifecycle:obj "
   "terminationMessagePath:s terminationMessagePolicy:s=File|FallbackToLogsOnError "
   "imagePullPolicy:s=Always|Never|IfNotPresent securityContext:obj stdin:b stdinOnce:b tty:b"},
  {"ContainerPort", "A network port in a single container.",
   "name:s hostPort:i containerPort:i! protocol:s=TCP|UDP|SCTP hostIP:s"},
  {"EnvVar", "An environment variable present in a Container.",
   "name:s! value:s valueFrom:obj"},
  {"VolumeMount", "A mounting of a Volume within a container.",
   "name:s! readOnly:b recursiveReadOnly:s mountPath:s! subPath:s mountPropagation:s "
   "subPathExpr:s"},
  {"ResourceRequirements", "Compute resource requirements.",
   "limits:map<q> requests:map<q> claims:[obj]"},
  {"Probe", "A health check performed against a container.",
   "exec:obj httpGet:obj tcpSocket:obj grpc:obj initialDelaySeconds:i timeoutSeconds:i "
   "periodSeconds:i successThreshold:i failureThreshold:i terminationGracePeriodSeconds:i"},
  {"Toleration", "Tolerates any taint that matches the triple key,value,effect.",
   "key:s operator:s=Exists|Equal value:s effect:s tolerationSeconds:i"},
  {"LocalObjectReference", "A reference to an object in the same namespace.", "name:s"},
  {"Volume", "A named volume in a pod.",
   "name:s! hostPath:obj emptyDir:obj gcePersistentDisk:obj awsElasticBlockStore:obj "
   "gitRepo:obj secret:obj nfs:obj iscsi:obj glusterfs:obj persistentVolumeClaim:obj rbd:obj "
   "flexVolume:obj cinder:obj cephfs:obj flocker:obj downwardAPI:obj fc:obj azureFile:obj "
   "configMap:obj vsphereVolume:obj quobyte:obj azureDisk:obj photonPersistentDisk:obj "
   "projected:obj portworxVolume:obj scaleIO:obj storageos:obj csi:obj ephemeral:obj "
   "image:obj"},
  {"PodStatus", "Most recently observed status of the pod.",
   "observedGeneration:i phase:s=Pending|Running|Succeeded|Failed|Unknown "
   "conditions:[obj]~type message:s reason:s nominatedNodeName:s hostIP:s hostIPs:[obj]~ip "
   "podIP:s podIPs:[obj]~ip startTime:t initContainerStatuses:[obj] "
   "containerStatuses:[obj] qosClass:s ephemeralContainerStatuses:[obj] resize:s "
   "resourceClaimStatuses:[obj]~name"},
  {"Binding", "Ties one object to another, e.g. a pod to a node.",
   TOP "target:ObjectReference!"},
  {"ObjectReference", "A reference to an object.",
   "kind:s namespace:s name:s uid:s apiVersion:s resourceVersion:s fieldPath:s"},
  {"Eviction", "Evicts a pod from its node subject to disruption budgets.",
   TOP "deleteOptions:DeleteOptions"},
  /* ---- Namespace, Node ---- */
  {"Namespace", "A scope for names.", TOP "spec:NamespaceSpec status:NamespaceStatus"},
  {"NamespaceSpec", "Attributes of a Namespace.", "finalizers:[s]"},
  {"NamespaceStatus", "Observed state of a Namespace.",
   "phase:s=Active|Terminating conditions:[obj]~type"},
  {"Node", "A worker node.", TOP "spec:NodeSpec status:NodeStatus"},
  {"NodeSpec", "Attributes of a node.",
   "podCIDR:s podCIDRs:[s]~ providerID:s unschedulable:b taints:[Taint] configSource:obj "
   "externalID:s"},
  {"Taint", "A taint repels pods that do not tolerate it.",
   "key:s! value:s effect:s!=NoSchedule|PreferNoSchedule|NoExecute timeAdded:t"},
  {"NodeStatus", "Current status of a node.",
   "capacity:map<q> allocatable:map<q> phase:s conditions:[obj]~type addresses:[obj]~type "
   "daemonEndpoints:obj nodeInfo:obj images:[obj] volumesInUse:[s] volumesAttached:[obj] "
   "config:obj runtimeHandlers:[obj] features:obj"},
  /* ---- Service, Endpoints ---- */
  {"Service", "A named abstraction of software service.",
   TOP "spec:ServiceSpec status:ServiceStatus"},
  {"ServiceSpec", "Attributes of a Service.",
   "ports:[ServicePort]~port selector:map clusterIP:s clusterIPs:[s] "
   "type:s=ClusterIP|NodePort|LoadBalancer|ExternalName externalIPs:[s] "
   "sessionAffinity:s=ClientIP|None loadBalancerIP:s loadBalancerSourceRanges:[s] "
   "externalName:s externalTrafficPolicy:s=Cluster|Local healthCheckNodePort:i "
   "publishNotReadyAddresses:b sessionAffinityConfig:obj ipFamilies:[s] "
   "ipFamilyPolicy:s=SingleStack|PreferDualStack|RequireDualStack "
   "allocateLoadBalancerNodePorts:b loadBalancerClass:s internalTrafficPolicy:s=Cluster|Local "
   "trafficDistribution:s"},
  {"ServicePort", "A port of a Service.",
   "name:s protocol:s=TCP|UDP|SCTP appProtocol:s port:i! targetPort:io nodePort:i"},
  {"ServiceStatus", "Current status of a service.", "loadBalancer:obj conditions:[obj]~type"},
  {"Endpoints", "The endpoints that implement a service.", TOP "subsets:[obj]"},
  /* ---- config ---- */
  {"ConfigMap", "Configuration data for pods to consume.",
   TOP "data:map binaryData:map immutable:b"},
  {"Secret", "Secret data; values are base64 encoded.",
   TOP "data:map stringData:map type:s immutable:b"},
  {"ServiceAccount", "An identity for processes that run in a Pod.",
   TOP "secrets:[ObjectReference]~name imagePullSecrets:[LocalObjectReference] "
   "automountServiceAccountToken:b"},
  {"Event", "A report of an event somewhere in the cluster.",
   TOP "involvedObject:ObjectReference! reason:s message:s source:obj firstTimestamp:t "
   "lastTimestamp:t count:i type:s eventTime:t series:obj action:s related:ObjectReference "
   "reportingComponent:s reportingInstance:s"},
  {"PersistentVolume", "A piece of storage in the cluster.", TOP "spec:obj status:obj"},
  {"PersistentVolumeClaim", "A user's request for and claim to a persistent volume.",
   TOP "spec:obj status:obj"},
  {"ResourceQuota", "Aggregate quota restrictions per namespace.", TOP "spec:obj status:obj"},
  {"LimitRange", "Resource usage limits per kind in a namespace.", TOP "spec:obj"},
  {NULL, NULL, NULL},
};
