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
out=$(cd "$b" && rt run -d tty 2>&1)
tap_like "$out" "console-socket is required" "run -d with a terminal and no --console-socket is refused"
out=$(cd "$b" && rt create tty 2>&1)
tap_like "$out" "console-socket is required" "so is create"
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

# In the foreground without --console-socket the runtime relays the pty itself (as runc):
# tty-drive.py runs it on a pty of its own (ROWSxCOLS), types, resizes, and reports.
cat > "$RT_WORK/tty-drive.py" <<'PY'
import fcntl, os, pty, select, struct, sys, termios, time
# tty-drive.py ROWS COLS [--send MARKER TEXT] [--resize MARKER ROWS COLS] -- CMD...
rows, cols = int(sys.argv[1]), int(sys.argv[2])
args, steps = sys.argv[3:], []
while args[0] != "--":
    if args[0] == "--send":
        steps.append(("send", args[1].encode(), args[2].encode())); args = args[3:]
    else:
        steps.append(("resize", args[1].encode(), (int(args[2]), int(args[3])))); args = args[4:]
cmd = args[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
out, raw_seen, deadline = b"", None, time.time() + 60
while time.time() < deadline:
    if steps and steps[0][1] in out:
        kind, marker, arg = steps.pop(0)
        if raw_seen is None:
            raw_seen = not (termios.tcgetattr(fd)[3] & termios.ICANON)
        if kind == "send":
            os.write(fd, arg)
        else:
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", arg[0], arg[1], 0, 0))
            time.sleep(0.2)
        out = out.replace(marker, b"<" + marker.strip(b"!") + b">", 1)
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
_, st = os.waitpid(pid, 0)
try:
    canon_after = bool(termios.tcgetattr(fd)[3] & termios.ICANON)
except termios.error:
    canon_after = None
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print("raw-while-running=%s" % raw_seen)
print("canonical-after=%s" % canon_after)
print("exit=%d" % os.waitstatus_to_exitcode(st))
PY
drive() { python3 "$RT_WORK/tty-drive.py" "$@"; }

f=$(rt_bundle fg sh -c 'tty; stty size; echo ready!; read l; echo "got:$l"; exit 3')
rt_patch "$f" 'c["process"]["terminal"] = True'
got=$(cd "$f" && drive 33 111 --send ready! $'hello\r' -- "$RT_BIN" --root "$RT_ROOT" run fg1)
tap_like "$got" "/dev/pts/0" "run in the foreground: the process has the container's pty"
tap_like "$got" $'\n33 111\n' "the pty has our terminal's window size before the process starts"
tap_like "$got" "got:hello" "what we type reaches the process"
tap_like "$got" "raw-while-running=True" "our terminal is in raw mode while the container runs"
tap_like "$got" "canonical-after=True" "and back in canonical mode afterwards"
tap_like "$got" "exit=3" "run exits with the container's status"

w=$(rt_bundle winch sh -c 'echo ready!; read l; stty size')
rt_patch "$w" 'c["process"]["terminal"] = True'
got=$(cd "$w" && drive 24 80 --resize ready! 41 123 --send '<ready>' $'x\r' -- "$RT_BIN" --root "$RT_ROOT" run winch1)
tap_like "$got" $'\n41 123\n' "a resize of our terminal (SIGWINCH) reaches the pty"

p=$(rt_bundle piped sh -c 'read l; echo "got:$l"; read m || echo "eof-seen"')
rt_patch "$p" 'c["process"]["terminal"] = True'
(cd "$p" && echo piped | rt run piped1 > "$RT_WORK/piped.out")
tap_is "$?" 0 "stdin not a terminal: run still relays (no raw mode)"
got=$(tr -d '\r' < "$RT_WORK/piped.out")
tap_like "$got" "got:piped" "piped input reaches the process"
tap_like "$got" "eof-seen" "the end of our stdin is an end of file in the container"

(cd "$s" && rt run -d svc2)
got=$(drive 30 90 -- "$RT_BIN" --root "$RT_ROOT" exec -t svc2 sh -c 'tty; stty size; exit 4')
tap_like "$got" "/dev/pts/[0-9]+" "exec -t without --console-socket: a pty, relayed"
tap_like "$got" $'\n30 90\n' "exec -t: our window size"
tap_like "$got" "exit=4" "exec -t: the process's exit status"
tap_is "$(rt list -q | sort | tr '\n' ' ')" "svc svc2 " "foreground runs removed their containers"
rt delete --force svc
rt delete --force svc2
tap_done
