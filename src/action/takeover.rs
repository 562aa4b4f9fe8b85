//! Releases Helm 3 or Helm 4 installed: read verbs show them from Helm's own storage while we
//! have no record of them, and the first write takes them over ([`take_over`]).
//!
//! Taking over copies Helm's whole history into our (encrypted) records as it is: revisions,
//! statuses, descriptions, values, manifests, hooks. The next revision is Helm's last + 1, and
//! `rollback` to a Helm revision restores its manifest, values and hooks. Helm then gets an honest
//! last word: its deployed revision is marked `superseded`, with a description saying where the
//! history went, so a colleague's `helm history` tells them, and `export-helm` hands the release
//! back. Everything is read and decoded before the first write, so a corrupt Helm record stops
//! the run with nothing written.

use anyhow::Context as _;
use serde_json::{json, Value};

use super::Context;
use crate::{
    apply::FIELD_MANAGER,
    cluster::{Gvk, Patch, WriteOptions},
    diff::{Action, Plan},
    release::{
        helm::{HelmRecord, HelmStorage},
        Release, Status,
    },
};

/// What Helm's records say once we hold the history.
pub(crate) const TAKEN_OVER: &str =
    "Superseded: taken over by kubectl chart, which keeps the history from here (kubectl chart export-helm hands it back)";

/// The writer our imported revisions name.
pub(crate) const IMPORTED: &str = "imported-from-helm";

/// The writer our newest record names once `export-helm` handed the release to Helm.
pub(crate) const EXPORTED: &str = "exported-to-helm";

/// Whether Helm's storage may hold revisions of a release newer than ours, given our records
/// (`(revision, writer)`, any order): when we have no record of it, when its history passed
/// through Helm (a record imported from Helm, or handed to it by `export-helm`), or when our
/// history no longer starts at revision 1 (`--history-max` pruned it, and a marked record may
/// have been among those dropped). A release that never was Helm's needs no look in Helm's
/// storage (two LISTs, Secrets and ConfigMaps): Helm writes a revision newer than ours only by
/// carrying on a history it holds.
pub(crate) fn helm_may_hold<'a>(records: impl IntoIterator<Item = (u32, &'a str)>) -> bool {
    let mut oldest = None::<u32>;
    for (revision, owner) in records {
        if owner == IMPORTED || owner == EXPORTED {
            return true;
        }
        oldest = Some(oldest.map_or(revision, |o| o.min(revision)));
    }
    oldest.is_none_or(|o| o > 1)
}

/// Helm's reason for refusing to touch a release with a pending revision (`errPending`).
const HELM_PENDING: &str = "another operation (install/upgrade/rollback) is in progress";

/// Helm's storage in the context's namespace.
pub(crate) fn helm_storage(ctx: &Context, namespace: Option<&str>) -> HelmStorage {
    HelmStorage::new(ctx.cluster.clone(), namespace.unwrap_or(&ctx.namespace))
}

/// Helm's history of `name`, oldest first, decoded as our records; empty when Helm has none.
/// Callers ask only when we have no record of `name` (ours win once we took it over).
pub(crate) async fn helm_history(ctx: &Context, name: &str) -> anyhow::Result<Vec<Release>> {
    helm_history_after(ctx, name, 0).await
}

/// Helm's revisions of `name` after revision `after` (our newest): what Helm wrote since it got
/// the release back (`export-helm`), and what the next write takes over.
pub(crate) async fn helm_history_after(
    ctx: &Context,
    name: &str,
    after: u32,
) -> anyhow::Result<Vec<Release>> {
    let records = helm_storage(ctx, None)
        .history_after(name, after)
        .await
        .with_context(|| {
            format!(
                "reading Helm's history of release {name} in namespace {}",
                ctx.namespace
            )
        })?;
    Ok(records.into_iter().map(|r| r.release).collect())
}

/// Takes `name` over from Helm if Helm has it and we do not (or Helm has revisions newer than
/// ours, written after `export-helm`): imports those revisions, then marks Helm's deployed
/// revision superseded. Returns the number of revisions imported (0: nothing to
/// take over). A Helm revision still `pending-*` is refused with Helm's own reason, unless
/// `recover` (`--force-unlock`): it is then imported as failed.
pub(crate) async fn take_over(ctx: &Context, name: &str, recover: bool) -> anyhow::Result<usize> {
    Ok(take_over_held(ctx, name, recover).await?.unwrap_or(0))
}

