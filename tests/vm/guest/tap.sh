# TAP helpers for scripts that run inside the test VM (busybox sh).
# Source with: . "$HUSK_VM_LIB/tap.sh"   then end the script with: done_testing
#
# Each assertion prints one `ok`/`not ok` line; on failure it says what it got and
# what it wanted, so the host's report is enough to see why.

tap_n=0
tap_failed=0

diag () { echo "# $*"; }

ok () { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }

not_ok () {
  tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
  echo "not ok $tap_n - $*"
}

skip () { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }

# skip_all REASON: the whole script does not apply here.
skip_all () { echo "1..0 # SKIP $*"; exit 0; }

# check DESC CMD...: passes when CMD exits 0.
check () {
  _desc=$1; shift
  if "$@"; then ok "$_desc"; else not_ok "$_desc"; diag "  command failed: $*"; fi
}

# is DESC GOT WANT: string equality.
is () {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "  got '$2', want '$3'"; fi
}

# le/ge/gt DESC GOT BOUND: integer comparisons; a non-number GOT fails.
le () { _cmp "$1" "$2" -le "$3"; }
ge () { _cmp "$1" "$2" -ge "$3"; }
gt () { _cmp "$1" "$2" -gt "$3"; }

_cmp () {
  if [ "$2" -eq "$2" ] 2>/dev/null && test "$2" "$3" "$4"; then
    ok "$1"
  else
    not_ok "$1"; diag "  got '$2', want $3 $4"
  fi
}

# wait_for SECS CMD...: run CMD every 0.1 s until it succeeds; 1 once SECS seconds of wall
# time have passed (a slow CMD, like kubectl under emulation, does not stretch the wait).
# A bound on waiting, never a timing assertion.
wait_for () {
  _end=$(($(date +%s) + $1)); shift
  until "$@"; do
    [ "$(date +%s)" -lt "$_end" ] || return 1
    sleep 0.1
  done
}

# done_testing: print the plan (after the results) and exit 1 if anything failed.
done_testing () {
  echo "1..$tap_n"
  [ "$tap_failed" -eq 0 ]
  exit
}
