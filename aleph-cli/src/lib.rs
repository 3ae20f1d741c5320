#![doc = include_str!("../README.md")]
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod cmd;
mod config;
mod ctx;
mod error;
pub mod opts;
mod output;
mod signer;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};

use clap::Parser;

pub use ctx::Ctx;
pub use error::CliError;
pub use opts::Cli;

/// How many `-v` were given (read by [`report`]).
static VERBOSITY: AtomicU8 = AtomicU8::new(0);

/// Runs the `aleph` command with the process arguments.
pub fn run() -> anyhow::Result<()> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout with code 0; usage errors to stderr with code 2.
        Err(e) => e.exit(),
    };
    VERBOSITY.store(cli.global.verbose, Ordering::Relaxed);
    init_tracing(cli.global.verbose);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?;
    runtime.block_on(async move {
        let ctx = Ctx::new(cli.global)?;
        cli.command.run(&ctx).await
    })
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ALEPH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Only the `-v` levels log by default, so that plain runs print nothing but their output.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Prints `error` on stderr as `error: …` (with its causes when `-v` was given) and returns the
/// documented exit code.
pub fn report(error: &anyhow::Error) -> ExitCode {
    let code = error::exit_code(error);
    if let Some(CliError::Exit(_)) = error.downcast_ref::<CliError>() {
        return ExitCode::from(code);
    }
    if VERBOSITY.load(Ordering::Relaxed) > 0 {
        eprintln!("error: {error}");
        for cause in error.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        return ExitCode::from(code);
    }
    // One line by default: the outermost message, plus its root cause when it adds something.
    let outer = error.to_string();
    match error.chain().skip(1).last().map(|c| c.to_string()) {
        Some(root) if !outer.contains(&root) => eprintln!("error: {outer} ({root})"),
        _ => eprintln!("error: {outer}"),
    }
    ExitCode::from(code)
}
