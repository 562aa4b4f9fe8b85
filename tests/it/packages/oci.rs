//! OCI registries: what helm pushes we pull byte-identical, what we push helm pulls
//! byte-identical, `template`/`show` of a ref equal helm's, the same version picked for a table of
//! constraints, authentication over TLS, and each failure a clear error that leaves nothing behind.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use kubectl_chart::{cache, net, registry};
use sha2::{Digest as _, Sha256};

use crate::support::registry as reg;

use crate::support::helm::{failed, find as helm, ok, root, walk};

/// A test's own Helm homes ([`crate::support::helm::Homes`]) and what the OCI tests add to them.
struct Homes(crate::support::helm::Homes);

impl std::ops::Deref for Homes {
    type Target = crate::support::helm::Homes;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Homes {
    fn new(name: &str) -> Homes {
        Homes(crate::support::helm::Homes::new("packages", name))
    }

    fn registry_config(&self) -> PathBuf {
        self.dir.join("config/registry/config.json")
    }

    /// `helm package` of a fixture chart at `version`; returns the archive path.
    fn package(&self, helm: &Path, chart: &str, version: &str) -> PathBuf {
        let dest = self.dir.join("packages");
        let chart_dir = root().join("fixtures/charts").join(chart);
        let out = self.helm(
            helm,
            &[
                "package",
                chart_dir.to_str().unwrap(),
                "--version",
                version,
                "-d",
                dest.to_str().unwrap(),
            ],
        );
        ok(&out, "helm package");
        dest.join(format!("{chart}-{version}.tgz"))
    }

    /// [`Self::package`], then our `push` of the archive to `remote` over plain HTTP, which must
    /// succeed; returns the archive path.
    fn package_and_push(&self, helm: &Path, chart: &str, version: &str, remote: &str) -> PathBuf {
        let tgz = self.package(helm, chart, version);
        ok(
            &self.kc(&["push", tgz.to_str().unwrap(), remote, "--plain-http"]),
            "push",
        );
        tgz
    }

    /// Every file under the test's work directory (what a failed command must not leave).
    fn work_files(&self) -> Vec<PathBuf> {
        walk(&self.work())
    }

    fn cache_files(&self) -> Vec<PathBuf> {
        walk(&self.cache())
    }
}

fn sha256_file(p: &Path) -> String {
    let data = std::fs::read(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
    format!("{:x}", Sha256::digest(data))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// helm pushes, we pull the same bytes; `template` and `show all` of the ref print what helm's
/// print; the second use reads the cache (shown by tampering with the registry's copy after the
/// first pull, and by a digest reference to a host where nothing listens).
#[test]
fn helm_pushes_we_pull_identical() {
    let (Some(r), Some(helm3)) = (reg::plain(), helm(3)) else {
        return;
    };
    let h = Homes::new("helm-pushes");
    for chart in ["demo", "allkinds"] {
        let tgz = h.package(&helm3, chart, "1.0.0");
        let remote = format!("oci://{}/from-helm", r.host);
        ok(
            &h.helm(&helm3, &["push", tgz.to_str().unwrap(), &remote, "--plain-http"]),
            "helm push",
        );
        let reference = format!("{remote}/{chart}");
        let dest = h.work().join("pulled");
        let out = h.kc(&["pull", &reference, "--plain-http", "-d", dest.to_str().unwrap()]);
        ok(&out, "pull");
        let pulled = dest.join(format!("{chart}-1.0.0.tgz"));
        assert_eq!(
            sha256_file(&pulled),
            sha256_file(&tgz),
            "{chart}: pulled bytes differ from what helm pushed"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(&format!(
                "Pulled: {}/from-helm/{chart}:1.0.0\nDigest: sha256:",
                r.host
            )),
            "{chart}: Helm's notices: {stderr}"
        );
        for args in [
            vec!["template", "rel", reference.as_str(), "--plain-http"],
            vec!["show", "all", reference.as_str(), "--plain-http"],
            vec!["show", "chart", reference.as_str(), "--plain-http"],
            vec!["show", "readme", reference.as_str(), "--plain-http"],
            vec!["show", "values", reference.as_str(), "--plain-http"],
            vec!["show", "crds", reference.as_str(), "--plain-http"],
        ] {
            let ours = h.kc(&args);
            ok(&ours, &format!("{args:?}"));
            let theirs = h.helm(&helm3, &args);
            ok(&theirs, &format!("helm {args:?}"));
            assert_eq!(
                stdout(&ours),
                stdout(&theirs),
                "{chart}: {args:?} differs from helm"
            );
            assert_eq!(
                String::from_utf8_lossy(&ours.stderr),
                String::from_utf8_lossy(&theirs.stderr),
                "{chart}: {args:?} notices differ"
            );
        }
    }
    // The layer is cached now: spoil the registry's copy; a second template still works, so it
    // did not download the blob again.
    let reference = format!("oci://{}/from-helm/demo:1.0.0", r.host);
    let before = stdout(&h.kc(&["template", "rel", &reference, "--plain-http"]));
    let tgz_digest = format!("sha256:{}", sha256_file(&h.dir.join("packages/demo-1.0.0.tgz")));
    let blob = r.blob_path(&tgz_digest);
    let original = std::fs::read(&blob).expect("registry blob");
    std::fs::write(&blob, b"spoiled").expect("spoil blob");
    let again = h.kc(&["template", "rel", &reference, "--plain-http"]);
    std::fs::write(&blob, &original).expect("restore blob");
    ok(&again, "template from cache");
    assert_eq!(stdout(&again), before);
    // A digest reference needs no request at all: the host below has nothing listening.
    let manifest_digest = String::from_utf8_lossy(&again.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("Digest: ").map(str::to_string))
        .expect("Digest line");
    let offline = format!("oci://127.0.0.1:9/from-helm/demo@{manifest_digest}");
    let out = h.kc(&["template", "rel", &offline, "--plain-http"]);
    ok(&out, "template by digest from the cache");
    assert_eq!(stdout(&out), before);
}

/// We push, helm pulls the same bytes; the manifest and config are Helm's (same config digest as
/// helm's push of the same chart, same media types and annotation keys).
#[test]
fn we_push_helm_pulls_identical() {
    let (Some(r), Some(helm3)) = (reg::plain(), helm(3)) else {
        return;
    };
    let h = Homes::new("we-push");
    let tgz = h.package(&helm3, "demo", "2.0.0+build.7");
    let out = h.kc(&[
        "push",
        tgz.to_str().unwrap(),
        &format!("oci://{}/from-us", r.host),
        "--plain-http",
    ]);
    ok(&out, "push");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "Pushed: {}/from-us/demo:2.0.0_build.7\nDigest: sha256:",
            r.host
        )),
        "{stderr}"
    );
    assert!(stderr.contains("contains an underscore"), "{stderr}");
    ok(
        &h.helm(
            &helm3,
            &[
                "push",
                tgz.to_str().unwrap(),
                &format!("oci://{}/from-helm2", r.host),
                "--plain-http",
            ],
        ),
        "helm push",
    );
    let dest = h.work().join("helm-pulled");
    std::fs::create_dir_all(&dest).unwrap();
    let out = h.helm(
        &helm3,
        &[
            "pull",
            &format!("oci://{}/from-us/demo", r.host),
            "--version",
            "2.0.0+build.7",
            "--plain-http",
            "-d",
            dest.to_str().unwrap(),
        ],
    );
    ok(&out, "helm pull");
    assert_eq!(
        sha256_file(&dest.join("demo-2.0.0+build.7.tgz")),
        sha256_file(&tgz)
    );
    let manifest = |repo: &str| -> registry::manifest::Manifest {
        let client = registry::Client::new(net::Client::new(Default::default()).unwrap(), true, None);
        let rf = registry::Reference::parse(&format!("{}/{repo}/demo", r.host)).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(client.manifest(&rf, "2.0.0_build.7"))
            .expect("manifest")
            .manifest
    };
    let (ours, theirs) = (manifest("from-us"), manifest("from-helm2"));
    assert_eq!(ours.config, theirs.config, "config blob identical to helm's");
    assert_eq!(ours.layers, theirs.layers);
    assert_eq!(ours.media_type, theirs.media_type);
    assert_eq!(
        ours.annotations.keys().collect::<Vec<_>>(),
        theirs.annotations.keys().collect::<Vec<_>>()
    );
}

