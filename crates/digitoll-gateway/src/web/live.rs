//! The live part of a transport page (htmx polls it every few seconds): its
//! state and MRN, Toll's status-with-descendants tree (masters and houses,
//! received or missing), the routing signal and the entry status.
//!
//! Routing signals are read from Toll's transport and house feeds on
//! demand, after the tenant's stored marker, and stored with the new marker
//! in one transaction (`Store::record_routing_signals`), so a page is never
//! read twice and the dashboard shows what the store has. One read at a time
//! per process (a lock), so two open pages do not read the same page.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use digitoll_client::{ArrivalClient, Mode, RoutingClient, RoutingFeed};
use digitoll_model::responses::StatusWithDescendants;
use digitoll_store::{MessageId, NewRoutingSignal, TenantId};
use time::OffsetDateTime;

use super::pages::{find_message, state_label};
use super::{Ctx, Layout, WebError, parse_id};
use crate::runtime::TenantRuntime;
use crate::state::GatewayState;

/// The routing scope: the feeds need it.
const ENTRY_SCOPE: &str = "toll:movement/entry";

/// A node of Toll's tree as shown.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) level: &'static str,
    pub(crate) number: String,
    pub(crate) doc_type: String,
    pub(crate) mrn: String,
    pub(crate) status: String,
    pub(crate) missing: bool,
    pub(crate) depth: u8,
}

