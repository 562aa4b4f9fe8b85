//! From rendered documents to a diff plan against the live cluster: the step `diff` shows and
//! `install`/`upgrade`/`rollback` execute, so what is shown is exactly what is sent.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context as _;
use serde_json::Value;

use super::{base::Prefetched, Context};
use crate::{
    cluster::{self, Gvk},
    diff::{self, Inputs, ListType, MergeKeys, ObjectRef, Plan},
};

/// Parses a recorded or rendered manifest stream into objects (comment-only documents dropped).
pub fn parse_manifest_docs(text: &str, what: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for doc in crate::manifest::split_documents(text) {
        out.extend(parse_document(doc, what)?);
    }
    Ok(out)
}

/// Parses one document of a manifest stream (as split by [`crate::manifest::split_documents`])
/// into its objects; errors name its `# Source:` template, else `what`.
pub(crate) fn parse_document(doc: &str, what: &str) -> anyhow::Result<Vec<Value>> {
    let source = doc
        .lines()
        .find_map(|l| l.strip_prefix("# Source: "))
        .unwrap_or(what);
    // `split_documents` trims each document, but Helm parses the joined manifest, where every
    // document ends with a line break; without it a block scalar ending the document (`|`,
    // clip chomping) would lose its final newline.
    let mut text = String::with_capacity(doc.len() + 1);
    text.push_str(doc);
    text.push('\n');
    let mut out = crate::yaml::parse_documents(&text, source)?;
    out.retain(Value::is_object);
    Ok(out)
}

/// Whether each kind is namespaced (`None`: not served), by kind.
pub(crate) type Scopes = HashMap<Gvk, Option<bool>>;

/// Whether each kind is namespaced, from discovery; kinds the server does not serve yet (a CRD
/// installed by this very release) are taken as namespaced, which is what custom resources
/// almost always are, and their objects count as absent.
pub(crate) async fn scopes(ctx: &Context, docs: &[&Value]) -> anyhow::Result<Scopes> {
    let kinds = docs
        .iter()
        .map(|doc| Gvk::of(doc).context("rendered object"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    scopes_of(ctx, kinds.iter()).await
}

/// [`scopes`] of the given kinds.
pub(crate) async fn scopes_of(ctx: &Context, kinds: impl Iterator<Item = &Gvk>) -> anyhow::Result<Scopes> {
    let mut out = HashMap::new();
    for gvk in kinds {
        if out.contains_key(gvk) {
            continue;
        }
        let scope = match ctx.cluster.resolve(gvk).await {
            Ok(info) => Some(info.namespaced),
            Err(cluster::Error::UnknownKind(_)) => None,
            Err(e) => return Err(e).with_context(|| format!("discovering {gvk}")),
        };
        out.insert(gvk.clone(), scope);
    }
    Ok(out)
}

/// Defaults the namespace of namespaced objects to the release namespace, as Helm's client does.
fn place(doc: &mut Value, namespaced: bool, namespace: &str) {
    if namespaced
        && doc
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".to_string(), Value::String(namespace.to_string()));
        }
    }
}

/// Plans `desired` against the cluster, with `original` (what the last deployed revision applied)
/// as the base of the three-way merge.
/// `prefetched`: live objects already read ([`super::base`]); the rest are read here.
pub(crate) async fn plan_against_cluster(
    ctx: &Context,
    release: &str,
    namespace: &str,
    desired: Vec<Value>,
    original: Vec<Value>,
    prefetched: Prefetched,
) -> anyhow::Result<Plan> {
    // No intents: `diff` never sends whole objects from this plan.
    Ok(plan_inner(
        ctx,
        release,
        namespace,
        desired,
        original,
        Reads::ahead(prefetched),
        false,
    )
    .await?
    .0)
}

/// [`plan_against_cluster`], plus the desired objects as they will be sent (namespaced and
/// stamped with ownership) by identity: what server-side apply and forced re-creates send, so
/// they claim exactly the fields the chart sets.
pub(crate) async fn plan_with_intents(
    ctx: &Context,
    release: &str,
    namespace: &str,
    desired: Vec<Value>,
    original: Vec<Value>,
    prefetched: Prefetched,
) -> anyhow::Result<(Plan, BTreeMap<ObjectRef, Value>)> {
    plan_inner(
        ctx,
        release,
        namespace,
        desired,
        original,
        Reads::ahead(prefetched),
        true,
    )
    .await
}

