#!/bin/bash
# Node IPAM (the range allocator) against a real husk master with hollow Node objects: a
# bad --cluster-cidr is refused; in a 4-block range (10.99.0.0/22 cut into /24s) nodes get
# distinct /24s in spec.podCIDR and spec.podCIDRs around a range a node already holds, a
# deleted node's range goes to the next node, and the node past the end gets the Event
# CIDRNotAvailable.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/sched/lib.sh"
require_cmd kubectl python3

out=$("$HUSK_BUILD_DIR/husk" master --data-dir "$(husk_tmpdir)" --bind 127.0.0.1:0 \
  --cluster-cidr 10.99.0.0 2>&1)
tap_is "$?" 2 "a --cluster-cidr without /n is refused"
tap_like "$out" "cluster-cidr 10.99.0.0" "the error names the flag and the value"

sched_master_start --cluster-cidr 10.99.0.0/22 --node-cidr-mask-size 24
cidr_of() { $K get node "$1" -o jsonpath='{.spec.podCIDR}' 2>/dev/null; }
cidrs_of() { $K get node "$1" -o jsonpath='{.spec.podCIDRs[*]}' 2>/dev/null; }
has_cidr() { [ -n "$(cidr_of "$1")" ]; }

# A node that registered with its own range (as a node agent with --pod-cidr does).
$K create -f - >/dev/null <<J
{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "pre"},
 "spec": {"podCIDR": "10.99.1.0/24", "podCIDRs": ["10.99.1.0/24"]}}
J
for n in a b c; do hollow_node "$n" 8 16Gi 110; done
for n in a b c; do wait_for 20 has_cidr "$n"; done
got="$(cidr_of pre) $(cidr_of a) $(cidr_of b) $(cidr_of c)"
tap_is "$(tr ' ' '\n' <<<"$got" | sort | tr '\n' ' ')" \
  "10.99.0.0/24 10.99.1.0/24 10.99.2.0/24 10.99.3.0/24 " "four nodes, four distinct /24s of the range ($got)"
tap_is "$(cidr_of pre)" 10.99.1.0/24 "a range set before is kept"
tap_is "$(cidrs_of b)" "$(cidr_of b)" "spec.podCIDRs matches spec.podCIDR"

freed=$(cidr_of b)
$K delete node b >/dev/null
hollow_node d 8 16Gi 110
wait_for 20 has_cidr d
tap_is "$(cidr_of d)" "$freed" "a deleted node's range is given to the next node"

hollow_node e 8 16Gi 110
event() { $K get events -A --field-selector reason=CIDRNotAvailable -o jsonpath='{range .items[*]}{.involvedObject.kind}/{.involvedObject.name}{"\n"}{end}'; }
wait_for 20 eval '[ "$(event)" = Node/e ]'
tap_is "$(event)" Node/e "the range exhausted: Event CIDRNotAvailable for the node"
tap_is "$(cidr_of e)" "" "and no podCIDR"

$K delete node a >/dev/null
wait_for 20 has_cidr e
tap_like "$(cidr_of e)" '^10\.99\.[0-3]\.0/24$' "a range freed later goes to the waiting node"
tap_done
