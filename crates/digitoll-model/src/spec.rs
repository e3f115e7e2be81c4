//! OpenAPI documents of our own model, and a typed comparison with Toll's.
//!
//! Toll publishes each API's detailed model only through its live Swagger UI
//! (springdoc); `api/mo/sentrale-dataelementer-EN.html` on toll.github.io
//! points there, and the JSON is probably served at `<base>/v3/api-docs`
//! (springdoc's default path, \[I\]). [`openapi_document`] renders what *we*
//! believe per API, from the model's types (schemars) and the constraints the
//! validator enforces (required fields and lengths, as schemars attributes on
//! the types, plus the per-mode differences of [`TransportMode::rules`]);
//! [`diff`] compares that with Toll's document and lists every difference
//! with its JSON path.
//!
//! Pure: no I/O. The CLI (`digitoll spec diff`) fetches Toll's document, the
//! simulator serves ours.
//!
//! The paths and methods come from the endpoint catalogue
//! ([`crate::profile::endpoints`], with a contract profile's overrides), the
//! bodies from the simulator's HTTP contract (which follows
//! `shared/docs/digitoll-api.md`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::documents::{DOCUMENT_BASE, DocumentUploadResponse};
use crate::entry::{
    ARRIVAL_BASE, ArrivalRequest, PRESENTATION_BASE, Presentation, PresentationKind, ROUTING_BASE,
};
use crate::mode::{Requirement, TransportMode};
use crate::profile::{ContractProfile, endpoints};
use crate::responses::{
    DocumentStatus, EntryStatus, RequestIdResponse, StatusWithDescendants, SyncErrorBody,
    ValidationStatus,
};
use crate::road::{DeleteBody, HouseConsignment, MasterConsignment, Relation, Transport};
use crate::routing::RoutingSignal;

/// One of Toll's APIs, as far as its OpenAPI document goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecApi {
    /// A movement API: the submission and the query API of one mode.
    Movement(TransportMode),
    /// `/api/movement/presentation/v1`.
    Presentation,
    /// `/api/movement/arrival/v1`.
    Arrival,
    /// `/api/movement/routing/v1`.
    Routing,
    /// `/api/goodsdeclaration/document/v2`.
    Documents,
}

impl SpecApi {
    /// Every API, movement modes first.
    pub const ALL: [SpecApi; 8] = [
        Self::Movement(TransportMode::Road),
        Self::Movement(TransportMode::Air),
        Self::Movement(TransportMode::Rail),
        Self::Movement(TransportMode::Maritime),
        Self::Presentation,
        Self::Arrival,
        Self::Routing,
        Self::Documents,
    ];

    /// The name used on the command line (`road`, …, `documents`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Movement(m) => m.path_segment(),
            Self::Presentation => "presentation",
            Self::Arrival => "arrival",
            Self::Routing => "routing",
            Self::Documents => "documents",
        }
    }

    /// The base paths under which the API's document is served
    /// (`<base>/v3/api-docs`): a movement API has two (submission and query).
    pub fn bases(self) -> Vec<String> {
        match self {
            Self::Movement(m) => vec![m.submission_base(), m.query_base()],
            Self::Presentation => vec![PRESENTATION_BASE.to_owned()],
            Self::Arrival => vec![ARRIVAL_BASE.to_owned()],
            Self::Routing => vec![ROUTING_BASE.to_owned()],
            Self::Documents => vec![DOCUMENT_BASE.to_owned()],
        }
    }
}

impl fmt::Display for SpecApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A string that names no API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown API '{0}': expected road, air, rail, maritime, presentation, arrival, routing or documents"
)]
pub struct UnknownApi(pub String);

impl FromStr for SpecApi {
    type Err = UnknownApi;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| UnknownApi(s.to_owned()))
    }
}

/// Path of the OpenAPI document under an API base (springdoc's default, \[I\]).
pub const API_DOCS_PATH: &str = "/v3/api-docs";

// -- our document -------------------------------------------------------------

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
            Self::Put => "put",
            Self::Delete => "delete",
        }
    }
}

