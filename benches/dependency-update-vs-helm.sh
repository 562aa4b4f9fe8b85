#!/usr/bin/env bash
# `dependency update` of an umbrella chart with 10 dependencies from one chart repository whose
# index holds 10,000 chart versions (10 charts x 1,000 versions, about 5 MB), against helm 3 and
# helm 4 on the same HELM_* homes (the repository added once), every run from a clean chart
# (no charts/, no Chart.lock) and a refreshed index, interleaved runs, median wall time (ms), CPU
# time and peak RSS. Helm decodes the whole index several times per run (refresh, resolve,
# download) and downloads every archive again; we download the index once, scan it for each
# chart's block, and take archives whose index digest we already hold from the content cache.
# Checks first that both tools write the same Chart.lock (but `generated`) and charts/.
# A benchmark, not a test.
#   usage: benches/dependency-update-vs-helm.sh [RUNS]
#   env:   OURS=path/to/kubectl-chart (else a release build), HELM3=..., HELM4=... (else
#          ../shared/tools/get-helm 3|4), COLD=1 (empty our content cache before each of our
#          runs, so we download every archive as helm does)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
helm3="${HELM3:-$(../shared/tools/get-helm 3 target/reference 2>/dev/null | tail -n1)}"
helm4="${HELM4:-$(../shared/tools/get-helm 4 target/reference 2>/dev/null | tail -n1)}"
if [ -z "${OURS:-}" ]; then cargo build --release --quiet; OURS=target/release/kubectl-chart; fi

work="$(mktemp -d)"
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/served" "$work/src"
# The ten real archives (version 1.0.0 of dep-0..dep-9); every other index entry is filler.
for i in $(seq 0 9); do
  mkdir -p "$work/src/dep-$i/templates"
  printf 'apiVersion: v2\nname: dep-%s\nversion: 1.0.0\n' "$i" > "$work/src/dep-$i/Chart.yaml"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-%s\n' "$i" \
    > "$work/src/dep-$i/templates/cm.yaml"
  "$helm3" package "$work/src/dep-$i" -d "$work/served" >/dev/null
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$work/served" <<'PY'
import hashlib, os, sys
d = sys.argv[1]
def entry(name, version, url, digest):
    return (f"  - apiVersion: v2\n    appVersion: 1.25.3\n    created: \"2024-01-01T00:00:00Z\"\n"
            f"    description: A generated entry that gives the index a realistic size\n"
            f"    digest: {digest}\n    keywords:\n    - bench\n    name: {name}\n    urls:\n    - {url}\n"
            f"    version: {version}\n")
with open(os.path.join(d, "index.yaml"), "w") as f:
    f.write("apiVersion: v1\nentries:\n")
    for c in range(10):
        name = f"dep-{c}"
        f.write(f"  {name}:\n")
        real = f"{name}-1.0.0.tgz"
        digest = hashlib.sha256(open(os.path.join(d, real), "rb").read()).hexdigest()
        f.write(entry(name, "1.0.0", real, digest))
        for v in range(999):
            f.write(entry(name, f"0.{v // 100}.{v % 100}", f"{name}-0.{v // 100}.{v % 100}.tgz", "ab" * 32))
    f.write("generated: \"2024-01-01T00:00:00Z\"\n")
PY
python3 -m http.server "$port" -b 127.0.0.1 -d "$work/served" >/dev/null 2>&1 &
server=$!
export HOME="$work" HELM_CONFIG_HOME="$work/config" HELM_CACHE_HOME="$work/cache" HELM_DATA_HOME="$work/data"
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/index.yaml" -o /dev/null && break; sleep 0.1; done
"$helm3" repo add bench "http://127.0.0.1:$port" >/dev/null
echo "index: $(stat -c %s "$work/served/index.yaml") bytes, 10000 versions"
mkdir -p "$work/umbrella"
{
  printf 'apiVersion: v2\nname: umbrella\nversion: 1.0.0\ndependencies:\n'
  for i in $(seq 0 9); do printf -- '- name: dep-%s\n  version: ^1.0.0\n  repository: "@bench"\n' "$i"; done
} > "$work/umbrella/Chart.yaml"

python3 - "$runs" "$helm3" "$helm4" "$OURS" "$work" <<'PY'
import os, shutil, statistics, subprocess, sys, time
runs, helm3, helm4, ours, work = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
tools = [("helm 3", helm3), ("helm 4", helm4), ("ours", ours)]
tools = [(n, p) for n, p in tools if p and os.path.exists(p)]
def fresh(n):
    d = os.path.join(work, "run-" + n.replace(" ", ""))
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(os.path.join(work, "umbrella"), d)
    return d
def result(d):
    lock = [l for l in open(os.path.join(d, "Chart.lock")).read().splitlines() if not l.startswith("generated:")]
    charts = {f: open(os.path.join(d, "charts", f), "rb").read() for f in sorted(os.listdir(os.path.join(d, "charts")))}
    return lock, charts
outs = {}
for n, p in tools:  # warm: each tool once, and the results compared
    d = fresh(n)
    r = subprocess.run([p, "dependency", "update", d], capture_output=True)
    if r.returncode != 0:
        sys.exit(f"{n} failed: {r.stderr.decode()}")
    outs[n] = result(d)
assert outs["ours"] == outs["helm 3"], "Chart.lock or charts/ differ from helm 3's"
def once(n, p):
    d = fresh(n)
    if n == "ours" and os.environ.get("COLD") == "1":
        shutil.rmtree(os.path.join(work, "cache", "kubectl-chart"), ignore_errors=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen([p, "dependency", "update", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"failed: {n}")
    return (time.perf_counter() - t0) * 1000, (ru.ru_utime + ru.ru_stime) * 1000, ru.ru_maxrss / 1024
rows = {n: [] for n, _ in tools}
for _ in range(runs):
    for n, p in tools:
        rows[n].append(once(n, p))
med = lambda n, k: statistics.median(r[k] for r in rows[n])
print(f"{'tool':<8}{'wall ms':>9}{'cpu ms':>9}{'MB':>7}{'vs ours':>9}")
for n, _ in tools:
    print(f"{n:<8}{med(n,0):>9.1f}{med(n,1):>9.1f}{med(n,2):>7.1f}{med(n,0)/med('ours',0):>8.1f}x")
PY
