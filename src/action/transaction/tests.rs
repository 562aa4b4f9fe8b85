//! The write verbs through their one skeleton, against the in-memory cluster (which also holds
//! the release records): what each records, in which order hooks and writes run, and what an
//! injected failure leaves behind.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::json;

use super::*;
use crate::{
    action::{
        rollback::{rollback, RollbackOptions},
        uninstall::{uninstall, UninstallOptions},
        upgrade::{upgrade, Mode, UpgradeOptions},
    },
    cluster::{self, Cluster, FakeCluster, Gvk, Method, WriteOptions},
    diff::{Action, Change, ObjectRef},
    release::{Operation, Status},
    values::ValuesOptions,
};

/// A chart with one ConfigMap whose data is `--set v=…`, and a ConfigMap hook for every event
/// (each hook's name is its event), so the call log shows when each phase ran.
fn chart(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kc-txn-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let put = |rel: &str, text: &str| std::fs::write(dir.join(rel), text).unwrap();
    put("Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
    put("values.yaml", "v: one\n");
    put(
        "templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  v: {{ .Values.v | quote }}\n",
    );
    let mut hooks = String::new();
    for e in HookEvent::ALL {
        hooks.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {e}\n  annotations:\n    \
             helm.sh/hook: {e}\n    helm.sh/hook-delete-policy: hook-succeeded\n"
        ));
    }
    put("templates/hooks.yaml", &hooks);
    dir
}

fn ctx() -> (Arc<FakeCluster>, Context) {
    let fake = Arc::new(FakeCluster::new("prod"));
    let ctx = Context::with_cluster(fake.clone(), None);
    (fake, ctx)
}

fn upgrade_opts(chart: &Path, v: &str) -> UpgradeOptions {
    UpgradeOptions {
        values: ValuesOptions {
            set: vec![format!("v={v}")],
            ..Default::default()
        },
        timeout: Duration::from_secs(5),
        ..UpgradeOptions::new("web", chart.to_path_buf(), Mode::Apply)
    }
}

fn rollback_opts(revision: u32) -> RollbackOptions {
    RollbackOptions {
        release: "web".into(),
        revision: Some(revision),
        wait: false,
        wait_style: apply::WaitStyle::default(),
        wait_for_jobs: false,
        timeout: Duration::from_secs(5),
        force: false,
        no_hooks: false,
        description: None,
        dry_run: false,
    }
}

/// `(revision, status, description)` of every record, oldest first.
async fn history(ctx: &Context) -> Vec<(u32, Status, String)> {
    let records = ctx.store(None).history("web").await.expect("history");
    records
        .into_iter()
        .map(|r| (r.revision, r.status, r.description))
        .collect()
}

/// The `data.v` of the live ConfigMap `cm`, `None` when it does not exist.
async fn live_value(fake: &FakeCluster) -> Option<String> {
    match fake.get(&Gvk::new("v1", "ConfigMap"), Some("prod"), "cm").await {
        Ok(o) => Some(o["data"]["v"].as_str().unwrap_or_default().to_string()),
        Err(e) if e.is_not_found() => None,
        Err(e) => panic!("reading cm: {e}"),
    }
}

/// The objects written (created, patched or deleted) since call `from`, in order, with the
/// method; release records and locks left out.
fn writes(fake: &FakeCluster, from: usize) -> Vec<(Method, String)> {
    fake.calls()[from..]
        .iter()
        .filter(|c| matches!(c.method, Method::Create | Method::Patch | Method::Delete))
        .filter(|c| !c.name.starts_with("kubectl-chart") && c.gvk.kind != "Lease")
        .map(|c| (c.method, c.name.clone()))
        .collect()
}

fn conflict() -> cluster::Error {
    cluster::Error::Api {
        code: 500,
        reason: "InternalError".into(),
        message: "injected".into(),
        retry_after: None,
    }
}

#[tokio::test]
async fn install_then_upgrade_run_their_own_hooks_around_the_writes() {
    let chart = chart("verbs");
    let (fake, ctx) = ctx();
    let installed = upgrade(&ctx, &upgrade_opts(&chart, "one"))
        .await
        .expect("install");
    assert_eq!(installed.release.revision, 1);
    // Each hook is created, then deleted by its hook-succeeded policy; only install's run.
    assert_eq!(
        writes(&fake, 0),
        [
            (Method::Create, "pre-install"),
            (Method::Delete, "pre-install"),
            (Method::Create, "cm"),
            (Method::Create, "post-install"),
            (Method::Delete, "post-install"),
        ]
        .map(|(m, n)| (m, n.to_string()))
    );
    let mark = fake.calls().len();
    upgrade(&ctx, &upgrade_opts(&chart, "two"))
        .await
        .expect("upgrade");
    let kinds: Vec<(Method, String)> = writes(&fake, mark)
        .into_iter()
        .filter(|(m, _)| *m != Method::Delete)
        .collect();
    assert_eq!(
        kinds,
        [
            (Method::Create, "pre-upgrade"),
            (Method::Patch, "cm"),
            (Method::Create, "post-upgrade"),
        ]
        .map(|(m, n)| (m, n.to_string()))
    );
    assert_eq!(live_value(&fake).await.as_deref(), Some("two"));
    assert_eq!(
        history(&ctx).await,
        [
            (1, Status::Superseded, "Install complete".to_string()),
            (2, Status::Deployed, "Upgrade complete".to_string()),
        ]
    );
}

