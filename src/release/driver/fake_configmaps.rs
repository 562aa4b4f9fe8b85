//! [`FakeConfigMapApi`]: an in-memory [`ConfigMapApi`] with Kubernetes' conflict rules, for
//! tests of the ConfigMap driver and the store above it. Built for tests only (`cfg(test)` or the
//! `testing` feature), so it never ships in the binary.

use std::{
    collections::BTreeMap,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use async_trait::async_trait;

use super::{ConfigMap, ConfigMapApi, DriverError};

/// An in-memory [`ConfigMapApi`] with Kubernetes' conflict rules, shareable between runs.
#[derive(Clone, Default)]
pub struct FakeConfigMapApi {
    namespace: String,
    state: Arc<Mutex<FakeState>>,
    interleave: bool,
}

#[derive(Default)]
struct FakeState {
    configmaps: BTreeMap<String, ConfigMap>,
    secrets: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    rv: u64,
    calls: Vec<String>,
}

impl FakeConfigMapApi {
    /// An empty namespace.
    pub fn new(namespace: &str) -> FakeConfigMapApi {
        FakeConfigMapApi {
            namespace: namespace.to_string(),
            ..Default::default()
        }
    }

    /// Yield once before every call so concurrent runs interleave.
    pub fn interleaved(mut self) -> FakeConfigMapApi {
        self.interleave = true;
        self
    }

    /// Every ConfigMap stored, by name.
    pub fn configmaps(&self) -> BTreeMap<String, ConfigMap> {
        self.st().configmaps.clone()
    }

    /// Every Secret stored, by name.
    pub fn secrets(&self) -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
        self.st().secrets.clone()
    }

    /// Every call made so far, as `verb name-or-selector`.
    pub fn calls(&self) -> Vec<String> {
        self.st().calls.clone()
    }

    /// Replace a Secret's data (tests of a replaced key).
    pub fn put_secret(&self, name: &str, data: BTreeMap<String, Vec<u8>>) {
        self.st().secrets.insert(name.to_string(), data);
    }

    fn st(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn enter(&self, call: String) -> std::sync::MutexGuard<'_, FakeState> {
        if self.interleave {
            YieldOnce::new().await;
        }
        let mut st = self.st();
        st.calls.push(call);
        st
    }
}

pub(super) fn matches_selector(labels: &BTreeMap<String, String>, sel: &str) -> bool {
    sel.split(',')
        .filter(|t| !t.is_empty())
        .all(|term| match term.split_once("!=") {
            // Kubernetes' `k!=v` also matches objects without the label.
            Some((k, v)) => labels.get(k).is_none_or(|x| x != v),
            None => match term.split_once('=') {
                Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
                // `!k`: the label is absent.
                None => match term.strip_prefix('!') {
                    Some(k) => !labels.contains_key(k),
                    None => labels.contains_key(term),
                },
            },
        })
}

#[async_trait]
impl ConfigMapApi for FakeConfigMapApi {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    async fn get(&self, name: &str) -> Result<Option<ConfigMap>, DriverError> {
        Ok(self
            .enter(format!("get {name}"))
            .await
            .configmaps
            .get(name)
            .cloned())
    }

    async fn list(&self, label_selector: &str) -> Result<Vec<ConfigMap>, DriverError> {
        let st = self.enter(format!("list {label_selector}")).await;
        Ok(st
            .configmaps
            .values()
            .filter(|c| matches_selector(&c.labels, label_selector))
            .cloned()
            .collect())
    }

    async fn list_metadata(&self, label_selector: &str) -> Result<Vec<ConfigMap>, DriverError> {
        let st = self.enter(format!("list-metadata {label_selector}")).await;
        Ok(st
            .configmaps
            .values()
            .filter(|c| matches_selector(&c.labels, label_selector))
            .map(|c| ConfigMap {
                data: BTreeMap::new(),
                ..c.clone()
            })
            .collect())
    }

    async fn create(&self, cm: &ConfigMap) -> Result<ConfigMap, DriverError> {
        let mut st = self.enter(format!("create {}", cm.name)).await;
        if st.configmaps.contains_key(&cm.name) {
            return Err(DriverError::AlreadyExists(format!("configmaps {:?}", cm.name)));
        }
        st.rv += 1;
        let out = ConfigMap {
            resource_version: Some(st.rv.to_string()),
            ..cm.clone()
        };
        st.configmaps.insert(cm.name.clone(), out.clone());
        Ok(out)
    }

    async fn update(&self, cm: &ConfigMap) -> Result<ConfigMap, DriverError> {
        let mut st = self.enter(format!("update {}", cm.name)).await;
        let what = format!("configmaps {:?}", cm.name);
        match st.configmaps.get(&cm.name) {
            None => return Err(DriverError::NotFound(what)),
            // A PUT without resourceVersion is unconditional in Kubernetes; with one, it must match.
            Some(cur) if cm.resource_version.is_some() && cur.resource_version != cm.resource_version => {
                return Err(DriverError::Conflict(what))
            }
            Some(_) => {}
        }
        st.rv += 1;
        let out = ConfigMap {
            resource_version: Some(st.rv.to_string()),
            ..cm.clone()
        };
        st.configmaps.insert(cm.name.clone(), out.clone());
        Ok(out)
    }

    async fn delete(&self, name: &str, resource_version: Option<&str>) -> Result<(), DriverError> {
        let mut st = self.enter(format!("delete {name}")).await;
        let what = format!("configmaps {name:?}");
        match st.configmaps.get(name) {
            None => Err(DriverError::NotFound(what)),
            Some(cur) if resource_version.is_some_and(|v| Some(v) != cur.resource_version.as_deref()) => {
                Err(DriverError::Conflict(what))
            }
            Some(_) => {
                st.configmaps.remove(name);
                Ok(())
            }
        }
    }

    async fn delete_collection(&self, label_selector: &str) -> Result<(), DriverError> {
        let mut st = self.enter(format!("deletecollection {label_selector}")).await;
        st.configmaps
            .retain(|_, cm| !matches_selector(&cm.labels, label_selector));
        Ok(())
    }

    async fn get_secret(&self, name: &str) -> Result<Option<BTreeMap<String, Vec<u8>>>, DriverError> {
        Ok(self
            .enter(format!("get secret {name}"))
            .await
            .secrets
            .get(name)
            .cloned())
    }

    async fn create_secret(
        &self,
        name: &str,
        _labels: &BTreeMap<String, String>,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<(), DriverError> {
        let mut st = self.enter(format!("create secret {name}")).await;
        if st.secrets.contains_key(name) {
            return Err(DriverError::AlreadyExists(format!("secrets {name:?}")));
        }
        st.secrets.insert(name.to_string(), data.clone());
        Ok(())
    }

    async fn delete_secret(&self, name: &str) -> Result<(), DriverError> {
        let mut st = self.enter(format!("delete secret {name}")).await;
        st.secrets
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| DriverError::NotFound(format!("secrets {name:?}")))
    }
}

/// A future that is pending exactly once, so that drivers used in tests can let another
/// task run between two storage calls and races actually interleave.
pub(crate) struct YieldOnce(bool);

impl YieldOnce {
    pub(crate) fn new() -> YieldOnce {
        YieldOnce(false)
    }
}

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
