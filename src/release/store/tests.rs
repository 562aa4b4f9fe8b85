//! Tests of the release store: transitions, races, recovery, pruning, uninstall and secrecy.

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicBool, Ordering},
};

use async_trait::async_trait;
use base64::{engine::general_purpose::STANDARD, Engine};

use super::*;
use crate::release::{
    codec::{tests::contains_in_any_form, DataKey, KEY_SECRET, KEY_SECRET_FIELD},
    driver::{ConfigMapApi, ConfigMapDriver, FakeConfigMapApi, MemoryDriver, Versioned},
    record::{ManualClock, Timestamp},
};

fn store(d: &Arc<dyn Driver>, clock: &Arc<ManualClock>, run: &str) -> Store {
    Store::new(d.clone(), clock.clone(), run)
}

fn mem() -> Arc<dyn Driver> {
    Arc::new(MemoryDriver::new("prod"))
}

fn clock(at: i64) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Timestamp(at)))
}

fn opts(name: &str, op: Operation) -> BeginOptions {
    BeginOptions {
        name: name.to_string(),
        operation: op,
        chart: ChartRef {
            name: "web".into(),
            version: "1.0.0".into(),
            app_version: "2".into(),
            origin: None,
        },
        values: serde_json::json!({"replicas": 2}),
        computed_values: serde_json::json!({"replicas": 2, "image": "nginx"}),
        manifest: "kind: ConfigMap\n".into(),
        hooks: Vec::new(),
        notes: String::new(),
        description: String::new(),
    }
}

async fn statuses(s: &Store, name: &str) -> Vec<(u32, Status)> {
    s.history_meta(name)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.revision, m.status))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn transitions() {
    use Status::*;
    // Each step: operation, whether it succeeds, the pending status seen after begin, and the
    // whole history after it finishes. Expected transitions from helm v3.17 pkg/action
    // (install.go, upgrade.go, rollback.go), with superseding applied to every deployed one.
    let steps: [(Operation, bool, Status, &[Status], &str); 5] = [
        (
            Operation::Install,
            true,
            PendingInstall,
            &[Deployed],
            "Install complete",
        ),
        (
            Operation::Upgrade,
            true,
            PendingUpgrade,
            &[Superseded, Deployed],
            "Upgrade complete",
        ),
        (
            Operation::Upgrade,
            false,
            PendingUpgrade,
            &[Superseded, Deployed, Failed],
            "boom",
        ),
        (
            Operation::Rollback,
            true,
            PendingRollback,
            &[Superseded, Superseded, Failed, Deployed],
            "Rollback to 2",
        ),
        (
            Operation::Upgrade,
            true,
            PendingUpgrade,
            &[Superseded, Superseded, Failed, Superseded, Deployed],
            "Upgrade complete",
        ),
    ];
    let d = mem();
    let c = clock(100);
    let s = store(&d, &c, "run-1");
    for (i, (op, ok, pending, want, desc)) in steps.into_iter().enumerate() {
        let step = format!("step {i} ({op})");
        let p = s
            .begin(opts("web", op))
            .await
            .unwrap_or_else(|e| panic!("{step}: {e}"));
        assert_eq!(p.release().revision as usize, i + 1, "{step}");
        assert_eq!(p.release().status, pending, "{step}");
        assert_eq!(s.last("web").await.unwrap().unwrap().status, pending, "{step}");
        c.advance(10);
        let rel = if ok {
            s.mark_deployed(p, desc).await
        } else {
            s.mark_failed(p, desc).await
        }
        .unwrap_or_else(|e| panic!("{step}: {e}"));
        assert_eq!(rel.description, desc, "{step}");
        let got: Vec<Status> = statuses(&s, "web").await.into_iter().map(|(_, st)| st).collect();
        assert_eq!(got, want, "{step}");
        assert!(
            s.lock_holder("web").await.unwrap().is_none(),
            "{step}: lock released"
        );
        c.advance(90);
    }
    let h = s.history("web").await.unwrap();
    assert_eq!(h[0].first_deployed, Timestamp(100));
    assert_eq!(
        h[0].last_deployed,
        Timestamp(210),
        "superseded when revision 2 deployed"
    );
    assert_eq!(
        h[4].first_deployed,
        Timestamp(100),
        "upgrades keep first_deployed"
    );
    assert_eq!(h[4].last_deployed, Timestamp(510));
    assert_eq!(s.last_deployed("web").await.unwrap().unwrap().revision, 5);
    assert_eq!(s.get("web", 3).await.unwrap().description, "boom");
    let err = s.get("web", 9).await.unwrap_err().to_string();
    assert_eq!(err, "release \"web\" has no revision 9");
}

