#!/bin/bash
# Watchers never lose events silently (issue 6). A master keeping 64 events of watch history;
# a configmap of 16 KiB updated 1,000 times (16 MB, more than the kernel's socket buffers hold)
# while one watcher reads nothing: that watcher must receive every event up to where it fell
# behind, in order and without a gap, then an ERROR event with a 410 Expired Status as the last
# line of a closed stream. A watcher reading normally from the same revision gets all 1,000. A
# watcher resuming from a recent resourceVersion gets exactly the rest; one resuming from where
# the slow watcher fell behind (compacted) gets 410.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd curl python3
N=1000
DATA=$(husk_tmpdir)
husk_master_launch --store-watch-history 64 --scheduler=false --controllers=false
API_PID=$MASTER_PID
W=$DATA/w
mkdir -p "$W"
CM=slow-$$
CMURL=/api/v1/namespaces/default/configmaps
pad=$(head -c 16384 /dev/zero | tr '\0' x)
rv=$(api_curl -H 'Content-Type: application/json' \
  -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$CM\"},\"data\":{\"pad\":\"$pad\"}}" \
  "$CMURL" | sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p')
tap_like "$rv" '^[0-9]+$' "configmap created at a revision"
WATCH="$CMURL?watch=true&resourceVersion=$rv&fieldSelector=metadata.name%3D$CM"

# ns_of FILE: the data.n of each event line, one per line ("E" for an ERROR line).
ns_of() { sed -n 's/^{"type":"ERROR".*/E/p; s/.*"n":"\([0-9]*\)".*/\1/p' "$1"; }
# gapless FILE FROM: "ok" when the events' numbers run FROM, FROM+1, ... without a gap.
gapless() {
  ns_of "$1" | grep -v E | awk -v f="$2" '$1 != f + NR - 1 {print "gap: event " NR " is " $1; bad = 1; exit}
    END {if (!bad) print "ok"}'
}

python3 "$top_srcdir/tests/integration/api/watch-slowread.py" "$API_URL" "$API_TOKEN" \
  "$WATCH&timeoutSeconds=300" "$W/go" "$W/slow" &
slow=$!
on_exit "kill $slow 2>/dev/null"
curl -sk -N --max-time 300 -H "Authorization: Bearer $API_TOKEN" "$API_URL$WATCH&timeoutSeconds=300" \
  >"$W/fast" 2>/dev/null &
fast=$!
on_exit "kill $fast 2>/dev/null"
wait_for 20 test -e "$W/slow.ready"

# One curl, one keep-alive connection, N merge patches.
for ((i = 0; i < N; i++)); do
  printf 'url = "%s"\nrequest = "PATCH"\nheader = "Authorization: Bearer %s"\n' "$API_URL$CMURL/$CM" "$API_TOKEN"
  printf 'header = "Content-Type: application/merge-patch+json"\ndata = "{\\"data\\":{\\"n\\":\\"%d\\"}}"\n' "$i"
  printf 'output = "/dev/null"\ninsecure\nsilent\nwrite-out = "%%{http_code}\\n"\n'
  [ $i -lt $((N - 1)) ] && echo next
done >"$W/patches"
codes=$(curl -K "$W/patches" | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')
tap_is "$codes" "200:$N " "$N updates, each answered 200"

wait_for 120 sh -c "[ \$(grep -c '\"n\":' '$W/fast') -ge $N ]"
tap_is "$(gapless "$W/fast" 0)" ok "the watcher reading normally got events 0..$((N - 1)) in order"
tap_is "$(ns_of "$W/fast" | grep -c .)" "$N" "... $N events, no ERROR"
kill $fast 2>/dev/null

touch "$W/go"
wait_for 120 test -e "$W/slow.head"
tap_like "$(cat "$W/slow.head")" ' 200 ' "slow watcher: 200"
got=$(ns_of "$W/slow" | grep -vc E)
tap_diag "the slow watcher got $got events before the end of its stream"
tap_is "$(gapless "$W/slow" 0)" ok "slow watcher: events from 0 in order, no gap"
last=$(tail -n 1 "$W/slow")
tap_like "$last" '^\{"type":"ERROR","object":\{"kind":"Status".*"reason":"Expired","code":410\}\}$' \
  "slow watcher: the stream ends with an ERROR event, 410 Expired"
tap_ok $([ "$got" -lt "$N" ] && echo 0 || echo 1) "slow watcher fell behind ($got < $N events; else the test proves nothing)"
tap_is "$(ns_of "$W/slow" | grep -c E)" 1 "slow watcher: one ERROR event, nothing after it"
tap_like "$(grep 'watch ended with an ERROR event' "$DATA/master.log")" \
  'resource=configmaps error="watch of configmaps fell behind: events after revision [0-9]+ were dropped' \
  "the master logs which watch it ended and why"

# Resume where the slow watcher stopped: its events were dropped from the history -> 410.
lastrv=$(grep -v '"type":"ERROR"' "$W/slow" | tail -n 1 | sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p')
tap_like "$lastrv" '^[0-9]+$' "slow watcher's last resourceVersion"
api_curl -N "$CMURL?watch=true&resourceVersion=$lastrv&fieldSelector=metadata.name%3D$CM&timeoutSeconds=3" \
  >"$W/resume-old"
tap_like "$(head -n 1 "$W/resume-old")" '^\{"type":"ERROR".*"code":410\}\}$' \
  "a resume from the slow watcher's last resourceVersion: ERROR 410 (compacted)"

# Resume from the revision of event N-21 (in the history): exactly the 20 after it.
rv20=$(grep '"n":"'$((N - 21))'"' "$W/fast" | sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p')
api_curl -N "$CMURL?watch=true&resourceVersion=$rv20&fieldSelector=metadata.name%3D$CM&timeoutSeconds=3" \
  >"$W/resume"
tap_is "$(gapless "$W/resume" $((N - 20)))" ok "a resume from event $((N - 21))'s resourceVersion: events from $((N - 20)) in order"
tap_is "$(ns_of "$W/resume" | tr '\n' ' ' | awk '{print NF, $NF}')" "20 $((N - 1))" "... exactly 20, the last $((N - 1)), no ERROR"
tap_done
