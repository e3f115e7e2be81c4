//! The road transport form for carriers without a system: fields → a Toll
//! transport message, checked live with digitoll-model's rules (the same
//! call as `POST /v1/messages`), with Toll's errors shown at the field they
//! concern and a plain explanation; then submitted through the outbox.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use bytes::Bytes;
use digitoll_model::{CodeList, MessageKind};
use digitoll_store::{MessageId, NewMessage, Operation, TenantId};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::{Ctx, Form, Lang, Layout, WebError, parse_id, see_other};
use crate::api::messages::{tenant_validation, validate};
use crate::error::ApiError;
use crate::message::{ApiKind, ApiMode, document_fields};
use crate::state::GatewayState;
use crate::validation::TenantValidation;
use crate::worker::split_envelope;

/// One remark of Toll's rules on a form field.
#[derive(Debug, Clone)]
pub(crate) struct Remark {
    /// A plain explanation in the page's language.
    pub(crate) explain: &'static str,
    /// Toll's own wording (and the path it named).
    pub(crate) toll: String,
}

/// A rendered input.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) value: String,
    pub(crate) options: Vec<String>,
    pub(crate) autocomplete: &'static str,
    pub(crate) remarks: Vec<Remark>,
    pub(crate) wide: bool,
}

/// A fieldset.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub(crate) legend: &'static str,
    pub(crate) fields: Vec<Field>,
}

/// A consignment row (a master or a direct house, by document number).
#[derive(Debug, Clone, Default)]
pub(crate) struct RefRow {
    pub(crate) level: String,
    pub(crate) number: String,
    pub(crate) doc_type: String,
    pub(crate) remarks: Vec<Remark>,
}

/// The form's values.
#[derive(Debug, Clone, Default)]
pub(crate) struct TransportForm {
    pub(crate) values: BTreeMap<&'static str, String>,
    pub(crate) refs: Vec<RefRow>,
    pub(crate) form_id: String,
    pub(crate) tenant: String,
}

/// (name, label key, input kind, autocomplete).
const VEHICLE: &[(&str, &str, &str, &str)] = &[
    ("plate", "form.plate", "text", "off"),
    ("nationality", "form.nationality", "country", "off"),
    ("means", "form.means", "means", "off"),
    ("driver", "form.driver", "text", "name"),
    ("phone", "form.phone", "tel", "tel"),
];
const CARRIER: &[(&str, &str, &str, &str)] = &[
    ("carrier_name", "form.carrier_name", "text", "organization"),
    ("carrier_id", "form.carrier_id", "text", "off"),
    ("street", "form.street", "text", "street-address"),
    ("postcode", "form.postcode", "text", "postal-code"),
    ("city", "form.city", "text", "address-level2"),
    ("country", "form.country", "country", "off"),
    ("email", "form.email", "email", "email"),
];
const CROSSING: &[(&str, &str, &str, &str)] = &[
    ("office", "form.office", "office", "off"),
    ("scheduled", "form.scheduled", "datetime-local", "off"),
];

/// Every named field (for the live check's out-of-band updates).
pub(crate) fn field_names() -> impl Iterator<Item = &'static str> {
    VEHICLE
        .iter()
        .chain(CARRIER)
        .chain(CROSSING)
        .map(|(n, _, _, _)| *n)
}

/// Which form field a Toll path concerns: (field, or `ref:i` for a row).
fn field_for(path: &str) -> Option<String> {
    let p = path
        .trim_start_matches("$.")
        .trim_start_matches('/')
        .replace('/', ".");
    let table: &[(&str, &str)] = &[
        ("activeBorderTransportMeans.identificationNumber", "plate"),
        ("activeBorderTransportMeans.countryCode", "nationality"),
        ("activeBorderTransportMeans.typeOfMeansOfTransport", "means"),
        ("activeBorderTransportMeans.operator.name", "driver"),
        ("activeBorderTransportMeans.operator.communication", "phone"),
        ("activeBorderTransportMeans.operator", "driver"),
        ("activeBorderTransportMeans", "plate"),
        ("carrier.name", "carrier_name"),
        ("carrier.identificationNumber", "carrier_id"),
        ("carrier.address.streetLine", "street"),
        ("carrier.address.postcode", "postcode"),
        ("carrier.address.city", "city"),
        ("carrier.address.country", "country"),
        ("carrier.address", "street"),
        ("carrier.communication", "email"),
        ("carrier", "carrier_name"),
        ("customsOfficeOfFirstEntry", "office"),
        ("scheduledDateAndTimeOfArrival", "scheduled"),
        ("estimatedDateAndTimeOfArrival", "scheduled"),
    ];
    for (prefix, field) in table {
        if p == *prefix
            || p.starts_with(&format!("{prefix}."))
            || p.starts_with(&format!("{prefix}["))
        {
            return Some((*field).to_owned());
        }
    }
    if let Some(rest) = p.strip_prefix("consignmentMasterLevel[")
        && let Some((i, _)) = rest.split_once(']')
        && let Ok(i) = i.parse::<usize>()
    {
        return Some(format!("ref:{i}"));
    }
    None
}

