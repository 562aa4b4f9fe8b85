//! `list`: the releases of a namespace (or of every namespace), newest revision of each, filtered
//! by status and name as `helm list` filters them (`pkg/action/list.go`).
//!
//! Only record metadata is read (labels and annotations), so listing needs no decryption key and
//! reads one LIST per namespace.

use std::collections::BTreeSet;

use anyhow::Context as _;

use super::{takeover, Context};
use crate::{
    cluster::Gvk,
    release::{helm, RecordMeta, Status, OWNER},
};

/// What to list and how to order it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// `-A`: every namespace instead of the context's.
    pub all_namespaces: bool,
    /// `--filter`: a regular expression release names must match.
    pub filter: Option<String>,
    /// Statuses to show; empty means Helm's default, deployed and failed.
    pub states: Vec<Status>,
    /// `-d`: by last deployment time, oldest first (Helm's `SortByDate`).
    pub by_date: bool,
    /// `-r`: reverse the order.
    pub reverse: bool,
    /// `--max`: at most this many (0: no limit).
    pub max: usize,
    /// `--offset`: skip this many first.
    pub offset: usize,
}

/// A release in the list: its namespace and its newest revision's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedRelease {
    /// Namespace of the release.
    pub namespace: String,
    /// The revision shown (the newest one, or each superseded one with `--superseded` alone).
    pub meta: RecordMeta,
}

/// The releases `list` prints, in order.
pub async fn list(ctx: &Context, opts: &ListOptions) -> anyhow::Result<Vec<ListedRelease>> {
    let filter = match &opts.filter {
        Some(f) => Some(regex::Regex::new(f).with_context(|| format!("invalid --filter {f:?}"))?),
        None => None,
    };
    let states: BTreeSet<&'static str> = if opts.states.is_empty() {
        [Status::Deployed, Status::Failed]
            .iter()
            .map(|s| s.as_str())
            .collect()
    } else {
        opts.states.iter().map(|s| s.as_str()).collect()
    };
    // Helm's one exception to "newest revision only": `--superseded` alone lists every
    // superseded revision, since the newest revision is rarely superseded.
    let every_revision = opts.states == [Status::Superseded];

    let namespaces = if opts.all_namespaces {
        namespaces_with_records(ctx).await?
    } else {
        vec![ctx.namespace.clone()]
    };
    let mut out = Vec::new();
    let mut ours = BTreeSet::new();
    for ns in namespaces {
        let store = ctx.store(Some(&ns));
        let newest = store
            .list()
            .await
            .with_context(|| format!("listing releases in namespace {ns}"))?;
        for meta in newest {
            ours.insert((ns.clone(), meta.name.clone()));
            if filter.as_ref().is_some_and(|re| !re.is_match(&meta.name)) {
                continue;
            }
            let metas = if every_revision {
                store
                    .history_meta(&meta.name)
                    .await
                    .with_context(|| format!("reading release {} in namespace {ns}", meta.name))?
            } else {
                vec![meta]
            };
            out.extend(
                metas
                    .into_iter()
                    .filter(|m| states.contains(m.status.as_str()))
                    .map(|meta| ListedRelease {
                        namespace: ns.clone(),
                        meta,
                    }),
            );
        }
    }
    // Releases Helm installed and we have not taken over: their newest Helm revision, written
    // by `helm` (which the table marks).
    let helm = match takeover::helm_storage(ctx, None)
        .list_newest(opts.all_namespaces)
        .await
    {
        Ok(found) => found,
        // Without permission to list Secrets, Helm's releases cannot be seen: ours still can.
        Err(helm::Error::Cluster { cause, .. }) if cause.code() == Some(403) => {
            tracing::debug!("Helm's releases not listed: {cause}");
            Vec::new()
        }
        Err(e) => return Err(anyhow::Error::new(e).context("listing Helm's releases")),
    };
    for rec in helm {
        let meta = rec.release.meta();
        if ours.contains(&(rec.namespace.clone(), meta.name.clone()))
            || filter.as_ref().is_some_and(|re| !re.is_match(&meta.name))
            || !states.contains(meta.status.as_str())
        {
            continue;
        }
        out.push(ListedRelease {
            namespace: rec.namespace,
            meta,
        });
    }
    sort(&mut out, opts);
    let end = if opts.max == 0 {
        out.len()
    } else {
        opts.offset.saturating_add(opts.max).min(out.len())
    };
    if opts.offset >= out.len() {
        return Ok(Vec::new());
    }
    Ok(out.drain(opts.offset..end).collect())
}

