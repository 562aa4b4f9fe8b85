#!/usr/bin/env python3
"""What --wait costs on a chart with a hook Job: kubectl-chart against helm 3 and helm 4.

usage: benches/wait-overhead.py KIT_DIR [ROUNDS]
KIT_DIR is a control plane started with `../shared/k8s/start KIT_DIR --kubelet --audit`. Each round
installs fixtures/charts/demo (a pre-install hook Job, a 2-replica Deployment) with --wait into a new
namespace per tool, tools interleaved, and prints per run: exit code, wall time, the time from our
last "ready:" progress line to our exit (the wait's overhead once the last object is ready, the
release record included), and the API requests by verb from the audit log (the tool's user agent,
its namespace or cluster-scoped). A benchmark, not a test: nothing is asserted.
"""
import json
import os
import subprocess
import sys
import time

kit = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
env = dict(os.environ, KUBECONFIG=f"{kit}/kubeconfig")
ours = os.environ.get("KC_BIN", "target/release/kubectl-chart")
tools = {"ours": [ours], "helm3": [os.environ.get("HELM3", "../ref/helm3")], "helm4": [os.environ.get("HELM4", "../ref/helm4")]}
agents = {"ours": "kubectl-chart/", "helm3": "helm/", "helm4": "helm/"}


def audit():
    with open(f"{kit}/audit.log") as f:
        return f.read().splitlines()


tag = str(int(time.time()))
print(f"{'tool':<6} {'exit':>4} {'wall s':>7} {'after ready ms':>15}  requests")
for r in range(rounds):
    for tool, cmd in tools.items():
        ns = f"wait-{tool}-{tag}-{r}"
        before = len(audit())
        args = cmd + ["install", "demo", "fixtures/charts/demo", "-n", ns, "--create-namespace",
                      "--set", "cache.enabled=false", "--wait", "--timeout", "60s"]
        start = time.monotonic()
        p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        last_ready = None
        for line in p.stderr:
            if line.startswith("ready: "):
                last_ready = time.monotonic()
        p.wait()
        end = time.monotonic()
        time.sleep(1.5)  # the API server logs a request when its response is done
        counts = {}
        for line in audit()[before:]:
            e = json.loads(line)
            ns_of = (e.get("objectRef") or {}).get("namespace")
            if e.get("stage") == "ResponseComplete" and e.get("userAgent", "").lower().startswith(agents[tool]) \
                    and ns_of in (ns, None):
                counts[e["verb"]] = counts.get(e["verb"], 0) + 1
        after = f"{(end - last_ready) * 1000:.0f}" if last_ready else "-"
        total = sum(counts.values())
        detail = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        print(f"{tool:<6} {p.returncode:>4} {end - start:>7.2f} {after:>15}  {total} ({detail})")
