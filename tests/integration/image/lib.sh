# Helpers for the image integration tests: a throwaway Debian docker-registry on 127.0.0.1
# (plain HTTP, or TLS + htpasswd basic auth) and test images built from busybox-static with
# umoci, pushed with skopeo. Source it; call img_setup first. Everything is removed on exit.

HUSK_BUILD_DIR=${HUSK_BUILD_DIR:-$PWD}
HUSK=${HUSK:-$HUSK_BUILD_DIR/husk}
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"

img_n=0
img_failed=0
ok() { img_n=$((img_n + 1)); echo "ok $img_n - $*"; }
not_ok() { img_n=$((img_n + 1)); img_failed=$((img_failed + 1)); echo "not ok $img_n - $*"; }
check() { # check "name" cmd...
  local name=$1; shift
  if "$@" >>"$IMG_TMP/check.log" 2>&1; then ok "$name"; else not_ok "$name"; tail -5 "$IMG_TMP/check.log" | sed 's/^/#   /'; fi
}
# expect_fail "name" "substring of stderr" cmd...
expect_fail() {
  local name=$1 want=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ $rc -ne 0 ] && grep -qF -- "$want" <<<"$out"; then ok "$name"; grep -v 'level=info' <<<"$out" | head -3 | sed 's/^/#   /'
  else not_ok "$name (rc=$rc)"; echo "want '$want', got: $out" | head -8 | sed 's/^/#   /'; fi
}
img_done() { echo "1..$img_n"; [ "$img_failed" -eq 0 ]; }

img_skip_unless() {
  [ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
  for t in curl python3 "$@"; do
    command -v "$t" >/dev/null 2>&1 || { echo "1..0 # SKIP $t not installed"; exit 0; }
  done
  case " $* " in *" busybox "*)
    if ldd "$(command -v busybox)" 2>/dev/null | grep -q '=>'; then
      echo "1..0 # SKIP busybox is dynamically linked (apt-get install busybox-static)"; exit 0
    fi ;;
  esac
  [ -x "$HUSK" ] || { echo "1..0 # SKIP $HUSK not built"; exit 0; }
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
}

IMG_PIDS=()
IMG_MOUNTS=()
img_cleanup() {
  local m p
  for m in "${IMG_MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done
  for p in "${IMG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${IMG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${IMG_TMP:-}" ] && rm -rf "$IMG_TMP"
}

img_setup() {
  IMG_TMP=$(mktemp -d /tmp/husk-image-test.XXXXXX)
  trap img_cleanup EXIT
  trap 'exit 130' INT TERM
  export HUSK_DATA_DIR=$IMG_TMP/data
  export HOME=$IMG_TMP/home # no stray docker config.json
  mkdir -p "$HOME"
}

img_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# img_registry NAME [tls] -> sets REG_<NAME>=127.0.0.1:port; tls adds htpasswd user husk/secret
img_registry() {
  local name=$1 mode=${2:-plain} dir port
  dir=$IMG_TMP/registry-$name
  mkdir -p "$dir/data"
  port=$(img_free_port)
  if [ "$mode" = tls ]; then
    img_make_cert "$dir"
    img_htpasswd husk secret >"$dir/htpasswd" ||
      { echo "1..0 # SKIP no bcrypt (python3 crypt/bcrypt or htpasswd) for the registry's htpasswd"; exit 0; }
  fi
  {
    echo "version: 0.1"
    echo "log: {level: error, accesslog: {disabled: true}}"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    echo "  secret: husk-test"
    if [ "$mode" = tls ]; then
      echo "  tls: {certificate: $dir/cert.pem, key: $dir/key.pem}"
      echo "auth: {htpasswd: {realm: husk-test, path: $dir/htpasswd}}"
    fi
  } >"$dir/config.yml"
  REGISTRY_HTTP_DEBUG_ADDR= docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  IMG_PIDS+=($!)
  local i scheme=http
  [ "$mode" = tls ] && scheme=https
  for i in $(seq 1 300); do
    if curl -s -o /dev/null --cacert "$dir/cert.pem" "$scheme://127.0.0.1:$port/v2/" 2>/dev/null; then break; fi
    sleep 0.1
  done
  printf -v "REG_$name" '127.0.0.1:%s' "$port"
}

