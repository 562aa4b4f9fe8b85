//! `kubectl-chart template` end to end, through the real binary: golden outputs for the fixture
//! charts (the goldens were produced by helm v3.17.2 itself; `UPDATE_GOLDEN=1` rewrites them from our
//! output, and the diff is then read in review), and one clear error line for each kind of bad input.

// Ported test tables; a module of this binary (not a binary of its own) to keep test binaries few.
mod suites;

// `lint`, offline: broken fixtures and the corpus against helm.
mod lint;

// `create`: helm's starter, byte for byte.
mod create;

// `--post-renderer` against helm, `--patch`/`--set-image` against goldens.
mod patches;

// Helm as the oracle (only its finder is used here).
use crate::support::helm;

use std::{
    collections::BTreeSet,
    fs,
    path::PathBuf,
    process::{Command, Output},
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-chart"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run binary")
}

fn assert_golden(rel: &str, actual: &str) {
    let path = root().join(rel);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, actual).expect("write golden");
        return;
    }
    let want = fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {rel}: {e}"));
    let want = want.replace("\r\n", "\n");
    if want != actual {
        let diff = similar::TextDiff::from_lines(&want, actual)
            .unified_diff()
            .header("want", "got")
            .to_string();
        panic!("{rel} differs (UPDATE_GOLDEN=1 rewrites it):\n{diff}");
    }
}

/// (case, args, golden file)
const GOLDEN_CASES: &[(&str, &[&str], &str)] = &[
    // Issue 22's fixtures render as helm renders them (goldens from helm v3.17.2).
    (
        "depends-on annotations",
        &["template", "ord", "fixtures/charts/depends-on", "-n", "shop"],
        "depends-on.yaml",
    ),
    (
        "crd-upgrade v2 with its crds/",
        &[
            "template",
            "wid",
            "fixtures/charts/crd-upgrade/v2",
            "-n",
            "shop",
            "--include-crds",
        ],
        "crd-upgrade-v2.yaml",
    ),
    (
        "demo defaults",
        &["template", "demo", "fixtures/charts/demo", "-n", "web"],
        "demo.yaml",
    ),
    (
        "demo with values file, --set, --set-string, kube version",
        &[
            "template",
            "prod",
            "fixtures/charts/demo",
            "-n",
            "prod",
            "-f",
            "fixtures/values/demo-prod.yaml",
            "--set",
            "env.WORKERS=8",
            "--set-string",
            "secret.password=12345",
            "--kube-version",
            "1.29.0",
        ],
        "demo-prod.yaml",
    ),
    // Handlebars templates next to Go templates (no helm reference: helm has no handlebars; the
    // golden was read in review).
    (
        "mixed go and handlebars",
        &[
            "template",
            "web",
            "fixtures/charts/mixed",
            "-n",
            "prod",
            "--kube-version",
            "1.31.0",
        ],
        "mixed.yaml",
    ),
    (
        ".Files.Glob with malformed patterns",
        &["template", "rel", "fixtures/charts/glob-edges", "-n", "ns"],
        "glob-edges.yaml",
    ),
];

/// Charts Helm warns about or refuses before rendering, or whose rendered YAML it refuses: (case, chart, exit code, stdout golden
/// (none when the command fails), stderr golden). Both goldens are helm v3.17.2's own output for
/// `helm template rel CHART -n ns`, byte for byte; a stderr golden named `*.sorted.stderr` holds
/// Helm's lines sorted, for warnings Helm prints in Go's random map order.
const CHART_CHECK_CASES: &[(&str, &str, i32, Option<&str>, &str)] = &[
    (
        "deprecated chart, non-bool conditions, import-values of nothing",
        "dangling-refs",
        0,
        Some("dangling-refs.yaml"),
        "dangling-refs.stderr",
    ),
    (
        "dependencies missing from charts/",
        "missing-dep",
        1,
        None,
        "missing-dep.stderr",
    ),
    ("library chart", "library", 1, None, "library.stderr"),
    (
        "parent values that cannot replace a subchart's, warned about in each coalescing pass",
        "coalesce-warnings",
        0,
        Some("coalesce-warnings.yaml"),
        "coalesce-warnings.sorted.stderr",
    ),
    (
        "values.schema.json of the chart and two levels of subcharts",
        "bad-schema",
        1,
        None,
        "bad-schema.stderr",
    ),
    (
        "a template that renders YAML go-yaml refuses, and Helm's hint after the error",
        "lint-bad-yaml",
        1,
        None,
        "bad-yaml.stderr",
    ),
];

