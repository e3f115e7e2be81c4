//! Unit and property tests for the identifier newtypes.

use digitoll_model::{
    CountryCode, CustomsOffice, Mrn, OrgNumber, ParseError, RequestId, TollInstant,
    TransportDocument,
};
use proptest::prelude::*;
use time::macros::datetime;

#[test]
fn mrn_accepts_toll_examples() {
    for s in [
        "22NO4TU2HUD59UCBT8",
        "24NO02091D3HAVFST5",
        "22FR98765273876523",
    ] {
        let m: Mrn = s.parse().unwrap();
        assert_eq!(m.to_string(), s);
    }
    let m = Mrn::parse("24NO02091D3HAVFST5").unwrap();
    assert_eq!(m.year(), 24);
    assert_eq!(m.country(), "NO");
}

#[test]
fn mrn_rejects_bad_shapes() {
    assert!(matches!(
        Mrn::parse("22NO4TU2HUD59UCBT"),
        Err(ParseError::MrnLength { len: 17, .. })
    ));
    assert!(matches!(
        Mrn::parse("2XNO4TU2HUD59UCBT8"),
        Err(ParseError::MrnFormat { .. })
    ));
    assert!(matches!(
        Mrn::parse("22no4TU2HUD59UCBT8"),
        Err(ParseError::MrnFormat { .. })
    ));
    assert!(matches!(
        Mrn::parse("22NO4TU2HUD59UCbT8"),
        Err(ParseError::MrnFormat { .. })
    ));
    assert!(Mrn::parse("22NO4TU2HUD59UC-T8").is_err());
    // Multi-byte characters must not panic.
    assert!(Mrn::parse("22NOØØØØØØØØØØØØØØ").is_err());
}

#[test]
fn mrn_serde_goes_through_validation() {
    let m: Mrn = serde_json::from_str("\"22NO4TU2HUD59UCBT8\"").unwrap();
    assert_eq!(serde_json::to_string(&m).unwrap(), "\"22NO4TU2HUD59UCBT8\"");
    let err = serde_json::from_str::<Mrn>("\"short\"").unwrap_err();
    assert!(err.to_string().contains("18 characters"), "{err}");
    assert!(Mrn::try_from("22NO4TU2HUD59UCBT8".to_owned()).is_ok());
}

#[test]
fn request_id_is_a_hyphenated_uuid() {
    let s = "fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1a";
    let r: RequestId = s.parse().unwrap();
    assert_eq!(r.to_string(), s);
    assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{s}\""));
    assert!(RequestId::parse("fa90bb2d4b5e4a539a435f0c4d3c2e1a").is_err());
    assert!(RequestId::parse("not-a-uuid").is_err());
    assert!(RequestId::parse("fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1z").is_err());
}

#[test]
fn org_number_mod11() {
    // Known-good numbers (Brønnøysund, Skatteetaten, Tolletaten's parent).
    for s in ["974760673", "974761076", "912345688"] {
        assert!(OrgNumber::parse(s).is_ok(), "{s}");
    }
    assert!(matches!(
        OrgNumber::parse("123456789"),
        Err(ParseError::OrgNumberCheckDigit { .. })
    ));
    assert!(matches!(
        OrgNumber::parse("12345678"),
        Err(ParseError::OrgNumberFormat { .. })
    ));
    assert!(matches!(
        OrgNumber::parse("12345678a"),
        Err(ParseError::OrgNumberFormat { .. })
    ));
    // Remainder 1 gives check value 10: no valid number has these 8 digits.
    let impossible = (0..100_000_000u32)
        .step_by(7919)
        .map(|n| format!("{n:08}"))
        .find(|p| OrgNumber::check_digit(p.as_bytes()).is_none())
        .expect("some prefix yields check value 10");
    for d in 0..10 {
        assert!(OrgNumber::parse(&format!("{impossible}{d}")).is_err());
    }
    // Check value 11 becomes 0.
    let zero = (0..100_000_000u32)
        .step_by(7919)
        .map(|n| format!("{n:08}"))
        .find(|p| OrgNumber::check_digit(p.as_bytes()) == Some(0))
        .unwrap();
    assert!(OrgNumber::parse(&format!("{zero}0")).is_ok());
}

