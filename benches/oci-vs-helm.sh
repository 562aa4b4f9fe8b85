#!/usr/bin/env bash
# Times `template` of a chart pulled from a real OCI registry (Debian's docker-registry on loopback,
# started here and stopped on exit): kubectl-chart against helm 3 and helm 4, whole process, runs
# interleaved (ours, helm3, helm4, ...). Two cases:
#   cold: an empty cache for every run (the first `install`/`template` of a chart on a machine);
#   warm: the same ref again (we read the content cache and ask only for the manifest; helm 3 has
#         no OCI cache and downloads everything every time).
# Reports median wall time (ms), CPU time and peak RSS. A benchmark, not a test: no timing asserted.
#   usage: benches/oci-vs-helm.sh [RUNS] [CHART]     (default 15 runs, corpus chart argo-cd)
#   PROFILE=profiling benches/oci-vs-helm.sh   builds and times that cargo profile (default release)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-15}"
chart="${2:-argo-cd}"
profile="${PROFILE:-release}"
corpus="${KUBECTL_CHART_CORPUS:-../shared/corpus}"
helm3="${KC_HELM3:-$(../shared/tools/get-helm 3 target/reference 2>/dev/null | tail -n1)}"
helm4="${KC_HELM4:-$(../shared/tools/get-helm 4 target/reference 2>/dev/null | tail -n1)}"
command -v docker-registry >/dev/null || { echo "needs docker-registry (apt-get install docker-registry)"; exit 1; }
cargo build --profile "$profile" --quiet
ours="target/$profile/kubectl-chart"

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$work/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
registry=$!
trap 'kill $registry 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

export HELM_CONFIG_HOME="$work/config"
"$helm3" package "$corpus/charts/$chart" -d "$work" >/dev/null
tgz="$(ls "$work"/*.tgz)"
"$helm3" push "$tgz" "oci://127.0.0.1:$port/bench" --plain-http 2>/dev/null
version="$(basename "$tgz" .tgz)"; version="${version##*-}"
ref="oci://127.0.0.1:$port/bench/$chart:$version"

python3 - "$runs" "$ref" "$work" "$ours" "$helm3" "$helm4" <<'PY'
import os, shutil, statistics, subprocess, sys, time
runs, ref, work, ours, helm3, helm4 = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
tools = [("ours", ours), ("helm3", helm3), ("helm4", helm4)]
args = ["template", "rel", ref, "--plain-http", "--namespace", "ns-test", "--kube-version", "1.31.0"]

def once(tool, path, cache):
    env = dict(os.environ, HELM_CACHE_HOME=cache)
    t0 = time.perf_counter()
    p = subprocess.Popen([path] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"{tool} failed: {' '.join([path] + args)}")
    return (time.perf_counter() - t0) * 1000, (ru.ru_utime + ru.ru_stime) * 1000, ru.ru_maxrss / 1024

print(f"{'case':<6}{'tool':<7}{'wall ms':>9}{'cpu ms':>9}{'MB':>7}{'ours x':>8}")
for case in ["cold", "warm"]:
    rows = {t: [] for t, _ in tools}
    for i in range(runs):
        for tool, path in tools:
            cache = f"{work}/cache-{tool}"
            if case == "cold" or i == 0:
                shutil.rmtree(cache, ignore_errors=True)
                if case == "warm":
                    once(tool, path, cache)  # fill the cache once, untimed
            rows[tool].append(once(tool, path, cache))
    med = {t: [statistics.median(r[k] for r in rows[t]) for k in range(3)] for t in rows}
    for tool, _ in tools:
        w, c, m = med[tool]
        print(f"{case:<6}{tool:<7}{w:>9.1f}{c:>9.1f}{m:>7.1f}{w / med['ours'][0]:>7.1f}x")
PY