/// The plan of `uninstall`: every object of the last revision (`original`) against the cluster.
/// Live objects are read with one LIST per kind and namespace instead of one GET per object (306
/// requests for 300 objects otherwise): the deletes need them only to honour `keep` and to refuse
/// deleting an object another release took over.
///
/// `since`: the version the `uninstalling` write returned. The lists ask for a state no older
/// than it, which the API server answers from its watch cache at once; a list without a version
/// waits until the cache has caught up with the newest write to etcd of any kind (up to ~100 ms
/// while controllers write). That is safe: every write that finished before this run started
/// (an annotation `helm.sh/resource-policy: keep` added, an object adopted by another release)
/// finished before that write and is seen. Only a write racing the uninstall can be missed, and
/// a consistent list misses it as well when it lands between the list and the delete.
pub async fn plan_uninstall(
    ctx: &Context,
    release: &str,
    namespace: &str,
    original: Vec<Value>,
    since: Option<&str>,
) -> anyhow::Result<Plan> {
    Ok(plan_inner(
        ctx,
        release,
        namespace,
        Vec::new(),
        original,
        Reads {
            prefetched: Prefetched::new(),
            since,
        },
        false,
    )
    .await?
    .0)
}

/// How [`plan_inner`] has the live objects: those read ahead, and for the others, the oldest
/// state its lists may read ([`fetch_live`]'s `since`).
struct Reads<'a> {
    prefetched: Prefetched,
    since: Option<&'a str>,
}

impl Reads<'_> {
    /// Objects read ahead; the rest read at the newest state.
    fn ahead(prefetched: Prefetched) -> Self {
        Reads {
            prefetched,
            since: None,
        }
    }
}

/// Lists ask only for what a Helm-compatible tool manages, as every object we apply is stamped so:
/// it keeps release records (ours and Helm's, often hundreds of kilobytes each) and everyone
/// else's objects out of the answer. An object of the release that lost the label is missed by
/// the list and read with a GET instead, so the selector only saves bytes, never hides an object.
const MANAGED_BY_HELM_SELECTOR: &str = "app.kubernetes.io/managed-by=Helm";

/// Kinds never listed: CRDs are cluster-wide and each carries its whole schema.
fn listable(gvk: &Gvk) -> bool {
    !(gvk.group == "apiextensions.k8s.io" && gvk.kind == "CustomResourceDefinition")
}

/// Object address for a GET: kind, namespace (`None` when cluster-scoped), name.
pub(crate) type Key = (Gvk, Option<String>, String);

/// The address of `doc` once placed in `namespace`; `None` for a kind the server does not serve.
pub(crate) fn key_of(doc: &Value, scopes: &Scopes, namespace: &str) -> anyhow::Result<Option<Key>> {
    let gvk = Gvk::of(doc)?;
    let Some(namespaced) = scopes.get(&gvk).copied().flatten() else {
        return Ok(None);
    };
    let r = ObjectRef::of(doc, namespaced.then_some(namespace))?;
    let ns = (!r.namespace.is_empty()).then_some(r.namespace);
    Ok(Some((gvk, ns, r.name)))
}

/// Drops `metadata.managedFields` from a live object as soon as it arrives: nothing downstream
/// reads it (the diff never patches or shows it), and on a CRD it repeats every field name of the
/// schema, the largest part of argo-cd's live objects.
fn without_managed_fields(mut live: Value) -> Value {
    if let Some(meta) = live.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    live
}

