//! The command line: clap definitions and dispatch only. Each verb maps its flags to an
//! `action::XOptions`, calls the action, and writes the result; no logic lives here.

mod args;
mod completion;
mod create;
mod dependency;
mod deploy;
mod diff;
mod export_helm;
mod get;
mod history;
mod lint;
mod list;
mod pull;
mod push;
pub mod refused;
mod registry;
mod repo;
mod rollback;
mod search;
mod show;
mod status;
mod template;
mod test;
mod uninstall;
mod version;

use std::io::Write;

use clap::{Parser, Subcommand};

use crate::action;

pub use args::{GlobalArgs, ValuesArgs};

/// kubectl chart: render, diff, apply and roll back Helm charts.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl chart",
    bin_name = "kubectl chart",
    version,
    about = "Render, diff, apply and roll back Helm charts from kubectl.",
    long_about = "kubectl chart renders Helm charts exactly as Helm does, diffs them three-way against the \
                  cluster, applies and rolls them back, with encrypted release history kept in ConfigMaps.\n\n\
                  Find more information at: the project README.",
    propagate_version = true
)]
pub struct Cli {
    /// Global flags, accepted by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render chart templates locally and print the result.
    Template(template::TemplateArgs),
    /// Show what an upgrade, install or rollback would change (three-way diff against the cluster).
    Diff(diff::DiffArgs),
    /// Fetch release history.
    #[command(alias = "hist")]
    History(history::HistoryArgs),
    /// Display the status of the named release.
    Status(status::StatusArgs),
    /// List releases.
    #[command(alias = "ls")]
    List(list::ListArgs),
    /// Download extended information of a named release.
    Get(get::GetArgs),
    /// Install a chart as a new release (fails if the release exists).
    #[command(
        after_help = "Examples:\n  kubectl chart install web ./chart -n prod --create-namespace --wait"
    )]
    Install(deploy::DeployArgs),
    /// Upgrade a release to a new chart or new values.
    Upgrade(deploy::UpgradeArgs),
    /// Install or upgrade: make the release match the chart (`helm upgrade --install`).
    Apply(deploy::ApplyArgs),
    /// Roll a release back to a previous revision.
    Rollback(rollback::RollbackArgs),
    /// Uninstall a release.
    Uninstall(uninstall::UninstallArgs),
    /// Run the tests of a release (its `helm.sh/hook: test` hooks).
    Test(test::TestArgs),
    /// Write a release's history as Helm release Secrets (the way back to Helm).
    #[command(name = "export-helm")]
    ExportHelm(export_helm::ExportHelmArgs),
    /// Download a chart from a registry or URL (and optionally unpack it).
    Pull(pull::PullArgs),
    /// Push a packaged chart to an OCI registry.
    Push(push::PushArgs),
    /// Show information of a chart.
    Show(show::ShowArgs),
    /// Login to or logout from an OCI registry.
    Registry(registry::RegistryArgs),
    /// Add, list, remove, update, and index chart repositories.
    Repo(repo::RepoArgs),
    /// Search for a keyword in charts.
    Search(search::SearchArgs),
    /// Manage a chart's dependencies (list, update, build).
    #[command(alias = "dep", alias = "dependencies")]
    Dependency(dependency::DependencyArgs),
    /// Package a chart directory into a chart archive.
    Package(dependency::PackageArgs),
    /// Create a new chart with the given name (`helm create`).
    Create(create::CreateArgs),
    /// Examine a chart for possible issues (`helm lint`).
    Lint(lint::LintArgs),
    /// Print the version of kubectl-chart.
    Version(version::VersionArgs),
    /// Output shell completion code for bash, zsh, fish or powershell.
    Completion(completion::CompletionArgs),
}

/// Every command name and alias, each with the command's name (to find the verb in a command
/// line clap refused: `ls` is `list`).
pub fn verb_names() -> Vec<(String, String)> {
    use clap::CommandFactory as _;
    Cli::command()
        .get_subcommands()
        .flat_map(|c| {
            let name = c.get_name().to_string();
            std::iter::once(name.clone())
                .chain(c.get_all_aliases().map(String::from))
                .map(move |n| (n, name.clone()))
        })
        .collect()
}

