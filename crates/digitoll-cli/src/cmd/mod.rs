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
mod profile;
mod road;
mod serve;
mod sim;
pub(crate) mod spec;
mod tenants;
mod token;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::{CertCommand, Command, KeysCommand};

/// Runs `command`; `profile` is the `--profile` file, read only by the
/// commands that use it (so a bad `DIGITOLL_PROFILE` does not stop `keys`).
pub(crate) async fn run(command: Command, profile: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let load = || profile::load(profile.as_deref());
    match command {
        Command::Sim(args) => sim::run(args, load()?).await,
        Command::Rules(args) => profile::rules(&args, &*load()?),
        Command::Profile(cmd) => profile::profile(&cmd),
        Command::Keys(KeysCommand::Generate(args)) => keys::generate(args),
        Command::Keys(KeysCommand::Rotate(args)) => clients::rotate(*args).await,
        Command::Cert(CertCommand::Inspect(args)) => cert::inspect(args),
        Command::Token(args) => token::run(*args).await,
        Command::Validate(args) => validate::run(&args, &*load()?),
        Command::Road(cmd) => road::run(digitoll_client::TransportMode::Road, *cmd, load()?).await,
        Command::Air(cmd) => road::run(digitoll_client::TransportMode::Air, *cmd, load()?).await,
        Command::Rail(cmd) => road::run(digitoll_client::TransportMode::Rail, *cmd, load()?).await,
        Command::Maritime(cmd) => {
            road::run(digitoll_client::TransportMode::Maritime, *cmd, load()?).await
        }
        Command::Demo(args) => demo::run(&args, load()?).await,
        Command::Present(args) => entry::present(*args, load()?).await,
        Command::Routing(cmd) => entry::routing(*cmd, load()?).await,
        Command::Arrival(cmd) => entry::arrival(*cmd, load()?).await,
        Command::Documents(cmd) => entry::documents(*cmd, load()?).await,
        Command::Serve(args) => serve::run(*args, load()?).await,
        Command::Tenants(cmd) => tenants::run(*cmd).await,
        Command::ApiKeys(cmd) => tenants::api_keys(*cmd).await,
        Command::Doctor(args) => doctor::run(*args).await,
        Command::Onboard(args) => onboard::run(*args).await,
        Command::Clients(cmd) => clients::run(*cmd).await,
        Command::Bench(args) => bench::run(*args).await,
        Command::Spec(cmd) => spec::run(*cmd, &*load()?).await,
        Command::Conformance(args) => conformance::run(*args, load()?).await,
    }
}
