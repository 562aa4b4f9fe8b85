#!/usr/bin/env python3
"""Generates the big benchmark charts into a directory (default target/bench-charts), deterministically.

Three shapes of chart that real users run `template` on, none of them committed (they are MBs):
- `umbrella`: a platform chart with 25 subcharts (18 enabled, 7 disabled by `condition`), each with
  helpers, Deployments, Services, ConfigMaps, HPAs, Ingresses and NetworkPolicies built with
  `include`/`tpl`/`toYaml`; several MB of CRDs under `crds/` (loaded, not printed by default) and
  Grafana-style dashboards JSON read through `.Files.Get`, `.Files.Glob` and `AsConfig`;
- `crd-heavy`: about 1 MB of CustomResourceDefinitions rendered from `templates/` (big static
  OpenAPI schemas with a few template actions, as operator charts ship them);
- `conditional`: about 800 KB from templates dense with `if`/`else if`/`with`/`range`/`default`.

usage: gen-charts.py [OUT_DIR]   (writes OUT_DIR/{umbrella,crd-heavy,conditional}; replaces them)
"""

import json
import os
import random
import shutil
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "target/bench-charts"
rng = random.Random(16)  # issue 16: fixed seed, so every run benchmarks the same bytes

WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
    "quebec romeo sierra tango uniform victor whiskey xray yankee zulu replica shard volume endpoint "
    "selector template policy quota limit request probe timeout window budget cluster region zone"
).split()


