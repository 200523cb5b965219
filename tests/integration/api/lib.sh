# Helpers for the API server's kubectl-driven tests: a real `husk master` on 127.0.0.1 with a
# random port and a temp data dir, killed when the script exits. Source after common.sh.

# api_start: sets DATA, KUBECONFIG, K (kubectl with a private cache), API_URL, API_TOKEN.
api_start() {
  DATA=$(husk_tmpdir)
  api_launch
}

# api_restart: stops the master and starts it again on the same data dir (new port).
api_restart() {
  kill "$API_PID" 2>/dev/null
  wait "$API_PID" 2>/dev/null
  rm -f "$DATA/admin.kubeconfig"
  api_launch
}

api_launch() {
  "$HUSK_BUILD_DIR/husk" master --data-dir "$DATA" --bind 127.0.0.1:0 >"$DATA/master.log" 2>&1 &
  API_PID=$!
  on_exit "kill $API_PID 2>/dev/null; wait $API_PID 2>/dev/null"
  local i
  for i in $(seq 1 100); do
    [ -s "$DATA/admin.kubeconfig" ] && break
    kill -0 "$API_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -s "$DATA/admin.kubeconfig" ]; then
    cat "$DATA/master.log" >&2
    echo "Bail out! husk master did not start"
    exit 1
  fi
  export KUBECONFIG="$DATA/admin.kubeconfig"
  K="kubectl --cache-dir $DATA/kube-cache --request-timeout=20s"
  API_URL=$(awk '/server:/ {print $2}' "$KUBECONFIG")
  API_TOKEN=$(cat "$DATA/admin-token")
}

# api_curl [curl args...] PATH: an authenticated request; prints the body.
api_curl() {
  local path=${*: -1}
  curl -sk --max-time 20 -H "Authorization: Bearer $API_TOKEN" "${@:1:$#-1}" "$API_URL$path"
}

# api_code [curl args...] PATH: the HTTP status code of an authenticated request.
api_code() {
  local path=${*: -1}
  curl -sk --max-time 20 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" \
    "${@:1:$#-1}" "$API_URL$path"
}
