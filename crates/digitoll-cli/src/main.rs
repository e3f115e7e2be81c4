//! `digitoll`: onboarding, diagnostics, submission and the simulator, in one command.
//!
//! This crate is the only place that reads arguments, environment variables and
//! files given on the command line, and the only one that prints. Each command
//! lives in its own module under `cmd/` and turns raw flags into the libraries'
//! typed configuration.

mod cli;
mod cmd;
mod identity;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_tracing(args.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(cmd::run(args.command, args.profile)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr so that `--json` output on stdout stays parseable.
/// `RUST_LOG` overrides the level chosen by `-v`.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "error",
        1 => "info,digitoll=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
