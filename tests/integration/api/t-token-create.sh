#!/bin/bash
# `kubectl create token SA`: a TokenRequest answered with a signed token that authenticates
# as system:serviceaccount:<ns>:<sa> (kubectl auth whoami), honours --duration, is refused
# below 10 minutes and stops working when the account is deleted. Every `kubectl create ...`
# imperative command that sends protobuf bodies creates what it says.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd kubectl curl python3
api_start

tap_is "$($K create sa robot 2>&1)" "serviceaccount/robot created" "create serviceaccount (protobuf)"
T=$($K create token robot --duration=30m 2>&1)
tap_like "$T" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "create token prints a JWT"
KT="kubectl --cache-dir $DATA/kube-cache-sa --request-timeout=20s --kubeconfig=/dev/null --server=$API_URL --insecure-skip-tls-verify --token=$T"
tap_like "$($KT auth whoami 2>&1)" "Username +system:serviceaccount:default:robot" "the token authenticates as the service account"
tap_like "$($KT auth whoami 2>&1)" "system:serviceaccounts:default" "with the service account groups"
tap_is "$($KT get sa robot -o name 2>&1)" "serviceaccount/robot" "requests with the token succeed"
exp=$(echo "$T" | cut -d. -f2 | python3 -c 'import base64,json,sys; s=sys.stdin.read().strip(); s+="="*(-len(s)%4); c=json.loads(base64.urlsafe_b64decode(s)); print(c["exp"]-c["iat"], c["sub"])')
tap_is "$exp" "1800 system:serviceaccount:default:robot" "--duration=30m sets exp 1800 s after iat"
body=$(api_curl -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":7200}}' \
  /api/v1/namespaces/default/serviceaccounts/robot/token)
tap_is "$(echo "$body" | python3 -c 'import json,sys,datetime; o=json.load(sys.stdin); e=datetime.datetime.strptime(o["status"]["expirationTimestamp"],"%Y-%m-%dT%H:%M:%SZ"); d=(e-datetime.datetime.utcnow()).total_seconds(); print(o["kind"], o["spec"]["expirationSeconds"], 7100 < d <= 7200)')" \
  "TokenRequest 7200 True" "expirationSeconds honoured in status.expirationTimestamp"
tap_like "$($K create token robot --duration=5m 2>&1)" "may not specify a duration less than 10 minutes" "durations under 10 minutes are refused"
tap_like "$($K create token nobody 2>&1)" 'serviceaccounts "nobody" not found' "a missing account is 404"
bad="${T%?}"; [ "${T: -1}" = A ] && bad="${bad}B" || bad="${bad}A"
tap_is "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $bad" "$API_URL/api/v1/namespaces")" "401" "a tampered token is 401"
$K delete sa robot >/dev/null
tap_is "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $T" "$API_URL/api/v1/namespaces")" "401" "deleting the account revokes its tokens"

# imperative creates kubectl sends as protobuf
$K create deployment web --image=nginx >/dev/null
tap_is "$($K create cronjob cj --image=busybox '--schedule=*/5 * * * *' -- echo hi 2>&1)" "cronjob.batch/cj created" "create cronjob"
set -f # the arguments below hold '*'
while read -r what cmd; do
  out=$($K create $cmd 2>&1)
  tap_like "$out" "created|autoscaled" "create $what" || printf '# %s\n' "$out"
done <<'L'
role role r1 --verb=get,list --resource=pods --resource-name=p
rolebinding rolebinding rb --role=r1 --user=u --serviceaccount=default:x
clusterrole clusterrole cr --verb=get --resource=pods --non-resource-url=/x
clusterrole-aggregated clusterrole agg --aggregation-rule=a=b
clusterrolebinding clusterrolebinding crb --clusterrole=cr --group=g
quota quota q --hard=pods=3,cpu=1
pdb pdb p --selector=a=b --min-available=1
priorityclass priorityclass high --value=10 --description=hi --preemption-policy=Never
ingress ingress ing --class=nginx --rule=foo.com/bar*=svc1:8080,tls=sec --default-backend=def:http
job-from-cronjob job j2 --from=cronjob/cj
L
set +f
tap_is "$($K get cj cj -o jsonpath='{.spec.schedule} {.spec.jobTemplate.spec.template.spec.containers[0].command}')" \
  '*/5 * * * * ["echo","hi"]' "cronjob fields decoded"
tap_is "$($K get ing ing -o jsonpath='{.spec.ingressClassName} {.spec.rules[0].host} {.spec.rules[0].http.paths[0].pathType} {.spec.rules[0].http.paths[0].backend.service.port.number} {.spec.tls[0].secretName}')" \
  "nginx foo.com Prefix 8080 sec" "ingress rules (inlined ingressRuleValue) decoded"
tap_is "$($K get rolebinding rb -o jsonpath='{.roleRef.kind}/{.roleRef.name} {.subjects[*].kind}')" "Role/r1 User ServiceAccount" "rolebinding decoded"
tap_is "$($K get pc high -o jsonpath='{.value} {.description} {.preemptionPolicy}')" "10 hi Never" "priorityclass decoded"
tap_is "$($K get quota q -o jsonpath='{.spec.hard.pods} {.spec.hard.cpu}')" "3 1" "quota decoded"
tap_is "$($K get pdb p -o jsonpath='{.spec.minAvailable} {.spec.selector.matchLabels.a}')" "1 b" "pdb decoded"
tap_done