/// [`take_over`], or `None` without looking when the release never was Helm's
/// ([`helm_may_hold`]): then Helm holds no record of it for an uninstall to delete either.
pub(crate) async fn take_over_held(
    ctx: &Context,
    name: &str,
    recover: bool,
) -> anyhow::Result<Option<usize>> {
    let store = ctx.store(None);
    // Helm's revisions newer than ours: all of them the first time; after `export-helm`, those
    // helm wrote since (one LIST, and nothing decoded, when there are none).
    let history = store.history_meta(name).await?;
    if !helm_may_hold(history.iter().map(|m| (m.revision, m.owner.as_str()))) {
        return Ok(None);
    }
    let ours = history.last().map_or(0, |m| m.revision);
    let helm = helm_storage(ctx, None);
    let records = helm.history_after(name, ours).await.with_context(|| {
        format!(
            "reading Helm's history of release {name} in namespace {}",
            ctx.namespace
        )
    })?;
    let Some(last) = records.last() else {
        return Ok(Some(0));
    };
    let history = imported(&records, recover)?;
    store
        .import(&history)
        .await
        .with_context(|| format!("taking over Helm release {name} in namespace {}", ctx.namespace))?;
    tracing::warn!(
        "release {name}: taken over from Helm ({} revisions, the last revision {} {}); from now on \
         kubectl chart keeps its history, and Helm's records say so",
        records.len(),
        last.release.revision,
        last.release.status
    );
    let now = ctx.clock.now().0;
    for rec in records
        .iter()
        .filter(|r| r.release.status == Status::Deployed || r.release.status.is_pending())
    {
        let status = if rec.release.status == Status::Deployed {
            Status::Superseded
        } else {
            Status::Failed
        };
        // Our records hold the history now: a failure here loses nothing, so it is said, not fatal.
        if let Err(e) = helm.remark(rec, status, TAKEN_OVER, now).await {
            tracing::warn!("could not mark {} as taken over: {e}", rec.describe());
        }
    }
    Ok(Some(history.len()))
}

/// Helm's records as the history we import: pending revisions refused, or with `recover` failed.
fn imported(records: &[HelmRecord], recover: bool) -> anyhow::Result<Vec<Release>> {
    let mut out = Vec::with_capacity(records.len());
    for rec in records {
        let mut rel = rec.release.clone();
        // Written by Helm, imported by us: not `helm`, which marks releases still in Helm's hands.
        rel.owner = IMPORTED.to_string();
        if rel.status.is_pending() {
            if !recover {
                anyhow::bail!(
                    "release {}: Helm revision {} is {} ({}): {HELM_PENDING}; if no helm run is \
                     working on it any more, run the upgrade again with --force-unlock to take the \
                     release over with that revision marked failed",
                    rel.name,
                    rel.revision,
                    rel.status,
                    rec.describe()
                );
            }
            rel.description = format!(
                "{} (left {} by Helm; recovered as failed on take-over)",
                rel.description, rel.status
            );
            rel.status = Status::Failed;
        }
        out.push(rel);
    }
    Ok(out)
}

/// Deletes Helm's records of `name` (after an uninstall without `--keep-history`); returns how
/// many. Records that are already gone are not an error.
pub(crate) async fn forget_helm_records(ctx: &Context, name: &str) -> anyhow::Result<usize> {
    helm_storage(ctx, None).delete_all(name).await.with_context(|| {
        format!(
            "deleting Helm's records of release {name} in namespace {}",
            ctx.namespace
        )
    })
}

/// Helm 4's server-side apply field manager.
const HELM_FIELD_MANAGER: &str = "helm";

