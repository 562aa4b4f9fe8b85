//! `template` with `--post-renderer`, `--patch` and `--set-image`, through the real binary.
//!
//! The post-renderer is checked against helm v3.17.2 itself: the same script on the same chart
//! must print the same bytes (which documents go through it, hooks after its output, `# Source:`
//! comments left to it, `--show-only` and `--include-crds` with it) and fail the same way. The
//! built-in patches have no Helm counterpart: their output is a golden file per patch kind under
//! `fixtures/patches/golden/` (`UPDATE_GOLDEN=1` rewrites them; the diff is read in review).

use super::{assert_golden, helm, root, run};

const DEMO: &str = "fixtures/charts/demo";
const ALLKINDS: &str = "fixtures/charts/allkinds";
const PR: &str = "fixtures/patches/post-renderer";

/// (case, chart, extra args): each run by helm and by us.
const HELM_CASES: &[(&str, &str, &[&str])] = &[
    ("identity", DEMO, &["--post-renderer", "cat.sh"]),
    // `helm template` never parses what the post-renderer printed: invalid YAML is printed and
    // the exit status is 0.
    (
        "invalid YAML printed unread",
        DEMO,
        &["--post-renderer", "bad-yaml.sh"],
    ),
    (
        "args and rewritten source comments",
        DEMO,
        &["--post-renderer", "replicas.sh", "--post-renderer-args", "5"],
    ),
    (
        "args before the renderer",
        DEMO,
        &["--post-renderer-args", "1", "--post-renderer", "annotate.sh"],
    ),
    (
        "hooks left out",
        DEMO,
        &["--post-renderer", "cat.sh", "--no-hooks"],
    ),
    // Output that is not UTF-8 is printed byte for byte, with `--show-only` too: Helm handles it
    // as a Go string (bytes) and parses none of it in `template`.
    (
        "bytes that are not UTF-8",
        DEMO,
        &["--post-renderer", "latin1.sh"],
    ),
    (
        "bytes that are not UTF-8, show-only",
        DEMO,
        &[
            "--post-renderer",
            "latin1.sh",
            "--show-only",
            "templates/service.yaml",
        ],
    ),
    (
        "show-only finds source comments it kept",
        DEMO,
        &[
            "--post-renderer",
            "cat.sh",
            "--show-only",
            "templates/service.yaml",
        ],
    ),
    (
        "show-only finds a source comment in mid-line",
        DEMO,
        &[
            "--post-renderer",
            "source-mid-line.sh",
            "--show-only",
            "templates/service.yaml",
        ],
    ),
    (
        "crds go through it first",
        ALLKINDS,
        &[
            "--post-renderer",
            "replicas.sh",
            "--post-renderer-args",
            "2",
            "--include-crds",
            "--skip-tests",
        ],
    ),
];

/// helm run from the crate root, as `run` runs ours.
fn run_helm(helm_bin: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(helm_bin)
        .args(args)
        .current_dir(root())
        .output()
        .expect("run helm")
}

/// Arguments with the post-renderer script made absolute (helm resolves a bare name on PATH).
fn with_scripts(chart: &str, args: &[&str]) -> Vec<String> {
    let mut out = vec![
        "template".to_string(),
        "web".to_string(),
        root().join(chart).display().to_string(),
    ];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        out.push(a.to_string());
        if *a == "--post-renderer" {
            let script = it.next().expect("script");
            out.push(root().join(PR).join(script).display().to_string());
        }
    }
    out
}

