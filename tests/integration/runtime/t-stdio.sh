#!/bin/bash
# The library API the node agent uses: rt_create_opts carries the container's stdin, stdout
# and stderr fds. Containers are created from several threads at once (rt-stdio-helper);
# each gets its own pipes on 0/1/2, holds no other container's pipe while it waits for start,
# and the creating process's own stdout/stderr stay untouched.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
HELPER="$HUSK_BUILD_DIR/tests/integration/runtime/rt-stdio-helper"
[ -x "$HELPER" ] || tap_skip_all "rt-stdio-helper not built (make check TESTS=)"
rt_setup

n=6
b=$(rt_bundle stdio sh -c 'read l; echo "out $l"; echo "err $l" >&2; exit 3')
"$HELPER" "$RT_ROOT" "$b" $n >"$RT_WORK/result" 2>"$RT_WORK/helper-err"
tap_is "$?" 0 "the helper ran $n concurrent creates"
for i in $(seq 0 $((n - 1))); do
  line=$(grep "^$i " "$RT_WORK/result")
  tap_is "$line" "$i fds=ok out=out_hello-${i}_ err=err_hello-${i}_ status=3" \
    "container $i: own pipes on 0/1/2 while created, its stdin read, stdout and stderr apart"
done
tap_is "$(grep -v '^[0-9]* ' "$RT_WORK/result")" "" "nothing of the containers on the helper's stdout"
tap_is "$(cat "$RT_WORK/helper-err")" "" "nor on its stderr"
tap_is "$(rt list -q)" "" "every container deleted"

# The command line still inherits: run without the options prints on our stdout.
b2=$(rt_bundle inherit sh -c 'echo inherited; echo to-stderr >&2')
tap_is "$(cd "$b2" && rt run inh 2>"$RT_WORK/inh-err")" inherited "-1 (the default) inherits stdout"
tap_is "$(cat "$RT_WORK/inh-err")" to-stderr "and stderr"

# fds beyond --preserve-fds are closed in the container, those within stay.
b3=$(rt_bundle fds sh -c 'ls /proc/self/fd | sort -n | tr "\n" " "')
exec 7>"$RT_WORK/seven" 8>"$RT_WORK/eight"
tap_is "$(cd "$b3" && rt run fds1)" "0 1 2 3 " "an inherited non-close-on-exec fd does not leak into the container"
exec 3>"$RT_WORK/three"
tap_is "$(cd "$b3" && rt run --preserve-fds 1 fds2)" "0 1 2 3 4 " "--preserve-fds 1 keeps fd 3"
exec 3>&- 7>&- 8>&-
tap_done
