//! Validation throughput: a typical transport, a typical house, and a VOEC
//! house with 1000 goods items, each as typed validation and as the full
//! `validate_json` path (parse + structural pass + rules). The baseline is
//! plain `serde_json::from_str` into `serde_json::Value` of the same text, so
//! the README can report validation cost relative to parsing.

use digitoll_model::road::HouseConsignment;
use digitoll_model::{MessageKind, ValidationContext, validate_house, validate_json};
use serde_json::{Value, json};
use time::macros::datetime;

fn main() {
    divan::main();
}

fn example(name: &str) -> String {
    let path = format!(
        "{}/../../examples/road/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).expect("example exists")
}

fn voec_1000() -> String {
    let mut v: Value = serde_json::from_str(&example("valid-house-voec")).unwrap();
    let items: Vec<Value> = (0..1000)
        .map(|i| {
            json!({
                "itemAmountInvoicedVOEC": {"value": 100 + i % 2000, "numberOfItems": 1 + i % 5},
                "commodityCodeVOEC": {"harmonizedSystemSubheadingCode": "611020"},
                "additionalFiscalReferences": {"vatIdentificationNumber": "2056550", "role": "FR5"}
            })
        })
        .collect();
    v["consignmentHouseLevel"]["goodsItem"] = Value::Array(items);
    v.to_string()
}

fn ctx() -> ValidationContext {
    ValidationContext::new(datetime!(2026-11-26 12:00 UTC))
}

#[divan::bench]
fn baseline_parse_value_transport(b: divan::Bencher) {
    let text = example("valid-transport");
    b.bench(|| serde_json::from_str::<Value>(divan::black_box(&text)).unwrap());
}

#[divan::bench]
fn json_transport(b: divan::Bencher) {
    let text = example("valid-transport");
    let ctx = ctx();
    b.bench(|| validate_json(MessageKind::Transport, divan::black_box(&text), &ctx).unwrap());
}

#[divan::bench]
fn json_house_import(b: divan::Bencher) {
    let text = example("valid-house-import-cude");
    let ctx = ctx();
    b.bench(|| {
        validate_json(MessageKind::HouseConsignment, divan::black_box(&text), &ctx).unwrap()
    });
}

#[divan::bench]
fn baseline_parse_value_voec_1000(b: divan::Bencher) {
    let text = voec_1000();
    b.bench(|| serde_json::from_str::<Value>(divan::black_box(&text)).unwrap());
}

#[divan::bench]
fn json_voec_1000(b: divan::Bencher) {
    let text = voec_1000();
    let ctx = ctx();
    b.bench(|| {
        validate_json(MessageKind::HouseConsignment, divan::black_box(&text), &ctx).unwrap()
    });
}

#[divan::bench]
fn typed_voec_1000(b: divan::Bencher) {
    let house: HouseConsignment = serde_json::from_str(&voec_1000()).unwrap();
    let ctx = ctx();
    b.bench(|| validate_house(divan::black_box(&house), &ctx));
}
