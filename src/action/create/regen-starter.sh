#!/usr/bin/env bash
# Rewrites starter/ from helm itself: ./regen-starter.sh /path/to/helm-v3.17.2
# `helm create` is run with a placeholder name, which is then written back as <CHARTNAME>, the
# token create.rs replaces with the new chart's name (Helm's own starter token).
set -euo pipefail
helm=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
placeholder=zzstarterchartnamezz
(cd "$work" && "$helm" create "$placeholder" >/dev/null)
if grep -rq '<CHARTNAME>' "$work/$placeholder"; then
    echo "helm's starter already holds <CHARTNAME>: the token would be ambiguous" >&2
    exit 1
fi
rm -rf "$here/starter"
mkdir -p "$here/starter"
(cd "$work/$placeholder" && find . -type f | sort) | while read -r f; do
    mkdir -p "$(dirname "$here/starter/$f")"
    sed "s/$placeholder/<CHARTNAME>/g" "$work/$placeholder/$f" > "$here/starter/$f"
done
