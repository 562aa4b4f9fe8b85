//! The lease's liveness decision, on tokio's paused clock: renewals are injected by a task that
//! writes the lease as a live holder would, and every wait passes in virtual time, so these
//! tests are exact and instant.

use std::sync::Arc;

use tokio::task::JoinHandle;

use super::*;
use crate::{
    cluster::FakeCluster,
    release::driver::{ClusterConfigMaps, ConfigMapDriver, MemoryDriver},
};

/// The two ways a lease is watched: polling (the trait default, on [`MemoryDriver`]) and
/// [`FakeCluster`]'s own `wait_for_change` under the ConfigMap driver the CLI uses.
fn drivers() -> Vec<(&'static str, Arc<dyn Driver>)> {
    let fake = Arc::new(FakeCluster::new("ns"));
    vec![
        ("memory", Arc::new(MemoryDriver::new("ns"))),
        (
            "configmaps on FakeCluster",
            Arc::new(ConfigMapDriver::new(ClusterConfigMaps::new(fake, "ns"))),
        ),
    ]
}

fn claim(holder: &str, op: Operation, ttl: i64, now: i64) -> Claim {
    Claim {
        holder: holder.to_string(),
        host: format!("{holder}-host"),
        operation: op,
        ttl_secs: ttl,
        now: Timestamp(now),
    }
}

/// `holder`'s upgrade of release `web` (a 10 s lease, its clock at 0) acquires the lease, waiting
/// out any holder the way `acquire` decides; the test fails if it cannot.
async fn upgrade_lock(driver: &dyn Driver, holder: &str) -> Held {
    let claim = claim(holder, Operation::Upgrade, 10, 0);
    acquire(driver, "web", &claim, Duration::ZERO, None)
        .await
        .unwrap()
}

/// A live holder: renews `held` every renewal interval until aborted, stamping it with its own
/// clock (`clock` seconds).
fn renewing(driver: Arc<dyn Driver>, mut held: Held, clock: i64) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = held.lease.renew_every();
        for i in 1.. {
            tokio::time::sleep(every).await;
            if renew(&*driver, &mut held, Timestamp(clock + i)).await.is_err() {
                return;
            }
        }
    })
}

/// What the other run is doing while "me" asks for the lease.
#[derive(Debug, Clone, Copy)]
enum Other {
    None,
    Renewing,
    Dead,
    ReleasesAfter(u64),
}

