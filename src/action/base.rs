//! The base of a plan — the last revision's record, its manifest parsed, and the live copies of
//! its objects — read in the background while the chart renders on the calling thread.
//!
//! Rendering is CPU work on this thread; reading the base is requests plus decrypting, inflating
//! and parsing a manifest of up to megabytes. One after the other they add up (argo-cd: ~150 ms
//! of render and parse, then ~150 ms of GETs, its largest CRD alone taking 120 ms in the API
//! server); started together they overlap on the second core and on the network. Objects the new
//! render adds are read afterwards by the plan, so the prefetch only ever saves time: it decides
//! nothing.
//!
//! Also here: [`ParsedManifest`], a manifest parsed document by document that a second manifest
//! repeating its documents (the next render of an unchanged chart, the other revision of a
//! rollback) reuses instead of parsing them again.

use std::collections::HashMap;

use anyhow::Context as _;
use serde_json::Value;
use tokio::task::JoinHandle;

use super::{
    plan::{fetch_live, scopes_of, Key},
    Context,
};
use crate::{
    cluster::Gvk,
    release::{driver::Stored, RecordMeta, Release, Status},
};

/// Live objects read ahead of the plan, by address; `None`: the object does not exist.
pub(crate) type Prefetched = HashMap<Key, Option<Value>>;

/// A manifest stream split into documents, each parsed into its objects (comment-only documents
/// and non-objects dropped, as [`super::parse_manifest_docs`] does).
pub(crate) struct ParsedManifest {
    docs: Vec<(String, Vec<Value>)>,
}

impl ParsedManifest {
    /// Parses `text`; documents whose text `prior` also holds are copied from it, not parsed.
    pub(crate) fn parse(text: &str, what: &str, prior: Option<&ParsedManifest>) -> anyhow::Result<Self> {
        let known: HashMap<&str, &Vec<Value>> = prior
            .map(|p| p.docs.iter().map(|(t, v)| (t.as_str(), v)).collect())
            .unwrap_or_default();
        let mut docs = Vec::new();
        for doc in crate::manifest::split_documents(text) {
            let objects = match known.get(doc) {
                Some(parsed) => (*parsed).clone(),
                None => super::plan::parse_document(doc, what)?,
            };
            docs.push((doc.to_string(), objects));
        }
        Ok(ParsedManifest { docs })
    }

    /// Every object, in manifest order.
    pub(crate) fn objects(&self) -> Vec<Value> {
        self.docs.iter().flat_map(|(_, v)| v.iter().cloned()).collect()
    }

    /// Every object, in manifest order, consuming the parse.
    pub(crate) fn into_objects(self) -> Vec<Value> {
        self.docs.into_iter().flat_map(|(_, v)| v).collect()
    }
}

/// What the background read produced.
pub(crate) struct Loaded {
    /// The newest record, decoded.
    pub release: Release,
    /// Its manifest, parsed; empty when the release is uninstalled (nothing of it is live).
    pub manifest: ParsedManifest,
    /// Live copies of the manifest's objects, still arriving.
    pub live: LiveReads,
}

/// The reads of a base's live objects, started in the background.
pub(crate) struct LiveReads(Option<JoinHandle<anyhow::Result<Prefetched>>>);

impl LiveReads {
    /// No reads (nothing to read, or not asked to).
    pub(crate) fn none() -> LiveReads {
        LiveReads(None)
    }

    /// Waits for the reads.
    pub(crate) async fn wait(self) -> anyhow::Result<Prefetched> {
        match self.0 {
            Some(task) => task.await.context("reading live objects")?,
            None => Ok(Prefetched::new()),
        }
    }
}

/// The newest revision of a release: its metadata at once, the rest when [`Base::finish`]ed.
pub(crate) struct Base {
    meta: Option<RecordMeta>,
    task: Option<JoinHandle<anyhow::Result<Loaded>>>,
}

impl Base {
    /// Reads the release's record metadata and its newest record (a metadata list and one GET),
    /// then decrypts, decodes and parses it in the background and reads its live objects.
    pub(crate) async fn start(ctx: &Context, release: &str) -> anyhow::Result<Base> {
        let store = ctx.store(None);
        let (history, newest) = store.newest_with_history(release).await?;
        let ours = newest.as_ref().map_or(0, |s| s.meta.revision);
        // A release Helm installed and we have not taken over (or that Helm upgraded after
        // `export-helm`): the base is Helm's newest revision, which the take-over at the first
        // write makes ours. A release that never was Helm's: no look in Helm's storage.
        let helm_newer =
            if super::takeover::helm_may_hold(history.iter().map(|m| (m.revision, m.owner.as_str()))) {
                super::takeover::helm_history_after(ctx, release, ours)
                    .await?
                    .pop()
            } else {
                None
            };
        if let Some(rel) = helm_newer {
            let meta = rel.meta();
            let ctx = ctx.clone();
            let task = tokio::spawn(async move { loaded(&ctx, rel).await });
            return Ok(Base {
                meta: Some(meta),
                task: Some(task),
            });
        }
        let Some(newest) = newest else {
            return Ok(Base {
                meta: None,
                task: None,
            });
        };
        let meta = newest.meta.clone();
        let ctx = ctx.clone();
        let task = tokio::spawn(async move { load(&ctx, newest).await });
        Ok(Base {
            meta: Some(meta),
            task: Some(task),
        })
    }

