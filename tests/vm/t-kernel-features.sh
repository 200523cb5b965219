#!/bin/sh
# The kernel features later lanes build pods from are usable in the VM: overlayfs
# for image layers, veth pairs and a bridge for the pod network, nf_tables for
# Services. tests/vm/run loads them as modules when the kernel has them as such.
# Runs under busybox sh in the guest; the links made here live in the guest only.

. "$HUSK_VM_LIB/tap.sh"

test_overlay () {
  d=/tmp/ovl
  mkdir -p $d/lower $d/upper $d/work $d/merged
  echo lower > $d/lower/f
  if mount -t overlay overlay -o lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work $d/merged
  then
    echo written > $d/merged/g
    is "overlay: a lower file shows through the mount" "$(cat $d/merged/f)" lower
    is "overlay: a write lands in the upper dir" "$(cat $d/upper/g 2> /dev/null)" written
    umount $d/merged
  else
    not_ok "overlay: mount -t overlay works"
  fi
  rm -rf $d
}

# The other end of a veth: the device whose ifindex is this one's iflink.
veth_peer () {
  want=$(cat "/sys/class/net/$1/iflink")
  for dev in /sys/class/net/*; do
    [ "${dev##*/}" != "$1" ] && [ "$(cat "$dev/ifindex")" = "$want" ] && echo "${dev##*/}"
  done
}

test_veth_bridge () {
  # busybox ip ignores "peer name"; the kernel names the peer itself.
  ip link add hvm0 type veth
  peer=$(veth_peer hvm0 2> /dev/null)
  check "veth: adding one creates its peer (${peer:-none})" test -n "$peer"
  ip link add hvmbr0 type bridge
  check "bridge: adding one creates a bridge device" test -d /sys/class/net/hvmbr0/bridge
  ip link set hvm0 master hvmbr0
  check "bridge: a veth end can be enslaved" test -e /sys/class/net/hvmbr0/brif/hvm0
  ip link del hvm0 2> /dev/null   # takes the peer with it
  ip link del hvmbr0 2> /dev/null
}

test_nf_tables () {
  check "nf_tables: the module is loaded" test -d /sys/module/nf_tables
}

test_overlay
test_veth_bridge
test_nf_tables
done_testing
