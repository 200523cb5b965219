#!/bin/bash
# CronJob controller against a real husk master with no node agent: an every-minute
# schedule creates a Job named <cronjob>-<scheduled minute> at the next minute (real clock:
# this test waits up to ~70 s), owned by the CronJob, listed in status.active; once its pod
# succeeds, lastSuccessfulTime is set and active is emptied. A suspended CronJob starts nothing.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
api_start

# (kubectl create cronjob sends protobuf, which the API server does not decode for CronJobs.)
for cj in tick idle; do
  cat <<Y | $K apply -f - >/dev/null
apiVersion: batch/v1
kind: CronJob
metadata: {name: $cj}
spec:
  schedule: "* * * * *"
  suspend: $([ $cj = idle ] && echo true || echo false)
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: busybox}]
Y
done
jobs_of() { $K get jobs -o jsonpath="{range .items[?(@.metadata.ownerReferences[0].name==\"$1\")]}{.metadata.name}{\"\\n\"}{end}"; }
wait_for 75 bash -c "[ -n \"\$($K get jobs -o name)\" ]"
job=$(jobs_of tick | head -1)
tap_like "$job" '^tick-[0-9]+$' "the schedule fired a Job named tick-<minute>"
tap_is "$($K get cronjob tick -o jsonpath='{.status.active[0].name}')" "$job" \
  "status.active lists the Job"
tap_like "$($K get cronjob tick -o jsonpath='{.status.lastScheduleTime}')" ':00Z$' \
  "lastScheduleTime is the scheduled minute"
wait_for 20 bash -c "[ -n \"\$($K get pods -l job-name=$job -o name)\" ]"
pod=$($K get pods -l "job-name=$job" -o jsonpath='{.items[0].metadata.name}')
tap_like "$pod" "^$job-" "the Job runs a pod"
api_curl -X PATCH -H 'Content-Type: application/merge-patch+json' \
  -d '{"status":{"phase":"Succeeded"}}' "/api/v1/namespaces/default/pods/$pod/status" >/dev/null
lst() { $K get cronjob tick -o jsonpath='{.status.lastSuccessfulTime}'; }
wait_for 20 bash -c "[ -n \"\$($K get cronjob tick -o jsonpath='{.status.lastSuccessfulTime}')\" ]"
tap_like "$(lst)" '^20' "lastSuccessfulTime is set once the Job completes"
tap_is "$(jobs_of idle)" "" "a suspended CronJob starts no Job"
tap_done
