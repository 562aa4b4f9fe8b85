//! The `kubectl-chart` binary: set up logging, parse flags, run, map errors to exit codes.

use std::{
    io::{IsTerminal, Write},
    process::ExitCode,
};

use clap::Parser as _;

// mimalloc instead of glibc malloc: rendering allocates millions of small strings and maps, and
// glibc's allocator was a fifth of `template`'s time on large charts (page faults and free-list
// upkeep in perf profiles).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use kubectl_chart::cli::{self, Cli};

/// Go grows a goroutine's stack up to 1 GB, so Helm renders charts nested thousands of subcharts
/// deep, each level a few recursive calls in loading, coalescing and rendering; the 8 MiB main
/// thread overflowed on 2,300 levels; values nested tens of thousands deep are also freed by
/// recursive drops. The command runs on a thread with Go's ceiling: only the pages it touches are
/// ever committed.
const STACK_SIZE: usize = 1 << 30;

fn main() -> ExitCode {
    let spawned = std::thread::Builder::new()
        .name("main".into())
        .stack_size(STACK_SIZE)
        .spawn(run);
    match spawned {
        // A panic has already printed its message; 101 is Rust's usual exit code for it.
        Ok(handle) => handle.join().unwrap_or(ExitCode::from(101)),
        // Where the address space cannot spare it, the main thread's stack still runs most charts.
        Err(_) => run(),
    }
}

fn run() -> ExitCode {
    let cli = Cli::try_parse().unwrap_or_else(|e| {
        // A Helm flag we refuse says why, instead of clap's bare "unexpected argument".
        let args: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        cli::refused::explain(e, &args).exit()
    });
    // Our own logs at -v 1+, the Kubernetes client's only from -v 4 (its errors are reported
    // once, by us, as the command's error line).
    let verbosity = match cli.global.debug {
        true => cli.global.verbosity.max(4),
        false => cli.global.verbosity,
    };
    let level = match verbosity {
        0 => "kubectl_chart=warn,off",
        1..=3 => "kubectl_chart=info,off",
        4..=6 => "kubectl_chart=debug,kube=debug,warn",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(level)
        .without_time()
        // Colour codes only for a terminal: redirected to a file or a pipe they are noise.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = cli::run(cli, &mut out).and_then(|()| out.flush().map_err(Into::into));
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