def words(n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def chart_yaml(name, deps=(), version="1.2.3", kind=None):
    out = f"apiVersion: v2\nname: {name}\ndescription: {words(6)}\nversion: {version}\nappVersion: \"4.5.6\"\n"
    if kind:
        out += f"type: {kind}\n"
    if deps:
        out += "dependencies:\n"
        for d, cond in deps:
            out += f"  - name: {d}\n    version: 1.0.0\n"
            if cond:
                out += f"    condition: {cond}\n"
    return out


# ---------------------------------------------------------------------------------------------------
# A realistic service subchart (the shape `helm create` starts from, grown the way charts grow).

HELPERS = r'''{{/* Expand the name of the chart. */}}
{{- define "NAME.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "NAME.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "NAME.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "NAME.selectorLabels" -}}
app.kubernetes.io/name: {{ include "NAME.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "NAME.labels" -}}
helm.sh/chart: {{ include "NAME.chart" . }}
{{ include "NAME.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.global.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "NAME.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "NAME.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "NAME.image" -}}
{{- $registry := .image.registry | default .global.imageRegistry -}}
{{- $tag := .image.tag | default .appVersion | toString -}}
{{- if $registry }}{{ printf "%s/%s:%s" $registry .image.repository $tag }}{{ else }}{{ printf "%s:%s" .image.repository $tag }}{{ end }}
{{- end }}

{{- define "NAME.componentName" -}}
{{- printf "%s-%s" (include "NAME.fullname" .root) .component.name | trunc 63 | trimSuffix "-" }}
{{- end }}
'''

DEPLOYMENT = r'''{{- range $component := .Values.components }}
{{- if $component.enabled }}
{{- $ctx := dict "root" $ "component" $component }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "NAME.componentName" $ctx }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "NAME.labels" $ | nindent 4 }}
    app.kubernetes.io/component: {{ $component.name }}
  {{- with $.Values.deploymentAnnotations }}
  annotations:
    {{- tpl (toYaml .) $ | nindent 4 }}
  {{- end }}
spec:
  {{- if not $.Values.autoscaling.enabled }}
  replicas: {{ $component.replicas | default $.Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: {{ $.Values.revisionHistoryLimit }}
  selector:
    matchLabels:
      {{- include "NAME.selectorLabels" $ | nindent 6 }}
      app.kubernetes.io/component: {{ $component.name }}
  {{- with $.Values.updateStrategy }}
  strategy:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  template:
    metadata:
      annotations:
        checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") $ | sha256sum }}
        {{- with $.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "NAME.labels" $ | nindent 8 }}
        app.kubernetes.io/component: {{ $component.name }}
        {{- with $.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with $.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      serviceAccountName: {{ include "NAME.serviceAccountName" $ }}
      {{- if $.Values.podSecurityContext.enabled }}
      securityContext:
        {{- omit $.Values.podSecurityContext "enabled" | toYaml | nindent 8 }}
      {{- end }}
      {{- if $.Values.priorityClassName }}
      priorityClassName: {{ $.Values.priorityClassName | quote }}
      {{- end }}
      containers:
        - name: {{ $component.name }}
          image: {{ include "NAME.image" (dict "image" $.Values.image "global" $.Values.global "appVersion" $.Chart.AppVersion) | quote }}
          imagePullPolicy: {{ $.Values.image.pullPolicy }}
          {{- with $component.args }}
          args:
            {{- range . }}
            - {{ tpl . $ | quote }}
            {{- end }}
          {{- end }}
          env:
            - name: COMPONENT
              value: {{ $component.name | quote }}
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            {{- range $k, $v := $.Values.env }}
            - name: {{ $k | upper | replace "-" "_" }}
              value: {{ tpl (toString $v) $ | quote }}
            {{- end }}
            {{- with $.Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            {{- range $.Values.service.ports }}
            - name: {{ .name }}
              containerPort: {{ .targetPort | default .port }}
              protocol: {{ .protocol | default "TCP" }}
            {{- end }}
          {{- if $.Values.probes.enabled }}
          livenessProbe:
            {{- toYaml $.Values.probes.liveness | nindent 12 }}
          readinessProbe:
            {{- toYaml $.Values.probes.readiness | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml ($component.resources | default $.Values.resources) | nindent 12 }}
          {{- if $.Values.containerSecurityContext.enabled }}
          securityContext:
            {{- omit $.Values.containerSecurityContext "enabled" | toYaml | nindent 12 }}
          {{- end }}
          volumeMounts:
            - name: config
              mountPath: /etc/{{ include "NAME.name" $ }}
            {{- with $.Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ include "NAME.fullname" $ }}
        {{- with $.Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $.Values.affinity }}
      affinity:
        {{- tpl (toYaml $.Values.affinity) $ | nindent 8 }}
      {{- else if $.Values.podAntiAffinity }}
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    {{- include "NAME.selectorLabels" $ | nindent 20 }}
      {{- end }}
      {{- with $.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
{{- end }}
'''

SERVICE = r'''{{- range $component := .Values.components }}
{{- if and $component.enabled $component.expose }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "NAME.componentName" (dict "root" $ "component" $component) }}
  labels:
    {{- include "NAME.labels" $ | nindent 4 }}
  {{- with $.Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $.Values.service.type }}
  {{- if and (eq $.Values.service.type "ClusterIP") $.Values.service.clusterIP }}
  clusterIP: {{ $.Values.service.clusterIP }}
  {{- end }}
  ports:
    {{- range $.Values.service.ports }}
    - port: {{ .port }}
      targetPort: {{ .name }}
      protocol: {{ .protocol | default "TCP" }}
      name: {{ .name }}
    {{- end }}
  selector:
    {{- include "NAME.selectorLabels" $ | nindent 4 }}
    app.kubernetes.io/component: {{ $component.name }}
{{- end }}
{{- end }}
'''

CONFIGMAP = r'''apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "NAME.fullname" . }}
  labels:
    {{- include "NAME.labels" . | nindent 4 }}
data:
  app.conf: |
    {{- tpl (.Files.Get "files/app.conf") . | nindent 4 }}
  settings.json: {{ .Values.settings | toJson | quote }}
  {{- (.Files.Glob "files/rules/*.yaml").AsConfig | nindent 2 }}
  {{- range $k, $v := .Values.extraConfig }}
  {{ $k }}: {{ $v | toYaml | quote }}
  {{- end }}
'''

HPA = r'''{{- if .Values.autoscaling.enabled }}
{{- range $component := .Values.components }}
{{- if $component.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "NAME.componentName" (dict "root" $ "component" $component) }}
  labels:
    {{- include "NAME.labels" $ | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "NAME.componentName" (dict "root" $ "component" $component) }}
  minReplicas: {{ $.Values.autoscaling.minReplicas }}
  maxReplicas: {{ $.Values.autoscaling.maxReplicas }}
  metrics:
    {{- if $.Values.autoscaling.targetCPU }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $.Values.autoscaling.targetCPU }}
    {{- end }}
    {{- if $.Values.autoscaling.targetMemory }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ $.Values.autoscaling.targetMemory }}
    {{- end }}
{{- end }}
{{- end }}
{{- end }}
'''

INGRESS = r'''{{- if .Values.ingress.enabled -}}
{{- $fullName := include "NAME.fullname" . -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $fullName }}
  labels:
    {{- include "NAME.labels" . | nindent 4 }}
  {{- with .Values.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- if .Values.ingress.className }}
  ingressClassName: {{ .Values.ingress.className }}
  {{- end }}
  {{- if .Values.ingress.tls }}
  tls:
    {{- range .Values.ingress.tls }}
    - hosts:
        {{- range .hosts }}
        - {{ tpl . $ | quote }}
        {{- end }}
      secretName: {{ .secretName }}
    {{- end }}
  {{- end }}
  rules:
    {{- range .Values.ingress.hosts }}
    - host: {{ tpl .host $ | quote }}
      http:
        paths:
          {{- range .paths }}
          - path: {{ .path }}
            pathType: {{ .pathType }}
            backend:
              service:
                name: {{ $fullName }}-{{ .component }}
                port:
                  name: http
          {{- end }}
    {{- end }}
{{- end }}
'''

NETPOL = r'''{{- if .Values.networkPolicy.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "NAME.fullname" . }}
  labels:
    {{- include "NAME.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "NAME.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    {{- range .Values.networkPolicy.allowFrom }}
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ . }}
    {{- end }}
  egress:
    - {}
{{- end }}
'''

SA = r'''{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "NAME.serviceAccountName" . }}
  labels:
    {{- include "NAME.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: {{ .Values.serviceAccount.automount }}
{{- end }}
'''

PDB = r'''{{- if .Values.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "NAME.fullname" . }}
  labels:
    {{- include "NAME.labels" . | nindent 4 }}
spec:
  {{- if .Values.pdb.minAvailable }}
  minAvailable: {{ .Values.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.pdb.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "NAME.selectorLabels" . | nindent 6 }}
{{- end }}
'''


def subchart_values(i):
    components = []
    for c in range(rng.randint(2, 4)):
        components.append({
            "name": ["api", "worker", "scheduler", "gateway"][c],
            "enabled": c != 3 or i % 2 == 0,
            "expose": c in (0, 3),
            "replicas": rng.randint(1, 5),
            "args": ["--log-level={{ .Values.logLevel }}", f"--shard={c}", "--name={{ .Release.Name }}"],
            "resources": {"limits": {"cpu": f"{rng.randint(1, 8)}00m", "memory": f"{rng.randint(1, 16)}Gi"},
                          "requests": {"cpu": "100m", "memory": "128Mi"}},
        })
    return {
        "enabled": True,
        "components": components,
        "nameOverride": "",
        "fullnameOverride": "",
        "logLevel": "info",
        "global": {"imageRegistry": "", "commonLabels": {}},
        "replicaCount": 2,
        "revisionHistoryLimit": 5,
        "image": {"registry": "registry.example.test", "repository": f"platform/svc{i:02d}", "tag": "",
                  "pullPolicy": "IfNotPresent"},
        "imagePullSecrets": [{"name": "pull-secret"}],
        "serviceAccount": {"create": True, "automount": i % 3 == 0, "annotations": {}, "name": ""},
        "deploymentAnnotations": {"platform.example.test/owner": "{{ .Release.Name }}-team",
                                  "platform.example.test/tier": "backend"},
        "podAnnotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
        "podLabels": {"tier": "backend"},
        "podSecurityContext": {"enabled": True, "runAsNonRoot": True, "fsGroup": 2000,
                               "seccompProfile": {"type": "RuntimeDefault"}},
        "containerSecurityContext": {"enabled": True, "readOnlyRootFilesystem": True,
                                     "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "priorityClassName": "" if i % 4 else "platform-critical",
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "env": {f"feature-{k}": (f"{{{{ .Release.Namespace }}}}-{k}" if k % 3 == 0 else rng.choice(["on", "off", 7]))
                for k in range(rng.randint(6, 14))},
        "extraEnv": [{"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}],
        "service": {"type": "ClusterIP", "clusterIP": "", "annotations": {},
                    "ports": [{"name": "http", "port": 80, "targetPort": 8080},
                              {"name": "metrics", "port": 9090},
                              {"name": "grpc", "port": 9000, "protocol": "TCP"}]},
        "probes": {"enabled": True,
                   "liveness": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
                   "readiness": {"httpGet": {"path": "/ready", "port": "http"}, "failureThreshold": 3}},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
        "extraVolumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        "extraVolumes": [{"name": "tmp", "emptyDir": {}}],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "affinity": {} if i % 2 else {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In",
                                                         "values": ["{{ .Release.Name }}-pool"]}]}]}}},
        "podAntiAffinity": True,
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}],
        "autoscaling": {"enabled": i % 3 == 1, "minReplicas": 2, "maxReplicas": 10, "targetCPU": 75,
                        "targetMemory": 0 if i % 2 else 80},
        "ingress": {"enabled": i % 2 == 0, "className": "nginx",
                    "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "16m"},
                    "hosts": [{"host": f"svc{i:02d}.{{{{ .Release.Namespace }}}}.example.test",
                               "paths": [{"path": "/", "pathType": "Prefix", "component": "api"}]}],
                    "tls": [{"hosts": [f"svc{i:02d}.example.test"], "secretName": f"svc{i:02d}-tls"}]},
        "networkPolicy": {"enabled": i % 3 != 2, "allowFrom": ["monitoring", "ingress-nginx", "platform"]},
        "pdb": {"enabled": True, "minAvailable": 1 if i % 2 else None, "maxUnavailable": None},
        "settings": {"cache": {"size": rng.randint(10, 900), "ttl": "5m"}, "flags": [words(1) for _ in range(5)]},
        "extraConfig": {f"extra-{k}.yaml": {"key": words(3), "list": [1, 2, 3]} for k in range(3)},
    }


