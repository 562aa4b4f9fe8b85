//! Printer shapes. Expected texts are built from Helm v3.17's printers (`cmd/helm/history.go`,
//! `list.go`, `status.go`, `get_*.go`): uitable rows, Go's JSON field names and order, and
//! sigs.k8s.io/yaml's sorted keys.

use serde_json::json;

use super::*;
use crate::release::{HookRun, Status, Timestamp};

// Mon Oct  3 10:15:13 2016 UTC, the date of helm's history help example.
const T0: i64 = 1_475_489_713;

fn rel(revision: u32, status: Status, description: &str) -> Release {
    Release {
        name: "angry-bird".into(),
        namespace: "prod".into(),
        revision,
        status,
        chart: ChartRef {
            name: "alpine".into(),
            version: "0.1.0".into(),
            app_version: "1.0".into(),
            origin: None,
        },
        values: json!({"image": {"tag": "1.2"}}),
        computed_values: json!({"replicas": 1, "image": {"tag": "1.2", "repo": "alpine"}}),
        manifest: "---\n# Source: alpine/templates/cm.yaml\nkind: ConfigMap".into(),
        hooks: Vec::new(),
        notes: String::new(),
        description: description.into(),
        first_deployed: Timestamp(T0),
        last_deployed: Timestamp(T0 + i64::from(revision)),
        deleted: None,
        owner: "run-1".into(),
    }
}

