#!/usr/bin/env python3
"""Sums the node agent's per-step timings from its debug log (lines `msg=step step=S pod=P
us=N`, written by node_step_done) and the "pod running" latencies.

usage: steps.py LOGFILE [POD-PREFIX]"""
import re
import sys

steps = {}
running = []
prefix = sys.argv[2] if len(sys.argv) > 2 else ""
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"msg=step step=(\S+) pod=(\S+) us=(\d+)", line)
    if m and m.group(2).startswith(prefix):
        steps.setdefault(m.group(1), []).append(int(m.group(3)) / 1000.0)
        continue
    m = re.search(r'msg="pod running" pod=(\S+) .* ms=(\d+)', line)
    if m and m.group(1).startswith(prefix):
        running.append(int(m.group(2)))


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


print("%-14s %5s %9s %9s %9s %10s" % ("step", "n", "mean ms", "p50 ms", "max ms", "total s"))
for name, v in sorted(steps.items(), key=lambda kv: -sum(kv[1])):
    print("%-14s %5d %9.1f %9.1f %9.1f %10.2f" % (name, len(v), sum(v) / len(v), pct(v, 50),
                                                  max(v), sum(v) / 1000))
if running:
    print("%-14s %5d %9.1f %9.1f %9.1f  (agent first saw the pod -> Running PATCHed)" % (
        "pod running", len(running), sum(running) / len(running), pct(running, 50), max(running)))