def subchart(root, i):
    name = f"svc{i:02d}"
    d = os.path.join(root, "charts", name)
    write(os.path.join(d, "Chart.yaml"), chart_yaml(name, version="1.0.0"))
    write(os.path.join(d, "values.yaml"), "# Default values for " + name + ".\n" + json_to_yaml(subchart_values(i)))
    for tname, body in [("_helpers.tpl", HELPERS), ("deployment.yaml", DEPLOYMENT), ("service.yaml", SERVICE),
                        ("configmap.yaml", CONFIGMAP), ("hpa.yaml", HPA), ("ingress.yaml", INGRESS),
                        ("networkpolicy.yaml", NETPOL), ("serviceaccount.yaml", SA), ("pdb.yaml", PDB)]:
        write(os.path.join(d, "templates", tname), body.replace("NAME", name))
    write(os.path.join(d, "templates", "NOTES.txt"), f"{name} is installed as {{{{ .Release.Name }}}}.\n")
    conf = "\n".join(f"{k} = {{{{ .Values.settings.cache.size }}}}-{words(2)}" for k in WORDS[:30]) + "\n"
    write(os.path.join(d, "files", "app.conf"), "# {{ .Release.Name }}\n" + conf)
    for r in range(4):
        write(os.path.join(d, "files", "rules", f"rule-{r}.yaml"),
              "groups:\n" + "".join(f"  - name: {words(2)}\n    expr: rate(x[{k}m]) > {k}\n" for k in range(10)))
    write(os.path.join(d, ".helmignore"), "*.orig\n*.tmp\n.git/\n")