/// One operation of our document.
struct Op {
    method: Method,
    path: String,
    operation_id: String,
    query: Vec<String>,
    request: Option<Value>,
    success: (&'static str, Option<Value>),
    errors: bool,
}

struct Builder {
    generator: SchemaGenerator,
    ops: Vec<Op>,
}

impl Builder {
    fn new() -> Self {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        });
        Self {
            generator: settings.into_generator(),
            ops: Vec::new(),
        }
    }

    fn schema<T: JsonSchema>(&mut self) -> Value {
        let mut v = self.generator.subschema_for::<T>().to_value();
        strip_null(&mut v);
        v
    }

    fn array<T: JsonSchema>(&mut self) -> Value {
        json!({"type": "array", "items": self.schema::<T>()})
    }

    #[allow(clippy::too_many_arguments)]
    fn op(
        &mut self,
        method: Method,
        path: String,
        operation_id: &str,
        query: Vec<String>,
        request: Option<Value>,
        success: (&'static str, Option<Value>),
        errors: bool,
    ) {
        self.ops.push(Op {
            method,
            path,
            operation_id: operation_id.to_owned(),
            query,
            request,
            success,
            errors,
        });
    }

    fn finish(mut self, api: SpecApi) -> Value {
        let mut paths = Map::new();
        for op in self.ops {
            let mut operation = Map::new();
            operation.insert("operationId".into(), Value::String(op.operation_id));
            let mut params: Vec<Value> = path_params(&op.path)
                .into_iter()
                .map(|name| {
                    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
                })
                .collect();
            params.extend(op.query.iter().map(|name| {
                json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}})
            }));
            if !params.is_empty() {
                operation.insert("parameters".into(), Value::Array(params));
            }
            if let Some(schema) = op.request {
                let content_type = if schema.get("x-multipart").is_some() {
                    "multipart/form-data"
                } else {
                    "application/json"
                };
                let mut schema = schema;
                if let Some(o) = schema.as_object_mut() {
                    o.remove("x-multipart");
                }
                operation.insert(
                    "requestBody".into(),
                    json!({"required": true, "content": {content_type: {"schema": schema}}}),
                );
            }
            let mut responses = Map::new();
            let (status, body) = op.success;
            responses.insert(
                status.into(),
                match body {
                    Some(schema) => json!({"description": "OK", "content": {"application/json": {"schema": schema}}}),
                    None => json!({"description": "OK"}),
                },
            );
            if op.errors {
                responses.insert(
                    "400".into(),
                    json!({"description": "Synchronous validation errors", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncErrorBody"}}}}),
                );
            }
            operation.insert("responses".into(), Value::Object(responses));
            let item = paths
                .entry(op.path)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(item) = item.as_object_mut() {
                item.insert(op.method.as_str().into(), Value::Object(operation));
            }
        }
        let mut schemas = Map::new();
        for (name, mut schema) in self.generator.take_definitions(true) {
            strip_null(&mut schema);
            schemas.insert(name, schema);
        }
        if let SpecApi::Movement(mode) = api {
            apply_mode_rules(&mut schemas, mode);
        }
        json!({
            "openapi": "3.1.0",
            "info": {
                "title": format!("digitoll model: {} API", api.name()),
                "version": env!("CARGO_PKG_VERSION"),
                "description": "What digitoll's model expects of Toll's API (generated from digitoll-model; compare with `digitoll spec diff`)."
            },
            "paths": paths,
            "components": {"schemas": schemas},
        })
    }
}

fn path_params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect()
}

/// The per-mode differences ([`TransportMode::rules`], the validator's table)
/// written into the mode's copy of the components.
fn apply_mode_rules(schemas: &mut Map<String, Value>, mode: TransportMode) {
    let rules = mode.rules();
    if let Some(means) = schemas.get_mut("ActiveBorderTransportMeans") {
        if rules.conveyance_reference_required {
            add_required(means, "conveyanceReferenceNumber");
        }
        // `Expected` (maritime) is a warning, not a rejection: not required.
        if rules.operator == Requirement::Required {
            add_required(means, "operator");
        }
        if let Some(props) = means.get_mut("properties").and_then(Value::as_object_mut) {
            if let (Some(code), Some(p)) = (
                rules.mode_of_transport_code,
                props.get_mut("modeOfTransportCode"),
            ) {
                p["enum"] = json!([code]);
            }
            if let (Some(codes), Some(p)) = (
                rules.type_of_identification,
                props.get_mut("typeOfIdentification"),
            ) {
                p["enum"] = json!(codes);
            }
        }
    }
    if rules.operator_communication_required
        && let Some(op) = schemas.get_mut("Operator")
    {
        add_required(op, "communication");
    }
    // The export types the mode's procedure page allows.
    if let Some(types) = schemas.get_mut("TypeOfExport") {
        types["enum"] = json!(rules.export_types);
    }
}

