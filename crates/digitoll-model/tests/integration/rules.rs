//! One test (valid and invalid case) per validation rule. Each starts from a
//! valid example in `examples/road/` and changes one thing.

use digitoll_model::codes::IncompleteDocumentationReason as R;
use digitoll_model::validate::messages as m;
use digitoll_model::{
    MessageKind, Outcome, PlaygroundFixtures, ValidationContext, ValidationReport, validate_json,
};
use serde_json::{Value, json};
use time::macros::datetime;

fn load(name: &str) -> Value {
    let path = format!(
        "{}/../../examples/road/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ctx() -> ValidationContext {
    ValidationContext::new(datetime!(2026-11-26 12:00 UTC))
}

fn run(kind: MessageKind, v: &Value, ctx: &ValidationContext) -> ValidationReport {
    validate_json(kind, &v.to_string(), ctx).unwrap().1
}

fn house(f: impl FnOnce(&mut Value)) -> ValidationReport {
    house_ctx(f, &ctx())
}

fn house_ctx(f: impl FnOnce(&mut Value), ctx: &ValidationContext) -> ValidationReport {
    let mut v = load("valid-house-import-cude");
    f(&mut v["consignmentHouseLevel"]);
    run(MessageKind::HouseConsignment, &v, ctx)
}

fn voec(f: impl FnOnce(&mut Value)) -> ValidationReport {
    voec_ctx(f, &ctx())
}

fn voec_ctx(f: impl FnOnce(&mut Value), ctx: &ValidationContext) -> ValidationReport {
    let mut v = load("valid-house-voec");
    f(&mut v["consignmentHouseLevel"]);
    run(MessageKind::HouseConsignment, &v, ctx)
}

fn transport(f: impl FnOnce(&mut Value)) -> ValidationReport {
    let mut v = load("valid-transport");
    f(&mut v);
    run(MessageKind::Transport, &v, &ctx())
}

fn sync(r: &ValidationReport) -> Vec<(String, String)> {
    r.sync_errors()
        .iter()
        .map(|e| (e.field.clone(), e.error.clone()))
        .collect()
}

fn biz(r: &ValidationReport) -> Vec<(String, String)> {
    r.business_errors()
        .iter()
        .map(|e| {
            (
                e.pointer.message_element_path.clone(),
                e.description.clone(),
            )
        })
        .collect()
}

fn pair(a: &str, b: impl Into<String>) -> (String, String) {
    (a.to_owned(), b.into())
}

fn clean(r: &ValidationReport) {
    assert!(r.is_valid(), "expected valid:\n{r}");
}

// ---- synchronous -----------------------------------------------------------

#[test]
fn required_object_must_not_be_null() {
    clean(&house(|_| {}));
    let mut v = load("valid-house-import-cude");
    v.as_object_mut().unwrap().remove("documentIssueDate");
    let r = run(MessageKind::HouseConsignment, &v, &ctx());
    assert_eq!(sync(&r), vec![pair("documentIssueDate", m::NOT_NULL)]);
}

#[test]
fn required_string_must_not_be_blank() {
    let r = house(|c| c["goodsDescription"] = json!(""));
    assert_eq!(
        sync(&r),
        vec![pair("consignmentHouseLevel.goodsDescription", m::NOT_BLANK)]
    );
    let r = house(|c| {
        c.as_object_mut().unwrap().remove("goodsDescription");
    });
    assert_eq!(
        sync(&r),
        vec![pair("consignmentHouseLevel.goodsDescription", m::NOT_BLANK)]
    );
}

#[test]
fn string_sizes() {
    let r = house(|c| c["consignor"]["name"] = json!("x".repeat(71)));
    assert_eq!(
        sync(&r),
        vec![pair(
            "consignmentHouseLevel.consignor.name",
            "size must be between 1 and 70"
        )]
    );
    clean(&house(|c| c["consignor"]["name"] = json!("ø".repeat(70))));
    let r = transport(|t| t["customsOfficeOfFirstEntry"]["referenceNumber"] = json!("NO37100"));
    assert_eq!(
        sync(&r),
        vec![pair(
            "customsOfficeOfFirstEntry.referenceNumber",
            "size must be between 8 and 8"
        )]
    );
    let r = house(|c| c["previousDocuments"][0]["declarantNumber"] = json!("12345678"));
    assert_eq!(
        sync(&r),
        vec![pair(
            "consignmentHouseLevel.previousDocuments[0].declarantNumber",
            "size must be between 9 and 11"
        )]
    );
}

#[test]
fn numeric_digits() {
    clean(&house(|c| c["totalGrossMass"] = json!(103.123456)));
    let r = house(|c| c["totalGrossMass"] = json!(103.1234567));
    assert_eq!(
        sync(&r),
        vec![pair(
            "consignmentHouseLevel.totalGrossMass",
            "numeric value out of bounds (<16 digits>.<6 digits> expected)"
        )]
    );
}

#[test]
fn instant_format() {
    let mut v = load("valid-house-import-cude");
    v["documentIssueDate"] = json!("2026-12-01");
    let r = run(MessageKind::HouseConsignment, &v, &ctx());
    // Reported once, as a format error, not also as "must not be null".
    assert_eq!(sync(&r), vec![pair("documentIssueDate", m::INSTANT)]);
    v["documentIssueDate"] = json!(20261201);
    let r = run(MessageKind::HouseConsignment, &v, &ctx());
    assert_eq!(sync(&r), vec![pair("documentIssueDate", m::INSTANT)]);
}

#[test]
fn declaration_date_format() {
    let r = house(|c| c["previousDocuments"][0]["declarationDate"] = json!("10.08.2022"));
    assert_eq!(
        sync(&r),
        vec![pair(
            "consignmentHouseLevel.previousDocuments[0].declarationDate",
            m::DATE
        )]
    );
}

#[test]
fn integer_enums_must_be_one_of() {
    let r = house(|c| c["containerIndicator"] = json!(2));
    assert_eq!(
        sync(&r),
        vec![pair(
            "consignmentHouseLevel.containerIndicator",
            "Must be one of [0, 1]"
        )]
    );
    clean(&house(|c| c["containerIndicator"] = json!("1")));
    let r = house(|c| c["consignee"]["typeOfPerson"] = json!(4));
    assert_eq!(
        sync(&r),
        vec![pair(
            "consignmentHouseLevel.consignee.typeOfPerson",
            "Must be one of [1, 2, 3]"
        )]
    );
}

#[test]
fn consignor_address_needs_street_or_po_box() {
    let r = house(|c| {
        let a = c["consignor"]["address"].as_object_mut().unwrap();
        a.remove("streetLine");
    });
    assert_eq!(
        sync(&r),
        vec![pair(
            "consignmentHouseLevel.consignor.address",
            "At least one of the following fields should be non null: [streetLine, poBox]"
        )]
    );
    clean(&house(|c| {
        let a = c["consignor"]["address"].as_object_mut().unwrap();
        a.remove("streetLine");
        a.insert("poBox".into(), json!("Box 12"));
    }));
}

#[test]
fn transport_entry_needs_master_or_house() {
    let r = transport(|t| t["consignmentMasterLevel"] = json!([{}]));
    assert_eq!(
        sync(&r),
        vec![pair(
            "consignmentMasterLevel[0]",
            "At least one of the following fields should be non null: [transportDocumentMasterLevel, consignmentHouseLevel]"
        )]
    );
}

#[test]
fn json_type_errors_become_field_errors_and_validation_continues() {
    let r = house(|c| {
        c["numberOfPackages"] = json!("three");
        c["goodsItem"] = json!([1]);
        c["consignor"]["name"] = json!("");
    });
    let s = sync(&r);
    assert_eq!(s.len(), 3, "{s:?}");
    assert_eq!(s[0].0, "consignmentHouseLevel.goodsItem[0]");
    assert_eq!(s[1].0, "consignmentHouseLevel.numberOfPackages");
    assert!(s[1].1.contains("expected a JSON number"), "{}", s[1].1);
    assert_eq!(
        s[2],
        pair("consignmentHouseLevel.consignor.name", m::NOT_BLANK)
    );
}

#[test]
fn malformed_json_is_an_error_not_a_report() {
    let e = validate_json(MessageKind::Transport, "{\"a\":", &ctx()).unwrap_err();
    assert_eq!(e.line, 1);
    let body = e.to_sync_body();
    assert_eq!(body.validation_errors[0].field, "requestBody");
    assert!(validate_json(MessageKind::Transport, "[1,2]", &ctx()).is_err());
}

// ---- asynchronous ----------------------------------------------------------

#[test]
fn code_lists_are_checked() {
    let r = transport(|t| t["activeBorderTransportMeans"]["typeOfIdentification"] = json!("99"));
    assert_eq!(
        biz(&r),
        vec![pair(
            "activeBorderTransportMeans.typeOfIdentification",
            "Invalid code. Expected codes are one of [10, 20, 21, 30, 31, 41, 80]"
        )]
    );
    let r = house(|c| c["transportDocumentHouseLevel"]["type"] = json!("N999"));
    assert_eq!(
        biz(&r)[0].0,
        "consignmentHouseLevel.transportDocumentHouseLevel.type"
    );
    assert!(
        biz(&r)[0]
            .1
            .starts_with("Invalid code. Expected codes are one of [C624, C625")
    );
    let r = house(|c| c["previousDocuments"][0]["typeOfReference"] = json!("ABCD"));
    assert!(biz(&r).iter().any(|(p, d)| p
        == "consignmentHouseLevel.previousDocuments[0].typeOfReference"
        && d.contains("N820")
        && d.contains("CUDE")));
    // Numbers are accepted for string codes, as Jackson coerces them.
    clean(&transport(|t| {
        t["activeBorderTransportMeans"]["typeOfIdentification"] = json!(30)
    }));
}

#[test]
fn country_must_be_iso() {
    let r = house(|c| c["consignee"]["address"]["country"] = json!("XX"));
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.consignee.address.country",
            m::COUNTRY_INVALID
        )]
    );
    let r = house(|c| c["consignee"]["address"]["country"] = json!("NOR"));
    assert_eq!(
        sync(&r),
        vec![pair(
            "consignmentHouseLevel.consignee.address.country",
            "size must be between 2 and 2"
        )]
    );
}