#[test]
fn post_renderer_output_matches_helm() {
    let Some(helm_bin) = helm::find(3) else { return };
    for (name, chart, args) in HELM_CASES {
        let args = with_scripts(chart, args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ours = run(&args);
        let theirs = run_helm(&helm_bin, &args);
        assert!(
            theirs.status.success(),
            "{name}: helm failed: {}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        assert!(
            ours.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        assert_eq!(
            std::str::from_utf8(&theirs.stdout).is_err(),
            name.contains("not UTF-8"),
            "{name}: the case prints what its name says"
        );
        // Bytes, not text: some cases print bytes that are not UTF-8.
        if ours.stdout != theirs.stdout {
            let (ours, theirs) = (
                String::from_utf8_lossy(&ours.stdout),
                String::from_utf8_lossy(&theirs.stdout),
            );
            let diff = similar::TextDiff::from_lines(theirs.as_ref(), ours.as_ref())
                .unified_diff()
                .header("helm", "ours")
                .to_string();
            panic!("{name}: output differs from helm's:\n{diff}");
        }
    }
}

#[test]
fn failing_post_renderer_fails_like_helm() {
    let Some(helm_bin) = helm::find(3) else { return };
    let args = with_scripts(DEMO, &["--post-renderer", "fail.sh"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ours = run(&args);
    let theirs = run_helm(&helm_bin, &args);
    assert!(!ours.status.success() && !theirs.status.success());
    // The error and Helm's hint about --debug after it.
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        String::from_utf8_lossy(&theirs.stderr)
    );
    assert!(ours.stdout.is_empty(), "nothing printed");
}

/// A post-renderer that is missing or not executable is a flag error in Helm, found while it reads
/// its flags: reported before whatever is wrong with the chart or the values, as Helm reports it.
#[test]
fn bad_post_renderer_is_reported_before_chart_errors_like_helm() {
    let Some(helm_bin) = helm::find(3) else { return };
    let not_executable = root().join(PR).join("README.md");
    assert!(not_executable.is_file(), "{}", not_executable.display());
    let cases: &[(&str, &[&str])] = &[
        ("missing chart", &["fixtures/charts/no-such-chart"]),
        ("values fail the schema", &["fixtures/charts/bad-schema"]),
        ("dependencies missing", &["fixtures/charts/missing-dep"]),
        ("template fails", &[DEMO, "--set", "secret.password=null"]),
        ("bad --set", &[DEMO, "--set", "a={"]),
    ];
    for renderer in [
        "./kc-no-such-post-renderer",
        &not_executable.display().to_string(),
    ] {
        for (name, chart_args) in cases {
            let mut args = vec!["template", "web"];
            args.extend_from_slice(chart_args);
            args.extend(["--post-renderer", renderer]);
            let ours = run(&args);
            let theirs = run_helm(&helm_bin, &args);
            let (ours_err, theirs_err) = (
                String::from_utf8_lossy(&ours.stderr),
                String::from_utf8_lossy(&theirs.stderr),
            );
            assert!(
                theirs_err.contains("for \"--post-renderer\" flag"),
                "{name}: helm reports the post-renderer: {theirs_err}"
            );
            assert!(!ours.status.success(), "{name} ({renderer}): succeeded");
            assert_eq!(ours_err, theirs_err, "{name} ({renderer})");
            assert!(ours.stdout.is_empty(), "{name}: printed something");
        }
    }
}

#[test]
fn bad_post_renderers_are_clear_errors() {
    let script = |s: &str| root().join(PR).join(s).display().to_string();
    let cases: Vec<(&str, Vec<String>, String)> = vec![
        (
            "hangs",
            vec!["--post-renderer".into(), script("hang.sh"), "--post-renderer-timeout".into(), "1s".into()],
            format!("Error: error while running post render on files: {} did not finish within 1s (--post-renderer-timeout); it was killed and nothing was applied", script("hang.sh")),
        ),
        (
            "with --output-dir",
            vec!["--post-renderer".into(), script("cat.sh"), "--output-dir".into(), "/nonexistent/out".into()],
            "Error: --output-dir cannot be combined with --post-renderer".into(),
        ),
    ];
    for (name, extra, want) in cases {
        let mut args = vec!["template".to_string(), "web".into(), DEMO.into()];
        args.extend(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: succeeded");
        assert!(err.starts_with(&want), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}: printed something");
    }
}

/// (golden name, args after `template web demo`)
const PATCH_CASES: &[(&str, &[&str])] = &[
    ("json6902", &["--patch", "fixtures/patches/json6902.yaml"]),
    ("strategic", &["--patch", "fixtures/patches/strategic.yaml"]),
    ("directives", &["--patch", "fixtures/patches/directives.yaml"]),
    ("string-patch", &["--patch", "fixtures/patches/string-patch.yaml"]),
    (
        "set-image",
        &[
            "--set-image",
            "nginx=mirror.local/nginx:1.27",
            "--set-image",
            "busybox@sha256:3fbc632167424a6d997e74f52b878d7cc478225cffac6bc977eedfe51c7f4e79",
            "--set-image",
            "redis=:7.4",
        ],
    ),
    (
        "patches then post-renderer",
        &[
            "--patch",
            "fixtures/patches/json6902.yaml",
            "--post-renderer",
            "fixtures/patches/post-renderer/replicas.sh",
            "--post-renderer-args",
            "4",
        ],
    ),
];

#[test]
fn patch_fixtures_render_as_golden() {
    for (name, extra) in PATCH_CASES {
        let mut args = vec!["template", "web", DEMO];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let golden = format!("fixtures/patches/golden/{}.yaml", name.replace(' ', "-"));
        assert_golden(&golden, &String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn bad_patches_are_clear_errors() {
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "target matches nothing",
            &["--patch", "fixtures/patches/no-match.yaml"],
            "Error: patch file fixtures/patches/no-match.yaml:3: entry 1: target {kind=DaemonSet, name=agent} matches no rendered object\n",
        ),
        (
            "misspelt field",
            &["--patch", "fixtures/patches/bad-field.yaml"],
            "Error: patch file fixtures/patches/bad-field.yaml:3: entry 1: field target.nmae: unknown field (expected group, version, kind, name, namespace, labelSelector)\n",
        ),
        (
            "missing file",
            &["--patch", "fixtures/patches/nope.yaml"],
            "Error: reading patch file fixtures/patches/nope.yaml: No such file or directory (os error 2)\n",
        ),
        (
            "image used nowhere",
            &["--set-image", "postgres=postgres:17"],
            "Error: --set-image \"postgres=postgres:17\": no container or initContainer of a rendered object uses image \"postgres\"\n",
        ),
    ];
    for (name, extra, want) in cases {
        let mut args = vec!["template", "web", DEMO];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert!(!out.status.success(), "{name}: succeeded");
        assert_eq!(String::from_utf8_lossy(&out.stderr), *want, "{name}");
        assert!(out.stdout.is_empty(), "{name}: printed something");
    }
}

/// `--post-renderer-args` without `--post-renderer` is accepted, as Helm accepts it, with one
/// warning: `template` checks its flags before fetching the chart and used to read them twice,
/// which printed the warning twice.
#[test]
fn post_renderer_args_alone_warn_once() {
    let out = run(&["template", "web", DEMO, "--post-renderer-args", "5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("are ignored without --post-renderer").count(),
        1,
        "{err}"
    );
}
