//! Flag groups shared by several commands, flattened into each (as kapp's `*_flags.go`).

use clap::{ArgAction, Args};

use crate::values::ValuesOptions;

/// `--wait[=STRATEGY]` and `--logs N`, for the verbs that wait.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Wait until every object is ready. STRATEGY (Helm 4's): `watcher`, what a bare --wait
    /// means: kstatus readiness for every kind, custom resources included; `legacy`: Helm 3's
    /// rules; `hookOnly`: wait for hooks only, as without --wait.
    #[arg(
        long,
        value_name = "STRATEGY",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "watcher"
    )]
    pub wait: Option<String>,
    /// When a wait fails, show this many log lines of each failed container (0: none).
    #[arg(long, value_name = "N", default_value_t = crate::apply::DEFAULT_LOG_LINES)]
    pub logs: u32,
}

impl WaitArgs {
    /// Whether objects are waited for, and how.
    pub fn resolve(&self) -> anyhow::Result<(bool, crate::apply::WaitStyle)> {
        let (wait, rules) = wait_rules(self.wait.as_deref())?;
        Ok((
            wait,
            crate::apply::WaitStyle {
                rules,
                log_lines: self.logs,
            },
        ))
    }
}

/// The value of `--wait` (`None`: no `--wait`): whether objects are waited for, and by which
/// rules. Helm 4's strategy names, and Helm 3's boolean spellings (`--wait=true` is `watcher`);
/// `hookOnly` waits for hooks only, which are always waited for, as without `--wait`.
fn wait_rules(value: Option<&str>) -> anyhow::Result<(bool, crate::apply::Rules)> {
    use crate::apply::Rules;
    Ok(match value {
        None | Some("hookOnly") | Some("false") => (false, Rules::default()),
        Some("watcher") | Some("true") => (true, Rules::Watcher),
        Some("legacy") => (true, Rules::Legacy),
        Some(other) => anyhow::bail!("invalid --wait value {other:?}: use watcher, legacy or hookOnly"),
    })
}

/// kubectl's global flags; parsed on every command even where not used yet, so that
/// `kubectl chart --context x template ...` never fails on an unknown flag.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file to use for CLI requests (else `KUBECONFIG`, a list of files
    /// merged as kubectl merges them, else ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<String>,
    /// The name of the kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// If present, the namespace scope for this CLI request.
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// The name of the kubeconfig cluster to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The name of the kubeconfig user to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Username to impersonate for the operation.
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate for the operation (repeatable).
    #[arg(long = "as-group", global = true, value_name = "GROUP", action = ArgAction::Append)]
    pub as_group: Vec<String>,
    /// How long to wait for a single server request (e.g. 30s, 1m; 0 = no limit).
    #[arg(long = "request-timeout", global = true, value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// Log verbosity on stderr (0 quiet .. 9 trace), like kubectl's -v.
    #[arg(
        short = 'v',
        long = "verbosity",
        global = true,
        default_value_t = 0,
        value_name = "LEVEL"
    )]
    pub verbosity: u8,
    /// Helm's --debug: logs as with -v 4, and `template` writes out every rendered file when
    /// one is not valid YAML.
    #[arg(long, global = true)]
    pub debug: bool,
}

impl GlobalArgs {
    /// The connection settings these flags ask for.
    pub fn connect_options(&self) -> anyhow::Result<crate::cluster::ConnectOptions> {
        let request_timeout = match &self.request_timeout {
            None => None,
            Some(t) => Some(parse_duration(t)?),
        };
        Ok(crate::cluster::ConnectOptions {
            kubeconfig: self.kubeconfig.as_ref().map(Into::into),
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            namespace: self.namespace.clone(),
            impersonate: self.as_user.clone(),
            impersonate_groups: self.as_group.clone(),
            request_timeout,
            ..Default::default()
        })
    }
}