#[tokio::test(start_paused = true)]
async fn racing_begins_one_wins() {
    let cases: [(&str, Arc<dyn Driver>); 2] = [
        ("memory", Arc::new(MemoryDriver::new("prod").interleaved())),
        (
            "configmap",
            Arc::new(ConfigMapDriver::new(FakeConfigMapApi::new("prod").interleaved())),
        ),
    ];
    for (case, d) in cases {
        let c = clock(0);
        let (a, b) = (store(&d, &c, "a"), store(&d, &c, "b"));
        let (ra, rb) = tokio::join!(begin_and_renew(&a), begin_and_renew(&b));
        let (won, lost) = match (ra, rb) {
            (Ok(p), Err(e)) | (Err(e), Ok(p)) => (p, e),
            (ra, rb) => panic!("{case}: want one winner, got {ra:?} and {rb:?}"),
        };
        assert!(matches!(lost, Error::InProgress { .. }), "{case}: {lost}");
        assert_eq!(statuses(&a, "web").await, [(1, Status::PendingInstall)], "{case}");
        a.mark_deployed(won, "Install complete").await.unwrap();
        assert_eq!(statuses(&a, "web").await, [(1, Status::Deployed)], "{case}");
    }
}

/// Begins an install and, if it won the lock, renews it for longer than a lease duration, as a
/// live run at work does, so the loser watching it sees it alive.
async fn begin_and_renew(s: &Store) -> Result<Pending> {
    let p = s.begin(opts("web", Operation::Install)).await?;
    for _ in 0..8 {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        s.renew(&p).await?;
    }
    Ok(p)
}

/// A driver that lets another writer create the same revision just before us, as a run that
/// ignores the lock (an older version, another tool) would.
struct Sneaky {
    inner: MemoryDriver,
    fired: AtomicBool,
}

#[async_trait]
impl Driver for Sneaky {
    fn namespace(&self) -> &str {
        self.inner.namespace()
    }
    async fn data_key(&self, create: bool) -> Result<Option<DataKey>, DriverError> {
        self.inner.data_key(create).await
    }
    async fn get(&self, n: &str, r: u32) -> Result<Option<Stored>, DriverError> {
        self.inner.get(n, r).await
    }
    async fn query(&self, n: Option<&str>, s: Option<Status>) -> Result<Vec<Stored>, DriverError> {
        self.inner.query(n, s).await
    }
    async fn create(&self, rec: &Stored) -> Result<Stored, DriverError> {
        if !self.fired.swap(true, Ordering::SeqCst) {
            let mut theirs = rec.clone();
            theirs.meta.owner = "intruder".into();
            self.inner.create(&theirs).await?;
        }
        self.inner.create(rec).await
    }
    async fn update(&self, rec: &Stored) -> Result<Stored, DriverError> {
        self.inner.update(rec).await
    }
    async fn delete(&self, n: &str, r: u32) -> Result<(), DriverError> {
        self.inner.delete(n, r).await
    }
    async fn get_lock(&self, n: &str) -> Result<Option<Versioned<Lease>>, DriverError> {
        self.inner.get_lock(n).await
    }
    async fn create_lock(&self, l: &Lease) -> Result<Versioned<Lease>, DriverError> {
        self.inner.create_lock(l).await
    }
    async fn update_lock(&self, l: &Lease, v: &str) -> Result<Versioned<Lease>, DriverError> {
        self.inner.update_lock(l, v).await
    }
    async fn delete_lock(&self, n: &str, v: Option<&str>) -> Result<(), DriverError> {
        self.inner.delete_lock(n, v).await
    }
}

#[tokio::test(start_paused = true)]
async fn create_only_revision_loses_cleanly() {
    let inner = MemoryDriver::new("prod");
    let d: Arc<dyn Driver> = Arc::new(Sneaky {
        inner: inner.clone(),
        fired: AtomicBool::new(false),
    });
    let c = clock(0);
    let s = store(&d, &c, "me");
    let err = s.begin(opts("web", Operation::Install)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "release \"web\" revision 1 was created by another run at the same time; nothing was changed"
    );
    let metas = s.history_meta("web").await.unwrap();
    assert_eq!(metas.len(), 1);
    assert_eq!(
        metas[0].owner, "intruder",
        "the other writer's record is untouched"
    );
    assert!(
        s.lock_holder("web").await.unwrap().is_none(),
        "lock given back after the error"
    );
}

