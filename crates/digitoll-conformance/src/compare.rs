//! Comparing the target's answers with the simulator's, step by step.
//!
//! Within a step, exchanges are matched by remote, method and path template
//! (MRNs, UUIDs and the run's document numbers replaced by placeholders; the
//! query by its parameter names), and the *last* exchange of each is
//! compared (polls end with the answer that matters). Compared: the status
//! code; for JSON bodies with the same status, field names and JSON types,
//! recursively (array elements merged); and error wording, the strings under
//! `description`, `error`, `error_description`, `message` and `detail` (trace
//! ids and UUIDs removed).

use std::collections::{BTreeMap, BTreeSet};

use digitoll_sim::{Exchange, Remote};
use serde::Serialize;
use serde_json::Value;

use crate::scenario::StepOutcome;

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Different status codes.
    Status,
    /// A request only one side got (the client's flow diverged).
    Request,
    /// A JSON field only Toll sends.
    MissingInSimulator,
    /// A JSON field only the simulator sends.
    MissingAtToll,
    /// The same field with different JSON types.
    Type,
    /// Different error text at the same place.
    ErrorText,
}

/// One difference between the target and the simulator.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// The step's number in the scenario.
    pub step: usize,
    /// The step's id.
    pub step_id: String,
    /// The kind.
    pub kind: DifferenceKind,
    /// `METHOD /path/template` of the exchange.
    pub request: String,
    /// JSON path of the field, for field, type and text differences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What Toll answered (status, type or text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toll: Option<String>,
    /// What the simulator answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulator: Option<String>,
    /// The report line.
    pub message: String,
    /// Later steps where the same difference (same request, field and
    /// answers) was seen again; reported once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_in_steps: Vec<usize>,
}

/// A matched pair of exchanges (or a lone one) in a step.
#[derive(Debug, Clone)]
pub(crate) struct Pair<'a> {
    pub(crate) step: usize,
    pub(crate) step_id: String,
    pub(crate) request: String,
    pub(crate) target: Option<&'a Exchange>,
    pub(crate) simulator: Option<&'a Exchange>,
}