/// Reads the live copy of every object in `keys` (absent ones are left out), in few requests:
/// per kind and namespace with two or more objects (never CRDs), one LIST of the Helm-managed
/// objects; should objects be missing from it, one metadata LIST (no selector) tells which of
/// them exist at all. Only objects that exist and the lists did not return are read by name, as
/// is a kind with one object (a GET is one request too, and its answer holds only that object).
///
/// An upgrade, diff or rollback finds its objects in the first list (a GET each used to be 30
/// requests for a 30-object chart, now 3); an install, which mostly finds nothing, learns that
/// from the two lists per kind; an uninstall finds everything in the first. A kind the user may
/// read but not list (403 on the LIST) is read by name, as every kind used to be.
///
/// `since`: lists may read a state no older than this version (the caller's own last write,
/// see [`plan_uninstall`]); `None` asks for the newest. Reads by name are always the newest
/// (the API server reads them from etcd, with no wait).
pub(crate) async fn fetch_live(
    ctx: &Context,
    keys: Vec<Key>,
    since: Option<&str>,
) -> anyhow::Result<Vec<(Key, Value)>> {
    let mut found = Vec::with_capacity(keys.len());
    let mut singles: Vec<Key> = Vec::new();
    let mut groups: BTreeMap<(Gvk, Option<String>), Vec<String>> = BTreeMap::new();
    for (gvk, ns, name) in keys {
        if listable(&gvk) {
            groups.entry((gvk, ns)).or_default().push(name);
        } else {
            singles.push((gvk, ns, name));
        }
    }
    let mut set = tokio::task::JoinSet::new();
    for ((gvk, ns), names) in groups {
        if names.len() < 2 {
            singles.extend(names.into_iter().map(|n| (gvk.clone(), ns.clone(), n)));
            continue;
        }
        let cluster = ctx.cluster.clone();
        let since = since.map(str::to_string);
        set.spawn(async move {
            let got = list_group(&*cluster, &gvk, ns.as_deref(), names, since.as_deref()).await;
            (gvk, ns, got)
        });
    }
    while let Some(joined) = set.join_next().await {
        let (gvk, ns, got) = joined.context("listing live objects")?;
        let (listed, unlisted) = got.with_context(|| format!("listing {}", gvk.kind))?;
        for (name, o) in listed {
            found.push(((gvk.clone(), ns.clone(), name), without_managed_fields(o)));
        }
        singles.extend(unlisted.into_iter().map(|n| (gvk.clone(), ns.clone(), n)));
    }

    // The cluster layer bounds how many run at once, so the slowest answers go first: a CRD
    // carries its whole schema twice (spec and managedFields; argo-cd's largest is 4 MB, 100 ms
    // in the API server), the longest pole of the reads.
    singles.sort_by_key(|(gvk, _, _)| listable(gvk));
    let mut set = tokio::task::JoinSet::new();
    for (gvk, ns, name) in singles {
        let cluster = ctx.cluster.clone();
        set.spawn(async move {
            let got = cluster.get(&gvk, ns.as_deref(), &name).await;
            ((gvk, ns, name), got)
        });
    }
    while let Some(joined) = set.join_next().await {
        let (key, got) = joined.context("fetching live objects")?;
        match got {
            Ok(live) => found.push((key, without_managed_fields(live))),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e).with_context(|| format!("getting {} {}", key.0.kind, key.2)),
        }
    }
    Ok(found)
}

/// The lists of [`fetch_live`] for the objects `names` of one kind and namespace: those listed
/// (by name), and those that exist but were not (to read by name).
async fn list_group(
    cluster: &dyn crate::cluster::Cluster,
    gvk: &Gvk,
    ns: Option<&str>,
    names: Vec<String>,
    since: Option<&str>,
) -> crate::cluster::Result<(Vec<(String, Value)>, Vec<String>)> {
    let by_name = |items: Vec<Value>| -> HashMap<String, Value> {
        items
            .into_iter()
            .filter_map(|o| Some((o.pointer("/metadata/name")?.as_str()?.to_string(), o)))
            .collect()
    };
    // Allowed to read objects by name but not to list them (a narrow Role): GETs, as before.
    let forbidden = |e: &crate::cluster::Error| e.code() == Some(403);
    let selector = Some(MANAGED_BY_HELM_SELECTOR);
    let listed = match since {
        Some(v) => cluster.list_since(gvk, ns, selector, v, false).await,
        None => cluster.list(gvk, ns, selector).await,
    };
    let mut items = match listed {
        Ok(list) => by_name(list.items),
        Err(e) if forbidden(&e) => return Ok((Vec::new(), names)),
        Err(e) => return Err(e),
    };
    let mut listed = Vec::with_capacity(names.len());
    let mut missing = Vec::new();
    for name in names {
        match items.remove(&name) {
            Some(o) => listed.push((name, o)),
            None => missing.push(name),
        }
    }
    if missing.len() < 2 {
        return Ok((listed, missing));
    }
    // Names only (no selector: an object that exists without our label must be found, to be
    // adopted or refused), so everyone else's objects cost their metadata, not their data.
    let existing = match since {
        Some(v) => cluster.list_since(gvk, ns, None, v, true).await,
        None => cluster.list_metadata(gvk, ns, None).await,
    };
    match existing {
        Ok(list) => {
            let existing = by_name(list.items);
            missing.retain(|n| existing.contains_key(n));
        }
        Err(e) if forbidden(&e) => {}
        Err(e) => return Err(e),
    }
    Ok((listed, missing))
}