#[tokio::test(start_paused = true)]
async fn recovery_of_abandoned_pending() {
    let d = mem();
    let c = clock(1000);
    let a = store(&d, &c, "run-a");
    let p = a.begin(opts("web", Operation::Install)).await.unwrap();
    a.mark_deployed(p, "Install complete").await.unwrap();
    // run-a starts an upgrade and is killed (kill -9): nothing finishes its record or lock
    let abandoned = a.begin(opts("web", Operation::Upgrade)).await.unwrap();

    let b = store(&d, &c, "run-b");
    // While run-a renews, it is alive, whatever the clocks say.
    c.advance(3600);
    let renewing = async {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            a.renew(&abandoned).await.unwrap();
        }
    };
    let err = tokio::select! {
        r = b.begin(opts("web", Operation::Upgrade)) => r.unwrap_err().to_string(),
        _ = renewing => unreachable!(),
    };
    let want = format!(
        "another operation (upgrade by run run-a on host {}, started 1970-01-01T00:16:40Z by its \
         clock) is in progress on release \"web\": it renewed its lock while this run watched \
         (--wait-for-lock DURATION waits for it)",
        lock::host_name()
    );
    assert_eq!(err, want);
    // Killed: no more renewals. The next run watches one lease duration, then takes over.
    let p = b
        .begin(opts("web", Operation::Upgrade))
        .await
        .expect("a lease nobody renews is taken over");
    assert_eq!(p.recovered(), [2]);
    assert_eq!(p.took_over().map(|l| l.holder), Some("run-a".to_string()));
    assert_eq!(p.release().revision, 3);
    let rec2 = b.get("web", 2).await.unwrap();
    assert_eq!(rec2.status, Status::Failed);
    assert_eq!(
        rec2.description,
        "interrupted: run run-a stopped during pending-upgrade before finishing; a later run took over its lock"
    );
    // run-a was only stalled, not dead: it must not be able to finish or fail its revision
    let err = a.mark_deployed(abandoned, "Upgrade complete").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "lost the lock on release \"web\" to run run-b; this run was too slow to renew it and stopped"
    );
    assert_eq!(b.get("web", 2).await.unwrap().status, Status::Failed);
    b.mark_deployed(p, "Upgrade complete").await.unwrap();
    use Status::*;
    assert_eq!(
        statuses(&b, "web").await,
        [(1, Superseded), (2, Failed), (3, Deployed)]
    );
}

#[tokio::test(start_paused = true)]
async fn recovery_without_lock_and_after_force_unlock() {
    // (case, how the lock disappears)
    let cases = [("lock deleted by hand", false), ("force-unlock", true)];
    for (case, force) in cases {
        let d = Arc::new(MemoryDriver::new("prod"));
        let dd: Arc<dyn Driver> = d.clone();
        let c = clock(0);
        let a = store(&dd, &c, "run-a");
        let _stuck = a.begin(opts("web", Operation::Install)).await.unwrap();
        let b = store(&dd, &c, "run-b");
        if force {
            let gone = b.force_unlock("web").await.unwrap();
            assert_eq!(gone.map(|l| l.holder), Some("run-a".to_string()), "{case}");
        } else {
            d.delete_lock("web", None).await.unwrap();
        }
        let p = b
            .begin(opts("web", Operation::Install))
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(p.recovered(), [1], "{case}");
        assert!(p.took_over().is_none(), "{case}");
    }
}

