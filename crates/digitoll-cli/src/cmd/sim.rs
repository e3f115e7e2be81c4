//! `digitoll sim`: the simulator on a fixed port until Ctrl-C.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use digitoll_sim::{CertEnvironment, Simulator};

use crate::cli::SimArgs;
use std::io::Write as _;

pub(crate) async fn run(
    args: SimArgs,
    profile: std::sync::Arc<digitoll_model::ContractProfile>,
) -> anyhow::Result<ExitCode> {
    let env = if args.prod {
        CertEnvironment::Prod
    } else {
        CertEnvironment::Test
    };
    let mut builder = Simulator::builder();
    let mut replaying = String::new();
    if let Some(path) = &args.replay {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read transcript {}", path.display()))?;
        let transcript = digitoll_sim::parse_transcript(&text, &path.display().to_string())?;
        replaying = format!(
            "\x20 replaying:            {} exchanges from {} (unrecorded requests answer 599)\n",
            transcript.len(),
            path.display()
        );
        builder = builder.replay(transcript);
    }
    let sim = builder
        .bind(args.listen)
        .token_lifetime(Duration::from_secs(args.token_lifetime))
        .environment(env)
        .write_demo_credentials(&args.demo_dir)
        .profile((*profile).clone())
        .start()
        .await
        .with_context(|| format!("cannot start the simulator on {}", args.listen))?;
    let creds = args.demo_dir.join("demo-client.json");
    let base = sim.base_url();
    let banner = format!(
        "digitoll simulator listening on {base}\n\
         \x20 Maskinporten issuer:  {issuer}\n\
         \x20 token endpoint:       {token}\n\
         \x20 admin API:            {base}sim/\n\
         \x20 demo credentials:     {creds}\n{replaying}\n\
         Try:  digitoll token --credentials {creds} --scope toll:movement/road/v2\n\
         Stop with Ctrl-C.\n",
        issuer = sim.issuer(),
        token = sim.token_endpoint(),
        creds = creds.display(),
    );
    // The server keeps running even if nobody reads stdout any more.
    let mut out = std::io::stdout();
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