def json_to_yaml(v, indent=0):
    """Block YAML for plain data (strings quoted as JSON, which YAML reads the same)."""
    pad = " " * indent
    if isinstance(v, dict):
        if not v:
            return "{}\n"
        out = "\n" if indent else ""
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x:
                out += f"{pad}{k}:" + json_to_yaml(x, indent + 2)
            else:
                out += f"{pad}{k}: {scalar(x)}\n"
        return out
    if isinstance(v, list):
        if not v:
            return "[]\n"
        out = "\n"
        for x in v:
            if isinstance(x, dict) and x:
                body = json_to_yaml(x, indent + 2).lstrip("\n")
                out += f"{pad}- " + body[indent + 2:]
            elif isinstance(x, list) and x:
                out += f"{pad}-" + json_to_yaml(x, indent + 2)
            else:
                out += f"{pad}- {scalar(x)}\n"
        return out
    return scalar(v) + "\n"


def scalar(x):
    if x is None:
        return "null"
    if isinstance(x, dict):
        return "{}"
    if isinstance(x, list):
        return "[]"
    return json.dumps(x)


def crd(group, kind, versions, depth, fanout, serial):
    """A CustomResourceDefinition whose OpenAPI schema nests `depth` levels of `fanout` properties."""
    def schema(level):
        if level == depth:
            t = rng.choice(["string", "integer", "boolean"])
            return {"type": t, "description": words(rng.randint(8, 30))}
        return {"type": "object", "description": words(rng.randint(5, 20)),
                "properties": {f"{rng.choice(WORDS)}{k}{serial}": schema(level + 1) for k in range(fanout)}}
    plural = kind.lower() + "s"
    doc = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}", "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.1"}},
        "spec": {"group": group, "names": {"kind": kind, "listKind": kind + "List", "plural": plural,
                                           "singular": kind.lower()},
                 "scope": "Namespaced",
                 "versions": [{"name": v, "served": True, "storage": v == versions[-1],
                               "schema": {"openAPIV3Schema": schema(0)}} for v in versions]},
    }
    return json_to_yaml(doc)


