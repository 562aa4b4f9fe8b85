#!/usr/bin/env bash
# Builds release archives for kubectl-chart and writes plugin.yaml from krew/plugin.yaml.tmpl.
#   usage: krew/build-archives.sh [--host-only] [OUT_DIR]
# Each archive holds `kubectl-chart` (or `kubectl-chart.exe`) and LICENSE at its root; linux and darwin
# archives are .tar.gz, windows .zip. Targets whose Rust standard library is not installed are
# skipped with --host-only (the host target is always built), or fail the run otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
host_only=false
if [ "${1:-}" = "--host-only" ]; then host_only=true; shift; fi
out="${1:-target/krew}"
mkdir -p "$out"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
homepage="${KC_HOMEPAGE:-https://github.com/kubectl-chart/kubectl-chart}"
release_base="${KC_RELEASE_BASE:-$homepage/releases/download/v$version}"
host=$(rustc -vV | sed -n 's/^host: //p')

# os arch rust-target
targets="linux amd64 x86_64-unknown-linux-gnu
linux arm64 aarch64-unknown-linux-gnu
darwin amd64 x86_64-apple-darwin
darwin arm64 aarch64-apple-darwin
windows amd64 x86_64-pc-windows-gnu"

platforms=""
while read -r os arch target; do
  if [ "$target" != "$host" ] && ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    if $host_only; then continue; fi
    echo "missing Rust target $target (rustup target add $target)" >&2; exit 1
  fi
  cargo build --release --locked --quiet --target "$target"
  stage=$(mktemp -d)
  bin=kubectl-chart; [ "$os" = windows ] && bin=kubectl-chart.exe
  cp "target/$target/release/$bin" "$stage/$bin"
  cp LICENSE "$stage/LICENSE"
  name="kubectl-chart_v${version}_${os}_${arch}"
  if [ "$os" = windows ]; then
    archive="$out/$name.zip"; rm -f "$archive"
    (cd "$stage" && python3 -c 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED); [z.write(f) for f in sys.argv[2:]]' "$OLDPWD/$archive" "$bin" LICENSE)
  else
    archive="$out/$name.tar.gz"
    # Reproducible: fixed owner, order and mtime.
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2020-01-01' -C "$stage" -cf - "$bin" LICENSE | gzip -n > "$archive"
  fi
  rm -rf "$stage"
  sha=$(sha256sum "$archive" | cut -d' ' -f1)
  platforms+="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $release_base/$(basename "$archive")
    sha256: $sha
    bin: $bin
    files:
      - from: $bin
        to: .
      - from: LICENSE
        to: .
"
  echo "$archive $sha" >&2
done <<< "$targets"

export VERSION="$version" HOMEPAGE="$homepage" PLATFORMS="${platforms%$'\n'}"
python3 -c 'import os,string,sys; sys.stdout.write(string.Template(open("krew/plugin.yaml.tmpl").read()).substitute(os.environ))' > "$out/plugin.yaml"
echo "$out/plugin.yaml"
