//! Chart repositories end to end: a folder served on loopback (`support::chartrepo`), indexes made
//! by our `repo index` and by `helm repo index`, the real binary, and helm 3 as the oracle on the
//! same `HELM_*` homes: `repo list` both ways, `template` of `repo/name` byte for byte, the version
//! a constraint picks, and each bad input (invalid entries, truncated download, digest mismatch,
//! unknown chart or version, a 50 MB index) answered clearly with nothing left behind.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::Output,
    time::Instant,
};

use sha2::{Digest as _, Sha256};

use crate::support::chartrepo::ChartRepo;

use crate::support::helm::{find as helm, ok, walk};

/// helm 3 (the version we match).
fn helm3() -> Option<PathBuf> {
    helm(3)
}

/// A test's own Helm homes ([`crate::support::helm::Homes`]) plus the folder the repository
/// serves.
struct Homes(crate::support::helm::Homes);

impl std::ops::Deref for Homes {
    type Target = crate::support::helm::Homes;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Homes {
    fn new(name: &str) -> Homes {
        let h = crate::support::helm::Homes::new("repo", name);
        std::fs::create_dir_all(h.dir.join("served")).unwrap();
        Homes(h)
    }

    fn served(&self) -> PathBuf {
        self.dir.join("served")
    }

    /// Our `repo index` of the served folder (`--url url` when given), which must succeed.
    fn index_served(&self, url: Option<&str>) {
        let served = self.served();
        let mut args = vec!["repo", "index", served.to_str().unwrap()];
        args.extend(url.into_iter().flat_map(|u| ["--url", u]));
        ok(&self.kc(&args), "repo index");
    }

    /// Files in the content cache (downloaded archives).
    fn content_files(&self) -> Vec<PathBuf> {
        walk(&self.cache().join("kubectl-chart"))
    }
}

/// The standard error of a run that must have failed the way a user's bad input fails: exit 1.
fn failed(out: &Output, what: &str) -> String {
    assert_eq!(out.status.code(), Some(1), "{what}: exit code");
    crate::support::helm::failed(out, what)
}

/// A packaged chart as `helm package` lays it out: `name/Chart.yaml`, `name/values.yaml` and a
/// template printing the chart's version, so the output shows which version was picked.
fn chart_tgz(name: &str, version: &str) -> Vec<u8> {
    let files = [
        (
            "Chart.yaml",
            format!("apiVersion: v2\nname: {name}\nversion: {version}\ndescription: the {name} chart\nkeywords: [test]\n"),
        ),
        ("values.yaml", "greeting: hello\n".to_string()),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  chart: {{ .Chart.Name }}-{{ .Chart.Version }}\n  greeting: {{ .Values.greeting }}\n".to_string(),
        ),
    ];
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (path, body) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, format!("{name}/{path}"), body.as_bytes())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

fn write_charts(dir: &Path, charts: &[(&str, &str)]) {
    for (name, version) in charts {
        std::fs::write(
            dir.join(format!("{name}-{version}.tgz")),
            chart_tgz(name, version),
        )
        .unwrap();
    }
}

