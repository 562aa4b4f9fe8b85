#!/usr/bin/env bash
# Builds the krew release archives for kubectl-chart and writes a krew Plugin manifest for exactly the
# platforms it built, from krew/plugin.yaml.tmpl. See krew/README.md for how this fits the release.
#
#   usage: krew/build-archives.sh [--host-only | --platform OS/ARCH]... [--from-archives] [--out DIR]
#                                 [--manifest FILE]
#
#   --host-only       build only the platform of the host Rust target (what a dev machine can build)
#   --platform P      build only P (repeatable): linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
#   --from-archives   build nothing: read the archives already in DIR (the release workflow's last job, with
#                     every platform's archive downloaded there) and write the manifest from their sha256;
#                     a missing archive, or one whose DIR/NAME.sha256 disagrees, is an error
#   --out DIR         where the archives go (default target/krew)
#   --manifest FILE   where the manifest goes (default DIR/plugin.yaml); `--host-only --manifest plugin.yaml`
#                     regenerates the committed top-level plugin.yaml
#
# Environment:
#   KC_PREBUILT_BIN   package this binary instead of running `cargo build --release` (only with --host-only;
#                     tests pass the already-built test binary so they do not wait for a release build)
#   KC_HOMEPAGE       project URL (default https://github.com/kubectl-chart/kubectl-chart)
#   KC_RELEASE_BASE   where the archives are downloaded from (default HOMEPAGE/releases/download/vVERSION)
#   KC_GZIP_LEVEL     gzip level for .tar.gz (default 9; tests use 1, the level changes bytes, not layout)
#   KC_PYTHON         the Python 3 to run (default python3; windows runners name it python)
#   SOURCE_DATE_EPOCH mtime stamped on archive entries (default 0), so archives are reproducible
#
# Each archive holds `kubectl-chart` (`kubectl-chart.exe` on windows) and LICENSE at its root, which is
# what the manifest's `bin` and `files` point at; linux and darwin archives are .tar.gz, windows .zip.
# Beside each archive goes ARCHIVE.sha256, in sha256sum's format (`HEX  NAME`), published with it.
# Without --host-only a platform whose Rust target is not installed is an error, never a silent skip,
# so a release cannot quietly ship fewer platforms than the manifest template promises.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "build-archives: $*" >&2; exit 1; }

host_only=false
from_archives=false
wanted=()
out=target/krew
manifest=""
while [ $# -gt 0 ]; do
  case "$1" in
    --host-only) host_only=true ;;
    --from-archives) from_archives=true ;;
    --platform) [ $# -ge 2 ] || die "--platform needs OS/ARCH"; wanted+=("$2"); shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out="$2"; shift ;;
    --manifest) [ $# -ge 2 ] || die "--manifest needs a file"; manifest="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done
if $host_only && [ ${#wanted[@]} -gt 0 ]; then die "--host-only and --platform exclude each other"; fi
if $from_archives && { $host_only || [ -n "${KC_PREBUILT_BIN:-}" ]; }; then
  die "--from-archives builds nothing, so it takes neither --host-only nor KC_PREBUILT_BIN"
fi
if [ -n "${KC_PREBUILT_BIN:-}" ] && ! $host_only; then
  die "KC_PREBUILT_BIN is a binary for the host only, so it needs --host-only"
fi
manifest="${manifest:-$out/plugin.yaml}"
mkdir -p "$out"
py="${KC_PYTHON:-python3}"

version=$(sed -n 's/^version = "\([^"]*\)".*/\1/p' Cargo.toml | head -n1)
[ -n "$version" ] || die "no version in Cargo.toml"
homepage="${KC_HOMEPAGE:-https://github.com/kubectl-chart/kubectl-chart}"
release_base="${KC_RELEASE_BASE:-$homepage/releases/download/v$version}"
# --from-archives runs where no Rust toolchain need be installed.
host=$($from_archives || rustc -vV | sed -n 's/^host: //p')

# os arch release-target. Linux releases use musl so one static binary runs on every distro (as
# kubectl-view-allocations ships); a --host-only build uses whatever the host target is instead.
targets="linux amd64 x86_64-unknown-linux-musl
linux arm64 aarch64-unknown-linux-musl
darwin amd64 x86_64-apple-darwin
darwin arm64 aarch64-apple-darwin
windows amd64 x86_64-pc-windows-msvc"

host_platform() {
  local arch os
  case "$host" in
    x86_64-*) arch=amd64 ;; aarch64-*) arch=arm64 ;; *) die "host target $host has no krew platform here" ;;
  esac
  case "$host" in
    *-linux-*) os=linux ;; *-apple-darwin) os=darwin ;; *-windows-*) os=windows ;;
    *) die "host target $host has no krew platform here" ;;
  esac
  echo "$os/$arch"
}
if $host_only; then wanted=("$(host_platform)"); fi
for p in "${wanted[@]+"${wanted[@]}"}"; do
  grep -q "^${p%/*} ${p#*/} " <<< "$targets" || die "unknown platform $p"
