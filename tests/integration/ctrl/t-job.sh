#!/bin/bash
# Job controller against a real husk master with no node agent (pods finish here, as a hollow
# node would report them): completions and parallelism, the Complete condition, backoffLimit,
# podFailurePolicy FailJob and Ignore, ttlSecondsAfterFinished, Indexed completion mode,
# suspend and resume, backoffLimitPerIndex with maxFailedIndexes and FailIndex, successPolicy.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
api_start

job_yaml() { # job_yaml NAME COMPLETIONS PARALLELISM BACKOFF [extra spec lines]
  cat <<Y
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
  completions: $2
  parallelism: $3
  backoffLimit: $4
${5:-}
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
Y
}

# pod_finish NAME PHASE [EXITCODE]
pod_finish() {
  api_curl -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d "{\"status\":{\"phase\":\"$2\",\"containerStatuses\":[{\"name\":\"main\",\"image\":\"busybox\",\
\"imageID\":\"\",\"ready\":false,\"restartCount\":0,\"state\":{\"terminated\":{\"exitCode\":${3:-0},\
\"finishedAt\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}}}]}}" \
    "/api/v1/namespaces/default/pods/$1/status" >/dev/null
}
# job_pods JOB [PHASE]: names of the job's pods (in that phase; "active": not finished).
job_pods() {
  $K get pods -l "job-name=$1" -o json | python3 -c '
import json, sys
want = sys.argv[1] if len(sys.argv) > 1 else ""
for p in json.load(sys.stdin)["items"]:
    ph = p.get("status", {}).get("phase", "Pending")
    if not want or (want == "active" and ph not in ("Succeeded", "Failed")) or ph == want:
        print(p["metadata"]["name"])
' ${2:-}
}
count_lines() { "$@" | grep -c .; }

job_yaml work 3 2 6 | $K apply -f - >/dev/null
wait_for 20 is_eq 2 count_lines job_pods work active
tap_is "$(count_lines job_pods work active)" 2 "parallelism 2: two pods run"
tap_is "$($K get job work -o jsonpath='{.status.active}')" 2 "status.active is 2"
pod_finish "$(job_pods work active | head -1)" Succeeded
wait_for 20 is_eq 3 count_lines job_pods work
tap_is "$(count_lines job_pods work)" 3 "a succeeded pod is followed by a new one"
wait_for 20 is_eq 2 count_lines job_pods work active
tap_is "$(count_lines job_pods work active)" 2 "two active again (1 of 3 done)"
for p in $(job_pods work active); do pod_finish "$p" Succeeded; done
tap_check "the Job completes" -- $K wait --for=condition=complete job/work --timeout=20s
tap_is "$($K get job work -o jsonpath='{.status.succeeded}/{.status.active}')" "3/0" \
  "status: 3 succeeded, none active"
tap_is "$(count_lines job_pods work)" 3 "exactly 3 pods were created"
tap_like "$($K get job work -o jsonpath='{.status.completionTime}')" '^20' "completionTime is set"

job_yaml fragile 1 1 0 | $K apply -f - >/dev/null
wait_for 20 is_eq 1 count_lines job_pods fragile active
pod_finish "$(job_pods fragile active)" Failed 1
tap_check "backoffLimit 0: one failure fails the Job" -- \
  $K wait --for=condition=failed job/fragile --timeout=20s
tap_is "$($K get job fragile -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}')" \
  BackoffLimitExceeded "reason BackoffLimitExceeded"
tap_is "$(count_lines job_pods fragile)" 1 "no pod is created after the Job failed"

job_yaml policy 1 1 6 '  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: {containerName: main, operator: In, values: [42]}' | $K apply -f - >/dev/null
wait_for 20 is_eq 1 count_lines job_pods policy active
pod_finish "$(job_pods policy active)" Failed 42
tap_check "exit code 42 matches a FailJob rule" -- \
  $K wait --for=condition=failed job/policy --timeout=20s
tap_like "$($K get job policy -o jsonpath='{.status.conditions[?(@.type=="Failed")].message}')" \
  'failed with exit code 42 matching FailJob rule at index 0' "the condition says which rule"

job_yaml brief 1 1 6 '  ttlSecondsAfterFinished: 0' | $K apply -f - >/dev/null
wait_for 20 is_eq 1 count_lines job_pods brief active
pod_finish "$(job_pods brief active)" Succeeded
wait_for 20 bash -c "! $K get job brief"
tap_check "ttlSecondsAfterFinished 0 deletes the finished Job" -- bash -c "! $K get job brief"
# podFailurePolicy Ignore: the failure is not counted and the pod is replaced.
job_yaml tolerant 1 1 0 '  podFailurePolicy:
    rules:
    - action: Ignore
      onExitCodes: {containerName: main, operator: In, values: [7]}' | $K apply -f - >/dev/null
wait_for 20 is_eq 1 count_lines job_pods tolerant active
pod_finish "$(job_pods tolerant active)" Failed 7
wait_for 20 is_eq 1 count_lines job_pods tolerant active
tap_is "$(count_lines job_pods tolerant active)/$($K get job tolerant -o jsonpath='{.status.failed}')" "1/0" \
  "an ignored failure (backoffLimit 0) is replaced and not counted"
