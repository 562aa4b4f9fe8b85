//! `dependency update|build|list` and `package` end to end, against helm 3 on the same homes: an
//! umbrella chart whose dependencies come from a configured chart repository (by `@name` and by
//! URL, one aliased), a repository that was never added, the loopback OCI registry and a
//! `file://` directory. Our `Chart.lock` and `charts/*.tgz` must equal helm's (the lock except
//! `generated`; `file://` archives by content, since helm stamps them with the current time),
//! `build` must install what a helm-written lock says and refuse a lock out of sync or an
//! archive changed upstream, and our package must load and render in helm as the directory does.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use crate::support::{
    chartrepo::ChartRepo,
    helm::{find as helm, ok, walk, Homes},
    registry as reg,
};

/// A chart directory: `Chart.yaml` plus a template that shows the chart's version.
fn write_chart(dir: &Path, name: &str, version: &str, extra_chart_yaml: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {version}\ndescription: the {name} chart\n{extra_chart_yaml}"),
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "greeting: hello\n").unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\ndata:\n  version: {{ .Chart.Version }}\n  greeting: {{ .Values.greeting }}\n",
    )
    .unwrap();
}

/// Packs `name` at each version into `dest` with our `package`.
fn publish(h: &Homes, dest: &Path, name: &str, versions: &[&str]) {
    for v in versions {
        let src = h.dir.join("src").join(format!("{name}-{v}"));
        write_chart(&src, name, v, "");
        ok(
            &h.kc(&["package", src.to_str().unwrap(), "-d", dest.to_str().unwrap()]),
            "package",
        );
    }
}

/// Every file of a directory tree, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            (rel, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// An archive's files (name → bytes), to compare archives helm stamps with the current time.
fn unpacked(data: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(data));
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut body).unwrap();
        out.insert(name, body);
    }
    out
}