/// Before a server-side apply of ours, hands the fields Helm 4 applied (field manager `helm`,
/// operation `Apply`) to our manager, on the objects the plan writes (the others get no write,
/// nor a read).
///
/// Without it, an apply of ours shares the fields with `helm`'s apply: a field our chart no
/// longer sets stays alive, because `helm` still owns it (and a value change conflicts unless
/// forced). Moving the entry makes us the only applier, as if we had applied those fields
/// ourselves; it is one GET and, if `helm` applied anything, one JSON patch of
/// `metadata.managedFields` per object, conditional on `resourceVersion` (a concurrent change
/// fails it, and it is read and tried again), once: afterwards `helm` owns nothing. Returns how
/// many objects were handed over.
pub(crate) async fn adopt_helm_field_manager(ctx: &Context, plan: &Plan) -> anyhow::Result<usize> {
    let mut n = 0;
    for ch in &plan.changes {
        if !matches!(ch.action, Action::Patch(_)) {
            continue;
        }
        let gvk = Gvk::new(&ch.api_version, &ch.id.kind);
        let ns = (!ch.id.namespace.is_empty()).then_some(ch.id.namespace.as_str());
        let what = || format!("{} {}", ch.id.kind, ch.id.name);
        // A controller writing the object's status between the read and the patch (a Deployment
        // scaling) moves its resourceVersion: read again and retry, a few times.
        let mut attempts = 0;
        loop {
            attempts += 1;
            // The plan's copy of the live object is trimmed for diffing (no managedFields): read it.
            let live = ctx
                .cluster
                .get(&gvk, ns, &ch.id.name)
                .await
                .with_context(|| format!("reading {}", what()))?;
            let managed = live
                .pointer("/metadata/managedFields")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let Some(moved) = move_apply_manager(managed, HELM_FIELD_MANAGER, FIELD_MANAGER) else {
                break;
            };
            let rv = live
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(Value::Null);
            // The resourceVersion left in the patched object is the precondition: a stale one
            // is a 409 Conflict (a `test` op would fail as 422 Invalid, like a bad patch).
            let ops = json!([
                {"op": "replace", "path": "/metadata/resourceVersion", "value": rv},
                {"op": "replace", "path": "/metadata/managedFields", "value": moved},
            ]);
            let opts = WriteOptions {
                field_manager: Some(FIELD_MANAGER.to_string()),
                ..Default::default()
            };
            match ctx
                .cluster
                .patch(&gvk, ns, &ch.id.name, &Patch::Json(ops), &opts)
                .await
            {
                Ok(_) => {
                    n += 1;
                    break;
                }
                Err(e) if e.is_conflict() && attempts < ADOPT_ATTEMPTS => continue,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("handing the fields Helm applied to {} to kubectl chart", what())
                    })
                }
            }
        }
    }
    Ok(n)
}

/// Reads and conditional patches [`adopt_helm_field_manager`] tries per object.
const ADOPT_ATTEMPTS: usize = 5;

/// `managedFields` with the `Apply` entry of `from` folded into the `Apply` entry of `to` (the
/// field sets united), or `None` when `from` applied nothing.
fn move_apply_manager(managed: &[Value], from: &str, to: &str) -> Option<Vec<Value>> {
    let is_apply = |m: &Value, who: &str| {
        m["manager"] == who && m["operation"] == "Apply" && m.get("subresource").is_none()
    };
    let theirs = managed.iter().find(|m| is_apply(m, from))?;
    let mut out: Vec<Value> = managed.iter().filter(|m| !is_apply(m, from)).cloned().collect();
    match out.iter_mut().find(|m| is_apply(m, to)) {
        Some(mine) => {
            let mut fields = mine.get("fieldsV1").cloned().unwrap_or_else(|| json!({}));
            union(&mut fields, theirs.get("fieldsV1").unwrap_or(&Value::Null));
            mine["fieldsV1"] = fields;
        }
        None => {
            let mut mine = theirs.clone();
            mine["manager"] = json!(to);
            out.push(mine);
        }
    }
    Some(out)
}

