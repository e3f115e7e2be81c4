//! Our OpenAPI documents (`digitoll_model::spec`): the schemas agree with the
//! validator, and `diff` finds exactly the differences it should, by JSON
//! path.

use std::path::PathBuf;

use digitoll_model::spec::{SpecApi, SpecDifference, check_document, diff, openapi_document};
use digitoll_model::{
    MessageKind, PresentationKind, TransportMode, ValidationContext, validate_arrival_json,
    validate_json_for, validate_presentation_json,
};
use serde_json::{Map, Value, json};
use time::macros::datetime;

fn example(path: &str) -> Value {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).unwrap()
}

fn ctx() -> ValidationContext {
    ValidationContext::new(datetime!(2026-11-26 12:00 UTC))
}

// -- schema ↔ validator -------------------------------------------------------

/// One step of a schema path: a property or "any array item".
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Item,
}

#[derive(Debug)]
enum Constraint {
    Required,
    MinLength(u64),
    MaxLength(u64),
}

/// Resolves `$ref` and merges its siblings (`required`, `properties`), the
/// only composition our documents use.
fn flat(doc: &Value, schema: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = doc
            .pointer(r.trim_start_matches('#'))
            .expect("ref resolves");
        out = flat(doc, target);
    }
    for (k, v) in schema.as_object().into_iter().flatten() {
        match k.as_str() {
            "$ref" => {}
            "required" => {
                let list = out.entry("required").or_insert_with(|| json!([]));
                for r in v.as_array().unwrap() {
                    list.as_array_mut().unwrap().push(r.clone());
                }
            }
            "properties" => {
                let props = out.entry("properties").or_insert_with(|| json!({}));
                for (name, sub) in v.as_object().unwrap() {
                    let merged = match props.get(name) {
                        Some(existing) => {
                            let mut e = existing.clone();
                            // A sibling adds constraints to the existing field.
                            for (sk, sv) in sub.as_object().unwrap() {
                                if sk == "required" {
                                    let list = e
                                        .as_object_mut()
                                        .unwrap()
                                        .entry("required")
                                        .or_insert_with(|| json!([]));
                                    for r in sv.as_array().unwrap() {
                                        list.as_array_mut().unwrap().push(r.clone());
                                    }
                                } else {
                                    e[sk] = sv.clone();
                                }
                            }
                            e
                        }
                        None => sub.clone(),
                    };
                    props[name] = merged;
                }
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn collect(
    doc: &Value,
    schema: &Value,
    path: &mut Vec<Step>,
    out: &mut Vec<(Vec<Step>, Constraint)>,
) {
    let s = flat(doc, schema);
    if let Some(n) = s.get("minLength").and_then(Value::as_u64) {
        out.push((path.clone(), Constraint::MinLength(n)));
    }
    if let Some(n) = s.get("maxLength").and_then(Value::as_u64) {
        out.push((path.clone(), Constraint::MaxLength(n)));
    }
    let required: Vec<String> = s
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    for name in &required {
        let mut p = path.clone();
        p.push(Step::Field(name.clone()));
        out.push((p, Constraint::Required));
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            path.push(Step::Field(name.clone()));
            collect(doc, sub, path, out);
            path.pop();
        }
    }
    if let Some(items) = s.get("items") {
        path.push(Step::Item);
        collect(doc, items, path, out);
        path.pop();
    }
}

/// Toll's rendering of a path: `a.b[0].c`.
fn render(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Field(f) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(f);
            }
            Step::Item => s.push_str("[0]"),
        }
    }
    s
}

/// The value at `path`, creating `{}` / `[{}]` parents (and the last step's
/// container) as needed.
fn slot<'v>(root: &'v mut Value, path: &[Step]) -> &'v mut Value {
    let mut cur = root;
    for (i, step) in path.iter().enumerate() {
        let next_is_item = matches!(path.get(i + 1), Some(Step::Item));
        let fresh = || if next_is_item { json!([]) } else { json!({}) };
        cur = match step {
            Step::Field(f) => {
                if cur.get(f.as_str()).is_none_or(Value::is_null) {
                    cur[f.as_str()] = fresh();
                }
                &mut cur[f.as_str()]
            }
            Step::Item => {
                let a = cur.as_array_mut().expect("array");
                if a.is_empty() {
                    a.push(fresh());
                }
                &mut a[0]
            }
        };
    }
    cur
}