#[tokio::test]
async fn a_failed_upgrade_is_recorded_failed_and_leaves_the_lock_free() {
    // Where the failure strikes, and the words the failed revision must be recorded with.
    let cases: &[(&str, Method, &str, &str)] = &[
        ("a write", Method::Patch, "cm", "upgrade: "),
        (
            "a pre-upgrade hook",
            Method::Create,
            "pre-upgrade",
            "upgrade: pre-upgrade hooks: ",
        ),
        (
            "a post-upgrade hook",
            Method::Create,
            "post-upgrade",
            "upgrade: post-upgrade hooks: ",
        ),
    ];
    for (name, method, object, prefix) in cases {
        let chart = chart(&format!("fail-{}", object));
        let (fake, ctx) = ctx();
        upgrade(&ctx, &upgrade_opts(&chart, "one"))
            .await
            .expect("install");
        fake.inject(*method, Some(object), conflict());
        let err = upgrade(&ctx, &upgrade_opts(&chart, "two")).await.expect_err(name);
        assert!(format!("{err:#}").contains("injected"), "{name}: {err:#}");
        let records = history(&ctx).await;
        assert_eq!(records.len(), 2, "{name}");
        let (revision, status, description) = &records[1];
        assert_eq!((*revision, *status), (2, Status::Failed), "{name}");
        assert!(
            description.starts_with(prefix) && description.contains("injected"),
            "{name}: {description}"
        );
        // Only a post-hook fails after the object was written.
        let want = if *object == "post-upgrade" { "two" } else { "one" };
        assert_eq!(live_value(&fake).await.as_deref(), Some(want), "{name}");
        // The lock was given back: the next run neither waits nor recovers anything.
        let next = upgrade(&ctx, &upgrade_opts(&chart, "three"))
            .await
            .unwrap_or_else(|e| panic!("{name}: next upgrade: {e:#}"));
        assert_eq!(next.release.revision, 3, "{name}");
        assert_eq!(next.release.status, Status::Deployed, "{name}");
    }
}

#[tokio::test]
async fn an_atomic_upgrade_that_fails_rolls_back_to_the_last_deployed_revision() {
    let chart = chart("atomic-upgrade");
    let (fake, ctx) = ctx();
    upgrade(&ctx, &upgrade_opts(&chart, "one"))
        .await
        .expect("install");
    fake.inject(Method::Patch, Some("cm"), conflict());
    let opts = UpgradeOptions {
        atomic: true,
        ..upgrade_opts(&chart, "two")
    };
    let err = upgrade(&ctx, &opts).await.expect_err("injected failure");
    assert!(
        format!("{err:#}").starts_with("upgrade failed and was rolled back to revision 1 (now revision 3): "),
        "{err:#}"
    );
    let got = history(&ctx).await;
    assert_eq!(got[1].1, Status::Failed);
    assert_eq!(
        got[2],
        (
            3,
            Status::Deployed,
            "Rollback to 1 after failed upgrade".to_string()
        )
    );
    assert_eq!(live_value(&fake).await.as_deref(), Some("one"));
}

#[tokio::test]
async fn an_atomic_install_that_fails_removes_what_it_created() {
    let chart = chart("atomic-install");
    let (fake, ctx) = ctx();
    // The post-install hook fails after `cm` was created.
    fake.inject(Method::Create, Some("post-install"), conflict());
    let opts = UpgradeOptions {
        atomic: true,
        ..upgrade_opts(&chart, "one")
    };
    let err = upgrade(&ctx, &opts).await.expect_err("injected failure");
    assert!(
        format!("{err:#}").starts_with("install failed and its objects were removed: "),
        "{err:#}"
    );
    assert_eq!(live_value(&fake).await, None, "cm was removed");
    // The uninstall kept history, so the failure stays readable.
    let got = history(&ctx).await;
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].0, got[0].1), (1, Status::Uninstalled));
}

