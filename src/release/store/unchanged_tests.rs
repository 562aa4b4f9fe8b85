//! Tests of the one-write path for unchanged upgrades ([`Store::record_unchanged`]) and of
//! `superseded` derived at read time: write counts, mutual exclusion, and records written
//! before either existed reading exactly as before; and of uninstall's record deletion, which
//! relies on both.

use super::*;
use crate::release::{
    driver::{keys, ConfigMapApi as _, ConfigMapDriver, FakeConfigMapApi},
    record::{ManualClock, Timestamp},
};

fn opts(name: &str, op: Operation, tag: &str) -> BeginOptions {
    BeginOptions {
        name: name.to_string(),
        operation: op,
        chart: ChartRef {
            name: "web".into(),
            version: "1.0.0".into(),
            app_version: String::new(),
            origin: None,
        },
        values: serde_json::json!({ "tag": tag }),
        computed_values: serde_json::json!({ "tag": tag }),
        manifest: format!("kind: ConfigMap\ndata:\n  tag: {tag}\n"),
        hooks: Vec::new(),
        notes: String::new(),
        description: String::new(),
    }
}

/// A store over a fake ConfigMap API (whose call log counts requests), its API and its clock.
fn cm_store(api: &FakeConfigMapApi, clock: &Arc<ManualClock>, run: &str) -> Store {
    Store::new(Arc::new(ConfigMapDriver::new(api.clone())), clock.clone(), run)
}

/// Calls that write, as `verb name`.
fn writes(calls: &[String]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| ["create ", "update ", "delete "].iter().any(|v| c.starts_with(v)))
        .cloned()
        .collect()
}

async fn install(s: &Store, name: &str) {
    let p = s.begin(opts(name, Operation::Install, "a")).await.unwrap();
    s.mark_deployed(p, "Install complete").await.unwrap();
}

async fn statuses(s: &Store, name: &str) -> Vec<(u32, Status, Timestamp)> {
    s.history(name)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.revision, r.status, r.last_deployed))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn unchanged_upgrade_is_one_create_and_reads_like_a_locked_one() {
    let api = FakeConfigMapApi::new("prod");
    let c = Arc::new(ManualClock::new(Timestamp(100)));
    let s = cm_store(&api, &c, "run-1");
    install(&s, "web").await;
    c.advance(50);
    let before = api.calls().len();
    let out = s
        .record_unchanged(opts("web", Operation::Upgrade, "a"), "Upgrade complete", 2)
        .await
        .unwrap();
    let Unchanged::Recorded(rel) = out else {
        panic!("not recorded: {out:?}")
    };
    assert_eq!(
        writes(&api.calls()[before..]),
        ["create kubectl-chart.web.v2"],
        "exactly one write: the new record"
    );
    assert_eq!(
        (rel.revision, rel.status, rel.description.as_str()),
        (2, Status::Deployed, "Upgrade complete")
    );
    assert_eq!(rel.first_deployed, Timestamp(100), "first_deployed kept");
    // Revision 1 is not rewritten, yet reads as superseded, dated when 2 was deployed.
    let raw = api.configmaps();
    assert_eq!(raw["kubectl-chart.web.v1"].labels["status"], "deployed");
    let want = [
        (1, Status::Superseded, Timestamp(150)),
        (2, Status::Deployed, Timestamp(150)),
    ];
    assert_eq!(statuses(&s, "web").await, want);
    let summaries: Vec<_> = s
        .history_summaries("web")
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.revision, r.status, r.last_deployed))
        .collect();
    assert_eq!(summaries, want, "summaries read the same");
    let one = s.get("web", 1).await.unwrap();
    assert_eq!(
        (one.status, one.last_deployed),
        (Status::Superseded, Timestamp(150))
    );
    assert_eq!(s.last_deployed("web").await.unwrap().unwrap().revision, 2);
    let metas: Vec<_> = s
        .history_meta("web")
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.revision, m.status, m.last_deployed))
        .collect();
    assert_eq!(metas, want, "metadata reads the same");
    assert!(s.lock_holder("web").await.unwrap().is_none(), "no lock left");
}

