//! `.Capabilities` for the verbs that render against a cluster (`install`, `upgrade`, `apply`,
//! `diff`, `template --validate`): the server's version and every group-version and kind it
//! serves, CRDs included, as Helm's `getCapabilities` (v3.17 `pkg/action/action.go`) builds them.
//!
//! Discovery is started before the chart is loaded ([`PendingCapabilities::start`]) and waited for
//! only when the templates are about to run ([`PendingCapabilities::wait`]), so the requests
//! overlap chart loading and values resolution instead of adding to them. `template` without
//! `--validate` never comes here: it stays offline with Helm's default capabilities.

use std::{cell::RefCell, future::Future as _, rc::Rc, sync::Arc, task::Poll};

use anyhow::Context as _;
use serde_json::Value as Json;
use tokio::{runtime::RuntimeFlavor, task::JoinHandle};

use crate::{
    chart::Chart,
    cluster::{self, Cluster, ServerCapabilities},
    render::Capabilities,
};

/// Discovery under way (or done), and how to turn its answer into `.Capabilities`.
#[derive(Clone)]
pub struct PendingCapabilities {
    state: Rc<RefCell<State>>,
    /// `--kube-version` on install/upgrade/apply/diff (a flag Helm has only on `template`):
    /// replaces the server's version, keeps its API versions.
    kube_version: Option<String>,
    /// Install only (not a dry run): Helm creates the chart's `crds/` before it reads discovery,
    /// so their kinds are in `.Capabilities` of the very install that brings them.
    with_chart_crds: bool,
}

enum State {
    Running(JoinHandle<cluster::Result<ServerCapabilities>>),
    Done(cluster::Result<ServerCapabilities>),
}

impl PendingCapabilities {
    /// Starts discovery on the runtime, to be collected by [`PendingCapabilities::wait`]. On a
    /// current-thread runtime nothing could run it while rendering blocks the thread, so it is
    /// read here, before the chart (correct, just not overlapped).
    pub async fn start(cluster: Arc<dyn Cluster>) -> Self {
        let mut discovery = Box::pin(async move { cluster.capabilities().await });
        // One poll here, before returning: it sends the requests and marks discovery as under
        // way in the cluster's cache, so a `resolve` made before the spawned task first runs
        // (the release records are read next) waits for this answer instead of asking for the
        // same group-version again.
        let first = std::future::poll_fn(|cx| Poll::Ready(discovery.as_mut().poll(cx))).await;
        let state = match first {
            Poll::Ready(answer) => State::Done(collected(answer)),
            Poll::Pending => match tokio::runtime::Handle::current().runtime_flavor() {
                RuntimeFlavor::CurrentThread => State::Done(collected(discovery.await)),
                _ => State::Running(tokio::spawn(discovery)),
            },
        };
        PendingCapabilities {
            state: Rc::new(RefCell::new(state)),
            kube_version: None,
            with_chart_crds: false,
        }
    }

    /// Our `--kube-version` for the verbs where Helm has none: overrides the server's version.
    pub fn with_kube_version(mut self, version: Option<String>) -> Self {
        self.kube_version = version;
        self
    }

    /// Adds the kinds of the chart's `crds/` that the server does not serve yet (see the field).
    pub fn with_chart_crds(mut self, yes: bool) -> Self {
        self.with_chart_crds = yes;
        self
    }

    /// Waits for discovery (blocking this thread; called from rendering, which is synchronous)
    /// and builds `.Capabilities` for `chart`.
    pub fn wait(&self, chart: &Chart) -> anyhow::Result<Capabilities> {
        let mut state = self.state.borrow_mut();
        if let State::Running(handle) = &mut *state {
            let handle_rt = tokio::runtime::Handle::current();
            let joined = tokio::task::block_in_place(|| handle_rt.block_on(handle));
            let answer = joined.unwrap_or_else(|e| Err(cluster::Error::Connect(format!("discovery: {e}"))));
            *state = State::Done(collected(answer));
        }
        let State::Done(answer) = &*state else {
            unreachable!("discovery was collected above")
        };
        let server = answer
            .as_ref()
            .map_err(Clone::clone)
            .context("could not get apiVersions from Kubernetes")?;
        let crds = if self.with_chart_crds {
            crd_docs(chart)?
        } else {
            Vec::new()
        };
        from_server(server, self.kube_version.as_deref(), &crds)
    }
}

