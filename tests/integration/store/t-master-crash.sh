#!/bin/bash
# kill -9 of `husk master` while 8 clients create ConfigMaps as fast as they can: after a
# restart, every create the API acknowledged (201 with a resourceVersion) is there with that
# resourceVersion, and later writes get larger resourceVersions.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
: "${HUSK_BUILD_DIR:=$PWD}"
. "$top_srcdir/tests/lib/common.sh"
require_cmd curl ss
husk="$HUSK_BUILD_DIR/husk"
[ -x "$husk" ] && "$husk" master --help >/dev/null 2>&1 || tap_skip_all "husk master not built"

dir=$(husk_tmpdir)
on_exit "rm -rf '$dir'" # husk_tmpdir runs in a subshell: its own on_exit is lost
port=0
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 12000)) # below the ephemeral range
  ss -Hltn "sport = :$p" | grep -q . || ss -Hltn "sport = :$((p + 1))" | grep -q . || { port=$p; break; }
done
[ $port != 0 ] || { echo "Bail out! no free port"; exit 1; }
api="http://127.0.0.1:$port"
master_pid=
start_master() {
  "$husk" master --data-dir "$dir/data" --bind "127.0.0.1:$((port + 1))" --insecure-port "$port" \
    >>"$dir/master.log" 2>&1 &
  master_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "$api/healthz" >/dev/null 2>&1 && return 0
    kill -0 $master_pid 2>/dev/null || break
    sleep 0.1
  done
  tail -5 "$dir/master.log" | sed 's/^/# /'
  return 1
}
on_exit 'kill -9 $master_pid 2>/dev/null'
start_master || { echo "Bail out! husk master did not start"; exit 1; }

writer() { # writer N: creates cm-N-i until killed; logs "name rv" of each 201
  local n=$1 i=0 out code
  while :; do
    out=$(curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
      "$api/api/v1/namespaces/default/configmaps" \
      -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-$n-$i\"},\"data\":{\"i\":\"$i\"}}") || break
    code=${out##*$'\n'}
    [ "$code" = 201 ] || break
    rv=$(sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p' <<<"${out%$'\n'*}")
    echo "cm-$n-$i $rv" >>"$dir/acked.$n"
    i=$((i + 1))
  done
}
pids=()
for n in 1 2 3 4 5 6 7 8; do writer $n & pids+=($!); done
# kill once 300 creates were acknowledged (or after 10 s), while the clients keep writing
for _ in $(seq 1 50); do
  [ "$(cat "$dir"/acked.* 2>/dev/null | wc -l)" -ge 300 ] && break
  sleep 0.2
done
kill -9 $master_pid
wait $master_pid 2>/dev/null
wait "${pids[@]}" 2>/dev/null
cat "$dir"/acked.* >"$dir/acked" 2>/dev/null
acked=$(wc -l <"$dir/acked")
tap_ok $([ "$acked" -ge 20 ] && echo 0 || echo 1) "8 clients had $acked creates acknowledged before kill -9 of the master"

start_master || { echo "Bail out! husk master did not restart"; exit 1; }
missing=0 wrong=0 maxrv=0
while read -r name rv; do
  got=$(curl -s "$api/api/v1/namespaces/default/configmaps/$name" |
    sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p')
  if [ -z "$got" ]; then missing=$((missing + 1))
  elif [ "$got" != "$rv" ]; then wrong=$((wrong + 1)); fi
  [ "${rv:-0}" -gt $maxrv ] && maxrv=$rv
done <"$dir/acked"
tap_is "$missing/$wrong" "0/0" "after restart every acknowledged create is present with its resourceVersion (missing/wrong)"
out=$(curl -s -X POST -H 'Content-Type: application/json' "$api/api/v1/namespaces/default/configmaps" \
  -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"after-restart"}}')
rv=$(sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p' <<<"$out")
tap_ok $([ "${rv:-0}" -gt "$maxrv" ] && echo 0 || echo 1) "a write after the restart gets a larger resourceVersion ($rv > $maxrv)"
kill $master_pid
wait $master_pid 2>/dev/null
tap_done
