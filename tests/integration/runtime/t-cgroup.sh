#!/bin/bash
# cgroup v2 on this host: every container gets its cgroup (even without controllers); a
# limit whose controller is missing is a clear error unless limits are skipped; what can be
# applied (core cgroup.* files, hugetlb where present) is applied, also live by update.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
rt_setup
cgroot=$(rt_cgroup_root)
controllers=" $(cat "$cgroot/cgroup.controllers") "
# The runtime enables controllers in the root's subtree_control as limits need them; put
# the host back as it was.
subtree_before=" $(cat "$cgroot/cgroup.subtree_control") "
restore_subtree() {
  local c
  for c in $(cat "$cgroot/cgroup.subtree_control"); do
    [[ $subtree_before == *" $c "* ]] || echo "-$c" > "$cgroot/cgroup.subtree_control"
  done
}
on_exit restore_subtree

b=$(rt_bundle limits sleep 1000)
rt_patch "$b" '
c["linux"]["cgroupsPath"] = "husk-rt-cg-'$$'"
c["linux"]["resources"] = {"memory": {"limit": 67108864}, "pids": {"limit": 50}}
'
if [[ $controllers == *" memory "* ]]; then
  tap_ok 0 "# SKIP the memory controller is available here (the VM lane proves limits)"
  tap_ok 0 "# SKIP"
  tap_ok 0 "# SKIP"
else
  out=$(cd "$b" && rt create limits 2>&1)
  tap_is "$?" 1 "a memory limit without the memory controller fails create"
  tap_like "$out" 'cannot set memory.max=67108864: the cgroup v2 controller "memory" is not available' \
    "the error names the limit and the missing controller"
  tap_check "no state or cgroup left" -- test ! -e "$RT_ROOT/limits" -a ! -e "$cgroot/husk-rt-cg-$$"
fi
(cd "$b" && HUSK_RUNTIME_SKIP_LIMITS=1 rt run -d limits 2>"$RT_WORK/warn")
tap_is "$(rt_status limits)" running "HUSK_RUNTIME_SKIP_LIMITS=1 runs the container anyway"
tap_check "its cgroup exists for tracking" -- test -d "$cgroot/husk-rt-cg-$$"
pid=$(rt state limits | rt_json - '["pid"]')
tap_is "$(cat "$cgroot/husk-rt-cg-$$/cgroup.procs")" "$pid" "the init is tracked in it"
rt delete --force limits
(cd "$b" && rt --skip-limits run -d limits2 2>/dev/null)
tap_is "$(rt_status limits2)" running "--skip-limits does the same"
rt delete --force limits2

# Core files through linux.resources.unified, applied at create and by update.
u=$(rt_bundle unified sleep 1000)
rt_patch "$u" 'c["linux"]["resources"] = {"unified": {"cgroup.max.descendants": "3"}}'
(cd "$u" && rt run -d unified)
cg="$cgroot/unified"
tap_is "$(cat "$cg/cgroup.max.descendants")" 3 "unified: cgroup.max.descendants written at create"
echo '{"unified": {"cgroup.max.descendants": "7"}}' > "$RT_WORK/res.json"
tap_check "update --resources" -- rt update --resources "$RT_WORK/res.json" unified
tap_is "$(cat "$cg/cgroup.max.descendants")" 7 "update changed the live value"
out=$(rt update --pids-limit 10 unified 2>&1)
if [[ $controllers == *" pids "* ]]; then
  tap_is "$(cat "$cg/pids.max")" 10 "update --pids-limit"
else
  tap_like "$out" 'controller "pids" is not available' "update --pids-limit without the controller fails clearly"
fi
if [[ $controllers == *" hugetlb "* ]] && [ -e /sys/kernel/mm/hugepages/hugepages-2048kB ]; then
  echo '{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}' > "$RT_WORK/huge.json"
  rt update -r "$RT_WORK/huge.json" unified
  tap_is "$(cat "$cg/hugetlb.2MB.max")" 4194304 "hugepageLimits map to hugetlb.2MB.max"
else
  tap_ok 0 "# SKIP no hugetlb controller"
fi
rt delete --force unified
tap_check "delete removed the cgroup" -- test ! -e "$cg"
tap_done