/// A plain explanation of one of Toll's error texts.
pub(crate) fn explain(lang: Lang, toll_text: &str) -> &'static str {
    use digitoll_model::validate::messages as m;
    let t = toll_text;
    let key = if t == m::NOT_NULL || t == m::NOT_BLANK {
        "x.not_null"
    } else if t == m::INSTANT || t == m::DATE {
        "x.instant"
    } else if t.starts_with("size must be") {
        "x.size"
    } else if t == m::COUNTRY_INVALID {
        "x.country"
    } else if t == m::CUSTOMS_OFFICE_INVALID {
        "x.office"
    } else if t == m::ESTIMATED_NOT_SCHEDULED {
        "x.estimated"
    } else if t.contains("at least one") {
        "x.one_of"
    } else if t.contains("must match") || t.contains("format") {
        "x.pattern"
    } else if t.to_ascii_lowercase().contains("one of") || t.to_ascii_lowercase().contains("code") {
        "x.code"
    } else {
        "x.other"
    };
    lang.t(key)
}

impl TransportForm {
    fn value(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }

    /// The form's values from a POST body (rows with neither a number nor a
    /// type are dropped unless `keep_empty`).
    pub(crate) fn from_form(form: &Form, keep_empty: bool) -> Self {
        let mut values = BTreeMap::new();
        for name in field_names() {
            values.insert(name, form.text(name));
        }
        let levels = form.all("ref_level");
        let numbers = form.all("ref_number");
        let types = form.all("ref_type");
        let n = levels.len().max(numbers.len()).max(types.len());
        let refs = (0..n)
            .map(|i| RefRow {
                level: levels.get(i).cloned().unwrap_or_else(|| "master".into()),
                number: numbers.get(i).cloned().unwrap_or_default(),
                doc_type: types.get(i).cloned().unwrap_or_default(),
                remarks: Vec::new(),
            })
            .filter(|r| keep_empty || !r.number.is_empty() || !r.doc_type.is_empty())
            .collect();
        Self {
            values,
            refs,
            form_id: form.text("form_id"),
            tenant: form.text("tenant"),
        }
    }