#[test]
fn customs_office_must_be_in_cl141() {
    clean(&transport(|t| {
        t["customsOfficeOfFirstEntry"]["referenceNumber"] = json!("NO372001")
    }));
    let r = transport(|t| t["customsOfficeOfFirstEntry"]["referenceNumber"] = json!("NO999999"));
    assert_eq!(
        biz(&r),
        vec![pair(
            "customsOfficeOfFirstEntry.referenceNumber",
            m::CUSTOMS_OFFICE_INVALID
        )]
    );
}

#[test]
fn estimated_equals_scheduled_on_first_post_only() {
    let mut v = load("valid-transport");
    v["estimatedDateAndTimeOfArrival"] = json!("2026-12-02T09:00:00Z");
    let r = run(MessageKind::Transport, &v, &ctx());
    assert_eq!(
        biz(&r),
        vec![pair(
            "estimatedDateAndTimeOfArrival",
            m::ESTIMATED_NOT_SCHEDULED
        )]
    );
    clean(&run(
        MessageKind::Transport,
        &v,
        &ctx().with_first_submission(false),
    ));
}

#[test]
fn unknown_import_and_outgoing_procedures() {
    let r = house(|c| c["importProcedure"]["importProcedure"] = json!("FREE_LUNCH"));
    assert_eq!(
        biz(&r)[0].0,
        "consignmentHouseLevel.importProcedure.importProcedure"
    );
    assert!(
        biz(&r)[0]
            .1
            .starts_with("Invalid code. Expected codes are one of [IMMEDIATE_RELEASE_IMPORT")
    );
    let r = house(|c| c["importProcedure"]["outgoingProcedure"] = json!("EXX"));
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.importProcedure.outgoingProcedure",
            "When field is provided, it has to be one of [TRA, EXP, TRE]"
        )]
    );
}

