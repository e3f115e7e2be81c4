//! The read pages (transports, a transport, a message, problems) and the
//! message and job actions.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use bytes::Bytes;
use digitoll_model::MessageKind;
use digitoll_store::{
    Attempt, DeliveryStatus, JobId, Message, MessageFilter, MessageId, MessageState, NewMessage,
    Operation, StateChange, Tenant, TenantId,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::forms::{Remark, explain};
use super::{Ctx, Form, Lang, Layout, WebError, parse_id, see_other};
use crate::api::messages::{tenant_validation, validate};
use crate::error::ApiError;
use crate::message::{ApiKind, ApiMode, document_fields};
use crate::state::GatewayState;
use crate::worker::split_envelope;

/// The tenants a request may see: its own, or for the operator all (or one).
pub(crate) async fn visible_tenants(
    state: &GatewayState,
    ctx: &Ctx,
    only: Option<TenantId>,
) -> Result<Vec<Tenant>, WebError> {
    match ctx.scope(only) {
        Ok(Some(t)) => Ok(vec![state.store().tenant(t).await?]),
        Ok(None) => Ok(state.store().tenants().await?),
        // A tenant asking for another tenant sees nothing.
        Err(_) => Ok(Vec::new()),
    }
}

/// A message the request may see (another tenant's is 404).
pub(crate) async fn find_message(
    state: &GatewayState,
    ctx: &Ctx,
    id: MessageId,
) -> Result<Message, WebError> {
    match ctx.tenant() {
        Some(t) => Ok(state.store().message(t, id).await?),
        None => {
            for t in state.store().tenants().await? {
                match state.store().message(t.id, id).await {
                    Ok(m) => return Ok(m),
                    Err(digitoll_store::Error::NotFound { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            Err(WebError::NotFound)
        }
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn instant_text(s: &str) -> String {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(super::oslo_text)
        .unwrap_or_else(|_| s.to_owned())
}

/// A transport row of the list.
#[derive(Debug, Clone)]
pub(crate) struct TransportRow {
    pub(crate) id: String,
    pub(crate) plate: String,
    pub(crate) arrival: String,
    pub(crate) office: String,
    pub(crate) state: String,
    pub(crate) state_label: &'static str,
    pub(crate) mrn: String,
    pub(crate) tenant: String,
    pub(crate) created: String,
}

pub(crate) fn state_label(lang: Lang, s: MessageState) -> &'static str {
    lang.t(&format!("state.{}", s.as_str()))
}

#[derive(Template)]
#[template(path = "transports.html")]
struct TransportsPage {
    l: Layout,
    rows: Vec<TransportRow>,
    q: HashMap<String, String>,
    states: Vec<(&'static str, &'static str)>,
    offices: Vec<String>,
    tenants: Vec<(String, String)>,
}

impl TransportsPage {
    fn q(&self, k: &str) -> &str {
        self.q.get(k).map_or("", String::as_str)
    }
}

/// `GET /ui/transports`: filters state, date, plate, office, tenant.
pub(crate) async fn transports(
    State(state): State<GatewayState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let get = |k: &str| {
        q.get(k)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let st = get("state").and_then(|s| s.parse::<MessageState>().ok());
    let plate = get("plate").map(|p| p.to_uppercase().replace(' ', ""));
    let office = get("office");
    let date = get("date");
    let only = get("tenant").and_then(|t| t.parse::<TenantId>().ok());
    let tenants = visible_tenants(&state, &ctx, only).await?;
    let mut rows: Vec<(OffsetDateTime, TransportRow)> = Vec::new();
    for t in &tenants {
        let list = state
            .store()
            .messages(
                t.id,
                MessageFilter {
                    state: st,
                    document_number: None,
                    limit: Some(1000),
                },
            )
            .await?;
        for m in list {
            if m.kind != "transport" || m.operation != Operation::Create {
                continue;
            }
            let body = &m.body;
            let p = str_at(body, "/activeBorderTransportMeans/identificationNumber");
            if let Some(want) = &plate
                && !p.to_uppercase().replace(' ', "").contains(want.as_str())
            {
                continue;
            }
            let o = str_at(body, "/customsOfficeOfFirstEntry/referenceNumber");
            if let Some(want) = &office
                && o != want
            {
                continue;
            }
            let arrival = str_at(body, "/scheduledDateAndTimeOfArrival");
            let arrival_text = instant_text(arrival);
            if let Some(d) = &date
                && !arrival_text.starts_with(d.as_str())
            {
                continue;
            }
            rows.push((
                m.created_at,
                TransportRow {
                    id: m.id.to_string(),
                    plate: p.to_owned(),
                    arrival: arrival_text,
                    office: o.to_owned(),
                    state: m.state.as_str().to_owned(),
                    state_label: state_label(ctx.lang, m.state),
                    mrn: m.mrn.clone().unwrap_or_default(),
                    tenant: t.name.clone(),
                    created: super::oslo_text(m.created_at),
                },
            ));
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    let states = [
        MessageState::Queued,
        MessageState::Sending,
        MessageState::Submitted,
        MessageState::Accepted,
        MessageState::Incomplete,
        MessageState::Rejected,
        MessageState::Failed,
        MessageState::Dead,
    ]
    .into_iter()
    .map(|s| (s.as_str(), state_label(ctx.lang, s)))
    .collect();
    let tenant_opts = if ctx.is_admin() {
        state
            .store()
            .tenants()
            .await?
            .into_iter()
            .map(|t| (t.id.to_string(), t.name))
            .collect()
    } else {
        Vec::new()
    };
    let page = TransportsPage {
        l: ctx.layout("transports.title", "transports"),
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        q,
        states,
        offices: digitoll_model::CodeList::Cl141.codes().to_vec(),
        tenants: tenant_opts,
    };
    Ok(Html(page.render()?).into_response())
}

/// A master or house named by a transport.
#[derive(Debug, Clone)]
pub(crate) struct RefView {
    pub(crate) level: &'static str,
    pub(crate) number: String,
    pub(crate) doc_type: String,
    /// The tenant's own message for it, if it sent one.
    pub(crate) local: Option<(String, String, &'static str, String)>,
    pub(crate) reasons: Vec<String>,
}

/// The masters and houses a transport body names, with the tenant's own
/// message for each when it sent one.
pub(crate) async fn refs_of(
    state: &GatewayState,
    lang: Lang,
    m: &Message,
    body: &Value,
) -> Result<Vec<RefView>, WebError> {
    let mut out = Vec::new();
    for c in body
        .get("consignmentMasterLevel")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(d) = c.get("transportDocumentMasterLevel") {
            out.push(("master", d.clone()));
        }
        for h in c
            .get("consignmentHouseLevel")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(d) = h.get("transportDocumentHouseLevel") {
                out.push(("house", d.clone()));
            }
        }
    }
    let mut views = Vec::new();
    for (level, d) in out {
        let number = str_at(&d, "/documentNumber").to_owned();
        let doc_type = str_at(&d, "/type").to_owned();
        let mut local = None;
        let mut reasons = Vec::new();
        if !number.is_empty() {
            let mine = state
                .store()
                .messages(
                    m.tenant_id,
                    MessageFilter {
                        state: None,
                        document_number: Some(number.clone()),
                        limit: Some(20),
                    },
                )
                .await?;
            if let Some(own) = mine
                .iter()
                .find(|x| x.kind == level && x.operation == Operation::Create)
            {
                local = Some((
                    own.id.to_string(),
                    own.state.as_str().to_owned(),
                    state_label(lang, own.state),
                    own.mrn.clone().unwrap_or_default(),
                ));
                reasons = incomplete_reasons(own.validation_errors.as_ref());
            }
        }
        views.push(RefView {
            level,
            number,
            doc_type,
            local,
            reasons,
        });
    }
    Ok(views)
}

/// INCOMPLETE reasons stored with an accepted message, as text.
pub(crate) fn incomplete_reasons(v: Option<&Value>) -> Vec<String> {
    let Some(v) = v else { return Vec::new() };
    let list = v
        .get("incompleteDocumentationReasonList")
        .or_else(|| v.get("incompleteDocumentationReason"))
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| v.as_array().cloned())
        .unwrap_or_default();
    list.iter()
        .filter(|r| r.get("description").is_some() || r.get("code").is_some() || r.is_string())
        .map(|r| match r {
            Value::String(s) => s.clone(),
            other => {
                let code = other.get("code").and_then(Value::as_str).unwrap_or("");
                let desc = other
                    .get("description")
                    .or_else(|| other.get("reason"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                format!("{code} {desc}").trim().to_owned()
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "transport.html")]
struct TransportPage {
    l: Layout,
    id: String,
    plate: String,
    nationality: String,
    driver: String,
    office: String,
    scheduled: String,
    estimated: String,
    eta_input: String,
    state: String,
    state_label: &'static str,
    mrn: String,
    tenant: String,
    refs: Vec<RefView>,
    changes: Vec<(String, String, String, &'static str, String)>,
}

/// `GET /ui/transports/{id}`: the transport, its consignments, live parts.
pub(crate) async fn transport(
    State(state): State<GatewayState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: MessageId = parse_id(&id)?;
    let m = find_message(&state, &ctx, id).await?;
    if m.kind != "transport" {
        return Err(WebError::NotFound);
    }
    let body = split_envelope(&m).1;
    let refs = refs_of(&state, ctx.lang, &m, &body).await?;
    let tenant = state.store().tenant(m.tenant_id).await?;
    let mut changes = Vec::new();
    if let Some(plate) = &m.document_number {
        for c in state
            .store()
            .messages(
                m.tenant_id,
                MessageFilter {
                    state: None,
                    document_number: Some(plate.clone()),
                    limit: Some(50),
                },
            )
            .await?
        {
            let (target, _) = split_envelope(&c);
            if c.kind == "transport"
                && c.operation != Operation::Create
                && target.is_some()
                && target == m.mrn
            {
                changes.push((
                    c.id.to_string(),
                    super::oslo_text(c.created_at),
                    c.operation.as_str().to_owned(),
                    state_label(ctx.lang, c.state),
                    str_at(&split_envelope(&c).1, "/estimatedDateAndTimeOfArrival").to_owned(),
                ));
            }
        }
    }
    let estimated = changes
        .iter()
        .find(|c| c.2 == "update" && !c.4.is_empty())
        .map(|c| c.4.clone())
        .unwrap_or_else(|| str_at(&body, "/estimatedDateAndTimeOfArrival").to_owned());
    let eta_input =
        OffsetDateTime::parse(&estimated, &time::format_description::well_known::Rfc3339)
            .map(super::oslo_input)
            .unwrap_or_default();
    let page = TransportPage {
        l: ctx.layout("transport.title", "transports"),
        id: m.id.to_string(),
        plate: str_at(&body, "/activeBorderTransportMeans/identificationNumber").to_owned(),
        nationality: str_at(&body, "/activeBorderTransportMeans/countryCode").to_owned(),
        driver: str_at(&body, "/activeBorderTransportMeans/operator/name").to_owned(),
        office: str_at(&body, "/customsOfficeOfFirstEntry/referenceNumber").to_owned(),
        scheduled: instant_text(str_at(&body, "/scheduledDateAndTimeOfArrival")),
        estimated: instant_text(&estimated),
        eta_input,
        state: m.state.as_str().to_owned(),
        state_label: state_label(ctx.lang, m.state),
        mrn: m.mrn.clone().unwrap_or_default(),
        tenant: format!("{} ({})", tenant.name, tenant.org_number),
        refs,
        changes,
    };
    Ok(Html(page.render()?).into_response())
}

/// One of Toll's remarks on a stored message.
#[derive(Debug, Clone)]
pub(crate) struct ErrorView {
    pub(crate) field: String,
    pub(crate) remark: Remark,
}

/// Toll's lists stored with a message, with explanations.
pub(crate) fn error_views(lang: Lang, v: Option<&Value>) -> Vec<ErrorView> {
    let Some(v) = v else { return Vec::new() };
    let mut out = Vec::new();
    let mut push = |field: &str, text: &str| {
        out.push(ErrorView {
            field: field.to_owned(),
            remark: Remark {
                explain: explain(lang, text),
                toll: text.to_owned(),
            },
        });
    };
    let lists = [
        v.get("validationErrors"),
        v.get("validationErrorList"),
        v.is_array().then_some(v),
    ];
    for item in lists
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
    {
        if let (Some(f), Some(e)) = (
            item.get("field").and_then(Value::as_str),
            item.get("error").and_then(Value::as_str),
        ) {
            push(f, e);
        } else if let Some(d) = item.get("description").and_then(Value::as_str) {
            let path = item
                .pointer("/pointer/messageElementPath")
                .and_then(Value::as_str)
                .unwrap_or("");
            push(path, d);
        }
    }
    out
}

/// A local finding as shown, with Toll's answer beside it.
#[derive(Debug, Clone)]
pub(crate) struct LocalFindingView {
    pub(crate) rule: String,
    pub(crate) path: String,
    pub(crate) severity: String,
    /// "Our rule X said …; Toll answered …".
    pub(crate) sentence: String,
}

/// The message's local findings, each with what Toll answered (its state,
/// MRN, or its remark at the same field).
pub(crate) fn local_views(lang: Lang, m: &Message, toll: &[ErrorView]) -> Vec<LocalFindingView> {
    let Some(list) = m.local_findings.as_ref().and_then(Value::as_array) else {
        return Vec::new();
    };
    let text = |f: &Value, k: &str| f.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    list.iter()
        .map(|f| {
            let (rule, path) = (text(f, "rule"), text(f, "path"));
            let answer = match (m.state, &m.mrn) {
                (MessageState::Accepted | MessageState::Incomplete, Some(mrn)) => {
                    lang.t("message.toll_accepted").replace("{mrn}", mrn)
                }
                (MessageState::Rejected, _) => match toll.iter().find(|e| e.field == path) {
                    Some(e) => lang
                        .t("message.toll_same_field")
                        .replace("{text}", &e.remark.toll),
                    None => lang.t("message.toll_other_field").to_owned(),
                },
                (
                    MessageState::Received
                    | MessageState::Queued
                    | MessageState::Sending
                    | MessageState::Submitted,
                    _,
                ) => lang.t("message.toll_pending").to_owned(),
                (other, _) => lang
                    .t("message.toll_state")
                    .replace("{state}", state_label(lang, other)),
            };
            LocalFindingView {
                sentence: lang
                    .t("message.local_said")
                    .replace("{rule}", &rule)
                    .replace("{text}", &text(f, "message"))
                    .replace("{toll}", &answer),
                severity: text(f, "severity"),
                rule,
                path,
            }
        })
        .collect()
}

/// A recorded attempt as shown.
#[derive(Debug, Clone)]
pub(crate) struct AttemptView {
    pub(crate) no: u32,
    pub(crate) started: String,
    pub(crate) outcome: String,
    pub(crate) http: String,
    pub(crate) class: String,
    pub(crate) error: String,
}

fn attempt_view(a: &Attempt) -> AttemptView {
    AttemptView {
        no: a.attempt_no,
        started: super::oslo_text(a.started_at),
        outcome: a.outcome.clone().unwrap_or_default(),
        http: a.http_status.map(|s| s.to_string()).unwrap_or_default(),
        class: a.error_class.clone().unwrap_or_default(),
        error: redact(a.error_text.as_deref().unwrap_or("")),
    }
}

/// Removes anything that looks like a bearer token or API key from text.
pub(crate) fn redact(s: &str) -> String {
    s.split_inclusive(char::is_whitespace)
        .map(|w| {
            let core = w.trim_end();
            let looks_secret = core.starts_with("dtk_")
                || core.starts_with("whsec_")
                || (core.len() > 40 && core.matches('.').count() == 2 && !core.contains('/'));
            if looks_secret {
                format!("[redacted]{}", &w[core.len()..])
            } else {
                w.to_owned()
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    l: Layout,
    m_id: String,
    kind: String,
    mode: String,
    operation: String,
    state: String,
    state_label: &'static str,
    mrn: String,
    request_id: String,
    target_mrn: String,
    document: String,
    tenant: String,
    created: String,
    needs_attention: bool,
    errors: Vec<ErrorView>,
    local: Vec<LocalFindingView>,
    validation_mode: String,
    reasons: Vec<String>,
    history: Vec<(String, String, String)>,
    attempts: Vec<AttemptView>,
    request_line: String,
    body_pretty: String,
    can_change: bool,
    delete_body: String,
    transport_link: String,
    notice: String,
}

fn request_line(m: &Message, target: Option<&str>) -> String {
    let mode = ApiMode::Road;
    let _ = mode;
    let path = match (m.kind.as_str(), m.operation) {
        ("transport", Operation::Create) => "/transport".to_owned(),
        ("master", Operation::Create) => "/master-consignment".to_owned(),
        ("house", Operation::Create) => "/house-consignment".to_owned(),
        (k, _) => format!(
            "/{}/{}",
            match k {
                "transport" => "transport",
                "master" => "master-consignment",
                _ => "house-consignment",
            },
            target.unwrap_or("{mrn}")
        ),
    };
    let method = match m.operation {
        Operation::Create => "POST",
        Operation::Update => "PUT",
        Operation::Delete => "DELETE",
    };
    format!(
        "{method} /api/movement/{}/…{path}\nAuthorization: Bearer [redacted]\nContent-Type: application/json",
        m.api
    )
}

/// `GET /ui/messages/{id}`.
pub(crate) async fn message(
    State(state): State<GatewayState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let id: MessageId = parse_id(&id)?;
    let m = find_message(&state, &ctx, id).await?;
    let history: Vec<StateChange> = state.store().history(m.tenant_id, id).await?;
    let attempts = state.store().attempts(m.tenant_id, id).await?;
    let tenant = state.store().tenant(m.tenant_id).await?;
    let needs_attention = m.state == MessageState::Dead
        && history
            .last()
            .and_then(|h| h.detail.as_deref())
            .is_some_and(|d| d.starts_with("needs attention"));
    let (target, body) = split_envelope(&m);
    let delete_body = serde_json::to_string_pretty(&json!({
        "documentIssueDate": super::toll_instant(OffsetDateTime::now_utc()),
        "representative": body.get("representative").cloned().unwrap_or(Value::Null),
    }))
    .unwrap_or_default()
    .replace(",\n  \"representative\": null", "");
    let transport_link = if m.kind == "transport" && m.operation == Operation::Create {
        format!("/ui/transports/{}", m.id)
    } else {
        String::new()
    };
    let errors = if m.state == MessageState::Rejected {
        error_views(ctx.lang, m.validation_errors.as_ref())
    } else {
        Vec::new()
    };
    let page = MessagePage {
        l: ctx.layout("message.title", "transports"),
        m_id: m.id.to_string(),
        kind: m.kind.clone(),
        mode: m.api.clone(),
        operation: m.operation.as_str().into(),
        state: m.state.as_str().into(),
        state_label: state_label(ctx.lang, m.state),
        mrn: m.mrn.clone().unwrap_or_default(),
        request_id: m.request_id.clone().unwrap_or_default(),
        target_mrn: target.clone().unwrap_or_default(),
        document: m.document_number.clone().unwrap_or_default(),
        tenant: format!("{} ({})", tenant.name, tenant.org_number),
        created: super::oslo_text(m.created_at),
        needs_attention,
        errors: errors.clone(),
        local: local_views(ctx.lang, &m, &errors),
        validation_mode: m.validation_mode.as_str().into(),
        reasons: incomplete_reasons(m.validation_errors.as_ref()),
        history: history
            .iter()
            .map(|h| {
                (
                    super::oslo_text(h.at),
                    state_label(ctx.lang, h.to).to_owned(),
                    redact(h.detail.as_deref().unwrap_or("")),
                )
            })
            .collect(),
        attempts: attempts.iter().map(attempt_view).collect(),
        request_line: request_line(&m, target.as_deref()),
        body_pretty: serde_json::to_string_pretty(&body).unwrap_or_default(),
        can_change: m.mrn.is_some() && m.operation == Operation::Create,
        delete_body,
        transport_link,
        notice: if q.contains_key("queued") {
            ctx.lang.t("message.queued").to_owned()
        } else {
            String::new()
        },
    };
    Ok(Html(page.render()?).into_response())
}

async fn change(
    state: &GatewayState,
    ctx: &Ctx,
    id: MessageId,
    body: Value,
    op: Operation,
) -> Result<MessageId, WebError> {
    let original = find_message(state, ctx, id).await?;
    let kind: ApiKind = original.kind.parse().map_err(WebError::BadRequest)?;
    let mode: ApiMode = original.api.parse().map_err(WebError::BadRequest)?;
    let mrn = original
        .mrn
        .clone()
        .ok_or_else(|| WebError::BadRequest(ctx.lang.t("message.needs_mrn").into()))?;
    let validation = tenant_validation(state, original.tenant_id)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let mk = if op == Operation::Delete {
        MessageKind::Delete
    } else {
        kind.message_kind()
    };
    let checked =
        match validate(mode, mk, &body, &validation, false) {
            Ok(c) => c,
            Err(ApiError::Validation { sync, business }) => {
                let text =
                    sync.iter()
                        .map(|e| format!("{}: {}", e.field, e.error))
                        .chain(business.iter().map(|e| {
                            format!("{}: {}", e.pointer.message_element_path, e.description)
                        }))
                        .collect::<Vec<_>>()
                        .join("; ");
                return Err(WebError::BadRequest(text));
            }
            Err(e) => return Err(WebError::BadRequest(e.to_string())),
        };
    let (document_number, document_type, carrier_id) = if op == Operation::Update {
        document_fields(kind, &body)
    } else {
        (
            original.document_number.clone(),
            original.document_type.clone(),
            original.carrier_id.clone(),
        )
    };
    let sub = state
        .store()
        .submit_message(NewMessage {
            tenant_id: original.tenant_id,
            api: mode.as_str().into(),
            kind: kind.as_str().into(),
            operation: op,
            body: json!({ "mrn": mrn, "message": body }),
            document_number,
            document_type,
            carrier_id,
            idempotency_key: None,
            local_findings: checked.stored_findings(),
            validation_mode: checked.mode,
        })
        .await?;
    Ok(sub.message.id)
}

fn json_field(form: &Form, name: &str) -> Result<Value, WebError> {
    let text = form.get(name).unwrap_or("");
    serde_json::from_str(text)
        .map_err(|e| WebError::BadRequest(format!("{name}: the text is not valid JSON: {e}")))
}

/// `POST /ui/messages/{id}/update`: a full replacement (PUT by MRN).
pub(crate) async fn message_update(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let form = Form::parse(&body);
    ctx.check_csrf(&headers, &form)?;
    let id: MessageId = parse_id(&id)?;
    let new = change(
        &state,
        &ctx,
        id,
        json_field(&form, "body")?,
        Operation::Update,
    )
    .await?;
    Ok(see_other(&ctx, &format!("/ui/messages/{new}?queued=1")))
}

/// `POST /ui/messages/{id}/delete`: cancellation at Toll (DELETE by MRN).
pub(crate) async fn message_delete(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let form = Form::parse(&body);
    ctx.check_csrf(&headers, &form)?;
    if form.get("confirm") != Some("yes") {
        return Err(WebError::BadRequest(
            ctx.lang.t("message.delete_confirm").into(),
        ));
    }
    let id: MessageId = parse_id(&id)?;
    let new = change(
        &state,
        &ctx,
        id,
        json_field(&form, "body")?,
        Operation::Delete,
    )
    .await?;
    Ok(see_other(&ctx, &format!("/ui/messages/{new}?queued=1")))
}

/// A dead-lettered job as shown.
#[derive(Debug, Clone)]
pub(crate) struct JobView {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) tenant: String,
    pub(crate) message: String,
    pub(crate) error: String,
    pub(crate) when: String,
}

/// A rejected message or failed delivery as shown.
#[derive(Debug, Clone)]
pub(crate) struct ProblemRow {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) document: String,
    pub(crate) tenant: String,
    pub(crate) when: String,
    pub(crate) detail: String,
}

#[derive(Template)]
#[template(path = "problems.html")]
struct ProblemsPage {
    l: Layout,
    rejected: Vec<ProblemRow>,
    jobs: Vec<JobView>,
    deliveries: Vec<ProblemRow>,
}

/// `GET /ui/problems`.
pub(crate) async fn problems(
    State(state): State<GatewayState>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    let tenants = visible_tenants(&state, &ctx, None).await?;
    let names: HashMap<TenantId, String> = tenants.iter().map(|t| (t.id, t.name.clone())).collect();
    let mut rejected = Vec::new();
    let mut deliveries = Vec::new();
    for t in &tenants {
        for st in [MessageState::Rejected, MessageState::Failed] {
            for m in state
                .store()
                .messages(
                    t.id,
                    MessageFilter {
                        state: Some(st),
                        document_number: None,
                        limit: Some(100),
                    },
                )
                .await?
            {
                let detail = error_views(ctx.lang, m.validation_errors.as_ref())
                    .first()
                    .map(|e| format!("{}: {}", e.field, e.remark.explain))
                    .unwrap_or_else(|| state_label(ctx.lang, m.state).to_owned());
                rejected.push(ProblemRow {
                    id: m.id.to_string(),
                    kind: m.kind.clone(),
                    document: m.document_number.clone().unwrap_or_default(),
                    tenant: t.name.clone(),
                    when: super::oslo_text(m.updated_at),
                    detail,
                });
            }
        }
        for hook in state.store().webhooks(t.id).await? {
            for d in state.store().webhook_deliveries(t.id, hook.id, 50).await? {
                if d.status == DeliveryStatus::Failed
                    || (d.status == DeliveryStatus::Pending && d.attempts > 0)
                {
                    deliveries.push(ProblemRow {
                        id: d.id.to_string(),
                        kind: d.event.clone(),
                        document: hook.url.clone(),
                        tenant: t.name.clone(),
                        when: super::oslo_text(d.created_at),
                        detail: format!(
                            "{} × {} {}",
                            d.attempts,
                            d.last_status_code
                                .map(|c| c.to_string())
                                .unwrap_or_default(),
                            d.last_response.clone().unwrap_or_default()
                        ),
                    });
                }
            }
        }
    }
    let dead = state.store().dead_jobs(ctx.tenant(), 200).await?;
    let jobs = dead
        .into_iter()
        .filter(|j| names.contains_key(&j.tenant_id))
        .map(|j| JobView {
            id: j.id.0,
            kind: j.kind.to_string(),
            tenant: names.get(&j.tenant_id).cloned().unwrap_or_default(),
            message: j.message_id.map(|m| m.to_string()).unwrap_or_default(),
            error: redact(j.last_error.as_deref().unwrap_or("")),
            when: super::oslo_text(j.updated_at),
        })
        .collect();
    let page = ProblemsPage {
        l: ctx.layout("problems.title", "problems"),
        rejected,
        jobs,
        deliveries,
    };
    Ok(Html(page.render()?).into_response())
}

async fn job_action(
    state: &GatewayState,
    ctx: &Ctx,
    headers: &HeaderMap,
    id: &str,
    body: &Bytes,
    retry: bool,
) -> Result<Response, WebError> {
    let form = Form::parse(body);
    ctx.check_csrf(headers, &form)?;
    let id = JobId(parse_id(id)?);
    // A tenant may act on its own jobs only; the store refuses others (404).
    if retry {
        state.store().retry_job(ctx.tenant(), id).await?;
    } else {
        state.store().cancel_job(ctx.tenant(), id).await?;
    }
    let action = if retry { "job.retry" } else { "job.cancel" };
    if let Err(e) = state
        .store()
        .audit(digitoll_store::NewAuditEntry {
            tenant_id: ctx.tenant(),
            actor: format!("dashboard:{}", ctx.principal.actor()),
            action: action.into(),
            detail: json!({"job": id}),
        })
        .await
    {
        tracing::warn!(error = %e, "cannot write the audit log");
    }
    Ok(see_other(ctx, "/ui/problems"))
}

/// `POST /ui/jobs/{id}/retry`.
pub(crate) async fn job_retry(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    job_action(&state, &ctx, &headers, &id, &body, true).await
}

/// `POST /ui/jobs/{id}/cancel`.
pub(crate) async fn job_cancel(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    job_action(&state, &ctx, &headers, &id, &body, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_from_texts() {
        let jwt = format!("{}.{}.{}", "a".repeat(20), "b".repeat(30), "c".repeat(20));
        let s = redact(&format!("token {jwt} key dtk_abc and whsec_x end"));
        assert!(
            !s.contains("dtk_abc") && !s.contains(&jwt) && !s.contains("whsec_x"),
            "{s}"
        );
        assert!(s.contains("end") && s.contains("token"));
        let errs = error_views(
            Lang::En,
            Some(
                &json!({"validationErrors":[{"field":"carrier.name","error":"must not be null"}],
                 "validationErrorList":[{"description":"Country is invalid","pointer":{"messageElementPath":"carrier.address.country"}}]}),
            ),
        );
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[1].field, "carrier.address.country");
        assert_eq!(errs[1].remark.explain, Lang::En.t("x.country"));
    }
}