    /// The Toll transport message these values make (empty fields are left
    /// out, so Toll's "must not be null" names them).
    pub(crate) fn to_message(&self, now: OffsetDateTime) -> Value {
        let v = |n: &str| {
            let s = self.value(n);
            (!s.is_empty()).then_some(Value::String(s))
        };
        let mut obj = Map::new();
        let put = |m: &mut Map<String, Value>, k: &str, val: Option<Value>| {
            if let Some(val) = val {
                m.insert(k.to_owned(), val);
            }
        };
        obj.insert(
            "documentIssueDate".into(),
            Value::String(super::toll_instant(now)),
        );
        let mut means = Map::new();
        put(&mut means, "identificationNumber", v("plate"));
        means.insert("typeOfIdentification".into(), json!("30"));
        put(&mut means, "typeOfMeansOfTransport", v("means"));
        put(&mut means, "countryCode", v("nationality"));
        means.insert("modeOfTransportCode".into(), json!("3"));
        let mut operator = Map::new();
        put(&mut operator, "name", v("driver"));
        if let Some(phone) = v("phone") {
            operator.insert(
                "communication".into(),
                json!([{"identifier": phone, "type": "TE"}]),
            );
        }
        if !operator.is_empty() {
            means.insert("operator".into(), Value::Object(operator));
        }
        obj.insert("activeBorderTransportMeans".into(), Value::Object(means));
        let mut carrier = Map::new();
        put(&mut carrier, "name", v("carrier_name"));
        put(&mut carrier, "identificationNumber", v("carrier_id"));
        let mut address = Map::new();
        put(&mut address, "streetLine", v("street"));
        put(&mut address, "postcode", v("postcode"));
        put(&mut address, "city", v("city"));
        put(&mut address, "country", v("country"));
        if !address.is_empty() {
            carrier.insert("address".into(), Value::Object(address));
        }
        if let Some(email) = v("email") {
            carrier.insert(
                "communication".into(),
                json!([{"identifier": email, "type": "EM"}]),
            );
        }
        if !carrier.is_empty() {
            obj.insert("carrier".into(), Value::Object(carrier));
        }
        if let Some(office) = v("office") {
            obj.insert(
                "customsOfficeOfFirstEntry".into(),
                json!({ "referenceNumber": office }),
            );
        }
        let scheduled = self.value("scheduled");
        if !scheduled.is_empty() {
            // A malformed time is passed on as typed, so Toll's format rule names it.
            let text = super::parse_oslo_local(&scheduled)
                .map(super::toll_instant)
                .unwrap_or(scheduled);
            obj.insert(
                "scheduledDateAndTimeOfArrival".into(),
                Value::String(text.clone()),
            );
            obj.insert("estimatedDateAndTimeOfArrival".into(), Value::String(text));
        }
        if !self.refs.is_empty() {
            let list: Vec<Value> = self
                .refs
                .iter()
                .map(|r| {
                    let mut doc = Map::new();
                    if !r.number.is_empty() {
                        doc.insert("documentNumber".into(), Value::String(r.number.clone()));
                    }
                    if !r.doc_type.is_empty() {
                        doc.insert("type".into(), Value::String(r.doc_type.clone()));
                    }
                    if r.level == "house" {
                        json!({"consignmentHouseLevel": [{"transportDocumentHouseLevel": doc}]})
                    } else {
                        json!({"transportDocumentMasterLevel": doc})
                    }
                })
                .collect();
            obj.insert("consignmentMasterLevel".into(), Value::Array(list));
        }
        Value::Object(obj)
    }

    /// Runs Toll's rules; returns the remarks by field (`other` for the rest).
    pub(crate) fn check(
        &mut self,
        lang: Lang,
        body: &Value,
        validation: &TenantValidation,
    ) -> Result<BTreeMap<String, Vec<Remark>>, WebError> {
        let mut out: BTreeMap<String, Vec<Remark>> = BTreeMap::new();
        // Every finding is a remark, whatever the tenant's mode: the form
        // helps the user get it right; the mode decides whether it is sent.
        match validate(
            ApiMode::Road,
            MessageKind::Transport,
            body,
            &validation.strict(),
            true,
        ) {
            Ok(_) => {}
            Err(ApiError::Validation { sync, business }) => {
                let all = sync.into_iter().map(|e| (e.field, e.error)).chain(
                    business
                        .into_iter()
                        .map(|e| (e.pointer.message_element_path, e.description)),
                );
                for (path, text) in all {
                    let field = field_for(&path).unwrap_or_else(|| "other".into());
                    out.entry(field).or_default().push(Remark {
                        explain: explain(lang, &text),
                        toll: format!("{path}: {text}"),
                    });
                }
            }
            Err(e) => return Err(WebError::BadRequest(e.to_string())),
        }
        for (i, r) in self.refs.iter_mut().enumerate() {
            r.remarks = out.remove(&format!("ref:{i}")).unwrap_or_default();
        }
        Ok(out)
    }

    /// The fieldsets with values and remarks.
    pub(crate) fn sections(
        &self,
        lang: Lang,
        remarks: &BTreeMap<String, Vec<Remark>>,
    ) -> Vec<Section> {
        let build =
            |legend: &'static str,
             defs: &[(&'static str, &'static str, &'static str, &'static str)]| {
                Section {
                    legend: lang.t(legend),
                    fields: defs
                        .iter()
                        .map(|(name, label, kind, ac)| {
                            let (kind, options) = match *kind {
                                "country" => ("select", codes(CodeList::Country)),
                                "office" => ("select", codes(CodeList::Cl141)),
                                "means" => ("select", codes(CodeList::Cl751)),
                                k => (k, Vec::new()),
                            };
                            Field {
                                name,
                                label: lang.t(label),
                                kind,
                                value: self.value(name),
                                options,
                                autocomplete: ac,
                                remarks: remarks.get(*name).cloned().unwrap_or_default(),
                                wide: *name == "street" || *name == "office",
                            }
                        })
                        .collect(),
                }
            };
        vec![
            build("form.vehicle", VEHICLE),
            build("form.carrier", CARRIER),
            build("form.crossing", CROSSING),
        ]
    }
}

