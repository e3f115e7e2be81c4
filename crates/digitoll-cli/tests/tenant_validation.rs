//! `digitoll tenants set-validation` and `digitoll serve --profile`: contract
//! profiles are checked when read, with the file's line and column in the
//! error, and a tenant's validation mode is stored and shown.

use std::process::{Command, Output};

/// A fixed master key for the test database (base64 of 32 bytes of 7).
const MASTER_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_digitoll"));
    c.env("DIGITOLL_MASTER_KEY", MASTER_KEY)
        .env_remove("DIGITOLL_DATABASE_URL")
        .env_remove("DIGITOLL_MASTER_KEY_FILE")
        .env_remove("DIGITOLL_LISTEN")
        .env_remove("DIGITOLL_WORKERS")
        .env_remove("DIGITOLL_PROFILE")
        .env("RUST_LOG", "error");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run digitoll")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn set_validation_checks_the_profile_and_shows_the_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("gw.db").display());
    let out = run(&[
        "tenants",
        "add",
        "--database",
        &database,
        "--org",
        "310000000",
        "--name",
        "Kunde AS",
        "--env",
        "sim",
        "--client-id",
        "c",
        "--scope",
        "toll:movement/road/v2",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        created["tenant"]["validation_mode"], "strict",
        "the default"
    );
    let id = created["tenant"]["id"].as_str().expect("id").to_owned();

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\n[rules]\n\"no.such.rule\" = \"off\"\n").expect("write");
    let bad = bad.display().to_string();
    let out = run(&[
        "tenants",
        "set-validation",
        "--database",
        &database,
        &id,
        "--mode",
        "advisory",
        "--contract-profile",
        &bad,
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{bad}:3:1: ")), "{err}");
    assert!(err.contains("no.such.rule"), "{err}");
    let out = run(&["tenants", "show", "--database", &database, &id]);
    assert!(
        text(&out.stdout).contains("validation   strict"),
        "nothing changed"
    );

    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[rules]\n\"place.unlocode.format\" = \"warning\"\n").expect("write");
    let out = run(&[
        "tenants",
        "set-validation",
        "--database",
        &database,
        &id,
        "--mode",
        "advisory",
        "--contract-profile",
        &good.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("validation   advisory"), "{shown}");
    assert!(shown.contains("place.unlocode.format"), "{shown}");
    let out = run(&["tenants", "list", "--database", &database]);
    assert!(text(&out.stdout).contains("advisory"));
    let out = run(&[
        "tenants",
        "set-validation",
        "--database",
        &database,
        &id,
        "--no-contract-profile",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("validation   advisory") && shown.contains("(none"),
        "{shown}"
    );
    let out = run(&["tenants", "set-validation", "--database", &database, &id]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("give --mode"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn serve_refuses_a_bad_instance_profile_with_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("gw.db").display());
    let bad = dir.path().join("instance.toml");
    std::fs::write(&bad, "[rules]\n\"field.required\" = \"sometimes\"\n").expect("write");
    let out = run(&[
        "serve",
        "--database",
        &database,
        "--listen",
        "127.0.0.1:0",
        "--workers",
        "0",
        "--profile",
        &bad.display().to_string(),
    ]);
    assert!(!out.status.success(), "serve must not start");
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:2:", bad.display())), "{err}");
    assert!(err.contains("unknown severity `sometimes`"), "{err}");
}