#[test]
fn export_id_formats_per_type() {
    let with = |ty: &str, id: &str| {
        house(|c| c["exportFromEU"] = json!([{"typeOfExport": ty, "exportId": id}]))
    };
    clean(&with("AES_EXPORT", "24SE0123456789ABCD"));
    clean(&with("EUEIR_EXPORT", "SE009251-20230602-24"));
    clean(&with("EIDR_EXPORT", "24SE0123456789AAED"));
    for (ty, id) in [
        ("AES_EXPORT", "24SE0123456789ABC"),
        ("AES_EXPORT", "SE009251-20230602-24"),
        ("EUEIR_EXPORT", &"S".repeat(36)),
        ("EIDR_EXPORT", "24SE0123456789ABED"),
        ("EIDR_EXPORT", "24DK0123456789AAED"),
    ] {
        let r = with(ty, id);
        assert_eq!(
            biz(&r),
            vec![pair(
                "consignmentHouseLevel.exportFromEU[0].exportId",
                m::export_id_format(ty)
            )],
            "{ty} {id}"
        );
    }
    let r = with("UGE_EXPORT", "22SEEVO1CT5UAP2BT3");
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.exportFromEU[0].typeOfExport",
            "Invalid code. Expected codes are one of [AES_EXPORT, EUEIR_EXPORT, EIDR_EXPORT]"
        )]
    );
}

#[test]
fn duplicate_export_ids() {
    let r = house(|c| {
        c["exportFromEU"] = json!([
            {"typeOfExport": "AES_EXPORT", "exportId": "24SE0123456789ABCD"},
            {"typeOfExport": "AES_EXPORT", "exportId": "24SE0123456789ABCD"}
        ])
    });
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.exportFromEU[1].exportId",
            "Duplicate ExportFromEU with exportId: 24SE0123456789ABCD"
        )]
    );
}

#[test]
fn export_not_allowed_with_tra_and_n820_not_with_exp() {
    let r = house(|c| {
        c["importProcedure"]["outgoingProcedure"] = json!("TRA");
        c["previousDocuments"]
            .as_array_mut()
            .unwrap()
            .push(json!({"typeOfReference": "N820", "referenceNumber": "22FR98765273876523"}));
    });
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.exportFromEU",
            m::EXPORT_WITH_TRA
        )]
    );
    let r = house(|c| {
        c["previousDocuments"]
            .as_array_mut()
            .unwrap()
            .push(json!({"typeOfReference": "N820", "referenceNumber": "22FR98765273876523"}));
    });
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.previousDocuments[1].typeOfReference",
            m::N820_WITH_EXP
        )]
    );
    // TRE allows both.
    clean(&house(|c| {
        c["importProcedure"]["outgoingProcedure"] = json!("TRE");
        c["previousDocuments"]
            .as_array_mut()
            .unwrap()
            .push(json!({"typeOfReference": "N820", "referenceNumber": "22FR98765273876523"}));
    }));
}

#[test]
fn cude_rules() {
    let r = house(|c| {
        c["previousDocuments"][0]
            .as_object_mut()
            .unwrap()
            .remove("sequenceNumber");
    });
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.previousDocuments[0].sequenceNumber",
            m::CUDE_FIELD_REQUIRED
        )]
    );
    assert_eq!(r.incomplete_reasons(), &[R::IncompleteCudeDocumentation]);
    let r = house(|c| {
        c["previousDocuments"]
            .as_array_mut()
            .unwrap()
            .push(json!({"typeOfReference": "CUDE", "declarantNumber": "123456789", "declarationDate": "2022-08-10", "sequenceNumber": "2"}));
    });
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.previousDocuments",
            m::ONE_CUDE_ONLY
        )]
    );
}

#[test]
fn cude_fields_only_with_declaration_procedures() {
    let r = house(|c| {
        c["importProcedure"] = json!({"importProcedure": "TRANSIT_IMPORT", "outgoingProcedure": "TRA", "hasOutgoingProcedure": true});
        c.as_object_mut().unwrap().remove("exportFromEU");
        c["previousDocuments"]
            .as_array_mut()
            .unwrap()
            .push(json!({"typeOfReference": "N820", "referenceNumber": "22FR98765273876523"}));
    });
    let expected = m::cude_field_not_allowed("TRANSIT_IMPORT");
    assert_eq!(
        biz(&r),
        vec![
            pair(
                "consignmentHouseLevel.previousDocuments[0].sequenceNumber",
                expected.clone()
            ),
            pair(
                "consignmentHouseLevel.previousDocuments[0].declarantNumber",
                expected.clone()
            ),
            pair(
                "consignmentHouseLevel.previousDocuments[0].declarationDate",
                expected
            ),
        ]
    );
    for p in ["WAREHOUSE_RELEASE", "CUSTOMS_DECLARATION"] {
        clean(&house(|c| {
            c["importProcedure"]["importProcedure"] = json!(p)
        }));
    }
}

#[test]
fn previous_documents_need_import_procedure() {
    let r = house(|c| {
        c.as_object_mut().unwrap().remove("importProcedure");
    });
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.importProcedure",
            m::IMPORT_PROCEDURE_REQUIRED
        )]
    );
}

