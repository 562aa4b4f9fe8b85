//! `get` (manifest, values, notes, hooks, all): one revision of a release, read from its record.
//!
//! Also the release lookup `status` and `history` share: newest revision or a given one, and the
//! "not found" error that names the namespace searched and, when the release lives elsewhere,
//! the `-n` that finds it (the most common reason a release "disappears" is the wrong namespace).

use std::collections::BTreeSet;

use anyhow::Context as _;

use super::{takeover, Context};
use crate::{
    cluster::Gvk,
    release::{self, Release, OWNER},
};

/// Which revision to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// Release name.
    pub release: String,
    /// `--revision`; `None` is the newest revision, whatever its status (Helm's `Last`).
    pub revision: Option<u32>,
}

/// `get values`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetValuesOptions {
    /// Release and revision.
    pub get: GetOptions,
    /// `--all`: the computed values (chart defaults coalesced with the user's), not only the
    /// user-supplied ones.
    pub all: bool,
}

/// One revision of a release in the context's namespace.
pub async fn get(ctx: &Context, opts: &GetOptions) -> anyhow::Result<Release> {
    let name = opts.release.as_str();
    release::validate_name(name).map_err(anyhow::Error::msg)?;
    let store = ctx.store(None);
    let reading = || format!("reading release {name} in namespace {}", ctx.namespace);
    match opts.revision {
        None => match store.last(name).await.with_context(reading)? {
            Some(r) => Ok(r),
            // A release Helm installed and we have not taken over yet: Helm's newest revision.
            None => match takeover::helm_history(ctx, name).await?.pop() {
                Some(r) => Ok(r),
                None => Err(not_found(ctx, name).await),
            },
        },
        Some(revision) => match store.get(name, revision).await {
            Ok(r) => Ok(r),
            Err(release::Error::RevisionNotFound { .. }) => {
                let ours = store.history_meta(name).await.with_context(reading)?;
                let helm = if ours.is_empty() {
                    takeover::helm_history(ctx, name).await?
                } else {
                    Vec::new()
                };
                if ours.is_empty() && helm.is_empty() {
                    Err(not_found(ctx, name).await)
                } else if let Some(r) = helm.into_iter().find(|r| r.revision == revision) {
                    Ok(r)
                } else {
                    Err(anyhow::anyhow!(
                        "release {name} has no revision {revision} in namespace {}",
                        ctx.namespace
                    ))
                }
            }
            Err(e) => Err(anyhow::Error::new(e).context(reading())),
        },
    }
}

/// The values of one revision: user-supplied, or with `all` the computed ones.
pub async fn get_values(ctx: &Context, opts: &GetValuesOptions) -> anyhow::Result<serde_json::Value> {
    let r = get(ctx, &opts.get).await?;
    Ok(if opts.all { r.computed_values } else { r.values })
}

/// "release NAME not found in namespace NS", with a hint naming the other namespaces that hold
/// records of that name. The hint costs one cluster-wide LIST; without permission for it (a
/// namespace-scoped user) the error simply has no hint.
pub(crate) async fn not_found(ctx: &Context, name: &str) -> anyhow::Error {
    // `version` (existence) keeps lock ConfigMaps, which share owner and name, out.
    let selector = format!("owner={OWNER},name={name},version");
    let elsewhere: BTreeSet<String> = match ctx
        .cluster
        .list(&Gvk::new("v1", "ConfigMap"), None, Some(&selector))
        .await
    {
        Ok(list) => list
            .items
            .iter()
            .filter_map(|cm| cm.pointer("/metadata/namespace").and_then(|v| v.as_str()))
            .filter(|ns| *ns != ctx.namespace)
            .map(str::to_string)
            .collect(),
        Err(e) => {
            tracing::debug!("no namespace hint for release {name}: {e}");
            BTreeSet::new()
        }
    };
    anyhow::anyhow!("{}", not_found_message(name, &ctx.namespace, &elsewhere))
}

fn not_found_message(name: &str, namespace: &str, elsewhere: &BTreeSet<String>) -> String {
    let base = format!("release {name} not found in namespace {namespace}");
    let mut others = elsewhere.iter();
    match (others.next(), others.next()) {
        (None, _) => base,
        (Some(ns), None) => format!("{base}; did you mean -n {ns}?"),
        (Some(_), Some(_)) => {
            let list: Vec<&str> = elsewhere.iter().map(String::as_str).collect();
            format!(
                "{base}; it exists in namespaces {} (choose one with -n)",
                list.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_messages() {
        let cases: [(&str, &[&str], &str); 3] = [
            ("nowhere else", &[], "release web not found in namespace prod"),
            (
                "one other namespace",
                &["staging"],
                "release web not found in namespace prod; did you mean -n staging?",
            ),
            (
                "several",
                &["dev", "staging"],
                "release web not found in namespace prod; it exists in namespaces dev, staging \
                 (choose one with -n)",
            ),
        ];
        for (name, others, want) in cases {
            let set = others.iter().map(|s| s.to_string()).collect();
            assert_eq!(not_found_message("web", "prod", &set), want, "{name}");
        }
    }
}