#[tokio::test(start_paused = true)]
async fn records_of_the_old_layout_read_the_same() {
    // The old code patched the previous deployed record to superseded (dated now); the new
    // code leaves it deployed. Both histories must read identically.
    async fn history_of(old_layout: bool) -> Vec<Release> {
        let api = FakeConfigMapApi::new("prod");
        let c = Arc::new(ManualClock::new(Timestamp(100)));
        let s = cm_store(&api, &c, "run-1");
        install(&s, "web").await;
        c.advance(10);
        let p = s.begin(opts("web", Operation::Upgrade, "b")).await.unwrap();
        c.advance(10);
        s.mark_deployed(p, "Upgrade complete").await.unwrap();
        if old_layout {
            let key = s.write_key().await.unwrap();
            let raw = s.stored_history_raw("web").await.unwrap();
            let old = Release {
                status: Status::Superseded,
                last_deployed: Timestamp(120),
                ..s.load(&raw[0], &key).await.unwrap()
            };
            s.rewrite(&raw[0], &old, &key).await.unwrap();
            assert_eq!(
                api.configmaps()["kubectl-chart.web.v1"].labels["status"],
                "superseded"
            );
        }
        let mut h = s.history("web").await.unwrap();
        h.push(s.get("web", 1).await.unwrap());
        h
    }
    let (old, new) = (history_of(true).await, history_of(false).await);
    // Only the run ids and the encryption differ between the two; both were written by run-1.
    assert_eq!(old, new);
    assert_eq!(new[0].status, Status::Superseded);
    assert_eq!(new[0].last_deployed, Timestamp(120));
}

/// A lease taken by `holder` (not renewed unless the test does).
async fn hold(s: &Store, c: &ManualClock, holder: &str) -> lock::Held {
    let claim = lock::Claim {
        holder: holder.to_string(),
        host: "h".to_string(),
        operation: Operation::Upgrade,
        ttl_secs: 10,
        now: c.now(),
    };
    lock::acquire(&*s.driver, "web", &claim, std::time::Duration::ZERO, None)
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_lease_or_a_pending_record_stops_the_one_write_path() {
    let api = FakeConfigMapApi::new("prod");
    let c = Arc::new(ManualClock::new(Timestamp(100)));
    let a = cm_store(&api, &c, "run-a");
    let b = cm_store(&api, &c, "run-b");
    install(&a, "web").await;

    // A lease without a record yet: whether its holder lives takes watching, which only the
    // locked path does; nothing is written here.
    let held = hold(&a, &c, "run-a").await;
    let before = api.calls().len();
    let out = b
        .record_unchanged(opts("web", Operation::Upgrade, "a"), "Upgrade complete", 2)
        .await
        .unwrap();
    assert!(matches!(out, Unchanged::NeedsLock(_)), "{out:?}");
    assert!(writes(&api.calls()[before..]).is_empty(), "nothing written");
    lock::release(&*a.driver, held).await.unwrap();

    // A pending record (a run at work, or a dead one): the locked path must take over.
    let p = a.begin(opts("web", Operation::Upgrade, "b")).await.unwrap();
    let out = b
        .record_unchanged(opts("web", Operation::Upgrade, "a"), "Upgrade complete", 3)
        .await
        .unwrap();
    assert!(matches!(out, Unchanged::NeedsLock(_)), "{out:?}");
    // ... where a holder that renews is alive: stop, naming it.
    let renewing = async {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            a.renew(&p).await.unwrap();
        }
    };
    let err = tokio::select! {
        r = b.begin(opts("web", Operation::Upgrade, "a")) => r.unwrap_err().to_string(),
        _ = renewing => unreachable!(),
    };
    assert!(
        err.contains("in progress") && err.contains("by run run-a"),
        "{err}"
    );
    a.mark_deployed(p, "Upgrade complete").await.unwrap();

    // The lease of a dead run that recorded nothing: the one-write path leaves it to the
    // locked path; once it is gone, nothing stands in the way.
    hold(&a, &c, "run-dead").await;
    let out = b
        .record_unchanged(opts("web", Operation::Upgrade, "b"), "Upgrade complete", 3)
        .await
        .unwrap();
    assert!(matches!(out, Unchanged::NeedsLock(_)), "{out:?}");
    b.force_unlock("web").await.unwrap();
    let out = b
        .record_unchanged(opts("web", Operation::Upgrade, "b"), "Upgrade complete", 3)
        .await
        .unwrap();
    assert!(matches!(out, Unchanged::Recorded(_)), "{out:?}");

    // A revision recorded since the caller read the release: its plan is stale.
    let err = b
        .record_unchanged(opts("web", Operation::Upgrade, "b"), "Upgrade complete", 3)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("by run run-b") && err.contains("revision 3"),
        "{err}"
    );
    let got: Vec<Status> = statuses(&a, "web").await.into_iter().map(|x| x.1).collect();
    assert_eq!(got, [Status::Superseded, Status::Superseded, Status::Deployed]);
}