#[test]
fn non_cude_references_need_reference_number_and_no_duplicates() {
    let r = house(|c| {
        c["previousDocuments"]
            .as_array_mut()
            .unwrap()
            .push(json!({"typeOfReference": "N380"}));
    });
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.previousDocuments[1].referenceNumber",
            m::REFERENCE_NUMBER_REQUIRED
        )]
    );
    let r = house(|c| {
        let docs = c["previousDocuments"].as_array_mut().unwrap();
        docs.push(json!({"typeOfReference": "N380", "referenceNumber": "INV-1"}));
        docs.push(json!({"typeOfReference": "N271", "referenceNumber": "INV-1"}));
    });
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.previousDocuments[2].referenceNumber",
            "Duplicate PreviousDocuments with referenceNumber: INV-1"
        )]
    );
}

#[test]
fn place_needs_location_address_or_unlocode() {
    clean(&house(|c| {
        c["placeOfDelivery"] = json!({"unloCode": "NOOSL"})
    }));
    clean(&house(|c| {
        c["placeOfDelivery"] = json!({"location": "Oslo"})
    }));
    let r = house(|c| c["placeOfAcceptance"] = json!({}));
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.placeOfAcceptance.unloCode",
            m::UNLOCODE_REQUIRED
        )]
    );
}

#[test]
fn voec_limit_is_3000_nok() {
    clean(&voec(|c| {
        c["goodsItem"][0]["itemAmountInvoicedVOEC"]["value"] = json!(3000)
    }));
    let r = voec(|c| c["goodsItem"][0]["itemAmountInvoicedVOEC"]["value"] = json!(3000.01));
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.goodsItem[0].itemAmountInvoicedVOEC.value",
            m::VOEC_OVER_LIMIT
        )]
    );
}

#[test]
fn goods_items_only_with_voec() {
    let r = voec(|c| c["importProcedure"]["importProcedure"] = json!("COLLECTIVE_RELEASE"));
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.goodsItem",
            m::GOODS_ITEM_NOT_VOEC
        )]
    );
}

#[test]
fn playground_fixtures() {
    let pg = ctx().with_playground(PlaygroundFixtures::default());
    let r = voec_ctx(
        |c| {
            c["goodsItem"][1]["additionalFiscalReferences"]["vatIdentificationNumber"] =
                json!("1234567")
        },
        &pg,
    );
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.goodsItem[1].additionalFiscalReferences.vatIdentificationNumber",
            m::VOEC_UNKNOWN
        )]
    );
    // Without fixtures, any VOEC number passes (production checks a live register).
    clean(&voec(|c| {
        c["goodsItem"][1]["additionalFiscalReferences"]["vatIdentificationNumber"] =
            json!("1234567")
    }));
    let r = house_ctx(
        |c| c["previousDocuments"][0]["sequenceNumber"] = json!("11"),
        &pg,
    );
    assert!(r.is_valid());
    assert_eq!(r.incomplete_reasons(), &[R::CannotVerifyCudeDocumentation]);
}

#[test]
fn gonu_only_until_march_2027() {
    let gonu = |c: &mut Value| {
        c["importProcedure"]["importProcedure"] = json!("WAREHOUSE_RELEASE");
        c["previousDocuments"] =
            json!([{"typeOfReference": "GONU", "referenceNumber": "123456789"}]);
    };
    clean(&house(gonu));
    let late = ValidationContext::new(datetime!(2027-03-01 00:00 UTC));
    let r = house_ctx(gonu, &late);
    assert_eq!(
        biz(&r),
        vec![pair(
            "consignmentHouseLevel.importProcedure.importProcedure",
            m::GONU_EXPIRED
        )]
    );
}

// ---- incomplete documentation ----------------------------------------------

#[test]
fn incomplete_reasons_per_procedure() {
    let r = house(|c| c["previousDocuments"] = json!([]));
    assert!(r.is_valid());
    assert_eq!(r.incomplete_reasons(), &[R::IncompleteCudeDocumentation]);

    let r = house(|c| {
        c.as_object_mut().unwrap().remove("exportFromEU");
    });
    assert_eq!(r.incomplete_reasons(), &[R::IncompleteExpDocumentation]);

    let mut t = load("valid-house-transit-n820");
    t["consignmentHouseLevel"]["previousDocuments"] = json!([]);
    let r = run(MessageKind::HouseConsignment, &t, &ctx());
    assert_eq!(r.incomplete_reasons(), &[R::IncompleteTraDocumentation]);

    let r = voec(|c| {
        c["goodsItem"][0]
            .as_object_mut()
            .unwrap()
            .remove("commodityCodeVOEC");
    });
    assert!(r.is_valid());
    assert_eq!(r.incomplete_reasons(), &[R::IncompleteVoecDocumentation]);

    let r = house(|c| {
        c["importProcedure"] =
            json!({"importProcedure": "WAREHOUSE_RELEASE", "hasOutgoingProcedure": false});
        c["previousDocuments"] = json!([{"typeOfReference": "GONU"}]);
        c.as_object_mut().unwrap().remove("exportFromEU");
    });
    assert_eq!(r.incomplete_reasons(), &[R::IncompleteGonuDocumentation]);

    let r = house(|c| {
        c["importProcedure"] =
            json!({"importProcedure": "ATA_CARNET", "hasOutgoingProcedure": false});
        c.as_object_mut().unwrap().remove("previousDocuments");
        c.as_object_mut().unwrap().remove("exportFromEU");
    });
    assert_eq!(r.incomplete_reasons(), &[R::IncompleteDocumentation]);
}

// ---- outcome and spellings --------------------------------------------------

