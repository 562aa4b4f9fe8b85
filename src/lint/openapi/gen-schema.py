#!/usr/bin/env python3
"""Writes k8s-1.32.json.gz: the Kubernetes 1.32 OpenAPI v3 schemas `lint --openapi` checks
objects against, read from a running API server (the control-plane kit in ../shared/k8s).

Usage: gen-schema.py CLUSTER_JSON > k8s-1.32.json.gz
(CLUSTER_JSON is the kit's DIR/cluster.json: server URL and admin certificates.)

Every group-version document under /openapi/v3 is fetched and its `components.schemas` merged
into one map (schema names are unique across groups). Only what validation reads is kept: types,
properties, required fields, items, additionalProperties, references, and the x-kubernetes
markers for kinds, int-or-string and preserved unknown fields. Descriptions, defaults and
list/patch hints are dropped, which takes the schema from ~25 MB of JSON to a few hundred kB.
"""
import gzip
import json
import ssl
import sys
import urllib.request

cluster = json.load(open(sys.argv[1]))
ctx = ssl.create_default_context(cafile=cluster["ca"])
ctx.load_cert_chain(cluster["cert"], cluster["key"])


def get(path):
    with urllib.request.urlopen(cluster["server"] + path, context=ctx) as r:
        return json.load(r)


KEEP = {
    "type", "properties", "required", "items", "additionalProperties", "allOf", "oneOf", "anyOf", "$ref",
    "x-kubernetes-group-version-kind", "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
}


def strip(node):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k not in KEEP:
                continue
            if k == "x-kubernetes-group-version-kind":
                out[k] = v
            elif k == "properties":
                out[k] = {name: strip(s) for name, s in v.items()}
            elif k == "$ref":
                out[k] = v.rsplit("/", 1)[-1]
            else:
                out[k] = strip(v)
        return out
    if isinstance(node, list):
        return [strip(x) for x in node]
    return node


schemas = {}
index = get("/openapi/v3")["paths"]
for path in sorted(index):
    if not (path.startswith("api/") or path.startswith("apis/")) or path.count("/") < 1:
        continue
    doc = get(index[path]["serverRelativeURL"])
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        schemas[name] = strip(schema)

version = get("/version")
out = {"kubernetes": f"{version['major']}.{version['minor']}", "schemas": dict(sorted(schemas.items()))}
sys.stdout.buffer.write(gzip.compress(json.dumps(out, separators=(",", ":")).encode(), mtime=0))
