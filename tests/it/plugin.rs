//! kubectl-chart as a kubectl plugin and as a krew package.
//!
//! - The committed `plugin.yaml` and the krew-release-bot template `krew/.krew.yaml` are checked against
//!   the rules krew-index CI enforces (`ValidatePlugin` in krew's `internal/index/validation`, plus
//!   `validate-krew-manifest`'s "every selector matches a supported os/arch, no two match the same one").
//! - `krew/build-archives.sh --host-only` is run on the already-built test binary (`KC_PREBUILT_BIN`, so no
//!   release build), and the archive it writes is opened to check layout and sha256.
//! - The real `kubectl` on `PATH` dispatches `kubectl chart …` to our binary. Without kubectl those tests
//!   print `skipped: …` and pass, unless `KC_REQUIRE_KUBECTL=1`.

use std::{
    collections::BTreeSet,
    fs,
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::helm as support_helm;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-chart");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

fn parse_manifest(text: &str, file: &str) -> Value {
    let mut docs = kubectl_chart::yaml::parse_documents(text, file).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(docs.len(), 1, "{file}: want one YAML document");
    docs.remove(0)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn assert_ok(what: &str, o: &Output) {
    assert!(
        o.status.success(),
        "{what}: {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("kc-plugin-{tag}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------------
// The manifest checker.

/// The os/arch pairs krew's `validate-krew-manifest` accepts a selector for.
const KREW_PLATFORMS: &[(&str, &str)] = &[
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];

/// The five platforms a release of kubectl-chart ships.
const RELEASE_PLATFORMS: &[&str] = &[
    "linux/amd64",
    "linux/arm64",
    "darwin/amd64",
    "darwin/arm64",
    "windows/amd64",
];

/// Whether `v` is a krew version: a leading `v`, then strict semver (MAJOR.MINOR.PATCH, optional
/// `-prerelease` and `+build`, no leading zeros in the numbers).
fn is_krew_semver(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let (rest, build) = match rest.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (rest, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let num =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    let ident = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| num(p))
        && pre.is_none_or(|p| p.split('.').all(ident))
        && build.is_none_or(|b| b.split('.').all(ident))
}

/// Everything krew-index CI would reject in a manifest meant to be `plugins/{name}.yaml`, plus our own
/// packaging rules (the archive root holds `bin` and a LICENSE, windows needs `.exe`), as messages.
fn manifest_problems(m: &Value, name: &str) -> Vec<String> {
    let mut p = Vec::new();
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    if s(m, "apiVersion").as_deref() != Some("krew.googlecontainertools.github.com/v1alpha2") {
        p.push(format!("apiVersion is {:?}", m.get("apiVersion")));
    }
    if s(m, "kind").as_deref() != Some("Plugin") {
        p.push(format!("kind is {:?}", m.get("kind")));
    }
    let meta_name = m.get("metadata").and_then(|md| s(md, "name"));
    if meta_name.as_deref() != Some(name) {
        p.push(format!(
            "metadata.name is {meta_name:?}, the file is plugins/{name}.yaml"
        ));
    }
    let Some(spec) = m.get("spec") else {
        p.push("no spec".into());
        return p;
    };
    match s(spec, "version") {
        Some(v) if is_krew_semver(&v) => {}
        v => p.push(format!("spec.version {v:?} is not v-prefixed semver")),
    }
    match s(spec, "shortDescription") {
        None => p.push("spec.shortDescription is missing".into()),
        Some(d) if d.is_empty() => p.push("spec.shortDescription is missing".into()),
        Some(d) if d.contains(['\r', '\n']) => p.push("spec.shortDescription has a line break".into()),
        Some(_) => {}
    }
    for field in ["homepage", "description", "caveats"] {
        if s(spec, field).is_none_or(|v| v.trim().is_empty()) {
            p.push(format!("spec.{field} is missing"));
        }
    }
    let platforms = spec
        .get("platforms")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if platforms.is_empty() {
        p.push("spec.platforms is empty".into());
    }
    let mut matched: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (i, pl) in platforms.iter().enumerate() {
        let at = format!("spec.platforms[{i}]");
        let labels = pl.get("selector").and_then(|sel| {
            if sel.get("matchExpressions").is_some() {
                None
            } else {
                sel.get("matchLabels").and_then(Value::as_object)
            }
        });
        let Some(labels) = labels.filter(|l| !l.is_empty()) else {
            p.push(format!(
                "{at}.selector needs non-empty matchLabels (this checker reads no matchExpressions)"
            ));
            continue;
        };
        if let Some(k) = labels.keys().find(|k| *k != "os" && *k != "arch") {
            p.push(format!("{at}.selector key {k:?} is not supported"));
        }
        let os = labels.get("os").and_then(Value::as_str);
        let arch = labels.get("arch").and_then(Value::as_str);
        let hits: Vec<_> = KREW_PLATFORMS
            .iter()
            .filter(|(o, a)| os.is_none_or(|x| x == *o) && arch.is_none_or(|x| x == *a))
            .collect();
        if hits.is_empty() {
            p.push(format!(
                "{at}.selector {os:?}/{arch:?} matches no platform krew supports"
            ));
        }
        for &&(o, a) in &hits {
            if !matched.insert((o, a)) {
                p.push(format!(
                    "{at}.selector matches {o}/{a}, which an earlier platform matches too"
                ));
            }
        }
        match s(pl, "uri") {
            Some(u) if u.starts_with("https://") && (u.ends_with(".tar.gz") || u.ends_with(".zip")) => {}
            u => p.push(format!("{at}.uri {u:?} is not an https .tar.gz or .zip")),
        }
        match s(pl, "sha256") {
            Some(h) if h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => {}
            h => p.push(format!("{at}.sha256 {h:?} is not 64 lowercase hex digits")),
        }
        let bin = s(pl, "bin").unwrap_or_default();
        if bin.is_empty() {
            p.push(format!("{at}.bin is missing"));
        }
        if os == Some("windows") && !bin.ends_with(".exe") {
            p.push(format!(
                "{at}.bin {bin:?}: krew on windows only runs .exe entrypoints"
            ));
        }
        let files = pl
            .get("files")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let froms: Vec<String> = files.iter().filter_map(|f| s(f, "from")).collect();
        if files.is_empty()
            || files
                .iter()
                .any(|f| s(f, "from").is_none() || s(f, "to").is_none())
        {
            p.push(format!(
                "{at}.files must be non-empty with from and to in each entry"
            ));
        }
        if files.iter().any(|f| s(f, "to").as_deref() != Some(".")) {
            p.push(format!(
                "{at}.files must copy to the install root, where bin points"
            ));
        }
        if !froms.contains(&bin) {
            p.push(format!(
                "{at}.bin {bin:?} is not among the archive files {froms:?}"
            ));
        }
        if !froms.iter().any(|f| f.eq_ignore_ascii_case("LICENSE")) {
            p.push(format!("{at}.files has no LICENSE, which krew-index requires"));
        }
    }
    p
}

fn platform<'a>(m: &'a Value, os_arch: &str) -> Option<&'a Value> {
    let (os, arch) = os_arch.split_once('/')?;
    m["spec"]["platforms"]
        .as_array()?
        .iter()
        .find(|pl| pl["selector"]["matchLabels"]["os"] == os && pl["selector"]["matchLabels"]["arch"] == arch)
}

fn os_arches(m: &Value) -> Vec<String> {
    m["spec"]["platforms"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|pl| {
                    let l = &pl["selector"]["matchLabels"];
                    format!(
                        "{}/{}",
                        l["os"].as_str().unwrap_or("?"),
                        l["arch"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn manifest_checker_rejects_what_krew_rejects() {
    let good = parse_manifest(&read("plugin.yaml"), "plugin.yaml");
    type Edit = fn(&mut Value);
    // (case, edit of the committed manifest, expected problem)
    let cases: &[(&str, Edit, &str)] = &[
        (
            "wrong apiVersion",
            |m| m["apiVersion"] = "krew.googlecontainertools.github.com/v1alpha1".into(),
            "apiVersion",
        ),
        (
            "name differs from file name",
            |m| m["metadata"]["name"] = "helm-chart".into(),
            "metadata.name",
        ),
        (
            "version without v",
            |m| m["spec"]["version"] = "0.1.0".into(),
            "not v-prefixed semver",
        ),
        (
            "version not semver",
            |m| m["spec"]["version"] = "v0.1".into(),
            "not v-prefixed semver",
        ),
        (
            "no shortDescription",
            |m| m["spec"]["shortDescription"] = "".into(),
            "shortDescription is missing",
        ),
        (
            "two-line shortDescription",
            |m| m["spec"]["shortDescription"] = "Render\ncharts".into(),
            "line break",
        ),
        (
            "no platforms",
            |m| m["spec"]["platforms"] = Value::Array(vec![]),
            "platforms is empty",
        ),
        (
            "empty matchLabels",
            |m| m["spec"]["platforms"][0]["selector"]["matchLabels"] = serde_json::json!({}),
            "non-empty matchLabels",
        ),
        (
            "selector key other than os/arch",
            |m| m["spec"]["platforms"][0]["selector"]["matchLabels"]["libc"] = "musl".into(),
            "key \"libc\" is not supported",
        ),
        (
            "unsupported arch",
            |m| m["spec"]["platforms"][0]["selector"]["matchLabels"]["arch"] = "s390x".into(),
            "matches no platform",
        ),
        (
            "two selectors for one platform",
            |m| {
                let dup = m["spec"]["platforms"][0].clone();
                m["spec"]["platforms"]
                    .as_array_mut()
                    .expect("platforms")
                    .push(dup);
            },
            "an earlier platform matches too",
        ),
        (
            "uppercase sha256",
            |m| m["spec"]["platforms"][0]["sha256"] = "A".repeat(64).into(),
            "64 lowercase hex",
        ),
        (
            "no bin",
            |m| m["spec"]["platforms"][0]["bin"] = "".into(),
            "bin is missing",
        ),
        (
            "bin not in the archive",
            |m| m["spec"]["platforms"][0]["bin"] = "bin/kubectl-chart".into(),
            "not among the archive files",
        ),
        (
            "no LICENSE shipped",
            |m| {
                m["spec"]["platforms"][0]["files"]
                    .as_array_mut()
                    .expect("files")
                    .retain(|f| f["from"] != "LICENSE")
            },
            "no LICENSE",
        ),
        (
            "windows bin without .exe",
            |m| {
                m["spec"]["platforms"][0]["selector"]["matchLabels"] =
                    serde_json::json!({"os": "windows", "arch": "amd64"})
            },
            "only runs .exe",
        ),
    ];
    assert_eq!(
        manifest_problems(&good, "chart"),
        Vec::<String>::new(),
        "the committed plugin.yaml"
    );
    for (case, edit, want) in cases {
        let mut m = good.clone();
        edit(&mut m);
        let got = manifest_problems(&m, "chart");
        assert!(
            got.iter().any(|g| g.contains(want)),
            "{case}: want a problem containing {want:?}, got {got:?}"
        );
    }
}

#[test]
fn semver_versions_follow_krew() {
    // (case, version, valid): krew parses versions with a required leading "v" and strict semver.
    let cases = [
        ("release", "v0.1.0", true),
        ("prerelease and build", "v1.2.3-rc.1+build.5", true),
        ("no v", "1.2.3", false),
        ("two parts", "v1.2", false),
        ("leading zero", "v1.02.3", false),
        ("empty prerelease", "v1.2.3-", false),
    ];
    for (case, v, want) in cases {
        assert_eq!(is_krew_semver(v), want, "{case}: {v}");
    }
}

#[test]
fn plugin_yaml_is_a_valid_krew_manifest_for_this_version() {
    let text = read("plugin.yaml");
    let m = parse_manifest(&text, "plugin.yaml");
    assert_eq!(manifest_problems(&m, "chart"), Vec::<String>::new());
    assert_eq!(
        m["spec"]["version"],
        format!("v{}", env!("CARGO_PKG_VERSION")),
        "version must follow Cargo.toml"
    );
    // It is generated for what can be built here, and must say so rather than pass for the release
    // manifest.
    let header: String = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    for want in [
        "krew/build-archives.sh --host-only",
        "krew-release-bot",
        "krew/.krew.yaml",
    ] {
        assert!(
            header.contains(want),
            "plugin.yaml header must mention {want:?}:\n{header}"
        );
    }
    for os_arch in os_arches(&m) {
        assert!(
            RELEASE_PLATFORMS.contains(&os_arch.as_str()),
            "{os_arch} is not a release platform"
        );
        assert!(
            header.contains(&os_arch),
            "the header must list {os_arch}:\n{header}"
        );
    }
}

/// Renders `.krew.yaml` the way krew-release-bot does, except that `addURIAndSha` writes a dummy sha256
/// instead of downloading the archive. The bot's only functions are `addURIAndSha URL TAG` (URL is
/// itself a template over `.TagName`) and `indent`.
fn render_krew_release_bot(template: &str, tag: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut uris = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let action = &rest[start..];
        if let Some(args) = action.strip_prefix("{{addURIAndSha \"") {
            let end = args.find("\" .TagName }}").expect("addURIAndSha URL .TagName");
            let uri = args[..end].replace("{{ .TagName }}", tag);
            out.push_str(&format!(
                "uri: {uri}\n    sha256: {}",
                "0123456789abcdef".repeat(4)
            ));
            uris.push(uri);
            rest = &args[end + "\" .TagName }}".len()..];
        } else if let Some(after) = action.strip_prefix("{{ .TagName }}") {
            out.push_str(tag);
            rest = after;
        } else {
            panic!(
                "krew/.krew.yaml: template action the bot cannot run: {}",
                &action[..action.len().min(60)]
            );
        }
    }
    out.push_str(rest);
    (out, uris)
}

#[test]
fn krew_release_bot_template_covers_every_platform_and_agrees_with_plugin_yaml() {
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    let (rendered, uris) = render_krew_release_bot(&read("krew/.krew.yaml"), &tag);
    let bot = parse_manifest(&rendered, "krew/.krew.yaml (rendered)");
    assert_eq!(manifest_problems(&bot, "chart"), Vec::<String>::new());
    assert_eq!(os_arches(&bot), RELEASE_PLATFORMS, "release platforms");
    assert_eq!(
        uris.len(),
        RELEASE_PLATFORMS.len(),
        "one addURIAndSha per platform"
    );

    let committed = parse_manifest(&read("plugin.yaml"), "plugin.yaml");
    for field in [
        "version",
        "homepage",
        "shortDescription",
        "description",
        "caveats",
    ] {
        assert_eq!(
            bot["spec"][field], committed["spec"][field],
            "spec.{field} of .krew.yaml vs plugin.yaml"
        );
    }
    for os_arch in os_arches(&committed) {
        let (b, c) = (platform(&bot, &os_arch), platform(&committed, &os_arch));
        let (b, c) = (b.expect("bot platform"), c.expect("committed platform"));
        for field in ["uri", "bin", "files"] {
            assert_eq!(
                b[field], c[field],
                "{os_arch} {field}: the script and the bot must name the same archive"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn build_script_packages_the_host_binary_with_a_matching_sha256() {
    let tmp = TempDir::new("archive");
    let out_dir = tmp.0.join("out");
    let manifest_path = tmp.0.join("plugin.yaml");
    let o = Command::new("bash")
        .arg(root().join("krew/build-archives.sh"))
        .args(["--host-only", "--out"])
        .arg(&out_dir)
        .arg("--manifest")
        .arg(&manifest_path)
        .env("KC_PREBUILT_BIN", BIN)
        // The level changes the bytes, not the layout; 9 would spend seconds on a debug binary.
        .env("KC_GZIP_LEVEL", "1")
        .output()
        .expect("run krew/build-archives.sh (needs bash and python3)");
    assert_ok("krew/build-archives.sh --host-only", &o);
    let text = fs::read_to_string(&manifest_path).expect("the script writes the manifest");
    let m = parse_manifest(&text, "generated plugin.yaml");
    assert_eq!(manifest_problems(&m, "chart"), Vec::<String>::new());
    assert_eq!(
        os_arches(&m),
        ["linux/amd64"],
        "--host-only on {}",
        std::env::consts::ARCH
    );
    let pl = platform(&m, "linux/amd64").expect("linux/amd64");

    let uri = pl["uri"].as_str().expect("uri");
    let archive_name = uri.rsplit('/').next().expect("archive name");
    assert_eq!(
        archive_name,
        format!("kubectl-chart_v{}_linux_amd64.tar.gz", env!("CARGO_PKG_VERSION"))
    );
    let archive = fs::read(out_dir.join(archive_name)).expect("the archive the manifest names");
    let sha: String = Sha256::digest(&archive)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(pl["sha256"], sha, "manifest sha256 vs the archive's");

    // Layout: exactly bin and LICENSE at the root, bin executable, both byte-equal to their sources.
    let mut entries = Vec::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive.as_slice()));
    for e in tar.entries().expect("tar entries") {
        let mut e = e.expect("tar entry");
        let path = e.path().expect("entry path").to_string_lossy().into_owned();
        let mode = e.header().mode().expect("entry mode");
        let mut data = Vec::new();
        e.read_to_end(&mut data).expect("entry data");
        entries.push((path, mode, data));
    }
    let names: Vec<&str> = entries.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(names, ["kubectl-chart", "LICENSE"], "archive layout");
    assert_eq!(pl["bin"], "kubectl-chart");
    let (_, bin_mode, bin_data) = &entries[0];
    assert_eq!(
        bin_mode & 0o111,
        0o111,
        "kubectl-chart must be executable, mode {bin_mode:o}"
    );
    assert!(
        *bin_data == fs::read(BIN).expect("read test binary"),
        "archived binary differs from KC_PREBUILT_BIN"
    );
    assert!(
        entries[1].2 == fs::read(root().join("LICENSE")).expect("LICENSE"),
        "archived LICENSE differs"
    );

    // The committed plugin.yaml is this script's output (for a release build): same document apart
    // from the header comment and the sha256 of a different binary.
    let strip = |t: &str| -> String {
        t.lines()
            .filter(|l| !l.starts_with('#') && !l.trim_start().starts_with("sha256:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&read("plugin.yaml")),
        strip(&text),
        "plugin.yaml is stale: regenerate it with `krew/build-archives.sh --host-only --manifest plugin.yaml`"
    );
}

#[cfg(unix)]
#[test]
fn build_script_refuses_to_skip_platforms_silently() {
    // (case, args, env KC_PREBUILT_BIN, expected stderr)
    let cases: &[(&str, &[&str], bool, &str)] = &[
        (
            "prebuilt binary for every platform",
            &[],
            true,
            "needs --host-only",
        ),
        (
            "unknown platform",
            &["--platform", "linux/s390x"],
            false,
            "unknown platform linux/s390x",
        ),
        (
            "both selections",
            &["--host-only", "--platform", "linux/amd64"],
            false,
            "exclude each other",
        ),
    ];
    for (case, args, prebuilt, want) in cases {
        let mut cmd = Command::new("bash");
        cmd.arg(root().join("krew/build-archives.sh"))
            .args(*args)
            .env_remove("KC_PREBUILT_BIN");
        if *prebuilt {
            cmd.env("KC_PREBUILT_BIN", BIN);
        }
        let o = cmd.output().expect("run krew/build-archives.sh");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(want),
            "{case}: want failure with {want:?}, got {}: {err}",
            o.status
        );
    }
}

/// The release workflow's last job: five downloaded archives in, the manifest for every platform out.
/// The archives are dummies (their bytes are never unpacked); what counts is that each platform's
/// `sha256` is that of its own file and that a missing or altered archive stops the manifest.
#[cfg(unix)]
#[test]
fn build_script_writes_the_release_manifest_from_downloaded_archives() {
    let version = env!("CARGO_PKG_VERSION");
    let file_of = |os_arch: &str| {
        let ext = if os_arch.starts_with("windows") {
            "zip"
        } else {
            "tar.gz"
        };
        format!("kubectl-chart_v{version}_{}.{ext}", os_arch.replace('/', "_"))
    };
    let sha_hex =
        |data: &[u8]| -> String { Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect() };
    // (case, platform left out, platform whose .sha256 disagrees, expected stderr; empty = success)
    let cases: &[(&str, Option<&str>, Option<&str>, &str)] = &[
        ("all five", None, None, ""),
        (
            "one missing",
            Some("darwin/arm64"),
            None,
            "darwin_arm64.tar.gz for darwin/arm64 is missing",
        ),
        (
            "altered after its .sha256",
            None,
            Some("windows/amd64"),
            "windows_amd64.zip.sha256 says",
        ),
    ];
    for (case, missing, altered, want_err) in cases {
        let tmp = TempDir::new("from-archives");
        let dist = tmp.0.join("dist");
        fs::create_dir_all(&dist).expect("dist");
        let mut shas = Vec::new();
        for os_arch in RELEASE_PLATFORMS {
            if Some(*os_arch) == *missing {
                continue;
            }
            let name = file_of(os_arch);
            let data = format!("dummy archive for {os_arch}");
            let published = sha_hex(data.as_bytes());
            let on_disk = if Some(*os_arch) == *altered {
                format!("{data}, altered")
            } else {
                data
            };
            fs::write(dist.join(&name), &on_disk).expect("write archive");
            fs::write(
                dist.join(format!("{name}.sha256")),
                format!("{published}  {name}\n"),
            )
            .expect("write .sha256");
            shas.push((*os_arch, published));
        }
        let manifest_path = tmp.0.join("plugin.yaml");
        let o = Command::new("bash")
            .arg(root().join("krew/build-archives.sh"))
            .args(["--from-archives", "--out"])
            .arg(&dist)
            .arg("--manifest")
            .arg(&manifest_path)
            .env_remove("KC_PREBUILT_BIN")
            .output()
            .expect("run krew/build-archives.sh");
        if !want_err.is_empty() {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                !o.status.success() && err.contains(want_err),
                "{case}: want failure with {want_err:?}, got {}: {err}",
                o.status
            );
            assert!(!manifest_path.exists(), "{case}: a manifest was written anyway");
            continue;
        }
        assert_ok(&format!("{case}: krew/build-archives.sh --from-archives"), &o);
        let text = fs::read_to_string(&manifest_path).expect("the script writes the manifest");
        let m = parse_manifest(&text, "release plugin.yaml");
        assert_eq!(manifest_problems(&m, "chart"), Vec::<String>::new(), "{case}");
        assert_eq!(os_arches(&m), RELEASE_PLATFORMS, "{case}: platforms");
        for (os_arch, sha) in &shas {
            let pl = platform(&m, os_arch).expect("platform");
            assert_eq!(pl["sha256"], *sha, "{case}: {os_arch} sha256");
            let uri = pl["uri"].as_str().expect("uri");
            assert!(
                uri.ends_with(&format!("/v{version}/{}", file_of(os_arch))),
                "{case}: {os_arch} uri {uri}"
            );
        }
        // It is the release manifest: the text and archive names krew-release-bot would write too.
        let (rendered, _) = render_krew_release_bot(&read("krew/.krew.yaml"), &format!("v{version}"));
        let bot = parse_manifest(&rendered, "krew/.krew.yaml (rendered)");
        for field in [
            "version",
            "homepage",
            "shortDescription",
            "description",
            "caveats",
        ] {
            assert_eq!(bot["spec"][field], m["spec"][field], "{case}: spec.{field}");
        }
        for os_arch in RELEASE_PLATFORMS {
            let (b, g) = (
                platform(&bot, os_arch).expect("bot"),
                platform(&m, os_arch).expect("generated"),
            );
            for field in ["uri", "bin", "files"] {
                assert_eq!(b[field], g[field], "{case}: {os_arch} {field}");
            }
        }
        assert!(
            text.starts_with("# Generated by krew/build-archives.sh"),
            "{case}: header:\n{text}"
        );
        assert!(text.contains("every krew platform"), "{case}: header:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------------
// kubectl's plugin mechanism, for real.

/// The `kubectl` on `PATH`, or None (after saying why) when the test should be skipped.
fn kubectl() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    });
    match found {
        Some(k) => Some(k),
        None if std::env::var("KC_REQUIRE_KUBECTL").as_deref() == Ok("1") => {
            panic!("no kubectl on PATH, and KC_REQUIRE_KUBECTL=1 forbids skipping")
        }
        None => {
            eprintln!("skipped: no kubectl on PATH (set KC_REQUIRE_KUBECTL=1 to make this a failure)");
            None
        }
    }
}

/// A directory holding only `kubectl-chart` (a link to the test binary), put first on `PATH`.
#[cfg(unix)]
struct PluginPath {
    dir: TempDir,
    path: std::ffi::OsString,
}

#[cfg(unix)]
impl PluginPath {
    fn new(tag: &str) -> PluginPath {
        let dir = TempDir::new(tag);
        std::os::unix::fs::symlink(BIN, dir.0.join("kubectl-chart")).expect("link kubectl-chart");
        let mut dirs = vec![dir.0.clone()];
        dirs.extend(
            std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .unwrap_or_default(),
        );
        let path = std::env::join_paths(dirs).expect("PATH");
        PluginPath { dir, path }
    }

    fn kubectl(&self, kubectl: &Path, args: &[&str]) -> Output {
        Command::new(kubectl)
            .args(args)
            .env("PATH", &self.path)
            // No cluster is needed; keep kubectl away from the user's config all the same.
            .env("KUBECONFIG", self.dir.0.join("no-kubeconfig"))
            .current_dir(root())
            .output()
            .expect("run kubectl")
    }
}

fn direct(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(root())
        .output()
        .expect("run kubectl-chart")
}

#[cfg(unix)]
#[test]
fn kubectl_runs_the_plugin_from_path() {
    let Some(kubectl) = kubectl() else { return };
    let plugin = PluginPath::new("kubectl");
    // (case, args after `kubectl`/`kubectl-chart`): kubectl must hand them over verbatim, flags included.
    let cases: &[(&str, &[&str])] = &[
        ("version", &["chart", "version"]),
        (
            "template of the demo chart",
            &["chart", "template", "demo", "fixtures/charts/demo"],
        ),
        (
            "flags after the plugin name",
            &["chart", "template", "demo", "fixtures/charts/demo", "-n", "web"],
        ),
    ];
    for (case, args) in cases {
        let via = plugin.kubectl(&kubectl, args);
        assert_ok(&format!("{case}: kubectl {}", args.join(" ")), &via);
        let want = direct(&args[1..]);
        assert_ok(&format!("{case}: kubectl-chart {}", args[1..].join(" ")), &want);
        assert!(!via.stdout.is_empty(), "{case}: empty output");
        assert_eq!(stdout(&via), stdout(&want), "{case}: through kubectl vs direct");
    }
    // And the result is the real render: helm's own output for the demo chart in namespace web.
    let via = plugin.kubectl(
        &kubectl,
        &["chart", "template", "demo", "fixtures/charts/demo", "-n", "web"],
    );
    assert_eq!(
        stdout(&via),
        read("fixtures/golden/template/demo.yaml").replace("\r\n", "\n"),
        "vs helm golden"
    );
}

#[cfg(unix)]
#[test]
fn kubectl_rejects_flags_before_the_plugin_name() {
    // Documented in the krew caveats: kubectl itself refuses `kubectl -n NS chart`, so users must put
    // flags after `chart`.
    let Some(kubectl) = kubectl() else { return };
    let plugin = PluginPath::new("flags");
    let o = plugin.kubectl(&kubectl, &["-n", "web", "chart", "version"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "kubectl -n web chart version succeeded: {}",
        stdout(&o)
    );
    assert!(
        err.contains("flags cannot be placed before plugin name"),
        "stderr: {err}"
    );
}

#[cfg(unix)]
#[test]
fn kubectl_plugin_list_shows_it() {
    let Some(kubectl) = kubectl() else { return };
    let plugin = PluginPath::new("list");
    // Exit status is not checked: kubectl exits 1 when *other* plugins on the user's PATH have warnings.
    let o = plugin.kubectl(&kubectl, &["plugin", "list"]);
    let want = plugin.dir.0.join("kubectl-chart");
    assert!(
        stdout(&o).lines().any(|l| Path::new(l.trim()) == want),
        "kubectl plugin list does not list {}:\n{}\n{}",
        want.display(),
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
}

// ---------------------------------------------------------------------------------------------------
// Completion and help.

#[test]
fn completion_prints_a_script_for_each_shell() {
    // (shell, a line only that shell's script has)
    let cases = [
        ("bash", "complete -F"),
        ("zsh", "#compdef kubectl-chart"),
        ("fish", "complete -c kubectl-chart"),
        ("powershell", "Register-ArgumentCompleter"),
    ];
    for (shell, marker) in cases {
        let o = direct(&["completion", shell]);
        assert_ok(&format!("completion {shell}"), &o);
        let script = stdout(&o);
        assert!(
            script.contains("template"),
            "{shell}: script does not mention template"
        );
        assert!(script.contains(marker), "{shell}: script lacks {marker:?}");
    }
}

#[test]
fn template_help_has_examples() {
    let o = direct(&["template", "--help"]);
    assert_ok("template --help", &o);
    let help = stdout(&o);
    assert!(help.contains("Examples:"), "template --help:\n{help}");
    assert!(
        help.contains("kubectl chart template"),
        "examples should use the plugin form:\n{help}"
    );
}

/// `diff` needs exactly one of CHART and `--revision`; a wrong call is a usage error from the
/// command line itself, before any cluster is looked for (the kubeconfig here does not exist).
#[test]
fn diff_usage_errors_come_before_any_cluster_access() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("neither", &["diff", "web"], "<CHART>"),
        (
            "both",
            &["diff", "web", "fixtures/charts/demo", "--revision", "2"],
            "--revision",
        ),
    ];
    for (name, args, mentions) in cases {
        let mut all = args.to_vec();
        all.extend(["--kubeconfig", "/nonexistent/kubeconfig"]);
        let o = direct(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(mentions), "{name}: {err}");
        assert!(
            !err.contains("/nonexistent"),
            "{name}: looked for a cluster: {err}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// Flag parity with Helm.

/// The long flags a `--help` text lists (lines that start with `-x, --name` or `--name`), from
/// helm's cobra help and clap's alike.
fn help_flags(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = match l.as_bytes() {
                [b'-', c, b',', b' ', ..] if c.is_ascii_alphanumeric() => &l[4..],
                _ => l,
            };
            let name: String = l
                .strip_prefix("--")?
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!name.is_empty()).then(|| format!("--{name}"))
        })
        .collect()
}

/// The README's table of refused flags: (verb, flag) pairs, `*` for every verb.
fn readme_refused() -> BTreeSet<(String, String)> {
    let readme = read("README.md");
    let start = readme
        .find("<!-- refused-flags:start -->")
        .expect("README has the refused-flags table");
    let end = readme[start..]
        .find("<!-- refused-flags:end -->")
        .map(|e| start + e)
        .expect("table end marker");
    let mut out = BTreeSet::new();
    for row in readme[start..end].lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let flag = cells[1].trim_matches('`').to_string();
        for verb in cells[2].split(',') {
            out.insert((verb.trim().trim_matches('`').to_string(), flag.clone()));
        }
    }
    out
}

/// The verbs compared, as helm spells them and as we do (`get` walks its subcommands).
const PARITY_VERBS: &[&[&str]] = &[
    &["template"],
    &["install"],
    &["upgrade"],
    &["rollback"],
    &["uninstall"],
    &["status"],
    &["history"],
    &["list"],
    &["get", "all"],
    &["get", "hooks"],
    &["get", "manifest"],
    &["get", "notes"],
    &["get", "values"],
    &["test"],
];

/// Every flag `helm VERB --help` lists (its own and the global ones), in Helm 3.17 and Helm 4, is
/// either one of ours (in our `VERB --help`) or in the README's table of refused flags: a flag
/// Helm adds, or one we drop, fails here instead of surprising a user of a copied command line.
#[test]
fn every_helm_flag_is_accepted_or_documented_as_refused() {
    let refused = readme_refused();
    let mut compared = 0;
    for major in [3u8, 4] {
        let Some(helm) = support_helm::find(major) else {
            continue;
        };
        for verb in PARITY_VERBS {
            let theirs = Command::new(&helm)
                .args(*verb)
                .arg("--help")
                .output()
                .expect("run helm");
            assert_ok(&format!("helm{major} {} --help", verb.join(" ")), &theirs);
            let ours = direct(&[verb, &["--help"][..]].concat());
            assert_ok(&format!("{} --help", verb.join(" ")), &ours);
            let ours = help_flags(&stdout(&ours));
            let missing: Vec<String> = help_flags(&stdout(&theirs))
                .into_iter()
                .filter(|f| f != "--help" && !ours.contains(f))
                .filter(|f| {
                    !refused.contains(&(verb[0].to_string(), f.clone()))
                        && !refused.contains(&("*".to_string(), f.clone()))
                })
                .collect();
            assert!(
                missing.is_empty(),
                "helm{major} {}: flags neither accepted nor in the README's refused table: {missing:?}",
                verb.join(" ")
            );
            compared += 1;
        }
    }
    eprintln!("compared {compared} verbs' flags with helm");
}

/// Each row of the README's refused table is refused by the command line with its reason (not
/// clap's bare "unexpected argument"), before any cluster or chart is looked at.
#[test]
fn refused_helm_flags_say_why() {
    let refused = readme_refused();
    assert!(refused.len() > 20, "table parsed: {refused:?}");
    for (verb, flag) in &refused {
        let verb = if verb == "*" { "status" } else { verb.as_str() };
        // `get` needs a subcommand before its flags.
        let words: &[&str] = if verb == "get" { &["get", "all"] } else { &[verb] };
        let o = direct(&[words, &[flag.as_str(), "--kubeconfig", "/nonexistent/kubeconfig"]].concat());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{verb} {flag}: {err}");
        assert!(
            err.contains(&format!(
                "{flag} (a Helm flag) is not supported by `kubectl chart {verb}`: "
            )),
            "{verb} {flag}: {err}"
        );
    }
}
