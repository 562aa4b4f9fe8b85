//! `--wait[=STRATEGY]`: which waiter a verb asked for (Helm 4's `WaitStrategy`; Helm 3's bare
//! `--wait` is `watcher`).

use std::{fmt, str::FromStr};

/// What `--wait` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStrategy {
    /// Helm 4's default: wait for every applied object to be ready (kstatus rules).
    Watcher,
    /// Helm 3's readiness rules, polled.
    Legacy,
    /// Wait for hooks only, not for the applied objects (hooks are always waited for).
    HookOnly,
}

impl WaitStrategy {
    /// Whether the applied objects are waited for (every strategy but `hookOnly`).
    pub fn waits_for_objects(strategy: Option<WaitStrategy>) -> bool {
        matches!(strategy, Some(WaitStrategy::Watcher | WaitStrategy::Legacy))
    }

    /// Parses the value of `--wait` (or `None` for no `--wait`): Helm 4's strategy names, and
    /// Helm 3's boolean spellings (`--wait=true` is `watcher`, `--wait=false` no wait).
    pub fn parse_flag(value: Option<&str>) -> Result<Option<WaitStrategy>, String> {
        match value {
            None | Some("false") => Ok(None),
            Some("true") => Ok(Some(WaitStrategy::Watcher)),
            Some(v) => v.parse().map(Some),
        }
    }
}

impl FromStr for WaitStrategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "watcher" => Ok(WaitStrategy::Watcher),
            "legacy" => Ok(WaitStrategy::Legacy),
            "hookOnly" => Ok(WaitStrategy::HookOnly),
            _ => Err(format!(
                "invalid --wait value {s:?}: use watcher, legacy or hookOnly (or true/false)"
            )),
        }
    }
}

impl fmt::Display for WaitStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WaitStrategy::Watcher => "watcher",
            WaitStrategy::Legacy => "legacy",
            WaitStrategy::HookOnly => "hookOnly",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_helm3_and_helm4_spellings() {
        let cases: &[(Option<&str>, Result<Option<WaitStrategy>, ()>, bool)] = &[
            (None, Ok(None), false),
            (Some("false"), Ok(None), false),
            (Some("true"), Ok(Some(WaitStrategy::Watcher)), true),
            (Some("watcher"), Ok(Some(WaitStrategy::Watcher)), true),
            (Some("legacy"), Ok(Some(WaitStrategy::Legacy)), true),
            (Some("hookOnly"), Ok(Some(WaitStrategy::HookOnly)), false),
            (Some("hookonly"), Err(()), false),
            (Some(""), Err(()), false),
        ];
        for (value, want, objects) in cases {
            let got = WaitStrategy::parse_flag(*value).map_err(|_| ());
            assert_eq!(&got, want, "{value:?}");
            if let Ok(s) = got {
                assert_eq!(WaitStrategy::waits_for_objects(s), *objects, "{value:?}");
                if let Some(s) = s {
                    assert_eq!(s.to_string().parse::<WaitStrategy>(), Ok(s), "round trip");
                }
            }
        }
    }
}