#[tokio::test(start_paused = true)]
async fn pruning() {
    use Status::*;
    // (case, history max, existing statuses, revisions left after the next begin)
    // Rule from helm v3.17 storage.go removeLeastRecent(name, max-1): oldest first, never
    // the newest deployed revision.
    let cases: [(&str, usize, &[Status], &[u32]); 5] = [
        ("under the limit", 10, &[Superseded, Deployed], &[1, 2, 3]),
        (
            "oldest go",
            3,
            &[Superseded, Superseded, Superseded, Superseded, Deployed],
            &[4, 5, 6],
        ),
        (
            "deployed survives",
            3,
            &[Deployed, Failed, Failed, Failed],
            &[1, 4, 5],
        ),
        ("max 1 keeps deployed", 1, &[Superseded, Deployed], &[2, 3]),
        (
            "unlimited",
            0,
            &[Superseded, Superseded, Superseded, Deployed],
            &[1, 2, 3, 4, 5],
        ),
    ];
    for (case, max, existing, want) in cases {
        let d = mem();
        let c = clock(0);
        let s = store(&d, &c, "run").with_history_max(0);
        let key = d.data_key(true).await.unwrap().unwrap();
        for (i, st) in existing.iter().enumerate() {
            let mut rel = s
                .begin(opts("web", Operation::Upgrade))
                .await
                .unwrap()
                .release()
                .clone();
            // rewrite straight through the driver to set up arbitrary histories
            d.delete(&rel.name, rel.revision).await.unwrap();
            rel.status = *st;
            let rec = Stored {
                meta: rel.meta(),
                body: s.encode(&rel, &key).unwrap(),
                version: None,
            };
            d.create(&rec).await.unwrap();
            s.force_unlock("web").await.unwrap();
            assert_eq!(rel.revision as usize, i + 1, "{case}: setup");
        }
        let s = store(&d, &c, "run").with_history_max(max);
        let p = s
            .begin(opts("web", Operation::Upgrade))
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let left: Vec<u32> = statuses(&s, "web").await.into_iter().map(|(r, _)| r).collect();
        assert_eq!(left, want, "{case}");
        assert_eq!(p.pruned().len(), existing.len() + 1 - want.len(), "{case}");
    }
}

#[tokio::test(start_paused = true)]
async fn uninstall() {
    // (case, keep history, statuses left)
    let cases: [(&str, bool, &[Status]); 2] = [
        ("keep history", true, &[Status::Superseded, Status::Uninstalled]),
        ("purge", false, &[]),
    ];
    for (case, keep, want) in cases {
        let d = mem();
        let c = clock(0);
        let s = store(&d, &c, "run");
        for op in [Operation::Install, Operation::Upgrade] {
            let p = s.begin(opts("web", op)).await.unwrap();
            s.mark_deployed(p, "ok").await.unwrap();
        }
        let p = s.begin_uninstall("web").await.unwrap();
        assert_eq!(p.release().status, Status::Uninstalling, "{case}");
        assert_eq!(
            statuses(&s, "web").await.last().map(|x| x.1),
            Some(Status::Uninstalling),
            "{case}"
        );
        let out = s
            .finish_uninstall(p, keep)
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let got: Vec<Status> = statuses(&s, "web").await.into_iter().map(|x| x.1).collect();
        assert_eq!(got, want, "{case}");
        assert_eq!(
            out.map(|r| r.deleted),
            keep.then_some(Some(Timestamp(0))),
            "{case}"
        );
        assert!(s.lock_holder("web").await.unwrap().is_none(), "{case}");
        let again = s.begin_uninstall("web").await.unwrap_err().to_string();
        let want_err = if keep {
            "release \"web\" is already uninstalled"
        } else {
            "release \"web\" not found"
        };
        assert_eq!(again, want_err, "{case}");
    }
}

#[tokio::test(start_paused = true)]
async fn no_secret_reaches_a_configmap_in_any_form() {
    let api = FakeConfigMapApi::new("prod");
    let d: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
    let c = clock(0);
    let s = store(&d, &c, "run");
    let plain = [
        "p4ssw0rd-from-values",
        "tls-key-in-stringData",
        "api-token-in-data",
    ];
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  key: {}\ndata:\n  \
         token: {}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n",
        plain[1],
        STANDARD.encode(plain[2]),
    );
    let o = BeginOptions {
        values: serde_json::json!({"db": {"password": plain[0]}}),
        computed_values: serde_json::json!({"db": {"password": plain[0]}}),
        manifest,
        notes: format!("your password is {}", plain[0]),
        ..opts("web", Operation::Install)
    };
    let p = s.begin(o.clone()).await.unwrap();
    s.mark_failed(p, &format!("Secret db: invalid value {}", plain[0]))
        .await
        .unwrap();
    let p = s
        .begin(BeginOptions {
            operation: Operation::Upgrade,
            ..o
        })
        .await
        .unwrap();
    s.mark_deployed(p, "Upgrade complete").await.unwrap();

    let cms = api.configmaps();
    assert_eq!(cms.len(), 2, "two records, lock released: {:?}", cms.keys());
    let mut needles: Vec<String> = plain.iter().map(|x| x.to_string()).collect();
    needles.extend(plain.iter().map(|x| STANDARD.encode(x)));
    for (name, cm) in &cms {
        let mut texts = vec![name.clone()];
        texts.extend(
            cm.labels
                .iter()
                .chain(&cm.annotations)
                .chain(&cm.data)
                .flat_map(|(k, v)| [k.clone(), v.clone()]),
        );
        for t in &texts {
            for n in &needles {
                assert!(!contains_in_any_form(t, n), "{name}: {n:?} found in {t:?}");
            }
            assert!(!t.contains("kind: Secret"), "{name}: manifest structure visible");
        }
    }
    // while the records decode fine for a holder of the key
    let h = s.history("web").await.unwrap();
    assert_eq!(h[1].values["db"]["password"], plain[0]);
}