pod_finish "$(job_pods tolerant active)" Succeeded
tap_check "... and the Job still completes" -- $K wait --for=condition=complete job/tolerant --timeout=20s

# Indexed: one pod per index, hostname <job>-<index>, JOB_COMPLETION_INDEX, completedIndexes.
job_yaml idx 4 2 6 '  completionMode: Indexed' | $K apply -f - >/dev/null
wait_for 20 is_eq 2 count_lines job_pods idx active
index_of() { $K get pod "$1" -o jsonpath='{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}'; }
pods_by_index() { for p in $(job_pods idx active); do echo "$(index_of "$p") $p"; done | sort; }
tap_is "$(pods_by_index | awk '{print $1}' | xargs)" "0 1" "parallelism 2: indexes 0 and 1 run first"
p1=$(pods_by_index | awk '$1 == 1 {print $2}')
tap_like "$p1" '^idx-1-' "the pod of index 1 is named idx-1-..."
tap_is "$($K get pod "$p1" -o jsonpath='{.spec.hostname}')" idx-1 "its hostname is idx-1"
tap_is "$($K get pod "$p1" -o jsonpath='{.spec.containers[0].env[?(@.name=="JOB_COMPLETION_INDEX")].valueFrom.fieldRef.fieldPath}')" \
  "metadata.annotations['batch.kubernetes.io/job-completion-index']" "JOB_COMPLETION_INDEX comes from the annotation"
pod_finish "$p1" Succeeded
wait_for 20 is_eq "0 2" bash -c "$(declare -f index_of pods_by_index job_pods); K='$K'; pods_by_index | awk '{print \$1}' | xargs"
tap_is "$(pods_by_index | awk '{print $1}' | xargs)" "0 2" "index 1 done: index 2 starts"
tap_is "$($K get job idx -o jsonpath='{.status.completedIndexes}')" 1 "completedIndexes 1"
p0=$(pods_by_index | awk '$1 == 0 {print $2}')
pod_finish "$p0" Failed 1
# The replacement waits for the 10 s back-off.
wait_for 45 is_eq 2 count_lines job_pods idx active
tap_is "$(pods_by_index | awk '{print $1}' | xargs)" "0 2" "a failed index is retried"
for p in $(job_pods idx active); do pod_finish "$p" Succeeded; done
wait_for 20 is_eq "0-2" $K get job idx -o jsonpath='{.status.completedIndexes}'
tap_is "$($K get job idx -o jsonpath='{.status.completedIndexes}')" 0-2 "completedIndexes 0-2"
for p in $(job_pods idx active); do pod_finish "$p" Succeeded; done
tap_check "the Indexed Job completes" -- $K wait --for=condition=complete job/idx --timeout=20s
tap_is "$($K get job idx -o jsonpath='{.status.completedIndexes} {.status.succeeded} {.status.failed}')" \
  "0-3 4 1" "completedIndexes 0-3, 4 succeeded, 1 failed"

# suspend: active pods go, the Job says Suspended; resume starts them again.
job_yaml pause 2 2 6 | $K apply -f - >/dev/null
wait_for 20 is_eq 2 count_lines job_pods pause active
$K patch job pause --type=merge -p '{"spec":{"suspend":true}}' >/dev/null
tap_check "suspend: the Suspended condition" -- $K wait --for=condition=suspended job/pause --timeout=20s
wait_for 20 is_eq 0 count_pods default job-name=pause
tap_is "$(count_pods default job-name=pause)/$($K get job pause -o jsonpath='{.status.active}')" 0/0 \
  "suspend: active pods are deleted"
$K patch job pause --type=merge -p '{"spec":{"suspend":false}}' >/dev/null
wait_for 20 is_eq 2 count_pods default job-name=pause
tap_is "$(count_pods default job-name=pause)" 2 "resume: pods run again"
tap_is "$($K get job pause -o jsonpath='{.status.conditions[?(@.type=="Suspended")].status} {.status.conditions[?(@.type=="Suspended")].reason}')" \
  "False JobResumed" "the Suspended condition turns False (JobResumed)"
# backoffLimitPerIndex: failures counted per index, podFailurePolicy FailIndex, failedIndexes.
ipod() { # ipod JOB INDEX: the active pod of that index
  $K get pods -l "job-name=$1,batch.kubernetes.io/job-completion-index=$2" -o json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["items"]:
    if p.get("status", {}).get("phase", "Pending") not in ("Succeeded", "Failed") and not p["metadata"].get("deletionTimestamp"):
        print(p["metadata"]["name"])'
}
jstat() { $K get job "$1" -o jsonpath="$2"; }
job_yaml pi 3 3 6 '  completionMode: Indexed
  backoffLimitPerIndex: 1
  podFailurePolicy:
    rules:
    - action: FailIndex
      onExitCodes: {containerName: main, operator: In, values: [42]}' | $K apply -f - >/dev/null
wait_for 20 is_eq 3 count_lines job_pods pi active
tap_is "$($K get pod "$(ipod pi 1)" -o jsonpath='{.metadata.annotations.batch\.kubernetes\.io/job-index-failure-count}')" 0 \
  "backoffLimitPerIndex: each pod carries its index's failure count (0)"