/// The same version picked as helm picks, for a table of `--version`/`--devel` cases over tags
/// with prereleases, `+` builds (stored as `_`) and non-semver tags.
#[test]
fn version_resolution_agrees_with_helm() {
    let (Some(r), Some(helm3)) = (reg::plain(), helm(3)) else {
        return;
    };
    let h = Homes::new("versions");
    let remote = format!("oci://{}/versions", r.host);
    for v in ["0.9.0", "1.0.0", "1.2.0", "1.10.0", "1.5.0+build.7", "2.0.0-rc.1"] {
        h.package_and_push(&helm3, "demo", v, &remote);
    }
    let reference = format!("{remote}/demo");
    let cases: &[(&str, &[&str])] = &[
        ("newest stable", &[]),
        ("devel", &["--devel"]),
        ("exact", &["--version", "1.2.0"]),
        ("exact build", &["--version", "1.5.0+build.7"]),
        ("caret", &["--version", "^1"]),
        ("tilde", &["--version", "~1.2"]),
        ("range", &["--version", ">=1.0.0 <1.5.0"]),
        ("build in range", &["--version", "~1.5"]),
        ("prerelease constraint", &["--version", ">=2.0.0-0"]),
        ("exact prerelease", &["--version", "2.0.0-rc.1"]),
        ("partial version is a tag", &["--version", "1.2"]),
        ("nothing matches", &["--version", ">5"]),
        ("unknown exact", &["--version", "9.9.9"]),
    ];
    for (i, (name, flags)) in cases.iter().enumerate() {
        let run = |tool: &str| -> (bool, Vec<String>) {
            let dest = h.work().join(format!("{tool}-{i}"));
            let mut args = vec![
                "pull",
                reference.as_str(),
                "--plain-http",
                "-d",
                dest.to_str().unwrap(),
            ];
            args.extend_from_slice(flags);
            std::fs::create_dir_all(&dest).unwrap();
            let out = if tool == "helm" {
                h.helm(&helm3, &args)
            } else {
                h.kc(&args)
            };
            let files = walk(&dest)
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            (out.status.success(), files)
        };
        assert_eq!(run("kc"), run("helm"), "{name}: {flags:?}");
    }
}

