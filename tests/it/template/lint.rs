//! `lint` end to end: the verdict and every message `helm lint` v3.17.2 prints, on broken
//! fixtures (goldens written by helm itself, see `fixtures/golden/lint/regen.sh`) and on every
//! chart of the conformance corpus (helm run live next to us when it is available).

use std::{fs, path::Path, process::Command};

use super::{root, run};

/// What a lint run shows: stdout, then its exit code, with the crate root written as `<ROOT>`
/// (Helm names the chart's absolute directory in dependency messages).
fn shown(stdout: &[u8], code: Option<i32>, root: &Path) -> String {
    let text = String::from_utf8_lossy(stdout).replace(&root.display().to_string(), "<ROOT>");
    format!("{text}exit: {}\n", code.unwrap_or(-1))
}

#[test]
fn lint_matches_helm_on_broken_fixtures() {
    let dir = root().join("fixtures/golden/lint");
    let cases = fs::read_to_string(dir.join("cases.txt")).expect("cases.txt");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in cases
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (name, args) = line.split_once('\t').expect("golden name, a tab, arguments");
        let mut argv = vec!["lint"];
        argv.extend(args.split(' '));
        let out = run(&argv);
        let got = shown(&out.stdout, out.status.code(), &root());
        let want = fs::read_to_string(dir.join(format!("{name}.txt"))).expect("golden");
        if got != want {
            let diff = similar::TextDiff::from_lines(&want, &got)
                .unified_diff()
                .header("helm", "kubectl-chart")
                .to_string();
            failures.push(format!("{name} (lint {args}):\n{diff}"));
        }
        // A failed chart ends with Helm's summary as the error line.
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() == Some(1) {
            assert!(
                stderr
                    .lines()
                    .last()
                    .is_some_and(|l| l.starts_with("Error: ") && l.ends_with("chart(s) failed")),
                "{name}: stderr {stderr}"
            );
        }
        count += 1;
    }
    assert!(count >= 15, "only {count} cases read");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `required` and `fail` do not stop lint (Helm's lint mode): they are reported on stderr and the
/// chart's other problems are still found.
#[test]
fn lint_mode_reports_required_and_fail_on_stderr() {
    let out = run(&["lint", "fixtures/charts/lint-template-error"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for want in [
        "[INFO] Missing required value: a name suffix is required",
        "[INFO] Fail: never fatal under lint",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in {stderr}");
    }
}

/// `lint` on a packaged chart lints what the archive holds.
#[test]
fn lint_reads_packaged_charts() {
    let out = run(&["lint", "fixtures/charts/deps/charts/sub-b-0.2.0.tgz"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("[WARNING] templates/svc.yaml: object name does not conform"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("1 chart(s) linted, 0 chart(s) failed\n"),
        "{stdout}"
    );
}

/// Every corpus chart, with its defaults and with its alternative values, strictly and with its
/// subcharts: our stdout and exit code are helm's.
#[test]
fn lint_matches_helm_on_the_corpus() {
    let corpus = std::env::var("KUBECTL_CHART_CORPUS").unwrap_or_else(|_| "../shared/corpus".to_string());
    let corpus = root().join(corpus);
    if !corpus.join("charts").is_dir() {
        eprintln!("skipped: no chart corpus at {}", corpus.display());
        return;
    }
    let Some(helm) = super::helm::find(3) else { return };
    let mut charts: Vec<String> = fs::read_dir(corpus.join("charts"))
        .expect("corpus charts")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    charts.sort();
    let mut failures = Vec::new();
    for chart in &charts {
        let dir = format!("charts/{chart}");
        let alt = format!("values/{chart}-alt.yaml");
        let mut cases: Vec<Vec<&str>> = vec![
            vec!["lint", &dir],
            vec![
                "lint",
                &dir,
                "--strict",
                "--with-subcharts",
                "--kube-version",
                "1.31.0",
            ],
        ];
        if corpus.join(&alt).is_file() {
            cases.push(vec!["lint", &dir, "-f", &alt, "--strict"]);
        }
        for args in cases {
            let ours = Command::new(env!("CARGO_BIN_EXE_kubectl-chart"))
                .args(&args)
                .current_dir(&corpus)
                .output()
                .expect("run kubectl-chart");
            let theirs = Command::new(&helm)
                .args(&args)
                .current_dir(&corpus)
                .output()
                .expect("run helm");
            let got = shown(&ours.stdout, ours.status.code(), &corpus);
            let want = shown(&theirs.stdout, theirs.status.code(), &corpus);
            if got != want {
                failures.push(format!("{}:\nhelm:\n{want}\nours:\n{got}", args.join(" ")));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `--openapi` (beyond Helm): objects are checked against the shipped Kubernetes 1.32 schema, each
/// problem an error naming the template, the object and the field; kinds the schema does not
/// know (custom resources) are left alone. Without the flag the chart lints as helm lints it
/// (the `openapi-is-not-helms` golden).
#[test]
fn openapi_flag_checks_objects_against_the_shipped_schema() {
    let out = run(&["lint", "fixtures/charts/lint-openapi", "--openapi"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        r#"==> Linting fixtures/charts/lint-openapi
[ERROR] templates/deployment.yaml: Deployment "web": spec.template.spec.containers[0]: missing required field "name"
[ERROR] templates/deployment.yaml: Deployment "web": unknown field "spec.template.spec.containers[0].imagePullPolice"
[ERROR] templates/deployment.yaml: Deployment "web": spec.template.spec.containers[0].ports[0].containerPort: expected integer, got string

"#
    );
    // A chart of valid objects stays clean, strictly.
    let out = run(&["lint", "fixtures/charts/demo", "--openapi", "--strict"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