fn codes(list: CodeList) -> Vec<String> {
    list.codes().to_vec()
}

#[derive(Template)]
#[template(path = "transport_form.html")]
struct FormPage {
    l: Layout,
    sections: Vec<Section>,
    refs: Vec<RefRow>,
    doc_types: Vec<String>,
    other: Vec<Remark>,
    checked: bool,
    form_id: String,
    tenants: Vec<(String, String)>,
    tenant: String,
}

#[derive(Template)]
#[template(path = "form_check.html")]
struct CheckFragment {
    l: Layout,
    fields: Vec<(String, Vec<Remark>)>,
    refs: Vec<RefRow>,
    other: Vec<Remark>,
    total: usize,
}

async fn tenant_choices(
    state: &GatewayState,
    ctx: &Ctx,
) -> Result<Vec<(String, String)>, WebError> {
    if !ctx.is_admin() {
        return Ok(Vec::new());
    }
    Ok(state
        .store()
        .tenants()
        .await?
        .into_iter()
        .map(|t| (t.id.to_string(), format!("{} ({})", t.name, t.org_number)))
        .collect())
}

/// The tenant a form acts for: the session's, or the one the operator chose.
async fn form_tenant(
    state: &GatewayState,
    ctx: &Ctx,
    form: &TransportForm,
) -> Result<TenantId, WebError> {
    match ctx.tenant() {
        Some(t) => Ok(t),
        None => {
            let id: TenantId = form
                .tenant
                .parse()
                .map_err(|_| WebError::BadRequest("choose the tenant to send for".into()))?;
            state.store().tenant(id).await?;
            Ok(id)
        }
    }
}

fn render_form(
    ctx: &Ctx,
    form: &TransportForm,
    remarks: &BTreeMap<String, Vec<Remark>>,
    checked: bool,
    tenants: Vec<(String, String)>,
) -> Result<String, WebError> {
    let mut refs = form.refs.clone();
    if refs.is_empty() {
        refs.push(RefRow {
            level: "master".into(),
            doc_type: "N730".into(),
            ..RefRow::default()
        });
    }
    Ok(FormPage {
        l: ctx.layout("form.title", "new"),
        sections: form.sections(ctx.lang, remarks),
        refs,
        doc_types: codes(CodeList::Cl754),
        other: remarks.get("other").cloned().unwrap_or_default(),
        checked,
        form_id: form.form_id.clone(),
        tenants,
        tenant: form.tenant.clone(),
    }
    .render()?)
}

/// `GET /ui/transports/new`: the empty form, with the carrier prefilled
/// from the tenant.
pub(crate) async fn new_transport(
    State(state): State<GatewayState>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    let mut form = TransportForm {
        form_id: super::session::random_token(),
        ..TransportForm::default()
    };
    form.values.insert("means", "31".into());
    form.values.insert("country", "NO".into());
    let soon = OffsetDateTime::now_utc() + time::Duration::hours(3);
    let soon = soon
        .replace_minute(0)
        .unwrap_or(soon)
        .replace_second(0)
        .unwrap_or(soon);
    form.values.insert("scheduled", super::oslo_input(soon));
    if let Some(t) = ctx.tenant() {
        let t = state.store().tenant(t).await?;
        form.values.insert("carrier_name", t.name);
        form.values.insert("carrier_id", t.org_number);
    }
    let tenants = tenant_choices(&state, &ctx).await?;
    Ok(Html(render_form(&ctx, &form, &BTreeMap::new(), false, tenants)?).into_response())
}

/// `POST /ui/transports/check` (htmx, on change): the remarks as
/// out-of-band fragments next to each field.
pub(crate) async fn check_transport(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let raw = Form::parse(&body);
    ctx.check_csrf(&headers, &raw)?;
    let mut form = TransportForm::from_form(&raw, true);
    let validation = match form_tenant(&state, &ctx, &form).await {
        Ok(t) => tenant_validation(&state, t)
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?,
        Err(_) => TenantValidation {
            playground: true,
            ..TenantValidation::default()
        },
    };
    // Empty rows are checked too (they are on screen), so their indexes match.
    let message = form.to_message(OffsetDateTime::now_utc());
    let mut remarks = form.check(ctx.lang, &message, &validation)?;
    let fields = field_names()
        .map(|n| (n.to_owned(), remarks.remove(n).unwrap_or_default()))
        .collect::<Vec<_>>();
    let other = remarks.remove("other").unwrap_or_default();
    let total = fields.iter().map(|(_, r)| r.len()).sum::<usize>()
        + form.refs.iter().map(|r| r.remarks.len()).sum::<usize>()
        + other.len();
    Ok(Html(
        CheckFragment {
            l: ctx.layout("form.title", "new"),
            fields,
            refs: form.refs,
            other,
            total,
        }
        .render()?,
    )
    .into_response())
}