/// Unites two `fieldsV1` tries (objects whose keys are `f:field`, `k:{..}`, `v:..`, `i:..`, `.`).
fn union(into: &mut Value, other: &Value) {
    let (Some(a), Some(b)) = (into.as_object_mut(), other.as_object()) else {
        return;
    };
    for (k, v) in b {
        match a.get_mut(k) {
            Some(existing) => union(existing, v),
            None => {
                a.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        cluster::{Cluster, FakeCluster},
        release::helm::{codec, helm_key},
    };

    fn secret(rev: u32, status: &str) -> Value {
        let body = json!({
            "name": "pod",
            "info": {"first_deployed": "2026-12-06T13:52:23Z", "last_deployed": "2026-12-06T13:52:23Z",
                     "description": format!("helm {rev}"), "status": status},
            "chart": {"metadata": {"name": "demo", "version": "0.3.1"}, "values": {"a": 1}},
            "config": {"rev": rev},
            "manifest": format!("---\nkind: ConfigMap\nmetadata:\n  name: c{rev}\n"),
            "version": rev,
            "namespace": "mig"
        });
        use base64::Engine as _;
        json!({
            "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": helm_key("pod", rev), "namespace": "mig",
                         "labels": {"owner": "helm", "name": "pod", "version": rev.to_string(), "status": status}},
            "data": {"release": base64::engine::general_purpose::STANDARD.encode(codec::encode(&body))},
        })
    }

    async fn ctx_with(secrets: Vec<Value>) -> (Context, Arc<FakeCluster>) {
        let fake = Arc::new(FakeCluster::new("mig"));
        for s in secrets {
            fake.create(&s, &WriteOptions::default()).await.unwrap();
        }
        (Context::with_cluster(fake.clone(), None), fake)
    }

    async fn helm_status(fake: &FakeCluster, rev: u32) -> (String, String) {
        let s = fake
            .get(&Gvk::new("v1", "Secret"), Some("mig"), &helm_key("pod", rev))
            .await
            .unwrap();
        let rec =
            crate::release::helm::storage::decode_object(crate::release::helm::Kind::Secret, &s).unwrap();
        (rec.release.status.to_string(), rec.release.description)
    }

    #[tokio::test]
    async fn takes_over_once_and_leaves_helm_a_last_word() {
        let (ctx, fake) = ctx_with(vec![
            secret(1, "superseded"),
            secret(2, "failed"),
            secret(3, "deployed"),
        ])
        .await;
        assert_eq!(take_over(&ctx, "pod", false).await.unwrap(), 3);
        let ours = ctx.store(None).history("pod").await.unwrap();
        let got: Vec<(u32, Status, &str)> = ours
            .iter()
            .map(|r| (r.revision, r.status, r.description.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (1, Status::Superseded, "helm 1"),
                (2, Status::Failed, "helm 2"),
                (3, Status::Deployed, "helm 3")
            ]
        );
        assert_eq!(ours[2].values, json!({"rev": 3}));
        assert_eq!(
            helm_status(&fake, 3).await,
            ("superseded".to_string(), TAKEN_OVER.to_string())
        );
        assert_eq!(
            helm_status(&fake, 2).await,
            ("failed".to_string(), "helm 2".to_string()),
            "untouched"
        );
        // Taken over: a second write imports nothing.
        assert_eq!(take_over(&ctx, "pod", false).await.unwrap(), 0);
        // Handed back, and Helm wrote revision 4: the next write takes that one over.
        fake.create(&secret(4, "deployed"), &WriteOptions::default())
            .await
            .unwrap();
        assert_eq!(take_over(&ctx, "pod", false).await.unwrap(), 1);
        let ours = ctx.store(None).history_meta("pod").await.unwrap();
        let got: Vec<(u32, Status)> = ours.iter().map(|m| (m.revision, m.status)).collect();
        assert_eq!(
            got,
            [
                (1, Status::Superseded),
                (2, Status::Failed),
                (3, Status::Superseded),
                (4, Status::Deployed)
            ]
        );
        // A release Helm does not have is nothing to take over.
        assert_eq!(take_over(&ctx, "other", false).await.unwrap(), 0);
    }

    #[test]
    fn helm_may_hold_a_history_that_passed_through_helm() {
        // (case, our records as (revision, writer), whether Helm's storage is looked at)
        type Case<'a> = (&'a str, &'a [(u32, &'a str)], bool);
        let cases: &[Case] = &[
            ("no record of ours: Helm may have it", &[], true),
            ("only our runs wrote it", &[(1, "run-a"), (2, "run-b")], false),
            ("imported from Helm", &[(1, IMPORTED), (2, "run-a")], true),
            (
                "handed to Helm by export-helm",
                &[(1, "run-a"), (2, EXPORTED)],
                true,
            ),
            // --history-max dropped revisions 1..=3: an imported one may have been among them.
            ("pruned: cannot tell", &[(4, "run-a"), (5, "run-b")], true),
        ];
        for (name, records, want) in cases {
            assert_eq!(helm_may_hold(records.iter().copied()), *want, "{name}");
        }
    }

    /// Two Helm-storage LISTs per verb for a release that never was Helm's came back as
    /// requests nobody needed: this fails if they return. After `export-helm` they are needed
    /// again, and a revision Helm then writes is taken over.
    #[tokio::test]
    async fn a_release_that_never_was_helms_is_not_looked_up_in_helms_storage() {
        use crate::{
            action::export_helm::{export_helm, ExportHelmOptions},
            cluster::Method,
            release::{BeginOptions, Operation},
        };
        let (ctx, fake) = ctx_with(Vec::new()).await;
        let store = ctx.store(None);
        let p = store
            .begin(BeginOptions::new("pod", Operation::Install))
            .await
            .unwrap();
        store.mark_deployed(p, "done").await.unwrap();
        let helm_lists = |fake: &FakeCluster| {
            fake.calls()
                .iter()
                .filter(|c| c.method == Method::List && c.gvk.kind == "Secret")
                .count()
        };
        assert_eq!(take_over_held(&ctx, "pod", false).await.unwrap(), None);
        assert_eq!(helm_lists(&fake), 0, "no look in Helm's storage");

        export_helm(
            &ctx,
            &ExportHelmOptions {
                release: "pod".into(),
            },
        )
        .await
        .unwrap();
        let before = helm_lists(&fake);
        fake.create(&secret(2, "deployed"), &WriteOptions::default())
            .await
            .unwrap();
        assert_eq!(take_over_held(&ctx, "pod", false).await.unwrap(), Some(1));
        assert!(helm_lists(&fake) > before, "looked, since export-helm");
        let owners: Vec<String> = store
            .history_meta("pod")
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.owner)
            .collect();
        assert_eq!(owners[0], EXPORTED);
        assert_eq!(owners[1], IMPORTED);
    }

    #[tokio::test]
    async fn pending_is_refused_with_helms_reason_unless_recovered() {
        let (ctx, fake) = ctx_with(vec![secret(1, "deployed"), secret(2, "pending-upgrade")]).await;
        let err = take_over(&ctx, "pod", false).await.unwrap_err().to_string();
        assert!(
            err.contains("Helm revision 2 is pending-upgrade (Secret mig/sh.helm.release.v1.pod.v2)"),
            "{err}"
        );
        assert!(err.contains(HELM_PENDING), "{err}");
        assert!(
            ctx.store(None).history_meta("pod").await.unwrap().is_empty(),
            "nothing written"
        );
        assert_eq!(helm_status(&fake, 1).await.0, "deployed");

        assert_eq!(take_over(&ctx, "pod", true).await.unwrap(), 2);
        let ours = ctx.store(None).history("pod").await.unwrap();
        assert_eq!(ours[1].status, Status::Failed);
        assert!(
            ours[1].description.contains("recovered as failed"),
            "{}",
            ours[1].description
        );
        assert_eq!(helm_status(&fake, 2).await.0, "failed");
    }

    #[tokio::test]
    async fn a_corrupt_record_writes_nothing() {
        let mut bad = secret(2, "deployed");
        bad["data"]["release"] = json!("bm90IGd6aXA=");
        let (ctx, fake) = ctx_with(vec![secret(1, "superseded"), bad]).await;
        let before = fake.calls().len();
        let err = format!("{:#}", take_over(&ctx, "pod", false).await.unwrap_err());
        assert!(err.contains("Secret mig/sh.helm.release.v1.pod.v2"), "{err}");
        assert!(ctx.store(None).history_meta("pod").await.unwrap().is_empty());
        assert_eq!(helm_status(&fake, 1).await.0, "superseded");
        use crate::cluster::Method;
        let writes: Vec<String> = fake.calls()[before..]
            .iter()
            .filter(|c| matches!(c.method, Method::Create | Method::Patch | Method::Delete))
            .map(|c| format!("{:?} {}", c.method, c.name))
            .collect();
        assert_eq!(writes, Vec::<String>::new(), "nothing written");
    }

    #[test]
    fn helm_apply_ownership_moves_to_ours() {
        let helm = json!({"manager": "helm", "operation": "Apply", "apiVersion": "apps/v1",
            "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:metadata": {"f:annotations": {"f:a": {}}}}}}});
        let ours = json!({"manager": "kubectl-chart", "operation": "Apply", "apiVersion": "apps/v1",
            "fieldsV1": {"f:spec": {"f:replicas": {}, "f:paused": {}}}});
        let update = json!({"manager": "kubectl-chart", "operation": "Update", "fieldsV1": {"f:x": {}}});
        let status =
            json!({"manager": "kube-controller-manager", "operation": "Update", "subresource": "status"});
        type Case = (&'static str, Vec<Value>, Option<Vec<Value>>);
        let cases: Vec<Case> = vec![
            ("nothing of helm's", vec![ours.clone(), status.clone()], None),
            (
                "renamed when we never applied",
                vec![helm.clone(), update.clone(), status.clone()],
                Some(vec![
                    update.clone(),
                    status.clone(),
                    json!({"manager": "kubectl-chart", "operation": "Apply", "apiVersion": "apps/v1",
                    "fieldsV1": helm["fieldsV1"]}),
                ]),
            ),
            (
                "united with our apply",
                vec![helm.clone(), ours.clone()],
                Some(vec![
                    json!({"manager": "kubectl-chart", "operation": "Apply", "apiVersion": "apps/v1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}, "f:paused": {}, "f:template": {"f:metadata": {"f:annotations": {"f:a": {}}}}}}}),
                ]),
            ),
        ];
        for (name, managed, want) in cases {
            assert_eq!(
                move_apply_manager(&managed, "helm", "kubectl-chart"),
                want,
                "{name}"
            );
        }
    }
}
