//! `kubectl chart uninstall RELEASE`.

use std::io::Write;

use clap::Args;

use super::{args::parse_duration, GlobalArgs};
use crate::action::{self, Context, UninstallOptions};

/// Uninstall a release: run its delete hooks and delete what it created (objects annotated
/// `helm.sh/resource-policy: keep` stay).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Remove web and its history
  kubectl chart uninstall web -n prod

  # Remove web but keep its history, so it can be rolled back
  kubectl chart uninstall web -n prod --keep-history")]
pub struct UninstallArgs {
    /// Release name.
    #[arg(value_name = "RELEASE")]
    release: String,
    /// Keep the release records (status uninstalled).
    #[arg(long = "keep-history")]
    keep_history: bool,
    /// Do not run hooks.
    #[arg(long = "no-hooks")]
    no_hooks: bool,
    #[command(flatten)]
    wait: super::args::WaitArg,
    /// Simulate: check the release exists and say it would be uninstalled; nothing is deleted.
    #[arg(long = "dry-run")]
    dry_run: bool,
    /// How dependents of deleted objects go: background (the default), foreground or orphan.
    #[arg(long, value_name = "POLICY", default_value = "background")]
    cascade: String,
    /// Treat "release not found" as a successful uninstall.
    #[arg(long = "ignore-not-found")]
    ignore_not_found: bool,
    /// Time to wait for any single operation.
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    timeout: String,
    #[command(flatten)]
    lock_wait: super::args::LockWaitArg,
    /// Description recorded with the last revision.
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
}

/// Runs `uninstall`.
pub fn exec(global: &GlobalArgs, a: UninstallArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let opts = UninstallOptions {
        release: a.release.clone(),
        keep_history: a.keep_history,
        no_hooks: a.no_hooks,
        // Every strategy but hookOnly waits for the objects to be gone.
        wait: a.wait.resolve()?.0,
        timeout: parse_duration(&a.timeout)?,
        description: a.description,
        cascade: match a.cascade.as_str() {
            "background" => crate::cluster::Propagation::Background,
            "foreground" => crate::cluster::Propagation::Foreground,
            "orphan" => crate::cluster::Propagation::Orphan,
            // Helm's words.
            other => anyhow::bail!(
                "invalid cascade value ({other}). Must be \"background\", \"foreground\", or \"orphan\""
            ),
        },
    };
    let connect = global.connect_options()?;
    let dry_run = a.dry_run;
    let lock_wait = a.lock_wait.duration()?;
    let done = super::runtime()?.block_on(async {
        let mut ctx = Context::connect(&connect).await?;
        ctx.lock_wait = lock_wait;
        if dry_run {
            // As Helm's: the release is read (it must exist), nothing else happens.
            let get = action::GetOptions {
                release: opts.release.clone(),
                revision: None,
            };
            return action::get(&ctx, &get).await.map(|_| ());
        }
        action::uninstall(&ctx, &opts).await.map(|_| ())
    });
    match done {
        Ok(()) => {}
        // Helm still says "uninstalled" for a release it did not find.
        Err(e) if a.ignore_not_found && is_not_found(&e) => {}
        Err(e) => return Err(e),
    }
    writeln!(out, "release \"{}\" uninstalled", a.release)?;
    Ok(())
}

/// Whether the release itself was not found (not one of its objects).
fn is_not_found(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<crate::release::Error>(),
            Some(crate::release::Error::NotFound(_))
        )
    })
}
