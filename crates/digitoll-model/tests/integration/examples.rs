//! Golden tests over every message in the repository's `examples/road/`.
//!
//! `valid-*` files must validate clean (also against the playground
//! fixtures) and round-trip through the typed model unchanged; every other
//! file's report is pinned by an insta snapshot named after the file.

use std::path::PathBuf;

use digitoll_model::{MessageKind, ValidationContext, validate_json};
use serde_json::{Value, json};
use time::macros::datetime;

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/road")
}

fn kind_of(name: &str) -> MessageKind {
    if name.contains("transport") {
        MessageKind::Transport
    } else if name.contains("master") {
        MessageKind::MasterConsignment
    } else if name.contains("house") {
        MessageKind::HouseConsignment
    } else if name.contains("relation") {
        MessageKind::Relation
    } else if name.contains("delete") {
        MessageKind::Delete
    } else {
        panic!("cannot tell the message kind of {name}")
    }
}

fn ctx() -> ValidationContext {
    ValidationContext::new(datetime!(2026-11-26 12:00 UTC))
        .with_playground(digitoll_model::PlaygroundFixtures::default())
}

fn example_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(examples_dir())
        .expect("examples/road exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).expect("readable example");
            (name, text)
        })
        .collect();
    files.sort();
    files
}

fn serialize_message(msg: &digitoll_model::Message) -> Value {
    use digitoll_model::Message;
    match msg {
        Message::Transport(t) => serde_json::to_value(t),
        Message::MasterConsignment(m) => serde_json::to_value(m),
        Message::HouseConsignment(h) => serde_json::to_value(h),
        Message::Relation(r) => serde_json::to_value(r),
        Message::Delete(d) => serde_json::to_value(d),
    }
    .expect("serialisable")
}

#[test]
fn there_are_enough_examples() {
    let files = example_files();
    assert!(
        files
            .iter()
            .filter(|(n, _)| n.starts_with("valid-"))
            .count()
            >= 8
    );
    assert!(
        files
            .iter()
            .filter(|(n, _)| !n.starts_with("valid-"))
            .count()
            >= 10
    );
}

#[test]
fn valid_examples_validate_clean_and_round_trip() {
    for (name, text) in example_files()
        .into_iter()
        .filter(|(n, _)| n.starts_with("valid-"))
    {
        let (msg, report) = validate_json(kind_of(&name), &text, &ctx()).expect("JSON object");
        assert!(report.is_valid(), "{name} should be valid:\n{report}");
        assert!(
            report.incomplete_reasons().is_empty(),
            "{name} should be complete:\n{report}"
        );
        let original: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            serialize_message(&msg),
            original,
            "{name} must round-trip unchanged"
        );
    }
}

#[test]
fn invalid_examples_match_snapshots() {
    for (name, text) in example_files()
        .into_iter()
        .filter(|(n, _)| !n.starts_with("valid-"))
    {
        let (_, report) = validate_json(kind_of(&name), &text, &ctx()).expect("JSON object");
        assert!(
            !report.is_valid() || !report.incomplete_reasons().is_empty(),
            "{name} should show a problem"
        );
        let snapshot = json!({
            "syncErrors": report.sync_errors(),
            "businessErrors": report.business_errors(),
            "incompleteDocumentationReasonList": report.incomplete_reasons().iter().map(ToString::to_string).collect::<Vec<_>>(),
            // Every finding's rule id (see docs/contract-sources.md), in report order.
            "rules": report.findings().iter().map(|f| format!("{} {} {}", f.severity, f.rule, f.path)).collect::<Vec<_>>(),
        });
        insta::assert_json_snapshot!(name, snapshot);
    }
}

#[test]
fn detect_recognises_the_kind_of_every_example() {
    for (name, text) in example_files() {
        let value: Value = serde_json::from_str(&text).expect("example is JSON");
        assert_eq!(
            MessageKind::detect(&value),
            Some(kind_of(&name)),
            "{name}: detected kind differs from the file name"
        );
    }
    assert_eq!(MessageKind::detect(&json!({"foo": 1})), None);
    assert_eq!(MessageKind::detect(&json!([1, 2])), None);
}