/// The tag list is read over several pages (`?n=` and `Link`), on the real registry.
#[test]
fn tag_list_pages() {
    let (Some(r), Some(helm3)) = (reg::plain(), helm(3)) else {
        return;
    };
    let h = Homes::new("pages");
    let remote = format!("oci://{}/pages", r.host);
    let versions = ["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0"];
    for v in versions {
        h.package_and_push(&helm3, "demo", v, &remote);
    }
    let client = registry::Client::new(net::Client::new(Default::default()).unwrap(), true, None)
        .with_tag_page_size(2);
    let rf = registry::Reference::parse(&format!("{remote}/demo")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut tags = rt.block_on(client.tags(&rf)).expect("tags");
    tags.sort();
    assert_eq!(tags, versions, "all three pages of two were read");
}

/// A blob edited in the registry's storage is refused with both digests named, and nothing is
/// written: no chart file, no cache entry.
#[test]
fn tampered_blob_is_refused() {
    let (Some(r), Some(helm3)) = (reg::plain(), helm(3)) else {
        return;
    };
    let h = Homes::new("tampered");
    let tgz = h.package_and_push(&helm3, "demo", "3.0.0", &format!("oci://{}/tampered", r.host));
    let digest = format!("sha256:{}", sha256_file(&tgz));
    let blob = r.blob_path(&digest);
    let mut bytes = std::fs::read(&blob).expect("blob");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, &bytes).expect("tamper");
    let out = h.kc(&[
        "pull",
        &format!("oci://{}/tampered/demo:3.0.0", r.host),
        "--plain-http",
    ]);
    let err = failed(&out, "pull of a tampered blob");
    let actual = cache::digest_of(&bytes);
    assert!(
        err.contains(&format!("digest mismatch: expected {digest}, got {actual}")),
        "names both digests: {err}"
    );
    assert_eq!(h.work_files(), Vec::<PathBuf>::new(), "no file left");
    assert!(
        !h.cache_files().iter().any(|p| p.ends_with(&digest[7..])),
        "no cache entry for the layer: {:?}",
        h.cache_files()
    );
}

