//! The control plane for tests that need pods to run (Deployments becoming available, hook Jobs
//! completing): since the integration tests became one binary, the one kit of `support::k8s` runs
//! the fake kubelet for every test, so this is that kit under the name those tests know.

use crate::support::k8s::Kit;

/// The shared control plane (with the fake kubelet), or `None` when the kit is absent and not required.
pub fn kit_with_kubelet() -> Option<&'static Kit> {
    crate::support::k8s::kit()
}

/// Returns early from a test when no kit is available (after the skip message).
#[macro_export]
macro_rules! require_kubelet_kit {
    () => {
        match $crate::support::crate::support::k8s::kit() {
            Some(kit) => kit,
            None => return,
        }
    };
}
