# Helpers for the API server's kubectl-driven tests: a real `husk master` on 127.0.0.1 with a
# random port and a temp data dir, killed when the script exits. Source after common.sh.

# api_start: a master on a new data dir (tests/lib/common.sh husk_master_launch); sets DATA,
# KUBECONFIG, K (kubectl with a private cache), API_URL, API_TOKEN, API_PID.
api_start() {
  DATA=$(husk_tmpdir)
  husk_master_launch
  API_PID=$MASTER_PID
}

# api_restart: stops the master and starts it again on the same data dir (new port).
api_restart() {
  kill "$API_PID" 2>/dev/null
  wait "$API_PID" 2>/dev/null
  husk_master_launch
  API_PID=$MASTER_PID
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
