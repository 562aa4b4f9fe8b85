//! `kubectl chart dependency list|update|build` and `kubectl chart package`: the chart's
//! dependencies in `charts/` and `Chart.lock`, and the archive it publishes (`helm dependency`,
//! `helm package`).

use std::{io::Write, path::PathBuf};

use clap::{Args, Subcommand};

use super::args::print_notices;
use crate::action::{
    self,
    dependency::{DependencyListOptions, DependencyOptions},
    PackageOptions,
};

/// Manage a chart's dependencies.
#[derive(Debug, Args)]
pub struct DependencyArgs {
    #[command(subcommand)]
    command: DependencyCommand,
}

#[derive(Debug, Subcommand)]
enum DependencyCommand {
    /// List the dependencies for the given chart.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Update charts/ based on the contents of Chart.yaml, and write Chart.lock.
    #[command(alias = "up")]
    Update(UpdateArgs),
    /// Rebuild the charts/ directory based on the Chart.lock file.
    Build(UpdateArgs),
}

#[derive(Debug, Args)]
struct ListArgs {
    /// The chart directory or archive.
    #[arg(value_name = "CHART", default_value = ".")]
    chart: PathBuf,
}

/// The registry and repository connection flags of `dependency update|build` and `package`.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// Do not refresh the local repository cache.
    #[arg(long = "skip-refresh")]
    skip_refresh: bool,
    #[command(flatten)]
    remote: super::args::RemoteArgs,
}

impl ConnectionArgs {
    fn to_options(&self, chart: PathBuf) -> DependencyOptions {
        DependencyOptions {
            chart,
            source: self.remote.to_options(),
            skip_refresh: self.skip_refresh,
        }
    }
}

#[derive(Debug, Args)]
struct UpdateArgs {
    /// The chart directory.
    #[arg(value_name = "CHART", default_value = ".")]
    chart: PathBuf,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs `dependency`.
pub fn exec(a: DependencyArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let result = match a.command {
        DependencyCommand::List(l) => {
            let text = action::dependency::dependency_list(&DependencyListOptions { chart: l.chart })?;
            out.write_all(text.as_bytes())?;
            return Ok(());
        }
        // Helm's messages as they are: scripts and people grep for them.
        DependencyCommand::Update(u) => action::dependency::update(&u.connection.to_options(u.chart))?,
        DependencyCommand::Build(u) => action::dependency::build(&u.connection.to_options(u.chart))?,
    };
    for m in &result.messages {
        writeln!(out, "{m}")?;
    }
    Ok(())
}

/// Package a chart directory into a chart archive.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct PackageArgs {
    /// The chart directories to package.
    #[arg(value_name = "CHART", required = true)]
    charts: Vec<PathBuf>,
    /// Location to write the chart.
    #[arg(short = 'd', long = "destination", default_value = ".", value_name = "DIR")]
    destination: PathBuf,
    /// Set the version on the chart to this semver version.
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,
    /// Set the appVersion on the chart to this version.
    #[arg(long = "app-version", value_name = "VERSION")]
    app_version: Option<String>,
    /// Update dependencies from Chart.yaml to dir charts/ before packaging.
    #[arg(short = 'u', long = "dependency-update")]
    dependency_update: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs `package`.
pub fn exec_package(a: PackageArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    for chart in &a.charts {
        let result = action::package(&PackageOptions {
            chart: chart.clone(),
            destination: a.destination.clone(),
            version: a.version.clone(),
            app_version: a.app_version.clone(),
            dependency_update: a
                .dependency_update
                .then(|| a.connection.to_options(chart.clone())),
        })?;
        print_notices(&result.messages);
        writeln!(
            out,
            "Successfully packaged chart and saved it to: {}",
            result.path.display()
        )?;
    }
    Ok(())
}
