//! The routing follower: one sweep per [`GatewayConfig::routing_interval`]
//! over every enabled tenant holding `toll:movement/entry`, reading Toll's
//! house-consignment and transport feeds after the marker stored in the
//! database.
//!
//! Each page is stored with its new marker in **one transaction**
//! (`Store::record_routing_signals`), so a crash never skips a page or moves
//! the marker past unstored signals, and a restarted follower continues from
//! the stored marker (nothing stored twice). After the commit, a
//! `routing_signal` webhook event is recorded for every new signal, carrying
//! the ids of the tenant's messages whose document number matches (house feed:
//! the house waybill number). That step is after the commit, so a crash between
//! the two loses those events (the signals themselves are stored).
//!
//! **Several instances.** Storing a page is a compare-and-set of the cursor
//! (`expected` = the marker the page was read after): when two gateway
//! processes read the same page, the first to commit stores it and the other
//! gets a conflict, stores nothing and leaves the feed until its next sweep.
//! Each signal is stored, and its webhook event recorded, once. Inside one
//! process a lock serialises sweeps, so they do not even read twice.
//!
//! [`GatewayConfig::routing_interval`]: crate::GatewayConfig::routing_interval

use digitoll_client::{RoutingClient, RoutingFeed};
use digitoll_model::RoutingSignal as TollSignal;
use digitoll_store::{NewRoutingSignal, Tenant, TenantId};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::runtime::TenantRuntime;
use crate::state::GatewayState;
use crate::webhook;

/// The scope the routing feeds need.
pub(crate) const ENTRY_SCOPE: &str = "toll:movement/entry";

/// The webhook event recorded for each new routing signal.
pub(crate) const ROUTING_EVENT: &str = "routing_signal";

/// Pages read per feed per sweep at most (1000 signals each), so one tenant's
/// backlog does not starve the others; the next sweep continues.
const MAX_PAGES_PER_SWEEP: usize = 20;

/// Sweeps until `shutdown` turns true; returns at once when the follower is
/// switched off (`routing_interval: None`).
pub(crate) async fn run(state: GatewayState, mut shutdown: watch::Receiver<bool>) {
    let Some(interval) = state.config().routing_interval else {
        return;
    };
    tracing::info!(?interval, "routing follower started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            () = sweep(&state) => {}
            _ = shutdown.changed() => break,
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => break,
        }
    }
    tracing::info!("routing follower stopped");
}

/// Whether the tenant's feeds are followed.
fn follows(t: &Tenant) -> bool {
    t.enabled && t.scopes.iter().any(|s| s == ENTRY_SCOPE)
}

/// One pass over all tenants that follow the feeds.
async fn sweep(state: &GatewayState) {
    let tenants = match state.store().tenants().await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "routing follower: cannot list tenants");
            return;
        }
    };
    for t in tenants.iter().filter(|t| follows(t)) {
        let rt = match state.runtimes().get(t.id).await {
            Ok(rt) => rt,
            Err(e) => {
                tracing::warn!(tenant = %t.id, error = %e, "routing follower: tenant clients unavailable");
                continue;
            }
        };
        match follow_tenant(state, t.id, &rt).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(tenant = %t.id, signals = n, "routing signals stored"),
            Err(e) => tracing::warn!(tenant = %t.id, error = %e, "routing follower"),
        }
    }
}

