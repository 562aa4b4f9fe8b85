#!/usr/bin/env bash
# Times `kubectl-chart template` against `helm template` on the largest corpus charts, whole process,
# interleaved runs, and reports median wall time and peak RSS of each. A benchmark, not a test.
#   usage: benches/template-vs-helm.sh [RUNS]       (needs ../shared/tools/get-helm 3 for helm)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-15}"
corpus="${KUBECTL_CHART_CORPUS:-../shared/corpus}"
helm="$(../shared/tools/get-helm 3 target/reference 2>/dev/null | tail -n1)"
cargo build --release --quiet
ours=target/release/kubectl-chart

measure() { # prints "seconds maxrss_kb" for one run of "$@"
  /usr/bin/time -f '%e %M' -o /tmp/kc-bench-time "$@" >/dev/null 2>&1
  cat /tmp/kc-bench-time
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-16s %10s %10s %8s %12s %12s\n' chart helm_s ours_s speedup helm_rss_kb ours_rss_kb
for chart in argo-cd keda ingress-nginx redis; do
  args=(template "rel-$chart" "$corpus/charts/$chart" --namespace ns-test --kube-version 1.31.0)
  : > /tmp/kc-h; : > /tmp/kc-o
  for _ in $(seq "$runs"); do
    measure "$helm" "${args[@]}" >> /tmp/kc-h
    measure "$ours" "${args[@]}" >> /tmp/kc-o
  done
  h=$(cut -d' ' -f1 /tmp/kc-h | median); o=$(cut -d' ' -f1 /tmp/kc-o | median)
  hm=$(cut -d' ' -f2 /tmp/kc-h | median); om=$(cut -d' ' -f2 /tmp/kc-o | median)
  printf '%-16s %10s %10s %8s %12s %12s\n' "$chart" "$h" "$o" "$(awk -v h="$h" -v o="$o" 'BEGIN{ if (o>0) printf "%.1fx", h/o; else print "inf" }')" "$hm" "$om"
done
