//! `export-helm RELEASE`: the way back to Helm. Our history of the release is written as Helm
//! release Secrets (`sh.helm.release.v1.<name>.v<N>`), so `helm history`, `helm upgrade` and
//! `helm rollback` carry on from our last revision.
//!
//! Every record is read and decoded first, then the Secrets are written: a revision Helm has
//! already (a Secret or ConfigMap of its own, e.g. from before we took the release over) is
//! replaced by ours, the others are created. Our records stay: should Helm write newer revisions
//! afterwards, the next write of kubectl chart takes those over in turn. What Helm's format cannot
//! carry from ours (see the README, "Coming from Helm"): the chart's templates and files (we never
//! stored them; Helm does not need them to roll back), where the chart came from, and the
//! encryption (Helm's Secrets are only base64 and gzip).

use anyhow::{bail, Context as _};

use super::{takeover, Context};
use crate::release::{self, Status};

/// Which release to hand back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportHelmOptions {
    /// Release name.
    pub release: String,
}

/// What `export-helm` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportHelmResult {
    /// Revisions written as Helm Secrets, oldest first.
    pub revisions: Vec<u32>,
    /// The newest revision and its status, where `helm` carries on.
    pub last: (u32, Status),
}

/// Writes the release's history as Helm's records.
pub async fn export_helm(ctx: &Context, opts: &ExportHelmOptions) -> anyhow::Result<ExportHelmResult> {
    let name = opts.release.as_str();
    release::validate_name(name).map_err(anyhow::Error::msg)?;
    let history = ctx.store(None).history(name).await.with_context(|| {
        format!(
            "reading the history of release {name} in namespace {}",
            ctx.namespace
        )
    })?;
    let Some(last) = history.last() else {
        return Err(super::get::not_found(ctx, name).await);
    };
    if let Some(p) = history.iter().find(|r| r.status.is_pending()) {
        bail!(
            "release {name}: revision {} is {} (run {}): wait for it to finish, or let the next \
             write recover it, before handing the release to Helm",
            p.revision,
            p.status,
            p.owner
        );
    }
    let helm = takeover::helm_storage(ctx, None);
    let existing = helm.history(name).await.with_context(|| {
        format!(
            "reading Helm's records of release {name} in namespace {}",
            ctx.namespace
        )
    })?;
    if let Some(newer) = existing.iter().find(|h| h.release.revision > last.revision) {
        bail!(
            "release {name}: Helm has revision {} ({}), newer than our last revision {}; run any \
             kubectl chart write (e.g. upgrade) to take it over first",
            newer.release.revision,
            newer.describe(),
            last.revision
        );
    }
    // Our newest record says the history went to Helm before Helm's records exist: the next
    // write of ours then looks for revisions Helm wrote since (see `takeover::helm_may_hold`;
    // should a Secret write fail below, that look finds nothing and costs one LIST).
    ctx.store(None)
        .set_newest_owner(name, takeover::EXPORTED)
        .await
        .with_context(|| format!("marking release {name} as handed to Helm"))?;
    let now = ctx.clock.now().0;
    let mut revisions = Vec::with_capacity(history.len());
    for rel in &history {
        let prior = existing.iter().find(|h| h.release.revision == rel.revision);
        helm.write(rel, prior, now)
            .await
            .with_context(|| format!("writing revision {} of release {name} for Helm", rel.revision))?;
        revisions.push(rel.revision);
    }
    Ok(ExportHelmResult {
        revisions,
        last: (last.revision, last.status),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        cluster::FakeCluster,
        release::{BeginOptions, ChartRef},
    };

    async fn seeded(revisions: u32) -> Context {
        let ctx = Context::with_cluster(Arc::new(FakeCluster::new("prod")), None);
        let store = ctx.store(None);
        for i in 0..revisions {
            let p = store
                .begin(BeginOptions {
                    chart: ChartRef {
                        name: "web".into(),
                        version: "1.0.0".into(),
                        ..ChartRef::default()
                    },
                    values: serde_json::json!({"replicas": i}),
                    computed_values: serde_json::json!({"replicas": i, "image": "nginx"}),
                    manifest: format!("---\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"),
                    ..BeginOptions::new("web", crate::testing::seeded_operation(i as usize))
                })
                .await
                .expect("begin");
            store.mark_deployed(p, "done").await.expect("deployed");
        }
        ctx
    }

    #[tokio::test]
    async fn writes_every_revision_for_helm_and_refuses_to_fork() {
        let ctx = seeded(3).await;
        let opts = ExportHelmOptions {
            release: "web".into(),
        };
        let got = export_helm(&ctx, &opts).await.expect("export");
        assert_eq!(got.revisions, [1, 2, 3]);
        assert_eq!(got.last, (3, Status::Deployed));
        let helm = takeover::helm_storage(&ctx, None)
            .history("web")
            .await
            .expect("helm");
        let statuses: Vec<(u32, Status)> = helm
            .iter()
            .map(|h| (h.release.revision, h.release.status))
            .collect();
        assert_eq!(
            statuses,
            [
                (1, Status::Superseded),
                (2, Status::Superseded),
                (3, Status::Deployed)
            ],
            "derived statuses are written out, so Helm sees one deployed revision"
        );
        assert_eq!(helm[2].release.values, serde_json::json!({"replicas": 2}));
        assert_eq!(
            helm[2].release.computed_values,
            serde_json::json!({"replicas": 2, "image": "nginx"})
        );
        // Again: the Secrets are replaced, not duplicated.
        export_helm(&ctx, &opts).await.expect("export again");
        assert_eq!(
            takeover::helm_storage(&ctx, None)
                .history("web")
                .await
                .unwrap()
                .len(),
            3
        );

        // Helm moved on (a colleague's helm upgrade): exporting would overwrite it; refused.
        let mut newer = helm[2].release.clone();
        newer.revision = 4;
        takeover::helm_storage(&ctx, None)
            .write(&newer, None, 1)
            .await
            .unwrap();
        let err = export_helm(&ctx, &opts).await.unwrap_err().to_string();
        assert!(
            err.contains("Helm has revision 4 (Secret prod/sh.helm.release.v1.web.v4)"),
            "{err}"
        );

        let unknown = ExportHelmOptions {
            release: "nope".into(),
        };
        let err = export_helm(&ctx, &unknown).await.unwrap_err().to_string();
        assert!(
            err.starts_with("release nope not found in namespace prod"),
            "{err}"
        );
    }
}
