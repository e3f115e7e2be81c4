//! `digitoll sim`: the simulator on a fixed port until Ctrl-C.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use digitoll_sim::{CertEnvironment, Simulator};

use crate::cli::SimArgs;
use crate::output::outln;

pub(crate) async fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    let env = if args.prod {
        CertEnvironment::Prod
    } else {
        CertEnvironment::Test
    };
    let sim = Simulator::builder()
        .bind(args.listen)
        .token_lifetime(Duration::from_secs(args.token_lifetime))
        .environment(env)
        .write_demo_credentials(&args.demo_dir)
        .start()
        .await
        .with_context(|| format!("cannot start the simulator on {}", args.listen))?;
    let creds = args.demo_dir.join("demo-client.json");
    outln!("digitoll simulator listening on {}", sim.base_url());
    outln!("  Maskinporten issuer:  {}", sim.issuer());
    outln!("  token endpoint:       {}", sim.token_endpoint());
    outln!("  admin API:            {}sim/", sim.base_url());
    outln!("  demo credentials:     {}", creds.display());
    outln!();
    outln!(
        "Try:  digitoll token --credentials {} --scope toll:movement/road/v2",
        creds.display()
    );
    outln!("Stop with Ctrl-C.");
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
