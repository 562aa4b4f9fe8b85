//! The `kubectl-chart` binary: set up logging, parse flags, run, map errors to exit codes.

use std::{io::Write, process::ExitCode};

use clap::Parser;

// mimalloc instead of glibc malloc: rendering allocates millions of small strings and maps, and
// glibc's allocator was a fifth of `template`'s time on large charts (page faults and free-list
// upkeep in perf profiles).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use kubectl_chart::cli::{self, Cli};

/// Stack of the thread the command runs on (see `main`).
const STACK: usize = 1 << 30;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Our own logs at -v 1+, the Kubernetes client's only from -v 4 (its errors are reported
    // once, by us, as the command's error line).
    let level = match cli.global.verbosity {
        0 => "kubectl_chart=warn,off",
        1..=3 => "kubectl_chart=info,off",
        4..=6 => "kubectl_chart=debug,kube=debug,warn",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(level)
        .without_time()
        .init();
    // The command runs on a thread with Go's maximum goroutine stack (1 GiB, reserved, not
    // committed): values nested tens of thousands deep, which Helm renders, are freed by
    // recursive drops that cannot grow onto the heap the way the template walkers do.
    let result = std::thread::Builder::new()
        .name("kubectl-chart".into())
        .stack_size(STACK)
        .spawn(move || {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            cli::run(cli, &mut out).and_then(|()| out.flush().map_err(Into::into))
        })
        .map_err(anyhow::Error::from)
        .and_then(|h| {
            h.join()
                .map_err(|_| anyhow::anyhow!("the command thread panicked"))
        })
        .and_then(|r| r);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not a failure (as ripgrep does).
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) if e.downcast_ref::<kubectl_chart::error::ExitStatus>().is_some() => ExitCode::from(
            e.downcast_ref::<kubectl_chart::error::ExitStatus>()
                .map_or(1, |s| s.code()),
        ),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
