//! Document upload client against a wiremock Toll: the multipart body (part
//! order, names, content types, bytes), every accepted type, the checks made
//! before sending (declaration id, empty, disguised, unsupported, over 10 MB),
//! progress reporting, and the mapping of 400/413/415.

mod common;

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use digitoll_client::{DocumentClient, Error, Operation, Progress, UploadError, UploadFile};
use digitoll_model::documents::{DocumentType, FileKind, MAX_DOCUMENT_BYTES};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

const DECL: &str = "123456789-01092023-1";
const UPLOAD: &str =
    "/api/goodsdeclaration/document/v2/declaration-id/123456789-01092023-1/document";

fn client(s: &Setup) -> DocumentClient {
    api_client(DocumentClient::builder(s.tokens.clone()))
}

/// 201 with a receipt like the simulator's.
struct Created;
impl wiremock::Respond for Created {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        ResponseTemplate::new(201).set_body_json(json!({
            "documentId": "5d0c3b4a-1f2e-4d3c-9b8a-7f6e5d4c3b2a",
            "declarationId": DECL, "documentType": "faktura",
            "fileName": "x", "size": r.body.len()
        }))
    }
}

async fn mount_upload(s: &Setup, response: impl wiremock::Respond + 'static) {
    Mock::given(method("POST"))
        .and(path(UPLOAD))
        .respond_with(response)
        .mount(&s.toll)
        .await;
}

/// One part of a multipart body: its headers and content.
#[derive(Debug)]
struct RawPart {
    headers: String,
    content: Vec<u8>,
}

/// Splits a raw multipart body by the boundary of the request's content type.
fn parts_of(r: &Request) -> Vec<RawPart> {
    let ct = r.headers.get("content-type").unwrap().to_str().unwrap();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let boundary = format!("--{}", ct.split("boundary=").nth(1).unwrap());
    let body = &r.body;
    let mut starts = Vec::new();
    let b = boundary.as_bytes();
    let mut i = 0;
    while i + b.len() <= body.len() {
        if &body[i..i + b.len()] == b {
            starts.push(i);
            i += b.len();
        } else {
            i += 1;
        }
    }
    starts
        .windows(2)
        .map(|w| {
            let chunk = &body[w[0] + b.len() + 2..w[1] - 2]; // skip CRLF after boundary, before next
            let split = chunk.windows(4).position(|x| x == b"\r\n\r\n").unwrap();
            RawPart {
                headers: String::from_utf8_lossy(&chunk[..split]).into_owned(),
                content: chunk[split + 4..].to_vec(),
            }
        })
        .collect()
}

