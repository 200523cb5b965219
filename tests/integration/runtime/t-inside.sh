#!/bin/bash
# What a process sees from inside a husk-runtime container: pid 1, hostname, capability
# masks, rlimits, read-only and masked paths, a seccomp-blocked syscall, devices, user ns ids.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
rt_setup

b=$(rt_bundle inside sh -c '
  echo "pid1=$(cat /proc/1/comm)"
  echo "self=$$"
  echo "host=$(hostname)"
  grep -E "^Cap(Eff|Bnd|Prm)" /proc/self/status | tr -d "\t" | tr ":" "="
  echo "nofile=$(ulimit -n)"
  touch /rootfile 2>/dev/null && echo root=rw || echo root=ro
  echo x > /proc/sys/kernel/hostname 2>/dev/null && echo procsys=rw || echo procsys=ro
  echo "timer_list=$(wc -c < /proc/timer_list)"
  echo "firmware=$(ls /sys/firmware | wc -l)"
  mkdir /tmp/blocked 2>/dev/null && echo mkdir=ok || echo "mkdir=$(mkdir /tmp/blocked 2>&1)"
  echo "null=$(stat -c %t:%T /dev/null)"
  echo "ptmx=$(readlink /dev/ptmx)"
  echo "ps=$(ps -o pid,comm | awk '"'"'$1 == 1 { print $2 }'"'"')"
  echo "nnp=$(grep NoNewPrivs /proc/self/status | tr -d "\t ")"
  echo "seccomp=$(grep ^Seccomp: /proc/self/status | tr -d "\t ")"
  echo "oom=$(cat /proc/self/oom_score_adj)"
  echo "umask=$(umask)"
  echo "forward=$(cat /proc/sys/net/ipv4/ip_forward)"
  echo "domain=$(cat /proc/sys/kernel/domainname)"
  echo "lo=$(ls /sys/class/net | tr "\n" " ")"
  echo "loflags=$(cat /sys/class/net/lo/flags)"
')
rt_patch "$b" '
c["hostname"] = "inside-test"
c["domainname"] = "inside.example"
c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
c["root"]["readonly"] = True
c["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]})
caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]
c["process"]["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}
c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}]
c["process"]["oomScoreAdj"] = 123
c["process"]["user"]["umask"] = 0o027
c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
  {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
'
host_forward=$(cat /proc/sys/net/ipv4/ip_forward)
out=$(cd "$b" && rt run inside 2>&1)
tap_is "$?" 0 "run exits 0"
get() { sed -n "s/^$1=//p" <<<"$out"; }
tap_is "$(get pid1)" sh "the container's command is pid 1 (/proc/1/comm)"
tap_is "$(get self)" 1 "the shell sees itself as pid 1"
tap_is "$(get host)" inside-test "hostname from config.json"
# CAP_CHOWN=0, CAP_KILL=5, CAP_NET_RAW=13 -> 0x2021
tap_is "$(get CapEff)" 0000000000002021 "CapEff holds exactly the configured capabilities"
tap_is "$(get CapBnd)" 0000000000002021 "CapBnd holds exactly the configured capabilities"
tap_is "$(get CapPrm)" 0000000000002021 "CapPrm holds exactly the configured capabilities"
tap_is "$(get nofile)" 321 "RLIMIT_NOFILE soft limit applied"
tap_is "$(get root)" ro "root.readonly makes / read-only"
tap_is "$(get procsys)" ro "readonlyPaths makes /proc/sys read-only"
tap_is "$(get timer_list)" 0 "maskedPaths hides a file (/proc/timer_list reads empty)"
tap_is "$(get firmware)" 0 "maskedPaths hides a directory (/sys/firmware is empty)"
tap_like "$(get mkdir)" "Operation not permitted" "seccomp rule makes mkdir fail with EPERM"
tap_is "$(get null)" 1:3 "/dev/null is the 1:3 character device"
tap_is "$(get ptmx)" pts/ptmx "/dev/ptmx points into the container's devpts"
tap_is "$(get ps)" sh "ps sees the container's command as pid 1"
tap_is "$(get nnp)" "NoNewPrivs:1" "noNewPrivileges set"
tap_is "$(get seccomp)" "Seccomp:2" "seccomp filter mode"
tap_is "$(get oom)" 123 "oomScoreAdj applied"
tap_is "$(get umask)" 0027 "process.user.umask applied"
tap_is "$(get forward)" 1 "linux.sysctl written in the container's network namespace"
tap_is "$(cat /proc/sys/net/ipv4/ip_forward)" "$host_forward" "the host's value is untouched"
tap_is "$(get domain)" inside.example "domainname from config.json"
tap_is "$(get lo)" "lo " "a new network namespace holds only lo"
tap_is "$(get loflags)" 0x9 "and its lo is up (IFF_UP|IFF_LOOPBACK), as crun does"

# User namespace: root inside is 100000 outside (it must be able to reach the rootfs).
chmod 755 "$RT_WORK"
u=$(rt_bundle userns sh -c 'id -u; cat /proc/self/uid_map; cat /proc/self/gid_map; echo $(stat -c %u /proc/1)')
rt_patch "$u" '
c["linux"]["namespaces"].append({"type": "user"})
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
'
out=$(cd "$u" && rt run userns 2>&1)
tap_is "$(sed -n 1p <<<"$out")" 0 "uid 0 inside the user namespace"
tap_like "$(sed -n 2p <<<"$out")" "^ +0 +100000 +65536$" "uid_map as configured"
tap_like "$(sed -n 3p <<<"$out")" "^ +0 +200000 +65536$" "gid_map as configured"

# process.user: an unprivileged user with supplementary groups; default capabilities dropped.
p=$(rt_bundle user sh -c 'id; grep CapEff /proc/self/status')
rt_patch "$p" 'c["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [5, 7]}'
out=$(cd "$p" && rt run user 2>&1)
tap_like "$out" "uid=1000 gid=1001 groups=5,7" "process.user uid, gid and additionalGids"
tap_like "$out" "CapEff:	0000000000000000" "a non-root user has no effective capabilities (no ambient set)"
tap_done
