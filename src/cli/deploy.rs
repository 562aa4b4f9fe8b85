//! `kubectl chart install|upgrade|apply RELEASE CHART`: one flag set, three verbs (Helm's
//! install, upgrade and `upgrade --install`).

use std::{io::Write, time::Duration};

use clap::Args;

use super::{args::parse_duration, GlobalArgs, ValuesArgs};
use crate::action::{self, Context, Mode, UpgradeOptions};

/// Flags shared by install, upgrade and apply.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct DeployArgs {
    /// Release name.
    #[arg(value_name = "RELEASE")]
    release: String,
    /// Chart: a directory, a packaged chart (.tgz), oci://host/path/name[:tag] or an https:// URL.
    /// Required, except by `apply --plan`.
    #[arg(value_name = "CHART")]
    chart: Option<String>,
    #[command(flatten)]
    values: ValuesArgs,
    #[command(flatten)]
    chart_args: super::args::ChartArgs,
    #[command(flatten)]
    crds: super::args::CrdArgs,
    #[command(flatten)]
    patches: super::args::PatchArgs,
    /// Simulate: `client` renders and plans only; `server` also sends every write as a server-side dry run.
    #[arg(long = "dry-run", value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    dry_run: Option<String>,
    #[command(flatten)]
    wait: super::args::WaitArgs,
    /// With --wait, also wait for Jobs to complete.
    #[arg(long = "wait-for-jobs")]
    wait_for_jobs: bool,
    /// Time to wait for any single operation, such as hooks or readiness (e.g. 5m, 90s).
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    timeout: String,
    /// Roll back (upgrade) or remove (install) on failure; implies --wait.
    #[arg(long)]
    atomic: bool,
    /// Helm 4's name for --atomic.
    #[arg(long = "rollback-on-failure")]
    rollback_on_failure: bool,
    /// Create the release namespace if it does not exist.
    #[arg(long = "create-namespace")]
    create_namespace: bool,
    /// Description recorded with the revision.
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// Reuse the last revision's values and merge in any overrides from the flags.
    #[arg(long = "reuse-values")]
    reuse_values: bool,
    /// Reset to the chart's values, then apply the last revision's user values and the flags.
    #[arg(long = "reset-then-reuse-values")]
    reset_then_reuse_values: bool,
    /// Use only the chart's values and the flags (an upgrade given no values otherwise reuses
    /// the last revision's, as Helm's does); wins over the reuse flags.
    #[arg(long = "reset-values")]
    reset_values: bool,
    /// Recreate objects whose immutable fields change (e.g. a Deployment selector).
    #[arg(long)]
    force: bool,
    /// Helm 4's name for --force.
    #[arg(long = "force-replace")]
    force_replace: bool,
    /// Use server-side apply instead of client-computed JSON patches (true or false).
    #[arg(long = "server-side", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    server_side: Option<String>,
    /// Take over existing objects that belong to no release.
    #[arg(long)]
    adopt: bool,
    /// Take over existing objects that belong to no release or to another release, as Helm
    /// does; each one is listed in the output.
    #[arg(long = "take-ownership")]
    take_ownership: bool,
    /// If set, disables JSON schema validation of the values.
    #[arg(long = "skip-schema-validation")]
    skip_schema_validation: bool,
    /// Do not print the chart's NOTES.txt.
    #[arg(long = "hide-notes")]
    hide_notes: bool,
    /// Prints the output in the specified format. Allowed values: table, json, yaml (the release
    /// as `status -o` prints it, or when a wait fails, `{"error", "objects"}` with each object's
    /// report: pods, containers, events, logs).
    #[arg(short = 'o', long = "output", value_name = "FORMAT", default_value = "table",
          value_parser = <crate::output::OutputFormat as std::str::FromStr>::from_str)]
    output: crate::output::OutputFormat,
    /// Do not run hooks.
    #[arg(long = "no-hooks")]
    no_hooks: bool,
    /// Keep at most this many revisions in history (0: no limit).
    #[arg(long = "history-max", default_value_t = 10, value_name = "N")]
    history_max: usize,
    /// Kubernetes version for Capabilities.KubeVersion, instead of the cluster's (its API versions
    /// are kept).
    #[arg(long = "kube-version", value_name = "VERSION")]
    kube_version: Option<String>,
    /// Break the release lock held by a run that is known to be gone (killed, crashed) without
    /// watching it for a whole lease duration; refused if the lock is renewed meanwhile.
    #[arg(long = "force-unlock")]
    force_unlock: bool,
    #[command(flatten)]
    lock_wait: super::args::LockWaitArg,
}

/// `upgrade` only: install when the release does not exist.
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:
  # Upgrade web, waiting for the rollout and rolling back if it fails
  kubectl chart upgrade web ./chart -n prod -f prod.yaml --atomic --timeout 5m

  # Upgrade or install
  kubectl chart upgrade --install web ./chart -n prod"
)]
pub struct UpgradeArgs {
    #[command(flatten)]
    deploy: DeployArgs,
    /// Install the release if it does not exist.
    #[arg(short = 'i', long)]
    install: bool,
}

