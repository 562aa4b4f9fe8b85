//! The control plane with the kit's fake kubelet, for tests that need pods to run (Deployments
//! becoming available, hook Jobs completing). `support::k8s::kit()` always starts the kubelet, so
//! this is that same shared control plane, under the name these tests use.

use crate::support::k8s::Kit;

/// The shared control plane with a node, or `None` (after printing why) when the kit is absent
/// and `KC_REQUIRE_K8S=1` is not set.
pub fn kit_with_kubelet() -> Option<&'static Kit> {
    crate::support::k8s::kit()
}

/// Returns early from a test when no kit is available (after the skip message).
#[macro_export]
macro_rules! require_kubelet_kit {
    () => {
        match $crate::apply_util::kit_with_kubelet() {
            Some(kit) => kit,
            None => return,
        }
    };
}