DASHBOARD_CM = r'''{{- if .Values.dashboards.enabled }}
{{- range $path, $_ := .Files.Glob "dashboards/*.json" }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ printf "%s-%s" $.Release.Name (base $path | trimSuffix ".json") | trunc 63 | trimSuffix "-" }}
  labels:
    grafana_dashboard: "1"
    {{- include "platform.labels" $ | nindent 4 }}
data:
  {{ base $path }}: |-
    {{- $.Files.Get $path | nindent 4 }}
{{- end }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-dashboards-all
  labels:
    {{- include "platform.labels" . | nindent 4 }}
data:
  {{- (.Files.Glob "dashboards/*.json").AsConfig | nindent 2 }}
{{- end }}
'''

PLATFORM_HELPERS = r'''{{- define "platform.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
'''


def dashboard(n):
    panels = []
    for p in range(rng.randint(10, 20)):
        panels.append({"id": p, "type": rng.choice(["timeseries", "stat", "table", "gauge"]),
                       "title": words(3), "description": words(12),
                       "gridPos": {"h": 8, "w": 12, "x": (p % 2) * 12, "y": p * 8},
                       "targets": [{"expr": f"sum(rate(http_requests_total{{job=\"{words(1)}\"}}[5m])) by ({words(1)})",
                                    "legendFormat": "{{" + words(1) + "}}", "refId": chr(65 + t)} for t in range(3)],
                       "fieldConfig": {"defaults": {"unit": "short", "thresholds": {"mode": "absolute", "steps": [
                           {"color": "green", "value": None}, {"color": "red", "value": 80}]}}}})
    return json.dumps({"title": f"Platform {n}", "uid": f"platform-{n}", "schemaVersion": 39,
                       "panels": panels, "templating": {"list": []}}, indent=2) + "\n"


