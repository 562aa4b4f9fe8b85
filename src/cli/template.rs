//! `kubectl chart template RELEASE CHART`.

use std::{io::Write, path::PathBuf};

use clap::{ArgAction, Args};

use super::{args::parse_duration, GlobalArgs, ValuesArgs};
use crate::action::{self, TemplateOptions};

/// Render chart templates locally and display the output.
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:
  # Render the bundled demo chart
  kubectl chart template demo fixtures/charts/demo

  # Render with a values file and an override, for Kubernetes 1.31
  kubectl chart template web ./chart -n prod -f prod.yaml --set image.tag=1.2.3 --kube-version 1.31.0

  # Only show one template
  kubectl chart template web ./chart -s templates/deployment.yaml"
)]
pub struct TemplateArgs {
    /// Release name.
    #[arg(value_name = "RELEASE")]
    release: String,
    /// Chart: a directory, a packaged chart (.tgz), oci://host/path/name[:tag] or an https:// URL.
    #[arg(value_name = "CHART")]
    chart: String,
    #[command(flatten)]
    values: ValuesArgs,
    #[command(flatten)]
    chart_args: super::args::ChartArgs,
    #[command(flatten)]
    patches: super::args::PatchArgs,
    /// Kubernetes version used for Capabilities.KubeVersion (ignored with --validate, as in Helm).
    #[arg(long = "kube-version", value_name = "VERSION")]
    kube_version: Option<String>,
    /// Kubernetes api versions used for Capabilities.APIVersions (can specify multiple; ignored
    /// with --validate, as in Helm).
    #[arg(short = 'a', long = "api-versions", value_name = "VERSION", action = ArgAction::Append, value_delimiter = ',')]
    api_versions: Vec<String>,
    /// Only show manifests rendered from the given templates (can specify multiple).
    #[arg(short = 's', long = "show-only", value_name = "TEMPLATE", action = ArgAction::Append)]
    show_only: Vec<String>,
    /// Include CRDs in the templated output.
    #[arg(long = "include-crds")]
    include_crds: bool,
    /// If set, no CRDs will be included in the output.
    #[arg(long = "skip-crds")]
    skip_crds: bool,
    /// Prevent hooks from being rendered.
    #[arg(long = "no-hooks")]
    no_hooks: bool,
    /// Skip tests from templated output.
    #[arg(long = "skip-tests")]
    skip_tests: bool,
    /// Set .Release.IsUpgrade instead of .Release.IsInstall.
    #[arg(long = "is-upgrade")]
    is_upgrade: bool,
    /// Render against the cluster (its version and API versions, live `lookup`) and check every kind is served and
    /// namespaces fit each kind's scope.
    #[arg(long)]
    validate: bool,
    /// Write the executed templates to files in this directory instead of stdout.
    #[arg(long = "output-dir", value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// If set, disables JSON schema validation of the values.
    #[arg(long = "skip-schema-validation")]
    skip_schema_validation: bool,
    #[command(flatten)]
    install_only: InstallOnlyArgs,
}

/// Install flags `helm template` takes because it shares install's flag set; they change nothing
/// in what it prints, so they are accepted here too and only their values are checked (a bad
/// `--timeout` fails in Helm as well).
#[derive(Debug, Args)]
#[command(
    next_help_heading = "Install flags (accepted as helm template accepts them; no effect on the output)"
)]
// Nothing reads the booleans: like Helm's template, the render does not depend on them.
#[allow(dead_code)]
struct InstallOnlyArgs {
    /// Install: roll back (remove) on failure.
    #[arg(long)]
    atomic: bool,
    /// Helm 4's name for --atomic.
    #[arg(long = "rollback-on-failure")]
    rollback_on_failure: bool,
    /// Install: create the release namespace.
    #[arg(long = "create-namespace")]
    create_namespace: bool,
    /// Install: description recorded with the revision.
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// Install: simulate (template always does).
    #[arg(long = "dry-run", value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    dry_run: Option<String>,
    /// Install: recreate objects whose immutable fields change.
    #[arg(long)]
    force: bool,
    /// Helm 4's name for --force.
    #[arg(long = "force-replace")]
    force_replace: bool,
    /// Install: server-side apply takes fields from other managers.
    #[arg(long = "force-conflicts")]
    force_conflicts: bool,
    /// Install: server-side apply.
    #[arg(long = "server-side")]
    server_side: bool,
    /// Install: take over existing objects.
    #[arg(long = "take-ownership")]
    take_ownership: bool,
    /// Install: time to wait for any single operation.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    #[command(flatten)]
    wait: super::args::WaitArg,
    /// Install: with --wait, also wait for Jobs.
    #[arg(long = "wait-for-jobs")]
    wait_for_jobs: bool,
    /// Install: do not print NOTES.txt.
    #[arg(long = "hide-notes")]
    hide_notes: bool,
    /// Install: render subcharts' NOTES.txt too (template prints no notes).
    #[arg(long = "render-subchart-notes")]
    render_subchart_notes: bool,
    /// Install: reuse the name of an uninstalled release.
    #[arg(long)]
    replace: bool,
}

impl InstallOnlyArgs {
    /// Fails on a value Helm would refuse too.
    fn check(&self) -> anyhow::Result<()> {
        if let Some(t) = &self.timeout {
            parse_duration(t)?;
        }
        self.wait.resolve()?;
        super::args::parse_dry_run(self.dry_run.as_deref())?;
        Ok(())
    }
}

/// Runs `template`.
pub fn exec(global: &GlobalArgs, a: TemplateArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    // Flag mistakes come before any chart is fetched.
    let patches = a.patches.to_options()?;
    a.install_only.check()?;
    let located = super::args::locate(&a.chart, &a.chart_args)?;
    let opts = TemplateOptions {
        release_name: a.release,
        namespace: global.namespace.clone().unwrap_or_else(|| "default".to_string()),
        chart: located.path,
        values: a.values.to_options(),
        kube_version: a.kube_version,
        api_versions: a.api_versions,
        show_only: a.show_only,
        include_crds: a.include_crds,
        skip_crds: a.skip_crds,
        no_hooks: a.no_hooks,
        skip_tests: a.skip_tests,
        is_upgrade: a.is_upgrade,
        output_dir: a.output_dir,
        patches,
        skip_schema_validation: a.skip_schema_validation,
        debug: global.debug,
    };
    if !a.validate {
        // The process ends once this is printed: nothing rendered needs freeing.
        return action::template_then_exit(&opts, out);
    }
    let connect = global.connect_options()?;
    super::runtime()?.block_on(async {
        let ctx = action::Context::connect(&connect).await?;
        action::template_validated(&ctx, &opts, out).await
    })
}
