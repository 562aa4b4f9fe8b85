#!/usr/bin/env bash
# `template` of a chart from a chart repository whose index holds 10,000 chart versions (100 charts
# x 100 versions, about 5 MB), cache warm (index cached by `repo add`, archive already fetched once),
# against helm 3 and helm 4 on the same HELM_* homes, interleaved runs, median wall time (ms), CPU
# time and peak RSS. Helm decodes the whole index on every run; we scan it for one chart's block.
# A benchmark, not a test.
#   usage: benches/repo-template-vs-helm.sh [RUNS]
#   env:   OURS=path/to/kubectl-chart (else a release build), HELM3=..., HELM4=... (else
#          ../shared/tools/get-helm 3|4)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-11}"
helm3="${HELM3:-$(../shared/tools/get-helm 3 target/reference 2>/dev/null | tail -n1)}"
helm4="${HELM4:-$(../shared/tools/get-helm 4 target/reference 2>/dev/null | tail -n1)}"
if [ -z "${OURS:-}" ]; then cargo build --release --quiet; OURS=target/release/kubectl-chart; fi

work="$(mktemp -d)"
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/served"
"$helm3" package fixtures/charts/demo -d "$work/served" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$work/served" <<'PY'
import hashlib, os, sys
d = sys.argv[1]
real = "demo-0.3.1.tgz"
digest = hashlib.sha256(open(os.path.join(d, real), "rb").read()).hexdigest()
def entry(name, version, url, digest):
    return (f"  - apiVersion: v2\n    appVersion: 1.25.3\n    created: \"2024-01-01T00:00:00Z\"\n"
            f"    description: A generated entry that gives the index a realistic size\n"
            f"    digest: {digest}\n    keywords:\n    - bench\n    name: {name}\n    urls:\n    - {url}\n"
            f"    version: {version}\n")
with open(os.path.join(d, "index.yaml"), "w") as f:
    f.write("apiVersion: v1\nentries:\n")
    for c in range(100):
        name = "demo" if c == 50 else f"chart-{c:03d}"
        f.write(f"  {name}:\n")
        for v in range(100):
            if name == "demo" and v == 0:
                f.write(entry(name, "0.3.1", real, digest))
            else:
                f.write(entry(name, f"0.0.{v}", f"{name}-0.0.{v}.tgz", "ab" * 32))
    f.write("generated: \"2024-01-01T00:00:00Z\"\n")
PY
python3 -m http.server "$port" -b 127.0.0.1 -d "$work/served" >/dev/null 2>&1 &
server=$!
export HOME="$work" HELM_CONFIG_HOME="$work/config" HELM_CACHE_HOME="$work/cache" HELM_DATA_HOME="$work/data"
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/index.yaml" -o /dev/null && break; sleep 0.1; done
"$helm3" repo add bench "http://127.0.0.1:$port" >/dev/null
echo "index: $(stat -c %s "$work/served/index.yaml") bytes, 10000 versions"

python3 - "$runs" "$helm3" "$helm4" "$OURS" <<'PY'
import os, statistics, subprocess, sys, time
runs, helm3, helm4, ours = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
args = ["template", "rel", "bench/demo", "--namespace", "ns-test", "--kube-version", "1.31.0"]
tools = [("helm 3", helm3), ("helm 4", helm4), ("ours", ours)]
tools = [(n, p) for n, p in tools if p and os.path.exists(p)]
outs = {}
for n, p in tools:  # warm: archive fetched and cached once by each tool
    r = subprocess.run([p] + args, capture_output=True)
    if r.returncode != 0:
        sys.exit(f"{n} failed: {r.stderr.decode()}")
    outs[n] = r.stdout
assert all(o == outs["ours"] for o in outs.values()), "outputs differ"
def once(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return (time.perf_counter() - t0) * 1000, (ru.ru_utime + ru.ru_stime) * 1000, ru.ru_maxrss / 1024
rows = {n: [] for n, _ in tools}
for _ in range(runs):
    for n, p in tools:
        rows[n].append(once([p] + args))
med = lambda n, k: statistics.median(r[k] for r in rows[n])
print(f"{'tool':<8}{'wall ms':>9}{'cpu ms':>9}{'MB':>7}{'vs ours':>9}")
for n, _ in tools:
    print(f"{n:<8}{med(n,0):>9.1f}{med(n,1):>9.1f}{med(n,2):>7.1f}{med(n,0)/med('ours',0):>8.1f}x")
PY