/// The plan of `desired` against the cluster with `original` as base; live objects not in
/// `prefetched` are read here ([`fetch_live`]); `with_intents` also returns the desired objects by
/// identity.
async fn plan_inner(
    ctx: &Context,
    release: &str,
    namespace: &str,
    mut desired: Vec<Value>,
    mut original: Vec<Value>,
    reads: Reads<'_>,
    with_intents: bool,
) -> anyhow::Result<(Plan, BTreeMap<ObjectRef, Value>)> {
    let Reads {
        mut prefetched,
        since,
    } = reads;
    let all: Vec<&Value> = desired.iter().chain(original.iter()).collect();
    let scopes = scopes(ctx, &all).await?;
    let namespaced = |doc: &Value| Gvk::of(doc).ok().and_then(|g| scopes.get(&g).copied().flatten());
    for doc in desired.iter_mut().chain(original.iter_mut()) {
        place(doc, namespaced(doc).unwrap_or(true), namespace);
    }
    for doc in &mut desired {
        crate::apply::stamp_ownership(doc, release, namespace);
    }

    let mut inputs = Inputs::new();
    let id = |doc: &Value| -> anyhow::Result<ObjectRef> {
        let ns = namespaced(doc).unwrap_or(true).then_some(namespace);
        Ok(ObjectRef::of(doc, ns)?)
    };
    // One read per object, whatever apiVersions name it (an upgrade moving a kind to a newer
    // version); the original's wins, as the base read ahead uses it.
    let mut keys: BTreeMap<String, Key> = BTreeMap::new();
    for doc in desired.iter().chain(original.iter()) {
        if let Some(key) = key_of(doc, &scopes, namespace)? {
            keys.insert(id(doc)?.to_string(), key);
        }
    }
    let desired_kinds: Vec<Gvk> = desired.iter().filter_map(|d| Gvk::of(d).ok()).collect();
    // The documents move into the plan's inputs: every copy of argo-cd's objects (its CRDs hold
    // 1.5 MB of schema) is tens of megabytes of JSON values.
    let mut intents = BTreeMap::new();
    for doc in original {
        inputs.original(id(&doc)?, doc)?;
    }
    for doc in desired {
        let r = id(&doc)?;
        if with_intents {
            intents.insert(r.clone(), doc.clone());
        }
        inputs.desired(r, doc)?;
    }

    // Objects read ahead are taken as read; only the others are read now.
    let mut live_objects = Vec::with_capacity(keys.len());
    let mut to_read = Vec::new();
    for key in keys.into_values() {
        match prefetched.remove(&key) {
            Some(Some(live)) => live_objects.push((key, live)),
            Some(None) => {}
            None => to_read.push(key),
        }
    }
    drop(prefetched);
    live_objects.extend(fetch_live(ctx, to_read, since).await?);
    for ((_, ns, _), live) in live_objects {
        let r = ObjectRef::of(&live, ns.as_deref())?;
        inputs.live(r, live)?;
    }

    let keys = merge_keys(ctx, &desired_kinds).await;
    Ok((diff::plan(inputs, &keys)?, intents))
}

