#!/bin/bash
# process.terminal with --console-socket: the pty master arrives over the socket, the
# container's stdio is the slave (a tty, its controlling terminal), for run and exec -t.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
rt_setup

# console-recv SOCKET OUT: accepts one connection, takes the pty master and copies what the
# container writes to OUT until EOF/EIO.
cat > "$RT_WORK/console-recv.py" <<'PY'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
open(path + ".ready", "w").close()
c, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(c, 16, 1)
master = fds[0]
with open(out, "wb") as f:
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        f.write(data)
        f.flush()
PY
console() { # console NAME: starts a receiver on $RT_WORK/NAME.sock writing $RT_WORK/NAME.out
  python3 "$RT_WORK/console-recv.py" "$RT_WORK/$1.sock" "$RT_WORK/$1.out" &
  wait_for 5 test -e "$RT_WORK/$1.sock.ready"
}

b=$(rt_bundle tty sh -c 'tty; [ -t 0 ] && echo stdin-is-tty; ls -l /dev/console | cut -c1; ps -o pid,tty | sed -n 2p')
rt_patch "$b" 'c["process"]["terminal"] = True'
out=$(cd "$b" && rt run tty 2>&1)
tap_like "$out" "console-socket is required" "terminal without --console-socket is refused"
console run
(cd "$b" && rt run --console-socket "$RT_WORK/run.sock" tty)
tap_is "$?" 0 "run --console-socket"
wait
got=$(tr -d '\r' < "$RT_WORK/run.out")
tap_like "$got" "/dev/pts/0" "the process's stdio is a pty from the container's devpts"
tap_like "$got" "stdin-is-tty" "stdin is a terminal"
tap_like "$got" $'\nc\n' "/dev/console is the pty (a character device)"
tap_like "$got" "1 +(pts/0|136,0)" "the pty is the controlling terminal of pid 1"

s=$(rt_bundle svc sleep 1000)
(cd "$s" && rt run -d svc)
console exec
rt exec -t --console-socket "$RT_WORK/exec.sock" svc sh -c 'tty; echo exec-tty-ok'
wait
got=$(tr -d '\r' < "$RT_WORK/exec.out")
tap_like "$got" "/dev/pts/[0-9]+" "exec -t: the process has a pty"
tap_like "$got" "exec-tty-ok" "exec -t: output arrives through the console socket"
rt delete --force svc
tap_done