pod_finish "$(ipod pi 0)" Failed 42
wait_for 20 is_eq 0 jstat pi '{.status.failedIndexes}'
tap_is "$(jstat pi '{.status.failedIndexes}')" 0 "a FailIndex rule fails index 0 at once (status.failedIndexes)"
pod_finish "$(ipod pi 1)" Failed 1
failed=$(date +%s)
has_ipod() { [ -n "$(ipod "$1" "$2")" ]; }
sleep 2
tap_is "$(ipod pi 0)/$(jstat pi '{.status.failedIndexes}')/$(jstat pi '{.status.conditions[?(@.type=="Failed")].status}')" \
  "/0/" "no pod for the failed index; index 1 (1 failure, limit 1) is not failed; the Job goes on"
wait_for 45 has_ipod pi 1
waited=$(($(date +%s) - failed))
tap_ok "$([ "$waited" -ge 8 ] && echo 0 || echo 1)" "index 1 is retried after its 10 s back-off (seen ${waited} s after the failure)"
tap_is "$($K get pod "$(ipod pi 1)" -o jsonpath='{.metadata.annotations.batch\.kubernetes\.io/job-index-failure-count}')" 1 \
  "... by a pod with failure count 1"
pod_finish "$(ipod pi 2)" Succeeded
pod_finish "$(ipod pi 1)" Succeeded
tap_check "every index finished, one failed: the Job fails" -- $K wait --for=condition=failed job/pi --timeout=20s
tap_is "$(jstat pi '{.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message}')" \
  "FailedIndexes: Job has failed indexes" "reason FailedIndexes, upstream's message"
tap_is "$(jstat pi '{.status.failedIndexes} {.status.completedIndexes} {.status.succeeded} {.status.failed}')" \
  "0 1-2 2 2" "failedIndexes 0, completedIndexes 1-2, 2 succeeded, 2 failed"

# maxFailedIndexes: one more failed index than allowed fails the Job and stops the others.
job_yaml mx 4 4 6 '  completionMode: Indexed
  backoffLimitPerIndex: 0
  maxFailedIndexes: 1' | $K apply -f - >/dev/null
wait_for 20 is_eq 4 count_lines job_pods mx active
pod_finish "$(ipod mx 2)" Failed 1
wait_for 20 is_eq 2 jstat mx '{.status.failedIndexes}'
sleep 2
tap_is "$(count_lines job_pods mx active)/$(jstat mx '{.status.conditions[?(@.type=="Failed")].status}')" "3/" \
  "backoffLimitPerIndex 0: index 2 fails, not retried; one failed index is allowed"
pod_finish "$(ipod mx 0)" Failed 1
tap_check "a second failed index: the Job fails" -- $K wait --for=condition=failed job/mx --timeout=20s
tap_is "$(jstat mx '{.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message}')" \
  "MaxFailedIndexesExceeded: Job has exceeded the specified maximal number of failed indexes" \
  "reason MaxFailedIndexesExceeded, upstream's message"
tap_is "$(jstat mx '{.status.failedIndexes}')" "0,2" "failedIndexes 0,2"
wait_for 20 is_eq 0 count_pods default job-name=mx
tap_is "$(count_lines job_pods mx active)" 0 "the remaining pods are deleted"

# successPolicy: the Job succeeds once a rule is met; the remaining pods go.
job_yaml sp 5 5 6 '  completionMode: Indexed
  successPolicy:
    rules:
    - succeededIndexes: "1-2"
    - succeededCount: 4' | $K apply -f - >/dev/null
wait_for 20 is_eq 5 count_lines job_pods sp active
pod_finish "$(ipod sp 1)" Succeeded
pod_finish "$(ipod sp 4)" Succeeded
sleep 3
tap_is "$(jstat sp '{.status.conditions[*].type}')/$(count_lines job_pods sp active)" "/3" \
  "indexes 1 and 4 succeeded: no rule is met yet"
pod_finish "$(ipod sp 2)" Succeeded
tap_check "indexes 1-2 succeeded: the Job completes" -- $K wait --for=condition=complete job/sp --timeout=20s
tap_is "$(jstat sp '{.status.conditions[*].type}')" "SuccessCriteriaMet Complete" \
  "SuccessCriteriaMet comes first, then Complete"
tap_is "$(jstat sp '{.status.conditions[?(@.type=="SuccessCriteriaMet")].reason}: {.status.conditions[?(@.type=="SuccessCriteriaMet")].message}|{.status.conditions[?(@.type=="Complete")].reason}')" \
  "SuccessPolicy: Matched rules at index 0|SuccessPolicy" "reason SuccessPolicy, message names the rule"
wait_for 20 is_eq 0 count_pods default job-name=sp
tap_is "$(count_lines job_pods sp active)" 0 "the pods still running are deleted"
tap_is "$(jstat sp '{.status.completedIndexes} {.status.succeeded} {.status.active}')" "1-2,4 3 0" \
  "completedIndexes 1-2,4, 3 succeeded, none active"
tap_done
