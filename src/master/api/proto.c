/* husk api: protobuf request bodies as kubectl 1.32 sends them for `create deployment|
   namespace|configmap|secret|service|job|cronjob|serviceaccount|token|role|rolebinding|
   clusterrole|clusterrolebinding|quota|pdb|priorityclass|ingress`, `autoscale` and drain's
   DeleteOptions: "k8s\0" + runtime.Unknown
   {1: TypeMeta{1: apiVersion, 2: kind}, 2: raw}. raw is decoded with field tables taken from
   the types' generated.proto. Go's generated marshallers always write non-pointer fields, so
   empty strings, zeros, false and empty messages are dropped unless the field is a pointer
   (marked '*'), as JSON's omitempty would. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "lib/json.h"
#include "src/master/api/proto.h"

/* "num:jsonName:type[*]" space separated; types: s string, i varint, b bool, y bytes (base64),
   ss repeated string, m map<string,string>, my map<string,bytes>, mq map<string,Quantity>,
   t Time, q Quantity, io IntOrString, Name (message), [Name] (repeated message). */
typedef struct msg_def
{
  const char *name;
  const char *fields;
} msg_def;

static const msg_def msgs[] = {
  {"ObjectMeta", "1:name:s 2:generateName:s 3:namespace:s 4:selfLink:s 5:uid:s "
                 "6:resourceVersion:s 7:generation:i 8:creationTimestamp:t 9:deletionTimestamp:t "
                 "10:deletionGracePeriodSeconds:i* 11:labels:m 12:annotations:m "
                 "13:ownerReferences:[OwnerReference] 14:finalizers:ss"},
  {"OwnerReference", "5:apiVersion:s 1:kind:s 3:name:s 4:uid:s 6:controller:b* "
                     "7:blockOwnerDeletion:b*"},
  {"TypeMeta", "1:apiVersion:s 2:kind:s"},
  {"Namespace", "1:metadata:ObjectMeta 2:spec:NamespaceSpec 3:status:NamespaceStatus"},
  {"NamespaceSpec", "1:finalizers:ss"},
  {"NamespaceStatus", "1:phase:s"},
  {"ConfigMap", "1:metadata:ObjectMeta 2:data:m 3:binaryData:my 4:immutable:b*"},
  {"Secret", "1:metadata:ObjectMeta 2:data:my 3:type:s 4:stringData:m 5:immutable:b*"},
  {"Service", "1:metadata:ObjectMeta 2:spec:ServiceSpec 3:status:ServiceStatus"},
  {"ServiceSpec", "1:ports:[ServicePort] 2:selector:m 3:clusterIP:s 18:clusterIPs:ss 4:type:s "
                  "5:externalIPs:ss 7:sessionAffinity:s 8:loadBalancerIP:s "
                  "9:loadBalancerSourceRanges:ss 10:externalName:s 11:externalTrafficPolicy:s "
                  "12:healthCheckNodePort:i 13:publishNotReadyAddresses:b 19:ipFamilies:ss "
                  "17:ipFamilyPolicy:s* 20:allocateLoadBalancerNodePorts:b* "
                  "21:loadBalancerClass:s* 22:internalTrafficPolicy:s* 23:trafficDistribution:s*"},
  {"ServicePort", "1:name:s 2:protocol:s 6:appProtocol:s* 3:port:i 4:targetPort:io 5:nodePort:i"},
  {"ServiceStatus", ""},
  {"Deployment", "1:metadata:ObjectMeta 2:spec:DeploymentSpec 3:status:Empty"},
  {"DeploymentSpec", "1:replicas:i* 2:selector:LabelSelector 3:template:PodTemplateSpec "
                     "4:strategy:DeploymentStrategy 5:minReadySeconds:i "
                     "6:revisionHistoryLimit:i* 7:paused:b 9:progressDeadlineSeconds:i*"},
  {"DeploymentStrategy", "1:type:s 2:rollingUpdate:RollingUpdateDeployment"},
  {"RollingUpdateDeployment", "1:maxUnavailable:io 2:maxSurge:io"},
  {"LabelSelector", "1:matchLabels:m 2:matchExpressions:[LabelSelectorRequirement]"},
  {"LabelSelectorRequirement", "1:key:s 2:operator:s 3:values:ss"},
  {"PodTemplateSpec", "1:metadata:ObjectMeta 2:spec:PodSpec"},
  {"PodSpec", "2:containers:[Container] 20:initContainers:[Container] 3:restartPolicy:s "
              "4:terminationGracePeriodSeconds:i* 5:activeDeadlineSeconds:i* 6:dnsPolicy:s "
              "7:nodeSelector:m 8:serviceAccountName:s 9:serviceAccount:s 10:nodeName:s "
              "11:hostNetwork:b 12:hostPID:b 13:hostIPC:b 16:hostname:s 17:subdomain:s "
              "19:schedulerName:s 24:priorityClassName:s 25:priority:i* "
              "29:runtimeClassName:s* 30:enableServiceLinks:b*"},
  {"Container", "1:name:s 2:image:s 3:command:ss 4:args:ss 5:workingDir:s "
                "6:ports:[ContainerPort] 7:env:[EnvVar] 8:resources:ResourceRequirements "
                "13:terminationMessagePath:s 20:terminationMessagePolicy:s 14:imagePullPolicy:s "
                "16:stdin:b 17:stdinOnce:b 18:tty:b"},
  {"ContainerPort", "1:name:s 2:hostPort:i 3:containerPort:i 4:protocol:s 5:hostIP:s"},
  {"EnvVar", "1:name:s 2:value:s"},
  {"ResourceRequirements", "1:limits:mq 2:requests:mq"},
  {"Job", "1:metadata:ObjectMeta 2:spec:JobSpec 3:status:Empty"},
  {"JobSpec", "1:parallelism:i* 2:completions:i* 3:activeDeadlineSeconds:i* "
              "4:selector:LabelSelector 5:manualSelector:b* 6:template:PodTemplateSpec "
              "7:backoffLimit:i* 8:ttlSecondsAfterFinished:i* 9:completionMode:s* 10:suspend:b* "
              "12:backoffLimitPerIndex:i* 13:maxFailedIndexes:i* 14:podReplacementPolicy:s* "
              "16:managedBy:s*"},
  {"DeleteOptions", "1:gracePeriodSeconds:i* 2:preconditions:Preconditions "
                    "3:orphanDependents:b* 4:propagationPolicy:s* 5:dryRun:ss"},
  {"Preconditions", "1:uid:s* 2:resourceVersion:s*"},
  {"SelfSubjectAccessReview", "1:metadata:ObjectMeta 2:spec:SelfSubjectAccessReviewSpec"},
  {"SelfSubjectAccessReviewSpec", "1:resourceAttributes:ResourceAttributes "
                                  "2:nonResourceAttributes:NonResourceAttributes"},
  {"ResourceAttributes", "1:namespace:s 2:verb:s 3:group:s 4:version:s 5:resource:s "
                         "6:subresource:s 7:name:s"},
  {"NonResourceAttributes", "1:path:s 2:verb:s"},
  {"SelfSubjectRulesReview", "1:metadata:ObjectMeta 2:spec:SelfSubjectRulesReviewSpec"},
  {"SelfSubjectRulesReviewSpec", "1:namespace:s"},
  /* autoscaling/v1 (kubectl autoscale) */
  {"HorizontalPodAutoscaler", "1:metadata:ObjectMeta 2:spec:HPASpecV1 3:status:Empty"},
  {"HPASpecV1", "1:scaleTargetRef:CrossVersionObjectReference 2:minReplicas:i* "
                "3:maxReplicas:i 4:targetCPUUtilizationPercentage:i*"},
  {"CrossVersionObjectReference", "1:kind:s 2:name:s 3:apiVersion:s"},
  /* kubectl create serviceaccount|token|cronjob|role|rolebinding|clusterrole|
     clusterrolebinding|quota|poddisruptionbudget|priorityclass|ingress */
  {"ServiceAccount", "1:metadata:ObjectMeta 2:secrets:[ObjectReference] "
                     "3:imagePullSecrets:[LocalObjectReference] "
                     "4:automountServiceAccountToken:b*"},
  {"ObjectReference", "1:kind:s 2:namespace:s 3:name:s 4:uid:s 5:apiVersion:s "
                      "6:resourceVersion:s 7:fieldPath:s"},
  {"LocalObjectReference", "1:name:s"},
  {"TokenRequest", "1:metadata:ObjectMeta 2:spec:TokenRequestSpec 3:status:Empty"},
  {"TokenRequestSpec", "1:audiences:ss 4:expirationSeconds:i* 3:boundObjectRef:BoundObjectReference"},
  {"BoundObjectReference", "1:kind:s 2:apiVersion:s 3:name:s 4:uid:s"},
  {"CronJob", "1:metadata:ObjectMeta 2:spec:CronJobSpec 3:status:Empty"},
  {"CronJobSpec", "1:schedule:s 8:timeZone:s* 2:startingDeadlineSeconds:i* "
                  "3:concurrencyPolicy:s 4:suspend:b* 5:jobTemplate:JobTemplateSpec "
                  "6:successfulJobsHistoryLimit:i* 7:failedJobsHistoryLimit:i*"},
  {"JobTemplateSpec", "1:metadata:ObjectMeta 2:spec:JobSpec"},
  {"Role", "1:metadata:ObjectMeta 2:rules:[PolicyRule]"},
  {"ClusterRole", "1:metadata:ObjectMeta 2:rules:[PolicyRule] 3:aggregationRule:AggregationRule"},
  {"AggregationRule", "1:clusterRoleSelectors:[LabelSelector]"},
  {"PolicyRule", "1:verbs:ss 2:apiGroups:ss 3:resources:ss 4:resourceNames:ss "
                 "5:nonResourceURLs:ss"},
  {"RoleBinding", "1:metadata:ObjectMeta 2:subjects:[Subject] 3:roleRef:RoleRef"},
  {"ClusterRoleBinding", "1:metadata:ObjectMeta 2:subjects:[Subject] 3:roleRef:RoleRef"},
  {"Subject", "1:kind:s 2:apiGroup:s 3:name:s 4:namespace:s"},
  {"RoleRef", "1:apiGroup:s 2:kind:s 3:name:s"},
  {"ResourceQuota", "1:metadata:ObjectMeta 2:spec:ResourceQuotaSpec 3:status:Empty"},
  {"ResourceQuotaSpec", "1:hard:mq 2:scopes:ss 3:scopeSelector:ScopeSelector"},
  {"ScopeSelector", "1:matchExpressions:[ScopedResourceSelectorRequirement]"},
  {"ScopedResourceSelectorRequirement", "1:scopeName:s 2:operator:s 3:values:ss"},
  {"PodDisruptionBudget", "1:metadata:ObjectMeta 2:spec:PodDisruptionBudgetSpec 3:status:Empty"},
  {"PodDisruptionBudgetSpec", "1:minAvailable:io* 2:selector:LabelSelector "
                              "3:maxUnavailable:io* 4:unhealthyPodEvictionPolicy:s*"},
  {"PriorityClass", "1:metadata:ObjectMeta 2:value:i 3:globalDefault:b 4:description:s "
                    "5:preemptionPolicy:s*"},
  {"Ingress", "1:metadata:ObjectMeta 2:spec:IngressSpec 3:status:Empty"},
  {"IngressSpec", "4:ingressClassName:s* 1:defaultBackend:IngressBackend 2:tls:[IngressTLS] "
                  "3:rules:[IngressRule]"},
  {"IngressBackend", "4:service:IngressServiceBackend 3:resource:TypedLocalObjectReference"},
  {"IngressServiceBackend", "1:name:s 2:port:ServiceBackendPort"},
  {"ServiceBackendPort", "1:name:s 2:number:i"},
  {"TypedLocalObjectReference", "1:apiGroup:s* 2:kind:s 3:name:s"},
  {"IngressTLS", "1:hosts:ss 2:secretName:s"},
  /* ingressRuleValue is inlined into the rule in JSON */
  {"IngressRule", "1:host:s 2:-:IngressRuleValue"},
  {"IngressRuleValue", "1:http:HTTPIngressRuleValue"},
  {"HTTPIngressRuleValue", "1:paths:[HTTPIngressPath]"},
  {"HTTPIngressPath", "1:path:s 3:pathType:s* 2:backend:IngressBackend"},
  {"SelfSubjectReview", "1:metadata:ObjectMeta 2:status:Empty"},
  {"Empty", ""},
  {NULL, NULL},
};