def umbrella(root):
    subs = [f"svc{i:02d}" for i in range(25)]
    disabled = {2, 5, 9, 13, 17, 21, 24}
    deps = [(s, f"{s}.enabled") for s in subs]
    write(os.path.join(root, "Chart.yaml"), chart_yaml("platform", deps))
    vals = {"dashboards": {"enabled": True}, "global": {"imageRegistry": "", "commonLabels": {"team": "platform"}}}
    for i, s in enumerate(subs):
        vals[s] = {"enabled": i not in disabled, "logLevel": "debug" if i % 5 == 0 else "info"}
    write(os.path.join(root, "values.yaml"), json_to_yaml(vals))
    write(os.path.join(root, "templates", "_helpers.tpl"), PLATFORM_HELPERS)
    write(os.path.join(root, "templates", "dashboards.yaml"), DASHBOARD_CM)
    for i in range(25):
        subchart(root, i)
    # Several MB of CRDs: loaded by every tool, printed only with --include-crds.
    for c in range(14):
        write(os.path.join(root, "crds", f"crd-{c:02d}.yaml"),
              crd(f"g{c}.platform.example.test", f"Kind{c}", ["v1alpha1", "v1beta1", "v1"], 4, 4, c))
    for n in range(24):
        write(os.path.join(root, "dashboards", f"dashboard-{n:02d}.json"), dashboard(n))


CRD_TEMPLATE_HEAD = '''{{- if .Values.crds.install }}
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: PLURAL.GROUP
  labels:
    {{- include "operator.labels" . | nindent 4 }}
  annotations:
    {{- if .Values.crds.keep }}
    helm.sh/resource-policy: keep
    {{- end }}
    {{- with .Values.crds.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
'''


def crd_heavy(root):
    write(os.path.join(root, "Chart.yaml"), chart_yaml("operator"))
    write(os.path.join(root, "values.yaml"), json_to_yaml({
        "crds": {"install": True, "keep": True, "annotations": {"operator.example.test/generated": "true"}},
        "image": {"repository": "operator", "tag": "v2.0.0"}}))
    write(os.path.join(root, "templates", "_helpers.tpl"), r'''{{- define "operator.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
''')
    for c in range(14):
        body = crd(f"c{c}.operator.example.test", f"Resource{c}", ["v1beta1", "v1"], 3, 5, c)
        # The head (metadata) comes from the template; the spec is the generated schema.
        spec = body[body.index("spec:"):]
        head = CRD_TEMPLATE_HEAD.replace("PLURAL", f"resource{c}s").replace("GROUP", f"c{c}.operator.example.test")
        write(os.path.join(root, "templates", "crds", f"crd-{c:02d}.yaml"), head + spec + "{{- end }}\n")
    write(os.path.join(root, "templates", "deployment.yaml"), r'''apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-operator
  labels:
    {{- include "operator.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "operator.labels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "operator.labels" . | nindent 8 }}
    spec:
      containers:
        - name: operator
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
''')