/// Discovery's answer, once: group-versions that failed are reported here and left out. Helm
/// (issue 6361) warns and goes on: an APIService whose backend is down must not block every
/// install.
fn collected(answer: cluster::Result<ServerCapabilities>) -> cluster::Result<ServerCapabilities> {
    if let Ok(server) = &answer {
        if !server.failed.is_empty() {
            let failed: Vec<&str> = server.failed.keys().map(String::as_str).collect();
            tracing::warn!(
                "discovery failed for {}; their kinds are left out of .Capabilities.APIVersions",
                failed.join(", ")
            );
        }
    }
    answer
}

/// `.Capabilities` from the server's answer, as Helm's `getCapabilities` builds them: the
/// `gitVersion` verbatim with the server's `major`/`minor`, and every group-version and
/// group-version/kind. Helm falls back to its default API versions when discovery lists nothing
/// at all. `kube_version` overrides the version (Major and Minor then come from it); `crds` are
/// `crds/` documents the install creates before rendering.
pub(crate) fn from_server(
    server: &ServerCapabilities,
    kube_version: Option<&str>,
    crds: &[Json],
) -> anyhow::Result<Capabilities> {
    let mut caps = Capabilities {
        kube_version: server.git_version.clone(),
        server_major_minor: Some((server.major.clone(), server.minor.clone())),
        ..Capabilities::default()
    };
    if !server.api_versions.is_empty() {
        caps.api_versions = server.api_versions.clone();
    }
    if let Some(v) = kube_version {
        caps = caps.with_kube_version(v).map_err(anyhow::Error::msg)?;
    }
    let served = caps.api_versions.clone();
    for crd in crds {
        caps.api_versions.extend(crd_versions(crd, &served));
    }
    caps.api_versions.sort();
    caps.api_versions.dedup();
    Ok(caps)
}

/// What discovery lists once a `crds/` CRD is created: `GROUP/VERSION` and
/// `GROUP/VERSION/Kind` for each served version. Nothing when the server already serves the kind
/// in some version: Helm skips a CRD that exists, so discovery shows the cluster's, not the chart's.
fn crd_versions(crd: &Json, served: &[String]) -> Vec<String> {
    let s = |p: &str| crd.pointer(p).and_then(Json::as_str).unwrap_or("");
    let (group, kind) = (s("/spec/group"), s("/spec/names/kind"));
    if group.is_empty() || kind.is_empty() {
        return Vec::new();
    }
    let exists = served.iter().any(|v| {
        v.strip_prefix(group)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(_, k)| k == kind)
    });
    if exists {
        return Vec::new();
    }
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Json::as_array)
        .into_iter()
        .flatten();
    versions
        .filter(|v| v.get("served").and_then(Json::as_bool) != Some(false))
        .filter_map(|v| v.get("name").and_then(Json::as_str))
        .flat_map(|v| [format!("{group}/{v}"), format!("{group}/{v}/{kind}")])
        .collect()
}

