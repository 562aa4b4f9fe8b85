//! Deprecated Kubernetes APIs (Helm's `validateNoDeprecations`): an object whose apiVersion and
//! kind Kubernetes marks deprecated at the target version gets Kubernetes' own warning text.
//!
//! The table ([`super::deprecations_table`]) is generated from k8s.io/api's lifecycle data at the
//! version helm v3.17.2 was built with, by `gen-deprecations.py` next to this file: the same data
//! Helm compiles in, so the same objects are flagged.

use super::deprecations_table::DEPRECATED;

/// Kubernetes' deprecation warning for `api_version`/`kind` at `current` (major, minor), if that
/// kind is deprecated by then.
pub fn check(api_version: &str, kind: &str, current: (u32, u32)) -> Result<(), String> {
    if api_version.is_empty() || kind.is_empty() {
        return Ok(());
    }
    let Some((gv, kind, deprecated, removed, replacement)) = DEPRECATED
        .iter()
        .find(|(gv, k, ..)| *gv == api_version && *k == kind)
    else {
        return Ok(());
    };
    // apiserver's IsDeprecated: a zero current version means "unknown", which counts as deprecated.
    if current != (0, 0) && *deprecated > current {
        return Ok(());
    }
    let mut msg = format!("{gv} {kind} is deprecated in v{}.{}+", deprecated.0, deprecated.1);
    if let Some((major, minor)) = removed {
        msg.push_str(&format!(", unavailable in v{major}.{minor}+"));
    }
    if let Some(r) = replacement {
        msg.push_str(&format!("; use {r}"));
    }
    Err(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecated_kinds_warn_from_their_deprecation_version() {
        type Case = (&'static str, &'static str, (u32, u32), Option<&'static str>);
        let cases: &[Case] = &[
            (
                "extensions/v1beta1",
                "Ingress",
                (1, 20),
                Some("extensions/v1beta1 Ingress is deprecated in v1.14+, unavailable in v1.22+; use networking.k8s.io/v1 Ingress"),
            ),
            ("networking.k8s.io/v1", "Ingress", (1, 32), None),
            // policy/v1beta1 PodDisruptionBudget was deprecated in 1.21: not yet at Helm's default 1.20.
            ("policy/v1beta1", "PodDisruptionBudget", (1, 20), None),
            (
                "policy/v1beta1",
                "PodDisruptionBudget",
                (1, 21),
                Some("policy/v1beta1 PodDisruptionBudget is deprecated in v1.21+, unavailable in v1.25+; use policy/v1 PodDisruptionBudget"),
            ),
            ("autoscaling/v2", "HorizontalPodAutoscaler", (1, 32), None),
            ("example.com/v1", "Widget", (1, 32), None),
            ("", "Ingress", (1, 32), None),
        ];
        for (gv, kind, at, want) in cases {
            assert_eq!(
                check(gv, kind, *at).err().as_deref(),
                *want,
                "{gv} {kind} at {at:?}"
            );
        }
    }
}
