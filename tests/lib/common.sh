# husk test helpers for integration scripts (bash). Source it:
#   . "$top_srcdir/tests/lib/common.sh"
# Gives: TAP helpers, temp dirs and network namespaces removed on exit, a busybox rootfs,
# an OCI bundle and an OCI image layout made from Debian's busybox-static.

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${HUSK_BUILD_DIR:=$PWD}"
export top_srcdir HUSK_BUILD_DIR
export PATH="$HUSK_BUILD_DIR:$PATH"

# ---- TAP ----------------------------------------------------------------------------
_tap_n=0
_tap_failed=0
tap_ok() { # tap_ok STATUS DESCRIPTION  (STATUS 0 = pass, as a shell exit code)
  local st=$1
  shift
  _tap_n=$((_tap_n + 1))
  if [ "$st" -eq 0 ]; then
    echo "ok $_tap_n - $*"
  else
    echo "not ok $_tap_n - $*"
    _tap_failed=$((_tap_failed + 1))
  fi
}
tap_check() { # tap_check DESCRIPTION -- command...   (passes when the command succeeds)
  local desc=$1
  shift
  [ "$1" = -- ] && shift
  "$@" >/dev/null 2>&1
  tap_ok $? "$desc"
}
tap_is() { # tap_is GOT WANT DESCRIPTION
  if [ "$1" = "$2" ]; then tap_ok 0 "$3"; else
    tap_ok 1 "$3"
    printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
  fi
}
tap_like() { # tap_like GOT REGEX DESCRIPTION
  if [[ $1 =~ $2 ]]; then tap_ok 0 "$3"; else
    tap_ok 1 "$3"
    printf '#   got:      %s\n#   expected to match: %s\n' "$1" "$2"
  fi
}
tap_diag() { printf '# %s\n' "$*"; }
tap_skip_all() {
  echo "1..0 # SKIP $*"
  exit 0
}
tap_done() {
  echo "1..$_tap_n"
  [ "$_tap_failed" -eq 0 ]
}
require_root() { [ "$(id -u)" = 0 ] || tap_skip_all "needs root"; }
require_cmd() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || tap_skip_all "$c not installed"; done
}

# ---- cleanup: everything registered here goes when the script exits ------------------
# Commands are kept in a file, not a variable, so that helpers called inside $(...)
# (a subshell) still register with the script's own exit trap.
_husk_cleanup_file=$(mktemp "${TMPDIR:-/tmp}/husk-cleanup.XXXXXX")
on_exit() { printf '%s\n' "$*" >>"$_husk_cleanup_file"; }
_run_cleanup() {
  local cmd
  [ -f "$_husk_cleanup_file" ] || return 0
  while IFS= read -r cmd; do eval "$cmd" >/dev/null 2>&1 || true; done < <(tac "$_husk_cleanup_file")
  rm -f "$_husk_cleanup_file"
}
trap _run_cleanup EXIT
trap 'exit 130' INT TERM

husk_tmpdir() { # prints a new temp dir, removed on exit
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/husk-test.XXXXXX")
  on_exit "rm -rf '$d'"
  echo "$d"
}

# ---- network namespaces (DESIGN.md 8a): created here, no route out, always removed ----
husk_netns_new() { # husk_netns_new NAME -> prints the netns name actually created
  local ns="husk-t$$-$1"
  ip netns add "$ns" || return 1
  on_exit "ip netns del '$ns'"
  ip -n "$ns" link set lo up
  echo "$ns"
}

# ---- busybox rootfs, bundle, image layout ---------------------------------------------
husk_busybox_rootfs() { # husk_busybox_rootfs DIR
  local root=$1 bb=/usr/bin/busybox a
  [ -x "$bb" ] || bb=/bin/busybox
  [ -x "$bb" ] || { echo "busybox-static not installed" >&2; return 1; }
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var,run}
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  for a in $("$bb" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  echo husk >"$root/etc/hostname"
}

husk_bundle() { # husk_bundle DIR [CMD...]: DIR/rootfs + DIR/config.json (runc spec shape)
  local dir=$1
  shift
  mkdir -p "$dir"
  husk_busybox_rootfs "$dir/rootfs" || return 1
  (cd "$dir" && rm -f config.json && runc spec) || return 1
  python3 - "$dir/config.json" "$@" <<'PY'
import json, sys
path, args = sys.argv[1], sys.argv[2:] or ["/bin/true"]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = args
c["root"]["readonly"] = False
json.dump(c, open(path, "w"), indent=2)
PY
}

husk_oci_layout() { # husk_oci_layout LAYOUT_DIR [TAG]: a one-layer busybox image
  local layout=$1 tag=${2:-latest} work
  work=$(husk_tmpdir)
  umoci init --layout "$layout" &&
    umoci new --image "$layout:$tag" &&
    umoci unpack --image "$layout:$tag" "$work/bundle" >/dev/null &&
    husk_busybox_rootfs "$work/bundle/rootfs" &&
    umoci repack --image "$layout:$tag" "$work/bundle" &&
    umoci config --image "$layout:$tag" --config.cmd /bin/sh --os linux --architecture amd64
}

# Waits for a command to succeed (polling every 0.1 s).
wait_for() { # wait_for SECS command...
  # Up to SECS*10 tries 0.1 s apart (a slow command stretches the wait, as tests expect), but
  # never longer than 4*SECS of wall time (under heavy load a 30 s wait once took 10 minutes).
  local secs=$1 i deadline=$((${EPOCHREALTIME/./} + ${1%.*} * 4000000))
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    [ "${EPOCHREALTIME/./}" -ge "$deadline" ] && return 1
    sleep 0.1
  done
  return 1
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- a real `husk master` ---------------------------------------------------------------
# husk_master_launch [husk master flags...]: starts `husk master` with its data in $DATA
# (a new temp dir when DATA is unset or empty) on 127.0.0.1 with a random port, killed when
# the script exits, and waits for its kubeconfig. Sets DATA, MASTER_PID, KUBECONFIG, K
# (kubectl with a private cache dir), API_URL and API_TOKEN. Call again to restart on the
# same data after stopping MASTER_PID.
husk_master_launch() {
  [ -n "${DATA:-}" ] || DATA=$(husk_tmpdir)
  rm -f "$DATA/admin.kubeconfig"
  "$HUSK_BUILD_DIR/husk" master --data-dir "$DATA" --bind 127.0.0.1:0 "$@" >>"$DATA/master.log" 2>&1 &
  MASTER_PID=$!
  on_exit "kill $MASTER_PID 2>/dev/null; wait $MASTER_PID 2>/dev/null"
  local i
  for ((i = 0; i < 100; i++)); do
    [ -s "$DATA/admin.kubeconfig" ] && break
    kill -0 "$MASTER_PID" 2>/dev/null || break
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
  API_TOKEN=$(cat "$DATA/admin-token" 2>/dev/null)
}
