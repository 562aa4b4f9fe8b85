//! `history`: the revisions of one release, as Helm's `helm history` lists them.

use anyhow::Context as _;

use super::{get::not_found, takeover, Context};
use crate::release::{self, Release, Status};

/// Helm's default `--max`.
pub const DEFAULT_HISTORY_LIST_MAX: usize = 256;

/// Which release, and how much of its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryOptions {
    /// Release name.
    pub release: String,
    /// `--max`: the newest this many revisions (0 gives none, as in Helm).
    pub max: usize,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            release: String::new(),
            max: DEFAULT_HISTORY_LIST_MAX,
        }
    }
}

/// The newest `max` revisions, oldest first. A release with no records is an error, as in Helm.
/// Only what the history table shows is decoded: manifest, values, hooks and notes are empty.
pub async fn history(ctx: &Context, opts: &HistoryOptions) -> anyhow::Result<Vec<Release>> {
    let name = opts.release.as_str();
    release::validate_name(name).map_err(anyhow::Error::msg)?;
    let mut revisions = ctx.store(None).history_summaries(name).await.with_context(|| {
        format!(
            "reading the history of release {name} in namespace {}",
            ctx.namespace
        )
    })?;
    // A release Helm installed and we have not taken over yet: Helm's history; one Helm upgraded
    // since `export-helm` handed it back: ours, then Helm's newer revisions.
    let ours = revisions.last().map_or(0, |r| r.revision);
    let newer = if takeover::helm_may_hold(revisions.iter().map(|r| (r.revision, r.owner.as_str()))) {
        takeover::helm_history_after(ctx, name, ours).await?
    } else {
        Vec::new()
    };
    if newer.iter().any(|r| r.status == Status::Deployed) {
        // Helm's newer deployed revision replaced ours, as our own newer one would have.
        for r in revisions.iter_mut().filter(|r| r.status == Status::Deployed) {
            r.status = Status::Superseded;
        }
    }
    revisions.extend(newer);
    if revisions.is_empty() {
        return Err(not_found(ctx, name).await);
    }
    let skip = revisions.len().saturating_sub(opts.max);
    revisions.drain(..skip);
    Ok(revisions)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{cluster::FakeCluster, release::BeginOptions};

    async fn seeded(namespace: &str, revisions: usize) -> Context {
        let ctx = Context::with_cluster(Arc::new(FakeCluster::new(namespace)), None);
        let store = ctx.store(None);
        for i in 0..revisions {
            let op = crate::testing::seeded_operation(i);
            let p = store.begin(BeginOptions::new("web", op)).await.expect("begin");
            store.mark_deployed(p, "done").await.expect("deployed");
        }
        ctx
    }

    #[tokio::test]
    async fn max_keeps_the_newest_revisions_oldest_first() {
        // helm getHistory: newest Max revisions, printed oldest first; --max 0 prints none.
        let ctx = seeded("prod", 3).await;
        let cases: [(&str, usize, &[u32]); 4] = [
            ("default", DEFAULT_HISTORY_LIST_MAX, &[1, 2, 3]),
            ("exactly all", 3, &[1, 2, 3]),
            ("newest two", 2, &[2, 3]),
            ("zero", 0, &[]),
        ];
        for (name, max, want) in cases {
            let opts = HistoryOptions {
                release: "web".into(),
                max,
            };
            let got: Vec<u32> = history(&ctx, &opts)
                .await
                .expect(name)
                .iter()
                .map(|r| r.revision)
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[tokio::test]
    async fn unknown_release_is_an_error_naming_the_namespace() {
        let ctx = seeded("prod", 1).await;
        let cases = [
            (
                "never installed",
                "nope",
                "release nope not found in namespace prod",
            ),
            ("invalid name", "Bad_Name", "invalid release name \"Bad_Name\""),
        ];
        for (name, release, want) in cases {
            let opts = HistoryOptions {
                release: release.into(),
                ..HistoryOptions::default()
            };
            let err = history(&ctx, &opts).await.expect_err(name);
            assert!(err.to_string().starts_with(want), "{name}: {err}");
        }
    }
}
