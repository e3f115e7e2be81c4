//! The live part of a transport page (htmx polls it every few seconds): its
//! state and MRN, Toll's status-with-descendants tree (masters and houses,
//! received or missing), the routing signal and the entry status.
//!
//! Routing signals: besides the gateway's routing follower (every 30 s), an
//! open transport page asks the follower to read the tenant's feeds now
//! (`routing_worker::follow_tenant`: after the stored marker, each page
//! stored with its marker in one transaction, under the process's routing
//! lock), then shows the newest stored signal for the transport's MRN.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use digitoll_client::{ArrivalClient, TransportMode};
use digitoll_model::responses::StatusWithDescendants;
use digitoll_store::MessageId;

use super::pages::{find_message, state_label};
use super::{Ctx, Layout, WebError, parse_id};
use crate::state::GatewayState;

use crate::routing_worker::ENTRY_SCOPE;

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
                    .map_or(TransportMode::Road, |a| a.client_mode());
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
            if let Err(e) = crate::routing_worker::follow_tenant(&state, m.tenant_id, &rt).await {
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