fn remove(root: &mut Value, path: &[Step]) {
    let (last, parent) = path.split_last().unwrap();
    let parent = slot(root, parent);
    match last {
        Step::Field(f) => {
            parent.as_object_mut().unwrap().remove(f);
        }
        Step::Item => parent.as_array_mut().unwrap().clear(),
    }
}

type Validate<'a> = &'a dyn Fn(&str) -> Vec<(String, String)>;

/// For one request body: every required field, removed, gets `must not be
/// null`/`must not be blank` at its path; every length, broken, gets a size
/// error there. Returns the number of constraints checked.
fn check_body(
    doc: &Value,
    schema: &Value,
    example: &Value,
    validate: Validate<'_>,
    what: &str,
    ignored: &[&str],
) -> usize {
    let clean = validate(&example.to_string());
    assert!(
        clean.is_empty(),
        "{what}: the example is not clean: {clean:?}"
    );
    let mut constraints = Vec::new();
    collect(doc, schema, &mut Vec::new(), &mut constraints);
    constraints.retain(
        |(path, _)| !matches!(path.first(), Some(Step::Field(f)) if ignored.contains(&f.as_str())),
    );
    assert!(!constraints.is_empty(), "{what}: no constraints");
    for (path, c) in &constraints {
        let mut msg = example.clone();
        let (value, expected): (Option<Value>, &[&str]) = match c {
            Constraint::Required => (None, &["must not be null", "must not be blank"]),
            Constraint::MaxLength(n) => (
                Some(Value::String("A".repeat(*n as usize + 1))),
                &["size must be between"],
            ),
            Constraint::MinLength(n) => (
                Some(Value::String("A".repeat(n.saturating_sub(1) as usize))),
                &["size must be between", "must not be blank"],
            ),
        };
        match value {
            None => remove(&mut msg, path),
            Some(v) => *slot(&mut msg, path) = v,
        }
        let errors = validate(&msg.to_string());
        let at = render(path);
        // The limit itself is accepted (so the schema's limit is the
        // validator's, not merely stricter or looser).
        let boundary = match c {
            Constraint::Required => None,
            Constraint::MaxLength(n) | Constraint::MinLength(n) => Some(*n),
        };
        if let Some(n) = boundary.filter(|n| *n > 0) {
            let mut ok = example.clone();
            *slot(&mut ok, path) = Value::String("A".repeat(n as usize));
            let at_limit = validate(&ok.to_string());
            assert!(
                !at_limit
                    .iter()
                    .any(|(f, e)| *f == at && e.starts_with("size must be between")),
                "{what}: {at} with {n} characters (the schema's limit) gets {at_limit:?}"
            );
        }
        assert!(
            errors
                .iter()
                .any(|(f, e)| *f == at && expected.iter().any(|x| e.starts_with(x))),
            "{what}: the schema says {at} has {c:?}, but the validator reports {errors:?}"
        );
    }
    constraints.len()
}

fn request_schema<'d>(doc: &'d Value, path: &str, method: &str) -> &'d Value {
    &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
}

fn sync(report: &digitoll_model::ValidationReport) -> Vec<(String, String)> {
    report
        .sync_errors()
        .iter()
        .map(|e| (e.field.clone(), e.error.clone()))
        .collect()
}