/// Unknown tags, unknown repositories and impossible constraints: clear errors, nothing written.
#[test]
fn unknown_references_fail_cleanly() {
    let (Some(r), Some(helm3)) = (reg::plain(), helm(3)) else {
        return;
    };
    let h = Homes::new("unknown");
    h.package_and_push(&helm3, "demo", "1.0.0", &format!("oci://{}/unknown", r.host));
    let cases = [
        (
            "unknown tag",
            format!("oci://{}/unknown/demo:9.9.9", r.host),
            vec![],
            "unknown/demo:9.9.9: not found",
        ),
        (
            "unknown repository",
            format!("oci://{}/unknown/nope", r.host),
            vec![],
            "unknown/nope: not found",
        ),
        (
            "no match",
            format!("oci://{}/unknown/demo", r.host),
            vec!["--version", "^7"],
            "Could not locate a version matching provided version string ^7",
        ),
        (
            "tag and version disagree",
            format!("oci://{}/unknown/demo:1.0.0", r.host),
            vec!["--version", "2.0.0"],
            "chart reference and version mismatch: 2.0.0 is not 1.0.0",
        ),
        (
            "bad reference",
            format!("oci://{}/Unknown/demo", r.host),
            vec![],
            "invalid OCI reference",
        ),
    ];
    for (name, reference, flags, want) in cases {
        let mut args = vec!["pull", reference.as_str(), "--plain-http"];
        args.extend(flags);
        let err = failed(&h.kc(&args), name);
        assert!(err.contains(want), "{name}: {err}");
        assert_eq!(h.work_files(), Vec::<PathBuf>::new(), "{name}: no file left");
    }
}