/// (case, what the key Secret holds now, error wanted from a fresh reader)
type KeyCase = (&'static str, BTreeMap<String, Vec<u8>>, &'static str);

#[tokio::test(start_paused = true)]
async fn reads_report_key_problems() {
    let api = FakeConfigMapApi::new("prod");
    let d: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
    let c = clock(0);
    let s = store(&d, &c, "run");
    let p = s.begin(opts("web", Operation::Install)).await.unwrap();
    s.mark_deployed(p, "Install complete").await.unwrap();
    let p = s.begin(opts("db", Operation::Install)).await.unwrap();
    s.mark_failed(p, "boom").await.unwrap();

    // metadata needs no key, even from a fresh process
    let fresh: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
    let s2 = store(&fresh, &c, "reader");
    let list: Vec<_> = s2
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.name, m.status))
        .collect();
    assert_eq!(
        list,
        [
            ("db".to_string(), Status::Failed),
            ("web".to_string(), Status::Deployed)
        ]
    );

    // (case, what the key Secret holds now, error wanted from a fresh reader)
    let other = DataKey::generate();
    let cases: [KeyCase; 3] = [
        (
            "key replaced",
            [("key".to_string(), other.as_bytes().to_vec())].into(),
            "release record kubectl-chart.web.v1: release record was encrypted with data key",
        ),
        (
            "key field gone",
            BTreeMap::new(),
            "reading the data key of release storage: Secret kubectl-chart-key: no data field \"key\"",
        ),
        (
            "key truncated",
            [("key".to_string(), vec![1, 2, 3])].into(),
            "Secret kubectl-chart-key field \"key\" holds 3 bytes, want 32",
        ),
    ];
    for (case, secret, want) in cases {
        api.put_secret(codec::KEY_SECRET, secret);
        let fresh: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
        let err = store(&fresh, &c, "reader").history("web").await;
        let err = err.expect_err(case).to_string();
        assert!(err.contains(want), "{case}: {err}");
    }
}

#[tokio::test(start_paused = true)]
async fn missing_key_secret() {
    let d = Arc::new(MemoryDriver::new("prod"));
    let dd: Arc<dyn Driver> = d.clone();
    let c = clock(0);
    let s = store(&dd, &c, "run");
    assert!(
        s.history("web").await.unwrap().is_empty(),
        "no records, no key needed"
    );
    assert!(s.last("web").await.unwrap().is_none());
    let api = FakeConfigMapApi::new("prod");
    let cd: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
    let w = store(&cd, &c, "run");
    let p = w.begin(opts("web", Operation::Install)).await.unwrap();
    w.mark_deployed(p, "ok").await.unwrap();
    let api2 = FakeConfigMapApi::new("prod");
    // same records, no Secret: copy the ConfigMaps into a fresh namespace state
    for cm in api.configmaps().into_values() {
        api2.create(&cm).await.unwrap();
    }
    let r: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api2));
    let err = store(&r, &c, "reader").last("web").await.unwrap_err().to_string();
    assert_eq!(
        err,
        "release records in namespace \"prod\" are encrypted, but Secret kubectl-chart-key is \
         missing (deleted?), so they cannot be read"
    );
}

#[test]
fn store_futures_are_send() {
    fn send<T: Send>(_: T) {}
    let d = mem();
    let c = clock(0);
    let s = store(&d, &c, "run");
    send(s.begin(opts("web", Operation::Install)));
    send(s.history("web"));
}

