# cgroup v2 helpers for scripts that run inside the test VM (busybox sh).
# Source with: . "$HUSK_VM_LIB/cgroup.sh"

CGROOT=/sys/fs/cgroup

# cg_new NAME: create $CGROOT/NAME (removing a leftover one first), print its path.
cg_new () {
  [ -d "$CGROOT/$1" ] && cg_remove "$CGROOT/$1"
  mkdir "$CGROOT/$1" && echo "$CGROOT/$1"
}

# cg_run CG CMD...: run CMD inside cgroup CG (in the foreground), return its status.
cg_run () {
  _cg=$1; shift
  sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$_cg" "$@"
}

# cg_key FILE KEY: the value of KEY in a flat-keyed file (memory.events, cpu.stat, ...).
cg_key () {
  awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }' "$1"
}

cg_empty () { grep -q '^populated 0' "$1/cgroup.events"; }

# cg_remove CG: kill everything in CG, wait until it is empty, remove it.
cg_remove () {
  echo 1 > "$1/cgroup.kill"
  wait_for 10 cg_empty "$1" || echo "# cg_remove: $1 still populated" >&2
  rmdir "$1"
}