#[tokio::test(start_paused = true)]
async fn racing_unchanged_upgrades_one_wins_the_other_names_it() {
    let api = FakeConfigMapApi::new("prod").interleaved();
    let c = Arc::new(ManualClock::new(Timestamp(100)));
    let (a, b) = (cm_store(&api, &c, "run-a"), cm_store(&api, &c, "run-b"));
    install(&a, "web").await;
    let (ra, rb) = tokio::join!(
        a.record_unchanged(opts("web", Operation::Upgrade, "a"), "Upgrade complete", 2),
        b.record_unchanged(opts("web", Operation::Upgrade, "a"), "Upgrade complete", 2),
    );
    let (winner, loser) = match (&ra, &rb) {
        (Ok(Unchanged::Recorded(_)), Err(e)) => ("run-a", e.to_string()),
        (Err(e), Ok(Unchanged::Recorded(_))) => ("run-b", e.to_string()),
        _ => panic!("exactly one must win: {ra:?} / {rb:?}"),
    };
    assert!(loser.contains(&format!("by run {winner}")), "{loser}");
    let h = a.history("web").await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].owner, winner);
}

#[tokio::test(start_paused = true)]
async fn an_unchanged_upgrade_then_a_locked_one_then_uninstall_keep_history() {
    let api = FakeConfigMapApi::new("prod");
    let c = Arc::new(ManualClock::new(Timestamp(0)));
    let s = cm_store(&api, &c, "run");
    install(&s, "web").await;
    c.advance(10);
    let out = s
        .record_unchanged(opts("web", Operation::Upgrade, "a"), "Upgrade complete", 2)
        .await
        .unwrap();
    assert!(matches!(out, Unchanged::Recorded(_)), "{out:?}");
    c.advance(10);
    let p = s.begin(opts("web", Operation::Upgrade, "b")).await.unwrap();
    assert_eq!(p.release().revision, 3);
    s.mark_deployed(p, "Upgrade complete").await.unwrap();
    // Uninstall takes deployed away from the newest without rewriting the older ones: the
    // uninstalled record is marked as superseding them, so they read as before.
    let before = api.calls().len();
    let p = s.begin_uninstall("web").await.unwrap();
    s.finish_uninstall(p, true).await.unwrap();
    let record_writes: Vec<String> = writes(&api.calls()[before..])
        .into_iter()
        .filter(|c| !c.ends_with(".lock"))
        .collect();
    assert_eq!(
        record_writes,
        ["update kubectl-chart.web.v3", "update kubectl-chart.web.v3"],
        "uninstalling, then uninstalled: no older record rewritten"
    );
    let labels: Vec<(String, Option<String>)> = api
        .configmaps()
        .values()
        .filter_map(|cm| {
            let status = cm.labels.get("status")?.clone();
            Some((status, cm.annotations.get(keys::SUPERSEDES).cloned()))
        })
        .collect();
    let mark = Some("true".to_string());
    assert_eq!(
        labels,
        [
            ("deployed".into(), None),
            ("deployed".into(), None),
            ("uninstalled".into(), mark)
        ]
    );
    assert_eq!(
        statuses(&s, "web").await,
        [
            (1, Status::Superseded, Timestamp(10)),
            (2, Status::Superseded, Timestamp(20)),
            (3, Status::Uninstalled, Timestamp(20)),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn history_max_prunes_after_an_unchanged_upgrade() {
    let api = FakeConfigMapApi::new("prod");
    let c = Arc::new(ManualClock::new(Timestamp(0)));
    let s = cm_store(&api, &c, "run").with_history_max(2);
    install(&s, "web").await;
    for rev in 2..=4 {
        let out = s
            .record_unchanged(opts("web", Operation::Upgrade, "a"), "Upgrade complete", rev)
            .await
            .unwrap();
        assert!(matches!(out, Unchanged::Recorded(_)), "{rev}: {out:?}");
    }
    let left: Vec<u32> = statuses(&s, "web").await.into_iter().map(|x| x.0).collect();
    assert_eq!(left, [3, 4]);
}

/// How an uninstall ends, for [`uninstall_never_changes_what_older_revisions_read`].
#[derive(Debug, Clone, Copy)]
enum UninstallEnd {
    /// `--keep-history`: the newest record stays, `uninstalled`.
    KeepHistory,
    /// Killed after marking `uninstalling`; a later run recovers the record as `failed`.
    KilledThenRecovered,
    /// The uninstall failed (a hook, a delete): the record becomes `failed`.
    Failed,
}

/// Helm marks the deployed revision `superseded` when a newer one is deployed, and never
/// otherwise; its uninstall rewrites only the newest record. Whatever an uninstall of ours
/// leaves, the older revisions read what Helm's would: superseded below a revision that was
/// deployed, `deployed` below one that had failed.
#[tokio::test(start_paused = true)]
async fn uninstall_never_changes_what_older_revisions_read() {
    use Status::{Deployed as D, Failed as F, Superseded as S, Uninstalled as U};
    // (name, did the last upgrade fail, how the uninstall ends, statuses after, oldest first)
    let cases: &[(&str, bool, UninstallEnd, &[Status])] = &[
        ("deployed, kept", false, UninstallEnd::KeepHistory, &[S, S, U]),
        (
            "deployed, killed",
            false,
            UninstallEnd::KilledThenRecovered,
            &[S, S, F],
        ),
        ("deployed, failed", false, UninstallEnd::Failed, &[S, S, F]),
        (
            "after a failed upgrade, kept",
            true,
            UninstallEnd::KeepHistory,
            &[S, D, U],
        ),
        (
            "after a failed upgrade, killed",
            true,
            UninstallEnd::KilledThenRecovered,
            &[S, D, F],
        ),
        (
            "after a failed upgrade, failed",
            true,
            UninstallEnd::Failed,
            &[S, D, F],
        ),
    ];
    for &(name, failed_upgrade, end, want) in cases {
        let api = FakeConfigMapApi::new("prod");
        let c = Arc::new(ManualClock::new(Timestamp(0)));
        let s = cm_store(&api, &c, "run").with_lock_ttl(5);
        install(&s, "web").await;
        c.advance(10);
        let p = s.begin(opts("web", Operation::Upgrade, "b")).await.unwrap();
        s.mark_deployed(p, "Upgrade complete").await.unwrap();
        c.advance(10);
        let p = s.begin(opts("web", Operation::Upgrade, "c")).await.unwrap();
        if failed_upgrade {
            s.mark_failed(p, "upgrade: boom").await.unwrap();
        } else {
            s.mark_deployed(p, "Upgrade complete").await.unwrap();
        }
        let before = statuses(&s, "web").await;
        c.advance(10);
        let p = s.begin_uninstall("web").await.unwrap();
        let mid = statuses(&s, "web").await;
        assert_eq!(mid[..2], before[..2], "{name}: while uninstalling");
        match end {
            UninstallEnd::KeepHistory => {
                s.finish_uninstall(p, true).await.unwrap();
            }
            UninstallEnd::Failed => {
                s.mark_failed(p, "uninstall failed: boom").await.unwrap();
            }
            UninstallEnd::KilledThenRecovered => {
                drop(p);
                // The lease expires unrenewed; the next run takes it over and recovers.
                let next = cm_store(&api, &c, "next").with_lock_ttl(5);
                c.advance(60);
                let p = next.begin_uninstall("web").await.unwrap();
                next.mark_failed(p, "uninstall failed: boom").await.unwrap();
            }
        }
        let after = statuses(&s, "web").await;
        let got: Vec<Status> = after.iter().map(|x| x.1).collect();
        assert_eq!(got, want, "{name}");
        assert_eq!(after[..2], before[..2], "{name}: older revisions read as before");
    }
}

/// Uninstall deletes the records only while nobody else can hold the lock: a lease written less
/// than a renewal interval ago is used as it is (no renewal as fencing); an older one is renewed
/// first, and one taken over meanwhile stops the run with every record left.
#[tokio::test(start_paused = true)]
async fn uninstall_deletes_records_only_under_a_lease_nobody_else_can_hold() {
    // (case, seconds the run stalls before deleting, another run took the lock meanwhile,
    // calls from the stall on, records left)
    type Case<'a> = (&'a str, u64, bool, &'a [&'a str], usize);
    // Everything but the newest record and the lock (older records, parts) in one request,
    // then the newest by name; the namespace's last release: the key, then the lock, last.
    let rest = "deletecollection owner=kubectl-chart,name=web,version!=2,!lock";
    let newest = "delete kubectl-chart.web.v2";
    let lock = "delete kubectl-chart.web.lock";
    let cases: &[Case] = &[
        ("fresh lease", 0, false, &[rest, newest, lock], 0),
        (
            "stale lease",
            3,
            false,
            &["update kubectl-chart.web.lock", rest, newest, lock],
            0,
        ),
        (
            "taken over",
            30,
            true,
            // The last call is the conditional give-back, which leaves the thief's lock alone.
            &[
                "update kubectl-chart.web.lock",
                "get kubectl-chart.web.lock",
                "delete kubectl-chart.web.lock",
            ],
            2,
        ),
    ];
    for &(name, stall, taken, want, left) in cases {
        let api = FakeConfigMapApi::new("prod");
        let c = Arc::new(ManualClock::new(Timestamp(0)));
        let s = cm_store(&api, &c, "run");
        install(&s, "web").await;
        let p = s.begin(opts("web", Operation::Upgrade, "b")).await.unwrap();
        s.mark_deployed(p, "Upgrade complete").await.unwrap();
        let p = s.begin_uninstall("web").await.unwrap();
        tokio::time::advance(std::time::Duration::from_secs(stall)).await;
        if taken {
            api.delete("kubectl-chart.web.lock", None).await.unwrap();
            hold(&cm_store(&api, &c, "thief"), &c, "thief").await;
        }
        let before = api.calls().len();
        let out = s.finish_uninstall(p, false).await;
        assert_eq!(out.is_err(), taken, "{name}: {out:?}");
        let calls: Vec<String> = api.calls()[before..]
            .iter()
            .filter(|c| c.contains("kubectl-chart.web") || c.starts_with("deletecollection"))
            .cloned()
            .collect();
        assert_eq!(calls, want, "{name}");
        let records = api.configmaps().keys().filter(|k| k.contains(".v")).count();
        assert_eq!(records, left, "{name}");
        let lock = api.configmaps().contains_key("kubectl-chart.web.lock");
        assert_eq!(lock, taken, "{name}: the thief's lock stays, ours goes");
    }
}