img_htpasswd() { # bcrypt, the only scheme docker-registry's htpasswd accepts
  python3 -c 'import crypt,sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$1" "$2" 2>/dev/null ||
    python3 -c 'import bcrypt,sys; print(sys.argv[1] + ":" + bcrypt.hashpw(sys.argv[2].encode(), bcrypt.gensalt()).decode())' "$1" "$2" 2>/dev/null ||
    htpasswd -nbB "$1" "$2" 2>/dev/null | head -1 | grep .
}

img_make_cert() {
  local dir=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
}

# A root filesystem tar from busybox-static: bin/busybox and applet symlinks.
img_busybox_tar() {
  local out=$1 root=$IMG_TMP/bbroot.$$
  rm -rf "$root"; mkdir -p "$root"/{bin,etc,tmp,var/cache/app,usr/share/doc}
  cp "$(command -v busybox)" "$root/bin/busybox"
  for a in sh ls cat echo true; do ln -s busybox "$root/bin/$a"; done
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  echo "remove me" >"$root/etc/removeme"
  echo old >"$root/var/cache/app/old1"
  echo old >"$root/var/cache/app/old2"
  echo doc >"$root/usr/share/doc/readme"
  ln "$root/usr/share/doc/readme" "$root/usr/share/doc/readme.hard"
  chmod 1777 "$root/tmp"
  tar --numeric-owner -C "$root" -cf "$out" .
  rm -rf "$root"
}

# Runs python3 to write a layer tar from a spec; see callers.
img_py_tar() { python3 - "$@"; }

# img_build_image LAYOUT TAG: a 3-layer image (busybox / whiteout + opaque dir / a file).
img_build_image() {
  local layout=$1 tag=$2
  [ -d "$layout" ] || umoci init --layout "$layout" >/dev/null
  umoci new --image "$layout:$tag" >/dev/null
  img_busybox_tar "$IMG_TMP/l1.tar"
  umoci raw add-layer --image "$layout:$tag" "$IMG_TMP/l1.tar" >/dev/null
  img_py_tar "$IMG_TMP/l2.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    def f(name, data=b"", mode=0o644, uid=0, gid=0, typ=tarfile.REGTYPE):
        i = tarfile.TarInfo(name); i.size = len(data); i.mode = mode; i.uid = uid; i.gid = gid; i.type = typ
        t.addfile(i, io.BytesIO(data))
    f("etc/", typ=tarfile.DIRTYPE, mode=0o755)
    f("etc/.wh.removeme")
    f("var/", typ=tarfile.DIRTYPE, mode=0o755)
    f("var/cache/", typ=tarfile.DIRTYPE, mode=0o755)
    f("var/cache/app/", typ=tarfile.DIRTYPE, mode=0o750)
    f("var/cache/app/.wh..wh..opq")
    f("var/cache/app/new", b"new\n")
    f("home/", typ=tarfile.DIRTYPE, mode=0o755)
    f("home/user/", typ=tarfile.DIRTYPE, mode=0o700, uid=1000, gid=1000)
    f("home/user/owned", b"mine\n", mode=0o600, uid=1000, gid=1000)
EOF
  umoci raw add-layer --image "$layout:$tag" "$IMG_TMP/l2.tar" >/dev/null
  mkdir -p "$IMG_TMP/l3/etc"; echo "$tag" >"$IMG_TMP/l3/etc/image-tag"
  tar --numeric-owner -C "$IMG_TMP/l3" -cf "$IMG_TMP/l3.tar" etc
  umoci raw add-layer --image "$layout:$tag" "$IMG_TMP/l3.tar" >/dev/null
  umoci config --image "$layout:$tag" --config.cmd /bin/sh >/dev/null
}

# img_push LAYOUT TAG DEST(docker://...) [skopeo dest options...]
img_push() {
  local layout=$1 tag=$2 dest=$3; shift 3
  skopeo copy -q --dest-tls-verify=false "$@" "oci:$layout:$tag" "$dest" >/dev/null
}