/// Reads both feeds of one tenant from the stored markers; returns how many
/// signals were stored.
pub(crate) async fn follow_tenant(
    state: &GatewayState,
    tenant: TenantId,
    rt: &TenantRuntime,
) -> Result<usize, String> {
    // One reader per process, so two sweeps never read the same page.
    let _one_at_a_time = state.routing_lock().lock().await;
    let client = RoutingClient::builder(rt.toll.clone())
        .http_client(state.http().clone())
        .timeout(state.config().runtime.toll_timeout)
        .build()
        .map_err(|e| e.to_string())?;
    let mut stored = 0;
    for feed in RoutingFeed::ALL {
        let name = feed.path_segment();
        for _ in 0..MAX_PAGES_PER_SWEEP {
            let stored_marker = state
                .store()
                .routing_cursor(tenant, name)
                .await
                .map_err(|e| format!("{name} cursor: {e}"))?;
            let marker = stored_marker
                .as_deref()
                .and_then(|m| m.parse::<uuid::Uuid>().ok());
            let page = client
                .page(feed, marker)
                .await
                .map_err(|e| format!("{name} feed: {e}"))?;
            let Some(last) = page.last().map(|s| s.routing_result.id) else {
                break;
            };
            let signals: Vec<NewRoutingSignal> = page.iter().map(|s| to_new(feed, s)).collect();
            match state
                .store()
                .record_routing_signals(
                    tenant,
                    name,
                    &signals,
                    stored_marker.as_deref(),
                    &last.hyphenated().to_string(),
                )
                .await
            {
                Ok(()) => {}
                // Another instance stored this page first: its signals and
                // events are recorded there; this sweep leaves the feed.
                Err(digitoll_store::Error::Conflict(c)) => {
                    tracing::debug!(tenant = %tenant, feed = name, conflict = %c, "page stored by another instance");
                    break;
                }
                Err(e) => return Err(format!("{name} store: {e}")),
            }
            stored += signals.len();
            for (s, new) in page.iter().zip(&signals) {
                emit(state, tenant, feed, s, new).await;
            }
            if page.len() < digitoll_model::routing::MAX_ROUTING_PAGE {
                break;
            }
        }
    }
    Ok(stored)
}

/// The stored form of one signal: the reference is the transport MRN on the
/// transport feed, else the document key (house waybill number/type, ENS MRN,
/// receptacle, house MRN).
fn to_new(feed: RoutingFeed, s: &TollSignal) -> NewRoutingSignal {
    NewRoutingSignal {
        reference: match feed {
            RoutingFeed::Transport => s.transport_mrn.clone().or_else(|| s.document_key()),
            RoutingFeed::HouseConsignment => s.document_key(),
        }
        .unwrap_or_default(),
        signal: s.routing_result.routing.as_str().to_owned(),
        control_location: s
            .routing_result
            .routing_control_location
            .as_ref()
            .map(|l| l.as_str().to_owned()),
        received_at: OffsetDateTime::now_utc(),
        raw: serde_json::to_value(s).unwrap_or_default(),
    }
}

/// Records a `routing_signal` delivery for each subscription that wants it.
async fn emit(
    state: &GatewayState,
    tenant: TenantId,
    feed: RoutingFeed,
    s: &TollSignal,
    new: &NewRoutingSignal,
) {
    let store = state.store();
    let hooks = match store.webhooks(tenant).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(tenant = %tenant, error = %e, "cannot list webhooks; routing event not delivered");
            return;
        }
    };
    let wanted: Vec<_> = hooks
        .iter()
        .filter(|h| h.enabled && webhook::wants(&h.events, ROUTING_EVENT))
        .collect();
    if wanted.is_empty() {
        return;
    }
    // Attach the tenant's messages with the signal's document number.
    let number = s
        .transport_document_house_level
        .as_ref()
        .and_then(|d| d.reference_number.clone());
    let messages = match &number {
        Some(n) => store
            .messages_by_document(tenant, n)
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let message_ids: Vec<String> = messages.iter().map(|m| m.id.to_string()).collect();
    let payload: Value = json!({
        "event": ROUTING_EVENT,
        "created_at": OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "data": {
            "feed": feed.path_segment(),
            "routing_result_id": s.routing_result.id,
            "reference": new.reference,
            "signal": new.signal,
            "control_location": new.control_location,
            "document_number": number,
            "transport_mrn": s.transport_mrn,
            "house_mrn": s.house_mrn,
            "message_ids": message_ids,
            "raw": new.raw,
        }
    });
    let first = messages.first().map(|m| m.id);
    for hook in wanted {
        if let Err(e) = store
            .create_webhook_delivery(tenant, hook.id, first, ROUTING_EVENT, &payload)
            .await
        {
            tracing::warn!(tenant = %tenant, webhook = %hook.id, error = %e, "cannot record routing webhook delivery");
        }
    }
}
