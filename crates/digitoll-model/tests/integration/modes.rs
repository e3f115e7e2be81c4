//! Per-mode rules of `validate_json_for` (air, rail, maritime) and road
//! equivalence with `validate_json`.

use std::path::PathBuf;

use digitoll_model::{
    Channel, MessageKind, Outcome, RuleOverrides, Severity, TransportMode, ValidationContext,
    ValidationReport, validate_json, validate_json_for,
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
fn operator_is_required_in_road_air_and_rail_and_expected_in_maritime() {
    for mode in TransportMode::ALL {
        let body = edit(&example(mode.path_segment(), "valid-transport"), |v| {
            v["activeBorderTransportMeans"]
                .as_object_mut()
                .unwrap()
                .remove("operator");
        });
        let r = check(mode, &body);
        let path = "activeBorderTransportMeans.operator";
        if mode == TransportMode::Maritime {
            // Only the generic table implies it: a warning, the message passes.
            assert!(r.is_valid(), "{mode}: {r}");
            let w = &r.warnings()[0];
            assert_eq!(
                (w.rule.as_str(), w.path.as_str(), w.channel),
                ("transport.operator.required-maritime", path, Channel::Sync)
            );
        } else {
            assert!(has_sync(&r, path, "must not be null"), "{mode}: {r}");
            assert!(
                r.findings()
                    .iter()
                    .any(|f| f.rule == "transport.operator.required" && f.path == path),
                "{mode}"
            );
            assert!(r.warnings().is_empty(), "{mode}");
        }
    }
}

#[test]
fn maritime_operator_can_be_raised_to_an_error_and_rail_lowered_to_a_warning() {
    let mut rules = RuleOverrides::new();
    rules
        .set("transport.operator.required-maritime", Severity::Error)
        .unwrap();
    rules
        .set("transport.operator.required", Severity::Warning)
        .unwrap();
    let ctx = ctx().with_rule_overrides(rules);
    for (mode, valid) in [
        (TransportMode::Maritime, false),
        (TransportMode::Rail, true),
    ] {
        let body = edit(&example(mode.path_segment(), "valid-transport"), |v| {
            v["activeBorderTransportMeans"]
                .as_object_mut()
                .unwrap()
                .remove("operator");
        });
        let r = validate_json_for(mode, MessageKind::Transport, &body, &ctx)
            .unwrap()
            .1;
        assert_eq!(r.is_valid(), valid, "{mode}: {r}");
        assert_eq!(r.warnings().len(), usize::from(valid), "{mode}");
    }
}

#[test]
fn masters_are_validated_as_for_road_in_every_mode() {
    let master = example("road", "valid-master");
    let road = validate_json(MessageKind::MasterConsignment, &master, &ctx()).unwrap();
    for mode in TransportMode::ALL {
        let other =
            validate_json_for(mode, MessageKind::MasterConsignment, &master, &ctx()).unwrap();
        assert_eq!(road, other, "{mode}");
    }
}

fn house_in(mode: TransportMode, f: impl FnOnce(&mut Value)) -> ValidationReport {
    let body = edit(&example("road", "valid-house-import-cude"), |v| {
        f(&mut v["consignmentHouseLevel"]);
    });
    validate_json_for(mode, MessageKind::HouseConsignment, &body, &ctx())
        .unwrap()
        .1
}

fn procedure(c: &mut Value, import: &str, outgoing: Option<&str>) {
    c["importProcedure"] = match outgoing {
        Some(o) => {
            json!({"importProcedure": import, "outgoingProcedure": o, "hasOutgoingProcedure": true})
        }
        None => json!({"importProcedure": import, "hasOutgoingProcedure": false}),
    };
}

fn warned(r: &ValidationReport, rule: &str) -> bool {
    r.warnings().iter().any(|w| w.rule == rule)
}

#[test]
fn eidr_export_is_road_only() {
    for mode in TransportMode::ALL {
        let r = house_in(mode, |c| {
            procedure(c, "CUSTOMS_DECLARATION", Some("EXP"));
            c["exportFromEU"] =
                json!([{"typeOfExport": "EIDR_EXPORT", "exportId": "26SE12345678901AE2"}]);
        });
        let failed = has_biz(
            &r,
            "consignmentHouseLevel.exportFromEU[0].typeOfExport",
            "Invalid code. Expected codes are one of [AES_EXPORT, EUEIR_EXPORT]",
        );
        assert_eq!(failed, mode != TransportMode::Road, "{mode}: {r}");
        assert_eq!(r.is_valid(), mode == TransportMode::Road, "{mode}: {r}");
        assert!(r.warnings().is_empty(), "{mode}: {:?}", r.warnings());
        if failed {
            assert_eq!(r.business_rules(), ["house.export.eidr-road-only"]);
        }
    }
}

#[test]
fn import_procedures_a_modes_page_omits_are_warnings() {
    use TransportMode::{Air, Maritime, Rail, Road};
    // (import, outgoing, modes whose page lists it)
    let cases: [(&str, Option<&str>, &[TransportMode]); 3] = [
        ("TRANSIT_IMPORT", Some("TRA"), &[Road, Rail]),
        ("TRANSIT_RELEASE", Some("EXP"), &[Road]),
        ("NATO_FORM_302", None, &[Road]),
    ];
    for (import, outgoing, listed) in cases {
        for mode in TransportMode::ALL {
            let r = house_in(mode, |c| {
                procedure(c, import, outgoing);
                c.as_object_mut().unwrap().remove("previousDocuments");
                c.as_object_mut().unwrap().remove("exportFromEU");
            });
            assert!(r.is_valid(), "{import} {mode}: {r}");
            let w = warned(&r, "house.import-procedure.mode");
            assert_eq!(
                w,
                !listed.contains(&mode),
                "{import} {mode}: {:?}",
                r.warnings()
            );
            if w {
                let f = r
                    .warnings()
                    .iter()
                    .find(|f| f.rule == "house.import-procedure.mode")
                    .unwrap();
                assert_eq!(
                    f.path,
                    "consignmentHouseLevel.importProcedure.importProcedure"
                );
                assert_eq!(f.channel, Channel::Business);
                assert!(f.message.starts_with(
                    "Invalid code. Expected codes are one of [IMMEDIATE_RELEASE_IMPORT"
                ));
            }
        }
    }
    let _ = (Air, Maritime);
}

#[test]
fn outgoing_procedures_a_modes_page_omits_are_warnings() {
    use TransportMode::{Rail, Road};
    let cases: [(&str, Option<&str>, &[TransportMode]); 4] = [
        ("IMMEDIATE_RELEASE_IMPORT", Some("EXP"), &[Road]),
        ("IMMEDIATE_RELEASE_IMPORT", Some("TRA"), &[Road, Rail]),
        ("IMMEDIATE_RELEASE_IMPORT", None, &TransportMode::ALL),
        ("CUSTOMS_DECLARATION", Some("TRE"), &TransportMode::ALL),
    ];
    for (import, outgoing, listed) in cases {
        for mode in TransportMode::ALL {
            let r = house_in(mode, |c| {
                procedure(c, import, outgoing);
                c.as_object_mut().unwrap().remove("exportFromEU");
            });
            assert!(r.is_valid(), "{import} {outgoing:?} {mode}: {r}");
            assert!(!warned(&r, "house.import-procedure.mode"));
            assert_eq!(
                warned(&r, "house.outgoing-procedure.mode"),
                !listed.contains(&mode),
                "{import} {outgoing:?} {mode}: {:?}",
                r.warnings()
            );
        }
    }
}

#[test]
fn gonu_warehouse_release_is_road_only() {
    for mode in TransportMode::ALL {
        let r = house_in(mode, |c| {
            procedure(c, "WAREHOUSE_RELEASE", Some("TRA"));
            c["previousDocuments"] = json!([
                {"typeOfReference": "GONU", "referenceNumber": "GN-2026-0001"},
                {"typeOfReference": "N820", "referenceNumber": "22FR98765273876523"}
            ]);
            c.as_object_mut().unwrap().remove("exportFromEU");
        });
        assert!(r.is_valid(), "{mode}: {r}");
        assert_eq!(
            warned(&r, "house.gonu.road-only"),
            mode != TransportMode::Road,
            "{mode}: {:?}",
            r.warnings()
        );
    }
}

#[test]
fn a_mode_procedure_warning_can_be_raised_to_an_error() {
    let mut rules = RuleOverrides::new();
    rules
        .set("house.import-procedure.mode", Severity::Error)
        .unwrap();
    let body = edit(&example("road", "valid-house-transit-n820"), |_| {});
    let air = validate_json_for(
        TransportMode::Air,
        MessageKind::HouseConsignment,
        &body,
        &ctx().with_rule_overrides(rules),
    )
    .unwrap()
    .1;
    assert!(matches!(air.outcome(), Outcome::Failed(_)), "{air}");
    assert!(
        air.business_rules()
            .contains(&"house.import-procedure.mode")
    );
}

#[test]
fn the_air_eidr_example_fails_in_air_and_passes_on_road() {
    let body = example("air", "invalid-house-eidr-export");
    let road = validate_json(MessageKind::HouseConsignment, &body, &ctx())
        .unwrap()
        .1;
    assert!(road.is_valid() && road.warnings().is_empty(), "{road}");
    let air = validate_json_for(
        TransportMode::Air,
        MessageKind::HouseConsignment,
        &body,
        &ctx(),
    )
    .unwrap()
    .1;
    assert_eq!(
        air.business_rules(),
        ["house.export.eidr-road-only"],
        "{air}"
    );
}

#[test]
fn unlocode_format_and_cl751_additions_apply_in_every_mode() {
    for mode in TransportMode::ALL {
        let r = house_in(mode, |c| {
            c["placeOfDelivery"] = json!({"unloCode": "NO0SL"});
            procedure(c, "CUSTOMS_DECLARATION", Some("EXP"));
        });
        assert_eq!(r.business_rules(), ["place.unlocode.format"], "{mode}: {r}");
        let body = edit(&example(mode.path_segment(), "valid-transport"), |v| {
            v["activeBorderTransportMeans"]["typeOfMeansOfTransport"] = json!("T");
        });
        assert!(check(mode, &body).is_valid(), "{mode}");
    }
}
