//! Helm's hook events: the moments of a verb at which hooks run, and the annotation values that
//! name them. One list, read by the manifest split (a document naming an unknown event is no
//! hook at all, as in Helm) and by `apply`'s hook runner.

use super::Hook;

/// A Helm hook event: the moment of a verb at which hooks annotated with it run.
///
/// Typed, so that a misspelt event does not compile (a string one ran no hook at all). The
/// annotation values are Helm's (`helm3:pkg/release/hook.go`); charts still written for Helm 2
/// name their tests `test-success`, which Helm 3 reads as `test`, and so does [`HookEvent::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookEvent {
    /// `pre-install`: after rendering, before any object of a first install is written.
    PreInstall,
    /// `post-install`: after the objects of an install are written (and waited for).
    PostInstall,
    /// `pre-delete`: before an uninstall deletes anything.
    PreDelete,
    /// `post-delete`: after an uninstall deleted the release's objects.
    PostDelete,
    /// `pre-upgrade`: before an upgrade writes any object.
    PreUpgrade,
    /// `post-upgrade`: after the objects of an upgrade are written (and waited for).
    PostUpgrade,
    /// `pre-rollback`: before a rollback writes any object.
    PreRollback,
    /// `post-rollback`: after the objects of a rollback are written (and waited for).
    PostRollback,
    /// `test`: run by the `test` verb only.
    Test,
}

impl HookEvent {
    /// Every event, in Helm's order.
    pub const ALL: [HookEvent; 9] = [
        HookEvent::PreInstall,
        HookEvent::PostInstall,
        HookEvent::PreDelete,
        HookEvent::PostDelete,
        HookEvent::PreUpgrade,
        HookEvent::PostUpgrade,
        HookEvent::PreRollback,
        HookEvent::PostRollback,
        HookEvent::Test,
    ];

    /// The annotation value, as Helm writes it in `helm.sh/hook` and in release records.
    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::PreInstall => "pre-install",
            HookEvent::PostInstall => "post-install",
            HookEvent::PreDelete => "pre-delete",
            HookEvent::PostDelete => "post-delete",
            HookEvent::PreUpgrade => "pre-upgrade",
            HookEvent::PostUpgrade => "post-upgrade",
            HookEvent::PreRollback => "pre-rollback",
            HookEvent::PostRollback => "post-rollback",
            HookEvent::Test => "test",
        }
    }

    /// The event an annotation value names (`test-success` is Helm 2's name of `test`); `None`
    /// for a value Helm does not know.
    pub fn parse(name: &str) -> Option<HookEvent> {
        if name == "test-success" {
            return Some(HookEvent::Test);
        }
        HookEvent::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// Whether `hook` runs at this event.
    pub fn selects(self, hook: &Hook) -> bool {
        hook.events.iter().any(|e| HookEvent::parse(e) == Some(self))
    }
}

impl std::fmt::Display for HookEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::HookEvent;

    #[test]
    fn hook_events_read_as_helm_writes_them() {
        // Every event reads back from its own annotation value.
        for e in HookEvent::ALL {
            assert_eq!(HookEvent::parse(e.as_str()), Some(e), "{e}");
        }
        let cases: &[(&str, Option<HookEvent>)] = &[
            ("test-success", Some(HookEvent::Test)),
            ("pre-install", Some(HookEvent::PreInstall)),
            ("post-rollback", Some(HookEvent::PostRollback)),
            ("pre_install", None),
            ("Pre-Install", None),
            ("crd-install", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(HookEvent::parse(name), *want, "{name:?}");
        }
    }
}
