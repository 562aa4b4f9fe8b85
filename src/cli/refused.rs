//! Helm's flags we do not accept, each with the reason, so that a Helm command line copied over
//! fails with that reason instead of clap's bare "unexpected argument".
//!
//! The README's "Helm flags kubectl chart refuses" table lists the same rows; `tests/it/plugin.rs`
//! walks the reference helm binaries' `--help` and fails on any Helm flag that is neither ours
//! nor refused here, and checks that every row here is refused with its reason.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// One refused flag.
#[derive(Debug, Clone, Copy)]
pub struct Refused {
    /// The verbs it is refused on (`get` covers its subcommands); `*` for Helm's global flags.
    pub verbs: &'static [&'static str],
    /// The flag, as `--name`.
    pub flag: &'static str,
    /// Why, and what to use instead.
    pub reason: &'static str,
}

const CHARTS: &[&str] = &["template", "install", "upgrade", "apply"];
const WRITES: &[&str] = &["install", "upgrade", "apply"];
const ALL: &[&str] = &["*"];

/// Every Helm flag (of `template`, `install`, `upgrade`, `rollback`, `uninstall`, `status`,
/// `history`, `list`, `get`, `test` and the global ones) that we refuse.
pub const REFUSED: &[Refused] = &[
    // Helm's global flags: kubectl's names for the same settings are ours.
    r(ALL, "--kube-context", "kubectl's name for it is --context"),
    r(ALL, "--kube-as-user", "kubectl's name for it is --as"),
    r(ALL, "--kube-as-group", "kubectl's name for it is --as-group"),
    r(
        ALL,
        "--kube-apiserver",
        "set the server in the kubeconfig (--cluster picks one)",
    ),
    r(
        ALL,
        "--kube-ca-file",
        "set certificate-authority in the kubeconfig",
    ),
    r(
        ALL,
        "--kube-token",
        "set the token in the kubeconfig (--user picks one)",
    ),
    r(
        ALL,
        "--kube-insecure-skip-tls-verify",
        "set insecure-skip-tls-verify in the kubeconfig",
    ),
    r(
        ALL,
        "--kube-tls-server-name",
        "set tls-server-name in the kubeconfig",
    ),
    r(
        ALL,
        "--burst-limit",
        "client-side throttling is not configurable; requests are bounded per verb",
    ),
    r(
        ALL,
        "--qps",
        "client-side throttling is not configurable; requests are bounded per verb",
    ),
    r(ALL, "--color", "errors and tables are not coloured"),
    r(ALL, "--colour", "errors and tables are not coloured"),
    r(ALL, "--registry-config", "set HELM_REGISTRY_CONFIG"),
    r(ALL, "--repository-config", "set HELM_REPOSITORY_CONFIG"),
    r(ALL, "--repository-cache", "set HELM_REPOSITORY_CACHE"),
    r(ALL, "--content-cache", "charts are not cached by content digest"),
    // Charts.
    r(
        CHARTS,
        "--dependency-update",
        "run `kubectl chart dependency update CHART` first: nothing is written to the chart \
         directory while installing",
    ),
    r(
        CHARTS,
        "--verify",
        "provenance (.prov) files are not checked; registry charts are checked by digest",
    ),
    r(
        CHARTS,
        "--keyring",
        "provenance (.prov) files are not checked; registry charts are checked by digest",
    ),
    r(
        CHARTS,
        "--enable-dns",
        "not supported: getHostByName renders \"\", as in Helm without this flag",
    ),
    r(
        WRITES,
        "--render-subchart-notes",
        "not supported: only the top chart's NOTES.txt is rendered",
    ),
    r(CHARTS, "--labels", "release records carry no user labels"),
    r(&["template", "install"], "--generate-name", "name the release"),
    r(&["template", "install"], "--name-template", "name the release"),
    r(
        &["install"],
        "--replace",
        "not supported: a release kept with `uninstall --keep-history` is brought back with `apply`",
    ),
    r(
        &["template"],
        "--release-name",
        "not supported: --output-dir writes under the chart's name",
    ),
    r(
        CHARTS,
        "--disable-openapi-validation",
        "there is no client-side OpenAPI validation to turn off: the API server validates every object",
    ),
    r(
        WRITES,
        "--hide-secret",
        "--dry-run prints the change counts, never manifests; `kubectl chart diff` masks Secrets",
    ),
    r(
        &["upgrade", "apply", "rollback"],
        "--cleanup-on-fail",
        "not supported: --atomic (--rollback-on-failure) puts the previous revision back",
    ),
    r(
        &["rollback"],
        "--recreate-pods",
        "deprecated in Helm 3 and removed in Helm 4: `kubectl rollout restart` does it",
    ),
    r(
        &["rollback"],
        "--server-side",
        "rollback re-applies the old revision with client-side patches",
    ),
    r(
        &["install", "upgrade", "apply", "rollback"],
        "--force-conflicts",
        "server-side apply always takes conflicting fields: the chart is the source of truth",
    ),
    r(
        &["status"],
        "--show-resources",
        "removed in Helm 4: `kubectl chart get manifest RELEASE | kubectl get -f -`",
    ),
    r(
        &["list"],
        "--selector",
        "release records carry no user labels to select on",
    ),
    r(
        &["list"],
        "--time-format",
        "Go time layouts are not supported; -o json gives RFC 3339 times",
    ),
    r(
        &["get"],
        "--template",
        "Go templates over the release are not supported; use -o json and jq",
    ),
];