COND_TEMPLATE = r'''{{- range $env := .Values.environments }}
{{- range $i, $app := $.Values.apps }}
{{- if and $app.enabled (or (eq $app.tier "frontend") (eq $app.tier "backend") (eq $app.tier "batch")) }}
---
apiVersion: {{ if eq $app.kind "CronJob" }}batch/v1{{ else if eq $app.kind "StatefulSet" }}apps/v1{{ else }}apps/v1{{ end }}
kind: {{ $app.kind | default "Deployment" }}
metadata:
  name: {{ printf "%s-%s-%s-%s" $.Release.Name $env.name $.Values.group $app.name | trunc 63 | trimSuffix "-" }}
  labels:
    app: {{ $app.name }}
    env: {{ $env.name }}
    group: GROUP
    {{- if $app.tier }}
    tier: {{ $app.tier }}
    {{- end }}
    {{- if and $.Values.global.labels (not $app.skipGlobalLabels) }}
    {{- range $k, $v := $.Values.global.labels }}
    {{ $k }}: {{ $v | quote }}
    {{- end }}
    {{- end }}
spec:
  {{- if eq $app.kind "CronJob" }}
  schedule: {{ $app.schedule | default "*/5 * * * *" | quote }}
  {{- if $app.suspend }}
  suspend: true
  {{- end }}
  jobTemplate:
    spec:
      {{- if $app.backoffLimit }}
      backoffLimit: {{ $app.backoffLimit }}
      {{- end }}
      template:
        spec:
          restartPolicy: {{ $app.restartPolicy | default "OnFailure" }}
          containers:
            - name: {{ $app.name }}
              image: {{ $app.image | default "busybox:1.36" }}
  {{- else }}
  {{- if not $app.autoscale }}
  {{- if eq $env.name "prod" }}
  replicas: {{ mul ($app.replicas | default 1) $env.scale }}
  {{- else if $env.single }}
  replicas: 1
  {{- else }}
  replicas: {{ $app.replicas | default 1 }}
  {{- end }}
  {{- end }}
  {{- if eq $app.kind "StatefulSet" }}
  serviceName: {{ $app.name }}
  {{- if $app.parallel }}
  podManagementPolicy: Parallel
  {{- end }}
  {{- end }}
  selector:
    matchLabels:
      app: {{ $app.name }}
  template:
    metadata:
      labels:
        app: {{ $app.name }}
      {{- if or $app.metrics $.Values.global.metrics }}
      annotations:
        prometheus.io/scrape: "true"
        {{- if $app.metricsPort }}
        prometheus.io/port: {{ $app.metricsPort | quote }}
        {{- end }}
      {{- end }}
    spec:
      {{- if $app.hostNetwork }}
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
      {{- else if $app.dnsPolicy }}
      dnsPolicy: {{ $app.dnsPolicy }}
      {{- end }}
      containers:
        - name: {{ $app.name }}
          image: {{ $app.image | default "nginx:1.27" }}
          {{- if $app.command }}
          command: {{ toJson $app.command }}
          {{- end }}
          {{- with $app.ports }}
          ports:
            {{- range . }}
            - containerPort: {{ . }}
              {{- if eq (int .) 443 }}
              name: https
              {{- else if eq (int .) 80 }}
              name: http
              {{- else if gt (int .) 9000 }}
              name: metrics
              {{- end }}
            {{- end }}
          {{- end }}
          env:
            {{- range $e := $app.env }}
            {{- if hasPrefix "SECRET_" $e.name }}
            - name: {{ $e.name }}
              valueFrom:
                secretKeyRef:
                  name: {{ $app.name }}-secrets
                  key: {{ $e.name | lower }}
            {{- else if $e.value }}
            - name: {{ $e.name }}
              value: {{ $e.value | quote }}
            {{- else }}
            - name: {{ $e.name }}
              value: ""
            {{- end }}
            {{- end }}
          {{- if and $app.resources (not $env.single) }}
          resources:
            {{- if $app.resources.limits }}
            limits:
              {{- if $app.resources.limits.cpu }}
              cpu: {{ $app.resources.limits.cpu }}
              {{- end }}
              {{- if and $app.resources.limits.memory (ne $env.name "dev") }}
              memory: {{ $app.resources.limits.memory }}
              {{- end }}
            {{- end }}
            {{- if $app.resources.requests }}
            requests:
              {{- with $app.resources.requests.cpu }}
              cpu: {{ . }}
              {{- end }}
              {{- with $app.resources.requests.memory }}
              memory: {{ . }}
              {{- end }}
            {{- end }}
          {{- end }}
          {{- if $app.probe }}
          {{- if eq $app.probe "http" }}
          readinessProbe:
            httpGet:
              path: {{ $app.probePath | default "/" }}
              port: {{ if $app.ports }}{{ first $app.ports }}{{ else }}80{{ end }}
          {{- else if eq $app.probe "tcp" }}
          readinessProbe:
            tcpSocket:
              port: {{ $app.ports | default (list 80) | first }}
          {{- else }}
          readinessProbe:
            exec:
              command: ["/bin/true"]
          {{- end }}
          {{- end }}
  {{- end }}
{{- if and (ne $app.kind "CronJob") $app.ports }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ printf "%s-%s-%s" $.Release.Name $env.name $app.name | trunc 63 }}
  labels:
    app: {{ $app.name }}
    {{- if $app.tier }}
    tier: {{ $app.tier }}
    {{- end }}
spec:
  {{- if eq $app.tier "edge" }}
  type: LoadBalancer
  {{- else if $app.hostNetwork }}
  type: NodePort
  {{- else }}
  type: ClusterIP
  {{- end }}
  {{- if eq $app.kind "StatefulSet" }}
  clusterIP: None
  {{- end }}
  ports:
    {{- range $app.ports }}
    - port: {{ . }}
      targetPort: {{ . }}
      {{- if or (eq (int .) 80) (eq (int .) 8080) }}
      name: http-{{ . }}
      {{- else if eq (int .) 443 }}
      name: https
      {{- else }}
      name: tcp-{{ . }}
      {{- end }}
    {{- end }}
  selector:
    app: {{ $app.name }}
{{- end }}
{{- if and (gt (int ($app.replicas | default 1)) 1) (ne $app.kind "CronJob") (not $app.autoscale) }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ printf "%s-%s-%s" $.Release.Name $env.name $app.name | trunc 63 }}
spec:
  {{- if gt (int $app.replicas) 3 }}
  minAvailable: {{ sub $app.replicas 2 }}
  {{- else }}
  maxUnavailable: 1
  {{- end }}
  selector:
    matchLabels:
      app: {{ $app.name }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
'''