#[test]
fn movement_schemas_agree_with_the_validator() {
    for mode in TransportMode::ALL {
        let doc = openapi_document(SpecApi::Movement(mode));
        let base = mode.submission_base();
        let transport = match mode {
            TransportMode::Road => "road/valid-transport.json".to_owned(),
            m => format!("{m}/valid-transport.json"),
        };
        let cases = [
            ("transport", "post", MessageKind::Transport, transport),
            (
                "master-consignment",
                "post",
                MessageKind::MasterConsignment,
                "road/valid-master.json".into(),
            ),
            (
                "house-consignment",
                "post",
                MessageKind::HouseConsignment,
                "road/valid-house-import-cude.json".into(),
            ),
            (
                "house-consignment",
                "post",
                MessageKind::HouseConsignment,
                "road/valid-house-voec.json".into(),
            ),
            (
                "relation",
                "post",
                MessageKind::Relation,
                "road/valid-relation.json".into(),
            ),
            (
                "transport/{mrn}",
                "delete",
                MessageKind::Delete,
                "road/valid-delete.json".into(),
            ),
        ];
        let mut checked = 0;
        for (segment, method, kind, file) in cases {
            let schema = request_schema(&doc, &format!("{base}/{segment}"), method);
            assert!(schema.is_object(), "{mode} {segment} has a request body");
            let validate = |text: &str| {
                let (_, report) = validate_json_for(mode, kind, text, &ctx()).unwrap();
                sync(&report)
            };
            checked += check_body(
                &doc,
                schema,
                &example(&file),
                &validate,
                &format!("{mode} {file}"),
                &[],
            );
        }
        assert!(checked > 100, "{mode}: only {checked} constraints");
    }
}