#[derive(Template)]
#[template(path = "transport_live.html")]
struct LiveFragment {
    l: Layout,
    state: String,
    state_label: &'static str,
    mrn: String,
    nodes: Vec<Node>,
    tree_note: &'static str,
    routing: Option<(String, &'static str, String, String)>,
    routing_note: String,
    entry: Option<(bool, String, String)>,
}

fn tree_nodes(tree: &StatusWithDescendants) -> Vec<Node> {
    let mut out = Vec::new();
    for m in &tree.master_consignments {
        out.push(Node {
            level: "master",
            number: m.document_number.clone(),
            doc_type: m.doc_type.clone(),
            mrn: m.mrn.clone().unwrap_or_default(),
            status: String::new(),
            missing: m.received == Some(false),
            depth: 0,
        });
        for h in &m.house_consignments {
            out.push(Node {
                level: "house",
                number: h.document_number.clone(),
                doc_type: h.doc_type.clone(),
                mrn: h.mrn.clone().unwrap_or_default(),
                status: h.status.clone().unwrap_or_default(),
                missing: h.received == Some(false),
                depth: 1,
            });
        }
    }
    for h in &tree.house_consignments {
        out.push(Node {
            level: "house",
            number: h.document_number.clone(),
            doc_type: h.doc_type.clone(),
            mrn: h.mrn.clone().unwrap_or_default(),
            status: h.status.clone().unwrap_or_default(),
            missing: h.received == Some(false),
            depth: 0,
        });
    }
    out
}

/// Reads new routing signals for the tenant and stores them with the marker.
async fn sync_routing(
    state: &GatewayState,
    tenant: TenantId,
    rt: &TenantRuntime,
) -> Result<(), String> {
    let _one_at_a_time = state.web().routing.lock().await;
    let client = RoutingClient::builder(rt.toll.clone())
        .http_client(state.http().clone())
        .build()
        .map_err(|e| e.to_string())?;
    for feed in RoutingFeed::ALL {
        let name = feed.path_segment();
        // At most a few pages per view, so a long backlog does not hold the page.
        for _ in 0..5 {
            let marker = state
                .store()
                .routing_cursor(tenant, name)
                .await
                .map_err(|e| e.to_string())?
                .and_then(|m| m.parse::<uuid::Uuid>().ok());
            let page = client.page(feed, marker).await.map_err(|e| e.label())?;
            let Some(last) = page.last().map(|s| s.routing_result.id) else {
                break;
            };
            let signals: Vec<NewRoutingSignal> = page
                .iter()
                .map(|s| NewRoutingSignal {
                    reference: match feed {
                        RoutingFeed::Transport => s
                            .transport_mrn
                            .clone()
                            .or_else(|| s.document_key())
                            .unwrap_or_default(),
                        RoutingFeed::HouseConsignment => s.document_key().unwrap_or_default(),
                    },
                    signal: s.routing_result.routing.as_str().to_owned(),
                    control_location: s
                        .routing_result
                        .routing_control_location
                        .as_ref()
                        .map(|l| l.as_str().to_owned()),
                    received_at: OffsetDateTime::now_utc(),
                    raw: serde_json::to_value(s).unwrap_or_default(),
                })
                .collect();
            state
                .store()
                .record_routing_signals(tenant, name, &signals, &last.hyphenated().to_string())
                .await
                .map_err(|e| e.to_string())?;
            if page.len() < digitoll_model::routing::MAX_ROUTING_PAGE {
                break;
            }
        }
    }
    Ok(())
}

/// `GET /ui/transports/{id}/live` (htmx fragment).
pub(crate) async fn transport_live(
    State(state): State<GatewayState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: MessageId = parse_id(&id)?;
    let m = find_message(&state, &ctx, id).await?;
    if m.kind != "transport" {
        return Err(WebError::NotFound);
    }
    let mut nodes = Vec::new();
    let mut tree_note = "";
    let mut routing = None;
    let mut routing_note = String::new();
    let mut entry = None;
    if let Some(mrn_text) = &m.mrn {
        let rt = state
            .runtimes()
            .get(m.tenant_id)
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?;
        match digitoll_model::Mrn::parse(mrn_text) {
            Ok(mrn) => {
                let mode = m
                    .api
                    .parse::<crate::message::ApiMode>()
                    .map_or(Mode::Road, |a| a.client_mode());
                match rt
                    .client(mode)
                    .transport_status_with_descendants(&mrn)
                    .await
                {
                    Ok(tree) => nodes = tree_nodes(&tree),
                    Err(e) => {
                        tracing::info!(error = %e.label(), "dashboard: tree not read");
                        tree_note = "transport.tree_error";
                    }
                }
                if let Ok(arrival) = ArrivalClient::builder(rt.toll.clone())
                    .http_client(state.http().clone())
                    .build()
                {
                    match arrival.entry_status(mode, &mrn).await {
                        Ok(s) => {
                            entry = Some((
                                s.valid_entry,
                                s.customs_office_of_entry.unwrap_or_default(),
                                s.time_of_entry.unwrap_or_default(),
                            ));
                        }
                        Err(digitoll_client::Error::NotFound { .. }) => {}
                        Err(e) => {
                            tracing::info!(error = %e.label(), "dashboard: entry status not read")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "dashboard: stored MRN does not parse"),
        }
        if rt.tenant.scopes.iter().any(|s| s == ENTRY_SCOPE) {
            if let Err(e) = sync_routing(&state, m.tenant_id, &rt).await {
                routing_note = e;
            }
            let signals = state
                .store()
                .routing_signals(m.tenant_id, Some(mrn_text), 1)
                .await?;
            if let Some(s) = signals.first() {
                routing = Some((
                    s.signal.clone(),
                    ctx.lang.t(&format!("routing.{}", s.signal)),
                    s.control_location
                        .as_deref()
                        .map(|l| ctx.lang.t(&format!("routing.{l}")).to_owned())
                        .unwrap_or_default(),
                    super::oslo_text(s.received_at),
                ));
            }
        } else {
            routing_note = format!("the tenant has no {ENTRY_SCOPE} scope");
        }
    } else {
        tree_note = "transport.notree";
    }
    let page = LiveFragment {
        l: ctx.layout("transport.title", "transports"),
        state: m.state.as_str().to_owned(),
        state_label: state_label(ctx.lang, m.state),
        mrn: m.mrn.clone().unwrap_or_default(),
        nodes,
        tree_note,
        routing,
        routing_note,
        entry,
    };
    Ok(Html(page.render()?).into_response())
}