/// The order of Helm's `List.sort`: by name (ties by namespace and revision, which Helm leaves
/// unspecified), or with `by_date` by last deployment, oldest first; `reverse` flips either.
fn sort(rels: &mut [ListedRelease], opts: &ListOptions) {
    if opts.by_date {
        rels.sort_by(|a, b| {
            (a.meta.last_deployed, &a.meta.name, &a.namespace).cmp(&(
                b.meta.last_deployed,
                &b.meta.name,
                &b.namespace,
            ))
        });
    } else {
        rels.sort_by(|a, b| {
            (&a.meta.name, &a.namespace, a.meta.revision).cmp(&(&b.meta.name, &b.namespace, b.meta.revision))
        });
    }
    if opts.reverse {
        rels.reverse();
    }
}

/// Namespaces holding at least one release record: one cluster-wide LIST by label.
async fn namespaces_with_records(ctx: &Context) -> anyhow::Result<Vec<String>> {
    let selector = format!("owner={OWNER},version");
    let list = ctx
        .cluster
        .list(&Gvk::new("v1", "ConfigMap"), None, Some(&selector))
        .await
        .context("listing release records in all namespaces")?;
    let set: BTreeSet<String> = list
        .items
        .iter()
        .filter_map(|cm| cm.pointer("/metadata/namespace").and_then(|v| v.as_str()))
        .map(str::to_string)
        .collect();
    Ok(set.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{ChartRef, Timestamp};

    fn item(ns: &str, name: &str, at: i64) -> ListedRelease {
        ListedRelease {
            namespace: ns.into(),
            meta: RecordMeta {
                name: name.into(),
                revision: 1,
                status: Status::Deployed,
                chart: ChartRef::default(),
                first_deployed: Timestamp(at),
                last_deployed: Timestamp(at),
                owner: String::new(),
                supersedes: false,
            },
        }
    }

    async fn seed(ctx: &Context, ns: &str, name: &str, outcomes: &[bool]) {
        use crate::release::BeginOptions;
        let store = ctx.store(Some(ns));
        for (i, ok) in outcomes.iter().enumerate() {
            let p = store
                .begin(BeginOptions::new(name, crate::testing::seeded_operation(i)))
                .await
                .expect("begin");
            if *ok {
                store.mark_deployed(p, "done").await.expect("deployed");
            } else {
                store.mark_failed(p, "boom").await.expect("failed");
            }
        }
    }

    #[tokio::test]
    async fn states_and_namespaces() {
        let fake = std::sync::Arc::new(crate::cluster::FakeCluster::new("a"));
        let ctx = Context::with_cluster(fake, None);
        seed(&ctx, "a", "web", &[true, true, false]).await;
        seed(&ctx, "a", "db", &[true]).await;
        seed(&ctx, "b", "api", &[true, true]).await;
        // helm List: newest revision per release, default mask deployed|failed, superseded alone
        // lists every superseded revision.
        let cases: [(&str, ListOptions, &[&str]); 4] = [
            (
                "default",
                ListOptions::default(),
                &["a/db/1/deployed", "a/web/3/failed"],
            ),
            (
                "deployed only",
                ListOptions {
                    states: vec![Status::Deployed],
                    ..ListOptions::default()
                },
                &["a/db/1/deployed"],
            ),
            (
                "superseded alone",
                ListOptions {
                    states: vec![Status::Superseded],
                    ..ListOptions::default()
                },
                &["a/web/1/superseded"],
            ),
            (
                "all namespaces",
                ListOptions {
                    all_namespaces: true,
                    ..ListOptions::default()
                },
                &["b/api/2/deployed", "a/db/1/deployed", "a/web/3/failed"],
            ),
        ];
        for (name, opts, want) in cases {
            let got: Vec<String> = list(&ctx, &opts)
                .await
                .expect(name)
                .iter()
                .map(|r| {
                    format!(
                        "{}/{}/{}/{}",
                        r.namespace, r.meta.name, r.meta.revision, r.meta.status
                    )
                })
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn sort_orders() {
        // releaseutil: SortByName ascending; ByDate ascending by LastDeployed; -r reverses.
        let cases = [
            ("by name", false, false, vec!["a/x", "b/x", "a/y"]),
            ("by name reversed", false, true, vec!["a/y", "b/x", "a/x"]),
            ("by date, oldest first", true, false, vec!["a/y", "b/x", "a/x"]),
            ("by date reversed", true, true, vec!["a/x", "b/x", "a/y"]),
        ];
        for (name, by_date, reverse, want) in cases {
            let mut rels = vec![item("a", "y", 1), item("b", "x", 2), item("a", "x", 3)];
            sort(
                &mut rels,
                &ListOptions {
                    by_date,
                    reverse,
                    ..ListOptions::default()
                },
            );
            let got: Vec<String> = rels
                .iter()
                .map(|r| format!("{}/{}", r.namespace, r.meta.name))
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }
}