fn add_required(schema: &mut Value, field: &str) {
    let Some(o) = schema.as_object_mut() else {
        return;
    };
    let list = o
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(a) = list.as_array_mut()
        && !a.iter().any(|v| v == field)
    {
        a.push(Value::String(field.to_owned()));
    }
}

/// Our request fields are `Option`s because absence is what validation
/// reports, not because Toll accepts `null`: schemars's `null` alternatives
/// are dropped (`type: [string, null]` → `string`, `anyOf [X, null]` → `X`).
fn strip_null(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Array(types)) = o.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let t = types.remove(0);
                    o.insert("type".into(), t);
                }
            }
            if let Some(Value::Array(any)) = o.get("anyOf") {
                let rest: Vec<Value> = any
                    .iter()
                    .filter(|s| s.get("type").and_then(Value::as_str) != Some("null"))
                    .cloned()
                    .collect();
                if rest.len() == 1
                    && let Some(Value::Object(inner)) = rest.into_iter().next()
                {
                    o.remove("anyOf");
                    for (k, val) in inner {
                        o.entry(k).or_insert(val);
                    }
                }
            }
            for val in o.values_mut() {
                strip_null(val);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip_null),
        _ => {}
    }
}

/// What an endpoint of the catalogue carries, by its id's last part.
struct Shape {
    request: Option<Value>,
    success: (&'static str, Option<Value>),
    errors: bool,
}

/// Our reading of each endpoint's bodies (the simulator's HTTP contract).
/// `None` for an id this module does not know (rendered without bodies).
fn shape(b: &mut Builder, id: &str) -> Option<Shape> {
    let request_id = |b: &mut Builder| b.schema::<RequestIdResponse>();
    let submit = |b: &mut Builder, body: Value| Shape {
        request: Some(body),
        success: ("202", Some(request_id(b))),
        errors: true,
    };
    let get = |schema: Value| Shape {
        request: None,
        success: ("200", Some(schema)),
        errors: false,
    };
    let (api, rest) = id.split_once('.')?;
    if TransportMode::from_str(api).is_ok() {
        let (kind, action) = rest.split_once('.').unwrap_or(("", rest));
        let body = |b: &mut Builder| match kind {
            "transport" => Some(b.schema::<Transport>()),
            "master" => Some(b.schema::<MasterConsignment>()),
            "house" => Some(b.schema::<HouseConsignment>()),
            "relation" => Some(b.schema::<Relation>()),
            _ => None,
        };
        return Some(match action {
            "test-auth" => Shape {
                request: None,
                success: ("200", None),
                errors: false,
            },
            "create" | "update" => {
                let body = body(b)?;
                submit(b, body)
            }
            "delete" => {
                let body = b.schema::<DeleteBody>();
                submit(b, body)
            }
            "validation-status" => get(b.schema::<ValidationStatus>()),
            "status-with-descendants" => get(b.schema::<StatusWithDescendants>()),
            "master-documents" | "house-documents" | "postal-receptacle" => {
                get(b.array::<DocumentStatus>())
            }
            "lookup" | "status" => get(b.schema::<DocumentStatus>()),
            "entry-status" => get(b.schema::<EntryStatus>()),
            _ => return None,
        });
    }
    Some(match (api, rest) {
        ("presentation", "validation-status") => get(b.schema::<ValidationStatus>()),
        ("presentation", segment) => {
            let kind = PresentationKind::from_path_segment(segment)?;
            // The kind's own reference is required (validate_presentation).
            let field = match kind {
                PresentationKind::HouseConsignment => "consignmentHouseLevel",
                PresentationKind::MasterConsignment => "consignmentMasterLevel",
                PresentationKind::Container => "containerIdentificationNumber",
                PresentationKind::Receptacle => "receptacleIdentificationNumber",
                PresentationKind::EntrySummaryDeclaration => "mrn",
            };
            let mut body = b.schema::<Presentation>();
            add_required(&mut body, field);
            submit(b, body)
        }
        ("arrival", "create") => {
            let body = b.schema::<ArrivalRequest>();
            submit(b, body)
        }
        ("arrival", "validation-status") => get(b.schema::<ValidationStatus>()),
        ("arrival", "entry-status") => get(b.schema::<EntryStatus>()),
        ("routing", _) => get(b.array::<RoutingSignal>()),
        ("document", "upload") => {
            let metadata = b.schema::<crate::documents::DocumentMetadata>();
            let response = b.schema::<DocumentUploadResponse>();
            Shape {
                request: Some(json!({
                    "x-multipart": true,
                    "type": "object",
                    "properties": {
                        "metadata": metadata,
                        "file": {"type": "string", "format": "binary"}
                    },
                    "required": ["metadata", "file"]
                })),
                success: ("201", Some(response)),
                errors: true,
            }
        }
        _ => return None,
    })
}

/// Whether catalogue endpoint `id` belongs to `api`'s document.
fn belongs(api: SpecApi, id: &str) -> bool {
    let prefix = match api {
        SpecApi::Movement(m) => m.path_segment(),
        SpecApi::Presentation => "presentation",
        SpecApi::Arrival => "arrival",
        SpecApi::Routing => "routing",
        SpecApi::Documents => "document",
    };
    // `presentation.validation-status.by-path` is a form the simulator
    // accepts but the client does not send; the document lists what we send.
    id.split_once('.').is_some_and(|(p, _)| p == prefix) && !id.ends_with(".by-path")
}

/// Our OpenAPI 3.1 document for `api` with the default contract profile.
/// See [`openapi_document_for`].
pub fn openapi_document(api: SpecApi) -> Value {
    openapi_document_for(api, &ContractProfile::default())
}

/// Our OpenAPI 3.1 document for `api`: the paths and methods of the
/// endpoint catalogue ([`crate::profile::endpoints`], with `profile`'s
/// `[endpoints]` overrides), their request and response bodies, and
/// `components/schemas` generated from the model's types with the
/// validator's required fields and lengths.
pub fn openapi_document_for(api: SpecApi, profile: &ContractProfile) -> Value {
    let mut b = Builder::new();
    for info in endpoints().iter().filter(|e| belongs(api, e.id)) {
        let Ok(route) = profile.route(info.id) else {
            continue;
        };
        let method = match info.method {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            _ => continue,
        };
        let shape = shape(&mut b, info.id).unwrap_or(Shape {
            request: None,
            success: ("200", None),
            errors: false,
        });
        let query = route.query.iter().map(|(k, _)| k.clone()).collect();
        b.op(
            method,
            route.path,
            info.id,
            query,
            shape.request,
            shape.success,
            shape.errors,
        );
    }
    // The 400 body is referenced by name from the operations.
    let _ = b.schema::<SyncErrorBody>();
    b.finish(api)
}

// -- reading a document -------------------------------------------------------

/// Why a text is not an OpenAPI document we can compare.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Not JSON.
    #[error("not JSON: {message} at line {line}, column {column}")]
    Json {
        /// serde_json's message.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// JSON, but not an OpenAPI 3 document.
    #[error("not an OpenAPI 3 document: {0}")]
    NotOpenApi(String),
}

/// Parses Toll's (or any) OpenAPI 3 document and checks its shape: an object
/// with `openapi: "3.x"` and a `paths` object.
///
/// # Errors
/// [`SpecError`] saying what is wrong and where.
pub fn parse_document(text: &str) -> Result<Value, SpecError> {
    let v: Value = serde_json::from_str(text).map_err(|e| SpecError::Json {
        message: e.to_string(),
        line: e.line(),
        column: e.column(),
    })?;
    check_document(&v)?;
    Ok(v)
}

/// Checks that `v` looks like an OpenAPI 3 document.
///
/// # Errors
/// [`SpecError::NotOpenApi`].
pub fn check_document(v: &Value) -> Result<(), SpecError> {
    let Some(o) = v.as_object() else {
        return Err(SpecError::NotOpenApi("the root is not an object".into()));
    };
    match o.get("openapi").and_then(Value::as_str) {
        Some(version) if version.starts_with('3') => {}
        Some(version) => {
            return Err(SpecError::NotOpenApi(format!(
                "openapi is \"{version}\", expected 3.x"
            )));
        }
        None if o.contains_key("swagger") => {
            return Err(SpecError::NotOpenApi(
                "a Swagger 2 document (\"swagger\"), expected OpenAPI 3".into(),
            ));
        }
        None => return Err(SpecError::NotOpenApi("no \"openapi\" version field".into())),
    }
    if !o.get("paths").is_some_and(Value::is_object) {
        return Err(SpecError::NotOpenApi("no \"paths\" object".into()));
    }
    Ok(())
}

// -- differences --------------------------------------------------------------

/// One difference between Toll's document and ours. `location` is the JSON
/// path of the operation part in the document
/// (`paths./api/movement/road/v2/transport.post.requestBody`), `field` the
/// schema path from the body's root schema
/// (`Transport.activeBorderTransportMeans.identificationNumber`, `[]` for
/// array items).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpecDifference {
    /// A path we use that Toll's document lacks.
    MissingPath {
        /// Our path template.
        path: String,
    },
    /// A path Toll documents that we do not use.
    ExtraPath {
        /// Toll's path template.
        path: String,
    },
    /// A method we use on a path that Toll's document lacks.
    MissingMethod {
        /// The path.
        path: String,
        /// `get`, `post`, …
        method: String,
    },
    /// A method Toll documents that we do not use.
    ExtraMethod {
        /// The path.
        path: String,
        /// `get`, `post`, …
        method: String,
    },
    /// A request or response body one side has and the other lacks.
    Body {
        /// Where.
        location: String,
        /// Toll has one.
        toll: bool,
        /// We have one.
        model: bool,
    },
    /// The success status code differs.
    SuccessStatus {
        /// Where (`paths.<path>.<method>.responses`).
        location: String,
        /// Toll's 2xx codes.
        toll: String,
        /// Ours.
        model: String,
    },
    /// A field of ours that Toll's schema lacks.
    MissingField {
        /// Where.
        location: String,
        /// The field's schema path.
        field: String,
    },
    /// A field Toll's schema has that ours lacks.
    ExtraField {
        /// Where.
        location: String,
        /// The field's schema path.
        field: String,
    },
    /// Required on one side only.
    Required {
        /// Where.
        location: String,
        /// The field's schema path.
        field: String,
        /// Required at Toll.
        toll: bool,
        /// Required in our model.
        model: bool,
    },
    /// `minLength` differs.
    MinLength {
        /// Where.
        location: String,
        /// The field's schema path.
        field: String,
        /// Toll's value.
        toll: Option<u64>,
        /// Ours.
        model: Option<u64>,
    },
    /// `maxLength` differs.
    MaxLength {
        /// Where.
        location: String,
        /// The field's schema path.
        field: String,
        /// Toll's value.
        toll: Option<u64>,
        /// Ours.
        model: Option<u64>,
    },
    /// `pattern` differs.
    Pattern {
        /// Where.
        location: String,
        /// The field's schema path.
        field: String,
        /// Toll's pattern.
        toll: Option<String>,
        /// Ours.
        model: Option<String>,
    },
    /// An enum value on one side only.
    EnumValue {
        /// Where.
        location: String,
        /// The field's schema path.
        field: String,
        /// The value.
        value: String,
        /// Toll lists it.
        toll: bool,
        /// We list it.
        model: bool,
    },
    /// The JSON type differs.
    Type {
        /// Where.
        location: String,
        /// The field's schema path.
        field: String,
        /// Toll's type(s).
        toll: String,
        /// Ours.
        model: String,
    },
}