#[tokio::test]
async fn rollback_reapplies_the_target_with_its_recorded_hooks() {
    let chart = chart("rollback");
    let (fake, ctx) = ctx();
    upgrade(&ctx, &upgrade_opts(&chart, "one"))
        .await
        .expect("install");
    upgrade(&ctx, &upgrade_opts(&chart, "two"))
        .await
        .expect("upgrade");
    let mark = fake.calls().len();
    let rolled = rollback(&ctx, &rollback_opts(1)).await.expect("rollback");
    assert_eq!((rolled.revision, rolled.status), (3, Status::Deployed));
    assert_eq!(rolled.description, "Rollback to 1");
    let created: Vec<String> = writes(&fake, mark)
        .into_iter()
        .filter(|(m, _)| *m != Method::Delete)
        .map(|(_, n)| n)
        .collect();
    assert_eq!(created, ["pre-rollback", "cm", "post-rollback"]);
    assert_eq!(live_value(&fake).await.as_deref(), Some("one"));

    // A failed rollback is recorded with the revision it aimed at.
    fake.inject(Method::Patch, Some("cm"), conflict());
    rollback(&ctx, &rollback_opts(2)).await.expect_err("injected");
    let got = history(&ctx).await;
    let (revision, status, description) = &got[3];
    assert_eq!((*revision, *status), (4, Status::Failed));
    assert!(description.starts_with("Rollback to 2 failed: "), "{description}");
}

#[tokio::test]
async fn uninstall_runs_delete_hooks_and_records_a_failure() {
    let chart = chart("uninstall");
    let (fake, ctx) = ctx();
    upgrade(&ctx, &upgrade_opts(&chart, "one"))
        .await
        .expect("install");
    let opts = UninstallOptions {
        release: "web".into(),
        keep_history: true,
        no_hooks: false,
        wait: true,
        timeout: Duration::from_secs(5),
        description: None,
        cascade: crate::cluster::Propagation::Background,
    };
    fake.inject(Method::Delete, Some("cm"), conflict());
    let err = uninstall(&ctx, &opts).await.expect_err("injected");
    assert!(format!("{err:#}").contains("injected"), "{err:#}");
    let got = history(&ctx).await;
    assert_eq!(got[0].1, Status::Failed);
    assert!(got[0].2.starts_with("uninstall failed: "), "{}", got[0].2);

    let mark = fake.calls().len();
    let last = uninstall(&ctx, &opts)
        .await
        .expect("uninstall")
        .expect("history kept");
    assert_eq!(last.status, Status::Uninstalled);
    let created: Vec<String> = writes(&fake, mark)
        .into_iter()
        .filter(|(m, _)| *m == Method::Create)
        .map(|(_, n)| n)
        .collect();
    assert_eq!(created, ["pre-delete", "post-delete"]);
    assert_eq!(live_value(&fake).await, None);
}

/// A [`Work`] that records its steps by creating a marker object each, so they land in the
/// fake's call log between the hooks.
struct Markers<'a> {
    cluster: &'a FakeCluster,
    fail_in: Option<&'static str>,
    steps: Mutex<Vec<&'static str>>,
}

impl Markers<'_> {
    async fn step(&self, name: &'static str) -> anyhow::Result<()> {
        self.steps.lock().unwrap().push(name);
        if self.fail_in == Some(name) {
            anyhow::bail!("{name} broke");
        }
        let marker = json!({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": name, "namespace": "prod"}});
        self.cluster.create(&marker, &WriteOptions::default()).await?;
        Ok(())
    }
}

impl Work for Markers<'_> {
    async fn before_hooks(&self) -> anyhow::Result<()> {
        self.step("before").await
    }
    async fn execute(&self) -> anyhow::Result<()> {
        self.step("execute").await
    }
    async fn wait(&self) -> anyhow::Result<()> {
        self.step("wait").await
    }
}

/// A [`Work`] that writes nothing.
struct NoWrites;

impl Work for NoWrites {
    async fn execute(&self) -> anyhow::Result<()> {
        Ok(())
    }
    async fn wait(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

fn begin(hooks: Vec<release::Hook>) -> BeginOptions {
    BeginOptions {
        hooks,
        ..BeginOptions::new("web", Operation::Install)
    }
}

/// One recorded hook: a ConfigMap named after its event.
fn hook(event: HookEvent) -> release::Hook {
    release::Hook {
        name: event.to_string(),
        kind: "ConfigMap".into(),
        path: format!("c/templates/{event}.yaml"),
        manifest: format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {event}\n"),
        events: vec![event.to_string()],
        weight: 0,
        delete_policies: Vec::new(),
        ..Default::default()
    }
}

/// A plan that changes one object, so the transaction cannot be recorded in one write.
fn changing_plan() -> Plan {
    let object =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "prod"}});
    Plan {
        changes: vec![Change {
            id: ObjectRef::of(&object, None).unwrap(),
            api_version: "v1".into(),
            action: Action::Create,
            live: None,
            predicted: Some(object),
            drift: Vec::new(),
        }],
    }
}