    /// The newest record's metadata (revision, status), `None` for a release never installed.
    pub(crate) fn meta(&self) -> Option<&RecordMeta> {
        self.meta.as_ref()
    }

    /// Waits for the background read.
    pub(crate) async fn finish(self) -> anyhow::Result<Option<Loaded>> {
        match self.task {
            None => Ok(None),
            Some(task) => Ok(Some(task.await.context("reading the last revision")??)),
        }
    }
}

async fn load(ctx: &Context, newest: Stored) -> anyhow::Result<Loaded> {
    let store = ctx.store(None);
    let release = store.read(&newest).await?;
    drop(newest);
    loaded(ctx, release).await
}

/// [`load`] once the record is decoded.
async fn loaded(ctx: &Context, mut release: Release) -> anyhow::Result<Loaded> {
    if release.status == Status::Uninstalled {
        return Ok(Loaded {
            release,
            manifest: ParsedManifest { docs: Vec::new() },
            live: LiveReads::none(),
        });
    }
    // The caller needs the record's other fields only; the manifest lives on, parsed.
    let text = std::mem::take(&mut release.manifest);
    // The reads start from the documents' heads (a fast scan) and run while the whole manifest
    // is parsed here.
    let heads = object_heads(&text);
    let reads = {
        let ctx = ctx.clone();
        tokio::spawn(async move { read_live(&ctx, heads).await })
    };
    // Parsing is long CPU work: on a blocking thread, not this task's worker, where the reads
    // just spawned would wait for it (a task spawned from a worker runs on that worker first).
    let manifest =
        tokio::task::spawn_blocking(move || ParsedManifest::parse(&text, "recorded manifest", None))
            .await
            .context("parsing the recorded manifest")??;
    Ok(Loaded {
        release,
        manifest,
        live: LiveReads(Some(reads)),
    })
}

/// Kind, `metadata.namespace` (empty when unset) and name of every document with all three
/// heads; documents the head scan rejects are left to the full parse to report.
fn object_heads(text: &str) -> Vec<(Gvk, String, String)> {
    crate::manifest::split_documents(text)
        .into_iter()
        .filter_map(|doc| crate::yaml::scan_head(doc, "recorded manifest").ok())
        .filter(|h| !h.api_version.is_empty() && !h.kind.is_empty() && !h.name.is_empty())
        .map(|h| (Gvk::new(&h.api_version, &h.kind), h.namespace, h.name))
        .collect()
}

/// Reads the objects `heads` name ([`fetch_live`]), placed as the plan will place them.
async fn read_live(ctx: &Context, heads: Vec<(Gvk, String, String)>) -> anyhow::Result<Prefetched> {
    let scopes = scopes_of(ctx, heads.iter().map(|(gvk, _, _)| gvk)).await?;
    let keys: Vec<Key> = heads
        .into_iter()
        .filter_map(|(gvk, ns, name)| {
            let namespaced = scopes.get(&gvk).copied().flatten()?;
            let ns = namespaced.then(|| if ns.is_empty() { ctx.namespace.clone() } else { ns });
            Some((gvk, ns, name))
        })
        .collect();
    let mut live: Prefetched = keys.iter().map(|k| (k.clone(), None)).collect();
    for (key, object) in fetch_live(ctx, keys, None).await? {
        live.insert(key, Some(object));
    }
    Ok(live)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: |\n    v";
    const B: &str = "# Source: c/templates/b.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n  namespace: other";

    #[test]
    fn documents_seen_before_are_copied_not_parsed() {
        let text = format!("---\n{A}\n---\n{B}\n");
        // A prior parse whose objects for A are deliberately not what A parses to: only a copy
        // can produce them.
        let prior = ParsedManifest {
            docs: vec![(A.to_string(), vec![json!({"copied": true})])],
        };
        let got = ParsedManifest::parse(&text, "m", Some(&prior))
            .unwrap()
            .into_objects();
        assert_eq!(got[0], json!({"copied": true}));
        assert_eq!(got[1]["metadata"]["namespace"], "other", "B is parsed");
        // Without a prior, both are parsed; a block scalar ending a document keeps its newline.
        let fresh = ParsedManifest::parse(&text, "m", None).unwrap();
        assert_eq!(fresh.objects()[0]["data"]["k"], "v\n");
        assert_eq!(fresh.objects(), parse_manifest_docs_for_test(&text));
    }

    fn parse_manifest_docs_for_test(text: &str) -> Vec<Value> {
        super::super::parse_manifest_docs(text, "m").unwrap()
    }

    #[test]
    fn object_heads_carry_the_namespace_when_set() {
        let text = format!("---\n{A}\n---\n{B}\n---\n# only a comment\n");
        let heads = object_heads(&text);
        assert_eq!(
            heads,
            vec![
                (Gvk::new("v1", "ConfigMap"), String::new(), "a".to_string()),
                (
                    Gvk::new("apps/v1", "Deployment"),
                    "other".to_string(),
                    "b".to_string()
                ),
            ]
        );
    }
}
