//! `digitoll serve`: the multi-tenant gateway (API, workers, metrics) until
//! Ctrl-C or SIGTERM, then a graceful stop: readiness turns 503, the server
//! stops accepting and finishes open requests, workers stop claiming and
//! finish the jobs they hold, and the process exits.

use std::num::NonZeroU32;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use digitoll_gateway::{
    GatewayConfig, GatewayState, RuntimeOptions, WorkerConfig, app, run_workers,
};
use digitoll_sim::Simulator;
use digitoll_store::ApiKeyScope;

use crate::cli::ServeArgs;
use crate::cmd::tenants::{open_store, redact_url};
use crate::output::outln;

pub(crate) async fn run(
    args: ServeArgs,
    profile: std::sync::Arc<digitoll_model::ContractProfile>,
) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.store, args.init, args.db_connections).await?;
    if args.init {
        let admins = store.api_keys(ApiKeyScope::Admin).await?;
        if admins.iter().all(|k| k.revoked_at.is_some()) {
            let (info, key) = store.create_api_key(ApiKeyScope::Admin, "init").await?;
            eprintln!(
                "created admin API key {} (shown once; use it for /v1/admin):",
                info.id
            );
            outln!("{}", key.expose());
        } else {
            eprintln!(
                "an admin API key exists already; create more with `digitoll api-keys create --admin`"
            );
        }
    }
    let sim = if args.sim {
        let sim = Simulator::builder()
            .bind(args.sim_listen)
            .start()
            .await
            .with_context(|| format!("cannot start the simulator on {}", args.sim_listen))?;
        eprintln!(
            "simulator (Maskinporten + Toll) on {} for tenants with environment sim",
            sim.base_url()
        );
        register_sim_tenants(&store, &sim).await?;
        // Tenants added later (admin API, dashboard, or `digitoll tenants add`
        // from another process) and rotated keys are picked up too.
        {
            let (store, sim) = (store.clone(), sim.control());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    if let Err(e) = register_new_sim_tenants(&store, &sim).await {
                        tracing::debug!(error = %e, "simulator: cannot list tenants");
                    }
                }
            });
        }
        Some(sim)
    } else {
        None
    };
    let nz = |n: u32, what: &str| {
        NonZeroU32::new(n).ok_or_else(|| anyhow!("--{what} must be at least 1"))
    };
    let worker_name = args.worker_name.clone().unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "gw".into());
        format!("{host}-{}", std::process::id())
    });
    let config = GatewayConfig {
        profile: (*profile).clone(),
        max_body_bytes: args.max_body_bytes,
        rate_limit_per_second: nz(args.rate_limit, "rate-limit")?,
        rate_limit_burst: nz(args.burst, "burst")?,
        runtime: RuntimeOptions {
            sim_base_url: sim.as_ref().map(|s| s.base_url()),
            ..RuntimeOptions::default()
        },
        workers: WorkerConfig {
            workers: args.workers,
            name: worker_name,
            lease: Duration::from_secs(args.job_lease_secs),
            ..WorkerConfig::default()
        },
        ..GatewayConfig::default()
    };
    let state = GatewayState::new(store.clone(), config, Some(digitoll_gateway::prometheus()));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    eprintln!(
        "digitoll gateway on http://{} (database {}, {} workers); API docs at /v1/openapi.json",
        listener.local_addr().unwrap_or(args.listen),
        redact_url(&args.store.database),
        args.workers
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers =
        (args.workers > 0).then(|| tokio::spawn(run_workers(state.clone(), stop_rx.clone())));
    let draining = state.clone();
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app(state))
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|s| *s).await;
            })
            .await
    });
    shutdown_signal().await;
    eprintln!("shutting down: finishing open requests and in-flight jobs");
    draining.start_draining();
    let _ = stop_tx.send(true);
    match tokio::time::timeout(Duration::from_secs(30), server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => eprintln!("server error: {e}"),
        Ok(Err(e)) => eprintln!("server task failed: {e}"),
        Err(_) => eprintln!("open requests did not finish within 30 s"),
    }
    if let Some(w) = workers
        && tokio::time::timeout(Duration::from_secs(120), w)
            .await
            .is_err()
    {
        eprintln!(
            "workers did not finish within 120 s; their leases expire and other instances take over"
        );
    }
    store.close().await;
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Registers every `sim` tenant with a generated key at the built-in
/// simulator (organisation, client with the tenant's public JWK, scopes), as
/// the customer would in Samarbeidsportalen, so `serve --sim` works at once.
async fn register_sim_tenants(
    store: &digitoll_store::Store,
    sim: &digitoll_sim::RunningSimulator,
) -> anyhow::Result<()> {
    register_new_sim_tenants(store, &sim.control()).await
}

/// Registers the `sim` tenants whose client is missing at the simulator or
/// lacks the tenant's current key; clients already registered with it are
/// left as they are (changes made through the simulator's admin API stay).
async fn register_new_sim_tenants(
    store: &digitoll_store::Store,
    ctl: &digitoll_sim::SimControl,
) -> anyhow::Result<()> {
    let registered = ctl.clients();
    for t in store.tenants().await? {
        let (digitoll_store::Environment::Sim, Some(jwk)) = (t.environment, t.public_jwk.clone())
        else {
            continue;
        };
        if registered
            .iter()
            .any(|c| c.client_id == t.client_id && c.keys.contains(&jwk))
        {
            continue;
        }
        if !ctl.organisations().iter().any(|o| o.org_no == t.org_number)
            && let Err(e) = ctl.try_register_organisation(&t.org_number, &t.name)
        {
            eprintln!("simulator: tenant {} not registered: {e}", t.id);
            continue;
        }
        let client = digitoll_sim::ClientRegistration::with_keys(
            t.client_id.clone(),
            t.org_number.clone(),
            t.scopes.clone(),
            vec![jwk],
        );
        if let Err(e) = ctl.try_register_client(client) {
            eprintln!("simulator: client of tenant {} not registered: {e}", t.id);
            continue;
        }
        for scope in &t.scopes {
            let _ = ctl.try_grant_scope(&t.org_number, scope);
        }
    }
    Ok(())
}