#[tokio::test]
async fn the_skeleton_runs_its_steps_in_order_and_stops_at_the_first_failure() {
    // (wait, step that fails, steps run, hook objects created)
    type Case = (
        bool,
        Option<&'static str>,
        &'static [&'static str],
        &'static [&'static str],
    );
    let cases: &[Case] = &[
        (
            true,
            None,
            &["before", "execute", "wait"],
            &["pre-install", "post-install"],
        ),
        (
            false,
            None,
            &["before", "execute"],
            &["pre-install", "post-install"],
        ),
        (true, Some("before"), &["before"], &[]),
        (true, Some("execute"), &["before", "execute"], &["pre-install"]),
        (
            true,
            Some("wait"),
            &["before", "execute", "wait"],
            &["pre-install"],
        ),
    ];
    for (wait, fail_in, want_steps, want_hooks) in cases {
        let name = format!("wait {wait}, failing in {fail_in:?}");
        let (fake, ctx) = ctx();
        let hooks = vec![
            hook(HookEvent::PreInstall),
            hook(HookEvent::PostInstall),
            hook(HookEvent::PreUpgrade),
        ];
        let recorded: Vec<manifest::Hook> = recorded_hooks(&hooks);
        let txn = Transaction::new(&ctx, Kind::Install)
            .hooks(recorded, false)
            .wait(*wait)
            .description("done".into());
        let Opened::Pending(open) = txn
            .open(begin(hooks), &changing_plan(), None)
            .await
            .expect("open")
        else {
            panic!("{name}: a changing plan is never recorded in one write");
        };
        let work = Markers {
            cluster: &fake,
            fail_in: *fail_in,
            steps: Mutex::new(Vec::new()),
        };
        let outcome = open.run(&work).await;
        assert_eq!(*work.steps.lock().unwrap(), *want_steps, "{name}");
        let order: Vec<String> = writes(&fake, 0)
            .into_iter()
            .filter(|(m, _)| *m == Method::Create)
            .map(|(_, n)| n)
            .collect();
        // Markers and hooks interleave as the skeleton promises: before, pre, execute, wait, post.
        let mut want_order: Vec<&str> = Vec::new();
        for step in ["before", "pre-install", "execute", "wait", "post-install"] {
            let ran = want_steps.contains(&step) && *fail_in != Some(step) || want_hooks.contains(&step);
            if ran {
                want_order.push(step);
            }
        }
        assert_eq!(order, want_order, "{name}");
        let got = history(&ctx).await;
        match fail_in {
            None => {
                let release = outcome.expect(&name).expect("a deployed revision");
                assert_eq!(
                    (release.status, release.description.as_str()),
                    (Status::Deployed, "done")
                );
                assert_eq!(got, [(1, Status::Deployed, "done".to_string())], "{name}");
            }
            Some(step) => {
                let err = outcome.expect_err(&name);
                assert_eq!(err.to_string(), format!("{step} broke"), "{name}");
                assert_eq!(
                    got,
                    [(1, Status::Failed, format!("install: {step} broke"))],
                    "{name}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_run_that_changes_nothing_is_recorded_without_the_lock() {
    let (_, ctx) = ctx();
    let txn = Transaction::new(&ctx, Kind::Install).description("first".into());
    let Opened::Pending(open) = txn.open(begin(Vec::new()), &changing_plan(), None).await.unwrap() else {
        panic!("a changing plan opens a pending revision");
    };
    open.run(&NoWrites).await.expect("first revision");
    // Nothing to write, no hook of the verb's events (a pre-install hook is not an upgrade's),
    // no wait: one write of the final record.
    let cases: &[(&str, Vec<release::Hook>, bool, bool)] = &[
        ("nothing to do", vec![hook(HookEvent::PreInstall)], false, true),
        ("a hook to run", vec![hook(HookEvent::PostUpgrade)], false, false),
        ("a wait", Vec::new(), true, false),
    ];
    for (name, hooks, wait, one_write) in cases {
        let recorded = recorded_hooks(hooks);
        let txn = Transaction::new(&ctx, Kind::Upgrade)
            .hooks(recorded, false)
            .wait(*wait);
        let next = history(&ctx).await.len() as u32 + 1;
        let mut b = begin(hooks.clone());
        b.operation = Operation::Upgrade;
        let opened = txn.open(b, &Plan::default(), Some(next)).await.expect(name);
        assert_eq!(matches!(opened, Opened::Recorded(_)), *one_write, "{name}");
        if let Opened::Pending(open) = opened {
            open.run(&NoWrites).await.expect(name);
        }
    }
}
