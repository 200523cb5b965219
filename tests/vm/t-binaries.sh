#!/bin/sh
# The husk binaries given to tests/vm/run --bin-dir start inside the VM: the kernel
# can exec them and the loader finds every shared library they need (a missing
# interpreter or library gives status 126/127). Runs under busybox sh in the guest.

. "$HUSK_VM_LIB/tap.sh"

for name in husk husk-runtime husk-cni husk-pause husk-shim; do
  bin=/usr/bin/$name
  [ -e "$bin" ] || continue
  # husk-pause ignores arguments and waits for SIGTERM, which timeout sends; husk-shim
  # prints its usage (status 2).
  timeout 5 "$bin" --version < /dev/null > /tmp/bin.out 2>&1
  rc=$?
  if [ "$rc" -ne 126 ] && [ "$rc" -ne 127 ]; then
    ok "$name starts (exit status $rc)"
  else
    not_ok "$name starts"
    sed 's/^/#   /' /tmp/bin.out
  fi
done

# shellcheck disable=SC2154 # tap_n comes from tap.sh
[ "$tap_n" -gt 0 ] || skip_all "no husk binaries in the image (tests/vm/run --bin-dir DIR)"
done_testing