/// `POST /ui/transports`: add/remove a row, or check and submit.
pub(crate) async fn create_transport(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let raw = Form::parse(&body);
    ctx.check_csrf(&headers, &raw)?;
    let op = raw.text("op");
    let tenants = tenant_choices(&state, &ctx).await?;
    if op == "add_ref" || op.starts_with("remove_") {
        let mut form = TransportForm::from_form(&raw, true);
        if op == "add_ref" {
            form.refs.push(RefRow {
                level: "master".into(),
                doc_type: "N730".into(),
                ..RefRow::default()
            });
        } else if let Ok(i) = op.trim_start_matches("remove_").parse::<usize>()
            && i < form.refs.len()
        {
            form.refs.remove(i);
        }
        return Ok(
            Html(render_form(&ctx, &form, &BTreeMap::new(), false, tenants)?).into_response(),
        );
    }
    let mut form = TransportForm::from_form(&raw, false);
    let tenant = form_tenant(&state, &ctx, &form).await?;
    let validation = tenant_validation(&state, tenant)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let message = form.to_message(OffsetDateTime::now_utc());
    let remarks = form.check(ctx.lang, &message, &validation)?;
    let has_remarks = !remarks.is_empty() || form.refs.iter().any(|r| !r.remarks.is_empty());
    // In strict mode remarks stop the form; in advisory and off it is stored
    // (with the findings) and sent, as through the API.
    let checked = validate(
        ApiMode::Road,
        MessageKind::Transport,
        &message,
        &validation,
        true,
    );
    let checked = match checked {
        Ok(c) => c,
        Err(_) if has_remarks => {
            let page = render_form(&ctx, &form, &remarks, true, tenants)?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response());
        }
        Err(e) => return Err(WebError::BadRequest(e.to_string())),
    };
    let (document_number, document_type, carrier_id) =
        document_fields(ApiKind::Transport, &message);
    let key = (!form.form_id.is_empty()).then(|| format!("ui-form-{}", form.form_id));
    let sub = state
        .store()
        .submit_message(NewMessage {
            tenant_id: tenant,
            api: ApiMode::Road.as_str().into(),
            kind: ApiKind::Transport.as_str().into(),
            operation: Operation::Create,
            body: message,
            document_number,
            document_type,
            carrier_id,
            idempotency_key: key,
            local_findings: checked.stored_findings(),
            validation_mode: checked.mode,
        })
        .await?;
    metrics::counter!("digitoll_gateway_messages_received_total", "api" => "road", "kind" => "transport")
        .increment(1);
    Ok(see_other(
        &ctx,
        &format!("/ui/transports/{}", sub.message.id),
    ))
}