/// `apply`: the deploy flags, or a saved plan.
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:
  kubectl chart apply web ./chart -n prod -f prod.yaml --wait

  # Apply exactly what `diff web ./chart -n prod --out web.plan` showed, or refuse if anything
  # changed since (a live object, the release, the chart or its values)
  kubectl chart apply web --plan web.plan -n prod --wait"
)]
pub struct ApplyArgs {
    #[command(flatten)]
    deploy: DeployArgs,
    /// Apply a plan saved by `diff --out` (no CHART): exactly its changes, or nothing. The chart,
    /// values and rendering flags come from the plan.
    #[arg(
        long,
        value_name = "PLAN",
        conflicts_with_all = [
            "chart", "values", "set", "set_string", "set_file", "set_json", "set_literal",
            "version", "devel", "repo", "dry_run", "reuse_values", "reset_then_reuse_values",
            "force", "server_side", "adopt", "kube_version", "plain_http", "ca_file", "cert_file",
            "key_file", "insecure_skip_tls_verify", "username", "password", "pass_credentials",
        ]
    )]
    plan: Option<std::path::PathBuf>,
}

/// Runs `apply`, from a chart or from a saved plan.
pub fn exec_apply(global: &GlobalArgs, a: ApplyArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let Some(plan) = a.plan else {
        return exec(global, a.deploy, Mode::Apply, out);
    };
    let d = a.deploy;
    let (wait, wait_style) = d.wait.resolve()?;
    let atomic = d.atomic || d.rollback_on_failure;
    let opts = action::ApplyPlanOptions {
        release: d.release,
        plan,
        wait,
        wait_style,
        wait_for_jobs: d.wait_for_jobs,
        timeout: parse_duration(&d.timeout)?,
        atomic,
        create_namespace: d.create_namespace,
        description: d.description,
        no_hooks: d.no_hooks,
        force_unlock: d.force_unlock,
        progress: progress(wait || atomic),
    };
    let connect = global.connect_options()?;
    let lock_wait = d.lock_wait.duration()?;
    let result = super::runtime()?.block_on(async {
        let mut ctx = Context::connect(&connect).await?;
        ctx.history_max = d.history_max;
        ctx.lock_wait = lock_wait;
        action::apply_saved_plan(&ctx, &opts).await
    })?;
    print_result(&result, false, d.output, d.hide_notes, out)
}

/// Runs install, upgrade or apply.
pub fn exec(global: &GlobalArgs, a: DeployArgs, mode: Mode, out: &mut dyn Write) -> anyhow::Result<()> {
    let Some(chart) = a.chart.as_deref() else {
        anyhow::bail!(
            "a CHART is required (after RELEASE){}",
            if mode == Mode::Apply {
                ", or --plan PLAN"
            } else {
                ""
            }
        );
    };
    let dry_run = super::args::parse_dry_run(a.dry_run.as_deref())?;
    let timeout: Duration = parse_duration(&a.timeout)?;
    let patches = a.patches.to_options()?;
    let server_side = match a.server_side.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some("auto") => anyhow::bail!(
            "--server-side=auto is not supported: say --server-side=true or --server-side=false"
        ),
        Some(other) => anyhow::bail!("invalid --server-side value {other:?}: use true or false"),
    };
    let atomic = a.atomic || a.rollback_on_failure;
    let located = super::args::locate(chart, &a.chart_args)?;
    let (wait, wait_style) = a.wait.resolve()?;
    let opts = UpgradeOptions {
        release: a.release,
        chart: located.path,
        chart_origin: located.origin,
        values: a.values.to_options(),
        patches,
        mode,
        dry_run,
        wait,
        wait_for_jobs: a.wait_for_jobs,
        wait_style,
        timeout,
        atomic,
        create_namespace: a.create_namespace,
        description: a.description,
        reuse_values: a.reuse_values,
        reset_then_reuse_values: a.reset_then_reuse_values,
        reset_values: a.reset_values,
        skip_schema_validation: a.skip_schema_validation,
        force: a.force || a.force_replace,
        server_side,
        adopt: a.adopt,
        take_ownership: a.take_ownership,
        no_hooks: a.no_hooks,
        kube_version: a.kube_version,
        force_unlock: a.force_unlock,
        crds: a.crds.policy()?,
        progress: progress(wait || atomic),
        saved_plan: None,
    };
    let connect = global.connect_options()?;
    let history_max = a.history_max;
    let lock_wait = a.lock_wait.duration()?;
    let result = super::runtime()?.block_on(async {
        let mut ctx = Context::connect(&connect).await?;
        ctx.history_max = history_max;
        ctx.lock_wait = lock_wait;
        action::upgrade(&ctx, &opts).await
    });
    let result = match result {
        // A failed wait's report (pods, containers, events, logs), for CI, in the format asked.
        Err(e) if a.output != crate::output::OutputFormat::Table => {
            if let Some(report) = crate::output::wait::failure_json(&e) {
                match a.output {
                    crate::output::OutputFormat::Yaml => crate::output::write_yaml(out, &report)?,
                    _ => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
                }
            }
            return Err(e);
        }
        other => other?,
    };
    print_result(&result, dry_run.is_some(), a.output, a.hide_notes, out)
}