#[tokio::test]
async fn every_accepted_type_is_uploaded_as_metadata_then_file() {
    let s = setup().await;
    mount_upload(&s, Created).await;
    let c = client(&s);
    for (ext, doc_type) in SAMPLE_EXTENSIONS.iter().zip(DocumentType::ALL) {
        let bytes = sample_file(ext);
        let name = format!("document.{ext}");
        let done = c
            .upload(
                DECL,
                doc_type,
                UploadFile::from_bytes(name.clone(), bytes.clone()),
            )
            .await
            .unwrap();
        assert_eq!(done.declaration_id.as_str(), DECL);
        assert_eq!(done.file_kind.extension(), *ext);
        assert_eq!(done.size, bytes.len() as u64);
        assert_eq!(done.status, 201);
        assert!(done.receipt.is_some(), "the receipt is parsed");

        let posts = received(&s.toll, "POST", UPLOAD).await;
        let r = posts.last().unwrap();
        assert!(auth_header(r).starts_with("Bearer toll-"));
        let parts = parts_of(r);
        assert_eq!(parts.len(), 2, "{ext}");
        // metadata first ...
        assert!(
            parts[0].headers.contains("name=\"metadata\""),
            "{}",
            parts[0].headers
        );
        assert!(parts[0].headers.contains("application/json"));
        let meta: serde_json::Value = serde_json::from_slice(&parts[0].content).unwrap();
        assert_eq!(meta, json!({"documentType": doc_type.as_str()}));
        // ... then the file, with its name, content type and exact bytes.
        assert!(
            parts[1].headers.contains("name=\"file\""),
            "{}",
            parts[1].headers
        );
        assert!(
            parts[1].headers.contains(&format!("filename=\"{name}\"")),
            "{}",
            parts[1].headers
        );
        let kind = FileKind::from_file_name(&name).unwrap();
        assert!(
            parts[1]
                .headers
                .to_ascii_lowercase()
                .contains(&format!("content-type: {}", kind.mime())),
            "{}",
            parts[1].headers
        );
        assert_eq!(parts[1].content, bytes, "{ext}");
    }
    assert_eq!(
        exchanged_scopes(&s.toll).await,
        vec!["toll:goodsdeclaration/document.write"]
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn english_document_types_are_sent_as_the_norwegian_tokens() {
    let s = setup().await;
    mount_upload(&s, Created).await;
    let c = client(&s);
    for (english, norwegian) in [
        ("invoice", "faktura"),
        ("permits", "tillatelser"),
        ("freight-invoice", "fraktregning"),
        ("proof-of-origin", "opprinnelsesdokumentasjon"),
        ("waybill", "fraktbrev"),
        ("export-documentation", "eksportdokumentasjon"),
    ] {
        let t = DocumentType::from_str(english).unwrap();
        c.upload(DECL, t, UploadFile::from_bytes("a.txt", sample_file("txt")))
            .await
            .unwrap();
        let posts = received(&s.toll, "POST", UPLOAD).await;
        let meta = &parts_of(posts.last().unwrap())[0].content;
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(meta).unwrap()["documentType"],
            norwegian
        );
    }
    s.sim.shutdown().await;
}

fn upload_err(e: Error) -> UploadError {
    match e {
        Error::Upload(u) => u,
        other => panic!("expected an upload error, got {other:?}"),
    }
}

#[tokio::test]
async fn checks_before_sending_refuse_bad_files_and_ids() {
    let s = setup().await;
    let c = client(&s);
    let t = DocumentType::Invoice;

    // A PDF named .png: both named.
    let e = upload_err(
        c.upload(
            DECL,
            t,
            UploadFile::from_bytes("scan.png", sample_file("pdf")),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        e,
        UploadError::ExtensionMismatch {
            file_name: "scan.png".into(),
            extension: "png".into(),
            detected: "pdf".into()
        }
    );
    let msg = e.to_string();
    assert!(msg.contains(".png") && msg.contains("pdf"), "{msg}");

    // A docx renamed .xlsx.
    let e = upload_err(
        c.upload(
            DECL,
            t,
            UploadFile::from_bytes("sheet.xlsx", sample_file("docx")),
        )
        .await
        .unwrap_err(),
    );
    assert!(matches!(e, UploadError::ExtensionMismatch { ref detected, .. } if detected == "docx"));

    // Empty.
    let e = upload_err(
        c.upload(DECL, t, UploadFile::from_bytes("empty.pdf", Vec::new()))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        UploadError::EmptyFile {
            file_name: "empty.pdf".into()
        }
    );

    // Over 10 MB, in memory.
    let big = vec![b'a'; MAX_DOCUMENT_BYTES + 1];
    let e = upload_err(
        c.upload(DECL, t, UploadFile::from_bytes("big.txt", big))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        UploadError::TooLarge {
            file_name: "big.txt".into(),
            size: 10_485_761,
            limit: 10_485_760
        }
    );
    let msg = e.to_string();
    assert!(
        msg.contains("10485761") && msg.contains("10485760") && msg.contains("split"),
        "{msg}"
    );
    // Exactly 10 MB passes the checks.
    let (_, kind) = DocumentClient::check(
        DECL,
        &UploadFile::from_bytes("limit.txt", vec![b'a'; MAX_DOCUMENT_BYTES]),
    )
    .unwrap();
    assert_eq!(kind, FileKind::Txt);

    // Not an accepted type (GIF, old .doc).
    let e = upload_err(
        c.upload(
            DECL,
            t,
            UploadFile::from_bytes("a.gif", b"GIF89a\x01\x00\x01\x00".to_vec()),
        )
        .await
        .unwrap_err(),
    );
    assert!(
        matches!(e, UploadError::UnsupportedFileType { ref reason, .. } if reason.contains("GIF")),
        "{e}"
    );
    let e = upload_err(
        c.upload(
            DECL,
            t,
            UploadFile::from_bytes("old.doc", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0".to_vec()),
        )
        .await
        .unwrap_err(),
    );
    assert!(e.to_string().contains("no longer accepted"), "{e}");

    // Bad declaration ids.
    for bad in [
        "12345678-01092023-1",
        "123456789-31022023-1",
        "123456789-01092023-1234567",
        "x",
    ] {
        let e = upload_err(
            c.upload(bad, t, UploadFile::from_bytes("a.txt", sample_file("txt")))
                .await
                .unwrap_err(),
        );
        assert!(
            matches!(e, UploadError::InvalidDeclarationId { ref value, .. } if value == bad),
            "{bad}: {e}"
        );
    }
    assert!(
        s.toll.received_requests().await.unwrap().is_empty(),
        "nothing sent, not even a token exchange"
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn tolls_400_413_415_are_typed() {
    let s = setup().await;
    let c = client(&s);
    let file = || UploadFile::from_bytes("a.pdf", sample_file("pdf"));
    for (status, body) in [
        (
            400,
            json!({"validationErrors": [{"field": "metadata", "error": "must come before file"}]}),
        ),
        (413, json!({"error": "Payload Too Large"})),
        (415, json!({"error": "Unsupported Media Type"})),
    ] {
        Mock::given(method("POST"))
            .and(path(UPLOAD))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .up_to_n_times(1)
            .mount(&s.toll)
            .await;
        let e = upload_err(
            c.upload(DECL, DocumentType::Waybill, file())
                .await
                .unwrap_err(),
        );
        match (status, e) {
            (400, UploadError::Rejected { errors, file_name }) => {
                assert_eq!(errors[0].field, "metadata");
                assert_eq!(file_name, "a.pdf");
            }
            (413, UploadError::PayloadTooLarge { size, .. }) => {
                assert_eq!(size, sample_file("pdf").len() as u64)
            }
            (415, UploadError::UnsupportedMediaType { body, .. }) => {
                assert!(body.contains("Unsupported"))
            }
            (st, other) => panic!("{st}: {other:?}"),
        }
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn progress_is_reported_per_chunk_up_to_the_total() {
    let s = setup().await;
    mount_upload(&s, Created).await;
    let bytes: Vec<u8> = "line of text\n".repeat(25_000).into_bytes(); // 325 000 bytes
    let total = bytes.len() as u64;
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = seen.clone();
    client(&s)
        .upload_with_progress(
            DECL,
            DocumentType::Invoice,
            UploadFile::from_bytes("long.txt", bytes.clone()),
            move |p| sink.lock().unwrap().push(p),
        )
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 5, "325 000 bytes in 64 KiB chunks");
    assert!(seen.windows(2).all(|w| w[0].sent < w[1].sent));
    assert!(seen.iter().all(|p| p.total == total));
    assert_eq!(seen.last().unwrap().sent, total);
    let posts = received(&s.toll, "POST", UPLOAD).await;
    assert_eq!(parts_of(&posts[0])[1].content, bytes, "streamed intact");
    s.sim.shutdown().await;
}

#[tokio::test]
async fn files_from_paths_and_readers() {
    let s = setup().await;
    mount_upload(&s, Created).await;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("faktura.pdf");
    std::fs::write(&p, sample_file("pdf")).unwrap();
    let f = UploadFile::from_path(&p).await.unwrap();
    assert_eq!(f.file_name(), "faktura.pdf");
    client(&s)
        .upload(DECL, DocumentType::Invoice, f)
        .await
        .unwrap();

    let r = UploadFile::from_reader("r.png", &sample_file("png")[..])
        .await
        .unwrap();
    assert_eq!(r.len(), sample_file("png").len() as u64);

    // Over the limit: refused from the metadata (a sparse 11 MB file).
    let big = dir.path().join("big.pdf");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(11 * 1024 * 1024)
        .unwrap();
    match upload_err(UploadFile::from_path(&big).await.unwrap_err()) {
        UploadError::TooLarge { size, .. } => assert_eq!(size, 11 * 1024 * 1024),
        other => panic!("{other:?}"),
    }
    let huge = vec![b'a'; MAX_DOCUMENT_BYTES + 10];
    match upload_err(
        UploadFile::from_reader("r.txt", &huge[..])
            .await
            .unwrap_err(),
    ) {
        UploadError::TooLarge { size, .. } => assert_eq!(size, (MAX_DOCUMENT_BYTES + 10) as u64),
        other => panic!("{other:?}"),
    }
    match upload_err(
        UploadFile::from_path(dir.path().join("missing.pdf"))
            .await
            .unwrap_err(),
    ) {
        UploadError::Read { path, .. } => assert!(path.ends_with("missing.pdf")),
        other => panic!("{other:?}"),
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn a_lost_upload_response_is_not_resent_and_401_rebuilds_the_body() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(UPLOAD))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(2)))
        .mount(&s.toll)
        .await;
    let c = DocumentClient::builder(s.tokens.clone())
        .retry(fast_retry())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let e = c
        .upload(
            DECL,
            DocumentType::Invoice,
            UploadFile::from_bytes("a.txt", sample_file("txt")),
        )
        .await
        .unwrap_err();
    match e {
        Error::OutcomeUnknown {
            operation: Operation::DocumentUpload,
            cause,
            ..
        } => assert!(cause.contains("twice"), "{cause}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(received(&s.toll, "POST", UPLOAD).await.len(), 1);

    // A 401 is repeated once with a new token and the whole body again.
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(UPLOAD))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.toll)
        .await;
    mount_upload(&s, Created).await;
    client(&s)
        .upload(
            DECL,
            DocumentType::Invoice,
            UploadFile::from_bytes("a.txt", sample_file("txt")),
        )
        .await
        .unwrap();
    let posts = received(&s.toll, "POST", UPLOAD).await;
    assert_eq!(posts.len(), 2);
    assert_eq!(auth_header(&posts[0]), "Bearer toll-1");
    assert_eq!(auth_header(&posts[1]), "Bearer toll-2");
    assert_eq!(parts_of(&posts[1])[1].content, sample_file("txt"));
    s.sim.shutdown().await;
}