#[test]
fn mode_rules_are_in_the_schemas() {
    let air = openapi_document(SpecApi::Movement(TransportMode::Air));
    let means = &air["components"]["schemas"]["ActiveBorderTransportMeans"];
    let required: Vec<&str> = means["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(required.contains(&"conveyanceReferenceNumber"));
    assert!(required.contains(&"operator"));
    assert_eq!(
        means["properties"]["modeOfTransportCode"]["enum"],
        json!(["4"])
    );
    // Each mode's document follows its row of the rules table.
    for mode in TransportMode::ALL {
        let doc = openapi_document(SpecApi::Movement(mode));
        let schemas = &doc["components"]["schemas"];
        let means = &schemas["ActiveBorderTransportMeans"];
        let required: Vec<&str> = means["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let rules = mode.rules();
        assert_eq!(
            required.contains(&"operator"),
            rules.operator == digitoll_model::Requirement::Required,
            "{mode}"
        );
        assert_eq!(
            required.contains(&"conveyanceReferenceNumber"),
            rules.conveyance_reference_required,
            "{mode}"
        );
        assert_eq!(
            schemas["TypeOfExport"]["enum"],
            json!(rules.export_types),
            "{mode}"
        );
        match rules.type_of_identification {
            Some(codes) => assert_eq!(
                means["properties"]["typeOfIdentification"]["enum"],
                json!(codes)
            ),
            None => assert!(
                means["properties"]["typeOfIdentification"]
                    .get("enum")
                    .is_none()
            ),
        }
    }
}

#[test]
fn entry_schemas_agree_with_the_validator() {
    let doc = openapi_document(SpecApi::Presentation);
    for kind in PresentationKind::ALL {
        let path = format!(
            "{}/{}",
            digitoll_model::entry::PRESENTATION_BASE,
            kind.path_segment()
        );
        let validate = |text: &str| {
            let (_, report) = validate_presentation_json(kind, text, &ctx()).unwrap();
            sync(&report)
        };
        let file = format!("presentation/{}.json", kind.path_segment());
        // One body type serves the five kinds; the fields of the other kinds
        // are not read (unknown fields, as at Toll), and an ENS presentation
        // has no transportMRN.
        let own = match kind {
            PresentationKind::HouseConsignment => "consignmentHouseLevel",
            PresentationKind::MasterConsignment => "consignmentMasterLevel",
            PresentationKind::Container => "containerIdentificationNumber",
            PresentationKind::Receptacle => "receptacleIdentificationNumber",
            PresentationKind::EntrySummaryDeclaration => "mrn",
        };
        let mut ignored: Vec<&str> = [
            "consignmentHouseLevel",
            "consignmentMasterLevel",
            "containerIdentificationNumber",
            "receptacleIdentificationNumber",
            "mrn",
        ]
        .into_iter()
        .filter(|f| *f != own)
        .collect();
        if kind == PresentationKind::EntrySummaryDeclaration {
            ignored.push("transportMRN");
        }
        let schema = request_schema(&doc, &path, "post");
        let n = check_body(&doc, schema, &example(&file), &validate, &file, &ignored);
        assert!(n >= 4, "{file}: {n}");
    }
    let doc = openapi_document(SpecApi::Arrival);
    let path = format!("{}/arrival", digitoll_model::entry::ARRIVAL_BASE);
    let validate = |text: &str| {
        let (_, report) = validate_arrival_json(text, &ctx()).unwrap();
        sync(&report)
    };
    let n = check_body(
        &doc,
        request_schema(&doc, &path, "post"),
        &example("presentation/arrival.json"),
        &validate,
        "arrival",
        &[],
    );
    assert!(n >= 5, "arrival: {n}");
}

// -- diff -----------------------------------------------------------------------

#[test]
fn every_document_is_openapi_and_has_no_difference_with_itself() {
    for api in SpecApi::ALL {
        let doc = openapi_document(api);
        check_document(&doc).unwrap();
        assert_eq!(diff(&doc, &doc), Vec::<SpecDifference>::new(), "{api}");
        assert_eq!(api.to_string().parse::<SpecApi>().unwrap(), api);
    }
    assert!("bus".parse::<SpecApi>().is_err());
}

fn road() -> Value {
    openapi_document(SpecApi::Movement(TransportMode::Road))
}

const T: &str = "/api/movement/road/v2/transport";

fn lines(d: &[SpecDifference]) -> Vec<String> {
    d.iter().map(ToString::to_string).collect()
}

#[test]
fn springdoc_shapes_are_resolved() {
    // Toll's springdoc document spells the same contract differently: 3.0
    // `nullable`, `allOf` around a `$ref`, other parameter names, `*/*`
    // content, and inline schemas instead of components.
    let ours = road();
    let mut theirs = ours.clone();
    let schemas = theirs["components"]["schemas"].clone();
    let paths = theirs["paths"].as_object_mut().unwrap();
    let item = paths.remove(&format!("{T}/{{mrn}}")).unwrap();
    paths.insert(format!("{T}/{{MRN}}"), item);
    let post = &mut paths[T]["post"];
    let body = post["requestBody"]["content"]["application/json"].take();
    post["requestBody"]["content"] = json!({"*/*": body});
    post["requestBody"]["content"]["*/*"]["schema"] =
        json!({"allOf": [schemas["Transport"].clone()]});
    theirs["components"]["schemas"]["Party"]["properties"]["name"] =
        json!({"type": "string", "nullable": true, "minLength": 1, "maxLength": 70});
    assert_eq!(lines(&diff(&ours, &theirs)), Vec::<String>::new());
}

#[test]
fn each_kind_of_difference_is_found_at_its_path() {
    let ours = road();
    let mut theirs = ours.clone();
    let s = &mut theirs["components"]["schemas"];
    // A different maxLength.
    s["ActiveBorderTransportMeans"]["properties"]["identificationNumber"]["maxLength"] = json!(17);
    // A pattern.
    s["CustomsOfficeRef"]["properties"]["referenceNumber"]["pattern"] = json!("^NO[0-9]{6}$");
    // A type.
    s["HouseConsignmentLevel"]["properties"]["numberOfPackages"]["type"] = json!("integer");
    // An extra field and a missing one.
    s["Operator"]["properties"]["email"] = json!({"type": "string"});
    s["Address"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("subDivision");
    // Required removed and added.
    let req = s["Transport"]["required"].as_array_mut().unwrap();
    req.retain(|f| f != "carrier");
    s["Place"]["required"] = json!(["unloCode"]);
    // An enum value.
    s["ObjectType"]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("CONTAINER"));
    // A missing path and an extra method.
    let paths = theirs["paths"].as_object_mut().unwrap();
    paths.remove("/api/movement/road/v2/test-auth");
    paths[T]["get"] = json!({"responses": {"200": {"description": "OK"}}});

    let found = diff(&ours, &theirs);
    let paths: Vec<String> = found.iter().map(SpecDifference::json_path).collect();
    let post = format!("paths.{T}.post.requestBody");
    let expect = |p: &str| {
        assert!(paths.iter().any(|x| x == p), "{p} not in {paths:#?}");
    };
    expect(&format!(
        "{post}: Transport.activeBorderTransportMeans.identificationNumber.maxLength"
    ));
    expect(&format!(
        "{post}: Transport.customsOfficeOfFirstEntry.referenceNumber.pattern"
    ));
    expect(&format!(
        "{post}: Transport.activeBorderTransportMeans.operator.email"
    ));
    expect(&format!("{post}: Transport.carrier.required"));
    expect(&format!("{post}: Transport.carrier.address.subDivision"));
    expect("paths./api/movement/road/v2/test-auth");
    expect(&format!("paths.{T}.get"));
    let house = "paths./api/movement/road/v2/house-consignment.post.requestBody";
    expect(&format!(
        "{house}: HouseConsignment.consignmentHouseLevel.numberOfPackages.type"
    ));
    expect(&format!(
        "{house}: HouseConsignment.consignmentHouseLevel.placeOfDelivery.unloCode.required"
    ));
    let relation = "paths./api/movement/road/v2/relation.post.requestBody";
    expect(&format!(
        "{relation}: Relation.parentObjectType.enum[CONTAINER]"
    ));

    // Typed, and rendered as "Toll: X, model: Y".
    assert!(found.contains(&SpecDifference::MaxLength {
        location: post.clone(),
        field: "Transport.activeBorderTransportMeans.identificationNumber".into(),
        toll: Some(17),
        model: Some(35),
    }));
    assert!(found.contains(&SpecDifference::Required {
        location: post.clone(),
        field: "Transport.carrier".into(),
        toll: false,
        model: true,
    }));
    assert!(found.contains(&SpecDifference::ExtraField {
        location: post.clone(),
        field: "Transport.activeBorderTransportMeans.operator.email".into(),
    }));
    assert!(found.contains(&SpecDifference::MissingField {
        location: post.clone(),
        field: "Transport.carrier.address.subDivision".into(),
    }));
    assert!(found.contains(&SpecDifference::MissingPath {
        path: "/api/movement/road/v2/test-auth".into()
    }));
    assert!(found.contains(&SpecDifference::ExtraMethod {
        path: T.into(),
        method: "get".into()
    }));
    let text = lines(&found);
    assert!(text.contains(&format!(
        "{post}: Transport.activeBorderTransportMeans.identificationNumber.maxLength: Toll: 17, model: 35"
    )), "{text:#?}");
    assert!(text.contains(&format!(
        "{post}: Transport.carrier.required: Toll: no, model: yes"
    )));

    // Nothing else: every difference comes from one of the edits above
    // (shown wherever the edited component is used, POST and PUT alike).
    let allowed = [
        "identificationNumber.maxLength",
        "referenceNumber.pattern",
        "numberOfPackages.type",
        "operator.email",
        "address.subDivision",
        "Transport.carrier.required",
        "unloCode.required",
        "enum[CONTAINER]",
        "test-auth",
        "transport.get",
    ];
    for p in &paths {
        assert!(
            allowed.iter().any(|a| p.contains(a)),
            "unexpected difference {p}"
        );
    }
}

#[test]
fn a_hand_made_document_gives_exactly_its_differences() {
    let ours = json!({
        "openapi": "3.1.0",
        "paths": {
            "/a": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                "responses": {"202": {"description": "OK"}}
            }},
            "/b/{id}": {"get": {"responses": {"200": {"description": "OK"}}}}
        },
        "components": {"schemas": {"Thing": {
            "type": "object",
            "required": ["x"],
            "properties": {
                "x": {"type": "string", "maxLength": 5, "pattern": "^a"},
                "y": {"type": "string", "enum": ["A", "B"]},
                "z": {"type": "number"},
                "w": {"type": "string"}
            }
        }}}
    });
    // Toll's: springdoc 3.0 shapes (allOf around the $ref, nullable), the
    // path parameter named differently, and one edit of each kind.
    let theirs = json!({
        "openapi": "3.0.1",
        "paths": {
            "/a": {
                "post": {
                    "requestBody": {"content": {"*/*": {"schema": {"allOf": [{"$ref": "#/components/schemas/Thing"}]}}}},
                    "responses": {"202": {"description": "Accepted"}}
                },
                "get": {"responses": {"200": {"description": "OK"}}}
            }
        },
        "components": {"schemas": {"Thing": {
            "type": "object",
            "required": ["y"],
            "properties": {
                "x": {"type": "string", "nullable": true, "maxLength": 6, "pattern": "^b"},
                "y": {"type": "string", "enum": ["A", "C"]},
                "z": {"type": "string"},
                "v": {"type": "string"}
            }
        }}}
    });
    let found = diff(&ours, &theirs);
    let at = "paths./a.post.requestBody";
    let loc = || at.to_owned();
    let f = |x: &str| format!("Thing.{x}");
    assert_eq!(
        found,
        vec![
            SpecDifference::ExtraMethod {
                path: "/a".into(),
                method: "get".into()
            },
            SpecDifference::ExtraField {
                location: loc(),
                field: f("v")
            },
            SpecDifference::MissingField {
                location: loc(),
                field: f("w")
            },
            SpecDifference::MaxLength {
                location: loc(),
                field: f("x"),
                toll: Some(6),
                model: Some(5)
            },
            SpecDifference::Pattern {
                location: loc(),
                field: f("x"),
                toll: Some("^b".into()),
                model: Some("^a".into())
            },
            SpecDifference::Required {
                location: loc(),
                field: f("x"),
                toll: false,
                model: true
            },
            SpecDifference::EnumValue {
                location: loc(),
                field: f("y"),
                value: "B".into(),
                toll: false,
                model: true
            },
            SpecDifference::EnumValue {
                location: loc(),
                field: f("y"),
                value: "C".into(),
                toll: true,
                model: false
            },
            SpecDifference::Required {
                location: loc(),
                field: f("y"),
                toll: true,
                model: false
            },
            SpecDifference::Type {
                location: loc(),
                field: f("z"),
                toll: "string".into(),
                model: "number".into()
            },
            SpecDifference::MissingPath {
                path: "/b/{id}".into()
            },
        ]
    );
    let text: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(text[0], "paths./a.get: Toll: documented, model: not used");
    assert_eq!(
        text[3],
        "paths./a.post.requestBody: Thing.x.maxLength: Toll: 6, model: 5"
    );
    assert_eq!(
        text[6],
        "paths./a.post.requestBody: Thing.y.enum[B]: Toll: not listed, model: listed"
    );
    assert_eq!(text[10], "paths./b/{id}: Toll: no such path, model: used");
}

