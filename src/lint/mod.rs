//! `lint`'s rules, pure: each takes what it checks (a file's bytes, a parsed `Chart.yaml`, a
//! rendered template) and records Helm's messages in a [`Linter`]; reading files and rendering
//! are `action::lint`'s job.
//!
//! The rules and their wording follow helm v3.17.2's `pkg/lint` (users and CI scripts match on
//! them): `Chart.yaml` fields ([`chartfile`]), `values.yaml` and its schema ([`values`]), the
//! rendered templates ([`templates`], with Kubernetes' object name rules in [`names`] and the API
//! deprecation table in [`deprecations`]) and the declared against the vendored dependencies
//! ([`dependencies`]).

pub mod chartfile;
pub mod dependencies;
pub mod deprecations;
#[rustfmt::skip]
mod deprecations_table;
pub mod names;
pub mod openapi;
pub mod templates;
pub mod values;

use std::fmt;

/// How bad a finding is; the order matters (`--strict` fails from [`Severity::Warning`] up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// A recommendation (`icon is recommended`); never fails a chart.
    Info,
    /// Breaks a convention; fails the chart only with `--strict`.
    Warning,
    /// The chart will not install or render; always fails it.
    Error,
}

impl Severity {
    fn label(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        }
    }
}

/// One finding: severity, the file (or directory) it is about, and Helm's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub severity: Severity,
    /// `Chart.yaml`, `values.yaml`, `templates/`, `templates/x.yaml`, the chart directory, or empty.
    pub path: String,
    pub text: String,
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.severity.label(), self.path, self.text)
    }
}

/// The findings for one chart, in the order the rules ran.
#[derive(Debug, Clone, Default)]
pub struct Linter {
    pub messages: Vec<Message>,
}

impl Linter {
    /// Records `result`'s error (if any) at `severity` and says whether the rule passed, so a
    /// rule that later rules depend on can stop them (Helm's `RunLinterRule`).
    pub fn run(&mut self, severity: Severity, path: &str, result: Result<(), String>) -> bool {
        match result {
            Ok(()) => true,
            Err(text) => {
                self.messages.push(Message {
                    severity,
                    path: path.to_string(),
                    text,
                });
                false
            }
        }
    }

    /// The worst severity recorded, if any.
    pub fn highest(&self) -> Option<Severity> {
        self.messages.iter().map(|m| m.severity).max()
    }
}

/// Go's `filepath.Ext`: the suffix from the last `.` of the last path element, or empty.
pub(crate) fn go_ext(name: &str) -> &str {
    let base_start = name.rfind('/').map_or(0, |i| i + 1);
    match name[base_start..].rfind('.') {
        Some(i) => &name[base_start + i..],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_print_like_helm() {
        let cases = [
            (
                Severity::Info,
                "Chart.yaml",
                "icon is recommended",
                "[INFO] Chart.yaml: icon is recommended",
            ),
            (
                Severity::Warning,
                "templates/a.yaml",
                "w",
                "[WARNING] templates/a.yaml: w",
            ),
            (
                Severity::Error,
                "",
                "unable to load chart",
                "[ERROR] : unable to load chart",
            ),
        ];
        for (severity, path, text, want) in cases {
            let m = Message {
                severity,
                path: path.into(),
                text: text.into(),
            };
            assert_eq!(m.to_string(), want);
        }
    }

    #[test]
    fn run_records_failures_only_and_tracks_the_worst() {
        let mut l = Linter::default();
        assert!(l.run(Severity::Error, "a", Ok(())));
        assert_eq!(l.highest(), None);
        assert!(!l.run(Severity::Info, "a", Err("x".into())));
        assert!(!l.run(Severity::Warning, "b", Err("y".into())));
        assert_eq!(l.highest(), Some(Severity::Warning));
        assert_eq!(l.messages.len(), 2);
    }

    #[test]
    fn go_ext_matches_filepath_ext() {
        let cases = [
            ("templates/a.yaml", ".yaml"),
            ("templates/NOTES.txt", ".txt"),
            ("templates/noext", ""),
            ("templates/dir.d/noext", ""),
            ("templates/a.yaml.hbs", ".hbs"),
            ("templates/.hidden", ".hidden"),
        ];
        for (name, want) in cases {
            assert_eq!(go_ext(name), want, "{name}");
        }
    }
}
