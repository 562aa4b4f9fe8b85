#!/usr/bin/env bash
# Times `kubectl-chart template` against `helm template` on the largest corpus charts, whole process,
# interleaved runs, and reports median wall time (ms), CPU time and peak RSS of each. A benchmark, not a
# test. Timing is done in Python (perf_counter + wait4 rusage): /usr/bin/time's 10 ms resolution is
# too coarse for runs of 10-30 ms.
#   usage: benches/template-vs-helm.sh [RUNS]       (needs ../shared/tools/get-helm 3 for helm)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-15}"
corpus="${KUBECTL_CHART_CORPUS:-../shared/corpus}"
helm="$(../shared/tools/get-helm 3 target/reference 2>/dev/null | tail -n1)"
cargo build --release --quiet
ours=target/release/kubectl-chart

python3 - "$runs" "$corpus" "$helm" "$ours" <<'PY'
import os, statistics, subprocess, sys, time
runs, corpus, helm, ours = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

def once(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return (time.perf_counter() - t0) * 1000, (ru.ru_utime + ru.ru_stime) * 1000, ru.ru_maxrss / 1024

print(f"{'chart':<15}{'helm ms':>9}{'ours ms':>9}{'speed-up':>10}{'helm cpu':>10}{'ours cpu':>10}{'helm MB':>9}{'ours MB':>9}")
for chart in ["argo-cd", "keda", "ingress-nginx", "redis", "podinfo"]:
    args = ["template", f"rel-{chart}", f"{corpus}/charts/{chart}", "--namespace", "ns-test", "--kube-version", "1.31.0"]
    h, o = [], []
    for _ in range(runs):
        h.append(once([helm] + args))
        o.append(once([ours] + args))
    med = lambda rows, k: statistics.median(r[k] for r in rows)
    print(f"{chart:<15}{med(h,0):>9.1f}{med(o,0):>9.1f}{med(h,0)/med(o,0):>9.1f}x{med(h,1):>10.1f}{med(o,1):>10.1f}{med(h,2):>9.1f}{med(o,2):>9.1f}")
PY
