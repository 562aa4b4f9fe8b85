//! [`ClusterLookup`]: Helm's `lookup` template function answered by a [`Cluster`].
//!
//! Rendering is synchronous (the template engine holds `Rc`s), the cluster is async. Each lookup
//! therefore blocks the rendering thread on the runtime: inside a multi-thread tokio runtime through
//! `block_in_place` + `Handle::block_on` (the worker hands its other tasks off while it waits), and
//! outside any runtime with `Handle::block_on` directly. A current-thread runtime cannot do either
//! without deadlocking, so there the lookup fails with a message instead.

use std::sync::Arc;

use serde_json::Value as Json;
use tokio::runtime::{Handle, RuntimeFlavor};

use super::{Cluster, Error, Gvk};
use crate::render::Lookup;
use gotemplate::Value;

/// Helm's `lookup` over a cluster, as `pkg/engine/lookup_func.go` (v3.17.2) behaves: one object by
/// name, the whole list (every namespace when `namespace` is empty) when `name` is empty, and an
/// empty map when the object or the list is not found.
pub struct ClusterLookup {
    cluster: Arc<dyn Cluster>,
    runtime: Handle,
}

impl std::fmt::Debug for ClusterLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterLookup").finish_non_exhaustive()
    }
}

impl ClusterLookup {
    /// Lookups run their requests on `runtime` (the handle of the program's multi-thread runtime).
    pub fn new(cluster: Arc<dyn Cluster>, runtime: Handle) -> Self {
        ClusterLookup { cluster, runtime }
    }

    /// The lookup as JSON data; `Ok(None)` means Helm's empty map.
    async fn fetch(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Json>, Error> {
        let gvk = Gvk::new(api_version, kind);
        let info = self.cluster.resolve(&gvk).await?;
        let ns = (info.namespaced && !namespace.is_empty()).then_some(namespace);
        let result = if name.is_empty() {
            self.cluster.list(&gvk, ns, None).await.map(|l| l.to_value())
        } else if info.namespaced && ns.is_none() {
            // Helm asks the cluster-wide path for a namespaced kind here, which is always 404.
            return Ok(None);
        } else {
            self.cluster.get(&gvk, ns, name).await
        };
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> Result<F::Output, String> {
        match Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(RuntimeFlavor::CurrentThread) => {
                Err("lookup cannot run on a current-thread tokio runtime; use a multi-thread runtime".into())
            }
            Ok(_) => Ok(tokio::task::block_in_place(|| self.runtime.block_on(f))),
            Err(_) => Ok(self.runtime.block_on(f)),
        }
    }
}

impl Lookup for ClusterLookup {
    fn lookup(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Result<Value, String> {
        let answer = self.block_on(self.fetch(api_version, kind, namespace, name))?;
        match answer {
            // Unstructured decoding keeps integral numbers as int64, so `ints` is on.
            Ok(Some(v)) => Ok(Value::from_json(&v, true)),
            Ok(None) => Ok(Value::new_map()),
            Err(Error::UnknownKind(gvk)) => Err(format!(
                "unable to get apiresource from unstructured: {gvk}: the server could not find the requested resource"
            )),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::FakeCluster;
    use serde_json::json;

    #[test]
    fn lookup_shapes_like_helm() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let fake = FakeCluster::new("default");
        fake.insert(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n1"},"data":{"k":"v"}}))
            .expect("insert");
        let l = ClusterLookup::new(Arc::new(fake), rt.handle().clone());
        let json_of = |v: Value| v.to_json();
        let cases: [(&str, [&str; 4], Json); 4] = [
            ("missing object", ["v1", "ConfigMap", "n1", "zz"], json!({})),
            (
                "namespaced kind without namespace",
                ["v1", "ConfigMap", "", "a"],
                json!({}),
            ),
            (
                "empty list",
                ["v1", "Secret", "n1", ""],
                json!({"apiVersion":"v1","kind":"SecretList","metadata":{"resourceVersion":"1"},"items":[]}),
            ),
            ("object", ["v1", "ConfigMap", "n1", "a"], json!("a")),
        ];
        for (name, [av, kind, ns, n], want) in cases {
            let got = json_of(l.lookup(av, kind, ns, n).expect(name));
            if name == "object" {
                assert_eq!(got["metadata"]["name"], want, "{name}");
            } else {
                assert_eq!(got, want, "{name}");
            }
        }
        let e = l
            .lookup("example.com/v1", "Widget", "", "")
            .expect_err("unknown kind");
        assert_eq!(
            e,
            "unable to get apiresource from unstructured: example.com/v1, Kind=Widget: the server could not find the requested resource"
        );
    }
}