/// `--wait-for-lock DURATION`, for the verbs that take the release lock.
#[derive(Debug, Clone, Default, Args)]
pub struct LockWaitArg {
    /// When another live run holds the release's lock, wait this long for it instead of
    /// stopping at once.
    #[arg(long = "wait-for-lock", value_name = "DURATION")]
    pub wait_for_lock: Option<String>,
}

impl LockWaitArg {
    /// How long to wait for another run's lock (zero without the flag: stop at once).
    pub fn duration(&self) -> anyhow::Result<std::time::Duration> {
        Ok(self
            .wait_for_lock
            .as_deref()
            .map(parse_duration)
            .transpose()?
            .unwrap_or_default())
    }
}

/// The value of `--dry-run[=MODE]` (`None`: no flag). Helm's words: `client` (what a bare
/// `--dry-run` and `true` mean; an empty value too, which Helm lets through), `server`, and
/// `none`/`false` for no dry run.
pub fn parse_dry_run(value: Option<&str>) -> anyhow::Result<Option<crate::action::DryRun>> {
    use crate::action::DryRun;
    Ok(match value {
        None | Some("none" | "false") => None,
        Some("client" | "true" | "") => Some(DryRun::Client),
        Some("server") => Some(DryRun::Server),
        Some(other) => anyhow::bail!("invalid --dry-run value {other:?}: use client or server"),
    })
}

/// kubectl-style durations: `30s`, `2m`, `1h`, `500ms`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> anyhow::Result<std::time::Duration> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid duration {s:?}: expected e.g. 30s, 5m, 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => anyhow::bail!("invalid duration {s:?}: unknown unit {unit:?}"),
    };
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// Values flags, as Helm's (`-f`, `--set`, `--set-string`, `--set-file`, `--set-json`, `--set-literal`).
#[derive(Debug, Clone, Default, Args)]
pub struct ValuesArgs {
    /// Specify values in a YAML file (can specify multiple; '-' reads standard input).
    #[arg(short = 'f', long = "values", value_name = "FILE", action = ArgAction::Append)]
    pub values: Vec<String>,
    /// Set values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2).
    #[arg(long, value_name = "KEY=VALUE", action = ArgAction::Append)]
    pub set: Vec<String>,
    /// Set STRING values on the command line (can specify multiple or separate values with commas).
    #[arg(long = "set-string", value_name = "KEY=VALUE", action = ArgAction::Append)]
    pub set_string: Vec<String>,
    /// Set values from respective files (can specify multiple or separate values with commas: key1=path1).
    #[arg(long = "set-file", value_name = "KEY=PATH", action = ArgAction::Append)]
    pub set_file: Vec<String>,
    /// Set JSON values on the command line (can specify multiple or separate values with commas).
    #[arg(long = "set-json", value_name = "KEY=JSON", action = ArgAction::Append)]
    pub set_json: Vec<String>,
    /// Set a literal STRING value on the command line.
    #[arg(long = "set-literal", value_name = "KEY=VALUE", action = ArgAction::Append)]
    pub set_literal: Vec<String>,
}

