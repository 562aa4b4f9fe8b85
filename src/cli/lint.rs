//! `kubectl chart lint [PATH...]` (`helm lint`).

use std::io::Write;

use clap::Args;

use super::{GlobalArgs, ValuesArgs};
use crate::action::{self, LintOptions};

/// Examine a chart for possible issues.
///
/// Runs Helm's checks on each chart: Chart.yaml fields, values.yaml and its schema, that the
/// templates render and yield valid Kubernetes objects (names, deprecated APIs), and that
/// dependencies are in step. Problems that will make an install fail are [ERROR]s; breaks of
/// convention or recommendation are [WARNING]s.
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:
  kubectl chart lint ./chart
  kubectl chart lint ./chart -f prod.yaml --strict --kube-version 1.32.0
  kubectl chart lint ./chart --with-subcharts --quiet"
)]
pub struct LintArgs {
    /// Chart directories or packaged charts (.tgz); the current directory when none is given.
    #[arg(value_name = "PATH")]
    paths: Vec<String>,
    #[command(flatten)]
    values: ValuesArgs,
    /// Fail on lint warnings.
    #[arg(long)]
    strict: bool,
    /// Lint dependent charts.
    #[arg(long = "with-subcharts")]
    with_subcharts: bool,
    /// Print only warnings and errors.
    #[arg(long)]
    quiet: bool,
    /// If set, disables JSON schema validation.
    #[arg(long = "skip-schema-validation")]
    skip_schema_validation: bool,
    /// Kubernetes version used for capabilities and deprecation checks.
    #[arg(long = "kube-version", value_name = "VERSION")]
    kube_version: Option<String>,
    /// Also check every object against the Kubernetes 1.32 OpenAPI schema shipped in the binary:
    /// unknown fields, wrong types, missing required fields (not a Helm check).
    #[arg(long)]
    openapi: bool,
    /// Like --openapi, with the schema read from the cluster (its version and its CRDs).
    #[arg(long, conflicts_with = "openapi")]
    validate: bool,
}

/// Runs `lint`: the report on stdout; with a failed chart, Helm's summary becomes the error.
pub fn exec(global: &GlobalArgs, a: LintArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let openapi = if a.validate {
        let connect = global.connect_options()?;
        let schemas = super::runtime()?.block_on(async {
            let ctx = action::Context::connect(&connect).await?;
            action::cluster_openapi(&ctx).await
        })?;
        Some(std::sync::Arc::new(schemas))
    } else if a.openapi {
        Some(std::sync::Arc::new(
            crate::lint::openapi::Schemas::shipped().map_err(anyhow::Error::msg)?,
        ))
    } else {
        None
    };
    let report = action::lint(&LintOptions {
        paths: a.paths,
        values: a.values.to_options(),
        namespace: global.namespace.clone().unwrap_or_else(|| "default".to_string()),
        kube_version: a.kube_version,
        strict: a.strict,
        with_subcharts: a.with_subcharts,
        quiet: a.quiet,
        skip_schema_validation: a.skip_schema_validation,
        openapi,
    })?;
    out.write_all(report.text.as_bytes())?;
    if report.failed > 0 {
        out.flush()?;
        anyhow::bail!(report.summary());
    }
    if !a.quiet || report.any_findings {
        writeln!(out, "{}", report.summary())?;
    }
    Ok(())
}