/// `crds/` documents of the chart and its enabled subcharts, in load order.
pub(crate) fn crd_docs(chart: &Chart) -> anyhow::Result<Vec<Json>> {
    let mut out = Vec::new();
    for f in &chart.crds {
        let text = String::from_utf8_lossy(f.data.bytes()?);
        for v in crate::yaml::parse_documents(&text, &f.name)? {
            if v.is_object() {
                out.push(v);
            }
        }
    }
    for dep in &chart.dependencies {
        out.extend(crd_docs(dep)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        action::render::{render_release, RenderRequest},
        cluster::FakeCluster,
        render::ReleaseInfo,
    };
    use serde_json::json;

    /// Renders a one-template chart through the shared render path with `pending` capabilities;
    /// returns the template's output (between the `# Source` header and the end).
    fn render_with(pending: &PendingCapabilities, tag: &str, template: &str) -> anyhow::Result<String> {
        let dir = std::env::temp_dir().join(format!("kc-caps-test-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(dir.join("templates"))?;
        std::fs::write(
            dir.join("Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 1.0.0\n",
        )?;
        let cm =
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  v: \"{template}\"\n");
        std::fs::write(dir.join("templates/cm.yaml"), cm)?;
        let mut req = RenderRequest::new(
            dir.clone(),
            Default::default(),
            ReleaseInfo {
                name: "r".into(),
                namespace: "default".into(),
                revision: 1,
                is_upgrade: false,
            },
        );
        req.discovery = Some(pending.clone());
        let rendered = render_release(&req);
        std::fs::remove_dir_all(&dir)?;
        let text = rendered?.manifests[0].content.clone();
        let value = text.split("v: \"").nth(1).unwrap_or_default();
        Ok(value.trim_end().trim_end_matches('"').to_string())
    }

    fn widget_crd(versions: Json) -> Json {
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "names": {"plural": "widgets", "kind": "Widget"},
                "scope": "Namespaced", "versions": versions},
            "status": {"conditions": [{"type": "Established", "status": "True"}]}})
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn templates_see_the_servers_version_and_kinds() {
        let fake = Arc::new(FakeCluster::new("default"));
        fake.set_server_version("v1.32.13", "1", "32+");
        fake.insert(widget_crd(json!([{"name": "v1", "served": true}])))
            .expect("crd");
        let pending = PendingCapabilities::start(fake.clone()).await;
        let cases = [
            ("version", "{{ .Capabilities.KubeVersion.Version }}", "v1.32.13"),
            (
                "git version",
                "{{ .Capabilities.KubeVersion.GitVersion }}",
                "v1.32.13",
            ),
            ("stringer", "{{ .Capabilities.KubeVersion }}", "v1.32.13"),
            ("major", "{{ .Capabilities.KubeVersion.Major }}", "1"),
            (
                "minor as the server says",
                "{{ .Capabilities.KubeVersion.Minor }}",
                "32+",
            ),
            (
                "semverCompare on a patch release",
                r#"{{ semverCompare `>=1.32.5-0` .Capabilities.KubeVersion.Version }}"#,
                "true",
            ),
            (
                "CRD kind",
                r#"{{ .Capabilities.APIVersions.Has `example.com/v1/Widget` }}"#,
                "true",
            ),
            (
                "CRD version",
                r#"{{ .Capabilities.APIVersions.Has `example.com/v1` }}"#,
                "true",
            ),
            (
                "built-in",
                r#"{{ .Capabilities.APIVersions.Has `apps/v1/Deployment` }}"#,
                "true",
            ),
            // Not served by this server, though in Helm's offline default list.
            (
                "default only",
                r#"{{ .Capabilities.APIVersions.Has `policy/v1beta1` }}"#,
                "false",
            ),
        ];
        for (i, (name, template, want)) in cases.into_iter().enumerate() {
            let got = render_with(&pending, &i.to_string(), template).expect(name);
            assert_eq!(got, want, "{name}");
        }
        // Read once, however often it is asked for.
        let asked = fake
            .calls()
            .iter()
            .filter(|c| c.method == cluster::Method::Capabilities)
            .count();
        assert_eq!(asked, 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn current_thread_runtimes_read_discovery_up_front() {
        // `start` reads it at once; `wait` must then not block (it would deadlock).
        let fake = Arc::new(FakeCluster::new("default"));
        let pending = PendingCapabilities::start(fake).await;
        let got = render_with(&pending, "ct", "{{ .Capabilities.KubeVersion }}").expect("render");
        assert_eq!(got, "v1.32.0");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn discovery_errors_fail_the_render() {
        let fake = Arc::new(FakeCluster::new("default"));
        fake.inject(
            cluster::Method::Capabilities,
            None,
            cluster::Error::Connect("unable to connect to the server: connection refused".into()),
        );
        let pending = PendingCapabilities::start(fake).await;
        let err = render_with(&pending, "err", "x").expect_err("no discovery");
        assert_eq!(
            format!("{err:#}"),
            "could not get apiVersions from Kubernetes: unable to connect to the server: connection refused"
        );
    }

    #[test]
    fn kube_version_override_and_chart_crds() {
        let server = ServerCapabilities {
            git_version: "v1.32.13".into(),
            major: "1".into(),
            minor: "32".into(),
            api_versions: vec!["v1".into(), "other.io/v2".into(), "other.io/v2/Gadget".into()],
            failed: Default::default(),
        };
        let gadget = json!({"spec": {"group": "other.io", "names": {"kind": "Gadget"},
            "versions": [{"name": "v3", "served": true}]}});
        let crds = [
            widget_crd(json!([{"name": "v1", "served": true}, {"name": "v2", "served": false}])),
            gadget,
        ];
        let caps = from_server(&server, Some("1.29"), &crds).expect("caps");
        assert_eq!(caps.kube_version, "v1.29.0");
        assert_eq!(caps.major_minor(), ("1".to_string(), "29".to_string()));
        // The new CRD's served version only; the existing Gadget keeps the server's versions.
        assert_eq!(
            caps.api_versions,
            [
                "example.com/v1",
                "example.com/v1/Widget",
                "other.io/v2",
                "other.io/v2/Gadget",
                "v1"
            ]
        );
        let empty = ServerCapabilities {
            api_versions: Vec::new(),
            ..server
        };
        let caps = from_server(&empty, None, &[]).expect("caps");
        assert_eq!(
            caps.api_versions,
            {
                let mut d = Capabilities::default().api_versions;
                d.sort();
                d
            },
            "nothing discovered: Helm's default list"
        );
    }
}