fn sha256(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// An index.yaml with lines that change on every run (`created`, `generated`) removed.
fn stable(index: &str) -> String {
    index
        .lines()
        .filter(|l| !l.trim_start().starts_with("created:") && !l.starts_with("generated:"))
        .collect::<Vec<_>>()
        .join("\n")
}

const VERSIONS: &[(&str, &str)] = &[
    ("app", "0.9.0"),
    ("app", "1.0.0-rc.1"),
    ("app", "1.0.0"),
    ("app", "1.1.0"),
    ("app", "1.2.0"),
    ("app", "1.2.3"),
    ("app", "1.2.10+build.7"),
    ("app", "1.10.0"),
    ("app", "2.0.0-beta.1"),
];

#[test]
fn repo_index_writes_what_helm_writes() {
    let h = Homes::new("index");
    write_charts(&h.served(), VERSIONS);
    std::fs::create_dir_all(h.served().join("sub")).unwrap();
    write_charts(&h.served().join("sub"), &[("other", "0.1.0")]);
    // Not a chart: skipped by both.
    std::fs::write(h.served().join("junk.tgz"), b"not gzip").unwrap();
    h.index_served(Some("https://charts.test/x/"));
    let ours = std::fs::read_to_string(h.served().join("index.yaml")).unwrap();
    assert!(
        ours.contains("- https://charts.test/x/sub/other-0.1.0.tgz"),
        "{ours}"
    );
    let Some(helm) = helm3() else { return };
    let theirs_dir = h.dir.join("theirs");
    std::fs::create_dir_all(theirs_dir.join("sub")).unwrap();
    for f in ["sub/other-0.1.0.tgz", "junk.tgz"]
        .iter()
        .map(|s| s.to_string())
        .chain(VERSIONS.iter().map(|(n, v)| format!("{n}-{v}.tgz")))
    {
        std::fs::copy(h.served().join(&f), theirs_dir.join(&f)).unwrap();
    }
    ok(
        &h.helm(
            &helm,
            &[
                "repo",
                "index",
                theirs_dir.to_str().unwrap(),
                "--url",
                "https://charts.test/x/",
            ],
        ),
        "helm repo index",
    );
    let theirs = std::fs::read_to_string(theirs_dir.join("index.yaml")).unwrap();
    assert_eq!(stable(&ours), stable(&theirs));
    // helm's index, served (URLs relative this time): both tools template the same bytes from it.
    ok(
        &h.helm(&helm, &["repo", "index", theirs_dir.to_str().unwrap()]),
        "helm repo index",
    );
    let server = ChartRepo::serve(&theirs_dir);
    ok(&h.kc(&["repo", "add", "helmidx", &server.url]), "repo add");
    for args in [
        &["template", "x", "helmidx/other"][..],
        &["template", "x", "helmidx/app", "--version", "~1.2"],
    ] {
        assert_eq!(
            ok(&h.kc(args), "template"),
            ok(&h.helm(&helm, args), "helm template"),
            "{args:?}"
        );
    }
    // --merge keeps versions only the other index has.
    let extra = h.dir.join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    write_charts(&extra, &[("app", "3.0.0")]);
    let merged_from = theirs_dir.join("index.yaml");
    ok(
        &h.kc(&[
            "repo",
            "index",
            extra.to_str().unwrap(),
            "--merge",
            merged_from.to_str().unwrap(),
        ]),
        "repo index --merge",
    );
    ok(
        &h.helm(
            &helm,
            &[
                "repo",
                "index",
                theirs_dir.to_str().unwrap(),
                "--merge",
                merged_from.to_str().unwrap(),
            ],
        ),
        "helm --merge",
    );
    let ours = std::fs::read_to_string(extra.join("index.yaml")).unwrap();
    assert!(
        ours.contains("version: 3.0.0") && ours.contains("version: 1.2.3"),
        "{ours}"
    );
}

#[test]
fn repositories_added_by_either_tool_are_seen_by_the_other() {
    let h = Homes::new("interop");
    write_charts(&h.served(), &VERSIONS[..3]);
    h.index_served(None);
    let server = ChartRepo::serve(&h.served());
    let out = ok(&h.kc(&["repo", "add", "ours", &server.url]), "repo add");
    assert_eq!(out, "\"ours\" has been added to your repositories\n");
    // The same add again is a no-op; a different URL under the same name is refused.
    let out = ok(&h.kc(&["repo", "add", "ours", &server.url]), "repo add again");
    assert_eq!(
        out,
        "\"ours\" already exists with the same configuration, skipping\n"
    );
    let err = failed(
        &h.kc(&["repo", "add", "ours", &format!("{}/other", server.url)]),
        "repo add clash",
    );
    assert!(err.contains("repository name (ours) already exists"), "{err}");
    let cache = h.cache().join("repository");
    assert!(cache.join("ours-index.yaml").is_file() && cache.join("ours-charts.txt").is_file());
    let Some(helm) = helm3() else { return };
    ok(
        &h.helm(&helm, &["repo", "add", "theirs", &server.url]),
        "helm repo add",
    );
    for format in ["json", "yaml", "table"] {
        let ours = ok(&h.kc(&["repo", "list", "-o", format]), "repo list");
        let theirs = ok(&h.helm(&helm, &["repo", "list", "-o", format]), "helm repo list");
        assert_eq!(ours, theirs, "repo list -o {format}");
    }
    for args in [
        &["search", "repo", "app"][..],
        &["search", "repo", "app", "--versions", "-o", "json"],
        &["search", "repo", "--devel"],
    ] {
        assert_eq!(
            ok(&h.kc(args), "search"),
            ok(&h.helm(&helm, args), "helm search"),
            "{args:?}"
        );
    }
    ok(&h.kc(&["repo", "update"]), "repo update");
    let out = ok(&h.kc(&["repo", "remove", "theirs"]), "repo remove");
    assert_eq!(out, "\"theirs\" has been removed from your repositories\n");
    assert!(!cache.join("theirs-index.yaml").exists());
    let theirs = ok(&h.helm(&helm, &["repo", "list", "-o", "json"]), "helm repo list");
    assert_eq!(
        theirs,
        format!("[{{\"name\":\"ours\",\"url\":\"{}\"}}]\n", server.url)
    );
    // helm 4 reads and writes the same file.
    if let Some(helm4) = self::helm(4) {
        ok(
            &h.helm(&helm4, &["repo", "add", "four", &server.url]),
            "helm 4 repo add",
        );
        let ours = ok(&h.kc(&["repo", "list", "-o", "yaml"]), "repo list");
        assert_eq!(
            ours,
            ok(
                &h.helm(&helm4, &["repo", "list", "-o", "yaml"]),
                "helm 4 repo list"
            )
        );
        assert!(ours.contains("name: four"), "{ours}");
        let args = ["template", "x", "four/app"];
        assert_eq!(
            ok(&h.kc(&args), "template"),
            ok(&h.helm(&helm4, &args), "helm 4 template")
        );
    }
}

#[test]
fn template_picks_the_version_helm_picks() {
    let h = Homes::new("resolve");
    write_charts(&h.served(), VERSIONS);
    h.index_served(None);
    let server = ChartRepo::serve(&h.served());
    ok(&h.kc(&["repo", "add", "r", &server.url]), "repo add");
    // (--version, --devel, the version we expect; helm must agree when it is available)
    let cases: &[(&str, bool, &str)] = &[
        ("", false, "1.10.0"),
        ("", true, "2.0.0-beta.1"),
        ("1.2.3", false, "1.2.3"),
        ("1.2", false, "1.2.10+build.7"),
        ("^1.1", false, "1.10.0"),
        ("~1.2.0", false, "1.2.10+build.7"),
        (">=1.0.0 <1.2.0", false, "1.1.0"),
        ("1.0.0-rc.1", false, "1.0.0-rc.1"),
        ("1.2.10+build.7", false, "1.2.10+build.7"),
        ("<1", false, "0.9.0"),
        // Each comparison without a prerelease refuses prereleases (Masterminds), so nothing
        // fits: both tools fail with the same message.
        (">=1.0.0-0 <1.0.0", false, ""),
        ("9", false, ""),
    ];
    let helm = helm3();
    for (version, devel, want) in cases {
        let mut args = vec!["template", "x", "r/app"];
        if !version.is_empty() {
            args.extend(["--version", version]);
        }
        if *devel {
            args.push("--devel");
        }
        if want.is_empty() {
            let ours = failed(&h.kc(&args), &format!("{args:?}"));
            assert!(
                ours.contains("no chart version found for app-"),
                "{args:?}: {ours}"
            );
            if let Some(helm) = &helm {
                let theirs = String::from_utf8_lossy(&h.helm(helm, &args).stderr)
                    .replace("'helm repo update'", "'kubectl chart repo update'");
                assert_eq!(ours, theirs, "{args:?}");
            }
            continue;
        }
        let ours = ok(&h.kc(&args), &format!("{args:?}"));
        assert!(
            ours.contains(&format!("chart: app-{want}\n")),
            "{args:?} picked:\n{ours}"
        );
        if let Some(helm) = &helm {
            assert_eq!(ours, ok(&h.helm(helm, &args), "helm template"), "{args:?}");
        }
        // The same through --repo, with no repository added.
        let mut args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "r/app" { "app" } else { a })
            .collect();
        args.extend(["--repo", &server.url]);
        assert_eq!(ok(&h.kc(&args), &format!("{args:?}")), ours, "{args:?}");
    }
}