#[test]
fn customs_office_shape_and_cl141() {
    assert_eq!(
        CustomsOffice::parse("NO371001").unwrap().as_str(),
        "NO371001"
    );
    assert!(matches!(
        CustomsOffice::parse("NO999999"),
        Err(ParseError::CustomsOfficeUnknown { .. })
    ));
    assert!(matches!(
        CustomsOffice::parse("SE371001"),
        Err(ParseError::CustomsOfficeFormat { .. })
    ));
    assert!(matches!(
        CustomsOffice::parse("NO37100"),
        Err(ParseError::CustomsOfficeFormat { .. })
    ));
}

#[test]
fn country_code_is_iso_alpha2() {
    for c in ["NO", "SE", "DE", "GB", "US"] {
        assert!(CountryCode::parse(c).is_ok(), "{c}");
    }
    for c in ["XX", "no", "NOR", "", "UK"] {
        assert!(CountryCode::parse(c).is_err(), "{c}");
    }
}

#[test]
fn transport_document_checks_length_and_cl754() {
    let d = TransportDocument::new("CMR-1", "N730").unwrap();
    assert_eq!(d.to_string(), "N730 CMR-1");
    assert_eq!("N730 CMR-1".parse::<TransportDocument>().unwrap(), d);
    assert!(TransportDocument::new("", "N730").is_err());
    assert!(TransportDocument::new("x".repeat(71), "N730").is_err());
    assert!(TransportDocument::new("x".repeat(70), "N730").is_ok());
    assert!(matches!(
        TransportDocument::new("A", "N999"),
        Err(ParseError::DocumentType { .. })
    ));
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(json, r#"{"documentNumber":"CMR-1","type":"N730"}"#);
    assert_eq!(serde_json::from_str::<TransportDocument>(&json).unwrap(), d);
    assert!(
        serde_json::from_str::<TransportDocument>(r#"{"documentNumber":"A","type":"X"}"#).is_err()
    );
}

#[test]
fn toll_instant_reads_and_writes_exact_format() {
    let t = TollInstant::parse("2026-12-02T06:30:00Z").unwrap();
    assert_eq!(t.to_offset_date_time(), datetime!(2026-12-02 06:30 UTC));
    assert_eq!(t.to_string(), "2026-12-02T06:30:00Z");
    assert_eq!(
        serde_json::to_string(&t).unwrap(),
        "\"2026-12-02T06:30:00Z\""
    );
    for bad in [
        "2026-12-02T06:30:00.000Z",
        "2026-12-02T06:30:00+01:00",
        "2026-12-02 06:30:00Z",
        "2026-12-02T06:30Z",
        "2026-13-02T06:30:00Z",
        "2026-12-02T06:30:00z",
        "",
    ] {
        assert!(TollInstant::parse(bad).is_err(), "{bad}");
    }
    let err = serde_json::from_str::<TollInstant>("\"2026-12-02\"").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid ISO-8601 instant in UTC (yyyy-MM-ddTHH:mm:ssZ)"),
        "{err}"
    );
    // Conversions normalise to UTC and drop sub-seconds.
    let from = TollInstant::from(datetime!(2026-12-02 07:30:00.75 +01:00));
    assert_eq!(from.to_string(), "2026-12-02T06:30:00Z");
}

proptest! {
    #[test]
    fn mrn_round_trips_generated_values(s in "[0-9]{2}[A-Z]{2}[A-Z0-9]{14}") {
        let m = Mrn::parse(&s).unwrap();
        prop_assert_eq!(m.to_string(), s.clone());
        let back: Mrn = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        prop_assert_eq!(back, m);
    }

    #[test]
    fn mrn_parse_never_panics(s in "\\PC{0,24}") {
        let _ = Mrn::parse(&s);
    }

    #[test]
    fn org_number_valid_iff_check_digit_matches(prefix in "[0-9]{8}", last in 0u8..10) {
        let s = format!("{prefix}{last}");
        let expected = OrgNumber::check_digit(prefix.as_bytes()) == Some(last);
        prop_assert_eq!(OrgNumber::parse(&s).is_ok(), expected);
    }

    #[test]
    fn toll_instant_round_trips(secs in 0i64..253_402_300_799) {
        let t = TollInstant::from(time::OffsetDateTime::from_unix_timestamp(secs).unwrap());
        let s = t.to_string();
        prop_assert_eq!(s.len(), 20);
        prop_assert_eq!(TollInstant::parse(&s).unwrap(), t);
    }
}
