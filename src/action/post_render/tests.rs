//! Tests of the post-renderer runner: lookup, exit status, timeout and output checks, with small
//! shell scripts written to a scratch directory.

use super::*;

/// A scratch directory, fresh for each test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kc-post-render-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn script(dir: &Path, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

fn renderer(path: &str, args: &[&str]) -> PostRenderer {
    let args = args.iter().map(|s| s.to_string()).collect();
    PostRenderer::find(path.to_string(), args, Duration::from_secs(60)).expect("found")
}

/// A post-renderer that is never run (for the checks of its output), named as given.
fn unrun(path: &str) -> PostRenderer {
    PostRenderer {
        path: path.to_string(),
        exe: PathBuf::from(path),
        args: Vec::new(),
        timeout: Duration::from_secs(60),
    }
}

#[test]
fn runs_with_args_and_returns_stdout() {
    let dir = scratch("args");
    let sed = script(
        &dir,
        "sed.sh",
        "sed -e \"s/replicas: 1/replicas: $1/\" && echo \"# $2\"",
    );
    let out = run_post_renderer(&renderer(&sed, &["3", "--flag"]), "kind: A\nreplicas: 1\n").unwrap();
    assert_eq!(out, b"kind: A\nreplicas: 3\n# --flag\n");
    // A large input: the renderer writes while it still reads, which must not deadlock.
    let cat = script(&dir, "cat.sh", "cat");
    let big = "a: 1\n".repeat(200_000);
    assert_eq!(
        run_post_renderer(&renderer(&cat, &[]), &big).unwrap(),
        big.as_bytes()
    );
    // Bytes that are not UTF-8 come back as they were printed (Helm's template prints them).
    let latin1 = script(&dir, "latin1.sh", "cat >/dev/null; printf 'name: caf\\351\\n'");
    assert_eq!(
        run_post_renderer(&renderer(&latin1, &[]), "a: 1\n").unwrap(),
        b"name: caf\xe9\n"
    );
}

#[test]
fn output_that_is_not_utf8_names_its_document_and_line() {
    let pr = unrun("kustomize");
    let cases: &[(&str, &[u8], &str)] = &[
        ("first line", b"\xff", "document 1, line 1"),
        ("in a comment", b"a: 1\n# caf\xe9\n", "document 1, line 2"),
        (
            "third document, after a leading separator",
            b"---\na: 1\n---\nb: 2\n---\nc: caf\xe9\n",
            "document 3, line 6",
        ),
        (
            "first byte of a document",
            b"a: 1\n---\n\xff",
            "document 2, line 3",
        ),
        (
            "truncated sequence at the end",
            b"a: 1\nb: \xc3",
            "document 1, line 2",
        ),
    ];
    for (name, out, at) in cases {
        let err = decode_output(&pr, out.to_vec()).expect_err(name);
        assert_eq!(
            err.to_string(),
            format!(
                "post-renderer kustomize printed bytes that are not UTF-8 ({at} of its output); nothing was applied"
            ),
            "{name}"
        );
    }
    assert_eq!(
        decode_output(&pr, b"a: caf\xc3\xa9\n".to_vec()).unwrap(),
        "a: café\n"
    );
}

#[test]
fn failures_are_clear_errors() {
    let dir = scratch("fail");
    let fail = script(
        &dir,
        "fail.sh",
        "cat >/dev/null; echo 'boom on stderr' >&2; exit 3",
    );
    let hang = script(&dir, "hang.sh", "exec sleep 30");
    let cases: Vec<(&str, PostRenderer, String)> = vec![
        (
            "non-zero exit carries stderr, as Helm",
            renderer(&fail, &[]),
            format!("error while running post render on files: error while running command {fail}. error output:\nboom on stderr\n: exit status 3"),
        ),
        (
            "hang is killed at the timeout",
            PostRenderer {
                timeout: Duration::from_millis(200),
                ..renderer(&hang, &[])
            },
            format!("error while running post render on files: {hang} did not finish within 200ms (--post-renderer-timeout); it was killed and nothing was applied"),
        ),
    ];
    for (name, pr, want) in cases {
        let err = run_post_renderer(&pr, "a: 1\n").expect_err(name);
        assert_eq!(format!("{err:#}"), want, "{name}");
    }
}

