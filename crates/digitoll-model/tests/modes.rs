//! Per-mode rules of `validate_json_for` (air, rail, maritime) and road
//! equivalence with `validate_json`.

use std::path::PathBuf;

use digitoll_model::{
    MessageKind, Outcome, TransportMode, ValidationContext, validate_json, validate_json_for,
};
use serde_json::{Value, json};
use time::macros::datetime;

fn ctx() -> ValidationContext {
    ValidationContext::new(datetime!(2026-12-01 08:00 UTC))
}

fn example(dir: &str, name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(dir)
        .join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn check(mode: TransportMode, body: &str) -> digitoll_model::ValidationReport {
    validate_json_for(mode, MessageKind::Transport, body, &ctx())
        .expect("JSON object")
        .1
}

fn edit(body: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(body).unwrap();
    f(&mut v);
    v.to_string()
}

fn has_sync(r: &digitoll_model::ValidationReport, field: &str, error: &str) -> bool {
    r.sync_errors()
        .iter()
        .any(|e| e.field == field && e.error == error)
}

fn has_biz(r: &digitoll_model::ValidationReport, path: &str, text: &str) -> bool {
    r.business_errors()
        .iter()
        .any(|e| e.pointer.message_element_path == path && e.description == text)
}

#[test]
fn valid_transports_of_each_mode_pass_in_their_own_mode() {
    for mode in [
        TransportMode::Air,
        TransportMode::Rail,
        TransportMode::Maritime,
    ] {
        let report = check(mode, &example(mode.path_segment(), "valid-transport"));
        assert!(report.is_valid(), "{mode}: {report}");
        assert_eq!(report.outcome(), Outcome::Accepted { incomplete: vec![] });
    }
}

#[test]
fn road_is_unchanged_for_every_road_example() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/road");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        let Some(kind) = MessageKind::detect(&value) else {
            continue;
        };
        let a = validate_json(kind, &text, &ctx()).unwrap();
        let b = validate_json_for(TransportMode::Road, kind, &text, &ctx()).unwrap();
        assert_eq!(a, b, "{}", path.display());
        n += 1;
    }
    assert!(n >= 20, "only {n} road examples checked");
}

#[test]
fn road_accepts_other_cl018_codes_as_before() {
    // Road's rule is "a CL018 code" (unchanged); only other modes pin theirs.
    let body = edit(&example("road", "valid-transport"), |v| {
        v["activeBorderTransportMeans"]["modeOfTransportCode"] = json!("4");
    });
    assert!(check(TransportMode::Road, &body).is_valid());
}

#[test]
fn wrong_mode_of_transport_code_fails_with_the_modes_code() {
    for (mode, wrong) in [
        (TransportMode::Air, "3"),
        (TransportMode::Rail, "1"),
        (TransportMode::Maritime, "8"),
    ] {
        let body = edit(&example(mode.path_segment(), "valid-transport"), |v| {
            v["activeBorderTransportMeans"]["modeOfTransportCode"] = json!(wrong);
        });
        let r = check(mode, &body);
        assert!(r.sync_errors().is_empty(), "{r}");
        let text = format!(
            "Invalid code. Expected codes are one of [{}]",
            mode.cl018_code()
        );
        assert!(
            has_biz(&r, "activeBorderTransportMeans.modeOfTransportCode", &text),
            "{mode}: {r}"
        );
        assert!(matches!(r.outcome(), Outcome::Failed(_)));
    }
}

#[test]
fn air_needs_a_flight_number_and_an_operator_with_communication() {
    let r = check(
        TransportMode::Air,
        &example("air", "invalid-transport-no-flight-number"),
    );
    assert!(has_sync(
        &r,
        "activeBorderTransportMeans.conveyanceReferenceNumber",
        "must not be blank"
    ));
    assert!(has_sync(
        &r,
        "activeBorderTransportMeans.operator",
        "must not be null"
    ));
    let blank = edit(&example("air", "valid-transport"), |v| {
        v["activeBorderTransportMeans"]["conveyanceReferenceNumber"] = json!("  ");
        v["activeBorderTransportMeans"]["operator"]
            .as_object_mut()
            .unwrap()
            .remove("communication");
    });
    let r = check(TransportMode::Air, &blank);
    assert!(has_sync(
        &r,
        "activeBorderTransportMeans.conveyanceReferenceNumber",
        "must not be blank"
    ));
    assert!(has_sync(
        &r,
        "activeBorderTransportMeans.operator.communication",
        "must not be null"
    ));
    // The same body is fine for maritime apart from the codes: no flight
    // number rule there.
    let r = check(TransportMode::Maritime, &blank);
    assert!(
        !r.sync_errors()
            .iter()
            .any(|e| e.field.contains("conveyanceReferenceNumber") || e.field.contains("operator")),
        "{r}"
    );
}

#[test]
fn type_of_identification_per_mode() {
    let r = check(
        TransportMode::Air,
        &example("air", "invalid-transport-road-codes"),
    );
    assert!(has_biz(
        &r,
        "activeBorderTransportMeans.typeOfIdentification",
        "Invalid code. Expected codes are one of [41]"
    ));
    let r = check(
        TransportMode::Rail,
        &example("rail", "invalid-transport-ship-identification"),
    );
    assert!(has_biz(
        &r,
        "activeBorderTransportMeans.typeOfIdentification",
        "Invalid code. Expected codes are one of [20, 21]"
    ));
    let wagon = edit(&example("rail", "valid-transport"), |v| {
        v["activeBorderTransportMeans"]["typeOfIdentification"] = json!("20");
    });
    assert!(check(TransportMode::Rail, &wagon).is_valid());
    let r = check(
        TransportMode::Maritime,
        &edit(&example("maritime", "valid-transport"), |v| {
            v["activeBorderTransportMeans"]["typeOfIdentification"] = json!("80");
        }),
    );
    assert!(has_biz(
        &r,
        "activeBorderTransportMeans.typeOfIdentification",
        "Invalid code. Expected codes are one of [10]"
    ));
}

#[test]
fn rail_and_maritime_do_not_require_an_operator_but_road_does() {
    let road = edit(&example("road", "valid-transport"), |v| {
        v["activeBorderTransportMeans"]
            .as_object_mut()
            .unwrap()
            .remove("operator");
    });
    assert!(has_sync(
        &check(TransportMode::Road, &road),
        "activeBorderTransportMeans.operator",
        "must not be null"
    ));
    for mode in [TransportMode::Rail, TransportMode::Maritime] {
        let r = check(mode, &example(mode.path_segment(), "valid-transport"));
        assert!(r.is_valid(), "{mode}: {r}");
    }
}

#[test]
fn masters_and_houses_are_validated_as_for_road_in_every_mode() {
    let house = example("road", "valid-house-import-cude");
    let road = validate_json(MessageKind::HouseConsignment, &house, &ctx()).unwrap();
    for mode in TransportMode::ALL {
        let other = validate_json_for(mode, MessageKind::HouseConsignment, &house, &ctx()).unwrap();
        assert_eq!(road, other, "{mode}");
    }
}