#[tokio::test(start_paused = true)]
async fn the_last_revision_is_read_without_the_bodies_of_the_others() {
    let api = FakeConfigMapApi::new("prod");
    let d: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
    let c = clock(0);
    let s = store(&d, &c, "run");
    for op in [Operation::Install, Operation::Upgrade, Operation::Upgrade] {
        let mut o = opts("web", op);
        o.manifest = format!("kind: ConfigMap # {op:?}\n");
        let p = s.begin(o).await.unwrap();
        s.mark_deployed(p, "done").await.unwrap();
    }
    let before = api.calls().len();
    let fresh: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
    let last = store(&fresh, &c, "reader").last("web").await.unwrap().unwrap();
    assert_eq!((last.revision, last.status), (3, Status::Deployed));
    let calls = api.calls()[before..].to_vec();
    // One list of metadata, then the newest record and the key: no list carries bodies.
    assert!(calls[0].starts_with("list-metadata "), "{calls:?}");
    assert!(calls.iter().all(|c| !c.starts_with("list ")), "{calls:?}");
    assert!(
        calls.contains(&"get kubectl-chart.web.v3".to_string()),
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c.ends_with(".v1") || c.ends_with(".v2")),
        "{calls:?}"
    );
    // History tables need no body either; revision 2's status is derived from revision 3.
    assert_eq!(
        statuses(&s, "web").await,
        [
            (1, Status::Superseded),
            (2, Status::Superseded),
            (3, Status::Deployed)
        ]
    );
}

/// `import`: a foreign history becomes ours as it is, once; never over records of ours.
#[tokio::test]
async fn import_writes_history_as_is_once() {
    let (d, c) = (mem(), clock(100));
    let store = store(&d, &c, "importer");
    let rel = |revision: u32, status: Status| Release {
        name: "pod".into(),
        namespace: "elsewhere".into(),
        revision,
        status,
        chart: ChartRef::default(),
        values: serde_json::json!({"a": revision}),
        computed_values: serde_json::json!({}),
        manifest: format!("m{revision}"),
        hooks: Vec::new(),
        notes: String::new(),
        description: format!("helm {revision}"),
        first_deployed: Timestamp(10),
        last_deployed: Timestamp(10 + i64::from(revision)),
        deleted: None,
        owner: "helm".into(),
    };
    let history = vec![
        rel(1, Status::Superseded),
        rel(3, Status::Failed),
        rel(4, Status::Deployed),
    ];
    store.import(&history).await.expect("import");
    let got = store.history("pod").await.expect("history");
    let summary: Vec<(u32, Status, &str, &str)> = got
        .iter()
        .map(|r| (r.revision, r.status, r.description.as_str(), r.namespace.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, Status::Superseded, "helm 1", "prod"),
            (3, Status::Failed, "helm 3", "prod"),
            (4, Status::Deployed, "helm 4", "prod"),
        ]
    );
    assert_eq!(got[2].values, serde_json::json!({"a": 4}));
    assert_eq!(
        store.lock_holder("pod").await.expect("lock"),
        None,
        "the lease is given back"
    );
    // A second import finds records and writes nothing.
    let err = store.import(&history).await.expect_err("second import");
    assert!(matches!(err, Error::RevisionExists { .. }), "{err}");
    assert_eq!(store.history("pod").await.expect("history").len(), 3);
    // Out of order is refused before any write.
    let other = super::Store::new(mem(), c.clone(), "importer");
    let bad = vec![rel(2, Status::Superseded), rel(1, Status::Deployed)];
    assert!(other.import(&bad).await.is_err());
    assert!(other.history("pod").await.expect("history").is_empty());
}

/// A driver that runs `hook` when the data key is about to be deleted (`before`) or was just
/// deleted: another run writing at the worst moment of the last uninstall in a namespace.
struct KeyRace {
    inner: Arc<dyn Driver>,
    before: bool,
    hook: Mutex<Option<futures::future::BoxFuture<'static, ()>>>,
}

#[async_trait]
impl Driver for KeyRace {
    fn namespace(&self) -> &str {
        self.inner.namespace()
    }
    async fn data_key(&self, create: bool) -> Result<Option<DataKey>, DriverError> {
        self.inner.data_key(create).await
    }
    async fn fresh_data_key(&self) -> Result<Option<DataKey>, DriverError> {
        self.inner.fresh_data_key().await
    }
    async fn delete_data_key(&self) -> Result<(), DriverError> {
        let hook = self.hook.lock().unwrap().take();
        if self.before {
            if let Some(h) = hook {
                h.await;
            }
            self.inner.delete_data_key().await
        } else {
            self.inner.delete_data_key().await?;
            if let Some(h) = hook {
                h.await;
            }
            Ok(())
        }
    }
    async fn restore_data_key(&self, key: &DataKey) -> Result<(), DriverError> {
        self.inner.restore_data_key(key).await
    }
    async fn get(&self, n: &str, r: u32) -> Result<Option<Stored>, DriverError> {
        self.inner.get(n, r).await
    }
    async fn query(&self, n: Option<&str>, s: Option<Status>) -> Result<Vec<Stored>, DriverError> {
        self.inner.query(n, s).await
    }
    async fn query_meta(&self, n: Option<&str>, s: Option<Status>) -> Result<Vec<Stored>, DriverError> {
        self.inner.query_meta(n, s).await
    }
    async fn create(&self, rec: &Stored) -> Result<Stored, DriverError> {
        self.inner.create(rec).await
    }
    async fn update(&self, rec: &Stored) -> Result<Stored, DriverError> {
        self.inner.update(rec).await
    }
    async fn delete(&self, n: &str, r: u32) -> Result<(), DriverError> {
        self.inner.delete(n, r).await
    }
    async fn get_lock(&self, n: &str) -> Result<Option<Versioned<Lease>>, DriverError> {
        self.inner.get_lock(n).await
    }
    async fn create_lock(&self, l: &Lease) -> Result<Versioned<Lease>, DriverError> {
        self.inner.create_lock(l).await
    }
    async fn update_lock(&self, l: &Lease, v: &str) -> Result<Versioned<Lease>, DriverError> {
        self.inner.update_lock(l, v).await
    }
    async fn delete_lock(&self, n: &str, v: Option<&str>) -> Result<(), DriverError> {
        self.inner.delete_lock(n, v).await
    }
}

