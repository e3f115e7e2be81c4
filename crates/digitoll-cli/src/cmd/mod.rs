//! One module per command. Each returns the process exit code.

pub(crate) mod bench;
mod cert;
pub(crate) mod clients;
pub(crate) mod conformance;
mod demo;
pub(crate) mod doctor;
mod entry;
mod keys;
pub(crate) mod onboard;
mod road;
mod serve;
mod sim;
mod tenants;
mod token;
mod validate;

use std::process::ExitCode;

use crate::cli::{CertCommand, Command, KeysCommand};

pub(crate) async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Sim(args) => sim::run(args).await,
        Command::Keys(KeysCommand::Generate(args)) => keys::generate(args),
        Command::Keys(KeysCommand::Rotate(args)) => clients::rotate(*args).await,
        Command::Cert(CertCommand::Inspect(args)) => cert::inspect(args),
        Command::Token(args) => token::run(*args).await,
        Command::Validate(args) => validate::run(&args),
        Command::Road(cmd) => road::run(digitoll_client::Mode::Road, *cmd).await,
        Command::Air(cmd) => road::run(digitoll_client::Mode::Air, *cmd).await,
        Command::Rail(cmd) => road::run(digitoll_client::Mode::Rail, *cmd).await,
        Command::Maritime(cmd) => road::run(digitoll_client::Mode::Maritime, *cmd).await,
        Command::Demo(args) => demo::run(&args).await,
        Command::Present(args) => entry::present(*args).await,
        Command::Routing(cmd) => entry::routing(*cmd).await,
        Command::Arrival(cmd) => entry::arrival(*cmd).await,
        Command::Documents(cmd) => entry::documents(*cmd).await,
        Command::Serve(args) => serve::run(*args).await,
        Command::Tenants(cmd) => tenants::run(*cmd).await,
        Command::ApiKeys(cmd) => tenants::api_keys(*cmd).await,
        Command::Doctor(args) => doctor::run(*args).await,
        Command::Onboard(args) => onboard::run(*args).await,
        Command::Clients(cmd) => clients::run(*cmd).await,
        Command::Bench(args) => bench::run(*args).await,
        Command::Conformance(args) => conformance::run(*args).await,
    }
}