GROUPS = 13


def conditional(root):
    write(os.path.join(root, "Chart.yaml"), chart_yaml("switchboard"))
    kinds = ["Deployment", "StatefulSet", "CronJob"]
    tiers = ["frontend", "backend", "batch", "edge"]
    vals = {"global": {"labels": {"owner": "platform", "cost-center": "1234"}, "metrics": False}, "group": "core",
            "environments": [{"name": "dev", "single": True}, {"name": "staging"}, {"name": "prod", "scale": 3}]}
    for g in range(GROUPS):
        apps = []
        for a in range(28):
            app = {"name": f"g{g}-app{a}", "enabled": rng.random() > 0.15, "kind": rng.choice(kinds),
                   "tier": rng.choice(tiers), "replicas": rng.randint(1, 6)}
            for key, maker in [("autoscale", lambda: True), ("metrics", lambda: True),
                               ("metricsPort", lambda: rng.choice([9090, 9100])),
                               ("hostNetwork", lambda: True), ("dnsPolicy", lambda: "Default"),
                               ("command", lambda: ["/app", "--" + rng.choice(WORDS)]),
                               ("ports", lambda: rng.sample([80, 443, 8080, 9090, 9100], rng.randint(1, 3))),
                               ("resources", lambda: {"limits": {"cpu": "1", "memory": "1Gi"},
                                                      "requests": {"cpu": "100m"}}),
                               ("probe", lambda: rng.choice(["http", "tcp", "exec"])),
                               ("schedule", lambda: "0 * * * *"), ("suspend", lambda: True),
                               ("backoffLimit", lambda: 3), ("parallel", lambda: True),
                               ("skipGlobalLabels", lambda: True)]:
                if rng.random() > 0.5:
                    app[key] = maker()
            app["env"] = [{"name": rng.choice(["SECRET_", ""]) + rng.choice(WORDS).upper() + str(e),
                           "value": rng.choice(["", words(2)])} for e in range(rng.randint(2, 8))]
            apps.append(app)
        vals[f"apps{g}"] = apps
    write(os.path.join(root, "values.yaml"), json_to_yaml(vals))
    for g in range(GROUPS):
        body = COND_TEMPLATE.replace(".Values.apps", f".Values.apps{g}").replace("GROUP", f"g{g}")
        write(os.path.join(root, "templates", f"apps-{g:02d}.yaml"), body)


for name, make in [("umbrella", umbrella), ("crd-heavy", crd_heavy), ("conditional", conditional)]:
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    make(path)
    print(path)
