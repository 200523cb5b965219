#!/bin/bash
# Benchmark: `husk-runtime run` of a busybox /bin/true container (new pid, mount, ipc, uts
# and network namespaces, no cgroup limits) against runc (and crun when installed) on the
# same bundle, measured in the same run; plus peak RSS of the runtime process and the time
# of `exec` into a running container. Prints figures and ratios; asserts nothing.
#   usage: run-bench.sh [ITERATIONS]   (HUSK_BUILD_DIR: where husk-runtime is; default .)
set -e
N=${1:-50}
: "${HUSK_BUILD_DIR:=$PWD}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
RT="$HUSK_BUILD_DIR/husk-runtime"
[ -x "$RT" ] || { echo "husk-runtime not found in $HUSK_BUILD_DIR" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
. "$top_srcdir/tests/lib/common.sh"
trap - EXIT

W=$(mktemp -d /tmp/husk-rt-bench.XXXXXX)
cleanup() {
  for r in "$RT" runc crun; do
    command -v "$r" >/dev/null && "$r" --root "$W/state-$(basename "$r")" delete --force bench-exec >/dev/null 2>&1
  done
  rm -rf "$W"
}
trap cleanup EXIT
husk_busybox_rootfs "$W/bundle/rootfs" >/dev/null
(cd "$W/bundle" && "$RT" spec)
python3 - "$W/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["ociVersion"] = "1.0.2"                   # what runc 1.1 and crun 1.8 accept
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["linux"].pop("resources", None)          # no cgroup limits
c["linux"]["namespaces"] = [{"type": t} for t in ("pid", "mount", "ipc", "uts", "network")]
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
cp -a "$W/bundle" "$W/exec-bundle"
python3 - "$W/exec-bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/sleep", "3600"]
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY

runtimes=("$RT")
command -v runc >/dev/null && runtimes+=(runc)
command -v crun >/dev/null && runtimes+=(crun)

python3 - "$W" "$N" "${runtimes[@]}" <<'PY'
import os, resource, statistics, subprocess, sys, time
work, n, runtimes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
name = lambda r: os.path.basename(r)

class Failed(Exception):
    pass

cpu = {}  # CPU time (user + sys) of the runtime and everything it reaped, per runtime

def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def timed(cmd, cwd):
    c0 = children_cpu()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise Failed("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr.decode().strip()))
    cpu.setdefault(name(cmd[0]), []).append(children_cpu() - c0)
    return dt

def peak_rss(cmd, cwd):
    # GNU time's %M: the maximum resident set of the runtime process (KiB).
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return int(p.stderr.decode().strip().splitlines()[-1])

# Interleaved (husk, runc, crun, husk, ...): load on this shared machine changes by the
# second, and it must weigh on every runtime alike.
live = []
for rt in runtimes:
    base = [rt, "--root", "%s/state-%s" % (work, name(rt))]
    try:
        for i in range(3):  # warm up caches
            timed(base + ["run", "warm%d" % i], work + "/bundle")
    except Failed as e:
        if name(rt) == "husk-runtime":
            sys.exit(str(e))
        print("# %s skipped: %s" % (name(rt), e))
        continue
    live.append((rt, base))
runs = {name(rt): [] for rt, _ in live}
cpu.clear()
for i in range(n):
    for rt, base in live:
        runs[name(rt)].append(timed(base + ["run", "bench%d" % i], work + "/bundle"))
run_cpu = {k: statistics.mean(v) for k, v in cpu.items()}
for rt, base in live:
    subprocess.run(base + ["run", "-d", "bench-exec"], cwd=work + "/exec-bundle", check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
execs = {name(rt): [] for rt, _ in live}
for i in range(n):
    for rt, base in live:
        execs[name(rt)].append(timed(base + ["exec", "bench-exec", "/bin/true"], work))
res = {}
for rt, base in live:
    subprocess.run(base + ["delete", "--force", "bench-exec"], stdout=subprocess.DEVNULL)
    rss = peak_rss(base + ["run", "rss"], work + "/bundle")
    k = name(rt)
    res[k] = (statistics.median(runs[k]), statistics.mean(runs[k]), rss, statistics.median(execs[k]),
              run_cpu[k])

print("runtime benchmark: busybox /bin/true, new pid+mount+ipc+uts+net namespaces, no limits, %d runs each (interleaved)" % n)
print("%-14s %12s %12s %12s %14s %14s" % ("runtime", "run p50 ms", "run mean ms", "run CPU ms",
                                          "peak RSS KiB", "exec p50 ms"))
for k, (p50, mean, rss, ex, c) in res.items():
    print("%-14s %12.2f %12.2f %12.2f %14d %14.2f" % (k, p50 * 1e3, mean * 1e3, c * 1e3, rss, ex * 1e3))
h = res["husk-runtime"]
for peer in ("runc", "crun"):
    if peer in res:
        print("ratio husk-runtime/%s: run p50 %.3f x, run CPU %.3f x, exec p50 %.3f x, peak RSS %.3f x" %
              (peer, h[0] / res[peer][0], h[4] / res[peer][4], h[3] / res[peer][3], h[2] / res[peer][2]))
PY