static const msg_def *
find_msg (const char *name, size_t len)
{
  for (const msg_def *m = msgs; m->name; m++)
    if (strlen (m->name) == len && strncmp (m->name, name, len) == 0)
      return m;
  return NULL;
}

typedef struct reader
{
  const unsigned char *p, *end;
} reader;

static int
varint (reader *rd, uint64_t *out, husk_error **err)
{
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7)
    {
      if (rd->p >= rd->end)
        return husk_err (err, EINVAL, "protobuf: truncated varint");
      unsigned char c = *rd->p++;
      v |= (uint64_t) (c & 0x7f) << shift;
      if (!(c & 0x80))
        {
          *out = v;
          return 0;
        }
    }
  return husk_err (err, EINVAL, "protobuf: varint too long");
}

/* One field: its number, wire type, and (varint) value or (bytes) slice. */
typedef struct pfield
{
  uint32_t num;
  int wire;
  uint64_t v;
  const unsigned char *data;
  size_t len;
} pfield;

static int
next_field (reader *rd, pfield *f, husk_error **err)
{
  uint64_t key;
  int ret = varint (rd, &key, err);
  if (ret < 0)
    return ret;
  f->num = (uint32_t) (key >> 3);
  f->wire = (int) (key & 7);
  switch (f->wire)
    {
    case 0:
      return varint (rd, &f->v, err);
    case 1:
    case 5:
      {
        size_t n = f->wire == 1 ? 8 : 4;
        if ((size_t) (rd->end - rd->p) < n)
          return husk_err (err, EINVAL, "protobuf: truncated fixed field");
        rd->p += n;
        return 0;
      }
    case 2:
      {
        uint64_t n;
        ret = varint (rd, &n, err);
        if (ret < 0)
          return ret;
        if (n > (uint64_t) (rd->end - rd->p))
          return husk_err (err, EINVAL, "protobuf: field %u longer than its message", f->num);
        f->data = rd->p;
        f->len = (size_t) n;
        rd->p += n;
        return 0;
      }
    default:
      return husk_err (err, EINVAL, "protobuf: unsupported wire type %d", f->wire);
    }
}

