#!/bin/sh
# Runs inside the test VM (tests/vm/run; driven by tests/bench/runtime/vm-bench.sh): the run
# benchmark against crun (and runc) on a kernel whose cgroup v2 has controllers, which crun
# needs. busybox /bin/true, new pid+mount+ipc+uts+net namespaces, no limits, --no-pivot (the
# root is an initramfs). Runtimes alternate in chunks so that both see the same emulator
# load; time comes from /proc/uptime (10 ms ticks) over whole chunks. Prints the figures as
# TAP comments; the tests only say that each runtime ran every container.
. "$HUSK_VM_LIB/tap.sh"

N=$(cat /etc/husk-vm/bench-n 2> /dev/null || echo 20)
CHUNK=5
W=/tmp/rt-bench
BB=
for p in /usr/bin/busybox /bin/busybox; do [ -x "$p" ] && [ ! -L "$p" ] && BB=$p; done
[ -n "$BB" ] || skip_all "no busybox binary in the image"
command -v husk-runtime > /dev/null || skip_all "husk-runtime not in the image (use --bin-dir)"

rm -rf "$W"
mkdir -p "$W/bundle/rootfs/bin" "$W/bundle/rootfs/proc" "$W/bundle/rootfs/dev"
cp "$BB" "$W/bundle/rootfs/bin/busybox"
ln -s busybox "$W/bundle/rootfs/bin/true"
cat > "$W/bundle/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["/bin/true"],
              "env": ["PATH=/bin"], "cwd": "/"},
  "root": {"path": "$W/bundle/rootfs"},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
             {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
              "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"},
                   {"type": "network"}]
  }
}
JSON

cs () { read -r up _ < /proc/uptime; echo $((${up%.*} * 100 + ${up#*.})); }

runtimes=
for rt in husk-runtime crun runc; do
  command -v $rt > /dev/null || { diag "$rt not in the image"; continue; }
  if (cd "$W/bundle" && $rt --root "/run/bench-$rt" run --no-pivot warm-$rt) > /dev/null 2> "$W/err"; then
    runtimes="$runtimes $rt"
  else
    diag "$rt skipped: $(head -c 300 "$W/err")"
  fi
done

i=0
while [ $i -lt $N ]; do
  for rt in $runtimes; do
    t0=$(cs)
    j=0
    while [ $j -lt $CHUNK ]; do
      (cd "$W/bundle" && $rt --root "/run/bench-$rt" run --no-pivot "b$i-$j") > /dev/null 2>&1 ||
        eval "fail_$(echo $rt | tr -c 'a-z\n' _)=1"
      j=$((j + 1))
    done
    key=$(echo $rt | tr -c 'a-z\n' _)
    eval "tot_$key=\$((\${tot_$key:-0} + \$(cs) - t0))"
  done
  i=$((i + CHUNK))
done

for rt in $runtimes; do
  key=$(echo $rt | tr -c 'a-z\n' _)
  eval "t=\$tot_$key; f=\${fail_$key:-0}"
  is "$rt ran all $N containers" "$f" 0
  diag "$rt: $((t * 10 / N)) ms per run ($N runs)"
done
h=$tot_husk_runtime
for peer in crun runc; do
  eval "p=\${tot_$peer:-}"
  [ -n "$p" ] && [ "$p" -gt 0 ] && diag "ratio husk-runtime/$peer: run $((h * 1000 / p / 1000)).$(printf %03d $((h * 1000 / p % 1000))) x"
done
rm -rf "$W"
done_testing