#[test]
fn missing_or_not_executable_is_a_flag_error() {
    let dir = scratch("find");
    std::fs::write(dir.join("plain.txt"), "not executable").unwrap();
    let plain = dir.join("plain.txt").display().to_string();
    let dir_path = dir.display().to_string();
    let cases: Vec<(&str, String, String)> = vec![
        (
            "bare name not on PATH",
            "kc-no-such-post-renderer".into(),
            r#"invalid argument "kc-no-such-post-renderer" for "--post-renderer" flag: unable to find binary at kc-no-such-post-renderer: exec: "kc-no-such-post-renderer": executable file not found in $PATH"#.into(),
        ),
        (
            "missing path",
            "./kc-no-such-post-renderer".into(),
            r#"invalid argument "./kc-no-such-post-renderer" for "--post-renderer" flag: unable to find binary at ./kc-no-such-post-renderer: exec: "./kc-no-such-post-renderer": stat ./kc-no-such-post-renderer: no such file or directory"#.into(),
        ),
        (
            "not executable",
            plain.clone(),
            format!(r#"invalid argument "{plain}" for "--post-renderer" flag: unable to find binary at {plain}: exec: "{plain}": permission denied"#),
        ),
        (
            "a directory",
            dir_path.clone(),
            format!(r#"invalid argument "{dir_path}" for "--post-renderer" flag: unable to find binary at {dir_path}: exec: "{dir_path}": is a directory"#),
        ),
    ];
    for (name, path, want) in cases {
        let err = PostRenderer::find(path, Vec::new(), Duration::from_secs(1)).expect_err(name);
        assert_eq!(format!("{err:#}"), want, "{name}");
    }
}

#[test]
fn bare_names_are_looked_up_on_path() {
    // `sh` is on every PATH this runs with; the result is absolute, as Helm's `filepath.Abs`.
    let found = look_path("sh").unwrap();
    assert!(found.is_absolute() && found.ends_with("sh"), "{found:?}");
}

#[test]
fn output_is_split_checked_and_sorted() {
    let pr = unrun("kustomize");
    let out = "---\n# Source: c/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n";
    let docs = split_output(&pr, out).unwrap();
    let got: Vec<(&str, &str)> = docs
        .iter()
        .map(|m| (m.path.as_str(), m.head.kind.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("(post-renderer output, document 2)", "Namespace"),
            ("c/templates/deploy.yaml", "Deployment"),
        ]
    );
    assert_eq!(
        docs[1].content,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web"
    );
    assert!(
        split_output(&pr, "").unwrap().is_empty(),
        "empty output is no objects, as in Helm"
    );
    let err = split_output(&pr, "kind: A\n---\na: [b\n").unwrap_err();
    assert!(
        format!("{err:#}")
            .starts_with("post-renderer kustomize printed invalid YAML (document 2); nothing was applied: "),
        "{err:#}"
    );
}

#[test]
fn strategic_merge_uses_the_builtin_merge_keys() {
    let lists = BuiltinLists::new();
    let cases: &[(&str, &str, &[&str], ListMerge)] = &[
        (
            "apps/v1",
            "Deployment",
            &["spec", "template", "spec", "containers"],
            ListMerge::Keys(vec!["name".into()]),
        ),
        (
            "batch/v1",
            "CronJob",
            &["spec", "jobTemplate", "spec", "template", "spec", "volumes"],
            ListMerge::Keys(vec!["name".into()]),
        ),
        (
            "v1",
            "Service",
            &["spec", "ports"],
            ListMerge::Keys(vec!["port".into()]),
        ),
        ("v1", "ConfigMap", &["metadata", "finalizers"], ListMerge::Set),
        (
            "apps/v1",
            "Deployment",
            &["spec", "template", "spec", "containers", "args"],
            ListMerge::Replace,
        ),
        ("example.com/v1", "Widget", &["spec", "items"], ListMerge::Replace),
    ];
    for (api, kind, path, want) in cases {
        assert_eq!(
            lists.list_merge(api, kind, path),
            *want,
            "{kind} {}",
            path.join(".")
        );
    }
}