/// What install, upgrade and apply print.
fn print_result(
    result: &action::UpgradeResult,
    dry_run: bool,
    output: crate::output::OutputFormat,
    hide_notes: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let r = &result.release;
    if output != crate::output::OutputFormat::Table {
        // Helm's install/upgrade `-o json|yaml` print the release as `status -o` does.
        crate::output::release::write_status(out, r, output, Default::default())?;
        return Ok(());
    }
    let c = result.plan.counts();
    writeln!(out, "NAME: {}", r.name)?;
    writeln!(out, "NAMESPACE: {}", r.namespace)?;
    writeln!(out, "STATUS: {}", r.status.as_str())?;
    writeln!(out, "REVISION: {}", r.revision)?;
    writeln!(out, "DESCRIPTION: {}", r.description)?;
    writeln!(
        out,
        "CHANGES: {} created, {} changed, {} deleted, {} unchanged{}",
        c.create,
        c.patch,
        c.delete,
        c.noop,
        if dry_run {
            " (dry run: nothing was written)"
        } else {
            ""
        }
    )?;
    for t in crate::apply::takeovers(&result.plan, &r.name, &r.namespace) {
        writeln!(out, "TAKEN OVER: {t}")?;
    }
    if !hide_notes && !r.notes.trim().is_empty() {
        writeln!(out, "NOTES:\n{}", r.notes.trim_end())?;
    }
    Ok(())
}

/// Progress on stderr: live on a terminal; plain lines when waiting without one (CI logs);
/// nothing otherwise, as Helm prints nothing until it is done.
pub fn progress(waiting: bool) -> std::sync::Arc<dyn crate::apply::Progress> {
    use std::io::IsTerminal as _;
    let tty = std::io::stderr().is_terminal();
    if tty || waiting {
        std::sync::Arc::new(crate::output::progress::StderrProgress::new(tty))
    } else {
        std::sync::Arc::new(crate::apply::NoProgress)
    }
}

/// Runs `upgrade` (with `--install`: apply).
pub fn exec_upgrade(global: &GlobalArgs, a: UpgradeArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let mode = if a.install { Mode::Apply } else { Mode::Upgrade };
    exec(global, a.deploy, mode, out)
}

#[cfg(test)]
mod tests {
    /// `apply --plan` takes the flags that say how to carry a plan out, and refuses those that
    /// would change what it does (they come from the plan); `diff --out` saves a chart's plan only.
    #[test]
    fn saved_plan_flags() {
        let cases: &[(&[&str], Option<&str>)] = &[
            (&["apply", "web", "--plan", "p"], None),
            (
                &[
                    "apply",
                    "web",
                    "--plan",
                    "p",
                    "-n",
                    "prod",
                    "--wait",
                    "--timeout",
                    "1m",
                    "--atomic",
                    "--description",
                    "d",
                    "--history-max",
                    "3",
                    "--wait-for-lock",
                    "10s",
                ],
                None,
            ),
            (&["apply", "web", "./chart", "--plan", "p"], Some("[CHART]")),
            (&["apply", "web", "--plan", "p", "--set", "a=1"], Some("--set")),
            (&["apply", "web", "--plan", "p", "-f", "v.yaml"], Some("--values")),
            (
                &["apply", "web", "--plan", "p", "--server-side"],
                Some("--server-side"),
            ),
            (&["apply", "web", "--plan", "p", "--dry-run"], Some("--dry-run")),
            (
                &["apply", "web", "--plan", "p", "--version", "1.2.3"],
                Some("--version"),
            ),
            (&["install", "web", "--plan", "p"], Some("--plan")),
            (&["diff", "web", "./chart", "--out", "p"], None),
            (
                &["diff", "web", "--revision", "2", "--out", "p"],
                Some("--revision"),
            ),
        ];
        for (args, refused) in cases {
            let argv = std::iter::once("kubectl-chart").chain(args.iter().copied());
            let parsed = <super::super::Cli as clap::Parser>::try_parse_from(argv);
            match (parsed, refused) {
                (Ok(_), None) => {}
                (Err(e), Some(flag)) => assert!(e.to_string().contains(flag), "{args:?}: {e}"),
                (Ok(_), Some(_)) => panic!("{args:?}: accepted"),
                (Err(e), None) => panic!("{args:?}: {e}"),
            }
        }
    }
}