fn opt<T: fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "none".to_owned(), ToString::to_string)
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

impl SpecDifference {
    /// The JSON path of the difference: `location` then the schema path and
    /// the keyword (`….requestBody: Transport.carrier.name.maxLength`).
    pub fn json_path(&self) -> String {
        match self {
            Self::MissingPath { path } | Self::ExtraPath { path } => format!("paths.{path}"),
            Self::MissingMethod { path, method } | Self::ExtraMethod { path, method } => {
                format!("paths.{path}.{method}")
            }
            Self::Body { location, .. } | Self::SuccessStatus { location, .. } => location.clone(),
            Self::MissingField { location, field } | Self::ExtraField { location, field } => {
                format!("{location}: {field}")
            }
            Self::Required {
                location, field, ..
            } => format!("{location}: {field}.required"),
            Self::MinLength {
                location, field, ..
            } => format!("{location}: {field}.minLength"),
            Self::MaxLength {
                location, field, ..
            } => format!("{location}: {field}.maxLength"),
            Self::Pattern {
                location, field, ..
            } => format!("{location}: {field}.pattern"),
            Self::EnumValue {
                location,
                field,
                value,
                ..
            } => format!("{location}: {field}.enum[{value}]"),
            Self::Type {
                location, field, ..
            } => format!("{location}: {field}.type"),
        }
    }
}