/// TLS with a private CA and basic auth: no credentials and a wrong password are clear errors
/// that write nothing; a login (ours) is used by helm 4 and by us; logout removes it.
#[test]
fn tls_registry_with_login() {
    let (Some(r), Some(helm3)) = (reg::secure(), helm(3)) else {
        return;
    };
    let h = Homes::new("tls");
    let ca = r.ca.as_ref().expect("ca").to_str().unwrap().to_string();
    let (user, pass) = r.credentials.clone().expect("credentials");
    let tgz = h.package(&helm3, "demo", "1.0.0");
    let remote = format!("oci://{}/secure", r.host);
    let tgz_s = tgz.to_str().unwrap();

    let err = failed(
        &h.kc(&["push", tgz_s, &remote, "--ca-file", &ca]),
        "push without credentials",
    );
    assert!(
        err.contains("authentication failed") && err.contains("registry login"),
        "{err}"
    );
    let err = failed(&h.kc(&["push", tgz_s, &remote]), "push without the CA");
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    let err = failed(
        &h.kc(&[
            "registry",
            "login",
            &r.host,
            "-u",
            &user,
            "-p",
            "wrong",
            "--ca-file",
            &ca,
        ]),
        "login with a wrong password",
    );
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(!h.registry_config().exists(), "a failed login writes nothing");

    let login = h.kc(&[
        "registry",
        "login",
        &r.host,
        "-u",
        &user,
        "-p",
        &pass,
        "--ca-file",
        &ca,
    ]);
    ok(&login, "login");
    assert_eq!(
        String::from_utf8_lossy(&login.stderr),
        "WARNING: Using --password via the CLI is insecure. Use --password-stdin.\nLogin Succeeded\n",
        "Helm's words, on stderr as Helm prints them"
    );
    ok(
        &h.kc(&["push", tgz_s, &remote, "--ca-file", &ca]),
        "push after login",
    );
    let dest = h.work().join("ours");
    ok(
        &h.kc(&[
            "pull",
            &format!("{remote}/demo"),
            "--ca-file",
            &ca,
            "-d",
            dest.to_str().unwrap(),
        ]),
        "pull after login",
    );
    assert_eq!(sha256_file(&dest.join("demo-1.0.0.tgz")), sha256_file(&tgz));
    // helm 4 reads the login we wrote (helm 3.17.2 mishandles --ca-file for OCI).
    if let Some(helm4) = helm(4) {
        let dest = h.work().join("helm4");
        std::fs::create_dir_all(&dest).unwrap();
        ok(
            &h.helm(
                &helm4,
                &[
                    "pull",
                    &format!("{remote}/demo"),
                    "--version",
                    "1.0.0",
                    "--ca-file",
                    &ca,
                    "-d",
                    dest.to_str().unwrap(),
                ],
            ),
            "helm 4 pull with our login",
        );
        assert_eq!(sha256_file(&dest.join("demo-1.0.0.tgz")), sha256_file(&tgz));
    }
    let logout = h.kc(&["registry", "logout", &r.host]);
    ok(&logout, "logout");
    assert_eq!(
        String::from_utf8_lossy(&logout.stderr),
        format!("Removing login credentials for {}\n", r.host)
    );
    let err = failed(&h.kc(&["registry", "logout", &r.host]), "second logout");
    assert_eq!(err, "Error: not logged in\n");
    let err = failed(
        &h.kc(&[
            "pull",
            &format!("{remote}/demo:1.0.0"),
            "--ca-file",
            &ca,
            "-d",
            h.work().join("after").to_str().unwrap(),
        ]),
        "pull after logout",
    );
    assert!(err.contains("authentication failed"), "{err}");
    // --password-stdin, as CI scripts log in.
    let mut child = h
        .command(
            Path::new(env!("CARGO_BIN_EXE_kubectl-chart")),
            &[
                "registry",
                "login",
                &r.host,
                "-u",
                &user,
                "--password-stdin",
                "--ca-file",
                &ca,
            ],
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn login");
    {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{pass}\n").as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    ok(&out, "login --password-stdin");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Login Succeeded\n");
    ok(
        &h.kc(&["show", "chart", &format!("{remote}/demo:1.0.0"), "--ca-file", &ca]),
        "show after stdin login",
    );
    ok(&h.kc(&["registry", "logout", &r.host]), "logout again");
    // --username/--password work without a stored login.
    ok(
        &h.kc(&[
            "show",
            "chart",
            &format!("{remote}/demo:1.0.0"),
            "--ca-file",
            &ca,
            "--username",
            &user,
            "--password",
            &pass,
        ]),
        "show with flags",
    );
}

/// The harness's registry answers the distribution API through our HTTP edge (the smallest
/// check that the two can talk, so a harness failure is not mistaken for a client bug).
#[test]
fn registry_harness_serves_v2() {
    let Some(r) = reg::plain() else { return };
    let client = net::Client::new(Default::default()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let resp = rt
        .block_on(client.send(net::Request::get(format!("http://{}/v2/", r.host))))
        .expect("GET /v2/");
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
}

/// `install` from an `oci://` reference on the real control plane: the release records the
/// reference and the archive digest, and `status` and `history` show them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_from_oci_records_the_source() {
    let (Some(r), Some(helm3)) = (reg::plain(), helm(3)) else {
        return;
    };
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let ns = crate::support::k8s::TestNamespace::new(kit.admin().await, "oci").await;
    let h = Homes::new("install");
    let tgz = h.package_and_push(&helm3, "demo", "1.0.0", &format!("oci://{}/install", r.host));
    let reference = format!("oci://{}/install/demo:1.0.0", r.host);
    let kubeconfig = kit.kubeconfig.to_str().unwrap();
    let with_cluster = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-n", &ns.name, "--kubeconfig", kubeconfig]);
        h.command(Path::new(env!("CARGO_BIN_EXE_kubectl-chart")), &all)
            .env_remove("KUBECONFIG")
            .output()
            .expect("run kubectl-chart")
    };
    // The cache subchart's PVC never binds on the kit; it is not what this test is about.
    // No hooks: the demo chart's hook Job needs a kubelet, which the plain kit has not.
    let out = with_cluster(&[
        "install",
        "web",
        &reference,
        "--plain-http",
        "--set",
        "cache.enabled=false",
        "--no-hooks",
    ]);
    ok(&out, "install from oci");
    let digest = format!("sha256:{}", sha256_file(&tgz));
    let status = with_cluster(&["status", "web"]);
    ok(&status, "status");
    let text = stdout(&status);
    assert!(
        text.contains(&format!("CHART SOURCE: {reference}\nCHART DIGEST: {digest}\n")),
        "{text}"
    );
    let history = with_cluster(&["history", "web", "-o", "json"]);
    ok(&history, "history");
    let v: serde_json::Value = serde_json::from_slice(&history.stdout).expect("history json");
    assert_eq!(v[0]["chart_source"], reference.as_str());
    assert_eq!(v[0]["chart_digest"], digest.as_str());
}