/// Built-in merge keys plus what the cluster's OpenAPI declares for the kinds we render that the
/// built-in table does not know (custom resources).
async fn merge_keys(ctx: &Context, desired: &[Gvk]) -> MergeKeys {
    let mut keys = MergeKeys::builtin();
    let mut seen = std::collections::HashSet::new();
    for gvk in desired {
        if !gvk.group.contains('.') || gvk.group.ends_with(".k8s.io") || !seen.insert(gvk.clone()) {
            continue;
        }
        let Ok(Some(lists)) = ctx.cluster.list_info(gvk).await else {
            continue;
        };
        let dgvk = diff::Gvk::new(&gvk.group, &gvk.version, &gvk.kind);
        for (path, info) in lists {
            let list = match (info.list_type.as_deref(), info.patch_merge_key, info.map_keys) {
                (_, Some(k), _) => ListType::Map(vec![k]),
                (Some("map"), None, keys) if !keys.is_empty() => ListType::Map(keys),
                (Some("set"), _, _) => ListType::Set,
                _ => ListType::Atomic,
            };
            keys.insert(&dgvk, &path.replace("[]", ""), list);
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::cluster::{FakeCluster, Method};

    fn cm(name: &str, helm: bool) -> Value {
        let mut o =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "prod"}});
        if helm {
            o["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "Helm"});
        }
        o
    }

    /// How many LISTs and GETs reading live objects costs, by what exists: a GET per object
    /// used to be the price of every verb (30 requests for a 30-object chart). Fails if reads by
    /// name come back where a list answers.
    #[tokio::test]
    async fn live_objects_are_read_with_lists_and_a_get_only_where_lists_cannot_tell() {
        let svc = |name: &str| {
            (
                Gvk::new("v1", "Service"),
                Some("prod".to_string()),
                name.to_string(),
            )
        };
        let key = |name: &str| {
            (
                Gvk::new("v1", "ConfigMap"),
                Some("prod".to_string()),
                name.to_string(),
            )
        };
        struct Case {
            name: &'static str,
            live: Vec<Value>,
            keys: Vec<Key>,
            lists: usize,
            gets: Vec<&'static str>,
            found: usize,
        }
        let cases = vec![
            Case {
                name: "an upgrade: every object exists, labelled",
                live: vec![cm("a", true), cm("b", true), cm("c", true)],
                keys: vec![key("a"), key("b"), key("c")],
                lists: 1,
                gets: vec![],
                found: 3,
            },
            Case {
                name: "an install: nothing exists yet",
                live: vec![cm("other", true)],
                keys: vec![key("a"), key("b"), key("c")],
                lists: 2,
                gets: vec![],
                found: 0,
            },
            Case {
                name: "an object someone made by hand is found, and read by name",
                live: vec![cm("a", true), cm("b", false)],
                keys: vec![key("a"), key("b"), key("c")],
                lists: 2,
                gets: vec!["b"],
                found: 2,
            },
            Case {
                name: "one object of a kind: a GET is one request too",
                live: vec![],
                keys: vec![svc("s")],
                lists: 0,
                gets: vec!["s"],
                found: 0,
            },
        ];
        // A Role that may GET but not LIST: every object read by name, as before lists.
        {
            let fake = Arc::new(FakeCluster::new("prod"));
            fake.insert(cm("a", true)).expect("live object");
            let forbidden = crate::cluster::Error::Api {
                code: 403,
                reason: "Forbidden".into(),
                message: "configmaps is forbidden: cannot list".into(),
                retry_after: None,
            };
            fake.inject(Method::List, None, forbidden);
            let ctx = Context::with_cluster(fake.clone(), None);
            let got = fetch_live(&ctx, vec![key("a"), key("b")], None)
                .await
                .expect("falls back");
            assert_eq!(got.len(), 1, "forbidden list: a found by GET");
            let gets = fake.calls().iter().filter(|c| c.method == Method::Get).count();
            assert_eq!(gets, 2, "forbidden list: both read by name");
        }
        for Case {
            name: case,
            live,
            keys,
            lists,
            gets,
            found,
        } in cases
        {
            let fake = Arc::new(FakeCluster::new("prod"));
            for o in live {
                fake.insert(o).expect("live object");
            }
            let ctx = Context::with_cluster(fake.clone(), None);
            let before = fake.calls().len();
            let got = fetch_live(&ctx, keys, None).await.expect(case);
            let calls = &fake.calls()[before..];
            let n_lists = calls.iter().filter(|c| c.method == Method::List).count();
            let mut got_names: Vec<&str> = calls
                .iter()
                .filter(|c| c.method == Method::Get)
                .map(|c| c.name.as_str())
                .collect();
            got_names.sort_unstable();
            assert_eq!(n_lists, lists, "{case}: LISTs");
            assert_eq!(got_names, gets, "{case}: GETs by name");
            assert_eq!(got.len(), found, "{case}: objects found");
        }
    }
}