/// The async runtime for commands that talk to a cluster: two workers (the machine size we design
/// for), multi-threaded because `lookup` in templates blocks in place on cluster calls.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Runs the parsed command, writing its output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    match cli.command {
        Command::Template(a) => template::exec(&cli.global, a, out),
        Command::Diff(a) => diff::exec(&cli.global, a, out),
        Command::History(a) => history::exec(&cli.global, a, out),
        Command::Status(a) => status::exec(&cli.global, a, out),
        Command::List(a) => list::exec(&cli.global, a, out),
        Command::Get(a) => get::exec(&cli.global, a, out),
        Command::Install(a) => deploy::exec(&cli.global, a, action::Mode::Install, out),
        Command::Upgrade(a) => deploy::exec_upgrade(&cli.global, a, out),
        Command::Apply(a) => deploy::exec_apply(&cli.global, a, out),
        Command::Rollback(a) => rollback::exec(&cli.global, a, out),
        Command::Uninstall(a) => uninstall::exec(&cli.global, a, out),
        Command::Test(a) => test::exec(&cli.global, a, out),
        Command::ExportHelm(a) => export_helm::exec(&cli.global, a, out),
        Command::Pull(a) => pull::exec(a, out),
        Command::Push(a) => push::exec(a, out),
        Command::Show(a) => show::exec(a, out),
        Command::Registry(a) => registry::exec(a, out),
        Command::Repo(a) => repo::exec(a, out),
        Command::Search(a) => search::exec(a, out),
        Command::Dependency(a) => dependency::exec(a, out),
        Command::Package(a) => dependency::exec_package(a, out),
        Command::Create(a) => create::exec(a, out),
        Command::Lint(a) => lint::exec(&cli.global, a, out),
        Command::Version(a) => version::exec(a, out),
        Command::Completion(a) => completion::exec(a, out),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    /// Flag names and types are consistent across all commands and the global flags (a clash such
    /// as a command's own `--context` against kubectl's would panic at run time otherwise).
    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    /// The shared TLS and credential flags keep each verb's own help text, as Helm words them
    /// (push uploads; the others download). Clap drops a one-sentence doc comment's period.
    #[test]
    fn remote_flags_keep_each_verbs_help() {
        let cases: &[(&[&str], &str, &str)] = &[
            (
                &["install"],
                "cert_file",
                "Identify HTTPS client using this SSL certificate file",
            ),
            (
                &["pull"],
                "insecure_skip_tls_verify",
                "Skip tls certificate checks for the chart download",
            ),
            (
                &["dependency", "update"],
                "cert_file",
                "Identify HTTPS client using this SSL certificate file",
            ),
            (
                &["package"],
                "plain_http",
                "Use insecure HTTP connections for the chart download",
            ),
            (
                &["push"],
                "plain_http",
                "Use insecure HTTP connections for the chart upload",
            ),
            (
                &["push"],
                "cert_file",
                "Identify registry client using this SSL certificate file",
            ),
            (
                &["push"],
                "key_file",
                "Identify registry client using this SSL key file",
            ),
            (
                &["push"],
                "insecure_skip_tls_verify",
                "Skip tls certificate checks for the chart upload",
            ),
            (
                &["push"],
                "password",
                "Chart repository password where to locate the requested chart",
            ),
            (
                &["push"],
                "ca_file",
                "Verify certificates of HTTPS-enabled servers using this CA bundle",
            ),
        ];
        let root = super::Cli::command();
        for (path, id, want) in cases {
            let cmd = path.iter().fold(&root, |c, name| {
                c.find_subcommand(name)
                    .unwrap_or_else(|| panic!("no subcommand {name}"))
            });
            let arg = cmd
                .get_arguments()
                .find(|a| a.get_id() == *id)
                .unwrap_or_else(|| panic!("{path:?} has no {id}"));
            let got = arg.get_help().map(ToString::to_string);
            assert_eq!(got.as_deref(), Some(*want), "{path:?} {id}");
        }
    }

    /// Global kubectl flags parse next to each command's own (argument ids must not collide,
    /// which `debug_assert` does not see).
    #[test]
    fn global_flags_mix_with_command_flags() {
        let cases: &[&[&str]] = &[
            &[
                "kubectl-chart",
                "--context",
                "kind",
                "template",
                "r",
                "chart",
                "-n",
                "ns",
            ],
            &[
                "kubectl-chart",
                "diff",
                "r",
                "chart",
                "-U",
                "3",
                "--context",
                "kind",
                "--cluster",
                "c",
                "--as",
                "u",
            ],
            &[
                "kubectl-chart",
                "search",
                "repo",
                "nginx",
                "--version",
                "^1",
                "-l",
            ],
            &[
                "kubectl-chart",
                "repo",
                "add",
                "r",
                "http://h/",
                "--username",
                "u",
                "--password",
                "p",
            ],
            &[
                "kubectl-chart",
                "lint",
                "a",
                "b",
                "-f",
                "v.yaml",
                "--strict",
                "--with-subcharts",
                "--kube-version",
                "1.31",
                "-n",
                "ns",
                "--validate",
                "--context",
                "kind",
            ],
            &["kubectl-chart", "create", "charts/web", "--starter", "mine"],
            &[
                "kubectl-chart",
                "version",
                "--kubeconfig",
                "/k",
                "--request-timeout",
                "5s",
            ],
        ];
        for args in cases {
            let parsed = <super::Cli as clap::Parser>::try_parse_from(*args);
            assert!(parsed.is_ok(), "{args:?}: {:?}", parsed.err());
        }
    }
}