fn text(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    f(&mut out).expect("write");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn history_formats() {
    let revs = [
        rel(1, Status::Superseded, "Install complete"),
        rel(2, Status::Deployed, "Upgrade complete"),
    ];
    let cases = [
        (
            "table",
            OutputFormat::Table,
            "REVISION\tUPDATED                 \tSTATUS    \tCHART       \tAPP VERSION\tDESCRIPTION     \n\
             1       \tMon Oct  3 10:15:14 2016\tsuperseded\talpine-0.1.0\t1.0        \tInstall complete\n\
             2       \tMon Oct  3 10:15:15 2016\tdeployed  \talpine-0.1.0\t1.0        \tUpgrade complete\n",
        ),
        (
            "json: releaseInfo fields in struct order",
            OutputFormat::Json,
            "[{\"revision\":1,\"updated\":\"2016-10-03T10:15:14Z\",\"status\":\"superseded\",\"chart\":\"alpine-0.1.0\",\
             \"app_version\":\"1.0\",\"description\":\"Install complete\"},\
             {\"revision\":2,\"updated\":\"2016-10-03T10:15:15Z\",\"status\":\"deployed\",\"chart\":\"alpine-0.1.0\",\
             \"app_version\":\"1.0\",\"description\":\"Upgrade complete\"}]\n",
        ),
        (
            "yaml: keys sorted",
            OutputFormat::Yaml,
            "- app_version: \"1.0\"\n  chart: alpine-0.1.0\n  description: Install complete\n  revision: 1\n  \
             status: superseded\n  updated: \"2016-10-03T10:15:14Z\"\n\
             - app_version: \"1.0\"\n  chart: alpine-0.1.0\n  description: Upgrade complete\n  revision: 2\n  \
             status: deployed\n  updated: \"2016-10-03T10:15:15Z\"\n",
        ),
    ];
    for (name, format, want) in cases {
        assert_eq!(text(|o| write_history(o, &revs, format)), want, "{name}");
    }
}

#[test]
fn list_formats() {
    let a = rel(3, Status::Deployed, "").meta();
    let b = RecordMeta {
        name: "web".into(),
        chart: ChartRef {
            name: "nginx".into(),
            version: "15.0.0".into(),
            app_version: String::new(),
            origin: None,
        },
        ..rel(1, Status::Failed, "").meta()
    };
    let rows = [("prod", &a), ("staging", &b)];
    let cases = [
        (
            "table",
            OutputFormat::Table,
            ListStyle::default(),
            "NAME      \tNAMESPACE\tREVISION\tUPDATED                      \tSTATUS  \tCHART       \tAPP VERSION\n\
             angry-bird\tprod     \t3       \t2016-10-03 10:15:16 +0000 UTC\tdeployed\talpine-0.1.0\t1.0        \n\
             web       \tstaging  \t1       \t2016-10-03 10:15:14 +0000 UTC\tfailed  \tnginx-15.0.0\t           \n",
        ),
        (
            "no headers",
            OutputFormat::Table,
            ListStyle { short: false, no_headers: true },
            "angry-bird\tprod   \t3\t2016-10-03 10:15:16 +0000 UTC\tdeployed\talpine-0.1.0\t1.0\n\
             web       \tstaging\t1\t2016-10-03 10:15:14 +0000 UTC\tfailed  \tnginx-15.0.0\t   \n",
        ),
        (
            "json: revision is a string",
            OutputFormat::Json,
            ListStyle::default(),
            "[{\"name\":\"angry-bird\",\"namespace\":\"prod\",\"revision\":\"3\",\"updated\":\"2016-10-03 10:15:16 +0000 UTC\",\
             \"status\":\"deployed\",\"chart\":\"alpine-0.1.0\",\"app_version\":\"1.0\"},\
             {\"name\":\"web\",\"namespace\":\"staging\",\"revision\":\"1\",\"updated\":\"2016-10-03 10:15:14 +0000 UTC\",\
             \"status\":\"failed\",\"chart\":\"nginx-15.0.0\",\"app_version\":\"\"}]\n",
        ),
        ("short table", OutputFormat::Table, ListStyle { short: true, no_headers: false }, "angry-bird\nweb\n"),
        ("short json", OutputFormat::Json, ListStyle { short: true, no_headers: false }, "[\"angry-bird\",\"web\"]\n"),
        ("short yaml", OutputFormat::Yaml, ListStyle { short: true, no_headers: false }, "- angry-bird\n- web\n"),
    ];
    for (name, format, style, want) in cases {
        assert_eq!(text(|o| write_list(o, &rows, format, style)), want, "{name}");
    }
    assert_eq!(
        text(|o| write_list(o, &[], OutputFormat::Json, ListStyle::default())),
        "[]\n",
        "empty json list is [] (helm initialises the slice)"
    );
}

#[test]
fn status_table_and_json() {
    let mut r = rel(2, Status::Deployed, "Upgrade complete");
    r.notes = "  Visit http://example\n".into();
    let cases = [
        (
            "plain",
            false,
            "NAME: angry-bird\nLAST DEPLOYED: Mon Oct  3 10:15:15 2016\nNAMESPACE: prod\nSTATUS: deployed\n\
             REVISION: 2\nTEST SUITE: None\nNOTES:\nVisit http://example\n",
        ),
        (
            "show-desc",
            true,
            "NAME: angry-bird\nLAST DEPLOYED: Mon Oct  3 10:15:15 2016\nNAMESPACE: prod\nSTATUS: deployed\n\
             REVISION: 2\nDESCRIPTION: Upgrade complete\nTEST SUITE: None\nNOTES:\nVisit http://example\n",
        ),
    ];
    for (name, show_description, want) in cases {
        let got = text(|o| write_status(o, &r, OutputFormat::Table, StatusView { show_description }));
        assert_eq!(got, want, "{name}");
    }

    // helm's release.Release JSON: name, info{first_deployed,last_deployed,deleted,description,
    // status,notes}, config, manifest, hooks, version, namespace.
    let got: serde_json::Value = serde_json::from_str(&text(|o| {
        write_status(o, &r, OutputFormat::Json, StatusView::default())
    }))
    .expect("json");
    let want = json!({
        "name": "angry-bird",
        "info": {
            "first_deployed": "2016-10-03T10:15:13Z",
            "last_deployed": "2016-10-03T10:15:15Z",
            "deleted": "",
            "description": "Upgrade complete",
            "status": "deployed",
            "notes": "  Visit http://example\n",
        },
        "config": {"image": {"tag": "1.2"}},
        "manifest": "---\n# Source: alpine/templates/cm.yaml\nkind: ConfigMap",
        "version": 2,
        "namespace": "prod",
    });
    assert_eq!(got, want);
    let keys: Vec<&String> = got.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        ["name", "info", "config", "manifest", "version", "namespace"],
        "field order"
    );
}

#[test]
fn status_test_suite_lines() {
    let mut r = rel(1, Status::Deployed, "");
    r.hooks = vec![
        Hook {
            name: "t1".into(),
            events: vec!["test".into()],
            last_run: Some(HookRun {
                started_at: Timestamp(T0),
                completed_at: Some(Timestamp(T0 + 5)),
                phase: "Succeeded".into(),
            }),
            ..Hook::default()
        },
        Hook {
            name: "never-ran".into(),
            events: vec!["test".into()],
            ..Hook::default()
        },
    ];
    let got = text(|o| write_status(o, &r, OutputFormat::Table, StatusView::default()));
    let want =
        "NAME: angry-bird\nLAST DEPLOYED: Mon Oct  3 10:15:14 2016\nNAMESPACE: prod\nSTATUS: deployed\n\
                REVISION: 1\nTEST SUITE:     t1\nLast Started:   Mon Oct  3 10:15:13 2016\n\
                Last Completed: Mon Oct  3 10:15:18 2016\nPhase:          Succeeded\n";
    assert_eq!(got, want);
}

