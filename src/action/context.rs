//! What every verb that talks to a cluster shares: the connection, the release namespace, the
//! clock, and the release store for a namespace.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use anyhow::Context as _;

use crate::{
    cluster::{Cluster, ConnectOptions, KubeCluster},
    release::{
        driver::{ClusterConfigMaps, ConfigMapDriver, Driver},
        lock, Clock, DeadLeases, Store, SystemClock,
    },
};

/// The environment of one run.
#[derive(Clone)]
pub struct Context {
    /// The cluster, behind its one interface.
    pub cluster: Arc<dyn Cluster>,
    /// The namespace releases live in (`-n`, else the kubeconfig context's).
    pub namespace: String,
    /// Time source for release records.
    pub clock: Arc<dyn Clock>,
    /// This run's id, recorded as the writer of release records and locks.
    pub run_id: String,
    /// `--history-max` for stores this context makes.
    pub history_max: usize,
    /// How long a release lock outlives a run that stopped renewing it (killed, crashed, cut
    /// off): after that the next run takes over and marks the interrupted revision failed.
    /// `KUBECTL_CHART_LOCK_TTL` (seconds) overrides the default.
    pub lock_ttl_secs: i64,
    /// `--wait-for-lock`: how long a run waits for another live run's lock (zero: it stops at
    /// once, naming the holder).
    pub lock_wait: std::time::Duration,
    /// Release-store drivers by namespace, shared by every store this context and its clones
    /// make: a driver reads its namespace's data key once, so a run reads it once, not once per
    /// store (a verb makes several).
    drivers: Arc<Mutex<HashMap<String, Arc<dyn Driver>>>>,
    /// A dead run's lease this run saw while waiting for the lock, shared by every store it
    /// makes: the store that opens the revision takes the lease over without watching it again.
    pub dead_leases: DeadLeases,
}

impl Context {
    /// Connects as kubectl would with these flags.
    pub async fn connect(opts: &ConnectOptions) -> anyhow::Result<Context> {
        let cluster = KubeCluster::connect(opts)
            .await
            .context("connecting to the cluster")?;
        let cluster: Arc<dyn Cluster> = Arc::new(cluster);
        Ok(Context::with_cluster(cluster, None))
    }

    /// A context over any cluster implementation (tests use the in-memory one).
    pub fn with_cluster(cluster: Arc<dyn Cluster>, namespace: Option<String>) -> Context {
        let namespace = namespace.unwrap_or_else(|| cluster.default_namespace().to_string());
        Context {
            cluster,
            namespace,
            clock: Arc::new(SystemClock),
            run_id: lock::new_run_id(),
            history_max: crate::release::DEFAULT_HISTORY_MAX,
            lock_ttl_secs: std::env::var("KUBECTL_CHART_LOCK_TTL")
                .ok()
                .and_then(|s| s.parse().ok())
                .filter(|&s: &i64| s > 0)
                .unwrap_or(crate::release::lock::DEFAULT_TTL_SECS),
            lock_wait: std::time::Duration::ZERO,
            drivers: Arc::default(),
            dead_leases: DeadLeases::default(),
        }
    }

    /// The release store of `namespace` (default: the context's).
    pub fn store(&self, namespace: Option<&str>) -> Store {
        let ns = namespace.unwrap_or(&self.namespace);
        let driver = self
            .drivers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(ns.to_string())
            .or_insert_with(|| {
                let api = ClusterConfigMaps::new(self.cluster.clone(), ns);
                Arc::new(ConfigMapDriver::new(api))
            })
            .clone();
        Store::new(driver, self.clock.clone(), self.run_id.clone())
            .with_history_max(self.history_max)
            .with_lock_ttl(self.lock_ttl_secs)
            .with_lock_wait(self.lock_wait)
            .with_dead_leases(self.dead_leases.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;

    use super::*;
    use crate::{
        cluster::FakeCluster,
        release::{lock::Claim, BeginOptions, ChartRef, Operation, Timestamp},
    };

    fn begin(name: &str) -> BeginOptions {
        BeginOptions {
            name: name.to_string(),
            operation: Operation::Upgrade,
            chart: ChartRef {
                name: "web".into(),
                version: "1.0.0".into(),
                app_version: "1".into(),
                origin: None,
            },
            values: serde_json::json!({}),
            computed_values: serde_json::json!({}),
            manifest: "kind: ConfigMap\n".into(),
            hooks: Vec::new(),
            notes: String::new(),
            description: String::new(),
        }
    }

    /// Issue 20, found by the kill -9 sweep: upgrade and rollback wait for the lock with one
    /// store and open their revision with another (the transaction's). The second must take the
    /// dead run's lease the first saw, not watch it a second lease duration (a plain rerun took
    /// 20 s instead of 10).
    #[tokio::test(start_paused = true)]
    async fn stores_of_one_run_take_a_dead_lease_over_after_one_lease_duration() {
        // (case, whether the second store is another run's)
        for (case, other_run) in [("same run", false), ("another run", true)] {
            let fake = Arc::new(FakeCluster::new("ns"));
            let ctx = Context::with_cluster(fake.clone(), Some("ns".into()));
            let dead = Claim {
                holder: "dead-run".into(),
                host: "h".into(),
                operation: Operation::Upgrade,
                ttl_secs: 10,
                now: Timestamp(0),
            };
            let driver = ConfigMapDriver::new(ClusterConfigMaps::new(fake.clone(), "ns"));
            lock::acquire(&driver, "web", &dead, Duration::ZERO, None)
                .await
                .expect("the dead run's lease");

            let started = Instant::now();
            let seen = ctx.store(None).await_lock("web").await.expect("await_lock");
            assert_eq!(seen.map(|l| l.holder), Some("dead-run".to_string()), "{case}");
            assert_eq!(
                started.elapsed(),
                Duration::from_secs(10),
                "{case}: one lease duration"
            );

            let opener = if other_run {
                Context::with_cluster(fake.clone(), Some("ns".into()))
            } else {
                ctx.clone()
            };
            let started = Instant::now();
            opener.store(None).begin(begin("web")).await.expect("begin");
            // Only this run saw the lease dead; another run must watch it for itself.
            let want = if other_run {
                Duration::from_secs(10)
            } else {
                Duration::ZERO
            };
            assert_eq!(started.elapsed(), want, "{case}: the second store's wait");
        }
    }
}
