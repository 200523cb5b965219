#!/bin/bash
# Idle RSS of the node agent (issue 9: <= 8 MB): a master and a registered `husk node` with no
# pods, in a network namespace made here. Prints VmRSS against the target, Pss, private and
# shared bytes (smaps_rollup), threads, and with -v the mappings that hold the most resident
# memory (smaps, per file).
#   tests/bench/node/idle-rss.sh [-v] [RUNS]     (quick: one run takes about 20 s)
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
: "${HUSK_BUILD_DIR:=$top_srcdir/_build}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
VERBOSE=0
[ "${1:-}" = -v ] && { VERBOSE=1; shift; }
RUNS=${1:-3}

NS="husk-b$$-rss"
ip netns add "$NS" || exit 1
on_exit "ip netns del '$NS'"
ip -n "$NS" link set lo up
D=$(mktemp -d "${TMPDIR:-/tmp}/husk-rss-bench.XXXXXX")
on_exit 'kill $MASTER_PID 2>/dev/null; node_scrub'
nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" master --data-dir "$D/master" \
  --bind 127.0.0.1:6443 >"$D/master.log" 2>&1 &
MASTER_PID=$!
wait_for 20 test -s "$D/master/admin.kubeconfig" || exit 1
K="nsenter --net=/run/netns/$NS kubectl --kubeconfig $D/master/admin.kubeconfig --request-timeout=30s"

# smaps per mapped file (anonymous mappings by their name), largest Rss first.
per_mapping() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "[anon]" : $6); next}
       /^Rss:/ {rss[name] += $2} /^Pss:/ {pss[name] += $2}
       /^Private_(Clean|Dirty):/ {priv[name] += $2}
       END {for (n in rss) if (rss[n] > 0) printf "%6d %6d %6d  %s\n", rss[n], pss[n], priv[n], n}' \
    "/proc/$1/smaps" | sort -rn | head -25
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$RUNS"); do
  nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" node --server https://127.0.0.1:6443 \
    --token-file "$D/master/node-token" --ca-file "$D/master/pki/ca.crt" --name n1 \
    --data-dir "$D/node" --log-dir "$D/logs" --node-ip 127.0.0.1 --log-level warn \
    >>"$D/node.log" 2>&1 &
  UP_PID=$!
  wait_for 30 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' 2>/dev/null | grep -qx True" || {
    tail -20 "$D/node.log" >&2
    exit 1
  }
  sleep 5
  # `husk node` may run the agent in a child (the lean husk-node program): measure the
  # process that holds the agent, the deepest one of the chain.
  AGENT=$UP_PID
  while c=$(cat "/proc/$AGENT/task/$AGENT/children" 2>/dev/null) && [ -n "${c%% *}" ] &&
    [ "$(readlink "/proc/${c%% *}/exe")" != "$HUSK_BUILD_DIR/husk-shim" ]; do
    AGENT=${c%% *}
  done
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$AGENT/status")
  printf 'run %d: agent RSS idle: %d.%d MB (target <= 8 MB, %d%% of it)  ' "$run" \
    $((rss / 1024)) $(((rss % 1024) * 10 / 1024)) $((rss * 100 / 8192))
  awk '/^(Pss|Private_Clean|Private_Dirty|Shared_Clean):/ {printf "%s %d KB  ", $1, $2} END {printf ""}' \
    "/proc/$AGENT/smaps_rollup"
  echo "threads $(awk '/^Threads/ {print $2}' "/proc/$AGENT/status") ($(readlink "/proc/$AGENT/exe" | sed 's,.*/,,'))"
  if [ "$VERBOSE" = 1 ]; then
    echo "   Rss    Pss   Priv  mapping (KB)"
    per_mapping "$AGENT"
  fi
  kill "$UP_PID"
  wait "$UP_PID" 2>/dev/null
done