done

installed=$($from_archives || rustup target list --installed 2>/dev/null || true)
platforms=""
built=()
while read -r os arch target; do
  if [ ${#wanted[@]} -gt 0 ] && ! printf '%s\n' "${wanted[@]}" | grep -qx "$os/$arch"; then continue; fi
  if $host_only; then target="$host"; fi
  bin=kubectl-chart
  [ "$os" = windows ] && bin=kubectl-chart.exe
  name="kubectl-chart_v${version}_${os}_${arch}"
  if [ "$os" = windows ]; then archive="$out/$name.zip"; else archive="$out/$name.tar.gz"; fi
  if $from_archives; then
    [ -f "$archive" ] || die "--from-archives: $archive for $os/$arch is missing"
  elif [ -n "${KC_PREBUILT_BIN:-}" ]; then
    [ -f "$KC_PREBUILT_BIN" ] || die "KC_PREBUILT_BIN $KC_PREBUILT_BIN: no such file"
    exe="$KC_PREBUILT_BIN"
  else
    if [ "$target" != "$host" ] && ! grep -qx "$target" <<< "$installed"; then
      die "Rust target $target for $os/$arch is not installed (rustup target add $target), or use --host-only"
    fi
    if [ "$target" = "$host" ]; then
      # No --target: reuse target/release rather than a second full build under target/$host.
      cargo build --release --locked --quiet
      exe="target/release/$bin"
    else
      cargo build --release --locked --quiet --target "$target"
      exe="target/$target/release/$bin"
    fi
  fi
  if ! $from_archives; then
    # Python's tarfile/zipfile rather than tar(1): GNU and BSD tar (macOS runners) disagree on the flags
    # that make an archive reproducible (fixed owner, order, mtime; no name or time in the gzip header).
    "$py" - "$archive" "$exe" "$bin" LICENSE "${SOURCE_DATE_EPOCH:-0}" "${KC_GZIP_LEVEL:-9}" <<'PY'
import gzip, io, sys, tarfile, time, zipfile
archive, exe, bin_name, license_path, epoch, level = sys.argv[1:]
entries = [(bin_name, exe, 0o755), ("LICENSE", license_path, 0o644)]
if archive.endswith(".zip"):
    # zip cannot store times before 1980
    stamp = time.gmtime(max(int(epoch), 315532800))[:6]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name, path, mode in entries:
            info = zipfile.ZipInfo(name, stamp)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                z.writestr(info, f.read())
else:
    with open(archive, "wb") as raw, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=int(level)
    ) as gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, path, mode in entries:
            with open(path, "rb") as f:
                data = f.read()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, int(epoch)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
PY
  fi
  # write(), not print(): Python on windows would end the line with \r, which $(...) keeps.
  sha=$("$py" -c 'import hashlib,sys; sys.stdout.write(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$archive")
  if $from_archives && [ -f "$archive.sha256" ]; then
    # A download that went wrong, or an archive rebuilt after its .sha256 was published, must not
    # reach the manifest.
    read -r published _ < "$archive.sha256" || true
    [ "$published" = "$sha" ] || die "$archive has sha256 $sha, but $archive.sha256 says ${published:-nothing}"
  else
    printf '%s  %s\n' "$sha" "$(basename "$archive")" > "$archive.sha256"
  fi
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
  built+=("$os/$arch ($target)")
  echo "$archive $sha" >&2
done <<< "$targets"
[ ${#built[@]} -gt 0 ] || die "nothing built"

if [ ${#built[@]} -eq 5 ]; then
  header="# Generated by krew/build-archives.sh from krew/plugin.yaml.tmpl: every krew platform, with the sha256
# of the archives it $($from_archives && echo 'read (--from-archives)' || echo built)."
else
  # A partial manifest is valid krew but must not pass for the release one: say what it holds.
  header="# Generated by \`krew/build-archives.sh $($host_only && echo --host-only || echo --platform ...)\` from krew/plugin.yaml.tmpl. It lists only
# the platforms that could be built on the machine that ran it: $(IFS=,; joined="${built[*]}"; echo "${joined//,/, }").
# Their sha256 is of the archives built there (${KC_PREBUILT_BIN:+from a prebuilt binary, }not a published release),
# so \`kubectl krew install --manifest=plugin.yaml --archive=ARCHIVE\` works against that build.
# The manifest for every platform is made at release time by krew-release-bot from krew/.krew.yaml, with
# sha256 computed from the uploaded release archives (krew/README.md)."
fi

export HEADER="$header" VERSION="$version" HOMEPAGE="$homepage" PLATFORMS="${platforms%$'\n'}"
mkdir -p "$(dirname "$manifest")"
"$py" -c 'import os,string,sys; sys.stdout.write(string.Template(open("krew/plugin.yaml.tmpl").read()).substitute(os.environ))' > "$manifest"
echo "$manifest"
