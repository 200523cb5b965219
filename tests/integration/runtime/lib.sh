# Helpers for the runtime's integration tests (sourced by t-*.sh after tests/lib/common.sh).

RT_BIN="$HUSK_BUILD_DIR/husk-runtime"

rt_require() {
  require_root
  require_cmd python3
  [ -x "$RT_BIN" ] || tap_skip_all "husk-runtime not built in $HUSK_BUILD_DIR"
  [ -x /usr/bin/busybox ] || [ -x /bin/busybox ] || tap_skip_all "busybox-static not installed"
  grep -q cgroup2 /proc/mounts || tap_skip_all "no cgroup v2 mount"
}

# rt_setup: a private state root and work dir, everything removed on exit (containers
# killed and deleted first).
rt_setup() {
  RT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/husk-rt-test.XXXXXX")
  RT_ROOT="$RT_WORK/state"
  on_exit "rt_teardown"
}
rt_teardown() {
  local id
  for id in $("$RT_BIN" --root "$RT_ROOT" list -q 2>/dev/null); do
    "$RT_BIN" --root "$RT_ROOT" delete --force "$id"
  done
  rm -rf "$RT_WORK"
}

rt() { "$RT_BIN" --root "$RT_ROOT" "$@"; }

# rt_bundle NAME CMD...: $RT_WORK/NAME with a busybox rootfs and husk-runtime's default
# config.json (runc's shape) running CMD, no terminal, writable root. Prints the path.
rt_bundle() {
  local dir="$RT_WORK/$1"
  shift
  mkdir -p "$dir"
  husk_busybox_rootfs "$dir/rootfs" || return 1
  (cd "$dir" && "$RT_BIN" spec) || return 1
  python3 - "$dir/config.json" "$@" <<'PY'
import json, sys
path, args = sys.argv[1], sys.argv[2:] or ["/bin/true"]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = args
c["root"]["readonly"] = False
json.dump(c, open(path, "w"), indent=2)
PY
  echo "$dir"
}

# rt_patch DIR PYTHON: runs PYTHON with `c` bound to DIR/config.json, then saves it.
rt_patch() {
  python3 - "$1/config.json" "$2" <<'PY'
import json, sys
path, code = sys.argv[1], sys.argv[2]
c = json.load(open(path))
exec(code)
json.dump(c, open(path, "w"), indent=2)
PY
}

# rt_json FILE_OR_- EXPR: prints a value from JSON (stdin with -), e.g. '["status"]'.
rt_json() {
  python3 -c 'import json,sys
f = sys.stdin if sys.argv[1] == "-" else open(sys.argv[1])
d = json.load(f)
try:
    v = eval("d" + sys.argv[2])
except Exception:
    v = ""
print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$@"
}

rt_status() { rt state "$1" 2>/dev/null | rt_json - '["status"]'; }

rt_cgroup_root() { awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts; }
