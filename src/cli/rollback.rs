//! `kubectl chart rollback RELEASE [REVISION]`.

use std::io::Write;

use clap::Args;

use super::{args::parse_duration, GlobalArgs};
use crate::action::{self, Context, RollbackOptions};

/// Roll a release back to a previous revision (default: the one before the current).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Back to the previous revision
  kubectl chart rollback web -n prod

  # Back to revision 3, waiting for readiness
  kubectl chart rollback web 3 -n prod --wait")]
pub struct RollbackArgs {
    /// Release name.
    #[arg(value_name = "RELEASE")]
    release: String,
    /// Revision to roll back to (default: previous).
    #[arg(value_name = "REVISION")]
    revision: Option<u32>,
    #[command(flatten)]
    wait: super::args::WaitArgs,
    /// With --wait, also wait for Jobs to complete.
    #[arg(long = "wait-for-jobs")]
    wait_for_jobs: bool,
    /// Keep at most this many revisions in history (0: no limit).
    #[arg(long = "history-max", default_value_t = 10, value_name = "N")]
    history_max: usize,
    /// Time to wait for any single operation.
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    timeout: String,
    #[command(flatten)]
    lock_wait: super::args::LockWaitArg,
    /// Recreate objects whose immutable fields change.
    #[arg(long)]
    force: bool,
    /// Helm 4's name for --force.
    #[arg(long = "force-replace")]
    force_replace: bool,
    /// Do not run hooks.
    #[arg(long = "no-hooks")]
    no_hooks: bool,
    /// Description recorded with the revision.
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// Show what would happen without doing it (`client`; Helm 4's `server` is not supported).
    #[arg(long = "dry-run", value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    dry_run: Option<String>,
}

/// Runs `rollback`.
pub fn exec(global: &GlobalArgs, a: RollbackArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let dry_run = match super::args::parse_dry_run(a.dry_run.as_deref())? {
        Some(action::DryRun::Server) => {
            anyhow::bail!("--dry-run=server is not supported on rollback: use --dry-run")
        }
        mode => mode.is_some(),
    };
    let (wait, wait_style) = a.wait.resolve()?;
    let opts = RollbackOptions {
        release: a.release,
        revision: a.revision,
        wait,
        wait_style,
        wait_for_jobs: a.wait_for_jobs,
        timeout: parse_duration(&a.timeout)?,
        force: a.force || a.force_replace,
        no_hooks: a.no_hooks,
        description: a.description,
        dry_run,
    };
    let history_max = a.history_max;
    let connect = global.connect_options()?;
    let lock_wait = a.lock_wait.duration()?;
    let r = super::runtime()?.block_on(async {
        let mut ctx = Context::connect(&connect).await?;
        ctx.history_max = history_max;
        ctx.lock_wait = lock_wait;
        action::rollback(&ctx, &opts).await
    })?;
    writeln!(
        out,
        "Rollback was a success! {} is now at revision {} ({}).",
        r.name, r.revision, r.description
    )?;
    Ok(())
}