impl fmt::Display for SpecDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.json_path();
        match self {
            Self::MissingPath { .. } => write!(f, "{path}: Toll: no such path, model: used"),
            Self::ExtraPath { .. } => write!(f, "{path}: Toll: documented, model: not used"),
            Self::MissingMethod { .. } => write!(f, "{path}: Toll: no such method, model: used"),
            Self::ExtraMethod { .. } => write!(f, "{path}: Toll: documented, model: not used"),
            Self::Body { toll, model, .. } => write!(
                f,
                "{path}: Toll: {}, model: {}",
                if *toll { "has a body" } else { "no body" },
                if *model { "has a body" } else { "no body" }
            ),
            Self::SuccessStatus { toll, model, .. } => {
                write!(f, "{path}: Toll: {toll}, model: {model}")
            }
            Self::MissingField { .. } => write!(f, "{path}: Toll: no such field, model: has it"),
            Self::ExtraField { .. } => write!(f, "{path}: Toll: has it, model: no such field"),
            Self::Required { toll, model, .. } => write!(
                f,
                "{path}: Toll: {}, model: {}",
                yes_no(*toll),
                yes_no(*model)
            ),
            Self::MinLength { toll, model, .. } | Self::MaxLength { toll, model, .. } => {
                write!(f, "{path}: Toll: {}, model: {}", opt(toll), opt(model))
            }
            Self::Pattern { toll, model, .. } => {
                write!(f, "{path}: Toll: {}, model: {}", opt(toll), opt(model))
            }
            Self::EnumValue { toll, model, .. } => write!(
                f,
                "{path}: Toll: {}, model: {}",
                if *toll { "listed" } else { "not listed" },
                if *model { "listed" } else { "not listed" }
            ),
            Self::Type { toll, model, .. } => write!(f, "{path}: Toll: {toll}, model: {model}"),
        }
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// A path template with its parameter names blanked, so `{mrn}` and `{MRN}`
/// compare equal.
fn path_shape(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                "{}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Compares Toll's document (`theirs`) with ours: paths (parameter names
/// ignored) and methods, then each common operation's JSON request body and
/// success response, field by field: missing and extra fields,
/// required-ness, `minLength`/`maxLength`, `pattern`, enum values and types.
/// `$ref` (to `#/components/schemas/…` or any local JSON pointer), `allOf`
/// and `anyOf`/`oneOf` with `null` (or OpenAPI 3.0's `nullable`) are
/// resolved first. The result is free of duplicates and sorted by
/// [`SpecDifference::json_path`].
pub fn diff(ours: &Value, theirs: &Value) -> Vec<SpecDifference> {
    let mut out = BTreeSet::new();
    let empty = Map::new();
    let our_paths = ours
        .get("paths")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let their_paths = theirs
        .get("paths")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let theirs_by_shape: BTreeMap<String, (&String, &Value)> = their_paths
        .iter()
        .map(|(k, v)| (path_shape(k), (k, v)))
        .collect();
    let ours_by_shape: BTreeSet<String> = our_paths.keys().map(|k| path_shape(k)).collect();
    for (path, item) in our_paths {
        let Some((_, their_item)) = theirs_by_shape.get(&path_shape(path)) else {
            out.insert(SpecDifference::MissingPath { path: path.clone() });
            continue;
        };
        for method in METHODS {
            match (item.get(method), their_item.get(method)) {
                (Some(_), None) => {
                    out.insert(SpecDifference::MissingMethod {
                        path: path.clone(),
                        method: method.to_owned(),
                    });
                }
                (None, Some(_)) => {
                    out.insert(SpecDifference::ExtraMethod {
                        path: path.clone(),
                        method: method.to_owned(),
                    });
                }
                (Some(o), Some(t)) => {
                    let location = format!("paths.{path}.{method}");
                    let cx = Cx {
                        ours,
                        theirs,
                        out: &mut out,
                    };
                    cx.operation(&location, o, t);
                }
                (None, None) => {}
            }
        }
    }
    for path in their_paths.keys() {
        if !ours_by_shape.contains(&path_shape(path)) {
            out.insert(SpecDifference::ExtraPath { path: path.clone() });
        }
    }
    let mut list: Vec<SpecDifference> = out.into_iter().collect();
    list.sort_by_cached_key(SpecDifference::json_path);
    list
}

struct Cx<'a> {
    ours: &'a Value,
    theirs: &'a Value,
    out: &'a mut BTreeSet<SpecDifference>,
}