#[test]
fn a_missing_body_and_a_missing_method_are_reported() {
    let ours = road();
    let mut theirs = ours.clone();
    let item = &mut theirs["paths"][format!("{T}/{{mrn}}")];
    item.as_object_mut().unwrap().remove("put");
    item["delete"]
        .as_object_mut()
        .unwrap()
        .remove("requestBody");
    let found = diff(&ours, &theirs);
    assert_eq!(
        found,
        // Sorted by JSON path.
        vec![
            SpecDifference::Body {
                location: format!("paths.{T}/{{mrn}}.delete.requestBody"),
                toll: false,
                model: true
            },
            SpecDifference::MissingMethod {
                path: format!("{T}/{{mrn}}"),
                method: "put".into()
            },
        ]
    );
}

#[test]
fn documents_that_are_not_openapi_are_refused() {
    use digitoll_model::spec::parse_document;
    let e = parse_document("{").unwrap_err().to_string();
    assert!(e.contains("line 1"), "{e}");
    assert!(
        parse_document(r#"{"swagger": "2.0", "paths": {}}"#)
            .unwrap_err()
            .to_string()
            .contains("Swagger 2")
    );
    assert!(
        parse_document(r#"{"openapi": "3.0.1"}"#)
            .unwrap_err()
            .to_string()
            .contains("paths")
    );
    assert!(parse_document(r#"[1]"#).is_err());
    assert!(parse_document(r#"{"openapi": "3.0.1", "paths": {}}"#).is_ok());
}
