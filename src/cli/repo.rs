//! `kubectl chart repo add|update|list|remove|index`: Helm's chart repository verbs, on Helm's
//! own `repositories.yaml` and cache.

use std::{
    io::{Read as _, Write},
    path::PathBuf,
};

use clap::{Args, Subcommand};

use crate::{
    action::repo::{
        self as act, RepoAddOptions, RepoIndexOptions, RepoListOptions, RepoRemoveOptions, RepoUpdateOptions,
    },
    output::{repo::write_repo_list, OutputFormat},
    repo::{Entry, HelmPaths},
};

/// Add, list, remove, update, and index chart repositories.
#[derive(Debug, Args)]
pub struct RepoArgs {
    #[command(subcommand)]
    command: RepoCommand,
}

#[derive(Debug, Subcommand)]
enum RepoCommand {
    /// Add a chart repository.
    Add(AddArgs),
    /// Update information of available charts locally from chart repositories.
    #[command(alias = "up")]
    Update(UpdateArgs),
    /// List chart repositories.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Remove one or more chart repositories.
    #[command(alias = "rm")]
    Remove(RemoveArgs),
    /// Generate an index file given a directory containing packaged charts.
    Index(IndexArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  kubectl chart repo add myrepo https://charts.example.com/
  kubectl chart install web myrepo/nginx --version '^15'")]
struct AddArgs {
    /// The repository's name (used as NAME/chart).
    #[arg(value_name = "NAME")]
    name: String,
    /// The repository's URL (index.yaml is fetched from it).
    #[arg(value_name = "URL")]
    url: String,
    /// Chart repository username.
    #[arg(long)]
    username: Option<String>,
    /// Chart repository password.
    #[arg(long)]
    password: Option<String>,
    /// Read chart repository password from stdin.
    #[arg(long = "password-stdin")]
    password_stdin: bool,
    /// Pass credentials to all domains.
    #[arg(long = "pass-credentials")]
    pass_credentials: bool,
    /// Replace (overwrite) the repo if it already exists.
    #[arg(long = "force-update")]
    force_update: bool,
    /// Ignored. Formerly, it would disabled forced updates. It is deprecated by force-update.
    #[arg(long = "no-update", hide = true)]
    no_update: bool,
    /// Accepted for Helm compatibility (no deleted official repository is blocked).
    #[arg(long = "allow-deprecated-repos", hide = true)]
    allow_deprecated_repos: bool,
    /// Identify HTTPS client using this SSL certificate file.
    #[arg(long = "cert-file", value_name = "FILE")]
    cert_file: Option<String>,
    /// Identify HTTPS client using this SSL key file.
    #[arg(long = "key-file", value_name = "FILE")]
    key_file: Option<String>,
    /// Verify certificates of HTTPS-enabled servers using this CA bundle.
    #[arg(long = "ca-file", value_name = "FILE")]
    ca_file: Option<String>,
    /// Skip tls certificate checks for the repository.
    #[arg(long = "insecure-skip-tls-verify")]
    insecure_skip_tls_verify: bool,
}

#[derive(Debug, Args)]
struct UpdateArgs {
    /// Repositories to update (all when none are named).
    #[arg(value_name = "REPO")]
    names: Vec<String>,
    /// Update fails if any of the repository updates fail.
    #[arg(long = "fail-on-repo-update-fail")]
    fail_on_repo_update_fail: bool,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Prints the output in the specified format. Allowed values: table, json, yaml.
    #[arg(short = 'o', long, default_value = "table", value_name = "FORMAT",
          value_parser = <OutputFormat as std::str::FromStr>::from_str)]
    output: OutputFormat,
}

#[derive(Debug, Args)]
struct RemoveArgs {
    /// Repositories to remove.
    #[arg(value_name = "REPO", required = true)]
    names: Vec<String>,
}

