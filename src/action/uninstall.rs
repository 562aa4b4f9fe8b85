//! `uninstall RELEASE`: delete what the release created (hooks first and last, `keep` policy
//! honoured, reverse install order) and close its history.

use std::time::Duration;

use super::{
    plan::{parse_manifest_docs, plan_uninstall},
    transaction::{recorded_hooks, Kind, PlanWork, Transaction},
    Context,
};
use crate::{
    apply::{self, ApplyOptions, Ownership, WaitOptions},
    release::Release,
};

/// Inputs of `uninstall`.
#[derive(Debug, Clone)]
pub struct UninstallOptions {
    /// Release name.
    pub release: String,
    /// `--keep-history`: keep the records (status `uninstalled`) so `rollback` can bring it back.
    pub keep_history: bool,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// `--wait`: wait until the objects are gone.
    pub wait: bool,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--description`.
    pub description: Option<String>,
    /// `--cascade`: how the dependents of deleted objects go.
    pub cascade: crate::cluster::Propagation,
}

/// Uninstalls; returns the last record when history is kept.
pub async fn uninstall(ctx: &Context, opts: &UninstallOptions) -> anyhow::Result<Option<Release>> {
    let txn = |helm_records| {
        Transaction::new(
            ctx,
            Kind::Uninstall {
                keep_history: opts.keep_history,
                helm_records,
            },
        )
        .wait(opts.wait)
        .timeout(opts.timeout)
    };
    // The history read under the lock says whether the release ever was Helm's; one Helm
    // installed (or was handed back) is taken over first, so its objects and hooks are known,
    // and opened again.
    let open = match txn(false).open_uninstall_of_ours(&opts.release).await? {
        Some(open) => open,
        None => {
            let helm_records = super::takeover::take_over_held(ctx, &opts.release, false)
                .await?
                .is_some();
            txn(helm_records).open_uninstall(&opts.release).await?
        }
    };
    let last = open.release();
    let objects = parse_manifest_docs(&last.manifest, "recorded manifest")?;
    // The live objects as of no older than the `uninstalling` write (see `plan_uninstall`).
    let plan = plan_uninstall(ctx, &opts.release, &ctx.namespace, objects, open.written_at()).await?;
    let hooks = recorded_hooks(&last.hooks);
    let work = PlanWork {
        ctx,
        plan: &plan,
        apply: ApplyOptions {
            ownership: Some(Ownership {
                release: opts.release.clone(),
                namespace: ctx.namespace.clone(),
                adopt: apply::Adopt::Never,
            }),
            timeout: opts.timeout,
            propagation: opts.cascade,
            ..Default::default()
        },
        // `--wait`: until every object deleted is gone.
        wait_for: apply::WaitTarget::deleted_in(&plan),
        wait: WaitOptions {
            timeout: opts.timeout,
            ..Default::default()
        },
    };
    open.hooks(hooks, opts.no_hooks).run(&work).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{json, Value};

    use super::*;
    use crate::{
        cluster::{FakeCluster, Method},
        release::{BeginOptions, ChartRef, Operation},
    };

    const MANIFEST: &str =
        "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n\
        ---\n# Source: c/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n\
        ---\n# Source: c/templates/gone.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n\
        ---\n# Source: c/templates/s.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n";

    fn cm(name: &str, release: Option<&str>) -> Value {
        let mut o =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "prod"}});
        if let Some(r) = release {
            o["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "Helm"});
            o["metadata"]["annotations"] =
                json!({"meta.helm.sh/release-name": r, "meta.helm.sh/release-namespace": "prod"});
        }
        o
    }

    /// Records a deployed revision of `web` with [`MANIFEST`].
    async fn deploy(ctx: &Context, operation: Operation) {
        let store = ctx.store(None);
        let p = store
            .begin(BeginOptions {
                name: "web".into(),
                operation,
                chart: ChartRef::default(),
                values: Value::Null,
                computed_values: Value::Null,
                manifest: MANIFEST.into(),
                hooks: Vec::new(),
                notes: String::new(),
                description: String::new(),
            })
            .await
            .expect("begin");
        store.mark_deployed(p, "done").await.expect("deployed");
    }

    async fn installed(b_owner: Option<&str>) -> (Arc<FakeCluster>, Context) {
        let fake = Arc::new(FakeCluster::new("prod"));
        let ctx = Context::with_cluster(fake.clone(), None);
        deploy(&ctx, Operation::Install).await;
        for o in [
            cm("a", Some("web")),
            cm("b", b_owner),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "prod"}}),
            cm("bystander", Some("other")),
        ] {
            fake.insert(o).expect("live object");
        }
        (fake, ctx)
    }

    fn opts() -> UninstallOptions {
        UninstallOptions {
            release: "web".into(),
            keep_history: false,
            no_hooks: true,
            wait: false,
            timeout: Duration::from_secs(5),
            description: None,
            cascade: crate::cluster::Propagation::Background,
        }
    }

    fn names(fake: &FakeCluster, method: Method, kind: &str) -> Vec<String> {
        fake.calls()
            .into_iter()
            .filter(|c| c.method == method && c.gvk.kind == kind && !c.name.starts_with("kubectl-chart"))
            .map(|c| c.name)
            .collect()
    }

    /// Issue 10: one GET per object before its DELETE (306 GETs for 300 objects); now one LIST
    /// per kind, and a GET only for an object the list did not return.
    #[tokio::test]
    async fn reads_live_objects_with_one_list_per_kind() {
        // `b` carries no ownership metadata: it is in our last revision, so it was ours and goes.
        let (fake, ctx) = installed(None).await;
        uninstall(&ctx, &opts()).await.expect("uninstall");
        let mut deleted = names(&fake, Method::Delete, "ConfigMap");
        deleted.sort();
        assert_eq!(deleted, ["a", "b"]);
        assert_eq!(names(&fake, Method::Delete, "Service"), ["s"]);
        let mut read = names(&fake, Method::Get, "ConfigMap");
        read.sort();
        // The list asks for Helm-managed objects: of the two it lacks, a metadata list says
        // `b` (unlabelled) exists, read by name, and `gone` does not.
        assert_eq!(
            read,
            ["b"],
            "only objects the lists lacked and that exist are read by name"
        );
        assert_eq!(
            names(&fake, Method::Get, "Service"),
            ["s"],
            "a kind with one object is read by name"
        );
        let left: Vec<String> = fake
            .objects()
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_string())
            .filter(|n| !n.starts_with("kubectl-chart"))
            .collect();
        assert_eq!(left, ["bystander"]);
    }

    /// What an uninstall of a release that never was Helm's sends besides the deletes and the
    /// reads of its objects, method by method: no look in Helm's storage (neither before, for a
    /// take-over, nor after, to delete Helm's records), the history listed once before the
    /// deletes, the lock created without a read first, the newest record marked `uninstalling`
    /// and no older one rewritten (it supersedes them), and the records, their parts and the
    /// lock deleted in two requests however many revisions there are. Fails if any of the
    /// requests this replaced comes back.
    #[tokio::test]
    async fn request_pattern_of_a_release_that_never_was_helms() {
        let (fake, ctx) = installed(None).await;
        // Two more revisions, all deployed in turn: three records to delete.
        for _ in 0..2 {
            deploy(&ctx, Operation::Upgrade).await;
        }
        let before = fake.calls().len();
        uninstall(&ctx, &opts()).await.expect("uninstall");
        let calls = &fake.calls()[before..];
        let store_calls: Vec<(Method, &str, &str)> = calls
            .iter()
            .filter(|c| {
                c.name.starts_with("kubectl-chart")
                    || c.method == Method::DeleteCollection
                    || c.method == Method::WatchList
                    || (c.method == Method::List && c.gvk.kind == "Secret")
                    || (c.method == Method::List
                        && c.gvk.kind == "ConfigMap"
                        && (c.name.is_empty() || c.name.starts_with("since ")))
            })
            .map(|c| (c.method, c.gvk.kind.as_str(), c.name.as_str()))
            .collect();
        // The version the last write of v3 (`uninstalling`) returned.
        let since = fake
            .write_versions("kubectl-chart.web.v3")
            .pop()
            .unwrap_or_default();
        let since = format!("since {since}");
        let (lock, v3, key) = (
            "kubectl-chart.web.lock",
            "kubectl-chart.web.v3",
            "kubectl-chart-key",
        );
        let want: &[(Method, &str, &str)] = &[
            // (No GET of the data key: the context that wrote the records has it.)
            (Method::Create, "ConfigMap", lock),
            // The history, once: ever Helm's? (no: no take-over), recovery, the newest record.
            (Method::List, "ConfigMap", ""),
            (Method::Patch, "ConfigMap", v3), // uninstalling; v1 and v2 not rewritten
            // The live objects, one LIST per kind, and which of the two it lacks exist
            // (metadata): both as of the `uninstalling` write, from the server's cache.
            (Method::List, "ConfigMap", &since),
            (Method::List, "ConfigMap", &since),
            // No other release has records, as of the `uninstalling` write (from the server's
            // cache): the key will go, before the lock.
            (Method::List, "ConfigMap", &since),
            // (No renewal as fencing before the records go: the lease was written less than a
            // renewal interval ago, so nobody can have taken it over.)
            // Older records and every part in one request, the lock left out; the newest record
            // by name (no list by label, which waits for the API server's cache).
            (
                Method::DeleteCollection,
                "ConfigMap",
                "owner=kubectl-chart,name=web,version!=3,!lock",
            ),
            (Method::Delete, "ConfigMap", v3),
            (Method::Delete, "Secret", key),
            (Method::Delete, "ConfigMap", lock),
            // No record appeared before the lock went: the watch from the `uninstalling`
            // write up to the lock's delete says so (a list would wait for the cache).
            (Method::WatchList, "ConfigMap", ""),
        ];
        assert_eq!(store_calls, want);
        let left: Vec<String> = fake
            .objects()
            .iter()
            .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
            .filter(|n| n.starts_with("kubectl-chart"))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[tokio::test]
    async fn never_deletes_an_object_another_release_owns() {
        let (fake, ctx) = installed(Some("other")).await;
        let err = uninstall(&ctx, &opts()).await.expect_err("refused");
        assert!(
            format!("{err:#}").contains("belongs to release \"other\""),
            "{err:#}"
        );
        assert!(names(&fake, Method::Delete, "ConfigMap").is_empty());
        assert!(fake.objects().iter().any(|o| o["metadata"]["name"] == "b"));
    }
}
