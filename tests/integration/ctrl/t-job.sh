#!/bin/bash
# Job controller against a real husk master with no node agent (pods finish here, as a hollow
# node would report them): completions and parallelism, the Complete condition, backoffLimit,
# podFailurePolicy FailJob, ttlSecondsAfterFinished.
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
tap_done