/// Issue 20: the last uninstall in a namespace removes the key Secret too, never while another
/// release's records need it, whenever the other release's install lands.
#[tokio::test(start_paused = true)]
async fn last_uninstall_removes_the_key_but_never_under_another_release() {
    // (case, hook before the delete (else after), the other install runs inside the hook (else
    // spawned, racing on), the other run read the key before the uninstall began)
    let cases = [
        ("installs between the check and the delete", true, true, true),
        ("installs right after the delete, key cached", false, true, true),
        (
            "installs right after the delete, no key cached",
            false,
            true,
            false,
        ),
        ("races the rest of the uninstall, key cached", false, false, true),
        (
            "races the rest of the uninstall, no key cached",
            false,
            false,
            false,
        ),
    ];
    for (case, before, inline, cached) in cases {
        let api = FakeConfigMapApi::new("prod");
        let c = clock(0);
        let plain: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
        let a_store = store(&plain, &c, "run-a");
        let p = a_store.begin(opts("a", Operation::Install)).await.unwrap();
        a_store.mark_deployed(p, "ok").await.unwrap();
        // The other run has its own driver (its own key cache), as another process would.
        let other: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
        if cached {
            other.data_key(false).await.unwrap().expect("key read");
        }
        let (c2, other2) = (c.clone(), other.clone());
        let install = async move {
            let b = store(&other2, &c2, "run-b");
            let p = b.begin(opts("b", Operation::Install)).await.unwrap();
            b.mark_deployed(p, "ok").await.unwrap();
        };
        let (hook, task): (futures::future::BoxFuture<'static, ()>, _) = if inline {
            (Box::pin(install), None)
        } else {
            let t = tokio::spawn(install);
            (Box::pin(async {}), Some(t))
        };
        let racy: Arc<dyn Driver> = Arc::new(KeyRace {
            inner: plain.clone(),
            before,
            hook: Mutex::new(Some(hook)),
        });
        let a = store(&racy, &c, "run-a2");
        let p = a.begin_uninstall("a").await.unwrap();
        a.finish_uninstall(p, false).await.unwrap();
        if let Some(t) = task {
            t.await.unwrap();
        }
        // A fresh reader (no cache) reads b's records: the key they need exists.
        let fresh: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
        let reader = store(&fresh, &c, "reader");
        let h = reader
            .history("b")
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(h.len(), 1, "{case}");
        assert!(reader.history("a").await.unwrap().is_empty(), "{case}");
        // Uninstalling b, now the last release, leaves nothing of ours.
        let p = reader.begin_uninstall("b").await.unwrap();
        reader.finish_uninstall(p, false).await.unwrap();
        assert!(
            api.configmaps().is_empty(),
            "{case}: {:?}",
            api.configmaps().keys()
        );
        assert!(api.secrets().is_empty(), "{case}: the key is left behind");
    }
    // --keep-history keeps records, so it keeps the key.
    let api = FakeConfigMapApi::new("prod");
    let d: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
    let s = store(&d, &clock(0), "run");
    let p = s.begin(opts("a", Operation::Install)).await.unwrap();
    s.mark_deployed(p, "ok").await.unwrap();
    let p = s.begin_uninstall("a").await.unwrap();
    s.finish_uninstall(p, true).await.unwrap();
    assert_eq!(api.secrets().len(), 1, "kept history needs its key");
}