/// `POST /ui/transports/{id}/eta`: a new estimated arrival, sent to Toll as
/// an update (PUT by MRN) of the stored transport.
pub(crate) async fn update_eta(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let raw = Form::parse(&body);
    ctx.check_csrf(&headers, &raw)?;
    let id: MessageId = parse_id(&id)?;
    let m = super::pages::find_message(&state, &ctx, id).await?;
    if m.kind != "transport" {
        return Err(WebError::NotFound);
    }
    let mrn = m
        .mrn
        .clone()
        .ok_or_else(|| WebError::BadRequest(ctx.lang.t("transport.eta_needs_mrn").into()))?;
    let eta = super::parse_oslo_local(&raw.text("eta"))
        .ok_or_else(|| WebError::BadRequest(ctx.lang.t("x.instant").into()))?;
    let mut message = split_envelope(&m).1;
    if let Some(obj) = message.as_object_mut() {
        obj.insert(
            "estimatedDateAndTimeOfArrival".into(),
            Value::String(super::toll_instant(eta)),
        );
        obj.insert(
            "documentIssueDate".into(),
            Value::String(super::toll_instant(OffsetDateTime::now_utc())),
        );
    }
    let validation = tenant_validation(&state, m.tenant_id)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let checked =
        match validate(
            ApiMode::Road,
            MessageKind::Transport,
            &message,
            &validation,
            false,
        ) {
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
    let (document_number, document_type, carrier_id) =
        document_fields(ApiKind::Transport, &message);
    state
        .store()
        .submit_message(NewMessage {
            tenant_id: m.tenant_id,
            api: m.api.clone(),
            kind: m.kind.clone(),
            operation: Operation::Update,
            body: json!({ "mrn": mrn, "message": message }),
            document_number,
            document_type,
            carrier_id,
            idempotency_key: None,
            local_findings: checked.stored_findings(),
            validation_mode: checked.mode,
        })
        .await?;
    Ok(see_other(&ctx, &format!("/ui/transports/{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn playground() -> TenantValidation {
        TenantValidation {
            playground: true,
            ..TenantValidation::default()
        }
    }

    fn filled() -> TransportForm {
        let mut f = TransportForm::default();
        for (k, v) in [
            ("plate", "AB12345"),
            ("nationality", "SE"),
            ("means", "31"),
            ("driver", "Lars Andersson"),
            ("phone", "+46701234567"),
            ("carrier_name", "Nordic Road Freight AS"),
            ("carrier_id", "912345688"),
            ("office", "NO371001"),
            ("scheduled", "2026-12-02T07:30"),
        ] {
            f.values.insert(
                field_names().find(|n| *n == k).expect("field"),
                v.to_owned(),
            );
        }
        f.refs.push(RefRow {
            level: "master".into(),
            number: "CMR-1".into(),
            doc_type: "N730".into(),
            remarks: Vec::new(),
        });
        f.refs.push(RefRow {
            level: "house".into(),
            number: "CMR-2".into(),
            doc_type: "N730".into(),
            remarks: Vec::new(),
        });
        f
    }

    #[test]
    fn a_filled_form_makes_a_valid_transport() {
        let mut f = filled();
        let msg = f.to_message(datetime!(2026-12-01 08:00 UTC));
        assert_eq!(msg["scheduledDateAndTimeOfArrival"], "2026-12-02T06:30:00Z");
        assert_eq!(msg["estimatedDateAndTimeOfArrival"], "2026-12-02T06:30:00Z");
        assert_eq!(
            msg["activeBorderTransportMeans"]["identificationNumber"],
            "AB12345"
        );
        assert_eq!(
            msg["consignmentMasterLevel"][1]["consignmentHouseLevel"][0]["transportDocumentHouseLevel"]
                ["documentNumber"],
            "CMR-2"
        );
        let remarks = f.check(Lang::En, &msg, &playground()).expect("check");
        assert!(remarks.is_empty(), "{remarks:#?}");
    }

    #[test]
    fn errors_land_on_their_fields() {
        let mut f = filled();
        f.values.insert("plate", String::new());
        f.values.insert("office", "NO000000".into());
        f.values.insert("nationality", "XX".into());
        f.refs[1].doc_type = "BAD".into();
        let msg = f.to_message(datetime!(2026-12-01 08:00 UTC));
        let remarks = f.check(Lang::Nb, &msg, &playground()).expect("check");
        assert_eq!(remarks["plate"][0].explain, Lang::Nb.t("x.not_null"));
        assert_eq!(remarks["office"][0].explain, Lang::Nb.t("x.office"));
        assert!(
            remarks["office"][0]
                .toll
                .contains("customsOfficeOfFirstEntry")
        );
        assert!(remarks.contains_key("nationality"), "{remarks:#?}");
        assert!(!f.refs[1].remarks.is_empty(), "row remarks: {:#?}", f.refs);
        assert!(f.refs[0].remarks.is_empty());
    }

    #[test]
    fn paths_map_to_fields() {
        assert_eq!(
            field_for("activeBorderTransportMeans.operator.communication[0].identifier").as_deref(),
            Some("phone")
        );
        assert_eq!(
            field_for("carrier.address.postcode").as_deref(),
            Some("postcode")
        );
        assert_eq!(
            field_for("consignmentMasterLevel[3].transportDocumentMasterLevel.type").as_deref(),
            Some("ref:3")
        );
        assert_eq!(field_for("documentIssueDate"), None);
        assert_eq!(
            explain(Lang::En, "must not be null"),
            "This field is required."
        );
    }
}