#[test]
fn chart_level_checks_match_helm() {
    for (name, chart, code, stdout_golden, stderr_golden) in CHART_CHECK_CASES {
        let chart = format!("fixtures/charts/{chart}");
        let out = run(&["template", "rel", &chart, "-n", "ns"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(*code),
            "{name}: exit code; stderr: {stderr}"
        );
        if let Some(golden) = stdout_golden {
            assert_golden(
                &format!("fixtures/golden/template/{golden}"),
                &String::from_utf8_lossy(&out.stdout),
            );
        } else {
            assert!(out.stdout.is_empty(), "{name}: printed output although it failed");
        }
        let stderr = if stderr_golden.ends_with(".sorted.stderr") {
            let mut lines: Vec<&str> = stderr.lines().collect();
            lines.sort_unstable();
            lines.iter().map(|l| format!("{l}\n")).collect()
        } else {
            stderr.into_owned()
        };
        assert_golden(&format!("fixtures/golden/template/{stderr_golden}"), &stderr);
    }
}

/// `--debug` with a file go-yaml refuses: every rendered file is written out before the error,
/// as helm's `template --debug` does (its order is a Go map's, so the files are compared as a
/// set), and the error and hint are the same as without it.
#[test]
fn debug_writes_out_what_rendered_like_helm() {
    let Some((ours, theirs)) = ours_and_helms(&[
        "template",
        "rel",
        "fixtures/charts/lint-bad-yaml",
        "-n",
        "ns",
        "--debug",
    ]) else {
        return;
    };
    assert_eq!(ours.status.code(), Some(1));
    assert_eq!(theirs.status.code(), Some(1));
    // Helm trims the end of the whole text, so the last file (a Go map order's pick) ends
    // differently: each file is compared trimmed.
    let files = |out: &[u8]| -> BTreeSet<String> {
        String::from_utf8_lossy(out)
            .split("---\n")
            .filter(|f| !f.is_empty())
            .map(|f| f.trim_end().to_string())
            .collect()
    };
    let ours_files = files(&ours.stdout);
    assert_eq!(ours_files, files(&theirs.stdout));
    assert!(
        ours_files.iter().any(|f| f.contains("key: value: other")),
        "{ours_files:?}"
    );
    // Helm's --debug follows the error line with a Go stack trace, and prints no hint.
    let error_line = |err: &[u8]| {
        let text = String::from_utf8_lossy(err).into_owned();
        let at = text.find("Error: ").expect("an error line");
        text[at..].lines().next().unwrap_or_default().to_string()
    };
    assert_eq!(error_line(&ours.stderr), error_line(&theirs.stderr));
    assert!(!String::from_utf8_lossy(&ours.stderr).contains("Use --debug"));
}

/// `--debug` after a template's own error: helm prints the release's (empty) manifest, a line
/// break, and the error with no hint.
#[test]
fn debug_after_a_template_error_prints_what_helm_prints() {
    let args = [
        "template",
        "rel",
        "fixtures/charts/lint-template-error",
        "--debug",
    ];
    let Some((ours, theirs)) = ours_and_helms(&args) else {
        return;
    };
    assert_eq!(ours.status.code(), theirs.status.code());
    assert_eq!(ours.stdout, theirs.stdout);
    assert_eq!(ours.stdout, b"\n");
}

/// Our run and helm v3's of the same command line; `None` when helm is not installed.
fn ours_and_helms(args: &[&str]) -> Option<(Output, Output)> {
    let helm3 = helm::find(3)?;
    let theirs = Command::new(helm3).args(args).output().expect("helm runs");
    Some((run(args), theirs))
}

#[test]
fn fixture_charts_render_like_helm() {
    for (name, args, golden) in GOLDEN_CASES {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: exit {:?}\n{stderr}", out.status);
        assert_golden(
            &format!("fixtures/golden/template/{golden}"),
            &String::from_utf8_lossy(&out.stdout),
        );
    }
}

#[test]
fn show_only_selects_templates_in_pattern_order() {
    let out = run(&[
        "template",
        "demo",
        "fixtures/charts/demo",
        "-s",
        "templates/service.yaml",
        "-s",
        "charts/cache/templates/*.yaml",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let sources: Vec<&str> = text.lines().filter(|l| l.starts_with("# Source: ")).collect();
    assert_eq!(
        sources,
        [
            "# Source: demo/templates/service.yaml",
            "# Source: demo/charts/cache/templates/statefulset.yaml"
        ]
    );
    let missing = run(&[
        "template",
        "demo",
        "fixtures/charts/demo",
        "-s",
        "templates/nope.yaml",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("could not find template templates/nope.yaml"));
}

#[test]
fn output_dir_writes_one_file_per_template() {
    let dir = tempdir("outdir");
    let out = run(&[
        "template",
        "demo",
        "fixtures/charts/demo",
        "--output-dir",
        dir.to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svc = fs::read_to_string(dir.join("demo/templates/service.yaml")).expect("service written");
    assert!(svc.starts_with("---\n# Source: demo/templates/service.yaml\napiVersion: v1\nkind: Service\n"));
    assert!(dir.join("demo/charts/cache/templates/statefulset.yaml").exists());
}

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kc-test-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes a one-template chart with the given files and returns its directory.
fn chart_with(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = tempdir(tag);
    for (name, text) in files {
        let p = dir.join(name);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    }
    dir
}

fn stderr_of(args: &[&str]) -> (Option<i32>, String) {
    let out = run(args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CHART_YAML: &str = "apiVersion: v2\nname: bad\nversion: 0.1.0\n";

#[test]
fn bad_input_gives_one_clear_error_and_exit_1() {
    let cases: Vec<(&str, PathBuf, Vec<&str>, &[&str])> = vec![
        ("missing chart", PathBuf::from("fixtures/charts/does-not-exist"), vec![], &["does-not-exist"]),
        (
            "bad Chart.yaml",
            chart_with("badchart", &[("Chart.yaml", "apiVersion: v2\nname: [unclosed\n")]),
            vec![],
            &["Chart.yaml:2:7"],
        ),
        (
            "template syntax error",
            chart_with(
                "syntax",
                &[("Chart.yaml", CHART_YAML), ("templates/cm.yaml", "a: 1\nb: {{ .Values.x \n")],
            ),
            vec![],
            &["parse error at (bad/templates/cm.yaml:", "unclosed action"],
        ),
        (
            "required value missing",
            chart_with(
                "required",
                &[("Chart.yaml", CHART_YAML), ("templates/cm.yaml", "a: 1\nb: {{ required \"x is required\" .Values.x }}\n")],
            ),
            vec![],
            &["execution error at (bad/templates/cm.yaml:2:6): x is required"],
        ),
        (
            "schema violation",
            chart_with(
                "schema",
                &[
                    ("Chart.yaml", CHART_YAML),
                    ("values.yaml", "replicas: 1\n"),
                    (
                        "values.schema.json",
                        r#"{"type":"object","properties":{"replicas":{"type":"integer","minimum":1}}}"#,
                    ),
                    ("templates/cm.yaml", "a: {{ .Values.replicas }}\n"),
                ],
            ),
            vec!["--set", "replicas=0"],
            &["replicas"],
        ),
        (
            "--set syntax error",
            chart_with("setsyntax", &[("Chart.yaml", CHART_YAML), ("templates/cm.yaml", "a: 1\n")]),
            vec!["--set", "a[=1"],
            &["failed parsing --set data"],
        ),
        (
            "YAML bomb in values",
            chart_with(
                "bomb",
                &[
                    ("Chart.yaml", CHART_YAML),
                    (
                        "values.yaml",
                        "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n",
                    ),
                    ("templates/cm.yaml", "a: 1\n"),
                ],
            ),
            vec![],
            &["values.yaml"],
        ),
        (
            "handlebars missing value (strict mode)",
            chart_with(
                "hbsmissing",
                &[("Chart.yaml", CHART_YAML), ("templates/cm.yaml.hbs", "a: 1\nb: {{Values.nope}}\n")],
            ),
            vec![],
            &["handlebars: bad/templates/cm.yaml.hbs:2:", "nope"],
        ),
        (
            "handlebars required",
            chart_with(
                "hbsrequired",
                &[
                    ("Chart.yaml", CHART_YAML),
                    ("values.yaml", "x: \"\"\n"),
                    ("templates/cm.yaml.hbs", "a: {{required \"x is required\" Values.x}}\n"),
                ],
            ),
            vec![],
            &["bad/templates/cm.yaml.hbs:1:", "x is required"],
        ),
        (
            "invalid YAML rendered",
            chart_with("badyaml", &[("Chart.yaml", CHART_YAML), ("templates/cm.yaml", "a: [1\n")]),
            vec![],
            &["bad/templates/cm.yaml"],
        ),
    ];
    for (name, chart, extra, wants) in cases {
        let chart = chart.to_string_lossy().into_owned();
        let mut args = vec!["template", "rel", chart.as_str()];
        args.extend(extra);
        let (code, stderr) = stderr_of(&args);
        assert_eq!(code, Some(1), "{name}: exit code; stderr: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: panicked: {stderr}");
        for want in wants {
            assert!(stderr.contains(want), "{name}: stderr lacks {want:?}: {stderr}");
        }
        assert!(
            stderr.lines().count() <= 4,
            "{name}: error should be short: {stderr}"
        );
    }
}

#[test]
fn version_prints_crate_version() {
    let out = run(&["version", "--short"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
}

/// A gzipped tar of `entries` (names as given, so a test can write any header it needs).
fn tgz(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        builder.append_data(&mut h, name, &data[..]).expect("append");
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}

/// Issue 20: what used to crash, hang or mislead, through the binary (its stack, its stderr).
#[test]
fn hostile_input_is_harmless() {
    let dir = tempdir("hostile");

    // 2,300 nested subcharts in one archive: Helm renders them; the 8 MiB main thread overflowed.
    const LEVELS: usize = 2300;
    let mut entries = Vec::new();
    let mut prefix = "c/".to_string();
    for _ in 0..LEVELS {
        entries.push((format!("{prefix}Chart.yaml"), CHART_YAML.as_bytes().to_vec()));
        entries.push((
            format!("{prefix}templates/cm.yaml"),
            b"kind: ConfigMap\nname: {{ .Chart.Name }}\n".to_vec(),
        ));
        prefix.push_str("charts/c/");
    }
    let nested = dir.join("nested.tgz");
    fs::write(&nested, tgz(&entries)).expect("write");
    let out = run(&["template", "rel", &nested.to_string_lossy()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "nested: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.matches("kind: ConfigMap").count(),
        LEVELS,
        "nested: one document a level"
    );

    // A size field holding terminal escapes, with a valid checksum.
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..12].copy_from_slice(b"c/Chart.yaml");
    h.as_old_mut().size.copy_from_slice(b"\x1b[31mEVIL\x1b[0");
    h.set_cksum();
    let mut raw = h.as_bytes().to_vec();
    raw.extend_from_slice(&[0; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &raw).expect("gzip");
    let corrupt = dir.join("corrupt.tgz");
    fs::write(&corrupt, gz.finish().expect("gzip")).expect("write");
    let (code, stderr) = stderr_of(&["template", "rel", &corrupt.to_string_lossy()]);
    assert_eq!(code, Some(1), "corrupt: {stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "corrupt: raw escape on stderr: {stderr:?}"
    );
    assert!(stderr.contains("invalid tar header"), "corrupt: {stderr}");

    // A named pipe as a values file: Helm blocks forever; we refuse it before opening it.
    let chart = chart_with(
        "hostile-chart",
        &[("Chart.yaml", CHART_YAML), ("templates/cm.yaml", "a: 1\n")],
    );
    let fifo = dir.join("values.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let (code, stderr) = stderr_of(&[
        "template",
        "rel",
        &chart.to_string_lossy(),
        "-f",
        &fifo.to_string_lossy(),
    ]);
    assert_eq!(code, Some(1), "fifo: {stderr}");
    assert!(
        stderr.contains("is a named pipe, not a regular file"),
        "fifo: {stderr}"
    );

    // Logs to a pipe carry no colour codes; a symlink gets Helm's line on stderr.
    std::os::unix::fs::symlink(dir.join("nested.tgz"), chart.join("linked.tgz")).expect("symlink");
    let (code, stderr) = stderr_of(&["template", "rel", &chart.to_string_lossy(), "-v", "6"]);
    assert_eq!(code, Some(0), "logs: {stderr}");
    assert!(stderr.contains("DEBUG"), "logs: -v 6 logs nothing: {stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "logs: colour codes in a pipe: {stderr:?}"
    );
    assert!(
        stderr.contains("walk.go:75: found symbolic link in path: ")
            && stderr.contains("/linked.tgz resolves to "),
        "logs: no symlink line: {stderr}"
    );
    let _ = fs::remove_dir_all(&dir);
    let _ = fs::remove_dir_all(&chart);
}
