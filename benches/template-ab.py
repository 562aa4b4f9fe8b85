#!/usr/bin/env python3
"""Before/after check of one change: two `kubectl-chart` binaries run `template` on the same charts,
interleaved (A, B, A, B, ...) so load on the machine hits both alike; prints median wall and CPU
time and peak RSS of each, and B's wall-time gain. Outputs must be identical, or it stops.

usage: benches/template-ab.py OLD_BINARY NEW_BINARY [RUNS] [CHART_DIR...]
       (default charts: target/bench-charts/{umbrella,crd-heavy,conditional}, from gen-charts.py)
"""
import os
import statistics
import subprocess
import sys
import time

old, new = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 21
charts = sys.argv[4:] or [f"target/bench-charts/{c}" for c in ("umbrella", "crd-heavy", "conditional")]


def once(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return (time.perf_counter() - t0) * 1000, (ru.ru_utime + ru.ru_stime) * 1000, ru.ru_maxrss / 1024


print(f"{'chart':<14}{'A ms':>8}{'B ms':>8}{'gain':>7}{'A cpu':>8}{'B cpu':>8}{'A MB':>7}{'B MB':>7}")
for path in charts:
    name = os.path.basename(path.rstrip("/"))
    args = ["template", f"rel-{name}", path, "--namespace", "ns-test", "--kube-version", "1.31.0"]
    a_out = subprocess.run([old] + args, capture_output=True, check=True).stdout
    b_out = subprocess.run([new] + args, capture_output=True, check=True).stdout
    if a_out != b_out:
        sys.exit(f"outputs differ on {name}")
    a, b = [], []
    for _ in range(runs):
        a.append(once([old] + args))
        b.append(once([new] + args))
    m = lambda rows, k: statistics.median(r[k] for r in rows)
    print(f"{name:<14}{m(a,0):>8.1f}{m(b,0):>8.1f}{(1 - m(b,0)/m(a,0))*100:>6.0f}%"
          f"{m(a,1):>8.1f}{m(b,1):>8.1f}{m(a,2):>7.0f}{m(b,2):>7.0f}", flush=True)