/// The schema of a body: `application/json`, else `*/*`, else the first
/// content entry.
fn body_schema(body: &Value) -> Option<&Value> {
    let content = body.get("content")?.as_object()?;
    content
        .get("application/json")
        .or_else(|| content.get("*/*"))
        .or_else(|| content.values().next())?
        .get("schema")
}

fn success_codes(op: &Value) -> Vec<String> {
    op.get("responses")
        .and_then(Value::as_object)
        .map(|r| {
            r.keys()
                .filter(|k| k.starts_with('2'))
                .cloned()
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
}

impl Cx<'_> {
    fn operation(mut self, location: &str, ours: &Value, theirs: &Value) {
        let rb = format!("{location}.requestBody");
        let ob = ours.get("requestBody").and_then(body_schema);
        let tb = theirs.get("requestBody").and_then(body_schema);
        match (ob, tb) {
            (Some(o), Some(t)) => self.schema(&rb, &root_name(o), o, t, 0),
            (None, None) => {}
            (o, t) => {
                self.out.insert(SpecDifference::Body {
                    location: rb,
                    toll: t.is_some(),
                    model: o.is_some(),
                });
            }
        }
        let our_codes = success_codes(ours);
        let their_codes = success_codes(theirs);
        if our_codes != their_codes && !their_codes.is_empty() && !our_codes.is_empty() {
            self.out.insert(SpecDifference::SuccessStatus {
                location: format!("{location}.responses"),
                toll: their_codes.join(","),
                model: our_codes.join(","),
            });
        }
        let (Some(oc), Some(tc)) = (our_codes.first(), their_codes.first()) else {
            return;
        };
        let loc = format!("{location}.responses.{oc}");
        let os = ours
            .get("responses")
            .and_then(|r| r.get(oc.as_str()))
            .and_then(body_schema);
        let ts = theirs
            .get("responses")
            .and_then(|r| r.get(tc.as_str()))
            .and_then(body_schema);
        match (os, ts) {
            (Some(o), Some(t)) => self.schema(&loc, &root_name(o), o, t, 0),
            (None, None) => {}
            (o, t) => {
                self.out.insert(SpecDifference::Body {
                    location: loc,
                    toll: t.is_some(),
                    model: o.is_some(),
                });
            }
        }
    }

    fn schema(&mut self, location: &str, field: &str, ours: &Value, theirs: &Value, depth: usize) {
        if depth > 24 {
            return;
        }
        let o = Flat::of(self.ours, ours);
        let t = Flat::of(self.theirs, theirs);
        if !o.types.is_empty() && !t.types.is_empty() && o.types != t.types {
            self.out.insert(SpecDifference::Type {
                location: location.to_owned(),
                field: field.to_owned(),
                toll: t.types.iter().cloned().collect::<Vec<_>>().join("|"),
                model: o.types.iter().cloned().collect::<Vec<_>>().join("|"),
            });
        }
        if o.min_length != t.min_length {
            self.out.insert(SpecDifference::MinLength {
                location: location.to_owned(),
                field: field.to_owned(),
                toll: t.min_length,
                model: o.min_length,
            });
        }
        if o.max_length != t.max_length {
            self.out.insert(SpecDifference::MaxLength {
                location: location.to_owned(),
                field: field.to_owned(),
                toll: t.max_length,
                model: o.max_length,
            });
        }
        if o.pattern != t.pattern {
            self.out.insert(SpecDifference::Pattern {
                location: location.to_owned(),
                field: field.to_owned(),
                toll: t.pattern.clone(),
                model: o.pattern.clone(),
            });
        }
        if let (Some(oe), Some(te)) = (&o.enumeration, &t.enumeration) {
            for value in oe.symmetric_difference(te) {
                self.out.insert(SpecDifference::EnumValue {
                    location: location.to_owned(),
                    field: field.to_owned(),
                    value: value.clone(),
                    toll: te.contains(value),
                    model: oe.contains(value),
                });
            }
        }
        // Properties are compared only where both sides describe an object
        // with properties (a free-form object on one side says nothing).
        if !o.properties.is_empty() || !t.properties.is_empty() {
            let names: BTreeSet<&String> = o.properties.keys().chain(t.properties.keys()).collect();
            for name in names {
                let sub = format!("{field}.{name}");
                match (o.properties.get(name), t.properties.get(name)) {
                    (Some(os), Some(ts)) => {
                        let (or, tr) = (o.required.contains(name), t.required.contains(name));
                        if or != tr {
                            self.out.insert(SpecDifference::Required {
                                location: location.to_owned(),
                                field: sub.clone(),
                                toll: tr,
                                model: or,
                            });
                        }
                        self.schema(location, &sub, os, ts, depth + 1);
                    }
                    (Some(_), None) => {
                        self.out.insert(SpecDifference::MissingField {
                            location: location.to_owned(),
                            field: sub,
                        });
                    }
                    (None, Some(_)) => {
                        self.out.insert(SpecDifference::ExtraField {
                            location: location.to_owned(),
                            field: sub,
                        });
                    }
                    (None, None) => {}
                }
            }
        }
        if let (Some(oi), Some(ti)) = (&o.items, &t.items) {
            self.schema(location, &format!("{field}[]"), oi, ti, depth + 1);
        }
    }
}

/// The name of a body's root schema: its `$ref` target's last segment, else
/// `body`.
fn root_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or("body").to_owned();
    }
    if schema.get("type").and_then(Value::as_str) == Some("array")
        && let Some(items) = schema.get("items")
    {
        return format!("{}[]", root_name(items));
    }
    "body".to_owned()
}

