//! `digitoll spec diff` and `digitoll spec show`, run as the real binary
//! against the in-process simulator, saved files and a small local server.

use std::process::{Command, Output};

use digitoll_model::TransportMode;
use digitoll_model::spec::{SpecApi, openapi_document};
use digitoll_sim::Simulator;
use serde_json::{Value, json};

fn digitoll(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_digitoll"))
        .args(args)
        .output()
        .expect("run digitoll")
}

async fn digitoll_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        digitoll(&args)
    })
    .await
    .expect("join")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn the_simulators_documents_have_no_difference_with_the_model() {
    let sim = Simulator::builder().start().await.unwrap();
    for api in SpecApi::ALL {
        for base in api.bases() {
            let url = sim.url(&format!("{}/v3/api-docs", base.trim_start_matches('/')));
            let out = digitoll_async(vec![
                "spec".into(),
                "diff".into(),
                "--url".into(),
                url.to_string(),
                "--api".into(),
                api.name().into(),
            ])
            .await;
            assert_eq!(
                out.status.code(),
                Some(0),
                "{url}: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
            assert!(
                text(&out.stdout).contains("no difference"),
                "{}",
                text(&out.stdout)
            );
        }
    }
    // The road document compared as the air API differs (paths, mode rules).
    let url = sim.url("api/movement/road/v2/v3/api-docs");
    let out = digitoll_async(vec![
        "spec".into(),
        "diff".into(),
        "--url".into(),
        url.to_string(),
        "--api".into(),
        "air".into(),
        "--json".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let differences = report["differences"].as_array().unwrap();
    assert!(
        differences
            .iter()
            .any(|d| d["kind"] == "missing_path" && d["path"] == "/api/movement/air/v1/transport")
    );
    sim.shutdown().await;
}

#[test]
fn a_saved_document_with_edits_gives_exactly_those_differences() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = openapi_document(SpecApi::Movement(TransportMode::Road));
    let s = &mut doc["components"]["schemas"];
    s["ActiveBorderTransportMeans"]["properties"]["identificationNumber"]["maxLength"] = json!(17);
    s["Relation"]["required"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f != "representative");
    doc["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/api/movement/road/v2/test-auth");
    let file = dir.path().join("toll-road.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = digitoll(&[
        "spec",
        "diff",
        "--file",
        file.to_str().unwrap(),
        "--api",
        "road",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let t = "paths./api/movement/road/v2/transport";
    assert_eq!(
        lines,
        [
            "paths./api/movement/road/v2/relation.post.requestBody: Relation.representative.required: Toll: no, model: yes".to_owned(),
            "paths./api/movement/road/v2/test-auth: Toll: no such path, model: used".to_owned(),
            format!("{t}.post.requestBody: Transport.activeBorderTransportMeans.identificationNumber.maxLength: Toll: 17, model: 35"),
            format!("{t}/{{mrn}}.put.requestBody: Transport.activeBorderTransportMeans.identificationNumber.maxLength: Toll: 17, model: 35"),
            format!("4 differences between {} (Toll) and the model's road API", file.display()),
        ]
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
    );
}

#[test]
fn show_prints_the_models_document() {
    let out = digitoll(&["spec", "show", "--api", "presentation"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc, openapi_document(SpecApi::Presentation));
    let out = digitoll(&["spec", "show", "--api", "bus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown API 'bus'"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn what_cannot_be_compared_exits_2_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let swagger = dir.path().join("swagger.json");
    std::fs::write(&swagger, r#"{"swagger": "2.0", "paths": {}}"#).unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"openapi\": \"3.0.1\",\n  \"paths\": {,\n}").unwrap();
    for (file, says) in [
        (swagger.to_str().unwrap(), "Swagger 2"),
        (broken.to_str().unwrap(), "line 3"),
        (
            "/nonexistent/toll.json",
            "cannot read /nonexistent/toll.json",
        ),
    ] {
        let out = digitoll(&["spec", "diff", "--file", file, "--api", "road"]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert!(
            text(&out.stderr).contains(says),
            "{file}: {}",
            text(&out.stderr)
        );
    }
    // Nothing listens on port 1.
    let out = digitoll(&[
        "spec",
        "diff",
        "--url",
        "http://127.0.0.1:1/v3/api-docs",
        "--api",
        "road",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot reach"),
        "{}",
        text(&out.stderr)
    );
}

/// A local server that serves the road document only with the right bearer
/// token.
async fn guarded_server() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    let app = axum::Router::new().route(
        "/api/movement/road/v2/v3/api-docs",
        axum::routing::get(|headers: HeaderMap| async move {
            let ok = headers.get("authorization").and_then(|v| v.to_str().ok())
                == Some("Bearer s3cret-token");
            if ok {
                axum::Json(openapi_document(SpecApi::Movement(TransportMode::Road))).into_response()
            } else {
                (StatusCode::UNAUTHORIZED, "{\"error\":\"invalid_token\"}").into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, handle)
}

#[tokio::test]
async fn bearer_file_is_sent_and_never_printed() {
    let (addr, server) = guarded_server().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/api/movement/road/v2/v3/api-docs");
    let good = dir.path().join("token");
    std::fs::write(&good, "s3cret-token\n").unwrap();
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "other-secret\n").unwrap();
    let run = |file: &std::path::Path| {
        vec![
            "spec".to_owned(),
            "diff".into(),
            "--url".into(),
            url.clone(),
            "--api".into(),
            "road".into(),
            "--bearer-file".into(),
            file.to_str().unwrap().to_owned(),
        ]
    };
    let out = digitoll_async(run(&good)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = digitoll_async(run(&wrong)).await;
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("401"), "{all}");
    assert!(!all.contains("other-secret"), "the token leaked: {all}");
    server.abort();
}

/// A Toll stand-in for `road status`: the token exchange, and a
/// validation-status answer whose body is not JSON.
async fn odd_toll() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new()
        .route(
            "/api/access/external/oauth/token",
            axum::routing::post(|| async {
                axum::Json(json!({
                    "issued_token_type": "access_token",
                    "access_token": "toll-token",
                    "token_type": "Bearer",
                    "expires_in": 900
                }))
            }),
        )
        .route(
            "/api/movement/road/status/v2/house-consignment/validation-status/{rid}",
            axum::routing::get(|| async { "<html>Processing done</html>" }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, handle)
}

#[tokio::test]
async fn road_status_shows_an_unparsable_answer_as_received() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::builder()
        .write_demo_credentials(dir.path())
        .start()
        .await
        .unwrap();
    let (addr, toll) = odd_toll().await;
    let creds = dir.path().join("demo-client.json");
    let args = |json: bool| {
        let mut v: Vec<String> = [
            "road",
            "status",
            "--credentials",
            creds.to_str().unwrap(),
            "--toll",
            &format!("http://{addr}/"),
            "--kind",
            "house",
            "fa90bb2d-1c2e-4f5a-9b7d-0123456789ab",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if json {
            v.push("--json".into());
        }
        v
    };
    let out = digitoll_async(args(false)).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("did not parse"), "{stdout}");
    assert!(stdout.contains("<html>Processing done</html>"), "{stdout}");
    let out = digitoll_async(args(true)).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["unparsed"]["body"], "<html>Processing done</html>");
    assert_eq!(v["unparsed"]["httpStatus"], 200);
    toll.abort();
    sim.shutdown().await;
}

#[test]
fn the_global_profile_moves_our_paths() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.toml");
    std::fs::write(
        &profile,
        "[endpoints]\n\"road.test-auth\" = \"/api/movement/road/v2/auth-check\"\n",
    )
    .unwrap();
    let ours = openapi_document(SpecApi::Movement(TransportMode::Road));
    let file = dir.path().join("toll.json");
    std::fs::write(&file, ours.to_string()).unwrap();
    let out = digitoll(&[
        "--profile",
        profile.to_str().unwrap(),
        "spec",
        "diff",
        "--file",
        file.to_str().unwrap(),
        "--api",
        "road",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("paths./api/movement/road/v2/auth-check: Toll: no such path, model: used"),
        "{stdout}"
    );
    assert!(
        stdout.contains("paths./api/movement/road/v2/test-auth: Toll: documented, model: not used"),
        "{stdout}"
    );
}
