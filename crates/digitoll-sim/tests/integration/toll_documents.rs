//! The document upload API: multipart order, size limit, content detection,
//! declaration ids.

use crate::support;

use digitoll_model::{FileKind, MAX_DOCUMENT_BYTES};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use support::ORG;
use support::toll::*;

const DECLARATION: &str = "123456789-10082022-1";

fn url(s: &support::Sim, declaration: &str) -> reqwest::Url {
    s.sim.url(&format!(
        "api/goodsdeclaration/document/v2/declaration-id/{declaration}/document"
    ))
}

fn file(bytes: Vec<u8>, name: &str, mime: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(mime)
        .expect("mime")
}

fn form(document_type: &str, part: Part) -> Form {
    Form::new()
        .text(
            "metadata",
            json!({"documentType": document_type}).to_string(),
        )
        .part("file", part)
}

async fn upload(api: &Api<'_>, declaration: &str, form: Form) -> (u16, Value) {
    let response = api
        .s
        .http
        .post(url(api.s, declaration))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A stored (uncompressed) ZIP with these entries, written by hand.
fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = u32::try_from(out.len()).unwrap();
        let len = u32::try_from(data.len()).unwrap().to_le_bytes();
        let name_len = u16::try_from(name.len()).unwrap().to_le_bytes();
        out.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        out.extend_from_slice(&[0; 4]); // crc (not checked by the detector)
        out.extend_from_slice(&len);
        out.extend_from_slice(&len);
        out.extend_from_slice(&name_len);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        central.extend_from_slice(&[0; 4]);
        central.extend_from_slice(&len);
        central.extend_from_slice(&len);
        central.extend_from_slice(&name_len);
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = u32::try_from(out.len()).unwrap();
    let count = u16::try_from(entries.len()).unwrap().to_le_bytes();
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    out.extend_from_slice(&count);
    out.extend_from_slice(&count);
    out.extend_from_slice(&u32::try_from(central.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

fn samples() -> Vec<(FileKind, &'static str, Vec<u8>)> {
    vec![
        (
            FileKind::Pdf,
            "faktura.pdf",
            b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec(),
        ),
        (
            FileKind::Jpeg,
            "scan.jpg",
            b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xFF\xD9"
                .to_vec(),
        ),
        (
            FileKind::Png,
            "scan.png",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02".to_vec(),
        ),
        (
            FileKind::Txt,
            "invoice.txt",
            std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../examples/documents/invoice.txt"),
            )
            .expect("examples/documents/invoice.txt"),
        ),
        (
            FileKind::Docx,
            "tillatelse.docx",
            stored_zip(&[
                ("[Content_Types].xml", b"<Types/>"),
                ("word/document.xml", b"<w:document/>"),
            ]),
        ),
        (
            FileKind::Xlsx,
            "pakkliste.xlsx",
            stored_zip(&[
                ("[Content_Types].xml", b"<Types/>"),
                ("xl/workbook.xml", b"<workbook/>"),
            ]),
        ),
    ]
}

#[tokio::test]
async fn every_allowed_file_type_is_accepted() {
    let s = start_all_apis().await;
    let api = api_all(&s, ALL_A).await;
    for (i, (kind, name, bytes)) in samples().into_iter().enumerate() {
        let document_type = [
            "faktura",
            "tillatelser",
            "fraktregning",
            "opprinnelsesdokumentasjon",
            "fraktbrev",
            "eksportdokumentasjon",
        ][i];
        let size = bytes.len();
        let (status, body) = upload(
            &api,
            DECLARATION,
            form(document_type, file(bytes, name, kind.mime())),
        )
        .await;
        assert_eq!(status, 201, "{kind}: {body}");
        assert_eq!(body["declarationId"], DECLARATION);
        assert_eq!(body["documentType"], document_type);
        assert_eq!(body["fileName"], name);
        assert_eq!(body["size"], size);
        assert!(uuid::Uuid::parse_str(body["documentId"].as_str().unwrap()).is_ok());
    }
    let docs = s.ctl.uploaded_documents();
    assert_eq!(docs.len(), 6);
    let kinds: Vec<FileKind> = docs.iter().map(|d| d.file_kind).collect();
    assert_eq!(kinds, FileKind::ALL.to_vec());
    assert!(docs.iter().all(|d| d.org == ORG && d.sha256.len() == 64));
    // The admin API lists them too.
    let listed: Value = s
        .http
        .get(s.sim.url("sim/toll/documents"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 6);
    assert_eq!(listed[0]["file_kind"], "pdf");
    // The upload was recorded without its bytes.
    let recorded = s
        .ctl
        .requests()
        .into_iter()
        .find(|r| r.path.contains("/declaration-id/"))
        .unwrap();
    assert!(matches!(
        recorded.body,
        digitoll_sim::RecordedBody::Binary { .. }
    ));
}

#[tokio::test]
async fn disguised_and_unknown_files_are_unsupported_media() {
    let s = start_all_apis().await;
    let api = api_all(&s, ALL_A).await;
    let png = samples()[2].2.clone();
    let (status, body) = upload(
        &api,
        DECLARATION,
        form(
            "faktura",
            file(png.clone(), "faktura.pdf", "application/pdf"),
        ),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    assert!(body["message"].as_str().unwrap().contains("png"), "{body}");
    // Named right but declared wrong.
    let (status, _) = upload(
        &api,
        DECLARATION,
        form("faktura", file(png, "scan.png", "application/pdf")),
    )
    .await;
    assert_eq!(status, 415);
    // GIF, a plain ZIP, old binary Office.
    for bytes in [
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec(),
        stored_zip(&[("notes.txt", b"x")]),
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00".to_vec(),
    ] {
        let (status, _) = upload(
            &api,
            DECLARATION,
            form(
                "faktura",
                file(bytes, "file.bin", "application/octet-stream"),
            ),
        )
        .await;
        assert_eq!(status, 415);
    }
    assert!(s.ctl.uploaded_documents().is_empty());
}

#[tokio::test]
async fn empty_and_oversized_files() {
    let s = start_all_apis().await;
    let api = api_all(&s, ALL_A).await;
    let (status, body) = upload(
        &api,
        DECLARATION,
        form("faktura", file(Vec::new(), "empty.pdf", "application/pdf")),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["validationErrors"][0]["field"], "file");
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(MAX_DOCUMENT_BYTES + 1, b' ');
    let (status, body) = upload(
        &api,
        DECLARATION,
        form("faktura", file(big.clone(), "big.pdf", "application/pdf")),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    // Exactly 10 MB is allowed.
    big.truncate(MAX_DOCUMENT_BYTES);
    let (status, body) = upload(
        &api,
        DECLARATION,
        form("faktura", file(big, "max.pdf", "application/pdf")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["size"], MAX_DOCUMENT_BYTES);
}

#[tokio::test]
async fn part_order_metadata_and_declaration_id() {
    let s = start_all_apis().await;
    let api = api_all(&s, ALL_A).await;
    let pdf = samples()[0].2.clone();
    // file before metadata
    let reversed = Form::new()
        .part("file", file(pdf.clone(), "faktura.pdf", "application/pdf"))
        .text("metadata", r#"{"documentType":"faktura"}"#);
    let (status, body) = upload(&api, DECLARATION, reversed).await;
    assert_eq!(status, 400);
    assert_eq!(body["validationErrors"][0]["field"], "metadata");
    // English token on the wire, unknown token, missing type, not JSON
    for (metadata, field) in [
        (r#"{"documentType":"invoice"}"#, "metadata.documentType"),
        (r#"{"documentType":"kvittering"}"#, "metadata.documentType"),
        (r#"{}"#, "metadata.documentType"),
        ("faktura", "metadata"),
    ] {
        let f = Form::new()
            .text("metadata", metadata)
            .part("file", file(pdf.clone(), "faktura.pdf", "application/pdf"));
        let (status, body) = upload(&api, DECLARATION, f).await;
        assert_eq!(status, 400, "{metadata}");
        assert_eq!(body["validationErrors"][0]["field"], field, "{metadata}");
    }
    // metadata only
    let (status, body) = upload(
        &api,
        DECLARATION,
        Form::new().text("metadata", r#"{"documentType":"faktura"}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["validationErrors"][0]["field"], "file");
    // bad declaration ids
    for bad in [
        "12345678-10082022-1",
        "123456789-32082022-1",
        "123456789-10082022-1234567",
        "abc",
    ] {
        let (status, body) = upload(
            &api,
            bad,
            form("faktura", file(pdf.clone(), "f.pdf", "application/pdf")),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["validationErrors"][0]["field"], "declarationId");
    }
    // not multipart
    let response = s
        .http
        .post(url(&s, DECLARATION))
        .bearer_auth(&api.token)
        .json(&json!({"documentType": "faktura"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(s.ctl.uploaded_documents().is_empty());
}

#[tokio::test]
async fn upload_needs_the_document_scope() {
    let s = start_all_apis().await;
    let road = api(&s, ROAD_A).await;
    let (status, body) = upload(
        &road,
        DECLARATION,
        form(
            "faktura",
            file(b"%PDF-1.4".to_vec(), "f.pdf", "application/pdf"),
        ),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["error_description"],
        "requires scope toll:goodsdeclaration/document.write"
    );
    let response = s.http.post(url(&s, DECLARATION)).send().await.unwrap();
    assert_eq!(response.status(), 401);
}
