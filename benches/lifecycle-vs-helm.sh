#!/usr/bin/env bash
# Side-by-side lifecycle benchmark on one real control plane (../shared/k8s, audit log on):
# kubectl-chart vs helm 3 and helm 4 for install, diff, no-op upgrade, one-field upgrade, rollback and
# uninstall of a chart, interleaved per step. Prints wall time, peak RSS and API requests by verb for
# each tool (told apart by user agent in the kit's audit log), and our speed-up against the faster helm.
#   usage: benches/lifecycle-vs-helm.sh [--quick] [CHART_DIR]
# Default chart: a generated one with 300 namespaced objects (150 ConfigMaps, 100 Deployments, 50
# Services: the kit's service IP range holds ~250 addresses for all three tools together),
# because the tools share one cluster and cluster-scoped objects (CRDs, ClusterRoles) of one release
# cannot be owned by the others'. --quick uses a debug build and 30 objects (CI proves the script works).
# A benchmark, not a test: nothing here asserts timings.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false
if [ "${1:-}" = "--quick" ]; then quick=true; shift; fi
corpus="${KUBECTL_CHART_CORPUS:-../shared/corpus}"
chart="${1:-}"
kit="${KC_TEST_K8S:-../shared/k8s}"
work="$(mktemp -d)"
trap '"$kit/stop" "$work/k8s" --clean >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

if $quick; then cargo build --quiet; ours=target/debug/kubectl-chart; else cargo build --release --quiet; ours=target/release/kubectl-chart; fi
helm3="$(../shared/tools/get-helm 3 target/reference 2>/dev/null | tail -n1)"
helm4="$(../shared/tools/get-helm 4 target/reference 2>/dev/null | tail -n1 || true)"
kubeconfig="$("$kit/start" "$work/k8s" --kubelet --audit --owner-pid $$ | tail -n1)"
export KUBECONFIG="$kubeconfig"

if [ -z "$chart" ]; then
  chart="$work/bench-chart"; n=50; $quick && n=5
  mkdir -p "$chart/templates"
  printf 'apiVersion: v2\nname: bench\nversion: 0.1.0\n' > "$chart/Chart.yaml"
  printf 'count: %s\nimage: nginx:1.27\nbench: zero\n' "$n" > "$chart/values.yaml"
  cat > "$chart/templates/objects.yaml" <<'TPL'
{{- range $i := until (mul 3 (int .Values.count) | int) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ $i }}
data:
  index: {{ $i | quote }}
  {{- if eq $i 0 }}
  bench: {{ $.Values.bench | quote }}
  {{- end }}
{{- end }}
{{- range $i := until (int .Values.count) }}
---
apiVersion: v1
kind: Service
metadata:
  name: svc-{{ $i }}
spec:
  selector: {app: app-{{ $i }}}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{{ $i }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: app-{{ $i }}}
  template:
    metadata:
      labels: {app: app-{{ $i }}}
    spec:
      containers:
      - name: app
        image: {{ $.Values.image }}
        ports:
        - containerPort: 8080
{{- end }}
{{- range $i := until (int .Values.count) }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker-{{ $i }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: worker-{{ $i }}}
  template:
    metadata:
      labels: {app: worker-{{ $i }}}
    spec:
      containers:
      - name: worker
        image: {{ $.Values.image }}
{{- end }}
TPL
fi
audit="$work/k8s/audit.log"

tools=(ours helm3)
[ -x "${helm4:-}" ] && tools+=(helm4)
for t in "${tools[@]}"; do kubectl create namespace "bench-$t" >/dev/null; done

# run TOOL STEP: runs one step, appends "tool step seconds rss_kb" to $work/times
run() {
  local tool=$1 step=$2 ns="bench-$1" bin args=()
  case $tool in ours) bin=$ours ;; helm3) bin=$helm3 ;; helm4) bin=$helm4 ;; esac
  case $tool:$step in
    ours:install) args=(install rel "$chart" -n "$ns") ;;
    ours:diff) args=(diff rel "$chart" -n "$ns" -o summary) ;;
    ours:noop) args=(upgrade rel "$chart" -n "$ns") ;;
    ours:field) args=(upgrade rel "$chart" -n "$ns" --set bench=one) ;;
    ours:rollback) args=(rollback rel 1 -n "$ns") ;;
    ours:uninstall) args=(uninstall rel -n "$ns") ;;
    helm*:install) args=(install rel "$chart" -n "$ns") ;;
    helm*:diff) args=(__diff) ;;
    helm*:noop) args=(upgrade rel "$chart" -n "$ns") ;;
    helm*:field) args=(upgrade rel "$chart" -n "$ns" --set bench=one) ;;
    helm*:rollback) args=(rollback rel 1 -n "$ns") ;;
    helm*:uninstall) args=(uninstall rel -n "$ns") ;;
  esac
  local start end
  start=$(date +%s.%N)
  if [ "${args[0]}" = "__diff" ]; then
    # What helm users run without a plugin: render, then let kubectl diff against the cluster.
    /usr/bin/time -f '%M' -o "$work/rss" bash -c "'$bin' template rel '$chart' -n '$ns' | kubectl diff -n '$ns' -f - >/dev/null; true"
  else
    /usr/bin/time -f '%M' -o "$work/rss" "$bin" "${args[@]}" >/dev/null 2>"$work/err" || { echo "$tool $step failed:"; cat "$work/err"; }
  fi
  end=$(date +%s.%N)
  echo "$tool $step $(echo "$end - $start" | bc) $(tail -n1 "$work/rss")" >> "$work/times"
}

steps=(install diff noop field rollback uninstall)
for step in "${steps[@]}"; do
  before=$(wc -l < "$audit")
  for t in "${tools[@]}"; do run "$t" "$step"; done
  echo "$step $before $(wc -l < "$audit")" >> "$work/marks"
done

python3 - "$work/times" "$audit" "${tools[@]}" <<'PY'
import json, sys, collections
times, audit, tools = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = collections.defaultdict(dict)
for line in open(times):
    tool, step, secs, rss = line.split()
    rows[step][tool] = (float(secs), int(rss))
reqs = collections.defaultdict(lambda: collections.Counter())
def who(ua):
    if ua.startswith("kubectl-chart/"): return "ours"
    if ua.startswith("Helm/") or ua.startswith("helm/"): return "helm"
    if ua.startswith("kubectl/"): return "kubectl"
    return None
for line in open(audit):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("stage") != "ResponseComplete": continue
    ns = (e.get("objectRef") or {}).get("namespace", "")
    w = who(e.get("userAgent", ""))
    if w: reqs[(w, ns)][e.get("verb")] += 1
print(f"{'step':<10}" + "".join(f"{t+' s':>10}{t+' MB':>9}" for t in tools) + f"{'speedup':>9}")
for step in ["install", "diff", "noop", "field", "rollback", "uninstall"]:
    r = rows.get(step, {})
    line = f"{step:<10}"
    for t in tools:
        s, m = r.get(t, (float('nan'), 0))
        line += f"{s:>10.3f}{m/1024:>9.1f}"
    helms = [r[t][0] for t in tools if t.startswith("helm") and t in r]
    if "ours" in r and helms:
        line += f"{min(helms)/r['ours'][0]:>8.1f}x"
    print(line)
print("\nAPI requests by verb (whole run, per namespace):")
for (w, ns), c in sorted(reqs.items()):
    if ns.startswith("bench-"):
        print(f"  {w:<8} {ns:<12} " + ", ".join(f"{k}={v}" for k, v in sorted(c.items())))
PY
