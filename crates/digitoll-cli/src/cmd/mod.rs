//! One module per command. Each returns the process exit code.

mod cert;
mod demo;
mod keys;
mod road;
mod sim;
mod token;
mod validate;

use std::process::ExitCode;

use crate::cli::{CertCommand, Command, KeysCommand};

pub(crate) async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Sim(args) => sim::run(args).await,
        Command::Keys(KeysCommand::Generate(args)) => keys::generate(args),
        Command::Cert(CertCommand::Inspect(args)) => cert::inspect(args),
        Command::Token(args) => token::run(*args).await,
        Command::Validate(args) => validate::run(&args),
        Command::Road(cmd) => road::run(*cmd).await,
        Command::Demo(args) => demo::run(&args).await,
    }
}