impl ValuesArgs {
    /// The values options the pipeline takes.
    pub fn to_options(&self) -> ValuesOptions {
        ValuesOptions {
            value_files: self.values.clone(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_file: self.set_file.clone(),
            set_json: self.set_json.clone(),
            set_literal: self.set_literal.clone(),
        }
    }
}

/// Helm's chart-locating flags (`ChartPathOptions`), for every verb that takes a chart reference.
#[derive(Debug, Clone, Default, Args)]
pub struct ChartArgs {
    /// Specify a version constraint for the chart version to use (an exact version or a
    /// constraint such as ^1.2 or ">=1, <2"). Without it, the latest stable version is used.
    #[arg(long, value_name = "VERSION", default_value = "")]
    pub version: String,
    /// Use development versions, too. Equivalent to version '>0.0.0-0'. If --version is set, this is ignored.
    #[arg(long)]
    pub devel: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Chart repository url where to locate the requested chart.
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    /// Pass credentials to all domains.
    #[arg(long = "pass-credentials")]
    pub pass_credentials: bool,
}

impl ChartArgs {
    /// The options the chart source step takes.
    pub fn to_options(&self) -> crate::action::ChartSourceOptions {
        crate::action::ChartSourceOptions {
            version: self.version.clone(),
            devel: self.devel,
            repo: self.repo.clone(),
            pass_credentials: self.pass_credentials,
            ..self.remote.to_options()
        }
    }
}

/// The TLS and credential flags of every verb that downloads or uploads a chart: the one list of
/// them and of the options they map to. Helm words a few of them per verb (`push` says "registry
/// client" and "chart upload"); such a verb rewords them on its own struct with `mut_arg`, so its
/// help stays Helm's while the flags stay here.
#[derive(Debug, Clone, Default, Args)]
pub struct RemoteArgs {
    /// Use insecure HTTP connections for the chart download.
    #[arg(long = "plain-http")]
    pub plain_http: bool,
    /// Verify certificates of HTTPS-enabled servers using this CA bundle.
    #[arg(long = "ca-file", value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Identify HTTPS client using this SSL certificate file.
    #[arg(long = "cert-file", value_name = "FILE")]
    pub cert_file: Option<std::path::PathBuf>,
    /// Identify HTTPS client using this SSL key file.
    #[arg(long = "key-file", value_name = "FILE")]
    pub key_file: Option<std::path::PathBuf>,
    /// Skip tls certificate checks for the chart download.
    #[arg(long = "insecure-skip-tls-verify")]
    pub insecure_skip_tls_verify: bool,
    /// Chart repository or registry username.
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Chart repository or registry password.
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
}

impl RemoteArgs {
    /// The chart source options these flags set (the rest at their defaults).
    pub fn to_options(&self) -> crate::action::ChartSourceOptions {
        crate::action::ChartSourceOptions {
            plain_http: self.plain_http,
            tls: crate::net::TlsOptions {
                ca_file: self.ca_file.clone(),
                cert_file: self.cert_file.clone(),
                key_file: self.key_file.clone(),
                insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            },
            username: self.username.clone(),
            password: self.password.clone(),
            ..Default::default()
        }
    }
}

/// Resolves a chart argument (fetching a remote chart), printing Helm's `Pulled:`/`Digest:`
/// notices on stderr as it does.
pub fn locate(chart: &str, args: &ChartArgs) -> anyhow::Result<crate::action::LocatedChart> {
    let located = crate::action::locate_chart(chart, &args.to_options())?;
    print_notices(&located.notices);
    Ok(located)
}

/// Helm's progress lines, on stderr.
pub fn print_notices(lines: &[String]) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    for l in lines {
        let _ = writeln!(err, "{l}");
    }
}

/// `--crds` (and Helm's `--skip-crds`): what install, upgrade, apply and diff do with `crds/`.
#[derive(Debug, Clone, Default, Args)]
pub struct CrdArgs {
    /// The chart's crds/: skip; create (Helm's behaviour: the missing ones, on install only); or
    /// update (also update changed ones, on install and upgrade, first, waiting until they are
    /// Established; refused when it drops a stored version or stops serving one custom resources
    /// still use). CRDs are never deleted.
    #[arg(long = "crds", value_name = "MODE", value_parser = ["skip", "create", "update"])]
    pub crds: Option<String>,
    /// Same as --crds skip (Helm's flag).
    #[arg(long = "skip-crds", conflicts_with = "crds")]
    pub skip_crds: bool,
}