const fn r(verbs: &'static [&'static str], flag: &'static str, reason: &'static str) -> Refused {
    Refused { verbs, flag, reason }
}

/// The refusal of `flag` on `verb`, if it is one of ours.
pub fn refusal(verb: &str, flag: &str) -> Option<&'static Refused> {
    REFUSED
        .iter()
        .find(|r| r.flag == flag && r.verbs.iter().any(|v| *v == "*" || *v == verb))
}

/// Rewords clap's "unexpected argument" for a flag Helm has and we refuse; any other error is
/// returned as it is. `args` is the whole command line, to find the verb.
pub fn explain(err: clap::Error, args: &[String]) -> clap::Error {
    if err.kind() != ErrorKind::UnknownArgument {
        return err;
    }
    let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) else {
        return err;
    };
    let flag = arg.split('=').next().unwrap_or(arg);
    let verbs = super::verb_names();
    let verb = args
        .iter()
        .skip(1)
        .find_map(|a| verbs.iter().find(|(n, _)| n == a).map(|(_, v)| v.as_str()))
        .unwrap_or("");
    match refusal(verb, flag) {
        Some(r) => clap::Error::raw(
            ErrorKind::UnknownArgument,
            format!(
                "{flag} (a Helm flag) is not supported by `kubectl chart {verb}`: {}\n",
                r.reason
            ),
        ),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row names a flag once per verb, spelled as a long flag: a duplicate would hide one
    /// reason behind the other.
    #[test]
    fn rows_are_unique_long_flags() {
        let mut seen = std::collections::BTreeSet::new();
        for r in REFUSED {
            assert!(r.flag.starts_with("--"), "{}", r.flag);
            assert!(!r.reason.is_empty(), "{}", r.flag);
            for v in r.verbs {
                assert!(seen.insert((*v, r.flag)), "{v} {} twice", r.flag);
            }
        }
    }

    /// A refused flag that clap also parses would never be refused: the two lists must not meet.
    /// (Refusals only rewrite clap's "unexpected argument", so a parsed flag is never refused.)
    #[test]
    fn refused_flags_are_not_parsed() {
        use clap::CommandFactory as _;
        let cli = super::super::Cli::command();
        let longs = |c: &clap::Command| -> Vec<String> {
            c.get_arguments()
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .collect()
        };
        let global = longs(&cli);
        for sub in cli.get_subcommands() {
            let mut own = longs(sub);
            for s in sub.get_subcommands() {
                own.extend(longs(s));
            }
            // A row for every verb (`*`) yields to a verb's own flag of that name (`diff --color`);
            // a row that names the verb must not.
            for f in own.iter().chain(&global) {
                assert!(
                    refusal(sub.get_name(), f).is_none_or(|r| r.verbs == ["*"] && !global.contains(f)),
                    "{} {f} is both parsed and refused",
                    sub.get_name()
                );
            }
        }
    }

    #[test]
    fn explains_refused_flags_only() {
        // (command line, refused flag reworded?)
        let cases: &[(&[&str], bool)] = &[
            (&["kubectl-chart", "upgrade", "r", "c", "--verify"], true),
            (
                &["kubectl-chart", "--context", "x", "list", "--selector=a=b"],
                true,
            ),
            (&["kubectl-chart", "status", "r", "--kube-context", "k"], true),
            // An alias is its command.
            (&["kubectl-chart", "ls", "--time-format", "x"], true),
            (&["kubectl-chart", "status", "r", "--no-such-flag"], false),
            // `--time-format` is refused on list only.
            (&["kubectl-chart", "status", "r", "--time-format", "x"], false),
        ];
        for (args, reworded) in cases {
            let err = <super::super::Cli as clap::Parser>::try_parse_from(*args).expect_err("must fail");
            let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let text = explain(err, &owned).to_string();
            assert_eq!(
                text.contains("(a Helm flag) is not supported"),
                *reworded,
                "{args:?}: {text}"
            );
        }
    }
}