#[test]
fn hook_json_shape() {
    // release.Hook: last_run has no omitempty effect (struct), weight/delete_policies omitempty.
    let h = Hook {
        name: "pre".into(),
        kind: "Job".into(),
        path: "c/templates/job.yaml".into(),
        manifest: "kind: Job".into(),
        events: vec!["pre-install".into()],
        weight: 0,
        delete_policies: vec![],
        last_run: None,
    };
    assert_eq!(
        hook_json(&h),
        json!({"name": "pre", "kind": "Job", "path": "c/templates/job.yaml", "manifest": "kind: Job",
               "events": ["pre-install"], "last_run": {"started_at": "", "completed_at": "", "phase": ""}})
    );
}

#[test]
fn get_printers() {
    let mut r = rel(1, Status::Deployed, "");
    r.notes = "hello\n".into();
    r.hooks = vec![Hook {
        path: "alpine/templates/job.yaml".into(),
        manifest: "kind: Job".into(),
        ..Hook::default()
    }];
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "manifest",
            text(|o| write_manifest(o, &r)),
            "---\n# Source: alpine/templates/cm.yaml\nkind: ConfigMap\n",
        ),
        ("notes", text(|o| write_notes(o, &r)), "NOTES:\nhello\n\n"),
        (
            "hooks",
            text(|o| write_hooks(o, &r.hooks)),
            "---\n# Source: alpine/templates/job.yaml\nkind: Job\n",
        ),
        (
            "user values table",
            text(|o| write_values(o, &r.values, false, OutputFormat::Table)),
            "USER-SUPPLIED VALUES:\nimage:\n  tag: \"1.2\"\n",
        ),
        (
            "computed values table",
            text(|o| write_values(o, &r.computed_values, true, OutputFormat::Table)),
            "COMPUTED VALUES:\nimage:\n  repo: alpine\n  tag: \"1.2\"\nreplicas: 1\n",
        ),
        (
            "computed values json: map keys sorted",
            text(|o| write_values(o, &r.computed_values, true, OutputFormat::Json)),
            "{\"image\":{\"repo\":\"alpine\",\"tag\":\"1.2\"},\"replicas\":1}\n",
        ),
        (
            "no user values",
            text(|o| write_values(o, &serde_json::Value::Null, false, OutputFormat::Table)),
            "USER-SUPPLIED VALUES:\nnull\n",
        ),
        (
            "all",
            text(|o| write_all(o, &r)),
            "NAME: angry-bird\nLAST DEPLOYED: Mon Oct  3 10:15:14 2016\nNAMESPACE: prod\nSTATUS: deployed\n\
             REVISION: 1\nCHART: alpine\nVERSION: 0.1.0\nAPP_VERSION: 1.0\nTEST SUITE: None\n\
             USER-SUPPLIED VALUES:\nimage:\n  tag: \"1.2\"\n\n\
             COMPUTED VALUES:\nimage:\n  repo: alpine\n  tag: \"1.2\"\nreplicas: 1\n\n\
             HOOKS:\n---\n# Source: alpine/templates/job.yaml\nkind: Job\n\
             MANIFEST:\n---\n# Source: alpine/templates/cm.yaml\nkind: ConfigMap\n\
             NOTES:\nhello\n",
        ),
    ];
    for (name, got, want) in cases {
        assert_eq!(got, want, "{name}");
    }
}

/// A fetched chart's origin shows in history (a SOURCE column, JSON keys) and status, and a
/// release from a chart directory prints exactly as before.
#[test]
fn chart_origin_shown_when_known() {
    let mut fetched = rel(2, Status::Deployed, "Upgrade complete");
    fetched.chart.origin = Some(crate::release::ChartOrigin {
        source: "oci://reg.test/charts/alpine:0.1.0".into(),
        digest: "sha256:ab".into(),
    });
    let revs = [rel(1, Status::Superseded, "Install complete"), fetched.clone()];
    let table = text(|o| write_history(o, &revs, OutputFormat::Table));
    let lines: Vec<&str> = table.lines().collect();
    // uitable pads every cell, the last column too.
    assert!(lines[0].trim_end().ends_with("\tSOURCE"), "{table}");
    assert!(
        lines[2].ends_with("\toci://reg.test/charts/alpine:0.1.0@sha256:ab"),
        "{table}"
    );
    let plain = text(|o| write_history(o, &revs[..1], OutputFormat::Table));
    assert!(!plain.contains("SOURCE"), "no column without an origin: {plain}");
    let entry = history_entry(&fetched);
    assert_eq!(entry["chart_source"], "oci://reg.test/charts/alpine:0.1.0");
    assert_eq!(entry["chart_digest"], "sha256:ab");
    assert!(history_entry(&revs[0]).get("chart_source").is_none());
}