#[derive(Debug, Args)]
struct IndexArgs {
    /// The directory of packaged charts (.tgz); index.yaml is written into it.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// URL of chart repository.
    #[arg(long, default_value = "")]
    url: String,
    /// Merge the generated index into the given index.
    #[arg(long, value_name = "FILE")]
    merge: Option<PathBuf>,
    /// Output in JSON format.
    #[arg(long)]
    json: bool,
}

/// Runs `repo …`.
pub fn exec(a: RepoArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let paths = HelmPaths::from_env();
    match a.command {
        RepoCommand::Add(a) => {
            let mut password = a.password.unwrap_or_default();
            if a.password_stdin && password.is_empty() {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                password = s.trim_end_matches('\n').trim_end_matches('\r').to_string();
            }
            let username = a.username.unwrap_or_default();
            if !username.is_empty() && password.is_empty() {
                anyhow::bail!("--username needs a password: pass --password or --password-stdin");
            }
            let opts = RepoAddOptions {
                entry: Entry {
                    name: a.name,
                    url: a.url,
                    username,
                    password,
                    cert_file: a.cert_file.unwrap_or_default(),
                    key_file: a.key_file.unwrap_or_default(),
                    ca_file: a.ca_file.unwrap_or_default(),
                    insecure_skip_tls_verify: a.insecure_skip_tls_verify,
                    pass_credentials_all: a.pass_credentials,
                },
                force_update: a.force_update,
            };
            let (line, warnings) = super::runtime()?.block_on(act::repo_add(&paths, &opts))?;
            warn(&warnings);
            writeln!(out, "{line}")?;
        }
        RepoCommand::Update(a) => {
            let opts = RepoUpdateOptions {
                names: a.names,
                fail_on_repo_update_fail: a.fail_on_repo_update_fail,
            };
            writeln!(
                out,
                "Hang tight while we grab the latest from your chart repositories..."
            )?;
            let outcomes = super::runtime()?.block_on(act::repo_update(&paths, &opts))?;
            for o in outcomes {
                warn(&o.warnings);
                match o.error {
                    None => writeln!(
                        out,
                        "...Successfully got an update from the {:?} chart repository",
                        o.name
                    )?,
                    Some(e) => writeln!(
                        out,
                        "...Unable to get an update from the {:?} chart repository ({}):\n\t{e}",
                        o.name, o.url
                    )?,
                }
            }
            writeln!(out, "Update Complete. ⎈Happy Helming!⎈")?;
        }
        RepoCommand::List(a) => {
            let repos = act::repo_list(
                &paths,
                &RepoListOptions {
                    table: a.output == OutputFormat::Table,
                },
            )?;
            write_repo_list(out, &repos, a.output)?;
        }
        RepoCommand::Remove(a) => {
            let done = act::repo_remove(&paths, &RepoRemoveOptions { names: a.names })?;
            for line in &done.lines {
                writeln!(out, "{line}")?;
            }
            if let Some(e) = done.error {
                return Err(e);
            }
        }
        RepoCommand::Index(a) => {
            let (_, warnings) = act::repo_index(&RepoIndexOptions {
                dir: a.dir,
                url: a.url,
                merge: a.merge,
                json: a.json,
                now: now_rfc3339_nano(),
            })?;
            warn(&warnings);
        }
    }
    Ok(())
}

/// Helm's `WARNING: …` lines on stderr.
pub(super) fn warn(lines: &[String]) {
    let mut err = std::io::stderr().lock();
    for l in lines {
        let _ = writeln!(err, "WARNING: {l}");
    }
}

/// The current time as Go's `time.Time` marshals it in UTC (`RFC3339Nano`: fraction without
/// trailing zeros).
fn now_rfc3339_nano() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let base = crate::output::time::rfc3339(crate::release::Timestamp(d.as_secs() as i64));
    let frac = format!("{:09}", d.subsec_nanos());
    let frac = frac.trim_end_matches('0');
    match frac.is_empty() {
        true => base,
        false => format!("{}.{frac}Z", base.trim_end_matches('Z')),
    }
}
