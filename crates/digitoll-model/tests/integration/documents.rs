//! Document upload types: declaration ids, document types, file detection.

use digitoll_model::documents::{DocumentMetadata, UploadError};
use digitoll_model::{
    DeclarationId, DocumentType, FileKind, MAX_DOCUMENT_BYTES, check_upload, detect_file_kind,
};
use proptest::prelude::*;

/// A stored (uncompressed) ZIP with the given entries, built by hand.
fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = 0u32; // readers we target do not check it here
        let mut local = Vec::new();
        local.extend_from_slice(b"PK\x03\x04");
        local.extend_from_slice(&20u16.to_le_bytes()); // version
        local.extend_from_slice(&0u16.to_le_bytes()); // flags
        local.extend_from_slice(&0u16.to_le_bytes()); // stored
        local.extend_from_slice(&[0; 4]); // time, date
        local.extend_from_slice(&crc.to_le_bytes());
        local.extend_from_slice(&(data.len() as u32).to_le_bytes());
        local.extend_from_slice(&(data.len() as u32).to_le_bytes());
        local.extend_from_slice(&(name.len() as u16).to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(name.as_bytes());
        local.extend_from_slice(data);
        out.extend_from_slice(&local);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&[0; 4]);
        central.extend_from_slice(&[0; 4]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn docx() -> Vec<u8> {
    stored_zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<w:document/>"),
    ])
}

fn xlsx() -> Vec<u8> {
    stored_zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/workbook.xml", b"<workbook/>"),
    ])
}

#[test]
fn declaration_ids() {
    for ok in ["123456789-01092023-1", "12345678901-29022024-123456"] {
        assert_eq!(DeclarationId::parse(ok).unwrap().as_str(), ok);
    }
    for bad in [
        "12345678-01092023-1",     // declarant too short
        "123456789012-01092023-1", // too long
        "123456789-0109202-1",     // date too short
        "123456789-31022023-1",    // no such date
        "123456789-01132023-1",    // month 13
        "123456789-01092023-",     // no sequence
        "123456789-01092023-1234567",
        "123456789-01092023",
        "12345678a-01092023-1",
        "",
    ] {
        let e = DeclarationId::parse(bad).expect_err(bad);
        assert!(e.to_string().contains(bad), "{e}");
    }
    assert_eq!(
        DeclarationId::from_parts("123456789", "2022-08-10", "3")
            .unwrap()
            .as_str(),
        "123456789-10082022-3"
    );
    let json: DeclarationId = serde_json::from_str("\"123456789-01092023-1\"").unwrap();
    assert_eq!(json.to_string(), "123456789-01092023-1");
    assert!(serde_json::from_str::<DeclarationId>("\"x\"").is_err());
}

#[test]
fn document_types_send_norwegian_and_accept_english() {
    let pairs = [
        ("faktura", "invoice"),
        ("tillatelser", "permits"),
        ("fraktregning", "freight-invoice"),
        ("opprinnelsesdokumentasjon", "proof-of-origin"),
        ("fraktbrev", "waybill"),
        ("eksportdokumentasjon", "export-documentation"),
    ];
    for (no, en) in pairs {
        let a: DocumentType = no.parse().unwrap();
        let b: DocumentType = en.parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), no);
        assert_eq!(a.english(), en);
        assert_eq!(DocumentType::from_wire(no), Some(a));
        assert_eq!(DocumentType::from_wire(en), None);
        let meta: DocumentMetadata =
            serde_json::from_str(&format!("{{\"documentType\":\"{en}\"}}")).unwrap();
        assert_eq!(
            serde_json::to_string(&meta).unwrap(),
            format!("{{\"documentType\":\"{no}\"}}")
        );
    }
    assert_eq!(
        "Freight Invoice".parse::<DocumentType>(),
        Ok(DocumentType::FreightInvoice)
    );
    assert!("kvittering".parse::<DocumentType>().is_err());
}