#[tokio::test(start_paused = true)]
async fn acquire_decides_liveness_by_watching_not_by_clocks() {
    // (case, other run, its clock minus ours in seconds, want: Ok(took over?) or Err(busy holder))
    let cases: [(&str, Other, i64, Result<bool, &str>); 8] = [
        ("free", Other::None, 0, Ok(false)),
        ("live holder", Other::Renewing, 0, Err("other")),
        (
            "live holder, clock 10 min fast",
            Other::Renewing,
            600,
            Err("other"),
        ),
        (
            "live holder, clock 10 min slow",
            Other::Renewing,
            -600,
            Err("other"),
        ),
        ("dead holder", Other::Dead, 0, Ok(true)),
        ("dead holder, clock 10 min fast", Other::Dead, 600, Ok(true)),
        ("dead holder, clock 10 min slow", Other::Dead, -600, Ok(true)),
        (
            "holder finishes while watched",
            Other::ReleasesAfter(3),
            0,
            Ok(false),
        ),
    ];
    let ours = 1_000_000;
    for (kind, driver) in drivers() {
        for (case, other, skew, want) in cases {
            let name = format!("web-{}", case.len());
            let _ = driver.delete_lock(&name, None).await;
            let ctx = format!("{kind}: {case}");
            let mut task = None;
            if !matches!(other, Other::None) {
                let c = claim("other", Operation::Upgrade, 10, ours + skew);
                let h = acquire(&*driver, &name, &c, Duration::ZERO, None).await.unwrap();
                task = match other {
                    Other::Renewing => Some(renewing(driver.clone(), h, ours + skew)),
                    Other::ReleasesAfter(s) => {
                        let d = driver.clone();
                        Some(tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_secs(s)).await;
                            release(&*d, h).await.unwrap();
                        }))
                    }
                    _ => None,
                };
            }
            let started = Instant::now();
            let got = acquire(
                &*driver,
                &name,
                &claim("me", Operation::Install, 10, ours),
                Duration::ZERO,
                None,
            )
            .await;
            let took = started.elapsed();
            if let Some(t) = task {
                t.abort();
            }
            match (got, want) {
                (Ok(h), Ok(took_over)) => {
                    assert_eq!(h.lease.holder, "me", "{ctx}");
                    assert_eq!(h.lease.host, "me-host", "{ctx}");
                    assert_eq!(h.took_over.is_some(), took_over, "{ctx}");
                    let stored = driver.get_lock(&name).await.unwrap().unwrap();
                    assert_eq!(stored.value, h.lease, "{ctx}");
                    if took_over {
                        // A dead holder is declared so after one whole lease duration of silence.
                        assert!(took >= Duration::from_secs(10), "{ctx}: {took:?}");
                        assert!(took < Duration::from_secs(11), "{ctx}: {took:?}");
                    }
                }
                (Err(LockError::Busy(l)), Err(holder)) => {
                    assert_eq!(l.holder, holder, "{ctx}");
                    // Stopped at the first renewal it saw, not after the lease duration.
                    assert!(
                        took <= l.renew_every() + Duration::from_secs(1),
                        "{ctx}: {took:?}"
                    );
                    let msg = LockError::Busy(l).to_string();
                    assert!(
                        msg.contains("upgrade by run other on host other-host, started "),
                        "{ctx}: {msg}"
                    );
                }
                (got, want) => panic!("{ctx}: got {got:?}, want {want:?}"),
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn waiting_for_a_live_holder_then_taking_it_when_released() {
    for (kind, d) in drivers() {
        let h = upgrade_lock(&*d, "a").await;
        let live = renewing(d.clone(), h.clone(), 0);
        let d2 = d.clone();
        // The holder works 30 s (renewing throughout), then releases.
        let finisher = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            live.abort();
            let cur = d2.get_lock("web").await.unwrap().unwrap();
            d2.delete_lock("web", Some(&cur.version)).await.unwrap();
        });
        let short = await_free(&*d, "web", "b", Duration::from_secs(5)).await;
        assert!(
            matches!(short, Err(LockError::Busy(ref l)) if l.holder == "a"),
            "{kind}: {short:?}"
        );
        let long = await_free(&*d, "web", "b", Duration::from_secs(60)).await;
        assert!(matches!(long, Ok(None)), "{kind}: {long:?}");
        finisher.await.unwrap();
        let b = upgrade_lock(&*d, "b").await;
        assert!(b.took_over.is_none(), "{kind}");
        release(&*d, b).await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_lease_seen_dead_before_planning_is_taken_without_watching_again() {
    for (kind, d) in drivers() {
        upgrade_lock(&*d, "a").await;
        let dead = await_free(&*d, "web", "b", Duration::ZERO)
            .await
            .unwrap()
            .expect("dead lease");
        assert_eq!(dead.value.holder, "a", "{kind}");
        let started = Instant::now();
        let c = claim("b", Operation::Upgrade, 10, 0);
        let b = acquire(&*d, "web", &c, Duration::ZERO, Some(&dead.version))
            .await
            .unwrap();
        assert_eq!(started.elapsed(), Duration::ZERO, "{kind}");
        assert_eq!(b.took_over.map(|l| l.holder), Some("a".to_string()), "{kind}");
    }
}

#[tokio::test(start_paused = true)]
async fn renew_detects_takeover() {
    let d = MemoryDriver::new("ns");
    let mut a = upgrade_lock(&d, "a").await;
    renew(&d, &mut a, Timestamp(3)).await.unwrap();
    assert_eq!(a.lease.renewed_at, Timestamp(3));
    // a stalls for a whole lease duration; b takes over
    let b = upgrade_lock(&d, "b").await;
    assert_eq!(b.took_over.as_ref().map(|l| l.holder.as_str()), Some("a"));
    let err = renew(&d, &mut a, Timestamp(96)).await.unwrap_err();
    assert_eq!(err.to_string(), "lost the lock on release \"web\" to run b");
    // a's release must not free b's lock
    release(&d, a).await.unwrap();
    assert_eq!(d.get_lock("web").await.unwrap().unwrap().value.holder, "b");
    release(&d, b).await.unwrap();
    assert!(d.get_lock("web").await.unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn racing_acquires_one_wins() {
    let d = MemoryDriver::new("ns").interleaved();
    // Each run, once it holds the lease, renews it for longer than a lease duration.
    let run = |holder: &'static str| {
        let d = d.clone();
        async move {
            let c = claim(holder, Operation::Upgrade, 10, 0);
            let mut h = acquire(&d, "web", &c, Duration::ZERO, None).await?;
            for i in 0..8 {
                tokio::time::sleep(h.lease.renew_every()).await;
                renew(&d, &mut h, Timestamp(i)).await?;
            }
            Ok::<_, LockError>(h)
        }
    };
    let (a, b) = tokio::join!(run("a"), run("b"));
    match (&a, &b) {
        (Ok(w), Err(LockError::Busy(l))) | (Err(LockError::Busy(l)), Ok(w)) => {
            assert_eq!(l.holder, w.lease.holder, "the loser names the winner")
        }
        _ => panic!("want one winner and one busy: {a:?} {b:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn force_release_refuses_a_renewed_lease() {
    for (kind, d) in drivers() {
        let h = upgrade_lock(&*d, "a").await;
        let live = renewing(d.clone(), h, 0);
        let err = force_release(&*d, "web").await.unwrap_err();
        assert!(
            matches!(err, LockError::Renewed(ref l) if l.holder == "a"),
            "{kind}: {err:?}"
        );
        assert!(err.to_string().contains("holder is alive"), "{kind}: {err}");
        assert_eq!(
            d.get_lock("web").await.unwrap().unwrap().value.holder,
            "a",
            "{kind}"
        );
        live.abort();
        // Dead now: broken after two renewal intervals of silence, well before the duration.
        let started = Instant::now();
        let gone = force_release(&*d, "web").await.unwrap();
        assert_eq!(gone.map(|l| l.holder), Some("a".to_string()), "{kind}");
        assert!(started.elapsed() < Duration::from_secs(10), "{kind}");
        assert!(d.get_lock("web").await.unwrap().is_none(), "{kind}");
        assert!(force_release(&*d, "web").await.unwrap().is_none(), "{kind}");
    }
}

#[test]
fn names_and_descriptions() {
    assert_eq!(lock_key("web"), "kubectl-chart.web.lock");
    let (a, b) = (new_run_id(), new_run_id());
    assert_ne!(a, b);
    assert!(a.starts_with(&format!("{}-", std::process::id())), "{a}");
    assert!(!host_name().is_empty());
    let l = claim("r1", Operation::Rollback, 10, 1_765_000_000).lease("web");
    assert_eq!(
        l.describe(),
        "rollback by run r1 on host r1-host, started 2025-12-06T05:46:40Z by its clock"
    );
    // (ttl, watch window, renewal interval): clamped so a lease can neither block forever nor
    // be renewed in a busy loop.
    for (ttl, window, every) in [
        (10, 10, 2),
        (3, 3, 1),
        (1, 1, 1),
        (0, 1, 1),
        (100_000, 120, 25_000),
    ] {
        let l = Lease {
            ttl_secs: ttl,
            ..l.clone()
        };
        assert_eq!(l.window(), Duration::from_secs(window), "ttl {ttl}");
        assert_eq!(l.renew_every(), Duration::from_secs(every), "ttl {ttl}");
    }
    // Leases written before hosts were recorded still read.
    let old: Lease = serde_json::from_str(
        r#"{"release":"web","holder":"x","operation":"upgrade","acquired_at":0,"renewed_at":0,"ttl_secs":60}"#,
    )
    .unwrap();
    assert_eq!(old.host, "");
    assert_eq!(
        old.describe(),
        "upgrade by run x, started 1970-01-01T00:00:00Z by its clock"
    );
}
