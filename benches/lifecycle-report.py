#!/usr/bin/env python3
"""Report of benches/lifecycle-vs-helm.sh: wall time, peak RSS and API requests per step and tool.

usage: lifecycle-report.py RUNS TOOL=AUDIT_LOG...
RUNS has one line per step run, "tool step start end rss_kb ok|failed" (start/end in epoch seconds).
Each tool names the audit log of the cluster it ran against (one shared log or one per tool).

An audit event belongs to a tool's step when the API server received it between the step's start and
end and its user agent is the tool's (helm's diff step is `helm template | kubectl diff`, so kubectl
counts there too). Tools run one at a time, so the time window alone separates them; the user agent
keeps out the control plane's own controllers and the fake kubelet.

Writes are create/update/patch/delete that are not dry runs, split into release records (ours: the
`kubectl-chart.<release>.v*` ConfigMaps and the data key Secret; helm: its `sh.helm.release.v1.*`
Secrets), our lock ConfigMap, and everything else: the objects of the chart.
"""
import collections
import datetime
import json
import sys

STEPS = ["install", "diff", "noop", "field", "wait", "rollback", "uninstall"]
STEP_NAMES = {"noop": "no-op upgrade", "field": "one-field upgrade", "wait": "upgrade --wait"}
VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
WRITES = {"create", "update", "patch", "delete", "deletecollection"}


def agent(ua):
    if ua.startswith("kubectl-chart/"):
        return "ours"
    if ua.lower().startswith("helm/"):
        return "helm"
    if ua.startswith("kubectl/"):
        return "kubectl"
    return None


def allowed(tool, step):
    if tool == "ours":
        return {"ours"}
    return {"helm", "kubectl"} if step == "diff" else {"helm"}


def epoch(ts):
    # "2026-11-27T10:40:00.123456Z"
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def kind_of_write(tool, ref, uri=""):
    res, name = ref.get("resource", ""), ref.get("name", "")
    if tool == "ours":
        # A DELETE of a collection names no object: ours are of records (and their parts and
        # lock), selected by our `owner` label.
        if res == "configmaps" and not name and "labelSelector=owner%3Dkubectl-chart" in uri:
            return "records"
        if res == "configmaps" and name.startswith("kubectl-chart.") and name.endswith(".lock"):
            return "lock"
        if res == "configmaps" and name.startswith("kubectl-chart."):
            return "records"
        if res == "secrets" and name == "kubectl-chart-key":
            return "records"
    elif res == "secrets" and name.startswith("sh.helm.release.v1."):
        return "records"
    return "objects"


def main():
    runs_path, specs = sys.argv[1], sys.argv[2:]
    logs = dict(s.split("=", 1) for s in specs)
    tools = list(logs)
    # A step run several times (the diff step with --repeat) is reported by its median run: its
    # time, memory and requests.
    all_runs = collections.defaultdict(list)
    for line in open(runs_path):
        tool, step, start, end, rss, ok = line.split()
        all_runs[(tool, step)].append((float(start), float(end), int(rss), ok))
    runs = {}
    for key, rs in all_runs.items():
        failed = [r for r in rs if r[3] != "ok"]
        runs[key] = failed[0] if failed else sorted(rs, key=lambda r: r[1] - r[0])[len(rs) // 2]
    repeated = sorted({step for (_, step), rs in all_runs.items() if len(rs) > 1})

    events = {}  # audit log path -> [(received, agent, event)]
    for path in set(logs.values()):
        evs = []
        for line in open(path):
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("stage") != "ResponseComplete":
                continue
            a = agent(e.get("userAgent", ""))
            if a:
                evs.append((epoch(e["requestReceivedTimestamp"]), a, e))
        events[path] = evs

    counts = {}  # (tool, step) -> Counter of verbs, "dry-run", "objects", "records", "lock"
    writes = {}  # (tool, step) -> Counter of (write kind, verb, resource, name)
    unnamed = 0
    for (tool, step), (start, end, _, _) in runs.items():
        c, w = collections.Counter(), collections.Counter()
        for t, a, e in events[logs[tool]]:
            if not (start <= t <= end and a in allowed(tool, step)):
                continue
            verb = e.get("verb", "")
            c[verb] += 1
            c["total"] += 1
            if verb in WRITES:
                if "dryRun=" in e.get("requestURI", ""):
                    c["dry-run"] += 1
                else:
                    ref = e.get("objectRef") or {}
                    kind = kind_of_write(tool, ref, e.get("requestURI", ""))
                    unnamed += not ref.get("name") and kind == "objects"
                    c[kind] += 1
                    w[(kind, verb, ref.get("resource", ""), ref.get("name", ""))] += 1
        counts[(tool, step)] = c
        writes[(tool, step)] = w

    print(f"{'step':<18}" + "".join(f"{t + ' s':>10}{t + ' MB':>9}" for t in tools) + f"{'speed-up':>10}")
    for step in STEPS:
        line = f"{STEP_NAMES.get(step, step):<18}"
        for t in tools:
            r = runs.get((t, step))
            if r is None or r[3] != "ok":
                line += f"{'failed' if r else '-':>10}{'':>9}"
            else:
                line += f"{r[1] - r[0]:>10.3f}{r[2] / 1024:>9.1f}"
        helms = [runs[(t, step)] for t in tools if t != "ours" and runs.get((t, step), (0, 0, 0, ""))[3] == "ok"]
        ours = runs.get(("ours", step))
        if helms and ours and ours[3] == "ok":
            line += f"{min(h[1] - h[0] for h in helms) / (ours[1] - ours[0]):>9.1f}x"
        print(line)

    for step in repeated:
        n = max(len(rs) for (_, st), rs in all_runs.items() if st == step)
        print(f"({STEP_NAMES.get(step, step)}: median of {n} runs per tool, tools interleaved)")

    cols = ["total"] + VERBS + ["dry-run", "objects", "records", "lock"]
    print("\nAPI requests per step (audit log; objects/records/lock: writes that are not dry runs)")
    print(f"{'step':<18}{'tool':<7}" + "".join(f"{c:>8}" for c in cols) + "  other")
    for step in STEPS:
        for t in tools:
            c = counts.get((t, step))
            if c is None:
                continue
            other = ", ".join(f"{k}={v}" for k, v in sorted(c.items()) if k not in cols)
            print(f"{STEP_NAMES.get(step, step):<18}{t:<7}" + "".join(f"{c[k]:>8}" for k in cols) + f"  {other}")
    for t in tools:
        total = sum((counts[(t, s)] for s in STEPS if (t, s) in counts), collections.Counter())
        print(f"{'whole run':<18}{t:<7}" + "".join(f"{total[k]:>8}" for k in cols))
    print()
    for t in tools:
        c = counts.get((t, "noop"), collections.Counter())
        print(f"{t:<6} noop writes: objects={c['objects']} records={c['records']}"
              + (f" (lock writes {c['lock']})" if t == "ours" else ""))
        w = writes.get((t, "noop"), collections.Counter())
        # Objects by verb and resource (a chart has many), records one by one (a handful).
        by_res = collections.Counter()
        for (kind, verb, res, name), k in w.items():
            if kind == "objects":
                by_res[(verb, res)] += k
        if by_res:
            print("         objects: " + ", ".join(f"{v} {r} x{k}" for (v, r), k in sorted(by_res.items())))
        recs = [f"{v} {n}" + (f" x{k}" if k > 1 else "") for (kind, v, r, n), k in sorted(w.items()) if kind == "records"]
        if recs:
            print("         records: " + ", ".join(recs))
    if unnamed:
        print(f"({unnamed} writes had no object name in the audit log and were counted as objects)")


main()