impl CrdArgs {
    /// The policy the flags ask for (`create` when neither is given).
    pub fn policy(&self) -> anyhow::Result<crate::apply::CrdPolicy> {
        match (&self.crds, self.skip_crds) {
            (_, true) => Ok(crate::apply::CrdPolicy::Skip),
            (Some(mode), false) => mode.parse().map_err(anyhow::Error::msg),
            (None, false) => Ok(crate::apply::CrdPolicy::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{parse_dry_run, ChartArgs, CrdArgs, LockWaitArg};
    use crate::{action::DryRun, apply::CrdPolicy};

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        crds: CrdArgs,
        #[command(flatten)]
        chart: ChartArgs,
        #[command(flatten)]
        lock_wait: LockWaitArg,
    }

    fn parse(args: &[&str]) -> Result<Wrap, clap::Error> {
        Wrap::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
    }

    /// The TLS and credential flags, flattened into the chart flags, reach the chart source
    /// options, each into its own field.
    #[test]
    fn remote_flags_map_to_source_options() {
        let o = parse(&[
            "--plain-http",
            "--ca-file",
            "ca.pem",
            "--cert-file",
            "c.pem",
            "--key-file",
            "k.pem",
            "--insecure-skip-tls-verify",
            "--username",
            "u",
            "--password",
            "p",
            "--version",
            "^1",
            "--repo",
            "https://charts.example",
            "--pass-credentials",
        ])
        .expect("parses")
        .chart
        .to_options();
        assert!(o.plain_http && o.tls.insecure_skip_tls_verify && o.pass_credentials);
        let files = [&o.tls.ca_file, &o.tls.cert_file, &o.tls.key_file];
        assert_eq!(
            files.map(|f| f.as_ref().and_then(|p| p.to_str())),
            [Some("ca.pem"), Some("c.pem"), Some("k.pem")]
        );
        assert_eq!(
            (o.username.as_deref(), o.password.as_deref()),
            (Some("u"), Some("p"))
        );
        assert_eq!(
            (o.version.as_str(), o.repo.as_deref()),
            ("^1", Some("https://charts.example"))
        );
        let none = parse(&[]).expect("parses").chart.to_options();
        assert!(!none.plain_http && none.tls.ca_file.is_none() && none.username.is_none());
    }

    /// `--wait-for-lock`: absent is zero (stop at once); a bad duration is an error.
    #[test]
    fn lock_wait_flag() {
        let cases: &[(&[&str], Option<u64>)] = &[
            (&[], Some(0)),
            (&["--wait-for-lock", "90s"], Some(90)),
            (&["--wait-for-lock", "2m"], Some(120)),
            (&["--wait-for-lock", "soon"], None),
        ];
        for (args, want) in cases {
            let got = parse(args).expect("parses").lock_wait.duration().ok();
            assert_eq!(got.map(|d| d.as_secs()), *want, "{args:?}");
        }
    }

    /// Every spelling of `--dry-run[=MODE]` the deploy verbs, rollback and template accept.
    #[test]
    fn dry_run_values() {
        type Case = (Option<&'static str>, Result<Option<DryRun>, ()>);
        let cases: &[Case] = &[
            (None, Ok(None)),
            (Some("none"), Ok(None)),
            (Some("false"), Ok(None)),
            (Some("client"), Ok(Some(DryRun::Client))),
            (Some("true"), Ok(Some(DryRun::Client))),
            (Some(""), Ok(Some(DryRun::Client))),
            (Some("server"), Ok(Some(DryRun::Server))),
            (Some("Server"), Err(())),
            (Some("yes"), Err(())),
        ];
        for (value, want) in cases {
            assert_eq!(&parse_dry_run(*value).map_err(|_| ()), want, "{value:?}");
        }
    }

    /// `--crds` and Helm's `--skip-crds` map to one policy; both at once is a usage error.
    #[test]
    fn crd_flags() {
        let cases: &[(&[&str], Option<CrdPolicy>)] = &[
            (&[], Some(CrdPolicy::Create)),
            (&["--skip-crds"], Some(CrdPolicy::Skip)),
            (&["--crds", "skip"], Some(CrdPolicy::Skip)),
            (&["--crds", "create"], Some(CrdPolicy::Create)),
            (&["--crds", "update"], Some(CrdPolicy::Update)),
            (&["--crds", "upgrade"], None),
            (&["--crds", "update", "--skip-crds"], None),
        ];
        for (args, want) in cases {
            let got = parse(args).ok().map(|w| w.crds.policy().expect("policy"));
            assert_eq!(got, *want, "{args:?}");
        }
    }
}

/// Patching the rendered documents: `--patch`, `--set-image`, `--post-renderer*`, for every verb
/// that renders a chart (template, diff, install, upgrade, apply).
#[derive(Debug, Clone, Default, Args)]
pub struct PatchArgs {
    /// A YAML list of patches to apply to the rendered objects (`- target: {kind: Deployment, name:
    /// web}` with `patch:` a list of RFC 6902 operations or a strategic-merge patch; can specify
    /// multiple).
    #[arg(long = "patch", value_name = "FILE", action = ArgAction::Append)]
    pub patch: Vec<std::path::PathBuf>,
    /// Replace the image of every container and initContainer using image NAME (kustomize's
    /// `images:`): NAME=NEWNAME[:TAG][@DIGEST], NAME=:TAG, NAME:TAG or NAME@DIGEST (can specify
    /// multiple).
    #[arg(long = "set-image", value_name = "NAME=REF", action = ArgAction::Append)]
    pub set_image: Vec<String>,
    /// The path to an executable to be used for post rendering. If it exists in $PATH, the binary
    /// will be used, otherwise it will try to look for the executable at the given path.
    #[arg(long = "post-renderer", value_name = "PATH")]
    pub post_renderer: Option<String>,
    /// An argument to the post-renderer (can specify multiple).
    #[arg(long = "post-renderer-args", value_name = "ARG", action = ArgAction::Append, allow_hyphen_values = true)]
    pub post_renderer_args: Vec<String>,
    /// Kill the post-renderer if it runs longer than this (e.g. 30s, 5m).
    #[arg(long = "post-renderer-timeout", value_name = "DURATION")]
    pub post_renderer_timeout: Option<String>,
}

impl PatchArgs {
    /// The options the render stage takes.
    pub fn to_options(&self) -> anyhow::Result<crate::action::PatchOptions> {
        // Helm accepts (and ignores) `--post-renderer-args` without `--post-renderer`; so do we,
        // with a warning, so that a command line written for helm runs unchanged.
        if self.post_renderer.is_none()
            && (!self.post_renderer_args.is_empty() || self.post_renderer_timeout.is_some())
        {
            tracing::warn!(
                "--post-renderer-args and --post-renderer-timeout are ignored without --post-renderer"
            );
        }
        let timeout = match &self.post_renderer_timeout {
            Some(t) => parse_duration(t)?,
            None => crate::action::DEFAULT_POST_RENDERER_TIMEOUT,
        };
        // Helm takes an empty `--post-renderer ""` as none.
        let post_renderer = match self.post_renderer.clone().filter(|path| !path.is_empty()) {
            Some(path) => Some(crate::action::PostRenderer::find(
                path,
                self.post_renderer_args.clone(),
                timeout,
            )?),
            None => None,
        };
        Ok(crate::action::PatchOptions {
            patch_files: self.patch.clone(),
            set_image: self.set_image.clone(),
            post_renderer,
        })
    }
}

/// `--wait[=watcher|legacy|hookOnly]` alone, for the verbs with no failure report to show logs
/// in (uninstall waits for objects to be gone; template only checks the value). Same values as
/// [`WaitArgs`]; the value must follow `=`, as with Helm, so `--wait web ./chart` leaves `web` a
/// positional.
#[derive(Debug, Clone, Default, Args)]
pub struct WaitArg {
    /// Wait until the applied objects are ready (up to --timeout): watcher (the default), legacy,
    /// or hookOnly (wait for hooks only).
    #[arg(
        long = "wait",
        value_name = "STRATEGY",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "watcher"
    )]
    wait: Option<String>,
}

impl WaitArg {
    /// Whether objects are waited for, and by which rules.
    pub fn resolve(&self) -> anyhow::Result<(bool, crate::apply::Rules)> {
        wait_rules(self.wait.as_deref())
    }
}
