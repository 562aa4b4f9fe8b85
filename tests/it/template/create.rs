//! `create` end to end: the files `helm create` writes, byte for byte, and a created chart that
//! lints clean and renders as helm renders it.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use super::tempdir;

fn kc_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-chart"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run kubectl-chart")
}

/// Every file and directory under `dir` (relative), with its permission bits and contents.
fn tree(dir: &Path) -> Vec<(String, u32, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, u32, Vec<u8>)>) {
        let mut entries: Vec<PathBuf> = fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            let meta = fs::metadata(&p).expect("stat");
            #[cfg(unix)]
            let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777;
            #[cfg(not(unix))]
            let mode = 0;
            let rel = p.strip_prefix(root).expect("under root").display().to_string();
            if meta.is_dir() {
                out.push((format!("{rel}/"), mode, Vec::new()));
                walk(root, &p, out);
            } else {
                out.push((rel, mode, fs::read(&p).expect("read")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// The same files, bytes and modes as `helm create`, for a plain and a dotted name, and the same
/// output when run again over an existing chart (Helm's overwrite warnings).
#[test]
fn create_writes_helms_starter_byte_for_byte() {
    let Some(helm) = super::helm::find(3) else { return };
    for name in ["web", "my.chart"] {
        let ours = tempdir(&format!("create-ours-{name}"));
        let theirs = tempdir(&format!("create-helm-{name}"));
        for round in 0..2 {
            let a = kc_in(&ours, &["create", name]);
            let b = Command::new(&helm)
                .args(["create", name])
                .current_dir(&theirs)
                .output()
                .expect("run helm");
            assert!(a.status.success() && b.status.success(), "{name}: {a:?} {b:?}");
            let strip = |o: &Output, dir: &Path| {
                String::from_utf8_lossy(&o.stdout).replace(&dir.display().to_string(), "<DIR>")
            };
            assert_eq!(
                strip(&a, &ours),
                strip(&b, &theirs),
                "{name}: stdout, round {round}"
            );
        }
        let (got, want) = (tree(&ours), tree(&theirs));
        let names =
            |t: &[(String, u32, Vec<u8>)]| t.iter().map(|(n, m, _)| format!("{n} {m:o}")).collect::<Vec<_>>();
        assert_eq!(names(&got), names(&want), "{name}: files and modes");
        for ((n, _, g), (_, _, w)) in got.iter().zip(&want) {
            assert!(g == w, "{name}: {n} differs from helm's");
        }
        let _ = fs::remove_dir_all(&ours);
        let _ = fs::remove_dir_all(&theirs);
    }
}

/// A created chart lints clean (strictly) and renders what helm renders for it (the golden was
/// written by helm v3.17.2 from `helm create web`).
#[test]
fn created_chart_lints_clean_and_renders_like_helm() {
    let dir = tempdir("create-lint");
    let out = kc_in(&dir, &["create", "web"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Creating web\n");
    let out = kc_in(&dir, &["lint", "web", "--strict"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "==> Linting web\n[INFO] Chart.yaml: icon is recommended\n\n1 chart(s) linted, 0 chart(s) failed\n"
    );
    for (golden, extra) in [
        ("create-web.yaml", vec![]),
        (
            "create-web-all.yaml",
            vec![
                "--set",
                "ingress.enabled=true,autoscaling.enabled=true,serviceAccount.create=false",
            ],
        ),
    ] {
        let mut args = vec!["template", "rel", "web", "-n", "ns"];
        args.extend(extra);
        let out = kc_in(&dir, &args);
        assert!(out.status.success(), "{golden}: {out:?}");
        super::assert_golden(
            &format!("fixtures/golden/template/{golden}"),
            &String::from_utf8_lossy(&out.stdout),
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

/// A name that is not a chart name, or a parent directory that does not exist, is refused with
/// Helm's message and nothing is written.
#[test]
fn create_refuses_bad_names_and_writes_nothing() {
    let dir = tempdir("create-bad");
    for (name, want) in [
        (
            "bad name",
            "Error: chart name must match the regular expression \"^[a-zA-Z0-9._-]+$\"\n",
        ),
        (
            "missing/web",
            &format!(
                "Error: stat {}/missing: no such file or directory\n",
                dir.display()
            ),
        ),
    ] {
        let out = kc_in(&dir, &["create", name]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), want, "{name}");
    }
    assert_eq!(
        fs::read_dir(&dir).expect("read dir").count(),
        0,
        "something was written"
    );
    let _ = fs::remove_dir_all(&dir);
}

/// `create --starter`: a starter given by absolute path or by name under
/// `$HELM_DATA_HOME/starters` is copied as `helm create --starter` copies it (token replaced in
/// templates and values, a new Chart.yaml, ignored files left out), byte for byte.
#[test]
fn create_from_a_starter_matches_helm() {
    let Some(helm) = super::helm::find(3) else { return };
    let base = tempdir("create-starter");
    let data_home = base.join("data");
    let starter = data_home.join("starters/st");
    for (rel, text) in [
        (
            "Chart.yaml",
            "apiVersion: v2\nname: st\nversion: 9.9.9\ndescription: starter\n",
        ),
        (
            "values.yaml",
            "# values for <CHARTNAME>\nname: <CHARTNAME>\nport: 80\n",
        ),
        ("values.schema.json", "{\"type\":\"object\"}\n"),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"<CHARTNAME>.fullname\" . }}\n",
        ),
        (
            "templates/_helpers.tpl",
            "{{- define \"<CHARTNAME>.fullname\" -}}{{ .Release.Name }}-<CHARTNAME>{{- end }}\n",
        ),
        ("docs/README.md", "Doc about <CHARTNAME>, left as it is\n"),
        (".helmignore", "*.bak\n"),
        ("old.bak", "ignored\n"),
    ] {
        let p = starter.join(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    }
    let abs = starter.display().to_string();
    for (tag, by) in [("path", abs.as_str()), ("name", "st")] {
        let ours = base.join(format!("ours-{tag}"));
        let theirs = base.join(format!("helm-{tag}"));
        for (dir, program) in [
            (&ours, PathBuf::from(env!("CARGO_BIN_EXE_kubectl-chart"))),
            (&theirs, helm.clone()),
        ] {
            fs::create_dir_all(dir).expect("mkdir");
            let out = Command::new(program)
                .args(["create", "new.app", "--starter", by])
                .env("HELM_DATA_HOME", &data_home)
                .current_dir(dir)
                .output()
                .expect("run");
            assert!(out.status.success(), "{tag}: {out:?}");
            assert_eq!(String::from_utf8_lossy(&out.stdout), "Creating new.app\n");
        }
        let (got, want) = (tree(&ours), tree(&theirs));
        assert_eq!(got, want, "{tag}: files, modes and bytes");
        assert!(
            got.iter().any(|(n, _, _)| n == "new.app/docs/README.md"),
            "{got:?}"
        );
    }
    let _ = fs::remove_dir_all(&base);
}
