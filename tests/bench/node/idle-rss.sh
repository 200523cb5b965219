#!/bin/bash
# Idle RSS of the node agent (issue 9: <= 8 MB): a master and a registered `husk node` with no
# pods, in a network namespace made here. Each run starts the agent twice: as `husk node`
# runs it (the lean husk-node when it is built next to husk) and kept inside the whole husk
# (HUSK_NODE_INPROCESS=1, the peer: what it was before husk-node); prints VmRSS against the
# target, Pss, private and shared bytes (smaps_rollup), threads, the ratio of the two, and
# with -v the mappings that hold the most resident memory (smaps, per file).
#   tests/bench/node/idle-rss.sh [-v] [RUNS]     (default 2 runs, about 1 minute)
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
: "${HUSK_BUILD_DIR:=$top_srcdir/_build}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
VERBOSE=0
[ "${1:-}" = -v ] && { VERBOSE=1; shift; }
RUNS=${1:-2}

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
    "/proc/$1/smaps" | sort -rn | head -40
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# measure MODE: starts the agent (MODE inprocess: HUSK_NODE_INPROCESS=1), prints its figures,
# sets RSS (KB), stops it.
measure() {
  local inproc=0 c
  [ "$1" = inprocess ] && inproc=1
  HUSK_NODE_INPROCESS=$inproc nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" node \
    --server https://127.0.0.1:6443 --token-file "$D/master/node-token" \
    --ca-file "$D/master/pki/ca.crt" --name n1 --data-dir "$D/node" --log-dir "$D/logs" \
    --node-ip 127.0.0.1 --log-level warn >>"$D/node.log" 2>&1 &
  UP_PID=$!
  wait_for 30 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' 2>/dev/null | grep -qx True" || {
    tail -20 "$D/node.log" >&2
    exit 1
  }
  sleep 5
  RSS=$(awk '/^VmRSS/ {print $2}' "/proc/$UP_PID/status")
  printf '  %-28s RSS %2d.%d MB  ' "$(readlink "/proc/$UP_PID/exe" | sed 's,.*/,,') ($1)" \
    $((RSS / 1024)) $(((RSS % 1024) * 10 / 1024))
  awk '/^Pss:/ {pss = $2} /^Private_(Clean|Dirty):/ {priv += $2} /^Shared_(Clean|Dirty):/ {sh += $2}
       END {printf "Pss %.1f MB  private %.1f MB  shared %.1f MB  ", pss / 1024, priv / 1024, sh / 1024}' \
    "/proc/$UP_PID/smaps_rollup"
  echo "threads $(awk '/^Threads/ {print $2}' "/proc/$UP_PID/status")"
  if [ "$VERBOSE" = 1 ]; then
    echo "     Rss    Pss   Priv  mapping (KB)"
    per_mapping "$UP_PID" | sed 's/^/  /'
  fi
  kill "$UP_PID"
  wait "$UP_PID" 2>/dev/null
  # The Node goes NotReady only after its grace period: the next start re-registers it.
  $K delete node n1 --wait=true >/dev/null 2>&1
}

for run in $(seq 1 "$RUNS"); do
  echo "run $run:"
  measure default
  lean=$RSS
  measure inprocess
  whole=$RSS
  printf '  agent RSS idle %d.%d MB: %d%% of the 8 MB target; %.2f x the agent inside the whole husk\n' \
    $((lean / 1024)) $(((lean % 1024) * 10 / 1024)) $((lean * 100 / 8192)) \
    "$(python3 -c "print($lean / $whole)")"
done