#[test]
fn outcome_precedence() {
    let r = house(|c| {
        c["goodsDescription"] = json!("");
        c["consignee"]["address"]["country"] = json!("XX");
    });
    assert!(matches!(r.outcome(), Outcome::Rejected(b) if b.validation_errors.len() == 1));
    let r = house(|c| c["consignee"]["address"]["country"] = json!("XX"));
    assert!(matches!(r.outcome(), Outcome::Failed(e) if e.len() == 1));
    let r = house(|c| c["previousDocuments"] = json!([]));
    assert_eq!(
        r.outcome(),
        Outcome::Accepted {
            incomplete: vec![R::IncompleteCudeDocumentation]
        }
    );
}

#[test]
fn alternative_spellings_are_accepted_and_canonical_ones_written() {
    let mut v = load("valid-house-voec");
    let item = v["consignmentHouseLevel"]["goodsItem"][0]
        .as_object_mut()
        .unwrap();
    let fiscal = item.remove("additionalFiscalReferences").unwrap();
    item.insert("additionalFiscalReference".into(), fiscal);
    item.insert(
        "commodityCodeVOEC".into(),
        json!({"harmonizedSystemSubHeadingCode": "611020"}),
    );
    let (msg, r) = validate_json(MessageKind::HouseConsignment, &v.to_string(), &ctx()).unwrap();
    clean(&r);
    let digitoll_model::Message::HouseConsignment(h) = msg else {
        panic!("house expected")
    };
    let out = serde_json::to_value(&h).unwrap();
    let item = &out["consignmentHouseLevel"]["goodsItem"][0];
    assert_eq!(
        item["commodityCodeVOEC"]["harmonizedSystemSubheadingCode"],
        "611020"
    );
    assert_eq!(
        item["additionalFiscalReferences"]["vatIdentificationNumber"],
        "2056550"
    );

    let mut d = load("valid-house-direct-consignment");
    let c = d["consignmentHouseLevel"].as_object_mut().unwrap();
    let link = c.remove("tranportLevel").unwrap();
    c.insert("transportLevel".into(), link);
    let (msg, r) = validate_json(MessageKind::HouseConsignment, &d.to_string(), &ctx()).unwrap();
    clean(&r);
    let digitoll_model::Message::HouseConsignment(h) = msg else {
        panic!("house expected")
    };
    let out = serde_json::to_value(&h).unwrap();
    assert_eq!(
        out["consignmentHouseLevel"]["tranportLevel"]["carrierIdentificationNumber"],
        "912345688"
    );
}

#[test]
fn unknown_fields_are_ignored_on_input() {
    let r = house(|c| c["someFutureField"] = json!({"x": 1}));
    clean(&r);
}

#[test]
fn relation_and_delete() {
    let mut rel = load("valid-relation");
    rel["childObjectType"] = json!("CONTAINER");
    rel["parentObjectReference"] = json!("24no02091D3HAVFST5");
    let r = run(MessageKind::Relation, &rel, &ctx());
    assert_eq!(
        sync(&r),
        vec![pair(
            "childObjectType",
            "Must be one of [TRANSPORT, MASTER_CONSIGNMENT, HOUSE_CONSIGNMENT]"
        )]
    );
    assert_eq!(
        biz(&r),
        vec![pair("parentObjectReference", "Invalid MRN format")]
    );
    let r = run(MessageKind::Delete, &json!({}), &ctx());
    assert_eq!(sync(&r), vec![pair("documentIssueDate", m::NOT_NULL)]);
}

// ---- the rule catalogue ----------------------------------------------------

use digitoll_model::rules::{self, Source};
use digitoll_model::{Channel, CodeList, RuleOverrides, Severity};

#[test]
fn catalogue_ids_are_unique_dotted_and_sourced() {
    let all = rules::all();
    assert!(all.len() >= 60, "only {} rules", all.len());
    let mut seen = std::collections::HashSet::new();
    for r in all {
        assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
        assert!(
            r.id.contains('.')
                && r.id.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'.'
                    || b == b'-'),
            "{}",
            r.id
        );
        assert!(!r.sources.is_empty(), "{} has no source", r.id);
        assert_ne!(r.default, Severity::Off, "{} is off by default", r.id);
        assert!(!r.summary.is_empty());
        // A warning by default must say why (an omission, an inference).
        if r.default == Severity::Warning {
            assert!(
                r.sources.iter().any(|s| matches!(s, Source::Inferred(_))),
                "{} is a warning without saying why",
                r.id
            );
        }
    }
    assert_eq!(
        rules::find("codelist.cl751").unwrap().channel,
        Channel::Business
    );
    assert!(rules::find("no.such.rule").is_none());
}

/// Every finding of every example names a catalogue rule with the channel
/// it was reported on.
#[test]
fn every_finding_carries_its_catalogue_rule() {
    let dir = format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"));
    let mut rules_seen = std::collections::HashSet::new();
    let mut n = 0;
    for sub in ["road", "air", "rail", "maritime"] {
        for entry in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            let Some(kind) = MessageKind::detect(&value) else {
                continue;
            };
            let mode = sub.parse().unwrap();
            let ctx = ctx().with_playground(PlaygroundFixtures::default());
            let (_, r) = digitoll_model::validate_json_for(mode, kind, &text, &ctx).unwrap();
            let findings = r.findings();
            assert_eq!(
                findings.len(),
                r.sync_errors().len()
                    + r.business_errors().len()
                    + r.incomplete_reasons().len()
                    + r.warnings().len()
            );
            for f in findings {
                let rule = rules::find(&f.rule).unwrap_or_else(|| {
                    panic!("{}: rule `{}` not in the catalogue", path.display(), f.rule)
                });
                assert_eq!(rule.channel, f.channel, "{}: {}", path.display(), f.rule);
                rules_seen.insert(f.rule);
                n += 1;
            }
        }
    }
    assert!(
        n >= 30 && rules_seen.len() >= 20,
        "{n} findings, {} rules",
        rules_seen.len()
    );
}

fn with(overrides: &[(&str, Severity)]) -> ValidationContext {
    let mut rules = RuleOverrides::new();
    for (id, s) in overrides {
        rules.set(id, *s).unwrap();
    }
    ctx().with_rule_overrides(rules)
}