static int decode_msg (const msg_def *m, const unsigned char *data, size_t len, json_t **out,
                       husk_error **err);

static json_t *
str_of (const pfield *f)
{
  return json_stringn ((const char *) f->data, f->len);
}

static json_t *
base64_of (const unsigned char *d, size_t n)
{
  gnutls_datum_t in = {(unsigned char *) d, (unsigned) n}, o;
  if (gnutls_base64_encode2 (&in, &o) < 0)
    husk_oom ();
  json_t *s = json_stringn ((const char *) o.data, o.size);
  gnutls_free (o.data);
  return s;
}

/* Quantity {1: string}; IntOrString {1: type, 2: intVal, 3: strVal}; Time {1: seconds}. */
static int
decode_special (const char *type, const pfield *f, json_t **out, husk_error **err)
{
  reader rd = {f->data, f->data + f->len};
  int64_t type_v = 0, int_v = 0, seconds = 0;
  json_t *str = NULL;
  while (rd.p < rd.end)
    {
      pfield sf;
      int ret = next_field (&rd, &sf, err);
      if (ret < 0)
        {
          json_decref (str);
          return ret;
        }
      if (sf.wire == 2 && (sf.num == 1 || sf.num == 3))
        {
          json_decref (str);
          str = str_of (&sf);
        }
      else if (sf.wire == 0 && sf.num == 1)
        type_v = seconds = (int64_t) sf.v;
      else if (sf.wire == 0 && sf.num == 2)
        int_v = (int32_t) sf.v;
    }
  if (streq (type, "q"))
    *out = str ? str : json_string ("0");
  else if (streq (type, "io"))
    {
      if (type_v == 1)
        *out = str ? str : json_string ("");
      else
        {
          json_decref (str);
          *out = json_integer (int_v);
        }
    }
  else
    {
      json_decref (str);
      if (seconds == 0)
        *out = NULL;
      else
        {
          time_t t = (time_t) seconds;
          struct tm tm;
          char b[32];
          gmtime_r (&t, &tm);
          strftime (b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
          *out = json_string (b);
        }
    }
  return 0;
}

/* A map entry {1: key, 2: value}; vtype "m", "my" or "mq". */
static int
decode_entry (const char *vtype, const pfield *f, json_t *map, husk_error **err)
{
  reader rd = {f->data, f->data + f->len};
  json_t *key = NULL, *val = NULL;
  int ret = 0;
  while (rd.p < rd.end && ret == 0)
    {
      pfield sf;
      ret = next_field (&rd, &sf, err);
      if (ret < 0 || sf.wire != 2)
        continue;
      if (sf.num == 1)
        {
          json_decref (key);
          key = str_of (&sf);
        }
      else if (sf.num == 2)
        {
          json_decref (val);
          if (streq (vtype, "my"))
            val = base64_of (sf.data, sf.len);
          else if (streq (vtype, "mq"))
            ret = decode_special ("q", &sf, &val, err);
          else
            val = str_of (&sf);
        }
    }
  if (ret == 0 && key)
    json_object_set_new (map, json_string_value (key), val ? val : json_string (""));
  else
    json_decref (val);
  json_decref (key);
  return ret;
}

static bool
is_empty (const json_t *v)
{
  return (json_is_string (v) && json_string_length (v) == 0)
         || (json_is_integer (v) && json_integer_value (v) == 0) || json_is_false (v)
         || (json_is_object (v) && json_object_size (v) == 0)
         || (json_is_array (v) && json_array_size (v) == 0);
}

typedef struct fdef
{
  uint32_t num;
  char name[64];
  char type[64];
  bool ptr;
} fdef;

static bool
lookup_field (const msg_def *m, uint32_t num, fdef *fd)
{
  const char *p = m->fields;
  while (*p)
    {
      while (*p == ' ')
        p++;
      if (!*p)
        break;
      size_t len = strcspn (p, " ");
      char tok[160];
      snprintf (tok, sizeof tok, "%.*s", (int) len, p);
      p += len;
      char *c1 = strchr (tok, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (!c2 || (uint32_t) atoi (tok) != num)
        continue;
      fd->num = num;
      snprintf (fd->name, sizeof fd->name, "%.*s", (int) (c2 - c1 - 1), c1 + 1);
      snprintf (fd->type, sizeof fd->type, "%s", c2 + 1);
      size_t tl = strlen (fd->type);
      fd->ptr = tl && fd->type[tl - 1] == '*';
      if (fd->ptr)
        fd->type[tl - 1] = '\0';
      return true;
    }
  return false;
}

static json_t *
array_at (json_t *o, const char *name)
{
  json_t *a = json_object_get (o, name);
  if (!json_is_array (a))
    {
      a = json_array ();
      json_object_set_new (o, name, a);
    }
  return a;
}

static json_t *
object_at (json_t *o, const char *name)
{
  json_t *a = json_object_get (o, name);
  if (!json_is_object (a))
    {
      a = json_object ();
      json_object_set_new (o, name, a);
    }
  return a;
}

static int
decode_field (const fdef *fd, const pfield *f, json_t *o, husk_error **err)
{
  const char *t = fd->type;
  json_t *v = NULL;
  int ret = 0;
  if (streq (t, "s") && f->wire == 2)
    v = str_of (f);
  else if (streq (t, "i") && f->wire == 0)
    v = json_integer ((json_int_t) (int64_t) f->v);
  else if (streq (t, "b") && f->wire == 0)
    v = json_boolean (f->v != 0);
  else if (streq (t, "y") && f->wire == 2)
    v = base64_of (f->data, f->len);
  else if (streq (t, "ss") && f->wire == 2)
    {
      json_array_append_new (array_at (o, fd->name), str_of (f));
      return 0;
    }
  else if (t[0] == 'm' && f->wire == 2 && (streq (t, "m") || streq (t, "my") || streq (t, "mq")))
    return decode_entry (t, f, object_at (o, fd->name), err);
  else if ((streq (t, "t") || streq (t, "q") || streq (t, "io")) && f->wire == 2)
    ret = decode_special (t, f, &v, err);
  else if (t[0] == '[' && f->wire == 2)
    {
      const msg_def *sub = find_msg (t + 1, strlen (t) - 2);
      if (sub == NULL)
        return 0;
      ret = decode_msg (sub, f->data, f->len, &v, err);
      if (ret == 0)
        json_array_append_new (array_at (o, fd->name), v);
      return ret;
    }
  else if (f->wire == 2)
    {
      const msg_def *sub = find_msg (t, strlen (t));
      if (sub == NULL)
        return 0;
      ret = decode_msg (sub, f->data, f->len, &v, err);
    }
  if (ret < 0 || v == NULL)
    return ret;
  if (streq (fd->name, "-") && json_is_object (v))
    {
      json_object_update (o, v); /* an embedded (inline) message */
      json_decref (v);
      return 0;
    }
  if (!fd->ptr && is_empty (v))
    json_decref (v);
  else
    json_object_set_new (o, fd->name, v);
  return 0;
}

static int
decode_msg (const msg_def *m, const unsigned char *data, size_t len, json_t **out,
            husk_error **err)
{
  reader rd = {data, data + len};
  json_t *o = json_object ();
  while (rd.p < rd.end)
    {
      pfield f;
      fdef fd;
      int ret = next_field (&rd, &f, err);
      if (ret == 0 && lookup_field (m, f.num, &fd))
        ret = decode_field (&fd, &f, o, err);
      if (ret < 0)
        {
          json_decref (o);
          return husk_err_wrap (err, "%s", m->name);
        }
    }
  *out = o;
  return 0;
}

int
api_proto_decode (const unsigned char *data, size_t len, json_t **out, husk_error **err)
{
  if (len < 4 || memcmp (data, "k8s\0", 4) != 0)
    return husk_err (err, EINVAL, "protobuf: missing the k8s envelope magic");
  reader rd = {data + 4, data + len};
  const unsigned char *raw = NULL;
  size_t raw_len = 0;
  json_t *tm = NULL;
  while (rd.p < rd.end)
    {
      pfield f;
      int ret = next_field (&rd, &f, err);
      if (ret < 0)
        {
          json_decref (tm);
          return ret;
        }
      if (f.num == 1 && f.wire == 2)
        {
          json_decref (tm);
          ret = decode_msg (find_msg ("TypeMeta", 8), f.data, f.len, &tm, err);
          if (ret < 0)
            return ret;
        }
      else if (f.num == 2 && f.wire == 2)
        raw = f.data, raw_len = f.len;
    }
  const char *kind = json_string_value (json_object_get (tm, "kind"));
  const msg_def *m = kind ? find_msg (kind, strlen (kind)) : NULL;
  if (m == NULL)
    {
      int r = husk_err (err, ENOTSUP, "protobuf: kind %s is not decodable; send JSON",
                        kind ? kind : "(none)");
      json_decref (tm);
      return r;
    }
  json_t *obj = NULL;
  int ret = decode_msg (m, raw ? raw : (const unsigned char *) "", raw_len, &obj, err);
  if (ret < 0)
    {
      json_decref (tm);
      return ret;
    }
  json_object_set (obj, "kind", json_object_get (tm, "kind"));
  if (json_object_get (tm, "apiVersion"))
    json_object_set (obj, "apiVersion", json_object_get (tm, "apiVersion"));
  json_decref (tm);
  *out = obj;
  return 0;
}