/// `/api/movement/road/v2/transport/26NO…` → `/api/movement/road/v2/transport/{mrn}`.
pub fn path_template(path: &str, tag: &str) -> String {
    path.split('/')
        .map(|seg| {
            if uuid::Uuid::parse_str(seg).is_ok() {
                "{id}".to_owned()
            } else if looks_like_mrn(seg) {
                "{mrn}".to_owned()
            } else if !tag.is_empty() && seg.contains(tag) {
                "{document}".to_owned()
            } else {
                seg.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// MRNs: 18 upper-case alphanumerics starting with the two-digit year.
fn looks_like_mrn(seg: &str) -> bool {
    seg.len() == 18
        && seg.bytes().take(2).all(|b| b.is_ascii_digit())
        && seg
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

fn request_key(e: &Exchange, tag: &str) -> String {
    let mut key = format!("{} {}", e.method, path_template(&e.path(), tag));
    if let Some(q) = e.query() {
        let names: BTreeSet<String> = url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, _)| k.into_owned())
            .collect();
        if !names.is_empty() {
            key.push('?');
            key.push_str(
                &names
                    .iter()
                    .map(|n| format!("{n}=…"))
                    .collect::<Vec<_>>()
                    .join("&"),
            );
        }
    }
    key
}

/// Pairs the exchanges of both sides, step by step, in scenario order.
pub(crate) fn pair<'a>(
    steps: &[StepOutcome],
    target: &'a [Exchange],
    simulator: &'a [Exchange],
    tag: &str,
) -> Vec<Pair<'a>> {
    let mut out = Vec::new();
    for step in steps {
        let mut keys: Vec<(Remote, String)> = Vec::new();
        let mut last_t: BTreeMap<(Remote, String), &Exchange> = BTreeMap::new();
        let mut last_s: BTreeMap<(Remote, String), &Exchange> = BTreeMap::new();
        for (side, list) in [(&mut last_t, target), (&mut last_s, simulator)] {
            for e in list.iter().filter(|e| e.step == step.id) {
                let k = (e.remote, request_key(e, tag));
                if !keys.contains(&k) {
                    keys.push(k.clone());
                }
                side.insert(k, e);
            }
        }
        for k in keys {
            out.push(Pair {
                step: step.number,
                step_id: step.id.clone(),
                request: k.1.clone(),
                target: last_t.get(&k).copied(),
                simulator: last_s.get(&k).copied(),
            });
        }
    }
    out
}

/// Every difference in the pairs.
pub(crate) fn differences(pairs: &[Pair<'_>]) -> Vec<Difference> {
    let mut out = Vec::new();
    for p in pairs {
        let head = format!("step {} ({})", p.step, p.step_id);
        let base = |kind,
                    field: Option<String>,
                    toll: Option<String>,
                    sim: Option<String>,
                    message: String| Difference {
            step: p.step,
            step_id: p.step_id.clone(),
            kind,
            request: p.request.clone(),
            field,
            toll,
            simulator: sim,
            message,
            also_in_steps: Vec::new(),
        };
        match (p.target, p.simulator) {
            (Some(_), None) => out.push(base(
                DifferenceKind::Request,
                None,
                None,
                None,
                format!(
                    "{head}: the client sent {} to Toll but not to our simulator",
                    p.request
                ),
            )),
            (None, Some(_)) => out.push(base(
                DifferenceKind::Request,
                None,
                None,
                None,
                format!(
                    "{head}: the client sent {} to our simulator but not to Toll",
                    p.request
                ),
            )),
            (Some(t), Some(s)) => {
                if t.status != s.status {
                    out.push(base(
                        DifferenceKind::Status,
                        None,
                        Some(status_text(t)),
                        Some(status_text(s)),
                        format!(
                            "{head}: Toll answered {} where our simulator answers {} ({})",
                            status_text(t),
                            status_text(s),
                            p.request
                        ),
                    ));
                    continue;
                }
                let (Some(tj), Some(sj)) = (t.response_body.json(), s.response_body.json()) else {
                    continue;
                };
                let (ts, ss) = (shape(tj), shape(sj));
                for (path, ty) in &ts {
                    match ss.get(path) {
                        None if !parent_missing(path, &ss) => out.push(base(
                            DifferenceKind::MissingInSimulator,
                            Some(path.clone()),
                            Some(ty.to_string()),
                            None,
                            format!("{head}: field `{path}` missing in our simulator ({})", p.request),
                        )),
                        Some(sty) if sty != ty && *sty != "null" && *ty != "null" => out.push(base(
                            DifferenceKind::Type,
                            Some(path.clone()),
                            Some(ty.to_string()),
                            Some(sty.to_string()),
                            format!(
                                "{head}: field `{path}` is {} at Toll, {} in our simulator ({})",
                                article(ty),
                                article(sty),
                                p.request
                            ),
                        )),
                        _ => {}
                    }
                }
                for (path, sty) in &ss {
                    if !ts.contains_key(path) && !parent_missing(path, &ts) {
                        out.push(base(
                            DifferenceKind::MissingAtToll,
                            Some(path.clone()),
                            None,
                            Some(sty.to_string()),
                            format!(
                                "{head}: field `{path}` is sent by our simulator, not by Toll ({})",
                                p.request
                            ),
                        ));
                    }
                }
                let (tt, st) = (texts(tj), texts(sj));
                for (path, text) in &tt {
                    if let Some(stext) = st.get(path)
                        && normalise(text) != normalise(stext)
                    {
                        out.push(base(
                            DifferenceKind::ErrorText,
                            Some(path.clone()),
                            Some(text.clone()),
                            Some(stext.clone()),
                            format!("{head}: Toll says {text:?} where our simulator says {stext:?} (`{path}`)"),
                        ));
                    }
                }
            }
            (None, None) => {}
        }
    }
    dedupe(out)
}

/// One line per distinct difference: a repeat in a later step (the same
/// field of the same validation status in every create step, say) is added
/// to the first one's `also_in_steps`.
fn dedupe(diffs: Vec<Difference>) -> Vec<Difference> {
    let mut out: Vec<Difference> = Vec::new();
    for d in diffs {
        let same = out.iter_mut().find(|o| {
            o.kind == d.kind
                && o.request == d.request
                && o.field == d.field
                && o.toll == d.toll
                && o.simulator == d.simulator
                && o.step != d.step
        });
        match same {
            Some(first) => {
                if !first.also_in_steps.contains(&d.step) {
                    first.also_in_steps.push(d.step);
                }
            }
            None => out.push(d),
        }
    }
    for d in &mut out {
        if !d.also_in_steps.is_empty() {
            let steps: Vec<String> = d.also_in_steps.iter().map(ToString::to_string).collect();
            let word = if steps.len() == 1 { "step" } else { "steps" };
            d.message = format!("{} (also in {word} {})", d.message, steps.join(", "));
        }
    }
    out
}

fn status_text(e: &Exchange) -> String {
    match (e.status, &e.error) {
        (Some(s), _) => s.to_string(),
        (None, Some(err)) => format!("no response ({err})"),
        (None, None) => "no response".into(),
    }
}

fn article(ty: &str) -> String {
    match ty {
        "array" | "object" => format!("an {ty}"),
        other => format!("a {other}"),
    }
}

/// A field whose parent object is itself missing on the other side is
/// reported once, at the parent.
fn parent_missing(path: &str, other: &BTreeMap<String, &'static str>) -> bool {
    let mut p = path;
    while let Some(i) = p.rfind(['.', '[']) {
        p = &p[..i];
        if p.is_empty() {
            break;
        }
        if !other.contains_key(p) {
            return true;
        }
    }
    false
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// JSON path → JSON type, array elements merged under `[0]`.
pub fn shape(v: &Value) -> BTreeMap<String, &'static str> {
    let mut out = BTreeMap::new();
    walk(v, String::new(), &mut out);
    out
}

fn walk(v: &Value, path: String, out: &mut BTreeMap<String, &'static str>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                out.insert(p.clone(), type_name(child));
                walk(child, p, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                let p = format!("{path}[0]");
                let ty = type_name(item);
                let entry = out.entry(p.clone()).or_insert(ty);
                if *entry == "null" {
                    *entry = ty;
                }
                walk(item, p, out);
            }
        }
        _ => {}
    }
}