#[test]
fn a_sync_rule_downgraded_to_a_warning_no_longer_rejects() {
    let blank = |c: &mut Value| c["goodsDescription"] = json!("");
    let r = house_ctx(blank, &with(&[("field.not-blank", Severity::Warning)]));
    assert!(r.sync_errors().is_empty(), "{r}");
    assert_eq!(r.outcome(), Outcome::Accepted { incomplete: vec![] });
    let w = r.warnings();
    assert_eq!(w.len(), 1);
    assert_eq!(
        (
            w[0].rule.as_str(),
            w[0].path.as_str(),
            w[0].message.as_str()
        ),
        (
            "field.not-blank",
            "consignmentHouseLevel.goodsDescription",
            m::NOT_BLANK
        )
    );
    assert_eq!(
        (w[0].severity, w[0].channel),
        (Severity::Warning, Channel::Sync)
    );
    // Off drops it altogether.
    let r = house_ctx(blank, &with(&[("field.not-blank", Severity::Off)]));
    assert!(
        r.is_valid() && r.warnings().is_empty() && r.findings().is_empty(),
        "{r}"
    );
    // Other rules are untouched.
    let r = house_ctx(
        |c| c["consignor"]["name"] = json!("x".repeat(71)),
        &with(&[("field.not-blank", Severity::Off)]),
    );
    assert_eq!(r.sync_rules(), ["field.size"]);
}

#[test]
fn business_and_incomplete_rules_obey_overrides() {
    let unknown_office =
        |t: &mut Value| t["customsOfficeOfFirstEntry"]["referenceNumber"] = json!("NO999999");
    let mut v = load("valid-transport");
    unknown_office(&mut v);
    let r = run(
        MessageKind::Transport,
        &v,
        &with(&[("codelist.cl141", Severity::Warning)]),
    );
    assert!(r.is_valid(), "{r}");
    assert_eq!(r.warnings()[0].channel, Channel::Business);
    assert_eq!(
        r.warnings()[0].path,
        "customsOfficeOfFirstEntry.referenceNumber"
    );
    let r = run(
        MessageKind::Transport,
        &v,
        &with(&[("codelist.cl141", Severity::Off)]),
    );
    assert!(r.is_valid() && r.warnings().is_empty());

    let mut h = load("incomplete-house-missing-cude");
    let missing = run(MessageKind::HouseConsignment, &h, &ctx());
    assert_eq!(
        missing.incomplete_reasons(),
        [R::IncompleteCudeDocumentation]
    );
    let r = run(
        MessageKind::HouseConsignment,
        &h,
        &with(&[("incomplete.cude", Severity::Warning)]),
    );
    assert!(r.incomplete_reasons().is_empty());
    assert_eq!(r.warnings()[0].message, "INCOMPLETE_CUDE_DOCUMENTATION");
    assert_eq!(r.warnings()[0].channel, Channel::Incomplete);
    h["documentIssueDate"] = json!("2026-12-01T08:00:00Z");
    let r = run(
        MessageKind::HouseConsignment,
        &h,
        &with(&[("incomplete.cude", Severity::Off)]),
    );
    assert_eq!(r.outcome(), Outcome::Accepted { incomplete: vec![] });
}

#[test]
fn json_type_errors_obey_their_rule() {
    let mut v = load("valid-house-import-cude");
    v["consignmentHouseLevel"]["totalGrossMass"] = json!("heavy");
    let r = run(MessageKind::HouseConsignment, &v, &ctx());
    assert_eq!(r.sync_rules(), ["json.type"]);
    let r = run(
        MessageKind::HouseConsignment,
        &v,
        &with(&[("json.type", Severity::Warning)]),
    );
    // The consequences of the unreadable value (its `must not be null`) are
    // dropped with it, so a warning lets the message pass.
    assert!(r.is_valid(), "{r}");
    assert_eq!(r.warnings()[0].rule, "json.type");
    let mut t = load("valid-transport");
    t["scheduledDateAndTimeOfArrival"] = json!("2026-12-02 06:30");
    let r = run(MessageKind::Transport, &t, &ctx());
    assert!(r.sync_rules().contains(&"field.instant-format"), "{r}");
}

#[test]
fn a_text_override_replaces_our_wording() {
    let mut rules = RuleOverrides::new();
    rules
        .set_text("codelist.cl141", "Ugyldig tollsted")
        .unwrap();
    assert_eq!(rules.text("codelist.cl141"), Some("Ugyldig tollsted"));
    assert_eq!(rules.text("codelist.cl018"), None);
    assert!(!rules.is_empty());
    assert_eq!(rules.texts().count(), 1);
    assert!(rules.set_text("no.such.rule", "x").is_err());
    let mut v = load("valid-transport");
    v["customsOfficeOfFirstEntry"]["referenceNumber"] = json!("NO999999");
    let r = run(
        MessageKind::Transport,
        &v,
        &ctx().with_rule_overrides(rules.clone()),
    );
    assert_eq!(
        biz(&r),
        vec![pair(
            "customsOfficeOfFirstEntry.referenceNumber",
            "Ugyldig tollsted"
        )]
    );
    // Text and severity combine: the warning carries the replaced text.
    rules.set("codelist.cl141", Severity::Warning).unwrap();
    let r = run(
        MessageKind::Transport,
        &v,
        &ctx().with_rule_overrides(rules),
    );
    assert_eq!(r.warnings()[0].message, "Ugyldig tollsted");
    // For an incomplete rule the text is the reason code Toll gives.
    let mut rules = RuleOverrides::new();
    rules
        .set_text("incomplete.cude", "INCOMPLETE_CUDE_VALIDATION")
        .unwrap();
    let h = load("incomplete-house-missing-cude");
    let r = run(
        MessageKind::HouseConsignment,
        &h,
        &ctx().with_rule_overrides(rules),
    );
    assert_eq!(r.incomplete_reasons(), [R::IncompleteCudeValidation]);
}