#[test]
fn a_warm_cache_reads_no_network() {
    let h = Homes::new("warm");
    write_charts(&h.served(), &[("app", "1.0.0")]);
    h.index_served(None);
    let server = ChartRepo::serve(&h.served());
    ok(&h.kc(&["repo", "add", "r", &server.url]), "repo add");
    let first = ok(&h.kc(&["template", "x", "r/app"]), "template");
    assert_eq!(server.hits("/app-1.0.0.tgz"), 1);
    let before = server.total_hits();
    assert_eq!(ok(&h.kc(&["template", "x", "r/app"]), "template again"), first);
    assert_eq!(server.total_hits(), before, "the second template made requests");
}

#[test]
fn bad_downloads_fail_clearly_and_leave_nothing() {
    let h = Homes::new("bad");
    write_charts(
        &h.served(),
        &[("app", "1.0.0"), ("cut", "1.0.0"), ("lied", "1.0.0")],
    );
    h.index_served(None);
    // `lied`'s digest in the index no longer matches its archive.
    let index = std::fs::read_to_string(h.served().join("index.yaml")).unwrap();
    let real = sha256(&std::fs::read(h.served().join("lied-1.0.0.tgz")).unwrap());
    let fake = "ab".repeat(32);
    std::fs::write(h.served().join("index.yaml"), index.replace(&real, &fake)).unwrap();
    let server = ChartRepo::serve(&h.served());
    ok(&h.kc(&["repo", "add", "r", &server.url]), "repo add");

    let err = failed(&h.kc(&["template", "x", "r/lied"]), "digest mismatch");
    assert!(
        err.contains(&format!("sha256:{fake}")) && err.contains(&format!("sha256:{real}")),
        "{err}"
    );
    assert_eq!(
        h.content_files(),
        Vec::<PathBuf>::new(),
        "a mismatched archive was kept"
    );

    server.truncate("/cut-1.0.0.tgz");
    let err = failed(&h.kc(&["template", "x", "r/cut"]), "truncated download");
    assert!(err.contains("/cut-1.0.0.tgz"), "{err}");
    assert_eq!(
        h.content_files(),
        Vec::<PathBuf>::new(),
        "a truncated archive was kept"
    );

    // (args, Helm's message)
    let cases: &[(&[&str], &str)] = &[
        (&["template", "x", "r/nope"], "Error: chart \"nope\" matching  not found in r index. (try 'kubectl chart repo update'): no chart name found"),
        (&["template", "x", "r/app", "--version", "9.9.9"], "Error: chart \"app\" matching 9.9.9 not found in r index. (try 'kubectl chart repo update'): no chart version found for app-9.9.9"),
        (&["template", "x", "nope/app"], "Error: repo nope not found"),
    ];
    for (args, want) in cases {
        assert_eq!(
            failed(&h.kc(args), &format!("{args:?}")).trim_end(),
            *want,
            "{args:?}"
        );
    }

    // An update that gets half an index keeps the cached one.
    let cached = std::fs::read(h.cache().join("repository/r-index.yaml")).unwrap();
    server.truncate("/index.yaml");
    let out = ok(&h.kc(&["repo", "update"]), "repo update");
    assert!(
        out.contains("...Unable to get an update from the \"r\" chart repository"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(h.cache().join("repository/r-index.yaml")).unwrap(),
        cached
    );
    let err = failed(
        &h.kc(&["repo", "update", "--fail-on-repo-update-fail"]),
        "update, failing",
    );
    assert!(
        err.contains("Failed to update the following repositories"),
        "{err}"
    );

    // A repository that is not one changes nothing.
    let config = h.dir.join("config/repositories.yaml");
    let before = std::fs::read(&config).unwrap();
    let err = failed(
        &h.kc(&["repo", "add", "gone", &format!("{}/missing", server.url)]),
        "repo add 404",
    );
    assert!(err.contains("looks like") && err.contains("404"), "{err}");
    assert_eq!(std::fs::read(&config).unwrap(), before);
    assert!(!h.cache().join("repository/gone-index.yaml").exists());
}

#[test]
fn invalid_index_entries_are_skipped_with_helms_warning() {
    let h = Homes::new("invalid");
    write_charts(&h.served(), &[("app", "1.0.0"), ("app", "2.0.0")]);
    h.index_served(None);
    // The newest entry loses its name: Helm drops it on load, so 1.0.0 is the newest valid one.
    let index = std::fs::read_to_string(h.served().join("index.yaml")).unwrap();
    let broken = index.replacen("    name: app\n", "    name: \"\"\n", 1);
    assert_ne!(broken, index);
    std::fs::write(h.served().join("index.yaml"), &broken).unwrap();
    let server = ChartRepo::serve(&h.served());
    let out = h.kc(&["repo", "add", "r", &server.url]);
    ok(&out, "repo add");
    let out = h.kc(&["template", "x", "r/app"]);
    let text = ok(&out, "template");
    assert!(text.contains("chart: app-1.0.0"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("skipping loading invalid entry for chart \"app\" \"2.0.0\""),
        "{err}"
    );
    if let Some(helm) = helm3() {
        ok(&h.helm(&helm, &["repo", "update"]), "helm repo update");
        assert_eq!(
            text,
            ok(&h.helm(&helm, &["template", "x", "r/app"]), "helm template")
        );
    }
}

/// About 50 MB of index: many charts with many versions, the target chart in the middle. Helm
/// parses all of it for every `template`; we scan for one block. Times are printed, not asserted.
#[test]
fn a_50_mb_index_is_read_only_as_far_as_needed() {
    let h = Homes::new("big");
    write_charts(&h.served(), &[("needle", "1.0.0")]);
    h.index_served(Some("PLACEHOLDER"));
    let small = std::fs::read_to_string(h.served().join("index.yaml")).unwrap();
    let needle: String = small
        .lines()
        .skip_while(|l| *l != "  needle:")
        .take_while(|l| !l.starts_with("generated:"))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .replace("PLACEHOLDER/", "");
    let mut f = std::io::BufWriter::new(std::fs::File::create(h.served().join("index.yaml")).unwrap());
    writeln!(f, "apiVersion: v1\nentries:").unwrap();
    let mut written = 0usize;
    let mut chart = 0;
    while written < 50 << 20 {
        let name = format!("chart-{chart:05}");
        if chart == 600 {
            f.write_all(needle.as_bytes()).unwrap();
        }
        let mut block = format!("  {name}:\n");
        for v in 0..100 {
            block.push_str(&format!(
                "  - apiVersion: v2\n    appVersion: {v}.0.0\n    created: \"2024-01-01T00:00:00Z\"\n    description: A generated chart that pads the index to a realistic size, version {v}\n    digest: {}\n    name: {name}\n    urls:\n    - {name}-1.{v}.0.tgz\n    version: 1.{v}.0\n",
                "a".repeat(64)
            ));
        }
        written += block.len();
        f.write_all(block.as_bytes()).unwrap();
        chart += 1;
    }
    writeln!(f, "generated: \"2024-01-01T00:00:00Z\"").unwrap();
    drop(f);
    let size = std::fs::metadata(h.served().join("index.yaml")).unwrap().len();
    assert!(size > 50 << 20);
    let server = ChartRepo::serve(&h.served());
    let t = Instant::now();
    ok(&h.kc(&["repo", "add", "r", &server.url]), "repo add");
    eprintln!("repo add of a {size}-byte index: {:?}", t.elapsed());
    let t = Instant::now();
    let ours = ok(&h.kc(&["template", "x", "r/needle"]), "template");
    eprintln!("template from it: {:?}", t.elapsed());
    assert!(ours.contains("chart: needle-1.0.0"));
    let err = failed(
        &h.kc(&["template", "x", "r/chart-00001", "--version", "9"]),
        "unknown version",
    );
    assert!(err.contains("no chart version found for chart-00001-9"), "{err}");
    if let Some(helm) = helm3() {
        ok(&h.helm(&helm, &["repo", "update"]), "helm repo update");
        let t = Instant::now();
        assert_eq!(
            ok(&h.helm(&helm, &["template", "x", "r/needle"]), "helm template"),
            ours
        );
        eprintln!("helm template from it: {:?}", t.elapsed());
    }
}

/// An index whose entries point at `oci://` URLs (as some large catalogues now publish): the
/// repository resolves the version, the registry client pulls it.
#[test]
fn index_entries_pointing_at_oci_are_pulled_from_the_registry() {
    let Some(r) = crate::support::registry::plain() else {
        return;
    };
    let h = Homes::new("oci-index");
    let tgz = h.dir.join("app-1.2.0.tgz");
    let data = chart_tgz("app", "1.2.0");
    std::fs::write(&tgz, &data).unwrap();
    let remote = format!("oci://{}/repo-index", r.host);
    ok(
        &h.kc(&["push", tgz.to_str().unwrap(), &remote, "--plain-http"]),
        "push",
    );
    let index = format!(
        "apiVersion: v1\nentries:\n  app:\n  - apiVersion: v2\n    created: \"2024-01-01T00:00:00Z\"\n    digest: {}\n    name: app\n    urls:\n    - {remote}/app:1.2.0\n    version: 1.2.0\n  - apiVersion: v2\n    name: app\n    urls:\n    - {remote}/app:1.0.0\n    version: 1.0.0\ngenerated: \"2024-01-01T00:00:00Z\"\n",
        sha256(&data)
    );
    std::fs::write(h.served().join("index.yaml"), index).unwrap();
    let server = ChartRepo::serve(&h.served());
    ok(&h.kc(&["repo", "add", "r", &server.url]), "repo add");
    let out = h.kc(&["template", "x", "r/app", "--plain-http"]);
    let ours = ok(&out, "template of an oci entry");
    assert!(ours.contains("chart: app-1.2.0"), "{ours}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("Pulled: {}/repo-index/app:1.2.0", r.host))
    );
    // Only the index was asked of the repository server; the chart came from the registry.
    assert_eq!(server.total_hits(), 1);
    if let Some(helm) = helm3() {
        ok(&h.helm(&helm, &["repo", "update"]), "helm repo update");
        let theirs = h.helm(&helm, &["template", "x", "r/app", "--plain-http"]);
        if theirs.status.success() {
            assert_eq!(ours, String::from_utf8_lossy(&theirs.stdout));
        } else {
            eprintln!(
                "helm 3 cannot template an oci:// index entry: {}",
                String::from_utf8_lossy(&theirs.stderr)
            );
        }
    }
}

/// A repository's credentials reach its own origin only; a chart URL on another host gets them
/// only with `--pass-credentials` (Helm's rule). Both servers check what they were sent.
#[test]
fn repository_credentials_stay_with_the_repository() {
    use base64::Engine as _;
    let h = Homes::new("creds");
    let cdn_dir = h.dir.join("cdn");
    std::fs::create_dir_all(&cdn_dir).unwrap();
    write_charts(&cdn_dir, &[("app", "1.0.0")]);
    write_charts(&h.served(), &[("local", "1.0.0")]);
    let cdn = ChartRepo::serve(&cdn_dir);
    h.index_served(None);
    // `app` lives on the other server (another port: another origin).
    let index = std::fs::read_to_string(h.served().join("index.yaml")).unwrap();
    let app = format!(
        "  app:\n  - apiVersion: v2\n    digest: {}\n    name: app\n    urls:\n    - {}/app-1.0.0.tgz\n    version: 1.0.0\n",
        sha256(&std::fs::read(cdn_dir.join("app-1.0.0.tgz")).unwrap()),
        cdn.url
    );
    std::fs::write(
        h.served().join("index.yaml"),
        index.replacen("entries:\n", &format!("entries:\n{app}"), 1),
    )
    .unwrap();
    let server = ChartRepo::serve(&h.served());
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("user:s3cret")
    );
    server.require_basic(&basic);

    let err = failed(
        &h.kc(&["repo", "add", "r", &server.url]),
        "repo add without credentials",
    );
    assert!(err.contains("401"), "{err}");
    ok(
        &h.kc(&[
            "repo",
            "add",
            "r",
            &server.url,
            "--username",
            "user",
            "--password",
            "s3cret",
        ]),
        "repo add",
    );
    ok(
        &h.kc(&["template", "x", "r/local"]),
        "template from the repository's host",
    );
    assert!(server
        .seen_auth()
        .iter()
        .filter(|(p, _)| p == "/local-1.0.0.tgz")
        .all(|(_, a)| a.as_deref() == Some(basic.as_str())));
    ok(&h.kc(&["template", "x", "r/app"]), "template from another host");
    assert_eq!(
        cdn.seen_auth(),
        vec![("/app-1.0.0.tgz".to_string(), None)],
        "credentials leaked to another host"
    );

    // With --pass-credentials they go along (a fresh cache, so the archive is fetched again).
    let _ = std::fs::remove_dir_all(h.cache().join("kubectl-chart"));
    ok(
        &h.kc(&[
            "repo",
            "add",
            "r",
            &server.url,
            "--username",
            "user",
            "--password",
            "s3cret",
            "--pass-credentials",
            "--force-update",
        ]),
        "repo add --pass-credentials",
    );
    ok(
        &h.kc(&["template", "x", "r/app"]),
        "template with pass-credentials",
    );
    assert_eq!(
        cdn.seen_auth().last().and_then(|(_, a)| a.clone()).as_deref(),
        Some(basic.as_str())
    );
}