const TEXT_KEYS: &[&str] = &[
    "description",
    "error",
    "error_description",
    "message",
    "detail",
];

/// Error-text leaves: JSON path → text (array elements by index).
fn texts(v: &Value) -> BTreeMap<String, String> {
    fn go(v: &Value, path: String, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match child {
                        Value::String(s) if TEXT_KEYS.contains(&k.as_str()) => {
                            out.insert(p, s.clone());
                        }
                        _ => go(child, p, out),
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    go(item, format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    go(v, String::new(), &mut out);
    out
}

/// Text without trace ids, UUIDs and surrounding space.
fn normalise(text: &str) -> String {
    let mut t = text.to_owned();
    if let Some(i) = t.find("(trace_id:") {
        let end = t[i..].find(')').map_or(t.len(), |e| i + e + 1);
        t.replace_range(i..end, "");
    }
    t.split_whitespace()
        .map(|w| {
            let bare = w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-');
            if uuid::Uuid::parse_str(bare).is_ok() {
                "{id}"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Per parent object: (name, type) of the fields only Toll sends, and of
/// those only the simulator sends.
type OnlyOn = (Vec<(String, String)>, Vec<(String, String)>);

/// Field renames that would make the simulator's answers match: at one
/// parent, exactly one field only Toll sends and one only the simulator
/// sends, of the same JSON type. Simulator name → Toll name.
pub(crate) fn renames(diffs: &[Difference]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let split = |path: &str| -> (String, String) {
        match path.rfind('.') {
            Some(i) => (path[..i].to_owned(), path[i + 1..].to_owned()),
            None => (String::new(), path.to_owned()),
        }
    };
    let mut by_parent: BTreeMap<(String, String, String), OnlyOn> = BTreeMap::new();
    for d in diffs {
        let Some(field) = &d.field else { continue };
        let (parent, name) = split(field);
        let key = (d.step_id.clone(), d.request.clone(), parent);
        match d.kind {
            DifferenceKind::MissingInSimulator => by_parent
                .entry(key)
                .or_default()
                .0
                .push((name, d.toll.clone().unwrap_or_default())),
            DifferenceKind::MissingAtToll => by_parent
                .entry(key)
                .or_default()
                .1
                .push((name, d.simulator.clone().unwrap_or_default())),
            _ => {}
        }
    }
    for (toll, sim) in by_parent.values() {
        if let ([(t, tty)], [(s, sty)]) = (toll.as_slice(), sim.as_slice())
            && tty == sty
            && !t.contains('[')
            && !s.contains('[')
        {
            out.insert(s.clone(), t.clone());
        }
    }
    out
}

/// Toll's error messages in a response: `(path, text)` from a synchronous
/// 400 (`validationErrors[].field/error`) or an asynchronous FAILURE
/// (`validationErrorList[].pointer.messageElementPath/description`)
/// \[D toll.github.io `api/mo/asynkrone-valideringsfeil-EN.html`\].
pub(crate) fn error_messages(e: &Exchange) -> Vec<(String, String)> {
    let Some(v) = e.response_body.json() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(list) = v.get("validationErrors").and_then(Value::as_array) {
        for item in list {
            out.push((
                item.get("field")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                item.get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            ));
        }
    }
    if let Some(list) = v.get("validationErrorList").and_then(Value::as_array) {
        for item in list {
            out.push((
                item.pointer("/pointer/messageElementPath")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                item.get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::StepResult;
    use digitoll_sim::RecordedBody;
    use serde_json::json;

    fn ex(step: &str, method: &str, url: &str, status: u16, body: Value) -> Exchange {
        Exchange {
            seq: 0,
            step: step.into(),
            remote: Remote::Toll,
            method: method.into(),
            url: url.into(),
            request_headers: vec![],
            request_body: RecordedBody::Empty,
            status: Some(status),
            response_headers: vec![],
            response_body: RecordedBody::Json(body),
            error: None,
            started_at: time::OffsetDateTime::UNIX_EPOCH,
            duration_ms: 0,
        }
    }

    fn step(id: &str, number: usize) -> StepOutcome {
        StepOutcome {
            id: id.into(),
            number,
            label: id.into(),
            result: StepResult::Ok {
                detail: String::new(),
            },
        }
    }

    #[test]
    fn status_fields_types_and_texts_are_compared_on_hand_made_answers() {
        let steps = [
            step("road.house.create", 4),
            step("road.transport.invalid", 5),
        ];
        let toll = vec![
            ex(
                "road.house.create",
                "POST",
                "https://t/api/movement/road/v2/house-consignment",
                400,
                json!({}),
            ),
            ex(
                "road.transport.invalid",
                "GET",
                "https://t/api/movement/road/v2/transport/validation-status/0b6c6a3e-8a43-4d0c-9a38-3e2b0c0e4f11",
                404,
                json!({}),
            ),
            ex(
                "road.transport.invalid",
                "GET",
                "https://t/api/movement/road/v2/transport/validation-status/0b6c6a3e-8a43-4d0c-9a38-3e2b0c0e4f11",
                200,
                json!({
                    "status": "FAILURE", "mrn": null, "weight": "12",
                    "validationErrorList": [{"description": "Estimated differs", "pointer": {"messageElementPath": "x"}}]
                }),
            ),
        ];
        let sim = vec![
            ex(
                "road.house.create",
                "POST",
                "http://s/api/movement/road/v2/house-consignment",
                202,
                json!({"requestId": "r"}),
            ),
            ex(
                "road.transport.invalid",
                "GET",
                "http://s/api/movement/road/v2/transport/validation-status/7f1d3f5e-0c43-4b1c-8d7e-2f1a0b9c8d7e",
                200,
                json!({
                    "status": "FAILURE", "weight": 12,
                    "validationErrorList": [{"description": "Estimated arrival differs", "path": {"messageElementPath": "x"}}]
                }),
            ),
        ];
        let pairs = pair(&steps, &toll, &sim, "");
        assert_eq!(pairs.len(), 2, "polls of one request are one pair");
        let diffs = differences(&pairs);
        let lines: Vec<&str> = diffs.iter().map(|d| d.message.as_str()).collect();
        assert!(lines.contains(&"step 4 (road.house.create): Toll answered 400 where our simulator answers 202 (POST /api/movement/road/v2/house-consignment)"), "{lines:#?}");
        assert!(
            lines
                .iter()
                .any(|l| l
                    .contains("field `validationErrorList[0].pointer` missing in our simulator")),
            "{lines:#?}"
        );
        assert!(lines.iter().any(|l| l.contains("field `validationErrorList[0].path` is sent by our simulator")), "{lines:#?}");
        assert!(
            lines.iter().any(
                |l| l.contains("field `weight` is a string at Toll, a number in our simulator")
            ),
            "{lines:#?}"
        );
        assert!(lines.iter().any(|l| l.contains("Toll says \"Estimated differs\" where our simulator says \"Estimated arrival differs\"")), "{lines:#?}");
        // `mrn: null` at Toll is a field our simulator omits.
        assert!(
            lines.iter().any(|l| l.contains("field `mrn` missing")),
            "{lines:#?}"
        );
        // The nested field under a missing parent is not reported twice.
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("pointer.messageElementPath")),
            "{lines:#?}"
        );
        assert_eq!(
            renames(&diffs).get("path").map(String::as_str),
            Some("pointer"),
            "{diffs:#?}"
        );
    }

    #[test]
    fn templates_hide_ids() {
        assert_eq!(
            path_template(
                "/api/movement/road/status/v2/transport/26NOABCDEFGHIJ1234/descendants",
                ""
            ),
            "/api/movement/road/status/v2/transport/{mrn}/descendants"
        );
        assert_eq!(
            normalise("bad grant (trace_id: abc123) now"),
            "bad grant now"
        );
    }
}