#[test]
fn file_kinds_by_content() {
    assert_eq!(
        detect_file_kind(b"%PDF-1.4\n%\xe2\xe3"),
        Some(FileKind::Pdf)
    );
    assert_eq!(
        detect_file_kind(b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"),
        Some(FileKind::Jpeg)
    );
    assert_eq!(
        detect_file_kind(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        Some(FileKind::Png)
    );
    assert_eq!(
        detect_file_kind("Faktura — 3 kolli\n".as_bytes()),
        Some(FileKind::Txt)
    );
    assert_eq!(detect_file_kind(&docx()), Some(FileKind::Docx));
    assert_eq!(detect_file_kind(&xlsx()), Some(FileKind::Xlsx));
    // Neither docx nor xlsx: a plain ZIP.
    assert_eq!(detect_file_kind(&stored_zip(&[("a.txt", b"x")])), None);
    // Old binary Office (doc/xls, removed in 2026), GIF, NUL in text, invalid UTF-8, empty.
    assert_eq!(
        detect_file_kind(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00"),
        None
    );
    assert_eq!(
        detect_file_kind(b"GIF89a\x01\x00\x01\x00\x80\x00\x00"),
        None
    );
    assert_eq!(detect_file_kind(b"text\0with nul"), None);
    assert_eq!(detect_file_kind(b"\xC3\x28"), None);
    assert_eq!(detect_file_kind(b""), None);
}

#[test]
fn file_kind_names_and_mimes() {
    assert_eq!(FileKind::from_file_name("a.JPEG"), Some(FileKind::Jpeg));
    assert_eq!(FileKind::from_file_name("scan.jpg"), Some(FileKind::Jpeg));
    assert_eq!(FileKind::from_file_name("book.xlsx"), Some(FileKind::Xlsx));
    assert_eq!(FileKind::from_file_name("noext"), None);
    assert_eq!(FileKind::from_file_name("a.gif"), None);
    assert_eq!(
        FileKind::from_mime("application/pdf; charset=binary"),
        Some(FileKind::Pdf)
    );
    assert_eq!(FileKind::from_mime("application/octet-stream"), None);
    for k in FileKind::ALL {
        assert_eq!(FileKind::from_mime(k.mime()), Some(k));
        assert_eq!(
            FileKind::from_file_name(&format!("x.{}", k.extension())),
            Some(k)
        );
    }
}

#[test]
fn check_upload_rules() {
    let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
    assert_eq!(
        check_upload("scan.png", Some("image/png"), &png),
        Ok(FileKind::Png)
    );
    assert_eq!(
        check_upload("scan", Some("application/octet-stream"), &png),
        Ok(FileKind::Png)
    );
    assert!(matches!(
        check_upload("invoice.pdf", Some("application/pdf"), &png),
        Err(UploadError::Mismatch {
            claimed: FileKind::Pdf,
            detected: FileKind::Png,
            source_of_claim: "file name",
            ..
        })
    ));
    assert!(matches!(
        check_upload("scan", Some("application/pdf"), &png),
        Err(UploadError::Mismatch {
            source_of_claim: "content type",
            ..
        })
    ));
    assert!(matches!(
        check_upload("a.txt", None, b""),
        Err(UploadError::Empty { .. })
    ));
    assert!(matches!(
        check_upload("a.gif", None, b"GIF89a\x01\x00\x01\x00"),
        Err(UploadError::UnsupportedContent { .. })
    ));
    let mut big = b"%PDF-".to_vec();
    big.resize(MAX_DOCUMENT_BYTES, b' ');
    assert_eq!(check_upload("big.pdf", None, &big), Ok(FileKind::Pdf));
    big.push(b' ');
    let e = check_upload("big.pdf", None, &big).unwrap_err();
    assert!(matches!(e, UploadError::TooLarge { size, .. } if size == MAX_DOCUMENT_BYTES + 1));
    assert!(e.to_string().contains("10485760"), "{e}");
}

proptest! {
    #[test]
    fn any_printable_text_is_txt(s in "[a-zA-Z0-9 æøåÆØÅ.,\n-]{1,200}") {
        prop_assert_eq!(detect_file_kind(s.as_bytes()), Some(FileKind::Txt));
    }

    #[test]
    fn valid_ids_parse(declarant in "[0-9]{9,11}", day in 1u8..=28, month in 1u8..=12,
                       year in 2000u16..2100, seq in "[0-9]{1,6}") {
        let id = format!("{declarant}-{day:02}{month:02}{year}-{seq}");
        prop_assert!(DeclarationId::parse(&id).is_ok());
    }
}