fn without_generated(lock: &str) -> String {
    lock.lines()
        .filter(|l| !l.starts_with("generated:"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The world every test here uses: two repositories, the registry, a local chart, an umbrella.
struct World {
    h: Homes,
    helm: PathBuf,
    _added: ChartRepo,
    unmanaged: ChartRepo,
    umbrella: PathBuf,
}

fn world(name: &str) -> Option<World> {
    let (Some(r), Some(helm)) = (reg::plain(), helm(3)) else {
        return None;
    };
    let h = Homes::new("deps", name);
    // A repository we add (referred to as @added and by its URL) and one we never add.
    let added_dir = h.dir.join("added");
    let unmanaged_dir = h.dir.join("unmanaged");
    std::fs::create_dir_all(&added_dir).unwrap();
    std::fs::create_dir_all(&unmanaged_dir).unwrap();
    publish(&h, &added_dir, "app", &["1.0.0", "1.1.0", "1.2.0", "2.0.0"]);
    publish(&h, &unmanaged_dir, "web", &["0.3.0", "0.3.4", "0.4.0"]);
    for d in [&added_dir, &unmanaged_dir] {
        ok(
            &h.helm(&helm, &["repo", "index", d.to_str().unwrap()]),
            "helm repo index",
        );
    }
    let added = ChartRepo::serve(&added_dir);
    let unmanaged = ChartRepo::serve(&unmanaged_dir);
    ok(&h.kc(&["repo", "add", "added", &added.url]), "repo add");
    // The registry: two versions of ocidep, pushed by us.
    let oci_dir = h.dir.join("oci");
    std::fs::create_dir_all(&oci_dir).unwrap();
    publish(
        &h,
        &oci_dir,
        &format!("ocidep{name}"),
        &["0.1.0", "0.1.5", "0.2.0"],
    );
    for v in ["0.1.0", "0.1.5", "0.2.0"] {
        let tgz = oci_dir.join(format!("ocidep{name}-{v}.tgz"));
        ok(
            &h.kc(&[
                "push",
                tgz.to_str().unwrap(),
                &format!("oci://{}/deps", r.host),
                "--plain-http",
            ]),
            "push",
        );
    }
    write_chart(&h.work().join("lib"), "lib", "0.5.0", "");
    let umbrella = h.work().join("umbrella");
    let deps = format!(
        "dependencies:\n\
         - name: app\n  version: ~1.2.0\n  repository: \"@added\"\n\
         - name: app\n  alias: oldapp\n  version: \">=1.0.0 <1.2.0\"\n  repository: {}/\n\
         - name: web\n  version: ~0.3\n  repository: {}\n\
         - name: ocidep{name}\n  version: ^0.1.0\n  repository: oci://{}/deps\n\
         - name: lib\n  version: 0.5.x\n  repository: file://../lib\n",
        added.url, unmanaged.url, r.host
    );
    write_chart(&umbrella, "umbrella", "1.0.0", &deps);
    Some(World {
        h,
        helm,
        _added: added,
        unmanaged,
        umbrella,
    })
}

impl World {
    /// A copy of the umbrella chart, for one tool to work on.
    fn copy(&self, to: &str) -> PathBuf {
        let dest = self.h.work().join(to);
        for (rel, data) in tree(&self.umbrella) {
            let p = dest.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
        dest
    }
}

/// Our `charts/` equals helm's: same names; the same bytes for downloaded archives, the same
/// files for the `file://` one (helm stamps it with the current time).
fn assert_same_charts(ours: &Path, theirs: &Path) {
    let (ours, theirs) = (tree(&ours.join("charts")), tree(&theirs.join("charts")));
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "charts/ file names"
    );
    for (name, data) in &ours {
        if name.starts_with("lib-") {
            assert_eq!(unpacked(data), unpacked(&theirs[name]), "{name}: files");
        } else {
            assert!(data == &theirs[name], "{name}: bytes differ from helm's");
        }
    }
}

#[test]
fn update_writes_what_helm_writes() {
    let Some(w) = world("u") else { return };
    let ours = w.copy("ours");
    let theirs = w.copy("theirs");
    let out = ok(
        &w.h.kc(&["dependency", "update", ours.to_str().unwrap(), "--plain-http"]),
        "dependency update",
    );
    assert!(out.contains("Saving 5 charts"), "{out}");
    // The never-added repository's index was fetched once for the whole update.
    assert_eq!(w.unmanaged.hits("/index.yaml"), 1, "index fetches");
    ok(
        &w.h.helm(
            &w.helm,
            &["dependency", "update", theirs.to_str().unwrap(), "--plain-http"],
        ),
        "helm dependency update",
    );
    let lock = std::fs::read_to_string(ours.join("Chart.lock")).unwrap();
    let helm_lock = std::fs::read_to_string(theirs.join("Chart.lock")).unwrap();
    assert_eq!(without_generated(&lock), without_generated(&helm_lock));
    assert!(
        lock.contains("version: 1.2.0") && lock.contains("version: 1.1.0"),
        "{lock}"
    );
    assert_same_charts(&ours, &theirs);
    // list: the same table from both.
    let args = ["dependency", "list", ours.to_str().unwrap()];
    assert_eq!(
        ok(&w.h.kc(&args), "list"),
        ok(&w.h.helm(&w.helm, &args), "helm list")
    );
    // A second update with nothing changed keeps the lock as it was (Helm's rule).
    ok(
        &w.h.kc(&[
            "dependency",
            "update",
            ours.to_str().unwrap(),
            "--plain-http",
            "--skip-refresh",
        ]),
        "update --skip-refresh",
    );
    assert_eq!(std::fs::read_to_string(ours.join("Chart.lock")).unwrap(), lock);

    // A version no repository has: Helm's error, and nothing written.
    for (tool, dir) in [("ours", "bad-ours"), ("helm", "bad-helm")] {
        let bad = w.copy(dir);
        let chart_yaml = bad.join("Chart.yaml");
        let text = std::fs::read_to_string(&chart_yaml).unwrap();
        std::fs::write(&chart_yaml, text.replace("version: ~0.3", "version: ~9.0")).unwrap();
        let args = ["dependency", "update", bad.to_str().unwrap(), "--plain-http"];
        let out = if tool == "ours" {
            w.h.kc(&args)
        } else {
            w.h.helm(&w.helm, &args)
        };
        let err = crate::support::helm::failed(&out, tool);
        assert!(
            err.contains(&format!(
                "can't get a valid version for 1 subchart(s): \"web\" (repository \"{}\", version \"~9.0\")",
                w.unmanaged.url
            )),
            "{tool}: {err}"
        );
        if tool == "ours" {
            assert!(
                !bad.join("charts").exists() && !bad.join("Chart.lock").exists(),
                "nothing written"
            );
        }
    }
}

#[test]
fn build_installs_a_helm_lock_and_catches_changes() {
    let Some(w) = world("b") else { return };
    let theirs = w.copy("theirs");
    ok(
        &w.h.helm(
            &w.helm,
            &["dependency", "update", theirs.to_str().unwrap(), "--plain-http"],
        ),
        "helm dependency update",
    );
    // Our build from helm's lock, with charts/ gone (git-ignored in CI).
    let ours = w.copy("ours");
    std::fs::copy(theirs.join("Chart.lock"), ours.join("Chart.lock")).unwrap();
    let helm_lock = std::fs::read(ours.join("Chart.lock")).unwrap();
    // First from the indexes helm cached (the never-added repository under helm's own
    // `helm-manager-<sha256>` name), then refreshed.
    for extra in [&["--skip-refresh"][..], &[]] {
        let _ = std::fs::remove_dir_all(ours.join("charts"));
        let mut args = vec!["dependency", "build", ours.to_str().unwrap(), "--plain-http"];
        args.extend(extra);
        ok(&w.h.kc(&args), "dependency build");
        assert_same_charts(&ours, &theirs);
    }
    assert_eq!(
        std::fs::read(ours.join("Chart.lock")).unwrap(),
        helm_lock,
        "build leaves the lock"
    );

    // An archive changed upstream (the index still names the old digest): refused, nothing
    // written. The content cache would answer with the verified old bytes, so it goes first.
    let served = w.unmanaged.dir.join("web-0.3.4.tgz");
    let mut changed = std::fs::read(&served).unwrap();
    changed.extend_from_slice(b"\0");
    std::fs::write(&served, changed).unwrap();
    let _ = std::fs::remove_dir_all(w.h.cache().join("kubectl-chart"));
    std::fs::remove_dir_all(ours.join("charts")).unwrap();
    let out =
        w.h.kc(&["dependency", "build", ours.to_str().unwrap(), "--plain-http"]);
    let err = crate::support::helm::failed(&out, "build with a changed archive");
    assert!(err.contains("digest mismatch"), "{err}");
    assert!(!ours.join("charts").exists(), "nothing written to charts/");

    // A lock out of sync with Chart.yaml: Helm's error.
    let chart_yaml = ours.join("Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml).unwrap();
    std::fs::write(&chart_yaml, text.replace("version: ~0.3", "version: ~0.4")).unwrap();
    let out =
        w.h.kc(&["dependency", "build", ours.to_str().unwrap(), "--plain-http"]);
    let err = crate::support::helm::failed(&out, "build with a stale lock");
    assert!(
        err.contains("the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml)"),
        "{err}"
    );
}

#[test]
fn package_loads_and_renders_in_helm() {
    let Some(w) = world("p") else { return };
    let chart = w.copy("pkg");
    let dest = w.h.dir.join("out");
    let out = ok(
        &w.h.kc(&[
            "package",
            chart.to_str().unwrap(),
            "-d",
            dest.to_str().unwrap(),
            "--dependency-update",
            "--plain-http",
        ]),
        "package --dependency-update",
    );
    let tgz = dest.join("umbrella-1.0.0.tgz");
    assert!(out.contains(&tgz.display().to_string()), "{out}");
    let first = std::fs::read(&tgz).unwrap();
    // Same input, same bytes.
    ok(
        &w.h.kc(&["package", chart.to_str().unwrap(), "-d", dest.to_str().unwrap()]),
        "package again",
    );
    assert!(std::fs::read(&tgz).unwrap() == first, "package is reproducible");
    // helm renders our archive as it renders the directory.
    let t = |c: &Path| {
        ok(
            &w.h.helm(&w.helm, &["template", "rel", c.to_str().unwrap()]),
            "helm template",
        )
    };
    assert_eq!(t(&tgz), t(&chart));
    // And it holds what helm's own package holds (helm's archive has time stamps; compare files).
    let helm_dest = w.h.dir.join("helm-out");
    ok(
        &w.h.helm(
            &w.helm,
            &[
                "package",
                chart.to_str().unwrap(),
                "-d",
                helm_dest.to_str().unwrap(),
            ],
        ),
        "helm package",
    );
    let theirs = std::fs::read(helm_dest.join("umbrella-1.0.0.tgz")).unwrap();
    // Except the two `app` subcharts: helm unpacks both into charts/app/ (its package then
    // renders one `app` made of both); ours keeps the second one packed.
    let skip = |k: &String| !k.starts_with("umbrella/charts/app");
    let (mine, theirs) = (unpacked(&first), unpacked(&theirs));
    let mine: BTreeMap<_, _> = mine.into_iter().filter(|(k, _)| skip(k)).collect();
    let theirs: BTreeMap<_, _> = theirs.into_iter().filter(|(k, _)| skip(k)).collect();
    assert_eq!(mine.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>());
    assert_eq!(mine, theirs);
    // --version and --app-version land in Chart.yaml, as helm show chart reads it.
    ok(
        &w.h.kc(&[
            "package",
            chart.to_str().unwrap(),
            "-d",
            dest.to_str().unwrap(),
            "--version",
            "2.0.0-rc.1",
            "--app-version",
            "v9",
        ]),
        "package --version",
    );
    let shown = ok(
        &w.h.helm(
            &w.helm,
            &[
                "show",
                "chart",
                dest.join("umbrella-2.0.0-rc.1.tgz").to_str().unwrap(),
            ],
        ),
        "helm show chart",
    );
    assert!(
        shown.contains("version: 2.0.0-rc.1") && shown.contains("appVersion: v9"),
        "{shown}"
    );
}

/// An archive's entries in order, name and bytes.
fn entries(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(data));
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut body).unwrap();
        out.push((name, body));
    }
    out
}

/// Every fixture chart and every chart of the corpus (`$KUBECTL_CHART_CORPUS`, default
/// `../shared/corpus`, skipped when absent) packs to the entries `helm package` writes, in the
/// chart's own entries in the same order, with the same bytes (only helm's time stamps differ),
/// or fails as helm fails.
#[test]
fn package_holds_what_helm_package_holds() {
    let Some(helm) = helm(3) else { return };
    let h = Homes::new("deps", "pkgall");
    let root = crate::support::helm::root();
    let corpus = PathBuf::from(
        std::env::var("KUBECTL_CHART_CORPUS")
            .unwrap_or_else(|_| root.join("../shared/corpus").display().to_string()),
    )
    .join("charts");
    let mut charts: Vec<PathBuf> = Vec::new();
    for dir in [root.join("fixtures/charts"), corpus] {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            eprintln!("skipped {}: not found", dir.display());
            continue;
        };
        let mut found: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("Chart.yaml").is_file())
            .collect();
        found.sort();
        charts.extend(found);
    }
    assert!(charts.len() >= 10, "fixture charts found: {charts:?}");
    let (ours, theirs) = (h.dir.join("ours"), h.dir.join("theirs"));
    for chart in &charts {
        let c = chart.to_str().unwrap();
        let mine = h.kc(&["package", c, "-d", ours.to_str().unwrap()]);
        let helms = h.helm(&helm, &["package", c, "-d", theirs.to_str().unwrap()]);
        assert_eq!(mine.status.success(), helms.status.success(), "{c}: exit status");
        if !helms.status.success() {
            continue;
        }
        let out = String::from_utf8_lossy(&helms.stdout).into_owned();
        let file = out.trim().rsplit(' ').next().unwrap().to_string();
        let name = Path::new(&file).file_name().unwrap();
        let a = entries(&std::fs::read(ours.join(name)).unwrap());
        let b = entries(&std::fs::read(theirs.join(name)).unwrap());
        // Helm writes subcharts in Go map order (it varies from run to run; ours are sorted):
        // the chart's own entries must come in helm's order, and all entries must match.
        let own = |v: &[(String, Vec<u8>)]| {
            v.iter()
                .filter(|(n, _)| {
                    !n.split_once('/')
                        .is_some_and(|(_, rest)| rest.starts_with("charts/"))
                })
                .map(|(n, _)| n.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(own(&a), own(&b), "{c}: entries");
        let sorted = |mut v: Vec<(String, Vec<u8>)>| {
            v.sort();
            v
        };
        let (a, b) = (sorted(a), sorted(b));
        assert_eq!(
            a.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            b.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            "{c}: entries"
        );
        assert!(a == b, "{c}: entry contents differ");
    }
}