/// Issue 20: an uninstall killed between deleting the records and deleting the key leaves the key
/// alone; the rerun finds no release, says so, and removes the key then — unless another release
/// still needs it.
#[tokio::test]
async fn an_uninstall_rerun_after_a_kill_removes_the_orphaned_key() {
    for other in [false, true] {
        let api = FakeConfigMapApi::new("prod");
        let d: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
        let s = store(&d, &clock(0), "run");
        let p = s.begin(opts("a", Operation::Install)).await.unwrap();
        s.mark_deployed(p, "ok").await.unwrap();
        if other {
            let p = s.begin(opts("b", Operation::Install)).await.unwrap();
            s.mark_deployed(p, "ok").await.unwrap();
        }
        // The killed run got as far as deleting a's records.
        api.delete(&record_key("a", 1), None).await.unwrap();
        assert_eq!(api.secrets().len(), 1);
        let rerun = store(&d, &clock(0), "rerun");
        let err = rerun.begin_uninstall("a").await.unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err}");
        assert_eq!(
            api.secrets().len(),
            usize::from(other),
            "another release: {other}"
        );
        assert!(
            api.configmaps().keys().all(|k| !k.ends_with(".lock")),
            "{:?}",
            api.configmaps().keys()
        );
    }
}

/// Issue 20: a run that cached the namespace key before the last uninstall deleted it, reading
/// records another run sealed since with a new key, read the key again instead of failing ("was
/// the Secret deleted or replaced?", a rerun succeeded). Once only: a key replaced by hand, or
/// deleted, is still an error.
#[tokio::test]
async fn a_stale_cached_key_is_read_again_once() {
    // (case, what happens to the Secret after b's install, b readable by the stale run)
    let cases = [
        ("recreated by the next install", None, true),
        ("replaced by hand", Some(true), false),
        ("deleted", Some(false), false),
    ];
    for (case, after, readable) in cases {
        let api = FakeConfigMapApi::new("prod");
        let c = clock(0);
        // Each run has its own driver, so its own key cache, as separate processes do.
        let run = |id: &str| {
            let d: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
            store(&d, &c, id)
        };
        let stale = run("stale");
        let p = stale.begin(opts("a", Operation::Install)).await.unwrap();
        stale.mark_deployed(p, "ok").await.unwrap();
        let other = run("other");
        let p = other.begin_uninstall("a").await.unwrap();
        other.finish_uninstall(p, false).await.unwrap();
        assert!(
            api.secrets().is_empty(),
            "{case}: the last uninstall removes the key"
        );
        let b = run("b");
        let p = b.begin(opts("b", Operation::Install)).await.unwrap();
        b.mark_deployed(p, "ok").await.unwrap();
        match after {
            Some(true) => {
                let fresh = DataKey::generate();
                let data = BTreeMap::from([(KEY_SECRET_FIELD.to_string(), fresh.as_bytes().to_vec())]);
                api.delete_secret(KEY_SECRET).await.unwrap();
                api.create_secret(KEY_SECRET, &BTreeMap::new(), &data)
                    .await
                    .unwrap();
            }
            Some(false) => api.delete_secret(KEY_SECRET).await.unwrap(),
            None => {}
        }
        let got = stale.history("b").await;
        match (readable, got) {
            (true, Ok(h)) => assert_eq!(h.len(), 1, "{case}"),
            (false, Err(e)) => assert!(
                matches!(e, Error::Codec { .. } | Error::KeyMissing(_)),
                "{case}: {e}"
            ),
            (want, got) => panic!("{case}: readable {want}, got {:?}", got.map(|h| h.len())),
        }
    }
}

/// The host name goes into leases only: reads (what `history`, `status`, `get`, `list` and
/// `diff` do) never read it; the first lock taken does.
#[tokio::test(start_paused = true)]
async fn the_host_name_is_read_only_for_a_lease() {
    let d = mem();
    let c = clock(1000);
    let s = store(&d, &c, "run-a");
    assert!(s.history("web").await.unwrap().is_empty());
    assert!(s.last("web").await.unwrap().is_none());
    s.list().await.unwrap();
    assert!(s.host.get().is_none(), "read-only calls read no host name");
    let p = s.begin(opts("web", Operation::Install)).await.unwrap();
    assert_eq!(s.host.get().map(String::as_str), Some(lock::host_name().as_str()));
    assert_eq!(
        s.lock_holder("web").await.unwrap().map(|l| l.host),
        Some(lock::host_name())
    );
    drop(p);
}
