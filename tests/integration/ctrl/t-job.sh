#!/bin/bash
# Job controller against a real husk master with no node agent (pods finish here, as a hollow
# node would report them): completions and parallelism, the Complete condition, backoffLimit,
# podFailurePolicy FailJob and Ignore, ttlSecondsAfterFinished, Indexed completion mode,
# suspend and resume.
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
\"imageID\":\"\",\"ready\":false,\"restartCount\":0,\"state\":{\"terminated\":{\"exitCode\":${3:-0}}}}]}}" \
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
tap_done