#[test]
fn unlocode_format() {
    let place = |code: &str| house(|c| c["placeOfDelivery"] = json!({"unloCode": code}));
    for ok in ["NOOSL", "SEGOT", "DEHAM", "US2NY", "GB9ZZ"] {
        clean(&place(ok));
    }
    for bad in [
        "XXOSL", "NO0SL", "NOOS1", "NOosl", "no osl", "NOOSLO", "NO SL", "ØSOSL",
    ] {
        let r = place(bad);
        let expected = vec![pair(
            "consignmentHouseLevel.placeOfDelivery.unloCode",
            m::UNLOCODE_INVALID,
        )];
        assert_eq!(biz(&r), expected, "{bad}");
        assert_eq!(r.business_rules(), ["place.unlocode.format"], "{bad}");
    }
    assert_eq!(m::UNLOCODE_INVALID, "Invalid code. Expected valid UNLOCODE");
}

#[test]
fn cl751_has_the_codes_toll_answered_with() {
    for code in ["12", "T", "2201", "31"] {
        clean(&transport(|t| {
            t["activeBorderTransportMeans"]["typeOfMeansOfTransport"] = json!(code)
        }));
    }
    let r =
        transport(|t| t["activeBorderTransportMeans"]["typeOfMeansOfTransport"] = json!("9999"));
    assert_eq!(r.business_rules(), ["codelist.cl751"]);
    assert!(CodeList::Cl751.contains("T"));
}

/// Sets (or with `None` removes) the value at a JSON pointer, creating the
/// last key when it is missing.
fn put(v: &mut Value, ptr: &str, value: Option<Value>) {
    let (parent, key) = ptr.rsplit_once('/').unwrap();
    let parent = v
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"));
    match (parent, value) {
        (Value::Object(map), Some(x)) => {
            map.insert(key.to_owned(), x);
        }
        (Value::Object(map), None) => {
            map.remove(key);
        }
        (Value::Array(items), Some(x)) => items[key.parse::<usize>().unwrap()] = x,
        (Value::Array(items), None) => {
            items.remove(key.parse::<usize>().unwrap());
        }
        (other, _) => panic!("{ptr}: parent is {other}"),
    }
}