/// A schema with `$ref`, `allOf` and null alternatives resolved into one
/// set of keywords.
#[derive(Default)]
struct Flat {
    types: BTreeSet<String>,
    properties: BTreeMap<String, Value>,
    required: BTreeSet<String>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<String>,
    enumeration: Option<BTreeSet<String>>,
    items: Option<Value>,
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
        || v.get("enum")
            .and_then(Value::as_array)
            .is_some_and(|e| e.iter().all(Value::is_null))
}

fn enum_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Flat {
    fn of(doc: &Value, schema: &Value) -> Self {
        let mut f = Flat::default();
        f.merge(doc, schema, 0);
        f
    }

    fn merge(&mut self, doc: &Value, schema: &Value, depth: usize) {
        if depth > 32 {
            return;
        }
        let Some(o) = schema.as_object() else {
            return;
        };
        if let Some(r) = o.get("$ref").and_then(Value::as_str)
            && let Some(target) = resolve_ref(doc, r)
        {
            self.merge(doc, target, depth + 1);
        }
        for s in o
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.merge(doc, s, depth + 1);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = o.get(key).and_then(Value::as_array) {
                let rest: Vec<&Value> = alts.iter().filter(|s| !is_null_schema(s)).collect();
                // A union of several non-null schemas is merged loosely: its
                // fields are the union of the alternatives' fields.
                for s in rest {
                    self.merge(doc, s, depth + 1);
                }
            }
        }
        match o.get("type") {
            Some(Value::String(t)) if t != "null" => {
                self.types.insert(t.clone());
            }
            Some(Value::Array(ts)) => {
                for t in ts.iter().filter_map(Value::as_str).filter(|t| *t != "null") {
                    self.types.insert(t.to_owned());
                }
            }
            _ => {}
        }
        if let Some(props) = o.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                match self.properties.get_mut(k) {
                    Some(existing) => {
                        // Both sides describe the field: keep both.
                        *existing = json!({"allOf": [existing.clone(), v.clone()]});
                    }
                    None => {
                        self.properties.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        for r in o
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(s) = r.as_str() {
                self.required.insert(s.to_owned());
            }
        }
        if let Some(n) = o.get("minLength").and_then(Value::as_u64) {
            self.min_length = Some(n);
        }
        if let Some(n) = o.get("maxLength").and_then(Value::as_u64) {
            self.max_length = Some(n);
        }
        if let Some(p) = o.get("pattern").and_then(Value::as_str) {
            self.pattern = Some(p.to_owned());
        }
        if let Some(e) = o.get("enum").and_then(Value::as_array) {
            let values: BTreeSet<String> =
                e.iter().filter(|v| !v.is_null()).map(enum_text).collect();
            self.enumeration = Some(match self.enumeration.take() {
                Some(prev) => prev.intersection(&values).cloned().collect(),
                None => values,
            });
        }
        if let Some(items) = o.get("items") {
            self.items = Some(match self.items.take() {
                Some(prev) => json!({"allOf": [prev, items.clone()]}),
                None => items.clone(),
            });
        }
    }
}

/// Resolves a local `$ref` (`#/components/schemas/X`, any `#/…` pointer).
fn resolve_ref<'d>(doc: &'d Value, reference: &str) -> Option<&'d Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_is_openapi_and_equal_to_itself() {
        for api in SpecApi::ALL {
            let doc = openapi_document(api);
            check_document(&doc).unwrap();
            assert!(doc["paths"].as_object().is_some_and(|p| !p.is_empty()));
            assert_eq!(diff(&doc, &doc), Vec::new(), "{api}");
        }
    }
}