/// Each catalogue rule fires under its own id for the change that breaks it
/// (the texts are checked by the tests above).
#[test]
fn each_rule_fires_under_its_id() {
    use digitoll_model::TransportMode::{Air, Road};
    type Edit = &'static [(&'static str, Option<fn() -> Value>)];
    let normal = ctx();
    let playground = ctx().with_playground(PlaygroundFixtures::default());
    let after_gonu = ValidationContext::new(datetime!(2027-03-02 12:00 UTC));
    let cases: Vec<(
        &str,
        digitoll_model::TransportMode,
        MessageKind,
        &str,
        &ValidationContext,
        Edit,
    )> = {
        use MessageKind::{
            HouseConsignment as H, MasterConsignment as M, Relation as Rel, Transport as T,
        };
        let (c, pg, late) = (&normal, &playground, &after_gonu);
        const IP: &str = "/consignmentHouseLevel/importProcedure";
        vec![
            (
                "field.date-format",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(
                    "/consignmentHouseLevel/previousDocuments/0/declarationDate",
                    Some(|| json!("10.08.2022")),
                )],
            ),
            (
                "transport.master-or-house-document",
                Road,
                T,
                "valid-transport",
                c,
                &[("/consignmentMasterLevel/0", Some(|| json!({})))],
            ),
            (
                "codelist.cl708",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(
                    "/consignmentHouseLevel/containerIndicator",
                    Some(|| json!(7)),
                )],
            ),
            (
                "codelist.cl729",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(
                    "/consignmentHouseLevel/consignor/typeOfPerson",
                    Some(|| json!(9)),
                )],
            ),
            (
                "relation.object-type",
                Road,
                Rel,
                "valid-relation",
                c,
                &[("/parentObjectType", Some(|| json!("TRUCK")))],
            ),
            (
                "transport.operator.communication-required",
                Air,
                T,
                "valid-transport",
                c,
                &[
                    ("/activeBorderTransportMeans/operator/communication", None),
                    (
                        "/activeBorderTransportMeans/modeOfTransportCode",
                        Some(|| json!("4")),
                    ),
                    (
                        "/activeBorderTransportMeans/typeOfIdentification",
                        Some(|| json!("41")),
                    ),
                    (
                        "/activeBorderTransportMeans/conveyanceReferenceNumber",
                        Some(|| json!("SK4411")),
                    ),
                ],
            ),
            (
                "transport.conveyance-reference.required",
                Air,
                T,
                "valid-transport",
                c,
                &[(
                    "/activeBorderTransportMeans/conveyanceReferenceNumber",
                    None,
                )],
            ),
            (
                "transport.mode-of-transport.mode",
                Air,
                T,
                "valid-transport",
                c,
                &[],
            ),
            (
                "transport.type-of-identification.mode",
                Air,
                T,
                "valid-transport",
                c,
                &[],
            ),
            (
                "codelist.cl094",
                Road,
                T,
                "valid-transport",
                c,
                &[("/representative/status", Some(|| json!("9")))],
            ),
            (
                "codelist.cl228",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(
                    "/consignmentHouseLevel/previousDocuments/0/typeOfReference",
                    Some(|| json!("ZZZZ")),
                )],
            ),
            (
                "codelist.cl707",
                Road,
                T,
                "valid-transport",
                c,
                &[(
                    "/activeBorderTransportMeans/operator/communication/0/type",
                    Some(|| json!("FX")),
                )],
            ),
            (
                "codelist.cl709",
                Road,
                M,
                "valid-master",
                c,
                &[(
                    "/consignmentMasterLevel/transportEquipment",
                    Some(|| json!([{"containerPackedStatus": "Z"}])),
                )],
            ),
            (
                "codelist.cl710",
                Road,
                M,
                "valid-master",
                c,
                &[(
                    "/consignmentMasterLevel/transportEquipment",
                    Some(|| json!([{"containerSizeAndType": "ZZ"}])),
                )],
            ),
            (
                "codelist.cl711",
                Road,
                M,
                "valid-master",
                c,
                &[(
                    "/consignmentMasterLevel/transportEquipment",
                    Some(|| json!([{"containerSupplierType": "9"}])),
                )],
            ),
            (
                "codelist.cl750",
                Road,
                T,
                "valid-transport",
                c,
                &[(
                    "/activeBorderTransportMeans/typeOfIdentification",
                    Some(|| json!("99")),
                )],
            ),
            (
                "codelist.cl754",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(
                    "/consignmentHouseLevel/transportDocumentHouseLevel/type",
                    Some(|| json!("ZZZZ")),
                )],
            ),
            (
                "codelist.cl756",
                Road,
                H,
                "valid-house-voec",
                c,
                &[(
                    "/consignmentHouseLevel/goodsItem/0/additionalFiscalReferences/role",
                    Some(|| json!("FR9")),
                )],
            ),
            (
                "codelist.import-procedure",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(
                    "/consignmentHouseLevel/importProcedure/importProcedure",
                    Some(|| json!("NOPE")),
                )],
            ),
            (
                "codelist.outgoing-procedure",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(
                    "/consignmentHouseLevel/importProcedure/outgoingProcedure",
                    Some(|| json!("XXX")),
                )],
            ),
            (
                "codelist.export-type",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(
                    "/consignmentHouseLevel/exportFromEU/0/typeOfExport",
                    Some(|| json!("NOPE_EXPORT")),
                )],
            ),
            (
                "house.cude.procedure",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(
                    IP,
                    Some(|| json!({"importProcedure": "COLLECTIVE_RELEASE"})),
                )],
            ),
            (
                "house.cude.fields",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(
                    "/consignmentHouseLevel/previousDocuments/0/sequenceNumber",
                    None,
                )],
            ),
            (
                "house.previous-documents.import-procedure",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(IP, None)],
            ),
            (
                "house.previous-documents.reference-number",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[(
                    "/consignmentHouseLevel/previousDocuments",
                    Some(|| json!([{"typeOfReference": "N730"}])),
                )],
            ),
            (
                "house.gonu.deadline",
                Road,
                H,
                "valid-house-import-cude",
                late,
                &[
                    (IP, Some(|| json!({"importProcedure": "WAREHOUSE_RELEASE"}))),
                    (
                        "/consignmentHouseLevel/previousDocuments",
                        Some(|| json!([{"typeOfReference": "GONU", "referenceNumber": "G1"}])),
                    ),
                    ("/consignmentHouseLevel/exportFromEU", None),
                ],
            ),
            (
                "playground.voec-number",
                Road,
                H,
                "valid-house-voec",
                pg,
                &[(
                    "/consignmentHouseLevel/goodsItem/0/additionalFiscalReferences/vatIdentificationNumber",
                    Some(|| json!("1234567")),
                )],
            ),
            (
                "playground.cude-unverified",
                Road,
                H,
                "valid-house-import-cude",
                pg,
                &[(
                    "/consignmentHouseLevel/previousDocuments/0/sequenceNumber",
                    Some(|| json!("99")),
                )],
            ),
            (
                "incomplete.gonu",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[
                    (IP, Some(|| json!({"importProcedure": "WAREHOUSE_RELEASE"}))),
                    (
                        "/consignmentHouseLevel/previousDocuments",
                        Some(|| json!([{"typeOfReference": "GONU"}])),
                    ),
                    ("/consignmentHouseLevel/exportFromEU", None),
                ],
            ),
            (
                "incomplete.tra",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[
                    (
                        IP,
                        Some(
                            || json!({"importProcedure": "TRANSIT_IMPORT", "outgoingProcedure": "TRA"}),
                        ),
                    ),
                    ("/consignmentHouseLevel/previousDocuments", None),
                    ("/consignmentHouseLevel/exportFromEU", None),
                ],
            ),
            (
                "incomplete.exp",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[("/consignmentHouseLevel/exportFromEU", None)],
            ),
            (
                "incomplete.voec",
                Road,
                H,
                "valid-house-voec",
                c,
                &[("/consignmentHouseLevel/goodsItem", None)],
            ),
            (
                "incomplete.documentation",
                Road,
                H,
                "valid-house-import-cude",
                c,
                &[
                    (IP, Some(|| json!({"importProcedure": "ATA_CARNET"}))),
                    ("/consignmentHouseLevel/previousDocuments", None),
                    ("/consignmentHouseLevel/exportFromEU", None),
                ],
            ),
        ]
    };
    for (rule, mode, kind, base, ctx, edits) in cases {
        let mut v = load(base);
        for (ptr, value) in edits {
            put(&mut v, ptr, value.map(|f| f()));
        }
        let (_, r) = digitoll_model::validate_json_for(mode, kind, &v.to_string(), ctx).unwrap();
        let fired: Vec<String> = r.findings().into_iter().map(|f| f.rule).collect();
        assert!(
            fired.iter().any(|f| f == rule),
            "{rule}: fired {fired:?}\n{r}"
        );
        // And the unchanged base does not fire it in road.
        let (_, clean) =
            digitoll_model::validate_json_for(Road, kind, &load(base).to_string(), ctx).unwrap();
        assert!(
            clean.findings().iter().all(|f| f.rule != rule),
            "{rule} fires on the unchanged {base}"
        );
    }
}
